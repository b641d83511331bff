/*
 * export.c
 *		Data Export from SQL: integrations.export_csv and export_csv_file in
 *		the layout of Frappe's Data Import template (frappe-facts 8.7), so
 *		that the file imports back unchanged.
 *
 * The query is built from the DocType's meta only: every field, filter and
 * order_by term is checked against it and quoted, every value is a
 * parameter.  Documents are read through a cursor 1,000 at a time, their
 * child rows with one query per table per batch, and written with Python's
 * csv QUOTE_NONNUMERIC rules (strings and None quoted, numbers bare, CRLF).
 * export_csv_file writes each batch to the file as it goes: memory stays
 * flat whatever the size.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/formatting.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "frappe_integrations.h"
#include "engine/exportfmt.h"
#include "engine/htmltext.h"
#include "engine/pyjson.h"

#include <math.h>

#define EXPORT_BATCH	1000

static const char *const std_columns[] = {
	"name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"
};

/* one exported column */
typedef struct ExCol
{
	const char *fieldname;		/* the column */
	const char *title;			/* its header */
	const char *fieldtype;		/* NULL: a standard column */
	const FiDocField *df;		/* NULL: a standard column */
} ExCol;

/* the DocType or one of its child tables */
typedef struct ExTable
{
	const FiDocMeta *meta;
	const FiDocField *tdf;		/* child: the Table field */
	int			ncols;			/* the first is the ID */
	ExCol	   *cols;
	bool		show_id;		/* the ID column is written (name asked for) */
} ExTable;

typedef struct Export
{
	const FiDocMeta *meta;
	int			ntables;
	ExTable    *tables;
	int			ncsv;
	bool		escape_formulas;
	bool		by_fieldname;
	bool		report;			/* format "report": Report Builder's layout */
	int			owner_att;		/* report: the owner column of the parent query */
	/* the parent query */
	StringInfoData where;
	int			nparams;
	Oid			ptypes[100];
	Datum		pvalues[100];
	List	   *order_cols;		/* quoted column names */
	List	   *order_desc;		/* int: 1 for DESC */
	long		limit;
	/* output */
	StringInfoData out;
	FILE	   *file;
	const char *path;
	long		rows;
} Export;

static bool
has_column(const FiDocField *df)
{
	return fi_fieldtype_has_column(df->fieldtype) && !df->is_virtual;
}

/* does the DocType's table have this column?  (a Custom Field before bench migrate has none) */
static bool
in_table(const FiDocMeta *meta, const char *fieldname)
{
	Oid			relid = fi_site_table_oid(psprintf("tab%s", meta->name), false);

	return get_attnum(relid, fieldname) != InvalidAttrNumber;
}

static bool
is_std(const char *name)
{
	for (int i = 0; i < (int) lengthof(std_columns); i++)
		if (strcmp(std_columns[i], name) == 0)
			return true;
	return false;
}

static const FiDocField *
table_field(const FiDocMeta *meta, const char *name)
{
	const FiDocField *df = fi_meta_field(meta, name);

	return (df && fi_fieldtype_is_table(df->fieldtype)) ? df : NULL;
}

static ExTable *
add_table(Export *ex, const FiDocField *tdf)
{
	ExTable    *t;

	for (int i = 1; i < ex->ntables; i++)
		if (ex->tables[i].tdf == tdf)
			return &ex->tables[i];
	t = &ex->tables[ex->ntables++];
	memset(t, 0, sizeof(*t));
	t->tdf = tdf;
	t->meta = fi_get_meta(tdf->options, false);
	t->cols = palloc0(sizeof(ExCol) * (t->meta->nfields + 1));
	t->cols[0].fieldname = "name";
	t->ncols = 1;
	return t;
}

static void
add_col(Export *ex, ExTable *t, const FiDocField *df)
{
	for (int i = 1; i < t->ncols; i++)
		if (strcmp(t->cols[i].fieldname, df->fieldname) == 0)
			return;
	t->cols[t->ncols].fieldname = df->fieldname;
	t->cols[t->ncols].fieldtype = df->fieldtype;
	t->cols[t->ncols].df = df;
	t->ncols++;
}

/* ---- options ---- */

/* the elements of a JSON array (values of a jbvBinary array) */
static List *
array_items(JsonbValue *v, const char *what)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	List	   *out = NIL;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		fi_opt_refuse(what, "an array");
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		if (tok == WJB_ELEM)
		{
			JsonbValue *copy = palloc(sizeof(JsonbValue));

			*copy = e;
			out = lappend(out, copy);
		}
	}
	return out;
}

static char *
jstr(JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* the fields to export: options.fields, else every field with a column */
static void
choose_fields(Export *ex, Jsonb *opts)
{
	JsonbValue *fields = fi_opt_find(opts, "fields");
	JsonbValue *children = fi_opt_find(opts, "children");
	ExTable    *t0 = &ex->tables[0];
	ListCell   *lc;

	if (fields == NULL)
	{
		t0->show_id = true;		/* every field: the ID among them */
		for (int i = 0; i < ex->meta->nfields; i++)
			if (has_column(&ex->meta->fields[i]) && in_table(ex->meta, ex->meta->fields[i].fieldname))
				add_col(ex, t0, &ex->meta->fields[i]);
	}
	else
	{
		foreach(lc, array_items(fields, "fields"))
		{
			JsonbValue *e = lfirst(lc);
			char	   *name,
					   *dot;
			const FiDocField *df;

			if (e->type != jbvString)
				fi_opt_refuse("fields", "an array of field names");
			name = jstr(e);
			dot = strchr(name, '.');
			if (dot == NULL)
			{
				if (strcmp(name, "name") == 0)
				{
					t0->show_id = true;	/* (Frappe's Exporter: the ID only when asked for) */
					continue;
				}
				df = fi_meta_field(ex->meta, name);
				if (df == NULL || !has_column(df))
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_COLUMN),
							 errmsg("%s has no field \"%s\"", ex->meta->name, name),
							 errhint("A child table's field is written \"table_fieldname.fieldname\".")));
				if (!in_table(ex->meta, name))
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_COLUMN),
							 errmsg("field \"%s\" of %s has no column in its table", name, ex->meta->name),
							 errhint("The table is behind its DocType: run bench migrate.")));
				add_col(ex, t0, df);
			}
			else
			{
				const FiDocField *tdf;
				ExTable    *t;

				*dot = '\0';
				tdf = table_field(ex->meta, name);
				if (tdf == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_COLUMN),
							 errmsg("%s has no table field \"%s\"", ex->meta->name, name)));
				t = add_table(ex, tdf);
				if (strcmp(dot + 1, "name") == 0)
				{
					t->show_id = true;
					continue;
				}
				df = fi_meta_field(t->meta, dot + 1);
				if (df == NULL || !has_column(df) || !in_table(t->meta, dot + 1))
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_COLUMN),
							 errmsg("%s has no field \"%s\"", t->meta->name, dot + 1)));
				add_col(ex, t, df);
			}
		}
	}

	/* children: true (every table) or a list of Table fields */
	if (children != NULL)
	{
		List	   *names = NIL;

		if (children->type == jbvBool)
		{
			if (children->val.boolean)
				for (int i = 0; i < ex->meta->nfields; i++)
					if (fi_fieldtype_is_table(ex->meta->fields[i].fieldtype) &&
						fi_get_meta(ex->meta->fields[i].options, true) != NULL)
						names = lappend(names, ex->meta->fields[i].fieldname);
		}
		else
			foreach(lc, array_items(children, "children"))
			{
				if (((JsonbValue *) lfirst(lc))->type != jbvString)
					fi_opt_refuse("children", "true or an array of table field names");
				names = lappend(names, jstr(lfirst(lc)));
			}
		foreach(lc, names)
		{
			const FiDocField *tdf = table_field(ex->meta, lfirst(lc));
			ExTable    *t;

			if (tdf == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("%s has no table field \"%s\"", ex->meta->name, (char *) lfirst(lc))));
			t = add_table(ex, tdf);
			t->show_id = true;	/* every field of the table, its ID among them */
			if (t->ncols == 1)
				for (int i = 0; i < t->meta->nfields; i++)
					if (has_column(&t->meta->fields[i]) && in_table(t->meta, t->meta->fields[i].fieldname))
						add_col(ex, t, &t->meta->fields[i]);
		}
	}
}

/* ---- filters ---- */

/* a column of the DocType a filter or order_by may name: its SQL type */
static Oid
filter_column(Export *ex, const char *name, int32 *typmod)
{
	Oid			relid = fi_site_table_oid(psprintf("tab%s", ex->meta->name), false);
	AttrNumber	att;
	const FiDocField *df = fi_meta_field(ex->meta, name);
	Oid			typid,
				coll;

	if (!is_std(name) && (df == NULL || !has_column(df)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s has no field \"%s\"", ex->meta->name, name),
				 errhint("Filters and order_by name fields of the DocType exported (a child table's "
						 "fields cannot be used).")));
	att = get_attnum(relid, name);
	if (att == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("field \"%s\" of %s has no column", name, ex->meta->name)));
	get_atttypetypmodcoll(relid, att, &typid, typmod, &coll);
	return typid;
}

static int
add_param(Export *ex, Oid type, Datum value)
{
	if (ex->nparams >= (int) lengthof(ex->pvalues))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many filter values (at most %d)", (int) lengthof(ex->pvalues))));
	ex->ptypes[ex->nparams] = type;
	ex->pvalues[ex->nparams] = value;
	return ++ex->nparams;
}

/* a scalar filter value as text (strings, numbers, booleans) */
static char *
scalar_text(JsonbValue *v, const char *field, const char *op)
{
	switch (v->type)
	{
		case jbvString:
			return jstr(v);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return v->val.boolean ? "1" : "0";
		default:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the value of the filter on \"%s\" (%s) must be a string or a number",
							field, op)));
	}
	return NULL;
}

static void
add_filter(Export *ex, const char *field, const char *op_in, JsonbValue *value)
{
	int32		typmod;
	Oid			typid = filter_column(ex, field, &typmod);
	char	   *type = format_type_be(typid);
	const char *col = quote_identifier(field);
	char	   *op = asc_tolower(op_in, strlen(op_in));
	StringInfo	w = &ex->where;
	int			p;

	appendStringInfoString(w, w->len ? " AND " : " WHERE ");
	if (strcmp(op, "=") == 0 || strcmp(op, "<") == 0 || strcmp(op, ">") == 0 ||
		strcmp(op, "<=") == 0 || strcmp(op, ">=") == 0)
	{
		p = add_param(ex, TEXTOID, CStringGetTextDatum(scalar_text(value, field, op)));
		appendStringInfo(w, "%s %s $%d::%s", col, op, p, type);
	}
	else if (strcmp(op, "!=") == 0)
	{
		p = add_param(ex, TEXTOID, CStringGetTextDatum(scalar_text(value, field, op)));
		appendStringInfo(w, "%s IS DISTINCT FROM $%d::%s", col, p, type);
	}
	else if (strcmp(op, "like") == 0 || strcmp(op, "not like") == 0)
	{
		p = add_param(ex, TEXTOID, CStringGetTextDatum(scalar_text(value, field, op)));
		appendStringInfo(w, "%s%s::text LIKE $%d", op[0] == 'n' ? "NOT " : "", col, p);
	}
	else if (strcmp(op, "in") == 0 || strcmp(op, "not in") == 0)
	{
		List	   *items = NIL;
		Datum	   *d;
		int			n = 0;
		ListCell   *lc;

		if (value->type == jbvString)
		{
			/* Frappe also takes "a, b, c" */
			char	   *s = jstr(value);
			char	   *tok;

			for (tok = strtok(s, ","); tok; tok = strtok(NULL, ","))
			{
				JsonbValue *e = palloc(sizeof(JsonbValue));

				while (*tok == ' ')
					tok++;
				e->type = jbvString;
				e->val.string.val = tok;
				e->val.string.len = strlen(tok);
				while (e->val.string.len > 0 && tok[e->val.string.len - 1] == ' ')
					e->val.string.len--;
				items = lappend(items, e);
			}
		}
		else if (value->type == jbvBinary && JsonContainerIsArray(value->val.binary.data))
			items = array_items(value, "filters");
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the value of the filter on \"%s\" (%s) must be a list", field, op)));
		d = palloc(sizeof(Datum) * (list_length(items) + 1));
		foreach(lc, items)
			d[n++] = CStringGetTextDatum(scalar_text(lfirst(lc), field, op));
		p = add_param(ex, TEXTARRAYOID,
					  PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT)));
		if (op[0] == 'n')
			appendStringInfo(w, "(%s IS NULL OR NOT (%s = ANY($%d::%s[])))", col, col, p, type);
		else
			appendStringInfo(w, "%s = ANY($%d::%s[])", col, p, type);
	}
	else if (strcmp(op, "between") == 0)
	{
		List	   *items;
		int			p2;

		if (value->type != jbvBinary || !JsonContainerIsArray(value->val.binary.data) ||
			list_length(items = array_items(value, "filters")) != 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the value of the filter on \"%s\" (between) must be a list of two values", field)));
		p = add_param(ex, TEXTOID, CStringGetTextDatum(scalar_text(linitial(items), field, op)));
		p2 = add_param(ex, TEXTOID, CStringGetTextDatum(scalar_text(lsecond(items), field, op)));
		appendStringInfo(w, "%s BETWEEN $%d::%s AND $%d::%s", col, p, type, p2, type);
	}
	else if (strcmp(op, "is") == 0)
	{
		char	   *what = value->type == jbvString ? jstr(value) : "";

		if (strcmp(what, "set") == 0)
			appendStringInfo(w, "(%s IS NOT NULL AND %s::text <> '')", col, col);
		else if (strcmp(what, "not set") == 0)
			appendStringInfo(w, "(%s IS NULL OR %s::text = '')", col, col);
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the value of the filter on \"%s\" (is) must be \"set\" or \"not set\"", field)));
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown filter operator \"%s\" (on \"%s\")", op_in, field),
				 errhint("Operators: =, !=, <, >, <=, >=, like, not like, in, not in, between, is.")));
}

/* Frappe's filters: {"field": value | [op, value]} or [[field, op, value] | [doctype, field, op, value]] */
static void
parse_filters(Export *ex, Jsonb *opts)
{
	JsonbValue *f = fi_opt_find(opts, "filters");
	ListCell   *lc;

	if (f == NULL)
		return;
	if (f->type == jbvBinary && JsonContainerIsObject(f->val.binary.data))
	{
		JsonbIterator *it = JsonbIteratorInit(f->val.binary.data);
		JsonbValue	k,
					v;
		JsonbIteratorToken tok;
		char	   *key = NULL;

		while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
		{
			if (tok == WJB_KEY)
				key = jstr(&k);
			else if (tok == WJB_VALUE)
			{
				v = k;
				if (v.type == jbvBinary && JsonContainerIsArray(v.val.binary.data))
				{
					List	   *items = array_items(&v, "filters");

					if (list_length(items) != 2 || ((JsonbValue *) linitial(items))->type != jbvString)
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("the filter on \"%s\" must be a value or [operator, value]", key)));
					add_filter(ex, key, jstr(linitial(items)), lsecond(items));
				}
				else
					add_filter(ex, key, "=", &v);
			}
		}
		return;
	}
	foreach(lc, array_items(f, "filters"))
	{
		JsonbValue *e = lfirst(lc);
		List	   *items;
		int			n;
		int			base;

		if (e->type != jbvBinary || !JsonContainerIsArray(e->val.binary.data))
			fi_opt_refuse("filters", "an object or a list of [field, operator, value]");
		items = array_items(e, "filters");
		n = list_length(items);
		if (n != 3 && n != 4)
			fi_opt_refuse("filters", "an object or a list of [field, operator, value]");
		base = n - 3;
		for (int i = 0; i < 2 + base; i++)
			if (((JsonbValue *) list_nth(items, i))->type != jbvString)
				fi_opt_refuse("filters", "an object or a list of [field, operator, value]");
		if (n == 4 && strcmp(jstr(linitial(items)), ex->meta->name) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("a filter names a field of %s, not of %s", jstr(linitial(items)), ex->meta->name),
					 errhint("Filters apply to the DocType exported.")));
		add_filter(ex, jstr(list_nth(items, base)), jstr(list_nth(items, base + 1)),
				   list_nth(items, base + 2));
	}
}

/* "field [asc|desc], ..." checked term by term */
static void
parse_order_by(Export *ex, Jsonb *opts)
{
	JsonbValue *v = fi_opt_find(opts, "order_by");
	char	   *s,
			   *part,
			   *save = NULL;
	bool		has_name = false;

	if (v == NULL)
	{
		const FiDocField *lft = fi_meta_field(ex->meta, "lft"),
				   *rgt = fi_meta_field(ex->meta, "rgt");

		/* Frappe's Exporter: a tree by lft (parents before children), else newest first */
		if (lft && rgt && in_table(ex->meta, "lft"))
		{
			ex->order_cols = list_make2("lft", "name");
			ex->order_desc = list_make2_int(0, 0);
			return;
		}
		ex->order_cols = list_make2("creation", "name");
		ex->order_desc = list_make2_int(1, 1);
		return;
	}
	if (v->type != jbvString)
		fi_opt_refuse("order_by", "a string such as \"modified desc\"");
	s = jstr(v);
	for (part = strtok_r(s, ",", &save); part; part = strtok_r(NULL, ",", &save))
	{
		char	   *w1,
				   *w2,
				   *w3,
				   *save2 = NULL;
		int32		typmod;

		w1 = strtok_r(part, " \t\n", &save2);
		w2 = w1 ? strtok_r(NULL, " \t\n", &save2) : NULL;
		w3 = w2 ? strtok_r(NULL, " \t\n", &save2) : NULL;
		if (w1 == NULL || w3 != NULL ||
			(w2 && pg_strcasecmp(w2, "asc") != 0 && pg_strcasecmp(w2, "desc") != 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("order_by must be fields each with an optional asc or desc"),
					 errdetail("\"%s\" is not.", v->val.string.val)));
		(void) filter_column(ex, w1, &typmod);
		has_name |= strcmp(w1, "name") == 0;
		ex->order_cols = lappend(ex->order_cols, (char *) quote_identifier(w1));
		ex->order_desc = lappend_int(ex->order_desc, w2 && pg_strcasecmp(w2, "desc") == 0);
	}
	if (ex->order_cols == NIL)
		fi_opt_refuse("order_by", "a string such as \"modified desc\"");
	if (!has_name)
	{
		/* a total order: child rows are read in the same order as their parents */
		ex->order_cols = lappend(ex->order_cols, "name");
		ex->order_desc = lappend_int(ex->order_desc, 0);
	}
}

/* the ORDER BY list, its columns prefixed ("p.") */
static char *
order_sql(Export *ex, const char *prefix)
{
	StringInfoData b;
	ListCell   *c,
			   *d;

	initStringInfo(&b);
	forboth(c, ex->order_cols, d, ex->order_desc)
		appendStringInfo(&b, "%s%s%s %s", b.len ? ", " : "", prefix, (char *) lfirst(c),
						 lfirst_int(d) ? "DESC" : "ASC");
	return b.data;
}

/* ---- values as Frappe writes them ---- */

/* a quoted cell (engine/exportfmt.c), written straight into the output */
static void
put_quoted(Export *ex, const char *s, bool formula_check)
{
	StringInfo	o = &ex->out;
	size_t		n = strlen(s);

	enlargeStringInfo(o, FI_EXPORT_QUOTED_MAX(n));
	o->len += fi_export_quoted(s, n, formula_check && ex->escape_formulas, o->data + o->len);
	o->data[o->len] = '\0';
}

/* numeric text as Python's repr of the float Frappe reads (engine/exportfmt.c) */
static void
put_number(Export *ex, const char *s)
{
	StringInfo	o = &ex->out;
	size_t		n = strlen(s);

	enlargeStringInfo(o, FI_EXPORT_NUMBER_MAX(n));
	o->len += fi_export_number(s, n, o->data + o->len);
	o->data[o->len] = '\0';
}

/* Frappe's format_duration(seconds, hide_days): whole seconds, truncated (cint) */
static char *
format_duration(int64 secs, bool hide_days)
{
	char	   *out = palloc(FI_DURATION_MAX);

	fi_export_duration(secs, hide_days, out);
	return out;
}

static void
put_value(Export *ex, const ExCol *c, HeapTuple tup, TupleDesc desc, int att)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, att, &isnull);
	Oid			typid = SPI_gettypeid(desc, att);

	if (isnull)
	{
		put_quoted(ex, "", false);
		return;
	}
	if (c->fieldtype && strcmp(c->fieldtype, "Duration") == 0 && typid == NUMERICOID)
	{
		/* cint(): toward zero */
		int64		secs = DatumGetInt64(DirectFunctionCall1(numeric_int8,
															 DirectFunctionCall2(numeric_trunc, d, Int32GetDatum(0))));

		/* (Report Builder formats a value only when it is not 0) */
		if (!(ex->report && secs == 0))
		{
			put_quoted(ex, format_duration(secs, c->df && c->df->hide_days), false);
			return;
		}
	}
	switch (typid)
	{
		case INT2OID:
			appendStringInfo(&ex->out, "%d", DatumGetInt16(d));
			return;
		case INT4OID:
			appendStringInfo(&ex->out, "%d", DatumGetInt32(d));
			return;
		case INT8OID:
			appendStringInfo(&ex->out, INT64_FORMAT, DatumGetInt64(d));
			return;
		case NUMERICOID:
			put_number(ex, DatumGetCString(DirectFunctionCall1(numeric_out, d)));
			return;
		case FLOAT8OID:
		case FLOAT4OID:
			appendStringInfoString(&ex->out, SPI_getvalue(tup, desc, att));
			return;
		case DATEOID:
			{
				int			y,
							m,
							dd;

				/* infinity and -infinity: their text, as the webhook payload gives them */
				if (DATE_NOT_FINITE(DatumGetDateADT(d)))
					break;
				j2date(DatumGetDateADT(d) + POSTGRES_EPOCH_JDATE, &y, &m, &dd);
				appendStringInfo(&ex->out, "\"%04d-%02d-%02d\"", y, m, dd);
				return;
			}
		case TIMESTAMPOID:
			{
				struct pg_tm tm;
				fsec_t		fsec;

				if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(d)) ||
					timestamp2tm(DatumGetTimestamp(d), NULL, &tm, &fsec, NULL, NULL) != 0)
					break;
				/* str(datetime): microseconds only when not zero */
				appendStringInfo(&ex->out, "\"%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year, tm.tm_mon,
								 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
				if (fsec)
					appendStringInfo(&ex->out, ".%06d", (int) fsec);
				appendStringInfoChar(&ex->out, '"');
				return;
			}
		case TIMEOID:
			{
				TimeADT		t = DatumGetTimeADT(d);
				int64		us = t % USECS_PER_SEC;

				t /= USECS_PER_SEC;
				appendStringInfo(&ex->out, "\"%02d:%02d:%02d", (int) (t / 3600), (int) (t / 60 % 60),
								 (int) (t % 60));
				if (us)
					appendStringInfo(&ex->out, ".%06d", (int) us);
				appendStringInfoChar(&ex->out, '"');
				return;
			}
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			{
				char	   *v = TextDatumGetCString(d);
				size_t		n = strlen(v);

				/* Report Builder's CSV: an HTML cell as its text (handle_html) */
				if (ex->report && fi_html_looks_like(v, n))
				{
					char	   *text = palloc(n + 1);

					fi_html_to_text(v, n, text);
					v = text;
				}
				put_quoted(ex, v, true);
				return;
			}
		default:
			break;
	}
	put_quoted(ex, SPI_getvalue(tup, desc, att), true);
}

/* ---- output ---- */

static void
flush_out(Export *ex)
{
	if (ex->file == NULL || ex->out.len == 0)
		return;
	if (fwrite(ex->out.data, 1, ex->out.len, ex->file) != (size_t) ex->out.len)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", ex->path)));
	resetStringInfo(&ex->out);
}

/*
 * Report Builder's header (get_field_info): Sr, ID, labels; a child
 * column "Label (Child DocType)", its name "name (Child DocType)"; the
 * owner it appends last, by its fieldname.
 */
static void *
title_alloc(void *arg, size_t size)
{
	return palloc(size);
}

/*
 * The header row (engine/exportfmt.c): Report Builder's, or the Data
 * Import layout's (Frappe's Exporter.add_header).
 */
static void
put_header(Export *ex)
{
	int			n = 0;
	FiExportTitle *cols;
	const char **titles;

	for (int t = 0; t < ex->ntables; t++)
		n += ex->tables[t].ncols;
	cols = palloc0(sizeof(FiExportTitle) * (n + 1));
	titles = palloc(sizeof(char *) * (n + 2));
	n = 0;
	for (int t = 0; t < ex->ntables; t++)
	{
		ExTable    *tb = &ex->tables[t];

		/* the import layout writes an ID only when the name is asked for */
		for (int i = ex->report || tb->show_id ? 0 : 1; i < tb->ncols; i++)
		{
			FiExportTitle *c = &cols[n++];

			c->fieldname = tb->cols[i].fieldname;
			c->label = tb->cols[i].df ? tb->cols[i].df->label : NULL;
			c->is_id = i == 0;
			if (tb->tdf)
			{
				c->table_label = tb->tdf->label ? tb->tdf->label : tb->tdf->fieldname;
				c->table_fieldname = tb->tdf->fieldname;
				c->table_doctype = tb->meta->name;
			}
		}
	}
	if (ex->report)
	{
		fi_export_report_titles(cols, n, title_alloc, NULL, titles);
		n += 2;
	}
	else
		fi_export_import_titles(cols, n, ex->by_fieldname, title_alloc, NULL, titles);
	for (int i = 0; i < n; i++)
	{
		if (i)
			appendStringInfoChar(&ex->out, ',');
		put_quoted(ex, titles[i], false);
	}
	appendStringInfoString(&ex->out, "\r\n");
}

/*
 * The child rows of one table, read by a cursor of their own in the
 * parents' order (joined with the parents' query): each parent's rows are
 * taken as the parent comes, in one pass over the child table.
 */
typedef struct ExStream
{
	Portal		portal;
	SPITupleTable *tt;
	uint64		n,
				pos;
	bool		done;
	TupleDesc	desc;			/* a copy, for the rows kept */
} ExStream;

static char *
child_sql(Export *ex, ExTable *t, const char *parent_sql)
{
	StringInfoData b;
	ListCell   *c;

	initStringInfo(&b);
	appendStringInfoString(&b, "SELECT c.parent::text");
	for (int i = 0; i < t->ncols; i++)
		appendStringInfo(&b, ", c.%s", quote_identifier(t->cols[i].fieldname));
	appendStringInfo(&b, " FROM %s c JOIN (SELECT name", fi_site_table(psprintf("tab%s", t->meta->name)));
	foreach(c, ex->order_cols)
		if (strcmp(lfirst(c), "name") != 0)
			appendStringInfo(&b, ", %s", (char *) lfirst(c));
	appendStringInfo(&b, " FROM %s) p ON c.parent = p.name::text WHERE c.parenttype = %s AND "
					 "c.parentfield = %s ORDER BY %s, c.idx",
					 parent_sql, quote_literal_cstr(ex->meta->name),
					 quote_literal_cstr(t->tdf->fieldname), order_sql(ex, "p."));
	return b.data;
}

/* the rows of the stream that belong to parent (copied), in idx order */
static List *
stream_rows(ExStream *st, const char *parent)
{
	List	   *rows = NIL;

	for (;;)
	{
		if (st->pos == st->n)
		{
			MemoryContext cxt = CurrentMemoryContext;

			if (st->done)
				break;
			if (st->tt)
				SPI_freetuptable(st->tt);
			SPI_cursor_fetch(st->portal, true, EXPORT_BATCH * 5);
			MemoryContextSwitchTo(cxt);
			st->tt = SPI_tuptable;
			st->n = SPI_processed;
			st->pos = 0;
			if (st->n == 0)
			{
				st->done = true;
				break;
			}
			if (st->desc == NULL)
			{
				MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

				st->desc = CreateTupleDescCopy(st->tt->tupdesc);
				MemoryContextSwitchTo(old);
			}
		}
		if (strcmp(SPI_getvalue(st->tt->vals[st->pos], st->tt->tupdesc, 1), parent) != 0)
			break;
		rows = lappend(rows, heap_copytuple(st->tt->vals[st->pos]));
		st->pos++;
	}
	return rows;
}

/* one batch of parents: their lines, the first child row of each table on the parent's line */
static void
put_batch(Export *ex, SPITupleTable *ptt, uint64 np, ExStream *streams)
{
	for (uint64 r = 0; r < np; r++)
	{
		char	   *name = SPI_getvalue(ptt->vals[r], ptt->tupdesc, 1);
		uint64		lines = 1;
		List	  **rows = palloc0(sizeof(List *) * ex->ntables);

		CHECK_FOR_INTERRUPTS();
		for (int t = 1; t < ex->ntables; t++)
		{
			rows[t] = stream_rows(&streams[t], name);
			lines = Max(lines, (uint64) list_length(rows[t]));
		}
		for (uint64 line = 0; line < lines; line++)
		{
			bool		firstcell = true;

			if (ex->report)
			{
				/* a row per child row, the parent's values on each, after a serial number */
				static const ExCol owner = {"owner", "owner", NULL, NULL};

				appendStringInfo(&ex->out, "%ld", ex->rows + 1);
				for (int t = 0; t < ex->ntables; t++)
				{
					ExTable    *tb = &ex->tables[t];

					for (int i = 0; i < tb->ncols; i++)
					{
						appendStringInfoChar(&ex->out, ',');
						if (t == 0)
							put_value(ex, &tb->cols[i], ptt->vals[r], ptt->tupdesc, i + 1);
						else if (line < (uint64) list_length(rows[t]))
							put_value(ex, &tb->cols[i], list_nth(rows[t], (int) line), streams[t].desc, i + 2);
						else
							put_quoted(ex, "", false);
					}
				}
				appendStringInfoChar(&ex->out, ',');
				put_value(ex, &owner, ptt->vals[r], ptt->tupdesc, ex->owner_att);
				appendStringInfoString(&ex->out, "\r\n");
				ex->rows++;
				continue;
			}
			for (int t = 0; t < ex->ntables; t++)
			{
				ExTable    *tb = &ex->tables[t];

				for (int i = tb->show_id ? 0 : 1; i < tb->ncols; i++)
				{
					if (!firstcell)
						appendStringInfoChar(&ex->out, ',');
					firstcell = false;
					if (t == 0 && line == 0)
						put_value(ex, &tb->cols[i], ptt->vals[r], ptt->tupdesc, i + 1);
					else if (t > 0 && line < (uint64) list_length(rows[t]))
						put_value(ex, &tb->cols[i], list_nth(rows[t], (int) line), streams[t].desc, i + 2);
					else
						put_quoted(ex, "", false);
				}
			}
			appendStringInfoString(&ex->out, "\r\n");
			ex->rows++;
		}
		if (ex->file != NULL && ex->out.len > 1024 * 1024)
			flush_out(ex);
	}
}

static void
run_export(Export *ex, const char *doctype, Jsonb *opts)
{
	JsonbValue *v;
	StringInfoData sql,
				from;
	Portal		portal;
	ExStream   *streams;
	MemoryContext batch_cxt,
				old;
	static const char *const known[] = {
		"fields", "filters", "order_by", "limit", "children", "header", "escape_formulas", "format"
	};

	fi_check_version();
	fi_opt_check_keys(opts, known, lengthof(known));
	ex->meta = fi_get_meta(doctype, false);
	if (ex->meta->istable || ex->meta->issingle || ex->meta->is_virtual)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is a %s and is not exported alone", ex->meta->name,
						ex->meta->istable ? "child table" : ex->meta->issingle ? "Single" : "virtual DocType"),
				 errhint("Export its parent with options.children.")));
	if ((v = fi_opt_find(opts, "format")) != NULL)
	{
		if (v->type != jbvString || (strcmp(jstr(v), "import") != 0 && strcmp(jstr(v), "report") != 0))
			fi_opt_refuse("format", "\"import\" (the Data Import layout) or \"report\" (Report Builder's)");
		ex->report = strcmp(jstr(v), "report") == 0;
	}
	if ((v = fi_opt_find(opts, "header")) != NULL)
	{
		if (v->type != jbvString || (strcmp(jstr(v), "label") != 0 && strcmp(jstr(v), "fieldname") != 0))
			fi_opt_refuse("header", "\"label\" or \"fieldname\"");
		ex->by_fieldname = strcmp(jstr(v), "fieldname") == 0;
	}
	if ((v = fi_opt_find(opts, "escape_formulas")) != NULL)
	{
		if (v->type != jbvBool)
			fi_opt_refuse("escape_formulas", "true or false");
		ex->escape_formulas = v->val.boolean;
	}
	ex->limit = fi_opt_count(opts, "limit", -1);
	ex->tables = palloc0(sizeof(ExTable) * (ex->meta->nfields + 1));
	ex->tables[0].meta = ex->meta;
	ex->tables[0].cols = palloc0(sizeof(ExCol) * (ex->meta->nfields + 1));
	ex->tables[0].cols[0].fieldname = "name";
	ex->tables[0].ncols = 1;
	ex->ntables = 1;
	initStringInfo(&ex->where);
	choose_fields(ex, opts);
	if (ex->report && ex->ntables > 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the report format takes the fields of one child table at most"),
				 errhint("Report Builder joins the parent with one child table: a row per child row.")));
	parse_filters(ex, opts);
	parse_order_by(ex, opts);

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT name::text");
	for (int i = 1; i < ex->tables[0].ncols; i++)
		appendStringInfo(&sql, ", %s", quote_identifier(ex->tables[0].cols[i].fieldname));
	if (ex->report)
	{
		/* Report Builder appends owner (its "own records" check) as the last column */
		appendStringInfoString(&sql, ", owner");
		ex->owner_att = ex->tables[0].ncols + 1;
	}
	/* the parents' FROM ... ORDER BY ... LIMIT, shared with the child streams */
	initStringInfo(&from);
	appendStringInfo(&from, "%s%s ORDER BY %s", fi_site_table(psprintf("tab%s", ex->meta->name)),
					 ex->where.data, order_sql(ex, ""));
	if (ex->limit >= 0)
		appendStringInfo(&from, " LIMIT %ld", ex->limit);
	appendStringInfo(&sql, " FROM %s", from.data);

	initStringInfo(&ex->out);
	put_header(ex);
	flush_out(ex);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	portal = SPI_cursor_open_with_args(NULL, sql.data, ex->nparams, ex->ptypes, ex->pvalues, NULL,
									   true, CURSOR_OPT_NO_SCROLL);
	streams = palloc0(sizeof(ExStream) * ex->ntables);
	for (int t = 1; t < ex->ntables; t++)
		streams[t].portal = SPI_cursor_open_with_args(NULL, child_sql(ex, &ex->tables[t], from.data),
													  ex->nparams, ex->ptypes, ex->pvalues, NULL,
													  true, CURSOR_OPT_NO_SCROLL);
	batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "export batch", ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		SPITupleTable *ptt;
		uint64		n;

		CHECK_FOR_INTERRUPTS();
		SPI_cursor_fetch(portal, true, EXPORT_BATCH);
		ptt = SPI_tuptable;
		n = SPI_processed;
		if (n == 0)
			break;
		old = MemoryContextSwitchTo(batch_cxt);
		put_batch(ex, ptt, n, streams);
		MemoryContextSwitchTo(old);
		MemoryContextReset(batch_cxt);
		SPI_freetuptable(ptt);
		flush_out(ex);
	}
	for (int t = 1; t < ex->ntables; t++)
		SPI_cursor_close(streams[t].portal);
	SPI_cursor_close(portal);
	SPI_finish();
}

PG_FUNCTION_INFO_V1(fi_export_csv);

/* integrations.export_csv(doctype text, options jsonb default '{}') returns text */
Datum
fi_export_csv(PG_FUNCTION_ARGS)
{
	Export		ex;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("doctype must not be null")));
	memset(&ex, 0, sizeof(ex));
	run_export(&ex, text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(ex.out.data, ex.out.len));
}

PG_FUNCTION_INFO_V1(fi_export_csv_file);

/*
 * integrations.export_csv_file(doctype text, path text, options jsonb default '{}')
 * returns bigint: the CSV lines written after the header.  Superuser or
 * pg_write_server_files only; the path must be absolute.
 */
Datum
fi_export_csv_file(PG_FUNCTION_ARGS)
{
	Export		ex;
	char	   *path;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("doctype and path must not be null")));
	if (!superuser() && !has_privs_of_role(GetUserId(), ROLE_PG_WRITE_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to write a server file"),
				 errdetail("Only superusers and members of pg_write_server_files may export to a "
						   "server file."),
				 errhint("Use integrations.export_csv, which returns the text.")));
	path = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!is_absolute_path(path))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("relative path not allowed for export_csv_file: \"%s\"", path)));
	memset(&ex, 0, sizeof(ex));
	ex.path = path;
	ex.file = AllocateFile(path, PG_BINARY_W);
	if (ex.file == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for writing: %m", path)));
	run_export(&ex, text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2));
	flush_out(&ex);
	if (FreeFile(ex.file) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close file \"%s\": %m", path)));
	PG_RETURN_INT64(ex.rows);
}

/* ---- JSON: bench export-json and export-doc shapes (facts 9.3, 9.4) ---- */

#include "webhook.h"
#include "engine/tpl_int.h"

static bool
in_list(const char *key, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(key, *list) == 0)
			return true;
	return false;
}

/* a copy of document d without the keys dropped (and without nulls when asked) */
static FiVal *
doc_shape(FiTpl *t, FiVal *d, const char *const *drop, const char *const *child_drop, bool no_nulls)
{
	FiVal	   *out = fi_new(t, FV_DICT);

	for (int i = 0; i < d->u.d.n; i++)
	{
		FiVal	   *k = d->u.d.k[i],
				   *v = d->u.d.v[i];
		char	   *key = pnstrdup(k->u.s.p, k->u.s.n);

		if (in_list(key, drop) || (no_nulls && v->type == FV_NONE))
			continue;
		if (v->type == FV_LIST && child_drop != NULL)
		{
			FiVal	   *l = fi_mklist(t, FV_LIST, v->u.l.n);

			for (int j = 0; j < v->u.l.n; j++)
				fi_list_push(t, l, v->u.l.v[j]->type == FV_DICT ?
							 doc_shape(t, v->u.l.v[j], child_drop, NULL, no_nulls) : v->u.l.v[j]);
			v = l;
		}
		fi_dict_put(t, out, k, v);
	}
	return out;
}

static const char *const json_drop[] = {"modified_by", "creation", "owner", "idx", "lft", "rgt", NULL};
static const char *const json_child_drop[] = {"docstatus", "doctype", "modified", "name", NULL};
static const char *const doc_drop[] = {NULL};
static const char *const doc_child_drop[] = {
	"doctype", "name", "owner", "creation", "modified", "modified_by", "docstatus", "idx",
	"parent", "parentfield", "parenttype", NULL
};

/* the documents named, in the shape asked, appended to out as JSON values */
static void
docs_json(const FiDocMeta *meta, const char *const *names, int n, bool doc_form, StringInfo out)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "export json", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	FiTpl	   *t = fi_template_session(fi_site_now_usec());
	FiVal	  **docs = palloc0(sizeof(FiVal *) * n);
	FiDocFetch	f = {.meta = meta, .names = names, .n = n, .docs = docs};

	fi_docs_fetch(t, &f);
	for (int i = 0; i < n; i++)
	{
		const char *text;
		size_t		len;

		if (docs[i] == NULL)
			continue;
		if (fi_tpl_dumps(t, doc_shape(t, docs[i], doc_form ? doc_drop : json_drop,
									  doc_form ? doc_child_drop : json_child_drop, doc_form),
						 &text, &len) != FI_TPL_OK)
			fi_template_error(t, "JSON");
		if (out->len > 1)
			appendStringInfoString(out, ", ");
		appendBinaryStringInfo(out, text, len);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

PG_FUNCTION_INFO_V1(fi_export_json);

/*
 * integrations.export_json(doctype text, options jsonb default '{}') returns jsonb
 *
 * What `bench export-json` writes: a list of as_dict() documents (creation
 * ascending) without modified_by, creation, owner, idx, lft, rgt, their
 * child rows without docstatus, doctype, modified, name.  Options: name,
 * filters, order_by, limit.
 */
Datum
fi_export_json(PG_FUNCTION_ARGS)
{
	Export		ex;
	Jsonb	   *opts = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	JsonbValue *v;
	StringInfoData sql,
				out;
	Portal		portal;
	static const char *const known[] = {"name", "filters", "order_by", "limit"};

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("doctype must not be null")));
	fi_check_version();
	memset(&ex, 0, sizeof(ex));
	fi_opt_check_keys(opts, known, lengthof(known));
	ex.meta = fi_get_meta(text_to_cstring(PG_GETARG_TEXT_PP(0)), false);
	if (ex.meta->istable || ex.meta->issingle || ex.meta->is_virtual)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is a %s and is not exported alone", ex.meta->name,
						ex.meta->istable ? "child table" : ex.meta->issingle ? "Single" : "virtual DocType")));
	initStringInfo(&ex.where);
	parse_filters(&ex, opts);
	if ((v = fi_opt_find(opts, "name")) != NULL)
	{
		if (v->type != jbvString)
			fi_opt_refuse("name", "a document name");
		add_filter(&ex, "name", "=", v);
	}
	if (fi_opt_find(opts, "order_by") == NULL)
	{
		ex.order_cols = list_make2("creation", "name");
		ex.order_desc = list_make2_int(0, 0);
	}
	else
		parse_order_by(&ex, opts);
	ex.limit = fi_opt_count(opts, "limit", -1);
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT name::text FROM %s%s ORDER BY %s",
					 fi_site_table(psprintf("tab%s", ex.meta->name)), ex.where.data, order_sql(&ex, ""));
	if (ex.limit >= 0)
		appendStringInfo(&sql, " LIMIT %ld", ex.limit);
	initStringInfo(&out);
	appendStringInfoChar(&out, '[');
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	portal = SPI_cursor_open_with_args(NULL, sql.data, ex.nparams, ex.ptypes, ex.pvalues, NULL,
									   true, CURSOR_OPT_NO_SCROLL);
	for (;;)
	{
		MemoryContext cxt = CurrentMemoryContext;
		SPITupleTable *tt;
		uint64		n;
		const char **names;

		CHECK_FOR_INTERRUPTS();
		SPI_cursor_fetch(portal, true, 500);
		MemoryContextSwitchTo(cxt);		/* (SPI leaves its own context current) */
		tt = SPI_tuptable;
		n = SPI_processed;
		if (n == 0)
			break;
		names = palloc(sizeof(char *) * n);
		for (uint64 i = 0; i < n; i++)
			names[i] = SPI_getvalue(tt->vals[i], tt->tupdesc, 1);
		docs_json(ex.meta, names, (int) n, false, &out);
		SPI_freetuptable(tt);
	}
	SPI_cursor_close(portal);
	SPI_finish();
	appendStringInfoChar(&out, ']');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}

PG_FUNCTION_INFO_V1(fi_export_doc);

/*
 * integrations.export_doc(doctype text, name text) returns jsonb
 *
 * What `bench export-doc` writes: as_dict(no_nulls=True), child rows
 * without doctype, name, owner, creation, modified, modified_by, docstatus,
 * idx, parent, parentfield, parenttype.
 */
Datum
fi_export_doc(PG_FUNCTION_ARGS)
{
	const FiDocMeta *meta;
	const char *name;
	StringInfoData out;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("doctype and name must not be null")));
	fi_check_version();
	meta = fi_get_meta(text_to_cstring(PG_GETARG_TEXT_PP(0)), false);
	if (meta->istable || meta->issingle || meta->is_virtual)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is a %s and is not exported alone", meta->name,
						meta->istable ? "child table" : meta->issingle ? "Single" : "virtual DocType")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	initStringInfo(&out);
	appendStringInfoChar(&out, '[');
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	docs_json(meta, &name, 1, true, &out);
	SPI_finish();
	if (out.len == 1)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("%s %s not found", meta->name, name)));
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data + 1)));
}
