/*
 * signatures.c
 *		integrations.verify_signature: the SQL face of the signature checks
 *		of src/engine/sigverify.c (Frappe webhooks, Standard Webhooks,
 *		Stripe, Razorpay, GoCardless).
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "frappe_integrations.h"
#include "engine/sigverify.h"

/* a header by name, in any letter case, as text; NULL when absent */
static char *
header_value(Jsonb *headers, const char *name)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	bool		want = false;

	if (headers == NULL || !JB_ROOT_IS_OBJECT(headers))
		return NULL;
	it = JsonbIteratorInit(&headers->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			want = v.val.string.len == (int) strlen(name) &&
				pg_strncasecmp(v.val.string.val, name, v.val.string.len) == 0;
		else if (tok == WJB_VALUE && want)
		{
			if (v.type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("header \"%s\" must be a string", name)));
			return pnstrdup(v.val.string.val, v.val.string.len);
		}
	}
	return NULL;
}

static char *
required_header(Jsonb *headers, const char *name, const char *scheme)
{
	char	   *v = header_value(headers, name);

	if (v == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a %s signature needs the \"%s\" header", scheme, name),
				 errhint("Pass the request's headers as a JSON object: {\"webhook-id\": …, \"webhook-timestamp\": …}.")));
	return v;
}

static Datum
verify(FunctionCallInfo fcinfo, const unsigned char *payload, size_t n)
{
	char	   *scheme = text_to_cstring(PG_GETARG_TEXT_PP(0));
	text	   *secret = PG_GETARG_TEXT_PP(2);
	text	   *sig = PG_GETARG_TEXT_PP(3);
	Jsonb	   *headers = PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4);
	int64		tolerance = PG_ARGISNULL(5) ? -1 : PG_GETARG_INT32(5);
	int64		now = (int64) (GetCurrentTimestamp() / USECS_PER_SEC) +
		(int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
	const char *s = VARDATA_ANY(secret);
	size_t		slen = VARSIZE_ANY_EXHDR(secret);
	const char *g = VARDATA_ANY(sig);
	size_t		glen = VARSIZE_ANY_EXHDR(sig);
	FiSigResult r;

	if (!PG_ARGISNULL(5) && tolerance < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tolerance_seconds must not be negative"),
				 errhint("NULL checks no time.")));
	{
		bool		known;
		bool		sw = strcmp(scheme, "standard-webhooks") == 0;
		char	   *id = sw ? required_header(headers, "webhook-id", scheme) : NULL;
		char	   *ts = sw ? required_header(headers, "webhook-timestamp", scheme) : NULL;

		r = fi_sig_verify_scheme(scheme, &known, s, slen, payload, n, g, glen, id, ts, now, tolerance);
		if (!known)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown signature scheme \"%s\"", scheme),
					 errhint("Use frappe, standard-webhooks, stripe, razorpay or gocardless.")));
		if (sw && r == FI_SIG_BAD_SECRET)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the secret is not a Standard Webhooks secret"),
					 errdetail("Expected \"whsec_\" followed by base64.")));
	}
	if (r == FI_SIG_CRYPTO)
		elog(ERROR, "HMAC-SHA256 failed");
	PG_RETURN_BOOL(r == FI_SIG_OK);
}

PG_FUNCTION_INFO_V1(fi_verify_signature);

/*
 * integrations.verify_signature(scheme, payload bytea | text, secret,
 * signature, headers jsonb default '{}', tolerance_seconds default 300)
 * returns boolean: true only for a signature the secret made for these
 * bytes (and, for stripe and standard-webhooks, a timestamp within the
 * tolerance; NULL: none checked).  A malformed signature is false; an
 * unknown scheme, a missing header or a malformed secret: 22023.
 */
Datum
fi_verify_signature(PG_FUNCTION_ARGS)
{
	bytea	   *payload;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_NULL();
	payload = PG_GETARG_BYTEA_PP(1);	/* text has the same layout */
	return verify(fcinfo, (const unsigned char *) VARDATA_ANY(payload), VARSIZE_ANY_EXHDR(payload));
}
