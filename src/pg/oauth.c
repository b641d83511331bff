/*
 * oauth.c
 *		The C pieces of the OAuth 2 / OpenID Connect provider, whose flows
 *		are SQL (sql/frappe_integrations--0.5.0--0.6.0.sql): HS256 JSON Web
 *		Tokens as PyJWT writes Frappe's id_token and their verification
 *		(engine/jwt.c, shared with the MariaDB build), a
 *		constant-time comparison of secrets, and form-urlencoding of the
 *		redirect parameters.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "tcop/tcopprot.h"	/* max_stack_depth (miscadmin.h from PostgreSQL 18) */
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "frappe_integrations.h"
#include "engine/codec.h"
#include "engine/jwt.h"
#include "engine/secretfmt.h"

/*
 * The JSON nesting the engine may follow for one call: a level takes well
 * under 512 bytes of stack, and half of max_stack_depth is left to the rest
 * of the backend.
 */
static int
jwt_max_depth(void)
{
	long		levels = (long) max_stack_depth * 1024 / 2 / 512;

	return levels < 100 ? 100 : levels > 100000 ? 100000 : (int) levels;
}

/* an engine's answer as PostgreSQL errors; true when there is a result */
static bool
jwt_result(FiJwtErr rc, FiJsonErr je, const char *msg)
{
	switch (rc)
	{
		case FI_JWT_OK:
			return true;
		case FI_JWT_REFUSED:
			return false;
		case FI_JWT_NOT_JWS:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("not a JSON Web Token"),
					 errdetail("Expected three base64url parts separated by dots.")));
			break;
		case FI_JWT_NOT_TEXT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("not a JSON Web Token"),
					 errdetail("Its header or claims are not UTF-8 text.")));
			break;
		case FI_JWT_NOT_OBJECT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("JWT claims must be a JSON object")));
			break;
		case FI_JWT_JSON:
			if (je == FI_JSON_NOMEM)
				ereport(ERROR,
						(errcode(ERRCODE_OUT_OF_MEMORY),
						 errmsg("out of memory")));
			ereport(ERROR,
					(errcode(je == FI_JSON_UNICODE ? ERRCODE_UNTRANSLATABLE_CHARACTER :
							 je == FI_JSON_RANGE ? ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE :
							 je == FI_JSON_DEPTH ? ERRCODE_STATEMENT_TOO_COMPLEX :
							 ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type json"),
					 errdetail("%s", msg)));
			break;
	}
	return false;
}

PG_FUNCTION_INFO_V1(fi_jwt_hs256);

/*
 * integrations.jwt_hs256(claims jsonb, key text) returns text: a compact
 * JWS with Frappe's header {"alg":"HS256","typ":"jwt"} (engine/jwt.c signs
 * the claims as jsonb prints them, compactly: the MariaDB build signs the
 * same bytes).
 */
Datum
fi_jwt_hs256(PG_FUNCTION_ARGS)
{
	Jsonb	   *claims = PG_GETARG_JSONB_P(0);
	text	   *key = PG_GETARG_TEXT_PP(1);
	char	   *json;
	FiJBuf		out = {0};
	FiJsonErr	je = FI_JSON_OK;
	char		msg[256] = "";
	FiJwtErr	rc;
	text	   *result;

	if (!JB_ROOT_IS_OBJECT(claims))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("JWT claims must be a JSON object")));
	json = JsonbToCString(NULL, &claims->root, VARSIZE(claims));
	rc = fi_jwt_hs256_sign(json, strlen(json), (const unsigned char *) VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key),
						   jwt_max_depth(), &out, &je, msg, sizeof(msg));
	if (rc != FI_JWT_OK)
		fi_jbuf_free(&out);
	jwt_result(rc, je, msg);
	result = cstring_to_text_with_len(out.data, (int) out.len);
	fi_jbuf_free(&out);
	PG_RETURN_TEXT_P(result);
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
	text	   *tok = PG_GETARG_TEXT_PP(0);
	text	   *key = PG_GETARG_TEXT_PP(1);
	FiJBuf		out = {0};
	FiJsonErr	je = FI_JSON_OK;
	char		msg[256] = "";
	FiJwtErr	rc;
	char	   *claims;

	rc = fi_jwt_hs256_verify(VARDATA_ANY(tok), VARSIZE_ANY_EXHDR(tok),
							 (const unsigned char *) VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key),
							 jwt_max_depth(), &out, &je, msg, sizeof(msg));
	if (rc != FI_JWT_OK)
		fi_jbuf_free(&out);
	if (!jwt_result(rc, je, msg))
		PG_RETURN_NULL();
	claims = pnstrdup(out.data, out.len);
	fi_jbuf_free(&out);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(claims)));
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
