/*
 * pyjson.c
 *		Python's JSON text; see pyjson.h.
 *
 * Digits: the shortest correctly rounded decimal that reads back as the
 * same double (what CPython's repr gets from David Gay's dtoa, mode 0).
 * glibc's printf rounds correctly, so for each precision we try the
 * nearest decimal "%.*e" gives; the interval of decimals that read back as
 * the double need not be centred on it (lopsided at powers of two, and the
 * nearest may just miss an edge), so both neighbours of the same length
 * are tried too before a longer precision.
 * Layout (CPython's format_float_short, repr style): scientific when the
 * decimal point position is < -3 or > 16, else positional with ".0" added
 * to integers.
 */
#include "pyjson.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* digits of a "%.*e" string into dig (no dot), returns decimal exponent */
static int
split_e(const char *s, char *dig, int *ndig)
{
	int			n = 0;
	const char *e = strchr(s, 'e');

	for (; s < e; s++)
		if (*s >= '0' && *s <= '9')
			dig[n++] = *s;
	dig[n] = '\0';
	*ndig = n;
	return atoi(e + 1);
}

/* Does the decimal dig (ndig digits) x 10^(exp10 - ndig + 1) read back as v? */
static int
reads_back(const char *dig, int ndig, int exp10, double v)
{
	char		buf[64];

	snprintf(buf, sizeof(buf), "%c.%se%d", dig[0], ndig > 1 ? dig + 1 : "0", exp10);
	return strtod(buf, NULL) == v;
}

/* Add delta (+1/-1) to the last digit of dig; -1 on carry out or borrow out. */
static int
bump(char *dig, int ndig, int delta)
{
	int			i = ndig - 1;

	while (i >= 0)
	{
		int			d = dig[i] - '0' + delta;

		if (d >= 0 && d <= 9)
		{
			dig[i] = (char) ('0' + d);
			return (dig[0] == '0') ? -1 : 0;
		}
		dig[i] = delta > 0 ? '0' : '9';
		i--;
	}
	return -1;
}

static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * x (< 10^8) as 8 ASCII digits with leading zeros, the first digit in the
 * lowest byte (memory order on a little-endian machine): the 4-digit halves,
 * then their 2-digit and 1-digit parts, in 32- and 16-bit lanes of one word
 * (the reciprocal multiplications are exact for these ranges).
 */
static inline uint64_t
digits8(uint32_t x)
{
	uint64_t	v = (uint64_t) (x / 10000) | ((uint64_t) (x % 10000) << 32);
	uint64_t	h = ((v * 10486) >> 20) & 0x0000007F0000007FULL;	/* v / 100 */
	uint64_t	t;

	v = h | ((v - h * 100) << 16);
	t = ((v * 103) >> 10) & 0x000F000F000F000FULL;	/* v / 10 */
	v = t | ((v - t * 10) << 8);
	return v + 0x3030303030303030ULL;
}

/*
 * c (< 2^53) as a decimal with the point k places from the end, as Python
 * writes it: "12.5", "0.05", "1180.0" (k = 0).  Right to left, straight into
 * out (a staging buffer and its copy cost more than the digits).
 */
static int
put_decimal(uint64_t c, int k, char *out)
{
	static const char d2[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	static const uint64_t pow10u[] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL,
		1000000ULL, 10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
		100000000000ULL, 1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
		1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL};
	int			t = ((64 - __builtin_clzll(c | 1)) * 1233) >> 12,
				nd = t - (c < pow10u[t]) + 1,	/* digits of c */
				ip = nd - k,	/* before the point; "0." when none */
				o,
				i = 0;
	char	   *w;

#if !defined(WORDS_BIGENDIAN) && (defined(__x86_64__) || defined(__aarch64__) || defined(__i386__))
	if (k <= 7 && c < 100000000)
	{
		/*
		 * The common case without a digit loop: c's 8 digits (leading
		 * zeros) in one word; the integer part (at least the "0" before the
		 * point) and the fraction shifted out of it and stored as whole
		 * words.  The stores reach past what is kept (out has
		 * FI_PYFLOAT_MAXLEN bytes); nothing is read back from memory.
		 */
		uint64_t	dw = digits8((uint32_t) c),
					iw;
		int			ipn = ip > 0 ? ip : 1;

		iw = dw >> (8 * (8 - k - ipn));
		memcpy(out, &iw, 8);
		out[ipn] = '.';
		if (k)
		{
			uint64_t	fw = dw >> (8 * (8 - k));

			memcpy(out + ipn + 1, &fw, 8);
			o = ipn + 1 + k;
		}
		else
		{
			out[ipn + 1] = '0';
			o = ipn + 2;
		}
		out[o] = '\0';
		return o;
	}
#endif
	if (k == 0)
	{
		/* a whole number: its digits and ".0" */
		o = nd + 2;
		w = out + nd;
		w[0] = '.';
		w[1] = '0';
		w[2] = '\0';
	}
	else
	{
		o = (ip > 0 ? ip : 1) + 1 + k;
		w = out + o;
		*w = '\0';
		/* two digits at a time: the divisions form one chain */
		for (; i + 2 <= k; i += 2)
		{
			int			r = (int) (c % 100);

			c /= 100;
			*--w = d2[2 * r + 1];
			*--w = d2[2 * r];
		}
		if (i < k)
		{
			*--w = (char) ('0' + c % 10);
			c /= 10;
		}
		*--w = '.';
	}
	while (c >= 100)
	{
		int			r = (int) (c % 100);

		c /= 100;
		*--w = d2[2 * r + 1];
		*--w = d2[2 * r];
	}
	if (c >= 10)
	{
		*--w = d2[2 * c + 1];
		*--w = d2[2 * c];
	}
	else
		*--w = (char) ('0' + c);
	return o;
}

/*
 * Fast path for the common case (amounts, rates, quantities): a value in
 * [1e-4, 1e15) that is exactly the nearest double to some decimal with few
 * places.  For the smallest number of places k at which one integer c gives
 * c / 10^k == v (IEEE division, correctly rounded, like strtod of the text),
 * that text is Python's repr: it reads back, and fewer places cannot.  Two
 * candidates at one k, or none up to 2^53, leave it to the general path.
 */
static int
short_decimal(double a, char *out)
{
	int			k;

	if (!(a >= 1e-4 && a < 1e15))
		return -1;
	if (a >= 1.0 && a == (double) (int64_t) a)
		return put_decimal((uint64_t) a, 0, out);	/* "1180.0" */
	for (k = 1; k <= 22; k++)
	{
		double		scaled = a * p10[k];
		double		mk,
					hit = 0;
		int			hits = 0;

		if (scaled >= 9007199254740992.0)
			return -1;
		mk = (double) (int64_t) (scaled + 0.5);
		if (scaled < 1125899906842624.0)	/* 2^50 */
		{
			/*
			 * Here every decimal that reads back as a lies within 1/16 of
			 * scaled: mk is the only candidate.  And a hit lies within 2 ulp
			 * of scaled (rounding of a, of the product): farther than
			 * scaled * 2^-50 (>= 4 ulp) there is none, no division needed.
			 */
			if (fabs(scaled - mk) > scaled * 0x1p-50)
				continue;
			if (mk > 0 && mk / p10[k] == a)
			{
				hits = 1;
				hit = mk;
			}
		}
		else
			for (int d = -1; d <= 1; d++)
		{
			double		c = mk + d;

			if (c > 0 && c / p10[k] == a)
			{
				hits++;
				hit = c;
			}
		}
		if (hits > 1)
			return -1;
		if (hits == 1)
			return put_decimal((uint64_t) hit, k, out);
	}
	return -1;
}

/*
 * The same text for a value whose shortest decimal is already known (read
 * from text of at most 15 significant digits: |v| = dec / 10^places).
 */
size_t
fi_pyjson_decimal(double v, uint64_t dec, int places, char out[FI_PYFLOAT_MAXLEN])
{
	double		a = fabs(v);

	if (dec != 0 && dec < (1ULL << 53) && places >= 0 && places <= 22 &&
		a >= 1e-4 && a < 1e15)
	{
		int			o = 0;

		if (signbit(v))
			out[o++] = '-';
		return (size_t) (o + put_decimal(dec, places, out + o));
	}
	return fi_pyjson_float(v, out);
}

size_t
fi_pyjson_float(double v, char out[FI_PYFLOAT_MAXLEN])
{
	char		dig[32];
	int			ndig = 0,
				exp10 = 0,
				decpt,
				p,
				o = 0,
				i;
	double		a;

	if (isnan(v))
		return (size_t) snprintf(out, FI_PYFLOAT_MAXLEN, "NaN");
	if (isinf(v))
		return (size_t) snprintf(out, FI_PYFLOAT_MAXLEN, v > 0 ? "Infinity" : "-Infinity");
	if (signbit(v))
		out[o++] = '-';
	a = fabs(v);
	if (a == 0.0)
	{
		memcpy(out + o, "0.0", 4);
		return (size_t) o + 3;
	}
	{
		int			n = short_decimal(a, out + o);

		if (n >= 0)
			return (size_t) (o + n);
	}

	for (p = 1; p <= 17; p++)
	{
		char		s[64];

		snprintf(s, sizeof(s), "%.*e", p - 1, a);
		exp10 = split_e(s, dig, &ndig);
		if (strtod(s, NULL) == a)
			break;
		{
			/*
			 * The nearest p-digit decimal may fall just outside the
			 * interval that reads back as a while its neighbour on the
			 * other side falls inside: try both neighbours.
			 */
			char		alt[32];

			memcpy(alt, dig, ndig + 1);
			if (bump(alt, ndig, -1) == 0 && reads_back(alt, ndig, exp10, a))
			{
				memcpy(dig, alt, ndig + 1);
				break;
			}
			memcpy(alt, dig, ndig + 1);
			if (bump(alt, ndig, +1) == 0 && reads_back(alt, ndig, exp10, a))
			{
				memcpy(dig, alt, ndig + 1);
				break;
			}
		}
	}
	while (ndig > 1 && dig[ndig - 1] == '0')
		dig[--ndig] = '\0';

	decpt = exp10 + 1;
	if (decpt <= -4 || decpt > 16)
	{
		int			e = decpt - 1;

		out[o++] = dig[0];
		if (ndig > 1)
		{
			out[o++] = '.';
			memcpy(out + o, dig + 1, ndig - 1);
			o += ndig - 1;
		}
		o += snprintf(out + o, FI_PYFLOAT_MAXLEN - o, "e%c%02d", e < 0 ? '-' : '+', abs(e));
	}
	else if (decpt <= 0)
	{
		out[o++] = '0';
		out[o++] = '.';
		for (i = 0; i < -decpt; i++)
			out[o++] = '0';
		memcpy(out + o, dig, ndig);
		o += ndig;
	}
	else if (decpt >= ndig)
	{
		memcpy(out + o, dig, ndig);
		o += ndig;
		for (i = 0; i < decpt - ndig; i++)
			out[o++] = '0';
		out[o++] = '.';
		out[o++] = '0';
	}
	else
	{
		memcpy(out + o, dig, decpt);
		o += decpt;
		out[o++] = '.';
		memcpy(out + o, dig + decpt, ndig - decpt);
		o += ndig - decpt;
	}
	out[o] = '\0';
	return (size_t) o;
}
