/*
 * import.c
 *		Data Import from SQL: integrations.import_csv, import_xlsx, import_csv_file and
 *		import_template, with Frappe's Data Import rules (frappe-facts 8).
 *
 * The file is read once (twice when it has Date or Datetime columns: the
 * first pass guesses each column's format from all its values, as Frappe
 * does).  Rows are grouped into documents; documents are processed in
 * batches, each batch in a subtransaction: cells checked and converted,
 * Link/unique checks one query per column per batch, names given, rows
 * written with the table's indexes and triggers as COPY writes them.  A
 * batch that raises an error is done again one document at a time, so one
 * bad document fails alone, whole.  atomic and dry_run wrap the run in one
 * more subtransaction that is rolled back when asked.
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "frappe_integrations.h"
#include "import.h"
#include "webhook.h"
#include "engine/csv.h"
#include "engine/importlog.h"
#include "engine/importmap.h"

#define IMPORT_INSERT	"Insert New Records"
#define IMPORT_UPDATE	"Update Existing Records"
#define MAX_ERRORS_KEPT	10000
#define BATCH_ROWS		20000

/* DocTypes Frappe's Data Import refuses (data_import.py) */
static const char *const blocked_doctypes[] = {
	"DefaultValue", "DocType", "DocField", "DocPerm", "DocType Action", "DocType Link",
	"Page", "Module Def", "Print Format", "Report", "Customize Form",
	"Customize Form Field", "Property Setter", "Custom Field", "Client Script"
};

/* ---- options ---- */

static const char *const known_options[] = {
	"user", "atomic", "dry_run", "webhooks", "data_import", "submit_after_import",
	"column_to_field_map", "batch_size", "progress_seconds", "xlsx_max_part"
};

/* column_to_field_map["<column index>"], or NULL */
static char *
column_override(Jsonb *opts, int col)
{
	JsonbValue	k,
			   *map = fi_opt_find(opts, "column_to_field_map"),
			   *v;
	char		key[16];

	if (map == NULL)
		return NULL;
	if (map->type != jbvBinary || !JsonContainerIsObject(map->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"column_to_field_map\" must be an object of column index to field")));
	snprintf(key, sizeof(key), "%d", col);
	k.type = jbvString;
	k.val.string.val = key;
	k.val.string.len = strlen(key);
	v = findJsonbValueFromContainer(map->val.binary.data, JB_FOBJECT, &k);
	if (v == NULL)
		return NULL;
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column_to_field_map[\"%s\"] must be a string", key)));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* ---- the input text ---- */

/*
 * The file's bytes as UTF-8 text: a BOM dropped; not UTF-8, then
 * windows-1252 (as Frappe's read_csv_content falls back); NUL refused.
 */
static char *
decode_input(const char *data, size_t len, size_t *outlen)
{
	size_t		bad;
	const char *nul;

	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		data += 3, len -= 3;
	nul = memchr(data, '\0', len);
	if (nul != NULL)
	{
		long		line = 1;

		for (const char *p = data; p < nul; p++)
			line += (*p == '\n');
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("the file contains a NUL byte (line %ld)", line),
				 errhint("A CSV file is text; this looks like a binary file (or UTF-16).")));
	}
	if (fi_utf8_valid(data, len, &bad))
	{
		*outlen = len;
		return (char *) data;
	}
	else
	{
		char	   *out = palloc(len * 3 + 1);
		size_t		bad2;
		long		n = fi_cp1252_to_utf8((const unsigned char *) data, len, out, &bad2);

		if (n < 0)
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("the file is neither UTF-8 nor windows-1252"),
					 errdetail("Byte 0x%02x at offset %zu is not UTF-8; byte 0x%02x at offset %zu "
							   "has no character in windows-1252.",
							   (unsigned char) data[bad], bad, (unsigned char) data[bad2], bad2),
					 errhint("Save the file as UTF-8.")));
		out[n] = '\0';
		*outlen = n;
		return out;
	}
}

/* ---- the source ---- */

/* an Excel reader's refusal, raised */
static void
xlsx_error(FiXlsxErr e, const char *msg)
{
	ereport(ERROR,
			(errcode(e == FI_XLSX_BAD_XML ? ERRCODE_INVALID_TEXT_REPRESENTATION :
					 e == FI_XLSX_TOO_BIG ? ERRCODE_PROGRAM_LIMIT_EXCEEDED :
					 e == FI_XLSX_NOMEM ? ERRCODE_OUT_OF_MEMORY : ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", msg),
			 e == FI_XLSX_NOT_XLSX ? errhint("integrations.import_xlsx reads Excel 2007+ workbooks (.xlsx); "
											 "save an .xls or .ods file as .xlsx first.") : 0));
}

int
imp_source_next(ImpSource *src)
{
	int			rc;

	if (src->xlsx == NULL)
	{
		if ((rc = fi_csv_next(&src->rec)) < 0)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory reading the file")));
		return rc;
	}
	else
	{
		bool		done;
		char		msg[256];
		FiXlsxErr	e = fi_xlsx_next(src->xlsx, &src->rec, &done, msg, sizeof(msg));

		if (e != FI_XLSX_OK)
			xlsx_error(e, msg);
		return done ? 0 : 1;
	}
}

/*
 * FiXlsxCellHook: each cell of the sheet as it is opened, for the date
 * guesses (engine/importcell.c).  It must not raise (it runs inside libzip
 * and expat): a cancel, or memory running out, stops the opening, and the
 * caller raises once the reader is freed.
 */
static bool
guess_cell(void *arg, long row, int col, const char *text, size_t len)
{
	ImpSource  *src = arg;

	if (InterruptPending)
		return false;
	return fi_sheet_guess_cell(&src->guess, row, col, text, len);
}

static void
source_free(ImpSource *src)
{
	fi_csv_free(&src->rec);
	fi_sheet_guess_free(&src->guess);
	fi_xlsx_close(src->xlsx);
	src->xlsx = NULL;
}

/* ---- header ---- */


/* the storage side of the header engine: meta from the cache, memory from the current context */
static const FiDocMeta *
hook_meta(void *arg, const char *doctype)
{
	return fi_get_meta(doctype, true);
}

static void *
hook_alloc(void *arg, size_t size)
{
	return palloc0(size);
}

static const FiImportHooks import_hooks = {NULL, hook_meta, hook_alloc};

/* a warning of the run (the message made by the caller) */
static void
warn(ImpRun *run, const char *message)
{
	MemoryContext old = MemoryContextSwitchTo(run->cxt);

	run->warnings = lappend(run->warnings, pstrdup(message));
	MemoryContextSwitchTo(old);
}

/* Map the header row onto tables and fields (engine/importmap.c); sets up run->tables. */
static void
map_header(ImpRun *run, FiCsvReader *r, Jsonb *opts)
{
	FiImpHeader h;
	List	  **fields;			/* per table: ImpField, in file order */

	run->ncols = r->nfields;
	run->headers = palloc(sizeof(char *) * r->nfields);
	run->parent_col = palloc0(sizeof(bool) * Max(r->nfields, 1));
	fi_import_header_init(&h, run->meta, &import_hooks);
	fields = palloc0(sizeof(List *) * h.cap);

	for (int c = 0; c < r->nfields; c++)
	{
		size_t		b,
					len = fi_py_strip(r->buf + r->off[c], r->len[c], &b);
		char	   *title = pnstrdup(r->buf + r->off[c] + b, len);
		FiImpColumn col;

		CHECK_FOR_INTERRUPTS();	/* a header of millions of columns */
		run->headers[c] = title;
		fi_import_header_column(&h, c, title, column_override(opts, c), &col);
		run->parent_col[c] = fi_import_is_parent_column(&col);
		if (col.warning)
			warn(run, col.warning);
		else if (col.kind == FI_IMPCOL_FIELD)
		{
			ImpField   *f = palloc0(sizeof(ImpField));

			f->df = col.field;
			f->col = c;
			f->header = title;
			fields[col.table] = lappend(fields[col.table], f);
		}
	}
	if (h.nmapped == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no column of the header matches a field of %s", run->doctype),
				 errdetail("The header is the first non-empty row of the file."),
				 errhint("Use the fields' labels or fieldnames as column titles "
						 "(integrations.import_template('%s') gives a header).", run->doctype)));

	/* the tables, in the order the header first names them; mapped fields first, in file order */
	run->tables = palloc0(sizeof(ImpTable) * h.ntables);
	run->ntables = h.ntables;
	for (int t = 0; t < run->ntables; t++)
	{
		ImpTable   *tab = &run->tables[t];
		const FiDocField *tdf = h.table_field[t];
		ListCell   *lc;
		int			n = 0;

		tab->meta = h.table_meta[t];
		tab->doctype = tab->meta->name;
		tab->id_col = h.id_col[t];
		tab->idx_col = h.idx_col[t];
		tab->owner_col = h.owner_col[t];
		tab->docstatus_col = h.docstatus_col[t];
		if (tdf != NULL)
		{
			tab->child = true;
			tab->tdf = tdf;
			tab->parentfield = tdf->fieldname;
			tab->tlabel = tdf->label ? tdf->label : tdf->fieldname;
		}
		tab->fields = palloc0(sizeof(ImpField) * (list_length(fields[t]) + tab->meta->nfields + 1));
		foreach(lc, fields[t])
			tab->fields[n++] = *(ImpField *) lfirst(lc);
		tab->nmapped = n;
		tab->nfields = n;
		imp_prepare_table(run, tab);
	}
}

/* ---- documents and batches ---- */

static void
doc_reset(ImpDoc *doc)
{
	doc->errors = NIL;
	doc->failed = false;
	doc->children = NIL;
	doc->name = NULL;
	doc->values = NULL;
	doc->nulls = NULL;
	doc->skipped = false;
	doc->updated = false;
}

static void
do_batch(ImpRun *run, ImpDoc **docs, int n)
{
	TimestampTz now = GetCurrentTimestamp();

	/* the batch's clock, naive in the site's time zone */
	run->now = now + (fi_site_now_usec() -
					  ((int64) GetCurrentTransactionStartTimestamp() +
					   (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY));
	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (!docs[i]->failed)
			imp_convert_doc(run, docs[i]);
	}
	imp_check_batch(run, docs, n);
	if (run->update)
		imp_update_batch(run, docs, n);
	else
	{
		imp_name_batch(run, docs, n);
		imp_insert_batch(run, docs, n);
	}
	CommandCounterIncrement();
}

/* errors an import must not swallow: cancel, shutdown, out of resources */
static bool
fatal_for_run(int sqlerrcode)
{
	int			cls = ERRCODE_TO_CATEGORY(sqlerrcode);

	return cls == ERRCODE_TO_CATEGORY(ERRCODE_OPERATOR_INTERVENTION) ||
		cls == ERRCODE_TO_CATEGORY(ERRCODE_INSUFFICIENT_RESOURCES) ||
		cls == ERRCODE_TO_CATEGORY(ERRCODE_PROGRAM_LIMIT_EXCEEDED) ||
		cls == ERRCODE_TO_CATEGORY(ERRCODE_INTERNAL_ERROR) ||
		cls == ERRCODE_TO_CATEGORY(ERRCODE_SYSTEM_ERROR);
}

/*
 * A batch in a subtransaction; on an error, each document again in one of
 * its own, so that the error lands on the document that raised it.
 */
static void
run_batch(ImpRun *run, ImpDoc **docs, int n)
{
	MemoryContext old = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(old);
	PG_TRY();
	{
		do_batch(run, docs, n);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(old);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(old);
		CurrentResourceOwner = owner;
		if (fatal_for_run(edata->sqlerrcode))
			ReThrowError(edata);
		elog(DEBUG1, "import of %s: a batch of %d documents failed (%s); one document at a time",
			 run->doctype, n, edata->message);
	}
	PG_END_TRY();

	if (edata == NULL)
		return;
	if (n == 1)
	{
		ImpDoc	   *doc = docs[0];

		doc_reset(doc);
		imp_doc_error(run, doc, doc->row, NULL, NULL, "%s%s%s", edata->message,
					  edata->detail ? ": " : "", edata->detail ? edata->detail : "");
		return;
	}
	for (int i = 0; i < n; i++)
	{
		bool		parse_failed = docs[i]->failed && docs[i]->values == NULL;

		if (parse_failed)
			continue;			/* failed before conversion: keep its errors */
		doc_reset(docs[i]);
		run_batch(run, &docs[i], 1);
	}
}

/* ---- the result ---- */

static void
json_str(StringInfo buf, const char *s)
{
	if (s == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, s);
}

static void
errors_json(StringInfo buf, List *errors)
{
	ListCell   *lc;
	bool		first = true;

	appendStringInfoChar(buf, '[');
	foreach(lc, errors)
	{
		ImpError   *e = lfirst(lc);

		if (!first)
			appendStringInfoString(buf, ", ");
		first = false;
		appendStringInfo(buf, "{\"row\": %ld, \"column\": ", e->row);
		json_str(buf, e->column);
		appendStringInfoString(buf, ", \"value\": ");
		json_str(buf, e->value);
		appendStringInfoString(buf, ", \"message\": ");
		json_str(buf, e->message);
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, ']');
}

/* the log of one document, for tabData Import Log */
typedef struct ImpLog
{
	char	   *docname;
	char	   *row_indexes;
	char	   *messages;
	char	   *exception;
	bool		success;
} ImpLog;

static void
note_outcome(ImpRun *run, ImpDoc *doc)
{
	ListCell   *lc;

	if (doc->failed)
	{
		run->failed++;
		foreach(lc, doc->errors)
		{
			ImpError   *e = lfirst(lc),
					   *k;
			MemoryContext old;

			if (run->nerrors_kept >= MAX_ERRORS_KEPT)
				break;
			old = MemoryContextSwitchTo(run->cxt);
			k = palloc(sizeof(ImpError));
			k->row = e->row;
			k->column = e->column ? pstrdup(e->column) : NULL;
			k->value = e->value ? pstrdup(e->value) : NULL;
			k->message = pstrdup(e->message);
			run->errors = lappend(run->errors, k);
			MemoryContextSwitchTo(old);
			run->nerrors_kept++;
		}
	}
	else if (doc->skipped)
		run->unchanged++;
	else if (run->update)
		run->updated++;
	else
		run->inserted++;

	if (run->data_import != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(run->cxt);
		ImpLog	   *log = palloc0(sizeof(ImpLog));
		long	   *rows = palloc(sizeof(long) * (list_length(doc->rows) + 1));
		FiImportLogMsg *msgs = palloc(sizeof(FiImportLogMsg) * (list_length(doc->errors) + 1));
		int			nrows = 0,
					nmsgs = 0;
		FiImportLog texts;

		foreach(lc, doc->rows)
			rows[nrows++] = ((ImpRow *) lfirst(lc))->row;
		foreach(lc, doc->errors)
		{
			msgs[nmsgs].message = ((ImpError *) lfirst(lc))->message;
			msgs[nmsgs++].msgprint = ((ImpError *) lfirst(lc))->msgprint;
		}
		fi_import_log(rows, nrows, !doc->failed, msgs, nmsgs, imp_alloc, CurrentMemoryContext, &texts);
		log->row_indexes = texts.row_indexes;
		log->messages = texts.messages;
		log->exception = texts.exception;
		log->success = !doc->failed;
		log->docname = doc->failed ? NULL : pstrdup(doc->name ? doc->name : "");
		run->log = lappend(run->log, log);
		MemoryContextSwitchTo(old);
	}
}

/* write the kept logs as tabData Import Log rows */
static void
flush_log(ImpRun *run, long *log_index)
{
	int			n = list_length(run->log);
	Datum	   *names,
			   *docnames,
			   *exceptions,
			   *rowidx,
			   *success,
			   *logidx,
			   *messages;
	bool	   *dn_nulls,
			   *ex_nulls;
	ListCell   *lc;
	int			i = 0;
	Oid			types[9] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID,
	INT8ARRAYOID, TEXTARRAYOID, TEXTOID, TEXTOID};
	Datum		args[9];
	int			dims[1];
	int			lbs[1] = {1};
	char	   *sql;

	if (n == 0)
		return;
	names = palloc(sizeof(Datum) * n);
	docnames = palloc(sizeof(Datum) * n);
	exceptions = palloc(sizeof(Datum) * n);
	rowidx = palloc(sizeof(Datum) * n);
	success = palloc(sizeof(Datum) * n);
	logidx = palloc(sizeof(Datum) * n);
	messages = palloc(sizeof(Datum) * n);
	dn_nulls = palloc0(sizeof(bool) * n);
	ex_nulls = palloc0(sizeof(bool) * n);
	foreach(lc, run->log)
	{
		ImpLog	   *log = lfirst(lc);

		names[i] = CStringGetTextDatum(imp_hash_name());
		docnames[i] = log->docname ? CStringGetTextDatum(log->docname) : (Datum) 0;
		dn_nulls[i] = log->docname == NULL;
		exceptions[i] = log->exception ? CStringGetTextDatum(log->exception) : (Datum) 0;
		ex_nulls[i] = log->exception == NULL;
		rowidx[i] = CStringGetTextDatum(log->row_indexes);
		success[i] = Int32GetDatum(log->success ? 1 : 0);
		logidx[i] = Int64GetDatum((*log_index)++);
		messages[i] = CStringGetTextDatum(log->messages);
		i++;
	}
	dims[0] = n;
	args[0] = PointerGetDatum(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[1] = PointerGetDatum(construct_md_array(docnames, dn_nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
	args[2] = PointerGetDatum(construct_md_array(exceptions, ex_nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
	args[3] = PointerGetDatum(construct_array(rowidx, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[4] = PointerGetDatum(construct_array(success, n, INT4OID, 4, true, TYPALIGN_INT));
	args[5] = PointerGetDatum(construct_array(logidx, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[6] = PointerGetDatum(construct_array(messages, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[7] = CStringGetTextDatum(run->data_import);
	args[8] = CStringGetTextDatum(run->user);
	sql = psprintf("INSERT INTO %s (name, creation, modified, modified_by, owner, docstatus, idx, "
				   "data_import, docname, exception, row_indexes, success, log_index, messages) "
				   "SELECT n, now()::timestamp, now()::timestamp, $9, $9, 0, 0, $8, d, e, r, s, l, m "
				   "FROM unnest($1, $2, $3, $4, $5, $6, $7) AS u(n, d, e, r, s, l, m)",
				   fi_site_table("tabData Import Log"));
	if (fi_spi_execute(sql, 9, types, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write the Data Import Log");
	list_free_deep(run->log);
	run->log = NIL;
}

static const char *
run_status(ImpRun *run)
{
	return fi_import_status(run->inserted + run->updated + run->unchanged, run->failed, false);
}

/* ---- the run ---- */

static void
progress(ImpRun *run, TimestampTz start, TimestampTz *last, double every)
{
	TimestampTz now = GetCurrentTimestamp();
	long		secs;
	int			usecs;
	double		elapsed;

	if (every < 0 || !TimestampDifferenceExceeds(*last, now, (int) (every * 1000)))
		return;
	*last = now;
	TimestampDifference(start, now, &secs, &usecs);
	elapsed = secs + usecs / 1e6;
	ereport(NOTICE,
			(errmsg("import of %s: %ld rows read, %ld documents done (%ld failed), %.0f rows/s",
					run->doctype, run->rows, run->inserted + run->updated + run->unchanged + run->failed,
					run->failed, elapsed > 0 ? run->rows / elapsed : 0.0)));
}

/* the data rows: grouped into documents, imported a batch at a time */
static void
import_rows(ImpRun *run, ImpSource *src, bool *parent_col, bool wrap, double every,
			TimestampTz start)
{
	FiCsvReader *rp = &src->rec;
		ImpDoc	  **batch = palloc(sizeof(ImpDoc *) * run->batch_docs);
	int			nbatch = 0;
	long		batch_rows = 0;
	ImpDoc	   *cur = NULL;
	TimestampTz last = start;
	int			rc;

	MemoryContextSwitchTo(run->batch_cxt);
	for (;;)
	{
		FiImpRowKind kind = FI_IMPROW_STARTS;
		ImpRow	   *row;

		CHECK_FOR_INTERRUPTS();
		rc = imp_source_next(src);
		if (rc == 1)
		{
			/* Frappe's grouping (engine/importmap.c): a parent value starts the next document */
			kind = fi_import_row_kind(rp, parent_col, run->ncols, cur != NULL);
			if (kind == FI_IMPROW_BLANK)
				continue;
			run->rows++;
		}
		if (rc == 0 || kind == FI_IMPROW_STARTS)
		{
			if (cur != NULL)
			{
				batch[nbatch++] = cur;
				cur = NULL;
			}
			if (rc == 0 || nbatch == run->batch_docs || batch_rows >= BATCH_ROWS)
			{
				if (nbatch > 0)
				{
					run_batch(run, batch, nbatch);
					for (int i = 0; i < nbatch; i++)
						note_outcome(run, batch[i]);
					if (run->data_import && !wrap)
						flush_log(run, &run->log_index);
					run->documents += nbatch;
				}
				nbatch = 0;
				batch_rows = 0;
				MemoryContextReset(run->batch_cxt);
				progress(run, start, &last, every);
			}
			if (rc == 0)
				break;
			cur = palloc0(sizeof(ImpDoc));
		}
		row = palloc(sizeof(ImpRow));
		row->row = rp->record_no;
		row->cells = palloc0(sizeof(char *) * Max(rp->nfields, run->ncols));
		for (int i = 0; i < rp->nfields; i++)
		{
			size_t		b,
						l = fi_py_strip(rp->buf + rp->off[i], rp->len[i], &b);

			if (l > 0)
				row->cells[i] = pnstrdup(rp->buf + rp->off[i] + b, l);
		}
		if (cur->rows == NIL)
		{
			cur->row = row->row;
			cur->cells = row->cells;
		}
		cur->rows = lappend(cur->rows, row);
		batch_rows++;
		if (rp->nfields != run->ncols)
			imp_doc_error(run, cur, row->row, NULL, NULL,
						  "the row has %d cells, the header has %d", rp->nfields, run->ncols);
		if (rp->unterminated)
			imp_doc_error(run, cur, row->row, NULL, NULL,
						  "a quoted cell is never closed: the file ends inside quotes");
	}
}

static Jsonb *
import_run(const char *doctype, const char *data, size_t len, bool xlsx, const char *import_type,
		   Jsonb *opts)
{
	ImpRun	   *run;
	ImpSource  *src;
	MemoryContext cxt,
				outer_cxt = CurrentMemoryContext;
	ResourceOwner outer_owner = CurrentResourceOwner;
	bool		have_header = false;
	StringInfoData out;
	bool		saved_webhooks = fi_webhooks_on;
	bool		wrap;
	double		every;
	TimestampTz start = GetCurrentTimestamp();
	int			rc;
	MemoryContextCallback *cb;
	bool	   *parent_col;

	fi_check_version();
	fi_opt_check_keys(opts, known_options, lengthof(known_options));
	cxt = AllocSetContextCreate(CurrentMemoryContext, "frappe_integrations import",
								ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	run = palloc0(sizeof(ImpRun));
	run->cxt = cxt;
	run->batch_cxt = AllocSetContextCreate(cxt, "import batch", ALLOCSET_DEFAULT_SIZES);
	if (import_type == NULL || pg_strcasecmp(import_type, IMPORT_INSERT) == 0 ||
		pg_strcasecmp(import_type, "insert") == 0)
		run->update = false;
	else if (pg_strcasecmp(import_type, IMPORT_UPDATE) == 0 || pg_strcasecmp(import_type, "update") == 0)
		run->update = true;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("import_type must be \"%s\" or \"%s\"", IMPORT_INSERT, IMPORT_UPDATE)));
	run->meta = fi_get_meta(doctype, false);
	run->doctype = run->meta->name;
	for (int i = 0; i < (int) lengthof(blocked_doctypes); i++)
		if (strcmp(doctype, blocked_doctypes[i]) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s cannot be imported", doctype),
					 errdetail("Frappe's Data Import refuses core DocTypes.")));
	if (run->meta->istable)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is a child table and cannot be imported alone", doctype),
				 errhint("Import its parent DocType, with the child columns as \"Label (Table Label)\".")));
	if (run->meta->issingle || run->meta->is_virtual)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is a %s DocType and has no table to import into", doctype,
						run->meta->issingle ? "Single" : "virtual")));
	run->atomic = fi_opt_bool(opts, "atomic", false);
	run->dry_run = fi_opt_bool(opts, "dry_run", false);
	run->webhooks = fi_opt_bool(opts, "webhooks", false);
	run->submit = fi_opt_bool(opts, "submit_after_import", false);
	if (run->submit && !run->meta->is_submittable)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is not submittable", doctype),
				 errhint("Leave out submit_after_import.")));
	run->user = fi_opt_text(opts, "user");
	if (run->user == NULL)
		run->user = "Administrator";
	run->data_import = fi_opt_text(opts, "data_import");
	run->batch_docs = (int) fi_opt_number(opts, "batch_size", 1000, 1, 100000);
	every = fi_opt_number(opts, "progress_seconds", 5, -1, 86400);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (run->data_import != NULL)
	{
		Oid			t[1] = {TEXTOID};
		Datum		v[1] = {CStringGetTextDatum(run->data_import)};

		if (fi_spi_execute(psprintf("SELECT 1 FROM %s WHERE name = $1",
									fi_site_table("tabData Import")), 1, t, v, NULL, true, 1) != SPI_OK_SELECT ||
			SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("Data Import %s not found", run->data_import),
					 errhint("options.data_import names the tabData Import document to log to.")));
	}

	/* (in the import's context: its reset callback frees what the readers hold, also on error) */
	src = palloc0(sizeof(ImpSource));
	cb = palloc(sizeof(MemoryContextCallback));
	cb->func = (MemoryContextCallbackFunction) source_free;
	cb->arg = src;
	MemoryContextRegisterResetCallback(cxt, cb);
	if (xlsx)
	{
		FiXlsxLimits lim;
		char		msg[256];
		FiXlsxErr	e;

		fi_xlsx_default_limits(&lim);
		lim.max_part = (size_t) fi_opt_number(opts, "xlsx_max_part", (double) lim.max_part, 1, 1e15);
		/* (the hook may raise: it runs inside the open, whose memory the reset callback frees) */
		if ((e = fi_xlsx_open(data, len, &lim, guess_cell, src, &src->xlsx, msg, sizeof(msg))) != FI_XLSX_OK)
		{
			/* the reader has freed what it held: now a cancel or a refusal may raise */
			CHECK_FOR_INTERRUPTS();
			if (e == FI_XLSX_STOPPED)
				ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory reading the workbook")));
			xlsx_error(e, msg);
		}
		if (!fi_sheet_guess_end(&src->guess))
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory reading the workbook")));
	}
	else
	{
		data = decode_input(data, len, &len);
		fi_csv_init(&src->rec, data, len);
	}

	/* the header */
	while ((rc = imp_source_next(src)) == 1)
	{
		bool		empty = true;

		for (int i = 0; i < src->rec.nfields && empty; i++)
		{
			size_t		b;

			if (fi_py_strip(src->rec.buf + src->rec.off[i], src->rec.len[i], &b) > 0)
				empty = false;
		}
		if (!empty)
		{
			map_header(run, &src->rec, opts);
			have_header = true;
			break;
		}
	}
	if (!have_header)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("Import template should contain a Header and atleast one row."),
				 errdetail("The file is empty.")));

	/* Date and Datetime columns: Frappe guesses each column's format from all its values */
	imp_guess_date_formats(run, src);

	/* the columns whose values start a document */
	parent_col = run->parent_col;

	/* webhooks fire for imported documents only when asked (Frappe: never) */
	run->triggers = true;
	fi_webhooks_on = run->webhooks && saved_webhooks;

	wrap = run->atomic || run->dry_run;
	if (wrap)
	{
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
	}
	PG_TRY();
	{
		import_rows(run, src, parent_col, wrap, every, start);
		MemoryContextSwitchTo(cxt);
		if (wrap)
		{
			if (run->dry_run || (run->atomic && run->failed > 0))
			{
				RollbackAndReleaseCurrentSubTransaction();
				run->rolled_back = true;
			}
			else
				ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = outer_owner;
		}
	}
	PG_FINALLY();
	{
		fi_webhooks_on = saved_webhooks;
	}
	PG_END_TRY();

	if (run->data_import != NULL)
	{
		Oid			t[4] = {TEXTOID, TEXTOID, INT8OID, TEXTOID};
		Datum		v[4];

		flush_log(run, &run->log_index);
		v[0] = CStringGetTextDatum(run->data_import);
		v[1] = CStringGetTextDatum(run->rolled_back && !run->dry_run ? "Error" : run_status(run));
		v[2] = Int64GetDatum(run->documents);
		v[3] = CStringGetTextDatum(run->user);
		fi_spi_execute(psprintf("UPDATE %s SET status = $2, payload_count = $3, "
								"modified = now()::timestamp, modified_by = $4 WHERE name = $1",
								fi_site_table("tabData Import")), 4, t, v, NULL, false, 0);
	}
	for (int t = 0; t < run->ntables; t++)
		if (run->tables[t].rel != NULL)
			table_close(run->tables[t].rel, NoLock);
	SPI_finish();

	/* the result */
	MemoryContextSwitchTo(outer_cxt);
	initStringInfo(&out);
	appendStringInfo(&out, "{\"status\": \"%s\", \"inserted\": %ld, \"updated\": %ld, ",
					 run->rolled_back && !run->dry_run ? "Error" : run_status(run),
					 run->rolled_back ? 0 : run->inserted, run->rolled_back ? 0 : run->updated);
	if (run->update)
		appendStringInfo(&out, "\"unchanged\": %ld, ", run->unchanged);
	appendStringInfo(&out, "\"failed\": %ld, \"rows\": %ld, \"documents\": %ld",
					 run->failed, run->rows, run->documents);
	if (run->dry_run)
		appendStringInfo(&out, ", \"dry_run\": true, \"would_insert\": %ld, \"would_update\": %ld",
						 run->inserted, run->updated);
	if (run->rolled_back && !run->dry_run)
		appendStringInfo(&out, ", \"rolled_back\": %ld", run->inserted + run->updated);
	appendStringInfoString(&out, ", \"errors\": ");
	errors_json(&out, run->errors);
	if (run->nerrors_kept >= MAX_ERRORS_KEPT)
		appendStringInfo(&out, ", \"errors_truncated\": true");
	appendStringInfoString(&out, ", \"warnings\": [");
	{
		ListCell   *lc;
		bool		first = true;

		foreach(lc, run->warnings)
		{
			if (!first)
				appendStringInfoString(&out, ", ");
			first = false;
			escape_json(&out, lfirst(lc));
		}
	}
	appendStringInfoString(&out, "]}");
	MemoryContextDelete(cxt);
	if (run->rows == 0 && !run->rolled_back)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("Import template should contain a Header and atleast one row."),
				 errdetail("The file has a header and no data rows.")));
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}

PG_FUNCTION_INFO_V1(fi_import_csv);

/*
 * integrations.import_csv(doctype text, data text,
 *		import_type text default 'Insert New Records', options jsonb default '{}')
 */
Datum
fi_import_csv(PG_FUNCTION_ARGS)
{
	text	   *data;
	char	   *s;
	size_t		len;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("doctype and data must not be null")));
	data = PG_GETARG_TEXT_PP(1);
	s = VARDATA_ANY(data);
	len = VARSIZE_ANY_EXHDR(data);
	/* text is already valid in the database encoding; import works in UTF-8 */
	if (GetDatabaseEncoding() != PG_UTF8)
	{
		s = (char *) pg_do_encoding_conversion((unsigned char *) s, len, GetDatabaseEncoding(), PG_UTF8);
		len = strlen(s);
	}
	PG_RETURN_JSONB_P(import_run(text_to_cstring(PG_GETARG_TEXT_PP(0)), s, len, false,
								 PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)),
								 PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3)));
}

PG_FUNCTION_INFO_V1(fi_import_csv_file);

/*
 * integrations.import_csv_file(doctype text, path text,
 *		import_type text default 'Insert New Records', options jsonb default '{}')
 *
 * Superuser or pg_read_server_files only, checked here as well as by the
 * grant (the function is not granted to PUBLIC).
 */
Datum
fi_import_csv_file(PG_FUNCTION_ARGS)
{
	char	   *path;
	FILE	   *f;
	StringInfoData buf;
	size_t		n;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("doctype and path must not be null")));
	if (!superuser() && !has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read a server file"),
				 errdetail("Only superusers and members of pg_read_server_files may import from a "
						   "server file."),
				 errhint("Use integrations.import_csv with the file's contents.")));
	path = text_to_cstring(PG_GETARG_TEXT_PP(1));
	f = AllocateFile(path, PG_BINARY_R);
	if (f == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path)));
	initStringInfo(&buf);
	{
		struct stat st;

		/* a regular file: its size at once (no doubling of the buffer as it is read) */
		if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
			(Size) st.st_size < MaxAllocSize - 65536 * 2)
			enlargeStringInfo(&buf, (int) st.st_size + 65536);
	}
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (buf.maxlen - buf.len < 65536)
		{
			if ((Size) buf.maxlen >= MaxAllocSize - 65536 * 2)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("file \"%s\" is too large to import (over 1 GB)", path)));
			enlargeStringInfo(&buf, 65536);
		}
		n = fread(buf.data + buf.len, 1, buf.maxlen - buf.len - 1, f);
		buf.len += n;
		if (n == 0)
			break;
	}
	if (ferror(f))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", path)));
	FreeFile(f);
	/* a .xlsx file is read as Excel, anything else as CSV */
	PG_RETURN_JSONB_P(import_run(text_to_cstring(PG_GETARG_TEXT_PP(0)), buf.data, buf.len,
								 strlen(path) > 5 && pg_strcasecmp(path + strlen(path) - 5, ".xlsx") == 0,
								 PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)),
								 PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3)));
}

PG_FUNCTION_INFO_V1(fi_import_xlsx);

/*
 * integrations.import_xlsx(doctype text, data bytea,
 *		import_type text default 'Insert New Records', options jsonb default '{}'):
 * the active sheet of an Excel workbook, read as Frappe reads it
 * (engine/xlsx.c), imported as import_csv imports a CSV file.
 */
Datum
fi_import_xlsx(PG_FUNCTION_ARGS)
{
	bytea	   *data;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("doctype and data must not be null")));
	data = PG_GETARG_BYTEA_PP(1);
	PG_RETURN_JSONB_P(import_run(text_to_cstring(PG_GETARG_TEXT_PP(0)), VARDATA_ANY(data),
								 VARSIZE_ANY_EXHDR(data), true,
								 PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)),
								 PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3)));
}

/* ---- the template ---- */

typedef struct TemplateOut
{
	StringInfo	buf;
	bool		first;
} TemplateOut;

/* one title, quoted as Python's QUOTE_NONNUMERIC quotes it */
static void
template_title(void *arg, const char *s)
{
	TemplateOut *o = arg;

	if (!o->first)
		appendStringInfoChar(o->buf, ',');
	o->first = false;
	appendStringInfoChar(o->buf, '"');
	for (; *s; s++)
	{
		if (*s == '"')
			appendStringInfoChar(o->buf, '"');
		appendStringInfoChar(o->buf, *s);
	}
	appendStringInfoChar(o->buf, '"');
}

PG_FUNCTION_INFO_V1(fi_import_template);

/*
 * integrations.import_template(doctype text, options jsonb default '{}')
 *
 * Frappe's Data Import template header (facts 8.7): an ID column, the
 * parent's fields by label (fieldname when the label repeats), with
 * options.children the child tables' fields as "Label (Table Label)";
 * Python's QUOTE_NONNUMERIC quoting and CRLF, then two empty lines.
 * options.mandatory_only: only the mandatory fields.
 */
Datum
fi_import_template(PG_FUNCTION_ARGS)
{
	const FiDocMeta *meta;
	Jsonb	   *opts = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	bool		children = fi_opt_bool(opts, "children", false);
	bool		mandatory_only = fi_opt_bool(opts, "mandatory_only", false);
	StringInfoData buf;
	TemplateOut out;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("doctype must not be null")));
	fi_check_version();
	meta = fi_get_meta(text_to_cstring(PG_GETARG_TEXT_PP(0)), false);
	if (meta->istable || meta->issingle)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is a %s and cannot be imported alone", meta->name,
						meta->istable ? "child table" : "Single")));
	initStringInfo(&buf);
	out.buf = &buf;
	out.first = true;
	fi_import_template_titles(meta, children, mandatory_only, &import_hooks, template_title, &out);
	appendStringInfoString(&buf, "\r\n\r\n\r\n");
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
