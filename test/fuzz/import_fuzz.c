/*
 * import_fuzz.c
 *		libFuzzer target for the import engines: the CSV reader (records
 *		must account for the input: no field longer than what was read),
 *		Python's strip, UTF-8 validation and the windows-1252 fallback, and
 *		the value rules (a guessed date format must parse the value it was
 *		guessed from); the header rules (the first record's titles mapped
 *		onto a Sales Invoice-shaped DocType) and the naming rules (each field
 *		as a series and as a format: pattern) on the same fields, each also
 *		read as a cell of every kind of field (importcell.c), as an export's
 *		order_by and as an "in" filter's text (exportplan.c).
 *
 *		make fuzz-import   (clang with -fsanitize=fuzzer,address,undefined)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/csv.h"
#include "engine/exportplan.h"
#include "engine/importcell.h"
#include "engine/importval.h"
#include "engine/importmap.h"
#include "engine/naming.h"

/* an arena for the hooks: every block freed after each input */
typedef struct Block
{
	struct Block *next;
} Block;

static Block *arena;

static void *
arena_alloc(void *arg, size_t size)
{
	Block	   *b = calloc(1, sizeof(Block) + size + 1);

	(void) arg;
	if (b == NULL)
		abort();
	b->next = arena;
	arena = b;
	return b + 1;
}

static void
arena_free(void)
{
	while (arena)
	{
		Block	   *n = arena->next;

		free(arena);
		arena = n;
	}
}

static FiDocField inv_fields[] = {
	{.fieldname = "naming_series", .label = "Series", .fieldtype = "Select"},
	{.fieldname = "customer", .label = "Customer", .fieldtype = "Link"},
	{.fieldname = "posting_date", .label = "Date", .fieldtype = "Date"},
	{.fieldname = "items", .label = "Items", .fieldtype = "Table", .options = "Sales Invoice Item"},
};
static FiDocField item_fields[] = {
	{.fieldname = "item_code", .label = "Item", .fieldtype = "Link"},
	{.fieldname = "qty", .label = "Quantity", .fieldtype = "Float"},
};
static FiDocMeta inv = {.name = "Sales Invoice", .autoname = "field:customer", .nfields = 4, .fields = inv_fields};
static FiDocMeta item = {.name = "Sales Invoice Item", .istable = true, .nfields = 2, .fields = item_fields};

static bool
fuzz_in_table(void *arg, const FiDocMeta *meta, const char *fieldname)
{
	(void) arg;
	(void) meta;
	(void) fieldname;
	return true;
}

static const FiDocMeta *
meta_of(void *arg, const char *doctype)
{
	(void) arg;
	return strcmp(doctype, item.name) == 0 ? &item : strcmp(doctype, inv.name) == 0 ? &inv : NULL;
}

static const char *
doc_value(void *arg, const char *fieldname, bool *present)
{
	(void) arg;
	*present = strcmp(fieldname, "customer") == 0;
	return *present ? "ACME" : "";
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *) data;
	FiCsvReader r;
	size_t		bad,
				total = 0;
	char	   *buf;
	int			rc;

	FiImportHooks hooks = {NULL, meta_of, arena_alloc};
	FiNameHooks nhooks = {NULL, arena_alloc, doc_value};
	FiDateTime	now = {2026, 12, 31, 23, 59, 59, 1};
	FiImpHeader h;
	bool		header = true;

	fi_csv_init(&r, in, size);
	while ((rc = fi_csv_next(&r)) == 1)
	{
		fi_import_header_init(&h, &inv, &hooks);
		for (int i = 0; i < r.nfields; i++)
		{
			const char *cell = r.buf + r.off[i];
			FiNamePlan	p = {0};

			if (header)
			{
				FiImpColumn col;

				fi_import_header_column(&h, i, cell, NULL, &col);
				if ((col.warning == NULL) != (col.table >= 0) ||
					(col.kind == FI_IMPCOL_FIELD && col.field == NULL))
					abort();
			}
			fi_name_plan_series(&p, cell, &now, &nhooks);
			if (p.key && (p.at > p.len || strlen(fi_name_compose(&p, 42, &nhooks)) < p.len))
				abort();
			memset(&p, 0, sizeof(p));
			fi_name_plan_format(&p, cell, &now, &nhooks);
			(void) fi_name_problem(p.text, inv.name, true, &nhooks);
		}
		header = false;
		arena_free();
		for (int i = 0; i < r.nfields; i++)
		{
			size_t		b,
						l = fi_py_strip(r.buf + r.off[i], r.len[i], &b);
			FiDateFormat f;
			FiDateTime	dt;
			int64_t		v;
			char	   *num;

			total += r.len[i];
			if (b + l > r.len[i] || r.buf[r.off[i] + r.len[i]] != '\0')
				abort();
			if (fi_guess_date_format(r.buf + r.off[i] + b, l, &f) &&
				!fi_strptime(r.buf + r.off[i] + b, l, f, &dt))
				abort();
			num = malloc(l + 2);
			fi_parse_number(r.buf + r.off[i] + b, l, num);
			free(num);
			fi_parse_int(r.buf + r.off[i] + b, l, &v);
			fi_parse_check(r.buf + r.off[i] + b, l, &v);
			fi_parse_duration(r.buf + r.off[i] + b, l, &v);
			fi_parse_time(r.buf + r.off[i] + b, l, &dt);
			/* the cell as an export's order_by, and as the text of an "in" filter */
			{
				FiExportHooks xh = {NULL, arena_alloc, meta_of, fuzz_in_table};
				FiExportPlan plan;
				FiExportError xe;
				char	   *cell = arena_alloc(NULL, l + 1);
				const char *texts[1] = {cell};
				FiFilterValue fv = {false, true, 1, texts};

				memcpy(cell, r.buf + r.off[i] + b, l);
				fi_export_plan_init(&plan, &inv, &xh);
				if (fi_export_order_by(&plan, cell, &xh, &xe))
				{
					/* a total order: name is among the terms */
					bool		has_name = false;

					for (int o = 0; o < plan.norder; o++)
						has_name |= strcmp(plan.order[o].field, "name") == 0;
					if (!has_name)
						abort();
				}
				if (fi_export_filter(&plan, "name", "in", &fv, &xh, &xe) &&
					(plan.filters[0].nvalues > (int) l + 1))
					abort();
			}
			/* the cell as a value of each kind of field (a Select of the record's first field) */
			for (int k = FI_CELL_TEXT; k <= FI_CELL_TIME; k++)
			{
				const char *opt[2] = {r.buf + r.off[0], ""};
				FiCellField cf = {(FiCellKind) k, "F", false, {0, -1}, k == FI_CELL_TEXT && i % 2 ? opt : NULL, 2,
				i % 3 == 0 ? 3 : -1, i % 2 ? 32767 : 0, i % 2 ? 12 : -1};
				FiCell		c;
				const char *why = fi_cell_value(&cf, r.buf + r.off[i] + b, l, &c, arena_alloc, NULL);

				if (why == NULL && (k == FI_CELL_CHECK ? c.i != 0 && c.i != 1 :
									k == FI_CELL_INT && cf.int_max ? c.i > cf.int_max || c.i < -cf.int_max - 1 :
									(k == FI_CELL_NUMBER || k == FI_CELL_DURATION) && c.number == NULL))
					abort();
			}
			arena_free();
		}
	}
	arena_free();
	if (rc < 0 || total > size)
		abort();
	fi_csv_free(&r);
	if (!fi_utf8_valid(in, size, &bad) && bad >= size)
		abort();
	buf = malloc(size * 3 + 1);
	{
		long		n = fi_cp1252_to_utf8(data, size, buf, &bad);

		if (n >= 0 && !fi_utf8_valid(buf, n, &bad))
			abort();			/* windows-1252 always gives valid UTF-8 */
	}
	free(buf);
	return 0;
}
