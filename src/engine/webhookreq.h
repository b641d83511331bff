/*
 * webhookreq.h
 *		What one webhook sends for one document, without a database (SPEC 1;
 *		frappe-facts 1.6, 1.8): the condition, the URL (rendered when
 *		is_dynamic_url), the Webhook Header rows, and the body: the Webhook
 *		Data rows as a JSON object of the document's values, else the
 *		webhook_json template rendered with doc and event and normalised as
 *		Frappe's json.loads + json.dumps, else {}.  Used by PostgreSQL's queue
 *		and preview and by MariaDB's; the signing happens at send time.
 *
 * Thread-safe: no state; texts from the caller's allocator, rendered bytes in
 * the template session.
 */
#ifndef FI_WEBHOOKREQ_H
#define FI_WEBHOOKREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/alloc.h"
#include "engine/doctype.h"
#include "engine/tpl.h"

/* a row of tabWebhook with its Webhook Header and Webhook Data rows */
typedef struct FiWebhookDef
{
	const char *name;
	const char *docevent;
	const char *condition;
	const char *request_url;
	bool		is_dynamic_url;
	const char *webhook_json;
	int			nheaders;
	const char *const *header_keys;
	const char *const *header_values;
	int			ndata;
	const char *const *data_fieldnames;
	const char *const *data_keys;
} FiWebhookDef;

typedef struct FiWebhookReq
{
	bool		skip;			/* the condition was false */
	char	   *error;			/* why it cannot be sent (a configuration's fault), or NULL */
	char	   *url;
	char	   *headers;		/* JSON text: [[key, value], ...], as jsonb prints it */
	const char *body;
	size_t		bodylen;
	char	   *user;			/* the document's modified_by, or NULL */
} FiWebhookReq;

/* NULL, empty or only white space */
extern bool fi_webhook_blank(const char *s);

/* an http(s) URL with a host: NULL when fine, else why not */
extern const char *fi_webhook_url_problem(const char *url);

/* why a Webhook Header row cannot be sent (a line break would inject headers) */
extern char *fi_webhook_header_problem(const char *key, const char *value, FiAlloc alloc, void *arg);

/*
 * The request of webhook h for doc (cond_doc: the same document with date
 * values, for the condition).  Never fails for a bad configuration: that is
 * rq->error (the condition's or a template's message with its line and
 * column).
 */
extern void fi_webhook_request(FiTpl *t, const FiWebhookDef *h, FiVal *doc, FiVal *cond_doc,
							   FiWebhookReq *rq, FiAlloc alloc, void *arg);

/*
 * The keys of doc that the webhooks defs (those of one DocType, meta) read:
 * their conditions, JSON bodies (when they have no Webhook Data rows),
 * dynamic URLs and Webhook Data fieldnames, with name, docstatus and
 * modified_by always.  False when one of them may read all of doc (doc used
 * whole, a method called, a name that is no column or Table field of meta,
 * a template that does not parse: it fails as it is sent).  Most payloads
 * read a handful of fields; a caller may read and convert only those.
 */
extern bool fi_webhook_doc_fields(FiTpl *t, const FiWebhookDef *const *defs, int ndefs, const FiDocMeta *meta,
								  const char ***fields, int *n, FiAlloc alloc, void *arg);

#endif							/* FI_WEBHOOKREQ_H */
