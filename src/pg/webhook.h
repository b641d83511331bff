/*
 * webhook.h
 *		Webhooks fired from the database: what the capture trigger notes,
 *		the webhook configuration read from tabWebhook, and the flush at
 *		commit that turns notes into queued requests.
 */
#ifndef FI_WEBHOOK_H
#define FI_WEBHOOK_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "engine/tpl.h"

/* Frappe's document events, their names, the rules of which fire (engine/webhookev.c) */
#include "engine/webhookev.h"

/* one row change, as the capture trigger notes it */
typedef struct FiNote
{
	const char *doctype;
	const char *name;
	uint32		events;
	SubTransactionId subid;		/* the subtransaction that noted it */
	ItemPointerData tid;		/* the row written (invalid: a child row, a delete) */
	FiVal	   *trash_doc;		/* a deleted document as it was (templates) */
	FiVal	   *trash_cond_doc; /* the same as a condition sees it */
} FiNote;

#include "engine/webhookreq.h"

typedef struct FiWebhook
{
	char	   *name;
	char	   *doctype;
	char	   *docevent;
	uint32		event;			/* its FI_EV_ bit; 0 when unknown */
	char	   *condition;
	char	   *request_url;
	bool		is_dynamic_url;
	int			timeout;		/* seconds */
	char	   *method;
	char	   *structure;
	char	   *webhook_json;
	bool		enable_security;
	bool		enabled;
	int			nheaders;
	char	  **header_keys;
	char	  **header_values;
	int			ndata;
	char	  **data_fieldnames;
	char	  **data_keys;
	Oid			author;			/* the role that last wrote it (InvalidOid: unknown) */
} FiWebhook;

/* the keys of doc a DocType's webhooks read (whole: all of them) */
typedef struct FiFieldSet
{
	char	   *doctype;
	const char **fields;
	int			n;
	bool		whole;
} FiFieldSet;

typedef struct FiWebhookConfig
{
	int			n;
	FiWebhook  *hooks;
	int			nfieldsets;		/* worked out when first needed */
	FiFieldSet *fieldsets;
} FiWebhookConfig;

/* the triggers the extension attaches (webhook_sync.c) */
#define FI_CAPTURE_TRIGGER		"frappe_integrations_webhook"
#define FI_CHILD_TRIGGER		"frappe_integrations_webhook_child"
#define FI_AUTHOR_TRIGGER		"frappe_integrations_webhook_author"

/* settings */
extern bool fi_webhooks_on;

/* webhook_capture.c */
extern void fi_webhook_init(void);
extern FiWebhookConfig *fi_webhook_xact_config(void);
extern void fi_webhook_config_reset(void);
extern bool fi_webhook_config_trigger_on(Oid relid);

/* what one webhook sends for one document (engine/webhookreq.c) */
typedef FiWebhookReq FiRequest;

/* worker.c */
extern void fi_worker_init(void);
extern int	fi_retry_base_ms;	/* frappe_integrations.retry_base: the first back-off */
extern bool fi_worker_preloaded(void);
extern void fi_worker_wake(bool outbox);
extern void fi_worker_wake_at_commit(void);	/* webhook_capture.c: also the side tables */

/* webhook_flush.c (returns how many events were queued to send) */
#define fi_blank(s) fi_webhook_blank(s)
extern char *fi_webhook_header_problem_pg(const char *key, const char *value);
extern void fi_webhook_build(FiTpl *t, FiWebhook *h, FiVal *doc, FiVal *cond_doc,
							 FiRequest *rq);
extern void fi_webhook_log(const char *webhook, const char *doctype, const char *docname,
						   const char *url, const char *headers, const char *data,
						   const char *user, const char *response, const char *error);
extern void fi_webhook_log_many(int n, const char **webhook, const char **doctype,
								const char **docname, const char **url, const char **headers,
								const char **data, const char **user, const char **response,
								const char **error);
extern FiWebhookConfig *fi_webhook_load_config(const char *only_name);
/* why the role that configured h may not have it send a doctype's documents, or NULL */
extern const char *fi_webhook_author_problem(FiWebhook *h, const FiDocMeta *meta);
extern uint32 fi_webhook_events_wanted(FiWebhookConfig *cfg, const char *doctype);
extern int64 fi_webhook_flush(FiNote *notes, int n, bool *outbox);

/* docvalue.c: documents read set-wise (fi_docs_fetch) */
typedef struct FiDocFetch
{
	const FiDocMeta *meta;
	const char *const *names;	/* the documents asked for */
	const ItemPointerData *tids;	/* where each row was last seen, or NULL */
	int			n;
	const char *const *fields;	/* the keys wanted (NULL: all) */
	int			nfields;
	FiVal	  **docs;			/* out: payload dicts (dates as text), or NULL */
	FiVal	  **cdocs;			/* out: as a condition sees them, or NULL */
	int			by_tid;			/* out: how many were found by row id */
} FiDocFetch;
extern void fi_docs_fetch(FiTpl *t, FiDocFetch *f);
extern FiVal *fi_doc_from_tuple(FiTpl *t, const FiDocMeta *meta, HeapTuple tup,
								TupleDesc desc, bool dates_as_str);

#endif							/* FI_WEBHOOK_H */
