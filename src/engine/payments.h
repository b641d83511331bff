/*
 * payments.h
 *		The payment gateways' rules (Frappe's payments app: Stripe Settings,
 *		Razorpay Settings; the gateways' public APIs), without a database:
 *		which currencies a gateway takes and its minimum amounts (the
 *		controllers' validate_transaction_currency and
 *		validate_minimum_transaction_amount, with their messages), an amount
 *		in the currency's smallest unit as the gateway's API wants it, the
 *		Integration Request status a gateway's event means, and the order in
 *		which statuses may follow one another.
 *
 * Texts are UTF-8 and NUL-terminated; what is returned is static or in the
 * caller's arena (FiAlloc).  Thread-safe: no state.
 */
#ifndef FI_PAYMENTS_H
#define FI_PAYMENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/alloc.h"

typedef enum FiPayGateway
{
	FI_PAY_STRIPE,
	FI_PAY_RAZORPAY
} FiPayGateway;

/* "stripe" / "razorpay" (any letter case) */
extern bool fi_pay_gateway(const char *name, FiPayGateway *g);

/*
 * The controller's checks of a payment's currency (ISO code, as Frappe
 * stores it: upper case) and amount (decimal text): NULL when the gateway
 * takes them, else Frappe's message ("Please select another payment
 * method. Stripe does not support transactions in currency 'XYZ'", "For
 * currency USD, the minimum transaction amount should be 0.5"), or ours
 * for an amount that is no positive decimal.
 */
extern const char *fi_pay_check(FiPayGateway g, const char *currency, const char *amount, FiAlloc alloc, void *arg);

/*
 * The amount in the currency's smallest unit for the gateway's API: Stripe
 * takes zero-decimal currencies (JPY, KRW, …) as they are and the others
 * times 100 (its API's rule; the payments app multiplies every currency by
 * 100), Razorpay paise (times 100).  Rounded half away from zero at the
 * unit.  false when the amount is no positive decimal or too large.
 */
extern bool fi_pay_minor_units(FiPayGateway g, const char *currency, const char *amount, int64_t *out);

/* the Integration Request statuses, in the order a payment may move forward */
#define FI_PAY_QUEUED		"Queued"
#define FI_PAY_AUTHORIZED	"Authorized"
#define FI_PAY_COMPLETED	"Completed"
#define FI_PAY_FAILED		"Failed"
#define FI_PAY_CANCELLED	"Cancelled"

/*
 * The status a gateway's event gives the payment's Integration Request,
 * NULL for an event that says nothing of it.  Stripe (Checkout Sessions):
 * checkout.session.completed with payment_status "paid" or
 * "no_payment_required", and checkout.session.async_payment_succeeded:
 * Completed; checkout.session.async_payment_failed: Failed;
 * checkout.session.expired: Cancelled (a completed session still unpaid
 * waits).  Razorpay: payment.authorized: Authorized; payment.captured,
 * order.paid, payment_link.paid: Completed; payment.failed: Failed;
 * payment_link.cancelled, payment_link.expired: Cancelled.
 */
extern const char *fi_pay_event_status(FiPayGateway g, const char *event_type, const char *payment_status);

/*
 * A payment's status may change from `from` to `to`: Queued (or none) to
 * any; Authorized to Completed, Failed or Cancelled; Completed, Failed and
 * Cancelled never change (an event delivered late or twice does not undo
 * a payment).
 */
extern bool fi_pay_status_moves(const char *from, const char *to);

/*
 * Whether a call to the gateway's API may be sent again after it failed:
 * only where the gateway makes a repeat harmless.  Stripe takes an
 * Idempotency-Key (a repeat with the same key gets the first answer back,
 * never a second session); Razorpay's Orders and Payment Links take none,
 * so a repeat after a lost answer could make a second order.
 */
extern bool fi_pay_retry_safe(FiPayGateway g);

typedef enum FiPayRetry
{
	FI_PAY_RETRY_POLICY,		/* as the general policy says (transport errors, 408, 429, 5xx) */
	FI_PAY_RETRY_YES,			/* the gateway says to send it again */
	FI_PAY_RETRY_NO				/* the gateway says a repeat would get the same answer */
} FiPayRetry;

/*
 * What the gateway's answer says of sending the call again.  header_lines
 * are the response's header lines ("Name: value\r\n" …, NULL for none).
 * Stripe: a Stripe-Should-Retry header decides ("true" / "false"); 409 (the
 * same Idempotency-Key in use by a request still running) is retried.
 * Otherwise, and for Razorpay: the general policy.
 */
extern FiPayRetry fi_pay_retry_verdict(FiPayGateway g, long http_status, const char *header_lines);

#endif							/* FI_PAYMENTS_H */
