/*
 * importval.c
 *		Frappe's Data Import value rules (see importval.h).
 */
#include "engine/importval.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* digits with single underscores between them (Python's digitpart) */
static size_t
digitpart(const char *s, size_t n, size_t i, char *out, size_t *o)
{
	size_t		start = i;

	if (i >= n || !is_digit(s[i]))
		return 0;
	while (i < n)
	{
		if (is_digit(s[i]))
			out[(*o)++] = s[i++];
		else if (s[i] == '_' && i + 1 < n && is_digit(s[i + 1]) && i > start)
			i++;
		else
			break;
	}
	return i - start;
}

bool
fi_parse_number(const char *in, size_t n, char *out)
{
	char	   *s = malloc(n + 1);
	size_t		m = 0,
				i = 0,
				o = 0,
				k;
	bool		ok = false;

	if (s == NULL)
		return false;
	/* flt(): commas go; float(): surrounding blanks go */
	for (size_t j = 0; j < n; j++)
		if (in[j] != ',')
			s[m++] = in[j];
	while (m > 0 && isspace((unsigned char) s[m - 1]))
		m--;
	while (i < m && isspace((unsigned char) s[i]))
		i++;
	if (i < m && (s[i] == '+' || s[i] == '-'))
	{
		if (s[i] == '-')
			out[o++] = '-';
		i++;
	}
	k = digitpart(s, m, i, out, &o);
	i += k;
	if (k == 0)
		out[o++] = '0';
	if (i < m && s[i] == '.')
	{
		size_t		dot = o,
					f;

		out[o++] = '.';
		i++;
		f = digitpart(s, m, i, out, &o);
		if (f == 0 && k == 0)
			goto done;			/* "." alone */
		if (f == 0)
			o = dot;
		i += f;
	}
	else if (k == 0)
		goto done;
	if (i < m && (s[i] == 'e' || s[i] == 'E'))
	{
		size_t		save = o;

		out[o++] = 'e';
		i++;
		if (i < m && (s[i] == '+' || s[i] == '-'))
			out[o++] = s[i++];
		k = digitpart(s, m, i, out, &o);
		if (k == 0)
		{
			o = save;
			goto done;
		}
		i += k;
	}
	ok = (i == m);
done:
	out[o] = '\0';
	free(s);
	return ok;
}

bool
fi_parse_int(const char *s, size_t n, int64_t *out)
{
	char	   *buf = malloc(n + 2);
	bool		ok;

	if (buf == NULL)
		return false;
	ok = fi_parse_number(s, n, buf);
	if (ok)
	{
		if (strchr(buf, 'e') == NULL)
		{
			/* exact: the integer part, truncated toward zero */
			const char *p = buf;
			bool		neg = (*p == '-');
			uint64_t	v = 0;

			if (neg)
				p++;
			for (; is_digit(*p); p++)
			{
				if (v > (UINT64_C(9223372036854775808) - (uint64_t) (*p - '0')) / 10)
				{
					ok = false;
					break;
				}
				v = v * 10 + (uint64_t) (*p - '0');
			}
			if (ok && !neg && v > (uint64_t) INT64_MAX)
				ok = false;
			if (ok)
				*out = neg ? (int64_t) (0 - v) : (int64_t) v;
		}
		else
		{
			long double d = strtold(buf, NULL);

			if (d >= 9223372036854775807.0L || d <= -9223372036854775808.0L || d != d)
				ok = false;
			else
				*out = (int64_t) d;
		}
	}
	free(buf);
	return ok;
}

static bool
word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

bool
fi_parse_check(const char *s, size_t n, int64_t *out)
{
	if (word_is(s, n, "t") || word_is(s, n, "true") || word_is(s, n, "y") || word_is(s, n, "yes"))
	{
		*out = 1;
		return true;
	}
	if (word_is(s, n, "f") || word_is(s, n, "false") || word_is(s, n, "n") || word_is(s, n, "no"))
	{
		*out = 0;
		return true;
	}
	return fi_parse_int(s, n, out);
}

/*
 * ^(?:(\d+d)?((^|\s)\d+h)?((^|\s)\d+m)?((^|\s)\d+s)?)$ : each part is
 * optional; a part other than the first starts the value or follows one
 * blank.
 */
bool
fi_parse_duration(const char *s, size_t n, int64_t *seconds)
{
	static const char units[] = "dhms";
	static const int64_t mult[] = {86400, 3600, 60, 1};
	size_t		i = 0;
	int64_t		total = 0;

	for (int u = 0; u < 4; u++)
	{
		size_t		j = i;
		int64_t		v = 0;

		if (u > 0 && i > 0)
		{
			if (j < n && isspace((unsigned char) s[j]))
				j++;
			else
				continue;
		}
		else if (u == 0 && i > 0)
			continue;
		if (j >= n || !is_digit(s[j]))
			continue;
		while (j < n && is_digit(s[j]))
		{
			if (v > (INT64_MAX / 86400 - 9) / 10)
				return false;
			v = v * 10 + (s[j] - '0');
			j++;
		}
		if (j < n && s[j] == units[u])
		{
			total += v * mult[u];
			i = j + 1;
		}
	}
	if (i != n || n == 0)
		return false;
	*seconds = total;
	return true;
}

/* ---- dates ---- */

static const char *const date_formats[FI_NDATE_FORMATS] = {
	"%d/%b/%y", "%d-%m-%Y", "%m-%d-%Y", "%Y-%m-%d", "%d-%m-%y", "%m-%d-%y",
	"%y-%m-%d", "%y-%b-%d", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d/%m/%y",
	"%m/%d/%y", "%y/%m/%d", "%d.%m.%Y", "%m.%d.%Y", "%Y.%m.%d", "%d.%m.%y",
	"%m.%d.%y", "%y.%m.%d", "%d %b %Y", "%d %B %Y"
};

static const char *const time_formats[FI_NTIME_FORMATS] = {
	"%H:%M:%S.%f", "%H:%M:%S", "%H:%M", "%I:%M:%S.%f %p", "%I:%M:%S %p", "%I:%M %p"
};

static const char *const month_abbr[12] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
};
static const char *const month_full[12] = {
	"january", "february", "march", "april", "may", "june", "july", "august",
	"september", "october", "november", "december"
};

const char *
fi_date_format_text(FiDateFormat f, char *buf)
{
	buf[0] = '\0';
	if (f.date >= 0)
		strcat(buf, date_formats[f.date]);
	if (f.date >= 0 && f.time >= 0)
		strcat(buf, " ");
	if (f.time >= 0)
		strcat(buf, time_formats[f.time]);
	return buf;
}

typedef struct Parsed
{
	int			Y,
				m,
				d,
				H,
				I,
				M,
				S,
				f,
				pm;
	bool		has_I,
				has_p;
} Parsed;

/* digits as an int: s[i..i+k) */
static int
num(const char *s, size_t i, size_t k)
{
	int			v = 0;

	for (size_t j = 0; j < k; j++)
		v = v * 10 + (s[i + j] - '0');
	return v;
}

static bool
digits_at(const char *s, size_t n, size_t i, size_t k)
{
	if (i + k > n)
		return false;
	for (size_t j = 0; j < k; j++)
		if (!is_digit(s[i + j]))
			return false;
	return true;
}

/*
 * Python's strptime regex, first match in the regex's order of
 * alternatives; *end is where the match ended (the caller requires the
 * whole value).
 */
static bool
match(const char *fmt, const char *s, size_t n, size_t i, Parsed *p, size_t *end)
{
	if (*fmt == '\0')
	{
		*end = i;
		return true;
	}
	if (*fmt == ' ')
	{
		/* \s+ */
		size_t		j = i;

		while (j < n && isspace((unsigned char) s[j]))
			j++;
		for (; j > i; j--)
			if (match(fmt + 1, s, n, j, p, end))
				return true;
		return false;
	}
	if (*fmt != '%')
	{
		if (i < n && tolower((unsigned char) s[i]) == tolower((unsigned char) *fmt))
			return match(fmt + 1, s, n, i + 1, p, end);
		return false;
	}
	fmt++;
	switch (*fmt)
	{
		case 'd':
		case 'm':
		case 'H':
		case 'I':
		case 'M':
		case 'S':
			{
				/* alternatives: (first char class, second char class or none) */
				char		c0 = i < n ? s[i] : 0,
							c1 = i + 1 < n ? s[i + 1] : 0;
				int			cand[4][2];	/* value, length */
				int			nc = 0;
				char		d = *fmt;

				if (d == 'd')
				{
					if ((c0 == '3') && (c1 == '0' || c1 == '1'))
						cand[nc][0] = 30 + c1 - '0', cand[nc++][1] = 2;
					if ((c0 == '1' || c0 == '2') && is_digit(c1))
						cand[nc][0] = num(s, i, 2), cand[nc++][1] = 2;
					if (c0 == '0' && c1 >= '1' && c1 <= '9')
						cand[nc][0] = c1 - '0', cand[nc++][1] = 2;
					if (c0 >= '1' && c0 <= '9')
						cand[nc][0] = c0 - '0', cand[nc++][1] = 1;
					if (c0 == ' ' && c1 >= '1' && c1 <= '9')
						cand[nc][0] = c1 - '0', cand[nc++][1] = 2;
				}
				else if (d == 'm' || d == 'I')
				{
					if (c0 == '1' && c1 >= '0' && c1 <= '2')
						cand[nc][0] = 10 + c1 - '0', cand[nc++][1] = 2;
					if (c0 == '0' && c1 >= '1' && c1 <= '9')
						cand[nc][0] = c1 - '0', cand[nc++][1] = 2;
					if (c0 >= '1' && c0 <= '9')
						cand[nc][0] = c0 - '0', cand[nc++][1] = 1;
				}
				else if (d == 'H')
				{
					if (c0 == '2' && c1 >= '0' && c1 <= '3')
						cand[nc][0] = 20 + c1 - '0', cand[nc++][1] = 2;
					if ((c0 == '0' || c0 == '1') && is_digit(c1))
						cand[nc][0] = num(s, i, 2), cand[nc++][1] = 2;
					if (is_digit(c0))
						cand[nc][0] = c0 - '0', cand[nc++][1] = 1;
				}
				else
				{
					if (d == 'S' && c0 == '6' && (c1 == '0' || c1 == '1'))
						cand[nc][0] = 60 + c1 - '0', cand[nc++][1] = 2;
					if (c0 >= '0' && c0 <= '5' && is_digit(c1))
						cand[nc][0] = num(s, i, 2), cand[nc++][1] = 2;
					if (is_digit(c0))
						cand[nc][0] = c0 - '0', cand[nc++][1] = 1;
				}
				for (int k = 0; k < nc; k++)
				{
					switch (d)
					{
						case 'd':
							p->d = cand[k][0];
							break;
						case 'm':
							p->m = cand[k][0];
							break;
						case 'H':
							p->H = cand[k][0];
							break;
						case 'I':
							p->I = cand[k][0], p->has_I = true;
							break;
						case 'M':
							p->M = cand[k][0];
							break;
						case 'S':
							p->S = cand[k][0];
							break;
					}
					if (match(fmt + 1, s, n, i + cand[k][1], p, end))
						return true;
				}
				return false;
			}
		case 'y':
			if (!digits_at(s, n, i, 2))
				return false;
			p->Y = num(s, i, 2);
			p->Y += p->Y < 69 ? 2000 : 1900;
			return match(fmt + 1, s, n, i + 2, p, end);
		case 'Y':
			if (!digits_at(s, n, i, 4))
				return false;
			p->Y = num(s, i, 4);
			return match(fmt + 1, s, n, i + 4, p, end);
		case 'f':
			for (size_t k = 6; k >= 1; k--)
			{
				if (digits_at(s, n, i, k))
				{
					p->f = num(s, i, k);
					for (size_t z = k; z < 6; z++)
						p->f *= 10;
					if (match(fmt + 1, s, n, i + k, p, end))
						return true;
				}
			}
			return false;
		case 'b':
		case 'B':
			{
				const char *const *names = (*fmt == 'b') ? month_abbr : month_full;

				for (int k = 0; k < 12; k++)
				{
					size_t		len = strlen(names[k]);

					if (i + len <= n && strncasecmp(s + i, names[k], len) == 0)
					{
						p->m = k + 1;
						if (match(fmt + 1, s, n, i + len, p, end))
							return true;
					}
				}
				return false;
			}
		case 'p':
			if (i + 2 <= n && (tolower((unsigned char) s[i]) == 'a' || tolower((unsigned char) s[i]) == 'p') &&
				tolower((unsigned char) s[i + 1]) == 'm')
			{
				p->pm = tolower((unsigned char) s[i]) == 'p';
				p->has_p = true;
				return match(fmt + 1, s, n, i + 2, p, end);
			}
			return false;
	}
	return false;
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool
strptime_text(const char *fmt, const char *s, size_t n, FiDateTime *out)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	Parsed		p;
	size_t		end = 0;

	memset(&p, 0, sizeof(p));
	p.Y = 1900;
	p.m = 1;
	p.d = 1;
	if (!match(fmt, s, n, 0, &p, &end) || end != n)
		return false;
	if (p.Y < 1 || p.m < 1 || p.m > 12 || p.d < 1 ||
		p.d > mdays[p.m - 1] + (p.m == 2 && leap(p.Y)))
		return false;
	if (p.has_I)
		p.H = (p.I % 12) + ((p.has_p && p.pm) ? 12 : 0);
	if (p.S > 59)
		return false;			/* datetime() refuses the leap seconds strptime reads */
	out->year = p.Y;
	out->month = p.m;
	out->day = p.d;
	out->hour = p.H;
	out->minute = p.M;
	out->second = p.S;
	out->usec = p.f;
	return true;
}

bool
fi_strptime(const char *s, size_t n, FiDateFormat f, FiDateTime *out)
{
	char		buf[64];

	return strptime_text(fi_date_format_text(f, buf), s, n, out);
}

bool
fi_guess_date_format(const char *s, size_t n, FiDateFormat *f)
{
	FiDateTime	dt;
	const char *sp;

	/* every format starts with a day, month or year: a digit (or %d's " 1") */
	if (n == 0 || !((s[0] >= '0' && s[0] <= '9') || s[0] == ' '))
		return false;

	for (int k = 0; k < FI_NDATE_FORMATS; k++)
	{
		if (strptime_text(date_formats[k], s, n, &dt))
		{
			f->date = k;
			f->time = -1;
			return true;
		}
	}
	/* a date, one blank, a time */
	sp = memchr(s, ' ', n);
	if (sp != NULL)
	{
		size_t		dn = sp - s;
		int			dk = -1,
					tk = -1;

		for (int k = 0; k < FI_NDATE_FORMATS && dk < 0; k++)
			if (strptime_text(date_formats[k], s, dn, &dt))
				dk = k;
		for (int k = 0; k < FI_NTIME_FORMATS && tk < 0; k++)
			if (strptime_text(time_formats[k], sp + 1, n - dn - 1, &dt))
				tk = k;
		if (dk >= 0 && tk >= 0)
		{
			f->date = dk;
			f->time = tk;
			return true;
		}
	}
	return false;
}

bool
fi_parse_time(const char *s, size_t n, FiDateTime *out)
{
	for (int k = 0; k < FI_NTIME_FORMATS; k++)
		if (strptime_text(time_formats[k], s, n, out))
			return true;
	return false;
}

/* ---- compare() ---- */

FiCompareKind
fi_compare_kind(const char *fieldtype)
{
	static const char *const text[] = {"Data", "Text", "Small Text", "Long Text", "Text Editor",
	"Select", "Link", "Dynamic Link", "Date", "Datetime"};

	if (fieldtype == NULL)
		return FI_CMP_NONE;
	if (strcmp(fieldtype, "Currency") == 0 || strcmp(fieldtype, "Float") == 0 ||
		strcmp(fieldtype, "Percent") == 0)
		return FI_CMP_FLOAT;
	if (strcmp(fieldtype, "Int") == 0 || strcmp(fieldtype, "Check") == 0)
		return FI_CMP_INT;
	/* (Date and Datetime: getdate() of ISO texts orders as the texts do) */
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (strcmp(fieldtype, text[i]) == 0)
			return FI_CMP_TEXT;
	return FI_CMP_NONE;
}

/* flt(): the number, or 0 */
static double
flt_of(const char *s)
{
	size_t		n;
	char	   *buf;
	double		v = 0;

	if (s == NULL)
		return 0;
	n = strlen(s);
	if ((buf = malloc(n + 2)) == NULL)
		return 0;
	if (fi_parse_number(s, n, buf))
		v = strtod(buf, NULL);
	free(buf);
	return v;
}

/* cint(sbool()): "true"/"false" in any case, else int(float(s)), else 0 */
static double
cint_of(const char *s)
{
	int64_t		v;

	if (s == NULL)
		return 0;
	if (strcasecmp(s, "true") == 0)
		return 1;
	if (strcasecmp(s, "false") == 0)
		return 0;
	return fi_parse_int(s, strlen(s), &v) ? (double) v : 0;
}

int
fi_frappe_compare(const char *a, const char *op, const char *b, FiCompareKind kind)
{
	int			c;

	if (kind == FI_CMP_NONE && (a == NULL || b == NULL))
	{
		/* None == x is False, None != x True; None < x raises in Python: false */
		if (strcmp(op, "=") == 0)
			return a == b;
		if (strcmp(op, "!=") == 0)
			return a != b;
		return strcmp(op, ">") == 0 || strcmp(op, "<") == 0 || strcmp(op, ">=") == 0 ||
			strcmp(op, "<=") == 0 ? 0 : -1;
	}
	if (kind == FI_CMP_FLOAT || kind == FI_CMP_INT)
	{
		double		x = kind == FI_CMP_FLOAT ? flt_of(a) : cint_of(a),
					y = kind == FI_CMP_FLOAT ? flt_of(b) : cint_of(b);

		c = x < y ? -1 : x > y ? 1 : 0;
	}
	else
	{
		/* str comparison: by code point, which UTF-8 bytes keep */
		c = strcmp(a ? a : "", b ? b : "");
		c = c < 0 ? -1 : c > 0 ? 1 : 0;
	}
	if (strcmp(op, "=") == 0)
		return c == 0;
	if (strcmp(op, "!=") == 0)
		return c != 0;
	if (strcmp(op, ">") == 0)
		return c > 0;
	if (strcmp(op, "<") == 0)
		return c < 0;
	if (strcmp(op, ">=") == 0)
		return c >= 0;
	if (strcmp(op, "<=") == 0)
		return c <= 0;
	return -1;
}
