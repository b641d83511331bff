/*
 * engine_fuzz.c
 *		libFuzzer target for the parsers of the pure engines: base64 decoding
 *		(all variants), Fernet token decryption (also of authentic tokens
 *		over arbitrary ciphertext, to reach the padding checks), passlib hash
 *		verification, key parsing, Python float text (must read back), HTML
 *		cells, JSON as jsonb prints it (its own output reads back to the same
 *		bytes), HS256 tokens (a token made verifies with its key) and the
 *		OAuth provider's parsers (Basic credentials, scopes, redirect URIs,
 *		response types: what they return is a part of the input).
 *		The first input byte picks the target; the rest is the input.
 *
 *		make fuzz       (clang with -fsanitize=fuzzer,address,undefined)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/authheader.h"
#include "engine/codec.h"
#include "engine/csv.h"
#include "engine/htmltext.h"
#include "engine/httpreq.h"
#include "engine/exportfmt.h"
#include "engine/jsoncanon.h"
#include "engine/jwt.h"
#include "engine/oauth.h"
#include "engine/pyjson.h"
#include "engine/secretfmt.h"
#include "engine/sigverify.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *
fuzz_alloc_plain(void *arg, size_t size)
{
	void	   *p = calloc(1, size ? size : 1);

	(void) arg;
	if (p == NULL)
		abort();
	return p;
}

static void *
fuzz_alloc(void *arg, size_t size)
{
	/* a list of blocks in arg, freed after the case */
	void	  **b = calloc(1, sizeof(void *) + size);

	if (b == NULL)
		abort();
	*b = *(void **) arg;
	*(void **) arg = b;
	return b + 1;
}

static void
fuzz_free(void *arena)
{
	while (arena)
	{
		void	   *next = *(void **) arena;

		free(arena);
		arena = next;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *key = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
	unsigned char raw[32];
	const char *in;
	size_t		n;
	unsigned char *out;
	size_t		outlen;
	bool		match;

	if (size < 1)
		return 0;
	in = (const char *) data + 1;
	n = size - 1;
	switch (data[0] % 15)
	{
		case 0:
			out = malloc(fi_b64_decoded_maxlen(n) + 1);
			fi_b64_decode(in, n, out, FI_B64_STD);
			fi_b64_decode(in, n, out, FI_B64_URL);
			fi_b64_decode(in, n, out, FI_B64_AB64);
			free(out);
			break;
		case 1:
			fi_fernet_parse_key(key, strlen(key), raw);
			out = malloc(fi_fernet_plain_maxlen(n) + 1);
			fi_fernet_decrypt(raw, in, n, out, &outlen, NULL);
			free(out);
			break;
		case 2:
			/* keep argon2 cheap: the cost cap still allows 256 MiB */
			if (memmem(in, n, "argon2", 6) == NULL)
				fi_passlib_verify("password", 8, in, n, &match);
			break;
		case 3:
			fi_fernet_parse_key(in, n, raw);
			break;
		case 4:
			{
				/* version, time, iv, ciphertext (the input), valid HMAC */
				size_t		ct = n - n % 16;
				size_t		rawlen = 25 + ct + 32;
				unsigned char *tok = calloc(1, rawlen);
				char	   *b64 = malloc(fi_b64_encoded_len(rawlen, FI_B64_URL) + 1);
				size_t		b64len;

				fi_fernet_parse_key(key, strlen(key), raw);
				tok[0] = 0x80;
				memcpy(tok + 25, in, ct);
				fi_hmac_sha256(raw, 16, tok, 25 + ct, tok + 25 + ct);
				b64len = fi_b64_encode(tok, rawlen, b64, FI_B64_URL);
				out = malloc(fi_fernet_plain_maxlen(b64len) + 1);
				fi_fernet_decrypt(raw, b64, b64len, out, &outlen, NULL);
				free(out);
				free(b64);
				free(tok);
			}
			break;
		case 5:
			if (n >= sizeof(double))
			{
				double		v;
				char		txt[FI_PYFLOAT_MAXLEN];

				memcpy(&v, in, sizeof(v));
				fi_pyjson_float(v, txt);
				if (v == v && v - v == 0 && strtod(txt, NULL) != v)
					abort();
			}
			break;
		case 6:
			/* a Stripe-Signature header, and the same as Standard Webhooks' */
			fi_sig_stripe("whsec_k", 7, (const unsigned char *) "{}", 2, in, n, 1700000000, 300);
			fi_sig_standard_webhooks("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 38, "msg_1", 5,
									 "1700000000", 10, (const unsigned char *) "{}", 2, in, n, 1700000000, 300);
			break;
		case 7:
			/* secrets, timestamps and hex/base64 signatures from the input */
			{
				size_t		h = n / 2;

				fi_sig_standard_webhooks(in, h, "m", 1, in + h, n - h, data, size, "v1,x", 4, 0, -1);
				fi_sig_hmac_hex(in, h, data, size, in + h, n - h);
				fi_sig_hmac_base64(in, h, data, size, in + h, n - h);
			}
			break;
		case 8:
			/* an HTML cell as text: never longer than the cell, NUL-terminated */
			{
				char	   *txt = malloc(n + 1);
				size_t		l = fi_html_to_text(in, n, txt);

				if (l > n || txt[l] != '\0')
					abort();
				free(txt);
			}
			break;
		case 9:
			/* JSON: canonical text is a fixed point, compact and spaced alike */
			{
				FiJBuf		a = {0},
							b = {0},
							c = {0};
				FiJsonRoot	r;

				if (fi_json_canon(in, n, false, 200, &a, &r, NULL, 0) == FI_JSON_OK)
				{
					if (fi_json_canon(a.data, a.len, false, 200, &b, &r, NULL, 0) != FI_JSON_OK ||
						b.len != a.len || memcmp(a.data, b.data, a.len) != 0 ||
						fi_json_canon(a.data, a.len, true, 200, &c, &r, NULL, 0) != FI_JSON_OK)
						abort();
				}
				fi_jbuf_free(&a);
				fi_jbuf_free(&b);
				fi_jbuf_free(&c);
			}
			break;
		case 10:
			/* a token of the input as claims verifies; the input as a token never crashes */
			{
				FiJBuf		tok = {0},
							back = {0};
				FiJsonErr	je;

				if (fi_jwt_hs256_sign(in, n, (const unsigned char *) "k", 1, 200, &tok, &je, NULL, 0) == FI_JWT_OK &&
					fi_jwt_hs256_verify(tok.data, tok.len, (const unsigned char *) "k", 1, 200, &back, &je, NULL, 0) != FI_JWT_OK)
					abort();
				fi_jbuf_free(&back);
				fi_jwt_hs256_verify(in, n, (const unsigned char *) "k", 1, 200, &back, &je, NULL, 0);
				fi_jbuf_free(&tok);
				fi_jbuf_free(&back);
			}
			break;
		case 11:
			/* OAuth: the input (split at its first NUL-free half) as credentials, scopes, URIs */
			{
				void	   *arena = NULL;
				char	   *a = fuzz_alloc(&arena, n + 1),
						   *id,
						   *secret,
						   *sc;
				size_t		h;
				const char *err,
						   *uri;

				memcpy(a, in, n);
				a[n] = '\0';
				h = strlen(a) / 2;
				if (fi_oauth_basic_credentials(a, NULL, fuzz_alloc, &arena, &id, &secret) &&
					(strlen(id) + strlen(secret) + 1 > n || strchr(id, ':') != NULL))
					abort();
				sc = fuzz_alloc(&arena, h + 1);
				memcpy(sc, a, h);
				/* the scopes granted are a subset of those asked for, which the client has */
				if ((sc = fi_oauth_scopes(a + h, sc, fuzz_alloc, &arena)) != NULL && strlen(sc) > strlen(a))
					abort();
				uri = fi_oauth_redirect_uri(a + h, a, NULL, &err);
				if (uri != NULL && (strstr(a, uri) == NULL || err != NULL))
					abort();
				(void) fi_oauth_response_types(a);
				(void) fi_oauth_pkce_syntax(a);
				fuzz_free(arena);
			}
			break;
		case 12:
			/* an Authorization header: parts within the input; a list's scopes are its own */
			{
				void	   *arena = NULL;
				FiAuthHeader ah;
				char	   *l = fuzz_alloc(&arena, n + 1);

				switch (fi_auth_header(in, n, fuzz_alloc, &arena, &ah))
				{
					case FI_AUTH_BEARER:
						if (ah.token == NULL || ah.token_len >= n || strlen(ah.token) != ah.token_len)
							abort();
						break;
					case FI_AUTH_KEY:
						if (ah.key != NULL &&
							(ah.secret == NULL || memchr(ah.key, ':', ah.key_len) != NULL ||
							 memchr(ah.secret, ':', ah.secret_len) != NULL ||
							 strlen(ah.key) != ah.key_len || strlen(ah.secret) != ah.secret_len))
							abort();
						break;
					default:
						if (ah.token != NULL || ah.key != NULL)
							abort();
						break;
				}
				memcpy(l, in, n);
				l[n] = '\0';
				if (!fi_scopes_subset(l, l) || !fi_bearer_scopes_ok_list(l, l, l) ||
					(fi_scopes_subset(l, "") && fi_next_scope(&(const char *){l}, &(const char *){NULL}, &(size_t){0})))
					abort();
				fuzz_free(arena);
			}
			break;
		case 14:
			/* a database's text of a date, datetime or time: what is written reads back the same */
			{
				char		out[FI_EXPORT_CLOCK_MAX],
							again[FI_EXPORT_CLOCK_MAX];
				size_t		len,
							len2;
				FiExportClock c;

				if (fi_export_clock_text(in, n, &len, out))
				{
					if (len >= FI_EXPORT_CLOCK_MAX || !fi_export_parse_clock(out, len, &c) ||
						!fi_export_clock_text(out, len, &len2, again) || len2 != len || memcmp(out, again, len) != 0)
						abort();
				}
			}
			break;
		case 13:
			/* HTTP answers and requests: header lines, a query string, make_request, logged URL and headers */
			{
				FiJBuf		a = {0},
							b = {0};
				FiJsonRoot	root;
				char		msg[128],
							host[128];
				bool		none;
				FiHttpError e;
				char	   *s = malloc(n + 1);
				void	   *list = NULL;

				memcpy(s, in, n);
				s[n] = '\0';
				if (!fi_http_global_init())
					abort();
				/* each is JSON that jsonb would take */
				if (!fi_http_headers_json(in, n, &a) ||
					fi_json_canon(a.data ? a.data : "{}", a.len ? a.len : 2, false, 100, &b, &root, msg, sizeof(msg)) != FI_JSON_OK)
					abort();
				a.len = b.len = 0;
				if (!fi_http_parse_qs(in, n, &a) ||
					fi_json_canon(a.data, a.len, false, 100, &b, &root, msg, sizeof(msg)) != FI_JSON_OK)
					abort();
				a.len = b.len = 0;
				if (fi_http_make_result("GET", "h", 200, s, in, n, &a, &none, &e) && !none && a.len > 0)
					(void) fi_json_canon(a.data, a.len, false, 100, &b, &root, msg, sizeof(msg));
				a.len = 0;
				{
					bool		first = true;
					size_t		half = n / 2;

					fi_http_log_header(&a, &first, in, half, in + half, n - half);
					fi_http_log_headers_end(&a, first);
					b.len = 0;
					/* (names and values come from JSON, so UTF-8: then the row's text is JSON too) */
					if (fi_utf8_valid(in, half, &(size_t){0}) && fi_utf8_valid(in + half, n - half, &(size_t){0}) &&
						memchr(in, '\0', n) == NULL &&
						fi_json_canon(a.data, a.len, false, 100, &b, &root, msg, sizeof(msg)) != FI_JSON_OK)
						abort();
					/* a header goes out only when its name is a token and its value has no CR, LF or NUL */
					if (fi_http_add_header(&list, in, half, in + half, n - half, &e) &&
						(!fi_http_token(in, half) || memchr(in + half, '\r', n - half) || memchr(in + half, '\n', n - half) ||
						 memchr(in + half, '\0', n - half)))
						abort();
					fi_http_free_headers(list);
				}
				free(fi_http_log_url(s, fuzz_alloc_plain, NULL));
				(void) fi_http_check_request("GET", s, 1000, host, sizeof(host), &e);
				fi_jbuf_free(&a);
				fi_jbuf_free(&b);
				free(s);
			}
			break;
	}
	return 0;
}
