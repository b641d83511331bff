/*
 * client_import.c
 *		frappe-integrations import: Frappe's Data Import of a CSV file into a
 *		site on MariaDB (issue 20, point 1), Insert New Records.
 *
 *   fi-client import --doctype DOCTYPE [--dry-run] [--atomic] [--submit]
 *                    [--as USER] [--batch-size N] FILE.csv
 *
 * The rules are the engines' (the same PostgreSQL's import_csv uses): the
 * CSV as Python's csv reads it (engine/csv.c), the header mapped as Frappe
 * maps it (engine/importmap.c), each field's rules over its column and
 * each cell's value (engine/importcell.c), the date formats guessed per
 * column, the names (engine/naming.c: Document Naming Rules, series with
 * tabSeries locked as Frappe locks it on MariaDB, SELECT … FOR UPDATE).
 * Here: the site's tables read and written over Connector/C, a batch of
 * documents at a time (array binding, one execute per table), errors per
 * document, the result as import_csv's JSON on stdout.
 *
 * Not yet (the PostgreSQL build has them): Update Existing Records, Excel
 * files, autoincrement names, tabData Import Log rows.  A Link value is
 * compared as MariaDB's collation compares (as Frappe's get_value does
 * there) and stored with the target's own spelling.
 */
#include "mariadb/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "engine/csv.h"
#include "engine/xlsx.h"
#include "engine/importcell.h"
#include "engine/importlog.h"
#include "engine/importmap.h"
#include "engine/importupdate.h"
#include "engine/importval.h"
#include "engine/jsoncanon.h"
#include "engine/naming.h"
#include "engine/secretfmt.h"

#define MAX_ERRORS_KEPT	10000
#define LOG_CHUNK		(1024 * 1024)	/* bytes of tabData Import Log rows in one INSERT */

/* one field a table writes */
typedef struct IField
{
	const FiDocField *df;
	const char *fieldname;
	int			col;			/* CSV column, -1 when not in the file */
	const char *header;
	FiImpFieldRules r;
	const char *defvalue;		/* FI_DEFAULT_VALUE: as written */
	bool		col_date;		/* the column is a date (not a datetime) */
	int			fetch_link;		/* fetch_from: its Link field's index, or -1 */
	const char *fetch_src;
	char	   *defcache;		/* the default's stored text, made once (a clock's: once a batch) */
	long		defbatch;
} IField;

/* the standard columns a table has */
enum
{
	STD_NAME, STD_OWNER, STD_CREATION, STD_MODIFIED, STD_MODIFIED_BY, STD_DOCSTATUS, STD_IDX,
	STD_PARENT, STD_PARENTFIELD, STD_PARENTTYPE, NSTD
};
static const char *const std_names[NSTD] = {
	"name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "parent", "parentfield", "parenttype"
};

typedef struct ITable
{
	const FiDocMeta *meta;
	const char *doctype;
	bool		child;
	const char *parentfield;
	const FiDocField *tdf;
	int			id_col,
				idx_col,
				owner_col,
				docstatus_col;
	int			nmapped,
				nfields;
	IField	   *fields;
	int			nreqd;
	const FiDocField **reqd_df;
	int		   *reqd_field;
	bool		std[NSTD];
} ITable;

typedef struct IErr
{
	long		row;
	const char *column;
	const char *value;
	char	   *message;
	bool		msgprint;		/* Frappe prints it (a missing value), not throws it */
	struct IErr *next;
} IErr;

typedef struct IChild
{
	int			table;
	long		row;
	char	  **cells;
	char	  **vals;			/* per field of the table: the stored text, NULL none */
	const char *name;
	int			idx;
	bool		stored;			/* Update: the row's ID is one of the document's stored rows */
} IChild;

typedef struct IDoc
{
	long		row;
	char	  **cells;			/* its first row's */
	long	   *rows;			/* every row's number */
	int			nrows,
				caprows;
	char	  **vals;			/* per field of the DocType's table */
	IChild	   *ch;
	int			nch,
				capch;
	IErr	   *errs,
			   *errs_tail;
	bool		failed;
	char	   *name;
	bool		supplied;
	int			docstatus;
	const char *owner;
	/* Update */
	bool	   *replace;		/* per table: its rows are replaced by the file's */
	bool		skipped;		/* the file changes nothing of it */
} IDoc;

typedef struct IRun
{
	MYSQL	   *conn;
	FcArena    *a;				/* the run's */
	FcArena    *b;				/* the batch's */
	const FiDocMeta *meta;
	const char *doctype;
	bool		dry_run,
				atomic,
				submit,
				update;			/* Update Existing Records */
	const char *user;
	int			batch_docs;
	int			ncols;
	char	  **headers;
	const FcImportOptions *opts;	/* what the import was asked */
	bool	   *parent_col;
	int			ntables;
	ITable	   *tables;
	FcBuf		warnings;		/* JSON strings, comma-separated */
	char		now[32];		/* the batch's site-local "YYYY-MM-DD HH:MM:SS.ffffff" */
	FiDateTime	now_dt;
	FiNameRule *rules;
	int			nrules;
	bool		rules_read;
	long		rows,
				documents,
				inserted,
				updated,
				unchanged,
				failed;
	int			nerrors_kept;
	FcBuf		errors;			/* JSON objects, comma-separated */
	bool		rolled_back;
	bool		progress;
	double		start;
	long		batch_no;		/* which batch (the clock's defaults are made once each) */
	const FiNameDoc *given;		/* the batch's names: which were given */
	unsigned int last_errno;	/* the server's error number of the last insert that failed */
	const FiUpdTable *upd;		/* Update: the tables as engine/importupdate.c sees them */
	/* --data-import: the tabData Import document logged to, and its log rows not yet written */
	const char *data_import;
	FcBuf	   *log;			/* chunks of "(…), (…)" rows, each at most LOG_CHUNK */
	int			nlog,
				caplog;
	long		log_index;
} IRun;

/* engine memory: the run's or the batch's arena (FiAlloc with the run as arg) */
static void *
run_alloc(void *arg, size_t size)
{
	return fc_alloc(((IRun *) arg)->a, size);
}

static void *
batch_alloc(void *arg, size_t size)
{
	return fc_alloc(((IRun *) arg)->b, size);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
doc_error(IRun *run, IDoc *doc, long row, const char *column, const char *value, const char *msg)
{
	IErr	   *e = fc_alloc(run->b, sizeof(IErr));

	e->row = row;
	e->column = column;
	e->value = value ? (strlen(value) > 200 ? fc_printf(run->b, "%.200s...", value) : value) : NULL;
	e->message = fc_strndup(run->b, msg, strlen(msg));
	if (doc->errs_tail)
		doc->errs_tail->next = e;
	else
		doc->errs = e;
	doc->errs_tail = e;
	doc->failed = true;
}

/* ---- SQL helpers ---- */

static void
run_sql(IRun *run, const char *sql, const char *what)
{
	if (mysql_real_query(run->conn, sql, strlen(sql)) != 0)
		fc_fail_mysql(run->conn, what);
}

/* the values as a parenthesized list of string literals */
static char *
in_list(IRun *run, const char *const *v, int n)
{
	FcBuf		b = {0};
	char	   *out;

	fc_buf_puts(&b, "(");
	for (int i = 0; i < n; i++)
	{
		if (i)
			fc_buf_puts(&b, ", ");
		fc_buf_puts(&b, fc_literal(run->b, run->conn, v[i]));
	}
	fc_buf_puts(&b, ")");
	out = fc_strndup(run->b, b.data, b.len);
	fc_buf_free(&b);
	return out;
}

/* ---- the tables ---- */

static const FiDocMeta *
hook_meta(void *arg, const char *doctype)
{
	IRun	   *run = arg;

	return fc_meta(run->conn, run->a, doctype);
}

/* what the site's column of a field holds (information_schema), false when it has none */
static bool
column_info(IRun *run, ITable *t, IField *f, FiImpColumnInfo *ci)
{
	MYSQL_RES  *r;
	MYSQL_ROW	row;
	bool		found;

	r = fc_query(run->conn, fc_printf(run->b, "SELECT DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, "
									   "NUMERIC_SCALE, COLUMN_TYPE FROM information_schema.COLUMNS "
									   "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = %s",
									   fc_literal(run->b, run->conn, fc_printf(run->b, "tab%s", t->doctype)),
									   fc_literal(run->b, run->conn, f->fieldname)),
				 "reading a column's type");
	row = mysql_fetch_row(r);
	found = row != NULL;
	ci->maxchars = -1;
	ci->int_max = 0;
	ci->int_digits = -1;
	if (found)
	{
		const char *dt = row[0] ? row[0] : "";
		bool		is_unsigned = row[4] && strstr(row[4], "unsigned") != NULL;

		if (strcmp(dt, "varchar") == 0 && row[1])
			ci->maxchars = atoi(row[1]);
		else if (strcmp(dt, "int") == 0)
			ci->int_max = is_unsigned ? 0 : 2147483647LL;
		else if (strcmp(dt, "smallint") == 0)
			ci->int_max = 32767;
		else if (strcmp(dt, "tinyint") == 0)
			ci->int_max = 127;
		else if (strcmp(dt, "decimal") == 0 && row[2] && row[3])
			ci->int_digits = atoi(row[2]) - atoi(row[3]);
		f->col_date = strcmp(dt, "date") == 0;
	}
	mysql_free_result(r);
	return found;
}

static bool
has_column(IRun *run, ITable *t, const char *column)
{
	return fc_meta_in_table(run->conn, run->a, t->meta, column);
}

static void
setup_field(IRun *run, ITable *t, IField *f)
{
	FiImpColumnInfo ci;

	f->fieldname = f->df->fieldname;
	if (!column_info(run, t, f, &ci))
		fc_fail("42703", NULL, "The table is behind its DocType: run bench migrate.",
				"field \"%s\" of %s has no column in table \"tab%s\"", f->fieldname, t->doctype, t->doctype);
	fi_import_field_rules(t->meta, t->child, f->df, &ci, &f->r, fc_alloc, run->a);
	f->fetch_link = -1;
	f->defvalue = f->r.default_text;
}

/* the Link field of the table a fetch_from names, or -1 (engine/importcell.c) */
static int
fetch_link_of(IRun *run, ITable *t, const FiDocField *df, const char **src)
{
	const FiDocField **dfs = fc_alloc(run->a, sizeof(FiDocField *) * (t->nfields + 1));

	for (int i = 0; i < t->nfields; i++)
		dfs[i] = t->fields[i].df;
	return fi_import_fetch_link(df, dfs, t->nfields, src);
}

typedef struct TableOf
{
	IRun	   *run;
	ITable	   *t;
} TableOf;

static bool
table_has_column(void *arg, const FiDocField *df)
{
	TableOf    *to = arg;

	return fc_meta_in_table(to->run->conn, to->run->a, to->t->meta, df->fieldname);
}

static void
prepare_table(IRun *run, ITable *t)
{
	for (int s = 0; s < NSTD; s++)
		t->std[s] = has_column(run, t, std_names[s]);
	if (!t->std[STD_NAME])
		fc_fail("42703", NULL, NULL, "table \"tab%s\" has no name column", t->doctype);
	for (int i = 0; i < t->nmapped; i++)
		setup_field(run, t, &t->fields[i]);
	for (int i = 0; i < t->meta->nfields; i++)
	{
		const FiDocField *df = &t->meta->fields[i];
		bool		mapped = false;
		IField	   *f;

		if (!fi_fieldtype_has_column(df->fieldtype) || df->is_virtual)
			continue;
		for (int j = 0; j < t->nmapped; j++)
			mapped |= t->fields[j].df == df;
		if (mapped || !has_column(run, t, df->fieldname))
			continue;
		f = &t->fields[t->nfields];
		memset(f, 0, sizeof(*f));
		f->df = df;
		f->col = -1;
		setup_field(run, t, f);
		if (fi_import_unmapped_written(&f->r))
			t->nfields++;
	}
	/* fetch_from: a field fetched through a Link of the table */
	{
		const FiDocField **dfs = fc_alloc(run->a, sizeof(FiDocField *) * (t->nfields + 1));
		const FiDocField **more = fc_alloc(run->a, sizeof(FiDocField *) * (t->meta->nfields + 1));
		TableOf		to = {run, t};
		int			nmore;

		for (int i = 0; i < t->nfields; i++)
			dfs[i] = t->fields[i].df;
		nmore = fi_import_fetched_fields(t->meta, dfs, t->nfields, table_has_column, &to, more);
		for (int k = 0; k < nmore; k++)
		{
			IField	   *f = &t->fields[t->nfields++];

			memset(f, 0, sizeof(*f));
			f->df = more[k];
			f->col = -1;
			setup_field(run, t, f);
		}
	}
	for (int i = 0; i < t->nfields; i++)
	{
		const char *src;

		if ((t->fields[i].fetch_link = fetch_link_of(run, t, t->fields[i].df, &src)) >= 0)
			t->fields[i].fetch_src = src;
		/* a source the target's table lacks fetches nothing (a meta ahead of its table): looked at once */
		if (t->fields[i].fetch_link >= 0 &&
			!fc_column_exists(run->conn, run->a,
							  fc_printf(run->a, "tab%s", t->fields[t->fields[i].fetch_link].r.link_doctype), src))
			t->fields[i].fetch_link = -1;
	}
	t->nreqd = fi_import_mandatory(t->meta, &t->reqd_df, fc_alloc, run->a);
	t->reqd_field = fc_alloc(run->a, sizeof(int) * (t->nreqd + 1));
	for (int k = 0; k < t->nreqd; k++)
	{
		t->reqd_field[k] = -1;
		for (int i = 0; i < t->nfields; i++)
			if (t->fields[i].df == t->reqd_df[k])
				t->reqd_field[k] = i;
	}
}

/* s as a JSON string (the engine's escaping; NULL: null) appended to b */
static void
json_str(FcBuf *b, const char *s)
{
	FiJBuf		j = {0};

	if (s == NULL)
	{
		fc_buf_puts(b, "null");
		return;
	}
	if (!fi_json_put_string(&j, s, strlen(s)) || j.oom)
		fc_fail("53200", NULL, NULL, "out of memory");
	fc_buf_put(b, j.data, j.len);
	fi_jbuf_free(&j);
}

/* column_to_field_map["<column index>"], or NULL */
static const char *
column_override(IRun *run, int col)
{
	char		key[16];

	snprintf(key, sizeof(key), "%d", col);
	for (int i = 0; i < run->opts->nmap; i++)
		if (strcmp(run->opts->map_columns[i], key) == 0)
			return run->opts->map_fields[i];
	return NULL;
}

static void
map_header(IRun *run, FiCsvReader *r)
{
	FiImportHooks hooks = {run, hook_meta, run_alloc};
	FiImpHeader h;
	int		  **cols;
	const FiDocField ***flds;
	int		   *ncols;

	hooks.arg = run;
	run->ncols = r->nfields;
	run->headers = fc_alloc(run->a, sizeof(char *) * (r->nfields + 1));
	run->parent_col = fc_alloc(run->a, sizeof(bool) * (r->nfields + 1));
	fi_import_header_init(&h, run->meta, &hooks);
	cols = fc_alloc(run->a, sizeof(int *) * (r->nfields + 2));
	ncols = fc_alloc(run->a, sizeof(int) * (r->nfields + 2));
	flds = fc_alloc(run->a, sizeof(FiDocField **) * (r->nfields + 2));
	for (int c = 0; c < r->nfields; c++)
	{
		size_t		b,
					len = fi_py_strip(r->buf + r->off[c], r->len[c], &b);
		char	   *title = fc_strndup(run->a, r->buf + r->off[c] + b, len);
		FiImpColumn col;

		run->headers[c] = title;
		fi_import_header_column(&h, c, title, column_override(run, c), &col);
		run->parent_col[c] = fi_import_is_parent_column(&col);
		if (col.warning)
		{
			if (run->warnings.len)
				fc_buf_puts(&run->warnings, ", ");
			json_str(&run->warnings, col.warning);
		}
		else if (col.kind == FI_IMPCOL_FIELD)
		{
			if (cols[col.table] == NULL)
			{
				cols[col.table] = fc_alloc(run->a, sizeof(int) * (r->nfields + 1));
				flds[col.table] = fc_alloc(run->a, sizeof(FiDocField *) * (r->nfields + 1));
			}
			flds[col.table][ncols[col.table]] = col.field;
			cols[col.table][ncols[col.table]++] = c;
		}
	}
	if (h.nmapped == 0)
		fc_fail("22023", "The header is the first non-empty row of the file.",
				"Use the fields' labels or fieldnames as column titles.",
				"no column of the header matches a field of %s", run->doctype);
	run->tables = fc_alloc(run->a, sizeof(ITable) * h.ntables);
	run->ntables = h.ntables;
	for (int t = 0; t < run->ntables; t++)
	{
		ITable	   *tab = &run->tables[t];
		const FiDocField *tdf = h.table_field[t];

		tab->meta = h.table_meta[t];
		tab->doctype = tab->meta->name;
		tab->id_col = h.id_col[t];
		tab->idx_col = h.idx_col[t];
		tab->owner_col = h.owner_col[t];
		tab->docstatus_col = h.docstatus_col[t];
		if (tdf)
		{
			tab->child = true;
			tab->tdf = tdf;
			tab->parentfield = tdf->fieldname;
		}
		tab->fields = fc_alloc(run->a, sizeof(IField) * (ncols[t] + 2 * tab->meta->nfields + 1));
		for (int i = 0; i < ncols[t]; i++)
		{
			IField	   *f = &tab->fields[tab->nmapped++];

			f->col = cols[t][i];
			f->df = flds[t][i];
			f->header = run->headers[f->col];
		}
		tab->nfields = tab->nmapped;
	}
	for (int t = 0; t < run->ntables; t++)
		prepare_table(run, &run->tables[t]);
}

/* ---- date formats: the most common of each Date and Datetime column ---- */

static void
guess_date_formats(IRun *run, const char *data, size_t len, const FiSheetGuess *sheet)
{
	int			nfmt = FI_NDATE_FORMATS * (FI_NTIME_FORMATS + 1);
	long	  **counts = fc_alloc(run->a, sizeof(long *) * (run->ncols + 1));
	bool		any = false;
	FiCsvReader r;

	/* (data: the file after its header) */
	for (int t = 0; t < run->ntables; t++)
		for (int i = 0; i < run->tables[t].nmapped; i++)
		{
			IField	   *f = &run->tables[t].fields[i];

			if (f->r.cell.kind == FI_CELL_DATE || f->r.cell.kind == FI_CELL_DATETIME)
			{
				counts[f->col] = fc_alloc(run->a, sizeof(long) * nfmt);
				any = true;
			}
		}
	if (!any)
		return;
	if (sheet != NULL)
	{
		/* Excel: counted while the sheet was opened */
		for (int c = 0; c < run->ncols; c++)
			if (counts[c] && fi_sheet_guess_counts(sheet, c))
				memcpy(counts[c], fi_sheet_guess_counts(sheet, c), sizeof(long) * nfmt);
		len = 0;
	}
	fi_csv_init(&r, data, len);
	while (fi_csv_next(&r) == 1)
	{
		for (int c = 0; c < r.nfields; c++)
		{
			size_t		b,
						l = fi_py_strip(r.buf + r.off[c], r.len[c], &b);
			FiDateFormat g;

			if (c < run->ncols && counts[c] && l > 0 && fi_guess_date_format(r.buf + r.off[c] + b, l, &g))
				counts[c][g.date * (FI_NTIME_FORMATS + 1) + (g.time + 1)]++;
		}
	}
	fi_csv_free(&r);
	for (int t = 0; t < run->ntables; t++)
		for (int i = 0; i < run->tables[t].nmapped; i++)
		{
			IField	   *f = &run->tables[t].fields[i];
			int			kinds;

			if (counts[f->col] && fi_import_date_format_pick(counts[f->col], &f->r.cell.datefmt, &kinds))
			{
				f->r.cell.has_datefmt = true;
				if (kinds > 1)
				{
					char		buf[64];

					fprintf(stderr, "NOTICE: the column \"%s\" has %d different date formats; %s, the most common, is used\n",
							f->header, kinds, fi_date_format_text(f->r.cell.datefmt, buf));
				}
			}
		}
}

/* ---- values ---- */

/* a cell's value as the text MariaDB stores for the column; NULL with *why */
static char *
cell_text(IRun *run, IField *f, const char *s, const char **why)
{
	FiCell		c;
	const char *bad = fi_cell_value(&f->r.cell, s, strlen(s), &c, fc_alloc, run->b);

	*why = bad;
	if (bad)
		return NULL;
	switch (f->r.cell.kind)
	{
		case FI_CELL_INT:
		case FI_CELL_CHECK:
			return fc_printf(run->b, "%lld", (long long) c.i);
		case FI_CELL_NUMBER:
		case FI_CELL_DURATION:
			return (char *) c.number;
		case FI_CELL_DATE:
		case FI_CELL_DATETIME:
			if (c.dt.year < 1000)
			{
				*why = fc_printf(run->b, "%s is out of range", f->r.cell.label);
				return NULL;
			}
			if (f->col_date)
				return fc_printf(run->b, "%04d-%02d-%02d", c.dt.year, c.dt.month, c.dt.day);
			return fc_printf(run->b, "%04d-%02d-%02d %02d:%02d:%02d.%06d", c.dt.year, c.dt.month, c.dt.day,
							 c.dt.hour, c.dt.minute, c.dt.second, c.dt.usec);
		case FI_CELL_TIME:
			return fc_printf(run->b, "%02d:%02d:%02d.%06d", c.dt.hour, c.dt.minute, c.dt.second, c.dt.usec);
		case FI_CELL_TEXT:
			return (char *) s;
	}
	return NULL;
}

/* the text a field left empty gets (frappe.new_doc's default), made once: every row shares it */
static char *
default_text(IRun *run, IField *f)
{
	const char *why;
	FcArena    *b = run->b;

	switch (f->r.defkind)
	{
		case FI_DEFAULT_VALUE:
			if (f->defbatch == 0 && f->defvalue)
			{
				run->b = run->a;	/* (the run's memory: it outlives the batch) */
				f->defcache = cell_text(run, f, f->defvalue, &why);
				run->b = b;
				f->defbatch = -1;
			}
			return f->defcache;
		case FI_DEFAULT_USER:
			return (char *) run->user;
		case FI_DEFAULT_TODAY:
		case FI_DEFAULT_NOW:
			if (f->defbatch != run->batch_no)
			{
				if (f->r.defkind == FI_DEFAULT_TODAY)
					f->defcache = f->col_date || f->r.cell.kind == FI_CELL_DATE ? fc_strndup(b, run->now, 10) :
						fc_printf(b, "%.10s 00:00:00.000000", run->now);
				else
					f->defcache = f->r.cell.kind == FI_CELL_TIME ? fc_strndup(b, run->now + 11, 15) :
						fc_strndup(b, run->now, strlen(run->now));
				f->defbatch = run->batch_no;
			}
			return f->defcache;
		default:
			return NULL;
	}
}

static void
convert_row(IRun *run, IDoc *doc, ITable *t, long rowno, char **cells, char **vals)
{
	for (int i = 0; i < t->nfields; i++)
	{
		IField	   *f = &t->fields[i];
		const char *s = f->col >= 0 ? cells[f->col] : NULL;
		const char *why;

		vals[i] = NULL;
		if (s)
		{
			if ((vals[i] = cell_text(run, f, s, &why)) == NULL)
				doc_error(run, doc, rowno, f->header, s, why);
			continue;
		}
		if (!run->update)		/* (Update changes only the file's non-empty cells) */
			vals[i] = default_text(run, f);
	}
}

typedef struct TitleVals
{
	ITable	   *t;
	char	  **vals;
} TitleVals;

static const char *
title_value(void *arg, const char *fieldname)
{
	TitleVals  *tv = arg;

	for (int i = 0; i < tv->t->nfields; i++)
		if (strcmp(tv->t->fields[i].fieldname, fieldname) == 0)
			return tv->vals[i];
	return NULL;
}

static bool
names_the_document(IRun *run, ITable *t, IField *f)
{
	const char *a = run->meta->autoname;

	return !t->child && a != NULL && strncasecmp(a, "field:", 6) == 0 && strcmp(a + 6, f->fieldname) == 0;
}

/* after Link values are fetched: the title, then the mandatory fields */
static void
complete_row(IRun *run, IDoc *doc, ITable *t, long rowno, int idx, char **cells, char **vals)
{
	if (run->update)
		return;					/* (Update: the stored document has them) */
	for (int i = 0; i < t->nfields; i++)
		if (t->fields[i].r.defkind == FI_DEFAULT_TITLE && vals[i] == NULL)
		{
			TitleVals	tv = {t, vals};

			vals[i] = fi_import_title(t->fields[i].df->default_value, title_value, &tv, fc_alloc, run->b);
		}
	for (int k = 0; k < t->nreqd; k++)
	{
		const FiDocField *df = t->reqd_df[k];
		int			i = t->reqd_field[k];

		if (fi_fieldtype_is_table(df->fieldtype))
		{
			bool		has = false;

			if (t->child)
				continue;
			for (int c = 0; c < doc->nch; c++)
				has |= run->tables[doc->ch[c].table].tdf == df;
			if (!has)
			{
				doc_error(run, doc, doc->row, NULL, NULL,
						  fi_import_msg_table_missing(df->label ? df->label : df->fieldname, fc_alloc, run->b));
				doc->errs_tail->msgprint = true;
			}
			continue;
		}
		if (i >= 0)
		{
			IField	   *f = &t->fields[i];

			if (vals[i] == NULL && !(f->col >= 0 && cells[f->col] != NULL) && !names_the_document(run, t, f) &&
				fi_cell_empty_is_missing(f->r.cell.kind))
			{
				doc_error(run, doc, rowno, f->col >= 0 ? f->header : NULL, NULL,
						  fi_import_msg_missing(t->child, t->doctype, idx, f->r.cell.label, fc_alloc, run->b));
				doc->errs_tail->msgprint = true;
			}
		}
	}
}

static void
convert_doc(IRun *run, IDoc *doc, char ***row_cells)
{
	ITable	   *t0 = &run->tables[0];
	const char *ds;

	doc->vals = fc_alloc(run->b, sizeof(char *) * (t0->nfields + 1));
	convert_row(run, doc, t0, doc->row, doc->cells, doc->vals);
	doc->owner = run->user;
	if (t0->owner_col >= 0 && doc->cells[t0->owner_col])
		doc->owner = doc->cells[t0->owner_col];
	doc->docstatus = run->submit ? 1 : 0;
	if (t0->docstatus_col >= 0 && (ds = doc->cells[t0->docstatus_col]) != NULL)
	{
		int			st;
		const char *why;

		if (fi_import_docstatus(ds, run->meta->is_submittable, &st, &why))
			doc->docstatus = st;
		else
			doc_error(run, doc, doc->row, run->headers[t0->docstatus_col], ds, why);
	}
	doc->supplied = t0->id_col >= 0 && doc->cells[t0->id_col] != NULL;
	doc->name = doc->supplied ? doc->cells[t0->id_col] : NULL;
	for (int r = 0; r < doc->nrows; r++)
	{
		char	  **cells = row_cells[r];

		for (int ti = 1; ti < run->ntables; ti++)
		{
			ITable	   *t = &run->tables[ti];
			bool		any = t->id_col >= 0 && cells[t->id_col] != NULL;
			IChild	   *ch;
			int			idx = 1;

			for (int i = 0; i < t->nmapped && !any; i++)
				any = cells[t->fields[i].col] != NULL;
			if (!any)
				continue;
			if (doc->nch == doc->capch)
			{
				IChild	   *n = fc_alloc(run->b, sizeof(IChild) * (doc->capch * 2 + 4));

				if (doc->nch)
					memcpy(n, doc->ch, sizeof(IChild) * doc->nch);
				doc->ch = n;
				doc->capch = doc->capch * 2 + 4;
			}
			ch = &doc->ch[doc->nch];
			memset(ch, 0, sizeof(*ch));
			ch->table = ti;
			ch->row = doc->rows[r];
			ch->cells = cells;
			ch->vals = fc_alloc(run->b, sizeof(char *) * (t->nfields + 1));
			convert_row(run, doc, t, ch->row, cells, ch->vals);
			if (t->id_col >= 0 && cells[t->id_col])
				ch->name = cells[t->id_col];
			for (int c = 0; c < doc->nch; c++)
				idx += doc->ch[c].table == ti;
			ch->idx = idx;
			doc->nch++;
		}
	}
}

/* ---- the batch's set-wise checks ---- */

/* calls fn for each value of field fi of table ti in the batch */
typedef void (*Visit) (IRun *run, IDoc *doc, long row, IField *f, char **slot, void *arg);

static void
visit(IRun *run, IDoc **docs, int n, int ti, int fi, Visit fn, void *arg)
{
	IField	   *f = &run->tables[ti].fields[fi];

	for (int d = 0; d < n; d++)
	{
		if (docs[d]->vals == NULL)
			continue;
		if (ti == 0)
		{
			if (docs[d]->vals[fi])
				fn(run, docs[d], docs[d]->row, f, &docs[d]->vals[fi], arg);
			continue;
		}
		for (int c = 0; c < docs[d]->nch; c++)
			if (docs[d]->ch[c].table == ti && docs[d]->ch[c].vals[fi])
				fn(run, docs[d], docs[d]->ch[c].row, f, &docs[d]->ch[c].vals[fi], arg);
	}
}

typedef struct Values
{
	const char **v;
	int			n,
				cap;
	char	  **found;			/* per value: what the query gave (a name, a fetched value), NULL none */
	bool	   *hit;
} Values;

static int
values_find(Values *vs, const char *s)
{
	for (int i = 0; i < vs->n; i++)
		if (strcmp(vs->v[i], s) == 0)
			return i;
	return -1;
}

static void
collect(IRun *run, IDoc *doc, long row, IField *f, char **slot, void *arg)
{
	Values	   *vs = arg;

	if (values_find(vs, *slot) >= 0)
		return;
	if (vs->n == vs->cap)
	{
		const char **nv = fc_alloc(run->b, sizeof(char *) * (vs->cap * 2 + 16));

		if (vs->n)
			memcpy(nv, vs->v, sizeof(char *) * vs->n);
		vs->v = nv;
		vs->cap = vs->cap * 2 + 16;
	}
	vs->v[vs->n++] = *slot;
}

/*
 * The rows of `tab<doctype>` whose name is one of vs (their first column
 * the name, then col when given): found[i] the stored name (MariaDB's
 * collation compares as Frappe's get_value does), the column's value in
 * fetched[i].
 */
static void
look_up(IRun *run, Values *vs, const char *doctype, const char *col, char ***fetched)
{
	MYSQL_RES  *res;
	MYSQL_ROW	r;
	char	   *sql;

	vs->found = fc_alloc(run->b, sizeof(char *) * (vs->n + 1));
	if (fetched)
		*fetched = fc_alloc(run->b, sizeof(char *) * (vs->n + 1));
	if (vs->n == 0)
		return;
	sql = fc_printf(run->b, "SELECT name%s%s FROM %s WHERE name IN %s", col ? ", " : "",
					col ? fc_ident(run->b, col) : "", fc_ident(run->b, fc_printf(run->b, "tab%s", doctype)),
					in_list(run, vs->v, vs->n));
	if (mysql_real_query(run->conn, sql, strlen(sql)) != 0)
	{
		if (mysql_errno(run->conn) == 1146)
			return;				/* no table: nothing exists (a Single, a DocType gone) */
		fc_fail_mysql(run->conn, "looking up Link values");
	}
	if ((res = mysql_store_result(run->conn)) == NULL)
		fc_fail_mysql(run->conn, "looking up Link values");
	while ((r = mysql_fetch_row(res)) != NULL)
		for (int i = 0; i < vs->n; i++)
			if (r[0] && strcasecmp(vs->v[i], r[0]) == 0)
			{
				vs->found[i] = fc_strndup(run->b, r[0], strlen(r[0]));
				if (fetched && col && r[1])
					(*fetched)[i] = fc_strndup(run->b, r[1], strlen(r[1]));
			}
	mysql_free_result(res);
}

static void
flag_or_fix_link(IRun *run, IDoc *doc, long row, IField *f, char **slot, void *arg)
{
	Values	   *vs = arg;
	int			i = values_find(vs, *slot);

	if (i < 0 || vs->found[i] == NULL)
		doc_error(run, doc, row, f->col >= 0 ? f->header : NULL, *slot,
				  fi_import_msg_link_missing(*slot, f->r.link_doctype, fc_alloc, run->b));
	else
		*slot = vs->found[i];	/* the stored name, as Frappe's link validation sets it */
}

static void
check_links(IRun *run, IDoc **docs, int n, int ti, int fi)
{
	IField	   *f = &run->tables[ti].fields[fi];
	Values		vs = {0};

	visit(run, docs, n, ti, fi, collect, &vs);
	look_up(run, &vs, f->r.link_doctype, NULL, NULL);
	visit(run, docs, n, ti, fi, flag_or_fix_link, &vs);
}

/* fetch_from: empty fields of each row take their Link target's value */
static void
fetch_values(IRun *run, IDoc **docs, int n, int ti)
{
	ITable	   *t = &run->tables[ti];

	for (int i = 0; i < t->nfields; i++)
	{
		IField	   *f = &t->fields[i];
		IField	   *lf;
		Values		vs = {0};
		char	  **got;

		if (f->fetch_link < 0)
			continue;
		lf = &t->fields[f->fetch_link];
		visit(run, docs, n, ti, f->fetch_link, collect, &vs);
		look_up(run, &vs, lf->r.link_doctype, f->fetch_src, &got);
		for (int d = 0; d < n; d++)
		{
			if (docs[d]->vals == NULL)
				continue;
			if (ti == 0)
			{
				int			k;

				if (docs[d]->vals[i] == NULL && docs[d]->vals[f->fetch_link] &&
					(k = values_find(&vs, docs[d]->vals[f->fetch_link])) >= 0 && got[k])
					docs[d]->vals[i] = got[k];
				continue;
			}
			for (int c = 0; c < docs[d]->nch; c++)
			{
				IChild	   *ch = &docs[d]->ch[c];
				int			k;

				if (ch->table == ti && ch->vals[i] == NULL && ch->vals[f->fetch_link] &&
					(k = values_find(&vs, ch->vals[f->fetch_link])) >= 0 && got[k])
					ch->vals[i] = got[k];
			}
		}
	}
}

typedef struct Unique
{
	Values		vs;
	const char *doctype;
	IDoc	  **first;			/* per value: its first document in the batch */
	long	   *first_row;
} Unique;

static void
unique_visit(IRun *run, IDoc *doc, long row, IField *f, char **slot, void *arg)
{
	Unique	   *u = arg;
	int			i = values_find(&u->vs, *slot);

	if (i >= 0 && u->vs.found[i])
		doc_error(run, doc, row, f->header, *slot,
				  fi_import_msg_not_unique(f->r.cell.label, *slot, u->doctype, false, batch_alloc, run));
	else if (i >= 0 && u->first[i] != NULL)
		doc_error(run, doc, row, f->header, *slot,
				  fi_import_msg_not_unique(f->r.cell.label, *slot, NULL, true, batch_alloc, run));
	else if (i >= 0)
		u->first[i] = doc;		/* (any later row with it is an earlier row's value) */
}

static void
check_unique(IRun *run, IDoc **docs, int n, int ti, int fi)
{
	IField	   *f = &run->tables[ti].fields[fi];
	const char *doctype = run->tables[ti].doctype;
	Unique		u = {0};
	MYSQL_RES  *res;
	MYSQL_ROW	r;

	visit(run, docs, n, ti, fi, collect, &u.vs);
	u.vs.found = fc_alloc(run->b, sizeof(char *) * (u.vs.n + 1));
	u.doctype = doctype;
	u.first = fc_alloc(run->b, sizeof(IDoc *) * (u.vs.n + 1));
	if (u.vs.n > 0)
	{
		res = fc_query(run->conn, fc_printf(run->b, "SELECT %s FROM %s WHERE %s IN %s", fc_ident(run->b, f->fieldname),
											fc_ident(run->b, fc_printf(run->b, "tab%s", doctype)),
											fc_ident(run->b, f->fieldname), in_list(run, u.vs.v, u.vs.n)),
					   "checking unique values");
		while ((r = mysql_fetch_row(res)) != NULL)
			for (int i = 0; i < u.vs.n; i++)
				if (r[0] && strcasecmp(u.vs.v[i], r[0]) == 0)
					u.vs.found[i] = "";
		mysql_free_result(res);
	}
	visit(run, docs, n, ti, fi, unique_visit, &u);
}

/* ---- names ---- */

static const char *
name_value(void *arg, void *docp, const char *fieldname, bool *present)
{
	IRun	   *run = arg;
	IDoc	   *doc = docp;
	ITable	   *t = &run->tables[0];

	*present = fi_meta_field(run->meta, fieldname) != NULL;
	for (int i = 0; i < t->nfields; i++)
		if (strcmp(t->fields[i].fieldname, fieldname) == 0)
			return doc->vals[i] ? doc->vals[i] : "";
	return "";
}

/* n numbers of a tabSeries counter: its row locked as Frappe's getseries locks it on MariaDB */
static int64_t
take_series(void *arg, const char *key, int64_t n)
{
	IRun	   *run = arg;
	const char *k;
	MYSQL_RES  *res;
	MYSQL_ROW	r;
	long long	cur;

	if (strlen(key) > 100)
		fc_fail("22001", NULL, NULL, "naming series key \"%s\" is longer than tabSeries allows (100)", key);
	k = fc_literal(run->b, run->conn, key);
	/*
	 * The row locked first, as getseries does; made only when missing (an
	 * INSERT IGNORE first would take a shared lock on the row, and two
	 * imports both wanting it exclusive then would deadlock)
	 */
	res = fc_query(run->conn, fc_printf(run->b, "SELECT current FROM `tabSeries` WHERE name = %s FOR UPDATE", k),
				   "locking a naming series");
	r = mysql_fetch_row(res);
	if (r == NULL)
	{
		mysql_free_result(res);
		run_sql(run, fc_printf(run->b, "INSERT IGNORE INTO `tabSeries` (name, current) VALUES (%s, 0)", k),
				"making a naming series");
		res = fc_query(run->conn, fc_printf(run->b, "SELECT current FROM `tabSeries` WHERE name = %s FOR UPDATE", k),
					   "locking a naming series");
		r = mysql_fetch_row(res);
	}
	cur = r && r[0] ? atoll(r[0]) : 0;
	mysql_free_result(res);
	run_sql(run, fc_printf(run->b, "UPDATE `tabSeries` SET current = %lld WHERE name = %s", cur + (long long) n, k),
			"taking numbers of a naming series");
	return cur + n;
}

static int64_t
take_rule(void *arg, const FiNameRule *rule, int64_t n)
{
	IRun	   *run = arg;
	const char *k = fc_literal(run->b, run->conn, rule->name);
	MYSQL_RES  *res;
	MYSQL_ROW	r;
	long long	cur;

	res = fc_query(run->conn, fc_printf(run->b, "SELECT COALESCE(counter, 0) FROM `tabDocument Naming Rule` WHERE name = %s FOR UPDATE", k),
				   "locking a Document Naming Rule");
	r = mysql_fetch_row(res);
	cur = r && r[0] ? atoll(r[0]) : 0;
	mysql_free_result(res);
	run_sql(run, fc_printf(run->b, "UPDATE `tabDocument Naming Rule` SET counter = %lld, modified = %s, modified_by = %s "
						   "WHERE name = %s", cur + (long long) n, fc_literal(run->b, run->conn, run->now),
						   fc_literal(run->b, run->conn, run->user), k),
			"taking numbers of a Document Naming Rule");
	return cur + n;
}

static char *
hash_name(void *arg)
{
	IRun	   *run = arg;
	unsigned char rnd[10];
	char	   *out = fc_alloc(run->b, 11);

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		fc_fail("58000", NULL, NULL, "no random bytes for a name");
	fi_random_base32hex(rnd, 10, out);
	return out;
}

static const char *
label_of(void *arg, const char *fieldname)
{
	IRun	   *run = arg;
	const FiDocField *df = fi_meta_field(run->meta, fieldname);

	return df ? df->label : NULL;
}

static void
read_naming_rules(IRun *run)
{
	MYSQL_RES  *res;
	MYSQL_ROW	r;
	int			n = 0;

	run->rules_read = true;
	if (!fc_column_exists(run->conn, run->a, "tabDocument Naming Rule", "prefix") ||
		!fc_column_exists(run->conn, run->a, "tabDocument Naming Rule Condition", "field"))
		return;
	res = fc_query(run->conn, fc_printf(run->a, "SELECT name, prefix, COALESCE(prefix_digits, 0) FROM `tabDocument Naming Rule` "
										"WHERE document_type = %s AND COALESCE(disabled, 0) = 0 "
										"ORDER BY COALESCE(priority, 0) DESC, name",
										fc_literal(run->a, run->conn, run->doctype)),
				   "reading tabDocument Naming Rule");
	run->rules = fc_alloc(run->a, sizeof(FiNameRule) * (mysql_num_rows(res) + 1));
	while ((r = mysql_fetch_row(res)) != NULL)
	{
		FiNameRule *rule = &run->rules[n++];
		int			digits = r[2] ? atoi(r[2]) : 0;

		rule->name = fc_strndup(run->a, r[0], strlen(r[0]));
		rule->prefix = r[1] ? fc_strndup(run->a, r[1], strlen(r[1])) : "";
		rule->digits = digits < 0 ? 0 : digits > 30 ? 30 : digits;
	}
	mysql_free_result(res);
	run->nrules = n;
	for (int i = 0; i < n; i++)
	{
		FiNameRule *rule = &run->rules[i];
		char	  **fields,
				  **ops,
				  **values;
		FiCompareKind *kinds;
		int			c = 0;

		res = fc_query(run->conn, fc_printf(run->a, "SELECT field, `condition`, value FROM `tabDocument Naming Rule Condition` "
											"WHERE parent = %s AND parenttype = 'Document Naming Rule' ORDER BY idx",
											fc_literal(run->a, run->conn, rule->name)),
					   "reading tabDocument Naming Rule Condition");
		rule->nconds = (int) mysql_num_rows(res);
		fields = fc_alloc(run->a, sizeof(char *) * (rule->nconds + 1));
		ops = fc_alloc(run->a, sizeof(char *) * (rule->nconds + 1));
		values = fc_alloc(run->a, sizeof(char *) * (rule->nconds + 1));
		kinds = fc_alloc(run->a, sizeof(FiCompareKind) * (rule->nconds + 1));
		while ((r = mysql_fetch_row(res)) != NULL)
		{
			const FiDocField *df;

			fields[c] = r[0] ? fc_strndup(run->a, r[0], strlen(r[0])) : "";
			ops[c] = r[1] && r[1][0] ? fc_strndup(run->a, r[1], strlen(r[1])) : "=";
			values[c] = r[2] ? fc_strndup(run->a, r[2], strlen(r[2])) : NULL;
			df = fi_meta_field(run->meta, fields[c]);
			kinds[c] = fi_compare_kind(df ? df->fieldtype : NULL);
			c++;
		}
		mysql_free_result(res);
		rule->fields = (const char *const *) fields;
		rule->ops = (const char *const *) ops;
		rule->values = (const char *const *) values;
		rule->kinds = kinds;
	}
}

/*
 * autoincrement: one value a document from the DocType's sequence (Frappe's
 * scrub(doctype) + "_id_seq", nocache, on MariaDB a SEQUENCE object), in
 * one statement for the batch; a supplied ID is not kept (Frappe).
 */
static void
name_autoincrement(IRun *run, IDoc **docs, int n)
{
	char	   *seq = fc_printf(run->b, "%s_id_seq", run->doctype);
	int			want = 0,
				r = 0;
	MYSQL_RES  *res;
	MYSQL_ROW	row;

	for (char *c = seq; *c; c++)
		*c = (*c == ' ' || *c == '-') ? '_' : (char) tolower((unsigned char) *c);
	for (int i = 0; i < n; i++)
		want += !docs[i]->failed;
	if (want == 0)
		return;
	res = fc_query(run->conn, fc_printf(run->b, "SELECT NEXTVAL(%s) FROM seq_1_to_%d", fc_ident(run->b, seq), want),
				   fc_printf(run->b, "the sequence %s of %s (autoincrement)", seq, run->doctype));
	for (int i = 0; i < n; i++)
	{
		if (docs[i]->failed)
			continue;
		if ((row = mysql_fetch_row(res)) == NULL || row[0] == NULL)
			fc_fail("XX000", NULL, NULL, "the sequence %s gave %d values for %d documents", seq, r, want);
		docs[i]->name = fc_strndup(run->b, row[0], strlen(row[0]));
		r++;
	}
	mysql_free_result(res);
}

static void
name_batch(IRun *run, IDoc **docs, int n)
{
	FiNameBatchHooks hooks = {run, batch_alloc, name_value, take_series, take_rule, hash_name, label_of};
	FiNameDoc  *nd = fc_alloc(run->b, sizeof(FiNameDoc) * (n + 1));
	const char *arg;

	if (fi_autoname_kind(run->meta->autoname, &arg) == FI_AUTONAME_AUTOINCREMENT)
	{
		name_autoincrement(run, docs, n);
		run->given = nd;		/* (none given: a supplied ID is not kept) */
		return;
	}
	if (!run->rules_read)
		read_naming_rules(run);
	for (int i = 0; i < n; i++)
	{
		nd[i].doc = docs[i];
		nd[i].row = docs[i]->row;
		nd[i].skip = docs[i]->failed;
		nd[i].supplied = docs[i]->supplied ? docs[i]->name : NULL;
	}
	fi_name_batch(run->doctype, run->meta->autoname, nd, n, run->rules, run->nrules, &run->now_dt, true, &hooks);
	for (int i = 0; i < n; i++)
	{
		if (nd[i].skip)
			continue;
		if (nd[i].error)
			doc_error(run, docs[i], docs[i]->row, NULL, nd[i].error_value, nd[i].error);
		else
			docs[i]->name = nd[i].name;
	}
	run->given = nd;

}

/*
 * Names given (from the file, a field, a rule) already taken by a stored
 * document: "<DocType> <name> already exists".  Looked for only when an
 * insert met a duplicate key (the common batch has none, and pays nothing).
 */
static void
check_taken(IRun *run, IDoc **docs, int n)
{
	const FiNameDoc *nd = run->given;
	const char **given = fc_alloc(run->b, sizeof(char *) * (n + 1));
	int			ngiven = 0;

	for (int i = 0; i < n; i++)
		if (!docs[i]->failed && nd[i].given)
			given[ngiven++] = docs[i]->name;
	if (ngiven > 0)
	{
		MYSQL_RES  *res = fc_query(run->conn, fc_printf(run->b, "SELECT name FROM %s WHERE name IN %s",
														fc_ident(run->b, fc_printf(run->b, "tab%s", run->doctype)),
														in_list(run, given, ngiven)),
								   "checking names");
		MYSQL_ROW	r;

		while ((r = mysql_fetch_row(res)) != NULL)
			for (int i = 0; i < n; i++)
				if (!docs[i]->failed && nd[i].given && r[0] && strcasecmp(docs[i]->name, r[0]) == 0)
					doc_error(run, docs[i], docs[i]->row, NULL, docs[i]->name,
							  fc_printf(run->b, "%s %s already exists", run->doctype, docs[i]->name));
		mysql_free_result(res);
	}
}

/* ---- writing ---- */

typedef struct Rows
{
	int			ncols;
	const char **cols;
	int			n,
				cap;
	const char **v;				/* n * ncols */
} Rows;

static const char **
rows_add(IRun *run, Rows *rs)
{
	if (rs->n == rs->cap)
	{
		const char **nv = fc_alloc(run->b, sizeof(char *) * rs->ncols * (rs->cap * 2 + 64));

		if (rs->n)
			memcpy(nv, rs->v, sizeof(char *) * rs->ncols * rs->n);
		rs->v = nv;
		rs->cap = rs->cap * 2 + 64;
	}
	return &rs->v[rs->ncols * rs->n++];
}

/* the columns a table's rows fill: the standard ones it has, then its fields */
static void
rows_init(IRun *run, ITable *t, Rows *rs)
{
	int			k = 0;

	rs->cols = fc_alloc(run->b, sizeof(char *) * (NSTD + t->nfields + 1));
	for (int s = 0; s < NSTD; s++)
		if (t->std[s] && (t->child || s < STD_PARENT))
			rs->cols[k++] = std_names[s];
	for (int i = 0; i < t->nfields; i++)
		rs->cols[k++] = t->fields[i].fieldname;
	rs->ncols = k;
}

static void
row_fill(IRun *run, ITable *t, const char **out, IDoc *doc, char **vals, const char *name, int idx)
{
	int			k = 0;
	char	   *ds = fc_printf(run->b, "%d", doc->docstatus);

	for (int s = 0; s < NSTD; s++)
	{
		if (!t->std[s] || (!t->child && s >= STD_PARENT))
			continue;
		switch (s)
		{
			case STD_NAME:
				out[k++] = name;
				break;
			case STD_OWNER:
				out[k++] = doc->owner;
				break;
			case STD_CREATION:
			case STD_MODIFIED:
				out[k++] = run->now;
				break;
			case STD_MODIFIED_BY:
				out[k++] = run->user;
				break;
			case STD_DOCSTATUS:
				out[k++] = ds;
				break;
			case STD_IDX:
				out[k++] = fc_printf(run->b, "%d", idx);
				break;
			case STD_PARENT:
				out[k++] = doc->name;
				break;
			case STD_PARENTFIELD:
				out[k++] = t->parentfield;
				break;
			case STD_PARENTTYPE:
				out[k++] = run->doctype;
				break;
		}
	}
	for (int i = 0; i < t->nfields; i++)
		out[k++] = vals[i];
}

/* the rows into tab<doctype>: one prepared INSERT, every row bound at once (Connector/C's array binding) */
static bool
insert_rows(IRun *run, ITable *t, Rows *rs, char **err)
{
	MYSQL_STMT *st;
	MYSQL_BIND *b;
	FcBuf		sql = {0};
	unsigned int size = (unsigned int) rs->n;
	bool		ok;

	if (rs->n == 0)
		return true;
	fc_buf_printf(&sql, "INSERT INTO %s (", fc_ident(run->b, fc_printf(run->b, "tab%s", t->doctype)));
	for (int c = 0; c < rs->ncols; c++)
		fc_buf_printf(&sql, "%s%s", c ? ", " : "", fc_ident(run->b, rs->cols[c]));
	fc_buf_puts(&sql, ") VALUES (");
	for (int c = 0; c < rs->ncols; c++)
		fc_buf_puts(&sql, c ? ", ?" : "?");
	fc_buf_puts(&sql, ")");
	if ((st = mysql_stmt_init(run->conn)) == NULL)
		fc_fail("53200", NULL, NULL, "out of memory");
	if (mysql_stmt_prepare(st, sql.data, sql.len) != 0)
	{
		*err = fc_printf(run->b, "%s", mysql_stmt_error(st));
		run->last_errno = mysql_stmt_errno(st);
		mysql_stmt_close(st);
		fc_buf_free(&sql);
		return false;
	}
	fc_buf_free(&sql);
	b = fc_alloc(run->b, sizeof(MYSQL_BIND) * rs->ncols);
	for (int c = 0; c < rs->ncols; c++)
	{
		char	  **ptrs = fc_alloc(run->b, sizeof(char *) * rs->n);
		char	   *ind = fc_alloc(run->b, rs->n);

		for (int r = 0; r < rs->n; r++)
		{
			const char *v = rs->v[r * rs->ncols + c];

			ptrs[r] = (char *) (v ? v : "");
			ind[r] = v ? STMT_INDICATOR_NTS : STMT_INDICATOR_DEFAULT;	/* (the column's default, as on PostgreSQL) */
		}
		b[c].buffer_type = MYSQL_TYPE_STRING;
		b[c].buffer = ptrs;
		b[c].u.indicator = ind;
	}
	ok = mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &size) == 0 && mysql_stmt_bind_param(st, b) == 0 &&
		mysql_stmt_execute(st) == 0;
	if (!ok)
	{
		*err = fc_printf(run->b, "%s", mysql_stmt_error(st));
		run->last_errno = mysql_stmt_errno(st);
	}
	mysql_stmt_close(st);
	return ok;
}

/* the documents of the list (not failed) into their tables; false with the server's error */
static bool
insert_docs(IRun *run, IDoc **docs, int n, char **err)
{
	Rows	   *rs = fc_alloc(run->b, sizeof(Rows) * run->ntables);

	for (int t = 0; t < run->ntables; t++)
		rows_init(run, &run->tables[t], &rs[t]);
	for (int i = 0; i < n; i++)
	{
		IDoc	   *doc = docs[i];

		if (doc->failed)
			continue;
		row_fill(run, &run->tables[0], rows_add(run, &rs[0]), doc, doc->vals, doc->name, 0);
		for (int c = 0; c < doc->nch; c++)
		{
			IChild	   *ch = &doc->ch[c];

			row_fill(run, &run->tables[ch->table], rows_add(run, &rs[ch->table]), doc, ch->vals,
					 ch->name ? ch->name : hash_name(run), ch->idx);
		}
	}
	for (int t = 0; t < run->ntables; t++)
		if (!insert_rows(run, &run->tables[t], &rs[t], err))
			return false;
	return true;
}

/* ---- Update Existing Records ---- */

/*
 * The rules are engine/importupdate.c's (what a file's document changes,
 * which child rows are kept, the refusals), PostgreSQL's import's too; here
 * the stored rows are read for a batch and the decisions written.
 */

/* the stored documents of a batch, by name */
typedef struct Stored
{
	FiUpdRow	row;
	int			docstatus;
} Stored;

/* a child table's stored rows of a batch, ordered by parent's bytes, then idx */
typedef struct StoredChildren
{
	int			n;
	FiUpdRow   *rows;
	char	  **parent;
} StoredChildren;

static int
stored_cmp_name(const void *a, const void *b)
{
	return strcmp(((const Stored *) a)->row.name, ((const Stored *) b)->row.name);
}

/* the stored rows of table t for the names (parent) or parents (a child table) in `in`: a result to read */
static MYSQL_RES *
query_stored(IRun *run, ITable *t, const char *in)
{
	FcBuf		sql = {0};
	MYSQL_RES  *res;

	fc_buf_puts(&sql, t->child ? "SELECT name, parent" : "SELECT name, docstatus");
	for (int i = 0; i < t->nmapped; i++)
		fc_buf_printf(&sql, ", %s", fc_ident(run->b, t->fields[i].fieldname));
	fc_buf_printf(&sql, " FROM %s WHERE ", fc_ident(run->b, fc_printf(run->b, "tab%s", t->doctype)));
	if (t->child)
		fc_buf_printf(&sql, "parenttype = %s AND parentfield = %s AND parent IN %s ORDER BY CAST(parent AS BINARY), idx",
					  fc_literal(run->b, run->conn, run->doctype), fc_literal(run->b, run->conn, t->parentfield), in);
	else
		fc_buf_printf(&sql, "name IN %s", in);
	res = fc_query(run->conn, sql.data, "reading the stored documents");
	fc_buf_free(&sql);
	return res;
}

/* a row of query_stored's: its name and mapped fields' texts (from column 2 on) */
static void
stored_row(IRun *run, ITable *t, MYSQL_ROW r, unsigned long *len, FiUpdRow *out)
{
	const char **vals = fc_alloc(run->b, sizeof(char *) * (t->nmapped + 1));

	out->name = fc_strndup(run->b, r[0] ? r[0] : "", r[0] ? len[0] : 0);
	for (int i = 0; i < t->nmapped; i++)
		vals[i] = r[2 + i] ? fc_strndup(run->b, r[2 + i], len[2 + i]) : NULL;
	out->vals = vals;
}

/* the rows of parent among a child table's: the first, and how many */
static int
stored_rows_of(StoredChildren *sc, const char *parent, int *first)
{
	int			lo = 0,
				hi = sc->n;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (strcmp(sc->parent[mid], parent) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (hi < sc->n && strcmp(sc->parent[hi], parent) == 0)
		hi++;
	return hi - lo;
}

static const char *
table_label(ITable *t)
{
	return t->tdf->label && t->tdf->label[0] ? t->tdf->label : t->tdf->fieldname;
}

/* the engine's view of the tables (made once) */
static const FiUpdTable *
upd_tables(IRun *run)
{
	if (run->upd == NULL)
	{
		FiUpdTable *ut = fc_alloc(run->a, sizeof(FiUpdTable) * run->ntables);

		for (int ti = 0; ti < run->ntables; ti++)
		{
			ITable	   *t = &run->tables[ti];
			FiUpdField *f = fc_alloc(run->a, sizeof(FiUpdField) * (t->nmapped + 1));

			for (int i = 0; i < t->nmapped; i++)
			{
				f[i].kind = t->fields[i].r.cell.kind;
				f[i].allow_on_submit = t->fields[i].df->allow_on_submit;
				f[i].label = t->fields[i].r.cell.label;
			}
			ut[ti].nmapped = t->nmapped;
			ut[ti].fields = f;
			ut[ti].label = t->child ? table_label(t) : NULL;
			ut[ti].allow_on_submit = t->child && t->tdf->allow_on_submit;
		}
		run->upd = ut;
	}
	return run->upd;
}

/* what each document of the batch changes (doc->skipped, replace, its rows' stored), or why it fails */
static void
update_prepare(IRun *run, IDoc **docs, int n)
{
	ITable	   *t0 = &run->tables[0];
	const FiUpdTable *ut = upd_tables(run);
	const char *autoname = run->meta->autoname ? run->meta->autoname : "";
	const char **names = fc_alloc(run->b, sizeof(char *) * (n + 1));
	int			k = 0,
				npar = 0;
	const char *in;
	Stored	   *par;
	StoredChildren *sc = fc_alloc(run->b, sizeof(StoredChildren) * run->ntables);
	FiUpdDoc   *ud = fc_alloc(run->b, sizeof(FiUpdDoc) * (n + 1));
	MYSQL_RES  *res;
	MYSQL_ROW	r;

	for (int i = 0; i < n; i++)
	{
		IDoc	   *doc = docs[i];

		if (doc->failed)
			continue;
		if (!doc->supplied && strncasecmp(autoname, "field:", 6) == 0)
			for (int f = 0; f < t0->nmapped; f++)
				if (strcmp(t0->fields[f].fieldname, autoname + 6) == 0 && doc->vals[f])
					doc->name = doc->vals[f];
		if (doc->name == NULL)
		{
			doc_error(run, doc, doc->row, NULL, NULL, "an ID is required to update a document (an \"ID\" column)");
			continue;
		}
		names[k++] = doc->name;
	}
	if (k == 0)
		return;

	/* what is stored: the documents (looked up by name), each child table's rows of them */
	in = in_list(run, names, k);
	res = query_stored(run, t0, in);
	par = fc_alloc(run->b, sizeof(Stored) * (mysql_num_rows(res) + 1));
	while ((r = mysql_fetch_row(res)) != NULL)
	{
		stored_row(run, t0, r, mysql_fetch_lengths(res), &par[npar].row);
		par[npar++].docstatus = r[1] ? atoi(r[1]) : 0;
	}
	mysql_free_result(res);
	qsort(par, npar, sizeof(Stored), stored_cmp_name);
	for (int ti = 1; ti < run->ntables; ti++)
	{
		res = query_stored(run, &run->tables[ti], in);
		sc[ti].rows = fc_alloc(run->b, sizeof(FiUpdRow) * (mysql_num_rows(res) + 1));
		sc[ti].parent = fc_alloc(run->b, sizeof(char *) * (mysql_num_rows(res) + 1));
		while ((r = mysql_fetch_row(res)) != NULL)
		{
			unsigned long *len = mysql_fetch_lengths(res);

			stored_row(run, &run->tables[ti], r, len, &sc[ti].rows[sc[ti].n]);
			sc[ti].parent[sc[ti].n++] = fc_strndup(run->b, r[1] ? r[1] : "", r[1] ? len[1] : 0);
		}
		mysql_free_result(res);
	}

	/* each document for the engine: found, its file rows matched with the stored ones */
	for (int i = 0; i < n; i++)
	{
		IDoc	   *doc = docs[i];
		FiUpdDoc   *u = &ud[i];
		Stored		key,
				   *s;
		const FiUpdRow **rows;
		int		   *nstored;

		if (doc->failed)
			continue;
		key.row.name = doc->name;
		s = bsearch(&key, par, npar, sizeof(Stored), stored_cmp_name);
		if (s == NULL)
		{
			doc_error(run, doc, doc->row, NULL, doc->name, fc_printf(run->b, "%s %s not found", run->doctype, doc->name));
			continue;
		}
		rows = fc_alloc(run->b, sizeof(FiUpdRow *) * run->ntables);
		nstored = fc_alloc(run->b, sizeof(int) * run->ntables);
		for (int ti = 1; ti < run->ntables; ti++)
		{
			int			first;

			nstored[ti] = stored_rows_of(&sc[ti], doc->name, &first);
			rows[ti] = sc[ti].rows + first;
		}
		u->docstatus = s->docstatus;
		u->stored = s->row.vals;
		u->vals = (const char *const *) doc->vals;
		u->nchildren = doc->nch;
		u->children = fc_alloc(run->b, sizeof(FiUpdChild) * (doc->nch + 1));
		for (int c = 0; c < doc->nch; c++)
		{
			u->children[c].table = doc->ch[c].table;
			u->children[c].name = doc->ch[c].name;
			u->children[c].vals = (const char *const *) doc->ch[c].vals;
		}
		u->stored_rows = rows;
		u->nstored = nstored;
		u->replace = doc->replace = fc_alloc(run->b, sizeof(bool) * run->ntables);
		fi_import_update_match(u);
		for (int c = 0; c < doc->nch; c++)
			doc->ch[c].stored = u->children[c].stored;
		doc->docstatus = s->docstatus;
		doc->owner = run->user; /* (of the child rows it gets) */
	}

	/* a child row's ID naming a row of another document fails the document (Frappe would move it here) */
	for (int ti = 1; ti < run->ntables; ti++)
	{
		ITable	   *t = &run->tables[ti];
		const char **foreign;
		int			nforeign = 0,
					cap = 0;

		for (int i = 0; i < n; i++)
			cap += docs[i]->failed ? 0 : docs[i]->nch;
		foreign = fc_alloc(run->b, sizeof(char *) * (cap + 1));
		for (int i = 0; i < n; i++)
			for (int c = 0; c < docs[i]->nch && !docs[i]->failed; c++)
				if (docs[i]->ch[c].table == ti && docs[i]->ch[c].name && !docs[i]->ch[c].stored)
					foreign[nforeign++] = docs[i]->ch[c].name;
		if (nforeign == 0)
			continue;
		res = fc_query(run->conn, fc_printf(run->b, "SELECT name, CONCAT(parenttype, ' ', parent) FROM %s WHERE name IN %s",
											fc_ident(run->b, fc_printf(run->b, "tab%s", t->doctype)),
											in_list(run, foreign, nforeign)), "reading the stored child rows");
		while ((r = mysql_fetch_row(res)) != NULL)
			for (int i = 0; i < n && r[0] && r[1]; i++)
				for (int c = 0; c < docs[i]->nch && !docs[i]->failed; c++)
				{
					IChild	   *ch = &docs[i]->ch[c];

					if (ch->table == ti && ch->name && !ch->stored && strcmp(ch->name, r[0]) == 0)
						doc_error(run, docs[i], ch->row, t->id_col >= 0 ? run->headers[t->id_col] : NULL, ch->name,
								  fc_printf(run->b, "%s: row %s belongs to %s, not to this document",
											table_label(t), ch->name, r[1]));
				}
		mysql_free_result(res);
	}

	/* what changes, or the refusal of a submitted or cancelled document */
	for (int i = 0; i < n; i++)
	{
		IDoc	   *doc = docs[i];
		int			at;
		char	   *msg;

		if (doc->failed)
			continue;
		switch (fi_import_update_decide(ut, run->ntables, &ud[i], &at, &msg, fc_alloc, run->b))
		{
			case FI_UPD_OK:
				doc->skipped = ud[i].skipped;
				break;
			case FI_UPD_CANCELLED:
				doc_error(run, doc, doc->row, NULL, doc->name, msg);
				break;
			case FI_UPD_AFTER_SUBMIT_FIELD:
				doc_error(run, doc, doc->row, t0->fields[at].header, NULL, msg);
				break;
			case FI_UPD_AFTER_SUBMIT_TABLE:
				doc_error(run, doc, doc->row, NULL, NULL, msg);
				break;
		}
	}
}

/* UPDATE one row: the non-empty cells of the mapped fields, modified, modified_by (and a child row's idx) */
static bool
update_row(IRun *run, ITable *t, const char *name, char **vals, int idx, char **err)
{
	FcBuf		sql = {0};
	bool		ok;

	fc_buf_printf(&sql, "UPDATE %s SET modified = %s, modified_by = %s",
				  fc_ident(run->b, fc_printf(run->b, "tab%s", t->doctype)), fc_literal(run->b, run->conn, run->now),
				  fc_literal(run->b, run->conn, run->user));
	if (t->child)
		fc_buf_printf(&sql, ", idx = %d", idx);
	for (int i = 0; i < t->nmapped; i++)
		if (vals[i] != NULL)
			fc_buf_printf(&sql, ", %s = %s", fc_ident(run->b, t->fields[i].fieldname), fc_literal(run->b, run->conn, vals[i]));
	fc_buf_printf(&sql, " WHERE name = %s", fc_literal(run->b, run->conn, name));
	ok = mysql_real_query(run->conn, sql.data, sql.len) == 0;
	if (!ok)
	{
		run->last_errno = mysql_errno(run->conn);
		*err = fc_printf(run->b, "%s", mysql_error(run->conn));
	}
	fc_buf_free(&sql);
	return ok;
}

/* the documents' changes written: parents, then each replaced child table; false with *err on a server error */
static bool
update_docs(IRun *run, IDoc **docs, int n, char **err)
{
	for (int i = 0; i < n; i++)
		if (!docs[i]->failed && !docs[i]->skipped &&
			!update_row(run, &run->tables[0], docs[i]->name, docs[i]->vals, 0, err))
			return false;
	for (int ti = 1; ti < run->ntables; ti++)
	{
		ITable	   *t = &run->tables[ti];
		const char **parents = fc_alloc(run->b, sizeof(char *) * (n + 1)),
				  **keep;
		int			np = 0,
					nk = 0,
					capk = 0;
		Rows		rs = {0};
		FcBuf		sql = {0};

		for (int i = 0; i < n; i++)
			if (!docs[i]->failed && !docs[i]->skipped && docs[i]->replace[ti])
			{
				parents[np++] = docs[i]->name;
				capk += docs[i]->nch;
			}
		if (np == 0)
			continue;
		keep = fc_alloc(run->b, sizeof(char *) * (capk + 1));
		for (int i = 0; i < n; i++)
			if (!docs[i]->failed && !docs[i]->skipped && docs[i]->replace[ti])
				for (int c = 0; c < docs[i]->nch; c++)
					if (docs[i]->ch[c].table == ti && docs[i]->ch[c].stored)
						keep[nk++] = docs[i]->ch[c].name;
		fc_buf_printf(&sql, "DELETE FROM %s WHERE parenttype = %s AND parentfield = %s AND parent IN %s",
					  fc_ident(run->b, fc_printf(run->b, "tab%s", t->doctype)), fc_literal(run->b, run->conn, run->doctype),
					  fc_literal(run->b, run->conn, t->parentfield), in_list(run, parents, np));
		if (nk > 0)
			fc_buf_printf(&sql, " AND name NOT IN %s", in_list(run, keep, nk));
		if (mysql_real_query(run->conn, sql.data, sql.len) != 0)
		{
			run->last_errno = mysql_errno(run->conn);
			*err = fc_printf(run->b, "%s", mysql_error(run->conn));
			fc_buf_free(&sql);
			return false;
		}
		fc_buf_free(&sql);
		rows_init(run, t, &rs);
		for (int i = 0; i < n; i++)
		{
			int			idx = 0;

			if (docs[i]->failed || docs[i]->skipped || !docs[i]->replace[ti])
				continue;
			for (int c = 0; c < docs[i]->nch; c++)
			{
				IChild	   *ch = &docs[i]->ch[c];

				if (ch->table != ti)
					continue;
				idx++;
				if (ch->stored)
				{
					if (!update_row(run, t, ch->name, ch->vals, idx, err))
						return false;
				}
				else
					row_fill(run, t, rows_add(run, &rs), docs[i], ch->vals, ch->name ? ch->name : hash_name(run), idx);
			}
		}
		if (rs.n > 0 && !insert_rows(run, t, &rs, err))
			return false;
	}
	return true;
}

/* ---- a batch ---- */

static void
read_clock(IRun *run)
{
	MYSQL_RES  *res = fc_query(run->conn, "SELECT DATE_FORMAT(COALESCE((SELECT CONVERT_TZ(UTC_TIMESTAMP(6), '+00:00', z.value) "
							   "FROM `tabSingles` z WHERE z.doctype = 'System Settings' AND z.field = 'time_zone' LIMIT 1), "
							   "NOW(6)), '%Y-%m-%d %H:%i:%s.%f')", "reading the site's clock");
	MYSQL_ROW	r = mysql_fetch_row(res);

	snprintf(run->now, sizeof(run->now), "%s", r && r[0] ? r[0] : "1970-01-01 00:00:00.000000");
	mysql_free_result(res);
	sscanf(run->now, "%d-%d-%d %d:%d:%d.%d", &run->now_dt.year, &run->now_dt.month, &run->now_dt.day,
		   &run->now_dt.hour, &run->now_dt.minute, &run->now_dt.second, &run->now_dt.usec);
}

/* ---- tabData Import Log (--data-import) ---- */

/* the document's log row (engine/importlog.c's texts), kept for flush_log */
static void
log_doc(IRun *run, IDoc *doc)
{
	FiImportLogMsg *msgs;
	int			nmsgs = 0;
	FiImportLog l;
	FcBuf	   *c;

	for (IErr *e = doc->errs; e; e = e->next)
		nmsgs++;
	msgs = fc_alloc(run->b, sizeof(FiImportLogMsg) * (nmsgs + 1));
	nmsgs = 0;
	for (IErr *e = doc->errs; e; e = e->next)
	{
		msgs[nmsgs].message = e->message;
		msgs[nmsgs++].msgprint = e->msgprint;
	}
	fi_import_log(doc->rows, doc->nrows, !doc->failed, msgs, nmsgs, fc_alloc, run->b, &l);
	if (run->nlog == 0 || run->log[run->nlog - 1].len >= LOG_CHUNK)
	{
		if (run->nlog == run->caplog)
		{
			FcBuf	   *grown = realloc(run->log, sizeof(FcBuf) * (run->caplog * 2 + 4));

			if (grown == NULL)
				fc_fail("53200", NULL, NULL, "out of memory");
			run->log = grown;
			run->caplog = run->caplog * 2 + 4;
		}
		memset(&run->log[run->nlog++], 0, sizeof(FcBuf));
	}
	c = &run->log[run->nlog - 1];
	fc_buf_printf(c, "%s(%s, %s, %s, %s, %s, 0, 0, %s, %s, %s, %s, %d, %ld, %s)", c->len ? ", " : "",
				  fc_literal(run->b, run->conn, hash_name(run)), fc_literal(run->b, run->conn, run->now),
				  fc_literal(run->b, run->conn, run->now), fc_literal(run->b, run->conn, run->user),
				  fc_literal(run->b, run->conn, run->user), fc_literal(run->b, run->conn, run->data_import),
				  doc->failed ? "NULL" : fc_literal(run->b, run->conn, doc->name ? doc->name : ""),
				  l.exception ? fc_literal(run->b, run->conn, l.exception) : "NULL",
				  fc_literal(run->b, run->conn, l.row_indexes), doc->failed ? 0 : 1, run->log_index++,
				  fc_literal(run->b, run->conn, l.messages));
}

/* the kept log rows written (in the transaction open: the batch's, or one of their own) */
static void
flush_log(IRun *run)
{
	for (int i = 0; i < run->nlog; i++)
	{
		FcBuf		sql = {0};

		if (run->log[i].len > 0)
		{
			fc_buf_puts(&sql, "INSERT INTO `tabData Import Log` (name, creation, modified, modified_by, owner, docstatus, "
						"idx, data_import, docname, exception, row_indexes, success, log_index, messages) VALUES ");
			fc_buf_put(&sql, run->log[i].data, run->log[i].len);
			if (mysql_real_query(run->conn, sql.data, sql.len) != 0)
				fc_fail_mysql(run->conn, "writing the Data Import Log");
		}
		fc_buf_free(&sql);
		fc_buf_free(&run->log[i]);
	}
	run->nlog = 0;
}

static void
note_outcome(IRun *run, IDoc *doc)
{
	if (run->data_import)
		log_doc(run, doc);
	if (!doc->failed)
	{
		if (doc->skipped)
			run->unchanged++;
		else if (run->update)
			run->updated++;
		else
			run->inserted++;
		return;
	}
	run->failed++;
	for (IErr *e = doc->errs; e && run->nerrors_kept < MAX_ERRORS_KEPT; e = e->next)
	{
		if (run->errors.len)
			fc_buf_puts(&run->errors, ", ");
		fc_buf_printf(&run->errors, "{\"row\": %ld, \"column\": ", e->row);
		json_str(&run->errors, e->column);
		fc_buf_puts(&run->errors, ", \"value\": ");
		json_str(&run->errors, e->value);
		fc_buf_puts(&run->errors, ", \"message\": ");
		json_str(&run->errors, e->message);
		fc_buf_puts(&run->errors, "}");
		run->nerrors_kept++;
	}
}

static void
run_batch(IRun *run, IDoc **docs, char ****row_cells, int n)
{
	char	   *err = NULL;

	read_clock(run);
	run->batch_no++;
	/* a document refused before its cells were read (a ragged row) keeps its errors only */
	for (int i = 0; i < n; i++)
		if (!docs[i]->failed)
			convert_doc(run, docs[i], row_cells[i]);
	/* per table, as PostgreSQL's import checks: Links and unique values, then fetch_from and the mandatory fields */
	for (int ti = 0; ti < run->ntables; ti++)
	{
		ITable	   *t = &run->tables[ti];

		for (int f = 0; f < t->nfields; f++)
		{
			if (t->fields[f].r.is_link)
				check_links(run, docs, n, ti, f);
			/* (the field that names the document is checked as the name) */
			if (t->fields[f].r.unique && !run->update && t->fields[f].col >= 0 &&
				!names_the_document(run, t, &t->fields[f]))
				check_unique(run, docs, n, ti, f);
		}
		if (!run->update)
			fetch_values(run, docs, n, ti);
		for (int i = 0; i < n; i++)
		{
			IDoc	   *doc = docs[i];

			if (doc->vals == NULL)
				continue;
			if (ti == 0)
				complete_row(run, doc, t, doc->row, 0, doc->cells, doc->vals);
			for (int c = 0; c < doc->nch; c++)
				if (doc->ch[c].table == ti)
					complete_row(run, doc, t, doc->ch[c].row, doc->ch[c].idx, doc->ch[c].cells, doc->ch[c].vals);
		}
	}
	if (run->update)
		update_prepare(run, docs, n);
	run_sql(run, "SAVEPOINT fi_import_batch", "starting a batch");
	if (!run->update)
		name_batch(run, docs, n);
	if (run->update ? !update_docs(run, docs, n, &err) : (!insert_docs(run, docs, n, &err) && run->last_errno == 1062))
	{
		/* a duplicate key: a name given that a stored document has (Frappe's words), then again */
		if (!run->update)
		{
			run_sql(run, "ROLLBACK TO SAVEPOINT fi_import_batch", "undoing a batch");
			check_taken(run, docs, n);
			err = NULL;
			if (insert_docs(run, docs, n, &err))
				err = NULL;
		}
	}
	if (err != NULL)
	{
		/* one document at a time, each behind its own savepoint: only the bad ones fail */
		run_sql(run, "ROLLBACK TO SAVEPOINT fi_import_batch", "undoing a batch");
		for (int i = 0; i < n; i++)
		{
			if (docs[i]->failed)
				continue;
			run_sql(run, "SAVEPOINT fi_import_doc", "starting a document");
			if (run->update ? !update_docs(run, &docs[i], 1, &err) : !insert_docs(run, &docs[i], 1, &err))
			{
				run_sql(run, "ROLLBACK TO SAVEPOINT fi_import_doc", "undoing a document");
				doc_error(run, docs[i], docs[i]->row, NULL, NULL, err);
			}
		}
	}
	for (int i = 0; i < n; i++)
		note_outcome(run, docs[i]);
	if (!run->atomic && !run->dry_run)
	{
		flush_log(run);			/* with the batch's documents */
		run_sql(run, "COMMIT", "committing a batch");
	}
	run->documents += n;
}

/* ---- the file ---- */

static char *
decode_input(IRun *run, const char *data, size_t len, size_t *outlen)
{
	size_t		bad,
				bad2;
	const char *nul;
	char	   *out;
	long		n;

	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		data += 3, len -= 3;
	if ((nul = memchr(data, '\0', len)) != NULL)
	{
		long		line = 1;

		for (const char *p = data; p < nul; p++)
			line += *p == '\n';
		fc_fail("22021", NULL, "A CSV file is text; this looks like a binary file (or UTF-16).",
				"the file contains a NUL byte (line %ld)", line);
	}
	*outlen = len;
	if (fi_utf8_valid(data, len, &bad))
		return (char *) data;
	out = malloc(len * 3 + 1);
	if (out == NULL)
		fc_fail("53200", NULL, NULL, "out of memory");
	if ((n = fi_cp1252_to_utf8((const unsigned char *) data, len, out, &bad2)) < 0)
		fc_fail("22021", NULL, "Save the file as UTF-8.", "the file is neither UTF-8 nor windows-1252 "
				"(byte 0x%02x at offset %zu is not UTF-8; byte 0x%02x at offset %zu has no character in windows-1252)",
				(unsigned char) data[bad], bad, (unsigned char) data[bad2], bad2);
	out[n] = '\0';
	*outlen = (size_t) n;
	(void) run;
	return out;
}

static const char *const blocked_doctypes[] = {
	"DefaultValue", "DocType", "DocField", "DocPerm", "DocType Action", "DocType Link",
	"Page", "Module Def", "Print Format", "Report", "Customize Form",
	"Customize Form Field", "Property Setter", "Custom Field", "Client Script"
};

static void
progress(IRun *run, double frac, bool last)
{
	double		el = now_s() - run->start;
	double		rate = el > 0 ? run->rows / el : 0;

	if (!run->progress)
		return;
	fprintf(stderr, "\r%ld rows, %ld documents (%ld failed), %.0f rows/s, %s%.0f s%s",
			run->rows, run->documents, run->failed, rate, last ? "took " : "time left ",
			last ? el : (frac > 0 ? el / frac - el : 0), last ? "\n" : "   ");
	fflush(stderr);
}

/* ---- the source: a CSV file, or an Excel workbook (.xlsx) ---- */

static bool
sheet_cell(void *arg, long row, int col, const char *text, size_t len)
{
	return fi_sheet_guess_cell(arg, row, col, text, len);
}

static void
xlsx_fail(FiXlsxErr e, const char *msg)
{
	fc_fail(e == FI_XLSX_BAD_XML ? "22P02" : e == FI_XLSX_TOO_BIG ? "54000" :
			e == FI_XLSX_NOMEM || e == FI_XLSX_STOPPED ? "53200" : "22023", NULL,
			e == FI_XLSX_NOT_XLSX ? "Excel 2007+ workbooks (.xlsx) are read; save an .xls or .ods file as .xlsx first." : NULL,
			"%s", e == FI_XLSX_STOPPED ? "out of memory reading the workbook" : msg);
}

/* the next record into rec: 1, or 0 at the end */
static int
source_next(FiXlsx *x, FiCsvReader *rec)
{
	int			rc;
	bool		done;
	char		msg[256];
	FiXlsxErr	e;

	if (x == NULL)
	{
		if ((rc = fi_csv_next(rec)) < 0)
			fc_fail("53200", NULL, NULL, "out of memory reading the file");
		return rc;
	}
	if ((e = fi_xlsx_next(x, rec, &done, msg, sizeof(msg))) != FI_XLSX_OK)
		xlsx_fail(e, msg);
	return done ? 0 : 1;
}

void
fc_import_column_map(FcArena *a, FiVal *map, FcImportOptions *o)
{
	int			n;

	if (map == NULL || fi_val_kind(map) != FI_VK_DICT)
		fc_fail("22023", NULL, NULL, "option \"column_to_field_map\" must be an object of column index to field");
	n = fi_val_count(map);
	o->map_columns = fc_alloc(a, sizeof(char *) * (n + 1));
	o->map_fields = fc_alloc(a, sizeof(char *) * (n + 1));
	o->nmap = 0;
	for (int i = 0; i < n; i++)
	{
		size_t		kl,
					vl;
		const char *k = fi_val_text(fi_val_key_at(map, i), &kl);
		const char *v = fi_val_text(fi_val_value_at(map, i), &vl);

		if (k == NULL)
			continue;
		if (v == NULL)
			fc_fail("22023", NULL, NULL, "column_to_field_map[\"%.*s\"] must be a string", (int) (kl > 60 ? 60 : kl), k);
		o->map_columns[o->nmap] = fc_strndup(a, k, kl);
		o->map_fields[o->nmap++] = fc_strndup(a, v, vl);
	}
}

int
fc_import_main(MYSQL *conn, FcArena *a, const char *doctype, const char *file, const FcImportOptions *o)
{
	bool		dry_run = o->dry_run,
				atomic = o->atomic,
				submit = o->submit,
				update = o->update;
	const char *user = o->user;
	int			batch_docs = o->batch_docs;
	const char *data_import = o->data_import;
	IRun		run0 = {0};
	IRun	   *run = &run0;
	int			fd;
	struct stat stt;
	char	   *map;
	size_t		len;
	char	   *data;
	FiCsvReader rec;
	FiXlsx	   *xlsx = NULL;
	FiSheetGuess sheet = {0};
	bool		have_header = false;
	int			rc;
	IDoc	  **batch;
	char	 ***cells_of;		/* per document of the batch: its rows' cells */
	char	 ****rows_of;
	int			nbatch = 0;
	IDoc	   *cur = NULL;
	int			cur_cap = 0;
	FcBuf		out = {0};
	double		last_progress = 0;

	run->conn = conn;
	run->a = a;
	run->b = fc_arena_new();
	run->dry_run = dry_run;
	run->atomic = atomic;
	run->submit = submit;
	run->update = update;
	run->user = user ? user : "Administrator";
	run->batch_docs = batch_docs;
	run->opts = o;
	run->start = now_s();
	run->progress = isatty(2);
	if ((run->meta = fc_meta(conn, a, doctype)) == NULL)
		fc_fail("42704", NULL, NULL, "DocType %s not found", doctype);
	run->doctype = run->meta->name;
	for (size_t i = 0; i < sizeof(blocked_doctypes) / sizeof(blocked_doctypes[0]); i++)
		if (strcmp(doctype, blocked_doctypes[i]) == 0)
			fc_fail("22023", "Frappe's Data Import refuses core DocTypes.", NULL, "%s cannot be imported", doctype);
	if (run->meta->istable)
		fc_fail("22023", NULL, "Import its parent DocType, with the child columns as \"Label (Table Label)\".",
				"%s is a child table and cannot be imported alone", doctype);
	if (run->meta->issingle || run->meta->is_virtual)
		fc_fail("22023", NULL, NULL, "%s is a %s DocType and has no table to import into", doctype,
				run->meta->issingle ? "Single" : "virtual");
	if (submit && !run->meta->is_submittable)
		fc_fail("22023", NULL, "Leave out --submit.", "%s is not submittable", doctype);
	if (data_import != NULL)
	{
		MYSQL_RES  *r;
		bool		found;

		if (!fc_column_exists(conn, a, "tabData Import", "name"))
			fc_fail("42704", NULL, "--data-import names the tabData Import document to log to.",
					"Data Import %s not found", data_import);
		r = fc_query(conn, fc_printf(a, "SELECT 1 FROM `tabData Import` WHERE name = %s",
									 fc_literal(a, conn, data_import)), "looking for the Data Import");
		found = mysql_num_rows(r) == 1;
		mysql_free_result(r);
		if (!found)
			fc_fail("42704", NULL, "--data-import names the tabData Import document to log to.",
					"Data Import %s not found", data_import);
		run->data_import = data_import;
	}

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &stt) != 0)
		fc_fail("58030", NULL, NULL, "could not read the file \"%s\": %s", file, strerror(errno));
	len = (size_t) stt.st_size;
	map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : (char *) "";
	if (map == MAP_FAILED)
		fc_fail("58030", NULL, NULL, "could not read the file \"%s\": %s", file, strerror(errno));
	close(fd);
	if (strlen(file) > 5 && strcasecmp(file + strlen(file) - 5, ".xlsx") == 0)
	{
		/* a workbook (by its name, as import_csv_file tells them): its active sheet's rows, as openpyxl reads them */
		FiXlsxLimits lim;
		char		msg[256];
		FiXlsxErr	e;

		fi_xlsx_default_limits(&lim);
		if ((e = fi_xlsx_open(map, len, &lim, sheet_cell, &sheet, &xlsx, msg, sizeof(msg))) != FI_XLSX_OK)
			xlsx_fail(e, msg);
		if (!fi_sheet_guess_end(&sheet))
			xlsx_fail(FI_XLSX_STOPPED, "");
		data = map;
	}
	else
		data = decode_input(run, map, len, &len);

	/* the session: no webhook for imported documents (Frappe: none) unless asked, a transaction per batch */
	run_sql(run, o->webhooks ? "SET autocommit = 0" : "SET @frappe_integrations_webhooks = 'off', autocommit = 0",
			"setting up the session");
	run_sql(run, "START TRANSACTION", "starting a transaction");

	fi_csv_init(&rec, xlsx ? "" : data, xlsx ? 0 : len);
	while ((rc = source_next(xlsx, &rec)) == 1)
	{
		bool		empty = true;

		for (int i = 0; i < rec.nfields && empty; i++)
		{
			size_t		b;

			empty = fi_py_strip(rec.buf + rec.off[i], rec.len[i], &b) == 0;
		}
		if (!empty)
		{
			map_header(run, &rec);
			have_header = true;
			break;
		}
	}
	if (rc < 0)
		fc_fail("53200", NULL, NULL, "out of memory reading the file");
	if (!have_header)
		fc_fail("22023", "The file is empty.", NULL, "Import template should contain a Header and atleast one row.");
	guess_date_formats(run, (const char *) rec.p, (size_t) (rec.end - rec.p), xlsx ? &sheet : NULL);

	batch = calloc(run->batch_docs + 1, sizeof(IDoc *));
	rows_of = calloc(run->batch_docs + 1, sizeof(char ***));
	cells_of = NULL;
	if (batch == NULL || rows_of == NULL)
		fc_fail("53200", NULL, NULL, "out of memory");
	for (;;)
	{
		FiImpRowKind kind = FI_IMPROW_STARTS;
		char	  **cells;

		rc = source_next(xlsx, &rec);
		if (rc < 0)
			fc_fail("53200", NULL, NULL, "out of memory reading the file");
		if (rc == 1)
		{
			kind = fi_import_row_kind(&rec, run->parent_col, run->ncols, cur != NULL);
			if (kind == FI_IMPROW_BLANK)
				continue;
			run->rows++;
		}
		if (rc == 0 || kind == FI_IMPROW_STARTS)
		{
			if (cur != NULL)
			{
				rows_of[nbatch] = cells_of;
				batch[nbatch++] = cur;
				cur = NULL;
			}
			if (rc == 0 || nbatch == run->batch_docs)
			{
				if (nbatch > 0)
					run_batch(run, batch, rows_of, nbatch);
				nbatch = 0;
				fc_arena_free(run->b);
				run->b = fc_arena_new();
				if (now_s() - last_progress >= 0.5)
				{
					progress(run, xlsx ? (fi_xlsx_rows(xlsx) ? (double) rec.record_no / fi_xlsx_rows(xlsx) : 1) :
							 len ? (double) (rec.p - data) / len : 1, false);
					last_progress = now_s();
				}
			}
			if (rc == 0)
				break;
			cur = fc_alloc(run->b, sizeof(IDoc));
			cur_cap = 0;
			cells_of = NULL;
		}
		cells = fc_alloc(run->b, sizeof(char *) * ((rec.nfields > run->ncols ? rec.nfields : run->ncols) + 1));
		for (int i = 0; i < rec.nfields; i++)
		{
			size_t		b,
						l = fi_py_strip(rec.buf + rec.off[i], rec.len[i], &b);

			if (l > 0)
				cells[i] = fc_strndup(run->b, rec.buf + rec.off[i] + b, l);
		}
		if (cur->nrows == cur_cap)
		{
			long	   *nr = fc_alloc(run->b, sizeof(long) * (cur_cap * 2 + 4));
			char	 ***nc = fc_alloc(run->b, sizeof(char **) * (cur_cap * 2 + 4));

			if (cur->nrows)
			{
				memcpy(nr, cur->rows, sizeof(long) * cur->nrows);
				memcpy(nc, cells_of, sizeof(char **) * cur->nrows);
			}
			cur->rows = nr;
			cells_of = nc;
			cur_cap = cur_cap * 2 + 4;
		}
		if (cur->nrows == 0)
		{
			cur->row = rec.record_no;
			cur->cells = cells;
		}
		cur->rows[cur->nrows] = rec.record_no;
		cells_of[cur->nrows++] = cells;
		if (rec.nfields != run->ncols)
			doc_error(run, cur, rec.record_no, NULL, NULL,
					  fc_printf(run->b, "the row has %d cells, the header has %d", rec.nfields, run->ncols));
		if (rec.unterminated)
			doc_error(run, cur, rec.record_no, NULL, NULL, "a quoted cell is never closed: the file ends inside quotes");
	}
	fi_csv_free(&rec);
	fi_xlsx_close(xlsx);
	fi_sheet_guess_free(&sheet);
	free(batch);
	free(rows_of);
	if (run->dry_run || (run->atomic && run->failed > 0))
	{
		run_sql(run, "ROLLBACK", "rolling back");
		run->rolled_back = true;
	}
	else
		run_sql(run, "COMMIT", "committing");
	if (run->data_import)
	{
		/* the log of a run in one transaction (atomic, dry run) after it, as PostgreSQL's; then the status */
		const char *status = fi_import_status(run->inserted + run->updated + run->unchanged, run->failed,
											  run->rolled_back && !run->dry_run);

		flush_log(run);
		run_sql(run, fc_printf(run->b, "UPDATE `tabData Import` SET status = %s, payload_count = %ld, modified = %s, "
							   "modified_by = %s WHERE name = %s", fc_literal(run->b, run->conn, status), run->documents,
							   fc_literal(run->b, run->conn, run->now), fc_literal(run->b, run->conn, run->user),
							   fc_literal(run->b, run->conn, run->data_import)), "updating the Data Import");
		run_sql(run, "COMMIT", "committing the Data Import Log");
		free(run->log);
	}
	progress(run, 1, true);
	if (run->rows == 0 && !run->rolled_back)
		fc_fail("22023", "The file has a header and no data rows.", NULL,
				"Import template should contain a Header and atleast one row.");

	/* the result: import_csv's JSON, as jsonb prints it */
	{
		const char *status = fi_import_status(run->inserted + run->updated + run->unchanged, run->failed,
											  run->rolled_back && !run->dry_run);
		FiJBuf		canon = {0};
		FiJsonRoot	root;
		char		msg[200];

		fc_buf_printf(&out, "{\"status\": \"%s\", \"inserted\": %ld, \"updated\": %ld, ", status,
					  run->rolled_back ? 0 : run->inserted, run->rolled_back ? 0 : run->updated);
		if (run->update)
			fc_buf_printf(&out, "\"unchanged\": %ld, ", run->unchanged);
		fc_buf_printf(&out, "\"failed\": %ld, \"rows\": %ld, \"documents\": %ld", run->failed, run->rows, run->documents);
		if (run->dry_run)
			fc_buf_printf(&out, ", \"dry_run\": true, \"would_insert\": %ld, \"would_update\": %ld", run->inserted,
						  run->updated);
		if (run->rolled_back && !run->dry_run)
			fc_buf_printf(&out, ", \"rolled_back\": %ld", run->inserted + run->updated);
		fc_buf_puts(&out, ", \"errors\": [");
		if (run->errors.len)
			fc_buf_put(&out, run->errors.data, run->errors.len);
		fc_buf_puts(&out, "]");
		if (run->nerrors_kept >= MAX_ERRORS_KEPT)
			fc_buf_puts(&out, ", \"errors_truncated\": true");
		fc_buf_puts(&out, ", \"warnings\": [");
		if (run->warnings.len)
			fc_buf_put(&out, run->warnings.data, run->warnings.len);
		fc_buf_puts(&out, "]}");
		if (fi_json_canon(out.data, out.len, true, 10, &canon, &root, msg, sizeof(msg)) != FI_JSON_OK)
			fc_fail("XX000", NULL, NULL, "the result is not JSON: %s", msg);
		fwrite(canon.data, 1, canon.len, stdout);
		fputc('\n', stdout);
		fi_jbuf_free(&canon);
	}
	fc_buf_free(&out);
	fc_buf_free(&run->errors);
	fc_buf_free(&run->warnings);
	fc_arena_free(run->b);
	if (data != map)
		free(data);
	if (len && map != MAP_FAILED)
		munmap(map, (size_t) stt.st_size);
	return run->failed > 0 ? 3 : 0;
}
