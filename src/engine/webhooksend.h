/*
 * webhooksend.h
 *		Sending a queued webhook event, without a database: the headers a
 *		Frappe or Standard Webhooks receiver checks (signed over the exact
 *		body bytes at send time), the headers as Frappe logs them in
 *		tabWebhook Request Log, and the retry policy.  PostgreSQL's worker
 *		(src/pg/delivery.c) and MariaDB's (src/mariadb/client_worker.c) both
 *		send with these rules.
 *
 * Thread-safe: no state; the caller gives the time and the randomness.
 */
#ifndef FI_WEBHOOKSEND_H
#define FI_WEBHOOKSEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/alloc.h"

typedef struct FiSendHeader
{
	const char *name;
	const char *value;
} FiSendHeader;

typedef struct FiSendHeaders
{
	int			n;
	FiSendHeader *h;			/* in the order sent */
	char	   *logged;			/* Frappe's as_json of them: sorted, one-space indent, credentials masked */
	char	   *error;			/* why the event cannot be sent (not the network's fault), or NULL */
} FiSendHeaders;

/*
 * The headers of event event_id (webhook-id is "msg_" + it) sent at unix
 * time now: X-Frappe-Webhook-Signature (base64 HMAC-SHA256 of the body with
 * the secret, when secret is not NULL); webhook-id and webhook-timestamp;
 * webhook-signature "v1,..." when the secret is a whsec_ one (Standard
 * Webhooks: HMAC of "id.timestamp.body" with the base64 key after
 * "whsec_"); then the Webhook Header rows, which replace ours of the same
 * name (any case), as in Frappe; Content-Type application/json unless a row
 * set one.  False with out->error for a header with a line break or a
 * whsec_ secret that is not base64: retrying cannot help those.
 */
extern bool fi_webhook_send_headers(const char *event_id, const char *secret,
									const char *body, size_t bodylen, long long now,
									int nrows, const char *const *row_names,
									const char *const *row_values,
									FiSendHeaders *out, FiAlloc alloc, void *arg);

typedef enum FiOutcome
{
	FI_OUTCOME_DELIVERED,
	FI_OUTCOME_RETRY,
	FI_OUTCOME_FAILED
} FiOutcome;

/*
 * What became of an attempt (the attempt-th, from 1): 2xx is delivered.  A
 * transport error (http_status 0) is retried unless no_retry; 408, 429 and
 * 5xx are retried; other statuses fail at once; nothing is retried after
 * max_attempts.  The delay of a retry: base_ms * 2^(attempt - 1) times a
 * jitter in [0.5, 1.5) (jitter: 32 random bits), at most an hour; a
 * Retry-After the receiver sent (retry_after_s >= 0) wins.
 */
extern FiOutcome fi_webhook_outcome(long http_status, bool no_retry, int attempt, int max_attempts,
									int base_ms, int retry_after_s, uint32_t jitter, int64_t *delay_ms);

/*
 * A Retry-After header's value: delay-seconds, or an HTTP date (its unix time
 * given by the caller's date parser, e.g. curl_getdate; NULL: seconds only),
 * as seconds from now, at most a day; -1 when it is neither.
 */
extern int	fi_retry_after_seconds(const char *value, size_t n, long long now,
								   long long (*parse_date) (const char *text));

/*
 * A response header line ("Retry-After: 120\r\n", any case) as
 * fi_retry_after_seconds reads it, HTTP dates by libcurl's curl_getdate;
 * -1 for another header or a value that is neither.
 */
extern int	fi_retry_after_line(const char *line, size_t n, long long now);

#endif							/* FI_WEBHOOKSEND_H */
