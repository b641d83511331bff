/*
 * webhook_flush.c
 *		From noted row changes to queued requests, at commit; the webhook
 *		configuration read from the site's tabWebhook; the preview.
 *
 * At PRE_COMMIT the notes of the transaction are folded per document (the
 * union of its events; "gone" when its last change deleted it), then per
 * DocType with enabled webhooks the documents are read set-wise (docvalue.c),
 * each webhook's condition evaluated and payload rendered by the template
 * engine, and one integrations.webhook_queue row written per (webhook,
 * document) -- Frappe's at-most-once rule.  A condition or template that
 * fails does not stop the commit: the event is queued as failed with the
 * error, logged to tabWebhook Request Log, and a WARNING says so.
 *
 * The flush runs as the owner of the extension's schema (so the user whose
 * change fired it needs no rights on the queue), as a security-restricted
 * operation.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "catalog/pg_proc.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "frappe_integrations.h"
#include "webhook.h"
#include "http.h"

#define FLUSH_BATCH 500
/* a transaction with more documents than this stages its events in webhook_outbox */
#define OUTBOX_MIN_DOCS 100
#define MAX_WARNINGS 10

/* ---- configuration ---- */

static char *
col_str(HeapTuple tup, TupleDesc desc, const char *col)
{
	int			c = SPI_fnumber(desc, col);

	return c > 0 ? SPI_getvalue(tup, desc, c) : NULL;
}

static int
col_int(HeapTuple tup, TupleDesc desc, const char *col, int dflt)
{
	char	   *v = col_str(tup, desc, col);

	return v ? atoi(v) : dflt;
}

/* a Webhook Header / Webhook Data child table as (parent, a, b) rows */
static void
load_child(const char *table, const char *a, const char *b, FiWebhookConfig *cfg,
		   MemoryContext cxt, bool headers)
{
	Oid			relid = fi_site_table_oid(table, true);
	int			ret;
	FiSecure	sec;

	if (!OidIsValid(relid))
		return;
	fi_secure_enter(&sec, fi_rel_owner(relid));
	ret = SPI_execute(psprintf("SELECT parent, %s, %s FROM %s WHERE parenttype = 'Webhook'"
							   " ORDER BY parent, idx",
							   quote_identifier(a), quote_identifier(b), fi_site_table(table)),
					  false, 0);
	fi_secure_exit(&sec);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading %s failed: %s", table, SPI_result_code_string(ret));
	/* SPI leaves us in its own context: the values belong to the caller's */
	MemoryContextSwitchTo(cxt);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *parent = SPI_getvalue(tup, desc, 1);

		for (int i = 0; i < cfg->n; i++)
		{
			FiWebhook  *h = &cfg->hooks[i];

			if (parent == NULL || strcmp(h->name, parent) != 0)
				continue;
			if (headers)
			{
				h->header_keys = repalloc(h->header_keys, sizeof(char *) * (h->nheaders + 1));
				h->header_values = repalloc(h->header_values, sizeof(char *) * (h->nheaders + 1));
				h->header_keys[h->nheaders] = SPI_getvalue(tup, desc, 2);
				h->header_values[h->nheaders] = SPI_getvalue(tup, desc, 3);
				h->nheaders++;
			}
			else
			{
				h->data_fieldnames = repalloc(h->data_fieldnames, sizeof(char *) * (h->ndata + 1));
				h->data_keys = repalloc(h->data_keys, sizeof(char *) * (h->ndata + 1));
				h->data_fieldnames[h->ndata] = SPI_getvalue(tup, desc, 2);
				h->data_keys[h->ndata] = SPI_getvalue(tup, desc, 3);
				h->ndata++;
			}
		}
	}
}

/*
 * Who last wrote each webhook (integrations.webhook_author, kept by the
 * trigger frappe_integrations_webhook_author): a webhook sends documents
 * with the rights of the role that configured it, not the site owner's.
 */
static void
load_authors(FiWebhookConfig *cfg)
{
	FiSecure	sec;
	int			ret;

	if (!fi_extension_relation("webhook_author"))
		return;					/* an older version's objects */
	fi_secure_enter(&sec, fi_schema_owner());
	ret = SPI_execute("SELECT webhook, author FROM " FI_SCHEMA ".webhook_author", true, 0);
	fi_secure_exit(&sec);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading " FI_SCHEMA ".webhook_author failed: %s", SPI_result_code_string(ret));
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		char	   *w = SPI_getvalue(tup, SPI_tuptable->tupdesc, 1);
		bool		isnull;
		Oid			author = DatumGetObjectId(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull));

		for (int i = 0; w && i < cfg->n; i++)
			if (strcmp(cfg->hooks[i].name, w) == 0)
				cfg->hooks[i].author = author;
	}
}

/*
 * A webhook is the HTTP client of whoever configured it, reading documents
 * for them: the role that last wrote its tabWebhook row (or a Header/Data
 * row) must be able to read the DocType's table and each of its child
 * tables, and -- unless it owns tabWebhook (the site owner Frappe connects
 * as) -- to make HTTP requests itself (EXECUTE on integrations.http_request).
 * Webhooks written before this was kept, and by superusers, pass.
 */
const char *
fi_webhook_author_problem(FiWebhook *h, const FiDocMeta *meta)
{
	Oid			a = h->author;
	const char *who;
	Oid			http;

	if (!OidIsValid(a) || superuser_arg(a))
		return NULL;
	who = GetUserNameFromId(a, true);
	if (who == NULL)
		return "the role that configured this webhook no longer exists";
	for (int f = -1; f < meta->nfields; f++)
	{
		const char *dt = f < 0 ? meta->name : meta->fields[f].options;
		Oid			relid;

		if (f >= 0 && (!fi_fieldtype_is_table(meta->fields[f].fieldtype) || dt == NULL))
			continue;
		relid = fi_site_table_oid(psprintf("tab%s", dt), true);
		if (OidIsValid(relid) && pg_class_aclcheck(relid, a, ACL_SELECT) != ACLCHECK_OK)
			return psprintf("the role \"%s\" that configured this webhook may not read \"tab%s\"",
							who, dt);
	}
	if (a == fi_site_table_owner("tabWebhook"))
		return NULL;
	{
		Oid			argtypes[5] = {TEXTOID, TEXTOID, JSONBOID, TEXTOID, INT4OID};

		http = LookupFuncName(list_make2(makeString(FI_SCHEMA), makeString("http_request")),
							  5, argtypes, true);
	}
	if (!OidIsValid(http) ||
#if PG_VERSION_NUM >= 160000
		object_aclcheck(ProcedureRelationId, http, a, ACL_EXECUTE) != ACLCHECK_OK)
#else
		pg_proc_aclcheck(http, a, ACL_EXECUTE) != ACLCHECK_OK)
#endif
		return psprintf("the role \"%s\" that configured this webhook may not make HTTP requests "
						"(EXECUTE on " FI_SCHEMA ".http_request)", who);
	return NULL;
}

/*
 * The webhooks of the site: every enabled one, or the one named (enabled or
 * not).  Allocated in the caller's memory context.
 */
FiWebhookConfig *
fi_webhook_load_config(const char *only_name)
{
	MemoryContext cxt = CurrentMemoryContext;
	FiWebhookConfig *cfg = palloc0(sizeof(FiWebhookConfig));
	Oid			relid = fi_site_table_oid("tabWebhook", true);
	int			ret;
	FiSecure	sec;

	if (!OidIsValid(relid))
		return cfg;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* the configuration is the site's: read as its table's owner (secure.c) */
	fi_secure_enter(&sec, fi_rel_owner(relid));
	if (only_name)
	{
		Oid			argtypes[1] = {TEXTOID};
		Datum		args[1] = {CStringGetTextDatum(only_name)};

		ret = SPI_execute_with_args(psprintf("SELECT * FROM %s WHERE name = $1",
											 fi_site_table("tabWebhook")),
									1, argtypes, args, NULL, false, 0);
	}
	else
		ret = SPI_execute(psprintf("SELECT * FROM %s WHERE enabled = 1 ORDER BY name",
								   fi_site_table("tabWebhook")), false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading tabWebhook failed: %s", SPI_result_code_string(ret));
	fi_secure_exit(&sec);
	{
		MemoryContext spi = MemoryContextSwitchTo(cxt);

		cfg->n = (int) SPI_processed;
		cfg->hooks = palloc0(sizeof(FiWebhook) * Max(cfg->n, 1));
		for (int i = 0; i < cfg->n; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			FiWebhook  *h = &cfg->hooks[i];

			h->name = col_str(tup, desc, "name");
			h->doctype = col_str(tup, desc, "webhook_doctype");
			h->docevent = col_str(tup, desc, "webhook_docevent");
			h->event = fi_event_bit(h->docevent);
			h->condition = col_str(tup, desc, "condition");
			h->request_url = col_str(tup, desc, "request_url");
			h->is_dynamic_url = col_int(tup, desc, "is_dynamic_url", 0) != 0;
			h->timeout = col_int(tup, desc, "timeout", 5);
			h->method = col_str(tup, desc, "request_method");
			h->structure = col_str(tup, desc, "request_structure");
			h->webhook_json = col_str(tup, desc, "webhook_json");
			h->enable_security = col_int(tup, desc, "enable_security", 0) != 0;
			h->enabled = col_int(tup, desc, "enabled", 1) != 0;
			h->header_keys = palloc(sizeof(char *));
			h->header_values = palloc(sizeof(char *));
			h->data_fieldnames = palloc(sizeof(char *));
			h->data_keys = palloc(sizeof(char *));
			if (h->name == NULL)
				h->name = pstrdup("");
			if (fi_blank(h->method))
				h->method = pstrdup("POST");
			if (h->timeout <= 0)
				h->timeout = 5;
		}
		if (cfg->n > 0)
		{
			load_child("tabWebhook Header", "key", "value", cfg, cxt, true);
			load_child("tabWebhook Data", "fieldname", "key", cfg, cxt, false);
			load_authors(cfg);
		}
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return cfg;
}

uint32
fi_webhook_events_wanted(FiWebhookConfig *cfg, const char *doctype)
{
	uint32		m = 0;

	for (int i = 0; i < cfg->n; i++)
		if (cfg->hooks[i].enabled && cfg->hooks[i].doctype &&
			strcmp(cfg->hooks[i].doctype, doctype) == 0)
			m |= cfg->hooks[i].event;
	return m;
}

/* ---- one request ---- */


static void *
req_alloc(void *arg, size_t size)
{
	return palloc0(size);
}

char *
fi_webhook_header_problem_pg(const char *key, const char *value)
{
	return fi_webhook_header_problem(key, value, req_alloc, NULL);
}

/*
 * What one webhook sends for one document: condition, URL, headers, body
 * (engine/webhookreq.c).  Never raises for a bad configuration: that is
 * FiRequest.error.
 */
/* a webhook as the engine takes it */
static FiWebhookDef
hook_def(const FiWebhook *h)
{
	return (FiWebhookDef) {
		.name = h->name,
		.docevent = h->docevent,
		.condition = h->condition,
		.request_url = h->request_url,
		.is_dynamic_url = h->is_dynamic_url,
		.webhook_json = h->webhook_json,
		.nheaders = h->nheaders,
		.header_keys = (const char *const *) h->header_keys,
		.header_values = (const char *const *) h->header_values,
		.ndata = h->ndata,
		.data_fieldnames = (const char *const *) h->data_fieldnames,
		.data_keys = (const char *const *) h->data_keys,
	};
}

void
fi_webhook_build(FiTpl *t, FiWebhook *h, FiVal *doc, FiVal *cond_doc, FiRequest *rq)
{
	FiWebhookDef d = hook_def(h);

	fi_webhook_request(t, &d, doc, cond_doc, rq, req_alloc, NULL);
}

/* ---- writing the queue and the log ---- */

typedef struct QueueBatch
{
	int			n;
	bool		outbox;			/* a large transaction: batches go to webhook_outbox */
	TimestampTz queued_at;		/* the events' created_at: the commit's flush */
	pg_uuid_t  *ids;			/* event ids, made here (fixed at commit) */
	Datum	   *event_id,
			   *webhook,
			   *doctype,
			   *docname,
			   *event,
			   *method,
			   *url,
			   *headers,
			   *body,
			   *sign,
			   *timeout,
			   *user,
			   *status,
			   *error;
	bool	   *url_null,
			   *user_null,
			   *error_null;
} QueueBatch;

static void
batch_init(QueueBatch *b, int cap)
{
	memset(b, 0, sizeof(*b));
#define ALLOC(f) b->f = palloc(sizeof(Datum) * cap)
	ALLOC(event_id);
	ALLOC(webhook);
	ALLOC(doctype);
	ALLOC(docname);
	ALLOC(event);
	ALLOC(method);
	ALLOC(url);
	ALLOC(headers);
	ALLOC(body);
	ALLOC(sign);
	ALLOC(timeout);
	ALLOC(user);
	ALLOC(status);
	ALLOC(error);
#undef ALLOC
	b->ids = palloc(sizeof(pg_uuid_t) * cap);
	b->url_null = palloc(sizeof(bool) * cap);
	b->user_null = palloc(sizeof(bool) * cap);
	b->error_null = palloc(sizeof(bool) * cap);
}

static Datum
text_array(Datum *d, bool *nulls, int n, Oid elemtype)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(d, nulls, 1, dims, lbs, elemtype, typlen,
											  typbyval, typalign));
}

/* random (version 4) ids for the batch's events, from one read of the RNG */
static void
batch_ids(QueueBatch *b)
{
	if (!pg_strong_random(b->ids, sizeof(pg_uuid_t) * b->n))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random webhook event ids")));
	for (int i = 0; i < b->n; i++)
	{
		b->ids[i].data[6] = (b->ids[i].data[6] & 0x0f) | 0x40;
		b->ids[i].data[8] = (b->ids[i].data[8] & 0x3f) | 0x80;
		b->event_id[i] = UUIDPGetDatum(&b->ids[i]);
	}
}

/*
 * Write the batch: one webhook_queue row per event, or (a large
 * transaction) one webhook_outbox row holding them all, which the worker
 * turns into queue rows before delivering them.
 */
static void
batch_write(QueueBatch *b)
{
	static const char *const queue_sql =
		"INSERT INTO " FI_SCHEMA ".webhook_queue (event_id, webhook, doctype, docname, "
		"event, method, url, headers, body, sign, timeout_ms, doc_user, status, last_error, "
		"created_at, next_attempt_at) "
		"SELECT i, w, d, n, e, m, u, h::jsonb, b, s, t, us, st, er, $15, $15 FROM "
		"unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
		"AS x(i, w, d, n, e, m, u, h, b, s, t, us, st, er)";
	static const char *const outbox_sql =
		"INSERT INTO " FI_SCHEMA ".webhook_outbox (event_id, webhook, doctype, docname, "
		"event, method, url, headers, body, sign, timeout_ms, doc_user, status, last_error, "
		"created_at, events) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
		"$14, $15, cardinality($1))";
	Oid			types[15] = {UUIDARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, BYTEAARRAYOID, BOOLARRAYOID,
	INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TIMESTAMPTZOID};
	Datum		args[15];
	int			ret;

	if (b->n == 0)
		return;
	batch_ids(b);
	args[0] = text_array(b->event_id, NULL, b->n, UUIDOID);
	args[1] = text_array(b->webhook, NULL, b->n, TEXTOID);
	args[2] = text_array(b->doctype, NULL, b->n, TEXTOID);
	args[3] = text_array(b->docname, NULL, b->n, TEXTOID);
	args[4] = text_array(b->event, NULL, b->n, TEXTOID);
	args[5] = text_array(b->method, NULL, b->n, TEXTOID);
	args[6] = text_array(b->url, b->url_null, b->n, TEXTOID);
	args[7] = text_array(b->headers, NULL, b->n, TEXTOID);
	args[8] = text_array(b->body, NULL, b->n, BYTEAOID);
	args[9] = text_array(b->sign, NULL, b->n, BOOLOID);
	args[10] = text_array(b->timeout, NULL, b->n, INT4OID);
	args[11] = text_array(b->user, b->user_null, b->n, TEXTOID);
	args[12] = text_array(b->status, NULL, b->n, TEXTOID);
	args[13] = text_array(b->error, b->error_null, b->n, TEXTOID);
	/* created when queued, at commit (now() is the transaction's start) */
	args[14] = TimestampTzGetDatum(b->queued_at);
	ret = fi_spi_execute(b->outbox ? outbox_sql : queue_sql, 15, types, args, NULL,
								false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "writing integrations.%s failed: %s",
			 b->outbox ? "webhook_outbox" : "webhook_queue", SPI_result_code_string(ret));
	b->n = 0;
}

/*
 * One row of Frappe's "tabWebhook Request Log" (frappe-facts 1.10); the
 * reference_doctype column only where the site has it.  Used for events
 * that fail before any request is made.
 */
void
fi_webhook_log(const char *webhook, const char *doctype, const char *docname,
			   const char *url, const char *headers, const char *data,
			   const char *user, const char *response, const char *error)
{
	fi_webhook_log_many(1, &webhook, &doctype, &docname, &url, &headers, &data, &user,
						&response, &error);
}

/*
 * Many log rows in one statement (the worker's outcomes of a batch): the
 * arrays are the columns of fi_webhook_log, NULL entries for NULL values.
 */
void
fi_webhook_log_many(int n, const char **webhook, const char **doctype, const char **docname,
					const char **url, const char **headers, const char **data,
					const char **user, const char **response, const char **error)
{
	Oid			relid = fi_site_table_oid("tabWebhook Request Log", true);
	const char **cols[9] = {webhook, docname, url, headers, data, user, response, error, doctype};
	Oid			types[9];
	Datum		args[9];
	bool		has_refdt;
	int			ret;
	FiSecure	sec;

	if (!OidIsValid(relid) || n == 0)
		return;
	has_refdt = get_attnum(relid, "reference_doctype") != InvalidAttrNumber;
	for (int c = 0; c < 9; c++)
	{
		Datum	   *d = palloc(sizeof(Datum) * n);
		bool	   *nulls = palloc(sizeof(bool) * n);

		for (int i = 0; i < n; i++)
		{
			nulls[i] = cols[c][i] == NULL;
			/* the URL without credentials (user, password, token-like query values) */
			d[i] = nulls[i] ? (Datum) 0 :
				CStringGetTextDatum(c == 2 ? fi_http_logged_url(cols[c][i]) : cols[c][i]);
		}
		types[c] = TEXTARRAYOID;
		args[c] = text_array(d, nulls, n, TEXTOID);
	}
	/* the site's log, written as its owner: its triggers run with no more rights */
	fi_secure_enter(&sec, fi_rel_owner(relid));
	ret = fi_spi_execute(psprintf("INSERT INTO %s (name, creation, modified, owner, "
										 "modified_by, docstatus, idx, webhook, reference_document, "
										 "url, headers, data, \"user\", response, error%s) "
										 "SELECT " FI_SCHEMA ".random_name(), " FI_SCHEMA ".site_now(), "
										 FI_SCHEMA ".site_now(), coalesce(u, 'Administrator'), "
										 "coalesce(u, 'Administrator'), 0, 0, w, dn, left(url, 140), "
										 "h, d, u, r, e%s FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9) "
										 "AS x(w, dn, url, h, d, u, r, e, dt)",
										 fi_site_table("tabWebhook Request Log"),
										 has_refdt ? ", reference_doctype" : "",
										 has_refdt ? ", dt" : ""),
								9, types, args, NULL, false, 0);
	fi_secure_exit(&sec);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "writing tabWebhook Request Log failed: %s", SPI_result_code_string(ret));
}

/* ---- the flush ---- */

typedef struct DocAgg
{
	char		key[NAMEDATALEN * 8];	/* doctype \x1f name */
	int			seq;			/* position of its last note */
	uint32		events;
	bool		gone;
	ItemPointerData tid;		/* where its row was last written */
	FiVal	   *trash_doc;
	FiVal	   *trash_cond_doc;
	const char *doctype;
	const char *name;
} DocAgg;

static int
agg_cmp(const void *a, const void *b)
{
	const DocAgg *x = *(DocAgg *const *) a,
			   *y = *(DocAgg *const *) b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

typedef struct FlushState
{
	FiWebhookConfig *cfg;
	QueueBatch	batch;
	int			warnings;
	int64		queued;
	int64		failed;
} FlushState;

static void
queue_one(FlushState *fs, FiWebhook *h, const char *doctype, const char *docname,
		  FiRequest *rq)
{
	QueueBatch *b = &fs->batch;
	int			i = b->n;
	bytea	   *body = palloc(VARHDRSZ + rq->bodylen);

	if (rq->error)
	{
		fs->failed++;
		if (fs->warnings++ < MAX_WARNINGS)
			ereport(WARNING,
					(errmsg("webhook \"%s\" cannot be sent for %s \"%s\": %s",
							h->name, doctype, docname, rq->error),
					 errdetail("The change is committed; the event is kept as failed in "
							   FI_SCHEMA ".webhook_queue and logged in tabWebhook Request Log."),
					 errhint("See " FI_SCHEMA ".webhook_status.")));
		fi_webhook_log(h->name, doctype, docname, rq->url, NULL, NULL, rq->user, NULL,
					   rq->error);
	}
	else
		fs->queued++;
	SET_VARSIZE(body, VARHDRSZ + rq->bodylen);
	if (rq->bodylen)
		memcpy(VARDATA(body), rq->body, rq->bodylen);
	b->webhook[i] = CStringGetTextDatum(h->name);
	b->doctype[i] = CStringGetTextDatum(doctype);
	b->docname[i] = CStringGetTextDatum(docname);
	b->event[i] = CStringGetTextDatum(h->docevent ? h->docevent : "");
	b->method[i] = CStringGetTextDatum(h->method);
	b->url_null[i] = rq->url == NULL;
	b->url[i] = rq->url ? CStringGetTextDatum(rq->url) : (Datum) 0;
	b->headers[i] = CStringGetTextDatum(rq->headers ? rq->headers : "[]");
	b->body[i] = PointerGetDatum(body);
	b->sign[i] = BoolGetDatum(h->enable_security);
	b->timeout[i] = Int32GetDatum(Min(h->timeout, 3600) * 1000);
	b->user_null[i] = rq->user == NULL;
	b->user[i] = rq->user ? CStringGetTextDatum(rq->user) : (Datum) 0;
	b->status[i] = CStringGetTextDatum(rq->error ? "failed" : "pending");
	b->error_null[i] = rq->error == NULL;
	b->error[i] = rq->error ? CStringGetTextDatum(rq->error) : (Datum) 0;
	b->n++;
	if (b->n == FLUSH_BATCH)
		batch_write(b);
}

static bool
has_condition(FiWebhookConfig *cfg, const char *doctype)
{
	for (int i = 0; i < cfg->n; i++)
		if (cfg->hooks[i].doctype && strcmp(cfg->hooks[i].doctype, doctype) == 0 &&
			!fi_blank(cfg->hooks[i].condition))
			return true;
	return false;
}

/* the events a document delivers, given its row at commit */
static uint32
effective_events(DocAgg *a, FiVal *doc)
{
	FiVal	   *ds = doc ? fi_val_member(doc, "docstatus") : NULL;
	int64_t		d = 0;

	(void) (ds && fi_val_get_int(ds, &d));
	return fi_events_at_commit(a->events, doc != NULL, (int) d);
}

/*
 * The keys of doc that the DocType's webhooks read (engine/webhookreq.c);
 * false when some need all of it.  Most payloads read a handful of the
 * document's fields: only those are fetched and converted.
 */
static bool
needed_fields(FiTpl *t, FiWebhookConfig *cfg, const char *doctype, const FiDocMeta *meta,
			  const char ***fields, int *n)
{
	FiWebhookDef *defs = palloc0(sizeof(FiWebhookDef) * Max(cfg->n, 1));
	const FiWebhookDef **ptrs = palloc0(sizeof(FiWebhookDef *) * Max(cfg->n, 1));
	int			ndefs = 0;

	for (int i = 0; i < cfg->n; i++)
	{
		FiWebhook  *h = &cfg->hooks[i];

		if (!h->enabled || h->doctype == NULL || strcmp(h->doctype, doctype) != 0)
			continue;
		defs[ndefs] = hook_def(h);
		ptrs[ndefs] = &defs[ndefs];
		ndefs++;
	}
	return fi_webhook_doc_fields(t, ptrs, ndefs, meta, fields, n, req_alloc, NULL);
}

static void
flush_doctype(FlushState *fs, const char *doctype, DocAgg **aggs, int n)
{
	const FiDocMeta *meta = fi_get_meta(doctype, true);
	bool		need_cond = has_condition(fs->cfg, doctype);
	const char **fields = NULL;
	int			nfields = 0;
	const char **denied;

	/* documents none of whose events a webhook listens to are not read */
	uint32		wanted = fi_webhook_events_wanted(fs->cfg, doctype);
	uint32		live_mask = (wanted & ~FI_EV_ON_TRASH) |
		((wanted & FI_EV_CHILD_SAVE) ? FI_EV_CHILD : 0);

	if (meta != NULL)
	{
		FiWebhookConfig *cfg = fs->cfg;
		int			k;

		/* worked out once per configuration, kept with it */
		for (k = 0; k < cfg->nfieldsets; k++)
			if (strcmp(cfg->fieldsets[k].doctype, doctype) == 0)
				break;
		if (k == cfg->nfieldsets)
		{
			MemoryContext old = MemoryContextSwitchTo(GetMemoryChunkContext(cfg));
			FiTplOptions opt;
			FiTpl	   *t;
			FiFieldSet *fset;

			fi_tpl_default_options(&opt);
			t = fi_tpl_new(&opt);
			if (t == NULL)
				ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));

			cfg->fieldsets = cfg->fieldsets ?
				repalloc(cfg->fieldsets, sizeof(FiFieldSet) * (k + 1)) :
				palloc(sizeof(FiFieldSet));
			fset = &cfg->fieldsets[k];
			fset->doctype = pstrdup(doctype);
			fset->whole = !needed_fields(t, cfg, doctype, meta, &fset->fields, &fset->n);
			for (int i = 0; i < fset->n; i++)
				fset->fields[i] = pstrdup(fset->fields[i]);
			cfg->nfieldsets = k + 1;
			fi_tpl_free(t);
			MemoryContextSwitchTo(old);
		}
		if (!cfg->fieldsets[k].whole)
		{
			fields = cfg->fieldsets[k].fields;
			nfields = cfg->fieldsets[k].n;
		}
	}

	denied = palloc0(sizeof(char *) * Max(fs->cfg->n, 1));
	for (int k = 0; k < fs->cfg->n && meta != NULL; k++)
	{
		FiWebhook  *h = &fs->cfg->hooks[k];

		if (h->enabled && h->doctype != NULL && strcmp(h->doctype, doctype) == 0)
			denied[k] = fi_webhook_author_problem(h, meta);
	}
	for (int start = 0; start < n; start += FLUSH_BATCH)
	{
		int			m = Min(FLUSH_BATCH, n - start);
		const char **names = palloc(sizeof(char *) * m);
		FiVal	  **docs = palloc0(sizeof(FiVal *) * m);
		FiVal	  **cdocs = palloc0(sizeof(FiVal *) * m);
		MemoryContext batch_cxt = AllocSetContextCreate(CurrentMemoryContext,
														"frappe_integrations webhook batch",
														ALLOCSET_DEFAULT_SIZES);
		MemoryContext old = MemoryContextSwitchTo(batch_cxt);
		FiTpl	   *t = fi_template_session(fi_site_now_usec());
		int			nlive = 0;
		const char **live = palloc(sizeof(char *) * m);
		ItemPointerData *tids = palloc(sizeof(ItemPointerData) * m);
		int		   *live_ix = palloc(sizeof(int) * m);

		for (int i = 0; i < m; i++)
		{
			names[i] = aggs[start + i]->name;
			if (!aggs[start + i]->gone && (aggs[start + i]->events & live_mask))
			{
				live_ix[nlive] = i;
				tids[nlive] = aggs[start + i]->tid;
				live[nlive++] = names[i];
			}
		}
		if (meta != NULL && nlive > 0)
		{
			FiVal	  **d = palloc0(sizeof(FiVal *) * nlive);
			FiVal	  **cd = palloc0(sizeof(FiVal *) * nlive);
			FiDocFetch	f = {.meta = meta, .names = live, .tids = tids, .n = nlive,
				.fields = fields, .nfields = nfields, .docs = d, .cdocs = need_cond ? cd : NULL};

			fi_docs_fetch(t, &f);
			elog(DEBUG1, "webhooks: %d %s documents read, %d by row id", nlive, doctype, f.by_tid);
			for (int i = 0; i < nlive; i++)
			{
				docs[live_ix[i]] = d[i];
				cdocs[live_ix[i]] = cd[i];
			}
			/* SPI left us in its context; this batch's memory is ours */
			MemoryContextSwitchTo(batch_cxt);
		}
		for (int i = 0; i < m; i++)
		{
			DocAgg	   *a = aggs[start + i];
			uint32		ev = effective_events(a, docs[i]);

			if (docs[i])
				fi_val_as_documents(docs[i]);
			if (cdocs[i])
				fi_val_as_documents(cdocs[i]);
			for (int k = 0; k < fs->cfg->n; k++)
			{
				FiWebhook  *h = &fs->cfg->hooks[k];
				FiVal	   *doc,
						   *cdoc;
				FiRequest	rq;

				if (!h->enabled || h->doctype == NULL || strcmp(h->doctype, doctype) != 0)
					continue;
				if (meta != NULL && denied[k] != NULL)
				{
					/* nothing of the document is read for it, nor sent */
					if (!(h->event == FI_EV_ON_TRASH ? (a->events & FI_EV_ON_TRASH) != 0 :
						  (ev & h->event) != 0))
						continue;
					memset(&rq, 0, sizeof(rq));
					rq.error = (char *) denied[k];
					queue_one(fs, h, doctype, a->name, &rq);
					continue;
				}
				if (h->event == FI_EV_ON_TRASH)
				{
					if (!(a->events & FI_EV_ON_TRASH) || a->trash_doc == NULL)
						continue;
					doc = a->trash_doc;
					cdoc = a->trash_cond_doc;
				}
				else
				{
					if (!(ev & h->event) || docs[i] == NULL)
						continue;
					doc = docs[i];
					cdoc = cdocs[i] ? cdocs[i] : docs[i];
				}
				fi_webhook_build(t, h, doc, cdoc, &rq);
				if (rq.skip)
					continue;
				queue_one(fs, h, doctype, a->name, &rq);
			}
		}
		batch_write(&fs->batch);
		MemoryContextSwitchTo(old);
		MemoryContextDelete(batch_cxt);
	}
}

/* fold the notes per document; returns them by each one's last change */
static DocAgg **
fold_notes(FiNote *notes, int n, MemoryContext cxt, int *nagg_out)
{
	HASHCTL		ctl;
	HTAB	   *h;
	DocAgg	  **order = palloc(sizeof(DocAgg *) * Max(n, 1));
	int			nagg = 0;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(((DocAgg *) 0)->key);
	ctl.entrysize = sizeof(DocAgg);
	ctl.hcxt = cxt;
	h = hash_create("frappe_integrations webhook docs", Min(Max(n, 16), 1 << 16), &ctl,
					HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	for (int i = 0; i < n; i++)
	{
		char		key[NAMEDATALEN * 8];
		bool		found;
		DocAgg	   *a;

		if (snprintf(key, sizeof(key), "%s\x1f%s", notes[i].doctype, notes[i].name) >= (int) sizeof(key))
			continue;			/* no Frappe name is this long */
		a = hash_search(h, key, HASH_ENTER, &found);
		if (!found)
		{
			a->events = 0;
			ItemPointerSetInvalid(&a->tid);
			a->trash_doc = a->trash_cond_doc = NULL;
			a->doctype = notes[i].doctype;
			a->name = notes[i].name;
			order[nagg++] = a;
		}
		a->seq = i;
		a->events |= notes[i].events;
		a->gone = (notes[i].events & FI_EV_GONE) != 0;
		if (ItemPointerIsValid(&notes[i].tid))
			a->tid = notes[i].tid;
		if (notes[i].trash_doc)
		{
			a->trash_doc = notes[i].trash_doc;
			a->trash_cond_doc = notes[i].trash_cond_doc;
		}
	}
	/* Frappe's order: by each document's last change */
	qsort(order, nagg, sizeof(DocAgg *), agg_cmp);
	*nagg_out = nagg;
	return order;
}

static int64
flush_all(FiNote *notes, int n, MemoryContext cxt, bool *outbox)
{
	FiWebhookConfig *cfg;
	DocAgg	  **order;
	int			nagg;
	FlushState	fs;
	const char **doctypes;
	int			ndt = 0;

	/* the configuration as it is now (a change of it invalidated the cache) */
	cfg = fi_webhook_xact_config();
	if (cfg->n == 0)
		return 0;
	order = fold_notes(notes, n, cxt, &nagg);
	memset(&fs, 0, sizeof(fs));
	fs.cfg = cfg;
	batch_init(&fs.batch, FLUSH_BATCH);
	fs.batch.outbox = *outbox = nagg > OUTBOX_MIN_DOCS;
	fs.batch.queued_at = GetCurrentTimestamp();

	/* the DocTypes noted, in order of first appearance (a handful) */
	doctypes = palloc(sizeof(char *) * Max(nagg, 1));
	for (int i = 0; i < nagg; i++)
	{
		bool		seen = false;

		for (int j = 0; j < ndt && !seen; j++)
			seen = doctypes[j] == order[i]->doctype || strcmp(doctypes[j], order[i]->doctype) == 0;
		if (!seen)
			doctypes[ndt++] = order[i]->doctype;
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (int d = 0; d < ndt; d++)
	{
		DocAgg	  **group;
		int			ng = 0;

		if (fi_webhook_events_wanted(cfg, doctypes[d]) == 0)
			continue;
		MemoryContextSwitchTo(cxt);
		group = palloc(sizeof(DocAgg *) * nagg);
		for (int j = 0; j < nagg; j++)
			if (order[j]->doctype == doctypes[d] || strcmp(order[j]->doctype, doctypes[d]) == 0)
				group[ng++] = order[j];
		flush_doctype(&fs, doctypes[d], group, ng);
	}
	SPI_finish();
	if (fs.warnings > MAX_WARNINGS)
		ereport(WARNING,
				(errmsg("%d more webhook events of this transaction cannot be sent",
						fs.warnings - MAX_WARNINGS)));
	return fs.queued;
}

typedef struct FlushArgs
{
	FiNote	   *notes;
	int			n;
	MemoryContext cxt;
	int64		queued;
	bool		outbox;
} FlushArgs;

static void
flush_in_subxact(void *arg)
{
	FlushArgs  *fa = arg;
	FiSecure	sec;

	/* the queue is the extension's: written as its owner (secure.c) */
	fi_secure_enter(&sec, fi_schema_owner());
	/* the last statement's changes are what the documents must show */
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	fa->queued = flush_all(fa->notes, fa->n, fa->cxt, &fa->outbox);
	PopActiveSnapshot();
	fi_secure_exit(&sec);
}

/*
 * The notes of a transaction about to commit, queued.  Never makes the
 * commit fail: whatever goes wrong here (a table truncated or dropped in
 * the same transaction, a column of an unexpected type, a trigger of the
 * site's refusing a log row) is rolled back alone, in a subtransaction, and
 * reported as a WARNING naming what was not queued.
 */
int64
fi_webhook_flush(FiNote *notes, int n, bool *outbox)
{
	static bool warned = false;
	int64		queued = 0;
	MemoryContext cxt,
				old;
	FlushArgs	fa;
	ErrorData  *edata;

	*outbox = false;
	cxt = AllocSetContextCreate(CurTransactionContext, "frappe_integrations webhook flush",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	fa.notes = notes;
	fa.n = n;
	fa.cxt = cxt;
	fa.queued = 0;
	fa.outbox = false;
	edata = fi_run_in_subxact(flush_in_subxact, &fa);
	if (edata == NULL)
	{
		queued = fa.queued;
		*outbox = fa.outbox;
	}
	else
	{
		ereport(WARNING,
				(errmsg("the webhook events of this transaction could not be queued: %s",
						edata->message),
				 errdetail("The transaction commits; %d row changes fired no webhook.", n),
				 errhint("See the server log; integrations.webhook_status shows each webhook's state.")));
		FreeErrorData(edata);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	if (queued > 0 && !fi_worker_preloaded() && !warned)
	{
		warned = true;
		ereport(WARNING,
				(errmsg("webhook events are queued but nothing will deliver them"),
				 errdetail("The frappe_integrations library is not in shared_preload_libraries, "
						   "so its background worker is not running."),
				 errhint("Add frappe_integrations to shared_preload_libraries and restart the server.")));
	}
	return queued;
}
