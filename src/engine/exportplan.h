/*
 * exportplan.h
 *		What Data Export reads (Frappe's Exporter and get_list's filters),
 *		without a database: the tables and columns of the options' fields and
 *		children, the filters (Frappe's operators, checked against the
 *		DocType) and the order (Frappe's default, and a total order).  Each
 *		database's glue reads the options' JSON into these calls and writes
 *		the query its own way (quoting, casts, parameters).
 *
 * Errors carry Frappe's wording and the SQLSTATE the PostgreSQL build
 * raises.  Thread-safe: no state; memory from the caller's arena.
 */
#ifndef FI_EXPORTPLAN_H
#define FI_EXPORTPLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/alloc.h"
#include "engine/doctype.h"

typedef struct FiExportHooks
{
	void	   *arg;
	FiAlloc		alloc;
	/* the meta of a DocType, NULL when there is none */
	const FiDocMeta *(*meta) (void *arg, const char *doctype);
	/* the DocType's table has this column (a Custom Field before bench migrate has none) */
	bool		(*in_table) (void *arg, const FiDocMeta *meta, const char *fieldname);
} FiExportHooks;

typedef struct FiExportError
{
	const char *sqlstate;		/* NULL: none */
	char		message[320];
	char		detail[320];	/* "": none */
	const char *hint;			/* NULL: none */
} FiExportError;

/* a table read: the DocType's (tables[0]) or a child table's */
typedef struct FiExportTable
{
	const FiDocMeta *meta;
	const FiDocField *tdf;		/* child: its Table field; NULL for the DocType */
	int			ncols;			/* cols[0] is the ID (name), NULL */
	const FiDocField **cols;
	bool		show_id;		/* the ID column is written (asked for, or every field) */
} FiExportTable;

/* Frappe's filter operators */
typedef enum FiFilterOp
{
	FI_FILTER_EQ,
	FI_FILTER_NE,
	FI_FILTER_LT,
	FI_FILTER_GT,
	FI_FILTER_LE,
	FI_FILTER_GE,
	FI_FILTER_LIKE,
	FI_FILTER_NOT_LIKE,
	FI_FILTER_IN,
	FI_FILTER_NOT_IN,
	FI_FILTER_BETWEEN,
	FI_FILTER_IS_SET,
	FI_FILTER_IS_NOT_SET
} FiFilterOp;

/* a filter's value as the options give it */
typedef struct FiFilterValue
{
	bool		is_list;		/* a JSON array of n items */
	bool		is_string;		/* a JSON string (texts[0]) */
	int			n;				/* the scalar: 1 */
	const char *const *texts;	/* each item (or the scalar) as text; NULL: not a string, number or boolean */
} FiFilterValue;

typedef struct FiExportFilter
{
	const char *field;			/* a column of the DocType */
	FiFilterOp	op;
	const char *sql_op;			/* =, <, >, <= or >= for those; else NULL */
	int			nvalues;
	const char **values;		/* EQ..GE, LIKE: 1; IN: n; BETWEEN: 2; IS: 0 */
} FiExportFilter;

typedef struct FiExportOrder
{
	const char *field;
	bool		desc;
} FiExportOrder;

typedef struct FiExportPlan
{
	const FiDocMeta *meta;
	int			ntables;
	FiExportTable *tables;
	int			nfilters;
	FiExportFilter *filters;
	int			norder;
	FiExportOrder *order;
} FiExportPlan;

/* a plan of the DocType's own table, no columns yet */
extern void fi_export_plan_init(FiExportPlan *plan, const FiDocMeta *meta, const FiExportHooks *h);

/*
 * options.fields: "fieldname", "name" (the ID), "table_field.fieldname",
 * "table_field.name"; nfields < 0: every field of the DocType with a
 * column, and its ID.  Repeats are one column.
 */
extern bool fi_export_fields(FiExportPlan *plan, const char *const *fields, int nfields,
							 const FiExportHooks *h, FiExportError *err);

/* options.children: these Table fields (all: every one whose DocType exists), each with every field and its ID */
extern bool fi_export_children(FiExportPlan *plan, bool all, const char *const *tables, int ntables,
							   const FiExportHooks *h, FiExportError *err);

/* a filter on a column of the DocType (or a standard column): field, operator (any case), value */
extern bool fi_export_filter(FiExportPlan *plan, const char *field, const char *op, const FiFilterValue *value,
							 const FiExportHooks *h, FiExportError *err);

/* a four-item filter's DocType must be the one exported */
extern bool fi_export_filter_doctype(const FiExportPlan *plan, const char *doctype, FiExportError *err);

/*
 * options.order_by ("field [asc|desc], ..."), NULL: Frappe's Exporter's
 * (a tree by lft, else newest first); name is appended unless there, so
 * that child rows are read in their parents' order.
 */
extern bool fi_export_order_by(FiExportPlan *plan, const char *order_by, const FiExportHooks *h,
							   FiExportError *err);

#endif							/* FI_EXPORTPLAN_H */
