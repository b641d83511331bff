/*
 * tpl_lib.c
 *		What templates and conditions can call: Jinja2 3.1's filters and tests
 *		that webhook templates use, Frappe's extra filters (json, len, int,
 *		str, flt), the template globals Frappe's get_safe_globals() gives
 *		(range, len, min, max, sum, sorted, namespace, ...), the frappe.utils
 *		helpers of facts 1.3 (getdate, add_days, flt, cint, rounded, ...), str,
 *		dict and date methods.  Each follows the Python it stands for; names
 *		not here are refused by the caller with a message naming them.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tpl_int.h"

/* ------------------------------------------------------------ arguments */

FiVal *
fi_arg(FiTpl *t, FiArgs *a, int idx, const char *kw, FiVal *dflt)
{
	if (idx >= 0 && idx < a->n)
		return a->v[idx];
	if (kw)
		for (int i = 0; i < a->nkw; i++)
			if (strcmp(a->kwn[i], kw) == 0)
				return a->kwv[i];
	return dflt;
}

/* refuse extra positional arguments and unknown keywords */
void
fi_args_max(FiTpl *t, FiArgs *a, int maxpos, const char *const *kws)
{
	if (a->n > maxpos)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "%s() takes at most %d argument%s (%d given)",
				 a->fname ? a->fname : "function", maxpos, maxpos == 1 ? "" : "s", a->n);
	for (int i = 0; i < a->nkw; i++)
	{
		bool		ok = false;

		for (int k = 0; kws && kws[k]; k++)
			if (strcmp(kws[k], a->kwn[i]) == 0)
				ok = true;
		if (!ok)
			fi_throw(t, FI_TPL_EVALUE, a->pos, "%s() got an unexpected keyword argument '%s'",
					 a->fname ? a->fname : "function", a->kwn[i]);
	}
}

FiVal *
fi_need(FiTpl *t, FiArgs *a, int idx, const char *kw)
{
	FiVal	   *v = fi_arg(t, a, idx, kw, NULL);

	if (v == NULL)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "%s() missing required argument '%s'",
				 a->fname ? a->fname : "function", kw ? kw : "value");
	return v;
}

FiVal *
fi_mkstr_buf(FiTpl *t, FiBuf *b)
{
	FiVal	   *r;

	if (b->p == NULL)
		return t->empty;
	r = fi_new(t, FV_STR);
	r->u.s.p = b->p;
	r->u.s.n = b->n;
	return r;
}

FiVal *
fi_soft_str(FiTpl *t, FiVal *v)
{
	return fi_to_str(t, v);
}

static void
need_str(FiTpl *t, FiVal *v, const char *what, int pos)
{
	if (v->type != FV_STR)
		fi_throw(t, FI_TPL_EVALUE, pos, "%s must be str, not %s", what, fi_typename(v));
}

/* ------------------------------------------------------ number parsing */

/* Python's float(str); false when it would raise ValueError */
static bool
py_parse_float(FiTpl *t, const char *s, size_t n, double *out)
{
	char	   *buf = fi_alloc(t, n + 1);
	size_t		a = 0,
				b = n;
	int			k = 0;
	size_t		i;
	bool		digits = false;

	while (a < b && (isspace((unsigned char) s[a])))
		a++;
	while (b > a && (isspace((unsigned char) s[b - 1])))
		b--;
	if (a == b)
		return false;
	{
		size_t		j = a;
		char		low[16];
		int			m = 0;

		if (s[j] == '+' || s[j] == '-')
			j++;
		for (size_t q = j; q < b && m < 15; q++)
			low[m++] = tolower((unsigned char) s[q]);
		low[m] = '\0';
		if (b - j == (size_t) m && (strcmp(low, "inf") == 0 || strcmp(low, "infinity") == 0 ||
									strcmp(low, "nan") == 0))
		{
			double		v = low[0] == 'n' ? NAN : INFINITY;

			*out = s[a] == '-' ? -v : v;
			return true;
		}
	}
	i = a;
	if (s[i] == '+' || s[i] == '-')
		buf[k++] = s[i++];
	/* digits with single underscores between them */
#define DIGITS() \
	do { \
		bool prev_digit = false; \
		while (i < b && (isdigit((unsigned char) s[i]) || s[i] == '_')) { \
			if (s[i] == '_') { \
				if (!prev_digit || i + 1 >= b || !isdigit((unsigned char) s[i + 1])) return false; \
				prev_digit = false; \
			} else { buf[k++] = s[i]; prev_digit = true; digits = true; } \
			i++; \
		} \
	} while (0)
	DIGITS();
	if (i < b && s[i] == '.')
	{
		buf[k++] = s[i++];
		if (i < b && s[i] == '_')
			return false;
		DIGITS();
	}
	if (!digits)
		return false;
	if (i < b && (s[i] == 'e' || s[i] == 'E'))
	{
		buf[k++] = 'e';
		i++;
		if (i < b && (s[i] == '+' || s[i] == '-'))
			buf[k++] = s[i++];
		digits = false;
		DIGITS();
		if (!digits)
			return false;
	}
#undef DIGITS
	if (i != b)
		return false;
	buf[k] = '\0';
	*out = strtod(buf, NULL);
	return true;
}

/* Python's int(str) in base 10 */
bool
fi_py_parse_int(FiTpl *t, const char *s, size_t n, int64_t *out)
{
	size_t		a = 0,
				b = n;
	bool		neg = false,
				any = false,
				prev = false;
	int64_t		v = 0;

	while (a < b && isspace((unsigned char) s[a]))
		a++;
	while (b > a && isspace((unsigned char) s[b - 1]))
		b--;
	if (a < b && (s[a] == '+' || s[a] == '-'))
		neg = s[a++] == '-';
	for (size_t i = a; i < b; i++)
	{
		if (s[i] == '_')
		{
			if (!prev || i + 1 >= b)
				return false;
			prev = false;
			continue;
		}
		if (!isdigit((unsigned char) s[i]))
			return false;
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v))
			return false;
		any = prev = true;
	}
	if (!any)
		return false;
	*out = neg ? -v : v;
	return true;
}

FiVal *
fi_float_to_int(FiTpl *t, double d, int pos, bool *ok)
{
	if (isnan(d) || isinf(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0)
	{
		if (ok)
		{
			*ok = false;
			return NULL;
		}
		if (isnan(d))
			fi_throw(t, FI_TPL_EVALUE, pos, "cannot convert float NaN to integer");
		fi_throw(t, FI_TPL_EVALUE, pos, isinf(d) ? "cannot convert float infinity to integer" :
				 "integer result does not fit in 64 bits");
	}
	if (ok)
		*ok = true;
	return fi_mkint(t, (int64_t) trunc(d));
}

/* Python's float(x): false for ValueError/TypeError */
bool
fi_to_float(FiTpl *t, FiVal *v, double *out)
{
	switch (v->type)
	{
		case FV_BOOL:
		case FV_INT:
		case FV_FLOAT:
			*out = fi_as_double(v);
			return true;
		case FV_STR:
			return py_parse_float(t, v->u.s.p, v->u.s.n, out);
		default:
			return false;
	}
}

/* ------------------------------------------------------------- rounding */

/* Python's round(x, nd) for a float: correctly rounded, half to even */
static double
round_float(double x, int64_t nd)
{
	char		buf[400];

	if (isnan(x) || isinf(x) || x == 0)
		return x;
	if (nd > 300)
		return x;
	if (nd >= 0)
	{
		snprintf(buf, sizeof(buf), "%.*f", (int) nd, x);
		return strtod(buf, NULL);
	}
	if (nd < -308)
		return copysign(0.0, x);
	{
		double		p = pow(10.0, (double) -nd);
		double		r = nearbyint(x / p) * p;

		return r == 0 ? copysign(0.0, x) : r;
	}
}

FiVal *
fi_py_round(FiTpl *t, FiVal *v, FiVal *nd, int pos)
{
	if (v->type == FV_UNDEF)
		fi_throw(t, FI_TPL_EVALUE, pos, "'%s' is undefined", v->u.u.name ? v->u.u.name : "value");
	if (!fi_is_number(v))
		fi_throw(t, FI_TPL_EVALUE, pos, "type %s doesn't define __round__ method", fi_typename(v));
	if (nd == NULL || nd->type == FV_NONE)
	{
		if (v->type == FV_FLOAT)
			return fi_float_to_int(t, nearbyint(v->u.f), pos, NULL);
		return fi_mkint(t, v->type == FV_BOOL ? v->u.b : v->u.i);
	}
	if (nd->type != FV_INT && nd->type != FV_BOOL)
		fi_throw(t, FI_TPL_EVALUE, pos, "'%s' object cannot be interpreted as an integer",
				 fi_typename(nd));
	{
		int64_t		n = nd->type == FV_BOOL ? nd->u.b : nd->u.i;

		if (v->type == FV_FLOAT)
			return fi_mkfloat(t, round_float(v->u.f, n));
		{
			int64_t		i = v->type == FV_BOOL ? v->u.b : v->u.i;

			if (n >= 0 || n < -18)
				return fi_mkint(t, n < -18 ? 0 : i);
			{
				int64_t		p = 1,
							q,
							r;

				for (int64_t k = 0; k < -n; k++)
					p *= 10;
				q = i / p;
				r = i % p;
				if (r < 0)
				{
					r += p;
					q--;
				}
				if (r * 2 > p || (r * 2 == p && (q & 1)))
					q++;
				return fi_mkint(t, q * p);
			}
		}
	}
}

/* frappe.utils.rounded (Banker's Rounding (legacy) unless told otherwise) */
static FiVal *
frappe_rounded(FiTpl *t, double num, int64_t precision, const char *method, int pos)
{
	/*
	 * Beyond 10^308 a scale overflows (inf * 0 gave nan); a double has no
	 * digits that far out, so the number is its own rounding, as Python's
	 * round() gives it.
	 */
	if (precision > 300 && !isnan(num) && !isinf(num))
		return fi_mkfloat(t, num);
	if (precision < -300 && !isnan(num) && !isinf(num))
		return fi_mkfloat(t, 0.0);	/* every digit rounded away */
	if (method == NULL || strcmp(method, "Banker's Rounding (legacy)") == 0)
	{
		double		mult = pow(10.0, (double) precision);
		double		x = round_float(precision ? num * mult : num, 8);
		double		fl = floor(x);
		double		dec = x - fl;

		if (!precision && dec == 0.5)
			x = fmod(fl, 2) == 0 ? fl : fl + 1;
		else if (dec == 0.5)
			x = fl + 1;
		else
			x = nearbyint(x);
		if (precision)
			return fi_mkfloat(t, x / mult);
		return fi_float_to_int(t, x, pos, NULL);
	}
	if (strcmp(method, "Banker's Rounding") == 0)
	{
		double		mult = pow(10.0, (double) precision);
		double		x = round_float(num * mult, 12);
		double		fl,
					dec,
					eps;

		if (x == 0)
			return fi_mkfloat(t, 0.0);
		fl = floor(x);
		dec = x - fl;
		eps = pow(2.0, log2(fabs(x)) - 52.0);
		if (fabs(dec - 0.5) < eps)
			x = fmod(fl, 2) == 0 ? fl : fl + 1;
		else
			x = nearbyint(x);
		return fi_mkfloat(t, x / mult);
	}
	if (strcmp(method, "Commercial Rounding") == 0)
	{
		double		eps;

		if (num == 0)
			return fi_mkfloat(t, 0.0);
		eps = pow(2.0, log2(fabs(num)) - 52.0);
		return fi_mkfloat(t, round_float(num + copysign(eps, num), precision));
	}
	fi_throw(t, FI_TPL_EVALUE, pos, "Unknown Rounding Method: %s", method);
}

/* ---------------------------------------------------------------- dates */

static int64_t
now_local(FiTpl *t, int32_t *ord)
{
	int64_t		r;
	int64_t		d = fi_split_usec(t->opt.now_usec, &r);

	*ord = (int32_t) (fi_ymd_to_ord(1970, 1, 1) + d);
	return r;
}

static int
digits(const char *s, size_t n, size_t *i, int cnt)
{
	int			v = 0;

	for (int k = 0; k < cnt; k++)
	{
		if (*i >= n || !isdigit((unsigned char) s[*i]))
			return -1;
		v = v * 10 + (s[(*i)++] - '0');
	}
	return v;
}

/*
 * An ISO date or datetime as Frappe stores and dateutil reads it:
 * YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]].  Returns false for anything else
 * (dateutil's other guesses are deliberately not reproduced).
 */
static bool
parse_iso(const char *s, size_t n, int32_t *ord, int64_t *usec, bool *has_time)
{
	size_t		i = 0;
	int			y,
				m,
				d,
				hh = 0,
				mi = 0,
				ss = 0,
				us = 0;

	while (i < n && s[i] == ' ')
		i++;
	while (n > i && s[n - 1] == ' ')
		n--;
	if ((y = digits(s, n, &i, 4)) < 0 || i >= n || s[i++] != '-')
		return false;
	{
		size_t		st = i;

		m = 0;
		while (i < n && isdigit((unsigned char) s[i]) && i - st < 2)
			m = m * 10 + (s[i++] - '0');
		if (i == st || i >= n || s[i++] != '-')
			return false;
		st = i;
		d = 0;
		while (i < n && isdigit((unsigned char) s[i]) && i - st < 2)
			d = d * 10 + (s[i++] - '0');
		if (i == st)
			return false;
	}
	*has_time = false;
	if (i < n && (s[i] == ' ' || s[i] == 'T'))
	{
		i++;
		if ((hh = digits(s, n, &i, 2)) < 0 || i >= n || s[i++] != ':' ||
			(mi = digits(s, n, &i, 2)) < 0)
			return false;
		if (i < n && s[i] == ':')
		{
			i++;
			if ((ss = digits(s, n, &i, 2)) < 0)
				return false;
			if (i < n && s[i] == '.')
			{
				int			k = 0;

				i++;
				while (i < n && isdigit((unsigned char) s[i]))
				{
					if (k < 6)
					{
						us = us * 10 + (s[i] - '0');
						k++;
					}
					i++;
				}
				if (k == 0)
					return false;
				while (k++ < 6)
					us *= 10;
			}
		}
		*has_time = true;
	}
	if (i != n)
		return false;
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > fi_days_in_month(y, m) ||
		hh > 23 || mi > 59 || ss > 59)
		return false;
	*ord = fi_ymd_to_ord(y, m, d);
	*usec = ((int64_t) hh * 3600 + mi * 60 + ss) * 1000000 + us;
	return true;
}

static bool
invalid_date_string(FiVal *v)
{
	return v->type != FV_STR || v->u.s.n == 0 ||
		(v->u.s.n >= 10 && (memcmp(v->u.s.p, "0001-01-01", 10) == 0 ||
							memcmp(v->u.s.p, "0000-00-00", 10) == 0));
}

static void
bad_date(FiTpl *t, FiVal *v, int pos)
{
	fi_throw(t, FI_TPL_EVALUE, pos,
			 "%.*s is not a valid date string (dates must be written YYYY-MM-DD[ HH:MM:SS[.ffffff]])",
			 (int) (v->u.s.n > 64 ? 64 : v->u.s.n), v->u.s.p);
}

static FiVal *
u_getdate(FiTpl *t, FiVal *self, FiArgs *a)
{
	static const char *const kws[] = {"string_date", "parse_day_first", NULL};
	FiVal	   *v = fi_arg(t, a, 0, "string_date", t->none);
	int32_t		ord;
	int64_t		us;
	bool		ht;

	fi_args_max(t, a, 2, kws);
	if (!fi_truthy(v))
	{
		now_local(t, &ord);
		return fi_mkdate(t, ord);
	}
	if (v->type == FV_DATETIME || v->type == FV_DATE)
		return fi_mkdate(t, v->u.dt.ord);
	if (invalid_date_string(v))
		return t->none;
	if (!parse_iso(v->u.s.p, v->u.s.n, &ord, &us, &ht))
		bad_date(t, v, a->pos);
	return fi_mkdate(t, ord);
}

static FiVal *
u_get_datetime(FiTpl *t, FiVal *self, FiArgs *a)
{
	static const char *const kws[] = {"datetime_str", NULL};
	FiVal	   *v = fi_arg(t, a, 0, "datetime_str", t->none);
	int32_t		ord;
	int64_t		us;
	bool		ht;

	fi_args_max(t, a, 1, kws);
	if (v->type == FV_NONE)
	{
		us = now_local(t, &ord);
		return fi_mkdatetime(t, ord, us);
	}
	if (v->type == FV_DATETIME || v->type == FV_TDELTA)
		return v;
	if (v->type == FV_DATE)
		return fi_mkdatetime(t, v->u.dt.ord, 0);
	if (invalid_date_string(v))
		return t->none;
	if (!parse_iso(v->u.s.p, v->u.s.n, &ord, &us, &ht))
		bad_date(t, v, a->pos);
	return fi_mkdatetime(t, ord, us);
}

static FiVal *
fmt_date(FiTpl *t, int32_t ord, int64_t usec, bool with_time)
{
	int			y,
				m,
				d;
	char		buf[64];

	fi_ord_to_ymd(ord, &y, &m, &d);
	if (with_time)
	{
		int64_t		s = usec / 1000000;

		snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d.%06d", y, m, d,
				 (int) (s / 3600), (int) (s / 60 % 60), (int) (s % 60), (int) (usec % 1000000));
	}
	else
		snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
	return fi_mkcstr(t, buf);
}

static FiVal *
u_nowdate(FiTpl *t, FiVal *self, FiArgs *a)
{
	int32_t		ord;

	fi_args_max(t, a, 0, NULL);
	now_local(t, &ord);
	return fmt_date(t, ord, 0, false);
}

static FiVal *
u_now(FiTpl *t, FiVal *self, FiArgs *a)
{
	int32_t		ord;
	int64_t		us;

	fi_args_max(t, a, 0, NULL);
	us = now_local(t, &ord);
	return fmt_date(t, ord, us, true);
}

static FiVal *
u_now_datetime(FiTpl *t, FiVal *self, FiArgs *a)
{
	int32_t		ord;
	int64_t		us;

	fi_args_max(t, a, 0, NULL);
	us = now_local(t, &ord);
	return fi_mkdatetime(t, ord, us);
}

static FiVal *
u_nowtime(FiTpl *t, FiVal *self, FiArgs *a)
{
	int32_t		ord;
	int64_t		us,
				s;
	char		buf[32];

	fi_args_max(t, a, 0, NULL);
	us = now_local(t, &ord);
	s = us / 1000000;
	snprintf(buf, sizeof(buf), "%02d:%02d:%02d.%06d", (int) (s / 3600), (int) (s / 60 % 60),
			 (int) (s % 60), (int) (us % 1000000));
	return fi_mkcstr(t, buf);
}

static double
num_arg(FiTpl *t, FiVal *v, const char *what, int pos)
{
	if (!fi_is_number(v))
		fi_throw(t, FI_TPL_EVALUE, pos, "%s must be a number, not %s", what, fi_typename(v));
	return fi_as_double(v);
}

/*
 * frappe.utils.add_to_date: dateutil's relativedelta (years and months
 * first, the day clipped to the month's end, then the timedelta).
 */
static FiVal *
add_to_date(FiTpl *t, FiVal *date, FiVal *years, FiVal *months, FiVal *weeks,
			FiVal *days, FiVal *hours, FiVal *minutes, FiVal *seconds,
			bool as_string, bool as_datetime, int pos)
{
	int32_t		ord;
	int64_t		us = 0;
	bool		is_dt;
	double		ym,
				mo;
	double		td_us;
	bool		has_time;

	if (date->type == FV_NONE)
	{
		us = now_local(t, &ord);
		is_dt = true;
	}
	else if (date->type == FV_STR)
	{
		bool		ht;

		as_string = true;
		if (memchr(date->u.s.p, ' ', date->u.s.n))
			as_datetime = true;
		if (!parse_iso(date->u.s.p, date->u.s.n, &ord, &us, &ht))
			fi_throw(t, FI_TPL_EVALUE, pos, "Please select a valid date filter");
		is_dt = true;
	}
	else if (date->type == FV_DATE)
	{
		ord = date->u.dt.ord;
		is_dt = false;
	}
	else if (date->type == FV_DATETIME)
	{
		ord = date->u.dt.ord;
		us = date->u.dt.usec;
		is_dt = true;
	}
	else
		fi_throw(t, FI_TPL_EVALUE, pos, "add_to_date() needs a date, not %s", fi_typename(date));
	if (fi_truthy(hours))
		as_datetime = true;
	ym = num_arg(t, years, "years", pos);
	mo = num_arg(t, months, "months", pos);
	if (ym != floor(ym) || mo != floor(mo))
		fi_throw(t, FI_TPL_EVALUE, pos, "Non-integer years and months are ambiguous and not currently supported.");
	if (fabs(ym) > 100000 || fabs(mo) > 1200000)
		fi_throw(t, FI_TPL_EVALUE, pos, "year is out of range");
	{
		int			y,
					m,
					d;
		int64_t		total;

		fi_ord_to_ymd(ord, &y, &m, &d);
		total = (int64_t) y * 12 + (m - 1) + (int64_t) ym * 12 + (int64_t) mo;
		y = (int) (total / 12);
		m = (int) (total % 12) + 1;
		if (y < 1 || y > 9999)
			fi_throw(t, FI_TPL_EVALUE, pos, "year %d is out of range", y);
		if (d > fi_days_in_month(y, m))
			d = fi_days_in_month(y, m);
		ord = fi_ymd_to_ord(y, m, d);
	}
	td_us = (num_arg(t, weeks, "weeks", pos) * 7 + num_arg(t, days, "days", pos)) * 86400e6 +
		num_arg(t, hours, "hours", pos) * 3600e6 + num_arg(t, minutes, "minutes", pos) * 60e6 +
		num_arg(t, seconds, "seconds", pos) * 1e6;
	has_time = fi_truthy(hours) || fi_truthy(minutes) || fi_truthy(seconds);
	if (!(fabs(td_us) <= 3e18))	/* also NaN */
		fi_throw(t, FI_TPL_EVALUE, pos, "date value out of range");
	{
		int64_t		delta = (int64_t) nearbyint(td_us);
		int64_t		r;

		if (!is_dt && !has_time)
			ord += (int32_t) fi_split_usec(delta, &r);	/* date: whole days only */
		else
		{
			ord += (int32_t) fi_split_usec(us + delta, &r);
			us = r;
			is_dt = true;
		}
	}
	if (ord < 1 || ord > fi_ymd_to_ord(9999, 12, 31))
		fi_throw(t, FI_TPL_EVALUE, pos, "date value out of range");
	if (as_string)
		return fmt_date(t, ord, us, as_datetime);
	return is_dt ? fi_mkdatetime(t, ord, us) : fi_mkdate(t, ord);
}

static FiVal *
u_add_to_date(FiTpl *t, FiVal *self, FiArgs *a)
{
	static const char *const kws[] = {"date", "years", "months", "weeks", "days", "hours",
	"minutes", "seconds", "as_string", "as_datetime", NULL};
	FiVal	   *zero = fi_mkint(t, 0);

	fi_args_max(t, a, 10, kws);
	return add_to_date(t, fi_need(t, a, 0, "date"), fi_arg(t, a, 1, "years", zero),
					   fi_arg(t, a, 2, "months", zero), fi_arg(t, a, 3, "weeks", zero),
					   fi_arg(t, a, 4, "days", zero), fi_arg(t, a, 5, "hours", zero),
					   fi_arg(t, a, 6, "minutes", zero), fi_arg(t, a, 7, "seconds", zero),
					   fi_truthy(fi_arg(t, a, 8, "as_string", t->vfalse)),
					   fi_truthy(fi_arg(t, a, 9, "as_datetime", t->vfalse)), a->pos);
}

static FiVal *
add_unit(FiTpl *t, FiArgs *a, const char *unit)
{
	static const char *const kws_d[] = {"date", "days", NULL};
	static const char *const kws_m[] = {"date", "months", NULL};
	static const char *const kws_y[] = {"date", "years", NULL};
	FiVal	   *zero = fi_mkint(t, 0);
	FiVal	   *n;

	fi_args_max(t, a, 2, unit[0] == 'd' ? kws_d : unit[0] == 'm' ? kws_m : kws_y);
	n = fi_need(t, a, 1, unit);
	return add_to_date(t, fi_need(t, a, 0, "date"), unit[0] == 'y' ? n : zero,
					   unit[0] == 'm' ? n : zero, zero, unit[0] == 'd' ? n : zero,
					   zero, zero, zero, false, false, a->pos);
}

static FiVal *
u_add_days(FiTpl *t, FiVal *self, FiArgs *a)
{
	return add_unit(t, a, "days");
}

static FiVal *
u_add_months(FiTpl *t, FiVal *self, FiArgs *a)
{
	return add_unit(t, a, "months");
}

static FiVal *
u_add_years(FiTpl *t, FiVal *self, FiArgs *a)
{
	return add_unit(t, a, "years");
}

static FiVal *
getdate_of(FiTpl *t, FiVal *v, int pos)
{
	FiArgs		a = {0};
	FiVal	   *av[1] = {v};
	FiVal	   *r;

	a.n = 1;
	a.v = av;
	a.pos = pos;
	a.fname = "getdate";
	r = u_getdate(t, NULL, &a);
	return r;
}

static FiVal *
u_date_diff(FiTpl *t, FiVal *self, FiArgs *a)
{
	static const char *const kws[] = {"string_ed_date", "string_st_date", NULL};
	FiVal	   *e,
			   *s;

	fi_args_max(t, a, 2, kws);
	e = getdate_of(t, fi_need(t, a, 0, "string_ed_date"), a->pos);
	s = getdate_of(t, fi_need(t, a, 1, "string_st_date"), a->pos);
	if (e->type != FV_DATE || s->type != FV_DATE)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "unsupported operand type(s) for -: '%s' and '%s'",
				 fi_typename(e), fi_typename(s));
	return fi_mkint(t, e->u.dt.ord - s->u.dt.ord);
}

static FiVal *
u_get_first_day(FiTpl *t, FiVal *self, FiArgs *a)
{
	static const char *const kws[] = {"dt", "d_years", "d_months", "as_str", NULL};
	FiVal	   *d;
	int			y,
				m,
				dd;
	int64_t		dy,
				dm,
				tot;

	fi_args_max(t, a, 4, kws);
	d = getdate_of(t, fi_need(t, a, 0, "dt"), a->pos);
	if (d->type != FV_DATE)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "'NoneType' object has no attribute 'month'");
	{
		double		fy = num_arg(t, fi_arg(t, a, 1, "d_years", fi_mkint(t, 0)), "d_years", a->pos);
		double		fm = num_arg(t, fi_arg(t, a, 2, "d_months", fi_mkint(t, 0)), "d_months", a->pos);

		if (!(fabs(fy) <= 100000 && fabs(fm) <= 1200000))
			fi_throw(t, FI_TPL_EVALUE, a->pos, "year is out of range");
		dy = (int64_t) fy;
		dm = (int64_t) fm;
	}
	fi_ord_to_ymd(d->u.dt.ord, &y, &m, &dd);
	tot = (int64_t) (y + dy) * 12 + (m - 1) + dm;
	if (tot < 12 || tot >= 12 * 10000)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "year is out of range");
	y = (int) (tot / 12);
	m = (int) (tot % 12) + 1;
	if (fi_truthy(fi_arg(t, a, 3, "as_str", t->vfalse)))
		return fmt_date(t, fi_ymd_to_ord(y, m, 1), 0, false);
	return fi_mkdate(t, fi_ymd_to_ord(y, m, 1));
}

static FiVal *
u_get_last_day(FiTpl *t, FiVal *self, FiArgs *a)
{
	static const char *const kws[] = {"dt", NULL};
	FiVal	   *d;
	int			y,
				m,
				dd;

	fi_args_max(t, a, 1, kws);
	d = getdate_of(t, fi_need(t, a, 0, "dt"), a->pos);
	if (d->type != FV_DATE)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "'NoneType' object has no attribute 'month'");
	fi_ord_to_ymd(d->u.dt.ord, &y, &m, &dd);
	return fi_mkdate(t, fi_ymd_to_ord(y, m, fi_days_in_month(y, m)));
}

/* ------------------------------------------------- flt, cint, cstr, ... */

FiVal *
fi_flt(FiTpl *t, FiVal *s, FiVal *precision, FiVal *method, int pos)
{
	double		num;

	if (s->type == FV_NONE)
		return fi_mkfloat(t, 0.0);
	if (s->type == FV_STR && memchr(s->u.s.p, ',', s->u.s.n))
	{
		FiBuf		b = {0};

		for (size_t i = 0; i < s->u.s.n; i++)
			if (s->u.s.p[i] != ',')
				fi_buf_putc(t, &b, s->u.s.p[i]);
		s = fi_mkstr_buf(t, &b);
	}
	if (!fi_to_float(t, s, &num))
		return fi_mkfloat(t, 0.0);
	if (precision && precision->type != FV_NONE)
	{
		int64_t		p;
		double		pd;

		if (!fi_to_float(t, precision, &pd) || isnan(pd) || isinf(pd))
			p = 0;
		else
			p = (int64_t) trunc(fmax(-400.0, fmin(400.0, pd)));
		return frappe_rounded(t, num, p,
							  (method && method->type == FV_STR) ? fi_strndup(t, method->u.s.p, method->u.s.n) : NULL,
							  pos);
	}
	return fi_mkfloat(t, num);
}

static FiVal *
u_flt(FiTpl *t, FiVal *self, FiArgs *a)
{
	static const char *const kws[] = {"s", "precision", "rounding_method", NULL};

	fi_args_max(t, a, 3, kws);
	return fi_flt(t, fi_need(t, a, 0, "s"), fi_arg(t, a, 1, "precision", NULL),
			   fi_arg(t, a, 2, "rounding_method", NULL), a->pos);
}

FiVal *
fi_cint(FiTpl *t, FiVal *s, FiVal *dflt)
{
	double		d;
	bool		ok;
	FiVal	   *r;

	if (!fi_to_float(t, s, &d))
		return dflt;
	r = fi_float_to_int(t, d, -1, &ok);
	return ok ? r : dflt;
}

static FiVal *
u_cint(FiTpl *t, FiVal *self, FiArgs *a)
{
	static const char *const kws[] = {"s", "default", NULL};

	fi_args_max(t, a, 2, kws);
	return fi_cint(t, fi_need(t, a, 0, "s"), fi_arg(t, a, 1, "default", fi_mkint(t, 0)));
}

FiVal *
fi_cstr(FiTpl *t, FiVal *s)
{
	if (s->type == FV_NONE)
		return t->empty;
	return fi_soft_str(t, s);
}

static FiVal *
u_cstr(FiTpl *t, FiVal *self, FiArgs *a)
{
	static const char *const kws[] = {"s", "encoding", NULL};

	fi_args_max(t, a, 2, kws);
	return fi_cstr(t, fi_need(t, a, 0, "s"));
}

static FiVal *
u_rounded(FiTpl *t, FiVal *self, FiArgs *a)
{
	static const char *const kws[] = {"num", "precision", "rounding_method", NULL};
	FiVal	   *num = fi_need(t, a, 0, "num");
	FiVal	   *prec,
			   *m;

	fi_args_max(t, a, 3, kws);
	prec = fi_cint(t, fi_arg(t, a, 1, "precision", fi_mkint(t, 0)), fi_mkint(t, 0));
	m = fi_arg(t, a, 2, "rounding_method", NULL);
	if (!fi_is_number(num))
		fi_throw(t, FI_TPL_EVALUE, a->pos, "rounded() needs a number, not %s", fi_typename(num));
	return frappe_rounded(t, fi_as_double(num), prec->u.i,
						  (m && m->type == FV_STR) ? fi_strndup(t, m->u.s.p, m->u.s.n) : NULL, a->pos);
}

static FiVal *
u_strip_html(FiTpl *t, FiVal *self, FiArgs *a)
{
	FiVal	   *s = fi_need(t, a, 0, "text");
	FiBuf		b = {0};
	size_t		i = 0;

	/*
	 * Linear in the text: once a search for "-->" or ">" has failed, every
	 * later one (starting further on) would too, so it is not made again
	 * ("<<<<..." cost a scan to the end per "<").
	 */
	bool		no_comment_end = false,
				no_gt = false;

	need_str(t, s, "text", a->pos);
	while (i < s->u.s.n)
	{
		const char *p = s->u.s.p;

		if (p[i] == '<')
		{
			if (!no_comment_end && i + 4 <= s->u.s.n && memcmp(p + i, "<!--", 4) == 0)
			{
				const char *e = NULL;

				for (size_t k = i + 4; k + 3 <= s->u.s.n; k++)
					if (memcmp(p + k, "-->", 3) == 0)
					{
						e = p + k;
						break;
					}
				if (e)
				{
					i = e - p + 3;
					continue;
				}
				no_comment_end = true;
			}
			if (!no_gt)
			{
				const char *e = memchr(p + i, '>', s->u.s.n - i);

				if (e)
				{
					i = e - p + 1;
					continue;
				}
				no_gt = true;
			}
		}
		fi_buf_putc(t, &b, p[i++]);
	}
	return fi_mkstr_buf(t, &b);
}

static FiVal *
u_escape_html(FiTpl *t, FiVal *self, FiArgs *a)
{
	FiVal	   *s = fi_need(t, a, 0, "text");

	if (s->type != FV_STR)
		return s;
	return fi_html_escape(t, s, "&quot;", "&apos;");
}

static FiVal *
comma_sep(FiTpl *t, FiArgs *a, const char *word)
{
	FiVal	   *l = fi_need(t, a, 0, "some_list");
	bool		quotes = fi_truthy(fi_arg(t, a, 1, "add_quotes", t->vtrue));
	FiBuf		b = {0};

	if (l->type != FV_LIST && l->type != FV_TUPLE)
		return l;
	if (l->u.l.n == 0)
		return t->empty;
	if (l->u.l.n == 1)
		return fi_soft_str(t, l->u.l.v[0]);
	for (int i = 0; i < l->u.l.n; i++)
	{
		if (i == l->u.l.n - 1)
		{
			fi_buf_putc(t, &b, ' ');
			fi_buf_puts(t, &b, word);
			fi_buf_putc(t, &b, ' ');
		}
		else if (i)
			fi_buf_puts(t, &b, ", ");
		if (quotes)
			fi_buf_putc(t, &b, '\'');
		fi_str_into(t, &b, l->u.l.v[i]);
		if (quotes)
			fi_buf_putc(t, &b, '\'');
	}
	return fi_mkstr_buf(t, &b);
}

static FiVal *
u_comma_and(FiTpl *t, FiVal *self, FiArgs *a)
{
	return comma_sep(t, a, "and");
}

static FiVal *
u_comma_or(FiTpl *t, FiVal *self, FiArgs *a)
{
	return comma_sep(t, a, "or");
}

static const FiFunc utils_funcs[] = {
	{"getdate", u_getdate},
	{"get_datetime", u_get_datetime},
	{"nowdate", u_nowdate},
	{"today", u_nowdate},
	{"now", u_now},
	{"nowtime", u_nowtime},
	{"now_datetime", u_now_datetime},
	{"add_to_date", u_add_to_date},
	{"add_days", u_add_days},
	{"add_months", u_add_months},
	{"add_years", u_add_years},
	{"date_diff", u_date_diff},
	{"get_first_day", u_get_first_day},
	{"get_last_day", u_get_last_day},
	{"flt", u_flt},
	{"cint", u_cint},
	{"cstr", u_cstr},
	{"rounded", u_rounded},
	{"strip_html", u_strip_html},
	{"escape_html", u_escape_html},
	{"comma_and", u_comma_and},
	{"comma_or", u_comma_or},
	{NULL, NULL}
};

const FiNs fi_ns_utils_def = {"utils", utils_funcs, NULL};
static const FiNs *const frappe_subs[] = {&fi_ns_utils_def, NULL};
const FiNs fi_ns_frappe_def = {"frappe", NULL, frappe_subs};

FiVal *
fi_ns_attr(FiTpl *t, const FiNs *ns, const char *name)
{
	for (int i = 0; ns->funcs && ns->funcs[i].name; i++)
		if (strcmp(ns->funcs[i].name, name) == 0)
			return fi_mkfunc(t, &ns->funcs[i], NULL);
	for (int i = 0; ns->subs && ns->subs[i]; i++)
		if (strcmp(ns->subs[i]->name, name) == 0)
		{
			FiVal	   *v = fi_new(t, FV_NS);

			v->u.ns = ns->subs[i];
			return v;
		}
	return NULL;
}
