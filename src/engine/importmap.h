/*
 * importmap.h
 *		Frappe's Data Import header rules (frappe-facts 8.3, 8.7), without a
 *		database: what each column title of a file names (a field of the
 *		DocType, its ID, Owner, Document Status; a child table's field, ID,
 *		Row Index), which columns are skipped and why, and the template
 *		header Frappe offers for a DocType.
 *
 * The storage is reached through FiImportHooks: the meta of another
 * DocType (a child table) and memory.  Memory from hooks->alloc is never
 * freed here: the caller's arena (a memory context, a pool) owns it.
 */
#ifndef FI_IMPORTMAP_H
#define FI_IMPORTMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/alloc.h"
#include "engine/doctype.h"
#include "engine/csv.h"

typedef struct FiImportHooks
{
	void	   *arg;
	/* the meta of a DocType, or NULL when there is none */
	const FiDocMeta *(*meta) (void *arg, const char *doctype);
	FiAlloc		alloc;			/* memory (engine/alloc.h) */
} FiImportHooks;

typedef enum FiImpColKind
{
	FI_IMPCOL_NONE,				/* names nothing: the column is skipped */
	FI_IMPCOL_SKIP,				/* a child's Parent / Parent Type / Parent Field: set by the import */
	FI_IMPCOL_FIELD,
	FI_IMPCOL_ID,
	FI_IMPCOL_OWNER,
	FI_IMPCOL_DOCSTATUS,
	FI_IMPCOL_IDX				/* a child's Row Index */
} FiImpColKind;

/*
 * What a title names.  *table_field: the Table field of a child column
 * (NULL: the DocType's own); *field: the field for FI_IMPCOL_FIELD.
 */
extern FiImpColKind fi_import_match_title(const FiDocMeta *meta, const char *title,
										  const FiImportHooks *hooks,
										  const FiDocField **table_field,
										  const FiDocField **field);

/* The header being mapped, a column at a time (the caller may check for interrupts between). */
typedef struct FiImpHeader
{
	const FiDocMeta *meta;
	const FiImportHooks *hooks;
	int			ntables;		/* [0] the DocType, then child tables as first named */
	int			cap;
	const FiDocField **table_field; /* [0] NULL */
	const FiDocMeta **table_meta;
	int		   *id_col;			/* per table: the column, -1 */
	int		   *idx_col;
	int		   *owner_col;
	int		   *docstatus_col;
	bool	  **seen;			/* per table: its fields already given a column */
	int			nmapped;		/* columns imported */
} FiImpHeader;

typedef struct FiImpColumn
{
	FiImpColKind kind;
	int			table;			/* -1 when skipped */
	const FiDocField *field;	/* FI_IMPCOL_FIELD */
	char	   *warning;		/* why it is skipped, NULL when it is imported */
} FiImpColumn;

extern void fi_import_header_init(FiImpHeader *h, const FiDocMeta *meta, const FiImportHooks *hooks);

/*
 * Column c (0-based) with its title (stripped) and the user's override of
 * column_to_field_map (NULL: none; "Don't Import" skips it).  A column
 * repeating an earlier one's field (or ID, ...) is skipped, as Frappe does.
 */
extern void fi_import_header_column(FiImpHeader *h, int c, const char *title, const char *over,
									FiImpColumn *out);

/*
 * Does the column belong to the DocType itself (a field, its ID, Owner or
 * Document Status)?  A value in such a column starts a new document.
 */
extern bool fi_import_is_parent_column(const FiImpColumn *col);

/* what a data row is to Frappe's grouping of rows into documents */
typedef enum FiImpRowKind
{
	FI_IMPROW_BLANK,			/* every cell blank: skipped, not counted */
	FI_IMPROW_STARTS,			/* a value in a parent column (or no document yet): a new document */
	FI_IMPROW_CONTINUES			/* child values only: more rows of the current document */
} FiImpRowKind;

/*
 * The kind of the record r has just read (cells blank after Python's
 * strip); parent_col[i] for the header's ncols columns; have_document: a
 * document is open.
 */
extern FiImpRowKind fi_import_row_kind(const FiCsvReader *r, const bool *parent_col, int ncols,
									   bool have_document);

/*
 * The template header Frappe's Data Import offers (facts 8.7): "ID", the
 * DocType's fields by label (fieldname when the label repeats); with
 * children, each child table's "ID (Table Label)" and fields as "Label
 * (Table Label)" ("table.fieldname" when the label repeats).  Hidden and
 * read-only fields are left out; mandatory_only keeps the mandatory ones.
 * emit is called once per title, in order.
 */
extern void fi_import_template_titles(const FiDocMeta *meta, bool children, bool mandatory_only,
									  const FiImportHooks *hooks,
									  void (*emit) (void *arg, const char *title), void *emit_arg);

#endif							/* FI_IMPORTMAP_H */
