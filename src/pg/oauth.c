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
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "frappe_integrations.h"
#include "engine/codec.h"
#include "engine/jwt.h"
#include "engine/oauth.h"
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

/* ------------------------------------------------- the provider's rules */

/* memory for the engine: the current memory context */
static void *
pg_alloc(void *arg, size_t size)
{
	return palloc0(size);
}

static const char *
text_arg(FunctionCallInfo fcinfo, int i)
{
	return PG_ARGISNULL(i) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(i));
}

/* client ->> key, NULL when absent or JSON null */
static const char *
client_text(Jsonb *client, const char *key)
{
	JsonbValue	k,
			   *v;

	if (client == NULL || !JB_ROOT_IS_OBJECT(client))
		return NULL;
	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	v = findJsonbValueFromContainer(&client->root, JB_FOBJECT, &k);
	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type == jbvString)
		return pnstrdup(v->val.string.val, v->val.string.len);
	/* ->> of a number or boolean: its text */
	return DatumGetCString(DirectFunctionCall1(jsonb_out, PointerGetDatum(JsonbValueToJsonb(v))));
}

static bool
client_has_secret(Jsonb *client)
{
	const char *s = client_text(client, "client_secret");

	return s != NULL && *s != '\0';
}

/* integrations.oauth_fail's form: the OAuth code first in the message */
static void
oauth_fail(int sqlstate, const char *code, const char *description)
{
	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("%s: %s", code, description)));
}

PG_FUNCTION_INFO_V1(fi_oauth_scopes_sql);

/* integrations.oauth_scopes(client_scopes text, requested text): engine/oauth.c's */
Datum
fi_oauth_scopes_sql(PG_FUNCTION_ARGS)
{
	char	   *s = fi_oauth_scopes(text_arg(fcinfo, 0), text_arg(fcinfo, 1), pg_alloc, NULL);

	if (s == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(s));
}

PG_FUNCTION_INFO_V1(fi_oauth_half_hash_sql);

/* integrations.oauth_half_hash(value text): at_hash / c_hash */
Datum
fi_oauth_half_hash_sql(PG_FUNCTION_ARGS)
{
	text	   *v = PG_GETARG_TEXT_PP(0);
	char		out[23];

	fi_oauth_half_hash(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), out);
	PG_RETURN_TEXT_P(cstring_to_text(out));
}

PG_FUNCTION_INFO_V1(fi_oauth_redirect_uri_sql);

/*
 * integrations.oauth_redirect_uri(client jsonb, redirect_uri text): the
 * redirect URI of an authorization request; invalid_request when it is not
 * the client's (raised: such a request must not be redirected).
 */
Datum
fi_oauth_redirect_uri_sql(PG_FUNCTION_ARGS)
{
	Jsonb	   *client = PG_GETARG_JSONB_P(0);
	const char *error;
	const char *uri = fi_oauth_redirect_uri(text_arg(fcinfo, 1), client_text(client, "redirect_uris"),
											client_text(client, "default_redirect_uri"), &error);

	if (uri == NULL)
		oauth_fail(ERRCODE_INVALID_PARAMETER_VALUE, "invalid_request", error);
	PG_RETURN_TEXT_P(cstring_to_text(uri));
}

PG_FUNCTION_INFO_V1(fi_oauth_authorize_rules);

/*
 * integrations.oauth_authorize_rules(response_type, scope, nonce,
 * code_challenge, code_challenge_method text, client jsonb) returns jsonb:
 * {"error", "error_description"} when refused, else {"scopes",
 * "challenge_method"}; always "code", "token", "id_token" (what was asked
 * for) and "in_fragment" (how the answer travels).
 */
Datum
fi_oauth_authorize_rules(PG_FUNCTION_ARGS)
{
	Jsonb	   *client = PG_ARGISNULL(5) ? NULL : PG_GETARG_JSONB_P(5);
	FiOAuthAuthorize req;
	FiOAuthGrant g;
	StringInfoData buf;
	const char *keys[4];
	const char *vals[4];
	int			i;

	req.response_type = text_arg(fcinfo, 0);
	req.scope = text_arg(fcinfo, 1);
	req.nonce = text_arg(fcinfo, 2);
	req.code_challenge = text_arg(fcinfo, 3);
	req.code_challenge_method = text_arg(fcinfo, 4);
	req.client_response_type = client_text(client, "response_type");
	req.client_scopes = client_text(client, "scopes");
	req.client_has_secret = client_has_secret(client);
	fi_oauth_authorize(&req, pg_alloc, NULL, &g);

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"code\": %s, \"token\": %s, \"id_token\": %s, \"in_fragment\": %s",
					 (g.response_types & FI_RT_CODE) ? "true" : "false",
					 (g.response_types & FI_RT_TOKEN) ? "true" : "false",
					 (g.response_types & FI_RT_ID_TOKEN) ? "true" : "false",
					 g.in_fragment ? "true" : "false");
	keys[0] = "error";
	vals[0] = g.error;
	keys[1] = "error_description";
	vals[1] = g.error_description;
	keys[2] = "scopes";
	vals[2] = g.scopes;
	keys[3] = "challenge_method";
	vals[3] = g.challenge_method;
	for (i = 0; i < 4; i++)
	{
		if (vals[i] == NULL)
			continue;
		appendStringInfo(&buf, ", \"%s\": ", keys[i]);
		escape_json(&buf, vals[i]);
	}
	appendStringInfoChar(&buf, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

PG_FUNCTION_INFO_V1(fi_oauth_redirect_sql);

/*
 * integrations.oauth_redirect(uri text, in_fragment boolean, pairs text[]):
 * uri with the pairs (key, value, key, value, ...; a NULL value leaves its
 * pair out) form-urlencoded in its fragment or query.
 */
Datum
fi_oauth_redirect_sql(PG_FUNCTION_ARGS)
{
	text	   *uri = PG_GETARG_TEXT_PP(0);
	bool		frag = PG_GETARG_BOOL(1);
	ArrayType  *pairs = PG_GETARG_ARRAYTYPE_P(2);
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i;
	const char **keys;
	const char **vals;

	deconstruct_array(pairs, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the redirect's parameters must be pairs of key and value")));
	keys = palloc0(sizeof(char *) * (n / 2 + 1));
	vals = palloc0(sizeof(char *) * (n / 2 + 1));
	for (i = 0; i < n / 2; i++)
	{
		if (nulls[2 * i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a redirect parameter's key is NULL")));
		keys[i] = TextDatumGetCString(elems[2 * i]);
		vals[i] = nulls[2 * i + 1] ? NULL : TextDatumGetCString(elems[2 * i + 1]);
	}
	PG_RETURN_TEXT_P(cstring_to_text(fi_oauth_redirect(text_to_cstring(uri), frag, keys, vals, n / 2,
													   pg_alloc, NULL)));
}

PG_FUNCTION_INFO_V1(fi_oauth_grant_type_sql);

/* integrations.oauth_grant_type(grant_type text): it, or the OAuth error raised */
Datum
fi_oauth_grant_type_sql(PG_FUNCTION_ARGS)
{
	const char *gt = text_arg(fcinfo, 0);
	const char *error,
			   *description;

	if (!fi_oauth_grant_type(gt, &error, &description))
		oauth_fail(ERRCODE_INVALID_PARAMETER_VALUE, error, description);
	PG_RETURN_TEXT_P(cstring_to_text(gt));
}

PG_FUNCTION_INFO_V1(fi_oauth_pkce_syntax_sql);

/* integrations.oauth_pkce_syntax(value text): RFC 7636's 43 to 128 unreserved characters */
Datum
fi_oauth_pkce_syntax_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(fi_oauth_pkce_syntax(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

PG_FUNCTION_INFO_V1(fi_oauth_code_exchange_ok_sql);

/*
 * integrations.oauth_code_exchange_ok(code jsonb, redirect_uri text,
 * code_verifier text, client jsonb): the OAuth Authorization Code row may
 * be exchanged with these (its redirect URI, PKCE, a public client's
 * proof).
 */
Datum
fi_oauth_code_exchange_ok_sql(PG_FUNCTION_ARGS)
{
	Jsonb	   *row;
	Jsonb	   *client;
	FiOAuthCode code;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(3))
		PG_RETURN_BOOL(false);
	row = PG_GETARG_JSONB_P(0);
	client = PG_GETARG_JSONB_P(3);
	code.redirect_uri = client_text(row, "redirect_uri_bound_to_authorization_code");
	code.code_challenge = client_text(row, "code_challenge");
	code.code_challenge_method = client_text(row, "code_challenge_method");
	PG_RETURN_BOOL(fi_oauth_code_exchange_ok(&code, text_arg(fcinfo, 1), text_arg(fcinfo, 2),
											 client_text(client, "default_redirect_uri"),
											 client_has_secret(client)));
}

PG_FUNCTION_INFO_V1(fi_oauth_basic_credentials_sql);

/*
 * integrations.oauth_basic_credentials(header text, client_id
 * text) returns text[]: {id, secret} of HTTP Basic client credentials;
 * invalid_request when they are not that or name another client.
 */
Datum
fi_oauth_basic_credentials_sql(PG_FUNCTION_ARGS)
{
	char	   *id,
			   *secret;
	Datum		d[2];

	if (!fi_oauth_basic_credentials(text_to_cstring(PG_GETARG_TEXT_PP(0)), text_arg(fcinfo, 1),
									pg_alloc, NULL, &id, &secret))
		oauth_fail(ERRCODE_INVALID_PARAMETER_VALUE, "invalid_request",
				   "the authorization parameter is not HTTP Basic credentials");
	d[0] = PointerGetDatum(cstring_to_text(id));
	d[1] = PointerGetDatum(cstring_to_text(secret));
	PG_RETURN_ARRAYTYPE_P(construct_array(d, 2, TEXTOID, -1, false, TYPALIGN_INT));
}
