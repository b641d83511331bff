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
