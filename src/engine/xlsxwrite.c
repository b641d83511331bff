/*
 * xlsxwrite.c
 *		One sheet of an Excel workbook written as Frappe's make_xlsx writes
 *		it, through libxlsxwriter in constant memory (see xlsxwrite.h).
 */
#include "engine/xlsxwrite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dlfcn.h>
#include <xlsxwriter.h>
#include <xlsxwriter/third_party/zip.h>

/*
 * libxlsxwriter frees a workbook it has not written with this function
 * (exported by every release; its header keeps it for the library's own
 * tests).  A sheet's staging file is closed only when the sheet is zipped,
 * so an abandoned one is closed here first.
 */
extern void lxw_workbook_free(lxw_workbook *workbook);

/*
 * The compression level.  libxlsxwriter (1.1.4, Debian 12's) deflates every
 * part at zlib's default level and has no option for it: when the workbook
 * is closed its packager opens each part with minizip's
 * zipOpenNewFileInZip4_64, which this file defines too.  The dynamic linker
 * binds libxlsxwriter's call to the first definition in its search order,
 * ours (this library is loaded before libminizip, which libxlsxwriter
 * brings): it puts in the level of the workbook this thread is closing and
 * calls minizip's own (the next definition, RTLD_NEXT) with every other
 * argument as it came.  Where libxlsxwriter carries minizip inside itself
 * the call never comes here and the level stays zlib's default: slower and
 * smaller, never wrong (t/086 sees whether the level applies).
 */
typedef int (*zip_open_fn) (zipFile file, const char *filename, const zip_fileinfo *zipfi,
							const void *extrafield_local, uInt size_extrafield_local,
							const void *extrafield_global, uInt size_extrafield_global,
							const char *comment, int method, int level, int raw, int windowBits,
							int memLevel, int strategy, const char *password, uLong crcForCrypting,
							uLong versionMadeBy, uLong flagBase, int zip64);

static __thread int closing_level;	/* 0: not closing a workbook of ours */

int
zipOpenNewFileInZip4_64(zipFile file, const char *filename, const zip_fileinfo *zipfi,
						const void *extrafield_local, uInt size_extrafield_local,
						const void *extrafield_global, uInt size_extrafield_global,
						const char *comment, int method, int level, int raw, int windowBits,
						int memLevel, int strategy, const char *password, uLong crcForCrypting,
						uLong versionMadeBy, uLong flagBase, int zip64)
{
	/* (a pointer's load and store are atomic here: two threads find the same) */
	static zip_open_fn minizip;

	if (minizip == NULL)
		minizip = (zip_open_fn) dlsym(RTLD_NEXT, "zipOpenNewFileInZip4_64");
	if (minizip == NULL)
		return ZIP_INTERNALERROR;
	if (closing_level > 0 && method == Z_DEFLATED)
		level = closing_level;
	return minizip(file, filename, zipfi, extrafield_local, size_extrafield_local, extrafield_global,
				   size_extrafield_global, comment, method, level, raw, windowBits, memLevel, strategy,
				   password, crcForCrypting, versionMadeBy, flagBase, zip64);
}

/* openpyxl's check_string: a string is cut at 32,767 characters */
#define XLSXW_STRING_MAX 32767

struct FiXlsxWriter
{
	lxw_workbook *wb;
	lxw_worksheet *ws;
	lxw_format *bold;			/* the first row: Font(name="Calibri", bold=True) */
	lxw_format *date;			/* yyyy-mm-dd */
	lxw_format *datetime;		/* yyyy-mm-dd h:mm:ss */
	lxw_format *time;			/* Excel's format 21, h:mm:ss */
	lxw_format *timedelta;		/* [hh]:mm:ss */
	long		max_rows;
	int			max_columns;
	int			level;			/* zlib's, for the parts */
	long		row;			/* the current row (0-based) */
	int			col;			/* its next cell */
	FiXlsxwErr	err;			/* the first failure, kept */
	char		msg[256];
	long		truncated;
	long		trunc_row;
	int			trunc_col;
	char	   *buf;			/* a string's cleaned copy */
	size_t		bufsize;
};

void
fi_xlsxw_default_options(FiXlsxWriteOptions *o)
{
	memset(o, 0, sizeof(*o));
	o->max_rows = LXW_ROW_MAX;
	o->max_columns = LXW_COL_MAX;
	o->level = 1;
}

/* ---- the sheet's title ---- */

void
fi_xlsx_sheet_title(const char *name, char out[FI_XLSX_TITLE_MAX])
{
	size_t		n = 0;
	int			chars = 0;

	for (const unsigned char *p = (const unsigned char *) name; *p && chars < LXW_SHEETNAME_MAX; chars++)
	{
		size_t		len = *p < 0x80 ? 1 : *p < 0xE0 ? 2 : *p < 0xF0 ? 3 : 4;

		if (strchr("\\*?:/[]", *p) != NULL)
		{
			out[n++] = ' ';
			p++;
			continue;
		}
		for (size_t i = 0; i < len && *p; i++)
			out[n++] = (char) *p++;
	}
	out[n] = '\0';
	/* Excel refuses an apostrophe at either end */
	if (n > 0 && out[0] == '\'')
		out[0] = ' ';
	if (n > 0 && out[n - 1] == '\'')
		out[n - 1] = ' ';
	if (n == 0)
		strcpy(out, "Sheet1");
}

/* ---- opening and closing ---- */

static void
set_error(FiXlsxWriter *w, FiXlsxwErr err, const char *msg)
{
	if (w->err != FI_XLSXW_OK)
		return;
	w->err = err;
	snprintf(w->msg, sizeof(w->msg), "%s", msg);
}

static FiXlsxwErr
report(const FiXlsxWriter *w, char *msg, size_t msglen)
{
	if (w->err != FI_XLSXW_OK && msglen > 0)
		snprintf(msg, msglen, "%s", w->msg);
	return w->err;
}

FiXlsxwErr
fi_xlsxw_open(const char *path, const char *sheet_name, const FiXlsxWriteOptions *o, FiXlsxWriter **out,
			  char *msg, size_t msglen)
{
	FiXlsxWriter *w = calloc(1, sizeof(FiXlsxWriter));
	lxw_workbook_options lo = {0};
	char		title[FI_XLSX_TITLE_MAX];

	*out = NULL;
	if (w == NULL)
	{
		snprintf(msg, msglen, "out of memory");
		return FI_XLSXW_NOMEM;
	}
	w->max_rows = o->max_rows > 0 && o->max_rows <= LXW_ROW_MAX ? o->max_rows : LXW_ROW_MAX;
	w->max_columns = o->max_columns > 0 && o->max_columns <= LXW_COL_MAX ? o->max_columns : LXW_COL_MAX;
	lo.constant_memory = LXW_TRUE;
	lo.tmpdir = (char *) o->tmpdir;
	lo.use_zip64 = o->zip64 ? LXW_TRUE : LXW_FALSE;
	w->level = o->level >= 1 && o->level <= 9 ? o->level : 1;
	w->wb = workbook_new_opt(path, &lo);
	if (w->wb == NULL)
	{
		free(w);
		snprintf(msg, msglen, "out of memory");
		return FI_XLSXW_NOMEM;
	}
	fi_xlsx_sheet_title(sheet_name, title);
	w->ws = workbook_add_worksheet(w->wb, title);
	w->bold = workbook_add_format(w->wb);
	w->date = workbook_add_format(w->wb);
	w->datetime = workbook_add_format(w->wb);
	w->time = workbook_add_format(w->wb);
	w->timedelta = workbook_add_format(w->wb);
	if (w->ws == NULL || w->bold == NULL || w->date == NULL || w->datetime == NULL || w->time == NULL ||
		w->timedelta == NULL || w->ws->optimize_tmpfile == NULL)
	{
		fi_xlsxw_abort(w);
		snprintf(msg, msglen, "could not create the sheet's staging file");
		return FI_XLSXW_IO;
	}
	format_set_font_name(w->bold, "Calibri");
	format_set_bold(w->bold);
	format_set_num_format(w->date, "yyyy-mm-dd");
	format_set_num_format(w->datetime, "yyyy-mm-dd h:mm:ss");
	format_set_num_format_index(w->time, 21);
	format_set_num_format(w->timedelta, "[hh]:mm:ss");
	/* make_xlsx styles the first row, not its cells */
	worksheet_set_row(w->ws, 0, LXW_DEF_ROW_HEIGHT, w->bold);
	*out = w;
	return FI_XLSXW_OK;
}

static void
free_writer(FiXlsxWriter *w)
{
	free(w->buf);
	free(w);
}

void
fi_xlsxw_abort(FiXlsxWriter *w)
{
	if (w == NULL)
		return;
	if (w->ws != NULL && w->ws->optimize_tmpfile != NULL)
	{
		fclose(w->ws->optimize_tmpfile);
		w->ws->optimize_tmpfile = NULL;
		w->ws->file = NULL;
	}
	lxw_workbook_free(w->wb);
	free_writer(w);
}

FiXlsxwErr
fi_xlsxw_close(FiXlsxWriter *w, char *msg, size_t msglen)
{
	FiXlsxwErr	err = report(w, msg, msglen);
	lxw_error	e;

	if (err != FI_XLSXW_OK)
	{
		fi_xlsxw_abort(w);
		return err;
	}
	/* workbook_close frees the workbook whatever it returns */
	closing_level = w->level;
	e = workbook_close(w->wb);
	closing_level = 0;
	free_writer(w);
	if (e == LXW_NO_ERROR)
		return FI_XLSXW_OK;
	snprintf(msg, msglen, "the workbook could not be written: %s", lxw_strerror(e));
	return e == LXW_ERROR_MEMORY_MALLOC_FAILED ? FI_XLSXW_NOMEM : FI_XLSXW_IO;
}

/* ---- cells ---- */

/* the next cell's place, or false when it is past the sheet or a failure is kept */
static bool
next_cell(FiXlsxWriter *w)
{
	if (w->err != FI_XLSXW_OK)
		return false;
	if (w->row >= w->max_rows)
	{
		char		m[128];

		snprintf(m, sizeof(m), "an Excel sheet holds %ld rows at most (the header's included)", w->max_rows);
		set_error(w, FI_XLSXW_TOO_BIG, m);
		return false;
	}
	if (w->col >= w->max_columns)
	{
		char		m[128];

		snprintf(m, sizeof(m), "an Excel sheet holds %d columns at most", w->max_columns);
		set_error(w, FI_XLSXW_TOO_BIG, m);
		return false;
	}
	return true;
}

static void
written(FiXlsxWriter *w, lxw_error e)
{
	if (e != LXW_NO_ERROR)
	{
		char		m[160];

		snprintf(m, sizeof(m), "a cell could not be written: %s", lxw_strerror(e));
		set_error(w, e == LXW_ERROR_MEMORY_MALLOC_FAILED ? FI_XLSXW_NOMEM : FI_XLSXW_IO, m);
	}
	w->col++;
}

void
fi_xlsxw_empty(FiXlsxWriter *w)
{
	if (next_cell(w))
		w->col++;
}

void
fi_xlsxw_number(FiXlsxWriter *w, double v)
{
	if (!next_cell(w))
		return;
	if (isnan(v) || isinf(v))
	{
		w->col++;
		return;
	}
	written(w, worksheet_write_number(w->ws, (lxw_row_t) w->row, (lxw_col_t) w->col, v, NULL));
}

/* openpyxl's ILLEGAL_CHARACTERS_RE: C0 controls but tab, line feed and carriage return */
static inline bool
illegal_char(unsigned char c)
{
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

void
fi_xlsxw_string(FiXlsxWriter *w, const char *s, size_t n)
{
	size_t		o = 0;
	long		chars = 0;

	if (!next_cell(w))
		return;
	if (n + 1 > w->bufsize)
	{
		size_t		size = w->bufsize ? w->bufsize : 256;
		char	   *b;

		while (size < n + 1)
			size *= 2;
		if ((b = realloc(w->buf, size)) == NULL)
		{
			set_error(w, FI_XLSXW_NOMEM, "out of memory");
			return;
		}
		w->buf = b;
		w->bufsize = size;
	}
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		/* (n bytes are never more than n characters: no count is needed below the bound) */
		if (c >= 0x20 && n <= XLSXW_STRING_MAX)
		{
			w->buf[o++] = (char) c;
			continue;
		}
		if (illegal_char(c))
			continue;
		if ((c & 0xC0) != 0x80 && ++chars > XLSXW_STRING_MAX)
		{
			if (w->truncated++ == 0)
			{
				w->trunc_row = w->row;
				w->trunc_col = w->col;
			}
			break;
		}
		w->buf[o++] = (char) c;
	}
	w->buf[o] = '\0';
	if (o == 0)
	{
		/* openpyxl writes an empty string as a cell with no value: read back, None */
		w->col++;
		return;
	}
	written(w, worksheet_write_string(w->ws, (lxw_row_t) w->row, (lxw_col_t) w->col, w->buf, NULL));
}

/* days from 0001-01-01 (proleptic Gregorian), as Python's date.toordinal() - 1 */
static long
day_number(int y, int m, int d)
{
	static const int before[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
	long		yy = y - 1;
	long		days = yy * 365 + yy / 4 - yy / 100 + yy / 400 + before[m - 1] + d - 1;

	if (m > 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		days++;
	return days;
}

double
fi_xlsx_serial(int y, int m, int d, int hh, int mm, int ss, int us)
{
	long		days = day_number(y, m, d) - day_number(1899, 12, 30);

	/* Excel's 1900 system counts 1900-02-29, which never was */
	if (days > 0 && days <= 60)
		days -= 1;
	/* openpyxl's time_to_days, in Python's order of operations */
	return (double) days + ((double) (hh * 3600 + mm * 60 + ss) + (double) us / 1e6) / 86400.0;
}

static bool
valid_date(int y, int m, int d)
{
	return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

bool
fi_xlsxw_date(FiXlsxWriter *w, int y, int m, int d)
{
	if (!valid_date(y, m, d))
		return false;
	if (next_cell(w))
		written(w, worksheet_write_number(w->ws, (lxw_row_t) w->row, (lxw_col_t) w->col,
										  fi_xlsx_serial(y, m, d, 0, 0, 0, 0), w->date));
	return true;
}

bool
fi_xlsxw_datetime(FiXlsxWriter *w, int y, int m, int d, int hh, int mm, int ss, int us)
{
	char		text[40];

	if (!valid_date(y, m, d))
		return false;
	if (us % 1000 == 0)
	{
		if (next_cell(w))
			written(w, worksheet_write_number(w->ws, (lxw_row_t) w->row, (lxw_col_t) w->col,
											  fi_xlsx_serial(y, m, d, hh, mm, ss, us), w->datetime));
		return true;
	}
	/* finer than openpyxl reads a serial back: str(datetime) */
	snprintf(text, sizeof(text), "%04d-%02d-%02d %02d:%02d:%02d.%06d", y, m, d, hh, mm, ss, us);
	fi_xlsxw_string(w, text, strlen(text));
	return true;
}

void
fi_xlsxw_time(FiXlsxWriter *w, int hh, int mm, int ss, int us)
{
	char		text[24];

	if (us % 1000 == 0)
	{
		if (next_cell(w))
			written(w, worksheet_write_number(w->ws, (lxw_row_t) w->row, (lxw_col_t) w->col,
											  fi_xlsx_serial(1899, 12, 30, hh, mm, ss, us), w->time));
		return;
	}
	snprintf(text, sizeof(text), "%02d:%02d:%02d.%06d", hh, mm, ss, us);
	fi_xlsxw_string(w, text, strlen(text));
}

void
fi_xlsxw_timedelta(FiXlsxWriter *w, int64_t microseconds)
{
	char		text[64];
	int64_t		days,
				rest;
	int			n;

	if (microseconds % 1000 == 0)
	{
		/* openpyxl's timedelta_to_days: total_seconds() / 86400 */
		if (next_cell(w))
			written(w, worksheet_write_number(w->ws, (lxw_row_t) w->row, (lxw_col_t) w->col,
											  (double) microseconds / 1e6 / 86400.0, w->timedelta));
		return;
	}
	/* str(timedelta): "[-]D day[s], H:MM:SS.ffffff", days floored */
	days = microseconds / 86400000000LL;
	rest = microseconds % 86400000000LL;
	if (rest < 0)
	{
		rest += 86400000000LL;
		days--;
	}
	n = 0;
	if (days != 0)
		n = snprintf(text, sizeof(text), "%lld day%s, ", (long long) days, days == 1 || days == -1 ? "" : "s");
	snprintf(text + n, sizeof(text) - n, "%d:%02d:%02d.%06d", (int) (rest / 3600000000LL),
			 (int) (rest / 60000000LL % 60), (int) (rest / 1000000LL % 60), (int) (rest % 1000000LL));
	fi_xlsxw_string(w, text, strlen(text));
}

FiXlsxwErr
fi_xlsxw_end_row(FiXlsxWriter *w, char *msg, size_t msglen)
{
	if (w->err == FI_XLSXW_OK)
	{
		w->row++;
		w->col = 0;
	}
	return report(w, msg, msglen);
}

long
fi_xlsxw_rows(const FiXlsxWriter *w)
{
	return w->row;
}

long
fi_xlsxw_truncated(const FiXlsxWriter *w, long *row, int *col)
{
	if (row)
		*row = w->trunc_row;
	if (col)
		*col = w->trunc_col;
	return w->truncated;
}
