/*
 * import_values.c
 *		Data Import: cells to column values, defaults and checks.
 *
 * Each cell is read by its field's type with Frappe's rules (importval.h)
 * and turned into the column's value without a detour through text where
 * the type allows (bigint, smallint, date, timestamp, time, varchar, text);
 * other column types go through their input function.  Problems are
 * collected per document as {row, column, value, message}: a document
 * with any problem is not written.  Link values and unique values are
 * checked set-wise, one query per column per batch.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "catalog/heap.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "parser/parse_relation.h"
#include "rewrite/rewriteHandler.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/timestamp.h"

#include "import.h"
#include "engine/csv.h"

#define LINK_CACHE_MAX	10000	/* values remembered per Link column (KEYMAX bytes each) */

/* ---- errors ---- */

void
imp_doc_error(ImpRun *run, ImpDoc *doc, long row, const char *column, const char *value,
			  const char *fmt,...)
{
	/* with the batch: the result keeps copies of the first MAX_ERRORS_KEPT */
	MemoryContext old = MemoryContextSwitchTo(run->batch_cxt);
	ImpError   *e = palloc0(sizeof(ImpError));
	StringInfoData buf;
	va_list		ap;

	initStringInfo(&buf);
	for (;;)
	{
		int			needed;

		va_start(ap, fmt);
		needed = appendStringInfoVA(&buf, fmt, ap);
		va_end(ap);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	e->row = row;
	e->column = column ? pstrdup(column) : NULL;
	/* a 100 MB cell is not repeated whole in the result */
	if (value != NULL && strlen(value) > 200)
		e->value = psprintf("%.*s...", pg_mbcliplen(value, strlen(value), 200), value);
	else
		e->value = value ? pstrdup(value) : NULL;
	e->message = buf.data;
	doc->errors = lappend(doc->errors, e);
	doc->failed = true;
	MemoryContextSwitchTo(old);
}

/* ---- the tables ---- */

static bool
cell_datum(ImpRun *run, ImpField *f, const char *s, Datum *out, char **why);

/* engine memory: the memory context arg */
void *
imp_alloc(void *arg, size_t size)
{
	return MemoryContextAllocZero((MemoryContext) arg, size);
}

static int
attno_of(ImpTable *t, const char *col)
{
	AttrNumber	a = attnameAttNum(t->rel, col, false);

	return a == InvalidAttrNumber ? 0 : a;
}

/* a field's rules (engine/importcell.c) over its column; its default made a value of the column's type */
static void
setup_field(ImpRun *run, ImpTable *t, ImpField *f)
{
	const FiDocField *df = f->df;
	Form_pg_attribute att;
	Oid			infunc;
	FiImpColumnInfo ci;
	FiImpFieldRules r;
	char	   *why;

	f->fieldname = df->fieldname;
	f->attno = attno_of(t, df->fieldname);
	if (f->attno <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("field \"%s\" of %s has no column in table \"tab%s\"", df->fieldname,
						t->doctype, t->doctype),
				 errhint("The table is behind its DocType: run bench migrate.")));
	att = TupleDescAttr(RelationGetDescr(t->rel), f->attno - 1);
	f->typid = att->atttypid;
	f->typmod = att->atttypmod;
	/* what the column holds: a varchar's characters, an integer's range, a decimal's digits */
	ci.maxchars = (f->typid == VARCHAROID && f->typmod > VARHDRSZ) ? f->typmod - VARHDRSZ : -1;
	ci.int_max = f->typid == INT4OID ? PG_INT32_MAX : f->typid == INT2OID ? PG_INT16_MAX : 0;
	ci.int_digits = f->typid == NUMERICOID && f->typmod >= (int32) VARHDRSZ ?
		(((f->typmod - VARHDRSZ) >> 16) & 0xffff) - ((f->typmod - VARHDRSZ) & 0xffff) : -1;
	getTypeInputInfo(f->typid, &infunc, &f->typioparam);
	fmgr_info_cxt(infunc, &f->infunc, run->cxt);
	fi_import_field_rules(t->meta, t->child, df, &ci, &r, imp_alloc, run->cxt);
	f->cell = r.cell;
	f->reqd = r.reqd;
	f->unique = r.unique;
	f->is_link = r.is_link;
	f->link_doctype = r.link_doctype;
	f->is_select = r.is_select;
	f->fetch_link = -1;
	f->fetch_src = NULL;
	f->defkind = r.defkind;
	/* a literal's value, made once */
	if (f->defkind == FI_DEFAULT_VALUE && !cell_datum(run, f, r.default_text, &f->defvalue, &why))
		f->defkind = FI_DEFAULT_NONE;
}

/* the Link field of the table a fetch_from ("customer.customer_name") names, or -1 (engine/importcell.c) */
static int
fetch_link_of(ImpTable *t, const FiDocField *df, const char **src)
{
	const FiDocField **dfs = palloc(sizeof(FiDocField *) * (t->nfields + 1));

	for (int i = 0; i < t->nfields; i++)
		dfs[i] = t->fields[i].df;
	return fi_import_fetch_link(df, dfs, t->nfields, src);
}

static bool
table_has_column(void *arg, const FiDocField *df)
{
	return attno_of((ImpTable *) arg, df->fieldname) != 0;
}

void
imp_prepare_table(ImpRun *run, ImpTable *t)
{
	char	   *relname = psprintf("tab%s", t->doctype);
	TupleDesc	desc;
	AclMode		need = run->update ? (ACL_SELECT | ACL_UPDATE) : ACL_INSERT;
	AclResult	acl;
	MemoryContext old = MemoryContextSwitchTo(run->cxt);

	if (t->child && run->update)
		need |= ACL_INSERT | ACL_DELETE;
	t->relid = fi_site_table_oid(relname, false);
	t->rel = table_open(t->relid, RowExclusiveLock);
	if (t->rel->rd_rel->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a plain table", relname)));
	if (check_enable_rls(t->relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table \"%s\" has row-level security, which the import does not apply", relname),
				 errhint("Import as a role the policies do not restrict (BYPASSRLS).")));
	for (AclMode bit = ACL_INSERT; bit <= ACL_DELETE; bit <<= 1)
	{
		if ((need & bit) && (acl = pg_class_aclcheck(t->relid, GetUserId(), bit)) != ACLCHECK_OK)
			aclcheck_error(acl, OBJECT_TABLE, relname);
	}
	desc = RelationGetDescr(t->rel);

	/* the standard columns */
	t->a_name = attno_of(t, "name");
	t->a_owner = attno_of(t, "owner");
	t->a_creation = attno_of(t, "creation");
	t->a_modified = attno_of(t, "modified");
	t->a_modified_by = attno_of(t, "modified_by");
	t->a_docstatus = attno_of(t, "docstatus");
	t->a_idx = attno_of(t, "idx");
	t->a_parent = attno_of(t, "parent");
	t->a_parentfield = attno_of(t, "parentfield");
	t->a_parenttype = attno_of(t, "parenttype");
	if (t->a_name == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("table \"%s\" has no name column", relname)));
	t->name_typid = TupleDescAttr(desc, t->a_name - 1)->atttypid;
	t->nreqd = -1;				/* (complete_row makes the list) */

	/* the fields from the file, then those with a default or mandatory */
	for (int i = 0; i < t->nmapped; i++)
		setup_field(run, t, &t->fields[i]);
	for (int i = 0; i < t->meta->nfields; i++)
	{
		const FiDocField *df = &t->meta->fields[i];
		bool		mapped = false;
		ImpField   *f;

		if (!fi_fieldtype_has_column(df->fieldtype) || df->is_virtual)
			continue;
		for (int j = 0; j < t->nmapped; j++)
			if (t->fields[j].df == df)
				mapped = true;
		if (mapped || attno_of(t, df->fieldname) == 0)
			continue;
		f = &t->fields[t->nfields];
		memset(f, 0, sizeof(*f));
		f->df = df;
		f->col = -1;
		setup_field(run, t, f);
		if (fi_import_unmapped_written(&(FiImpFieldRules) {.cell = f->cell, .reqd = f->reqd, .defkind = f->defkind}))
			t->nfields++;
	}
	/*
	 * fetch_from (Insert): a field fetched through a Link of the table takes
	 * the Link target's value, as Frappe's link validation sets it before
	 * the document is named and checked.
	 */
	if (!run->update)
	{
		const FiDocField **dfs = palloc(sizeof(FiDocField *) * (t->nfields + 1));
		const FiDocField **more = palloc(sizeof(FiDocField *) * (t->meta->nfields + 1));
		int			nmore;

		for (int i = 0; i < t->nfields; i++)
			dfs[i] = t->fields[i].df;
		nmore = fi_import_fetched_fields(t->meta, dfs, t->nfields, table_has_column, t, more);
		for (int k = 0; k < nmore; k++)
		{
			ImpField   *f = &t->fields[t->nfields++];

			memset(f, 0, sizeof(*f));
			f->df = more[k];
			f->col = -1;
			setup_field(run, t, f);
		}
		for (int i = 0; i < t->nfields; i++)
		{
			const char *src;

			if ((t->fields[i].fetch_link = fetch_link_of(t, t->fields[i].df, &src)) >= 0)
				t->fields[i].fetch_src = src;
		}
	}

	/* the column defaults of the table, for every other column */
	t->base_values = palloc0(sizeof(Datum) * desc->natts);
	t->base_nulls = palloc(sizeof(bool) * desc->natts);
	t->base_exprs = palloc0(sizeof(ExprState *) * desc->natts);
	for (int a = 0; a < desc->natts; a++)
	{
		Node	   *expr;

		t->base_nulls[a] = true;
		if (TupleDescAttr(desc, a)->attisdropped)
			continue;
#if PG_VERSION_NUM >= 120000
		if (TupleDescAttr(desc, a)->attgenerated)
			continue;
#endif
		expr = build_column_default(t->rel, a + 1);
		if (expr == NULL)
			continue;
		expr = eval_const_expressions(NULL, expr);
		if (IsA(expr, Const))
		{
			Const	   *c = (Const *) expr;

			t->base_nulls[a] = c->constisnull;
			t->base_values[a] = c->constvalue;
		}
		else
			t->base_exprs[a] = ExecInitExpr(expression_planner((Expr *) expr), NULL);
	}
	MemoryContextSwitchTo(old);
}

/* ---- date formats ---- */

/* the guesses of the CSV text after the header, read by a second reader */
static void
csv_guesses(ImpRun *run, ImpSource *src, long ***counts)
{
	ImpSource	scan;

	memset(&scan, 0, sizeof(scan));
	fi_csv_init(&scan.rec, src->rec.p, src->rec.end - src->rec.p);
	PG_TRY();
	{
		while (imp_source_next(&scan) == 1)
		{
			FiCsvReader *r = &scan.rec;

			CHECK_FOR_INTERRUPTS();
			for (int ti = 0; ti < run->ntables; ti++)
				for (int i = 0; i < run->tables[ti].nmapped; i++)
				{
					ImpField   *f = &run->tables[ti].fields[i];
					size_t		b,
								l;
					FiDateFormat g;

					if (counts[ti][i] == NULL || f->col >= r->nfields)
						continue;
					l = fi_py_strip(r->buf + r->off[f->col], r->len[f->col], &b);
					if (l > 0 && fi_guess_date_format(r->buf + r->off[f->col] + b, l, &g))
						counts[ti][i][g.date * (FI_NTIME_FORMATS + 1) + (g.time + 1)]++;
				}
		}
	}
	PG_FINALLY();
	{
		fi_csv_free(&scan.rec);
	}
	PG_END_TRY();
}

/*
 * Frappe's guess of each Date and Datetime column's format, from all its
 * values below the header, for every table at once (CSV: a second reader
 * over the rest of the text; Excel: the counts made while the sheet was
 * opened).
 */
void
imp_guess_date_formats(ImpRun *run, ImpSource *src)
{
	long	 ***counts = palloc0(sizeof(long **) * run->ntables);
	int			nfmt = FI_NDATE_FORMATS * (FI_NTIME_FORMATS + 1);
	int			ndate = 0;

	for (int ti = 0; ti < run->ntables; ti++)
	{
		ImpTable   *t = &run->tables[ti];

		counts[ti] = palloc0(sizeof(long *) * (t->nmapped + 1));
		for (int i = 0; i < t->nmapped; i++)
			if (t->fields[i].cell.kind == FI_CELL_DATE || t->fields[i].cell.kind == FI_CELL_DATETIME)
			{
				counts[ti][i] = palloc0(sizeof(long) * nfmt);
				ndate++;
			}
	}
	if (ndate == 0)
		return;
	if (src->xlsx != NULL)
	{
		/* counted while the sheet was opened (import.c's guess_cell) */
		for (int ti = 0; ti < run->ntables; ti++)
			for (int i = 0; i < run->tables[ti].nmapped; i++)
			{
				const long *c = fi_sheet_guess_counts(&src->guess, run->tables[ti].fields[i].col);

				if (counts[ti][i] != NULL && c != NULL)
					memcpy(counts[ti][i], c, sizeof(long) * nfmt);
			}
	}
	else
		csv_guesses(run, src, counts);
	for (int ti = 0; ti < run->ntables; ti++)
	{
		ImpTable   *t = &run->tables[ti];

		for (int i = 0; i < t->nmapped; i++)
		{
			ImpField   *f = &t->fields[i];
			int			kinds = 0;

			if (counts[ti][i] == NULL || !fi_import_date_format_pick(counts[ti][i], &f->cell.datefmt, &kinds))
				continue;
			f->cell.has_datefmt = true;
			if (kinds > 1)
			{
				char		buf[64];

				ereport(NOTICE,
						(errmsg("the column \"%s\" has %d different date formats; %s, the most common, is used",
								f->header, kinds, fi_date_format_text(f->cell.datefmt, buf)),
						 errhint("Values in other formats are reported as errors.")));
			}
		}
	}
}

/* ---- cells ---- */

static Timestamp
dt_timestamp(const FiDateTime *dt, bool *ok)
{
	struct pg_tm tm;
	Timestamp	ts;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = dt->year;
	tm.tm_mon = dt->month;
	tm.tm_mday = dt->day;
	tm.tm_hour = dt->hour;
	tm.tm_min = dt->minute;
	tm.tm_sec = dt->second;
	*ok = tm2timestamp(&tm, dt->usec, NULL, &ts) == 0;
	return ts;
}

static Datum
input_text(ImpField *f, const char *s)
{
	return InputFunctionCall(&f->infunc, (char *) s, f->typioparam, f->typmod);
}

/*
 * One cell to the column's value (engine/importcell.c decides, this makes
 * the Datum); false with *why (a message) when the cell is not a value of
 * the field.
 */
static bool
cell_datum(ImpRun *run, ImpField *f, const char *s, Datum *out, char **why)
{
	FiCell		c;
	const char *bad = fi_cell_value(&f->cell, s, strlen(s), &c, imp_alloc, CurrentMemoryContext);

	if (bad != NULL)
	{
		*why = (char *) bad;
		return false;
	}
	switch (f->cell.kind)
	{
		case FI_CELL_INT:
		case FI_CELL_CHECK:
			if (f->typid == INT8OID)
				*out = Int64GetDatum(c.i);
			else if (f->typid == INT4OID)
				*out = Int32GetDatum((int32) c.i);
			else if (f->typid == INT2OID)
				*out = Int16GetDatum((int16) c.i);
			else
				*out = input_text(f, psprintf(INT64_FORMAT, (int64) c.i));
			return true;
		case FI_CELL_NUMBER:
		case FI_CELL_DURATION:
			*out = input_text(f, c.number);
			return true;
		case FI_CELL_DATE:
		case FI_CELL_DATETIME:
			if (f->typid == DATEOID)
			{
				*out = DateADTGetDatum(date2j(c.dt.year, c.dt.month, c.dt.day) - POSTGRES_EPOCH_JDATE);
				return true;
			}
			if (f->typid == TIMESTAMPOID)
			{
				bool		ok;
				Timestamp	ts = dt_timestamp(&c.dt, &ok);

				if (!ok)
				{
					*why = psprintf("%s is out of range", f->cell.label);
					return false;
				}
				*out = TimestampGetDatum(ts);
				return true;
			}
			*out = input_text(f, psprintf("%04d-%02d-%02d %02d:%02d:%02d.%06d", c.dt.year, c.dt.month,
										  c.dt.day, c.dt.hour, c.dt.minute, c.dt.second, c.dt.usec));
			return true;
		case FI_CELL_TIME:
			if (f->typid == TIMEOID)
				*out = TimeADTGetDatum(((((int64) c.dt.hour * 60 + c.dt.minute) * 60) + c.dt.second) *
									   USECS_PER_SEC + c.dt.usec);
			else
				*out = input_text(f, psprintf("%02d:%02d:%02d.%06d", c.dt.hour, c.dt.minute,
											  c.dt.second, c.dt.usec));
			return true;
		case FI_CELL_TEXT:
			if (f->typid == VARCHAROID || f->typid == TEXTOID || f->typid == BPCHAROID)
				*out = PointerGetDatum(cstring_to_text(s));
			else
				*out = input_text(f, s);
			return true;
	}
	return false;
}

/* the value of a field of a document as text (for names and titles) */
char *
imp_datum_text(ImpField *f, Datum d)
{
	Oid			outfunc;
	bool		isvarlena;

	if (f->typid == VARCHAROID || f->typid == TEXTOID)
		return TextDatumGetCString(d);
	getTypeOutputInfo(f->typid, &outfunc, &isvarlena);
	return OidOutputFunctionCall(outfunc, d);
}

static Datum
site_today(ImpRun *run)
{
	return DateADTGetDatum((DateADT) (run->now / USECS_PER_DAY) -
						   (run->now < 0 && run->now % USECS_PER_DAY != 0 ? 1 : 0));
}

/* a field's value when the file leaves it empty */
static bool
default_datum(ImpRun *run, ImpField *f, Datum *out)
{
	switch (f->defkind)
	{
		case FI_DEFAULT_VALUE:
			*out = f->defvalue;
			return true;
		case FI_DEFAULT_USER:
			*out = PointerGetDatum(cstring_to_text(run->user));
			return true;
		case FI_DEFAULT_TODAY:
			if (f->typid == DATEOID)
				*out = site_today(run);
			else if (f->typid == TIMESTAMPOID)
				*out = TimestampGetDatum(run->now - run->now % USECS_PER_DAY);
			else
				return false;
			return true;
		case FI_DEFAULT_NOW:
			if (f->typid == TIMESTAMPOID)
				*out = TimestampGetDatum(run->now);
			else if (f->typid == TIMEOID)
				*out = TimeADTGetDatum(run->now % USECS_PER_DAY);
			else
				return false;
			return true;
		default:
			return false;
	}
}

/* a row's values for the title's pattern */
typedef struct TitleValues
{
	ImpTable   *t;
	Datum	   *values;
	bool	   *nulls;
} TitleValues;

static const char *
title_value(void *varg, const char *fieldname)
{
	TitleValues *tv = varg;

	for (int i = 0; i < tv->t->nfields; i++)
		if (strcmp(tv->t->fields[i].fieldname, fieldname) == 0 && !tv->nulls[i])
			return imp_datum_text(&tv->t->fields[i], tv->values[i]);
	return NULL;
}

/* "{customer_name} - {posting_date}" with the document's values */
static char *
title_from(ImpTable *t, const char *pattern, Datum *values, bool *nulls)
{
	TitleValues tv = {t, values, nulls};

	return fi_import_title(pattern, title_value, &tv, imp_alloc, CurrentMemoryContext);
}

/* a missing value, in Frappe's words (msgprint'ed, then MandatoryError) */
static void
missing_value(ImpRun *run, ImpDoc *doc, ImpTable *t, long rowno, int idx, ImpField *f)
{
	imp_doc_error(run, doc, rowno, f->col >= 0 ? f->header : NULL, NULL, "%s",
				  fi_import_msg_missing(t->child, t->doctype, idx, f->cell.label, imp_alloc, CurrentMemoryContext));
	((ImpError *) llast(doc->errors))->msgprint = true;
}

/* is f the field that names the document (autoname field:<f>)?  Naming reports it */
static bool
names_the_document(ImpRun *run, ImpTable *t, ImpField *f)
{
	const char *a = run->meta->autoname;

	return !t->child && a != NULL && pg_strncasecmp(a, "field:", 6) == 0 &&
		strcmp(a + 6, f->fieldname) == 0;
}

/* one row of a table: cells to values and defaults */
static void
convert_row(ImpRun *run, ImpDoc *doc, ImpTable *t, long rowno, char **cells,
			Datum *values, bool *nulls)
{
	for (int i = 0; i < t->nfields; i++)
	{
		ImpField   *f = &t->fields[i];
		const char *s = f->col >= 0 ? cells[f->col] : NULL;
		char	   *why;

		nulls[i] = true;
		if (s != NULL)
		{
			if (cell_datum(run, f, s, &values[i], &why))
				nulls[i] = false;
			else
				imp_doc_error(run, doc, rowno, f->header, s, "%s", why);
			continue;
		}
		if (run->update && f->col < 0)
			continue;			/* Update changes only the columns in the file */
		if (!run->update && default_datum(run, f, &values[i]))
			nulls[i] = false;
	}
}

/*
 * After the Link values are fetched (Insert): the title from its pattern,
 * then the mandatory fields.
 */
static void
complete_row(ImpRun *run, ImpDoc *doc, ImpTable *t, long rowno, int idx, char **cells,
			 Datum *values, bool *nulls)
{
	if (run->update)
		return;					/* (Update: the stored document has them) */
	for (int i = 0; i < t->nfields; i++)
	{
		ImpField   *f = &t->fields[i];

		if (f->defkind == FI_DEFAULT_TITLE && nulls[i])
		{
			values[i] = PointerGetDatum(cstring_to_text(title_from(t, f->df->default_value, values, nulls)));
			nulls[i] = false;
		}
	}

	/*
	 * Mandatory, in the DocType's field order (a Table field needs a row).
	 * A number left empty is stored as 0 (its column's default, as Frappe
	 * stores None), which Frappe's own check accepts when the document is
	 * next saved; ERPNext's controllers compute such totals, which SQL
	 * cannot run.
	 */
	if (t->nreqd < 0)
	{
		/* once a run: the mandatory fields in the DocType's order, each with its ImpField */
		MemoryContext old = MemoryContextSwitchTo(run->cxt);

		t->nreqd = fi_import_mandatory(t->meta, &t->reqd_df, imp_alloc, run->cxt);
		t->reqd_field = palloc(sizeof(int) * (t->nreqd + 1));
		for (int k = 0; k < t->nreqd; k++)
		{
			t->reqd_field[k] = -1;
			for (int i = 0; i < t->nfields; i++)
				if (t->fields[i].df == t->reqd_df[k])
					t->reqd_field[k] = i;
		}
		MemoryContextSwitchTo(old);
	}
	for (int k = 0; k < t->nreqd; k++)
	{
		const FiDocField *df = t->reqd_df[k];
		int			i = t->reqd_field[k];

		if (fi_fieldtype_is_table(df->fieldtype))
		{
			bool		has_rows = false;
			ListCell   *lc;

			if (t->child)
				continue;
			foreach(lc, doc->children)
				if (run->tables[((ImpChild *) lfirst(lc))->table].tdf == df)
					has_rows = true;
			if (!has_rows)
			{
				imp_doc_error(run, doc, doc->row, NULL, NULL, "%s",
							  fi_import_msg_table_missing(df->label ? df->label : df->fieldname, imp_alloc,
														  CurrentMemoryContext));
				((ImpError *) llast(doc->errors))->msgprint = true;
			}
			continue;
		}
		if (i >= 0)
		{
			ImpField   *f = &t->fields[i];

			if (nulls[i] && !(f->col >= 0 && cells[f->col] != NULL) && !names_the_document(run, t, f) &&
				fi_cell_empty_is_missing(f->cell.kind))
				missing_value(run, doc, t, rowno, idx, f);
		}
	}
}

/*
 * A document's values: the parent's from its first row, a child row from
 * every row with a value in that table's columns.
 */
void
imp_convert_doc(ImpRun *run, ImpDoc *doc)
{
	ImpTable   *t0 = &run->tables[0];
	ListCell   *lc;
	const char *ds;

	doc->values = palloc0(sizeof(Datum) * (t0->nfields + 1));
	doc->nulls = palloc0(sizeof(bool) * (t0->nfields + 1));
	convert_row(run, doc, t0, doc->row, doc->cells, doc->values, doc->nulls);

	doc->owner = (char *) run->user;
	if (t0->owner_col >= 0 && doc->cells[t0->owner_col] != NULL)
		doc->owner = doc->cells[t0->owner_col];
	doc->docstatus = run->submit ? 1 : 0;
	if (t0->docstatus_col >= 0 && (ds = doc->cells[t0->docstatus_col]) != NULL)
	{
		int			st;
		const char *why;

		if (fi_import_docstatus(ds, run->meta->is_submittable, &st, &why))
			doc->docstatus = (int16) st;
		else
			imp_doc_error(run, doc, doc->row, run->headers[t0->docstatus_col], ds, "%s", why);
	}
	doc->supplied_name = t0->id_col >= 0 && doc->cells[t0->id_col] != NULL;
	doc->name = doc->supplied_name ? doc->cells[t0->id_col] : NULL;

	foreach(lc, doc->rows)
	{
		ImpRow	   *row = lfirst(lc);

		for (int ti = 1; ti < run->ntables; ti++)
		{
			ImpTable   *t = &run->tables[ti];
			bool		any = (t->id_col >= 0 && row->cells[t->id_col] != NULL);
			ImpChild   *ch;
			int			idx = 1;
			ListCell   *lc2;

			for (int i = 0; i < t->nmapped && !any; i++)
				any = row->cells[t->fields[i].col] != NULL;
			if (!any)
				continue;		/* a child group with no value is skipped (Row.parse_doc) */
			ch = palloc0(sizeof(ImpChild));
			ch->table = ti;
			ch->row = row->row;
			ch->cells = row->cells;
			ch->values = palloc0(sizeof(Datum) * (t->nfields + 1));
			ch->nulls = palloc0(sizeof(bool) * (t->nfields + 1));
			convert_row(run, doc, t, row->row, row->cells, ch->values, ch->nulls);
			if (t->id_col >= 0 && row->cells[t->id_col] != NULL)
				ch->name = row->cells[t->id_col];
			foreach(lc2, doc->children)
				if (((ImpChild *) lfirst(lc2))->table == ti)
					idx++;
			ch->idx = idx;
			doc->children = lappend(doc->children, ch);
		}
	}
}

/* ---- set-wise checks ---- */

/* sets of values (kept inline: a value longer than KEYMAX - 1 is never looked up) */
#define KEYMAX	256

/*
 * A hash table in the current memory context keyed by a NUL-terminated
 * string kept inline (keysize bytes: a longer one is never entered); each
 * entry starts with its key.
 */
HTAB *
imp_string_hash(const char *name, long size, Size keysize, Size entrysize)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = CurrentMemoryContext;
#if PG_VERSION_NUM >= 140000
	return hash_create(name, size, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
#else
	return hash_create(name, size, &ctl, HASH_ELEM | HASH_CONTEXT);
#endif
}

static HTAB *
string_set(const char *name, long size)
{
	return imp_string_hash(name, size, KEYMAX, KEYMAX);
}

/* every (row, value) of field i of table t among the batch's live documents */
typedef void (*ValueVisitor) (ImpRun *run, ImpDoc *doc, long row, ImpField *f, const char *value, void *arg);

static void
visit_values(ImpRun *run, ImpDoc **docs, int n, int ti, int fi, ValueVisitor fn, void *arg)
{
	ImpTable   *t = &run->tables[ti];
	ImpField   *f = &t->fields[fi];

	for (int d = 0; d < n; d++)
	{
		ImpDoc	   *doc = docs[d];
		ListCell   *lc;

		if (doc->values == NULL)
			continue;			/* refused before its cells were read (a ragged row) */
		if (ti == 0)
		{
			if (f->col >= 0 && doc->cells[f->col] != NULL)
				fn(run, doc, doc->row, f, doc->cells[f->col], arg);
			else if (f->col < 0 && !doc->nulls[fi] && f->is_link)
				fn(run, doc, doc->row, f, imp_datum_text(f, doc->values[fi]), arg);
			continue;
		}
		foreach(lc, doc->children)
		{
			ImpChild   *ch = lfirst(lc);

			if (ch->table != ti)
				continue;
			if (f->col >= 0 && ch->cells[f->col] != NULL)
				fn(run, doc, ch->row, f, ch->cells[f->col], arg);
			else if (f->col < 0 && !ch->nulls[fi] && f->is_link)
				fn(run, doc, ch->row, f, imp_datum_text(f, ch->values[fi]), arg);
		}
	}
}

typedef struct Collect
{
	HTAB	   *seen;
	List	   *values;
	HTAB	   *known;
} Collect;

static void
collect_value(ImpRun *run, ImpDoc *doc, long row, ImpField *f, const char *value, void *arg)
{
	Collect    *c = arg;
	bool		found;

	if (strlen(value) >= KEYMAX)
	{
		/* longer than any name: cannot exist (and would not fit the hash key) */
		imp_doc_error(run, doc, row, f->header, value, "%s",
					  fi_import_msg_link_missing(value, f->link_doctype, imp_alloc, CurrentMemoryContext));
		return;
	}
	if (c->known && hash_search(c->known, value, HASH_FIND, NULL) != NULL)
		return;
	hash_search(c->seen, value, HASH_ENTER, &found);
	if (!found)
		c->values = lappend(c->values, (void *) value);
}

static void
flag_missing(ImpRun *run, ImpDoc *doc, long row, ImpField *f, const char *value, void *arg)
{
	HTAB	   *missing = arg;

	if (strlen(value) < KEYMAX && hash_search(missing, value, HASH_FIND, NULL) != NULL)
		imp_doc_error(run, doc, row, f->header, value, "%s",
					  fi_import_msg_link_missing(value, f->link_doctype, imp_alloc, CurrentMemoryContext));
}

static Datum
text_array(List *values)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(list_length(values), 1));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, values)
		d[i++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(d, i, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Link values: which do not exist, one query per column per batch */
static void
check_links(ImpRun *run, ImpDoc **docs, int n, int ti, int fi)
{
	ImpField   *f = &run->tables[ti].fields[fi];
	Collect		c;
	HTAB	   *missing;
	Oid			target;
	char	   *sql;
	Oid			types[1] = {TEXTARRAYOID};
	Datum		args[1];
	Oid			nametype;

	if (f->link_known == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(run->cxt);

		f->link_known = string_set("import link values", 1024);
		MemoryContextSwitchTo(old);
	}
	memset(&c, 0, sizeof(c));
	c.seen = string_set("import batch values", 256);
	c.known = f->link_known;
	visit_values(run, docs, n, ti, fi, collect_value, &c);
	if (c.values == NIL)
		return;
	missing = string_set("import missing values", 64);
	target = fi_site_table_oid(psprintf("tab%s", f->link_doctype), true);
	if (!OidIsValid(target))
	{
		ListCell   *lc;

		/* no table: nothing can exist (a Single or a missing DocType) */
		foreach(lc, c.values)
			hash_search(missing, lfirst(lc), HASH_ENTER, NULL);
	}
	else
	{
		nametype = get_atttype(target, get_attnum(target, "name"));
		/*
		 * EXCEPT, not NOT EXISTS: linear whatever the plan (a kept generic
		 * plan for a table just truncated and filled again chose a nested
		 * loop over a sequential scan, quadratic in the batch).
		 */
		sql = psprintf("SELECT unnest($1::text[]) EXCEPT SELECT name::text FROM %s WHERE name%s = ANY($1)",
					   fi_site_table(psprintf("tab%s", f->link_doctype)),
					   (nametype == VARCHAROID || nametype == TEXTOID) ? "" : "::text");
		args[0] = text_array(c.values);
		if (fi_spi_execute(sql, 1, types, args, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "Link check failed");
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char	   *v = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			hash_search(missing, v, HASH_ENTER, NULL);
		}
		SPI_freetuptable(SPI_tuptable);	/* (kept until SPI_finish otherwise) */
		/* the values that exist are remembered for the next batches */
		if (f->nlinkknown < LINK_CACHE_MAX)
		{
			ListCell   *lc;
			MemoryContext old = MemoryContextSwitchTo(run->cxt);

			foreach(lc, c.values)
			{
				if (hash_search(missing, lfirst(lc), HASH_FIND, NULL) == NULL &&
					f->nlinkknown < LINK_CACHE_MAX)
				{
					hash_search(f->link_known, lfirst(lc), HASH_ENTER, NULL);
					f->nlinkknown++;
				}
			}
			MemoryContextSwitchTo(old);
		}
	}
	if (hash_get_num_entries(missing) > 0)
		visit_values(run, docs, n, ti, fi, flag_missing, missing);
}

typedef struct UniqueCheck
{
	HTAB	   *seen;
	HTAB	   *existing;
	List	   *values;
	bool		second_pass;
} UniqueCheck;

static void
unique_visit(ImpRun *run, ImpDoc *doc, long row, ImpField *f, const char *value, void *arg)
{
	UniqueCheck *u = arg;
	bool		found;

	if (strlen(value) >= KEYMAX)
		return;
	if (!u->second_pass)
	{
		hash_search(u->seen, value, HASH_ENTER, &found);
		if (found)
			imp_doc_error(run, doc, row, f->header, value, "%s",
						  fi_import_msg_not_unique(f->cell.label, value, NULL, true, imp_alloc, CurrentMemoryContext));
		else
			u->values = lappend(u->values, (void *) value);
	}
	else if (hash_search(u->existing, value, HASH_FIND, NULL) != NULL)
		imp_doc_error(run, doc, row, f->header, value, "%s",
					  fi_import_msg_not_unique(f->cell.label, value, run->tables[0].doctype, false, imp_alloc,
											   CurrentMemoryContext));
}

/* a unique field: not twice in the batch, not already in the table */
static void
check_unique(ImpRun *run, ImpDoc **docs, int n, int ti, int fi)
{
	ImpTable   *t = &run->tables[ti];
	ImpField   *f = &t->fields[fi];
	UniqueCheck u;
	Oid			types[1] = {TEXTARRAYOID};
	Datum		args[1];

	memset(&u, 0, sizeof(u));
	u.seen = string_set("import unique values", 256);
	u.existing = string_set("import existing values", 64);
	visit_values(run, docs, n, ti, fi, unique_visit, &u);
	if (u.values == NIL)
		return;
	args[0] = text_array(u.values);
	if (fi_spi_execute(psprintf("SELECT %s::text FROM %s WHERE %s::text = ANY($1)",
								quote_identifier(f->fieldname),
								fi_site_table(psprintf("tab%s", t->doctype)),
								quote_identifier(f->fieldname)),
					   1, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "unique check failed");
	for (uint64 i = 0; i < SPI_processed; i++)
		hash_search(u.existing, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1),
					HASH_ENTER, NULL);
	SPI_freetuptable(SPI_tuptable);
	u.second_pass = true;
	if (hash_get_num_entries(u.existing) > 0)
		visit_values(run, docs, n, ti, fi, unique_visit, &u);
}

/* a Link target's row, by name */
typedef struct FetchRow
{
	char		key[KEYMAX];
	uint64		row;
} FetchRow;

/* every row of table ti among the batch's documents: values, nulls, row, idx, cells */
typedef void (*RowVisitor) (ImpRun *run, ImpDoc *doc, ImpTable *t, long row, int idx, char **cells,
							Datum *values, bool *nulls, void *arg);

static void
visit_rows(ImpRun *run, ImpDoc **docs, int n, int ti, RowVisitor fn, void *arg)
{
	for (int d = 0; d < n; d++)
	{
		ImpDoc	   *doc = docs[d];
		ListCell   *lc;

		if (doc->values == NULL)
			continue;
		if (ti == 0)
		{
			fn(run, doc, &run->tables[0], doc->row, 0, doc->cells, doc->values, doc->nulls, arg);
			continue;
		}
		foreach(lc, doc->children)
		{
			ImpChild   *ch = lfirst(lc);

			if (ch->table == ti)
				fn(run, doc, &run->tables[ti], ch->row, ch->idx, ch->cells, ch->values, ch->nulls, arg);
		}
	}
}

typedef struct Fetch
{
	int			link;			/* the Link field */
	int		   *fields;			/* the fields fetched through it */
	int			nfields;
	HTAB	   *rows;			/* target name -> row of tt */
	SPITupleTable *tt;			/* name, then one column per field */
	List	   *values;			/* (collecting) the distinct Link values */
} Fetch;

static void
fetch_collect(ImpRun *run, ImpDoc *doc, ImpTable *t, long row, int idx, char **cells,
			  Datum *values, bool *nulls, void *arg)
{
	Fetch	   *fe = arg;
	char	   *v;
	bool		found;

	if (nulls[fe->link])
		return;
	v = imp_datum_text(&t->fields[fe->link], values[fe->link]);
	if (strlen(v) >= KEYMAX)
		return;					/* (reported as missing) */
	hash_search(fe->rows, v, HASH_ENTER, &found);
	if (!found)
		fe->values = lappend(fe->values, v);
}

static void
fetch_apply(ImpRun *run, ImpDoc *doc, ImpTable *t, long row, int idx, char **cells,
			Datum *values, bool *nulls, void *arg)
{
	Fetch	   *fe = arg;
	FetchRow   *r;
	char	   *v;

	if (nulls[fe->link])
		return;
	v = imp_datum_text(&t->fields[fe->link], values[fe->link]);
	if (strlen(v) >= KEYMAX || (r = hash_search(fe->rows, v, HASH_FIND, NULL)) == NULL ||
		r->row == PG_UINT64_MAX)
		return;					/* no such target (the Link check reports it) */
	for (int k = 0; k < fe->nfields; k++)
	{
		int			i = fe->fields[k];
		ImpField   *f = &t->fields[i];
		char	   *src,
				   *why;

		if (f->df->fetch_if_empty && !nulls[i])
			continue;
		src = SPI_getvalue(fe->tt->vals[r->row], fe->tt->tupdesc, k + 2);
		nulls[i] = true;
		if (src == NULL)
			continue;			/* Frappe sets None: the column's default */
		if (f->cell.kind == FI_CELL_DATE || f->cell.kind == FI_CELL_DATETIME || f->cell.kind == FI_CELL_TIME)
		{
			/* (cast by the query to the field's own type) */
			values[i] = input_text(f, src);
			nulls[i] = false;
		}
		else if (cell_datum(run, f, src, &values[i], &why))
			nulls[i] = false;
		else
			imp_doc_error(run, doc, row, NULL, src, "%s (fetched from %s %s)", why,
						  t->fields[fe->link].link_doctype, v);
	}
}

/*
 * fetch_from (Insert): each field fetched through a Link takes the value of
 * the Link target's field, one query per Link field per batch; a field with
 * fetch_if_empty only when the file leaves it empty (Frappe's
 * get_invalid_links, run before naming, the title and the mandatory check).
 */
static void
fetch_values(ImpRun *run, ImpDoc **docs, int n, int ti)
{
	ImpTable   *t = &run->tables[ti];

	for (int li = 0; li < t->nfields; li++)
	{
		Fetch		fe;
		Oid			target;
		StringInfoData sql;
		Oid			types[1] = {TEXTARRAYOID};
		Datum		args[1];
		ListCell   *lc;

		memset(&fe, 0, sizeof(fe));
		fe.link = li;
		fe.fields = palloc(sizeof(int) * t->nfields);
		for (int i = 0; i < t->nfields; i++)
			if (t->fields[i].fetch_link == li)
				fe.fields[fe.nfields++] = i;
		if (fe.nfields == 0)
			continue;
		target = fi_site_table_oid(psprintf("tab%s", t->fields[li].link_doctype), true);
		if (!OidIsValid(target))
			continue;
		fe.rows = imp_string_hash("import fetch_from", 256, KEYMAX, sizeof(FetchRow));
		visit_rows(run, docs, n, ti, fetch_collect, &fe);
		if (fe.values == NIL)
			continue;
		initStringInfo(&sql);
		appendStringInfoString(&sql, "SELECT name::text");
		for (int k = 0; k < fe.nfields; k++)
		{
			ImpField   *f = &t->fields[fe.fields[k]];

			/* a source the target's table lacks fetches nothing (a meta ahead of its table) */
			if (get_attnum(target, f->fetch_src) == InvalidAttrNumber)
				appendStringInfoString(&sql, ", NULL::text");
			else
				appendStringInfo(&sql, ", %s::%s", quote_identifier(f->fetch_src),
								 f->cell.kind == FI_CELL_DATE ? "date" : f->cell.kind == FI_CELL_DATETIME ? "timestamp" :
								 f->cell.kind == FI_CELL_TIME ? "time" : "text");
		}
		appendStringInfo(&sql, " FROM %s WHERE name::text = ANY($1)",
						 fi_site_table(psprintf("tab%s", t->fields[li].link_doctype)));
		args[0] = text_array(fe.values);
		if (fi_spi_execute(sql.data, 1, types, args, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "fetch_from query failed");
		fe.tt = SPI_tuptable;
		foreach(lc, fe.values)
			((FetchRow *) hash_search(fe.rows, lfirst(lc), HASH_FIND, NULL))->row = PG_UINT64_MAX;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			char	   *name = SPI_getvalue(fe.tt->vals[r], fe.tt->tupdesc, 1);
			FetchRow   *e;

			if (name != NULL && strlen(name) < KEYMAX &&
				(e = hash_search(fe.rows, name, HASH_FIND, NULL)) != NULL)
				e->row = r;
		}
		visit_rows(run, docs, n, ti, fetch_apply, &fe);
		SPI_freetuptable(fe.tt);
	}
}

static void
complete_visit(ImpRun *run, ImpDoc *doc, ImpTable *t, long row, int idx, char **cells,
			   Datum *values, bool *nulls, void *arg)
{
	complete_row(run, doc, t, row, idx, cells, values, nulls);
}

void
imp_check_batch(ImpRun *run, ImpDoc **docs, int n)
{
	for (int ti = 0; ti < run->ntables; ti++)
	{
		ImpTable   *t = &run->tables[ti];

		for (int fi = 0; fi < t->nfields; fi++)
		{
			ImpField   *f = &t->fields[fi];

			if (f->is_link)
				check_links(run, docs, n, ti, fi);
			/* (the field that names the document is checked as the name) */
			if (f->unique && !run->update && f->col >= 0 && !names_the_document(run, t, f))
				check_unique(run, docs, n, ti, fi);
		}
		if (!run->update)
		{
			fetch_values(run, docs, n, ti);
			visit_rows(run, docs, n, ti, complete_visit, NULL);
		}
	}
}
