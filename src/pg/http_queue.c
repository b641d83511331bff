/*
 * http_queue.c
 *		The async form of integrations.http_request: http_request_async
 *		checks a request as the sync form does and queues it in
 *		integrations.http_queue (sent after commit); the webhook worker
 *		claims the rows, sends them with its sender (delivery.c) and records
 *		the responses there, where they are kept for
 *		frappe_integrations.http_retention.
 *
 * One attempt: an HTTP request from SQL need not be idempotent, so a
 * failure is recorded, not retried.  Only a row whose worker stopped while
 * sending it (its lease ran out) is sent again, at most three times in all.
 * A payment gateway's call that payment_checkout queued (0.12.0: the
 * payment column) may be sent max_attempts times under the worker's retry
 * policy; the worker adds the gateway's key as it claims the row, and
 * writes the final answer into the payment's Integration Request.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "catalog/namespace.h"

#include "frappe_integrations.h"
#include "delivery.h"
#include "http.h"
#include "webhook.h"

#define MAX_SENDS	3			/* the worker stopped mid-send this often: give up */
#define ASYNC_MAX_RESPONSE	((int64) 64 * 1024 * 1024)	/* whatever http_max_response says */
#define BIG_RESPONSE	(1024 * 1024)	/* recorded in a statement of its own */

PG_FUNCTION_INFO_V1(fi_http_request_async);

/*
 * integrations.http_request_async(method, url, headers, body, timeout_ms)
 * returns bigint: the id of the integrations.http_queue row.  Refused as
 * http_request refuses; sent once this transaction commits.  With
 * frappe_integrations.http_log a Queued tabIntegration Request row is
 * written now and completed by the worker.
 */
Datum
fi_http_request_async(PG_FUNCTION_ARGS)
{
	char	   *method,
			   *url,
			   *body;
	Jsonb	   *headers;
	size_t		bodylen;
	int			timeout;
	char	   *ir = NULL;
	Oid			types[9] = {TEXTOID, TEXTOID, JSONBOID, BYTEAOID, INT4OID, INT4OID, INT8OID, TEXTOID,
	TEXTOID};
	Datum		vals[9];
	char		nulls[9];
	FiSecure	sec;
	int64		id;
	bool		isnull;

	fi_check_version();
	fi_http_args(fcinfo, &method, &url, &headers, &body, &bodylen, &timeout);
	(void) fi_http_check(method, url, headers, timeout);
	if (fi_http_log)
		ir = fi_http_log_request(method, url, headers, body, bodylen, true, 0, NULL, 0);

	memset(nulls, ' ', sizeof(nulls));
	vals[0] = CStringGetTextDatum(method);
	vals[1] = CStringGetTextDatum(url);
	vals[2] = headers ? JsonbPGetDatum(headers) :
		DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	if (body)
		vals[3] = PointerGetDatum(PG_GETARG_BYTEA_PP(3));	/* text or bytea: the same bytes */
	else
		nulls[3] = 'n';
	vals[4] = Int32GetDatum(timeout);
	vals[5] = Int32GetDatum(fi_http_max_redirects);
	vals[6] = Int64GetDatum((int64) fi_http_max_response_kb * 1024);
	if (ir)
		vals[7] = CStringGetTextDatum(ir);
	else
		nulls[7] = 'n';
	vals[8] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/*
	 * EXECUTE on this function is the privilege: the row is written as the
	 * queue's owner, for the calling role (requested_by), with the
	 * Integration Request row this call wrote.  No role writes the queue
	 * directly (row-level security), so none can name another's row for the
	 * worker to complete, nor queue in another's name.
	 */
	fi_secure_enter(&sec, fi_schema_owner());
	if (fi_spi_execute("INSERT INTO " FI_SCHEMA ".http_queue (method, url, headers, body, "
					   "timeout_ms, max_redirects, max_response, integration_request, requested_by) "
					   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
					   9, types, vals, nulls, false, 0) != SPI_OK_INSERT_RETURNING ||
		SPI_processed != 1)
		elog(ERROR, "could not queue the HTTP request");
	fi_secure_exit(&sec);
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	fi_worker_wake_at_commit();
	PG_RETURN_INT64(id);
}

/*
 * Claim up to $1 due rows: 'sending' with a lease (the timeout and 5 s),
 * due again when it ends.
 */
#define CLAIM_DUE \
	"UPDATE " FI_SCHEMA ".http_queue q SET status = 'sending', attempts = q.attempts + 1, " \
	"lease_until = " FI_LEASE_END ", next_attempt_at = " FI_LEASE_END " " \
	"WHERE q.id IN (SELECT id FROM " FI_SCHEMA ".http_queue " \
	"WHERE status IN ('pending', 'sending') AND next_attempt_at <= now() " \
	"ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)"

/*
 * Claim up to n due rows: 'sending' with a lease (the timeout and 5 s),
 * due again when it ends.  Returns them as deliveries allocated in cxt; a
 * row that cannot be sent comes back done, with its error.
 */
FiDelivery *
fi_http_queue_claim(int n, MemoryContext cxt, int *nclaimed)
{
	FiDelivery *list = NULL;
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1] = {Int32GetDatum(n)};
	int			ret;

	*nclaimed = 0;
	if (n <= 0)
		return NULL;
	if (fi_http_queue_payments)
	{
		/*
		 * A payment's call gets the gateway's key only now, in the worker's
		 * memory: the queue row never holds it (payment_send_authorization).
		 */
		ret = fi_spi_execute("WITH c AS (" CLAIM_DUE " "
							 "RETURNING q.*) "
							 "SELECT c.id, c.method, c.url, "
							 "CASE WHEN a.v ? 'authorization' THEN c.headers || "
							 "jsonb_build_object('Authorization', a.v ->> 'authorization') ELSE c.headers END, "
							 "c.body, c.timeout_ms, c.max_redirects, c.max_response, c.attempts, "
							 "c.integration_request, c.max_attempts, c.payment ->> 'gateway', a.v ->> 'error' "
							 "FROM c LEFT JOIN LATERAL (SELECT " FI_SCHEMA ".payment_send_authorization(c.payment) "
							 "AS v WHERE c.payment IS NOT NULL) a ON true",
							 1, argtypes, args, NULL, false, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "claiming queued HTTP requests failed: %s", SPI_result_code_string(ret));
	}
	else
	{
		/* an extension not yet updated to 0.12.0: no payment calls */
		ret = fi_spi_execute(CLAIM_DUE " "
							 "RETURNING q.id, q.method, q.url, q.headers, q.body, q.timeout_ms, "
							 "q.max_redirects, q.max_response, q.attempts, q.integration_request",
							 1, argtypes, args, NULL, false, 0);
		if (ret != SPI_OK_UPDATE_RETURNING)
			elog(ERROR, "claiming queued HTTP requests failed: %s", SPI_result_code_string(ret));
	}
	*nclaimed = (int) SPI_processed;
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext dcxt = AllocSetContextCreate(cxt, "http request", ALLOCSET_SMALL_SIZES);
		FiDelivery *d = MemoryContextAllocZero(dcxt, sizeof(FiDelivery));
		bool		isnull;
		Datum		b;
		const char *why;

		d->http = true;
		d->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		d->method = fi_spi_getstr(tup, desc, 2, dcxt);
		d->url = fi_spi_getstr(tup, desc, 3, dcxt);
		d->headers_json = fi_spi_getstr(tup, desc, 4, dcxt);
		b = SPI_getbinval(tup, desc, 5, &isnull);
		if (!isnull)
		{
			bytea	   *body = DatumGetByteaPP(b);

			d->bodylen = VARSIZE_ANY_EXHDR(body);
			d->body = MemoryContextAlloc(dcxt, d->bodylen + 1);
			memcpy(d->body, VARDATA_ANY(body), d->bodylen);
			d->body[d->bodylen] = '\0';
		}
		d->timeout_ms = DatumGetInt32(SPI_getbinval(tup, desc, 6, &isnull));
		d->max_redirects = DatumGetInt32(SPI_getbinval(tup, desc, 7, &isnull));
		/* a response is held in the worker's memory: 64 MB at most */
		d->max_response = Min(DatumGetInt64(SPI_getbinval(tup, desc, 8, &isnull)), ASYNC_MAX_RESPONSE);
		d->attempt = DatumGetInt32(SPI_getbinval(tup, desc, 9, &isnull));
		d->integration_request = fi_spi_getstr(tup, desc, 10, dcxt);
		d->max_attempts = 1;
		why = fi_webhook_url_problem(d->url);
		if (fi_http_queue_payments)
		{
			char	   *gateway = fi_spi_getstr(tup, desc, 12, dcxt);
			char	   *auth_error = fi_spi_getstr(tup, desc, 13, dcxt);

			d->max_attempts = DatumGetInt32(SPI_getbinval(tup, desc, 11, &isnull));
			if (gateway)
			{
				d->payment = true;
				(void) fi_pay_gateway(gateway, &d->pay_gateway);
				/* a payment's call is no redirect-follower: the key goes to its API alone */
				d->max_redirects = 0;
			}
			if (why == NULL && auth_error)
				why = auth_error;
		}
		if (why == NULL && d->attempt > Max(MAX_SENDS, d->max_attempts))
			why = psprintf("the worker stopped while sending this request %d times", d->attempt - 1);
		if (why)
		{
			d->error = MemoryContextStrdup(dcxt, why);
			d->no_retry = true;
			d->done = true;
		}
		d->next = list;
		list = d;
	}
	return list;
}

/*
 * Is integrations.http_queue 0.12.0's, with payment calls (max_attempts,
 * payment)?  Asked by the worker in a transaction.
 */
bool
fi_http_queue_has_payments(void)
{
	Oid			nsp = get_namespace_oid(FI_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("http_queue", nsp) : InvalidOid;

	return OidIsValid(relid) && get_attnum(relid, "payment") != InvalidAttrNumber &&
		get_attnum(relid, "max_attempts") != InvalidAttrNumber;
}

bool		fi_http_queue_payments = false;

/* the requests record_rows writes: the one given, or every small one */
static inline bool
selected(FiDelivery *d, FiDelivery *only)
{
	return d->http && (only ? d == only : d->response.len <= BIG_RESPONSE);
}

/*
 * Write the outcomes of the list's requests (its webhook events are
 * skipped): 'done' with the response (any status), or 'failed' with the
 * error when none came; and complete their tabIntegration Request rows
 * (Completed below 400, else Failed).  Small responses are written in one
 * statement, each large one in its own (a statement's arrays stay well
 * under 1 GB).
 */
static void record_rows(FiDelivery *list, FiDelivery *only);

void
fi_http_queue_record(FiDelivery *list)
{
	int			npay = 0;

	record_rows(list, NULL);
	for (FiDelivery *d = list; d; d = d->next)
	{
		if (d->http && d->response.len > BIG_RESPONSE)
			record_rows(list, d);
		npay += d->http && d->payment && !d->requeued;
	}
	if (npay > 0)
	{
		/* the payments' answers into their Integration Requests */
		Datum	   *ids = palloc(sizeof(Datum) * npay);
		Oid			types[1] = {INT8ARRAYOID};
		Datum		args[1];
		int			i = 0;

		for (FiDelivery *d = list; d; d = d->next)
			if (d->http && d->payment && !d->requeued)
				ids[i++] = Int64GetDatum(d->id);
		args[0] = PointerGetDatum(construct_array(ids, npay, INT8OID, 8, true, TYPALIGN_DOUBLE));
		if (fi_spi_execute("SELECT " FI_SCHEMA ".payment_checkout_finish($1)", 1, types, args, NULL,
						   false, 0) != SPI_OK_SELECT)
			elog(ERROR, "writing the answers of payment calls failed");
	}
}

/*
 * When a request that may be sent again is due again, in ms from now; -1
 * when its outcome is final.  The worker's policy (transport errors,
 * timeouts, 408, 429, 5xx; Retry-After; back-off with jitter;
 * frappe_integrations.retry_base), with what a payment gateway says of a
 * repeat (engine/payments.c: Stripe-Should-Retry, 409).
 */
static int64
retry_delay(const FiDelivery *d)
{
	FiDelivery	probe = *d;
	int64		delay = -1;

	if (d->max_attempts <= 1)
		return -1;
	if (d->payment)
	{
		FiPayRetry	v = fi_pay_retry_verdict(d->pay_gateway, d->error ? 0 : d->http_status,
											 d->resp_headers.data);

		if (v == FI_PAY_RETRY_NO)
			return -1;
		if (v == FI_PAY_RETRY_YES)
		{
			probe.error = NULL;
			probe.http_status = 503;	/* retried as an unavailable gateway is */
		}
	}
	if (fi_delivery_outcome(&probe, d->max_attempts, fi_retry_base_ms, &delay) != FI_OUTCOME_RETRY)
		return -1;
	return delay;
}

static void
record_rows(FiDelivery *list, FiDelivery *only)
{
	int			n = 0,
				nir = 0,
				i = 0;
	Datum	   *ids,
			   *sts,
			   *codes,
			   *hdrs,
			   *bodies,
			   *errs,
			   *irn,
			   *irst,
			   *irtxt,
			   *irdesc,
			   *delays;
	bool	   *nocode,
			   *nodelay,
			   *nohdr,
			   *nobody,
			   *noerr;
	int			dims[1];
	int			lbs[1] = {1};
	Oid			types[7] = {INT8ARRAYOID, TEXTARRAYOID, INT4ARRAYOID, JSONBARRAYOID, BYTEAARRAYOID,
	TEXTARRAYOID, INT8ARRAYOID};
	Datum		args[7];
	FiSecure	sec;

	for (FiDelivery *d = list; d; d = d->next)
	{
		n += selected(d, only);
		if (selected(d, only))
		{
			d->retry_ms = retry_delay(d);
			d->requeued = d->retry_ms >= 0;
			nir += d->integration_request != NULL && !d->requeued;
		}
	}
	if (n == 0)
		return;
	ids = palloc(sizeof(Datum) * n);
	sts = palloc(sizeof(Datum) * n);
	codes = palloc(sizeof(Datum) * n);
	hdrs = palloc(sizeof(Datum) * n);
	bodies = palloc(sizeof(Datum) * n);
	errs = palloc(sizeof(Datum) * n);
	nocode = palloc(sizeof(bool) * n);
	nohdr = palloc(sizeof(bool) * n);
	nobody = palloc(sizeof(bool) * n);
	noerr = palloc(sizeof(bool) * n);
	delays = palloc(sizeof(Datum) * n);
	nodelay = palloc(sizeof(bool) * n);
	irn = palloc(sizeof(Datum) * Max(nir, 1));
	irst = palloc(sizeof(Datum) * Max(nir, 1));
	irtxt = palloc(sizeof(Datum) * Max(nir, 1));
	irdesc = palloc(sizeof(Datum) * Max(nir, 1));
	nir = 0;
	for (FiDelivery *d = list; d; d = d->next)
	{
		bool		answered = d->error == NULL && d->http_status > 0;

		if (!selected(d, only))
			continue;			/* a webhook event of the same batch, or another pass's */

		ids[i] = Int64GetDatum(d->id);
		sts[i] = CStringGetTextDatum(answered ? "done" : "failed");
		nocode[i] = !answered;
		codes[i] = Int32GetDatum((int32) d->http_status);
		nohdr[i] = nobody[i] = !answered;
		if (answered)
		{
			bytea	   *b = palloc(VARHDRSZ + d->response.len);

			hdrs[i] = fi_http_headers_jsonb(d->resp_headers.data ? d->resp_headers.data : "");
			SET_VARSIZE(b, VARHDRSZ + d->response.len);
			memcpy(VARDATA(b), d->response.data, d->response.len);
			bodies[i] = PointerGetDatum(b);
		}
		noerr[i] = answered;
		errs[i] = answered ? (Datum) 0 : CStringGetTextDatum(d->error ? d->error : "no response");
		nodelay[i] = !d->requeued;
		delays[i] = Int64GetDatum(d->requeued ? d->retry_ms : 0);
		if (d->integration_request && !d->requeued)
		{
			bool		ok = answered && d->http_status < 400;

			irn[nir] = CStringGetTextDatum(d->integration_request);
			irst[nir] = CStringGetTextDatum(ok ? "Completed" : "Failed");
			irtxt[nir] = CStringGetTextDatum(answered ? fi_http_logged_text(d->response.data, d->response.len) :
											 d->error ? d->error : "no response");
			irdesc[nir] = CStringGetTextDatum(answered ? psprintf("%s %ld", d->method, d->http_status) :
											  psprintf("%s (no response)", d->method));
			nir++;
		}
		i++;
	}
	dims[0] = n;
	args[0] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, true, TYPALIGN_DOUBLE));
	args[1] = PointerGetDatum(construct_array(sts, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[2] = PointerGetDatum(construct_md_array(codes, nocode, 1, dims, lbs, INT4OID, 4, true,
												 TYPALIGN_INT));
	args[3] = PointerGetDatum(construct_md_array(hdrs, nohdr, 1, dims, lbs, JSONBOID, -1, false,
												 TYPALIGN_INT));
	args[4] = PointerGetDatum(construct_md_array(bodies, nobody, 1, dims, lbs, BYTEAOID, -1, false,
												 TYPALIGN_INT));
	args[5] = PointerGetDatum(construct_md_array(errs, noerr, 1, dims, lbs, TEXTOID, -1, false,
												 TYPALIGN_INT));
	args[6] = PointerGetDatum(construct_md_array(delays, nodelay, 1, dims, lbs, INT8OID, 8, true,
												 TYPALIGN_DOUBLE));
	/* a request to be sent again is pending, due after its delay, with this attempt's outcome */
	if (fi_spi_execute("UPDATE " FI_SCHEMA ".http_queue q SET "
					   "status = CASE WHEN r.delay IS NULL THEN r.st ELSE 'pending' END, "
					   "response_status = r.code, response_headers = r.h, response_body = r.b, "
					   "error = r.err, lease_until = NULL, "
					   "next_attempt_at = CASE WHEN r.delay IS NULL THEN q.next_attempt_at "
					   "ELSE now() + r.delay * interval '1 millisecond' END, "
					   "finished_at = CASE WHEN r.delay IS NULL THEN now() END "
					   "FROM unnest($1, $2, $3, $4, $5, $6, $7) AS r(id, st, code, h, b, err, delay) "
					   "WHERE q.id = r.id AND q.status = 'sending'",
					   7, types, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "recording the responses of queued HTTP requests failed");
	if (nir > 0 && OidIsValid(fi_site_table_oid("tabIntegration Request", true)))
	{
		Oid			irtypes[4] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
		Datum		irargs[4];

		irargs[0] = PointerGetDatum(construct_array(irn, nir, TEXTOID, -1, false, TYPALIGN_INT));
		irargs[1] = PointerGetDatum(construct_array(irst, nir, TEXTOID, -1, false, TYPALIGN_INT));
		irargs[2] = PointerGetDatum(construct_array(irtxt, nir, TEXTOID, -1, false, TYPALIGN_INT));
		irargs[3] = PointerGetDatum(construct_array(irdesc, nir, TEXTOID, -1, false, TYPALIGN_INT));
		/* the site's table, written as its owner (secure.c) */
		fi_secure_enter(&sec, fi_site_table_owner("tabIntegration Request"));
		if (fi_spi_execute(psprintf("UPDATE %s i SET status = r.st, "
									"output = CASE WHEN r.st = 'Completed' THEN r.txt END, "
									"error = CASE WHEN r.st = 'Failed' THEN r.txt END, "
									"request_description = r.descr, modified = " FI_SCHEMA ".site_now() "
									"FROM unnest($1, $2, $3, $4) AS r(name, st, txt, descr) "
									"WHERE i.name = r.name AND i.status = 'Queued'",
									fi_site_table("tabIntegration Request")),
						   4, irtypes, irargs, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "completing tabIntegration Request rows failed");
		fi_secure_exit(&sec);
	}
}

/* put the list's claimed requests back (shutdown): due again at once, the send not counted */
void
fi_http_queue_release(FiDelivery *list)
{
	StringInfoData ids;

	initStringInfo(&ids);
	for (FiDelivery *d = list; d; d = d->next)
		if (d->http)
			appendStringInfo(&ids, "%s" INT64_FORMAT, ids.len ? "," : "", d->id);
	if (ids.len == 0)
		return;
	SPI_execute(psprintf("UPDATE " FI_SCHEMA ".http_queue SET status = 'pending', "
						 "attempts = greatest(attempts - 1, 0), lease_until = NULL, "
						 "next_attempt_at = now() WHERE id IN (%s) AND status = 'sending'", ids.data),
				false, 0);
}

/* delete the results older than frappe_integrations.http_retention */
void
fi_http_queue_purge(void)
{
	Oid			types[1] = {INT4OID};
	Datum		args[1] = {Int32GetDatum(fi_http_retention_s)};

	(void) fi_spi_execute("DELETE FROM " FI_SCHEMA ".http_queue "
						  "WHERE finished_at < now() - make_interval(secs => $1)",
						  1, types, args, NULL, false, 0);
}
