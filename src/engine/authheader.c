/*
 * authheader.c
 *		Frappe's Authorization header and a bearer token's scopes (see
 *		authheader.h).
 */
#include "engine/authheader.h"

#include <strings.h>

#include "engine/codec.h"
#include "engine/csv.h"

#define SCOPE_BLANKS " \t\n"

FiAuthKind
fi_auth_header(const char *header, size_t len, FiAlloc alloc, void *arg, FiAuthHeader *out)
{
	const char *sp = header ? memchr(header, ' ', len) : NULL;
	const char *cred;
	size_t		scheme_len,
				cred_len;
	char	   *pair;
	size_t		pair_len;
	const char *colon;

	memset(out, 0, sizeof(*out));
	/* exactly two parts, neither empty; no NUL inside */
	if (header == NULL || sp == NULL || sp == header || memchr(header, '\0', len) != NULL)
		return out->kind = FI_AUTH_MALFORMED;
	scheme_len = sp - header;
	cred = sp + 1;
	cred_len = len - scheme_len - 1;
	if (cred_len == 0 || memchr(cred, ' ', cred_len) != NULL)
		return out->kind = FI_AUTH_MALFORMED;
	if (scheme_len == 6 && strncasecmp(header, "bearer", 6) == 0)
	{
		out->method = "bearer";
		out->token = fi_alloc_strndup(alloc, arg, cred, cred_len);
		out->token_len = cred_len;
		return out->kind = FI_AUTH_BEARER;
	}
	if (scheme_len == 5 && strncasecmp(header, "token", 5) == 0)
	{
		out->method = "token";
		pair = fi_alloc_strndup(alloc, arg, cred, cred_len);
		pair_len = cred_len;
	}
	else if (scheme_len == 5 && strncasecmp(header, "basic", 5) == 0)
	{
		long		got;
		size_t		bad;

		out->method = "basic";
		pair = alloc(arg, fi_b64_decoded_maxlen(cred_len) + 1);
		got = fi_b64_decode(cred, cred_len, (unsigned char *) pair, FI_B64_STD);
		if (got < 0 || memchr(pair, '\0', (size_t) got) != NULL || !fi_utf8_valid(pair, (size_t) got, &bad))
			return out->kind = FI_AUTH_BAD_BASE64;
		pair[got] = '\0';
		pair_len = (size_t) got;
	}
	else
		return out->kind = FI_AUTH_OTHER;
	/* exactly key:secret (Frappe ignores other shapes: nobody) */
	colon = memchr(pair, ':', pair_len);
	if (colon != NULL && memchr(colon + 1, ':', pair_len - (colon + 1 - pair)) == NULL)
	{
		out->key = fi_alloc_strndup(alloc, arg, pair, colon - pair);
		out->key_len = colon - pair;
		out->secret = fi_alloc_strndup(alloc, arg, colon + 1, pair_len - (colon + 1 - pair));
		out->secret_len = pair_len - (colon + 1 - pair);
	}
	/* (the decoded pair holds the secret: wiped, the caller's arena keeps only the copies) */
	memset(pair, 0, pair_len);
	return out->kind = FI_AUTH_KEY;
}

bool
fi_next_scope(const char **s, const char **scope, size_t *len)
{
	const char *p = *s;

	if (p == NULL)
		return false;
	p += strspn(p, SCOPE_BLANKS);
	if (*p == '\0')
		return false;
	*scope = p;
	*len = strcspn(p, SCOPE_BLANKS);
	*s = p + *len;
	return true;
}

static bool
has_scope(const char *scopes, const char *w, size_t n)
{
	const char *x;
	size_t		xn;

	while (fi_next_scope(&scopes, &x, &xn))
		if (xn == n && memcmp(x, w, n) == 0)
			return true;
	return false;
}

/* every scope of the list sub is one of super's */
bool
fi_scopes_subset(const char *sub, const char *super)
{
	const char *s = sub,
			   *w;
	size_t		wn;

	while (fi_next_scope(&s, &w, &wn))
		if (!has_scope(super, w, wn))
			return false;
	return true;
}

bool
fi_bearer_scopes_ok(const char *token_scopes, const char *client_scopes, const char *const *required, int n)
{
	if (!fi_scopes_subset(token_scopes, client_scopes))
		return false;
	for (int i = 0; i < n; i++)
		if (required[i] == NULL || !has_scope(token_scopes, required[i], strlen(required[i])))
			return false;
	return true;
}

bool
fi_bearer_scopes_ok_list(const char *token_scopes, const char *client_scopes, const char *required)
{
	return fi_scopes_subset(token_scopes, client_scopes) && fi_scopes_subset(required, token_scopes);
}
