/*
 * http.c
 *		Outbound HTTP from SQL: integrations.http_request and Frappe's
 *		make_*_request shortcuts, on libcurl.
 *
 * Only http and https, also for redirects (at most
 * frappe_integrations.http_max_redirects); TLS verified against the system
 * CAs or frappe_integrations.ca_bundle; a timeout always; the response body
 * capped at frappe_integrations.http_max_response bytes; the transfer runs
 * on a multi handle polled every 50 ms so that a statement cancel (Ctrl-C)
 * or statement_timeout stops it at once.  Bad input is refused before
 * anything is sent.
 */
#include "postgres.h"

#include <curl/curl.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/formatting.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "frappe_integrations.h"
#include "http.h"
#include "engine/codec.h"
#include "engine/csv.h"

extern char *fi_ca_bundle;		/* worker.c: frappe_integrations.ca_bundle */

/* settings */
int			fi_http_timeout_ms = 30000;
int			fi_http_max_response_kb = 10240;
int			fi_http_max_redirects = 5;
bool		fi_http_log = false;
int			fi_http_retention_s = 86400;

void
fi_http_init(void)
{
	DefineCustomIntVariable("frappe_integrations.http_timeout",
							"Default timeout of integrations.http_request.",
							NULL, &fi_http_timeout_ms, 30000, 1, 600000, PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("frappe_integrations.http_max_response",
							"Largest response body integrations.http_request accepts.",
							NULL, &fi_http_max_response_kb, 10240, 1, 1024 * 1024, PGC_SUSET, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("frappe_integrations.http_max_redirects",
							"Redirects integrations.http_request follows (to http or https only).",
							NULL, &fi_http_max_redirects, 5, 0, 20, PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("frappe_integrations.http_log",
							 "Write a tabIntegration Request row for each http_request.",
							 "Rows belong to the caller's transaction: a request that ends in an error leaves none.",
							 &fi_http_log, false, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("frappe_integrations.http_retention",
							"How long the results of integrations.http_request_async are kept.",
							"The worker deletes integrations.http_queue rows this long after they finished.",
							&fi_http_retention_s, 86400, 1, 10 * 365 * 86400, PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* a header whose value is a credential: logged as "***" (engine/httpreq.c) */
bool
fi_http_secret_header(const char *name)
{
	return fi_http_secret_name(name, strlen(name));
}

/* the request's headers for the log, credentials masked */
/* an engine's JSON buffer as a palloc'd string (freed) */
static char *
jbuf_pstrdup(FiJBuf *b)
{
	char	   *r;

	if (b->oom)
	{
		fi_jbuf_free(b);
		elog(ERROR, "out of memory");
	}
	r = pnstrdup(b->data ? b->data : "", b->len);
	fi_jbuf_free(b);
	return r;
}

/* the request's headers for the log, credentials masked (engine/httpreq.c) */
static char *
logged_headers(Jsonb *headers)
{
	FiJBuf		b = {0};
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *name = NULL;
	bool		first = true;

	if (headers != NULL && JB_ROOT_IS_OBJECT(headers))
	{
		it = JsonbIteratorInit(&headers->root);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (tok == WJB_KEY)
				name = pnstrdup(v.val.string.val, v.val.string.len);
			else if (tok == WJB_VALUE && v.type == jbvString)
				fi_http_log_header(&b, &first, name, strlen(name), v.val.string.val, v.val.string.len);
		}
	}
	fi_http_log_headers_end(&b, first);
	return jbuf_pstrdup(&b);
}

static void *
http_palloc(void *arg, size_t size)
{
	return palloc0(size);
}

/* the URL for a log row (engine/httpreq.c: no user or password, credential-like query values masked) */
char *
fi_http_logged_url(const char *url)
{
	char	   *r = fi_http_log_url(url, http_palloc, NULL);

	if (r == NULL)
		elog(ERROR, "out of memory");
	return r;
}

static char *log_host(const char *url);

/* bytes as text for a log column: themselves when UTF-8 without NUL, else a note (engine/httpreq.c) */
char *
fi_http_logged_text(const char *b, size_t n)
{
	FiJBuf		t = {0};

	fi_http_log_text(b, n, &t);
	return jbuf_pstrdup(&t);
}

/*
 * One tabIntegration Request row (frappe-facts 7): Completed for a status
 * below 400 (output = the response), else Failed (error = the response);
 * Queued (no response yet) for a request queued to the worker.  Returns the
 * row's name, or NULL when the site has no such table.
 */
char *
fi_http_log_request(const char *method, const char *url, Jsonb *headers, const char *body,
					size_t bodylen, bool queued, long status, const char *resp, size_t resplen)
{
	Oid			types[9] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		vals[9];
	char		nulls[9];
	bool		ok = status > 0 && status < 400;
	MemoryContext caller = CurrentMemoryContext;
	char	   *name;

	if (!OidIsValid(fi_site_table_oid("tabIntegration Request", true)))
		return NULL;
	memset(nulls, ' ', sizeof(nulls));
	vals[0] = CStringGetTextDatum(log_host(url));
	vals[1] = CStringGetTextDatum(queued ? "Queued" : ok ? "Completed" : "Failed");
	vals[2] = CStringGetTextDatum(fi_http_logged_url(url));
	vals[3] = CStringGetTextDatum(logged_headers(headers));
	if (body)
		vals[4] = CStringGetTextDatum(fi_http_logged_text(body, bodylen));
	else
		nulls[4] = 'n';
	if (queued)
		nulls[5] = 'n';
	else
		vals[5] = CStringGetTextDatum(fi_http_logged_text(resp ? resp : "", resp ? resplen : 0));
	vals[6] = CStringGetTextDatum(queued ? psprintf("%s (queued)", method) : psprintf("%s %ld", method, status));
	vals[7] = CStringGetTextDatum("Administrator");	/* Frappe: the session's user; here none */
	vals[8] = CStringGetTextDatum(ok ? "output" : "error");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (fi_spi_execute(psprintf("INSERT INTO %s (name, creation, modified, owner, modified_by, docstatus, idx, "
								"integration_request_service, status, url, request_headers, data, output, error, "
								"is_remote_request, request_description) "
								"SELECT integrations.random_name(), n, n, $8, $8, 0, 0, "
								"$1, $2, $3, $4, $5, CASE WHEN $9 = 'output' THEN $6 END, "
								"CASE WHEN $9 = 'error' THEN $6 END, 0, $7 "
								"FROM (SELECT integrations.site_now() AS n) s RETURNING name",
								fi_site_table("tabIntegration Request")),
					   9, types, vals, nulls, false, 0) != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "could not write tabIntegration Request");
	name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	name = name ? MemoryContextStrdup(caller, name) : NULL;
	SPI_finish();
	return name;
}

static void
bad(const char *msg, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", msg),
			 detail ? errdetail("%s", detail) : 0));
}

/* an engine's refusal as an ERROR */
static void
http_error(const FiHttpError *err)
{
	ereport(ERROR,
			(errcode(MAKE_SQLSTATE(err->sqlstate[0], err->sqlstate[1], err->sqlstate[2],
								   err->sqlstate[3], err->sqlstate[4])),
			 errmsg("%s", err->message),
			 err->detail[0] ? errdetail("%s", err->detail) : 0,
			 err->hint[0] ? errhint("%s", err->hint) : 0));
}

/* the request's header list from a jsonb object of strings */
static struct curl_slist *
header_list(Jsonb *headers)
{
	void	   *list = NULL;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *name = NULL;
	FiHttpError err;

	if (headers == NULL)
		return NULL;
	if (!JB_ROOT_IS_OBJECT(headers))
		bad("headers must be a JSON object of strings", NULL);
	it = JsonbIteratorInit(&headers->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			name = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE)
		{
			if (v.type != jbvString)
			{
				fi_http_free_headers(list);
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the value of header \"%s\" must be a string", name)));
			}
			if (!fi_http_add_header(&list, name, strlen(name), v.val.string.val, v.val.string.len, &err))
			{
				fi_http_free_headers(list);
				http_error(&err);
			}
		}
	}
	return (struct curl_slist *) list;
}

/* the response's headers as a jsonb object, names lower-cased (repeats joined by ", ") */
Datum
fi_http_headers_jsonb(const char *raw)
{
	FiJBuf		b = {0};
	volatile Datum d = (Datum) 0;

	if (!fi_http_headers_json(raw, strlen(raw), &b))
	{
		fi_jbuf_free(&b);
		elog(ERROR, "out of memory reading the response headers");
	}
	PG_TRY();
	{
		d = DirectFunctionCall1(jsonb_in, CStringGetDatum(b.data));
	}
	PG_FINALLY();
	{
		fi_jbuf_free(&b);
	}
	PG_END_TRY();
	return d;
}

/*
 * Refuse a request that must not be sent (22023): an unknown method, a
 * timeout out of range, a URL that is malformed or not http/https, a bad
 * header (engine/httpreq.c's rules).  Returns the URL's host, for messages.
 * Used before sending here and before queueing (http_queue.c).
 */
char *
fi_http_check(const char *method, const char *url, Jsonb *headers, int timeout_ms)
{
	char		host[512];
	FiHttpError err;

	if (!fi_http_check_request(method, url, timeout_ms, host, sizeof(host), &err))
		http_error(&err);
	fi_http_free_headers(header_list(headers));
	return pstrdup(host);
}

/*
 * One request; ERROR on bad input, a transport failure, a timeout, an
 * oversized response, a cancel (polled every 50 ms).
 */
static void
perform(const char *method, const char *url, Jsonb *headers, const char *body, size_t bodylen,
		int timeout_ms, long *status, Datum *resp_headers, char **resp_body, size_t *resp_len)
{
	char	   *host;
	FiHttpRequest r = {0};
	FiHttpTransfer t;
	FiHttpError err;
	volatile bool answered = false;

	host = fi_http_check(method, url, NULL, timeout_ms);
	r.method = method;
	r.url = url;
	r.headers = header_list(headers);	/* checks them too, once */
	r.body = body;
	r.bodylen = bodylen;
	r.timeout_ms = timeout_ms;
	r.max_redirects = fi_http_max_redirects;
	r.ca_bundle = fi_ca_bundle;
	r.user_agent = FI_HTTP_USER_AGENT;
	r.max_response = (size_t) fi_http_max_response_kb * 1024;
	r.max_response_setting = "frappe_integrations.http_max_response";
	memset(&t, 0, sizeof(t));
	PG_TRY();
	{
		if (!fi_http_begin(&t, &r, &err))
			http_error(&err);
		while (fi_http_step(&t, 50))
			CHECK_FOR_INTERRUPTS();
		answered = fi_http_outcome(&t, &r, host, &err);
		if (answered)
		{
			*status = t.status;
			*resp_headers = fi_http_headers_jsonb(t.headers.data ? t.headers.data : "");
			*resp_body = palloc(t.body.len + 1);
			if (t.body.len)
				memcpy(*resp_body, t.body.data, t.body.len);
			(*resp_body)[t.body.len] = '\0';
			*resp_len = t.body.len;
		}
	}
	PG_FINALLY();
	{
		fi_http_end(&t);
		fi_http_free_headers(r.headers);
	}
	PG_END_TRY();
	if (!answered)
		http_error(&err);
}

/* Python's parse_qs of a query string as jsonb (engine/httpreq.c's rule) */
Datum
fi_parse_qs(const char *qs)
{
	FiJBuf		b = {0};

	if (!fi_http_parse_qs(qs, strlen(qs), &b))
	{
		fi_jbuf_free(&b);
		elog(ERROR, "out of memory");
	}
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(jbuf_pstrdup(&b)));
}

/* the host of a URL for messages (never its user, password or query) */
static char *
log_host(const char *url)
{
	char		h[512];

	fi_http_url_host(url, h, sizeof(h));
	return pstrdup(h);
}

/* the response body as text: UTF-8 without NUL, else an error */
static text *
body_text(const char *b, size_t n)
{
	size_t		bad_at;

	if (memchr(b, '\0', n) != NULL || !fi_utf8_valid(b, n, &bad_at))
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("the response body is not UTF-8 text"),
				 errhint("Use integrations.http_request_bytes for binary responses.")));
	return cstring_to_text_with_len(b, n);
}

void
fi_http_args(FunctionCallInfo fcinfo, char **method, char **url, Jsonb **headers, char **body, size_t *bodylen,
			 int *timeout)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		bad("method and url are required", NULL);
	*method = asc_toupper(text_to_cstring(PG_GETARG_TEXT_PP(0)), VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(0)));
	*url = text_to_cstring(PG_GETARG_TEXT_PP(1));
	*headers = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);
	if (PG_ARGISNULL(3))
	{
		*body = NULL;
		*bodylen = 0;
	}
	else
	{
		bytea	   *b = PG_GETARG_BYTEA_PP(3);	/* text has the same layout */

		*body = VARDATA_ANY(b);
		*bodylen = VARSIZE_ANY_EXHDR(b);
	}
	*timeout = PG_ARGISNULL(4) ? fi_http_timeout_ms : PG_GETARG_INT32(4);
}

/* one request made from a function's arguments, logged when asked */
typedef struct Exchange
{
	char	   *method,
			   *url,
			   *body;
	Jsonb	   *headers;
	size_t		bodylen;
	int			timeout;
	long		status;
	Datum		resp_headers;
	char	   *resp;
	size_t		resplen;
} Exchange;

static void
exchange(FunctionCallInfo fcinfo, Exchange *x)
{
	fi_check_version();
	fi_http_args(fcinfo, &x->method, &x->url, &x->headers, &x->body, &x->bodylen, &x->timeout);
	x->status = 0;
	perform(x->method, x->url, x->headers, x->body, x->bodylen, x->timeout, &x->status,
			&x->resp_headers, &x->resp, &x->resplen);
	if (fi_http_log)
		(void) fi_http_log_request(x->method, x->url, x->headers, x->body, x->bodylen, false,
					x->status, x->resp, x->resplen);
}

/*
 * integrations.http_request(method, url, headers jsonb default '{}', body
 * text | bytea default NULL, timeout_ms default NULL) returns (status int,
 * response_headers jsonb, response_body text): one row.  http_request_bytes:
 * the same with the body as bytea.
 */
static Datum
http_request_common(FunctionCallInfo fcinfo, bool as_bytes)
{
	Exchange	x;
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	exchange(fcinfo, &x);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "http_request must return a row");
	desc = BlessTupleDesc(desc);
	values[0] = Int32GetDatum((int32) x.status);
	values[1] = x.resp_headers;
	if (as_bytes)
	{
		bytea	   *b = palloc(VARHDRSZ + x.resplen);

		SET_VARSIZE(b, VARHDRSZ + x.resplen);
		memcpy(VARDATA(b), x.resp, x.resplen);
		values[2] = PointerGetDatum(b);
	}
	else
		values[2] = PointerGetDatum(body_text(x.resp, x.resplen));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

PG_FUNCTION_INFO_V1(fi_http_request);
PG_FUNCTION_INFO_V1(fi_http_request_bytes);

Datum
fi_http_request(PG_FUNCTION_ARGS)
{
	return http_request_common(fcinfo, false);
}

Datum
fi_http_request_bytes(PG_FUNCTION_ARGS)
{
	return http_request_common(fcinfo, true);
}

PG_FUNCTION_INFO_V1(fi_http_make_request);

/*
 * Frappe's make_request (the http_get/post/put/patch/delete shortcuts):
 * an HTTP error status raises (raise_for_status); the result by the
 * response's Content-Type: application/…json → the parsed JSON; exactly
 * "text/plain; charset=utf-8" → parse_qs's dict of lists; another with a
 * body → the text as a JSON string; none → NULL.
 */
Datum
fi_http_make_request(PG_FUNCTION_ARGS)
{
	Exchange	x;
	Jsonb	   *hj;
	JsonbValue	k,
			   *ct;
	char	   *ctype = NULL;
	FiJBuf		b = {0};
	FiHttpError err;
	bool		none;

	exchange(fcinfo, &x);
	hj = DatumGetJsonbP(x.resp_headers);
	k.type = jbvString;
	k.val.string.val = "content-type";
	k.val.string.len = 12;
	ct = findJsonbValueFromContainer(&hj->root, JB_FOBJECT, &k);
	if (ct != NULL && ct->type == jbvString)
		ctype = pnstrdup(ct->val.string.val, ct->val.string.len);
	if (!fi_http_make_result(x.method, log_host(x.url), x.status, ctype, x.resp, x.resplen, &b, &none, &err))
	{
		fi_jbuf_free(&b);
		if (strcmp(err.sqlstate, "22021") == 0)
			snprintf(err.hint, sizeof(err.hint), "Use integrations.http_request_bytes for binary responses.");
		http_error(&err);
	}
	if (none)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(jbuf_pstrdup(&b))));
}
