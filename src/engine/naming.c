/*
 * naming.c
 *		Frappe's naming decisions (see naming.h).
 */
#include "engine/naming.h"
#include "engine/csv.h"		/* fi_py_strip */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- a batch of imported documents named ---- */

/* the per-document hooks fi_name_plan_* take: the batch's, with the document */
typedef struct BatchDoc
{
	const FiNameBatchHooks *h;
	void	   *doc;
} BatchDoc;

static const char *
batch_value(void *arg, const char *fieldname, bool *present)
{
	BatchDoc   *b = arg;

	return b->h->value(b->h->arg, b->doc, fieldname, present);
}

static void *
batch_alloc(void *arg, size_t size)
{
	BatchDoc   *b = arg;

	return b->h->alloc(b->h->arg, size);
}

static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* the first rule whose conditions the document meets (a field without a value is None), or -1 */
static int
rule_for(const FiNameRule *rules, int nrules, const FiNameBatchHooks *h, void *doc)
{
	for (int r = 0; r < nrules; r++)
	{
		bool		ok = true;

		for (int c = 0; c < rules[r].nconds && ok; c++)
		{
			bool		present;
			const char *v = h->value(h->arg, doc, rules[r].fields[c], &present);

			ok = fi_frappe_compare(v && *v ? v : NULL, rules[r].ops[c], rules[r].values[c], rules[r].kinds[c]) == 1;
		}
		if (ok)
			return r;
	}
	return -1;
}

/* a document's name and place, sorted to find a name given twice */
typedef struct NamedAt
{
	const char *name;
	int			i;
} NamedAt;

static int
cmp_named(const void *a, const void *b)
{
	const NamedAt *x = a,
			   *y = b;
	int			c = strcmp(x->name, y->name);

	return c != 0 ? c : (x->i > y->i) - (x->i < y->i);
}

static void
doc_fails(FiNameDoc *d, const char *why, const char *value)
{
	d->name = NULL;
	d->error = why;
	d->error_value = value;
}

void
fi_name_batch(const char *doctype, const char *autoname, FiNameDoc *docs, int n, const FiNameRule *rules,
			  int nrules, const FiDateTime *now, bool limit140, const FiNameBatchHooks *h)
{
	const char *arg;
	FiAutoname	kind = fi_autoname_kind(autoname, &arg);
	FiNamePlan *plans = h->alloc(h->arg, sizeof(FiNamePlan) * (n + 1));
	char	  **keys = h->alloc(h->arg, sizeof(char *) * (n + 1));
	int64_t    *counts = h->alloc(h->arg, sizeof(int64_t) * (n + 1));
	int64_t    *next = h->alloc(h->arg, sizeof(int64_t) * (n + 1));
	int		   *rule_of = h->alloc(h->arg, sizeof(int) * (n + 1));
	int64_t    *rule_counts = h->alloc(h->arg, sizeof(int64_t) * (nrules + 1));
	int			nkeys = 0;
	BatchDoc	bd = {h, NULL};
	FiNameHooks nh = {&bd, batch_alloc, batch_value};

	for (int i = 0; i < n; i++)
	{
		FiNameDoc  *d = &docs[i];
		FiNamePlan *p = &plans[i];

		rule_of[i] = -1;
		d->name = NULL;
		d->error = d->error_value = NULL;
		d->given = false;
		if (d->skip)
			continue;
		bd.doc = d->doc;
		if (d->supplied)
		{
			d->name = fi_alloc_strndup(h->alloc, h->arg, d->supplied, strlen(d->supplied));
			d->given = true;
			continue;
		}
		/* a Document Naming Rule first: its prefix (a series) and its own counter */
		if (nrules > 0 && (rule_of[i] = rule_for(rules, nrules, h, d->doc)) >= 0)
		{
			fi_name_plan_series(p, rules[rule_of[i]].prefix, now, &nh);
			p->key = NULL;		/* (a '#' in the prefix counts nothing here) */
			rule_counts[rule_of[i]]++;
			d->given = true;	/* (checked as taken or not, like a name from the file) */
			continue;
		}
		switch (kind)
		{
			case FI_AUTONAME_FIELD:
				{
					bool		present;
					const char *v = h->value(h->arg, d->doc, arg, &present);
					size_t		b,
								l = v ? fi_py_strip(v, strlen(v), &b) : 0;

					if (l == 0)
					{
						const char *label = h->label ? h->label(h->arg, arg) : NULL;

						doc_fails(d, fi_alloc_concat(h->alloc, h->arg, label ? label : arg, " is required", "", ""), NULL);
						continue;
					}
					d->name = fi_alloc_strndup(h->alloc, h->arg, v + b, l);
					d->given = true;
					continue;
				}
			case FI_AUTONAME_NAMING_SERIES:
				{
					bool		present;
					const char *series = h->value(h->arg, d->doc, "naming_series", &present);

					if (series == NULL || *series == '\0')
					{
						doc_fails(d, "Naming Series mandatory", NULL);
						continue;
					}
					fi_name_plan_series(p, fi_alloc_concat(h->alloc, h->arg, series, ".#####", "", ""), now, &nh);
					break;
				}
			case FI_AUTONAME_PROMPT:
				doc_fails(d, fi_alloc_concat(h->alloc, h->arg, "Please set the document name: ", doctype,
											 " is named by the user (an ID column)", ""), NULL);
				continue;
			case FI_AUTONAME_FORMAT:
				fi_name_plan_format(p, arg, now, &nh);
				break;
			case FI_AUTONAME_SERIES:
				fi_name_plan_series(p, arg, now, &nh);
				break;
			case FI_AUTONAME_HASH:
			case FI_AUTONAME_AUTOINCREMENT:
				d->name = h->hash_name(h->arg);
				continue;
		}
		if (p->key != NULL)
		{
			int			k;

			for (k = 0; k < nkeys; k++)
				if (strcmp(keys[k], p->key) == 0)
					break;
			if (k == nkeys)
				keys[nkeys++] = p->key;
		}
		else
			d->name = p->text;
	}

	/* counters: a block per key, keys in order */
	qsort(keys, nkeys, sizeof(char *), cmp_keys);
	for (int i = 0; i < n; i++)
		if (!docs[i].skip && docs[i].error == NULL && plans[i].key != NULL)
			for (int k = 0; k < nkeys; k++)
				if (strcmp(keys[k], plans[i].key) == 0)
					counts[k]++;
	for (int k = 0; k < nkeys; k++)
		next[k] = h->take_series(h->arg, keys[k], counts[k]) - counts[k] + 1;
	for (int i = 0; i < n; i++)
	{
		int64_t		number = 0;

		if (docs[i].skip || docs[i].error || plans[i].key == NULL)
			continue;
		bd.doc = docs[i].doc;
		for (int k = 0; k < nkeys; k++)
			if (strcmp(keys[k], plans[i].key) == 0)
				number = next[k]++;
		docs[i].name = fi_name_compose(&plans[i], number, &nh);
	}

	/* the rules' counters: a block per rule, the number after the prefix */
	for (int r = 0; r < nrules; r++)
	{
		int64_t		number;

		if (rule_counts[r] == 0)
			continue;
		number = h->take_rule(h->arg, &rules[r], rule_counts[r]) - rule_counts[r] + 1;
		for (int i = 0; i < n; i++)
		{
			FiNamePlan	q = plans[i];

			if (docs[i].skip || rule_of[i] != r)
				continue;
			/* (the prefix's text with the counter at its end) */
			q.key = "";
			q.at = q.len;
			q.digits = rules[r].digits;
			docs[i].name = fi_name_compose(&q, number++, &nh);
		}
	}

	/* validate_name, then a name given twice in the batch */
	for (int i = 0; i < n; i++)
	{
		const char *why;

		if (docs[i].skip || docs[i].error)
			continue;
		bd.doc = docs[i].doc;
		if ((why = fi_name_problem(docs[i].name, doctype, limit140, &nh)) != NULL)
			doc_fails(&docs[i], why, docs[i].name);
	}
	/*
	 * a name twice in the batch (given, or given and made by a counter):
	 * the later documents fail, naming the first one's row (sorted by name,
	 * then by place: n log n whatever the batch's size)
	 */
	{
		NamedAt    *by = h->alloc(h->arg, sizeof(NamedAt) * (n + 1));
		int			m = 0;

		for (int i = 0; i < n; i++)
			if (!docs[i].skip && docs[i].error == NULL)
			{
				by[m].name = docs[i].name;
				by[m].i = i;
				m++;
			}
		qsort(by, m, sizeof(NamedAt), cmp_named);
		for (int k = 1; k < m; k++)
		{
			int			first = k - 1;
			char		rowno[32];
			FiNameDoc  *dd = &docs[by[k].i];

			if (strcmp(by[k].name, by[k - 1].name) != 0)
				continue;
			while (first > 0 && strcmp(by[first - 1].name, by[k].name) == 0)
				first--;
			snprintf(rowno, sizeof(rowno), "%ld", docs[by[first].i].row);
			doc_fails(dd, fi_alloc_concat(h->alloc, h->arg, doctype, " ",
										  fi_alloc_concat(h->alloc, h->arg, by[k].name, " already exists (row ",
														  rowno, ")"), ""), by[k].name);
		}
	}
}
