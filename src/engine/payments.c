/*
 * payments.c
 *		The payment gateways' rules (see payments.h).
 */
#include "engine/payments.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Stripe Settings.supported_currencies (payments app) */
static const char *const stripe_currencies[] = {
	"AED", "ALL", "ANG", "ARS", "AUD", "AWG", "BBD", "BDT", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BWP",
	"BZD", "CAD", "CHF", "CLP", "CNY", "COP", "CRC", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ETB",
	"EUR", "FJD", "FKP", "GBP", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HRK", "HTG", "HUF", "IDR",
	"ILS", "INR", "ISK", "JMD", "JPY", "KES", "KHR", "KMF", "KRW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD",
	"MAD", "MDL", "MNT", "MOP", "MRO", "MUR", "MVR", "MWK", "MXN", "MYR", "NAD", "NGN", "NIO", "NOK", "NPR",
	"NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RUB", "SAR", "SBD", "SCR", "SEK", "SGD",
	"SHP", "SLL", "SOS", "STD", "SVC", "SZL", "THB", "TOP", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU",
	"UZS", "VND", "VUV", "WST", "XAF", "XOF", "XPF", "YER", "ZAR", NULL
};

/*
 * Stripe Settings.currency_wise_minimum_charge_amount, in units of the
 * currency as thousandths, with the text Python prints for the float in
 * Frappe's message
 */
static const struct
{
	const char *currency;
	int64_t		milli;
	const char *text;
}			stripe_minimums[] = {
	{"JPY", 50000, "50"}, {"MXN", 10000, "10"}, {"DKK", 2500, "2.5"}, {"HKD", 4000, "4.0"},
	{"NOK", 3000, "3.0"}, {"SEK", 3000, "3.0"}, {"USD", 500, "0.5"}, {"AUD", 500, "0.5"},
	{"BRL", 500, "0.5"}, {"CAD", 500, "0.5"}, {"CHF", 500, "0.5"}, {"EUR", 500, "0.5"},
	{"GBP", 300, "0.3"}, {"NZD", 500, "0.5"}, {"SGD", 500, "0.5"}, {NULL, 0, NULL}
};

/* Stripe's zero-decimal currencies (its API takes their amounts as they are) */
static const char *const stripe_zero_decimal[] = {
	"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF",
	"XPF", NULL
};

static bool
in_list(const char *const *list, const char *s)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

bool
fi_pay_gateway(const char *name, FiPayGateway *g)
{
	if (name == NULL)
		return false;
	if (strcasecmp(name, "stripe") == 0)
		*g = FI_PAY_STRIPE;
	else if (strcasecmp(name, "razorpay") == 0)
		*g = FI_PAY_RAZORPAY;
	else
		return false;
	return true;
}

/*
 * A positive decimal ("12", "12.5", "0.30"; no sign, exponent or blank) in
 * units of 10^-scale, rounded half away from zero; false when it is not
 * one or does not fit.
 */
static bool
decimal_scaled(const char *s, int scale, int64_t *out)
{
	int64_t		v = 0;
	int			frac = -1;		/* digits seen after the point; -1: no point yet */
	bool		digits = false,
				round_up = false;

	if (s == NULL || *s == '\0')
		return false;
	for (const char *p = s; *p; p++)
	{
		if (*p == '.' && frac < 0)
		{
			frac = 0;
			continue;
		}
		if (*p < '0' || *p > '9')
			return false;
		digits = true;
		if (frac >= 0 && frac >= scale)
		{
			if (frac == scale)
				round_up = *p >= '5';
			frac++;
			continue;
		}
		if (v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*p - '0');
		if (frac >= 0)
			frac++;
	}
	if (!digits)
		return false;
	for (int f = frac < 0 ? 0 : frac; f < scale; f++)
	{
		if (v > INT64_MAX / 10)
			return false;
		v *= 10;
	}
	if (round_up)
		v++;
	*out = v;
	return v > 0;
}

const char *
fi_pay_check(FiPayGateway g, const char *currency, const char *amount, FiAlloc alloc, void *arg)
{
	const char *name = g == FI_PAY_STRIPE ? "Stripe" : "Razorpay";
	bool		ok = currency != NULL &&
		(g == FI_PAY_STRIPE ? in_list(stripe_currencies, currency) : strcmp(currency, "INR") == 0);
	int64_t		milli;
	char	   *msg;
	size_t		n;

	if (!ok)
	{
		const char *c = currency ? currency : "None";

		n = strlen(c) + 128;
		msg = alloc(arg, n);
		snprintf(msg, n, "Please select another payment method. %s does not support transactions in currency '%s'",
				 name, c);
		return msg;
	}
	if (!decimal_scaled(amount, 3, &milli))
		return "the amount must be a positive decimal number";
	if (g == FI_PAY_STRIPE)
		for (int i = 0; stripe_minimums[i].currency; i++)
			if (strcmp(stripe_minimums[i].currency, currency) == 0 && milli < stripe_minimums[i].milli)
			{
				n = 128;
				msg = alloc(arg, n);
				snprintf(msg, n, "For currency %s, the minimum transaction amount should be %s", currency,
						 stripe_minimums[i].text);
				return msg;
			}
	return NULL;
}

bool
fi_pay_minor_units(FiPayGateway g, const char *currency, const char *amount, int64_t *out)
{
	int			scale = 2;

	if (g == FI_PAY_STRIPE && currency != NULL && in_list(stripe_zero_decimal, currency))
		scale = 0;
	return decimal_scaled(amount, scale, out);
}

const char *
fi_pay_event_status(FiPayGateway g, const char *event_type, const char *payment_status)
{
	if (event_type == NULL)
		return NULL;
	if (g == FI_PAY_STRIPE)
	{
		if (strcmp(event_type, "checkout.session.completed") == 0)
			return payment_status != NULL && (strcmp(payment_status, "paid") == 0 ||
											  strcmp(payment_status, "no_payment_required") == 0)
				? FI_PAY_COMPLETED : NULL;
		if (strcmp(event_type, "checkout.session.async_payment_succeeded") == 0)
			return FI_PAY_COMPLETED;
		if (strcmp(event_type, "checkout.session.async_payment_failed") == 0)
			return FI_PAY_FAILED;
		if (strcmp(event_type, "checkout.session.expired") == 0)
			return FI_PAY_CANCELLED;
		return NULL;
	}
	if (strcmp(event_type, "payment.authorized") == 0)
		return FI_PAY_AUTHORIZED;
	if (strcmp(event_type, "payment.captured") == 0 || strcmp(event_type, "order.paid") == 0 ||
		strcmp(event_type, "payment_link.paid") == 0)
		return FI_PAY_COMPLETED;
	if (strcmp(event_type, "payment.failed") == 0)
		return FI_PAY_FAILED;
	if (strcmp(event_type, "payment_link.cancelled") == 0 || strcmp(event_type, "payment_link.expired") == 0)
		return FI_PAY_CANCELLED;
	return NULL;
}

bool
fi_pay_status_moves(const char *from, const char *to)
{
	if (to == NULL)
		return false;
	if (from == NULL || *from == '\0' || strcmp(from, FI_PAY_QUEUED) == 0)
		return strcmp(to, FI_PAY_QUEUED) != 0;
	if (strcmp(from, FI_PAY_AUTHORIZED) == 0)
		return strcmp(to, FI_PAY_COMPLETED) == 0 || strcmp(to, FI_PAY_FAILED) == 0 ||
			strcmp(to, FI_PAY_CANCELLED) == 0;
	return false;
}

bool
fi_pay_retry_safe(FiPayGateway g)
{
	return g == FI_PAY_STRIPE;
}

/* the value of header `name` in header lines (case-insensitive name), its length in *n */
static const char *
header_value(const char *lines, const char *name, size_t *n)
{
	size_t		len = strlen(name);

	for (const char *p = lines; p && *p;)
	{
		const char *eol = strchr(p, '\n');
		size_t		linelen = eol ? (size_t) (eol - p) : strlen(p);

		if (linelen > len && p[len] == ':' && strncasecmp(p, name, len) == 0)
		{
			const char *v = p + len + 1;
			const char *end = p + linelen;

			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
				end--;
			*n = (size_t) (end - v);
			return v;
		}
		p = eol ? eol + 1 : p + linelen;
	}
	return NULL;
}

FiPayRetry
fi_pay_retry_verdict(FiPayGateway g, long http_status, const char *header_lines)
{
	const char *v;
	size_t		n = 0;

	if (g != FI_PAY_STRIPE || http_status == 0)
		return FI_PAY_RETRY_POLICY;
	if ((v = header_value(header_lines, "Stripe-Should-Retry", &n)) != NULL)
	{
		if (n == 4 && strncasecmp(v, "true", 4) == 0)
			return FI_PAY_RETRY_YES;
		if (n == 5 && strncasecmp(v, "false", 5) == 0)
			return FI_PAY_RETRY_NO;
	}
	if (http_status == 409)
		return FI_PAY_RETRY_YES;
	return FI_PAY_RETRY_POLICY;
}
