/*
 * client_export.h
 *		Inside fi-client's Data Export: what client_export.c (CSV and Excel)
 *		and client_json.c (export_json's and export_doc's shapes) share --
 *		the export being made, the options' reading, the query's pieces and
 *		the output file.  Not an interface for anything else.
 */
#ifndef FI_MARIADB_CLIENT_EXPORT_H
#define FI_MARIADB_CLIENT_EXPORT_H

#include "mariadb/client.h"

#include <stdio.h>

#include "engine/exportplan.h"
#include "engine/tpl.h"
#include "engine/xlsxwrite.h"

/* how a column's text is written (from the result's field type) */
typedef enum Kind
{
	K_INT,
	K_DECIMAL,
	K_FLOAT,
	K_CLOCK,					/* date, datetime, timestamp, time */
	K_TEXT,
	K_OTHER
} Kind;

typedef struct Export
{
	MYSQL	   *conn;
	FcArena    *a;
	const FiDocMeta *meta;
	FiExportPlan plan;
	bool		report;
	bool		by_fieldname;
	bool		escape_formulas;
	long		limit;
	FcBuf		where;			/* " WHERE ..." of the documents, columns as p.`x` */
	bool		with_children;
	int		   *first_slot;		/* per table: its ID's column in the result */
	int			owner_slot;		/* report: the owner column */
	int			nslots;
	Kind	   *kinds;			/* per result column */
	FcBuf		out;
	FcBuf		scratch;		/* one cell's rewritten text (HTML as text, a formula escaped) */
	FILE	   *file;
	/* Excel (engine/xlsxwrite.c): cells go to the writer instead of out */
	FiXlsxWriter *xw;
	const char **titles;		/* the header, to name a column in a message */
	int			ntitles;
	long		lines;
	long		documents;
	double		started;		/* progress: the run's start, the last report (seconds), 0: not a terminal */
	double		reported;
} Export;

/* one row of the result, kept while its document is written */
typedef struct Row
{
	char	  **v;
	unsigned long *n;
} Row;

/* options: the value of a key (NULL when absent or null), a string's copy, a refusal naming the option */
extern FiVal *xp_opt(FiVal *opts, const char *key);
extern char *xp_vstr(Export *ex, FiVal *v);
extern void xp_refuse(const char *key, const char *what) __attribute__((noreturn));
extern void xp_plan_error(const FiExportError *err) __attribute__((noreturn));

/* the engines' hooks: memory of the run, meta, the table's columns */
extern void *xp_alloc(void *arg, size_t size);
extern const FiDocMeta *xp_meta(void *arg, const char *doctype);
extern bool xp_in_table(void *arg, const FiDocMeta *meta, const char *fieldname);

/* the start of an export: options checked against known, the meta of a DocType exported alone */
extern FiVal *xp_begin(Export *ex, MYSQL *conn, FcArena *a, FiTpl **tpl, const char *doctype, const char *options_json,
					   const char *const *known, int nknown, const char *alone_hint);
extern void xp_take_limit(Export *ex, FiVal *opts);
/* options.filters into ex->where; one filter */
extern void xp_parse_filters(Export *ex, FiVal *opts);
extern void xp_add_filter(Export *ex, const char *field, const char *op, FiVal *value);
/* " ORDER BY ... LIMIT n" of the documents */
extern char *xp_docs_tail(Export *ex);
extern Kind xp_kind_of(const MYSQL_FIELD *f);

/* the output: FILE.part renamed when complete, or stdout; ex->out written to it */
extern char *xp_out_open(Export *ex, const char *output);
extern void xp_out_close(Export *ex, const char *output, const char *tmp, long documents, long lines);
extern void xp_flush_out(Export *ex, const char *path);

/* on a terminal, now and then on stderr: documents and lines so far, the rate; done: the last one, a newline */
extern void xp_progress(Export *ex, long documents, long lines, bool done);

#endif							/* FI_MARIADB_CLIENT_EXPORT_H */
