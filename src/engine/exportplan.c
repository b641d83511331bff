/*
 * exportplan.c
 *		What Data Export reads (see exportplan.h).
 */
#include "engine/exportplan.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const std_columns[] = {
	"name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"
};

#define UNDEFINED_COLUMN	"42703"
#define UNDEFINED_OBJECT	"42704"
#define INVALID_PARAMETER	"22023"

static bool fail(FiExportError *err, const char *sqlstate, const char *hint, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));

static bool
fail(FiExportError *err, const char *sqlstate, const char *hint, const char *fmt,...)
{
	va_list		ap;

	err->sqlstate = sqlstate;
	err->hint = hint;
	err->detail[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return false;
}

static bool
has_column(const FiDocField *df)
{
	return fi_fieldtype_has_column(df->fieldtype) && !df->is_virtual;
}

static bool
is_std(const char *name)
{
	for (size_t i = 0; i < sizeof(std_columns) / sizeof(std_columns[0]); i++)
		if (strcmp(std_columns[i], name) == 0)
			return true;
	return false;
}

static const FiDocField *
table_field(const FiDocMeta *meta, const char *name)
{
	const FiDocField *df = fi_meta_field(meta, name);

	return df && fi_fieldtype_is_table(df->fieldtype) ? df : NULL;
}

static void
table_init(FiExportTable *t, const FiDocMeta *meta, const FiDocField *tdf, const FiExportHooks *h)
{
	memset(t, 0, sizeof(*t));
	t->meta = meta;
	t->tdf = tdf;
	t->cols = h->alloc(h->arg, sizeof(FiDocField *) * (meta->nfields + 1));
	t->ncols = 1;				/* the ID */
}

void
fi_export_plan_init(FiExportPlan *plan, const FiDocMeta *meta, const FiExportHooks *h)
{
	int			tables = 1;

	memset(plan, 0, sizeof(*plan));
	plan->meta = meta;
	for (int i = 0; i < meta->nfields; i++)
		tables += fi_fieldtype_is_table(meta->fields[i].fieldtype);
	plan->tables = h->alloc(h->arg, sizeof(FiExportTable) * tables);
	table_init(&plan->tables[0], meta, NULL, h);
	plan->ntables = 1;
}

/* the table of a Table field, added once */
static FiExportTable *
add_table(FiExportPlan *plan, const FiDocField *tdf, const FiExportHooks *h, FiExportError *err)
{
	const FiDocMeta *m;

	for (int i = 1; i < plan->ntables; i++)
		if (plan->tables[i].tdf == tdf)
			return &plan->tables[i];
	if ((m = h->meta(h->arg, tdf->options ? tdf->options : "")) == NULL)
	{
		fail(err, UNDEFINED_OBJECT, NULL, "DocType \"%s\" not found", tdf->options ? tdf->options : "");
		snprintf(err->detail, sizeof(err->detail), "There is no row named \"%s\" in tabDocType.",
				 tdf->options ? tdf->options : "");
		return NULL;
	}
	table_init(&plan->tables[plan->ntables], m, tdf, h);
	return &plan->tables[plan->ntables++];
}

static void
add_col(FiExportTable *t, const FiDocField *df)
{
	for (int i = 1; i < t->ncols; i++)
		if (strcmp(t->cols[i]->fieldname, df->fieldname) == 0)
			return;
	t->cols[t->ncols++] = df;
}

/* every field of the table with a column */
static void
add_every_col(FiExportTable *t, const FiExportHooks *h)
{
	for (int i = 0; i < t->meta->nfields; i++)
		if (has_column(&t->meta->fields[i]) && h->in_table(h->arg, t->meta, t->meta->fields[i].fieldname))
			add_col(t, &t->meta->fields[i]);
}

bool
fi_export_fields(FiExportPlan *plan, const char *const *fields, int nfields, const FiExportHooks *h,
				 FiExportError *err)
{
	FiExportTable *t0 = &plan->tables[0];
	const FiDocMeta *meta = plan->meta;

	if (nfields < 0)
	{
		t0->show_id = true;		/* every field: the ID among them */
		add_every_col(t0, h);
		return true;
	}
	for (int i = 0; i < nfields; i++)
	{
		const char *dot = strchr(fields[i], '.');
		const FiDocField *df;

		if (dot == NULL)
		{
			const char *name = fields[i];

			if (strcmp(name, "name") == 0)
			{
				t0->show_id = true; /* (Frappe's Exporter: the ID only when asked for) */
				continue;
			}
			df = fi_meta_field(meta, name);
			if (df == NULL || !has_column(df))
				return fail(err, UNDEFINED_COLUMN, "A child table's field is written \"table_fieldname.fieldname\".",
							"%s has no field \"%s\"", meta->name, name);
			if (!h->in_table(h->arg, meta, name))
				return fail(err, UNDEFINED_COLUMN, "The table is behind its DocType: run bench migrate.",
							"field \"%s\" of %s has no column in its table", name, meta->name);
			add_col(t0, df);
		}
		else
		{
			char	   *tname = fi_alloc_strndup(h->alloc, h->arg, fields[i], dot - fields[i]);
			const FiDocField *tdf = table_field(meta, tname);
			FiExportTable *t;

			if (tdf == NULL)
				return fail(err, UNDEFINED_COLUMN, NULL, "%s has no table field \"%s\"", meta->name, tname);
			if ((t = add_table(plan, tdf, h, err)) == NULL)
				return false;
			if (strcmp(dot + 1, "name") == 0)
			{
				t->show_id = true;
				continue;
			}
			df = fi_meta_field(t->meta, dot + 1);
			if (df == NULL || !has_column(df) || !h->in_table(h->arg, t->meta, dot + 1))
				return fail(err, UNDEFINED_COLUMN, NULL, "%s has no field \"%s\"", t->meta->name, dot + 1);
			add_col(t, df);
		}
	}
	return true;
}

bool
fi_export_children(FiExportPlan *plan, bool all, const char *const *tables, int ntables,
				   const FiExportHooks *h, FiExportError *err)
{
	const FiDocMeta *meta = plan->meta;
	int			n = all ? meta->nfields : ntables;

	for (int i = 0; i < n; i++)
	{
		const FiDocField *tdf;
		FiExportTable *t;

		if (all)
		{
			tdf = &meta->fields[i];
			if (!fi_fieldtype_is_table(tdf->fieldtype) || h->meta(h->arg, tdf->options ? tdf->options : "") == NULL)
				continue;
		}
		else if ((tdf = table_field(meta, tables[i])) == NULL)
			return fail(err, UNDEFINED_COLUMN, NULL, "%s has no table field \"%s\"", meta->name, tables[i]);
		if ((t = add_table(plan, tdf, h, err)) == NULL)
			return false;
		t->show_id = true;		/* every field of the table, its ID among them */
		if (t->ncols == 1)
			add_every_col(t, h);
	}
	return true;
}

/* a column of the DocType a filter or order_by may name */
static bool
filter_column(const FiExportPlan *plan, const char *name, const FiExportHooks *h, FiExportError *err)
{
	const FiDocField *df = fi_meta_field(plan->meta, name);

	if (!is_std(name) && (df == NULL || !has_column(df)))
		return fail(err, UNDEFINED_COLUMN,
					"Filters and order_by name fields of the DocType exported (a child table's fields cannot be used).",
					"%s has no field \"%s\"", plan->meta->name, name);
	if (!h->in_table(h->arg, plan->meta, name))
		return fail(err, UNDEFINED_COLUMN, NULL, "field \"%s\" of %s has no column", name, plan->meta->name);
	return true;
}

/* the value's texts, each a string, number or boolean */
static bool
scalars(const FiFilterValue *v, int from, int n, const char *field, const char *op, const char **out,
		FiExportError *err)
{
	for (int i = 0; i < n; i++)
		if ((out[i] = v->texts[from + i]) == NULL)
			return fail(err, INVALID_PARAMETER, NULL,
						"the value of the filter on \"%s\" (%s) must be a string or a number", field, op);
	return true;
}

bool
fi_export_filter(FiExportPlan *plan, const char *field, const char *op_in, const FiFilterValue *value,
				 const FiExportHooks *h, FiExportError *err)
{
	static const char *const cmp[] = {"=", "<", ">", "<=", ">="};
	static const FiFilterOp cmp_op[] = {FI_FILTER_EQ, FI_FILTER_LT, FI_FILTER_GT, FI_FILTER_LE, FI_FILTER_GE};
	size_t		oplen = strlen(op_in);
	char	   *op = h->alloc(h->arg, oplen + 1);
	FiExportFilter *f;

	for (size_t i = 0; i < oplen; i++)
		op[i] = (char) tolower((unsigned char) op_in[i]);
	if (!filter_column(plan, field, h, err))
		return false;
	if (plan->nfilters % 8 == 0)
	{
		FiExportFilter *grown = h->alloc(h->arg, sizeof(FiExportFilter) * (plan->nfilters + 8));

		if (plan->nfilters > 0)
			memcpy(grown, plan->filters, sizeof(FiExportFilter) * plan->nfilters);
		plan->filters = grown;
	}
	f = &plan->filters[plan->nfilters];
	memset(f, 0, sizeof(*f));
	f->field = field;
	for (size_t i = 0; i < sizeof(cmp) / sizeof(cmp[0]); i++)
		if (strcmp(op, cmp[i]) == 0)
		{
			f->op = cmp_op[i];
			f->sql_op = cmp[i];
		}
	if (f->sql_op != NULL || strcmp(op, "!=") == 0 || strcmp(op, "like") == 0 || strcmp(op, "not like") == 0)
	{
		if (f->sql_op == NULL)
			f->op = op[0] == '!' ? FI_FILTER_NE : op[0] == 'n' ? FI_FILTER_NOT_LIKE : FI_FILTER_LIKE;
		f->nvalues = 1;
		f->values = h->alloc(h->arg, sizeof(char *));
		/* a list where one value is wanted: its first item is no string or number */
		if (value->is_list || !scalars(value, 0, 1, field, op, f->values, err))
			return value->is_list ? fail(err, INVALID_PARAMETER, NULL,
										 "the value of the filter on \"%s\" (%s) must be a string or a number",
										 field, op) : false;
	}
	else if (strcmp(op, "in") == 0 || strcmp(op, "not in") == 0)
	{
		f->op = op[0] == 'n' ? FI_FILTER_NOT_IN : FI_FILTER_IN;
		if (value->is_string)
		{
			/* Frappe also takes "a, b, c" */
			const char *s = value->texts[0];
			int			n = 0;

			f->values = h->alloc(h->arg, sizeof(char *) * (strlen(s) / 2 + 2));
			while (*s)
			{
				size_t		len = strcspn(s, ","),
							b = 0;

				while (b < len && s[b] == ' ')
					b++;
				while (len > b && s[len - 1] == ' ')
					len--;
				/* (strtok: empty items are none) */
				if (strcspn(s, ",") > 0 && len > b)
					f->values[n++] = fi_alloc_strndup(h->alloc, h->arg, s + b, len - b);
				else if (strcspn(s, ",") > 0)
					f->values[n++] = "";
				s += strcspn(s, ",");
				if (*s == ',')
					s++;
			}
			f->nvalues = n;
		}
		else if (value->is_list)
		{
			f->nvalues = value->n;
			f->values = h->alloc(h->arg, sizeof(char *) * (value->n + 1));
			if (!scalars(value, 0, value->n, field, op, f->values, err))
				return false;
		}
		else
			return fail(err, INVALID_PARAMETER, NULL, "the value of the filter on \"%s\" (%s) must be a list",
						field, op);
	}
	else if (strcmp(op, "between") == 0)
	{
		f->op = FI_FILTER_BETWEEN;
		if (!value->is_list || value->n != 2)
			return fail(err, INVALID_PARAMETER, NULL,
						"the value of the filter on \"%s\" (between) must be a list of two values", field);
		f->nvalues = 2;
		f->values = h->alloc(h->arg, sizeof(char *) * 2);
		if (!scalars(value, 0, 2, field, op, f->values, err))
			return false;
	}
	else if (strcmp(op, "is") == 0)
	{
		const char *what = value->is_string ? value->texts[0] : "";

		if (strcmp(what, "set") == 0)
			f->op = FI_FILTER_IS_SET;
		else if (strcmp(what, "not set") == 0)
			f->op = FI_FILTER_IS_NOT_SET;
		else
			return fail(err, INVALID_PARAMETER, NULL,
						"the value of the filter on \"%s\" (is) must be \"set\" or \"not set\"", field);
	}
	else
		return fail(err, INVALID_PARAMETER, "Operators: =, !=, <, >, <=, >=, like, not like, in, not in, between, is.",
					"unknown filter operator \"%s\" (on \"%s\")", op_in, field);
	plan->nfilters++;
	return true;
}

bool
fi_export_filter_doctype(const FiExportPlan *plan, const char *doctype, FiExportError *err)
{
	if (strcmp(doctype, plan->meta->name) == 0)
		return true;
	return fail(err, UNDEFINED_COLUMN, "Filters apply to the DocType exported.",
				"a filter names a field of %s, not of %s", doctype, plan->meta->name);
}

static void
add_order(FiExportPlan *plan, const char *field, bool desc)
{
	plan->order[plan->norder].field = field;
	plan->order[plan->norder].desc = desc;
	plan->norder++;
}

bool
fi_export_order_by(FiExportPlan *plan, const char *order_by, const FiExportHooks *h, FiExportError *err)
{
	const char *p;
	bool		has_name = false;
	int			terms = 2;

	if (order_by == NULL)
	{
		plan->order = h->alloc(h->arg, sizeof(FiExportOrder) * 2);
		/* Frappe's Exporter: a tree by lft (parents before children), else newest first */
		if (fi_meta_field(plan->meta, "lft") && fi_meta_field(plan->meta, "rgt") &&
			h->in_table(h->arg, plan->meta, "lft"))
		{
			add_order(plan, "lft", false);
			add_order(plan, "name", false);
		}
		else
		{
			add_order(plan, "creation", true);
			add_order(plan, "name", true);
		}
		return true;
	}
	for (p = order_by; *p; p++)
		terms += *p == ',';
	plan->order = h->alloc(h->arg, sizeof(FiExportOrder) * terms);
	for (p = order_by; *p;)
	{
		size_t		len = strcspn(p, ",");
		char	   *part = fi_alloc_strndup(h->alloc, h->arg, p, len);
		char	   *w[3] = {NULL, NULL, NULL};
		int			nw = 0;
		char	   *q = part;

		p += len;
		if (*p == ',')
			p++;
		/* words of the term (strtok: an empty term is none) */
		while (*q)
		{
			q += strspn(q, " \t\n");
			if (*q == '\0')
				break;
			if (nw == 3)
			{
				nw++;
				break;
			}
			w[nw++] = q;
			q += strcspn(q, " \t\n");
			if (*q)
				*q++ = '\0';
		}
		if (len == 0)
			continue;
		if (nw == 0 || nw > 2 || (nw == 2 && strcasecmp(w[1], "asc") != 0 && strcasecmp(w[1], "desc") != 0))
		{
			fail(err, INVALID_PARAMETER, NULL, "order_by must be fields each with an optional asc or desc");
			snprintf(err->detail, sizeof(err->detail), "\"%s\" is not.", order_by);
			return false;
		}
		if (!filter_column(plan, w[0], h, err))
			return false;
		has_name |= strcmp(w[0], "name") == 0;
		add_order(plan, w[0], nw == 2 && strcasecmp(w[1], "desc") == 0);
	}
	if (plan->norder == 0)
		return fail(err, INVALID_PARAMETER, NULL, "option \"order_by\" must be a string such as \"modified desc\"");
	/* a total order: child rows are read in the same order as their parents */
	if (!has_name)
		add_order(plan, "name", false);
	return true;
}
