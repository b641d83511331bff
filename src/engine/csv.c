/*
 * csv.c
 *		A CSV reader that agrees with Python's csv.reader (see csv.h).
 *
 * The states are those of CPython's Modules/_csv.c for the default
 * dialect; runs of plain bytes are copied at once.  Python feeds the
 * reader one line at a time (bytes.splitlines: \r\n, \r or \n end a line)
 * and ignores line ends inside quotes except as data, which is what a
 * single pass over the bytes does here.
 */
#include "engine/csv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum
{
	START_RECORD,
	START_FIELD,
	IN_FIELD,
	IN_QUOTED,
	QUOTE_IN_QUOTED
};

void
fi_csv_init(FiCsvReader *r, const char *data, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->p = data;
	r->end = data + n;
	r->next_line = 1;
}

void
fi_csv_free(FiCsvReader *r)
{
	free(r->buf);
	free(r->off);
	free(r->len);
	r->buf = NULL;
	r->off = r->len = NULL;
	r->bufcap = 0;
	r->fieldcap = 0;
}

static int
reserve(FiCsvReader *r, size_t more)
{
	if (r->buflen + more + 1 > r->bufcap)
	{
		size_t		cap = r->bufcap ? r->bufcap : 4096;
		char	   *nb;

		while (cap < r->buflen + more + 1)
			cap *= 2;
		nb = realloc(r->buf, cap);
		if (nb == NULL)
			return -1;
		r->buf = nb;
		r->bufcap = cap;
	}
	return 0;
}

static int
add_bytes(FiCsvReader *r, const char *s, size_t n)
{
	if (reserve(r, n) < 0)
		return -1;
	memcpy(r->buf + r->buflen, s, n);
	r->buflen += n;
	return 0;
}

/* the field started at fstart ends here */
static int
save_field(FiCsvReader *r, size_t fstart)
{
	if (r->nfields == r->fieldcap)
	{
		int			cap = r->fieldcap ? r->fieldcap * 2 : 64;
		size_t	   *no = realloc(r->off, cap * sizeof(size_t));
		size_t	   *nl;

		if (no == NULL)
			return -1;
		r->off = no;
		nl = realloc(r->len, cap * sizeof(size_t));
		if (nl == NULL)
			return -1;
		r->len = nl;
		r->fieldcap = cap;
	}
	if (reserve(r, 0) < 0)
		return -1;
	r->off[r->nfields] = fstart;
	r->len[r->nfields] = r->buflen - fstart;
	r->nfields++;
	r->buf[r->buflen++] = '\0';
	return 0;
}

void
fi_csv_record_clear(FiCsvReader *r)
{
	r->buflen = 0;
	r->nfields = 0;
	r->unterminated = false;
}

int
fi_csv_record_field(FiCsvReader *r, const char *s, size_t n)
{
	size_t		start = r->buflen;

	if (add_bytes(r, s, n) < 0)
		return -1;
	return save_field(r, start);
}

/* consume a line end at r->p (\r\n, \r or \n) */
static void
eat_line_end(FiCsvReader *r)
{
	if (*r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n')
		r->p += 2;
	else
		r->p += 1;
	r->next_line++;
}

int
fi_csv_next(FiCsvReader *r)
{
	int			state = START_RECORD;
	size_t		fstart = 0;

	if (r->p >= r->end)
		return 0;
	r->record_no++;
	r->line_no = r->next_line;
	r->nfields = 0;
	r->buflen = 0;
	r->unterminated = false;

	for (;;)
	{
		char		c;

		if (r->p >= r->end)
		{
			/* the input ends without a line end: Python's EOL, then EOF */
			if (state == IN_QUOTED)
				r->unterminated = true;
			if (state == START_FIELD)
				fstart = r->buflen;
			if (state != START_RECORD && save_field(r, fstart) < 0)
				return -1;
			return 1;
		}
		c = *r->p;
		switch (state)
		{
			case START_RECORD:
				if (c == '\r' || c == '\n')
				{
					eat_line_end(r);	/* a blank line: a record of no fields */
					return 1;
				}
				state = START_FIELD;
				/* FALLTHROUGH */
			case START_FIELD:
				fstart = r->buflen;
				if (c == '\r' || c == '\n')
				{
					if (save_field(r, fstart) < 0)
						return -1;
					eat_line_end(r);
					return 1;
				}
				else if (c == '"')
				{
					state = IN_QUOTED;
					r->p++;
				}
				else if (c == ',')
				{
					if (save_field(r, fstart) < 0)
						return -1;
					r->p++;
				}
				else
					state = IN_FIELD;
				break;
			case IN_FIELD:
				{
					const char *q = r->p;

					while (q < r->end && *q != ',' && *q != '\r' && *q != '\n')
						q++;
					if (add_bytes(r, r->p, q - r->p) < 0)
						return -1;
					r->p = q;
					if (q == r->end)
						break;
					if (save_field(r, fstart) < 0)
						return -1;
					if (*q == ',')
					{
						r->p++;
						state = START_FIELD;
					}
					else
					{
						eat_line_end(r);
						return 1;
					}
				}
				break;
			case IN_QUOTED:
				{
					const char *q = r->p;

					while (q < r->end && *q != '"')
					{
						/* line ends inside quotes are data; count the lines */
						if (*q == '\n' || (*q == '\r' && (q + 1 >= r->end || q[1] != '\n')))
							r->next_line++;
						q++;
					}
					if (add_bytes(r, r->p, q - r->p) < 0)
						return -1;
					r->p = q;
					if (q < r->end)
					{
						r->p++;
						state = QUOTE_IN_QUOTED;
					}
				}
				break;
			case QUOTE_IN_QUOTED:
				if (c == '"')
				{
					/* "" inside quotes is one quote */
					if (add_bytes(r, "\"", 1) < 0)
						return -1;
					r->p++;
					state = IN_QUOTED;
				}
				else if (c == ',')
				{
					if (save_field(r, fstart) < 0)
						return -1;
					r->p++;
					state = START_FIELD;
				}
				else if (c == '\r' || c == '\n')
				{
					if (save_field(r, fstart) < 0)
						return -1;
					eat_line_end(r);
					return 1;
				}
				else
				{
					/* strict off: text after the closing quote joins the field */
					state = IN_FIELD;
				}
				break;
		}
	}
}

/* ---- Python's whitespace ---- */

/* length of the whitespace character at s (0 if none) */
static size_t
py_space_at(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f))
		return 1;
	if (c == 0xC2 && n >= 2 && (s[1] == 0x85 || s[1] == 0xA0))
		return 2;
	if (c == 0xE1 && n >= 3 && s[1] == 0x9A && s[2] == 0x80)
		return 3;				/* U+1680 */
	if (c == 0xE2 && n >= 3)
	{
		if (s[1] == 0x80 && (s[2] <= 0x8A || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF))
			return 3;			/* U+2000-200A, 2028, 2029, 202F */
		if (s[1] == 0x81 && s[2] == 0x9F)
			return 3;			/* U+205F */
	}
	if (c == 0xE3 && n >= 3 && s[1] == 0x80 && s[2] == 0x80)
		return 3;				/* U+3000 */
	return 0;
}

/* length of a whitespace character ending at s + n (0 if none) */
static size_t
py_space_before(const unsigned char *s, size_t n)
{
	size_t		k;

	for (k = 1; k <= 3 && k <= n; k++)
	{
		if ((k == 1 || (s[n - k] & 0xC0) == 0xC0) && py_space_at(s + n - k, k) == k)
			return k;
	}
	return 0;
}

size_t
fi_py_strip(const char *str, size_t n, size_t *start)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t		b = 0,
				k;

	while (b < n && (k = py_space_at(s + b, n - b)) > 0)
		b += k;
	while (n > b && (k = py_space_before(s + b, n - b)) > 0)
		n -= k;
	*start = b;
	return n - b;
}

/* ---- encodings ---- */

bool
fi_utf8_valid(const char *str, size_t n, size_t *bad)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = s[i];
		size_t		k;
		uint32_t	cp;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			k = 1, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			k = 2, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			k = 3, cp = c & 0x07;
		else
			goto fail;
		for (size_t j = 1; j <= k; j++)
		{
			if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
				goto fail;
			cp = (cp << 6) | (s[i + j] & 0x3F);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
			(cp >= 0xD800 && cp <= 0xDFFF))
			goto fail;
		i += k + 1;
		continue;
fail:
		*bad = i;
		return false;
	}
	return true;
}

/* windows-1252 0x80-0x9F (0 = undefined), as Python's cp1252 codec */
static const uint16_t cp1252_high[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178
};

long
fi_cp1252_to_utf8(const unsigned char *in, size_t n, char *out, size_t *bad)
{
	char	   *o = out;

	for (size_t i = 0; i < n; i++)
	{
		unsigned int cp = in[i];

		if (cp >= 0x80 && cp <= 0x9F)
		{
			cp = cp1252_high[cp - 0x80];
			if (cp == 0)
			{
				*bad = i;
				return -1;
			}
		}
		if (cp < 0x80)
			*o++ = (char) cp;
		else if (cp < 0x800)
		{
			*o++ = (char) (0xC0 | (cp >> 6));
			*o++ = (char) (0x80 | (cp & 0x3F));
		}
		else
		{
			*o++ = (char) (0xE0 | (cp >> 12));
			*o++ = (char) (0x80 | ((cp >> 6) & 0x3F));
			*o++ = (char) (0x80 | (cp & 0x3F));
		}
	}
	return o - out;
}
