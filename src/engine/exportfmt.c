/*
 * exportfmt.c
 *		Frappe's Data Export value text (see exportfmt.h).
 */
#include "engine/exportfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/pyjson.h"

size_t
fi_export_number(const char *s, size_t n, char *out)
{
	const char *dot = memchr(s, '.', n);
	const char *digits = n > 0 && s[0] == '-' ? s + 1 : s;
	size_t		intlen = dot ? (size_t) (dot - digits) : (size_t) (s + n - digits);

	/*
	 * From the text, without a strtod per value: below 1e-4 it reads
	 * "0.0000..." with a digit other than 0 after, from 1e16 it has 17 or
	 * more integer digits: then repr's exponent form.
	 */
	if (intlen >= 17 ||
		(intlen == 1 && digits[0] == '0' && dot != NULL && (size_t) (s + n - dot) >= 5 &&
		 strncmp(dot, ".0000", 5) == 0))
	{
		bool		nonzero = intlen >= 17;

		for (const char *c = dot ? dot + 1 : s + n; !nonzero && c < s + n; c++)
			nonzero = *c != '0';
		if (nonzero)
		{
			char	   *z = malloc(n + 1);
			double		v;

			if (z == NULL)
				return 0;
			memcpy(z, s, n);
			z[n] = '\0';
			v = strtod(z, NULL);
			free(z);
			return fi_pyjson_float(v, out);
		}
	}
	if (dot != NULL)
	{
		size_t		len = n;

		while (len > (size_t) (dot - s) + 2 && s[len - 1] == '0')
			len--;
		memcpy(out, s, len);
		return len;
	}
	memcpy(out, s, n);
	memcpy(out + n, ".0", 2);
	return n + 2;
}

/* Python's floor division */
static int64_t
floordiv(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

size_t
fi_export_duration(int64_t secs, bool hide_days, char out[FI_DURATION_MAX])
{
	int64_t		d = floordiv(secs, 86400),
				h = floordiv(secs - floordiv(secs, 86400) * 86400, 3600),
				m = floordiv(secs - floordiv(secs, 3600) * 3600, 60),
				s = secs - floordiv(secs, 60) * 60;
	size_t		len = 0;

	if (hide_days)
	{
		h = floordiv(secs, 3600);
		d = 0;
	}
	out[0] = '\0';
	if (d)
		len += snprintf(out + len, FI_DURATION_MAX - len, "%lldd", (long long) d);
	if (h)
		len += snprintf(out + len, FI_DURATION_MAX - len, "%s%lldh", len ? " " : "", (long long) h);
	if (m)
		len += snprintf(out + len, FI_DURATION_MAX - len, "%s%lldm", len ? " " : "", (long long) m);
	if (s)
		len += snprintf(out + len, FI_DURATION_MAX - len, "%s%llds", len ? " " : "", (long long) s);
	return len;
}

size_t
fi_export_date(int year, int month, int day, char out[FI_EXPORT_CLOCK_MAX])
{
	return (size_t) snprintf(out, FI_EXPORT_CLOCK_MAX, "%04d-%02d-%02d", year, month, day);
}

size_t
fi_export_time(int hour, int minute, int second, int usec, char out[FI_EXPORT_CLOCK_MAX])
{
	if (usec)
		return (size_t) snprintf(out, FI_EXPORT_CLOCK_MAX, "%02d:%02d:%02d.%06d", hour, minute, second, usec);
	return (size_t) snprintf(out, FI_EXPORT_CLOCK_MAX, "%02d:%02d:%02d", hour, minute, second);
}

size_t
fi_export_datetime(int year, int month, int day, int hour, int minute, int second, int usec,
				   char out[FI_EXPORT_CLOCK_MAX])
{
	size_t		n = fi_export_date(year, month, day, out);

	out[n++] = ' ';
	return n + fi_export_time(hour, minute, second, usec, out + n);
}

/* n digits at s as a number; -1 when one is not a digit */
static int
digits_at(const char *s, int n)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "HH:MM:SS[.f...]" at s[0..n): the fields, false when it is not that */
static bool
parse_time(const char *s, size_t n, int *h, int *mi, int *sec, int *us)
{
	if (n < 8 || s[2] != ':' || s[5] != ':' ||
		(*h = digits_at(s, 2)) < 0 || (*mi = digits_at(s + 3, 2)) < 0 || (*sec = digits_at(s + 6, 2)) < 0 ||
		*h > 23 || *mi > 59 || *sec > 59)
		return false;
	*us = 0;
	if (n == 8)
		return true;
	if (s[8] != '.' || n == 9 || n > 9 + 9)
		return false;
	for (size_t i = 9; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		/* the first six digits are the microseconds (the databases keep no more) */
		if (i < 15)
			*us = *us * 10 + (s[i] - '0');
	}
	for (size_t i = n; i < 15; i++)
		*us *= 10;
	return true;
}

bool
fi_export_parse_clock(const char *s, size_t n, FiExportClock *c)
{
	memset(c, 0, sizeof(*c));
	if (n >= 10 && s[4] == '-' && s[7] == '-' &&
		(c->year = digits_at(s, 4)) >= 0 && (c->month = digits_at(s + 5, 2)) >= 0 &&
		(c->day = digits_at(s + 8, 2)) >= 0)
	{
		/* a zero date (0000-00-00) or a month or day out of range is no date Python makes */
		if (c->year == 0 || c->month < 1 || c->month > 12 || c->day < 1 || c->day > 31)
			return false;
		c->has_date = true;
		if (n == 10)
			return true;
		if (s[10] != ' ' && s[10] != 'T')
			return false;
		c->has_time = true;
		return parse_time(s + 11, n - 11, &c->hour, &c->minute, &c->second, &c->usec);
	}
	c->has_time = true;
	return parse_time(s, n, &c->hour, &c->minute, &c->second, &c->usec);
}

bool
fi_export_clock_text(const char *s, size_t n, size_t *len, char out[FI_EXPORT_CLOCK_MAX])
{
	FiExportClock c;

	if (!fi_export_parse_clock(s, n, &c))
		return false;
	if (c.has_date && c.has_time)
		*len = fi_export_datetime(c.year, c.month, c.day, c.hour, c.minute, c.second, c.usec, out);
	else if (c.has_date)
		*len = fi_export_date(c.year, c.month, c.day, out);
	else
		*len = fi_export_time(c.hour, c.minute, c.second, c.usec, out);
	return true;
}

bool
fi_export_formula_like(const char *s)
{
	return s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
}

size_t
fi_export_quoted(const char *s, size_t n, bool escape_formula, char *out)
{
	size_t		len = 0;

	out[len++] = '"';
	if (escape_formula && n > 0 && fi_export_formula_like(s))
		out[len++] = '\'';
	for (size_t i = 0; i < n; i++)
	{
		if (s[i] == '"')
			out[len++] = '"';
		out[len++] = s[i];
	}
	out[len++] = '"';
	return len;
}

void
fi_export_import_titles(const FiExportTitle *cols, int n, bool by_fieldname, FiAlloc alloc, void *arg,
						const char **titles)
{
	for (int i = 0; i < n; i++)
	{
		const FiExportTitle *c = &cols[i];
		const char *label = c->is_id ? "ID" : c->label && *c->label ? c->label : c->fieldname;
		const char *title = c->table_label ? fi_alloc_concat(alloc, arg, label, " (", c->table_label, ")") : label;
		bool		taken = by_fieldname;

		for (int j = 0; j < i && !taken; j++)
			taken = strcmp(titles[j], title) == 0;
		if (taken)
			title = c->table_label ? fi_alloc_concat(alloc, arg, c->table_fieldname, ".", c->fieldname, "") : c->fieldname;
		titles[i] = title;
	}
}

void
fi_export_report_titles(const FiExportTitle *cols, int n, FiAlloc alloc, void *arg, const char **titles)
{
	titles[0] = "Sr";
	for (int i = 0; i < n; i++)
	{
		const FiExportTitle *c = &cols[i];
		const char *label = c->is_id ? (c->table_label ? "name" : "ID") : c->label ? c->label : c->fieldname;

		titles[i + 1] = c->table_label ? fi_alloc_concat(alloc, arg, label, " (", c->table_doctype, ")") : label;
	}
	titles[n + 1] = "owner";
}

const char **
fi_export_plan_titles(const FiExportPlan *plan, bool report, bool by_fieldname, FiAlloc alloc, void *arg,
					  int *nout)
{
	int			n = 0;
	FiExportTitle *cols;
	const char **titles;

	for (int t = 0; t < plan->ntables; t++)
		n += plan->tables[t].ncols;
	cols = alloc(arg, sizeof(FiExportTitle) * (n + 1));
	titles = alloc(arg, sizeof(char *) * (n + 2));
	n = 0;
	for (int t = 0; t < plan->ntables; t++)
	{
		const FiExportTable *tb = &plan->tables[t];

		for (int i = fi_export_first_col(report, tb->show_id); i < tb->ncols; i++)
		{
			FiExportTitle *c = &cols[n++];

			c->fieldname = i == 0 ? "name" : tb->cols[i]->fieldname;
			c->label = i == 0 ? NULL : tb->cols[i]->label;
			c->is_id = i == 0;
			if (tb->tdf)
			{
				c->table_label = tb->tdf->label ? tb->tdf->label : tb->tdf->fieldname;
				c->table_fieldname = tb->tdf->fieldname;
				c->table_doctype = tb->meta->name;
			}
		}
	}
	if (report)
	{
		fi_export_report_titles(cols, n, alloc, arg, titles);
		n += 2;
	}
	else
		fi_export_import_titles(cols, n, by_fieldname, alloc, arg, titles);
	*nout = n;
	return titles;
}
