/*
 * payments.c
 *		The payment gateways' rules for SQL (engine/payments.c): the
 *		controllers' currency and amount checks with the amount in the
 *		gateway's smallest unit, the status an event means, and which
 *		status may follow which.  The flows (sql/...--0.10.0--0.11.0.sql:
 *		payment_checkout, payment_callback; --0.11.0--0.12.0.sql: the
 *		checkout through the worker, http_queue.c) read and write Frappe's
 *		tables.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/numeric.h"

#include "frappe_integrations.h"
#include "engine/payments.h"

static void *
pay_alloc(void *arg, size_t size)
{
	(void) arg;
	return palloc0(size);
}

static FiPayGateway
gateway_arg(FunctionCallInfo fcinfo, int i)
{
	FiPayGateway g;
	char	   *name = PG_ARGISNULL(i) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(i));

	if (!fi_pay_gateway(name, &g))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown payment gateway \"%s\"", name ? name : "NULL"),
				 errhint("The gateways are Stripe and Razorpay.")));
	return g;
}

static char *
text_or_null(FunctionCallInfo fcinfo, int i)
{
	return PG_ARGISNULL(i) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(i));
}

PG_FUNCTION_INFO_V1(fi_payment_check);

/*
 * integrations.payment_check(gateway text, currency text, amount numeric)
 * returns bigint: the amount in the gateway's smallest unit, once the
 * controller's checks (currency, minimum) pass; else 22023 with Frappe's
 * message.
 */
Datum
fi_payment_check(PG_FUNCTION_ARGS)
{
	FiPayGateway g = gateway_arg(fcinfo, 0);
	char	   *currency = text_or_null(fcinfo, 1);
	char	   *amount = PG_ARGISNULL(2) ? NULL
		: DatumGetCString(DirectFunctionCall1(numeric_out, PG_GETARG_DATUM(2)));
	const char *why = fi_pay_check(g, currency, amount, pay_alloc, NULL);
	int64		units;

	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", why)));
	if (!fi_pay_minor_units(g, currency, amount, &units))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the amount %s %s cannot be paid through the gateway: too large, or less than the currency's smallest unit", amount, currency)));
	PG_RETURN_INT64(units);
}

PG_FUNCTION_INFO_V1(fi_payment_event_status);

/*
 * integrations.payment_event_status(gateway text, event_type text,
 * payment_status text) returns text: the Integration Request status the
 * gateway's event means, NULL for one that says nothing of the payment.
 */
Datum
fi_payment_event_status(PG_FUNCTION_ARGS)
{
	FiPayGateway g = gateway_arg(fcinfo, 0);
	const char *s = fi_pay_event_status(g, text_or_null(fcinfo, 1), text_or_null(fcinfo, 2));

	if (s == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(s));
}

PG_FUNCTION_INFO_V1(fi_payment_status_moves);

/* integrations.payment_status_moves(from text, to text) returns boolean */
Datum
fi_payment_status_moves(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(fi_pay_status_moves(text_or_null(fcinfo, 0), text_or_null(fcinfo, 1)));
}

/* where the gateways' APIs are (a superuser may point them at a test peer) */
char	   *fi_stripe_api_url = NULL;
char	   *fi_razorpay_api_url = NULL;

void
fi_payments_init(void)
{
	DefineCustomStringVariable("frappe_integrations.stripe_api_url",
							   "The base URL of Stripe's API.",
							   "payment_checkout calls <url>/v1/checkout/sessions. Only superusers set it: "
							   "the requests carry the site's secret key.",
							   &fi_stripe_api_url,
							   "https://api.stripe.com",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("frappe_integrations.razorpay_api_url",
							   "The base URL of Razorpay's API.",
							   "payment_checkout calls <url>/v1/orders and <url>/v1/payment_links. Only "
							   "superusers set it: the requests carry the site's key secret.",
							   &fi_razorpay_api_url,
							   "https://api.razorpay.com",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);
}
