/*
 * oauth.c
 *		The C pieces of the OAuth 2 / OpenID Connect provider, whose flows
 *		are SQL (sql/frappe_integrations--0.5.0--0.6.0.sql): HS256 JSON Web
 *		Tokens as PyJWT writes Frappe's id_token, their verification, a
 *		constant-time comparison of secrets, and form-urlencoding of the
 *		redirect parameters.
 */
#include "postgres.h"

#include "common/jsonapi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "frappe_integrations.h"
#include "engine/codec.h"
#include "engine/csv.h"
#include "engine/secretfmt.h"

/* PyJWT 2.8 sorts the header's keys and writes it compactly */
#define JWT_HEADER "{\"alg\":\"HS256\",\"typ\":\"jwt\"}"

/* a jsonb scalar, compact */
static void
scalar_out(StringInfo buf, JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			appendStringInfoString(buf, "null");
			break;
		case jbvBool:
			appendStringInfoString(buf, v->val.boolean ? "true" : "false");
			break;
		case jbvNumeric:
			appendStringInfoString(buf, DatumGetCString(DirectFunctionCall1(numeric_out,
																		NumericGetDatum(v->val.numeric))));
			break;
		case jbvString:
			{
				char	   *s = pnstrdup(v->val.string.val, v->val.string.len);

				escape_json(buf, s);
				pfree(s);
			}
			break;
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
}

/* jsonb as JSON without blanks (the bytes a JWT signs) */
static void
compact_json(StringInfo buf, Jsonb *j)
{
	JsonbIterator *it = JsonbIteratorInit(&j->root);
	JsonbValue	v;
	JsonbIteratorToken tok;
	bool		first = true;

	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		switch (tok)
		{
			case WJB_BEGIN_OBJECT:
			case WJB_BEGIN_ARRAY:
				if (v.type == jbvArray && v.val.array.rawScalar)
					break;
				if (!first)
					appendStringInfoChar(buf, ',');
				appendStringInfoChar(buf, tok == WJB_BEGIN_OBJECT ? '{' : '[');
				first = true;
				break;
			case WJB_END_OBJECT:
				appendStringInfoChar(buf, '}');
				first = false;
				break;
			case WJB_END_ARRAY:
				if (!(v.type == jbvArray && v.val.array.rawScalar))
					appendStringInfoChar(buf, ']');
				first = false;
				break;
			case WJB_KEY:
				if (!first)
					appendStringInfoChar(buf, ',');
				scalar_out(buf, &v);
				appendStringInfoChar(buf, ':');
				first = true;	/* the value follows without a comma */
				break;
			case WJB_VALUE:
			case WJB_ELEM:
				if (!first)
					appendStringInfoChar(buf, ',');
				scalar_out(buf, &v);
				first = false;
				break;
			default:
				break;
		}
	}
}

/* base64url without padding (RFC 7515 2) */
static void
b64url(StringInfo buf, const unsigned char *in, size_t n)
{
	char	   *out = palloc(fi_b64_encoded_len(n, FI_B64_URL) + 1);
	size_t		len = fi_b64_encode(in, n, out, FI_B64_URL);

	while (len > 0 && out[len - 1] == '=')
		len--;
	appendBinaryStringInfo(buf, out, len);
	pfree(out);
}

/* the inverse; -1 when it is not base64url */
static long
unb64url(const char *in, size_t n, unsigned char **out)
{
	char	   *padded = palloc(n + 4);

	if (n % 4 == 1)
		return -1;
	memcpy(padded, in, n);
	while (n % 4 != 0)
		padded[n++] = '=';
	*out = palloc(fi_b64_decoded_maxlen(n) + 1);
	return fi_b64_decode(padded, n, *out, FI_B64_URL);
}

static void
hs256(const char *key, size_t keylen, const char *msg, size_t msglen, unsigned char mac[FI_SHA256_LEN])
{
	if (fi_hmac_sha256((const unsigned char *) key, keylen, (const unsigned char *) msg, msglen, mac) != FI_SECRET_OK)
		elog(ERROR, "HMAC-SHA256 failed");
}

PG_FUNCTION_INFO_V1(fi_jwt_hs256);

/*
 * integrations.jwt_hs256(claims jsonb, key text) returns text: a compact
 * JWS with Frappe's header {"alg":"HS256","typ":"jwt"}.
 */
Datum
fi_jwt_hs256(PG_FUNCTION_ARGS)
{
	Jsonb	   *claims = PG_GETARG_JSONB_P(0);
	text	   *key = PG_GETARG_TEXT_PP(1);
	StringInfoData payload,
				tok;
	unsigned char mac[FI_SHA256_LEN];

	if (!JB_ROOT_IS_OBJECT(claims))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("JWT claims must be a JSON object")));
	initStringInfo(&payload);
	compact_json(&payload, claims);
	initStringInfo(&tok);
	b64url(&tok, (const unsigned char *) JWT_HEADER, strlen(JWT_HEADER));
	appendStringInfoChar(&tok, '.');
	b64url(&tok, (const unsigned char *) payload.data, payload.len);
	hs256(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), tok.data, tok.len, mac);
	appendStringInfoChar(&tok, '.');
	b64url(&tok, mac, sizeof(mac));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(tok.data, tok.len));
}

PG_FUNCTION_INFO_V1(fi_jwt_decode_hs256);

/*
 * integrations.jwt_decode_hs256(token text, key text) returns jsonb: the
 * claims of an HS256 JWT whose signature the key makes, else NULL.  Times
 * (exp, nbf) are the caller's business, as with Frappe's id_token_hint.
 * A token that is not a JWS at all: 22023.
 */
Datum
fi_jwt_decode_hs256(PG_FUNCTION_ARGS)
{
	text	   *tokt = PG_GETARG_TEXT_PP(0);
	text	   *key = PG_GETARG_TEXT_PP(1);
	char	   *tok = text_to_cstring(tokt);
	char	   *dot1 = strchr(tok, '.'),
			   *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	unsigned char *hdr,
			   *body,
			   *sig;
	long		hlen,
				blen,
				slen;
	unsigned char mac[FI_SHA256_LEN];
	Datum		header;
	Jsonb	   *hj;
	JsonbValue *alg;
	size_t		bad;

	if (dot1 == NULL || dot2 == NULL || strchr(dot2 + 1, '.') != NULL ||
		(hlen = unb64url(tok, dot1 - tok, &hdr)) < 0 ||
		(blen = unb64url(dot1 + 1, dot2 - dot1 - 1, &body)) < 0 ||
		(slen = unb64url(dot2 + 1, strlen(dot2 + 1), &sig)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a JSON Web Token"),
				 errdetail("Expected three base64url parts separated by dots.")));
	hdr[hlen] = '\0';
	body[blen] = '\0';
	if (!fi_utf8_valid((char *) hdr, hlen, &bad) || !fi_utf8_valid((char *) body, blen, &bad) ||
		memchr(hdr, '\0', hlen) || memchr(body, '\0', blen))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a JSON Web Token"),
				 errdetail("Its header or claims are not UTF-8 text.")));
	/* the header must say HS256: no "none", no algorithm confusion */
	header = DirectFunctionCall1(jsonb_in, CStringGetDatum((char *) hdr));
	hj = DatumGetJsonbP(header);
	{
		JsonbValue	k;

		k.type = jbvString;
		k.val.string.val = "alg";
		k.val.string.len = 3;
		alg = JB_ROOT_IS_OBJECT(hj) ? findJsonbValueFromContainer(&hj->root, JB_FOBJECT, &k) : NULL;
	}
	if (alg == NULL || alg->type != jbvString || alg->val.string.len != 5 ||
		memcmp(alg->val.string.val, "HS256", 5) != 0)
		PG_RETURN_NULL();
	hs256(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), tok, dot2 - tok, mac);
	if (slen != FI_SHA256_LEN || !fi_ct_equal(mac, sig, FI_SHA256_LEN))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum((char *) body)));
}

PG_FUNCTION_INFO_V1(fi_secure_compare);

/*
 * integrations.secure_compare(a text, b text) returns boolean: a = b in a
 * time that says nothing about where they differ or how long either is
 * (HMAC of both under a key of the process, then CRYPTO_memcmp).
 */
Datum
fi_secure_compare(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);

	PG_RETURN_BOOL(fi_secure_equal(VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a),
								   VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b)));
}

PG_FUNCTION_INFO_V1(fi_url_encode);

/*
 * integrations.url_encode(text) returns text: application/x-www-form-
 * urlencoded as Python's urlencode writes a value (quote_plus: letters,
 * digits and _.-~ kept, a blank as '+', every other byte of the UTF-8 as
 * %XX).
 */
Datum
fi_url_encode(PG_FUNCTION_ARGS)
{
	text	   *in = PG_GETARG_TEXT_PP(0);
	int			n = VARSIZE_ANY_EXHDR(in);
	char	   *out = palloc((Size) n * 3 + 1);
	size_t		len = fi_quote_plus((const unsigned char *) VARDATA_ANY(in), n, out);

	PG_RETURN_TEXT_P(cstring_to_text_with_len(out, (int) len));
}
