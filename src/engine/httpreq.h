/*
 * httpreq.h
 *		Outbound HTTP from the database, without a database: which requests
 *		may be sent (methods, http/https URLs, header names and values,
 *		timeouts), what a log row may show of them (credentials masked), the
 *		libcurl options every request gets (http and https only, also when
 *		redirected; a timeout always; TLS trust), one transfer stepped by its
 *		caller so that the caller can stop it between steps, and the answer's
 *		headers as one JSON object.  Both databases' http_request use it, and
 *		PostgreSQL's queue and webhook senders its rules.
 *
 * Thread-safe: no state but libcurl's global set-up (once per process).
 * Error texts carry the wording and SQLSTATE the PostgreSQL build raises.
 */
#ifndef FI_HTTPREQ_H
#define FI_HTTPREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/alloc.h"
#include "engine/jsoncanon.h"

typedef struct FiHttpError
{
	const char *sqlstate;		/* 22023 bad input, 08006 transport, 54000 too big, 53200 memory */
	char		message[480];
	char		detail[160];	/* "": none */
	char		hint[80];		/* "": none */
} FiHttpError;

/* libcurl's global set-up, once per process (any thread); false when it failed */
extern bool fi_http_global_init(void);

/* GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS (exactly) */
extern bool fi_http_method_known(const char *method);

/* an RFC 9110 token (a header name) */
extern bool fi_http_token(const char *s, size_t n);

/*
 * A header or query parameter whose value is a credential (logged as
 * masked): Authorization, Proxy-Authorization, Cookie, Set-Cookie, and
 * names containing token, secret, password, passwd, key, signature, auth,
 * private, session, credential or cookie, in any case.
 */
extern bool fi_http_secret_name(const char *name, size_t n);

/* host[hostcap] gets the URL's host, for messages (never its user, password or query); "?" when none */
extern void fi_http_url_host(const char *url, char *host, size_t hostcap);

/*
 * May this request be sent?  An unknown method, a timeout outside 1 ms -
 * 10 min, a malformed URL or one that is not http/https: false with the
 * error (22023).  host[hostcap] gets the URL's host, for messages (never
 * its user, password or query).
 */
extern bool fi_http_check_request(const char *method, const char *url, int timeout_ms,
								  char *host, size_t hostcap, FiHttpError *err);

/*
 * Appends "name: value" to *list (a struct curl_slist *; "name;" for an
 * empty value, libcurl's way of sending one).  A name that is not a token,
 * a value with CR, LF or NUL: false with the error (22023), *list as it
 * was.
 */
extern bool fi_http_add_header(void **list, const char *name, size_t nn, const char *value, size_t vn,
							   FiHttpError *err);
extern void fi_http_free_headers(void *list);

/*
 * The headers of a JSON object of strings (n bytes; none when n is 0)
 * appended to *list as fi_http_add_header does; log (NULL: none) gets the
 * log row's request_headers with fi_http_log_header (*log_first as there).
 * false with err: not an object or a value not a string or a bad name or
 * value (22023), invalid JSON (22P02, 22P05 for bad Unicode), nested
 * deeper than 100 (54001), out of memory (53200).
 */
extern bool fi_http_headers_from_json(const char *json, size_t n, void **list, FiJBuf *log, bool *log_first,
									  FiHttpError *err);

/*
 * A response header line (libcurl's header callback) kept in headers: a
 * new status line drops what an earlier response (a redirect) left; a
 * megabyte at most.  false when out of memory.
 */
extern bool fi_http_keep_header_line(FiJBuf *headers, const char *line, size_t n);

/*
 * The URL for a log row: without user and password, the values of query
 * parameters named like credentials masked (********).  The URL itself
 * when libcurl cannot read it; NULL when out of memory.
 */
extern char *fi_http_log_url(const char *url, FiAlloc alloc, void *arg);

/*
 * A tabIntegration Request row's request_headers, as the PostgreSQL build
 * writes them: "{\n \"Name\": \"value\",\n …\n}" (jsonb's order is the
 * caller's), a credential's value as "***".  Call fi_http_log_header once
 * per header (with *first true before the first), then
 * fi_http_log_headers_end.  false when out of memory.
 */
extern bool fi_http_log_header(FiJBuf *out, bool *first, const char *name, size_t nn, const char *value,
							   size_t vn);
extern bool fi_http_log_headers_end(FiJBuf *out, bool first);

/*
 * Bytes as text for a log column: themselves when UTF-8 without NUL, else
 * "(N bytes, not UTF-8 text)".  false when out of memory.
 */
extern bool fi_http_log_text(const char *b, size_t n, FiJBuf *out);

/*
 * Python's urllib.parse.parse_qs(qs) as Frappe's make_request uses it
 * (keep_blank_values False): pairs split on "&", a pair without "=" or
 * with an empty value dropped, "+" and %XX decoded, bytes that are not
 * UTF-8 replaced by U+FFFD (one per maximal ill-formed part, as Python's
 * errors="replace"; a NUL too, which JSON text cannot carry), as a JSON
 * object of lists: keys in first-seen order, each key's values in order.
 * false when out of memory.
 */
extern bool fi_http_parse_qs(const char *qs, size_t n, FiJBuf *out);

/*
 * Frappe's make_request answer (frappe.integrations.utils, the http_get …
 * http_delete shortcuts) as JSON text into out: an HTTP status of 400 or
 * more is an error (raise_for_status: 08006 "HTTP 404 Client Error",
 * detail naming the method, host and status); else by the answer's
 * Content-Type (ctype, NULL when none): application/…json → the body
 * itself (the caller parses it); exactly "text/plain; charset=utf-8" →
 * fi_http_parse_qs of it; another with a body → the text as a JSON
 * string; none, or an empty body → *none (SQL NULL; out untouched).  A
 * body that must be text and is not UTF-8: 22021.
 */
extern bool fi_http_make_result(const char *method, const char *host, long status, const char *ctype,
								const char *body, size_t n, FiJBuf *out, bool *none, FiHttpError *err);

/*
 * The response's header lines (the last response's, "Name: value\r\n")
 * as a JSON object: names lower-cased in first-seen order, a repeated
 * name's values joined by ", ", bytes that are not UTF-8 read as cp1252.
 * Linear in the lines.  false when out of memory.
 */
extern bool fi_http_headers_json(const char *raw, size_t n, FiJBuf *out);

/*
 * What libcurl's words would mislead about, in a DBA's words (a redirect
 * to another scheme, an answer that is not HTTP, an oversized header
 * line); NULL: libcurl's own will do.
 */
extern const char *fi_http_curl_error_text(int curl_code, const char *errbuf);

/* a CURL * easy handle may use http and https only, also when redirected */
extern void fi_http_only(void *easy);

/* the options every request gets, on a CURL * easy handle (fi_http_only's too) */
extern void fi_http_easy_setup(void *easy, const char *method, const char *url, void *headers,
							   const char *body, size_t bodylen, int timeout_ms, int max_redirects,
							   const char *ca_bundle, const char *user_agent);

typedef struct FiHttpRequest
{
	const char *method;
	const char *url;
	void	   *headers;		/* struct curl_slist *, or NULL */
	const char *body;			/* NULL: none */
	size_t		bodylen;
	int			timeout_ms;		/* the whole transfer, connection included */
	int			max_redirects;	/* 0: none followed */
	const char *ca_bundle;		/* NULL: the system's CAs */
	const char *user_agent;
	size_t		max_response;	/* bytes of body at most */
	const char *max_response_setting;	/* the setting's name, for the message */
} FiHttpRequest;

/* one transfer, stepped by its caller (who may stop between steps) */
typedef struct FiHttpTransfer
{
	void	   *easy;
	void	   *multi;
	bool		added;
	FiJBuf		body;			/* the response's body */
	FiJBuf		headers;		/* the last response's header lines */
	size_t		cap;
	bool		too_big;
	int			result;			/* CURLcode when done */
	long		status;			/* the HTTP status, 0 when none */
	char		errbuf[256];	/* libcurl's (CURL_ERROR_SIZE) */
} FiHttpTransfer;

/* starts the request (the caller checked it); false with the error when libcurl cannot */
extern bool fi_http_begin(FiHttpTransfer *t, const FiHttpRequest *r, FiHttpError *err);

/* runs the transfer for up to wait_ms; true while it is still running */
extern bool fi_http_step(FiHttpTransfer *t, int wait_ms);

/*
 * After the last step: true when an answer came (t->status, t->body,
 * t->headers); else false with the error: a timeout, a refused or endless
 * redirect, a transport failure (08006, naming host), an oversized body
 * (54000).
 */
extern bool fi_http_outcome(const FiHttpTransfer *t, const FiHttpRequest *r, const char *host, FiHttpError *err);

/* frees the transfer's handles and buffers (at any point; twice is harmless) */
extern void fi_http_end(FiHttpTransfer *t);

#endif							/* FI_HTTPREQ_H */
