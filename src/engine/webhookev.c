/*
 * webhookev.c
 *		Frappe's document events of a webhook (see webhookev.h).
 */
#include "engine/webhookev.h"

#include <stdlib.h>
#include <string.h>

static const char *const event_names[] = {
	"after_insert", "on_update", "on_submit", "on_cancel", "on_trash",
	"on_update_after_submit", "on_change"
};

#define NEVENTS (sizeof(event_names) / sizeof(event_names[0]))

const char *
fi_event_name(uint32_t bit)
{
	for (unsigned i = 0; i < NEVENTS; i++)
		if (bit == (1u << i))
			return event_names[i];
	return "";
}

uint32_t
fi_event_bit(const char *name)
{
	for (unsigned i = 0; i < NEVENTS; i++)
		if (name && strcmp(name, event_names[i]) == 0)
			return 1u << i;
	return 0;
}

uint32_t
fi_row_events(FiRowOp op, int old_ds, int new_ds)
{
	if (op == FI_ROW_INSERT)
		return FI_EV_AFTER_INSERT | FI_EV_ON_UPDATE | (new_ds == 1 ? FI_EV_ON_SUBMIT : 0);
	if (op == FI_ROW_DELETE)
		return FI_EV_ON_TRASH;
	if (old_ds == 0 && new_ds == 0)
		return FI_EV_ON_UPDATE | FI_EV_ON_CHANGE;
	if (old_ds == 0 && new_ds == 1)
		return FI_EV_ON_UPDATE | FI_EV_ON_SUBMIT | FI_EV_ON_CHANGE;
	if (old_ds == 1 && new_ds == 2)
		return FI_EV_ON_CANCEL | FI_EV_ON_CHANGE;
	if (old_ds == 1 && new_ds == 1)
		return FI_EV_ON_UPDATE_AFTER_SUBMIT | FI_EV_ON_CHANGE;
	/* a cancelled document changed (db_set), or an unusual transition */
	return FI_EV_ON_CHANGE;
}

uint32_t
fi_events_at_commit(uint32_t noted, bool has_row, int docstatus)
{
	uint32_t	ev = noted & ~(FI_EV_CHILD | FI_EV_GONE);

	if (noted & FI_EV_CHILD)
		ev |= FI_EV_ON_CHANGE | (has_row && docstatus == 1 ? FI_EV_ON_UPDATE_AFTER_SUBMIT : FI_EV_ON_UPDATE);
	return ev;
}

/* a document's part in one change: its own row, a child row, or a rename's old name */
typedef enum
{
	PART_ROW,
	PART_CHILD,
	PART_OLD_NAME
} PartKind;

typedef struct Part
{
	const char *doctype;
	const char *name;
	int			change;
	PartKind	kind;
} Part;

static int
part_cmp(const void *a, const void *b)
{
	const Part *x = *(const Part *const *) a;
	const Part *y = *(const Part *const *) b;
	int			r = strcmp(x->doctype, y->doctype);

	if (r == 0)
		r = strcmp(x->name, y->name);
	if (r == 0)
		r = (x->change > y->change) - (x->change < y->change);
	if (r == 0)
		r = (int) x->kind - (int) y->kind;
	return r;
}

static int
doc_cmp(const void *a, const void *b)
{
	const FiDocChange *x = a;
	const FiDocChange *y = b;

	return (x->order > y->order) - (x->order < y->order);
}

int
fi_fold_changes(const FiRowChange *c, int n, FiDocChange *out, FiAlloc alloc, void *arg)
{
	Part	   *parts;
	Part	  **sorted;
	int			np = 0,
				nd = 0;

	if (n <= 0)
		return 0;
	parts = alloc(arg, sizeof(Part) * 2 * (size_t) n);
	sorted = alloc(arg, sizeof(Part *) * 2 * (size_t) n);
	for (int i = 0; i < n; i++)
	{
		if (c[i].doctype == NULL || c[i].name == NULL)
			continue;
		if (c[i].parent != NULL)
		{
			if (c[i].parenttype == NULL)
				continue;
			parts[np++] = (Part) {c[i].parenttype, c[i].parent, i, PART_CHILD};
			continue;
		}
		if (c[i].op == FI_ROW_UPDATE && c[i].old_name != NULL && strcmp(c[i].old_name, c[i].name) != 0)
			parts[np++] = (Part) {c[i].doctype, c[i].old_name, i, PART_OLD_NAME};
		parts[np++] = (Part) {c[i].doctype, c[i].name, i, PART_ROW};
	}
	for (int i = 0; i < np; i++)
		sorted[i] = &parts[i];
	qsort(sorted, (size_t) np, sizeof(Part *), part_cmp);
	for (int i = 0; i < np;)
	{
		FiDocChange *d = &out[nd++];
		int			j = i;

		d->doctype = sorted[i]->doctype;
		d->name = sorted[i]->name;
		d->noted = 0;
		d->row_change = -1;
		d->has_row = false;
		d->docstatus = 0;
		for (; j < np && strcmp(sorted[j]->doctype, d->doctype) == 0 && strcmp(sorted[j]->name, d->name) == 0; j++)
		{
			const Part *p = sorted[j];
			const FiRowChange *r = &c[p->change];

			d->last = p->change;	/* sorted by change within a document */
			d->order = 2 * p->change + (p->kind != PART_OLD_NAME);
			if (p->kind == PART_CHILD)
			{
				d->noted |= FI_EV_CHILD;
				continue;
			}
			d->row_change = p->change;
			if (p->kind == PART_OLD_NAME)
			{
				d->noted |= FI_EV_GONE;
				d->has_row = false;
				d->docstatus = r->docstatus_old;
				continue;
			}
			d->noted = (d->noted & ~FI_EV_GONE) | fi_row_events(r->op, r->docstatus_old, r->docstatus_new);
			d->has_row = r->op != FI_ROW_DELETE;
			d->docstatus = d->has_row ? r->docstatus_new : r->docstatus_old;
			if (!d->has_row)
				d->noted |= FI_EV_GONE;
		}
		i = j;
	}
	qsort(out, (size_t) nd, sizeof(FiDocChange), doc_cmp);
	return nd;
}
