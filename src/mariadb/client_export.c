/*
 * client_export.c
 *		Data Export for a site on MariaDB (fi-client export): the layouts,
 *		options and bytes of the PostgreSQL build's export_csv, from the same
 *		engines (engine/exportplan.c: what is read; engine/exportfmt.c: the
 *		text, the header, the lines of a document).
 *
 * One SELECT reads everything, so the export is one consistent read of
 * the site whatever writes go on: the documents alone, or with child
 * tables a UNION ALL of the documents and each child table joined with
 * them, sorted by the documents' order, then table, then idx.  The rows
 * are streamed (mysql_use_result) and written as they come; memory holds
 * one document at a time.  Every name in the query is the meta's, quoted;
 * every value a literal escaped by the connection.
 */
#include "mariadb/client_export.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "engine/docdict.h"
#include "engine/exportfmt.h"
#include "engine/exportplan.h"
#include "engine/htmltext.h"
#include "engine/jsoncanon.h"
#include "engine/tpl.h"
#include "engine/xlsxwrite.h"

/* ---- options (the PostgreSQL build's words: 22023 naming the option) ---- */

void
xp_refuse(const char *key, const char *what)
{
	fc_fail("22023", NULL, NULL, "option \"%s\" must be %s", key, what);
}

/* an option's value; NULL when absent or null */
FiVal *
xp_opt(FiVal *opts, const char *key)
{
	FiVal	   *v = fi_val_member(opts, key);

	return v == NULL || fi_val_kind(v) == FI_VK_NONE ? NULL : v;
}

char *
xp_vstr(Export *ex, FiVal *v)
{
	size_t		n;
	const char *s = fi_val_text(v, &n);

	return s ? fc_strndup(ex->a, s, n) : NULL;
}

/* jsonb's order of keys: shorter first, then by bytes */
static int
jsonb_key_cmp(FiVal *a, FiVal *b)
{
	size_t		na,
				nb;
	const char *sa = fi_val_text(a, &na);
	const char *sb = fi_val_text(b, &nb);
	int			c;

	if (na != nb)
		return na < nb ? -1 : 1;
	c = memcmp(sa, sb, na);
	return c;
}

/* the members of a dict in jsonb's order (so that errors name what the PostgreSQL build names) */
static int *
jsonb_order(Export *ex, FiVal *dict)
{
	int			n = fi_val_count(dict);
	int		   *idx = fc_alloc(ex->a, sizeof(int) * (n + 1));

	for (int i = 0; i < n; i++)
	{
		int			j = i;

		while (j > 0 && jsonb_key_cmp(fi_val_key_at(dict, idx[j - 1]), fi_val_key_at(dict, i)) > 0)
		{
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = i;
	}
	return idx;
}

static void
xp_check_keys(Export *ex, FiVal *opts, const char *const *known, int nknown)
{
	int		   *order = jsonb_order(ex, opts);

	for (int k = 0; k < fi_val_count(opts); k++)
	{
		size_t		n;
		const char *key = fi_val_text(fi_val_key_at(opts, order[k]), &n);
		bool		ok = false;
		FcBuf		hint = {0};

		for (int i = 0; i < nknown && !ok; i++)
			ok = strlen(known[i]) == n && memcmp(known[i], key, n) == 0;
		if (ok)
			continue;
		for (int i = 0; i < nknown; i++)
			fc_buf_printf(&hint, "%s%s", i ? ", " : "Options: ", known[i]);
		fc_buf_puts(&hint, ".");
		fc_fail("22023", NULL, hint.data, "unknown option \"%.*s\"", (int) n, key);
	}
}

static const char **
string_items(Export *ex, FiVal *v, const char *key, const char *what, int *n)
{
	const char **out;

	if (fi_val_kind(v) != FI_VK_LIST)
		xp_refuse(key, "an array");
	out = fc_alloc(ex->a, sizeof(char *) * (fi_val_count(v) + 1));
	*n = 0;
	for (int i = 0; i < fi_val_count(v); i++)
	{
		if (fi_val_kind(fi_val_item(v, i)) != FI_VK_STR)
			xp_refuse(key, what);
		out[(*n)++] = xp_vstr(ex, fi_val_item(v, i));
	}
	return out;
}

void
xp_plan_error(const FiExportError *err)
{
	fc_fail(err->sqlstate ? err->sqlstate : "22023", err->detail, err->hint, "%s", err->message);
}

/* ---- the engine's hooks ---- */

void *
xp_alloc(void *arg, size_t size)
{
	return fc_alloc(((Export *) arg)->a, size);
}

const FiDocMeta *
xp_meta(void *arg, const char *doctype)
{
	Export	   *ex = arg;

	return fc_meta(ex->conn, ex->a, doctype);
}

bool
xp_in_table(void *arg, const FiDocMeta *meta, const char *fieldname)
{
	Export	   *ex = arg;

	return fc_meta_in_table(ex->conn, ex->a, meta, fieldname);
}

/* ---- filters ---- */

/* a scalar as text (strings, numbers, booleans); NULL for any other */
static const char *
scalar_text(Export *ex, FiVal *v)
{
	int64_t		i;
	double		d;
	bool		b;

	switch (fi_val_kind(v))
	{
		case FI_VK_STR:
			return xp_vstr(ex, v);
		case FI_VK_BOOL:
			fi_val_get_bool(v, &b);
			return b ? "1" : "0";
		case FI_VK_INT:
			fi_val_get_int(v, &i);
			return fc_printf(ex->a, "%lld", (long long) i);
		case FI_VK_FLOAT:
			fi_val_get_float(v, &d);
			if (!isfinite(d))
				return NULL;
			return fc_printf(ex->a, "%.17g", d);
		default:
			return NULL;
	}
}

static void
filter_value(Export *ex, FiVal *v, FiFilterValue *fv)
{
	const char **texts;

	memset(fv, 0, sizeof(*fv));
	if (fi_val_kind(v) == FI_VK_LIST)
	{
		fv->is_list = true;
		texts = fc_alloc(ex->a, sizeof(char *) * (fi_val_count(v) + 1));
		for (int i = 0; i < fi_val_count(v); i++)
			texts[fv->n++] = scalar_text(ex, fi_val_item(v, i));
	}
	else
	{
		fv->is_string = fi_val_kind(v) == FI_VK_STR;
		fv->n = 1;
		texts = fc_alloc(ex->a, sizeof(char *));
		texts[0] = scalar_text(ex, v);
	}
	fv->texts = texts;
}

/* a filter, checked by the engine, as SQL on p.`column` with escaped literals */
void
xp_add_filter(Export *ex, const char *field, const char *op, FiVal *value)
{
	FiFilterValue fv;
	FiExportError err;
	FiExportFilter *f;
	char	   *col;
	FcBuf	   *w = &ex->where;

	filter_value(ex, value, &fv);
	if (!fi_export_filter(&ex->plan, field, op, &fv, &(FiExportHooks) {ex, xp_alloc, xp_meta, xp_in_table}, &err))
		xp_plan_error(&err);
	f = &ex->plan.filters[ex->plan.nfilters - 1];
	col = fc_printf(ex->a, "p.%s", fc_ident(ex->a, f->field));
	fc_buf_puts(w, w->len ? " AND " : " WHERE ");
	switch (f->op)
	{
		case FI_FILTER_EQ:
		case FI_FILTER_LT:
		case FI_FILTER_GT:
		case FI_FILTER_LE:
		case FI_FILTER_GE:
			fc_buf_printf(w, "%s %s %s", col, f->sql_op, fc_literal(ex->a, ex->conn, f->values[0]));
			break;
		case FI_FILTER_NE:
			/* PostgreSQL's IS DISTINCT FROM */
			fc_buf_printf(w, "NOT (%s <=> %s)", col, fc_literal(ex->a, ex->conn, f->values[0]));
			break;
		case FI_FILTER_LIKE:
		case FI_FILTER_NOT_LIKE:
			fc_buf_printf(w, "%s%s LIKE %s", col, f->op == FI_FILTER_NOT_LIKE ? " NOT" : "",
						  fc_literal(ex->a, ex->conn, f->values[0]));
			break;
		case FI_FILTER_IN:
		case FI_FILTER_NOT_IN:
			{
				FcBuf		list = {0};

				for (int i = 0; i < f->nvalues; i++)
					fc_buf_printf(&list, "%s%s", i ? ", " : "", fc_literal(ex->a, ex->conn, f->values[i]));
				if (f->nvalues == 0)
					fc_buf_puts(w, f->op == FI_FILTER_IN ? "FALSE" : "TRUE");
				else if (f->op == FI_FILTER_NOT_IN)
					fc_buf_printf(w, "(%s IS NULL OR %s NOT IN (%s))", col, col, list.data);
				else
					fc_buf_printf(w, "%s IN (%s)", col, list.data);
				fc_buf_free(&list);
			}
			break;
		case FI_FILTER_BETWEEN:
			fc_buf_printf(w, "%s BETWEEN %s AND %s", col, fc_literal(ex->a, ex->conn, f->values[0]),
						  fc_literal(ex->a, ex->conn, f->values[1]));
			break;
		case FI_FILTER_IS_SET:
			fc_buf_printf(w, "(%s IS NOT NULL AND CAST(%s AS CHAR) <> '')", col, col);
			break;
		case FI_FILTER_IS_NOT_SET:
			fc_buf_printf(w, "(%s IS NULL OR CAST(%s AS CHAR) = '')", col, col);
			break;
	}
}

#define FILTER_SHAPE "an object or a list of [field, operator, value]"

/* Frappe's filters: {"field": value | [op, value]} or [[field, op, value] | [doctype, field, op, value]] */
void
xp_parse_filters(Export *ex, FiVal *opts)
{
	FiVal	   *f = xp_opt(opts, "filters");

	if (f == NULL)
		return;
	if (fi_val_kind(f) == FI_VK_DICT)
	{
		int		   *order = jsonb_order(ex, f);

		for (int k = 0; k < fi_val_count(f); k++)
		{
			const char *key = xp_vstr(ex, fi_val_key_at(f, order[k]));
			FiVal	   *v = fi_val_value_at(f, order[k]);

			if (fi_val_kind(v) == FI_VK_LIST)
			{
				if (fi_val_count(v) != 2 || fi_val_kind(fi_val_item(v, 0)) != FI_VK_STR)
					fc_fail("22023", NULL, NULL, "the filter on \"%s\" must be a value or [operator, value]", key);
				xp_add_filter(ex, key, xp_vstr(ex, fi_val_item(v, 0)), fi_val_item(v, 1));
			}
			else
				xp_add_filter(ex, key, "=", v);
		}
		return;
	}
	if (fi_val_kind(f) != FI_VK_LIST)
		xp_refuse("filters", "an array");
	for (int i = 0; i < fi_val_count(f); i++)
	{
		FiVal	   *e = fi_val_item(f, i);
		int			n = fi_val_count(e),
					base;

		if (fi_val_kind(e) != FI_VK_LIST || (n != 3 && n != 4))
			xp_refuse("filters", FILTER_SHAPE);
		base = n - 3;
		for (int k = 0; k < 2 + base; k++)
			if (fi_val_kind(fi_val_item(e, k)) != FI_VK_STR)
				xp_refuse("filters", FILTER_SHAPE);
		if (n == 4)
		{
			FiExportError err;

			if (!fi_export_filter_doctype(&ex->plan, xp_vstr(ex, fi_val_item(e, 0)), &err))
				xp_plan_error(&err);
		}
		xp_add_filter(ex, xp_vstr(ex, fi_val_item(e, base)), xp_vstr(ex, fi_val_item(e, base + 1)),
				   fi_val_item(e, base + 2));
	}
}

/* ---- the query ---- */

/* ORDER BY of the documents, on p.`column` */
static char *
order_sql(Export *ex, const char *prefix)
{
	FcBuf		b = {0};
	char	   *out;

	for (int i = 0; i < ex->plan.norder; i++)
		fc_buf_printf(&b, "%s%s%s %s", i ? ", " : "", prefix, fc_ident(ex->a, ex->plan.order[i].field),
					  ex->plan.order[i].desc ? "DESC" : "ASC");
	out = fc_strndup(ex->a, b.data, b.len);
	fc_buf_free(&b);
	return out;
}

/* " ORDER BY ... LIMIT n" of the documents */
char *
xp_docs_tail(Export *ex)
{
	char	   *tail = fc_printf(ex->a, " ORDER BY %s", order_sql(ex, "p."));

	if (ex->limit >= 0)
		tail = fc_printf(ex->a, "%s LIMIT %ld", tail, ex->limit);
	return tail;
}

/*
 * The result's columns: fi_t (the table), fi_doc (the document's name),
 * fi_idx, the order's values (with children), then each table's columns
 * (its ID first), then the owner (report).
 */
static char *
build_sql(Export *ex)
{
	FcBuf		b = {0};
	char	   *from = fc_printf(ex->a, "%s p%s", fc_ident(ex->a, fc_printf(ex->a, "tab%s", ex->meta->name)),
								 ex->where.data ? ex->where.data : "");
	int			norder = ex->with_children ? ex->plan.norder : 0;
	int			slot;
	char	   *sql;

	ex->first_slot = fc_alloc(ex->a, sizeof(int) * ex->plan.ntables);
	slot = 3 + norder;
	for (int t = 0; t < ex->plan.ntables; t++)
	{
		ex->first_slot[t] = slot;
		slot += ex->plan.tables[t].ncols;
	}
	ex->owner_slot = ex->report ? slot++ : -1;
	ex->nslots = slot;

	/* the documents */
	fc_buf_printf(&b, "%sSELECT 0 AS fi_t, p.`name` AS fi_doc, 0 AS fi_idx", ex->with_children ? "(" : "");
	for (int i = 0; i < norder; i++)
		fc_buf_printf(&b, ", p.%s AS fi_o%d", fc_ident(ex->a, ex->plan.order[i].field), i);
	for (int t = 0; t < ex->plan.ntables; t++)
		for (int i = 0; i < ex->plan.tables[t].ncols; i++)
		{
			if (t == 0)
				fc_buf_printf(&b, ", p.%s", fc_ident(ex->a, i == 0 ? "name" : ex->plan.tables[0].cols[i]->fieldname));
			else
				fc_buf_puts(&b, ", NULL");
			fc_buf_printf(&b, " AS fi_%d", ex->first_slot[t] + i);
		}
	if (ex->report)
		fc_buf_puts(&b, ", p.`owner` AS fi_owner");
	fc_buf_printf(&b, " FROM %s%s", from, xp_docs_tail(ex));
	if (!ex->with_children)
	{
		sql = fc_strndup(ex->a, b.data, b.len);
		fc_buf_free(&b);
		return sql;
	}
	fc_buf_puts(&b, ")");

	/* each child table, joined with the documents for their order */
	for (int t = 1; t < ex->plan.ntables; t++)
	{
		const FiExportTable *ct = &ex->plan.tables[t];

		fc_buf_printf(&b, " UNION ALL (SELECT %d, c.`parent`, c.`idx`", t);
		for (int i = 0; i < norder; i++)
			fc_buf_printf(&b, ", p.fi_o%d", i);
		for (int u = 0; u < ex->plan.ntables; u++)
			for (int i = 0; i < ex->plan.tables[u].ncols; i++)
			{
				if (u == t)
					fc_buf_printf(&b, ", c.%s", fc_ident(ex->a, i == 0 ? "name" : ct->cols[i]->fieldname));
				else
					fc_buf_puts(&b, ", NULL");
			}
		if (ex->report)
			fc_buf_puts(&b, ", NULL");
		fc_buf_printf(&b, " FROM %s c JOIN (SELECT p.`name`", fc_ident(ex->a, fc_printf(ex->a, "tab%s", ct->meta->name)));
		for (int i = 0; i < norder; i++)
			fc_buf_printf(&b, ", p.%s AS fi_o%d", fc_ident(ex->a, ex->plan.order[i].field), i);
		fc_buf_printf(&b, " FROM %s%s) p ON c.`parent` = p.`name` WHERE c.`parenttype` = %s AND c.`parentfield` = %s)",
					  from, xp_docs_tail(ex), fc_literal(ex->a, ex->conn, ex->meta->name),
					  fc_literal(ex->a, ex->conn, ct->tdf->fieldname));
	}
	fc_buf_puts(&b, " ORDER BY ");
	for (int i = 0; i < norder; i++)
		fc_buf_printf(&b, "%s %s, ", strcmp(ex->plan.order[i].field, "name") == 0 ? "fi_doc" : fc_printf(ex->a, "fi_o%d", i),
					  ex->plan.order[i].desc ? "DESC" : "ASC");
	/* a document's own row first, then each table's rows by idx */
	fc_buf_puts(&b, "fi_doc, fi_t, fi_idx");
	sql = fc_strndup(ex->a, b.data, b.len);
	fc_buf_free(&b);
	return sql;
}

/* ---- writing ---- */

Kind
xp_kind_of(const MYSQL_FIELD *f)
{
	switch (f->type)
	{
		case MYSQL_TYPE_TINY:
		case MYSQL_TYPE_SHORT:
		case MYSQL_TYPE_INT24:
		case MYSQL_TYPE_LONG:
		case MYSQL_TYPE_LONGLONG:
		case MYSQL_TYPE_YEAR:
			return K_INT;
		case MYSQL_TYPE_DECIMAL:
		case MYSQL_TYPE_NEWDECIMAL:
			return K_DECIMAL;
		case MYSQL_TYPE_FLOAT:
		case MYSQL_TYPE_DOUBLE:
			return K_FLOAT;
		case MYSQL_TYPE_DATE:
		case MYSQL_TYPE_NEWDATE:
		case MYSQL_TYPE_DATETIME:
		case MYSQL_TYPE_TIMESTAMP:
		case MYSQL_TYPE_TIME:
			return K_CLOCK;
		case MYSQL_TYPE_VARCHAR:
		case MYSQL_TYPE_VAR_STRING:
		case MYSQL_TYPE_STRING:
		case MYSQL_TYPE_TINY_BLOB:
		case MYSQL_TYPE_MEDIUM_BLOB:
		case MYSQL_TYPE_LONG_BLOB:
		case MYSQL_TYPE_BLOB:
			return f->charsetnr == 63 ? K_OTHER : K_TEXT;
		default:
			return K_OTHER;
	}
}

static void
put_quoted(Export *ex, const char *s, size_t n, bool formula_check)
{
	fc_buf_reserve(&ex->out, FI_EXPORT_QUOTED_MAX(n));
	ex->out.len += fi_export_quoted(s, n, formula_check && ex->escape_formulas, ex->out.data + ex->out.len);
	ex->out.data[ex->out.len] = '\0';
}

/* a Duration's seconds: the decimal's integer part, toward zero (Frappe's cint) */
static bool
duration_seconds(const char *s, unsigned long n, int64_t *secs)
{
	char		buf[64];
	char	   *end;
	double		d;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	*secs = strtoll(buf, &end, 10);
	if (errno != 0 || (*end != '\0' && *end != '.'))
	{
		/* beyond int64: as a float, as Python's int() of it would fail anyway */
		d = strtod(buf, &end);
		if (*end != '\0' || !(fabs(d) < 9.2e18))
			return false;
		*secs = (int64_t) d;
	}
	return true;
}

/* the writer's failure: a sheet too small for the export, memory, the disk */
static void
xlsx_failed(Export *ex, FiXlsxwErr err, const char *msg)
{
	if (err == FI_XLSXW_TOO_BIG)
		fc_fail("54000", fc_printf(ex->a, "%s; the export had written %ld lines.", msg, ex->lines),
				"Narrow it with options.filters or options.limit, or export CSV.",
				"the export does not fit in an Excel sheet");
	if (err == FI_XLSXW_NOMEM)
		fc_fail("53200", NULL, NULL, "out of memory writing the Excel workbook");
	fc_fail("58030", msg, NULL, "could not write the Excel workbook");
}

static void
end_line(Export *ex)
{
	char		msg[256];
	FiXlsxwErr	err;

	if (ex->xw == NULL)
	{
		fc_buf_put(&ex->out, "\r\n", 2);
		return;
	}
	if ((err = fi_xlsxw_end_row(ex->xw, msg, sizeof(msg))) != FI_XLSXW_OK)
		xlsx_failed(ex, err, msg);
}

/* before a cell: the CSV separator (not before a line's first) */
static inline void
next_cell(Export *ex, bool first)
{
	if (!first && ex->xw == NULL)
		fc_buf_put(&ex->out, ",", 1);
}

static inline void
put_empty(Export *ex)
{
	if (ex->xw)
		fi_xlsxw_empty(ex->xw);
	else
		put_quoted(ex, "", 0, false);
}

/*
 * A Duration's cell, format_duration's text into out (FI_DURATION_MAX):
 * false when the column is not one, or Report Builder leaves a 0 a number.
 */
static bool
duration_cell(Export *ex, int slot, const FiDocField *df, const char *v, unsigned long n, char *out, size_t *len)
{
	int64_t		secs;

	if (df == NULL || ex->kinds[slot] != K_DECIMAL || strcmp(df->fieldtype, "Duration") != 0 ||
		!duration_seconds(v, n, &secs) || (ex->report && secs == 0))
		return false;
	*len = fi_export_duration(secs, df->hide_days, out);
	return true;
}

/* Report Builder's text of an HTML cell (handle_html), in ex->scratch: v and n replaced; false when left */
static bool
report_text(Export *ex, int slot, const char **v, unsigned long *n)
{
	if (!ex->report || ex->kinds[slot] != K_TEXT || !fi_html_looks_like(*v, *n))
		return false;
	ex->scratch.len = 0;
	fc_buf_reserve(&ex->scratch, *n + 1);
	*n = fi_html_to_text(*v, *n, ex->scratch.data);
	ex->scratch.data[*n] = '\0';	/* (the formula check reads a C string) */
	*v = ex->scratch.data;
	return true;
}

/*
 * One value as the cell openpyxl makes of what Frappe's query gives it
 * (the PostgreSQL build's put_cell_xlsx, from MariaDB's text): numbers as
 * numbers, dates, datetimes and times as Excel serials in their formats, a
 * Duration as format_duration's text, strings as strings (Report
 * Builder's HTML as its text).
 */
static void
put_cell_xlsx(Export *ex, int slot, const FiDocField *df, const char *v, unsigned long n)
{
	FiXlsxWriter *w = ex->xw;
	char		dur[FI_DURATION_MAX];
	size_t		len;
	FiExportClock c;

	if (v == NULL)
	{
		fi_xlsxw_empty(w);
		return;
	}
	if (duration_cell(ex, slot, df, v, n, dur, &len))
	{
		fi_xlsxw_string(w, dur, len);
		return;
	}
	switch (ex->kinds[slot])
	{
		case K_INT:
		case K_DECIMAL:
		case K_FLOAT:
			/* float(Decimal(text)): strtod rounds correctly, as Python does */
			fi_xlsxw_number(w, strtod(v, NULL));
			return;
		case K_CLOCK:
			if (!fi_export_parse_clock(v, n, &c))
				break;
			if (c.has_date && c.has_time)
			{
				if (fi_xlsxw_datetime(w, c.year, c.month, c.day, c.hour, c.minute, c.second, c.usec))
					return;
			}
			else if (c.has_date)
			{
				if (fi_xlsxw_date(w, c.year, c.month, c.day))
					return;
			}
			else
			{
				fi_xlsxw_time(w, c.hour, c.minute, c.second, c.usec);
				return;
			}
			break;
		case K_TEXT:
			(void) report_text(ex, slot, &v, &n);
			break;
		default:
			break;
	}
	if (ex->escape_formulas && fi_export_formula_like(v))
	{
		/* the leading ' before the text (which may be the scratch buffer itself, moved by growing) */
		bool		in_scratch = v == ex->scratch.data;

		fc_buf_reserve(&ex->scratch, n + 2);
		if (in_scratch)
			v = ex->scratch.data;
		memmove(ex->scratch.data + 1, v, n);
		ex->scratch.data[0] = '\'';
		v = ex->scratch.data;
		n++;
	}
	fi_xlsxw_string(w, v, n);
}

/* one value as Frappe writes it (the PostgreSQL build's put_cell_csv, from MariaDB's text) */
static void
put_cell(Export *ex, int slot, const FiDocField *df, const char *v, unsigned long n)
{
	char		clock[FI_DURATION_MAX > FI_EXPORT_CLOCK_MAX ? FI_DURATION_MAX : FI_EXPORT_CLOCK_MAX];
	size_t		len;

	if (ex->xw)
	{
		put_cell_xlsx(ex, slot, df, v, n);
		return;
	}
	if (v == NULL)
	{
		put_quoted(ex, "", 0, false);
		return;
	}
	if (duration_cell(ex, slot, df, v, n, clock, &len))
	{
		put_quoted(ex, clock, len, false);
		return;
	}
	switch (ex->kinds[slot])
	{
		case K_INT:
		case K_FLOAT:
			fc_buf_put(&ex->out, v, n);
			return;
		case K_DECIMAL:
			fc_buf_reserve(&ex->out, FI_EXPORT_NUMBER_MAX(n));
			ex->out.len += fi_export_number(v, n, ex->out.data + ex->out.len);
			ex->out.data[ex->out.len] = '\0';
			return;
		case K_CLOCK:
			if (fi_export_clock_text(v, n, &len, clock))
			{
				put_quoted(ex, clock, len, false);
				return;
			}
			break;
		case K_TEXT:
			(void) report_text(ex, slot, &v, &n);
			break;
		default:
			break;
	}
	put_quoted(ex, v, n, true);
}

void
xp_flush_out(Export *ex, const char *path)
{
	if (ex->out.len == 0 || ex->file == NULL)
		return;
	if (fwrite(ex->out.data, 1, ex->out.len, ex->file) != ex->out.len)
		fc_fail("58030", NULL, NULL, "could not write \"%s\": %s", path ? path : "standard output", strerror(errno));
	ex->out.len = 0;
}

static void
put_header(Export *ex)
{
	int			n;
	const char **titles = fi_export_plan_titles(&ex->plan, ex->report, ex->by_fieldname, xp_alloc, ex, &n);

	ex->titles = titles;
	ex->ntitles = n;
	for (int i = 0; i < n; i++)
	{
		if (ex->xw)
			fi_xlsxw_string(ex->xw, titles[i], strlen(titles[i]));
		else
		{
			if (i)
				fc_buf_put(&ex->out, ",", 1);
			put_quoted(ex, titles[i], strlen(titles[i]), false);
		}
	}
	end_line(ex);
}

/*
 * One document's lines: rows[0] the document, then its child rows, each
 * table's together in idx order (rows[k].t).
 */
static void
put_document(Export *ex, Row *doc, Row **child, long *nrows)
{
	int			ntables = ex->plan.ntables;
	long		lines = fi_export_doc_lines(nrows, ntables);

	for (long line = 0; line < lines; line++)
	{
		bool		first = true;

		if (ex->report)
		{
			/* Report Builder: a serial number first */
			if (ex->xw)
				fi_xlsxw_number(ex->xw, (double) (ex->lines + 1));
			else
				fc_buf_printf(&ex->out, "%ld", ex->lines + 1);
			first = false;
		}
		for (int t = 0; t < ntables; t++)
		{
			const FiExportTable *tb = &ex->plan.tables[t];
			long		r = fi_export_line_row(ex->report, t, line, nrows[t]);
			Row		   *row = r < 0 ? NULL : t == 0 ? doc : &child[t][r];

			for (int i = fi_export_first_col(ex->report, tb->show_id); i < tb->ncols; i++)
			{
				int			slot = ex->first_slot[t] + i;

				next_cell(ex, first);
				first = false;
				if (row == NULL)
					put_empty(ex);
				else
					put_cell(ex, slot, i == 0 ? NULL : tb->cols[i], row->v[slot], row->n[slot]);
			}
		}
		if (ex->report)
		{
			/* and the owner it appends last */
			next_cell(ex, false);
			put_cell(ex, ex->owner_slot, NULL, doc->v[ex->owner_slot], doc->n[ex->owner_slot]);
		}
		end_line(ex);
		ex->lines++;
	}
	ex->documents++;
}

/* a streamed row, copied (the next fetch overwrites it) */
static void
keep_row(FcArena *a, Row *dst, MYSQL_ROW src, unsigned long *len, int n)
{
	dst->v = fc_alloc(a, sizeof(char *) * n);
	dst->n = fc_alloc(a, sizeof(unsigned long) * n);
	for (int i = 0; i < n; i++)
	{
		dst->n[i] = len[i];
		dst->v[i] = src[i] ? fc_strndup(a, src[i], len[i]) : NULL;
	}
}

static void
run_query(Export *ex, const char *sql, const char *path)
{
	MYSQL_RES  *res;
	MYSQL_ROW	row;
	MYSQL_FIELD *fields;
	int			ntables = ex->plan.ntables;
	FcArena    *doc_arena = NULL;
	Row			doc = {0};
	Row		  **child = fc_alloc(ex->a, sizeof(Row *) * ntables);
	long	   *nrows = fc_alloc(ex->a, sizeof(long) * ntables);
	long	   *cap = fc_alloc(ex->a, sizeof(long) * ntables);
	bool		have_doc = false;

	if (mysql_real_query(ex->conn, sql, strlen(sql)) != 0)
		fc_fail_mysql(ex->conn, "reading the documents");
	if ((res = mysql_use_result(ex->conn)) == NULL)
		fc_fail_mysql(ex->conn, "reading the documents");
	if ((int) mysql_num_fields(res) != ex->nslots)
		fc_fail("XX000", NULL, NULL, "the export's query gave %u columns, not %d", mysql_num_fields(res), ex->nslots);
	fields = mysql_fetch_fields(res);
	ex->kinds = fc_alloc(ex->a, sizeof(Kind) * ex->nslots);
	for (int i = 0; i < ex->nslots; i++)
		ex->kinds[i] = xp_kind_of(&fields[i]);

	while ((row = mysql_fetch_row(res)) != NULL)
	{
		unsigned long *len = mysql_fetch_lengths(res);

		if (!ex->with_children)
		{
			Row			r = {row, len};

			put_document(ex, &r, child, nrows);
		}
		else
		{
			int			t = atoi(row[0]);

			if (t == 0)
			{
				if (have_doc)
					put_document(ex, &doc, child, nrows);
				fc_arena_free(doc_arena);
				doc_arena = fc_arena_new();
				memset(nrows, 0, sizeof(long) * ntables);
				memset(cap, 0, sizeof(long) * ntables);
				keep_row(doc_arena, &doc, row, len, ex->nslots);
				have_doc = true;
			}
			else if (have_doc && t > 0 && t < ntables)
			{
				if (nrows[t] == cap[t])
				{
					Row		   *grown;

					cap[t] = cap[t] ? cap[t] * 2 : 8;
					grown = fc_alloc(doc_arena, sizeof(Row) * cap[t]);
					if (nrows[t])
						memcpy(grown, child[t], sizeof(Row) * nrows[t]);
					child[t] = grown;
				}
				keep_row(doc_arena, &child[t][nrows[t]++], row, len, ex->nslots);
			}
		}
		if (ex->out.len > 1024 * 1024)
		{
			xp_flush_out(ex, path);
			xp_progress(ex, ex->documents, ex->lines, false);
		}
	}
	if (mysql_errno(ex->conn))
		fc_fail_mysql(ex->conn, "reading the documents");
	if (have_doc)
		put_document(ex, &doc, child, nrows);
	fc_arena_free(doc_arena);
	mysql_free_result(res);
	xp_flush_out(ex, path);
	xp_progress(ex, ex->documents, ex->lines, true);
}

/*
 * The start of every export: the options (JSON, checked against known),
 * the DocType's meta, refused when it is not exported alone; returns the
 * options (NULL: none).
 */
FiVal *
xp_begin(Export *ex, MYSQL *conn, FcArena *a, FiTpl **tpl, const char *doctype, const char *options_json,
			 const char *const *known, int nknown, const char *alone_hint)
{
	FiTplOptions to;
	FiVal	   *opts = NULL;

	ex->conn = conn;
	ex->a = a;
	ex->limit = -1;
	fi_tpl_default_options(&to);
	if ((*tpl = fi_tpl_new(&to)) == NULL)
		fc_fail("53200", NULL, NULL, "out of memory");
	if (options_json)
	{
		if (fi_tpl_from_json(*tpl, options_json, strlen(options_json), &opts) != FI_TPL_OK)
			fc_fail("22P02", NULL, NULL, "the options are not JSON: %s", fi_tpl_errmsg(*tpl));
		if (fi_val_kind(opts) != FI_VK_DICT)
			fc_fail("22023", NULL, NULL, "options must be a JSON object");
		xp_check_keys(ex, opts, known, nknown);
	}
	if ((ex->meta = fc_meta(conn, a, doctype)) == NULL)
	{
		if (mysql_query(conn, "SELECT 1 FROM `tabDocType` LIMIT 0") == 0)
			mysql_free_result(mysql_store_result(conn));
		else
			fc_fail_mysql(conn, "this is not a Frappe site's database");
		fc_fail("42704", fc_printf(a, "There is no row named \"%s\" in tabDocType.", doctype), NULL,
				"DocType \"%s\" not found", doctype);
	}
	if (ex->meta->istable || ex->meta->issingle || ex->meta->is_virtual)
		fc_fail("22023", NULL, alone_hint, "%s is a %s and is not exported alone", ex->meta->name,
				ex->meta->istable ? "child table" : ex->meta->issingle ? "Single" : "virtual DocType");
	return opts;
}

/* options.limit */
void
xp_take_limit(Export *ex, FiVal *opts)
{
	FiVal	   *v = xp_opt(opts, "limit");
	double		d;

	if (v == NULL)
		return;
	if (!fi_val_get_float(v, &d) || fi_val_kind(v) == FI_VK_BOOL || !(d >= 0 && d < (double) LONG_MAX) ||
		d != (double) (long) d)
		xp_refuse("limit", "a whole number of at least 0");
	ex->limit = (long) d;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
xp_progress(Export *ex, long documents, long lines, bool done)
{
	double		now;

	if (ex->started == 0)
	{
		/* only for a person watching: stderr a terminal */
		if (ex->reported < 0 || !isatty(2))
		{
			ex->reported = -1;
			return;
		}
		ex->started = ex->reported = now_seconds();
	}
	now = now_seconds();
	if (!done && now - ex->reported < 0.5)
		return;
	ex->reported = now;
	fprintf(stderr, "\r%ld documents", documents);
	if (lines >= 0)
		fprintf(stderr, ", %ld lines", lines);
	fprintf(stderr, ", %.0f documents/s, %.1f s", now > ex->started ? documents / (now - ex->started) : 0.0,
			now - ex->started);
	if (done)
		fputc('\n', stderr);
}

/* the output: FILE.part, renamed when complete (out_close) and removed on a failure; or stdout */
char *
xp_out_open(Export *ex, const char *output)
{
	char	   *tmp;

	if (output == NULL)
	{
		ex->file = stdout;
		return NULL;
	}
	tmp = fc_printf(ex->a, "%s.part", output);
	if ((ex->file = fopen(tmp, "wb")) == NULL)
		fc_fail("58030", NULL, NULL, "could not create \"%s\": %s", tmp, strerror(errno));
	fc_on_fail_remove(tmp);
	return tmp;
}

/* the file in place and the result on stdout as JSON ("lines" when lines >= 0); or stdout flushed */
void
xp_out_close(Export *ex, const char *output, const char *tmp, long documents, long lines)
{
	FiJBuf		j = {0};

	if (output == NULL)
	{
		if (fflush(stdout) != 0)
			fc_fail("58030", NULL, NULL, "could not write standard output: %s", strerror(errno));
		return;
	}
	if (ex->file && fclose(ex->file) != 0)
		fc_fail("58030", NULL, NULL, "could not write \"%s\": %s", tmp, strerror(errno));
	ex->file = NULL;
	if (rename(tmp, output) != 0)
		fc_fail("58030", NULL, NULL, "could not rename \"%s\" to \"%s\": %s", tmp, output, strerror(errno));
	fc_on_fail_remove(NULL);
	if (!fi_json_put_string(&j, ex->meta->name, strlen(ex->meta->name)))
		fc_fail("53200", NULL, NULL, "out of memory");
	printf("{\"doctype\": %.*s, \"documents\": %ld", (int) j.len, j.data, documents);
	if (lines >= 0)
		printf(", \"lines\": %ld", lines);
	printf("}\n");
	fi_jbuf_free(&j);
}

/* the workbook, its one sheet named after the DocType (make_xlsx(data, _(doctype))), staged beside the file */
static void
xlsx_open(Export *ex, FiVal *opts, const char *path, const char *output)
{
	FiXlsxWriteOptions o;
	FiVal	   *v;
	char		msg[256];
	char	   *dir = fc_strndup(ex->a, output, strlen(output));
	char	   *slash = strrchr(dir, '/');
	FiXlsxwErr	err;

	fi_xlsxw_default_options(&o);
	if ((v = xp_opt(opts, "zip64")) != NULL && !fi_val_get_bool(v, &o.zip64))
		xp_refuse("zip64", "true or false (ZIP64, for a sheet beyond 4 GiB)");
	if ((v = xp_opt(opts, "compression_level")) != NULL)
	{
		double		level;

		if (!fi_val_get_float(v, &level) || fi_val_kind(v) == FI_VK_BOOL)
			xp_refuse("compression_level", "a number");
		if (level < 1 || level > 9)
			xp_refuse("compression_level", "between 1 and 9");
		if (level != (int) level)
			xp_refuse("compression_level", "a whole number from 1 (fastest, the default) to 9 (smallest)");
		o.level = (int) level;
	}
	if (slash == NULL)
		dir = ".";
	else if (slash == dir)
		dir = "/";
	else
		*slash = '\0';
	o.tmpdir = dir;
	if ((err = fi_xlsxw_open(path, ex->meta->name, &o, &ex->xw, msg, sizeof(msg))) != FI_XLSXW_OK)
		xlsx_failed(ex, err, msg);
}

/* Excel when asked (--file-type xlsx) or when the file is named .xlsx */
static bool
wants_xlsx(const char *file_type, const char *output)
{
	size_t		n = output ? strlen(output) : 0;

	if (file_type)
	{
		if (strcmp(file_type, "xlsx") != 0 && strcmp(file_type, "csv") != 0)
			fc_fail("22023", NULL, NULL, "--file-type must be csv, xlsx or json");
		if (strcmp(file_type, "xlsx") == 0 && output == NULL)
			fc_fail("22023", NULL, "Give --output FILE.xlsx.", "an Excel workbook is written to a file, not to standard output");
		return strcmp(file_type, "xlsx") == 0;
	}
	return n > 5 && strcasecmp(output + n - 5, ".xlsx") == 0;
}

int
fc_export_main(MYSQL *conn, FcArena *a, const char *doctype, const char *options_json, const char *output,
			   const char *file_type)
{
	Export		ex = {0};
	FiExportHooks hooks;
	FiExportError err;
	FiTpl	   *tpl;
	FiVal	   *opts;
	FiVal	   *v;
	const char **names = NULL;
	int			n = -1;
	char	   *tmp = NULL;
	char	   *sql;
	bool		xlsx = wants_xlsx(file_type, output);
	static const char *const known[] = {
		"fields", "filters", "order_by", "limit", "children", "header", "escape_formulas", "format",
		"zip64", "compression_level"
	};

	hooks = (FiExportHooks) {&ex, xp_alloc, xp_meta, xp_in_table};
	/* zip64 and compression_level are the Excel writer's */
	opts = xp_begin(&ex, conn, a, &tpl, doctype, options_json, known,
						(int) (sizeof(known) / sizeof(known[0])) - (xlsx ? 0 : 2), "Export its parent with options.children.");
	if ((v = xp_opt(opts, "format")) != NULL)
	{
		const char *f = xp_vstr(&ex, v);

		if (f == NULL || (strcmp(f, "import") != 0 && strcmp(f, "report") != 0))
			xp_refuse("format", "\"import\" (the Data Import layout) or \"report\" (Report Builder's)");
		ex.report = strcmp(f, "report") == 0;
	}
	if ((v = xp_opt(opts, "header")) != NULL)
	{
		const char *h = xp_vstr(&ex, v);

		if (h == NULL || (strcmp(h, "label") != 0 && strcmp(h, "fieldname") != 0))
			xp_refuse("header", "\"label\" or \"fieldname\"");
		ex.by_fieldname = strcmp(h, "fieldname") == 0;
	}
	if ((v = xp_opt(opts, "escape_formulas")) != NULL && !fi_val_get_bool(v, &ex.escape_formulas))
		xp_refuse("escape_formulas", "true or false");
	xp_take_limit(&ex, opts);

	fi_export_plan_init(&ex.plan, ex.meta, &hooks);
	if ((v = xp_opt(opts, "fields")) != NULL)
		names = string_items(&ex, v, "fields", "an array of field names", &n);
	if (!fi_export_fields(&ex.plan, names, n, &hooks, &err))
		xp_plan_error(&err);
	if ((v = xp_opt(opts, "children")) != NULL)
	{
		bool		all;
		bool		ok;

		if (fi_val_get_bool(v, &all))
			ok = !all || fi_export_children(&ex.plan, true, NULL, 0, &hooks, &err);
		else
		{
			names = string_items(&ex, v, "children", "true or an array of table field names", &n);
			ok = fi_export_children(&ex.plan, false, names, n, &hooks, &err);
		}
		if (!ok)
			xp_plan_error(&err);
	}
	if (ex.report && ex.plan.ntables > 2)
		fc_fail("22023", NULL, "Report Builder joins the parent with one child table: a row per child row.",
				"the report format takes the fields of one child table at most");
	xp_parse_filters(&ex, opts);
	if ((v = xp_opt(opts, "order_by")) != NULL && fi_val_kind(v) != FI_VK_STR)
		xp_refuse("order_by", "a string such as \"modified desc\"");
	if (!fi_export_order_by(&ex.plan, v ? xp_vstr(&ex, v) : NULL, &hooks, &err))
		xp_plan_error(&err);
	ex.with_children = ex.plan.ntables > 1;
	sql = build_sql(&ex);

	/* a file appears when complete: written beside it, then renamed */
	tmp = xp_out_open(&ex, output);
	if (xlsx)
	{
		/* the writer makes the file at its close */
		fclose(ex.file);
		ex.file = NULL;
		xlsx_open(&ex, opts, tmp, output);
	}
	put_header(&ex);
	xp_flush_out(&ex, output);
	run_query(&ex, sql, output);
	if (ex.xw)
	{
		char		msg[256];
		long		cut_row;
		int			cut_col;
		long		cut = fi_xlsxw_truncated(ex.xw, &cut_row, &cut_col);
		FiXlsxwErr	err = fi_xlsxw_close(ex.xw, msg, sizeof(msg));

		ex.xw = NULL;
		if (err != FI_XLSXW_OK)
			xlsx_failed(&ex, err, msg);
		if (cut > 0)
			fprintf(stderr, "WARNING 22001: %ld cell%s cut at 32,767 characters, the most an Excel cell holds\n"
					"DETAIL: The first is in row %ld of the sheet, column \"%s\".\nHINT: CSV keeps every character.\n",
					cut, cut == 1 ? " was" : "s were", cut_row + 1, cut_col < ex.ntitles ? ex.titles[cut_col] : "?");
	}
	xp_out_close(&ex, output, tmp, ex.documents, ex.lines);
	fc_buf_free(&ex.out);
	fc_buf_free(&ex.scratch);
	fc_buf_free(&ex.where);
	fi_tpl_free(tpl);
	return 0;
}
