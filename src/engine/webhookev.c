/*
 * webhookev.c
 *		Frappe's document events of a webhook (see webhookev.h).
 */
#include "engine/webhookev.h"

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
