/*
 * importcell.c
 *		Data Import's cell-to-value rules (see importcell.h).
 */
#include "engine/importcell.h"
#include "engine/csv.h"
#include "engine/doctype.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

FiCellKind
fi_cell_kind(const char *fieldtype)
{
	if (strcmp(fieldtype, "Int") == 0 || strcmp(fieldtype, "Long Int") == 0)
		return FI_CELL_INT;
	if (strcmp(fieldtype, "Check") == 0)
		return FI_CELL_CHECK;
	if (strcmp(fieldtype, "Float") == 0 || strcmp(fieldtype, "Currency") == 0 ||
		strcmp(fieldtype, "Percent") == 0 || strcmp(fieldtype, "Rating") == 0)
		return FI_CELL_NUMBER;
	if (strcmp(fieldtype, "Duration") == 0)
		return FI_CELL_DURATION;
	if (strcmp(fieldtype, "Date") == 0)
		return FI_CELL_DATE;
	if (strcmp(fieldtype, "Datetime") == 0)
		return FI_CELL_DATETIME;
	if (strcmp(fieldtype, "Time") == 0)
		return FI_CELL_TIME;
	return FI_CELL_TEXT;
}

/* a message in the arena */
static const char *
msg(FiAlloc alloc, void *arg, const char *fmt, const char *a, const char *b)
{
	int			len = snprintf(NULL, 0, fmt, a, b);
	char	   *m = alloc(arg, (size_t) len + 1);

	snprintf(m, (size_t) len + 1, fmt, a, b);
	return m;
}

/* does a plain decimal text have at most digits digits before its point? */
static bool
decimal_fits(const char *s, int digits)
{
	int			n = 0;

	if (digits < 0 || strchr(s, 'e') != NULL || strchr(s, 'E') != NULL)
		return true;			/* unbounded, or left to the column's own input */
	if (*s == '-')
		s++;
	while (*s == '0')
		s++;
	while (*s >= '0' && *s <= '9')
		s++, n++;
	return n <= digits;
}

/* characters of UTF-8 text */
static size_t
utf8_chars(const char *s, size_t n)
{
	size_t		c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char) s[i] & 0xC0) != 0x80;
	return c;
}

const char *
fi_cell_value(const FiCellField *f, const char *s, size_t n, FiCell *out, FiAlloc alloc, void *arg)
{
	char		num[32];
	char		fmtbuf[64];

	memset(out, 0, sizeof(*out));
	switch (f->kind)
	{
		case FI_CELL_INT:
		case FI_CELL_CHECK:
			if (!(f->kind == FI_CELL_CHECK ? fi_parse_check(s, n, &out->i) : fi_parse_int(s, n, &out->i)))
				return msg(alloc, arg, "%s must be %s", f->label,
						   f->kind == FI_CELL_CHECK ? "Yes, No, 1 or 0" : "a whole number");
			if (f->kind == FI_CELL_CHECK && out->i != 0)
				out->i = 1;		/* Frappe stores any other number as 1 */
			if (f->int_max > 0 && (out->i > f->int_max || out->i < -f->int_max - 1))
			{
				snprintf(num, sizeof(num), "%lld", (long long) f->int_max);
				return msg(alloc, arg, "%s is out of range (at most %s)", f->label, num);
			}
			return NULL;
		case FI_CELL_DURATION:
			if (!fi_parse_duration(s, n, &out->i))
				return msg(alloc, arg, "%s must be a duration like \"1d 2h 3m 4s\"", f->label, NULL);
			/* the seconds' text is longer than the cell's ("1d": 86400) */
			snprintf(num, sizeof(num), "%lld", (long long) out->i);
			out->number = fi_alloc_strndup(alloc, arg, num, strlen(num));
			if (!decimal_fits(out->number, f->int_digits))
				return msg(alloc, arg, "%s is too large for its column", f->label, NULL);
			return NULL;
		case FI_CELL_NUMBER:
			{
				char	   *norm = alloc(arg, n + 2);

				if (!fi_parse_number(s, n, norm))
					return msg(alloc, arg, "%s must be a number", f->label, NULL);
				out->number = norm;
				if (!decimal_fits(norm, f->int_digits))
					return msg(alloc, arg, "%s is too large for its column", f->label, NULL);
				return NULL;
			}
		case FI_CELL_DATE:
		case FI_CELL_DATETIME:
			{
				FiDateFormat fmt = {3, -1}; /* %Y-%m-%d when nothing was guessed */
				char	   *cell;

				if (f->has_datefmt)
					fmt = f->datefmt;
				if (fi_strptime(s, n, fmt, &out->dt))
					return NULL;
				cell = fi_alloc_strndup(alloc, arg, s, n);
				return msg(alloc, arg, "Value %s must be in %s format", cell, fi_date_format_text(fmt, fmtbuf));
			}
		case FI_CELL_TIME:
			if (!fi_parse_time(s, n, &out->dt))
				return msg(alloc, arg, "%s must be a time like 13:45:00", f->label, NULL);
			return NULL;
		case FI_CELL_TEXT:
			if (f->options != NULL && f->noptions > 0)
			{
				bool		found = false;
				size_t		len = 0;
				char	   *list;

				for (int i = 0; i < f->noptions && !found; i++)
					found = f->options[i][0] != '\0' && strlen(f->options[i]) == n &&
						memcmp(f->options[i], s, n) == 0;
				if (found)
					break;
				for (int i = 0; i < f->noptions; i++)
					len += strlen(f->options[i]) + 2;
				list = alloc(arg, len + 1);
				len = 0;
				for (int i = 0; i < f->noptions; i++)
				{
					size_t		ol = strlen(f->options[i]);

					if (ol == 0)
						continue;
					if (len > 0)
					{
						memcpy(list + len, ", ", 2);
						len += 2;
					}
					memcpy(list + len, f->options[i], ol);
					len += ol;
				}
				list[len] = '\0';
				return msg(alloc, arg, "%s must be one of %s", f->label, list);
			}
			break;
	}
	if (f->kind == FI_CELL_TEXT && f->maxchars >= 0 && n > (size_t) f->maxchars &&
		utf8_chars(s, n) > (size_t) f->maxchars)
	{
		snprintf(num, sizeof(num), "%d", f->maxchars);
		return msg(alloc, arg, "%s will get truncated, as max characters allowed is %s", f->label, num);
	}
	return NULL;
}

int
fi_select_options(const char *options, FiAlloc alloc, void *arg, const char ***out)
{
	int			n = 1,
				i = 0;
	const char *p;

	*out = NULL;
	if (options == NULL)
		return 0;
	for (p = options; *p; p++)
		n += *p == '\n';
	*out = alloc(arg, sizeof(char *) * n);
	for (p = options;; i++)
	{
		size_t		len = strcspn(p, "\n");

		(*out)[i] = fi_alloc_strndup(alloc, arg, p, len);
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	return n;
}

FiDefaultKind
fi_default_kind(const FiCellField *f, const char *d, const char *options, bool is_title_field, bool child,
				const char **value, FiCell *cell, FiAlloc alloc, void *arg)
{
	*value = NULL;
	if (d != NULL && *d != '\0')
	{
		if (strcmp(d, "__user") == 0)
			return FI_DEFAULT_USER;
		if (strcmp(d, "Today") == 0 || strcmp(d, "__today") == 0)
			return FI_DEFAULT_TODAY;
		if (strcasecmp(d, "now") == 0)
			return f->kind == FI_CELL_DATETIME || f->kind == FI_CELL_TIME ? FI_DEFAULT_NOW : FI_DEFAULT_NONE;
		/* what only a session knows: a user default (":Company"), the login, the full name */
		if (d[0] == ':' || strcmp(d, "_Login") == 0 || strcmp(d, "_Full Name") == 0)
			return FI_DEFAULT_NONE;
		if (strchr(d, '{') != NULL && !child && is_title_field)
			return FI_DEFAULT_TITLE;
	}
	else if (f->options != NULL && f->noptions > 0 && f->options[0][0] != '\0' &&
			 !(options != NULL && strcmp(options, "[Select]") == 0))
		d = f->options[0];		/* a Select without a default takes its first option */
	else
		return FI_DEFAULT_NONE;
	if (fi_cell_value(f, d, strlen(d), cell, alloc, arg) != NULL)
		return FI_DEFAULT_NONE;
	*value = d;
	return FI_DEFAULT_VALUE;
}

/* ---- a document's checks ---- */

static char *amsg(FiAlloc alloc, void *arg, const char *fmt,...) __attribute__((format(printf, 3, 4)));

static char *
amsg(FiAlloc alloc, void *arg, const char *fmt,...)
{
	va_list		ap;
	int			len;
	char	   *m;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	m = alloc(arg, (size_t) len + 1);
	va_start(ap, fmt);
	vsnprintf(m, (size_t) len + 1, fmt, ap);
	va_end(ap);
	return m;
}

char *
fi_import_title(const char *pattern, const char *(*value) (void *varg, const char *fieldname), void *varg,
				FiAlloc alloc, void *arg)
{
	size_t		cap = strlen(pattern) + 1,
				len = 0;
	char	   *out = alloc(arg, cap);
	const char *p = pattern;

	while (*p)
	{
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		const char *piece = p;
		size_t		n = 1;

		if (close != NULL)
		{
			char	   *name = fi_alloc_strndup(alloc, arg, p + 1, close - p - 1);

			piece = value(varg, name);
			n = piece ? strlen(piece) : 0;
			p = close + 1;
		}
		else
			p++;
		if (len + n + 1 > cap)
		{
			char	   *grown = alloc(arg, (cap = (len + n + 1) * 2));

			memcpy(grown, out, len);
			out = grown;
		}
		if (n > 0)
			memcpy(out + len, piece, n);
		len += n;
	}
	out[len] = '\0';
	return out;
}

bool
fi_cell_empty_is_missing(FiCellKind kind)
{
	return kind == FI_CELL_TEXT || kind == FI_CELL_DATE || kind == FI_CELL_DATETIME || kind == FI_CELL_TIME;
}

char *
fi_import_msg_missing(bool child, const char *doctype, int idx, const char *label, FiAlloc alloc, void *arg)
{
	if (child)
		return amsg(alloc, arg, "Error: <strong>%s</strong> Row #%d: Value missing for: %s", doctype, idx, label);
	return amsg(alloc, arg, "Error: Value missing for %s: %s", doctype, label);
}

char *
fi_import_msg_table_missing(const char *label, FiAlloc alloc, void *arg)
{
	return amsg(alloc, arg, "Error: Data missing in table: %s", label);
}

char *
fi_import_msg_link_missing(const char *value, const char *link_doctype, FiAlloc alloc, void *arg)
{
	return amsg(alloc, arg, "Value %s missing for %s", value, link_doctype);
}

char *
fi_import_msg_not_unique(const char *label, const char *value, const char *doctype, bool earlier_row,
						 FiAlloc alloc, void *arg)
{
	if (earlier_row)
		return amsg(alloc, arg, "%s %s is not unique: it is on an earlier row", label, value);
	return amsg(alloc, arg, "%s %s already exists in %s", label, value, doctype);
}

char *
fi_import_msg_after_submit(const char *label, FiAlloc alloc, void *arg)
{
	return amsg(alloc, arg, "Not allowed to change %s after submission", label);
}

/* ---- a table's fields as the import writes them ---- */

void
fi_import_field_rules(const FiDocMeta *meta, bool child, const FiDocField *df, const FiImpColumnInfo *col,
					  FiImpFieldRules *out, FiAlloc alloc, void *arg)
{
	memset(out, 0, sizeof(*out));
	out->cell.label = df->label ? df->label : df->fieldname;
	out->cell.kind = fi_cell_kind(df->fieldtype);
	out->cell.maxchars = col->maxchars;
	out->cell.int_max = col->int_max;
	out->cell.int_digits = col->int_digits;
	out->cell.has_datefmt = false;
	out->reqd = df->reqd;
	out->unique = df->unique;
	out->is_link = strcmp(df->fieldtype, "Link") == 0 && df->options != NULL && *df->options != '\0';
	out->link_doctype = df->options;
	out->is_select = strcmp(df->fieldtype, "Select") == 0;
	if (out->is_select && df->options != NULL)
		out->cell.noptions = fi_select_options(df->options, alloc, arg, (const char ***) &out->cell.options);
	out->defkind = fi_default_kind(&out->cell, df->default_value, df->options,
								   meta->title_field != NULL && strcmp(meta->title_field, df->fieldname) == 0,
								   child, &out->default_text, &out->default_cell, alloc, arg);
}

bool
fi_import_unmapped_written(const FiImpFieldRules *r)
{
	return r->defkind != FI_DEFAULT_NONE || r->reqd || r->cell.kind == FI_CELL_TIME;
}

bool
fi_import_fetch_from(const FiDocField *df, size_t *link_len, const char **src)
{
	const char *ff = df->fetch_from;
	const char *dot;

	if (ff == NULL || (dot = strchr(ff, '.')) == NULL || dot == ff || dot[1] == '\0' || strchr(dot + 1, '.') != NULL)
		return false;
	*link_len = (size_t) (dot - ff);
	*src = dot + 1;
	return true;
}

bool
fi_import_date_format_pick(const long *counts, FiDateFormat *out, int *kinds)
{
	int			nfmt = FI_NDATE_FORMATS * (FI_NTIME_FORMATS + 1);
	int			best = -1;

	*kinds = 0;
	for (int k = 0; k < nfmt; k++)
	{
		if (counts[k] > 0)
			(*kinds)++;
		if (counts[k] > 0 && (best < 0 || counts[k] > counts[best]))
			best = k;
	}
	if (best < 0)
		return false;
	out->date = best / (FI_NTIME_FORMATS + 1);
	out->time = best % (FI_NTIME_FORMATS + 1) - 1;
	return true;
}

static bool
is_link_field(const FiDocField *df)
{
	return strcmp(df->fieldtype, "Link") == 0 && df->options != NULL && *df->options != '\0';
}

int
fi_import_fetch_link(const FiDocField *df, const FiDocField *const *fields, int n, const char **src)
{
	size_t		len;
	const char *from;

	if (!fi_import_fetch_from(df, &len, &from))
		return -1;
	for (int i = 0; i < n; i++)
		if (is_link_field(fields[i]) && strlen(fields[i]->fieldname) == len &&
			strncmp(fields[i]->fieldname, df->fetch_from, len) == 0)
		{
			*src = from;
			return i;
		}
	return -1;
}

int
fi_import_fetched_fields(const FiDocMeta *meta, const FiDocField *const *fields, int n,
						 bool (*has_column) (void *arg, const FiDocField *df), void *arg, const FiDocField **out)
{
	int			nout = 0;

	for (int i = 0; i < meta->nfields; i++)
	{
		const FiDocField *df = &meta->fields[i];
		const char *src;
		bool		present = false;

		if (!fi_fieldtype_has_column(df->fieldtype) || df->is_virtual)
			continue;
		for (int j = 0; j < n && !present; j++)
			present = fields[j] == df;
		for (int j = 0; j < nout && !present; j++)
			present = out[j] == df;
		if (present)
			continue;
		/* through a Link of the table: one the file maps or writes, or one fetched before */
		if (fi_import_fetch_link(df, fields, n, &src) < 0 && fi_import_fetch_link(df, out, nout, &src) < 0)
			continue;
		if (!has_column(arg, df))
			continue;
		out[nout++] = df;
	}
	return nout;
}

int
fi_import_mandatory(const FiDocMeta *meta, const FiDocField ***out, FiAlloc alloc, void *arg)
{
	int			n = 0;

	*out = alloc(arg, sizeof(FiDocField *) * (meta->nfields + 1));
	for (int k = 0; k < meta->nfields; k++)
		if (meta->fields[k].reqd)
			(*out)[n++] = &meta->fields[k];
	return n;
}

bool
fi_import_docstatus(const char *cell, bool submittable, int *out, const char **why)
{
	if (strcmp(cell, "0") == 0 || (strcmp(cell, "1") == 0 && submittable))
	{
		*out = cell[0] - '0';
		*why = NULL;
		return true;
	}
	*why = submittable ? "Document Status must be 0 (Draft) or 1 (Submitted)" : "Document Status must be 0 (Draft)";
	return false;
}

/* ---- a sheet's date-format guesses ---- */

/* the row's guesses counted, unless it is the header */
bool
fi_sheet_guess_end(FiSheetGuess *g)
{
	if (g->header_row == 0)
	{
		if (g->cur_nonempty)
			g->header_row = g->cur_row;
	}
	else
		for (int i = 0; i < g->ncur; i++)
		{
			int			col = g->cur_col[i];

			if (g->counts[col] == NULL &&
				(g->counts[col] = calloc(FI_NDATE_FORMATS * (FI_NTIME_FORMATS + 1), sizeof(long))) == NULL)
				return false;
			g->counts[col][g->cur_fmt[i]]++;
		}
	g->ncur = 0;
	g->cur_nonempty = false;
	return true;
}

bool
fi_sheet_guess_cell(FiSheetGuess *g, long row, int col, const char *text, size_t len)
{
	size_t		b,
				l;
	FiDateFormat f;

	if (col < 1)
		return true;			/* (a reader gives none) */
	if (row != g->cur_row)
	{
		if (!fi_sheet_guess_end(g))
			return false;
		g->cur_row = row;
	}
	if (text == NULL)
	{
		g->cur_nonempty |= len > 0;
		return true;
	}
	l = fi_py_strip(text, len, &b);
	if (l == 0)
		return true;
	g->cur_nonempty = true;
	if (!fi_guess_date_format(text + b, l, &f))
		return true;
	if (col > g->ncols)
	{
		int			cols = col > g->ncols * 2 ? col : g->ncols * 2;
		long	  **grown = calloc(cols, sizeof(long *));

		if (grown == NULL)
			return false;
		if (g->ncols > 0)
			memcpy(grown, g->counts, sizeof(long *) * g->ncols);
		free(g->counts);
		g->counts = grown;
		g->ncols = cols;
	}
	if (g->ncur == g->cap)
	{
		int			cap = g->cap * 2 > 64 ? g->cap * 2 : 64;
		int		   *ncol = realloc(g->cur_col, sizeof(int) * cap);

		if (ncol == NULL)
			return false;
		g->cur_col = ncol;
		ncol = realloc(g->cur_fmt, sizeof(int) * cap);
		if (ncol == NULL)
			return false;
		g->cur_fmt = ncol;
		g->cap = cap;
	}
	g->cur_col[g->ncur] = col - 1;
	g->cur_fmt[g->ncur] = f.date * (FI_NTIME_FORMATS + 1) + (f.time + 1);
	g->ncur++;
	return true;
}

const long *
fi_sheet_guess_counts(const FiSheetGuess *g, int col)
{
	return col >= 0 && col < g->ncols ? g->counts[col] : NULL;
}

void
fi_sheet_guess_free(FiSheetGuess *g)
{
	for (int i = 0; i < g->ncols; i++)
		free(g->counts[i]);
	free(g->counts);
	free(g->cur_col);
	free(g->cur_fmt);
	memset(g, 0, sizeof(*g));
}
