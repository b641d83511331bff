/*
 * sigverify.c
 *		Webhook and payment-gateway signature checks (see sigverify.h).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "codec.h"
#include "secretfmt.h"
#include "sigverify.h"

const char *
fi_sig_strerror(FiSigResult r)
{
	switch (r)
	{
		case FI_SIG_OK:
			return "signature valid";
		case FI_SIG_MISMATCH:
			return "the signature was not made with this secret for this payload";
		case FI_SIG_MALFORMED:
			return "the signature is not of the scheme's form";
		case FI_SIG_TOO_OLD:
			return "the signed timestamp is outside the tolerance";
		case FI_SIG_BAD_SECRET:
			return "the secret is not of the scheme's form";
		case FI_SIG_CRYPTO:
			return "HMAC-SHA256 failed";
	}
	return "unknown result";
}

/* HMAC-SHA256 of up to three parts, joined */
static bool
hmac3(const unsigned char *key, size_t keylen,
	  const unsigned char *a, size_t an, const unsigned char *b, size_t bn,
	  const unsigned char *c, size_t cn, unsigned char out[FI_SHA256_LEN])
{
	unsigned char *msg;
	size_t		n = an + bn + cn;
	bool		ok;

	if (bn == 0 && cn == 0)
		return fi_hmac_sha256(key, keylen, a, an, out) == FI_SECRET_OK;
	msg = malloc(n ? n : 1);
	if (msg == NULL)
		return false;
	if (an)
		memcpy(msg, a, an);
	if (bn)
		memcpy(msg + an, b, bn);
	if (cn)
		memcpy(msg + an + bn, c, cn);
	ok = fi_hmac_sha256(key, keylen, msg, n, out) == FI_SECRET_OK;
	free(msg);
	return ok;
}

/* 64 hex digits into 32 bytes; false when not that */
static bool
unhex32(const char *s, size_t n, unsigned char out[FI_SHA256_LEN])
{
	if (n != 2 * FI_SHA256_LEN)
		return false;
	for (size_t i = 0; i < FI_SHA256_LEN; i++)
	{
		int			h = fi_hex_value(s[2 * i]),
					l = fi_hex_value(s[2 * i + 1]);

		if (h < 0 || l < 0)
			return false;
		out[i] = (unsigned char) (h << 4 | l);
	}
	return true;
}

/* standard base64 of exactly 32 bytes */
static bool
unb64_32(const char *s, size_t n, unsigned char out[FI_SHA256_LEN])
{
	unsigned char buf[48];

	if (n != 44 || fi_b64_decode(s, n, buf, FI_B64_STD) != FI_SHA256_LEN)
		return false;
	memcpy(out, buf, FI_SHA256_LEN);
	return true;
}

FiSigResult
fi_sig_hmac_base64(const char *secret, size_t secretlen, const unsigned char *payload, size_t n,
				   const char *sig, size_t siglen)
{
	unsigned char want[FI_SHA256_LEN],
				got[FI_SHA256_LEN];

	if (!hmac3((const unsigned char *) secret, secretlen, payload, n, NULL, 0, NULL, 0, want))
		return FI_SIG_CRYPTO;
	if (!unb64_32(sig, siglen, got))
		return FI_SIG_MALFORMED;
	return fi_ct_equal(want, got, FI_SHA256_LEN) ? FI_SIG_OK : FI_SIG_MISMATCH;
}

FiSigResult
fi_sig_hmac_hex(const char *secret, size_t secretlen, const unsigned char *payload, size_t n,
				const char *sig, size_t siglen)
{
	unsigned char want[FI_SHA256_LEN],
				got[FI_SHA256_LEN];

	if (!hmac3((const unsigned char *) secret, secretlen, payload, n, NULL, 0, NULL, 0, want))
		return FI_SIG_CRYPTO;
	if (!unhex32(sig, siglen, got))
		return FI_SIG_MALFORMED;
	return fi_ct_equal(want, got, FI_SHA256_LEN) ? FI_SIG_OK : FI_SIG_MISMATCH;
}

/* a decimal Unix time (no sign, at most 18 digits) */
static bool
parse_time(const char *s, size_t n, int64_t *out)
{
	int64_t		v = 0;

	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool
within(int64_t t, int64_t now, int64_t tolerance)
{
	return tolerance < 0 || (t <= now + tolerance && t >= now - tolerance);
}

FiSigResult
fi_sig_stripe(const char *secret, size_t secretlen, const unsigned char *payload, size_t n,
			  const char *header, size_t headerlen, int64_t now, int64_t tolerance)
{
	const char *t = NULL;
	size_t		tlen = 0;
	int64_t		ts;
	unsigned char want[FI_SHA256_LEN];
	bool		any_v1 = false,
				match = false;
	size_t		i = 0;

	/* first pass: the timestamp (Stripe puts it first; accept it anywhere) */
	while (i < headerlen)
	{
		size_t		j = i;

		while (j < headerlen && header[j] != ',')
			j++;
		if (j - i > 2 && header[i] == 't' && header[i + 1] == '=')
		{
			if (t != NULL)
				return FI_SIG_MALFORMED;
			t = header + i + 2;
			tlen = j - i - 2;
		}
		i = j + 1;
	}
	if (t == NULL || !parse_time(t, tlen, &ts))
		return FI_SIG_MALFORMED;
	if (!hmac3((const unsigned char *) secret, secretlen, (const unsigned char *) t, tlen,
			   (const unsigned char *) ".", 1, payload, n, want))
		return FI_SIG_CRYPTO;
	/* every v1 is compared (no early exit: the time says nothing of which) */
	for (i = 0; i < headerlen;)
	{
		size_t		j = i;
		unsigned char got[FI_SHA256_LEN];

		while (j < headerlen && header[j] != ',')
			j++;
		if (j - i > 3 && memcmp(header + i, "v1=", 3) == 0)
		{
			any_v1 = true;
			if (unhex32(header + i + 3, j - i - 3, got) && fi_ct_equal(want, got, FI_SHA256_LEN))
				match = true;
		}
		i = j + 1;
	}
	if (!any_v1)
		return FI_SIG_MALFORMED;
	if (!match)
		return FI_SIG_MISMATCH;
	return within(ts, now, tolerance) ? FI_SIG_OK : FI_SIG_TOO_OLD;
}

FiSigResult
fi_sig_standard_webhooks(const char *secret, size_t secretlen, const char *msg_id, size_t idlen,
						 const char *timestamp, size_t tslen, const unsigned char *payload, size_t n,
						 const char *header, size_t headerlen, int64_t now, int64_t tolerance)
{
	unsigned char *key;
	long		keylen;
	int64_t		ts;
	unsigned char want[FI_SHA256_LEN];
	unsigned char *msg;
	size_t		mlen;
	bool		any = false,
				match = false;
	bool		ok;

	if (secretlen > 6 && memcmp(secret, "whsec_", 6) == 0)
	{
		secret += 6;
		secretlen -= 6;
	}
	key = malloc(fi_b64_decoded_maxlen(secretlen) + 1);
	if (key == NULL)
		return FI_SIG_CRYPTO;
	keylen = fi_b64_decode(secret, secretlen, key, FI_B64_STD);
	if (keylen <= 0)
	{
		free(key);
		return FI_SIG_BAD_SECRET;
	}
	if (!parse_time(timestamp, tslen, &ts) || idlen == 0)
	{
		free(key);
		return FI_SIG_MALFORMED;
	}
	/* "<id>.<timestamp>.<payload>" */
	mlen = idlen + 1 + tslen + 1 + n;
	msg = malloc(mlen);
	if (msg == NULL)
	{
		free(key);
		return FI_SIG_CRYPTO;
	}
	memcpy(msg, msg_id, idlen);
	msg[idlen] = '.';
	memcpy(msg + idlen + 1, timestamp, tslen);
	msg[idlen + 1 + tslen] = '.';
	if (n)
		memcpy(msg + idlen + tslen + 2, payload, n);
	ok = fi_hmac_sha256(key, (size_t) keylen, msg, mlen, want) == FI_SECRET_OK;
	free(msg);
	free(key);
	if (!ok)
		return FI_SIG_CRYPTO;
	/* space-separated "v1,<base64>"; other versions are skipped */
	for (size_t i = 0; i < headerlen;)
	{
		size_t		j = i;
		unsigned char got[FI_SHA256_LEN];

		while (j < headerlen && header[j] != ' ')
			j++;
		if (j - i > 3 && memcmp(header + i, "v1,", 3) == 0)
		{
			any = true;
			if (unb64_32(header + i + 3, j - i - 3, got) && fi_ct_equal(want, got, FI_SHA256_LEN))
				match = true;
		}
		i = j + 1;
	}
	if (!any)
		return FI_SIG_MALFORMED;
	if (!within(ts, now, tolerance))
		return FI_SIG_TOO_OLD;
	return match ? FI_SIG_OK : FI_SIG_MISMATCH;
}

FiSigResult
fi_sig_verify_scheme(const char *scheme, bool *known, const char *secret, size_t secretlen,
					 const unsigned char *payload, size_t n, const char *sig, size_t siglen,
					 const char *msg_id, const char *timestamp, int64_t now, int64_t tolerance)
{
	*known = true;
	if (strcmp(scheme, "frappe") == 0)
		return fi_sig_hmac_base64(secret, secretlen, payload, n, sig, siglen);
	if (strcmp(scheme, "razorpay") == 0 || strcmp(scheme, "gocardless") == 0)
		return fi_sig_hmac_hex(secret, secretlen, payload, n, sig, siglen);
	if (strcmp(scheme, "stripe") == 0)
		return fi_sig_stripe(secret, secretlen, payload, n, sig, siglen, now, tolerance);
	if (strcmp(scheme, "standard-webhooks") == 0)
	{
		if (msg_id == NULL || timestamp == NULL)
			return FI_SIG_MALFORMED;
		return fi_sig_standard_webhooks(secret, secretlen, msg_id, strlen(msg_id), timestamp,
										strlen(timestamp), payload, n, sig, siglen, now, tolerance);
	}
	*known = false;
	return FI_SIG_MALFORMED;
}
