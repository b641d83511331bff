/*
 * webhook_capture.c
 *		The row trigger on the tables of DocTypes with webhooks, and the
 *		per-transaction set of documents it notes.
 *
 * The trigger does little per row: it maps the row change to Frappe's
 * events (SPEC 1: INSERT with docstatus 0 is after_insert + on_update, an
 * UPDATE 0->1 is on_update + on_submit + on_change, ...; a child row notes
 * its parent) and appends (doctype, name, events) to a list in the
 * transaction's memory.  The real work happens once per document just
 * before commit (webhook_flush.c): a PRE_COMMIT transaction callback, which
 * runs after every deferred trigger, so the documents read are those being
 * committed.  A rolled-back transaction drops the list; a rolled-back
 * savepoint drops what was noted inside it.
 *
 * A deleted document cannot be read at commit, so for a DocType with an
 * enabled on_trash webhook the trigger builds it at once (the OLD row and
 * its children as they stand) in a session that lives as long as the
 * transaction.
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "frappe_integrations.h"
#include "webhook.h"

bool		fi_webhooks_on = true;

/* the transaction's notes, in TopTransactionContext */
static FiNote *notes = NULL;
static int	nnotes = 0;
static int	notes_cap = 0;
static bool flushing = false;
static bool wake_at_commit = false;
static bool wake_outbox = false;	/* the events went to webhook_outbox */

/*
 * The site's webhook configuration, cached per backend.  The statement
 * trigger on tabWebhook, tabWebhook Header and tabWebhook Data queues a
 * relcache invalidation of the table changed (for every backend, and for
 * this one at its next command); where those triggers are missing the cache
 * lives for one transaction only.  A stale copy is handed to the current
 * transaction's memory, not freed: a caller may still hold it.
 */
static MemoryContext cfg_cxt = NULL;
static FiWebhookConfig *cfg_cache = NULL;
static bool cfg_xact_only = false;
static bool cfg_cb_registered = false;
static Oid	cfg_rels[3];

static const char *const cfg_tables[3] = {"tabWebhook", "tabWebhook Header", "tabWebhook Data"};

static void
cfg_relcache_cb(Datum arg, Oid relid)
{
	if (cfg_cache == NULL)
		return;
	if (!OidIsValid(relid) || relid == cfg_rels[0] || relid == cfg_rels[1] || relid == cfg_rels[2])
		fi_webhook_config_reset();
}

static FiTpl *xact_session = NULL;
static bool child_verdict_valid = false;	/* child_of's last answer, this transaction */

static void
reset_xact_state(void)
{
	notes = NULL;
	nnotes = notes_cap = 0;
	if (cfg_xact_only && cfg_cxt != NULL)
	{
		/* no trigger tells us of changes: forget it with the transaction */
		MemoryContextDelete(cfg_cxt);
		cfg_cache = NULL;
		cfg_cxt = NULL;
	}
	xact_session = NULL;
	child_verdict_valid = false;
	flushing = false;
	wake_at_commit = false;
	wake_outbox = false;
}

/* the configuration changed: read it again when next asked */
void
fi_webhook_config_reset(void)
{
	if (cfg_cxt != NULL)
	{
		if (IsTransactionState())
			MemoryContextSetParent(cfg_cxt, TopTransactionContext);
		else
			MemoryContextDelete(cfg_cxt);
	}
	cfg_cxt = NULL;
	cfg_cache = NULL;
}

static bool
config_triggers_present(void)
{
	bool		all = true;

	for (int i = 0; i < 3 && all; i++)
	{
		cfg_rels[i] = fi_site_table_oid(cfg_tables[i], true);
		all = OidIsValid(cfg_rels[i]) && fi_webhook_config_trigger_on(cfg_rels[i]);
	}
	return all;
}

FiWebhookConfig *
fi_webhook_xact_config(void)
{
	if (!cfg_cb_registered)
	{
		CacheRegisterRelcacheCallback(cfg_relcache_cb, (Datum) 0);
		cfg_cb_registered = true;
	}
	if (cfg_cache == NULL)
	{
		MemoryContext cxt = AllocSetContextCreate(CacheMemoryContext,
												  "frappe_integrations webhook config",
												  ALLOCSET_SMALL_SIZES);
		MemoryContext old = MemoryContextSwitchTo(cxt);
		FiWebhookConfig *cfg;

		PG_TRY();
		{
			cfg = fi_webhook_load_config(NULL);
			cfg_xact_only = !config_triggers_present();
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(old);
			MemoryContextDelete(cxt);
			PG_RE_THROW();
		}
		PG_END_TRY();
		MemoryContextSwitchTo(old);
		cfg_cxt = cxt;
		cfg_cache = cfg;
	}
	return cfg_cache;
}

static void
webhook_xact_cb(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			if (nnotes > 0 && !flushing)
			{
				bool		outbox = false;

				flushing = true;
				if (fi_webhook_flush(notes, nnotes, &outbox) > 0)
					wake_at_commit = true;
				wake_outbox |= outbox;
				nnotes = 0;
				flushing = false;
			}
			break;
		case XACT_EVENT_COMMIT:
			if (wake_at_commit)
				fi_worker_wake(wake_outbox);
			reset_xact_state();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			reset_xact_state();
			break;
		default:
			break;
	}
}

/*
 * A rolled-back savepoint drops what was noted inside it: every note made
 * in that subtransaction or a later-numbered one (its children), which are
 * the last notes of the list.  Subtransaction ids, not marks taken when a
 * savepoint starts, so that this holds also when the library was loaded
 * (and this callback registered) after the savepoint began.
 */
static void
webhook_subxact_cb(SubXactEvent event, SubTransactionId mySubid,
				   SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB || flushing)
		return;
	while (nnotes > 0 && notes[nnotes - 1].subid >= mySubid)
		nnotes--;
}

void
fi_webhook_init(void)
{
	RegisterXactCallback(webhook_xact_cb, NULL);
	RegisterSubXactCallback(webhook_subxact_cb, NULL);
}

/* events of a parent row change (SPEC 1; engine/webhookev.c) */
static uint32
row_events(TriggerEvent ev, int old_ds, int new_ds)
{
	return fi_row_events(TRIGGER_FIRED_BY_INSERT(ev) ? FI_ROW_INSERT :
						 TRIGGER_FIRED_BY_DELETE(ev) ? FI_ROW_DELETE : FI_ROW_UPDATE,
						 old_ds, new_ds);
}

static int
tuple_int(HeapTuple tup, TupleDesc desc, int attnum)
{
	bool		isnull;
	Datum		d;

	if (attnum <= 0 || tup == NULL)
		return 0;
	d = heap_getattr(tup, attnum, desc, &isnull);
	if (isnull)
		return 0;
	switch (TupleDescAttr(desc, attnum - 1)->atttypid)
	{
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
			return DatumGetInt32(d);
		case INT8OID:
			return (int) DatumGetInt64(d);
		default:
			{
				char	   *s = SPI_getvalue(tup, desc, attnum);

				return s ? atoi(s) : 0;
			}
	}
}

static void
add_note(const char *doctype, const char *name, uint32 events, ItemPointer tid,
		 FiVal *trash_doc, FiVal *trash_cond_doc)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	FiNote	   *n;

	if (nnotes == notes_cap)
	{
		notes_cap = notes_cap ? notes_cap * 2 : 64;
		notes = notes ? repalloc_huge(notes, sizeof(FiNote) * notes_cap) :
			MemoryContextAllocHuge(TopTransactionContext, sizeof(FiNote) * notes_cap);
	}
	n = &notes[nnotes++];
	/* rows of one statement mostly share their DocType: share its text */
	if (nnotes > 1 && strcmp(notes[nnotes - 2].doctype, doctype) == 0)
		n->doctype = notes[nnotes - 2].doctype;
	else
		n->doctype = pstrdup(doctype);
	n->name = pstrdup(name);
	n->events = events;
	n->subid = GetCurrentSubTransactionId();
	if (tid)
		n->tid = *tid;
	else
		ItemPointerSetInvalid(&n->tid);
	n->trash_doc = trash_doc;
	n->trash_cond_doc = trash_cond_doc;
	MemoryContextSwitchTo(old);
}

/* a deleted document, built now in the transaction's session */
static void
snapshot_deleted(const char *doctype, HeapTuple tup, TupleDesc desc, FiVal **doc,
				 FiVal **cond_doc)
{
	const FiDocMeta *meta = fi_get_meta(doctype, true);

	*doc = *cond_doc = NULL;
	if (meta == NULL)
		return;
	if (xact_session == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		xact_session = fi_template_session(fi_site_now_usec());
		MemoryContextSwitchTo(old);
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	*doc = fi_doc_from_tuple(xact_session, meta, tup, desc, true);
	*cond_doc = fi_doc_from_tuple(xact_session, meta, tup, desc, false);
	SPI_finish();
}

/*
 * When this transaction commits, wake the worker and have it look at its
 * side tables too (the outbox and integrations.http_queue).
 */
void
fi_worker_wake_at_commit(void)
{
	wake_at_commit = true;
	wake_outbox = true;
}

PG_FUNCTION_INFO_V1(fi_webhook_wake_at_commit);

/*
 * integrations.wake_webhook_worker() -- when this transaction commits, wake
 * the database's webhook worker (or have the launcher start one): for
 * events made due other than by a commit that fired webhooks
 * (retry_webhook_events).
 */
Datum
fi_webhook_wake_at_commit(PG_FUNCTION_ARGS)
{
	wake_at_commit = true;
	PG_RETURN_VOID();
}

/*
 * Is this firing one of the triggers the extension attached (webhook_sync.c)
 * to a table of the site?  Anyone may name integrations.webhook_capture() in
 * a CREATE TRIGGER on a table of their own -- a temporary table named like
 * a site table, say -- to forge events for documents they cannot touch: such
 * a firing is ignored.
 */
static bool
genuine_firing(TriggerData *td, bool child)
{
	Relation	rel = td->tg_relation;
	const char *relname = RelationGetRelationName(rel);

	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP ||
		strcmp(td->tg_trigger->tgname, child ? FI_CHILD_TRIGGER : FI_CAPTURE_TRIGGER) != 0 ||
		strncmp(relname, "tab", 3) != 0)
		return false;
	return fi_site_table_oid(relname, true) == RelationGetRelid(rel);
}

/* is child_doctype a Table field's DocType of parent_doctype? (the last answer kept) */
static bool
child_of(const char *parent_doctype, const char *child_doctype)
{
	static char last_parent[NAMEDATALEN * 2];
	static char last_child[NAMEDATALEN * 2];
	static bool last_answer = false;
	const FiDocMeta *meta;

	if (child_verdict_valid && strcmp(last_parent, parent_doctype) == 0 &&
		strcmp(last_child, child_doctype) == 0)
		return last_answer;
	meta = fi_get_meta(parent_doctype, true);
	last_answer = false;
	for (int f = 0; meta && f < meta->nfields && !last_answer; f++)
		last_answer = fi_fieldtype_is_table(meta->fields[f].fieldtype) &&
			meta->fields[f].options != NULL &&
			strcmp(meta->fields[f].options, child_doctype) == 0;
	if (strlen(parent_doctype) < sizeof(last_parent) && strlen(child_doctype) < sizeof(last_child))
	{
		strcpy(last_parent, parent_doctype);
		strcpy(last_child, child_doctype);
		child_verdict_valid = true;
	}
	return last_answer;
}

PG_FUNCTION_INFO_V1(fi_webhook_capture);

/*
 * integrations.webhook_capture() -- AFTER INSERT OR UPDATE OR DELETE FOR
 * EACH ROW on a DocType's table (no argument) or on a child table of one
 * (argument 'child').
 */
Datum
fi_webhook_capture(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	HeapTuple	row;
	bool		child;
	FiWebhookConfig *cfg;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_AFTER(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("integrations.webhook_capture() must be an AFTER ... FOR EACH ROW trigger")));
	if (!fi_webhooks_on || flushing)
		return PointerGetDatum(NULL);

	rel = td->tg_relation;
	desc = RelationGetDescr(rel);
	row = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	child = td->tg_trigger->tgnargs > 0 && strcmp(td->tg_trigger->tgargs[0], "child") == 0;
	if (!genuine_firing(td, child))
		return PointerGetDatum(NULL);
	cfg = fi_webhook_xact_config();

	if (child)
	{
		/* a child row: its parent document's save events */
		int			pcol = SPI_fnumber(desc, "parent");
		int			tcol = SPI_fnumber(desc, "parenttype");
		HeapTuple	rows[2] = {row, NULL};

		if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
			rows[1] = td->tg_trigtuple;	/* moved to another parent? both */
		for (int i = 0; i < 2 && rows[i] != NULL; i++)
		{
			char	   *parent = pcol > 0 ? SPI_getvalue(rows[i], desc, pcol) : NULL;
			char	   *ptype = tcol > 0 ? SPI_getvalue(rows[i], desc, tcol) : NULL;

			if (parent == NULL || ptype == NULL)
				continue;
			if (i == 1 && nnotes > 0 && strcmp(notes[nnotes - 1].name, parent) == 0 &&
				strcmp(notes[nnotes - 1].doctype, ptype) == 0)
				continue;
			/* a row claiming a parent of a DocType that has no such table fires nothing */
			if ((fi_webhook_events_wanted(cfg, ptype) & FI_EV_CHILD_SAVE) &&
				child_of(ptype, RelationGetRelationName(rel) + 3))
				add_note(ptype, parent, FI_EV_CHILD, NULL, NULL, NULL);
		}
	}
	else
	{
		const char *relname = RelationGetRelationName(rel);
		const char *doctype = strncmp(relname, "tab", 3) == 0 ? relname + 3 : relname;
		uint32		wanted = fi_webhook_events_wanted(cfg, doctype);
		int			dcol = SPI_fnumber(desc, "docstatus");
		int			ncol = SPI_fnumber(desc, "name");
		uint32		events;
		char	   *name;
		FiVal	   *doc = NULL,
				   *cond_doc = NULL;

		if (wanted == 0 || ncol <= 0)
			return PointerGetDatum(NULL);
		events = row_events(td->tg_event,
							TRIGGER_FIRED_BY_UPDATE(td->tg_event) ?
							tuple_int(td->tg_trigtuple, desc, dcol) : 0,
							tuple_int(row, desc, dcol));
		if ((events & wanted) == 0 && !TRIGGER_FIRED_BY_DELETE(td->tg_event))
		{
			/*
			 * Not an event any webhook listens to; yet an insert followed
			 * by this change must still deliver the insert's document as it
			 * stands at commit, so note the name with no events.
			 */
			events = 0;
		}
		name = SPI_getvalue(row, desc, ncol);
		if (name == NULL)
			return PointerGetDatum(NULL);
		if (TRIGGER_FIRED_BY_DELETE(td->tg_event) && (wanted & FI_EV_ON_TRASH))
			snapshot_deleted(doctype, row, desc, &doc, &cond_doc);
		if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		{
			/* a rename: the old name is gone */
			char	   *oldname = SPI_getvalue(td->tg_trigtuple, desc, ncol);

			if (oldname != NULL && strcmp(oldname, name) != 0)
				add_note(doctype, oldname, FI_EV_GONE, NULL, NULL, NULL);
		}
		add_note(doctype, name, events | (TRIGGER_FIRED_BY_DELETE(td->tg_event) ?
										  FI_EV_GONE : 0),
				 TRIGGER_FIRED_BY_DELETE(td->tg_event) ? NULL : &row->t_self, doc, cond_doc);
	}
	return PointerGetDatum(NULL);
}
