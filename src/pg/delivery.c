/*
 * delivery.c
 *		The HTTP side of the webhook worker: one libcurl multi handle with
 *		many transfers in flight and connections kept alive, the headers
 *		Frappe and Standard Webhooks receivers check (signed over the exact
 *		body bytes at send time), and the retry policy.
 *
 * No transaction is open while this runs: the worker claims rows, commits,
 * hands them here, and records the outcomes in a later transaction.
 */
#include "postgres.h"

#include <curl/curl.h>

#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "frappe_integrations.h"
#include "delivery.h"
#include "http.h"
#include "engine/codec.h"
#include "engine/secretfmt.h"
#include "engine/webhooksend.h"

#define RESPONSE_KEEP	(64 * 1024)	/* bytes of a response body kept for the log */

struct FiSender
{
	CURLM	   *multi;
	int			inflight;
	char	   *ca_bundle;
	FiDelivery **slots;			/* the transfers in flight (for shutdown) */
	int			nslots;
};

/* libcurl's global set-up, once per process */
void
fi_curl_global_init(void)
{
	if (!fi_http_global_init())
		elog(ERROR, "libcurl could not be initialised");
}

/* a transfer may use http and https only, also when redirected */
void
fi_curl_http_only(void *easy)
{
	fi_http_only(easy);
}

FiSender *
fi_sender_new(int concurrency, const char *ca_bundle)
{
	FiSender   *s = palloc0(sizeof(FiSender));

	fi_curl_global_init();
	s->multi = curl_multi_init();
	if (s->multi == NULL)
		elog(ERROR, "libcurl could not make a multi handle");
	curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) concurrency);
	curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long) concurrency);
	curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long) concurrency);
	s->ca_bundle = ca_bundle && ca_bundle[0] ? pstrdup(ca_bundle) : NULL;
	s->nslots = concurrency;
	s->slots = palloc0(sizeof(FiDelivery *) * concurrency);
	return s;
}

/* the CA bundle of the transfers started from now on (the setting reloaded) */
void
fi_sender_set_ca_bundle(FiSender *s, const char *ca_bundle)
{
	/* libcurl copied the old path into the transfers that use it */
	if (s->ca_bundle)
		pfree(s->ca_bundle);
	s->ca_bundle = ca_bundle && ca_bundle[0] ?
		MemoryContextStrdup(GetMemoryChunkContext(s), ca_bundle) : NULL;
}

void
fi_sender_free(FiSender *s)
{
	if (s->multi)
		curl_multi_cleanup(s->multi);
	pfree(s);
}

int
fi_sender_inflight(FiSender *s)
{
	return s->inflight;
}

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	FiDelivery *d = arg;
	size_t		n = size * nmemb;

	if (d->http)
	{
		/* an async request keeps the whole body, up to its cap */
		if ((int64) d->response.len + (int64) n > d->max_response)
		{
			d->too_big = true;
			return 0;			/* aborts the transfer */
		}
		appendBinaryStringInfo(&d->response, ptr, (int) n);
		return n;
	}
	if (d->response.len < RESPONSE_KEEP)
		appendBinaryStringInfo(&d->response, ptr, (int) Min(n, (size_t) (RESPONSE_KEEP - d->response.len)));
	return n;					/* the rest is read and dropped */
}

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	FiDelivery *d = arg;
	size_t		n = size * nmemb;
	int			s;

	if (d->http)
	{
		/* a new status line: the headers of a redirect before it are dropped */
		if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0)
			resetStringInfo(&d->resp_headers);
		if (d->resp_headers.len + n < 1024 * 1024)
			appendBinaryStringInfo(&d->resp_headers, ptr, (int) n);
		return n;
	}
	s = fi_retry_after_line(ptr, n, (long long) time(NULL));
	if (s >= 0)
		d->retry_after_s = s;
	return n;
}

static void *
dl_alloc(void *arg, size_t size)
{
	return palloc0(size);
}

/*
 * The request headers (engine/webhooksend.c: the signatures, the Standard
 * Webhooks id and timestamp, the Webhook Header rows, Content-Type) from
 * the queue row's [[key, value], ...], and the text logged of them.
 */
static bool
build_headers(FiDelivery *d, struct curl_slist **list)
{
	Jsonb	   *rows = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(d->headers_json)));
	int			cap = 16,
				nrows = 0,
				ix = 0;
	const char **keys = palloc(sizeof(char *) * cap);
	const char **values = palloc(sizeof(char *) * cap);
	char	   *pair[2] = {NULL, NULL};
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	FiSendHeaders out;

	it = JsonbIteratorInit(&rows->root);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if (tok == WJB_BEGIN_ARRAY)
			ix = 0;
		else if (tok == WJB_ELEM && v.type == jbvString && ix < 2)
			pair[ix++] = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_END_ARRAY && ix == 2)
		{
			if (nrows == cap)
			{
				cap *= 2;
				keys = repalloc(keys, sizeof(char *) * cap);
				values = repalloc(values, sizeof(char *) * cap);
			}
			keys[nrows] = pair[0];
			values[nrows++] = pair[1];
			ix = 0;
		}
	}
	if (!fi_webhook_send_headers(d->event_id, d->secret, d->body, d->bodylen, (long long) time(NULL),
								 nrows, keys, values, &out, dl_alloc, NULL))
	{
		d->error = out.error;
		d->no_retry = true;
		return false;
	}
	for (int i = 0; i < out.n; i++)
		*list = curl_slist_append(*list, psprintf("%s: %s", out.h[i].name, out.h[i].value));
	*list = curl_slist_append(*list, "Expect:");
	initStringInfo(&d->sent_headers);
	appendStringInfoString(&d->sent_headers, out.logged);
	return true;
}

/*
 * The headers of an async request: its JSON object of strings, checked
 * again here (the row may have been written by hand) without raising.
 */
static bool
http_headers(FiDelivery *d, struct curl_slist **list)
{
	Jsonb	   *obj;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *name = NULL;

	obj = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(d->headers_json)));
	if (!JB_ROOT_IS_OBJECT(obj))
	{
		d->error = pstrdup("headers must be a JSON object of strings");
		return false;
	}
	it = JsonbIteratorInit(&obj->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			if (!fi_http_token(v.val.string.val, v.val.string.len))
			{
				d->error = pstrdup("a header name is not a valid HTTP token");
				return false;
			}
			name = pnstrdup(v.val.string.val, v.val.string.len);
		}
		else if (tok == WJB_VALUE)
		{
			if (v.type != jbvString ||
				memchr(v.val.string.val, '\r', v.val.string.len) ||
				memchr(v.val.string.val, '\n', v.val.string.len) ||
				memchr(v.val.string.val, '\0', v.val.string.len))
			{
				d->error = psprintf("the value of header \"%s\" is not a string without line breaks", name);
				return false;
			}
			*list = curl_slist_append(*list, v.val.string.len == 0 ? psprintf("%s;", name) :
									  psprintf("%s: %.*s", name, v.val.string.len, v.val.string.val));
		}
	}
	return true;
}

static void
sender_add(FiSender *s, FiDelivery *d)
{
	CURL	   *e;
	struct curl_slist *list = NULL;

	d->done = false;
	d->no_retry = false;
	d->http_status = 0;
	d->error = NULL;
	d->retry_after_s = -1;
	d->too_big = false;
	initStringInfo(&d->response);
	if (d->http)
		initStringInfo(&d->resp_headers);
	if (!(d->http ? http_headers(d, &list) : build_headers(d, &list)))
	{
		d->no_retry = true;
		curl_slist_free_all(list);
		d->done = true;
		return;
	}
	e = curl_easy_init();
	if (e == NULL)
	{
		curl_slist_free_all(list);
		d->error = pstrdup("libcurl could not make a transfer");
		d->done = true;
		return;
	}
	if (d->http)
		fi_http_easy_setup(e, d->method, d->url, list, d->body, d->bodylen, d->timeout_ms,
						   d->max_redirects, s->ca_bundle, FI_HTTP_USER_AGENT);
	else
	{
		curl_easy_setopt(e, CURLOPT_URL, d->url);
		fi_curl_http_only(e);
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) d->timeout_ms);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) d->timeout_ms);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
		curl_easy_setopt(e, CURLOPT_USERAGENT, "frappe_integrations/" FI_EXTVERSION);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) d->bodylen);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body);
		if (strcmp(d->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, d->method);
		if (s->ca_bundle)
			curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_bundle);
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, d);
	curl_easy_setopt(e, CURLOPT_PRIVATE, d);
	d->curl_error[0] = '\0';
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, d->curl_error);
	d->easy = e;
	d->hdrs = list;
	for (int i = 0; i < s->nslots; i++)
		if (s->slots[i] == NULL)
		{
			s->slots[i] = d;
			break;
		}
	if (curl_multi_add_handle(s->multi, e) != CURLM_OK)
	{
		for (int i = 0; i < s->nslots; i++)
			if (s->slots[i] == d)
				s->slots[i] = NULL;
		curl_easy_cleanup(e);
		curl_slist_free_all(list);
		d->easy = NULL;
		d->error = pstrdup("libcurl could not start the transfer");
		d->done = true;
		return;
	}
	s->inflight++;
}

/*
 * Everything made for a delivery (its headers, response buffers, error
 * text) lives in the delivery's own memory context, freed with it once its
 * outcome is recorded.  (The worker runs these outside any transaction, where
 * the current context is TopMemoryContext: allocations there were never freed.)
 */
void
fi_sender_add(FiSender *s, FiDelivery *d)
{
	MemoryContext old = MemoryContextSwitchTo(GetMemoryChunkContext(d));

	sender_add(s, d);
	MemoryContextSwitchTo(old);
}

static void
finish_in(FiSender *s, FiDelivery *d, CURLcode rc);

static void
finish(FiSender *s, FiDelivery *d, CURLcode rc)
{
	MemoryContext old = MemoryContextSwitchTo(GetMemoryChunkContext(d));

	finish_in(s, d, rc);
	MemoryContextSwitchTo(old);
}

static void
finish_in(FiSender *s, FiDelivery *d, CURLcode rc)
{
	CURL	   *e = d->easy;

	if (rc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &d->http_status);
	else if (d->http)
	{
		/* as http_request says it */
		d->error = d->too_big ?
			psprintf("the response is larger than frappe_integrations.http_max_response (" INT64_FORMAT " kB)",
					 d->max_response / 1024) :
			rc == CURLE_OPERATION_TIMEDOUT ? psprintf("timed out after %d ms", d->timeout_ms) :
			rc == CURLE_TOO_MANY_REDIRECTS ? psprintf("redirected more than %d times", d->max_redirects) :
			fi_curl_error_text(rc, d->curl_error) ? pstrdup(fi_curl_error_text(rc, d->curl_error)) :
			psprintf("%s", curl_easy_strerror(rc));
		/* what a repeat would meet again (only a payment's call is ever repeated) */
		d->no_retry = d->too_big || rc == CURLE_TOO_MANY_REDIRECTS || rc == CURLE_URL_MALFORMAT ||
			rc == CURLE_UNSUPPORTED_PROTOCOL;
	}
	else
	{
		d->error = fi_curl_error_text(rc, d->curl_error) ?
			pstrdup(fi_curl_error_text(rc, d->curl_error)) : psprintf("%s", curl_easy_strerror(rc));
		/* a URL that cannot work will not work later either */
		if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
			d->no_retry = true;
	}
	curl_multi_remove_handle(s->multi, e);
	curl_easy_cleanup(e);
	curl_slist_free_all(d->hdrs);
	d->easy = NULL;
	d->hdrs = NULL;
	d->done = true;
	s->inflight--;
	for (int i = 0; i < s->nslots; i++)
		if (s->slots[i] == d)
			s->slots[i] = NULL;
}

FiDelivery *
fi_sender_run(FiSender *s, int timeout_ms)
{
	FiDelivery *done = NULL;
	int			running,
				numfds;
	CURLMsg    *msg;
	int			left;

	curl_multi_perform(s->multi, &running);
	while ((msg = curl_multi_info_read(s->multi, &left)) != NULL)
	{
		FiDelivery *d;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &d);
		finish(s, d, msg->data.result);
		d->next = done;
		done = d;
	}
	if (done == NULL && s->inflight > 0 && timeout_ms > 0)
		curl_multi_poll(s->multi, NULL, 0, timeout_ms, &numfds);
	return done;
}

FiDelivery *
fi_sender_abort_all(FiSender *s)
{
	FiDelivery *all = NULL;

	for (int i = 0; i < s->nslots; i++)
	{
		FiDelivery *d = s->slots[i];

		if (d == NULL)
			continue;
		finish(s, d, CURLE_ABORTED_BY_CALLBACK);
		d->next = all;
		all = d;
	}
	return all;
}

FiOutcome
fi_delivery_outcome(const FiDelivery *d, int max_attempts, int base_ms, int64 *delay_ms)
{
	uint32		r;
	int64_t		delay = 0;
	FiOutcome	o;

	fi_strong_random(&r, sizeof(r));
	o = fi_webhook_outcome(d->error ? 0 : d->http_status, d->no_retry || (d->error && d->http_status),
						   d->attempt, max_attempts, base_ms, d->retry_after_s, r, &delay);
	*delay_ms = delay;
	return o;
}
