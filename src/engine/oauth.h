/*
 * oauth.h
 *		The OAuth 2 / OpenID Connect provider's rules (Frappe's
 *		frappe/oauth.py OAuthWebRequestValidator and integrations/oauth2.py,
 *		RFC 6749, RFC 7636, OpenID Core), without a database: which
 *		response types a client may ask for, the scopes it is granted, its
 *		redirect URI, PKCE, HTTP Basic client credentials, the grant types,
 *		an authorization code's redirect binding, at_hash / c_hash, and the
 *		redirect a response travels by.
 *
 * The flows that read and write the OAuth tables (clients, codes, tokens,
 * users and their roles) are each database's glue; every decision is made
 * here, so both databases answer a request alike.  Texts are UTF-8 and
 * NUL-terminated, NULL means absent; what is returned is in the caller's
 * arena (FiAlloc) or static.  Thread-safe: no state.
 */
#ifndef FI_OAUTH_H
#define FI_OAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/alloc.h"

/* words of a response_type */
#define FI_RT_CODE		0x1
#define FI_RT_TOKEN		0x2
#define FI_RT_ID_TOKEN	0x4
#define FI_RT_OTHER		0x8		/* a word that is none of those */

/* the words of a response_type (blank separated, any order, repeats ignored) as FI_RT_* bits */
extern int	fi_oauth_response_types(const char *response_type);

/*
 * The scopes granted: those asked for (blank separated), in the order
 * asked and once each, when every one is among the client's (or the
 * refresh token's); none asked: all the client's.  NULL when one is not
 * the client's.
 */
extern char *fi_oauth_scopes(const char *have, const char *asked, FiAlloc alloc, void *arg);

/* scopes (blank separated) include this one */
extern bool fi_oauth_has_scope(const char *scopes, const char *scope);

/*
 * The redirect URI of an authorization request: the one asked for when
 * the client registered it (OAuth Client redirect_uris, split on single
 * blanks, or its default_redirect_uri), else the default.  NULL, with
 * *error the description, when it is not registered or there is none
 * usable (none, or longer than the 140 characters of the code's column).
 * These are raised, never redirected (RFC 6749 4.1.2.1).
 */
extern const char *fi_oauth_redirect_uri(const char *asked, const char *redirect_uris,
										 const char *default_uri, const char **error);

/* an authorization request, as read; NULL: absent */
typedef struct FiOAuthAuthorize
{
	const char *response_type;
	const char *scope;
	const char *nonce;
	const char *code_challenge;
	const char *code_challenge_method;
	/* the OAuth Client */
	const char *client_response_type;	/* "Code" or "Token"; NULL: Code */
	const char *client_scopes;
	bool		client_has_secret;
} FiOAuthAuthorize;

/* what the authorization endpoint answers */
typedef struct FiOAuthGrant
{
	int			response_types; /* FI_RT_* asked for */
	const char *error;			/* NULL: granted; else the OAuth error code */
	const char *error_description;
	char	   *scopes;			/* granted */
	const char *challenge_method;	/* of the code: "s256", "plain", NULL without a challenge */
	bool		in_fragment;	/* the answer travels in the redirect's fragment ('#'), else its query */
} FiOAuthGrant;

/*
 * Frappe's approve after the user's consent: the client may ask for this
 * response_type (its own, or one of OpenID's id_token combinations), the
 * scopes are its, an id_token needs openid, a secret to sign it and a
 * nonce; PKCE's challenge is S256 or plain and well-formed; a client
 * without a secret must use PKCE.  Always fills *out; returns whether
 * granted.
 */
extern bool fi_oauth_authorize(const FiOAuthAuthorize *req, FiAlloc alloc, void *arg, FiOAuthGrant *out);

/* RFC 7636 4.1: 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (a code_verifier and our code_challenge) */
extern bool fi_oauth_pkce_syntax(const char *s);

/* the token endpoint's grant_type is one Frappe supports; else *error and *description say why not */
extern bool fi_oauth_grant_type(const char *grant_type, const char **error, const char **description);

/* an OAuth Authorization Code row, as read */
typedef struct FiOAuthCode
{
	const char *redirect_uri;	/* redirect_uri_bound_to_authorization_code */
	const char *code_challenge;
	const char *code_challenge_method;
} FiOAuthCode;

/*
 * A code may be exchanged with this redirect_uri and code_verifier (NULL:
 * absent): the redirect URI it was issued for (absent on either side: the
 * client's default), the PKCE verifier of its challenge (compared in
 * constant time), and a client without a secret proves itself with PKCE
 * only.  Validity, expiry and the client are the glue's query.
 */
extern bool fi_oauth_code_exchange_ok(const FiOAuthCode *code, const char *redirect_uri, const char *verifier,
									  const char *default_uri, bool client_has_secret);

/*
 * HTTP Basic client credentials ("Basic base64(id:secret)", RFC 6749
 * 2.3.1): *id and *secret, false when it is not that or names another
 * client than client_id (NULL: none named).
 */
extern bool fi_oauth_basic_credentials(const char *authorization, const char *client_id,
									   FiAlloc alloc, void *arg, char **id, char **secret);

/* base64url of the left half of SHA-256 (at_hash, c_hash: OpenID Core 3.1.3.6); out: 23 bytes */
extern void fi_oauth_half_hash(const char *value, size_t n, char out[23]);

/*
 * The redirect a response travels by: uri, then '#' (in_fragment) or '?'
 * ('&' when uri has a query already), then the pairs form-urlencoded
 * (keys[i]=values[i]; a NULL value leaves its pair out).
 */
extern char *fi_oauth_redirect(const char *uri, bool in_fragment, const char *const *keys,
							   const char *const *values, int n, FiAlloc alloc, void *arg);

#endif							/* FI_OAUTH_H */
