/*
 * http.h
 *		What the two forms of integrations.http_request share: the sync one
 *		(http.c) and the one queued to the worker (http_queue.c, sent by
 *		delivery.c): the checks, the libcurl options, the settings, the
 *		response headers as jsonb, the tabIntegration Request rows.
 */
#ifndef FI_HTTP_H
#define FI_HTTP_H

#include "fmgr.h"
#include "utils/jsonb.h"

#include "engine/httpreq.h"		/* the rules: fi_http_token, fi_http_easy_setup, ... */

struct curl_slist;
struct FiDelivery;

/* settings (http.c) */
extern int	fi_http_timeout_ms;
extern int	fi_http_max_response_kb;
extern int	fi_http_max_redirects;
extern bool fi_http_log;
extern int	fi_http_retention_s;

/* a function's (method, url, headers, body, timeout_ms) arguments; NULL timeout: the setting */
extern void fi_http_args(FunctionCallInfo fcinfo, char **method, char **url, Jsonb **headers,
						 char **body, size_t *bodylen, int *timeout);

/* refuse what must not be sent (22023); returns the URL's host */
extern char *fi_http_check(const char *method, const char *url, Jsonb *headers, int timeout_ms);

/* the User-Agent of every request */
#define FI_HTTP_USER_AGENT "frappe_integrations/" FI_EXTVERSION

/* raw response header lines as a jsonb object, names lower-cased, repeats joined */
extern Datum fi_http_headers_jsonb(const char *raw);

/* bytes for a text log column: themselves if UTF-8 without NUL, else a note */
extern char *fi_http_logged_text(const char *b, size_t n);

/* a tabIntegration Request row (queued: status Queued, no response); its name or NULL */
extern char *fi_http_log_request(const char *method, const char *url, Jsonb *headers,
								 const char *body, size_t bodylen, bool queued, long status,
								 const char *resp, size_t resplen);

/* the worker's side of integrations.http_queue (http_queue.c), in its transaction, SPI connected */
extern struct FiDelivery *fi_http_queue_claim(int n, MemoryContext cxt, int *nclaimed);
extern void fi_http_queue_record(struct FiDelivery *list);
extern void fi_http_queue_release(struct FiDelivery *list);
extern void fi_http_queue_purge(void);
extern bool fi_http_queue_has_payments(void);
extern bool fi_http_queue_payments;	/* the worker's: http_queue is 0.12.0's */

/* is a header (or query parameter) so named a credential, masked in logs? */
extern bool fi_http_secret_header(const char *name);
/* a URL for a log row: no user or password, credential-like query values masked */
extern char *fi_http_logged_url(const char *url);
/* libcurl's error in a DBA's words where its own would mislead, else NULL (delivery.c) */
#define fi_curl_error_text(rc, errbuf) fi_http_curl_error_text((rc), (errbuf))

#endif							/* FI_HTTP_H */
