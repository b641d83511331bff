/*
 * importval.h
 *		Frappe's Data Import value rules, without server state.
 *
 * What Frappe's importer (Row.parse_value, frappe.utils.cint/flt,
 * guess_date_format, datetime.strptime) accepts for a cell of a given
 * fieldtype, and what it makes of it.  Where Frappe silently turns a bad
 * number into 0, these functions say "bad" and the importer reports the
 * cell: the import validates instead of guessing.
 */
#ifndef FI_IMPORTVAL_H
#define FI_IMPORTVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A number as Python's float() reads it after flt() drops the commas
 * ("1,234.50", " -1e3", "1_000"); inf and nan are refused.  Writes the
 * plain form ("-1234.50", "1e3") for numeric_in to out (n + 2 bytes: ".5" becomes "0.5").
 */
extern bool fi_parse_number(const char *s, size_t n, char *out);

/* Int: the number truncated toward zero (cint), within bigint. */
extern bool fi_parse_int(const char *s, size_t n, int64_t *out);

/* Check: t/true/y/yes 1, f/false/n/no 0 (any case), else as Int. */
extern bool fi_parse_check(const char *s, size_t n, int64_t *out);

/* Duration "1d 2h 3m 4s" (Frappe's pattern) to seconds. */
extern bool fi_parse_duration(const char *s, size_t n, int64_t *seconds);

/* ---- dates: Frappe's guess_date_format and Python's strptime ---- */

#define FI_NDATE_FORMATS 22
#define FI_NTIME_FORMATS 6

/*
 * A format: a date format, a time format, or both ("<date> <time>").
 * date or time is -1 when absent.
 */
typedef struct FiDateFormat
{
	int			date;
	int			time;
} FiDateFormat;

typedef struct FiDateTime
{
	int			year,
				month,
				day;
	int			hour,
				minute,
				second,
				usec;
} FiDateTime;

/* the strptime text of a format ("%d-%m-%Y %H:%M:%S") into buf (64 bytes) */
extern const char *fi_date_format_text(FiDateFormat f, char *buf);

/* Frappe's guess for one value: false when it guesses nothing */
extern bool fi_guess_date_format(const char *s, size_t n, FiDateFormat *f);

/* datetime.strptime(s, f): false on no match or an impossible date */
extern bool fi_strptime(const char *s, size_t n, FiDateFormat f, FiDateTime *out);

/* a Time cell: any of Frappe's time formats */
extern bool fi_parse_time(const char *s, size_t n, FiDateTime *out);

#endif							/* FI_IMPORTVAL_H */
