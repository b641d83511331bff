/*
 * xlsx.h
 *		The rows of an Excel workbook's active sheet as Frappe's Data Import
 *		reads them (frappe/utils/xlsxutils.py: openpyxl's load_workbook with
 *		data_only, wb.active, iter_rows, then cstr of each value), streamed:
 *		a ZIP read by libzip, its XML by expat, one row at a time.
 *
 * Each cell is given as the text Frappe's cstr() makes of openpyxl's value:
 * a shared or inline string as it is; a number as Python writes an int or a
 * float ("5", "1.5", "1e+20"); a number in a date format as a datetime
 * ("2026-12-03 00:00:00"), a time ("10:30:00") or, in a [h]:mm format, a
 * timedelta ("1 day, 2:00:00"), in the 1900 or the 1904 date system; a
 * boolean as "True" or "False"; a formula as its cached value; an error as
 * its text ("#N/A"); an empty cell as "".  Every row has the sheet's width
 * (openpyxl's max_column) and rows run from 1 to its max_row.
 *
 * Bounds (FiXlsxLimits) are the caller's: what a part may inflate to (a ZIP
 * bomb stops there), the shared-strings table, the columns.  A DTD is
 * refused, so no entity is ever expanded.  Memory: the shared-strings table
 * and one row.  Thread-safe: no state outside an FiXlsx.
 */
#ifndef FI_XLSX_H
#define FI_XLSX_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/csv.h"

typedef struct FiXlsxLimits
{
	size_t		max_part;		/* bytes any part of the ZIP may inflate to */
	size_t		max_strings;	/* bytes of the shared-strings table */
	int			max_columns;	/* columns of the sheet (Excel's: 16384) */
} FiXlsxLimits;

typedef enum FiXlsxErr
{
	FI_XLSX_OK = 0,
	FI_XLSX_NOT_XLSX,			/* not a ZIP, or no workbook or worksheet in it (22023) */
	FI_XLSX_BAD_XML,			/* a part that is not well-formed XML, or has a DTD (22P02) */
	FI_XLSX_BAD_VALUE,			/* a cell openpyxl cannot read: a string index out of range, a bad number (22023) */
	FI_XLSX_TOO_BIG,			/* beyond a bound (54000) */
	FI_XLSX_NOMEM,				/* (53200) */
	FI_XLSX_STOPPED				/* the hook asked to stop (the caller's cancel) */
} FiXlsxErr;

typedef struct FiXlsx FiXlsx;

/*
 * What the opening pass (which measures the sheet) shows of each cell, in
 * sheet order: its text when it could be a date (a string, a number in a
 * date format, an error), else NULL with len 1 for a value and 0 for none.
 * A reader that needs every value once before the rows (Frappe's guess of
 * each date column's format) takes it here instead of reading the sheet
 * one more time.  Returning false stops the opening (FI_XLSX_STOPPED): a
 * caller's cancel, or its memory running out; the hook must not longjmp.
 */
typedef bool (*FiXlsxCellHook) (void *arg, long row, int col, const char *text, size_t len);

/* the defaults: parts to 1 GiB, shared strings to 256 MiB, 16,384 columns */
extern void fi_xlsx_default_limits(FiXlsxLimits *lim);

/*
 * Open the workbook of n bytes at data (kept alive by the caller) and
 * measure its active sheet (hook: NULL, or shown each cell as it goes);
 * msg says what is wrong (never cell data).
 */
extern FiXlsxErr fi_xlsx_open(const void *data, size_t n, const FiXlsxLimits *lim, FiXlsxCellHook hook,
							  void *hook_arg, FiXlsx **out, char *msg, size_t msglen);

/* the sheet's width and height (0 for an empty sheet) */
extern int	fi_xlsx_columns(const FiXlsx *x);
extern long fi_xlsx_rows(const FiXlsx *x);

/*
 * The next row into rec (its record_no the sheet's row number, nfields
 * the sheet's width); *done at the end.
 */
extern FiXlsxErr fi_xlsx_next(FiXlsx *x, FiCsvReader *rec, bool *done, char *msg, size_t msglen);

/* read the sheet again from its first row */
extern FiXlsxErr fi_xlsx_rewind(FiXlsx *x, char *msg, size_t msglen);

extern void fi_xlsx_close(FiXlsx *x);

#endif							/* FI_XLSX_H */
