/*
 * importmap.c
 *		Frappe's Data Import header rules (see importmap.h).
 */
#include "engine/importmap.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool
streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/*
 * The field of meta a title names: label, fieldname or "Label
 * (fieldname)".  A label two fields share names the first of them in the
 * DocType and the last in a child table (Frappe's header map sets a
 * parent's label once and a child's every time).
 */
static const FiDocField *
match_field(const FiDocMeta *meta, const char *title, bool last_label)
{
	const FiDocField *found = NULL;
	size_t		tl = strlen(title);

	for (int i = 0; i < meta->nfields; i++)
		if (fi_field_has_value(&meta->fields[i]) && streq(meta->fields[i].label, title))
		{
			found = &meta->fields[i];
			if (!last_label)
				break;
		}
	if (found)
		return found;
	for (int i = 0; i < meta->nfields; i++)
		if (fi_field_has_value(&meta->fields[i]) && streq(meta->fields[i].fieldname, title))
			return &meta->fields[i];
	for (int i = 0; i < meta->nfields; i++)
	{
		const FiDocField *df = &meta->fields[i];

		if (fi_field_has_value(df) && df->label != NULL)
		{
			size_t		ll = strlen(df->label),
						fl = strlen(df->fieldname);

			if (tl == ll + fl + 3 && strncmp(title, df->label, ll) == 0 &&
				strncmp(title + ll, " (", 2) == 0 && strncmp(title + ll + 2, df->fieldname, fl) == 0 &&
				title[ll + 2 + fl] == ')')
				return df;
		}
	}
	return NULL;
}

FiImpColKind
fi_import_match_title(const FiDocMeta *meta, const char *title, const FiImportHooks *hooks,
					  const FiDocField **table_field, const FiDocField **field)
{
	const FiDocField *df;
	const char *autofield = NULL;
	size_t		tl = strlen(title);

	*table_field = NULL;
	*field = NULL;
	if (meta->autoname && strncasecmp(meta->autoname, "field:", 6) == 0)
		autofield = meta->autoname + 6;
	/* the ID of a DocType named by a field is that field */
	if (streq(title, "ID") || streq(title, "name"))
	{
		if (autofield && (*field = fi_meta_field(meta, autofield)) != NULL)
			return FI_IMPCOL_FIELD;
		return FI_IMPCOL_ID;
	}
	if (autofield && (df = fi_meta_field(meta, autofield)) != NULL &&
		strncmp(title, "ID (", 4) == 0 && title[tl - 1] == ')' &&
		strlen(df->label ? df->label : df->fieldname) == tl - 5 &&
		strncmp(title + 4, df->label ? df->label : df->fieldname, tl - 5) == 0)
	{
		*field = df;
		return FI_IMPCOL_FIELD;
	}
	if ((df = match_field(meta, title, false)) != NULL)
	{
		*field = df;
		return FI_IMPCOL_FIELD;
	}
	if (streq(title, "Owner") || streq(title, "owner"))
		return FI_IMPCOL_OWNER;
	if (streq(title, "Document Status") || streq(title, "docstatus"))
		return FI_IMPCOL_DOCSTATUS;

	/* child columns: "Label (Table Label)" or "table_fieldname.fieldname" */
	for (int i = 0; i < meta->nfields; i++)
	{
		const FiDocField *tdf = &meta->fields[i];
		const FiDocMeta *cm;
		const char *tlabel;
		size_t		fl,
					ll;
		const char *inner = NULL;
		bool		by_fieldname = false;

		if (!fi_fieldtype_is_table(tdf->fieldtype) || tdf->options == NULL)
			continue;
		tlabel = tdf->label ? tdf->label : tdf->fieldname;
		fl = strlen(tdf->fieldname);
		ll = strlen(tlabel);
		if (tl > fl + 1 && strncmp(title, tdf->fieldname, fl) == 0 && title[fl] == '.')
		{
			inner = title + fl + 1;
			by_fieldname = true;
		}
		else if (tl > ll + 3 && title[tl - 1] == ')' && strncmp(title + tl - ll - 1, tlabel, ll) == 0 &&
				 strncmp(title + tl - ll - 3, " (", 2) == 0)
			inner = fi_alloc_strndup(hooks->alloc, hooks->arg, title, tl - ll - 3);
		if (inner == NULL || (cm = hooks->meta(hooks->arg, tdf->options)) == NULL)
			continue;
		*table_field = tdf;
		if (streq(inner, "ID") || streq(inner, "name"))
			return FI_IMPCOL_ID;
		if (streq(inner, "Row Index") || streq(inner, "idx"))
			return FI_IMPCOL_IDX;
		if (streq(inner, "Parent") || streq(inner, "parent") || streq(inner, "Parent Type") ||
			streq(inner, "parenttype") || streq(inner, "Parent Field") || streq(inner, "parentfield"))
			return FI_IMPCOL_SKIP;
		if ((df = by_fieldname ? fi_meta_field(cm, inner) : match_field(cm, inner, true)) != NULL &&
			fi_field_has_value(df))
		{
			*field = df;
			return FI_IMPCOL_FIELD;
		}
		*table_field = NULL;
	}
	return FI_IMPCOL_NONE;
}

void
fi_import_header_init(FiImpHeader *h, const FiDocMeta *meta, const FiImportHooks *hooks)
{
	int			ntablefields = 0;

	memset(h, 0, sizeof(*h));
	h->meta = meta;
	h->hooks = hooks;
	for (int i = 0; i < meta->nfields; i++)
		if (fi_fieldtype_is_table(meta->fields[i].fieldtype))
			ntablefields++;
	h->cap = ntablefields + 1;
	h->table_field = hooks->alloc(hooks->arg, sizeof(*h->table_field) * h->cap);
	h->table_meta = hooks->alloc(hooks->arg, sizeof(*h->table_meta) * h->cap);
	h->id_col = hooks->alloc(hooks->arg, sizeof(int) * h->cap);
	h->idx_col = hooks->alloc(hooks->arg, sizeof(int) * h->cap);
	h->owner_col = hooks->alloc(hooks->arg, sizeof(int) * h->cap);
	h->docstatus_col = hooks->alloc(hooks->arg, sizeof(int) * h->cap);
	h->seen = hooks->alloc(hooks->arg, sizeof(bool *) * h->cap);
	h->ntables = 1;
	h->table_meta[0] = meta;
	h->seen[0] = hooks->alloc(hooks->arg, sizeof(bool) * (meta->nfields + 1));
	for (int t = 0; t < h->cap; t++)
		h->id_col[t] = h->idx_col[t] = h->owner_col[t] = h->docstatus_col[t] = -1;
}

/* the table of a Table field, added on first use */
static int
table_of(FiImpHeader *h, const FiDocField *tdf)
{
	const FiDocMeta *cm;

	if (tdf == NULL)
		return 0;
	for (int t = 1; t < h->ntables; t++)
		if (h->table_field[t] == tdf)
			return t;
	cm = h->hooks->meta(h->hooks->arg, tdf->options);
	h->table_field[h->ntables] = tdf;
	h->table_meta[h->ntables] = cm;
	h->seen[h->ntables] = h->hooks->alloc(h->hooks->arg, sizeof(bool) * (cm->nfields + 1));
	return h->ntables++;
}

static char *
warning(FiImpHeader *h, int c, const char *title, const char *why)
{
	char		num[32];

	snprintf(num, sizeof(num), "column %d", c + 1);
	if (title == NULL)
		return fi_alloc_concat(h->hooks->alloc, h->hooks->arg, num, " ", why, "");
	return fi_alloc_concat(h->hooks->alloc, h->hooks->arg, num, " (\"", title, why);
}

void
fi_import_header_column(FiImpHeader *h, int c, const char *title, const char *over, FiImpColumn *out)
{
	const FiDocField *tdf;
	const FiDocField *df;
	FiImpColKind kind;
	int			t;
	int		   *slot = NULL;

	memset(out, 0, sizeof(*out));
	out->table = -1;
	if (streq(over, "Don't Import"))
	{
		out->warning = warning(h, c, title, "\") is not imported (column_to_field_map)");
		return;
	}
	if (*title == '\0' && over == NULL)
	{
		out->warning = warning(h, c, NULL, "has no title and is skipped");
		return;
	}
	kind = fi_import_match_title(h->meta, over ? over : title, h->hooks, &tdf, &df);
	if (kind == FI_IMPCOL_NONE)
	{
		out->warning = fi_alloc_concat(h->hooks->alloc, h->hooks->arg, warning(h, c, title, "\") matches no field of "),
								   h->meta->name, " and is skipped", "");
		return;
	}
	t = table_of(h, tdf);
	out->table = t;
	if (kind == FI_IMPCOL_SKIP)
	{
		out->kind = kind;		/* (the child table is written, the column is not) */
		return;
	}
	switch (kind)
	{
		case FI_IMPCOL_ID:
			slot = &h->id_col[t];
			break;
		case FI_IMPCOL_IDX:
			slot = &h->idx_col[t];
			break;
		case FI_IMPCOL_OWNER:
			slot = &h->owner_col[t];
			break;
		case FI_IMPCOL_DOCSTATUS:
			slot = &h->docstatus_col[t];
			break;
		default:
			break;
	}
	/* a repeat: the later column is skipped (Frappe) */
	if ((slot != NULL && *slot >= 0) ||
		(kind == FI_IMPCOL_FIELD && h->seen[t][df - h->table_meta[t]->fields]))
	{
		out->table = -1;
		out->warning = warning(h, c, title, "\") repeats an earlier column and is skipped");
		return;
	}
	if (slot != NULL)
		*slot = c;
	else
		h->seen[t][df - h->table_meta[t]->fields] = true;
	out->kind = kind;
	out->field = df;
	h->nmapped++;
}

bool
fi_import_is_parent_column(const FiImpColumn *col)
{
	return col->table == 0 && col->warning == NULL &&
		(col->kind == FI_IMPCOL_FIELD || col->kind == FI_IMPCOL_ID || col->kind == FI_IMPCOL_OWNER ||
		 col->kind == FI_IMPCOL_DOCSTATUS);
}

FiImpRowKind
fi_import_row_kind(const FiCsvReader *r, const bool *parent_col, int ncols, bool have_document)
{
	bool		empty = true,
				parent_values = false;

	for (int i = 0; i < r->nfields; i++)
	{
		size_t		b;

		if (fi_py_strip(r->buf + r->off[i], r->len[i], &b) > 0)
		{
			empty = false;
			if (i < ncols && parent_col[i])
			{
				parent_values = true;
				break;
			}
		}
	}
	if (empty)
		return FI_IMPROW_BLANK;
	return parent_values || !have_document ? FI_IMPROW_STARTS : FI_IMPROW_CONTINUES;
}

/* ---- the template ---- */

static bool
label_repeats(const FiDocMeta *meta, const FiDocField *df)
{
	if (df->label == NULL)
		return true;
	for (int i = 0; i < meta->nfields; i++)
		if (&meta->fields[i] != df && fi_field_has_value(&meta->fields[i]) &&
			streq(meta->fields[i].label, df->label))
			return true;
	return false;
}

static bool
template_wants(const FiDocField *df, bool mandatory_only)
{
	if (!fi_field_has_value(df))
		return false;
	if (mandatory_only)
		return df->reqd;
	return !df->hidden && !df->read_only;
}

void
fi_import_template_titles(const FiDocMeta *meta, bool children, bool mandatory_only,
						  const FiImportHooks *hooks,
						  void (*emit) (void *arg, const char *title), void *emit_arg)
{
	emit(emit_arg, "ID");
	for (int i = 0; i < meta->nfields; i++)
	{
		const FiDocField *df = &meta->fields[i];

		if (template_wants(df, mandatory_only))
			emit(emit_arg, label_repeats(meta, df) ? df->fieldname : df->label);
	}
	for (int i = 0; children && i < meta->nfields; i++)
	{
		const FiDocField *tdf = &meta->fields[i];
		const FiDocMeta *cm;
		const char *tl;

		if (!fi_fieldtype_is_table(tdf->fieldtype) || tdf->options == NULL ||
			(cm = hooks->meta(hooks->arg, tdf->options)) == NULL)
			continue;
		tl = tdf->label ? tdf->label : tdf->fieldname;
		emit(emit_arg, fi_alloc_concat(hooks->alloc, hooks->arg, "ID (", tl, ")", ""));
		for (int j = 0; j < cm->nfields; j++)
		{
			const FiDocField *df = &cm->fields[j];

			if (!template_wants(df, mandatory_only))
				continue;
			if (label_repeats(cm, df))
				emit(emit_arg, fi_alloc_concat(hooks->alloc, hooks->arg, tdf->fieldname, ".", df->fieldname, ""));
			else
				emit(emit_arg, fi_alloc_concat(hooks->alloc, hooks->arg, df->label, " (", tl, ")"));
		}
	}
}
