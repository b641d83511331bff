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

#include "engine/alloc.h"

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

/*
 * One captured change of a row, in the order it was captured (a row of
 * MariaDB's __fi_webhook_outbox).
 */
typedef struct FiRowChange
{
	FiRowOp		op;
	const char *doctype;		/* the DocType of the row's table */
	const char *name;
	const char *old_name;		/* an UPDATE that renamed the row: its name before, else NULL */
	int			docstatus_old;	/* UPDATE, DELETE */
	int			docstatus_new;	/* INSERT, UPDATE */
	const char *parent;			/* a child row: its document and that one's DocType, */
	const char *parenttype;		/* else NULL */
} FiRowChange;

/* what one transaction did to one document */
typedef struct FiDocChange
{
	const char *doctype;
	const char *name;
	uint32_t	noted;			/* fi_row_events OR-ed, FI_EV_CHILD, FI_EV_GONE: its row gone at commit */
	int			last;			/* the index of its last change */
	int			order;			/* 2 * last, + 1 but for a rename's old name (sorted first) */
	int			row_change;		/* the index of its own row's last change; -1: only child rows changed */
	bool		has_row;		/* (row_change >= 0) its row is there at commit */
	int			docstatus;		/* (row_change >= 0) its docstatus at commit, or as it was when gone */
} FiDocChange;

/*
 * Fold one transaction's n changes per document, as Frappe delivers a
 * webhook once per document and event in a transaction: a child row's change
 * is its parent's (FI_EV_CHILD; a row of a document whose DocType is
 * parenttype); a rename leaves the old name gone (FI_EV_GONE), a delete the
 * name.  Names compare byte for byte.  out has room for 2 * n; alloc gives
 * scratch (2 * n pointers).  Returns how many documents, in the order of
 * each one's last change (Frappe's order).  fi_events_at_commit(noted,
 * has_row, docstatus) then gives what a document delivers; when row_change
 * is -1 the caller reads has_row and docstatus from the document's row.
 */
extern int	fi_fold_changes(const FiRowChange *c, int n, FiDocChange *out, FiAlloc alloc, void *arg);

#endif							/* FI_WEBHOOKEV_H */
