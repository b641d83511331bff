/*
 * importupdate.c
 *		Data Import's Update Existing Records (see importupdate.h).
 */
#include "engine/importupdate.h"

#include <stdlib.h>
#include <string.h>

bool
fi_import_same_value(FiCellKind kind, const char *stored, const char *given)
{
	size_t		ls,
				lg,
				k;
	const char *rest;

	if (stored == NULL || given == NULL)
		return stored == given;
	switch (kind)
	{
		case FI_CELL_INT:
		case FI_CELL_CHECK:
		case FI_CELL_NUMBER:
		case FI_CELL_DURATION:
			{
				char	   *e1,
						   *e2;
				double		a = strtod(stored, &e1),
							b = strtod(given, &e2);

				if (e1 != stored && *e1 == '\0' && e2 != given && *e2 == '\0')
					return a == b;
				break;
			}
		case FI_CELL_DATETIME:
		case FI_CELL_TIME:
			ls = strlen(stored);
			lg = strlen(given);
			k = ls < lg ? ls : lg;
			if (strncmp(stored, given, k) != 0)
				return false;
			rest = ls > lg ? stored + k : given + k;
			if (*rest == '\0')
				return true;
			if (*rest++ != '.')
				return false;
			while (*rest == '0')
				rest++;
			return *rest == '\0';
		default:
			break;
	}
	return strcmp(stored, given) == 0;
}

void
fi_import_update_match(FiUpdDoc *doc)
{
	for (int c = 0; c < doc->nchildren; c++)
	{
		FiUpdChild *ch = &doc->children[c];
		const FiUpdRow *rows = doc->stored_rows[ch->table];

		ch->at = -1;
		if (ch->name != NULL)
			for (int r = 0; r < doc->nstored[ch->table] && ch->at < 0; r++)
				if (strcmp(rows[r].name, ch->name) == 0)
					ch->at = r;
		ch->stored = ch->at >= 0;
	}
}

/* would the file's row change the stored one?  (an empty cell leaves the value) */
static bool
row_changes(const FiUpdTable *t, const char *const *vals, const char *const *stored)
{
	for (int i = 0; i < t->nmapped; i++)
		if (vals[i] != NULL && !fi_import_same_value(t->fields[i].kind, stored[i], vals[i]))
			return true;
	return false;
}

FiUpdErr
fi_import_update_decide(const FiUpdTable *tables, int ntables, FiUpdDoc *doc, int *at, char **message,
						FiAlloc alloc, void *arg)
{
	const FiUpdTable *t0 = &tables[0];
	bool		changed;

	*at = -1;
	*message = NULL;
	doc->skipped = false;
	for (int ti = 0; ti < ntables; ti++)
		doc->replace[ti] = false;
	if (doc->docstatus == 2)
	{
		*message = fi_alloc_strndup(alloc, arg, "Cannot edit cancelled document", 30);
		return FI_UPD_CANCELLED;
	}
	if (doc->docstatus == 1)
		for (int i = 0; i < t0->nmapped; i++)
			if (doc->vals[i] != NULL && !t0->fields[i].allow_on_submit &&
				!fi_import_same_value(t0->fields[i].kind, doc->stored[i], doc->vals[i]))
			{
				*at = i;
				*message = fi_import_msg_after_submit(t0->fields[i].label, alloc, arg);
				return FI_UPD_AFTER_SUBMIT_FIELD;
			}
	changed = row_changes(t0, doc->vals, doc->stored);
	for (int ti = 1; ti < ntables; ti++)
	{
		int			pos = 0;
		bool		tchanged = false;

		for (int c = 0; c < doc->nchildren; c++)
		{
			const FiUpdChild *ch = &doc->children[c];

			if (ch->table != ti)
				continue;
			/* a row moved, new, or with a changed value */
			if (ch->at != pos || row_changes(&tables[ti], ch->vals, doc->stored_rows[ti][ch->at].vals))
				tchanged = true;
			pos++;
		}
		if (pos == 0)
			continue;			/* no row of this table for the document: its rows stay */
		if (pos != doc->nstored[ti])
			tchanged = true;
		if (!tchanged)
			continue;
		if (doc->docstatus == 1 && !tables[ti].allow_on_submit)
		{
			*at = ti;
			*message = fi_import_msg_after_submit(tables[ti].label, alloc, arg);
			return FI_UPD_AFTER_SUBMIT_TABLE;
		}
		doc->replace[ti] = changed = true;
	}
	doc->skipped = !changed;
	return FI_UPD_OK;
}
