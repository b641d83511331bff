/*
 * jwt.c
 *		HS256 JSON Web Tokens (see jwt.h).
 */
#include "engine/jwt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/codec.h"
#include "engine/csv.h"			/* fi_utf8_valid */
#include "engine/secretfmt.h"

#define JWT_HEADER "{\"alg\":\"HS256\",\"typ\":\"jwt\"}"

/* base64url without padding, appended */
static void
put_b64url(FiJBuf *out, const unsigned char *s, size_t n)
{
	char	   *tmp = malloc(fi_b64_encoded_len(n, FI_B64_URL) + 1);
	size_t		len;

	if (tmp == NULL)
	{
		out->oom = true;
		return;
	}
	len = fi_b64_encode(s, n, tmp, FI_B64_URL);
	while (len > 0 && tmp[len - 1] == '=')
		len--;
	fi_jbuf_put(out, tmp, len);
	free(tmp);
}

/* UTF-8 text without NUL (what a PostgreSQL text can hold) */
static bool
is_text(const unsigned char *s, long n)
{
	size_t		bad;

	return memchr(s, '\0', n) == NULL && fi_utf8_valid((const char *) s, n, &bad);
}

FiJwtErr
fi_jwt_hs256_sign(const char *claims, size_t n, const unsigned char *key, size_t keylen,
				  int max_depth, FiJBuf *out, FiJsonErr *json_err, char *msg, size_t msglen)
{
	FiJBuf		payload = {0};
	FiJsonRoot	root;
	unsigned char mac[FI_SHA256_LEN];
	size_t		start = out->len;

	*json_err = fi_json_canon(claims, n, false, max_depth, &payload, &root, msg, msglen);
	if (*json_err != FI_JSON_OK)
	{
		fi_jbuf_free(&payload);
		return FI_JWT_JSON;
	}
	if (root != FI_JROOT_OBJECT)
	{
		fi_jbuf_free(&payload);
		if (msg && msglen)
			snprintf(msg, msglen, "JWT claims must be a JSON object");
		return FI_JWT_NOT_OBJECT;
	}
	put_b64url(out, (const unsigned char *) JWT_HEADER, strlen(JWT_HEADER));
	fi_jbuf_put(out, ".", 1);
	put_b64url(out, (const unsigned char *) payload.data, payload.len);
	fi_jbuf_free(&payload);
	if (out->oom || fi_hmac_sha256(key, keylen, (const unsigned char *) out->data + start, out->len - start,
								   mac) != FI_SECRET_OK)
	{
		*json_err = FI_JSON_NOMEM;
		return FI_JWT_JSON;
	}
	fi_jbuf_put(out, ".", 1);
	put_b64url(out, mac, sizeof(mac));
	if (out->oom)
	{
		*json_err = FI_JSON_NOMEM;
		return FI_JWT_JSON;
	}
	return FI_JWT_OK;
}

/* a base64url part (no padding) decoded into a new NUL-terminated buffer; -1 when it is none */
static long
unb64url(const char *in, size_t n, unsigned char **out)
{
	char	   *padded;
	long		len;

	*out = NULL;
	if (n % 4 == 1 || (padded = malloc(n + 4)) == NULL)
		return -1;
	memcpy(padded, in, n);
	while (n % 4 != 0)
		padded[n++] = '=';
	if ((*out = malloc(fi_b64_decoded_maxlen(n) + 1)) == NULL)
	{
		free(padded);
		return -1;
	}
	len = fi_b64_decode(padded, n, *out, FI_B64_URL);
	free(padded);
	if (len >= 0)
		(*out)[len] = '\0';
	return len;
}

FiJwtErr
fi_jwt_hs256_verify(const char *tok, size_t n, const unsigned char *key, size_t keylen,
					int max_depth, FiJBuf *out, FiJsonErr *json_err, char *msg, size_t msglen)
{
	const char *dot1 = memchr(tok, '.', n),
			   *dot2 = dot1 ? memchr(dot1 + 1, '.', tok + n - dot1 - 1) : NULL;
	unsigned char *hdr = NULL,
			   *body = NULL,
			   *sig = NULL;
	long		hlen = -1,
				blen = -1,
				slen = -1;
	unsigned char mac[FI_SHA256_LEN];
	FiJBuf		alg = {0};
	FiJBuf		scratch = {0};
	FiJsonRoot	root;
	FiJwtErr	rc;

	*json_err = FI_JSON_OK;
	if (dot1 == NULL || dot2 == NULL || memchr(dot2 + 1, '.', tok + n - dot2 - 1) != NULL ||
		(hlen = unb64url(tok, dot1 - tok, &hdr)) < 0 ||
		(blen = unb64url(dot1 + 1, dot2 - dot1 - 1, &body)) < 0 ||
		(slen = unb64url(dot2 + 1, tok + n - dot2 - 1, &sig)) < 0)
	{
		if (msg && msglen)
			snprintf(msg, msglen, "not a JSON Web Token: expected three base64url parts separated by dots");
		rc = FI_JWT_NOT_JWS;
		goto done;
	}
	if (!is_text(hdr, hlen) || !is_text(body, blen))
	{
		if (msg && msglen)
			snprintf(msg, msglen, "not a JSON Web Token: its header or claims are not UTF-8 text");
		rc = FI_JWT_NOT_TEXT;
		goto done;
	}
	/* the header must be JSON and say HS256: no "none", no algorithm confusion */
	if ((*json_err = fi_json_canon((char *) hdr, hlen, false, max_depth, &scratch, &root, msg, msglen)) != FI_JSON_OK)
	{
		rc = FI_JWT_JSON;
		goto done;
	}
	if (!fi_json_top_string((char *) hdr, hlen, "alg", &alg) || alg.len != 5 || memcmp(alg.data, "HS256", 5) != 0)
	{
		rc = FI_JWT_REFUSED;
		goto done;
	}
	if (fi_hmac_sha256(key, keylen, (const unsigned char *) tok, dot2 - tok, mac) != FI_SECRET_OK ||
		slen != FI_SHA256_LEN || !fi_ct_equal(mac, sig, FI_SHA256_LEN))
	{
		rc = FI_JWT_REFUSED;
		goto done;
	}
	*json_err = fi_json_canon((char *) body, blen, true, max_depth, out, &root, msg, msglen);
	rc = *json_err == FI_JSON_OK ? FI_JWT_OK : FI_JWT_JSON;
done:
	free(hdr);
	free(body);
	free(sig);
	fi_jbuf_free(&alg);
	fi_jbuf_free(&scratch);
	return rc;
}
