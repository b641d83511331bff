/*
 * delivery.h
 *		Sending queued webhook requests: many in flight on one libcurl multi
 *		handle (keep-alive, per-host connection cap), signing at send time,
 *		and the retry policy.  Used by the webhook worker (worker.c), which
 *		also sends the requests of integrations.http_request_async with it.
 */
#ifndef FI_DELIVERY_H
#define FI_DELIVERY_H

#include "lib/stringinfo.h"

#include "engine/payments.h"
#include "engine/webhooksend.h"

struct curl_slist;

typedef struct FiDelivery
{
	/* from the queue row */
	int64		id;
	char	   *event_id;		/* uuid text; webhook-id is "msg_" + this */
	char	   *webhook;
	char	   *doctype;
	char	   *docname;
	char	   *method;
	char	   *url;
	char	   *headers_json;	/* [[key, value], ...] */
	char	   *body;
	size_t		bodylen;
	char	   *secret;			/* decrypted webhook_secret when signing, else NULL */
	char	   *user;
	int			timeout_ms;
	int			attempt;		/* 1 for the first */

	/*
	 * An integrations.http_queue row (http_request_async) rather than a
	 * webhook event: headers_json is then a JSON object, nothing is signed
	 * or added, redirects are followed, the whole response is kept (up to
	 * max_response bytes) with its headers; body NULL sends none.
	 */
	bool		http;
	int			max_redirects;
	int64		max_response;
	char	   *integration_request;	/* its tabIntegration Request row, or NULL */
	bool		too_big;		/* the response passed max_response */
	int			max_attempts;	/* sent this often in all (1: once) */
	bool		payment;		/* a payment gateway's call (payment_checkout's) */
	FiPayGateway pay_gateway;	/* its gateway */
	bool		requeued;		/* recorded as due again (a retry) */
	int64		retry_ms;		/* then in this many ms */
	StringInfoData resp_headers;	/* the last response's header lines */

	/* the request as sent (for the log; secrets masked) */
	StringInfoData sent_headers;

	/* outcome */
	bool		done;
	long		http_status;	/* 0: no response */
	char	   *error;			/* transport or policy error, or NULL */
	bool		no_retry;		/* the error is not the network's: do not retry */
	StringInfoData response;	/* the first bytes of the response body (http: all of it) */
	int			retry_after_s;	/* from a Retry-After header, -1 if none */

	void	   *easy;			/* CURL * while in flight */
	char		curl_error[256];	/* libcurl's message (CURL_ERROR_SIZE) */
	struct curl_slist *hdrs;
	struct FiDelivery *next;
} FiDelivery;

/*
 * When a claimed queue row ("q", of webhook_queue or http_queue) is due
 * again if its worker stopped: its timeout and 5 s from the claim.
 */
#define FI_LEASE_END	"now() + make_interval(secs => q.timeout_ms / 1000.0 + 5)"

typedef struct FiSender FiSender;

extern FiSender *fi_sender_new(int concurrency, const char *ca_bundle);
extern void fi_sender_free(FiSender *s);
extern void fi_sender_set_ca_bundle(FiSender *s, const char *ca_bundle);
extern int	fi_sender_inflight(FiSender *s);

/* start sending; on a setup failure the delivery is done at once with error */
extern void fi_sender_add(FiSender *s, FiDelivery *d);

/*
 * Move the transfers on, waiting at most timeout_ms for network activity;
 * returns the deliveries that finished (a list through ->next).
 */
extern FiDelivery *fi_sender_run(FiSender *s, int timeout_ms);

/* abandon every transfer in flight (shutdown); returns them as a list */
extern FiDelivery *fi_sender_abort_all(FiSender *s);

/* FiOutcome, and the policy itself: engine/webhooksend.h */
/*
 * Success is 2xx.  Connection errors, timeouts, 408, 429 and 5xx are
 * retried with exponential back-off and jitter (Retry-After honoured) until
 * max_attempts; other statuses fail at once.  *delay_ms is set for RETRY.
 */
extern FiOutcome fi_delivery_outcome(const FiDelivery *d, int max_attempts, int base_ms,
									 int64 *delay_ms);

#endif							/* FI_DELIVERY_H */
