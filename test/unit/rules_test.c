/*
 * rules_test.c
 *		Unit tests of the engines that hold Frappe's rules (doctype,
 *		importmap, naming, webhookev, exportfmt), no server: TAP output.
 *
 *   rules_test            the cases below
 *   rules_test weeks Y1 Y2   "Y-M-D week" for every day of Y1..Y2 (t/002 compares
 *                         them with Python's isocalendar through Frappe's rule)
 *   rules_test numbers    each stdin line as the export writes the number
 *                         (t/002 compares with Python's repr(float(line)))
 *   rules_test qs         each stdin line (hex) as parse_qs's JSON (t/002
 *                         compares with Python's urllib.parse.parse_qs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/doctype.h"
#include "engine/exportfmt.h"
#include "engine/exportplan.h"
#include "engine/payments.h"
#include "engine/importcell.h"
#include "engine/importlog.h"
#include "engine/importmap.h"
#include "engine/importupdate.h"
#include "engine/naming.h"
#include "engine/oauth.h"
#include "engine/authheader.h"
#include "engine/httpreq.h"
#include "engine/codec.h"
#include "engine/webhookev.h"

#include <curl/curl.h>

#include "tap.h"

/* ---- an arena: the tests' memory, freed at exit ---- */

static void *
arena_alloc(void *arg, size_t size)
{
	void	   *p = calloc(1, size ? size : 1);

	if (p == NULL)
		abort();
	return p;
}

/* ---- a Sales Invoice-shaped DocType with a child table ---- */

static FiDocField inv_fields[] = {
	{.fieldname = "naming_series", .label = "Series", .fieldtype = "Select"},
	{.fieldname = "customer", .label = "Customer", .fieldtype = "Link", .options = "Customer", .reqd = true},
	{.fieldname = "posting_date", .label = "Date", .fieldtype = "Date"},
	{.fieldname = "due_date", .label = "Date", .fieldtype = "Date"},
	{.fieldname = "sb", .label = "Totals", .fieldtype = "Section Break"},
	{.fieldname = "grand_total", .label = "Grand Total", .fieldtype = "Currency", .read_only = true},
	{.fieldname = "items", .label = "Items", .fieldtype = "Table", .options = "Sales Invoice Item"},
	{.fieldname = "remarks", .label = "Remarks", .fieldtype = "Small Text", .is_virtual = true},
};
static FiDocField item_fields[] = {
	{.fieldname = "item_code", .label = "Item", .fieldtype = "Link", .options = "Item", .reqd = true},
	{.fieldname = "qty", .label = "Quantity", .fieldtype = "Float"},
	{.fieldname = "rate", .label = "Rate", .fieldtype = "Currency"},
	{.fieldname = "amount", .label = "Rate", .fieldtype = "Currency"},
};
static FiDocMeta inv = {.name = "Sales Invoice", .autoname = "naming_series:", .nfields = 8, .fields = inv_fields};
static FiDocMeta item = {.name = "Sales Invoice Item", .istable = true, .nfields = 4, .fields = item_fields};

static const FiDocMeta *
meta_of(void *arg, const char *doctype)
{
	if (strcmp(doctype, inv.name) == 0)
		return &inv;
	if (strcmp(doctype, item.name) == 0)
		return &item;
	return NULL;
}

static const FiImportHooks hooks = {NULL, meta_of, arena_alloc};

static void
test_doctype(void)
{
	FiDocField f[] = {
		{.fieldname = "a"}, {.fieldname = "b"}, {.fieldname = "c"},
		{.fieldname = "x", .is_custom = true, .insert_after = "a"},
		{.fieldname = "y", .is_custom = true, .insert_after = "x"},
		{.fieldname = "z", .is_custom = true, .insert_after = "nowhere"},
		{.fieldname = "w", .is_custom = true, .insert_after = "a"},
	};
	FiDocMeta	m = {.name = "T", .nfields = 7, .fields = f};
	FiDocField	out[7];
	bool		done[7];
	char		order[64] = "";
	const char *fo[] = {"c", "b"};
	FiDocField	p = {.fieldname = "p", .fieldtype = "Data"};

	fi_doctype_sort_fields(&m, NULL, 0, out, done);
	for (int i = 0; i < m.nfields; i++)
		strcat(order, m.fields[i].fieldname);
	is_str(order, "axywbcz", "meta: custom fields after their insert_after, chains followed, strays last");
	ok(m.fields[6].idx == 7, "meta: idx numbered 1..n in the effective order");
	m.fields = f;
	fi_doctype_sort_fields(&m, fo, 2, out, done);
	order[0] = '\0';
	for (int i = 0; i < m.nfields; i++)
		strcat(order, m.fields[i].fieldname);
	is_str(order, "cbaxywz", "meta: field_order first, then the rest in Frappe's order");
	fi_field_set_property(&p, "reqd", "1");
	fi_field_set_property(&p, "label", "Renamed");
	fi_field_set_property(&p, "length", "42");
	fi_field_set_property(&p, "bold", "1");
	ok(p.reqd && strcmp(p.label, "Renamed") == 0 && p.length == 42, "meta: Property Setters on a field (unknown ones ignored)");
	ok(!fi_fieldtype_has_column("Section Break") && !fi_fieldtype_has_column("Table") &&
	   fi_fieldtype_has_column("Data") && fi_fieldtype_is_table("Table MultiSelect"), "meta: which fieldtypes have a column, which hold rows");
}

/* map a header, the columns' results as one line: "kind:table:field" or "-" */
static void
header_is(const char *const *titles, int n, const char *want, const char *desc)
{
	FiImpHeader h;
	char		got[1024] = "";

	fi_import_header_init(&h, &inv, &hooks);
	for (int c = 0; c < n; c++)
	{
		FiImpColumn col;
		char		part[128];

		fi_import_header_column(&h, c, titles[c], NULL, &col);
		if (col.warning)
			snprintf(part, sizeof(part), "%s-", c ? " " : "");
		else
			snprintf(part, sizeof(part), "%s%d:%d:%s", c ? " " : "", col.kind, col.table,
					 col.field ? col.field->fieldname : "");
		strcat(got, part);
	}
	is_str(got, want, desc);
}

static void
test_importmap(void)
{
	const char *t1[] = {"ID", "Customer", "Date", "posting_date", "due_date", "Item (Items)", "items.qty", "Rate (Items)", "ID (Items)"};
	const char *t2[] = {"Owner", "Document Status", "Remarks", "Totals", "Row Index (Items)", "Parent (Items)", "Customer (customer)", "nothing"};
	const char *t3[] = {"Customer", "customer"};
	FiImpHeader h;
	FiImpColumn col;
	const FiDocField *tf,
			   *f;

	/* kinds: 1 Parent (skipped, its table kept), 2 field, 3 ID, 4 owner, 5 docstatus, 6 Row Index */
	header_is(t1, 9, "3:0: 2:0:customer 2:0:posting_date - 2:0:due_date 2:1:item_code 2:1:qty 2:1:amount 3:1:",
			  "header: ID, labels, fieldnames; a shared label: the first in the DocType, the last in a child table; a repeat skipped");
	header_is(t2, 8, "4:0: 5:0: - - 6:1: 1:1: 2:0:customer -",
			  "header: Owner, Document Status, Row Index; virtual fields, breaks, Parent and unknown titles skipped; Label (fieldname)");
	header_is(t3, 2, "2:0:customer -", "header: a field given twice (label, fieldname): the later column skipped");
	fi_import_header_init(&h, &inv, &hooks);
	fi_import_header_column(&h, 0, "Customer", "Don't Import", &col);
	is_str(col.warning, "column 1 (\"Customer\") is not imported (column_to_field_map)", "header: column_to_field_map's Don't Import, with its warning");
	fi_import_header_column(&h, 1, "", NULL, &col);
	is_str(col.warning, "column 2 has no title and is skipped", "header: a column without a title");
	fi_import_header_column(&h, 2, "Client", "customer", &col);
	ok(col.kind == FI_IMPCOL_FIELD && strcmp(col.field->fieldname, "customer") == 0 && h.nmapped == 1,
	   "header: column_to_field_map names the field");
	fi_import_header_column(&h, 3, "Colour", NULL, &col);
	is_str(col.warning, "column 4 (\"Colour\") matches no field of Sales Invoice and is skipped", "header: an unknown title's warning");
	inv.autoname = "field:customer";
	ok(fi_import_match_title(&inv, "ID", &hooks, &tf, &f) == FI_IMPCOL_FIELD && strcmp(f->fieldname, "customer") == 0 &&
	   fi_import_match_title(&inv, "ID (Customer)", &hooks, &tf, &f) == FI_IMPCOL_FIELD,
	   "header: the ID of a DocType named by a field is that field");
	inv.autoname = "naming_series:";
}

/* the grouping of a file's rows: "S" starts a document, "C" continues it, "-" is blank */
static void
test_grouping(void)
{
	static const char csv[] = "ID,Customer,Item (Items),Quantity (Items)\r\n"
		",ACME,A,1\n,,B,2\n , ,\t, \n,,C,3\nSINV-2,,D,4\n,Other,,\n";
	FiCsvReader r;
	FiImpHeader h;
	bool		parent_col[4];
	char		got[32] = "";
	bool		open_doc = false;

	fi_csv_init(&r, csv, strlen(csv));
	fi_csv_next(&r);
	fi_import_header_init(&h, &inv, &hooks);
	for (int c = 0; c < r.nfields; c++)
	{
		FiImpColumn col;

		fi_import_header_column(&h, c, r.buf + r.off[c], NULL, &col);
		parent_col[c] = fi_import_is_parent_column(&col);
	}
	ok(parent_col[0] && parent_col[1] && !parent_col[2] && !parent_col[3], "grouping: ID and parent fields are parent columns, child fields are not");
	while (fi_csv_next(&r) == 1)
	{
		FiImpRowKind k = fi_import_row_kind(&r, parent_col, 4, open_doc);

		strcat(got, k == FI_IMPROW_STARTS ? "S" : k == FI_IMPROW_CONTINUES ? "C" : "-");
		open_doc |= k == FI_IMPROW_STARTS;
	}
	fi_csv_free(&r);
	is_str(got, "SC-CSS", "grouping: a parent value starts a document, child-only rows continue it, blank rows are skipped");
}

static void
collect(void *arg, const char *title)
{
	char	   *buf = arg;

	if (*buf)
		strcat(buf, "|");
	strcat(buf, title);
}

static void
test_template(void)
{
	char		tpl[512] = "";

	fi_import_template_titles(&inv, true, false, &hooks, collect, tpl);
	is_str(tpl, "ID|Series|Customer|posting_date|due_date|ID (Items)|Item (Items)|Quantity (Items)|items.rate|items.amount",
		   "template: ID, labels (fieldname when a label repeats), child columns; read-only and virtual left out");
	tpl[0] = '\0';
	fi_import_template_titles(&inv, false, true, &hooks, collect, tpl);
	is_str(tpl, "ID|Customer", "template: mandatory_only");
}

/* ---- naming ---- */

static const char *
doc_value(void *arg, const char *fieldname, bool *present)
{
	*present = strcmp(fieldname, "customer") == 0 || strcmp(fieldname, "branch") == 0;
	if (strcmp(fieldname, "customer") == 0)
		return "ACME";
	return "";
}

static const FiNameHooks nhooks = {NULL, arena_alloc, doc_value};

static void
plan_is(bool format, const char *pattern, const FiDateTime *now, int64_t number, const char *want,
		const char *want_key, const char *desc)
{
	FiNamePlan	p = {0};

	if (format)
		fi_name_plan_format(&p, pattern, now, &nhooks);
	else
		fi_name_plan_series(&p, pattern, now, &nhooks);
	if (want_key)
		is_str(p.key, want_key, desc);
	is_str(p.key ? fi_name_compose(&p, number, &nhooks) : p.text, want, desc);
}

static void
test_naming(void)
{
	FiDateTime	now = {2026, 1, 2, 9, 5, 7, 250};
	const char *arg;

	ok(fi_autoname_kind("naming_series:", &arg) == FI_AUTONAME_NAMING_SERIES &&
	   fi_autoname_kind("field:item_code", &arg) == FI_AUTONAME_FIELD && strcmp(arg, "item_code") == 0 &&
	   fi_autoname_kind("format:INV-{####}", &arg) == FI_AUTONAME_FORMAT && strcmp(arg, "INV-{####}") == 0 &&
	   fi_autoname_kind("Prompt", &arg) == FI_AUTONAME_PROMPT && fi_autoname_kind("hash", &arg) == FI_AUTONAME_HASH &&
	   fi_autoname_kind(NULL, &arg) == FI_AUTONAME_HASH && fi_autoname_kind("AutoIncrement", &arg) == FI_AUTONAME_AUTOINCREMENT &&
	   fi_autoname_kind("PRJ-.####", &arg) == FI_AUTONAME_SERIES, "naming: the kinds of autoname");
	plan_is(false, "SINV-.YYYY.-.MM.-.#####", &now, 42, "SINV-2026-01-00042", "SINV-2026-01-", "naming: a series: its counter's key and the padded number");
	plan_is(false, "X-.YY.DD.WW.-.##.-.###", &now, 7, "X-260201-07-", "X-260201-", "naming: YY DD WW; a second counter adds nothing");
	plan_is(false, "C-.customer.-.branch.-.nofield.-.#", &now, 3, "C-ACME--nofield-3", NULL, "naming: a fieldname part is the value (empty when empty), other text as written");
	plan_is(true, "LOG-{MM}-{customer}-{#####}{x!}", &now, 12, "LOG-01-ACME-00012{x!}", "LOG-01-ACME-", "naming: format: each {param} as a series part, other braces as written");
	plan_is(false, "T-.timestamp", &now, 0, "T-2026-01-02 09:05:07.000250", NULL, "naming: timestamp with microseconds");
	plan_is(false, "BIG-.#", &now, 12345, "BIG-12345", NULL, "naming: a number wider than its digits is written whole");
	ok(fi_name_week(2027, 1, 1) == 0 && fi_name_week(2024, 12, 30) == 53 && fi_name_week(2026, 6, 15) == 25,
	   "naming: the consecutive week number (00 in January, 53 in December)");
	is_str(fi_name_problem("a<b", "Item", true, &nhooks), "Name cannot contain special characters like < or >", "naming: validate_name: < or >");
	is_str(fi_name_problem("Item", "Item", true, &nhooks), "Name of Item cannot be Item", "naming: validate_name: the DocType's own name");
	is_str(fi_name_problem("New Item 1", "Item", true, &nhooks),
		   "There were some errors setting the name, please contact the administrator", "naming: validate_name: New <DocType>");
	{
		char		longname[300];

		memset(longname, 'x', 141);
		longname[141] = '\0';
		is_str(fi_name_problem(longname, "Item", true, &nhooks), "Name is longer than 140 characters", "naming: validate_name: 141 characters");
		ok(fi_name_problem(longname, "Item", false, &nhooks) == NULL, "naming: no length limit for a text name column");
		for (int i = 0; i < 140; i++)
			memcpy(longname + 2 * i, "\xc3\xa9", 2);
		longname[280] = '\0';
		ok(fi_name_problem(longname, "Item", true, &nhooks) == NULL, "naming: 140 characters of two bytes each are 140");
	}
}

/* a batch named: the documents' values, counters that say how they were taken */
typedef struct BatchDocT
{
	const char *series;			/* naming_series */
	const char *region;
} BatchDocT;

static char batch_log[256];

static const char *
batch_doc_value(void *arg, void *doc, const char *fieldname, bool *present)
{
	BatchDocT  *d = doc;

	*present = true;
	if (strcmp(fieldname, "naming_series") == 0)
		return d->series ? d->series : "";
	if (strcmp(fieldname, "region") == 0)
		return d->region ? d->region : "";
	*present = false;
	return "";
}

static int64_t
batch_take(void *arg, const char *key, int64_t n)
{
	size_t		l = strlen(batch_log);

	snprintf(batch_log + l, sizeof(batch_log) - l, "[%s+%lld]", key, (long long) n);
	return strcmp(key, "B-") == 0 ? 100 + n : 7 + n;	/* B- was at 100, A- at 7 */
}

static int64_t
batch_take_rule(void *arg, const FiNameRule *rule, int64_t n)
{
	size_t		l = strlen(batch_log);

	snprintf(batch_log + l, sizeof(batch_log) - l, "[rule %s+%lld]", rule->name, (long long) n);
	return 40 + n;
}

static char *
batch_hash(void *arg)
{
	return "hhhhhhhhhh";
}

static void
test_name_batch(void)
{
	FiDateTime	now = {2026, 1, 2, 9, 5, 7, 250};
	BatchDocT	v[6] = {{"B-", NULL}, {"A-", NULL}, {"B-", "EU"}, {NULL, NULL}, {"B-", NULL}, {"A-", NULL}};
	FiNameDoc	d[6] = {0};
	const char *f[1] = {"region"},
			   *o[1] = {"="},
			   *val[1] = {"EU"};
	FiCompareKind k[1] = {FI_CMP_TEXT};
	FiNameRule	rule = {"EU rule", "EU-", 4, 1, f, o, val, k};
	FiNameBatchHooks h = {NULL, arena_alloc, batch_doc_value, batch_take, batch_take_rule, batch_hash, NULL};

	for (int i = 0; i < 6; i++)
	{
		d[i].doc = &v[i];
		d[i].row = i + 2;
	}
	d[5].supplied = "B-00102";	/* the ID column: kept, but the counter makes it too */
	batch_log[0] = '\0';
	fi_name_batch("Sales Invoice", "naming_series:", d, 6, &rule, 1, &now, true, &h);
	is_str(batch_log, "[A-+1][B-+2][rule EU rule+1]", "naming batch: one block per counter key, keys in byte order, then the rules'");
	is_str(d[0].name, "B-00101", "naming batch: naming_series: the series' block, in the documents' order");
	is_str(d[4].name, "B-00102", "naming batch: the second of the block");
	is_str(d[1].name, "A-00008", "naming batch: another key, its own block");
	is_str(d[2].name, "EU-0041", "naming batch: a Document Naming Rule met first: its prefix and counter");
	ok(d[2].given && !d[0].given, "naming batch: a rule's name is checked as taken, a counter's is not");
	ok(d[3].name == NULL && strcmp(d[3].error, "Naming Series mandatory") == 0, "naming batch: no naming series: Frappe's words");
	ok(d[5].given && d[5].name == NULL, "naming batch: a supplied ID is kept (in_import): given");
	is_str(d[5].error, "Sales Invoice B-00102 already exists (row 6)",
		   "naming batch: a supplied name a counter made for an earlier document: the later one fails");

	/* field: and names given twice */
	{
		BatchDocT	w[3] = {{"X", NULL}, {"", NULL}, {"X", NULL}};
		FiNameDoc	e[3] = {0};

		for (int i = 0; i < 3; i++)
		{
			e[i].doc = &w[i];
			e[i].row = 10 + i;
		}
		fi_name_batch("Item", "field:naming_series", e, 3, NULL, 0, &now, true, &h);
		is_str(e[0].name, "X", "naming batch: field: the field's value");
		is_str(e[1].error, "naming_series is required", "naming batch: field: empty: required (its label, else its name)");
		is_str(e[2].error, "Item X already exists (row 10)", "naming batch: a name given twice in the batch: the earlier row named");
		is_str(e[2].error_value, "X", "naming batch: the error names the value");
	}
	{
		BatchDocT	w[2] = {{"Item", NULL}, {"ok", NULL}};
		FiNameDoc	e[2] = {0};

		e[0].doc = &w[0];
		e[1].doc = &w[1];
		e[1].skip = true;
		fi_name_batch("Item", "hash", e, 2, NULL, 0, &now, true, &h);
		is_str(e[0].name, "hhhhhhhhhh", "naming batch: hash");
		ok(e[1].name == NULL && e[1].error == NULL, "naming batch: a failed document is not named");
		e[0].supplied = "Item";
		fi_name_batch("Item", "hash", e, 1, NULL, 0, &now, true, &h);
		is_str(e[0].error, "Name of Item cannot be Item", "naming batch: validate_name for every name");
	}
}

/* ---- a table's fields as the import writes them ---- */

static bool
has_all_columns(void *arg, const FiDocField *df)
{
	return true;
}

static void
test_field_rules(void)
{
	FiDocField	f[] = {
		{.fieldname = "customer", .label = "Customer", .fieldtype = "Link", .options = "Customer", .reqd = true},
		{.fieldname = "status", .label = "Status", .fieldtype = "Select", .options = "Draft\nPaid", .default_value = "Paid"},
		{.fieldname = "title", .fieldtype = "Data", .default_value = "{customer} - {status}"},
		{.fieldname = "customer_name", .label = "Customer Name", .fieldtype = "Data", .fetch_from = "customer.customer_name"},
		{.fieldname = "qty", .label = "Qty", .fieldtype = "Int", .unique = true},
		{.fieldname = "at", .label = "At", .fieldtype = "Time"},
		{.fieldname = "note", .label = "Note", .fieldtype = "Small Text"},
	};
	FiDocMeta	m = {.name = "Sales Invoice", .title_field = "title", .nfields = 7, .fields = f};
	FiImpColumnInfo ci = {140, 0, -1},
				small = {-1, 32767, -1};
	FiImpFieldRules r;
	size_t		n;
	const char *src;
	const FiDocField **reqd;
	long		counts[FI_NDATE_FORMATS * (FI_NTIME_FORMATS + 1)] = {0};
	FiDateFormat fmt;
	int			kinds,
				st;
	const char *why;

	fi_import_field_rules(&m, false, &f[0], &ci, &r, arena_alloc, NULL);
	ok(r.is_link && strcmp(r.link_doctype, "Customer") == 0 && r.reqd && r.cell.kind == FI_CELL_TEXT && r.cell.maxchars == 140 &&
	   strcmp(r.cell.label, "Customer") == 0 && r.defkind == FI_DEFAULT_NONE, "import fields: a mandatory Link over varchar(140)");
	ok(fi_import_unmapped_written(&r), "import fields: a mandatory field the file leaves out is still written (checked)");
	fi_import_field_rules(&m, false, &f[1], &ci, &r, arena_alloc, NULL);
	ok(r.is_select && r.cell.noptions == 2 && strcmp(r.cell.options[1], "Paid") == 0 && r.defkind == FI_DEFAULT_VALUE &&
	   strcmp(r.default_text, "Paid") == 0, "import fields: a Select's options and its literal default");
	fi_import_field_rules(&m, false, &f[2], &ci, &r, arena_alloc, NULL);
	ok(r.defkind == FI_DEFAULT_TITLE && strcmp(r.cell.label, "title") == 0, "import fields: the title field's pattern (label: the fieldname when none)");
	fi_import_field_rules(&m, true, &f[2], &ci, &r, arena_alloc, NULL);
	ok(r.defkind != FI_DEFAULT_TITLE, "import fields: no title pattern in a child table");
	fi_import_field_rules(&m, false, &f[4], &small, &r, arena_alloc, NULL);
	ok(r.unique && r.cell.kind == FI_CELL_INT && r.cell.int_max == 32767 && !fi_import_unmapped_written(&r),
	   "import fields: a unique Int over a smallint; left out, not written");
	fi_import_field_rules(&m, false, &f[5], &ci, &r, arena_alloc, NULL);
	ok(fi_import_unmapped_written(&r), "import fields: a Time is written even when left out");
	fi_import_field_rules(&m, false, &f[6], &ci, &r, arena_alloc, NULL);
	ok(!fi_import_unmapped_written(&r), "import fields: a plain field left out is not written");
	ok(fi_import_fetch_from(&f[3], &n, &src) && n == 8 && strcmp(src, "customer_name") == 0 && !fi_import_fetch_from(&f[0], &n, &src),
	   "import fields: fetch_from's Link field and source");
	{
		FiDocField	bad[] = {{.fieldname = "a", .fetch_from = "x.y.z"}, {.fieldname = "b", .fetch_from = ".y"}, {.fieldname = "c", .fetch_from = "x."}};

		ok(!fi_import_fetch_from(&bad[0], &n, &src) && !fi_import_fetch_from(&bad[1], &n, &src) && !fi_import_fetch_from(&bad[2], &n, &src),
		   "import fields: fetch_from of another form fetches nothing");
	}
	ok(fi_import_mandatory(&m, &reqd, arena_alloc, NULL) == 1 && reqd[0] == &f[0], "import fields: the mandatory fields in the DocType's order");
	{
		const FiDocField *listed[2] = {&f[1], &f[0]};
		const FiDocField *more[8];

		ok(fi_import_fetch_link(&f[3], listed, 2, &src) == 1 && strcmp(src, "customer_name") == 0 &&
		   fi_import_fetch_link(&f[3], listed, 1, &src) == -1, "import fields: the Link a fetch_from goes through, among the table's");
		ok(fi_import_fetched_fields(&m, listed, 2, has_all_columns, NULL, more) == 1 && more[0] == &f[3],
		   "import fields: the fields fetched through the table's Links, not listed yet");
		ok(fi_import_fetched_fields(&m, listed, 1, has_all_columns, NULL, more) == 0, "import fields: no Link, nothing fetched");
	}
	ok(!fi_import_date_format_pick(counts, &fmt, &kinds) && kinds == 0, "import dates: no value guessed, no format");
	counts[3 * (FI_NTIME_FORMATS + 1) + 0] = 2;
	counts[5 * (FI_NTIME_FORMATS + 1) + 2] = 5;
	counts[7 * (FI_NTIME_FORMATS + 1) + 1] = 5;
	ok(fi_import_date_format_pick(counts, &fmt, &kinds) && kinds == 3 && fmt.date == 5 && fmt.time == 1,
	   "import dates: the most common format, the first of equals; how many were seen");
	ok(fi_import_docstatus("1", true, &st, &why) && st == 1 && fi_import_docstatus("0", false, &st, &why) && st == 0,
	   "import: Document Status 0, or 1 when submittable");
	ok(!fi_import_docstatus("1", false, &st, &why) && strcmp(why, "Document Status must be 0 (Draft)") == 0 &&
	   !fi_import_docstatus("2", true, &st, &why) && strcmp(why, "Document Status must be 0 (Draft) or 1 (Submitted)") == 0,
	   "import: another Document Status: Frappe's words");
}

/* ---- webhook events ---- */

static void
test_events(void)
{
	ok(fi_row_events(FI_ROW_INSERT, 0, 0) == (FI_EV_AFTER_INSERT | FI_EV_ON_UPDATE) &&
	   fi_row_events(FI_ROW_INSERT, 0, 1) == (FI_EV_AFTER_INSERT | FI_EV_ON_UPDATE | FI_EV_ON_SUBMIT),
	   "events: insert (submitted: on_submit too)");
	ok(fi_row_events(FI_ROW_UPDATE, 0, 0) == (FI_EV_ON_UPDATE | FI_EV_ON_CHANGE) &&
	   fi_row_events(FI_ROW_UPDATE, 0, 1) == (FI_EV_ON_UPDATE | FI_EV_ON_SUBMIT | FI_EV_ON_CHANGE) &&
	   fi_row_events(FI_ROW_UPDATE, 1, 2) == (FI_EV_ON_CANCEL | FI_EV_ON_CHANGE) &&
	   fi_row_events(FI_ROW_UPDATE, 1, 1) == (FI_EV_ON_UPDATE_AFTER_SUBMIT | FI_EV_ON_CHANGE) &&
	   fi_row_events(FI_ROW_UPDATE, 2, 2) == FI_EV_ON_CHANGE && fi_row_events(FI_ROW_DELETE, 1, 0) == FI_EV_ON_TRASH,
	   "events: the docstatus transitions");
	ok(fi_events_at_commit(FI_EV_CHILD, true, 0) == (FI_EV_ON_UPDATE | FI_EV_ON_CHANGE) &&
	   fi_events_at_commit(FI_EV_CHILD, true, 1) == (FI_EV_ON_UPDATE_AFTER_SUBMIT | FI_EV_ON_CHANGE) &&
	   fi_events_at_commit(FI_EV_CHILD | FI_EV_GONE | FI_EV_ON_TRASH, false, 0) == (FI_EV_ON_TRASH | FI_EV_ON_UPDATE | FI_EV_ON_CHANGE),
	   "events: a child row change is a save of the parent, by its docstatus at commit");
	ok(strcmp(fi_event_name(FI_EV_ON_UPDATE_AFTER_SUBMIT), "on_update_after_submit") == 0 &&
	   fi_event_bit("on_cancel") == FI_EV_ON_CANCEL && fi_event_bit("on_save") == 0 && fi_event_bit(NULL) == 0 &&
	   strcmp(fi_event_name(FI_EV_ON_UPDATE | FI_EV_ON_CHANGE), "") == 0, "events: names and bits");
}

/* the documents of a fold as text: "doctype/name:events:row:has_row:docstatus;" */
static const char *
fold_text(const FiRowChange *c, int n)
{
	static char out[1024];
	FiDocChange d[32];
	int			nd = fi_fold_changes(c, n, d, arena_alloc, NULL);
	size_t		len = 0;

	out[0] = '\0';
	for (int i = 0; i < nd; i++)
		len += snprintf(out + len, sizeof(out) - len, "%s/%s:%x:%d:%d:%d;", d[i].doctype, d[i].name,
						d[i].noted, d[i].row_change, d[i].has_row, d[i].docstatus);
	return out;
}

static void
test_fold(void)
{
	const FiRowChange save[] = {
		{FI_ROW_INSERT, "Sales Invoice", "SINV-1", NULL, 0, 0, NULL, NULL},
		{FI_ROW_INSERT, "Sales Invoice Item", "r1", NULL, 0, 0, "SINV-1", "Sales Invoice"},
		{FI_ROW_UPDATE, "Sales Invoice", "SINV-1", NULL, 0, 1, NULL, NULL},
	};
	const FiRowChange child_only[] = {
		{FI_ROW_UPDATE, "Sales Invoice Item", "r1", NULL, 1, 1, "SINV-2", "Sales Invoice"},
		{FI_ROW_DELETE, "Sales Invoice Item", "r2", NULL, 1, 0, "SINV-2", "Sales Invoice"},
		{FI_ROW_INSERT, "Item", "IT-1", NULL, 0, 0, NULL, NULL},
	};
	const FiRowChange rename[] = {
		{FI_ROW_UPDATE, "Customer", "New", "Old", 0, 0, NULL, NULL},
		{FI_ROW_UPDATE, "Customer Group", "G", "G", 0, 0, NULL, NULL},
	};
	const FiRowChange replace[] = {
		{FI_ROW_DELETE, "Item", "IT-1", NULL, 1, 0, NULL, NULL},
		{FI_ROW_INSERT, "Item", "IT-1", NULL, 0, 0, NULL, NULL},
		{FI_ROW_DELETE, "Item", "IT-2", NULL, 2, 0, NULL, NULL},
		{FI_ROW_INSERT, "Item", "it-2", NULL, 0, 0, NULL, NULL},
	};
	char		want[256];

	snprintf(want, sizeof(want), "Sales Invoice/SINV-1:%x:2:1:1;",
			 FI_EV_AFTER_INSERT | FI_EV_ON_UPDATE | FI_EV_ON_SUBMIT | FI_EV_ON_CHANGE | FI_EV_CHILD);
	is_str(fold_text(save, 3), want, "fold: a document's insert, a child row and a submit: one document, its events OR-ed, docstatus at commit 1");
	snprintf(want, sizeof(want), "Sales Invoice/SINV-2:%x:-1:0:0;Item/IT-1:%x:2:1:0;", FI_EV_CHILD,
			 FI_EV_AFTER_INSERT | FI_EV_ON_UPDATE);
	is_str(fold_text(child_only, 3), want, "fold: child rows alone: the parent, its row unread (-1); documents by their last change");
	snprintf(want, sizeof(want), "Customer/Old:%x:0:0:0;Customer/New:%x:0:1:0;Customer Group/G:%x:1:1:0;",
			 FI_EV_GONE, FI_EV_ON_UPDATE | FI_EV_ON_CHANGE, FI_EV_ON_UPDATE | FI_EV_ON_CHANGE);
	is_str(fold_text(rename, 2), want, "fold: a rename leaves the old name gone; the same name is no rename");
	snprintf(want, sizeof(want), "Item/IT-1:%x:1:1:0;Item/IT-2:%x:2:0:2;Item/it-2:%x:3:1:0;",
			 FI_EV_ON_TRASH | FI_EV_AFTER_INSERT | FI_EV_ON_UPDATE, FI_EV_ON_TRASH | FI_EV_GONE,
			 FI_EV_AFTER_INSERT | FI_EV_ON_UPDATE);
	is_str(fold_text(replace, 4), want, "fold: REPLACE (delete + insert) keeps the row and both events; names compare byte for byte");
	is_str(fold_text(replace, 0), "", "fold: nothing");
}

/* ---- export text ---- */

static void
number_is(const char *in, const char *want)
{
	char		out[FI_EXPORT_NUMBER_MAX(64)];
	size_t		n = fi_export_number(in, strlen(in), out);
	char		desc[128];

	out[n] = '\0';
	snprintf(desc, sizeof(desc), "export: %s is written %s", in, want);
	is_str(out, want, desc);
}

static void
clock_is(const char *in, const char *want)
{
	char		out[FI_EXPORT_CLOCK_MAX];
	size_t		n = 0;
	bool		ok = fi_export_clock_text(in, strlen(in), &n, out);
	char		desc[128];

	out[ok ? n : 0] = '\0';
	snprintf(desc, sizeof(desc), "export: the database's \"%s\" is written %s", in, want ? want : "as it is");
	is_str(ok ? out : "(as it is)", want ? want : "(as it is)", desc);
}

static void
test_export(void)
{
	char		d[FI_DURATION_MAX];
	char		q[64];
	size_t		n;

	number_is("1234.500000000", "1234.5");
	number_is("7", "7.0");
	number_is("-0.000060000", "-6e-05");
	number_is("0.000000000", "0.0");
	number_is("10000000000000000", "1e+16");
	number_is("0.000100000", "0.0001");
	fi_export_duration(93784, false, d);
	is_str(d, "1d 2h 3m 4s", "export: a Duration");
	fi_export_duration(93784, true, d);
	is_str(d, "26h 3m 4s", "export: a Duration with hide_days");
	fi_export_duration(0, false, d);
	is_str(d, "", "export: a Duration of 0 is empty");
	n = fi_export_quoted("=1+\"2\"", 6, true, q);
	q[n] = '\0';
	is_str(q, "\"'=1+\"\"2\"\"\"", "export: a formula escaped, quotes doubled");
	n = fi_export_quoted("-5", 2, false, q);
	q[n] = '\0';
	is_str(q, "\"-5\"", "export: no escape unless asked");
	clock_is("2024-05-06 10:30:15.000000", "2024-05-06 10:30:15");
	clock_is("2024-05-06 10:30:15.250000", "2024-05-06 10:30:15.250000");
	clock_is("2024-05-06T10:30:15.25", "2024-05-06 10:30:15.250000");
	clock_is("2024-05-06", "2024-05-06");
	clock_is("09:00:00.000000", "09:00:00");
	clock_is("23:59:59.9999999", "23:59:59.999999");
	clock_is("00:00:00.000001", "00:00:00.000001");
	clock_is("0000-00-00", NULL);
	clock_is("0000-00-00 00:00:00", NULL);
	clock_is("2024-13-01", NULL);
	clock_is("24:00:00", NULL);
	clock_is("-01:00:00", NULL);
	clock_is("838:59:59", NULL);
	clock_is("2024-05-06 10:30", NULL);
	clock_is("10:30:15.", NULL);
	clock_is("infinity", NULL);
	clock_is("", NULL);
}

static void
titles_is(const char *const *titles, int n, const char *want, const char *desc)
{
	char		got[512] = "";

	for (int i = 0; i < n; i++)
	{
		if (i)
			strcat(got, "|");
		strcat(got, titles[i]);
	}
	is_str(got, want, desc);
}

static void
test_export_titles(void)
{
	FiExportTitle cols[] = {
		{.fieldname = "name", .is_id = true},
		{.fieldname = "posting_date", .label = "Date"},
		{.fieldname = "due_date", .label = "Date"},
		{.fieldname = "remarks", .label = ""},
		{.fieldname = "name", .is_id = true, .table_label = "Items", .table_fieldname = "items", .table_doctype = "Sales Invoice Item"},
		{.fieldname = "rate", .label = "Rate", .table_label = "Items", .table_fieldname = "items", .table_doctype = "Sales Invoice Item"},
		{.fieldname = "amount", .label = "Rate", .table_label = "Items", .table_fieldname = "items", .table_doctype = "Sales Invoice Item"},
	};
	const char *titles[9];

	fi_export_import_titles(cols, 7, false, arena_alloc, NULL, titles);
	titles_is(titles, 7, "ID|Date|due_date|remarks|ID (Items)|Rate (Items)|items.amount",
			  "export header: labels, a repeated title as its fieldname, child columns as Label (Table Label)");
	fi_export_import_titles(cols, 7, true, arena_alloc, NULL, titles);
	titles_is(titles, 7, "name|posting_date|due_date|remarks|items.name|items.rate|items.amount", "export header: by fieldname");
	fi_export_report_titles(cols, 7, arena_alloc, NULL, titles);
	titles_is(titles, 9, "Sr|ID|Date|Date||name (Sales Invoice Item)|Rate (Sales Invoice Item)|Rate (Sales Invoice Item)|owner",
			  "export header: Report Builder's (Sr, ID, labels, Label (Child DocType), owner)");
}

static void
grant_is(const char *rt, const char *scope, const char *nonce, const char *challenge, const char *method,
		 const char *client_rt, bool secret, const char *want, const char *desc)
{
	FiOAuthAuthorize req = {rt, scope, nonce, challenge, method, client_rt, "openid all  files", secret};
	FiOAuthGrant g;
	char		got[512];

	fi_oauth_authorize(&req, arena_alloc, NULL, &g);
	if (g.error)
		snprintf(got, sizeof(got), "%s: %s%s", g.error, g.error_description, g.in_fragment ? " #" : "");
	else
		snprintf(got, sizeof(got), "%d %s %s%s", g.response_types, g.scopes, g.challenge_method ? g.challenge_method : "-",
				 g.in_fragment ? " #" : "");
	is_str(got, want, desc);
}

/* the Authorization header as Frappe reads it: kind, method, parts */
static void
auth_case(const char *header, const char *want, const char *desc)
{
	FiAuthHeader h;
	FiAuthKind k = fi_auth_header(header, strlen(header), arena_alloc, NULL, &h);
	char		got[512];

	snprintf(got, sizeof(got), "%d %s [%s] [%s] [%s]", (int) k, h.method ? h.method : "-", h.token ? h.token : "-",
			 h.key ? h.key : "-", h.secret ? h.secret : "-");
	is_str(got, want, desc);
}

static void
test_auth_header(void)
{
	static const char *const req1[] = {"all"},
			   *const req2[] = {"openid", "all"},
			   *const req_blank[] = {"all openid"},
			   *const req_null[] = {NULL};

	auth_case("token k1:s3cr3t", "3 token [-] [k1] [s3cr3t]", "auth: token key:secret");
	auth_case("TOKEN k1:", "3 token [-] [k1] []", "auth: scheme in any case, an empty secret");
	auth_case("Basic azE6czozY3I=", "3 basic [-] [-] [-]", "auth: Basic's base64 of k1:s:3cr (two colons)");
	auth_case("Basic azE6czNjcmV0", "3 basic [-] [k1] [s3cret]", "auth: Basic base64(key:secret)");
	auth_case("basic !!!", "1 basic [-] [-] [-]", "auth: Basic that is not base64");
	auth_case("Basic AP8=", "1 basic [-] [-] [-]", "auth: Basic of bytes that are not UTF-8 (NUL, 0xff)");
	auth_case("token k1s3cret", "3 token [-] [-] [-]", "auth: token without a colon: nobody");
	auth_case("token a:b:c", "3 token [-] [-] [-]", "auth: token with two colons: nobody");
	auth_case("Bearer abc.def", "2 bearer [abc.def] [-] [-]", "auth: Bearer's token");
	auth_case("Digest x", "4 - [-] [-] [-]", "auth: another scheme: nobody");
	auth_case("Bearer", "0 - [-] [-] [-]", "auth: one part");
	auth_case("Bearer  x", "0 - [-] [-] [-]", "auth: two spaces (Frappe's split gives three parts)");
	auth_case(" x", "0 - [-] [-] [-]", "auth: no scheme");
	auth_case("token a:b c", "0 - [-] [-] [-]", "auth: three parts");
	auth_case("Bearer ", "0 - [-] [-] [-]", "auth: no credentials");
	ok(fi_auth_header(NULL, 0, arena_alloc, NULL, &(FiAuthHeader) {0}) == FI_AUTH_MALFORMED, "auth: no header");

	ok(fi_bearer_scopes_ok("all openid", "openid\tall files", NULL, 0), "scopes: the token's are the client's");
	ok(!fi_bearer_scopes_ok("all openid", "all", NULL, 0), "scopes: one is not the client's");
	ok(fi_bearer_scopes_ok("", "all", NULL, 0) && fi_bearer_scopes_ok(NULL, NULL, NULL, 0), "scopes: none");
	ok(fi_bearer_scopes_ok(" all\nopenid ", "all openid", req2, 2), "scopes: every one required is the token's");
	ok(!fi_bearer_scopes_ok("openid", "all openid", req1, 1), "scopes: a required one the token lacks");
	ok(!fi_bearer_scopes_ok("all openid", "all openid", req_blank, 1), "scopes: a required one is one scope, never split");
	ok(!fi_bearer_scopes_ok("all", "all", req_null, 1), "scopes: a NULL required one");
	ok(fi_bearer_scopes_ok_list("all openid", "openid all", " openid\tall ") &&
	   fi_bearer_scopes_ok_list("all", "all", NULL) && fi_bearer_scopes_ok_list("all", "all", "  "),
	   "scopes, the required as one list: each in the token's; NULL or blank: none");
	ok(!fi_bearer_scopes_ok_list("all", "all", "all admin") && !fi_bearer_scopes_ok_list("all admin", "all", NULL),
	   "scopes, the required as one list: one the token lacks; the token's beyond the client's");
	ok(fi_scopes_subset("", "x") && fi_scopes_subset(NULL, NULL) && !fi_scopes_subset("alla", "all") && !fi_scopes_subset("al", "all"),
	   "scopes: subset by whole words");
}

static void
test_oauth(void)
{
	const char *err;
	const char *desc;
	char	   *id,
			   *secret;
	const char *V = "dBjftJeZ4CVP-mJ92K9ZgNsWiJ9vE5KpaLXF8VZbDk_ooooooooooo";
	FiOAuthCode code = {"https://app.example/cb", "B8NT0N5Fc8cbg7Ejp8ZQ4E12gSJli_ko5QsbQaWtsnA", "s256"};
	static const char *const keys[] = {"code", "scope", "state", "absent"};
	static const char *const vals[] = {"abc", "openid all", "x/é&=", NULL};

	is_str(fi_oauth_scopes("openid all  files", "files openid files", arena_alloc, NULL), "files openid",
		   "scopes: those asked, in the order asked, once each");
	is_str(fi_oauth_scopes("openid\tall", NULL, arena_alloc, NULL), "openid all", "scopes: none asked gives the client's");
	is_str(fi_oauth_scopes("openid all", " \n", arena_alloc, NULL), "openid all", "scopes: blanks asked are none");
	ok(fi_oauth_scopes("openid all", "all admin", arena_alloc, NULL) == NULL, "scopes: one beyond the client's refuses all");
	ok(fi_oauth_scopes(NULL, "all", arena_alloc, NULL) == NULL, "scopes: a client without scopes grants none asked");

	is_str(fi_oauth_redirect_uri("https://b/cb", "https://a/cb https://b/cb", NULL, &err), "https://b/cb",
		   "redirect_uri: a registered one (split on blanks)");
	is_str(fi_oauth_redirect_uri(NULL, "https://a/cb", "https://d/cb", &err), "https://d/cb", "redirect_uri: absent gives the default");
	ok(fi_oauth_redirect_uri("https://a/c", "https://a/cb", "https://d/cb", &err) == NULL &&
	   strcmp(err, "redirect_uri is not registered for this client") == 0, "redirect_uri: a prefix of a registered one is not it");
	ok(fi_oauth_redirect_uri(NULL, "https://a/cb", "", &err) == NULL &&
	   strcmp(err, "the client has no usable redirect URI") == 0, "redirect_uri: none asked and no default");

	grant_is("code", "openid", NULL, NULL, NULL, "Code", true, "1 openid -", "authorize: a code, in the query");
	grant_is("code", NULL, NULL, V, NULL, "Code", false, "1 openid all files plain", "authorize: PKCE plain by default; all the client's scopes");
	grant_is("code", NULL, NULL, NULL, NULL, "Code", false,
			 "invalid_request: a client without a secret must use PKCE (code_challenge)", "authorize: a public client must use PKCE");
	grant_is("token", NULL, NULL, NULL, NULL, "Code", true,
			 "unsupported_response_type: this client may not ask for that response_type", "authorize: another response_type than the client's, in the query");
	grant_is("token", "all", NULL, NULL, NULL, "Token", true, "2 all - #", "authorize: a Token client's implicit grant, in the fragment");
	grant_is("id_token  code", "openid", "n", NULL, NULL, "Token", true, "5 openid - #", "authorize: OpenID's code id_token whatever the client's own");
	grant_is("id_token", "all", "n", NULL, NULL, "Code", true, "invalid_scope: an id_token needs the openid scope #",
			 "authorize: an id_token needs openid (error in the fragment)");
	grant_is("id_token", "openid", NULL, NULL, NULL, "Code", true,
			 "invalid_request: nonce is required when an id_token is returned from the authorization endpoint #", "authorize: and a nonce");
	grant_is("id_token", "openid", "n", NULL, NULL, "Code", false,
			 "unauthorized_client: a client without a secret cannot be sent an id_token #", "authorize: and a secret");
	grant_is("code", NULL, NULL, V, "S512", "Code", true, "invalid_request: code_challenge_method must be S256 or plain",
			 "authorize: PKCE S256 or plain only");
	grant_is("code", NULL, NULL, "short", "S256", "Code", true,
			 "invalid_request: code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~", "authorize: a challenge of RFC 7636's form");
	grant_is(NULL, NULL, NULL, NULL, NULL, "Code", true, "invalid_request: response_type is missing", "authorize: response_type missing");
	grant_is("code bogus", NULL, NULL, NULL, NULL, "Code", true,
			 "unsupported_response_type: this client may not ask for that response_type", "authorize: an unknown word");

	ok(fi_oauth_grant_type("password", &err, &desc) && !fi_oauth_grant_type("client_credentials", &err, &desc) &&
	   strcmp(err, "unsupported_grant_type") == 0 && !fi_oauth_grant_type(NULL, &err, &desc) &&
	   strcmp(err, "invalid_request") == 0, "grant types: Frappe's three");

	ok(fi_oauth_code_exchange_ok(&code, "https://app.example/cb", "dBjftJeZ4CVP-mJ92K9ZgNsWiJ9vE5KpaLXF8VZbDk0", NULL, false),
	   "code: a verifier of its S256 challenge (as hashlib makes it)");
	ok(!fi_oauth_code_exchange_ok(&code, "https://app.example/cb", "dBjftJeZ4CVP-mJ92K9ZgNsWiJ9vE5KpaLXF8VZbDk1", NULL, false),
	   "code: another verifier");
	ok(!fi_oauth_code_exchange_ok(&code, "https://app.example/cb2", "dBjftJeZ4CVP-mJ92K9ZgNsWiJ9vE5KpaLXF8VZbDk0", NULL, false),
	   "code: another redirect URI");
	ok(!fi_oauth_code_exchange_ok(&code, NULL, "dBjftJeZ4CVP-mJ92K9ZgNsWiJ9vE5KpaLXF8VZbDk0", NULL, false),
	   "code: no redirect URI and no default is no match");
	code.redirect_uri = NULL;
	code.code_challenge = NULL;
	ok(fi_oauth_code_exchange_ok(&code, NULL, NULL, "https://d/cb", true) &&
	   !fi_oauth_code_exchange_ok(&code, NULL, NULL, "https://d/cb", false),
	   "code: bound to the default; without PKCE only a client with a secret");

	ok(fi_oauth_basic_credentials("Basic Y2wxOnMzY3I6ZXQ=", NULL, arena_alloc, NULL, &id, &secret) &&
	   strcmp(id, "cl1") == 0 && strcmp(secret, "s3cr:et") == 0, "Basic: id and secret (a colon in the secret)");
	ok(fi_oauth_basic_credentials("BASIC Y2wxOnMzY3I6ZXQ=", "cl1", arena_alloc, NULL, &id, &secret) &&
	   !fi_oauth_basic_credentials("Basic Y2wxOnMzY3I6ZXQ=", "cl2", arena_alloc, NULL, &id, &secret) &&
	   !fi_oauth_basic_credentials("Basic Y2wx", NULL, arena_alloc, NULL, &id, &secret) &&
	   !fi_oauth_basic_credentials("Bearer Y2wxOnM=", NULL, arena_alloc, NULL, &id, &secret) &&
	   !fi_oauth_basic_credentials("Basic AP86", NULL, arena_alloc, NULL, &id, &secret),
	   "Basic: any case; refused for another client, without a colon, another scheme, NUL or not UTF-8");

	is_str(fi_oauth_redirect("https://a/cb?x=1", false, keys, vals, 4, arena_alloc, NULL),
		   "https://a/cb?x=1&code=abc&scope=openid+all&state=x%2F%C3%A9%26%3D", "redirect: after a query, form-urlencoded, NULL left out");
	is_str(fi_oauth_redirect("https://a/cb", true, keys, vals, 1, arena_alloc, NULL), "https://a/cb#code=abc", "redirect: in the fragment");
}

static void
cell_is(const FiCellField *f, const char *in, const char *want, const char *desc)
{
	FiCell		c;
	const char *why = fi_cell_value(f, in, strlen(in), &c, arena_alloc, NULL);
	char		got[256];

	if (why)
		snprintf(got, sizeof(got), "! %s", why);
	else if (f->kind == FI_CELL_NUMBER || f->kind == FI_CELL_DURATION)
		snprintf(got, sizeof(got), "%s", c.number);
	else if (f->kind == FI_CELL_INT || f->kind == FI_CELL_CHECK)
		snprintf(got, sizeof(got), "%lld", (long long) c.i);
	else if (f->kind == FI_CELL_TEXT)
		snprintf(got, sizeof(got), "%s", in);
	else
		snprintf(got, sizeof(got), "%04d-%02d-%02d %02d:%02d:%02d.%06d", c.dt.year, c.dt.month, c.dt.day,
				 c.dt.hour, c.dt.minute, c.dt.second, c.dt.usec);
	is_str(got, want, desc);
}

static const char *
title_value_of(void *varg, const char *fieldname)
{
	return strcmp(fieldname, "customer") == 0 ? "ACME" : strcmp(fieldname, "posting_date") == 0 ? "2026-12-03" : NULL;
}

static void
test_cells(void)
{
	const char **opts;
	int			nopts = fi_select_options("\nDraft\nPaid\nUnpaid", arena_alloc, NULL, &opts);
	FiCellField qty = {FI_CELL_INT, "Qty", .maxchars = -1, .int_max = 2147483647, .int_digits = -1};
	FiCellField chk = {FI_CELL_CHECK, "Is Paid", .maxchars = -1, .int_digits = -1};
	FiCellField rate = {FI_CELL_NUMBER, "Rate", .maxchars = -1, .int_digits = 12};
	FiCellField dur = {FI_CELL_DURATION, "Duration", .maxchars = -1, .int_digits = 6};
	FiCellField date = {FI_CELL_DATE, "Date", .maxchars = -1, .int_digits = -1};
	FiCellField dmy = {FI_CELL_DATETIME, "When", true, {1, 1}, .maxchars = -1, .int_digits = -1};
	FiCellField tim = {FI_CELL_TIME, "At", .maxchars = -1, .int_digits = -1};
	FiCellField status = {FI_CELL_TEXT, "Status", .options = opts, .noptions = nopts, .maxchars = 140, .int_digits = -1};
	FiCellField name = {FI_CELL_TEXT, "Name", .maxchars = 3, .int_digits = -1};
	FiCell		c;
	const char *v;
	char		fmt[128],
				fmt2[64];

	ok(fi_cell_kind("Long Int") == FI_CELL_INT && fi_cell_kind("Rating") == FI_CELL_NUMBER &&
	   fi_cell_kind("Link") == FI_CELL_TEXT && fi_cell_kind("Datetime") == FI_CELL_DATETIME,
	   "cells: the kind of a fieldtype");
	ok(nopts == 4 && strcmp(opts[0], "") == 0 && strcmp(opts[3], "Unpaid") == 0, "cells: a Select's options by line");
	cell_is(&qty, "1,234.9", "1234", "cells: Int truncates toward zero after flt drops the commas");
	cell_is(&qty, "3000000000", "! Qty is out of range (at most 2147483647)", "cells: Int beyond its column");
	cell_is(&qty, "x", "! Qty must be a whole number", "cells: Int of junk (Frappe would make it 0)");
	cell_is(&chk, "Yes", "1", "cells: Check Yes");
	cell_is(&chk, "7", "1", "cells: Check of another number is 1");
	cell_is(&chk, "maybe", "! Is Paid must be Yes, No, 1 or 0", "cells: Check of junk");
	cell_is(&rate, ".5", "0.5", "cells: Float as numeric reads it");
	cell_is(&rate, "1234567890123.5", "! Rate is too large for its column", "cells: beyond decimal(21,9)'s 12 digits");
	cell_is(&dur, "1d 2h", "93600", "cells: a Duration in seconds");
	cell_is(&dur, "12d", "! Duration is too large for its column", "cells: a Duration's seconds too large for its column");
	cell_is(&date, "2026-12-03", "2026-12-03 00:00:00.000000", "cells: a Date, %Y-%m-%d by default");
	cell_is(&date, "03-12-2026", "! Value 03-12-2026 must be in %Y-%m-%d format", "cells: another format, reported");
	snprintf(fmt, sizeof(fmt), "cells: a Datetime in the column's guessed format (%s)", fi_date_format_text(dmy.datefmt, fmt2));
	cell_is(&dmy, "03-12-2026 13:45:10", "2026-12-03 13:45:10.000000", fmt);
	cell_is(&tim, "1:05 PM", "1900-01-01 13:05:00.000000", "cells: a Time (on strptime's 1900-01-01)");
	cell_is(&status, "Paid", "Paid", "cells: a Select's option");
	cell_is(&status, "paid", "! Status must be one of Draft, Paid, Unpaid", "cells: another, with the choices named");
	cell_is(&name, "été", "été", "cells: 3 characters fit varchar(3) (5 bytes)");
	cell_is(&name, "abcd", "! Name will get truncated, as max characters allowed is 3", "cells: 4 do not");

	ok(fi_default_kind(&date, "Today", NULL, false, false, &v, &c, arena_alloc, NULL) == FI_DEFAULT_TODAY &&
	   fi_default_kind(&dmy, "now", NULL, false, false, &v, &c, arena_alloc, NULL) == FI_DEFAULT_NOW &&
	   fi_default_kind(&name, "Now", NULL, false, false, &v, &c, arena_alloc, NULL) == FI_DEFAULT_NONE &&
	   fi_default_kind(&name, "__user", NULL, false, false, &v, &c, arena_alloc, NULL) == FI_DEFAULT_USER &&
	   fi_default_kind(&name, ":Company", NULL, false, false, &v, &c, arena_alloc, NULL) == FI_DEFAULT_NONE,
	   "defaults: Today, now of a Datetime (not of Data), __user; none for a session's (:Company)");
	ok(fi_default_kind(&name, "{customer}", NULL, true, false, &v, &c, arena_alloc, NULL) == FI_DEFAULT_TITLE &&
	   fi_default_kind(&name, "{customer}", NULL, true, true, &v, &c, arena_alloc, NULL) == FI_DEFAULT_NONE,
	   "defaults: the title field's pattern, not in a child table (nor a 10-character literal in varchar(3))");
	ok(fi_default_kind(&qty, "5", NULL, false, false, &v, &c, arena_alloc, NULL) == FI_DEFAULT_VALUE && c.i == 5 &&
	   fi_default_kind(&qty, "five", NULL, false, false, &v, &c, arena_alloc, NULL) == FI_DEFAULT_NONE,
	   "defaults: a literal that is a value of the field, and not one that is not");
	status.options = opts + 1;
	status.noptions = nopts - 1;
	ok(fi_default_kind(&status, NULL, "Draft\nPaid", false, false, &v, &c, arena_alloc, NULL) == FI_DEFAULT_VALUE &&
	   strcmp(v, "Draft") == 0 &&
	   fi_default_kind(&status, NULL, "[Select]", false, false, &v, &c, arena_alloc, NULL) == FI_DEFAULT_NONE,
	   "defaults: a Select without one takes its first option (not of [Select])");
	status.options = opts;
	status.noptions = nopts;
	ok(fi_default_kind(&status, "", "\nDraft", false, false, &v, &c, arena_alloc, NULL) == FI_DEFAULT_NONE,
	   "defaults: nor when its first option is blank");

	is_str(fi_import_title("{customer} - {posting_date}{nope} {", title_value_of, NULL, arena_alloc, NULL),
		   "ACME - 2026-12-03 {", "title: the pattern with the document's values (none for a field without one)");
	ok(fi_cell_empty_is_missing(FI_CELL_DATE) && fi_cell_empty_is_missing(FI_CELL_TEXT) &&
	   !fi_cell_empty_is_missing(FI_CELL_NUMBER) && !fi_cell_empty_is_missing(FI_CELL_CHECK),
	   "mandatory: an empty text or date is missing, an empty number is 0");
	is_str(fi_import_msg_missing(true, "Sales Invoice Item", 2, "Item", arena_alloc, NULL),
		   "Error: <strong>Sales Invoice Item</strong> Row #2: Value missing for: Item", "messages: a child row's missing value");
	is_str(fi_import_msg_missing(false, "Sales Invoice", 0, "Customer", arena_alloc, NULL),
		   "Error: Value missing for Sales Invoice: Customer", "messages: a document's");
	is_str(fi_import_msg_not_unique("Email", "a@b", "User", false, arena_alloc, NULL), "Email a@b already exists in User",
		   "messages: a unique value taken");
}

static bool
in_table_of(void *arg, const FiDocMeta *meta, const char *fieldname)
{
	/* due_date is a Custom Field before bench migrate: no column yet */
	return strcmp(fieldname, "due_date") != 0;
}

static const FiExportHooks xhooks = {NULL, arena_alloc, meta_of, in_table_of};

/* a plan's tables and columns as text: "Sales Invoice:id,customer|items:amount" */
static void
xplan_is(const FiExportPlan *p, const char *want, const char *desc)
{
	char		got[512] = "";

	for (int t = 0; t < p->ntables; t++)
	{
		const FiExportTable *tb = &p->tables[t];

		strcat(got, t ? "|" : "");
		strcat(got, tb->tdf ? tb->tdf->fieldname : tb->meta->name);
		strcat(got, ":");
		strcat(got, tb->show_id ? "id" : "");
		for (int i = 1; i < tb->ncols; i++)
		{
			strcat(got, i > 1 || tb->show_id ? "," : "");
			strcat(got, tb->cols[i]->fieldname);
		}
	}
	is_str(got, want, desc);
}

static void
err_is(bool ok, const FiExportError *e, const char *want, const char *desc)
{
	char		got[512];

	snprintf(got, sizeof(got), "%s: %s%s%s", ok ? "OK" : e->sqlstate, ok ? "" : e->message,
			 !ok && e->hint ? " / " : "", !ok && e->hint ? e->hint : "");
	is_str(got, want, desc);
}

static void
test_export_plan(void)
{
	FiExportPlan p;
	FiExportError e;
	static const char *const f1[] = {"customer", "items.qty", "customer", "items.name", "grand_total"};
	static const char *const f2[] = {"remarks"};
	static const char *const f3[] = {"due_date"};
	static const char *const f4[] = {"taxes.rate"};
	static const char *const kids[] = {"items"};
	static const char *const one[] = {"A"};
	static const char *const csv[] = {"a, ,b ,,c"};
	static const char *const two[] = {"1", NULL};
	FiFilterValue v1 = {false, true, 1, one};
	FiFilterValue vcsv = {false, true, 1, csv};
	FiFilterValue vbad = {true, false, 2, two};
	FiFilterValue vset = {false, true, 1, (const char *const[]) {"set"}};
	char		got[256];

	fi_export_plan_init(&p, &inv, &xhooks);
	ok(fi_export_fields(&p, NULL, -1, &xhooks, &e), "export plan: every field");
	xplan_is(&p, "Sales Invoice:id,naming_series,customer,posting_date,grand_total",
			"export plan: every field with a column (no break, table, virtual one, nor a column not migrated yet)");
	fi_export_plan_init(&p, &inv, &xhooks);
	ok(fi_export_fields(&p, f1, 5, &xhooks, &e), "export plan: fields and child fields");
	xplan_is(&p, "Sales Invoice:customer,grand_total|items:id,qty", "export plan: the ID only when asked for; repeats once");
	ok(fi_export_children(&p, false, kids, 1, &xhooks, &e), "export plan: children");
	xplan_is(&p, "Sales Invoice:customer,grand_total|items:id,qty",
			"export plan: a child table already chosen keeps its fields");
	fi_export_plan_init(&p, &inv, &xhooks);
	ok(fi_export_children(&p, true, NULL, 0, &xhooks, &e), "export plan: children true");
	xplan_is(&p, "Sales Invoice:|items:id,item_code,qty,rate,amount", "export plan: every table, every field");
	err_is(fi_export_fields(&p, f2, 1, &xhooks, &e), &e,
		   "42703: Sales Invoice has no field \"remarks\" / A child table's field is written \"table_fieldname.fieldname\".",
		   "export plan: a virtual field is none");
	err_is(fi_export_fields(&p, f3, 1, &xhooks, &e), &e,
		   "42703: field \"due_date\" of Sales Invoice has no column in its table / The table is behind its DocType: run bench migrate.",
		   "export plan: a field without a column yet");
	err_is(fi_export_fields(&p, f4, 1, &xhooks, &e), &e, "42703: Sales Invoice has no table field \"taxes\"",
		   "export plan: an unknown table field");

	err_is(fi_export_filter(&p, "customer", "LIKE", &v1, &xhooks, &e), &e, "OK: ", "filters: an operator in any case");
	ok(p.filters[0].op == FI_FILTER_LIKE && p.filters[0].nvalues == 1, "filters: like, one value");
	ok(fi_export_filter(&p, "name", "not in", &vcsv, &xhooks, &e) && p.filters[1].nvalues == 4, "filters: a standard column, in with text");
	snprintf(got, sizeof(got), "%s|%s|%s|%s", p.filters[1].values[0], p.filters[1].values[1], p.filters[1].values[2],
			 p.filters[1].values[3]);
	is_str(got, "a||b|c", "filters: \"a, ,b ,,c\" as Frappe splits it (blanks trimmed, empty items none)");
	ok(fi_export_filter(&p, "modified", "is", &vset, &xhooks, &e) && p.filters[2].op == FI_FILTER_IS_SET, "filters: is set");
	err_is(fi_export_filter(&p, "posting_date", "between", &vbad, &xhooks, &e), &e,
		   "22023: the value of the filter on \"posting_date\" (between) must be a string or a number",
		   "filters: between's values are strings or numbers");
	err_is(fi_export_filter(&p, "posting_date", "=", &vbad, &xhooks, &e), &e,
		   "22023: the value of the filter on \"posting_date\" (=) must be a string or a number", "filters: = takes one value");
	err_is(fi_export_filter(&p, "posting_date", "~", &v1, &xhooks, &e), &e,
		   "22023: unknown filter operator \"~\" (on \"posting_date\") / Operators: =, !=, <, >, <=, >=, like, not like, in, not in, between, is.",
		   "filters: an unknown operator");
	err_is(fi_export_filter(&p, "qty", "=", &v1, &xhooks, &e), &e,
		   "42703: Sales Invoice has no field \"qty\" / Filters and order_by name fields of the DocType exported (a child table's fields cannot be used).",
		   "filters: a child table's field");
	ok(p.nfilters == 3, "filters: the refused ones are not kept");
	err_is(fi_export_filter_doctype(&p, "Item", &e), &e,
		   "42703: a filter names a field of Item, not of Sales Invoice / Filters apply to the DocType exported.",
		   "filters: another DocType's");

	ok(fi_export_order_by(&p, NULL, &xhooks, &e) && p.norder == 2 && strcmp(p.order[0].field, "creation") == 0 &&
	   p.order[0].desc && p.order[1].desc, "order: newest first by default");
	fi_export_plan_init(&p, &inv, &xhooks);
	ok(fi_export_order_by(&p, "posting_date DESC,, customer", &xhooks, &e) && p.norder == 3 && p.order[0].desc &&
	   strcmp(p.order[1].field, "customer") == 0 && !p.order[1].desc && strcmp(p.order[2].field, "name") == 0,
	   "order: terms with asc/desc in any case, empty ones skipped, name last for a total order");
	fi_export_plan_init(&p, &inv, &xhooks);
	err_is(fi_export_order_by(&p, "customer desc nulls", &xhooks, &e), &e,
		   "22023: order_by must be fields each with an optional asc or desc", "order: three words");
	is_str(e.detail, "\"customer desc nulls\" is not.", "order: the detail quotes it");
	fi_export_plan_init(&p, &inv, &xhooks);
	err_is(fi_export_order_by(&p, " , ", &xhooks, &e), &e,
		   "22023: order_by must be fields each with an optional asc or desc", "order: a blank term");
	fi_export_plan_init(&p, &inv, &xhooks);
	err_is(fi_export_order_by(&p, ",,", &xhooks, &e), &e,
		   "22023: option \"order_by\" must be a string such as \"modified desc\"", "order: no term");
}

/* ---- outbound HTTP: which requests may go, what a log row shows ---- */

static void
test_http(void)
{
	FiHttpError e;
	char		host[64];
	void	   *list = NULL;
	struct curl_slist *l;
	FiJBuf		b = {0};
	static const char raw[] =
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		"Set-Cookie: a=1\r\nX-Empty:\r\nset-cookie:  b=2 \r\nX-Caf: caf\xe9\r\n\r\n";

	ok(fi_http_global_init() && fi_http_global_init(), "http: libcurl set up once, twice harmless");
	ok(fi_http_method_known("GET") && fi_http_method_known("OPTIONS") && !fi_http_method_known("get")
	   && !fi_http_method_known("TRACE") && !fi_http_method_known("GETX"), "http: the methods, exactly");
	ok(fi_http_token("X-Api-Key", 9) && !fi_http_token("X Api", 5) && !fi_http_token("", 0)
	   && !fi_http_token("A:b", 3), "http: a header name is a token");
	ok(fi_http_secret_name("Authorization", 13) && fi_http_secret_name("x-api-KEY", 9)
	   && fi_http_secret_name("X-Frappe-Webhook-Signature", 26) && fi_http_secret_name("access_token", 12)
	   && !fi_http_secret_name("Content-Type", 12) && !fi_http_secret_name("Accept", 6),
	   "http: names of credentials, in any case");

	ok(fi_http_check_request("POST", "http://u:pw@127.0.0.1:8000/x?token=s", 5000, host, sizeof(host), &e),
	   "http: a request that may go");
	is_str(host, "127.0.0.1", "http: the host for messages, without user, password or query");
	ok(!fi_http_check_request("POST", "ftp://127.0.0.1/x", 5000, host, sizeof(host), &e)
	   && strcmp(e.sqlstate, "22023") == 0, "http: ftp refused (22023)");
	ok(!fi_http_check_request("POST", "file:///etc/passwd", 5000, host, sizeof(host), &e), "http: file refused");
	ok(!fi_http_check_request("POST", "not a url", 5000, host, sizeof(host), &e), "http: a malformed URL refused");
	ok(!fi_http_check_request("TRACE", "http://h/", 5000, host, sizeof(host), &e)
	   && strstr(e.message, "TRACE") != NULL, "http: an unknown method refused, named");
	ok(!fi_http_check_request("GET", "http://h/", 0, host, sizeof(host), &e)
	   && !fi_http_check_request("GET", "http://h/", 600001, host, sizeof(host), &e)
	   && fi_http_check_request("GET", "http://h/", 600000, host, sizeof(host), &e)
	   && fi_http_check_request("GET", "http://h/", 1, host, sizeof(host), &e), "http: timeouts from 1 ms to 10 min");

	ok(fi_http_add_header(&list, "X-A", 3, "1", 1, &e) && fi_http_add_header(&list, "X-E", 3, "", 0, &e),
	   "http: headers added");
	ok(!fi_http_add_header(&list, "X A", 3, "1", 1, &e) && strcmp(e.sqlstate, "22023") == 0,
	   "http: a name that is no token refused");
	ok(!fi_http_add_header(&list, "X-B", 3, "1\r\nX-Evil: 1", 13, &e), "http: a value with CR LF refused");
	ok(!fi_http_add_header(&list, "X-B", 3, "a\0b", 3, &e), "http: a value with NUL refused");
	l = list;
	ok(l != NULL && strcmp(l->data, "X-A: 1") == 0 && l->next != NULL && strcmp(l->next->data, "X-E;") == 0
	   && l->next->next == NULL, "http: the list holds the two good ones, an empty value as libcurl sends it");
	fi_http_free_headers(list);
	{
		const char *js = "{\"Authorization\": \"token a:b\", \"X-A\": \"1\"}";
		FiJBuf		lg = {0};
		bool		first = true;
		struct curl_slist *jl;

		list = NULL;
		ok(fi_http_headers_from_json(js, strlen(js), &list, &lg, &first, &e) && fi_http_log_headers_end(&lg, first),
		   "http: headers from a JSON object");
		jl = list;
		ok(jl && strcmp(jl->data, "X-A: 1") == 0 && jl->next && strcmp(jl->next->data, "Authorization: token a:b") == 0,
		   "http: headers from JSON: in jsonb's order (shorter keys first), values as given");
		ok(lg.data && strstr(lg.data, "token a:b") == NULL && strstr(lg.data, "***") != NULL, "http: headers from JSON: the log masks credentials");
		fi_http_free_headers(list);
		fi_jbuf_free(&lg);
		list = NULL;
		ok(!fi_http_headers_from_json("[1]", 3, &list, NULL, NULL, &e) && strcmp(e.sqlstate, "22023") == 0 &&
		   strcmp(e.message, "headers must be a JSON object of strings") == 0 && list == NULL, "http: headers from JSON: not an object");
		ok(!fi_http_headers_from_json("{\"a\": 1}", 8, &list, NULL, NULL, &e) && strstr(e.message, "must be a string") != NULL,
		   "http: headers from JSON: a value not a string");
		ok(!fi_http_headers_from_json("{\"a\": ", 6, &list, NULL, NULL, &e) && strcmp(e.sqlstate, "22P02") == 0,
		   "http: headers from JSON: invalid JSON");
		ok(fi_http_headers_from_json(NULL, 0, &list, NULL, NULL, &e) && list == NULL, "http: headers from JSON: none");
	}
	{
		FiJBuf		h = {0};

		fi_http_keep_header_line(&h, "HTTP/1.1 302 Found\r\n", 20);
		fi_http_keep_header_line(&h, "Location: /x\r\n", 14);
		fi_http_keep_header_line(&h, "HTTP/1.1 200 OK\r\n", 17);
		fi_http_keep_header_line(&h, "A: b\r\n", 6);
		is_str(h.data, "HTTP/1.1 200 OK\r\nA: b\r\n", "http: only the last response's header lines are kept");
		fi_jbuf_free(&h);
	}

	is_str(fi_http_log_url("https://u:p@h.example/p?a=1&api_key=zz&Token=q&k", arena_alloc, NULL),
		   "https://h.example/p?a=1&api_key=********&Token=********&k",
		   "http: the logged URL has no user, password nor credential values");
	is_str(fi_http_log_url("http://h.example/", arena_alloc, NULL), "http://h.example/", "http: a plain URL logged as it is");

	ok(fi_http_headers_json(raw, sizeof(raw) - 1, &b), "http: answer headers read");
	fi_jbuf_put(&b, "", 1);
	is_str(b.data, "{\"content-type\":\"text/plain\",\"set-cookie\":\"a=1, b=2\",\"x-empty\":\"\",\"x-caf\":\"caf\xc3\xa9\"}",
		   "http: lower-case names in first-seen order, a repeated one joined, cp1252 read");
	fi_jbuf_free(&b);
	{
		FiJBuf		lh = {0},
					lt = {0};
		bool		first = true;

		fi_http_log_headers_end(&lh, first);
		fi_jbuf_put(&lh, "", 1);
		is_str(lh.data, "{}", "http: no headers logged as {}");
		fi_jbuf_free(&lh);
		fi_http_log_header(&lh, &first, "Accept", 6, "text/plain", 10);
		fi_http_log_header(&lh, &first, "X-Api-Key", 9, "k", 1);
		fi_http_log_header(&lh, &first, "Authorization", 13, "Bearer s", 8);
		fi_http_log_headers_end(&lh, first);
		fi_jbuf_put(&lh, "", 1);
		is_str(lh.data, "{\n \"Accept\": \"text/plain\",\n \"X-Api-Key\": \"***\",\n \"Authorization\": \"***\"\n}",
			   "http: logged headers as PostgreSQL writes them, credentials masked");
		fi_jbuf_free(&lh);
		fi_http_log_text("caf\xc3\xa9", 5, &lt);
		fi_http_log_text("a\0b", 3, &lt);
		fi_http_log_text("\xff", 1, &lt);
		fi_jbuf_put(&lt, "", 1);
		is_str(lt.data, "caf\xc3\xa9(3 bytes, not UTF-8 text)(1 bytes, not UTF-8 text)", "http: log text, or a note for bytes");
		fi_jbuf_free(&lt);
	}
	{
		FiJBuf		r = {0};
		FiHttpError me;
		bool		none;

		ok(fi_http_parse_qs("a=1&a=2&b=x+y&c=&d=%C3%A9&e&=z&a=3", 34, &r), "http: parse_qs");
		fi_jbuf_put(&r, "", 1);
		is_str(r.data, "{\"a\":[\"1\",\"2\",\"3\"],\"b\":[\"x y\"],\"d\":[\"\xc3\xa9\"],\"\":[\"z\"]}",
			   "http: parse_qs as Python's: blank values and bare names dropped, repeats in order");
		fi_jbuf_free(&r);
		ok(!fi_http_make_result("GET", "h.example", 404, "application/json", "{}", 2, &r, &none, &me)
		   && strcmp(me.sqlstate, "08006") == 0 && strcmp(me.message, "HTTP 404 Client Error") == 0
		   && strcmp(me.detail, "GET to h.example answered 404.") == 0, "make_request: 404 raises as raise_for_status");
		ok(!fi_http_make_result("GET", "h", 503, NULL, "", 0, &r, &none, &me) && strcmp(me.message, "HTTP 503 Server Error") == 0,
		   "make_request: 503 is a Server Error");
		ok(fi_http_make_result("GET", "h", 200, "application/vnd.api+json; charset=utf-8", "[1]", 3, &r, &none, &me) && !none
		   && r.len == 3 && memcmp(r.data, "[1]", 3) == 0, "make_request: application/...json is the body");
		fi_jbuf_free(&r);
		ok(fi_http_make_result("GET", "h", 200, "text/plain; charset=utf-8", "a=1", 3, &r, &none, &me) && !none
		   && r.len == 11 && memcmp(r.data, "{\"a\":[\"1\"]}", 11) == 0, "make_request: text/plain; charset=utf-8 is parse_qs");
		fi_jbuf_free(&r);
		ok(fi_http_make_result("GET", "h", 200, "text/html", "h\"i", 3, &r, &none, &me) && !none
		   && r.len == 6 && memcmp(r.data, "\"h\\\"i\"", 6) == 0, "make_request: other text is a JSON string");
		fi_jbuf_free(&r);
		ok(fi_http_make_result("GET", "h", 200, NULL, "x", 1, &r, &none, &me) && none
		   && fi_http_make_result("GET", "h", 204, "text/html", "", 0, &r, &none, &me) && none,
		   "make_request: no content type, or no body: NULL");
		ok(!fi_http_make_result("GET", "h", 200, "text/html", "\xff", 1, &r, &none, &me) && strcmp(me.sqlstate, "22021") == 0,
		   "make_request: a body that is not UTF-8: 22021");
	}
	ok(fi_http_curl_error_text(CURLE_UNSUPPORTED_PROTOCOL, "") != NULL
	   && fi_http_curl_error_text(CURLE_COULDNT_CONNECT, "") == NULL, "http: a DBA's words where libcurl's mislead");
}

/* Frappe's Data Import Log texts (importer.py v15) and the import's status */
static void
test_import_log(void)
{
	long		rows[] = {2, 3, 4};
	FiImportLogMsg msgs[] = {{"Value missing for Item: Item Name", true}, {"Item Group \"Nope\" \u00e9", false}};
	FiImportLog l;

	ok(fi_import_log(rows, 3, true, NULL, 0, arena_alloc, NULL, &l), "import log: a success");
	is_str(l.row_indexes, "[2, 3, 4]", "import log: row_indexes, the document's rows as a JSON list");
	is_str(l.messages, "\"[]\"", "import log: a success's messages are json.dumps(\"[]\"), as Frappe writes them");
	ok(l.exception == NULL, "import log: a success has no exception");
	ok(fi_import_log(rows, 1, false, msgs, 2, arena_alloc, NULL, &l), "import log: a failure");
	is_str(l.row_indexes, "[2]", "import log: one row");
	is_str(l.messages, "[{\"message\": \"Value missing for Item: Item Name\", \"title\": \"Message\"}, "
		   "{\"message\": \"Item Group \\\"Nope\\\" \u00e9\", \"title\": \"Message\", \"indicator\": \"red\", \"raise_exception\": 1}]",
		   "import log: msgprint'ed and thrown messages, as frappe.local.message_log holds them (escaped as JSON)");
	is_str(l.exception, "frappe.exceptions.ValidationError: Value missing for Item: Item Name",
		   "import log: the exception is the first message's ValidationError");
	is_str(fi_import_status(3, 0, false), "Success", "import status: nothing failed");
	is_str(fi_import_status(3, 1, false), "Partial Success", "import status: some of each");
	is_str(fi_import_status(0, 2, false), "Error", "import status: all failed");
	is_str(fi_import_status(3, 1, true), "Error", "import status: rolled back (atomic)");
}

/* Update Existing Records: value comparison and what a document changes */
static void
test_import_update(void)
{
	FiUpdField	pf[] = {{FI_CELL_TEXT, false, "Customer"}, {FI_CELL_NUMBER, true, "Discount"}};
	FiUpdField	cf[] = {{FI_CELL_NUMBER, false, "Rate"}};
	FiUpdTable	tables[] = {{2, pf, NULL, false}, {1, cf, "Items", false}};
	const char *stored[] = {"C1", "1.500000000"};
	const char *r1v[] = {"1.000000000"},
			   *r2v[] = {"2.500000000"};
	FiUpdRow	srows[] = {{"row1", r1v}, {"row2", r2v}};
	const FiUpdRow *stored_rows[] = {NULL, srows};
	int			nstored[] = {0, 2};
	const char *same[] = {"C1", "1.5"},
			   *cust[] = {"C2", NULL},
			   *disc[] = {NULL, "3"};
	const char *c1[] = {"1"},
			   *c2[] = {"2.5"},
			   *c9[] = {"9"};
	FiUpdChild	kids[2];
	bool		replace[2];
	FiUpdDoc	d;
	int			at;
	char	   *msg;

	ok(fi_import_same_value(FI_CELL_NUMBER, "1.500000000", "1.5") && !fi_import_same_value(FI_CELL_NUMBER, "1.5", "1.50001") &&
	   fi_import_same_value(FI_CELL_CHECK, "1", "1") && !fi_import_same_value(FI_CELL_TEXT, "abc", "ABC") &&
	   fi_import_same_value(FI_CELL_DATETIME, "2024-06-05 10:00:00", "2024-06-05 10:00:00.000000") &&
	   !fi_import_same_value(FI_CELL_DATETIME, "2024-06-05 10:00:00", "2024-06-05 10:00:00.000100") &&
	   fi_import_same_value(FI_CELL_TEXT, NULL, NULL) && !fi_import_same_value(FI_CELL_TEXT, NULL, ""),
	   "update: values compare as values (a decimal column's 1.500000000 is 1.5; .000000 is no microsecond; text exactly)");
#define DOC(ds, v, n) do { memset(&d, 0, sizeof(d)); d.docstatus = (ds); d.stored = stored; d.vals = (v); \
		d.children = kids; d.nchildren = (n); d.stored_rows = stored_rows; d.nstored = nstored; d.replace = replace; } while (0)
	DOC(0, same, 0);
	fi_import_update_match(&d);
	ok(fi_import_update_decide(tables, 2, &d, &at, &msg, arena_alloc, NULL) == FI_UPD_OK && d.skipped && !replace[1],
	   "update: the same values and no child rows: skipped, the rows stay");
	kids[0] = (FiUpdChild) {1, "row1", c1, false, 0};
	kids[1] = (FiUpdChild) {1, "row2", c2, false, 0};
	DOC(0, same, 2);
	fi_import_update_match(&d);
	ok(kids[0].stored && kids[1].at == 1 && fi_import_update_decide(tables, 2, &d, &at, &msg, arena_alloc, NULL) == FI_UPD_OK &&
	   d.skipped, "update: the stored child rows given again as they are: skipped (the export's round trip)");
	kids[0] = (FiUpdChild) {1, "row2", c2, false, 0};
	DOC(0, same, 1);
	fi_import_update_match(&d);
	ok(fi_import_update_decide(tables, 2, &d, &at, &msg, arena_alloc, NULL) == FI_UPD_OK && !d.skipped && replace[1],
	   "update: a stored row left out (and the other moved up): the table is replaced");
	kids[0] = (FiUpdChild) {1, NULL, c9, false, 0};
	DOC(0, same, 1);
	kids[1] = kids[0];
	fi_import_update_match(&d);
	ok(!kids[0].stored && kids[0].at == -1 && fi_import_update_decide(tables, 2, &d, &at, &msg, arena_alloc, NULL) == FI_UPD_OK &&
	   replace[1], "update: a row without an ID is new: the table is replaced");
	DOC(2, same, 0);
	ok(fi_import_update_decide(tables, 2, &d, &at, &msg, arena_alloc, NULL) == FI_UPD_CANCELLED &&
	   strcmp(msg, "Cannot edit cancelled document") == 0, "update: a cancelled document refuses any change, in Frappe's words");
	DOC(1, cust, 0);
	ok(fi_import_update_decide(tables, 2, &d, &at, &msg, arena_alloc, NULL) == FI_UPD_AFTER_SUBMIT_FIELD && at == 0 &&
	   strstr(msg, "Customer") != NULL, "update: a submitted document refuses a field without allow_on_submit");
	DOC(1, disc, 0);
	ok(fi_import_update_decide(tables, 2, &d, &at, &msg, arena_alloc, NULL) == FI_UPD_OK && !d.skipped,
	   "update: ... and takes one with it");
	kids[0] = (FiUpdChild) {1, "row1", c9, false, 0};
	DOC(1, same, 1);
	fi_import_update_match(&d);
	ok(fi_import_update_decide(tables, 2, &d, &at, &msg, arena_alloc, NULL) == FI_UPD_AFTER_SUBMIT_TABLE && at == 1 &&
	   strstr(msg, "Items") != NULL, "update: ... and a changed child table whose Table field lacks it");
#undef DOC
}

/* the payment gateways' rules: the controllers' checks and messages, amounts, events, the order of statuses */
static void
test_payments(void)
{
	int64_t		u = 0;
	FiPayGateway g;

	ok(fi_pay_gateway("Stripe", &g) && g == FI_PAY_STRIPE && fi_pay_gateway("RAZORPAY", &g) && g == FI_PAY_RAZORPAY &&
	   !fi_pay_gateway("PayPal", &g) && !fi_pay_gateway(NULL, &g), "payments: the gateways by name, any case");
	ok(fi_pay_check(FI_PAY_STRIPE, "USD", "0.5", arena_alloc, NULL) == NULL &&
	   fi_pay_check(FI_PAY_STRIPE, "INR", "0.01", arena_alloc, NULL) == NULL, "payments: USD at its minimum, INR (no minimum) at a paisa");
	is_str(fi_pay_check(FI_PAY_STRIPE, "USD", "0.499", arena_alloc, NULL),
		   "For currency USD, the minimum transaction amount should be 0.5", "payments: Stripe's minimum, Frappe's message (Python's float text)");
	is_str(fi_pay_check(FI_PAY_STRIPE, "HKD", "3.99", arena_alloc, NULL),
		   "For currency HKD, the minimum transaction amount should be 4.0", "payments: HKD's minimum printed as Python prints 4.00");
	is_str(fi_pay_check(FI_PAY_STRIPE, "JPY", "49", arena_alloc, NULL),
		   "For currency JPY, the minimum transaction amount should be 50", "payments: JPY's minimum, an int");
	is_str(fi_pay_check(FI_PAY_STRIPE, "usd", "10", arena_alloc, NULL),
		   "Please select another payment method. Stripe does not support transactions in currency 'usd'",
		   "payments: a currency not in the list (the list is upper case, as Frappe stores currencies)");
	is_str(fi_pay_check(FI_PAY_RAZORPAY, "USD", "10", arena_alloc, NULL),
		   "Please select another payment method. Razorpay does not support transactions in currency 'USD'", "payments: Razorpay takes INR only");
	ok(fi_pay_check(FI_PAY_RAZORPAY, "INR", "-1", arena_alloc, NULL) != NULL && fi_pay_check(FI_PAY_RAZORPAY, "INR", "0", arena_alloc, NULL) != NULL &&
	   fi_pay_check(FI_PAY_RAZORPAY, "INR", "1e3", arena_alloc, NULL) != NULL && fi_pay_check(FI_PAY_RAZORPAY, "INR", "", arena_alloc, NULL) != NULL,
	   "payments: negative, zero, exponent and empty amounts refused");
	ok(fi_pay_minor_units(FI_PAY_STRIPE, "USD", "12.345", &u) && u == 1235 && fi_pay_minor_units(FI_PAY_STRIPE, "USD", "12.344", &u) && u == 1234 &&
	   fi_pay_minor_units(FI_PAY_STRIPE, "USD", "7", &u) && u == 700 && fi_pay_minor_units(FI_PAY_STRIPE, "USD", ".5", &u) && u == 50,
	   "payments: cents, rounded half up at the unit");
	ok(fi_pay_minor_units(FI_PAY_STRIPE, "JPY", "50", &u) && u == 50 && fi_pay_minor_units(FI_PAY_STRIPE, "JPY", "50.5", &u) && u == 51 &&
	   fi_pay_minor_units(FI_PAY_RAZORPAY, "INR", "500", &u) && u == 50000, "payments: zero-decimal JPY as it is; INR in paise");
	ok(!fi_pay_minor_units(FI_PAY_STRIPE, "USD", "99999999999999999999", &u) && !fi_pay_minor_units(FI_PAY_STRIPE, "USD", "0.001", &u) &&
	   !fi_pay_minor_units(FI_PAY_STRIPE, "USD", "1.2.3", &u), "payments: too large, rounding to nothing, not a number: refused");
	ok(strcmp(fi_pay_event_status(FI_PAY_STRIPE, "checkout.session.completed", "paid"), "Completed") == 0 &&
	   fi_pay_event_status(FI_PAY_STRIPE, "checkout.session.completed", "unpaid") == NULL &&
	   strcmp(fi_pay_event_status(FI_PAY_STRIPE, "checkout.session.async_payment_failed", NULL), "Failed") == 0 &&
	   strcmp(fi_pay_event_status(FI_PAY_STRIPE, "checkout.session.expired", NULL), "Cancelled") == 0 &&
	   fi_pay_event_status(FI_PAY_STRIPE, "charge.refunded", NULL) == NULL, "payments: Stripe's Checkout events");
	ok(strcmp(fi_pay_event_status(FI_PAY_RAZORPAY, "payment.authorized", NULL), "Authorized") == 0 &&
	   strcmp(fi_pay_event_status(FI_PAY_RAZORPAY, "order.paid", NULL), "Completed") == 0 &&
	   strcmp(fi_pay_event_status(FI_PAY_RAZORPAY, "payment.failed", NULL), "Failed") == 0 &&
	   fi_pay_event_status(FI_PAY_RAZORPAY, "refund.created", NULL) == NULL, "payments: Razorpay's events");
	ok(fi_pay_status_moves("Queued", "Completed") && fi_pay_status_moves(NULL, "Authorized") && fi_pay_status_moves("Authorized", "Completed") &&
	   !fi_pay_status_moves("Completed", "Cancelled") && !fi_pay_status_moves("Failed", "Completed") && !fi_pay_status_moves("Authorized", "Queued") &&
	   !fi_pay_status_moves("Queued", "Queued"), "payments: statuses move forward only; Completed, Failed, Cancelled are final");
	ok(fi_pay_retry_safe(FI_PAY_STRIPE) && !fi_pay_retry_safe(FI_PAY_RAZORPAY),
	   "payments: a call is sent again only to Stripe (its Idempotency-Key); Razorpay takes no key");
	ok(fi_pay_retry_verdict(FI_PAY_STRIPE, 500, "Content-Type: application/json\r\nstripe-should-retry:  false \r\n") == FI_PAY_RETRY_NO &&
	   fi_pay_retry_verdict(FI_PAY_STRIPE, 400, "Stripe-Should-Retry: true\r\n") == FI_PAY_RETRY_YES &&
	   fi_pay_retry_verdict(FI_PAY_STRIPE, 409, "Content-Type: application/json\r\n") == FI_PAY_RETRY_YES &&
	   fi_pay_retry_verdict(FI_PAY_STRIPE, 503, NULL) == FI_PAY_RETRY_POLICY &&
	   fi_pay_retry_verdict(FI_PAY_STRIPE, 503, "X-Stripe-Should-Retry: false\r\nStripe-Should-Retry-Later: false\r\n") == FI_PAY_RETRY_POLICY &&
	   fi_pay_retry_verdict(FI_PAY_STRIPE, 0, "Stripe-Should-Retry: false\r\n") == FI_PAY_RETRY_POLICY &&
	   fi_pay_retry_verdict(FI_PAY_RAZORPAY, 409, "Stripe-Should-Retry: true\r\n") == FI_PAY_RETRY_POLICY,
	   "payments: Stripe-Should-Retry decides (name in any case, value trimmed), 409 is retried, other headers and Razorpay leave it to the policy");
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "weeks") == 0)
	{
		for (int y = atoi(argv[2]); y <= atoi(argv[3]); y++)
			for (int m = 1; m <= 12; m++)
				for (int dd = 1; dd <= 31; dd++)
				{
					static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
					bool		leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

					if (dd > mdays[m - 1] + (m == 2 && leap))
						break;
					printf("%d-%d-%d %02d\n", y, m, dd, fi_name_week(y, m, dd));
				}
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "oauth") == 0)
	{
		/* per two lines (a value, its S256 challenge): its half hash, it as a redirect's state, PKCE's verdict */
		char		line[512],
					challenge[128],
					half[23];
		static const char *const k[] = {"state"};

		while (fgets(line, sizeof(line), stdin) && fgets(challenge, sizeof(challenge), stdin))
		{
			const char *v[1] = {line};
			FiOAuthCode c = {"u", challenge, "S256"};

			line[strcspn(line, "\n")] = '\0';
			challenge[strcspn(challenge, "\n")] = '\0';
			fi_oauth_half_hash(line, strlen(line), half);
			printf("%s %s %d\n", half, fi_oauth_redirect("u", true, k, v, 1, arena_alloc, NULL) + 2,
				   fi_oauth_code_exchange_ok(&c, "u", line, NULL, true));
		}
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "qs") == 0)
	{
		static char line[1 << 16],
					raw[1 << 15];

		while (fgets(line, sizeof(line), stdin))
		{
			size_t		n = 0;
			FiJBuf		b = {0};

			for (char *p = line; p[0] && p[1] && p[0] != '\n'; p += 2)
				raw[n++] = (char) (fi_hex_value(p[0]) << 4 | fi_hex_value(p[1]));
			if (!fi_http_parse_qs(raw, n, &b))
				return 1;
			fwrite(b.data, 1, b.len, stdout);
			putchar('\n');
			fi_jbuf_free(&b);
		}
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "numbers") == 0)
	{
		char		line[256],
					out[FI_EXPORT_NUMBER_MAX(256)];

		while (fgets(line, sizeof(line), stdin))
		{
			size_t		n = strcspn(line, "\n");

			n = fi_export_number(line, n, out);
			fwrite(out, 1, n, stdout);
			putchar('\n');
		}
		return 0;
	}
	test_doctype();
	test_importmap();
	test_template();
	test_grouping();
	test_naming();
	test_name_batch();
	test_field_rules();
	test_events();
	test_fold();
	test_export();
	test_export_titles();
	test_oauth();
	test_auth_header();
	test_cells();
	test_export_plan();
	test_http();
	test_import_log();
	test_import_update();
	test_payments();
	printf("1..%d\n", n_test);
	return n_fail == 0 ? 0 : 1;
}
