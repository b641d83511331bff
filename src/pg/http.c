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

/* a header whose value is a credential: logged as "***" */
bool
fi_http_secret_header(const char *name)
{
	static const char *const exact[] = {"authorization", "proxy-authorization", "cookie", "set-cookie"};
	static const char *const parts[] = {"token", "secret", "password", "passwd", "key", "signature",
	"auth", "private", "session", "credential", "cookie"};
	char	   *l = pstrdup(name);

	for (char *c = l; *c; c++)
		*c = pg_ascii_tolower((unsigned char) *c);
	for (int i = 0; i < (int) lengthof(exact); i++)
		if (strcmp(l, exact[i]) == 0)
			return true;
	for (int i = 0; i < (int) lengthof(parts); i++)
		if (strstr(l, parts[i]) != NULL)
			return true;
	return false;
}

/* the request's headers for the log, credentials masked */
static char *
logged_headers(Jsonb *headers)
{
	StringInfoData b;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *name = NULL;
	bool		first = true;

	initStringInfo(&b);
	appendStringInfoString(&b, "{");
	if (headers != NULL && JB_ROOT_IS_OBJECT(headers))
	{
		it = JsonbIteratorInit(&headers->root);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (tok == WJB_KEY)
				name = pnstrdup(v.val.string.val, v.val.string.len);
			else if (tok == WJB_VALUE && v.type == jbvString)
			{
				appendStringInfoString(&b, first ? "\n " : ",\n ");
				first = false;
				escape_json(&b, name);
				appendStringInfoString(&b, ": ");
				if (fi_http_secret_header(name))
					appendStringInfoString(&b, "\"***\"");
				else
				{
					char	   *val = pnstrdup(v.val.string.val, v.val.string.len);

					escape_json(&b, val);
				}
			}
		}
	}
	appendStringInfoString(&b, first ? "}" : "\n}");
	return b.data;
}

/*
 * The URL for a log row: without user and password, and the values of
 * query parameters named like credentials (?access_token=, &api_key=, ...)
 * masked.
 */
char *
fi_http_logged_url(const char *url)
{
	CURLU	   *u = curl_url();
	char	   *out = NULL,
			   *q = NULL,
			   *res;

	if (u == NULL)
		return pstrdup(url);
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK)
	{
		curl_url_set(u, CURLUPART_USER, NULL, 0);
		curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
		if (curl_url_get(u, CURLUPART_QUERY, &q, 0) == CURLUE_OK && q != NULL)
		{
			StringInfoData nq;
			char	   *p = q;

			initStringInfo(&nq);
			while (*p)
			{
				size_t		n = strcspn(p, "&");
				char	   *eq = memchr(p, '=', n);
				char	   *key = pnstrdup(p, eq ? (size_t) (eq - p) : n);

				if (nq.len)
					appendStringInfoChar(&nq, '&');
				if (eq && fi_http_secret_header(key))
					appendStringInfo(&nq, "%s=********", key);
				else
					appendBinaryStringInfo(&nq, p, (int) n);
				p += n;
				if (*p == '&')
					p++;
			}
			curl_url_set(u, CURLUPART_QUERY, nq.data, 0);
			curl_free(q);
		}
		if (curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK)
			out = NULL;
	}
	res = pstrdup(out ? out : url);
	if (out)
		curl_free(out);
	curl_url_cleanup(u);
	return res;
}

static char *log_host(const char *url);

/* bytes as text for a log column: themselves when UTF-8 without NUL, else a note */
char *
fi_http_log_text(const char *b, size_t n)
{
	size_t		bad_at;

	if (!memchr(b, '\0', n) && fi_utf8_valid(b, n, &bad_at))
		return pnstrdup(b, n);
	return psprintf("(%zu bytes, not UTF-8 text)", n);
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
		vals[4] = CStringGetTextDatum(fi_http_log_text(body, bodylen));
	else
		nulls[4] = 'n';
	if (queued)
		nulls[5] = 'n';
	else
		vals[5] = CStringGetTextDatum(fi_http_log_text(resp ? resp : "", resp ? resplen : 0));
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

typedef struct Transfer
{
	StringInfoData body;
	StringInfoData headers;		/* the last response's header lines */
	size_t		cap;
	bool		too_big;
} Transfer;

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	Transfer   *t = (Transfer *) arg;
	size_t		n = size * nmemb;

	if (t->body.len + n > t->cap)
	{
		t->too_big = true;
		return 0;				/* aborts the transfer */
	}
	appendBinaryStringInfo(&t->body, p, n);
	return n;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	Transfer   *t = (Transfer *) arg;
	size_t		n = size * nmemb;

	/* a new status line: the headers of a redirect before it are dropped */
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		resetStringInfo(&t->headers);
	if (t->headers.len + n < 1024 * 1024)
		appendBinaryStringInfo(&t->headers, p, n);
	return n;
}

/* an RFC 9110 token (a header name) */
bool
fi_http_token(const char *s, int n)
{
	if (n == 0)
		return false;
	for (int i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (!(isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL) || c == 0)
			return false;
	}
	return true;
}

static void
bad(const char *msg, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", msg),
			 detail ? errdetail("%s", detail) : 0));
}

/* the request's header list from a jsonb object of strings */
static struct curl_slist *
header_list(Jsonb *headers)
{
	struct curl_slist *list = NULL;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *name = NULL;

	if (headers == NULL)
		return NULL;
	if (!JB_ROOT_IS_OBJECT(headers))
		bad("headers must be a JSON object of strings", NULL);
	it = JsonbIteratorInit(&headers->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			if (!fi_http_token(v.val.string.val, v.val.string.len))
			{
				curl_slist_free_all(list);
				bad("a header name is not a valid HTTP token",
					"Header names are letters, digits and !#$%&'*+-.^_`|~; no blanks, colons, CR or LF.");
			}
			name = pnstrdup(v.val.string.val, v.val.string.len);
		}
		else if (tok == WJB_VALUE)
		{
			struct curl_slist *nl;
			char	   *line;

			if (v.type != jbvString)
			{
				curl_slist_free_all(list);
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the value of header \"%s\" must be a string", name)));
			}
			for (int i = 0; i < v.val.string.len; i++)
				if (v.val.string.val[i] == '\r' || v.val.string.val[i] == '\n' || v.val.string.val[i] == '\0')
				{
					curl_slist_free_all(list);
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("the value of header \"%s\" contains a line break", name),
							 errdetail("CR and LF in a header would let a value inject headers.")));
				}
			/* "Name;" sends a header with an empty value (libcurl's rule) */
			line = v.val.string.len == 0 ? psprintf("%s;", name)
				: psprintf("%s: %.*s", name, v.val.string.len, v.val.string.val);
			nl = curl_slist_append(list, line);
			if (nl == NULL)
			{
				curl_slist_free_all(list);
				elog(ERROR, "out of memory building the request headers");
			}
			list = nl;
		}
	}
	return list;
}

/* a header's bytes as UTF-8: themselves, or else their Latin-1 (cp1252) reading */
static char *
as_utf8(char *v)
{
	size_t		len = strlen(v),
				bad_at,
				badc;
	char	   *o;
	long		l;

	if (fi_utf8_valid(v, len, &bad_at))
		return v;
	o = palloc(3 * len + 1);
	l = fi_cp1252_to_utf8((const unsigned char *) v, len, o, &badc);
	if (l < 0)
		return "";
	o[l] = '\0';
	return o;
}

/*
 * Names in first-seen order with their index, found through a hash table:
 * a response of 30,000 repeated header lines, or a query string of as many
 * keys, costs linear time (a list scan per line made both quadratic).
 * Names too long for the table's keys are few by their size, and scanned.
 */
#define NAME_KEY_MAX 256
typedef struct NameIx
{
	char		name[NAME_KEY_MAX];
	int			ix;
} NameIx;

typedef struct NameMap
{
	HTAB	   *h;
	char	  **names;
	int			n;
	int			cap;
} NameMap;

static int
name_index(NameMap *m, char *name, bool *added)
{
	*added = false;
	if (m->h == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = NAME_KEY_MAX;
		ctl.entrysize = sizeof(NameIx);
		ctl.hcxt = CurrentMemoryContext;
		m->h = hash_create("frappe_integrations names", 64, &ctl,
						   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	if (strlen(name) < NAME_KEY_MAX)
	{
		bool		found;
		NameIx	   *e = hash_search(m->h, name, HASH_ENTER, &found);

		if (found)
			return e->ix;
		e->ix = m->n;
	}
	else
	{
		for (int i = 0; i < m->n; i++)
			if (strcmp(m->names[i], name) == 0)
				return i;
	}
	if (m->n == m->cap)
	{
		m->cap = m->cap ? m->cap * 2 : 16;
		m->names = m->names ? repalloc_huge(m->names, sizeof(char *) * m->cap) :
			palloc(sizeof(char *) * m->cap);
	}
	m->names[m->n] = name;
	*added = true;
	return m->n++;
}

/* the response's headers as a jsonb object, names lower-cased (repeats joined by ", ") */
Datum
fi_http_headers_jsonb(const char *raw)
{
	StringInfoData buf;
	const char *p = raw;
	NameMap		names = {0};
	StringInfoData *values = NULL;
	int			vcap = 0;

	while (*p)
	{
		const char *eol = strchr(p, '\n');
		const char *end = eol ? eol : p + strlen(p);
		const char *colon = memchr(p, ':', end - p);

		if (colon && colon > p && !(end - p >= 5 && memcmp(p, "HTTP/", 5) == 0))
		{
			char	   *name = pnstrdup(p, colon - p);
			const char *vs = colon + 1;
			const char *ve = end;
			bool		added;
			int			ix;

			while (vs < ve && (*vs == ' ' || *vs == '\t'))
				vs++;
			while (ve > vs && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			for (char *c = name; *c; c++)
				*c = pg_ascii_tolower((unsigned char) *c);
			ix = name_index(&names, name, &added);
			if (added)
			{
				if (ix == vcap)
				{
					vcap = vcap ? vcap * 2 : 16;
					values = values ? repalloc_huge(values, sizeof(StringInfoData) * vcap) :
						palloc(sizeof(StringInfoData) * vcap);
				}
				initStringInfo(&values[ix]);
			}
			else
				appendStringInfoString(&values[ix], ", ");
			appendBinaryStringInfo(&values[ix], vs, (int) (ve - vs));
		}
		p = eol ? eol + 1 : end;
	}
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < names.n; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		escape_json(&buf, as_utf8(names.names[i]));
		appendStringInfoChar(&buf, ':');
		escape_json(&buf, as_utf8(values[i].data));
	}
	appendStringInfoChar(&buf, '}');
	if (names.h)
		hash_destroy(names.h);
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/* the host of a URL for messages (never its user, password or query) */
static pg_noinline char *
url_host(CURLU *u)
{
	char	   *h = NULL;
	char	   *out;

	if (curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK || h == NULL)
		return pstrdup("?");
	out = pstrdup(h);
	curl_free(h);
	return out;
}

/*
 * Refuse a request that must not be sent (22023): an unknown method, a
 * timeout out of range, a URL that is malformed or not http/https, a bad
 * header.  Returns the URL's host, for messages.  Used before sending here
 * and before queueing (http_queue.c).
 */
char *
fi_http_check(const char *method, const char *url, Jsonb *headers, int timeout_ms)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
	bool		known = false;
	CURLU	   *u;
	char	   *scheme = NULL;
	char	   *host;

	for (int i = 0; i < (int) lengthof(methods); i++)
		known = known || strcmp(method, methods[i]) == 0;
	if (!known)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown HTTP method \"%s\"", method),
				 errhint("Use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS.")));
	if (timeout_ms < 1 || timeout_ms > 600000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("timeout_ms must be between 1 and 600000"),
				 errdetail("It was %d.", timeout_ms)));
	if (strlen(url) > 8192 || strpbrk(url, " \t\r\n") != NULL)
		bad("malformed URL", "A URL has no blanks or line breaks and is at most 8192 characters.");
	u = curl_url();
	if (u == NULL)
		elog(ERROR, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
	{
		curl_url_cleanup(u);
		bad("malformed URL", "Expected http://host/… or https://host/….");
	}
	if (pg_strcasecmp(scheme, "http") != 0 && pg_strcasecmp(scheme, "https") != 0)
	{
		char	   *s = pstrdup(scheme);

		curl_free(scheme);
		curl_url_cleanup(u);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("URL scheme \"%s\" is not allowed", s),
				 errhint("Only http and https.")));
	}
	curl_free(scheme);
	host = url_host(u);
	curl_url_cleanup(u);
	curl_slist_free_all(header_list(headers));
	return host;
}

/*
 * The options of a request made from SQL, sync (here) or queued (the
 * worker's sender): the URL, http/https only, redirects, the timeout, the
 * headers, the method and body, TLS trust.  The caller sets the callbacks.
 */
void
fi_http_easy_setup(void *easy, const char *method, const char *url, struct curl_slist *headers,
				   const char *body, size_t bodylen, int timeout_ms, int max_redirects,
				   const char *ca_bundle)
{
	CURL	   *e = (CURL *) easy;

	curl_easy_setopt(e, CURLOPT_URL, url);
	fi_curl_http_only(e);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, max_redirects > 0 ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long) max_redirects);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) timeout_ms);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "frappe_integrations/" FI_EXTVERSION);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	if (ca_bundle && ca_bundle[0])
		curl_easy_setopt(e, CURLOPT_CAINFO, ca_bundle);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL)
	{
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) bodylen);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	}
}

/*
 * One request; ERROR on bad input, a transport failure, a timeout, an
 * oversized response, a cancel.
 */
static void
perform(const char *method, const char *url, Jsonb *headers, const char *body, size_t bodylen,
		int timeout_ms, long *status, Datum *resp_headers, char **resp_body, size_t *resp_len)
{
	char	   *host;
	CURL	   *volatile e = NULL;
	CURLM	   *volatile m = NULL;
	struct curl_slist *volatile list = NULL;
	Transfer	t;
	volatile CURLcode result = CURLE_OK;
	char		errbuf[CURL_ERROR_SIZE];

	host = fi_http_check(method, url, NULL, timeout_ms);
	list = header_list(headers);	/* checks them too, once */
	initStringInfo(&t.body);
	initStringInfo(&t.headers);
	t.cap = (size_t) fi_http_max_response_kb * 1024;
	t.too_big = false;
	errbuf[0] = '\0';

	PG_TRY();
	{
		int			running = 1;
		CURLMsg    *msg;
		int			left;

		fi_curl_global_init();
		e = curl_easy_init();
		m = curl_multi_init();
		if (e == NULL || m == NULL)
			elog(ERROR, "libcurl could not make a transfer");
		fi_http_easy_setup(e, method, url, list, body, bodylen, timeout_ms, fi_http_max_redirects,
						   fi_ca_bundle);
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
		curl_multi_add_handle(m, e);
		while (running)
		{
			CHECK_FOR_INTERRUPTS();
			if (curl_multi_perform(m, &running) != CURLM_OK)
				elog(ERROR, "libcurl failed");
			if (running)
				curl_multi_poll(m, NULL, 0, 50, NULL);
		}
		while ((msg = curl_multi_info_read(m, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE)
				result = msg->data.result;
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
	}
	PG_FINALLY();
	{
		if (m && e)
			curl_multi_remove_handle(m, e);
		if (e)
			curl_easy_cleanup(e);
		if (m)
			curl_multi_cleanup(m);
		curl_slist_free_all(list);
	}
	PG_END_TRY();

	if (t.too_big)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the response from %s is larger than frappe_integrations.http_max_response (%d kB)",
						host, fi_http_max_response_kb)));
	if (result == CURLE_OPERATION_TIMEDOUT)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("HTTP request to %s timed out after %d ms", host, timeout_ms)));
	if (result == CURLE_UNSUPPORTED_PROTOCOL && strstr(errbuf, "HTTP/0.9") == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("HTTP request to %s was redirected to a scheme other than http or https", host)));
	if (result == CURLE_TOO_MANY_REDIRECTS)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("HTTP request to %s was redirected more than %d times", host, fi_http_max_redirects)));
	if (result != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("HTTP request to %s failed: %s", host,
						fi_curl_error_text(result, errbuf) ? fi_curl_error_text(result, errbuf) :
						errbuf[0] ? errbuf : curl_easy_strerror(result))));
	*resp_headers = fi_http_headers_jsonb(t.headers.data);
	*resp_body = t.body.data;
	*resp_len = t.body.len;
}

/* unquote_plus; a byte sequence that is not UTF-8 becomes U+FFFD (errors="replace") */
static char *
unquote_plus(const char *s, size_t n)
{
	StringInfoData b;
	size_t		bad_at;

	initStringInfo(&b);
	for (size_t i = 0; i < n; i++)
	{
		if (s[i] == '+')
			appendStringInfoChar(&b, ' ');
		else if (s[i] == '%' && i + 2 < n && fi_hex_value(s[i + 1]) >= 0 && fi_hex_value(s[i + 2]) >= 0)
		{
			appendStringInfoChar(&b, (char) (fi_hex_value(s[i + 1]) << 4 | fi_hex_value(s[i + 2])));
			i += 2;
		}
		else
			appendStringInfoChar(&b, s[i]);
	}
	if (memchr(b.data, '\0', b.len) != NULL || !fi_utf8_valid(b.data, b.len, &bad_at))
	{
		/* keep it simple: the bad bytes as U+FFFD, byte by byte */
		StringInfoData r;

		initStringInfo(&r);
		for (int i = 0; i < b.len; i++)
		{
			unsigned char c = (unsigned char) b.data[i];

			if (c == 0 || c >= 0x80)
				appendStringInfoString(&r, "\xEF\xBF\xBD");
			else
				appendStringInfoChar(&r, (char) c);
		}
		return r.data;
	}
	return b.data;
}

Datum
fi_parse_qs(const char *qs)
{
	NameMap		keys = {0};
	List	  **vals = NULL;	/* per key: its values (char *) */
	int			vcap = 0;
	const char *p = qs;
	StringInfoData out;

	while (*p)
	{
		const char *amp = strchr(p, '&');
		const char *end = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', end - p);

		CHECK_FOR_INTERRUPTS();
		if (eq != NULL && end > eq + 1)	/* keep_blank_values=False */
		{
			char	   *k = unquote_plus(p, eq - p);
			char	   *v = unquote_plus(eq + 1, end - eq - 1);
			bool		added;
			int			ix = name_index(&keys, k, &added);

			if (added)
			{
				if (ix == vcap)
				{
					vcap = vcap ? vcap * 2 : 16;
					vals = vals ? repalloc_huge(vals, sizeof(List *) * vcap) :
						palloc(sizeof(List *) * vcap);
				}
				vals[ix] = NIL;
			}
			vals[ix] = lappend(vals[ix], v);
		}
		p = amp ? amp + 1 : end;
	}
	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	for (int i = 0; i < keys.n; i++)
	{
		ListCell   *c;
		bool		f2 = true;

		if (i > 0)
			appendStringInfoChar(&out, ',');
		escape_json(&out, keys.names[i]);
		appendStringInfoString(&out, ":[");
		foreach(c, vals[i])
		{
			if (!f2)
				appendStringInfoChar(&out, ',');
			f2 = false;
			escape_json(&out, lfirst(c));
		}
		appendStringInfoChar(&out, ']');
	}
	appendStringInfoChar(&out, '}');
	if (keys.h)
		hash_destroy(keys.h);
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data));
}

static char *
log_host(const char *url)
{
	CURLU	   *u = curl_url();
	char	   *h;

	if (u == NULL)
		return pstrdup("?");
	curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	h = url_host(u);
	curl_url_cleanup(u);
	return h;
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
	char	   *rb;
	size_t		rlen;

	exchange(fcinfo, &x);
	rb = x.resp;
	rlen = x.resplen;
	if (x.status >= 400)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("HTTP %ld %s", x.status, x.status >= 500 ? "Server Error" : "Client Error"),
				 errdetail("%s to %s answered %ld.", x.method, log_host(x.url), x.status)));
	hj = DatumGetJsonbP(x.resp_headers);
	k.type = jbvString;
	k.val.string.val = "content-type";
	k.val.string.len = 12;
	ct = findJsonbValueFromContainer(&hj->root, JB_FOBJECT, &k);
	if (ct != NULL && ct->type == jbvString)
		ctype = pnstrdup(ct->val.string.val, ct->val.string.len);
	if (ctype == NULL)
		PG_RETURN_NULL();
	{
		char	   *semi = strchr(ctype, ';');
		char	   *base = pnstrdup(ctype, semi ? (size_t) (semi - ctype) : strlen(ctype));
		int			blen = strlen(base);

		while (blen > 0 && base[blen - 1] == ' ')
			base[--blen] = '\0';
		if (pg_strncasecmp(base, "application/", 12) == 0 && blen >= 4 &&
			pg_strcasecmp(base + blen - 4, "json") == 0)
		{
			text	   *t = body_text(rb, rlen);

			PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(text_to_cstring(t))));
		}
		if (strcmp(ctype, "text/plain; charset=utf-8") == 0)
		{
			/* parse_qs: {"key": ["value", …]}, blank values dropped */
			text	   *t = body_text(rb, rlen);

			PG_RETURN_DATUM(fi_parse_qs(text_to_cstring(t)));
		}
	}
	if (rlen == 0)
		PG_RETURN_NULL();
	{
		StringInfoData s;

		initStringInfo(&s);
		escape_json(&s, text_to_cstring(body_text(rb, rlen)));
		PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
	}
}
