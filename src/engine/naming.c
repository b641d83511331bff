/*
 * naming.c
 *		Frappe's naming decisions (see naming.h).
 */
#include "engine/naming.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

FiAutoname
fi_autoname_kind(const char *autoname, const char **arg)
{
	const char *a = autoname ? autoname : "";

	*arg = a;
	if (strcasecmp(a, "autoincrement") == 0)
		return FI_AUTONAME_AUTOINCREMENT;
	if (strncasecmp(a, "field:", 6) == 0)
	{
		*arg = a + 6;
		return FI_AUTONAME_FIELD;
	}
	if (strncasecmp(a, "naming_series:", 14) == 0)
		return FI_AUTONAME_NAMING_SERIES;
	if (strncasecmp(a, "prompt", 6) == 0)
		return FI_AUTONAME_PROMPT;
	if (strncasecmp(a, "format:", 7) == 0)
	{
		*arg = a + 7;
		return FI_AUTONAME_FORMAT;
	}
	/* a series without '.' is not valid in Frappe either, but is read as one */
	if (strchr(a, '#') != NULL)
		return FI_AUTONAME_SERIES;
	return FI_AUTONAME_HASH;
}

static void
put(FiNamePlan *p, const char *s, size_t n, const FiNameHooks *hooks)
{
	if (p->len + n + 1 > p->cap)
	{
		size_t		cap = p->cap ? p->cap : 64;
		char	   *t;

		while (cap < p->len + n + 1)
			cap *= 2;
		t = hooks->alloc(hooks->arg, cap);
		if (p->len)
			memcpy(t, p->text, p->len);
		p->text = t;
		p->cap = cap;
	}
	memcpy(p->text + p->len, s, n);
	p->len += n;
	p->text[p->len] = '\0';
}

static void
puts_(FiNamePlan *p, const char *s, const FiNameHooks *hooks)
{
	put(p, s, strlen(s), hooks);
}

/* days since 1970-01-01 of a proleptic Gregorian date */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era,
				yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
iso_weeks_in_year(int y)
{
	/* a year has 53 weeks when it starts on a Thursday, or is a leap year starting on a Wednesday */
	int64_t		jan1 = days_from_civil(y, 1, 1);
	int			wd = (int) (((jan1 % 7) + 7 + 3) % 7);	/* Monday 0 */
	bool		leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return wd == 3 || (leap && wd == 2) ? 53 : 52;
}

int
fi_name_week(int year, int month, int day)
{
	int64_t		days = days_from_civil(year, month, day);
	int			wday = (int) (((days % 7) + 7 + 3) % 7) + 1;	/* Monday 1 .. Sunday 7 */
	int			doy = (int) (days - days_from_civil(year, 1, 1)) + 1;
	int			w = (doy - wday + 10) / 7;

	if (w < 1)
		w = iso_weeks_in_year(year - 1);
	else if (w > iso_weeks_in_year(year))
		w = 1;
	if (month == 1 && w >= 52)
		w = 0;
	else if (month == 12 && w <= 1)
		w = 53;
	return w;
}

/* one part of a series appended to the plan */
static void
series_part(FiNamePlan *p, const char *e, const FiDateTime *now, const FiNameHooks *hooks)
{
	char		num[64];
	bool		present;

	if (*e == '\0')
		return;
	if (e[0] == '#')
	{
		if (p->key == NULL)
		{
			p->key = fi_alloc_strndup(hooks->alloc, hooks->arg, p->text ? p->text : "", p->len);
			p->digits = (int) strlen(e);
			p->at = p->len;
		}
		return;					/* a second counter adds nothing */
	}
	if (strcmp(e, "YY") == 0)
		snprintf(num, sizeof(num), "%02d", now->year % 100);
	else if (strcmp(e, "MM") == 0)
		snprintf(num, sizeof(num), "%02d", now->month);
	else if (strcmp(e, "DD") == 0)
		snprintf(num, sizeof(num), "%02d", now->day);
	else if (strcmp(e, "YYYY") == 0)
		snprintf(num, sizeof(num), "%04d", now->year);
	else if (strcmp(e, "WW") == 0)
		snprintf(num, sizeof(num), "%02d", fi_name_week(now->year, now->month, now->day));
	else if (strcmp(e, "timestamp") == 0)
	{
		snprintf(num, sizeof(num), "%04d-%02d-%02d %02d:%02d:%02d", now->year, now->month,
				 now->day, now->hour, now->minute, now->second);
		if (now->usec != 0)
			snprintf(num + strlen(num), sizeof(num) - strlen(num), ".%06d", now->usec);
	}
	else if (e[0] == '{')
	{
		/* e.replace("{", "").replace("}", "") */
		char	   *name = fi_alloc_strndup(hooks->alloc, hooks->arg, e, strlen(e));
		char	   *w = name;

		for (char *r = name; *r; r++)
			if (*r != '{' && *r != '}')
				*w++ = *r;
		*w = '\0';
		puts_(p, hooks->value(hooks->arg, name, &present), hooks);
		return;
	}
	else
	{
		const char *v = hooks->value(hooks->arg, e, &present);

		puts_(p, present ? v : e, hooks);
		return;
	}
	puts_(p, num, hooks);
}

void
fi_name_plan_series(FiNamePlan *p, const char *series, const FiDateTime *now, const FiNameHooks *hooks)
{
	const char *part = series;

	if (p->text == NULL)
		put(p, "", 0, hooks);
	for (;;)
	{
		const char *dot = strchr(part, '.');
		size_t		n = dot ? (size_t) (dot - part) : strlen(part);

		series_part(p, fi_alloc_strndup(hooks->alloc, hooks->arg, part, n), now, hooks);
		if (!dot)
			break;
		part = dot + 1;
	}
}

void
fi_name_plan_format(FiNamePlan *p, const char *pattern, const FiDateTime *now, const FiNameHooks *hooks)
{
	const char *s = pattern;

	if (p->text == NULL)
		put(p, "", 0, hooks);
	while (*s)
	{
		const char *close;

		if (*s == '{' && (close = strchr(s + 1, '}')) != NULL && close > s + 1)
		{
			/* BRACED_PARAMS_PATTERN: \{[\w | #]+\} */
			bool		param = true;

			for (const char *c = s + 1; c < close; c++)
				if (!(isalnum((unsigned char) *c) || *c == '_' || *c == ' ' || *c == '|' ||
					  *c == '#' || (unsigned char) *c >= 0x80))
					param = false;
			if (param)
			{
				series_part(p, fi_alloc_strndup(hooks->alloc, hooks->arg, s + 1, close - s - 1), now, hooks);
				s = close + 1;
				continue;
			}
		}
		put(p, s++, 1, hooks);
	}
}

char *
fi_name_compose(const FiNamePlan *p, int64_t number, const FiNameHooks *hooks)
{
	char		num[32];
	int			nl = snprintf(num, sizeof(num), "%0*lld", p->digits, (long long) number);
	size_t		total = p->len + (size_t) nl;
	char	   *out;

	if (p->digits > 20)
	{
		/* (a pad wider than the buffer: Python's zfill pads on) */
		char	   *pad;

		nl = snprintf(num, sizeof(num), "%lld", (long long) number);
		total = p->len + (size_t) p->digits + 1;
		out = hooks->alloc(hooks->arg, total + 1);
		memcpy(out, p->text, p->at);
		pad = out + p->at;
		memset(pad, '0', p->digits > nl ? p->digits - nl : 0);
		pad += p->digits > nl ? p->digits - nl : 0;
		memcpy(pad, num, nl);
		pad += nl;
		memcpy(pad, p->text + p->at, p->len - p->at);
		pad[p->len - p->at] = '\0';
		return out;
	}
	out = hooks->alloc(hooks->arg, total + 1);
	memcpy(out, p->text, p->at);
	memcpy(out + p->at, num, nl);
	memcpy(out + p->at + nl, p->text + p->at, p->len - p->at);
	out[total] = '\0';
	return out;
}

/* the number of characters of UTF-8 text */
static size_t
utf8_chars(const char *s)
{
	size_t		n = 0;

	for (; *s; s++)
		if (((unsigned char) *s & 0xC0) != 0x80)
			n++;
	return n;
}

const char *
fi_name_problem(const char *name, const char *doctype, bool limit140, const FiNameHooks *hooks)
{
	if (strchr(name, '<') || strchr(name, '>'))
		return "Name cannot contain special characters like < or >";
	if (strcmp(name, doctype) == 0)
		return fi_alloc_concat(hooks->alloc, hooks->arg, "Name of ", doctype, " cannot be ", name);
	if (strncmp(name, "New ", 4) == 0 && strncmp(name + 4, doctype, strlen(doctype)) == 0)
		return "There were some errors setting the name, please contact the administrator";
	if (limit140 && utf8_chars(name) > 140)
		return "Name is longer than 140 characters";
	return NULL;
}
