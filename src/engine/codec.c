/*
 * codec.c
 *		Base64 variants and hex, written for exactness rather than reuse of
 *		OpenSSL's EVP_EncodeBlock (which has no URL-safe or unpadded forms
 *		and is lenient about padding on decode).
 */
#include "codec.h"

static const char b64_std[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char b64_ab64[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./";

static const char *
alphabet(FiB64Variant v)
{
	switch (v)
	{
		case FI_B64_URL:
			return b64_url;
		case FI_B64_AB64:
			return b64_ab64;
		default:
			return b64_std;
	}
}

size_t
fi_b64_encoded_len(size_t n, FiB64Variant v)
{
	if (v == FI_B64_AB64)
		return (n / 3) * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
	return ((n + 2) / 3) * 4;
}

size_t
fi_b64_encode(const unsigned char *in, size_t n, char *out, FiB64Variant v)
{
	const char *a = alphabet(v);
	size_t		i = 0,
				o = 0;

	while (i + 3 <= n)
	{
		unsigned int w = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];

		out[o++] = a[(w >> 18) & 63];
		out[o++] = a[(w >> 12) & 63];
		out[o++] = a[(w >> 6) & 63];
		out[o++] = a[w & 63];
		i += 3;
	}
	if (n - i == 1)
	{
		unsigned int w = in[i] << 16;

		out[o++] = a[(w >> 18) & 63];
		out[o++] = a[(w >> 12) & 63];
		if (v != FI_B64_AB64)
		{
			out[o++] = '=';
			out[o++] = '=';
		}
	}
	else if (n - i == 2)
	{
		unsigned int w = (in[i] << 16) | (in[i + 1] << 8);

		out[o++] = a[(w >> 18) & 63];
		out[o++] = a[(w >> 12) & 63];
		out[o++] = a[(w >> 6) & 63];
		if (v != FI_B64_AB64)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

size_t
fi_b64_decoded_maxlen(size_t n)
{
	return (n / 4) * 3 + 3;
}

static int
b64_value(char c, FiB64Variant v)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	switch (v)
	{
		case FI_B64_STD:
			return c == '+' ? 62 : c == '/' ? 63 : -1;
		case FI_B64_URL:
			return c == '-' ? 62 : c == '_' ? 63 : -1;
		case FI_B64_AB64:
			return c == '.' ? 62 : c == '/' ? 63 : -1;
	}
	return -1;
}

long
fi_b64_decode(const char *in, size_t n, unsigned char *out, FiB64Variant v)
{
	size_t		pad = 0,
				data,
				i,
				o = 0;
	unsigned int acc = 0;
	int			bits = 0;

	if (v == FI_B64_AB64)
	{
		if (n % 4 == 1)
			return -1;
		data = n;
	}
	else
	{
		if (n % 4 != 0)
			return -1;
		while (pad < 2 && pad < n && in[n - 1 - pad] == '=')
			pad++;
		data = n - pad;
	}

	for (i = 0; i < data; i++)
	{
		int			val = b64_value(in[i], v);

		if (val < 0)
			return -1;
		acc = (acc << 6) | (unsigned int) val;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			out[o++] = (unsigned char) ((acc >> bits) & 0xFF);
		}
	}
	/* leftover bits must be zero, as a canonical encoder writes them */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return (long) o;
}

void
fi_hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t		i;

	for (i = 0; i < n; i++)
	{
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int
fi_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t
fi_quote_plus(const unsigned char *s, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		o = 0;

	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '_' || c == '.' || c == '-' || c == '~')
			out[o++] = (char) c;
		else if (c == ' ')
			out[o++] = '+';
		else
		{
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return o;
}

size_t
fi_utf8_encode(char *out, uint32_t c)
{
	if (c < 0x80)
	{
		out[0] = (char) c;
		return 1;
	}
	if (c < 0x800)
	{
		out[0] = (char) (0xC0 | (c >> 6));
		out[1] = (char) (0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000)
	{
		out[0] = (char) (0xE0 | (c >> 12));
		out[1] = (char) (0x80 | ((c >> 6) & 0x3F));
		out[2] = (char) (0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (char) (0xF0 | (c >> 18));
	out[1] = (char) (0x80 | ((c >> 12) & 0x3F));
	out[2] = (char) (0x80 | ((c >> 6) & 0x3F));
	out[3] = (char) (0x80 | (c & 0x3F));
	return 4;
}
