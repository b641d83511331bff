/*
 * exportfmt.h
 *		Frappe's Data Export value text (exporter.py, reportview.py),
 *		without a database: numbers as Python's repr of the float Frappe
 *		reads, Durations as format_duration writes them, the CSV cell quoted
 *		as Python's csv QUOTE_NONNUMERIC quotes it, with the formula escape
 *		of Report Builder's export.
 */
#ifndef FI_EXPORTFMT_H
#define FI_EXPORTFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/alloc.h"

/* bytes out must hold for a number of n characters */
#define FI_EXPORT_NUMBER_MAX(n) ((n) + 34)

/*
 * Decimal text (as a numeric column prints it: "-1234.500000000") as
 * Python's repr of float(text): "1234.5", "7.0", "6e-05", "1e+16"; more
 * digits than a float keeps are written as they are.  Returns the length.
 */
extern size_t fi_export_number(const char *s, size_t n, char *out);

/* format_duration(seconds, hide_days): "1d 2h 3m 4s", parts that are 0 left out */
#define FI_DURATION_MAX 96
extern size_t fi_export_duration(int64_t seconds, bool hide_days, char out[FI_DURATION_MAX]);

/* does a cell need Frappe's formula escape (a leading ') when escaping is on? */
extern bool fi_export_formula_like(const char *s);

/* bytes out must hold for a quoted cell of n characters */
#define FI_EXPORT_QUOTED_MAX(n) (2 * (n) + 3)

/* s as a quoted CSV cell ("" doubled; the formula escape when asked); returns the length */
extern size_t fi_export_quoted(const char *s, size_t n, bool escape_formula, char *out);

/* ---- the header row ---- */

/* one column of an export, for its header */
typedef struct FiExportTitle
{
	const char *fieldname;		/* the column */
	const char *label;			/* the field's label; NULL for a standard column */
	bool		is_id;			/* its table's ID column */
	const char *table_label;	/* child: the Table field's label (else its fieldname); NULL: the DocType */
	const char *table_fieldname;	/* child: the Table field */
	const char *table_doctype;	/* child: the child DocType */
} FiExportTitle;

/*
 * The Data Import layout's header (Frappe's Exporter.add_header) into
 * titles[n]: "ID", the label (the fieldname when it has none), "Label
 * (Table Label)" for a child column; a title already in the header, or
 * every title when by_fieldname, becomes the fieldname ("table.fieldname").
 */
extern void fi_export_import_titles(const FiExportTitle *cols, int n, bool by_fieldname,
									FiAlloc alloc, void *arg, const char **titles);

/*
 * Report Builder's header into titles[n + 2]: "Sr", each column's label
 * ("ID" for the DocType's ID, "name" for a child's; "Label (Child
 * DocType)" for a child column), then "owner".
 */
extern void fi_export_report_titles(const FiExportTitle *cols, int n, FiAlloc alloc, void *arg,
									const char **titles);

#endif							/* FI_EXPORTFMT_H */
