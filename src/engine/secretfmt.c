/*
 * secretfmt.c
 *		Frappe's secret formats with OpenSSL and libargon2; see secretfmt.h.
 *
 * Facts followed (frappe-facts §3): Fernet as Python "cryptography" writes
 * it, passlib 1.7's pbkdf2_sha256 text format, passlib's argon2 (PHC
 * strings, verified by libargon2), Frappe v15's random name alphabets.
 */
#include "secretfmt.h"
#include "codec.h"

#include <string.h>
#include <stdio.h>
#include <stdlib.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define FERNET_VERSION		0x80
#define FERNET_HDR_LEN		(1 + 8 + FI_FERNET_IV_LEN)	/* version, ts, iv */
#define FERNET_MIN_RAW		(FERNET_HDR_LEN + 16 + FI_SHA256_LEN)

const char	fi_oauth_token_alphabet[] =
"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

const char *
fi_secret_strerror(FiSecretErr err)
{
	switch (err)
	{
		case FI_SECRET_OK:
			return "no error";
		case FI_SECRET_BAD_KEY:
			return "The key is not URL-safe base64 of 32 bytes";
		case FI_SECRET_BAD_TOKEN:
			return "The token is not a well-formed Fernet token";
		case FI_SECRET_BAD_MAC:
			return "The token's HMAC does not match: it was made with another key, or altered";
		case FI_SECRET_BAD_PADDING:
			return "The decrypted token has invalid padding";
		case FI_SECRET_BAD_HASH:
			return "The hash is not a pbkdf2_sha256 or argon2 hash in passlib's format";
		case FI_SECRET_HASH_LIMITS:
			return "The hash's cost parameters exceed the limits of this server";
		case FI_SECRET_CRYPTO:
			return "The cryptographic library failed";
	}
	return "unknown error";
}

bool
fi_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

bool
fi_secure_equal(const char *a, size_t an, const char *b, size_t bn)
{
	/* the key needs no secrecy: it only makes the compared lengths equal */
	static const unsigned char key[] = "frappe_integrations secure_compare";
	unsigned char ma[FI_SHA256_LEN],
				mb[FI_SHA256_LEN];
	bool		ok;

	ok = fi_hmac_sha256(key, sizeof(key), (const unsigned char *) a, an, ma) == FI_SECRET_OK;
	ok &= fi_hmac_sha256(key, sizeof(key), (const unsigned char *) b, bn, mb) == FI_SECRET_OK;
	ok &= CRYPTO_memcmp(ma, mb, sizeof(ma)) == 0;
	return ok && an == bn;
}

/* ---- Fernet ---- */

FiSecretErr
fi_fernet_parse_key(const char *key, size_t keylen,
					unsigned char raw[FI_FERNET_KEY_LEN])
{
	unsigned char buf[48];
	long		n;

	if (keylen != 44)
		return FI_SECRET_BAD_KEY;
	n = fi_b64_decode(key, keylen, buf, FI_B64_URL);
	if (n != FI_FERNET_KEY_LEN)
	{
		OPENSSL_cleanse(buf, sizeof(buf));
		return FI_SECRET_BAD_KEY;
	}
	memcpy(raw, buf, FI_FERNET_KEY_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	return FI_SECRET_OK;
}

size_t
fi_fernet_token_len(size_t n)
{
	size_t		ct = (n / 16 + 1) * 16;

	return fi_b64_encoded_len(FERNET_HDR_LEN + ct + FI_SHA256_LEN, FI_B64_URL);
}

/* AES-128-CBC with PKCS7 padding; in and out may be the same buffer. */
static FiSecretErr
aes128_cbc(bool enc, const unsigned char *key, const unsigned char *iv,
		   const unsigned char *in, size_t n, unsigned char *out, size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int			l1 = 0,
				l2 = 0;
	FiSecretErr result = FI_SECRET_CRYPTO;

	if (ctx == NULL)
		return FI_SECRET_CRYPTO;
	if (EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv, enc ? 1 : 0) != 1)
		goto done;
	if (EVP_CipherUpdate(ctx, out, &l1, in, (int) n) != 1)
		goto done;
	if (EVP_CipherFinal_ex(ctx, out + l1, &l2) != 1)
	{
		result = enc ? FI_SECRET_CRYPTO : FI_SECRET_BAD_PADDING;
		goto done;
	}
	*outlen = (size_t) l1 + (size_t) l2;
	result = FI_SECRET_OK;
done:
	EVP_CIPHER_CTX_free(ctx);
	return result;
}

FiSecretErr
fi_fernet_encrypt(const unsigned char key[FI_FERNET_KEY_LEN],
				  const unsigned char iv[FI_FERNET_IV_LEN],
				  uint64_t timestamp,
				  const unsigned char *pt, size_t n,
				  char *out, size_t *outlen)
{
	size_t		ctmax = (n / 16 + 1) * 16;
	size_t		rawlen = FERNET_HDR_LEN + ctmax + FI_SHA256_LEN;
	unsigned char *raw;
	size_t		ctlen = 0;
	unsigned int maclen = 0;
	FiSecretErr err;
	int			i;

	if (n > (size_t) 0x3FFFFFFF)
		return FI_SECRET_CRYPTO;
	raw = malloc(rawlen);
	if (raw == NULL)
		return FI_SECRET_CRYPTO;

	raw[0] = FERNET_VERSION;
	for (i = 0; i < 8; i++)
		raw[1 + i] = (unsigned char) (timestamp >> (56 - 8 * i));
	memcpy(raw + 9, iv, FI_FERNET_IV_LEN);
	err = aes128_cbc(true, key + 16, iv, pt, n, raw + FERNET_HDR_LEN, &ctlen);
	if (err == FI_SECRET_OK &&
		HMAC(EVP_sha256(), key, 16, raw, FERNET_HDR_LEN + ctlen,
			 raw + FERNET_HDR_LEN + ctlen, &maclen) == NULL)
		err = FI_SECRET_CRYPTO;
	if (err == FI_SECRET_OK)
		*outlen = fi_b64_encode(raw, FERNET_HDR_LEN + ctlen + maclen, out, FI_B64_URL);
	OPENSSL_cleanse(raw, rawlen);
	free(raw);
	return err;
}

size_t
fi_fernet_plain_maxlen(size_t toklen)
{
	return fi_b64_decoded_maxlen(toklen);
}

FiSecretErr
fi_fernet_decrypt(const unsigned char key[FI_FERNET_KEY_LEN],
				  const char *token, size_t toklen,
				  unsigned char *out, size_t *outlen,
				  uint64_t *timestamp)
{
	long		rawlen;
	size_t		ctlen;
	unsigned char mac[FI_SHA256_LEN];
	unsigned int maclen = 0;
	unsigned char iv[FI_FERNET_IV_LEN];
	size_t		ptlen = 0;
	FiSecretErr err;
	int			i;

	if (toklen > (size_t) 0x7FFFFFFF)
		return FI_SECRET_BAD_TOKEN;
	/* decode into the output buffer; it is at least as large */
	rawlen = fi_b64_decode(token, toklen, out, FI_B64_URL);
	if (rawlen < FERNET_MIN_RAW || out[0] != FERNET_VERSION)
		return FI_SECRET_BAD_TOKEN;
	ctlen = (size_t) rawlen - FERNET_HDR_LEN - FI_SHA256_LEN;
	if (ctlen % 16 != 0)
		return FI_SECRET_BAD_TOKEN;

	if (HMAC(EVP_sha256(), key, 16, out, FERNET_HDR_LEN + ctlen, mac, &maclen) == NULL)
		return FI_SECRET_CRYPTO;
	if (!fi_ct_equal(mac, out + FERNET_HDR_LEN + ctlen, FI_SHA256_LEN))
		return FI_SECRET_BAD_MAC;

	if (timestamp)
	{
		uint64_t	ts = 0;

		for (i = 0; i < 8; i++)
			ts = (ts << 8) | out[1 + i];
		*timestamp = ts;
	}
	memcpy(iv, out + 9, FI_FERNET_IV_LEN);
	/* decrypt in place (same pointer for in and out is allowed) */
	err = aes128_cbc(false, key + 16, iv, out + FERNET_HDR_LEN, ctlen,
					 out + FERNET_HDR_LEN, &ptlen);
	if (err != FI_SECRET_OK)
	{
		OPENSSL_cleanse(out, (size_t) rawlen);
		return err;
	}
	memmove(out, out + FERNET_HDR_LEN, ptlen);
	OPENSSL_cleanse(out + ptlen, (size_t) rawlen - ptlen);
	*outlen = ptlen;
	return FI_SECRET_OK;
}

/* ---- passlib ---- */

FiSecretErr
fi_pbkdf2_sha256_hash(const char *pwd, size_t pwdlen,
					  const unsigned char *salt, size_t saltlen,
					  unsigned int rounds, char *out)
{
	unsigned char dk[FI_SHA256_LEN];
	char		salt64[64];
	char		dk64[48];

	if (rounds < 1 || rounds > FI_PBKDF2_MAX_ROUNDS)
		return FI_SECRET_HASH_LIMITS;
	if (saltlen > 32 || pwdlen > (size_t) 0x7FFFFFFF)
		return FI_SECRET_BAD_HASH;
	if (PKCS5_PBKDF2_HMAC(pwd, (int) pwdlen, salt, (int) saltlen, (int) rounds,
						  EVP_sha256(), FI_SHA256_LEN, dk) != 1)
		return FI_SECRET_CRYPTO;
	fi_b64_encode(salt, saltlen, salt64, FI_B64_AB64);
	fi_b64_encode(dk, sizeof(dk), dk64, FI_B64_AB64);
	OPENSSL_cleanse(dk, sizeof(dk));
	snprintf(out, FI_PASSLIB_HASH_MAXLEN, "$pbkdf2-sha256$%u$%s$%s",
			 rounds, salt64, dk64);
	return FI_SECRET_OK;
}

/* Parse a decimal without sign or leading zeros; -1 when malformed. */
static long
parse_decimal(const char *s, size_t n, long max)
{
	long		v = 0;
	size_t		i;

	if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v > max ? -2 : v;
}

static FiSecretErr
pbkdf2_verify(const char *pwd, size_t pwdlen, const char *hash, size_t hashlen,
			  bool *match)
{
	const char *p = hash + strlen("$pbkdf2-sha256$");
	const char *end = hash + hashlen;
	const char *d1,
			   *d2;
	long		rounds;
	unsigned char salt[64];
	unsigned char want[64];
	unsigned char got[FI_SHA256_LEN];
	long		saltlen,
				wantlen;

	d1 = memchr(p, '$', end - p);
	if (d1 == NULL)
		return FI_SECRET_BAD_HASH;
	d2 = memchr(d1 + 1, '$', end - d1 - 1);
	if (d2 == NULL || memchr(d2 + 1, '$', end - d2 - 1) != NULL)
		return FI_SECRET_BAD_HASH;
	rounds = parse_decimal(p, d1 - p, FI_PBKDF2_MAX_ROUNDS);
	if (rounds == -2)
		return FI_SECRET_HASH_LIMITS;
	if (rounds < 1)
		return FI_SECRET_BAD_HASH;
	if (d2 - d1 - 1 > 80 || end - d2 - 1 > 80)
		return FI_SECRET_BAD_HASH;
	saltlen = fi_b64_decode(d1 + 1, d2 - d1 - 1, salt, FI_B64_AB64);
	wantlen = fi_b64_decode(d2 + 1, end - d2 - 1, want, FI_B64_AB64);
	if (saltlen < 0 || wantlen != FI_SHA256_LEN)
		return FI_SECRET_BAD_HASH;
	if (PKCS5_PBKDF2_HMAC(pwd, (int) pwdlen, salt, (int) saltlen, (int) rounds,
						  EVP_sha256(), FI_SHA256_LEN, got) != 1)
		return FI_SECRET_CRYPTO;
	*match = fi_ct_equal(got, want, FI_SHA256_LEN);
	OPENSSL_cleanse(got, sizeof(got));
	return FI_SECRET_OK;
}

/*
 * A parameter "name=<decimal>" of the comma-separated list at params (the
 * PHC string's "m=..,t=..,p=.."): false when it is beyond max; *out 0 when
 * absent or not a number.
 */
static bool
cost_param(const char *params, const char *name, long max, long *out)
{
	const char *end = strchr(params, '$');
	size_t		nl = strlen(name);
	const char *p = params;

	*out = 0;
	if (end == NULL)
		end = params + strlen(params);
	while (p < end)
	{
		if ((size_t) (end - p) > nl && strncmp(p, name, nl) == 0)
		{
			long		v = 0;

			for (p += nl; p < end && *p >= '0' && *p <= '9'; p++)
			{
				v = v * 10 + (*p - '0');
				if (v > max)
					return false;
			}
			*out = v;
			return true;
		}
		p = memchr(p, ',', end - p);
		if (p == NULL)
			break;
		p++;
	}
	return true;
}

static FiSecretErr
argon2_check(const char *pwd, size_t pwdlen, const char *hash, size_t hashlen,
			 argon2_type type, bool *match)
{
	char		buf[512];
	const char *m;
	long		mem = 0,
				tcost = 0,
				lanes = 0;
	int			rc;

	if (hashlen >= sizeof(buf))
		return FI_SECRET_BAD_HASH;
	memcpy(buf, hash, hashlen);
	buf[hashlen] = '\0';

	/*
	 * Refuse, before hashing, the costs that would take more memory or time
	 * than the caps allow: libargon2 cannot be interrupted once it runs, and
	 * its own limits (t up to 2^32-1) amount to days.
	 */
	m = strstr(buf, "$m=");
	if (m == NULL)
		return FI_SECRET_BAD_HASH;
	if (!cost_param(m + 1, "m=", FI_ARGON2_MAX_MEMORY_KIB, &mem) ||
		!cost_param(m + 1, "t=", FI_ARGON2_MAX_TIME_COST, &tcost) ||
		!cost_param(m + 1, "p=", FI_ARGON2_MAX_LANES, &lanes))
		return FI_SECRET_HASH_LIMITS;
	if (mem < 1 || tcost < 1 || lanes < 1)
		return FI_SECRET_BAD_HASH;
	if (mem * tcost > FI_ARGON2_MAX_WORK_KIB)
		return FI_SECRET_HASH_LIMITS;

	rc = argon2_verify(buf, pwd, pwdlen, type);
	switch (rc)
	{
		case ARGON2_OK:
			*match = true;
			return FI_SECRET_OK;
		case ARGON2_VERIFY_MISMATCH:
			*match = false;
			return FI_SECRET_OK;
		case ARGON2_MEMORY_ALLOCATION_ERROR:
		case ARGON2_THREAD_FAIL:
			return FI_SECRET_CRYPTO;
		case ARGON2_TIME_TOO_LARGE:
		case ARGON2_MEMORY_TOO_MUCH:
		case ARGON2_LANES_TOO_MANY:
		case ARGON2_THREADS_TOO_MANY:
			return FI_SECRET_HASH_LIMITS;
		default:
			return FI_SECRET_BAD_HASH;
	}
}

static bool
has_prefix(const char *s, size_t n, const char *prefix)
{
	size_t		l = strlen(prefix);

	return n >= l && memcmp(s, prefix, l) == 0;
}

FiSecretErr
fi_passlib_verify(const char *pwd, size_t pwdlen,
				  const char *hash, size_t hashlen, bool *match)
{
	if (memchr(hash, '\0', hashlen) != NULL || pwdlen > (size_t) 0x7FFFFFFF)
		return FI_SECRET_BAD_HASH;
	if (has_prefix(hash, hashlen, "$pbkdf2-sha256$"))
		return pbkdf2_verify(pwd, pwdlen, hash, hashlen, match);
	if (has_prefix(hash, hashlen, "$argon2id$"))
		return argon2_check(pwd, pwdlen, hash, hashlen, Argon2_id, match);
	if (has_prefix(hash, hashlen, "$argon2i$"))
		return argon2_check(pwd, pwdlen, hash, hashlen, Argon2_i, match);
	if (has_prefix(hash, hashlen, "$argon2d$"))
		return argon2_check(pwd, pwdlen, hash, hashlen, Argon2_d, match);
	return FI_SECRET_BAD_HASH;
}

/* ---- HMAC ---- */

FiSecretErr
fi_hmac_sha256(const unsigned char *key, size_t keylen,
			   const unsigned char *msg, size_t msglen,
			   unsigned char out[FI_SHA256_LEN])
{
	unsigned int len = 0;

	if (keylen > (size_t) 0x7FFFFFFF)
		return FI_SECRET_CRYPTO;
	/* HMAC() with a NULL key pointer means "no key"; pass a valid pointer */
	if (HMAC(EVP_sha256(), keylen ? key : (const unsigned char *) "", (int) keylen,
			 msg, msglen, out, &len) == NULL || len != FI_SHA256_LEN)
		return FI_SECRET_CRYPTO;
	return FI_SECRET_OK;
}

/* ---- random strings ---- */

void
fi_random_base32hex(const unsigned char *rnd, size_t n, char *out)
{
	static const char a[] = "0123456789abcdefghijklmnopqrstuv";
	size_t		i;

	for (i = 0; i < n; i++)
		out[i] = a[rnd[i] & 31];
	out[n] = '\0';
}

void
fi_random_hex(const unsigned char *rnd, size_t n, char *out)
{
	static const char a[] = "0123456789abcdef";
	size_t		i;

	for (i = 0; i < n; i++)
		out[i] = a[rnd[i] & 15];
	out[n] = '\0';
}

size_t
fi_random_from_alphabet(const unsigned char *rnd, size_t rndlen,
						const char *alphabet, size_t n, char *out)
{
	size_t		k = strlen(alphabet);
	unsigned int limit = 256 - 256 % (unsigned int) k;
	size_t		got = 0,
				i;

	for (i = 0; i < rndlen && got < n; i++)
	{
		if (rnd[i] < limit)
			out[got++] = alphabet[rnd[i] % k];
	}
	return got;
}
