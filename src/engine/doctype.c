/*
 * doctype.c
 *		A DocType's meta without a database (see doctype.h).
 */
#include "engine/doctype.h"

#include <stdlib.h>
#include <string.h>

const FiDocField *
fi_meta_field(const FiDocMeta *meta, const char *fieldname)
{
	for (int i = 0; i < meta->nfields; i++)
		if (strcmp(meta->fields[i].fieldname, fieldname) == 0)
			return &meta->fields[i];
	return NULL;
}

bool
fi_fieldtype_is_table(const char *fieldtype)
{
	return strcmp(fieldtype, "Table") == 0 ||
		strcmp(fieldtype, "Table MultiSelect") == 0;
}

bool
fi_fieldtype_has_column(const char *fieldtype)
{
	static const char *const no_value[] = {
		"Section Break", "Column Break", "Tab Break", "HTML", "Table",
		"Table MultiSelect", "Button", "Image", "Fold", "Heading"
	};

	for (size_t i = 0; i < sizeof(no_value) / sizeof(no_value[0]); i++)
		if (strcmp(fieldtype, no_value[i]) == 0)
			return false;
	return true;
}

bool
fi_field_has_value(const FiDocField *df)
{
	return fi_fieldtype_has_column(df->fieldtype) && !df->is_virtual;
}

void
fi_field_set_property(FiDocField *f, const char *prop, char *value)
{
	static const struct
	{
		const char *name;
		size_t		off;
	}			strs[] = {
		{"label", offsetof(FiDocField, label)},
		{"fieldtype", offsetof(FiDocField, fieldtype)},
		{"options", offsetof(FiDocField, options)},
		{"precision", offsetof(FiDocField, precision)},
		{"fetch_from", offsetof(FiDocField, fetch_from)},
		{"insert_after", offsetof(FiDocField, insert_after)},
		{"default", offsetof(FiDocField, default_value)},
	},
				flags[] = {
		{"reqd", offsetof(FiDocField, reqd)},
		{"unique", offsetof(FiDocField, unique)},
		{"hidden", offsetof(FiDocField, hidden)},
		{"read_only", offsetof(FiDocField, read_only)},
		{"no_copy", offsetof(FiDocField, no_copy)},
		{"set_only_once", offsetof(FiDocField, set_only_once)},
		{"allow_on_submit", offsetof(FiDocField, allow_on_submit)},
		{"in_list_view", offsetof(FiDocField, in_list_view)},
		{"non_negative", offsetof(FiDocField, non_negative)},
		{"is_virtual", offsetof(FiDocField, is_virtual)},
		{"fetch_if_empty", offsetof(FiDocField, fetch_if_empty)},
		{"hide_days", offsetof(FiDocField, hide_days)},
		{"hide_seconds", offsetof(FiDocField, hide_seconds)},
	};

	if (strcmp(prop, "length") == 0)
	{
		f->length = atoi(value);
		return;
	}
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strcmp(prop, strs[i].name) == 0)
		{
			*(char **) ((char *) f + strs[i].off) = value;
			return;
		}
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strcmp(prop, flags[i].name) == 0)
		{
			*(bool *) ((char *) f + flags[i].off) = atoi(value) != 0;
			return;
		}
}

void
fi_doctype_set_property(FiDocMeta *m, const char *prop, char *value)
{
	if (strcmp(prop, "autoname") == 0)
		m->autoname = value;
	else if (strcmp(prop, "naming_rule") == 0)
		m->naming_rule = value;
	else if (strcmp(prop, "title_field") == 0)
		m->title_field = value;
	else if (strcmp(prop, "sort_field") == 0)
		m->sort_field = value;
	else if (strcmp(prop, "sort_order") == 0)
		m->sort_order = value;
	else if (strcmp(prop, "track_seen") == 0)
		m->track_seen = atoi(value) != 0;
}

/*
 * Field i, then the custom fields placed after it, into out[*n]; done[]
 * guards against cycles in insert_after.  Iterative: a chain of custom
 * fields each after the last is as deep as the DocType is long.
 */
static void
emit_with_followers(const FiDocField *all, int nall, int i, bool *done, FiDocField *out, int *n)
{
	int			start = *n;

	if (done[i])
		return;
	done[i] = true;
	out[(*n)++] = all[i];
	/* out[start..*n) is the emitted list; each entry's followers go right after it */
	for (int k = start; k < *n; k++)
	{
		int			at = k + 1;

		for (int j = 0; j < nall; j++)
			if (!done[j] && all[j].is_custom && all[j].insert_after &&
				strcmp(all[j].insert_after, out[k].fieldname) == 0)
			{
				done[j] = true;
				memmove(&out[at + 1], &out[at], sizeof(FiDocField) * (*n - at));
				out[at++] = all[j];
				(*n)++;
			}
	}
}

void
fi_doctype_sort_fields(FiDocMeta *m, const char *const *field_order, int norder,
					   FiDocField *out, bool *done)
{
	int			n = 0;

	memset(done, 0, sizeof(bool) * m->nfields);
	for (int o = 0; o < norder; o++)
		for (int i = 0; i < m->nfields; i++)
			if (!done[i] && strcmp(m->fields[i].fieldname, field_order[o]) == 0)
			{
				done[i] = true;
				out[n++] = m->fields[i];
			}
	/* standard fields in order, each followed by its custom fields */
	for (int i = 0; i < m->nfields; i++)
		if (!m->fields[i].is_custom)
			emit_with_followers(m->fields, m->nfields, i, done, out, &n);
	/* custom fields whose insert_after names nothing present */
	for (int i = 0; i < m->nfields; i++)
		emit_with_followers(m->fields, m->nfields, i, done, out, &n);
	for (int i = 0; i < n; i++)
		out[i].idx = i + 1;
	m->fields = out;
}
