/*
 * import.h
 *		Data Import: what the parts of the importer share.
 *
 *   import.c          the SQL functions, header mapping, rows into
 *                     documents, batches, the result and the log
 *   import_values.c   cells to column values with Frappe's rules, defaults,
 *                     the set-wise checks (Link, unique, mandatory)
 *   import_naming.c   document names: every autoname kind, tabSeries
 *   import_write.c    the table writer (multi-row insert with the indexes
 *                     and triggers, as COPY does) and the Update path
 */
#ifndef FI_IMPORT_H
#define FI_IMPORT_H

#include "access/htup.h"
#include "executor/executor.h"
#include "nodes/pg_list.h"
#include "utils/hsearch.h"
#include "utils/rel.h"

#include "frappe_integrations.h"
#include "engine/importcell.h"
#include "engine/xlsx.h"

/* one field of a table being written (mapped from the file or defaulted) */
typedef struct ImpField
{
	const FiDocField *df;
	const char *fieldname;
	FiCellField cell;			/* its rules and what its column holds (kind, label, ...) */
	int			attno;			/* 1-based column in the table */
	Oid			typid;
	int32		typmod;
	int			col;			/* CSV column, -1 when not in the file */
	const char *header;			/* the header cell of that column */
	FiDefaultKind defkind;
	Datum		defvalue;
	bool		is_link;
	bool		is_select;
	bool		reqd;
	bool		unique;
	const char *link_doctype;
	HTAB	   *link_known;		/* values known to exist */
	int			nlinkknown;
	int			fetch_link;		/* fetch_from: its Link field's index in the table, or -1 */
	const char *fetch_src;		/* fetch_from: the field of the Link's target */
	FmgrInfo	infunc;			/* the column type's input function */
	Oid			typioparam;
} ImpField;

/* a table written by the import: the DocType's or a child table's */
typedef struct ImpTable
{
	const FiDocMeta *meta;
	const char *doctype;
	Oid			relid;
	Relation	rel;
	bool		child;
	const char *parentfield;	/* child: the Table field */
	const char *tlabel;			/* child: the Table field's label */
	const FiDocField *tdf;		/* child: the Table field */
	int			id_col;			/* CSV column of the ID, or -1 */
	int			idx_col;		/* child: "Row Index", or -1 */
	int			owner_col;		/* parent: "Owner", or -1 */
	int			docstatus_col;	/* parent: "Document Status", or -1 */
	int			nmapped;		/* fields from the file */
	int			nfields;
	ImpField   *fields;
	/* standard columns (attnos, 0 when absent) */
	int			a_name,
				a_owner,
				a_creation,
				a_modified,
				a_modified_by,
				a_docstatus,
				a_idx,
				a_parent,
				a_parentfield,
				a_parenttype;
	Oid			name_typid;		/* varchar, or int8 for autoincrement */
	/* the mandatory fields in the DocType's order (made on first use) */
	int			nreqd;			/* -1: not made yet */
	const FiDocField **reqd_df;
	int		   *reqd_field;		/* index into fields, -1: a Table field or none */
	Datum	   *base_values;	/* column defaults of the table, evaluated once */
	bool	   *base_nulls;
	bool	   *base_volatile;	/* a default to evaluate per row */
	ExprState **base_exprs;
} ImpTable;

/* one problem of a document */
typedef struct ImpError
{
	long		row;
	const char *column;
	const char *value;
	char	   *message;
	bool		msgprint;		/* Frappe prints it (a missing value), not throws it */
} ImpError;

/* one child row of a document */
typedef struct ImpChild
{
	int			table;			/* index into ImpRun.tables */
	long		row;
	char	  **cells;			/* the row's cells (shared with the row) */
	Datum	   *values;			/* per field of the table */
	bool	   *nulls;
	char	   *name;
	int			idx;
} ImpChild;

/* one data row of the file */
typedef struct ImpRow
{
	long		row;			/* 1-based record number, as Frappe counts */
	char	  **cells;			/* per CSV column: the stripped text, NULL if empty */
} ImpRow;

/* one document of the file */
typedef struct ImpDoc
{
	long		row;			/* first row */
	List	   *rows;			/* ImpRow */
	char	  **cells;			/* first row's cells */
	Datum	   *values;			/* per field of the parent table */
	bool	   *nulls;
	List	   *children;		/* ImpChild */
	List	   *errors;			/* ImpError */
	char	   *name;			/* the name it gets (text form) */
	Datum		name_datum;
	bool		supplied_name;
	int16		docstatus;
	char	   *owner;
	bool		failed;
	bool		skipped;		/* Update: nothing changed */
	bool		updated;
} ImpDoc;

/* where the rows come from: a CSV text or an Excel workbook's active sheet */
typedef struct ImpSource
{
	FiCsvReader rec;			/* the record last read (CSV: the reader itself) */
	FiXlsx	   *xlsx;			/* NULL: CSV */
	/* Excel: the date-format guesses of each column, counted while the sheet was opened (no pass of their own) */
	FiSheetGuess guess;
} ImpSource;

/* the next record into src->rec: 1, or 0 at the end (errors are raised) */
extern int	imp_source_next(ImpSource *src);

typedef struct ImpRun
{
	MemoryContext cxt;			/* the run */
	MemoryContext batch_cxt;	/* reset after each batch */
	const char *doctype;
	const FiDocMeta *meta;
	bool		update;
	bool		atomic;
	bool		dry_run;
	bool		webhooks;
	bool		submit;
	const char *user;
	const char *data_import;
	int			batch_docs;
	/* the file */
	int			ncols;
	char	  **headers;
	bool	   *parent_col;		/* per column: the DocType's own (a value starts a document) */
	int			ntables;
	ImpTable   *tables;			/* [0] the DocType, then child tables */
	List	   *warnings;		/* char * */
	/* the clock of the batch: site-local timestamp */
	Timestamp	now;
	/* counts */
	long		rows;
	long		documents;
	long		inserted;
	long		updated;
	long		unchanged;
	long		failed;
	List	   *errors;			/* ImpError, all documents */
	List	   *log;			/* per document: for tabData Import Log */
	int			nerrors_kept;
	bool		triggers;		/* fire the tables' row triggers */
	bool		rolled_back;	/* atomic with failures, or dry_run */
	long		log_index;		/* the next tabData Import Log's log_index */
	List	   *naming_rules;	/* ImpNamingRule, highest priority first */
	bool		naming_rules_read;
} ImpRun;

/* import_values.c */
/* memory for the engines: the memory context arg (FiAlloc) */
extern void *imp_alloc(void *arg, size_t size);
extern void imp_prepare_table(ImpRun *run, ImpTable *t);
extern void imp_guess_date_formats(ImpRun *run, ImpSource *src);
extern void imp_convert_doc(ImpRun *run, ImpDoc *doc);
extern void imp_check_batch(ImpRun *run, ImpDoc **docs, int ndocs);
extern void imp_doc_error(ImpRun *run, ImpDoc *doc, long row, const char *column,
						  const char *value, const char *fmt,...) pg_attribute_printf(6, 7);
extern char *imp_datum_text(ImpField *f, Datum d);
extern HTAB *imp_string_hash(const char *name, long size, Size keysize, Size entrysize);

/* import_naming.c */
extern void imp_name_batch(ImpRun *run, ImpDoc **docs, int ndocs);
extern char *imp_hash_name(void);

/* import_write.c */
typedef struct ImpWriter ImpWriter;
extern ImpWriter *imp_writer_begin(ImpRun *run, ImpTable *t);
extern void imp_writer_put(ImpWriter *w, Datum *values, bool *nulls);
extern void imp_writer_end(ImpWriter *w);
extern void imp_insert_batch(ImpRun *run, ImpDoc **docs, int ndocs);
extern void imp_update_batch(ImpRun *run, ImpDoc **docs, int ndocs);

#endif							/* FI_IMPORT_H */
