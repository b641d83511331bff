/*
 * webhookev.h
 *		Frappe's document events of a webhook (SPEC 1), without a database:
 *		which events a row change of a document fires, how a transaction's
 *		changes of one document fold into the events it delivers (Frappe
 *		sends a webhook once per document and event), and the events' names
 *		(the Select options of tabWebhook.webhook_docevent).
 */
#ifndef FI_WEBHOOKEV_H
#define FI_WEBHOOKEV_H

#include <stdbool.h>
#include <stdint.h>

#define FI_EV_AFTER_INSERT			0x0001
#define FI_EV_ON_UPDATE				0x0002
#define FI_EV_ON_SUBMIT				0x0004
#define FI_EV_ON_CANCEL				0x0008
#define FI_EV_ON_TRASH				0x0010
#define FI_EV_ON_UPDATE_AFTER_SUBMIT 0x0020
#define FI_EV_ON_CHANGE				0x0040
/* noted only: a child row changed (the parent's save events, by its
 * docstatus at commit); the document's row is gone (deleted or renamed) */
#define FI_EV_CHILD					0x0100
#define FI_EV_GONE					0x0200
#define FI_EV_CHILD_SAVE	(FI_EV_ON_UPDATE | FI_EV_ON_CHANGE | FI_EV_ON_UPDATE_AFTER_SUBMIT)

typedef enum FiRowOp
{
	FI_ROW_INSERT,
	FI_ROW_UPDATE,
	FI_ROW_DELETE
} FiRowOp;

/* "after_insert", ...; "" for a bit that is not one event */
extern const char *fi_event_name(uint32_t bit);

/* the bit of an event's name, 0 when it is none */
extern uint32_t fi_event_bit(const char *name);

/*
 * The events of a change of a document's own row, by its docstatus
 * before (UPDATE) and after (INSERT, UPDATE): insert = after_insert +
 * on_update (+ on_submit when inserted submitted); 0→0 on_update +
 * on_change; 0→1 on_update + on_submit + on_change; 1→2 on_cancel +
 * on_change; 1→1 on_update_after_submit + on_change; anything else
 * (a cancelled document's db_set) on_change; delete on_trash.
 */
extern uint32_t fi_row_events(FiRowOp op, int old_docstatus, int new_docstatus);

/*
 * What a document delivers of the events noted for it in a transaction
 * (OR-ed fi_row_events, FI_EV_CHILD for changed child rows), given its
 * docstatus at commit (has_row false: the row is gone).  A child row
 * change is a save of the parent: on_update or on_update_after_submit,
 * and on_change.
 */
extern uint32_t fi_events_at_commit(uint32_t noted, bool has_row, int docstatus);

#endif							/* FI_WEBHOOKEV_H */
