/*
 * importupdate.h
 *		Data Import's Update Existing Records: what a file's document changes
 *		in the stored one, by Frappe's rule (frappe/core/doctype/data_import/
 *		importer.py, v15: get_doc for the ID, doc.update with the file's
 *		values, save) as both databases' imports apply it:
 *		- only the file's non-empty cells change the document;
 *		- a child table the file gives rows of for the document is replaced
 *		  by them: a row whose ID is one of the document's stored rows of
 *		  that table is updated in place (with its new idx), a row without
 *		  one inserted, the stored rows the file leaves out deleted; a table
 *		  the file gives no row of for the document keeps its rows;
 *		- a cancelled document refuses any change; a submitted one a changed
 *		  field without allow_on_submit, and a changed child table whose
 *		  Table field lacks it;
 *		- a document the file does not change is left alone (skipped: no
 *		  new modified).
 *		The glue reads the stored rows, looks up where a foreign row ID
 *		belongs (between fi_import_update_match and fi_import_update_decide)
 *		and writes what is decided.  Pure: no database headers.
 */
#ifndef FI_ENGINE_IMPORTUPDATE_H
#define FI_ENGINE_IMPORTUPDATE_H

#include <stdbool.h>

#include "engine/alloc.h"
#include "engine/importcell.h"

/* a mapped field of a table: how its values compare, and whether a submitted document lets it change */
typedef struct FiUpdField
{
	FiCellKind	kind;
	bool		allow_on_submit;
	const char *label;
} FiUpdField;

/* a table of the import (0: the DocType's, then its child tables) */
typedef struct FiUpdTable
{
	int			nmapped;
	const FiUpdField *fields;
	const char *label;			/* a child table's: its Table field's label */
	bool		allow_on_submit;	/* a child table's: its Table field's */
} FiUpdTable;

/* a stored row: its name and the mapped fields' texts (NULL: null) */
typedef struct FiUpdRow
{
	const char *name;
	const char *const *vals;
} FiUpdRow;

/* one of the file's child rows, in the file's order */
typedef struct FiUpdChild
{
	int			table;
	const char *name;			/* its ID, NULL: none */
	const char *const *vals;	/* per mapped field of its table: the text, NULL: an empty cell */
	bool		stored;			/* out: its ID is one of the document's stored rows of its table */
	int			at;				/* out: which of them (-1: none) */
} FiUpdChild;

/* one document: what is stored, what the file gives, and (out) what to write */
typedef struct FiUpdDoc
{
	int			docstatus;		/* stored */
	const char *const *stored;	/* the stored document's mapped fields */
	const char *const *vals;	/* the file's (NULL: an empty cell) */
	FiUpdChild *children;
	int			nchildren;
	const FiUpdRow *const *stored_rows; /* per table (0 unused): the document's stored rows, in idx order */
	const int  *nstored;
	/* out */
	bool		skipped;		/* nothing changes */
	bool	   *replace;		/* per table (the caller's, ntables): its rows are replaced by the file's */
} FiUpdDoc;

typedef enum FiUpdErr
{
	FI_UPD_OK = 0,
	FI_UPD_CANCELLED,			/* "Cannot edit cancelled document" */
	FI_UPD_AFTER_SUBMIT_FIELD,	/* a field of a submitted document (*at: its index in table 0) */
	FI_UPD_AFTER_SUBMIT_TABLE	/* a child table of a submitted document (*at: the table) */
} FiUpdErr;

/* a stored value and the file's the same?  Numbers as numbers (a decimal column's 1.500000000 is 1.5), times with or without zero microseconds */
extern bool fi_import_same_value(FiCellKind kind, const char *stored, const char *given);

/* each child row's stored and at: is its ID one of the document's stored rows of its table */
extern void fi_import_update_match(FiUpdDoc *doc);

/*
 * What the document changes: doc->skipped and doc->replace, or the refusal
 * (then *message in Frappe's words, *at as FiUpdErr says).  Children must
 * have been matched.
 */
extern FiUpdErr fi_import_update_decide(const FiUpdTable *tables, int ntables, FiUpdDoc *doc, int *at,
										char **message, FiAlloc alloc, void *arg);

#endif							/* FI_ENGINE_IMPORTUPDATE_H */
