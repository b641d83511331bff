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
