/*
 * csv.h
 *		A CSV reader that reads what Python's csv.reader reads.
 *
 * Frappe's Data Import parses files with Python's csv module (default
 * "excel" dialect: comma, double quote, "" for a quote inside quotes,
 * strict off), after splitting the bytes into lines at \r\n, \r and \n.
 * This reader gives the same records field for field, including Python's
 * lenient cases: a quote inside an unquoted field is data (a"b), text
 * after a closing quote joins the field ("ab"c -> abc), a blank line is a
 * record with no fields.  One difference is reported, not hidden: input
 * that ends inside a quoted field (Python silently closes the field) sets
 * FiCsvReader.unterminated so the caller can refuse that record.
 *
 * Pure C: no server state.  The reader owns one growing buffer (malloc);
 * fi_csv_free releases it.
 */
#ifndef FI_CSV_H
#define FI_CSV_H

#include <stdbool.h>
#include <stddef.h>

typedef struct FiCsvReader
{
	const char *p;				/* next input byte */
	const char *end;
	long		record_no;		/* 1-based number of the record last read */
	long		line_no;		/* 1-based line where that record starts */
	long		next_line;		/* line of the next input byte */
	bool		unterminated;	/* the last record ran to the end inside quotes */
	/* the record: field i is buf + off[i], len[i] bytes, NUL-terminated */
	char	   *buf;
	size_t		buflen;
	size_t		bufcap;
	size_t	   *off;
	size_t	   *len;
	int			nfields;
	int			fieldcap;
} FiCsvReader;

/* Start reading n bytes at data (the caller keeps them alive). */
extern void fi_csv_init(FiCsvReader *r, const char *data, size_t n);

/* Read the next record: 1 read, 0 end of input, -1 out of memory. */
extern int	fi_csv_next(FiCsvReader *r);

/*
 * A record built by another reader (the XLSX one) in the same shape:
 * cleared, then its fields appended in order; -1 when out of memory.
 */
extern void fi_csv_record_clear(FiCsvReader *r);
extern int	fi_csv_record_field(FiCsvReader *r, const char *s, size_t n);

extern void fi_csv_free(FiCsvReader *r);

/*
 * Python's str.strip() of a UTF-8 string: trims the characters Python
 * counts as whitespace (ASCII blanks, \x1c-\x1f, U+0085, U+00A0, U+1680,
 * U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000) from both ends.
 * Sets *start and returns the new length.
 */
extern size_t fi_py_strip(const char *s, size_t n, size_t *start);

/*
 * Is s valid UTF-8 (no overlongs, surrogates or code points above
 * U+10FFFF)?  On failure *bad is the offset of the first bad byte.
 */
extern bool fi_utf8_valid(const char *s, size_t n, size_t *bad);

/*
 * windows-1252 to UTF-8 (as Python's cp1252 codec): out must hold 3n
 * bytes.  Returns the UTF-8 length, or -1 with *bad set when a byte has
 * no character in windows-1252 (0x81, 0x8D, 0x8F, 0x90, 0x9D).
 */
extern long fi_cp1252_to_utf8(const unsigned char *in, size_t n, char *out, size_t *bad);

#endif							/* FI_CSV_H */
