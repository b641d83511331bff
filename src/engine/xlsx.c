/*
 * xlsx.c
 *		The rows of a workbook's active sheet as Frappe reads them (see
 *		xlsx.h): libzip for the package, expat for its XML.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE				/* memmem */
#endif
#include "engine/xlsx.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>
#include <zip.h>

#include "engine/jsoncanon.h"	/* FiJBuf */
#include "engine/pyjson.h"

#define CHUNK		65536

/* a style's number format, as openpyxl indexes them */
#define XF_DATE		1
#define XF_DELTA	2

/* one cell of the row being read */
typedef struct Cell
{
	size_t		off;			/* its text in FiXlsx.cells */
	size_t		len;
} Cell;

/* a cell's t attribute */
typedef enum CType
{
	CT_N,						/* a number (no t) */
	CT_S,						/* a shared string */
	CT_B,
	CT_STR,						/* a formula's string */
	CT_E,						/* an error */
	CT_INLINE,
	CT_D,						/* ISO 8601 */
	CT_OTHER					/* kept as it is, as openpyxl keeps it */
} CType;

typedef enum Pass
{
	PASS_MEASURE,				/* the sheet's width and height */
	PASS_READ					/* its rows */
} Pass;

struct FiXlsx
{
	zip_source_t *src;
	zip_t	   *za;
	FiXlsxLimits lim;
	char	   *sheet;			/* the active worksheet's part */
	char	   *strings_part;
	char	   *styles_part;
	bool		date1904;
	/* styles: XF_* per cell format */
	unsigned char *xf;
	int			nxf;
	/* the shared strings */
	FiJBuf		strbuf;
	size_t	   *str_off;
	size_t	   *str_len;
	size_t		nstr;
	size_t		strcap;
	/* the sheet's extent */
	int			ncols;
	long		nrows;
	/* streaming the sheet */
	Pass		pass;
	zip_file_t *zf;
	size_t		inflated;
	XML_Parser	parser;
	bool		suspended;
	bool		final;
	char		chunk[CHUNK];
	/* element state */
	int			depth;
	int			sheetdata_depth;
	bool		in_row;
	long		row_no;			/* of the <row> being read */
	int			col_counter;
	bool		in_c;
	CType		ctype;
	int			cstyle;
	int			ccol;
	bool		has_v;
	bool		in_v;
	bool		in_is;
	int			is_depth;
	int			rph_depth;		/* inside <rPh> (phonetic runs, left out) */
	bool		in_text;
	FiJBuf		value;
	FiJBuf		cells;
	Cell	   *row_cells;		/* by column (READ): the row's serial that set it */
	long	   *cell_serial;
	long		row_serial;
	int			nrow_cells;
	FiXlsxCellHook hook;		/* the opening pass's view of each cell */
	void	   *hook_arg;
	bool		row_ready;		/* a <row> was read whole: row_cells are its */
	long		ready_no;
	long		next_no;		/* the next row number to give */
	/* the shared-strings parse */
	bool		in_si;
	int			si_depth;
	/* the small parts */
	int			mode;			/* which small part's handlers run */
	char	   *rid_active;
	int			sheet_index;
	int			active_tab;
	char	   *workbook;
	char	   *rel_id;			/* a Relationship sought */
	char	   *rel_target;
	const char *rel_type;		/* ... or by type suffix */
	int			numfmt_id;
	char	   *numfmt_code;
	int			in_cellxfs;
	struct
	{
		int			id;
		char	   *code;
	}		   *fmts;
	int			nfmts;
	/* the error */
	FiXlsxErr	err;
	char		msg[256];
};

/* ---- memory and errors ---- */

static bool
fail(FiXlsx *x, FiXlsxErr e, const char *fmt, const char *arg)
{
	if (x->err == FI_XLSX_OK)
	{
		x->err = e;
		snprintf(x->msg, sizeof(x->msg), fmt, arg ? arg : "");
	}
	if (x->parser)
		XML_StopParser(x->parser, XML_FALSE);
	return false;
}

static bool
buf_put(FiXlsx *x, FiJBuf *b, const char *s, size_t n)
{
	return fi_jbuf_put(b, s, n) || fail(x, FI_XLSX_NOMEM, "out of memory%s", NULL);
}

static char *
xstrdup(FiXlsx *x, const char *s)
{
	char	   *d = strdup(s);

	if (d == NULL)
		fail(x, FI_XLSX_NOMEM, "out of memory%s", NULL);
	return d;
}

/* an element's or attribute's local name (after a namespace prefix) */
static const char *
local(const char *name)
{
	const char *c = strrchr(name, ':');

	return c ? c + 1 : name;
}

static const char *
attr(const char **atts, const char *name)
{
	for (int i = 0; atts[i]; i += 2)
		if (strcmp(local(atts[i]), name) == 0)
			return atts[i + 1];
	return NULL;
}

/* ---- reading parts ---- */

static void XMLCALL
refuse_dtd(void *arg, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid, int has_internal)
{
	(void) name;
	(void) sysid;
	(void) pubid;
	(void) has_internal;
	fail(arg, FI_XLSX_BAD_XML, "a part of the workbook has a DTD (refused: no entity is expanded)%s", NULL);
}

static XML_Parser
new_parser(FiXlsx *x, XML_StartElementHandler start, XML_EndElementHandler end, XML_CharacterDataHandler text)
{
	XML_Parser	p = XML_ParserCreate(NULL);

	if (p == NULL)
	{
		fail(x, FI_XLSX_NOMEM, "out of memory%s", NULL);
		return NULL;
	}
	XML_SetUserData(p, x);
	XML_SetElementHandler(p, start, end);
	XML_SetCharacterDataHandler(p, text);
	XML_SetStartDoctypeDeclHandler(p, refuse_dtd);
	return p;
}

/* a part's ZIP entry, opened; NULL when there is none */
static zip_file_t *
open_part(FiXlsx *x, const char *name)
{
	zip_int64_t idx = zip_name_locate(x->za, name, ZIP_FL_NOCASE);

	if (idx < 0)
		return NULL;
	return zip_fopen_index(x->za, (zip_uint64_t) idx, 0);
}

/* inflate a chunk of a part, within the bound; -1 on error */
static zip_int64_t
read_part(FiXlsx *x, zip_file_t *zf, size_t *inflated, const char *name)
{
	zip_int64_t n = zip_fread(zf, x->chunk, CHUNK);

	if (n < 0)
	{
		fail(x, FI_XLSX_NOT_XLSX, "the part %s of the workbook cannot be inflated (a damaged ZIP)", name);
		return -1;
	}
	*inflated += (size_t) n;
	if (*inflated > x->lim.max_part)
	{
		fail(x, FI_XLSX_TOO_BIG, "the part %s of the workbook inflates beyond the bound (max_part)", name);
		return -1;
	}
	return n;
}

/* parse a whole part with handlers; false on error (x->err) */
static bool
parse_part(FiXlsx *x, const char *name, bool required, XML_StartElementHandler start,
		   XML_EndElementHandler end, XML_CharacterDataHandler text)
{
	zip_file_t *zf = open_part(x, name);
	size_t		inflated = 0;
	bool		ok = true;

	if (zf == NULL)
		return required ? fail(x, FI_XLSX_NOT_XLSX, "the workbook has no part %s", name) : true;
	if ((x->parser = new_parser(x, start, end, text)) == NULL)
	{
		zip_fclose(zf);
		return false;
	}
	for (;;)
	{
		zip_int64_t n = read_part(x, zf, &inflated, name);

		if (n < 0)
		{
			ok = false;
			break;
		}
		if (XML_Parse(x->parser, x->chunk, (int) n, n == 0) != XML_STATUS_OK)
		{
			if (x->err == FI_XLSX_OK)
				fail(x, FI_XLSX_BAD_XML, "the part %s of the workbook is not well-formed XML", name);
			ok = false;
			break;
		}
		if (n == 0)
			break;
	}
	XML_ParserFree(x->parser);
	x->parser = NULL;
	zip_fclose(zf);
	return ok && x->err == FI_XLSX_OK;
}

/* a Target relative to the part base (its folder), as a ZIP name */
static char *
resolve(FiXlsx *x, const char *base, const char *target)
{
	const char *slash = strrchr(base, '/');
	size_t		dir = slash ? (size_t) (slash - base + 1) : 0;
	char	   *out;

	if (target[0] == '/')
		return xstrdup(x, target + 1);
	if ((out = malloc(dir + strlen(target) + 1)) == NULL)
	{
		fail(x, FI_XLSX_NOMEM, "out of memory%s", NULL);
		return NULL;
	}
	memcpy(out, base, dir);
	strcpy(out + dir, target);
	/* "../" steps up a folder */
	for (char *p; (p = strstr(out, "/../")) != NULL;)
	{
		char	   *q = p;

		while (q > out && q[-1] != '/')
			q--;
		memmove(q, p + 4, strlen(p + 4) + 1);
	}
	return out;
}

/* ---- relationships ---- */

static void XMLCALL
rels_start(void *arg, const XML_Char *name, const XML_Char **atts)
{
	FiXlsx	   *x = arg;
	const char *id,
			   *type,
			   *target;

	if (x->err != FI_XLSX_OK)
		return;				/* (expat may call on after a stop: an empty element's end) */

	if (strcmp(local(name), "Relationship") != 0 || x->rel_target != NULL)
		return;
	id = attr(atts, "Id");
	type = attr(atts, "Type");
	target = attr(atts, "Target");
	if (target == NULL)
		return;
	if ((x->rel_id && id && strcmp(id, x->rel_id) == 0) ||
		(x->rel_type && type && strlen(type) >= strlen(x->rel_type) &&
		 strcmp(type + strlen(type) - strlen(x->rel_type), x->rel_type) == 0))
		x->rel_target = xstrdup(x, target);
}

static void XMLCALL
no_end(void *arg, const XML_Char *name)
{
	(void) arg;
	(void) name;
}

static void XMLCALL
no_text(void *arg, const XML_Char *s, int len)
{
	(void) arg;
	(void) s;
	(void) len;
}

/* the Target of a relationship of part (by id or by type), resolved; NULL when none */
static char *
relationship(FiXlsx *x, const char *part, const char *id, const char *type)
{
	const char *slash = strrchr(part, '/');
	size_t		dir = slash ? (size_t) (slash - part + 1) : 0;
	char	   *rels = malloc(strlen(part) + 16),
			   *out = NULL;

	if (rels == NULL)
	{
		fail(x, FI_XLSX_NOMEM, "out of memory%s", NULL);
		return NULL;
	}
	/* xl/workbook.xml -> xl/_rels/workbook.xml.rels; "" -> _rels/.rels */
	memcpy(rels, part, dir);
	sprintf(rels + dir, "_rels/%s.rels", part + dir);
	x->rel_id = (char *) id;
	x->rel_type = type;
	x->rel_target = NULL;
	if (parse_part(x, rels, false, rels_start, no_end, no_text) && x->rel_target != NULL)
		out = resolve(x, part, x->rel_target);
	free(x->rel_target);
	x->rel_target = NULL;
	x->rel_id = NULL;
	x->rel_type = NULL;
	free(rels);
	return out;
}

/* ---- the workbook ---- */

static void XMLCALL
workbook_start(void *arg, const XML_Char *name, const XML_Char **atts)
{
	FiXlsx	   *x = arg;
	const char *n = local(name);
	const char *v;

	if (x->err != FI_XLSX_OK)
		return;				/* (expat may call on after a stop: an empty element's end) */

	if (strcmp(n, "workbookPr") == 0 && (v = attr(atts, "date1904")) != NULL)
		x->date1904 = strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0;
	else if (strcmp(n, "workbookView") == 0 && x->active_tab < 0)
		x->active_tab = (v = attr(atts, "activeTab")) ? atoi(v) : 0;
	else if (strcmp(n, "sheet") == 0)
	{
		if (x->sheet_index == (x->active_tab < 0 ? 0 : x->active_tab) && (v = attr(atts, "id")) != NULL &&
			x->rid_active == NULL)
			x->rid_active = xstrdup(x, v);
		x->sheet_index++;
	}
}

/* ---- styles: which cell formats are dates (openpyxl's is_date_format) ---- */

static const char *
builtin_format(int id)
{
	static const struct
	{
		int			id;
		const char *code;
	}			b[] = {
		{14, "mm-dd-yy"}, {15, "d-mmm-yy"}, {16, "d-mmm"}, {17, "mmm-yy"}, {18, "h:mm AM/PM"},
		{19, "h:mm:ss AM/PM"}, {20, "h:mm"}, {21, "h:mm:ss"}, {22, "m/d/yy h:mm"}, {45, "mm:ss"},
		{46, "[h]:mm:ss"}, {47, "mmss.0"}
	};

	/* (the other built-in formats are numbers and text: no date letter) */
	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		if (b[i].id == id)
			return b[i].code;
	return NULL;
}

/* [h], [hh], [m], [mm], [s], [ss] at p (anycase: also upper case): the bracket's length, else 0 */
static size_t
elapsed_bracket(const char *p, bool anycase)
{
	char		c = anycase ? (char) tolower((unsigned char) p[1]) : p[1];

	if (p[0] != '[' || (c != 'h' && c != 'm' && c != 's'))
		return 0;
	if (p[2] == ']')
		return 3;
	if ((anycase ? tolower((unsigned char) p[2]) : p[2]) == c && p[3] == ']')
		return 4;
	return 0;
}

/* the first section of a format (up to ';') */
static size_t
first_section(const char *fmt)
{
	return strcspn(fmt, ";");
}

static bool
is_date_format(const char *fmt)
{
	size_t		n = first_section(fmt),
				o = 0;
	char		stripped[512];

	/* drop "literals" and [locale/colour] groups, keep [h] [mm] [ss] */
	for (size_t i = 0; i < n && o < sizeof(stripped) - 1;)
	{
		const char *close;
		size_t		eb;

		if (fmt[i] == '"' && (close = memchr(fmt + i + 1, '"', n - i - 1)) != NULL)
		{
			i = close - fmt + 1;
			continue;
		}
		if (fmt[i] == '[' && (eb = elapsed_bracket(fmt + i, false)) == 0 &&
			(close = memchr(fmt + i + 1, ']', n - i - 1)) != NULL)
		{
			i = close - fmt + 1;
			continue;
		}
		stripped[o++] = fmt[i++];
	}
	stripped[o] = '\0';
	/* a date letter after any character but a backslash */
	for (size_t i = 1; i < o; i++)
		if (strchr("dmhysDMHYS", stripped[i]) && stripped[i - 1] != '\\')
			return true;
	return false;
}

static bool
is_timedelta_format(const char *fmt)
{
	size_t		n = first_section(fmt);

	for (size_t i = 0; i < n; i++)
		if (fmt[i] == '[' && elapsed_bracket(fmt + i, true) > 0 && i + elapsed_bracket(fmt + i, true) <= n)
			return true;
	return false;
}

static void XMLCALL
styles_start(void *arg, const XML_Char *name, const XML_Char **atts)
{
	FiXlsx	   *x = arg;
	const char *n = local(name);
	const char *v;

	if (x->err != FI_XLSX_OK)
		return;				/* (expat may call on after a stop: an empty element's end) */

	if (strcmp(n, "numFmt") == 0 && (v = attr(atts, "numFmtId")) != NULL && attr(atts, "formatCode"))
	{
		void	   *nf = realloc(x->fmts, sizeof(*x->fmts) * (x->nfmts + 1));

		if (nf == NULL)
		{
			fail(x, FI_XLSX_NOMEM, "out of memory%s", NULL);
			return;
		}
		x->fmts = nf;
		x->fmts[x->nfmts].id = atoi(v);
		x->fmts[x->nfmts].code = xstrdup(x, attr(atts, "formatCode"));
		x->nfmts++;
	}
	else if (strcmp(n, "cellXfs") == 0)
		x->in_cellxfs++;
	else if (strcmp(n, "xf") == 0 && x->in_cellxfs > 0)
	{
		int			id = (v = attr(atts, "numFmtId")) ? atoi(v) : 0;
		const char *code = builtin_format(id);
		unsigned char *nx = realloc(x->xf, x->nxf + 1);

		if (nx == NULL)
		{
			fail(x, FI_XLSX_NOMEM, "out of memory%s", NULL);
			return;
		}
		x->xf = nx;
		for (int i = 0; i < x->nfmts; i++)
			if (x->fmts[i].id == id)
				code = x->fmts[i].code;
		x->xf[x->nxf++] = code == NULL ? 0 :
			(is_date_format(code) ? XF_DATE : 0) | (is_timedelta_format(code) ? XF_DELTA : 0);
	}
}

static void XMLCALL
styles_end(void *arg, const XML_Char *name)
{
	FiXlsx	   *x = arg;

	if (x->err != FI_XLSX_OK)
		return;				/* (expat may call on after a stop: an empty element's end) */

	if (strcmp(local(name), "cellXfs") == 0)
		x->in_cellxfs--;
}

/* ---- shared strings ---- */

static bool
add_string(FiXlsx *x)
{
	/* openpyxl's read_string_table drops every "x005F_" */
	char	   *s = x->value.data ? x->value.data : "";
	size_t		n = x->value.len,
				start = x->strbuf.len;

	if (x->nstr == x->strcap)
	{
		size_t		cap = x->strcap ? x->strcap * 2 : 1024;
		size_t	   *no = realloc(x->str_off, cap * sizeof(size_t)),
				   *nl;

		if (no == NULL)
			return fail(x, FI_XLSX_NOMEM, "out of memory%s", NULL);
		x->str_off = no;
		if ((nl = realloc(x->str_len, cap * sizeof(size_t))) == NULL)
			return fail(x, FI_XLSX_NOMEM, "out of memory%s", NULL);
		x->str_len = nl;
		x->strcap = cap;
	}
	for (size_t i = 0; i < n;)
	{
		const char *hit = n - i >= 6 ? memmem(s + i, n - i, "x005F_", 6) : NULL;
		size_t		upto = hit ? (size_t) (hit - s) : n;

		if (!buf_put(x, &x->strbuf, s + i, upto - i))
			return false;
		i = hit ? upto + 6 : n;
	}
	if (x->strbuf.len + sizeof(size_t) * 2 * x->nstr > x->lim.max_strings)
		return fail(x, FI_XLSX_TOO_BIG, "the shared strings of the workbook are larger than the bound (max_strings)%s",
					NULL);
	x->str_off[x->nstr] = start;
	x->str_len[x->nstr] = x->strbuf.len - start;
	x->nstr++;
	return true;
}

static void XMLCALL
strings_start(void *arg, const XML_Char *name, const XML_Char **atts)
{
	FiXlsx	   *x = arg;
	const char *n = local(name);

	if (x->err != FI_XLSX_OK)
		return;				/* (expat may call on after a stop: an empty element's end) */

	(void) atts;
	x->depth++;
	if (strcmp(n, "si") == 0)
	{
		x->in_si = true;
		x->si_depth = x->depth;
		x->value.len = 0;
	}
	else if (x->in_si && strcmp(n, "rPh") == 0 && x->rph_depth == 0)
		x->rph_depth = x->depth;
	else if (x->in_si && x->rph_depth == 0 && strcmp(n, "t") == 0)
		x->in_text = true;
}

static void XMLCALL
strings_end(void *arg, const XML_Char *name)
{
	FiXlsx	   *x = arg;
	const char *n = local(name);

	if (x->err != FI_XLSX_OK)
		return;				/* (expat may call on after a stop: an empty element's end) */

	if (x->in_si && x->depth == x->si_depth && strcmp(n, "si") == 0)
	{
		x->in_si = false;
		add_string(x);
	}
	else if (x->rph_depth == x->depth)
		x->rph_depth = 0;
	else if (strcmp(n, "t") == 0)
		x->in_text = false;
	x->depth--;
}

static void XMLCALL
capture_text(void *arg, const XML_Char *s, int len)
{
	FiXlsx	   *x = arg;

	if (x->err != FI_XLSX_OK)
		return;				/* (expat may call on after a stop: an empty element's end) */

	if (x->in_text || x->in_v)
		buf_put(x, &x->value, s, (size_t) len);
}

/* ---- Python's text of a value ---- */

/* Python's int(s): blanks around, a sign, digits with single underscores between them */
static bool
py_int(const char *s, char *out, size_t outlen, long long *value)
{
	const char *p = s,
			   *end = s + strlen(s);
	size_t		o = 0;
	bool		neg = false,
				any = false;
	long long	v = 0;
	bool		big = false;

	while (p < end && isspace((unsigned char) *p))
		p++;
	while (end > p && isspace((unsigned char) end[-1]))
		end--;
	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (p == end || !isdigit((unsigned char) *p))
		return false;
	for (; p < end; p++)
	{
		if (*p == '_' && p + 1 < end && isdigit((unsigned char) p[1]) && p > s && isdigit((unsigned char) p[-1]))
			continue;
		if (!isdigit((unsigned char) *p))
			return false;
		if (!any && *p == '0' && p + 1 < end)
			continue;			/* leading zeros */
		any = true;
		if (o + 2 >= outlen)
			return false;
		if (o == 0 && neg)
			out[o++] = '-';
		out[o++] = *p;
		if (v > (LLONG_MAX - 9) / 10)
			big = true;
		else
			v = v * 10 + (*p - '0');
	}
	if (!any || (o == 2 && out[0] == '-' && out[1] == '0'))
	{
		o = 0;
		out[o++] = '0';
		v = 0;
	}
	out[o] = '\0';
	if (value)
		*value = big ? (neg ? LLONG_MIN : LLONG_MAX) : neg ? -v : v;
	return true;
}

/* Python's float(s) (no underscores in Excel's numbers); false when it is not one */
static bool
py_float(const char *s, double *v)
{
	char	   *end;

	while (isspace((unsigned char) *s))
		s++;
	*v = strtod(s, &end);
	if (end == s)
		return false;
	while (isspace((unsigned char) *end))
		end++;
	return *end == '\0';
}

/* str(float) */
static void
float_text(double v, char out[FI_PYFLOAT_MAXLEN])
{
	if (isnan(v))
		strcpy(out, "nan");
	else if (isinf(v))
		strcpy(out, v < 0 ? "-inf" : "inf");
	else
		out[fi_pyjson_float(v, out)] = '\0';
}

/* days since 0001-01-01 of a civil date, and back (proleptic Gregorian) */
static long long
days_from_civil(long long y, int m, int d)
{
	long long	era;
	unsigned	yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned) (y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long) doe - 719468;
}

static void
civil_from_days(long long z, long long *y, int *m, int *d)
{
	long long	era;
	unsigned	doe,
				yoe,
				doy,
				mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned) (z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = (long long) yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y += *m <= 2;
}

/* "0.5", "-1", ... as a Python number: an int's or a float's value */
typedef struct PyNum
{
	bool		is_float;
	double		f;
	long long	i;				/* (clamped) */
	char		text[FI_PYFLOAT_MAXLEN + 64];
} PyNum;

/* str(datetime.timedelta(microseconds=us)) */
static void
timedelta_text(long long us, char *out, size_t outlen)
{
	long long	days = us >= 0 ? us / 86400000000LL : -((-us + 86399999999LL) / 86400000000LL);
	long long	rest = us - days * 86400000000LL;
	long long	secs = rest / 1000000,
				frac = rest % 1000000;
	int			o = 0;

	if (days != 0)
		o = snprintf(out, outlen, "%lld day%s, ", days, (days == 1 || days == -1) ? "" : "s");
	o += snprintf(out + o, outlen - o, "%lld:%02lld:%02lld", secs / 3600, secs / 60 % 60, secs % 60);
	if (frac)
		snprintf(out + o, outlen - o, ".%06lld", frac);
}

/* Python's round(n, -3) of an int: to thousands, half to even */
static long long
round_thousands(long long n)
{
	long long	q = n / 1000,
				r = n % 1000;

	if (r < 0)
	{
		r += 1000;
		q--;
	}
	if (r > 500 || (r == 500 && (q & 1)))
		q++;
	return q * 1000;
}

/*
 * openpyxl's from_excel: a serial number in a date format as a datetime,
 * a time (0 <= value < 1) or a timedelta; "#VALUE!" beyond datetime's years.
 */
static void
excel_date_text(FiXlsx *x, const PyNum *v, bool delta, char *out, size_t outlen)
{
	double		value = v->is_float ? v->f : (double) v->i;
	long long	epoch = x->date1904 ? days_from_civil(1904, 1, 1) : days_from_civil(1899, 12, 30);
	long long	day,
				ms,
				y;
	int			m,
				d;
	double		fraction;

	if (!isfinite(value) || fabs(value) > 4.0e6)
	{
		snprintf(out, outlen, "#VALUE!");
		return;
	}
	if (delta)
	{
		/* timedelta(days=value), then to milliseconds when it has microseconds */
		double		whole = trunc(value),
					secs_total = (value - whole) * 86400.0,
					secs_whole = trunc(secs_total);
		long long	us = (long long) whole * 86400000000LL + (long long) secs_whole * 1000000LL +
			(long long) nearbyint((secs_total - secs_whole) * 1e6);
		long long	frac = ((us % 1000000) + 1000000) % 1000000;

		if (frac)
			us = (us - frac) + round_thousands(frac);
		timedelta_text(us, out, outlen);
		return;
	}
	if (v->is_float)
	{
		double		mod = fmod(value, 1.0);

		if (mod != 0 && mod < 0)
			mod += 1.0;
		fraction = mod;
		day = (long long) floor(value - mod + 0.5);
	}
	else
	{
		fraction = 0;
		day = v->i;
	}
	ms = (long long) nearbyint(fraction * 86400 * 1000);
	if (value >= 0 && value < 1 && ms < 86400000LL)
	{
		long long	s = ms / 1000;

		snprintf(out, outlen, "%02lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
		if (ms % 1000)
			snprintf(out + 8, outlen - 8, ".%06lld", ms % 1000 * 1000);
		return;
	}
	if (value > 0 && value < 60 && !x->date1904)
		day++;
	day += epoch + ms / 86400000LL;
	ms %= 86400000LL;
	civil_from_days(day, &y, &m, &d);
	if (y < 1 || y > 9999)
	{
		snprintf(out, outlen, "#VALUE!");
		return;
	}
	{
		long long	s = ms / 1000;
		int			o = snprintf(out, outlen, "%04lld-%02d-%02d %02lld:%02lld:%02lld", y, m, d, s / 3600,
								 s / 60 % 60, s % 60);

		if (ms % 1000)
			snprintf(out + o, outlen - o, ".%06lld", ms % 1000 * 1000);
	}
}

/* openpyxl's from_ISO8601 for t="d": a date, a time or a datetime, as str() writes them */
static bool
iso_text(const char *s, char *out, size_t outlen)
{
	int			y = 0,
				mo = 0,
				d = 0,
				h = 0,
				mi = 0,
				se = 0,
				n = 0;
	bool		date = false,
				time = false;
	long		us = 0;
	const char *p = s;

	if (sscanf(p, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10)
	{
		date = true;
		p += n;
	}
	if (*p == 'T')
		p++;
	if (isdigit((unsigned char) p[0]) && sscanf(p, "%2d:%2d%n", &h, &mi, &n) == 2 && n == 5)
	{
		time = true;
		p += n;
		if (sscanf(p, ":%2d%n", &se, &n) == 1 && n == 3)
		{
			p += n;
			if (*p == '.' && isdigit((unsigned char) p[1]))
			{
				int			digits = 0;

				p++;
				while (isdigit((unsigned char) *p) && digits < 3)
				{
					us = us * 10 + (*p++ - '0');
					digits++;
				}
				while (digits++ < 6)
					us *= 10;
			}
		}
	}
	if (!date && !time)
		return false;
	if (date && time)
		n = snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, se);
	else if (date)
		n = snprintf(out, outlen, "%04d-%02d-%02d", y, mo, d);
	else
		n = snprintf(out, outlen, "%02d:%02d:%02d", h, mi, se);
	if (time && us)
		snprintf(out + n, outlen - n, ".%06ld", us);
	return true;
}

/*
 * The cell just read as Frappe's cstr of openpyxl's value: *out and *outlen
 * (in value or text); false on an error (x->err).  *plain: a number or a
 * boolean (no text that could be a date).
 */
static bool
cell_text(FiXlsx *x, const char **out, size_t *outlen, char *text, size_t textlen, bool *plain)
{
	const char *v = x->value.data ? x->value.data : "";

	*out = v;
	*outlen = x->value.len;
	*plain = false;
	if (x->ctype == CT_INLINE)
		return true;			/* the runs' text, read into value */
	if (!x->has_v || x->value.len == 0)
	{
		*out = "";				/* no value: None */
		*outlen = 0;
		return true;
	}
	switch (x->ctype)
	{
		case CT_S:
			{
				long long	idx;
				char		digits[64];

				if (!py_int(v, digits, sizeof(digits), &idx))
					return fail(x, FI_XLSX_BAD_VALUE, "a shared-string cell (%s) has no index", NULL);
				if (idx < 0)
					idx += (long long) x->nstr; /* (Python's negative index) */
				if (idx < 0 || (size_t) idx >= x->nstr)
					return fail(x, FI_XLSX_BAD_VALUE, "a cell names shared string %s, beyond the workbook's table",
								digits);
				/* (only empty strings so far: the buffer has no memory yet) */
				*out = x->strbuf.data ? x->strbuf.data + x->str_off[idx] : "";
				*outlen = x->str_len[idx];
				return true;
			}
		case CT_B:
			{
				long long	b;
				char		digits[64];

				if (!py_int(v, digits, sizeof(digits), &b))
					return fail(x, FI_XLSX_BAD_VALUE, "a boolean cell holds %s, not 0 or 1", "text");
				*out = strcmp(digits, "0") == 0 ? "False" : "True";
				*outlen = strlen(*out);
				*plain = true;
				return true;
			}
		case CT_D:
			if (iso_text(v, text, textlen))
			{
				*out = text;
				*outlen = strlen(text);
			}
			return true;
		case CT_N:
			{
				PyNum		num;
				int			kind = x->cstyle >= 0 && x->cstyle < x->nxf ? x->xf[x->cstyle] : 0;

				num.is_float = strpbrk(v, ".eE") != NULL;
				num.i = 0;
				if (num.is_float)
				{
					if (!py_float(v, &num.f))
						return fail(x, FI_XLSX_BAD_VALUE, "a number cell holds %s", "text that is not a number");
					float_text(num.f, num.text);
				}
				else if (!py_int(v, num.text, sizeof(num.text), &num.i))
					return fail(x, FI_XLSX_BAD_VALUE, "a number cell holds %s", "text that is not a number");
				if (kind & XF_DATE)
					excel_date_text(x, &num, (kind & XF_DELTA) != 0, text, textlen);
				else
				{
					snprintf(text, textlen, "%s", num.text);
					*plain = true;
				}
				*out = text;
				*outlen = strlen(text);
				return true;
			}
		default:
			return true;		/* t="str", "e" and any other: the text as it is */
	}
}

/* the cell just read: into the row (READ), or shown to the hook (MEASURE) */
static bool
end_cell(FiXlsx *x)
{
	char		text[128];
	const char *out;
	size_t		outlen;
	bool		plain;

	if (x->ccol < 1 || (x->pass == PASS_READ && x->ccol > x->ncols))
		return fail(x, FI_XLSX_BAD_VALUE, "a cell of the sheet has no column%s", NULL);
	if (x->pass == PASS_MEASURE)
	{
		/* the text of what could be a date; the rest only as empty or not */
		if (x->hook == NULL)
			return true;
		if ((x->ctype == CT_N || x->ctype == CT_B) && x->has_v && x->value.len > 0 &&
			!(x->ctype == CT_N && x->cstyle >= 0 && x->cstyle < x->nxf && (x->xf[x->cstyle] & XF_DATE)))
		{
			return x->hook(x->hook_arg, x->row_no, x->ccol, NULL, 1) ||
				fail(x, FI_XLSX_STOPPED, "the workbook's reading was stopped%s", NULL);
		}
		if (!cell_text(x, &out, &outlen, text, sizeof(text), &plain))
			return false;
		return x->hook(x->hook_arg, x->row_no, x->ccol, out, outlen) ||
			fail(x, FI_XLSX_STOPPED, "the workbook's reading was stopped%s", NULL);
	}
	if (!cell_text(x, &out, &outlen, text, sizeof(text), &plain))
		return false;
	/* a column given twice in a row: the last */
	x->row_cells[x->ccol - 1].off = x->cells.len;
	x->row_cells[x->ccol - 1].len = outlen;
	x->cell_serial[x->ccol - 1] = x->row_serial;
	x->nrow_cells++;
	return buf_put(x, &x->cells, out, outlen);
}

/* "BC12" -> column 55; 0 when it is not a reference */
static int
ref_column(const char *r)
{
	long		col = 0;

	for (; isalpha((unsigned char) *r); r++)
	{
		col = col * 26 + (toupper((unsigned char) *r) - 'A' + 1);
		if (col > 1000000)
			return -1;
	}
	return isdigit((unsigned char) *r) ? (int) col : 0;
}

static void XMLCALL
sheet_start(void *arg, const XML_Char *name, const XML_Char **atts)
{
	FiXlsx	   *x = arg;
	const char *n = local(name);
	const char *v;

	if (x->err != FI_XLSX_OK)
		return;				/* (expat may call on after a stop: an empty element's end) */

	x->depth++;
	if (strcmp(n, "sheetData") == 0)
		x->sheetdata_depth = x->depth;
	else if (x->sheetdata_depth && strcmp(n, "row") == 0 && x->depth == x->sheetdata_depth + 1)
	{
		char	   *end;

		x->in_row = true;
		if ((v = attr(atts, "r")) != NULL)
		{
			double		r = strtod(v, &end);

			if (end == v || r != floor(r) || r < 1 || r > 1.0e9)
			{
				fail(x, FI_XLSX_BAD_VALUE, "a row of the sheet is numbered %s", "other than 1, 2, 3 ...");
				return;
			}
			x->row_no = (long) r;
		}
		else
			x->row_no++;
		x->col_counter = 0;
		x->nrow_cells = 0;
		x->cells.len = 0;
		x->row_serial++;
	}
	else if (x->in_row && strcmp(n, "c") == 0)
	{
		int			col = 0;
		const char *ref = NULL;

		x->ctype = CT_N;
		x->cstyle = 0;
		for (int i = 0; atts[i]; i += 2)
		{
			const char *an = local(atts[i]),
					   *av = atts[i + 1];

			if (an[0] == 'r' && an[1] == '\0')
				ref = av;
			else if (an[0] == 's' && an[1] == '\0')
				x->cstyle = atoi(av);
			else if (an[0] == 't' && an[1] == '\0')
				x->ctype = strcmp(av, "n") == 0 ? CT_N : strcmp(av, "s") == 0 ? CT_S : strcmp(av, "b") == 0 ? CT_B :
					strcmp(av, "str") == 0 ? CT_STR : strcmp(av, "e") == 0 ? CT_E :
					strcmp(av, "inlineStr") == 0 ? CT_INLINE : strcmp(av, "d") == 0 ? CT_D : CT_OTHER;
		}
		col = ref ? ref_column(ref) : 0;
		if (col < 0 || (ref && col == 0))
		{
			fail(x, FI_XLSX_BAD_VALUE, "a cell of the sheet has the reference %s", "that is not a column and row");
			return;
		}
		x->ccol = col ? col : x->col_counter + 1;
		x->col_counter = x->ccol;
		if (x->ccol > x->lim.max_columns)
		{
			fail(x, FI_XLSX_TOO_BIG, "the sheet has more columns than the bound (max_columns)%s", NULL);
			return;
		}
		x->in_c = true;
		x->has_v = false;
		x->value.len = 0;
		if (x->value.data)
			x->value.data[0] = '\0';
		if (x->pass == PASS_MEASURE)
		{
			if (x->ccol > x->ncols)
				x->ncols = x->ccol;
			if (x->row_no > x->nrows)
				x->nrows = x->row_no;
		}
		else if (x->ccol > x->ncols)
			x->in_c = false;	/* (beyond the measured width: cannot be) */
	}
	else if (x->in_c && strcmp(n, "v") == 0 && !x->in_is)
	{
		x->in_v = x->pass == PASS_READ || x->hook != NULL;
		x->has_v = true;
	}
	else if (x->in_c && strcmp(n, "is") == 0)
	{
		x->in_is = true;
		x->is_depth = x->depth;
	}
	else if (x->in_is && strcmp(n, "rPh") == 0 && x->rph_depth == 0)
		x->rph_depth = x->depth;
	else if (x->in_is && x->rph_depth == 0 && strcmp(n, "t") == 0)
		x->in_text = x->pass == PASS_READ || x->hook != NULL;
}

static void XMLCALL
sheet_end(void *arg, const XML_Char *name)
{
	FiXlsx	   *x = arg;
	const char *n = local(name);

	if (x->err != FI_XLSX_OK)
		return;				/* (expat may call on after a stop: an empty element's end) */

	if (x->in_is && x->depth == x->is_depth)
		x->in_is = false;
	else if (x->rph_depth == x->depth)
		x->rph_depth = 0;
	else if (strcmp(n, "t") == 0)
		x->in_text = false;
	else if (strcmp(n, "v") == 0)
		x->in_v = false;
	else if (x->in_c && strcmp(n, "c") == 0)
	{
		x->in_c = false;
		end_cell(x);
	}
	else if (x->in_row && strcmp(n, "row") == 0 && x->depth == x->sheetdata_depth + 1)
	{
		x->in_row = false;
		if (x->pass == PASS_READ && x->nrow_cells > 0)
		{
			x->row_ready = true;
			x->ready_no = x->row_no;
			XML_StopParser(x->parser, XML_TRUE);	/* resumed by the next fi_xlsx_next */
		}
	}
	else if (strcmp(n, "sheetData") == 0)
		x->sheetdata_depth = 0;
	x->depth--;
}

/* start reading the sheet (pass: measure or read) */
static bool
sheet_begin(FiXlsx *x, Pass pass)
{
	if (x->zf)
		zip_fclose(x->zf);
	if (x->parser)
		XML_ParserFree(x->parser);
	x->parser = NULL;
	x->pass = pass;
	x->depth = x->sheetdata_depth = 0;
	x->in_row = x->in_c = x->in_v = x->in_is = x->in_text = false;
	x->rph_depth = 0;
	x->row_no = 0;
	x->row_ready = false;
	x->next_no = 1;
	x->suspended = x->final = false;
	x->inflated = 0;
	if ((x->zf = open_part(x, x->sheet)) == NULL)
		return fail(x, FI_XLSX_NOT_XLSX, "the workbook has no part %s (its active sheet)", x->sheet);
	return (x->parser = new_parser(x, sheet_start, sheet_end, capture_text)) != NULL;
}

/* parse on until a row is read whole or the sheet ends */
static bool
sheet_step(FiXlsx *x)
{
	while (!x->row_ready && !(x->final && !x->suspended))
	{
		enum XML_Status st;

		if (x->suspended)
			st = XML_ResumeParser(x->parser);
		else
		{
			zip_int64_t n = read_part(x, x->zf, &x->inflated, x->sheet);

			if (n < 0)
				return false;
			x->final = n == 0;
			st = XML_Parse(x->parser, x->chunk, (int) n, x->final);
		}
		if (x->err != FI_XLSX_OK)
			return false;
		if (st == XML_STATUS_ERROR)
			return fail(x, FI_XLSX_BAD_XML, "the part %s of the workbook is not well-formed XML", x->sheet);
		x->suspended = st == XML_STATUS_SUSPENDED;
	}
	return true;
}

/* ---- the API ---- */

void
fi_xlsx_default_limits(FiXlsxLimits *lim)
{
	lim->max_part = (size_t) 1 << 30;
	lim->max_strings = (size_t) 256 << 20;
	lim->max_columns = 16384;
}

static FiXlsxErr
give(FiXlsx *x, char *msg, size_t msglen)
{
	if (msg && msglen)
		snprintf(msg, msglen, "%s", x->msg);
	return x->err;
}

FiXlsxErr
fi_xlsx_open(const void *data, size_t n, const FiXlsxLimits *lim, FiXlsxCellHook hook, void *hook_arg,
			 FiXlsx **out, char *msg, size_t msglen)
{
	FiXlsx	   *x = calloc(1, sizeof(FiXlsx));
	zip_error_t ze;
	char	   *strings = NULL,
			   *styles = NULL;

	*out = NULL;
	if (x == NULL)
	{
		if (msg && msglen)
			snprintf(msg, msglen, "out of memory");
		return FI_XLSX_NOMEM;
	}
	if (lim)
		x->lim = *lim;
	else
		fi_xlsx_default_limits(&x->lim);
	x->active_tab = -1;
	x->hook = hook;
	x->hook_arg = hook_arg;
	zip_error_init(&ze);
	if ((x->src = zip_source_buffer_create(data, n, 0, &ze)) == NULL ||
		(x->za = zip_open_from_source(x->src, ZIP_RDONLY, &ze)) == NULL)
	{
		fail(x, FI_XLSX_NOT_XLSX, "the file is not an Excel workbook (.xlsx): not a ZIP archive%s", NULL);
		zip_error_fini(&ze);
		goto done;
	}
	zip_error_fini(&ze);
	/* the workbook, its active sheet, its strings and styles */
	x->workbook = relationship(x, "", NULL, "/officeDocument");
	if (x->err)
		goto done;
	if (x->workbook == NULL && (x->workbook = xstrdup(x, "xl/workbook.xml")) == NULL)
		goto done;
	if (!parse_part(x, x->workbook, true, workbook_start, no_end, no_text))
		goto done;
	if (x->rid_active == NULL ||
		(x->sheet = relationship(x, x->workbook, x->rid_active, NULL)) == NULL)
	{
		fail(x, FI_XLSX_NOT_XLSX, "the workbook has no worksheet%s", NULL);
		goto done;
	}
	strings = relationship(x, x->workbook, NULL, "/sharedStrings");
	styles = relationship(x, x->workbook, NULL, "/styles");
	if (x->err)
		goto done;
	if (styles && !parse_part(x, styles, false, styles_start, styles_end, no_text))
		goto done;
	x->depth = 0;
	if (strings && !parse_part(x, strings, false, strings_start, strings_end, capture_text))
		goto done;
	x->in_text = false;
	/* the sheet's extent, then ready to read it */
	if (!sheet_begin(x, PASS_MEASURE) || !sheet_step(x))
		goto done;
	x->hook = NULL;
	if ((x->row_cells = calloc(x->ncols + 1, sizeof(Cell))) == NULL ||
		(x->cell_serial = calloc(x->ncols + 1, sizeof(long))) == NULL)
	{
		fail(x, FI_XLSX_NOMEM, "out of memory%s", NULL);
		goto done;
	}
	sheet_begin(x, PASS_READ);
done:
	free(strings);
	free(styles);
	if (x->err != FI_XLSX_OK)
	{
		FiXlsxErr	e = give(x, msg, msglen);

		fi_xlsx_close(x);
		return e;
	}
	*out = x;
	return FI_XLSX_OK;
}

int
fi_xlsx_columns(const FiXlsx *x)
{
	return x->ncols;
}

long
fi_xlsx_rows(const FiXlsx *x)
{
	return x->nrows;
}

FiXlsxErr
fi_xlsx_next(FiXlsx *x, FiCsvReader *rec, bool *done, char *msg, size_t msglen)
{
	*done = false;
	if (x->err)
		return give(x, msg, msglen);
	if (x->next_no > x->nrows)
	{
		*done = true;
		return FI_XLSX_OK;
	}
	if (!x->row_ready && !sheet_step(x))
		return give(x, msg, msglen);
	fi_csv_record_clear(rec);
	rec->record_no = x->next_no;
	if (x->row_ready && x->ready_no == x->next_no)
	{
		for (int col = 0; col < x->ncols; col++)
		{
			bool		set = x->cell_serial[col] == x->row_serial;

			if (fi_csv_record_field(rec, set ? x->cells.data + x->row_cells[col].off : "",
									set ? x->row_cells[col].len : 0) < 0)
				return fail(x, FI_XLSX_NOMEM, "out of memory%s", NULL), give(x, msg, msglen);
		}
		x->row_ready = false;
	}
	else
	{
		/* a row without cells (between rows with them, or a row numbered out of order): empty */
		for (int col = 1; col <= x->ncols; col++)
			if (fi_csv_record_field(rec, "", 0) < 0)
				return fail(x, FI_XLSX_NOMEM, "out of memory%s", NULL), give(x, msg, msglen);
		if (x->row_ready && x->ready_no < x->next_no)
			x->row_ready = false;	/* (out of order: openpyxl keeps it where it says; left out here) */
	}
	x->next_no++;
	return FI_XLSX_OK;
}

FiXlsxErr
fi_xlsx_rewind(FiXlsx *x, char *msg, size_t msglen)
{
	if (x->err == FI_XLSX_OK)
		sheet_begin(x, PASS_READ);
	return give(x, msg, msglen);
}

void
fi_xlsx_close(FiXlsx *x)
{
	if (x == NULL)
		return;
	if (x->parser)
		XML_ParserFree(x->parser);
	if (x->zf)
		zip_fclose(x->zf);
	if (x->za)
		zip_discard(x->za);		/* (frees the source too) */
	else if (x->src)
		zip_source_free(x->src);
	for (int i = 0; i < x->nfmts; i++)
		free(x->fmts[i].code);
	free(x->fmts);
	free(x->xf);
	fi_jbuf_free(&x->strbuf);
	free(x->str_off);
	free(x->str_len);
	fi_jbuf_free(&x->value);
	fi_jbuf_free(&x->cells);
	free(x->row_cells);
	free(x->cell_serial);
	free(x->sheet);
	free(x->workbook);
	free(x->rid_active);
	free(x);
}
