/*
 * export.c
 *		Data Export from SQL: integrations.export_csv and export_csv_file in
 *		the layout of Frappe's Data Import template (frappe-facts 8.7), so
 *		that the file imports back unchanged.
 *
 * The query is built from the DocType's meta only: every field, filter and
 * order_by term is checked against it by engine/exportplan.c and quoted
 * here, every value is a parameter.  Documents are read through a cursor 1,000 at a time, their
 * child rows with one query per table per batch, and written with Python's
 * csv QUOTE_NONNUMERIC rules (strings and None quoted, numbers bare, CRLF).
 * export_csv_file writes each batch to the file as it goes: memory stays
 * flat whatever the size.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_tablespace.h"
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
#include "engine/exportplan.h"
#include "engine/htmltext.h"
#include "engine/pyjson.h"
#include "engine/xlsxwrite.h"

#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXPORT_BATCH	1000

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
	FiExportPlan plan;			/* what is read (engine/exportplan.c) */
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
	/* Excel (engine/xlsxwrite.c): cells go to the writer instead of out */
	FiXlsxWriter *xw;
	const char *xlsx_target;	/* the workbook's path (Excel when set) */
	const char **titles;		/* the header, to name a column in a message */
	int			ntitles;
} Export;

/* does the DocType's table have this column?  (a Custom Field before bench migrate has none) */
static bool
in_table(const FiDocMeta *meta, const char *fieldname)
{
	Oid			relid = fi_site_table_oid(psprintf("tab%s", meta->name), false);

	return get_attnum(relid, fieldname) != InvalidAttrNumber;
}

/* the engine's hooks: memory of the current context, meta, columns */
static void *
ex_alloc(void *arg, size_t size)
{
	return palloc0(size);
}

static const FiDocMeta *
ex_meta(void *arg, const char *doctype)
{
	return fi_get_meta(doctype, true);
}

static bool
ex_in_table(void *arg, const FiDocMeta *meta, const char *fieldname)
{
	return in_table(meta, fieldname);
}

static const FiExportHooks ex_hooks = {NULL, ex_alloc, ex_meta, ex_in_table};

/* an engine's refusal, raised */
static void
plan_error(const FiExportError *err)
{
	const char *c = err->sqlstate ? err->sqlstate : "22023";

	ereport(ERROR,
			(errcode(MAKE_SQLSTATE(c[0], c[1], c[2], c[3], c[4])),
			 errmsg("%s", err->message),
			 err->detail[0] ? errdetail("%s", err->detail) : 0,
			 err->hint ? errhint("%s", err->hint) : 0));
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

/* the strings of a JSON array, refused with what when one is not a string */
static const char **
string_items(JsonbValue *v, const char *key, const char *what, int *n)
{
	List	   *items = array_items(v, key);
	const char **out = palloc0(sizeof(char *) * (list_length(items) + 1));
	ListCell   *lc;

	*n = 0;
	foreach(lc, items)
	{
		if (((JsonbValue *) lfirst(lc))->type != jbvString)
			fi_opt_refuse(key, what);
		out[(*n)++] = jstr(lfirst(lc));
	}
	return out;
}

/* the plan's tables as the writer's */
static void
plan_tables(Export *ex)
{
	ex->ntables = ex->plan.ntables;
	ex->tables = palloc0(sizeof(ExTable) * ex->ntables);
	for (int t = 0; t < ex->ntables; t++)
	{
		FiExportTable *pt = &ex->plan.tables[t];
		ExTable    *et = &ex->tables[t];

		et->meta = pt->meta;
		et->tdf = pt->tdf;
		et->show_id = pt->show_id;
		et->ncols = pt->ncols;
		et->cols = palloc0(sizeof(ExCol) * pt->ncols);
		et->cols[0].fieldname = "name";
		for (int i = 1; i < pt->ncols; i++)
		{
			et->cols[i].fieldname = pt->cols[i]->fieldname;
			et->cols[i].fieldtype = pt->cols[i]->fieldtype;
			et->cols[i].df = pt->cols[i];
		}
	}
}

/* the fields to export: options.fields, else every field with a column; options.children */
static void
choose_fields(Export *ex, Jsonb *opts)
{
	JsonbValue *fields = fi_opt_find(opts, "fields");
	JsonbValue *children = fi_opt_find(opts, "children");
	FiExportError err;
	const char **names = NULL;
	int			n = -1;

	if (fields != NULL)
		names = string_items(fields, "fields", "an array of field names", &n);
	if (!fi_export_fields(&ex->plan, names, n, &ex_hooks, &err))
		plan_error(&err);
	/* children: true (every table) or a list of Table fields */
	if (children != NULL)
	{
		bool		ok;

		if (children->type == jbvBool)
			ok = !children->val.boolean || fi_export_children(&ex->plan, true, NULL, 0, &ex_hooks, &err);
		else
		{
			names = string_items(children, "children", "true or an array of table field names", &n);
			ok = fi_export_children(&ex->plan, false, names, n, &ex_hooks, &err);
		}
		if (!ok)
			plan_error(&err);
	}
	plan_tables(ex);
}

/* ---- filters ---- */

/* the SQL type of a column of the DocType */
static char *
column_type(Export *ex, const char *name)
{
	Oid			relid = fi_site_table_oid(psprintf("tab%s", ex->meta->name), false);
	Oid			typid,
				coll;
	int32		typmod;

	get_atttypetypmodcoll(relid, get_attnum(relid, name), &typid, &typmod, &coll);
	return format_type_be(typid);
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

/* a scalar filter value as text (strings, numbers, booleans); NULL for any other */
static const char *
scalar_text(JsonbValue *v)
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
			return NULL;
	}
}

/* a filter's JSON value as the engine reads it */
static void
filter_value(JsonbValue *v, FiFilterValue *fv)
{
	const char **texts;

	memset(fv, 0, sizeof(*fv));
	if (v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data))
	{
		List	   *items = array_items(v, "filters");
		ListCell   *lc;

		fv->is_list = true;
		texts = palloc0(sizeof(char *) * (list_length(items) + 1));
		foreach(lc, items)
			texts[fv->n++] = scalar_text(lfirst(lc));
	}
	else
	{
		fv->is_string = v->type == jbvString;
		fv->n = 1;
		texts = palloc0(sizeof(char *));
		texts[0] = v->type == jbvBinary ? NULL : scalar_text(v);
	}
	fv->texts = texts;
}

/* a filter, checked by the engine, as SQL: every value a parameter cast to the column's type */
static void
add_filter(Export *ex, const char *field, const char *op, JsonbValue *value)
{
	FiFilterValue fv;
	FiExportError err;
	FiExportFilter *f;
	const char *col;
	char	   *type;
	StringInfo	w = &ex->where;
	int			p;

	filter_value(value, &fv);
	if (!fi_export_filter(&ex->plan, field, op, &fv, &ex_hooks, &err))
		plan_error(&err);
	f = &ex->plan.filters[ex->plan.nfilters - 1];
	col = quote_identifier(f->field);
	type = column_type(ex, f->field);
	appendStringInfoString(w, w->len ? " AND " : " WHERE ");
	switch (f->op)
	{
		case FI_FILTER_EQ:
		case FI_FILTER_LT:
		case FI_FILTER_GT:
		case FI_FILTER_LE:
		case FI_FILTER_GE:
			p = add_param(ex, TEXTOID, CStringGetTextDatum(f->values[0]));
			appendStringInfo(w, "%s %s $%d::%s", col, f->sql_op, p, type);
			break;
		case FI_FILTER_NE:
			p = add_param(ex, TEXTOID, CStringGetTextDatum(f->values[0]));
			appendStringInfo(w, "%s IS DISTINCT FROM $%d::%s", col, p, type);
			break;
		case FI_FILTER_LIKE:
		case FI_FILTER_NOT_LIKE:
			p = add_param(ex, TEXTOID, CStringGetTextDatum(f->values[0]));
			appendStringInfo(w, "%s%s::text LIKE $%d", f->op == FI_FILTER_NOT_LIKE ? "NOT " : "", col, p);
			break;
		case FI_FILTER_IN:
		case FI_FILTER_NOT_IN:
			{
				Datum	   *d = palloc(sizeof(Datum) * (f->nvalues + 1));

				for (int i = 0; i < f->nvalues; i++)
					d[i] = CStringGetTextDatum(f->values[i]);
				p = add_param(ex, TEXTARRAYOID,
							  PointerGetDatum(construct_array(d, f->nvalues, TEXTOID, -1, false, TYPALIGN_INT)));
				if (f->op == FI_FILTER_NOT_IN)
					appendStringInfo(w, "(%s IS NULL OR NOT (%s = ANY($%d::%s[])))", col, col, p, type);
				else
					appendStringInfo(w, "%s = ANY($%d::%s[])", col, p, type);
			}
			break;
		case FI_FILTER_BETWEEN:
			{
				int			p2;

				p = add_param(ex, TEXTOID, CStringGetTextDatum(f->values[0]));
				p2 = add_param(ex, TEXTOID, CStringGetTextDatum(f->values[1]));
				appendStringInfo(w, "%s BETWEEN $%d::%s AND $%d::%s", col, p, type, p2, type);
			}
			break;
		case FI_FILTER_IS_SET:
			appendStringInfo(w, "(%s IS NOT NULL AND %s::text <> '')", col, col);
			break;
		case FI_FILTER_IS_NOT_SET:
			appendStringInfo(w, "(%s IS NULL OR %s::text = '')", col, col);
			break;
	}
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
		if (n == 4)
		{
			FiExportError err;

			if (!fi_export_filter_doctype(&ex->plan, jstr(linitial(items)), &err))
				plan_error(&err);
		}
		add_filter(ex, jstr(list_nth(items, base)), jstr(list_nth(items, base + 1)),
				   list_nth(items, base + 2));
	}
}

/* options.order_by, checked by the engine, as quoted columns */
static void
parse_order_by(Export *ex, Jsonb *opts)
{
	JsonbValue *v = fi_opt_find(opts, "order_by");
	FiExportError err;

	if (v != NULL && v->type != jbvString)
		fi_opt_refuse("order_by", "a string such as \"modified desc\"");
	if (!fi_export_order_by(&ex->plan, v ? jstr(v) : NULL, &ex_hooks, &err))
		plan_error(&err);
	for (int i = 0; i < ex->plan.norder; i++)
	{
		ex->order_cols = lappend(ex->order_cols, (char *) quote_identifier(ex->plan.order[i].field));
		ex->order_desc = lappend_int(ex->order_desc, ex->plan.order[i].desc);
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

/* ---- cells: CSV text, or Excel cells (engine/xlsxwrite.c) ---- */

/* the writer's failure as an error: a sheet too small for the export, memory, the disk */
static void
xlsx_failed(Export *ex, FiXlsxwErr err, const char *msg)
{
	if (err == FI_XLSXW_TOO_BIG)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the export does not fit in an Excel sheet"),
				 errdetail("%s; the export had written %ld lines.", msg, ex->rows),
				 errhint("Narrow it with options.filters or options.limit, or use export_csv_file.")));
	if (err == FI_XLSXW_NOMEM)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory writing the Excel workbook")));
	ereport(ERROR,
			(errcode(ERRCODE_IO_ERROR),
			 errmsg("could not write the Excel workbook%s%s%s", ex->path ? " \"" : "",
					ex->path ? ex->path : "", ex->path ? "\"" : ""),
			 errdetail("%s", msg)));
}

/* before a cell: the CSV separator (not before a line's first) */
static inline void
next_cell(Export *ex, bool first)
{
	if (!first && ex->xw == NULL)
		appendStringInfoChar(&ex->out, ',');
}

static inline void
put_empty(Export *ex)
{
	if (ex->xw)
		fi_xlsxw_empty(ex->xw);
	else
		put_quoted(ex, "", false);
}

static void
end_line(Export *ex)
{
	char		msg[256];
	FiXlsxwErr	err;

	if (ex->xw == NULL)
	{
		appendStringInfoString(&ex->out, "\r\n");
		return;
	}
	if ((err = fi_xlsxw_end_row(ex->xw, msg, sizeof(msg))) != FI_XLSXW_OK)
		xlsx_failed(ex, err, msg);
}

/*
 * One value as the cell openpyxl makes of what Frappe's query gives it:
 * integers and numerics as numbers (Python's float of the Decimal, as
 * openpyxl writes it), dates, timestamps and times as Excel serials in
 * their formats, a Duration as format_duration's text, strings as
 * strings (Report Builder's HTML as its text), anything else as its text.
 */
static void
put_cell_xlsx(Export *ex, const ExCol *c, HeapTuple tup, TupleDesc desc, int att)
{
	FiXlsxWriter *w = ex->xw;
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, att, &isnull);
	Oid			typid = SPI_gettypeid(desc, att);
	char	   *str;

	if (isnull)
	{
		fi_xlsxw_empty(w);
		return;
	}
	if (c->fieldtype && strcmp(c->fieldtype, "Duration") == 0 && typid == NUMERICOID)
	{
		int64		secs = DatumGetInt64(DirectFunctionCall1(numeric_int8,
															 DirectFunctionCall2(numeric_trunc, d, Int32GetDatum(0))));

		if (!(ex->report && secs == 0))
		{
			str = format_duration(secs, c->df && c->df->hide_days);
			fi_xlsxw_string(w, str, strlen(str));
			return;
		}
	}
	switch (typid)
	{
		case INT2OID:
			fi_xlsxw_number(w, DatumGetInt16(d));
			return;
		case INT4OID:
			fi_xlsxw_number(w, DatumGetInt32(d));
			return;
		case INT8OID:
			fi_xlsxw_number(w, (double) DatumGetInt64(d));
			return;
		case BOOLOID:
			fi_xlsxw_number(w, DatumGetBool(d) ? 1 : 0);
			return;
		case FLOAT8OID:
			fi_xlsxw_number(w, DatumGetFloat8(d));
			return;
		case NUMERICOID:
			/* float(Decimal(text)): strtod rounds correctly, as Python does */
			fi_xlsxw_number(w, strtod(DatumGetCString(DirectFunctionCall1(numeric_out, d)), NULL));
			return;
		case FLOAT4OID:
			/* the float of real's shortest text, as psycopg2 reads it */
			fi_xlsxw_number(w, strtod(DatumGetCString(DirectFunctionCall1(float4out, d)), NULL));
			return;
		case DATEOID:
			{
				int			y,
							m,
							dd;

				if (DATE_NOT_FINITE(DatumGetDateADT(d)))
					break;
				j2date(DatumGetDateADT(d) + POSTGRES_EPOCH_JDATE, &y, &m, &dd);
				if (fi_xlsxw_date(w, y, m, dd))
					return;
				break;
			}
		case TIMESTAMPOID:
			{
				struct pg_tm tm;
				fsec_t		fsec;

				if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(d)) ||
					timestamp2tm(DatumGetTimestamp(d), NULL, &tm, &fsec, NULL, NULL) != 0)
					break;
				if (fi_xlsxw_datetime(w, tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
									  (int) fsec))
					return;
				break;
			}
		case TIMEOID:
			{
				TimeADT		t = DatumGetTimeADT(d);
				int64		us = t % USECS_PER_SEC;

				t /= USECS_PER_SEC;
				/* 24:00:00, which Python's time cannot hold, is left as str */
				if (t >= 86400)
					break;
				fi_xlsxw_time(w, (int) (t / 3600), (int) (t / 60 % 60), (int) (t % 60), (int) us);
				return;
			}
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			{
				size_t		n;

				if (!ex->report && !ex->escape_formulas)
				{
					/* the common case: the bytes as they are, no copy */
					text	   *t = DatumGetTextPP(d);

					fi_xlsxw_string(w, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
					return;
				}
				str = TextDatumGetCString(d);
				n = strlen(str);
				if (ex->report && fi_html_looks_like(str, n))
				{
					char	   *plain = palloc(n + 1);

					n = fi_html_to_text(str, n, plain);
					str = plain;
				}
				if (ex->escape_formulas && fi_export_formula_like(str))
					str = psprintf("'%s", str);
				fi_xlsxw_string(w, str, strlen(str));
				return;
			}
		default:
			break;
	}
	str = SPI_getvalue(tup, desc, att);
	if (ex->escape_formulas && fi_export_formula_like(str))
		str = psprintf("'%s", str);
	fi_xlsxw_string(w, str, strlen(str));
}

/* a date, datetime or time as str() gives it (engine/exportfmt.c), quoted */
static void
put_clock(Export *ex, const char *clock, size_t n)
{
	appendStringInfoChar(&ex->out, '"');
	appendBinaryStringInfo(&ex->out, clock, (int) n);
	appendStringInfoChar(&ex->out, '"');
}

static void
put_cell_csv(Export *ex, const ExCol *c, HeapTuple tup, TupleDesc desc, int att)
{
	char		clock[FI_EXPORT_CLOCK_MAX];
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
				put_clock(ex, clock, fi_export_date(y, m, dd, clock));
				return;
			}
		case TIMESTAMPOID:
			{
				struct pg_tm tm;
				fsec_t		fsec;

				if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(d)) ||
					timestamp2tm(DatumGetTimestamp(d), NULL, &tm, &fsec, NULL, NULL) != 0)
					break;
				put_clock(ex, clock, fi_export_datetime(tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min,
														tm.tm_sec, (int) fsec, clock));
				return;
			}
		case TIMEOID:
			{
				TimeADT		t = DatumGetTimeADT(d);
				int64		us = t % USECS_PER_SEC;

				t /= USECS_PER_SEC;
				put_clock(ex, clock, fi_export_time((int) (t / 3600), (int) (t / 60 % 60), (int) (t % 60), (int) us,
													clock));
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

static void
put_value(Export *ex, const ExCol *c, HeapTuple tup, TupleDesc desc, int att)
{
	if (ex->xw)
		put_cell_xlsx(ex, c, tup, desc, att);
	else
		put_cell_csv(ex, c, tup, desc, att);
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

static void *
title_alloc(void *arg, size_t size)
{
	return palloc0(size);
}

/* The header row (engine/exportfmt.c): Report Builder's, or the Data Import layout's. */
static void
put_header(Export *ex)
{
	int			n;
	const char **titles = fi_export_plan_titles(&ex->plan, ex->report, ex->by_fieldname, title_alloc, NULL, &n);

	ex->titles = titles;
	ex->ntitles = n;
	for (int i = 0; i < n; i++)
	{
		if (ex->xw)
			fi_xlsxw_string(ex->xw, titles[i], strlen(titles[i]));
		else
		{
			if (i)
				appendStringInfoChar(&ex->out, ',');
			put_quoted(ex, titles[i], false);
		}
	}
	end_line(ex);
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

/* one batch of parents: their lines (engine/exportfmt.c: which row fills each line) */
static void
put_batch(Export *ex, SPITupleTable *ptt, uint64 np, ExStream *streams)
{
	static const ExCol owner = {"owner", "owner", NULL, NULL};

	for (uint64 r = 0; r < np; r++)
	{
		char	   *name = SPI_getvalue(ptt->vals[r], ptt->tupdesc, 1);
		List	  **rows = palloc0(sizeof(List *) * ex->ntables);
		long	   *nrows = palloc0(sizeof(long) * ex->ntables);
		long		lines;

		CHECK_FOR_INTERRUPTS();
		for (int t = 1; t < ex->ntables; t++)
		{
			rows[t] = stream_rows(&streams[t], name);
			nrows[t] = list_length(rows[t]);
		}
		lines = fi_export_doc_lines(nrows, ex->ntables);
		for (long line = 0; line < lines; line++)
		{
			bool		firstcell = true;

			if (ex->report)
			{
				/* Report Builder: a serial number first */
				if (ex->xw)
					fi_xlsxw_number(ex->xw, (double) (ex->rows + 1));
				else
					appendStringInfo(&ex->out, "%ld", ex->rows + 1);
				firstcell = false;
			}
			for (int t = 0; t < ex->ntables; t++)
			{
				ExTable    *tb = &ex->tables[t];
				long		row = fi_export_line_row(ex->report, t, line, nrows[t]);

				for (int i = fi_export_first_col(ex->report, tb->show_id); i < tb->ncols; i++)
				{
					next_cell(ex, firstcell);
					firstcell = false;
					if (row < 0)
						put_empty(ex);
					else if (t == 0)
						put_value(ex, &tb->cols[i], ptt->vals[r], ptt->tupdesc, i + 1);
					else
						put_value(ex, &tb->cols[i], list_nth(rows[t], (int) row), streams[t].desc, i + 2);
				}
			}
			if (ex->report)
			{
				/* and the owner it appends last */
				next_cell(ex, false);
				put_value(ex, &owner, ptt->vals[r], ptt->tupdesc, ex->owner_att);
			}
			end_line(ex);
			ex->rows++;
		}
		if (ex->file != NULL && ex->out.len > 1024 * 1024)
			flush_out(ex);
	}
}

/* the workbook, its one sheet named after the DocType (make_xlsx(data, _(doctype))) */
static void
xlsx_open(Export *ex, Jsonb *opts)
{
	FiXlsxWriteOptions o;
	JsonbValue *v;
	char		tmpdir[MAXPGPATH];
	char		msg[256];
	FiXlsxwErr	err;

	fi_xlsxw_default_options(&o);
	if ((v = fi_opt_find(opts, "zip64")) != NULL)
	{
		if (v->type != jbvBool)
			fi_opt_refuse("zip64", "true or false (ZIP64, for a sheet beyond 4 GiB)");
		o.zip64 = v->val.boolean;
	}
	if (fi_opt_find(opts, "compression_level") != NULL)
	{
		double		level = fi_opt_number(opts, "compression_level", 1, 1, 9);

		if (level != (int) level)
			fi_opt_refuse("compression_level", "a whole number from 1 (fastest, the default) to 9 (smallest)");
		o.level = (int) level;
	}
	/* the rows are staged where the server keeps temporary files */
	TempTablespacePath(tmpdir, DEFAULTTABLESPACE_OID);
	(void) MakePGDirectory(tmpdir);
	o.tmpdir = tmpdir;
	if ((err = fi_xlsxw_open(ex->xlsx_target, ex->meta->name, &o, &ex->xw, msg, sizeof(msg))) != FI_XLSXW_OK)
		xlsx_failed(ex, err, msg);
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
		"fields", "filters", "order_by", "limit", "children", "header", "escape_formulas", "format",
		"zip64", "compression_level"
	};

	fi_check_version();
	/* zip64 and compression_level are the Excel writer's */
	fi_opt_check_keys(opts, known, lengthof(known) - (ex->xlsx_target ? 0 : 2));
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
	fi_export_plan_init(&ex->plan, ex->meta, &ex_hooks);
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
	if (ex->xlsx_target)
		xlsx_open(ex, opts);
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

/*
 * The path argument of a function writing a server file (export_csv_file,
 * export_xlsx_file), after their checks: doctype and path not null, the
 * caller superuser or in pg_write_server_files, the path absolute.
 */
static char *
server_file_path(FunctionCallInfo fcinfo, const char *fn, const char *instead)
{
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
				 errhint("Use %s.", instead)));
	path = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!is_absolute_path(path))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("relative path not allowed for %s: \"%s\"", fn, path)));
	return path;
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
	char	   *path = server_file_path(fcinfo, "export_csv_file", "integrations.export_csv, which returns the text");

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

/* ---- Excel: export_xlsx and export_xlsx_file ---- */

/*
 * Run the export into a workbook at path, then close it (writing the
 * file); on an error the writer is abandoned and whatever is at path
 * removed, before the error goes on.
 */
static void
run_export_xlsx(Export *ex, const char *doctype, Jsonb *opts, const char *path)
{
	volatile bool written = false;
	char		msg[256];
	FiXlsxwErr	err;

	ex->xlsx_target = path;
	PG_TRY();
	{
		long		cut_row;
		int			cut_col;
		long		cut;

		run_export(ex, doctype, opts);
		cut = fi_xlsxw_truncated(ex->xw, &cut_row, &cut_col);
		err = fi_xlsxw_close(ex->xw, msg, sizeof(msg));
		ex->xw = NULL;
		written = true;
		if (err != FI_XLSXW_OK)
			xlsx_failed(ex, err, msg);
		if (cut > 0)
			ereport(WARNING,
					(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
					 errmsg("%ld cell%s cut at 32,767 characters, the most an Excel cell holds", cut,
							cut == 1 ? " was" : "s were"),
					 errdetail("The first is in row %ld of the sheet, column \"%s\".", cut_row + 1,
							   cut_col < ex->ntitles ? ex->titles[cut_col] : "?"),
					 errhint("export_csv keeps every character.")));
	}
	PG_CATCH();
	{
		if (ex->xw)
			fi_xlsxw_abort(ex->xw);
		ex->xw = NULL;
		if (written)
			(void) unlink(path);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

PG_FUNCTION_INFO_V1(fi_export_xlsx);

/*
 * integrations.export_xlsx(doctype text, options jsonb default '{}')
 * returns bytea: the workbook, written to a temporary file of the
 * server's (the rows staged beside it) and read back.
 */
Datum
fi_export_xlsx(PG_FUNCTION_ARGS)
{
	static long seq = 0;
	Export		ex;
	char		dir[MAXPGPATH];
	char	   *path;
	volatile bytea *result = NULL;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("doctype must not be null")));
	memset(&ex, 0, sizeof(ex));
	TempTablespacePath(dir, DEFAULTTABLESPACE_OID);
	(void) MakePGDirectory(dir);
	/* a name the server's start removes if a crash leaves it */
	path = psprintf("%s/%s%d.fi_xlsx.%ld", dir, PG_TEMP_FILE_PREFIX, MyProcPid, ++seq);
	PG_TRY();
	{
		FILE	   *f;
		struct stat st;

		run_export_xlsx(&ex, text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1),
						path);
		f = AllocateFile(path, PG_BINARY_R);
		if (f == NULL || fstat(fileno(f), &st) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read the workbook back from \"%s\": %m", path)));
		if ((Size) st.st_size > MaxAllocSize - VARHDRSZ)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the workbook is larger than a bytea holds (%lld bytes)", (long long) st.st_size),
					 errhint("Use export_xlsx_file, which writes a server file.")));
		result = palloc(VARHDRSZ + st.st_size);
		SET_VARSIZE(result, VARHDRSZ + st.st_size);
		if (fread(VARDATA(result), 1, st.st_size, f) != (size_t) st.st_size)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read the workbook back from \"%s\": %m", path)));
		FreeFile(f);
	}
	PG_FINALLY();
	{
		(void) unlink(path);
	}
	PG_END_TRY();
	PG_RETURN_BYTEA_P((bytea *) result);
}

PG_FUNCTION_INFO_V1(fi_export_xlsx_file);

/*
 * integrations.export_xlsx_file(doctype text, path text, options jsonb
 * default '{}') returns bigint: the lines written after the header.  As
 * export_csv_file: superuser or pg_write_server_files, an absolute path.
 */
Datum
fi_export_xlsx_file(PG_FUNCTION_ARGS)
{
	Export		ex;
	char	   *path = server_file_path(fcinfo, "export_xlsx_file", "integrations.export_xlsx, which returns the workbook");

	memset(&ex, 0, sizeof(ex));
	ex.path = path;
	run_export_xlsx(&ex, text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2),
					path);
	PG_RETURN_INT64(ex.rows);
}

/* ---- JSON: bench export-json and export-doc shapes (facts 9.3, 9.4) ---- */

#include "webhook.h"
#include "engine/docdict.h"

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
		FiVal	   *shaped;

		if (docs[i] == NULL)
			continue;
		shaped = fi_doc_export_shape(t, docs[i], doc_form);
		if (shaped == NULL || fi_tpl_dumps(t, shaped, &text, &len) != FI_TPL_OK)
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
	fi_export_plan_init(&ex.plan, ex.meta, &ex_hooks);
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
