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

/*
 * Frappe's compare(val1, condition, val2, fieldtype) (frappe.utils.data),
 * as a Document Naming Rule's conditions use it: both values cast by the
 * field's type, then =, !=, >, <, >= or <=.  a NULL is None.
 */
typedef enum FiCompareKind
{
	FI_CMP_TEXT,				/* cstr(): Data, Link, Select, Text, ... (None is "") */
	FI_CMP_FLOAT,				/* flt(): Float, Currency, Percent (junk is 0) */
	FI_CMP_INT,					/* cint(sbool()): Int, Check */
	FI_CMP_NONE					/* no cast: None equals nothing and orders with nothing */
} FiCompareKind;

/* the cast of a fieldtype */
extern FiCompareKind fi_compare_kind(const char *fieldtype);

/* 1 true, 0 false, -1 an operator Frappe's conditions do not offer */
extern int	fi_frappe_compare(const char *a, const char *op, const char *b, FiCompareKind kind);

#endif							/* FI_IMPORTVAL_H */
