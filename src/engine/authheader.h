/*
 * authheader.h
 *		Frappe's reading of a request's Authorization header (frappe-facts
 *		4: validate_auth, validate_oauth, validate_auth_via_api_keys), and
 *		the scope rule of an OAuth bearer token (validate_bearer_token), for
 *		both databases' authenticate / validate_bearer_token.
 */
#ifndef FI_AUTHHEADER_H
#define FI_AUTHHEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/alloc.h"

typedef enum FiAuthKind
{
	FI_AUTH_MALFORMED = 0,		/* not "<scheme> <credentials>" (22023) */
	FI_AUTH_BAD_BASE64,			/* Basic credentials not base64 of UTF-8 (22023, Frappe's words) */
	FI_AUTH_BEARER,				/* an OAuth access token */
	FI_AUTH_KEY,				/* token or Basic: key and secret (NULL when not exactly key:secret) */
	FI_AUTH_OTHER				/* another scheme: nobody (a refusal) */
} FiAuthKind;

typedef struct FiAuthHeader
{
	FiAuthKind	kind;
	const char *method;			/* "bearer", "token" or "basic"; NULL for the others */
	char	   *token;			/* bearer's, NUL-terminated */
	size_t		token_len;
	char	   *key;			/* token's and Basic's; NULL when the pair is not key:secret */
	size_t		key_len;
	char	   *secret;
	size_t		secret_len;
} FiAuthHeader;

/* Frappe's message for Basic credentials that do not decode */
#define FI_AUTH_BAD_BASE64_MESSAGE "Failed to decode token, please provide a valid base64-encoded token."

/*
 * Reads header[0..len): split on one space into exactly two parts (Frappe's
 * split(" ")), the scheme in any case; Basic's credentials base64-decoded
 * (standard alphabet), UTF-8 without NUL; token's and Basic's split on
 * their one colon.  The parts are copies in the caller's memory.
 */
extern FiAuthKind fi_auth_header(const char *header, size_t len, FiAlloc alloc, void *arg, FiAuthHeader *out);

/*
 * The scope rule of a bearer token: every scope of the token (blank, tab or
 * newline separated) is one of the client's, and each of the n required
 * scopes is one of the token's.  NULL lists are empty.
 */
extern bool fi_bearer_scopes_ok(const char *token_scopes, const char *client_scopes,
								const char *const *required, int n);

/*
 * The same rule with the required scopes as one list (blank, tab or newline
 * separated; NULL or blank: none), as MariaDB passes them.
 */
extern bool fi_bearer_scopes_ok_list(const char *token_scopes, const char *client_scopes, const char *required);

/* every scope of the list sub is one of the list super's */
extern bool fi_scopes_subset(const char *sub, const char *super);

/* the next scope of *s (blank, tab or newline separated): false at the end */
extern bool fi_next_scope(const char **s, const char **scope, size_t *len);

#endif							/* FI_AUTHHEADER_H */
