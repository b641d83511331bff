/*
 * sigverify.h
 *		Webhook and payment-gateway signatures: Frappe's webhook header,
 *		Standard Webhooks, Stripe, Razorpay and GoCardless.
 *
 * Pure functions: no server state, the current time passed in.  The
 * expected MAC is computed and compared with the candidate in constant
 * time (decoding the candidate says nothing about the secret).
 */
#ifndef FI_SIGVERIFY_H
#define FI_SIGVERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum FiSigResult
{
	FI_SIG_OK = 0,
	FI_SIG_MISMATCH,			/* well formed, not made with this secret */
	FI_SIG_MALFORMED,			/* the signature (header) is not of the scheme's shape */
	FI_SIG_TOO_OLD,				/* signed outside the tolerance */
	FI_SIG_BAD_SECRET,			/* the secret is not of the scheme's shape */
	FI_SIG_CRYPTO				/* OpenSSL failed */
} FiSigResult;

extern const char *fi_sig_strerror(FiSigResult r);

/* base64(HMAC-SHA256(secret, payload)): X-Frappe-Webhook-Signature */
extern FiSigResult fi_sig_hmac_base64(const char *secret, size_t secretlen,
									  const unsigned char *payload, size_t n,
									  const char *sig, size_t siglen);

/* hex(HMAC-SHA256(secret, payload)), either case: Razorpay, GoCardless */
extern FiSigResult fi_sig_hmac_hex(const char *secret, size_t secretlen,
								   const unsigned char *payload, size_t n,
								   const char *sig, size_t siglen);

/*
 * Stripe-Signature "t=<unix>,v1=<hex>[,v1=…][,v0=…]": some v1 is
 * hex(HMAC-SHA256(secret, "<t>.<payload>")) and |now - t| <= tolerance
 * (tolerance < 0: not checked).
 */
extern FiSigResult fi_sig_stripe(const char *secret, size_t secretlen,
								 const unsigned char *payload, size_t n,
								 const char *header, size_t headerlen,
								 int64_t now, int64_t tolerance);

/*
 * Standard Webhooks: secret "whsec_<base64 key>" (or the base64 key), the
 * webhook-signature header "v1,<base64> [v1,<base64> …]", some of them
 * base64(HMAC-SHA256(key, "<id>.<timestamp>.<payload>")); the timestamp
 * within the tolerance (< 0: not checked).
 */
extern FiSigResult fi_sig_standard_webhooks(const char *secret, size_t secretlen,
											const char *msg_id, size_t idlen,
											const char *timestamp, size_t tslen,
											const unsigned char *payload, size_t n,
											const char *header, size_t headerlen,
											int64_t now, int64_t tolerance);

/*
 * By the scheme's name, as verify_signature takes it: "frappe",
 * "standard-webhooks" (msg_id and timestamp from the webhook-id and
 * webhook-timestamp headers; NULL: missing), "stripe", "razorpay",
 * "gocardless".  *known is false for another name (nothing checked).
 */
extern FiSigResult fi_sig_verify_scheme(const char *scheme, bool *known,
										const char *secret, size_t secretlen,
										const unsigned char *payload, size_t n,
										const char *sig, size_t siglen,
										const char *msg_id, const char *timestamp,
										int64_t now, int64_t tolerance);

#endif							/* FI_SIGVERIFY_H */
