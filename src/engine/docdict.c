/*
 * docdict.c
 *		A Frappe document as its as_dict() gives it (see docdict.h).
 */
#include "engine/docdict.h"

#include <stdlib.h>
#include <string.h>

#include "engine/exportfmt.h"

static const char *const std_fields[] = {
	"name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"
};
static const char *const child_fields[] = {"parent", "parentfield", "parenttype"};

const char *const fi_doc_extra_keys[FI_DOC_NEXTRA] = {"_user_tags", "_liked_by"};

#define lengthof(a) ((int) (sizeof(a) / sizeof((a)[0])))

int
fi_doc_row_keys(const FiDocMeta *meta, FiAlloc alloc, void *arg, FiDocKey **out)
{
	FiDocKey   *keys = alloc(arg, sizeof(FiDocKey) * (lengthof(std_fields) + lengthof(child_fields) +
													  meta->nfields + 1));
	int			n = 0;

	for (int i = 0; i < lengthof(std_fields); i++)
		keys[n++].key = std_fields[i];
	if (meta->istable)
		for (int i = 0; i < lengthof(child_fields); i++)
			keys[n++].key = child_fields[i];
	for (int i = 0; i < meta->nfields; i++)
	{
		const FiDocField *df = &meta->fields[i];
		bool		dup = false;

		if (df->is_virtual || !fi_fieldtype_has_column(df->fieldtype))
			continue;
		for (int j = 0; j < n && !dup; j++)
			dup = strcmp(keys[j].key, df->fieldname) == 0;
		if (!dup)
		{
			keys[n].key = df->fieldname;
			keys[n++].df = df;
		}
	}
	*out = keys;
	return n;
}

FiVal *
fi_doc_value(FiTpl *t, FiDocText kind, const FiDocField *df, const char *s, size_t n, bool dates_as_str)
{
	FiExportClock c;
	char		text[FI_EXPORT_CLOCK_MAX];
	size_t		len;

	if (s == NULL)
		return fi_val_none(t);
	switch (kind)
	{
		case FI_DT_INT:
			{
				char		buf[32];
				char	   *end;
				long long	v;

				if (n >= sizeof(buf))
					break;
				memcpy(buf, s, n);
				buf[n] = '\0';
				v = strtoll(buf, &end, 10);
				if (*end != '\0')
					break;
				return fi_val_int(t, v);
			}
		case FI_DT_NUMBER:
			return fi_val_float_text(t, s, n);
		case FI_DT_CLOCK:
			/* a date beyond Python's (a zero date, a time past 24 h): its text */
			if (!fi_export_parse_clock(s, n, &c) || (c.has_date && (c.year < 1 || c.year > 9999)))
				break;
			if (!dates_as_str && c.has_date && c.has_time)
				return fi_val_datetime(t, c.year, c.month, c.day, c.hour, c.minute, c.second, c.usec);
			if (!dates_as_str && c.has_date)
				return fi_val_date(t, c.year, c.month, c.day);
			if (!fi_export_clock_text(s, n, &len, text))
				break;
			return fi_val_str(t, text, len);
		case FI_DT_TEXT:
			/* Frappe: an empty unique value is None */
			if (n == 0 && df != NULL && df->unique)
				return fi_val_none(t);
			break;
		case FI_DT_OTHER:
			break;
	}
	return fi_val_str(t, s, n);
}

static bool
in_list(const char *key, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == n && memcmp(key, *list, n) == 0)
			return true;
	return false;
}

static const char *const json_drop[] = {"modified_by", "creation", "owner", "idx", "lft", "rgt", NULL};
static const char *const json_child_drop[] = {"docstatus", "doctype", "modified", "name", NULL};
static const char *const doc_drop[] = {NULL};
static const char *const doc_child_drop[] = {
	"doctype", "name", "owner", "creation", "modified", "modified_by", "docstatus", "idx",
	"parent", "parentfield", "parenttype", NULL
};

/* a copy of document d without the keys dropped (and without nulls when asked) */
static FiVal *
shape(FiTpl *t, FiVal *d, const char *const *drop, const char *const *child_drop, bool no_nulls)
{
	FiVal	   *out = fi_val_dict(t);

	if (out == NULL)
		return NULL;
	for (int i = 0; i < fi_val_count(d); i++)
	{
		size_t		kn;
		const char *key = fi_val_text(fi_val_key_at(d, i), &kn);
		FiVal	   *v = fi_val_value_at(d, i);

		if (key == NULL || in_list(key, kn, drop) || (no_nulls && fi_val_kind(v) == FI_VK_NONE))
			continue;
		if (fi_val_kind(v) == FI_VK_LIST && child_drop != NULL)
		{
			FiVal	   *l = fi_val_list(t);

			if (l == NULL)
				return NULL;
			for (int j = 0; j < fi_val_count(v); j++)
			{
				FiVal	   *item = fi_val_item(v, j);

				if (fi_val_kind(item) == FI_VK_DICT && (item = shape(t, item, child_drop, NULL, no_nulls)) == NULL)
					return NULL;
				fi_val_append(t, l, item);
			}
			v = l;
		}
		fi_val_set(t, out, key, kn, v);
	}
	return out;
}

FiVal *
fi_doc_export_shape(FiTpl *t, FiVal *doc, bool doc_form)
{
	return shape(t, doc, doc_form ? doc_drop : json_drop, doc_form ? doc_child_drop : json_child_drop, doc_form);
}
