/*
 * xlsxwrite.h
 *		An Excel workbook of one sheet written as Frappe's make_xlsx writes
 *		one (frappe/utils/xlsxutils.py: openpyxl's write-only workbook, the
 *		sheet named after the DocType, the first row in bold Calibri), row
 *		by row in constant memory: libxlsxwriter's constant_memory mode
 *		stages each finished row in a temporary file and zips the sheet
 *		when the workbook is closed.
 *
 * Cells take the types openpyxl gives Python's values: numbers as numbers
 * (written, as openpyxl does, with 16 significant digits), a date as its
 * serial in the 1900 date system under "yyyy-mm-dd", a datetime under
 * "yyyy-mm-dd h:mm:ss", a time under Excel's format 21 ("h:mm:ss"), a
 * timedelta under "[hh]:mm:ss"; strings as strings without the control
 * characters XML cannot carry (Frappe removes them) and cut at 32,767
 * characters (openpyxl cuts them).  What Excel's serial would not keep
 * (a time finer than a millisecond: openpyxl reads serials back to the
 * millisecond) is written as the text Python's str() makes of the value.
 *
 * Bounds are the caller's (rows, columns; Excel's sheet by default), and so
 * is the compression level (zlib's fastest by default: the sheet's XML is
 * a third of the time at level 6, libxlsxwriter's own, for a file about a
 * quarter larger).  One workbook belongs to one thread: no state outside an
 * FiXlsxWriter but the level of the workbook being closed, per thread.
 */
#ifndef FI_XLSXWRITE_H
#define FI_XLSXWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct FiXlsxWriteOptions
{
	const char *tmpdir;			/* where rows are staged; NULL: the system's temporary directory */
	bool		zip64;			/* ZIP64 extensions, for parts beyond 4 GiB */
	int			level;			/* zlib's compression of the parts: 1 (fastest) to 9 (smallest) */
	long		max_rows;		/* rows of the sheet, the header's included (Excel's: 1,048,576) */
	int			max_columns;	/* columns (Excel's: 16,384) */
} FiXlsxWriteOptions;

typedef enum FiXlsxwErr
{
	FI_XLSXW_OK = 0,
	FI_XLSXW_TOO_BIG,			/* more rows or columns than the sheet holds (54000) */
	FI_XLSXW_NOMEM,				/* (53200) */
	FI_XLSXW_IO					/* the staging or the workbook file could not be written (58030) */
} FiXlsxwErr;

typedef struct FiXlsxWriter FiXlsxWriter;

/* Excel's sheet: 1,048,576 rows, 16,384 columns; no ZIP64; level 1; the system's temporary directory */
extern void fi_xlsxw_default_options(FiXlsxWriteOptions *o);

/* the longest sheet title, in bytes with its NUL (31 characters of UTF-8) */
#define FI_XLSX_TITLE_MAX (31 * 4 + 1)

/*
 * A sheet's title from a name as Frappe's make_xlsx makes it (openpyxl's
 * INVALID_TITLE_REGEX: each of \ * ? : / [ ] becomes a space) and as Excel
 * takes it: at most 31 characters (openpyxl only warns; Excel refuses the
 * file), no apostrophe first or last, "Sheet1" for an empty name.
 */
extern void fi_xlsx_sheet_title(const char *name, char out[FI_XLSX_TITLE_MAX]);

/*
 * A workbook to be written at path (the file appears when it is closed),
 * its one sheet named from sheet_name; msg says what is wrong.
 */
extern FiXlsxwErr fi_xlsxw_open(const char *path, const char *sheet_name, const FiXlsxWriteOptions *o,
								FiXlsxWriter **out, char *msg, size_t msglen);

/*
 * The next cell of the current row.  A failure is kept (the first one):
 * later cells are not written and fi_xlsxw_end_row / fi_xlsxw_close
 * report it.
 */
extern void fi_xlsxw_empty(FiXlsxWriter *w);
extern void fi_xlsxw_string(FiXlsxWriter *w, const char *s, size_t n);	/* UTF-8 */
extern void fi_xlsxw_number(FiXlsxWriter *w, double v);	/* NaN and infinities: an empty cell, as openpyxl */
/* false, nothing written: a year outside 1-9999 (Python's), for the caller to write as text */
extern bool fi_xlsxw_date(FiXlsxWriter *w, int y, int m, int d);
extern bool fi_xlsxw_datetime(FiXlsxWriter *w, int y, int m, int d, int hh, int mm, int ss, int us);
extern void fi_xlsxw_time(FiXlsxWriter *w, int hh, int mm, int ss, int us);
extern void fi_xlsxw_timedelta(FiXlsxWriter *w, int64_t microseconds);

/* end the row (the next cell starts the next one); reports a failure kept */
extern FiXlsxwErr fi_xlsxw_end_row(FiXlsxWriter *w, char *msg, size_t msglen);

/* rows ended so far */
extern long fi_xlsxw_rows(const FiXlsxWriter *w);

/* strings cut at 32,767 characters so far, and the row and column (0-based) of the first */
extern long fi_xlsxw_truncated(const FiXlsxWriter *w, long *row, int *col);

/* write the file and free the writer (it is freed whatever the outcome) */
extern FiXlsxwErr fi_xlsxw_close(FiXlsxWriter *w, char *msg, size_t msglen);

/* free the writer, writing nothing (its staged rows are dropped) */
extern void fi_xlsxw_abort(FiXlsxWriter *w);

/* the serial openpyxl's to_excel gives a date and time (1900 date system, Lotus's 29 February) */
extern double fi_xlsx_serial(int y, int m, int d, int hh, int mm, int ss, int us);

#endif							/* FI_XLSXWRITE_H */
