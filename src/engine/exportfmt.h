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
#include "engine/exportplan.h"

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

/*
 * str() of the datetime, date and time Frappe's query gives (quoted by
 * the caller): "2024-05-06 10:30:15", microseconds as six digits only when
 * not 0 ("10:30:15.250000").  Returns the length.
 */
#define FI_EXPORT_CLOCK_MAX 48
extern size_t fi_export_datetime(int year, int month, int day, int hour, int minute, int second, int usec,
								 char out[FI_EXPORT_CLOCK_MAX]);
extern size_t fi_export_date(int year, int month, int day, char out[FI_EXPORT_CLOCK_MAX]);
extern size_t fi_export_time(int hour, int minute, int second, int usec, char out[FI_EXPORT_CLOCK_MAX]);

/*
 * A database's text of a date ("2024-05-06"), datetime ("2024-05-06
 * 10:30:15[.fraction]", or with a T) or time ("10:30:15[.fraction]",
 * hours 0..23) as those calls write it; false (out untouched) for any
 * other text (a zero date, a negative or 24-hour-plus time), which the
 * caller writes as it is.
 */
extern bool fi_export_clock_text(const char *s, size_t n, size_t *len, char out[FI_EXPORT_CLOCK_MAX]);

/* the same text read into its fields (for a writer of typed cells: Excel) */
typedef struct FiExportClock
{
	bool		has_date;
	bool		has_time;
	int			year,
				month,
				day,
				hour,
				minute,
				second,
				usec;
} FiExportClock;
extern bool fi_export_parse_clock(const char *s, size_t n, FiExportClock *c);

/* ---- the lines of a document ---- */

/* a document's lines: one, or as many as its longest child table (nrows[1..ntables)) */
static inline long
fi_export_doc_lines(const long *nrows, int ntables)
{
	long		lines = 1;

	for (int t = 1; t < ntables; t++)
		if (nrows[t] > lines)
			lines = nrows[t];
	return lines;
}

/*
 * The row of table t (0: the document) whose values fill line `line`, or
 * -1: empty cells.  The Data Import layout writes the document on its
 * first line and the i-th child row of each table on line i; Report
 * Builder's repeats the document on every line.
 */
static inline long
fi_export_line_row(bool report, int t, long line, long nrows_t)
{
	if (t == 0)
		return report || line == 0 ? 0 : -1;
	return line < nrows_t ? line : -1;
}

/* the first column of a table written: Report Builder's writes every ID, the import layout one asked for */
static inline int
fi_export_first_col(bool report, bool show_id)
{
	return report || show_id ? 0 : 1;
}

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

/*
 * The header of an export of plan: Report Builder's (report) or the Data
 * Import layout's, each table's columns from fi_export_first_col.
 * Returns the titles (*n of them), from alloc.
 */
extern const char **fi_export_plan_titles(const FiExportPlan *plan, bool report, bool by_fieldname,
										  FiAlloc alloc, void *arg, int *n);

#endif							/* FI_EXPORTFMT_H */
