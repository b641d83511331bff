/*
 * jwt.h
 *		HS256 JSON Web Tokens as the PostgreSQL build makes and reads them
 *		(PyJWT's compact form of Frappe's id_token: header
 *		{"alg":"HS256","typ":"jwt"}, the claims as jsonb prints them
 *		compactly), without a database: the MariaDB build signs the same
 *		bytes for the same claims.
 */
#ifndef FI_JWT_H
#define FI_JWT_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/jsoncanon.h"

typedef enum FiJwtErr
{
	FI_JWT_OK = 0,
	FI_JWT_REFUSED,				/* not HS256, or the key does not make its signature: NULL */
	FI_JWT_NOT_JWS,				/* not three base64url parts (22023) */
	FI_JWT_NOT_TEXT,			/* its header or claims are not UTF-8 text without NUL (22023) */
	FI_JWT_NOT_OBJECT,			/* claims that are not an object (22023) */
	FI_JWT_JSON					/* header or claims not JSON: json_err says which (22P02, ...) */
} FiJwtErr;

/* the token for claims (JSON text, an object) appended to out */
extern FiJwtErr fi_jwt_hs256_sign(const char *claims, size_t n, const unsigned char *key, size_t keylen,
								  int max_depth, FiJBuf *out, FiJsonErr *json_err,
								  char *msg, size_t msglen);

/*
 * The claims of a token whose header says HS256 and whose signature the
 * key makes, as jsonb's text, appended to out.  Times (exp, nbf) are the
 * caller's business.
 */
extern FiJwtErr fi_jwt_hs256_verify(const char *token, size_t n, const unsigned char *key, size_t keylen,
									int max_depth, FiJBuf *out, FiJsonErr *json_err,
									char *msg, size_t msglen);

#endif							/* FI_JWT_H */
