/*
 * oauth.c
 *		The OAuth 2 / OpenID Connect provider's rules (see oauth.h).
 */
#include "engine/oauth.h"

#include <string.h>
#include <strings.h>

#include <openssl/sha.h>

#include "engine/codec.h"
#include "engine/csv.h"			/* fi_utf8_valid */
#include "engine/secretfmt.h"

#define SCOPE_BLANKS " \t\n\r\f\v"

/* the next word of s (split on blanks); false at the end */
static bool
next_word(const char **s, const char *blanks, const char **w, size_t *n)
{
	const char *p = *s;

	p += strspn(p, blanks);
	if (*p == '\0')
		return false;
	*w = p;
	*n = strcspn(p, blanks);
	*s = p + *n;
	return true;
}

/* s, split on blanks, has the word w[0..n) */
static bool
has_word(const char *s, const char *blanks, const char *w, size_t n)
{
	const char *x;
	size_t		xn;

	if (s == NULL)
		return false;
	while (next_word(&s, blanks, &x, &xn))
		if (xn == n && memcmp(x, w, n) == 0)
			return true;
	return false;
}

int
fi_oauth_response_types(const char *rt)
{
	const char *w;
	size_t		n;
	int			bits = 0;

	if (rt == NULL)
		return 0;
	/* Frappe splits on single blanks; runs of them are one separator here */
	while (next_word(&rt, " ", &w, &n))
	{
		if (n == 4 && memcmp(w, "code", 4) == 0)
			bits |= FI_RT_CODE;
		else if (n == 5 && memcmp(w, "token", 5) == 0)
			bits |= FI_RT_TOKEN;
		else if (n == 8 && memcmp(w, "id_token", 8) == 0)
			bits |= FI_RT_ID_TOKEN;
		else
			bits |= FI_RT_OTHER;
	}
	return bits;
}

char *
fi_oauth_scopes(const char *have, const char *asked, FiAlloc alloc, void *arg)
{
	const char *src = asked,
			   *w;
	size_t		n,
				len = 0;
	char	   *out;

	if (asked == NULL || asked[strspn(asked, SCOPE_BLANKS)] == '\0')
		src = have ? have : "";
	else
	{
		const char *p = asked;

		while (next_word(&p, SCOPE_BLANKS, &w, &n))
			if (!has_word(have, SCOPE_BLANKS, w, n))
				return NULL;
	}
	out = alloc(arg, strlen(src) + 1);
	/* each once, in the order first asked (or as the client lists them) */
	while (next_word(&src, SCOPE_BLANKS, &w, &n))
	{
		out[len] = '\0';
		if (has_word(out, " ", w, n))
			continue;
		if (len > 0)
			out[len++] = ' ';
		memcpy(out + len, w, n);
		len += n;
	}
	out[len] = '\0';
	return out;
}

bool
fi_oauth_has_scope(const char *scopes, const char *scope)
{
	return has_word(scopes, " ", scope, strlen(scope));
}

/* characters of UTF-8 text */
static size_t
utf8_chars(const char *s)
{
	size_t		n = 0;

	for (; *s; s++)
		n += ((unsigned char) *s & 0xC0) != 0x80;
	return n;
}

const char *
fi_oauth_redirect_uri(const char *asked, const char *redirect_uris, const char *default_uri,
					  const char **error)
{
	const char *uri;

	*error = NULL;
	if (default_uri != NULL && *default_uri == '\0')
		default_uri = NULL;
	if (asked == NULL)
		uri = default_uri;
	else
	{
		bool		listed = default_uri != NULL && strcmp(asked, default_uri) == 0;
		const char *p = redirect_uris;

		/* Frappe's get_url_delimiter(): single blanks; an empty part is no URI */
		while (!listed && p != NULL && *p != '\0')
		{
			size_t		n = strcspn(p, " ");

			listed = n > 0 && n == strlen(asked) && memcmp(p, asked, n) == 0;
			p += n;
			if (*p == ' ')
				p++;
		}
		if (!listed)
		{
			*error = "redirect_uri is not registered for this client";
			return NULL;
		}
		uri = asked;
	}
	if (uri == NULL || *uri == '\0' || utf8_chars(uri) > 140)
	{
		*error = "the client has no usable redirect URI";
		return NULL;
	}
	return uri;
}

bool
fi_oauth_pkce_syntax(const char *s)
{
	size_t		n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~");

	return s[n] == '\0' && n >= 43 && n <= 128;
}

bool
fi_oauth_authorize(const FiOAuthAuthorize *req, FiAlloc alloc, void *arg, FiOAuthGrant *out)
{
	int			rt = fi_oauth_response_types(req->response_type);
	const char *own = req->client_response_type && *req->client_response_type ? req->client_response_type : "Code";
	int			own_rt = strcasecmp(own, "code") == 0 ? FI_RT_CODE :
		strcasecmp(own, "token") == 0 ? FI_RT_TOKEN : FI_RT_OTHER;
	const char *method = req->code_challenge_method ? req->code_challenge_method : "plain";

	memset(out, 0, sizeof(*out));
	out->response_types = rt;
#define REFUSE(e, d) do { out->error = (e); out->error_description = (d); goto refused; } while (0)
	if (req->response_type == NULL)
		REFUSE("invalid_request", "response_type is missing");
	/* its own (Code or Token), or OpenID's: id_token, id_token token, code id_token, code id_token token */
	if (!((own_rt != FI_RT_OTHER && rt == own_rt) || ((rt & FI_RT_ID_TOKEN) && !(rt & FI_RT_OTHER))))
		REFUSE("unsupported_response_type", "this client may not ask for that response_type");
	out->scopes = fi_oauth_scopes(req->client_scopes, req->scope, alloc, arg);
	if (out->scopes == NULL)
		REFUSE("invalid_scope", "a scope asked for is not one of the client's");
	if ((rt & FI_RT_ID_TOKEN) && !fi_oauth_has_scope(out->scopes, "openid"))
		REFUSE("invalid_scope", "an id_token needs the openid scope");
	if ((rt & FI_RT_ID_TOKEN) && !req->client_has_secret)
		REFUSE("unauthorized_client", "a client without a secret cannot be sent an id_token");
	if ((rt & FI_RT_ID_TOKEN) && req->nonce == NULL)
		REFUSE("invalid_request", "nonce is required when an id_token is returned from the authorization endpoint");
	if (req->code_challenge != NULL && strcmp(method, "S256") != 0 && strcmp(method, "plain") != 0)
		REFUSE("invalid_request", "code_challenge_method must be S256 or plain");
	if (req->code_challenge != NULL && !fi_oauth_pkce_syntax(req->code_challenge))
		REFUSE("invalid_request", "code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~");
	if ((rt & FI_RT_CODE) && req->code_challenge == NULL && !req->client_has_secret)
		REFUSE("invalid_request", "a client without a secret must use PKCE (code_challenge)");
#undef REFUSE
	if (req->code_challenge != NULL)
		out->challenge_method = strcmp(method, "S256") == 0 ? "s256" : "plain";
	/* a code alone comes back in the query; anything with a token in the fragment */
	out->in_fragment = rt != FI_RT_CODE;
	return true;

refused:
	out->scopes = NULL;
	/* an error of a request for tokens goes in the fragment too, unless it was not one we serve */
	out->in_fragment = (rt & (FI_RT_TOKEN | FI_RT_ID_TOKEN)) &&
		strcmp(out->error, "unsupported_response_type") != 0;
	return false;
}

bool
fi_oauth_grant_type(const char *grant_type, const char **error, const char **description)
{
	*error = NULL;
	*description = NULL;
	if (grant_type == NULL)
	{
		*error = "invalid_request";
		*description = "grant_type is missing";
		return false;
	}
	/* Frappe's validate_grant_type */
	if (strcmp(grant_type, "authorization_code") != 0 && strcmp(grant_type, "refresh_token") != 0 &&
		strcmp(grant_type, "password") != 0)
	{
		*error = "unsupported_grant_type";
		*description = "grant_type must be authorization_code, refresh_token or password";
		return false;
	}
	return true;
}

/* base64url without padding of n bytes; out needs 4 * (n + 2) / 3 + 1 */
static void
b64url(const unsigned char *in, size_t n, char *out)
{
	size_t		len = fi_b64_encode(in, n, out, FI_B64_URL);

	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
}

bool
fi_oauth_code_exchange_ok(const FiOAuthCode *code, const char *redirect_uri, const char *verifier,
						  const char *default_uri, bool client_has_secret)
{
	const char *given = redirect_uri ? redirect_uri : default_uri;
	const char *bound = code->redirect_uri && *code->redirect_uri ? code->redirect_uri : default_uri;
	bool		has_challenge = code->code_challenge != NULL && *code->code_challenge != '\0';
	bool		ok;

	/* the redirect URI it was issued for; none on both sides is no match */
	ok = given != NULL && bound != NULL && strcmp(given, bound) == 0;
	if (has_challenge)
	{
		const char *m = code->code_challenge_method ? code->code_challenge_method : "";
		char		s256[48];
		const char *expect = verifier;

		if (verifier == NULL)
			return false;
		if (strcasecmp(m, "s256") == 0)
		{
			unsigned char d[SHA256_DIGEST_LENGTH];

			SHA256((const unsigned char *) verifier, strlen(verifier), d);
			b64url(d, sizeof(d), s256);
			expect = s256;
		}
		ok &= fi_secure_equal(expect, strlen(expect), code->code_challenge, strlen(code->code_challenge));
	}
	/* a client without a secret proves itself with PKCE only */
	else if (!client_has_secret)
		return false;
	return ok;
}

bool
fi_oauth_basic_credentials(const char *authorization, const char *client_id,
						   FiAlloc alloc, void *arg, char **id, char **secret)
{
	const char *b64;
	size_t		n,
				pad;
	unsigned char *pair;
	long		len;
	const char *colon;
	size_t		bad;

	*id = *secret = NULL;
	if (strncasecmp(authorization, "basic ", 6) != 0)
		return false;
	b64 = authorization + 6;
	n = strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
	pad = strspn(b64 + n, "=");
	if (n == 0 || b64[n + pad] != '\0' || (n + pad) % 4 != 0 || pad > 2)
		return false;
	pair = alloc(arg, fi_b64_decoded_maxlen(n + pad) + 1);
	len = fi_b64_decode(b64, n + pad, pair, FI_B64_STD);
	if (len < 0 || memchr(pair, '\0', len) != NULL || !fi_utf8_valid((const char *) pair, len, &bad))
		return false;
	pair[len] = '\0';
	if ((colon = strchr((const char *) pair, ':')) == NULL)
		return false;
	*id = fi_alloc_strndup(alloc, arg, (const char *) pair, colon - (const char *) pair);
	if (client_id != NULL && strcmp(client_id, *id) != 0)
	{
		*id = NULL;
		return false;
	}
	*secret = fi_alloc_strndup(alloc, arg, colon + 1, strlen(colon + 1));
	return true;
}

void
fi_oauth_half_hash(const char *value, size_t n, char out[23])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	char		tmp[32];

	SHA256((const unsigned char *) value, n, d);
	b64url(d, 16, tmp);
	memcpy(out, tmp, 23);
}

char *
fi_oauth_redirect(const char *uri, bool in_fragment, const char *const *keys,
				  const char *const *values, int n, FiAlloc alloc, void *arg)
{
	size_t		cap = strlen(uri) + 2,
				len;
	char	   *out;
	bool		first = true;
	int			i;

	for (i = 0; i < n; i++)
		if (values[i] != NULL)
			cap += 3 * (strlen(keys[i]) + strlen(values[i])) + 2;
	out = alloc(arg, cap);
	len = strlen(uri);
	memcpy(out, uri, len);
	out[len++] = in_fragment ? '#' : strchr(uri, '?') ? '&' : '?';
	for (i = 0; i < n; i++)
	{
		if (values[i] == NULL)
			continue;
		if (!first)
			out[len++] = '&';
		first = false;
		len += fi_quote_plus((const unsigned char *) keys[i], strlen(keys[i]), out + len);
		out[len++] = '=';
		len += fi_quote_plus((const unsigned char *) values[i], strlen(values[i]), out + len);
	}
	out[len] = '\0';
	return out;
}
