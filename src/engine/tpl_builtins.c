/*
 * tpl_builtins.c
 *		The template globals (range, len, min, max, sum, sorted, namespace,
 *		...), the condition builtins (int, float, long, round), the methods of
 *		str, dict and dates, and '%' formatting.  Each behaves as the Python
 *		it stands for (checked by test/template/).  Filters and tests are in
 *		tpl_filters.c.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tpl_int.h"
/* ------------------------------------------------------------- globals */

static FiVal *
g_range(FiTpl *t, FiVal *self, FiArgs *a)
{
	int64_t		start = 0,
				stop,
				step = 1,
				n;
	FiVal	   *r;

	fi_args_max(t, a, 3, NULL);
	for (int i = 0; i < a->n; i++)
		if (a->v[i]->type != FV_INT && a->v[i]->type != FV_BOOL)
			fi_throw(t, FI_TPL_EVALUE, a->pos, "'%s' object cannot be interpreted as an integer",
					 fi_typename(a->v[i]));
#define IV(x) ((x)->type == FV_BOOL ? (x)->u.b : (x)->u.i)
	if (a->n == 1)
		stop = IV(a->v[0]);
	else if (a->n >= 2)
	{
		start = IV(a->v[0]);
		stop = IV(a->v[1]);
		if (a->n == 3)
			step = IV(a->v[2]);
	}
	else
		fi_throw(t, FI_TPL_EVALUE, a->pos, "range expected at least 1 argument, got 0");
#undef IV
	if (step == 0)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "range() arg 3 must not be zero");
	n = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0)
		: (start > stop ? (start - stop - step - 1) / (-step) : 0);
	if (n > 100000)
		fi_throw(t, FI_TPL_EVALUE, a->pos,
				 "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
	r = fi_mklist(t, FV_LIST, (int) n);
	for (int64_t k = 0; k < n; k++)
		fi_list_push(t, r, fi_mkint(t, start + k * step));
	return r;
}

static FiVal *
g_len(FiTpl *t, FiVal *self, FiArgs *a)
{
	fi_args_max(t, a, 1, NULL);
	return fi_mkint(t, fi_py_len(t, fi_need(t, a, 0, "obj"), a->pos));
}

static FiVal *
g_str(FiTpl *t, FiVal *self, FiArgs *a)
{
	fi_args_max(t, a, 1, NULL);
	if (a->n == 0)
		return t->empty;
	return fi_soft_str(t, a->v[0]);
}

static FiVal *
g_int(FiTpl *t, FiVal *self, FiArgs *a)
{
	FiVal	   *v;

	fi_args_max(t, a, 1, NULL);
	if (a->n == 0)
		return fi_mkint(t, 0);
	v = a->v[0];
	switch (v->type)
	{
		case FV_INT:
			return v;
		case FV_BOOL:
			return fi_mkint(t, v->u.b);
		case FV_FLOAT:
			return fi_float_to_int(t, v->u.f, a->pos, NULL);
		case FV_STR:
			{
				int64_t		i;

				if (fi_py_parse_int(t, v->u.s.p, v->u.s.n, &i))
					return fi_mkint(t, i);
				{
					FiBuf		b = {0};

					fi_repr_into(t, &b, v);
					fi_throw(t, FI_TPL_EVALUE, a->pos, "invalid literal for int() with base 10: %s", b.p);
				}
			}
		default:
			fi_throw(t, FI_TPL_EVALUE, a->pos,
					 "int() argument must be a string, a bytes-like object or a real number, not '%s'",
					 fi_typename(v));
	}
}

static FiVal *
g_float(FiTpl *t, FiVal *self, FiArgs *a)
{
	double		d;
	FiVal	   *v;

	fi_args_max(t, a, 1, NULL);
	if (a->n == 0)
		return fi_mkfloat(t, 0.0);
	v = a->v[0];
	if (fi_to_float(t, v, &d))
		return fi_mkfloat(t, d);
	if (v->type == FV_STR)
	{
		FiBuf		b = {0};

		fi_repr_into(t, &b, v);
		fi_throw(t, FI_TPL_EVALUE, a->pos, "could not convert string to float: %s", b.p);
	}
	fi_throw(t, FI_TPL_EVALUE, a->pos,
			 "float() argument must be a string or a real number, not '%s'", fi_typename(v));
}

static FiVal *
g_round(FiTpl *t, FiVal *self, FiArgs *a)
{
	static const char *const kws[] = {"number", "ndigits", NULL};

	fi_args_max(t, a, 2, kws);
	return fi_py_round(t, fi_need(t, a, 0, "number"), fi_arg(t, a, 1, "ndigits", NULL), a->pos);
}

static FiVal *
g_abs(FiTpl *t, FiVal *self, FiArgs *a)
{
	FiArgs		none = {0};

	fi_args_max(t, a, 1, NULL);
	none.pos = a->pos;
	return fi_filter_abs(t, fi_need(t, a, 0, "x"), &none);
}

static FiVal *
g_bool(FiTpl *t, FiVal *self, FiArgs *a)
{
	fi_args_max(t, a, 1, NULL);
	return fi_mkbool(t, a->n && fi_truthy(a->v[0]));
}

static FiVal *
g_list(FiTpl *t, FiVal *self, FiArgs *a)
{
	fi_args_max(t, a, 1, NULL);
	if (a->n == 0)
		return fi_mklist(t, FV_LIST, 0);
	return fi_as_list(t, a->v[0], a->pos);
}

static FiVal *
g_tuple(FiTpl *t, FiVal *self, FiArgs *a)
{
	FiVal	   *l;

	fi_args_max(t, a, 1, NULL);
	if (a->n == 0)
		return fi_mklist(t, FV_TUPLE, 0);
	l = fi_as_list(t, a->v[0], a->pos);
	l->type = FV_TUPLE;
	return l;
}

static FiVal *
g_dict(FiTpl *t, FiVal *self, FiArgs *a)
{
	FiVal	   *d = fi_new(t, FV_DICT);

	if (a->n > 1)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "dict expected at most 1 argument, got %d", a->n);
	if (a->n == 1)
	{
		FiVal	   *src = a->v[0];

		if (src->type == FV_DICT)
			for (int i = 0; i < src->u.d.n; i++)
				fi_dict_put(t, d, src->u.d.k[i], src->u.d.v[i]);
		else
		{
			int			n;
			FiVal	  **items = fi_iterate(t, src, &n, a->pos);

			for (int i = 0; i < n; i++)
			{
				int			m;
				FiVal	  **kv = fi_iterate(t, items[i], &m, a->pos);

				if (m != 2)
					fi_throw(t, FI_TPL_EVALUE, a->pos,
							 "dictionary update sequence element #%d has length %d; 2 is required", i, m);
				if (!fi_hashable(kv[0]))
					fi_throw(t, FI_TPL_EVALUE, a->pos, "unhashable type: '%s'", fi_typename(kv[0]));
				fi_dict_put(t, d, kv[0], kv[1]);
			}
		}
	}
	for (int i = 0; i < a->nkw; i++)
		fi_dict_put(t, d, fi_mkcstr(t, a->kwn[i]), a->kwv[i]);
	return d;
}

static FiVal *
g_namespace(FiTpl *t, FiVal *self, FiArgs *a)
{
	FiVal	   *d = g_dict(t, self, a);

	d->is_ns = 1;
	return d;
}

static FiVal **
minmax_items(FiTpl *t, FiArgs *a, int *n)
{
	if (a->n == 1)
		return fi_iterate(t, a->v[0], n, a->pos);
	*n = a->n;
	return a->v;
}

static FiVal *
g_minmax(FiTpl *t, FiArgs *a, bool want_max)
{
	int			n;
	FiVal	  **items;
	FiVal	   *r;

	for (int i = 0; i < a->nkw; i++)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "%s() keyword arguments are not supported", a->fname);
	if (a->n == 0)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "%s expected at least 1 argument, got 0", a->fname);
	items = minmax_items(t, a, &n);
	r = fi_minmax(t, items, n, want_max, a->pos, false);
	if (r == NULL)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "%s() arg is an empty sequence", a->fname);
	return r;
}

static FiVal *
g_min(FiTpl *t, FiVal *self, FiArgs *a)
{
	return g_minmax(t, a, false);
}

static FiVal *
g_max(FiTpl *t, FiVal *self, FiArgs *a)
{
	return g_minmax(t, a, true);
}

static FiVal *
g_sum(FiTpl *t, FiVal *self, FiArgs *a)
{
	static const char *const kws[] = {"start", NULL};
	int			n;
	FiVal	  **items;
	FiVal	   *acc;

	fi_args_max(t, a, 2, kws);
	items = fi_iterate(t, fi_need(t, a, 0, "iterable"), &n, a->pos);
	acc = fi_arg(t, a, 1, "start", fi_mkint(t, 0));
	if (acc->type == FV_STR)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "sum() can't sum strings [use ''.join(seq) instead]");
	for (int i = 0; i < n; i++)
		acc = fi_binop(t, OP_ADD, acc, items[i], a->pos);
	return acc;
}

static FiVal *
g_sorted(FiTpl *t, FiVal *self, FiArgs *a)
{
	static const char *const kws[] = {"reverse", NULL};
	FiVal	   *l;

	fi_args_max(t, a, 1, kws);
	l = fi_as_list(t, fi_need(t, a, 0, "iterable"), a->pos);
	fi_sort_items(t, l->u.l.v, l->u.l.n, NULL, false,
			   fi_truthy(fi_arg(t, a, -1, "reverse", t->vfalse)), a->pos);
	return l;
}

static FiVal *
g_anyall(FiTpl *t, FiArgs *a, bool any)
{
	int			n;
	FiVal	  **items;

	fi_args_max(t, a, 1, NULL);
	items = fi_iterate(t, fi_need(t, a, 0, "iterable"), &n, a->pos);
	for (int i = 0; i < n; i++)
		if (fi_truthy(items[i]) == any)
			return fi_mkbool(t, any);
	return fi_mkbool(t, !any);
}

static FiVal *
g_any(FiTpl *t, FiVal *self, FiArgs *a)
{
	return g_anyall(t, a, true);
}

static FiVal *
g_all(FiTpl *t, FiVal *self, FiArgs *a)
{
	return g_anyall(t, a, false);
}

static FiVal *
g_enumerate(FiTpl *t, FiVal *self, FiArgs *a)
{
	static const char *const kws[] = {"start", NULL};
	int			n;
	FiVal	  **items;
	FiVal	   *st,
			   *r;

	fi_args_max(t, a, 2, kws);
	items = fi_iterate(t, fi_need(t, a, 0, "iterable"), &n, a->pos);
	st = fi_arg(t, a, 1, "start", fi_mkint(t, 0));
	if (st->type != FV_INT)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "'%s' object cannot be interpreted as an integer",
				 fi_typename(st));
	r = fi_mklist(t, FV_LIST, n);
	for (int i = 0; i < n; i++)
	{
		FiVal	   *p = fi_mklist(t, FV_TUPLE, 2);

		fi_list_push(t, p, fi_mkint(t, st->u.i + i));
		fi_list_push(t, p, items[i]);
		fi_list_push(t, r, p);
	}
	return r;
}

static const FiFunc template_globals[] = {
	{"range", g_range}, {"len", g_len}, {"str", g_str}, {"int", g_int},
	{"float", g_float}, {"round", g_round}, {"abs", g_abs}, {"bool", g_bool},
	{"list", g_list}, {"tuple", g_tuple}, {"dict", g_dict}, {"min", g_min},
	{"max", g_max}, {"sum", g_sum}, {"sorted", g_sorted}, {"any", g_any},
	{"all", g_all}, {"enumerate", g_enumerate}, {"namespace", g_namespace},
	{NULL, NULL}
};

/* safe_eval's builtins: int, float, long (= int), round */
static const FiFunc condition_globals[] = {
	{"int", g_int}, {"float", g_float}, {"long", g_int}, {"round", g_round},
	{NULL, NULL}
};

FiVal *
fi_lookup_global(FiTpl *t, const char *name)
{
	const FiFunc *g = t->mode == FI_MODE_PYTHON ? condition_globals : template_globals;

	if (strcmp(name, "utils") == 0 || (t->mode == FI_MODE_JINJA && strcmp(name, "frappe") == 0))
	{
		FiVal	   *v = fi_new(t, FV_NS);

		v->u.ns = name[0] == 'u' ? &fi_ns_utils_def : &fi_ns_frappe_def;
		return v;
	}
	for (int i = 0; g[i].name; i++)
		if (strcmp(g[i].name, name) == 0)
			return fi_mkfunc(t, &g[i], NULL);
	return NULL;
}

/* ------------------------------------------------------------- methods */

static FiVal *
m_lower(FiTpl *t, FiVal *self, FiArgs *a)
{
	fi_args_max(t, a, 0, NULL);
	return fi_str_case(t, self, 0);
}

static FiVal *
m_upper(FiTpl *t, FiVal *self, FiArgs *a)
{
	fi_args_max(t, a, 0, NULL);
	return fi_str_case(t, self, 1);
}

static FiVal *
m_strip_any(FiTpl *t, FiVal *self, FiArgs *a, bool l, bool r)
{
	FiVal	   *chars = fi_arg(t, a, 0, NULL, NULL);

	fi_args_max(t, a, 1, NULL);
	if (chars && chars->type == FV_NONE)
		chars = NULL;
	if (chars && chars->type != FV_STR)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "strip arg must be None or str");
	return fi_str_strip(t, self, chars, l, r);
}

static FiVal *
m_strip(FiTpl *t, FiVal *self, FiArgs *a)
{
	return m_strip_any(t, self, a, true, true);
}

static FiVal *
m_lstrip(FiTpl *t, FiVal *self, FiArgs *a)
{
	return m_strip_any(t, self, a, true, false);
}

static FiVal *
m_rstrip(FiTpl *t, FiVal *self, FiArgs *a)
{
	return m_strip_any(t, self, a, false, true);
}

static bool
affix(FiTpl *t, FiVal *self, FiVal *x, bool end, int pos)
{
	if (x->type == FV_TUPLE)
	{
		for (int i = 0; i < x->u.l.n; i++)
			if (affix(t, self, x->u.l.v[i], end, pos))
				return true;
		return false;
	}
	if (x->type != FV_STR)
		fi_throw(t, FI_TPL_EVALUE, pos, "%s first arg must be str or a tuple of str, not %s",
				 end ? "endswith" : "startswith", fi_typename(x));
	if (x->u.s.n > self->u.s.n)
		return false;
	return memcmp(self->u.s.p + (end ? self->u.s.n - x->u.s.n : 0), x->u.s.p, x->u.s.n) == 0;
}

static FiVal *
m_startswith(FiTpl *t, FiVal *self, FiArgs *a)
{
	fi_args_max(t, a, 1, NULL);
	return fi_mkbool(t, affix(t, self, fi_need(t, a, 0, "prefix"), false, a->pos));
}

static FiVal *
m_endswith(FiTpl *t, FiVal *self, FiArgs *a)
{
	fi_args_max(t, a, 1, NULL);
	return fi_mkbool(t, affix(t, self, fi_need(t, a, 0, "suffix"), true, a->pos));
}

static FiVal *
m_replace(FiTpl *t, FiVal *self, FiArgs *a)
{
	FiVal	   *old = fi_need(t, a, 0, "old"),
			   *new = fi_need(t, a, 1, "new");
	FiVal	   *cnt = fi_arg(t, a, 2, "count", NULL);

	fi_args_max(t, a, 3, NULL);
	if (old->type != FV_STR || new->type != FV_STR)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "replace() arguments must be str");
	return fi_str_replace(t, self, old, new, cnt && cnt->type == FV_INT ? cnt->u.i : -1);
}

static FiVal *
m_split(FiTpl *t, FiVal *self, FiArgs *a)
{
	static const char *const kws[] = {"sep", "maxsplit", NULL};
	FiVal	   *sep = fi_arg(t, a, 0, "sep", t->none);
	FiVal	   *mx = fi_arg(t, a, 1, "maxsplit", fi_mkint(t, -1));
	int64_t		maxsplit = mx->type == FV_INT ? mx->u.i : -1;
	FiVal	   *r = fi_mklist(t, FV_LIST, 4);
	const char *s = self->u.s.p;
	size_t		n = self->u.s.n,
				i = 0;

	fi_args_max(t, a, 2, kws);
	if (sep->type == FV_NONE)
	{
		/* runs of whitespace; no empty strings */
		while (i < n)
		{
			size_t		st,
						k = i;

			while (k < n)
			{
				size_t		q = k;

				if (!fi_uni_isspace((uint32_t) fi_utf8_next(s, n, &q)))
					break;
				k = q;
			}
			i = k;
			if (i >= n)
				break;
			if (maxsplit >= 0 && r->u.l.n >= maxsplit)
			{
				size_t		e = n;

				while (e > i)
				{
					size_t		b = e - 1,
								q;

					while (b > i && ((unsigned char) s[b] & 0xC0) == 0x80)
						b--;
					q = b;
					if (!fi_uni_isspace((uint32_t) fi_utf8_next(s, n, &q)))
						break;
					e = b;
				}
				fi_list_push(t, r, fi_mkstr(t, s + i, e - i));
				break;
			}
			st = i;
			while (i < n)
			{
				size_t		q = i;

				if (fi_uni_isspace((uint32_t) fi_utf8_next(s, n, &q)))
					break;
				i = q;
			}
			fi_list_push(t, r, fi_mkstr(t, s + st, i - st));
		}
		return r;
	}
	if (sep->type != FV_STR)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "must be str or None, not %s", fi_typename(sep));
	if (sep->u.s.n == 0)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "empty separator");
	{
		size_t		st = 0;

		while (i + sep->u.s.n <= n)
		{
			if ((maxsplit < 0 || r->u.l.n < maxsplit) &&
				memcmp(s + i, sep->u.s.p, sep->u.s.n) == 0)
			{
				fi_list_push(t, r, fi_mkstr(t, s + st, i - st));
				i += sep->u.s.n;
				st = i;
			}
			else
				i++;
		}
		fi_list_push(t, r, fi_mkstr(t, s + st, n - st));
	}
	return r;
}

static FiVal *
m_join(FiTpl *t, FiVal *self, FiArgs *a)
{
	int			n;
	FiVal	  **items;
	FiBuf		b = {0};

	fi_args_max(t, a, 1, NULL);
	items = fi_iterate(t, fi_need(t, a, 0, "iterable"), &n, a->pos);
	for (int i = 0; i < n; i++)
	{
		if (items[i]->type != FV_STR)
			fi_throw(t, FI_TPL_EVALUE, a->pos, "sequence item %d: expected str instance, %s found",
					 i, fi_typename(items[i]));
		if (i)
			fi_buf_put(t, &b, self->u.s.p, self->u.s.n);
		fi_buf_put(t, &b, items[i]->u.s.p, items[i]->u.s.n);
	}
	return fi_mkstr_buf(t, &b);
}

static FiVal *
m_find_count(FiTpl *t, FiVal *self, FiArgs *a, bool count)
{
	FiVal	   *x = fi_need(t, a, 0, "sub");
	int64_t		c = 0;

	fi_args_max(t, a, 1, NULL);
	if (x->type != FV_STR)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "must be str, not %s", fi_typename(x));
	if (x->u.s.n == 0)
		return fi_mkint(t, count ? (int64_t) fi_utf8_len(self->u.s.p, self->u.s.n) + 1 : 0);
	for (size_t i = 0; i + x->u.s.n <= self->u.s.n;)
	{
		if (memcmp(self->u.s.p + i, x->u.s.p, x->u.s.n) == 0)
		{
			if (!count)
				return fi_mkint(t, (int64_t) fi_utf8_len(self->u.s.p, i));
			c++;
			i += x->u.s.n;
		}
		else
			i++;
	}
	return fi_mkint(t, count ? c : -1);
}

static FiVal *
m_find(FiTpl *t, FiVal *self, FiArgs *a)
{
	return m_find_count(t, self, a, false);
}

static FiVal *
m_count(FiTpl *t, FiVal *self, FiArgs *a)
{
	return m_find_count(t, self, a, true);
}

static FiVal *
m_capitalize(FiTpl *t, FiVal *self, FiArgs *a)
{
	return fi_filter_capitalize(t, self, a);
}

static FiVal *
m_isdigit(FiTpl *t, FiVal *self, FiArgs *a)
{
	fi_args_max(t, a, 0, NULL);
	if (self->u.s.n == 0)
		return t->vfalse;
	for (size_t i = 0; i < self->u.s.n; i++)
		if (!isdigit((unsigned char) self->u.s.p[i]))
			return t->vfalse;
	return t->vtrue;
}

static FiVal *
m_dict_get(FiTpl *t, FiVal *self, FiArgs *a)
{
	FiVal	   *k = fi_need(t, a, 0, "key");
	FiVal	   *v;

	fi_args_max(t, a, 2, NULL);
	if (!fi_hashable(k))
		fi_throw(t, FI_TPL_EVALUE, a->pos, "unhashable type: '%s'", fi_typename(k));
	v = fi_dict_get(self, k);
	return v ? v : (a->n > 1 ? a->v[1] : t->none);
}

static FiVal *
m_dict_keys(FiTpl *t, FiVal *self, FiArgs *a)
{
	FiVal	   *r = fi_mklist(t, FV_LIST, self->u.d.n);

	fi_args_max(t, a, 0, NULL);
	for (int i = 0; i < self->u.d.n; i++)
		fi_list_push(t, r, self->u.d.k[i]);
	return r;
}

static FiVal *
m_dict_values(FiTpl *t, FiVal *self, FiArgs *a)
{
	FiVal	   *r = fi_mklist(t, FV_LIST, self->u.d.n);

	fi_args_max(t, a, 0, NULL);
	for (int i = 0; i < self->u.d.n; i++)
		fi_list_push(t, r, self->u.d.v[i]);
	return r;
}

static FiVal *
m_dict_items(FiTpl *t, FiVal *self, FiArgs *a)
{
	return fi_filter_items(t, self, a);
}

static const FiFunc str_methods[] = {
	{"lower", m_lower}, {"upper", m_upper}, {"strip", m_strip}, {"lstrip", m_lstrip},
	{"rstrip", m_rstrip}, {"startswith", m_startswith}, {"endswith", m_endswith},
	{"replace", m_replace}, {"split", m_split}, {"join", m_join}, {"find", m_find},
	{"count", m_count}, {"capitalize", m_capitalize}, {"isdigit", m_isdigit},
	{NULL, NULL}
};

static const FiFunc dict_methods[] = {
	{"get", m_dict_get}, {"keys", m_dict_keys}, {"values", m_dict_values},
	{"items", m_dict_items}, {NULL, NULL}
};

FiVal *
fi_method(FiTpl *t, FiVal *obj, const char *name)
{
	const FiFunc *m = NULL;

	if (obj->type == FV_STR)
		m = str_methods;
	else if (obj->type == FV_DICT)
		m = dict_methods;
	if (m == NULL)
		return NULL;
	for (int i = 0; m[i].name; i++)
		if (strcmp(m[i].name, name) == 0)
			return fi_mkfunc(t, &m[i], obj);
	return NULL;
}

/* --------------------------------------------------------------- dates */

static const char *const wdays[] = {"Monday", "Tuesday", "Wednesday", "Thursday",
"Friday", "Saturday", "Sunday"};
static const char *const months[] = {"January", "February", "March", "April", "May",
	"June", "July", "August", "September", "October", "November", "December"};

static FiVal *
m_strftime(FiTpl *t, FiVal *self, FiArgs *a)
{
	FiVal	   *f = fi_need(t, a, 0, "format");
	int			y,
				m,
				d;
	int64_t		us = self->type == FV_DATETIME ? self->u.dt.usec : 0;
	int64_t		s = us / 1000000;
	int			wd = (self->u.dt.ord + 6) % 7;	/* Monday = 0 */
	FiBuf		b = {0};
	char		tmp[32];

	fi_args_max(t, a, 1, NULL);
	fi_need_str(t, f, "format", a->pos);
	fi_ord_to_ymd(self->u.dt.ord, &y, &m, &d);
	for (size_t i = 0; i < f->u.s.n; i++)
	{
		char		c = f->u.s.p[i];

		if (c != '%' || i + 1 >= f->u.s.n)
		{
			fi_buf_putc(t, &b, c);
			continue;
		}
		c = f->u.s.p[++i];
		tmp[0] = '\0';
		switch (c)
		{
			case 'Y':
				snprintf(tmp, sizeof(tmp), "%d", y);
				break;
			case 'y':
				snprintf(tmp, sizeof(tmp), "%02d", y % 100);
				break;
			case 'm':
				snprintf(tmp, sizeof(tmp), "%02d", m);
				break;
			case 'd':
				snprintf(tmp, sizeof(tmp), "%02d", d);
				break;
			case 'H':
				snprintf(tmp, sizeof(tmp), "%02d", (int) (s / 3600));
				break;
			case 'I':
				snprintf(tmp, sizeof(tmp), "%02d", (int) ((s / 3600) % 12 == 0 ? 12 : (s / 3600) % 12));
				break;
			case 'M':
				snprintf(tmp, sizeof(tmp), "%02d", (int) (s / 60 % 60));
				break;
			case 'S':
				snprintf(tmp, sizeof(tmp), "%02d", (int) (s % 60));
				break;
			case 'f':
				snprintf(tmp, sizeof(tmp), "%06d", (int) (us % 1000000));
				break;
			case 'p':
				snprintf(tmp, sizeof(tmp), "%s", s / 3600 < 12 ? "AM" : "PM");
				break;
			case 'j':
				snprintf(tmp, sizeof(tmp), "%03d", self->u.dt.ord - fi_ymd_to_ord(y, 1, 1) + 1);
				break;
			case 'A':
				snprintf(tmp, sizeof(tmp), "%s", wdays[wd]);
				break;
			case 'a':
				snprintf(tmp, sizeof(tmp), "%.3s", wdays[wd]);
				break;
			case 'B':
				snprintf(tmp, sizeof(tmp), "%s", months[m - 1]);
				break;
			case 'b':
				snprintf(tmp, sizeof(tmp), "%.3s", months[m - 1]);
				break;
			case '%':
				snprintf(tmp, sizeof(tmp), "%%");
				break;
			default:
				fi_throw(t, FI_TPL_EVALUE, a->pos, "strftime directive %%%c is not supported", c);
		}
		fi_buf_puts(t, &b, tmp);
	}
	return fi_mkstr_buf(t, &b);
}

static FiVal *
m_isoformat(FiTpl *t, FiVal *self, FiArgs *a)
{
	FiBuf		b = {0};
	FiVal	   *s;

	fi_args_max(t, a, 0, NULL);
	fi_str_into(t, &b, self);
	s = fi_mkstr_buf(t, &b);
	if (self->type == FV_DATETIME)
		((char *) s->u.s.p)[10] = 'T';
	return s;
}

static FiVal *
m_weekday(FiTpl *t, FiVal *self, FiArgs *a)
{
	fi_args_max(t, a, 0, NULL);
	return fi_mkint(t, (self->u.dt.ord + 6) % 7);
}

static FiVal *
m_isoweekday(FiTpl *t, FiVal *self, FiArgs *a)
{
	fi_args_max(t, a, 0, NULL);
	return fi_mkint(t, (self->u.dt.ord + 6) % 7 + 1);
}

static FiVal *
m_date(FiTpl *t, FiVal *self, FiArgs *a)
{
	fi_args_max(t, a, 0, NULL);
	return fi_mkdate(t, self->u.dt.ord);
}

static FiVal *
m_total_seconds(FiTpl *t, FiVal *self, FiArgs *a)
{
	fi_args_max(t, a, 0, NULL);
	return fi_mkfloat(t, (double) self->u.td / 1e6);
}

static const FiFunc date_methods[] = {
	{"strftime", m_strftime}, {"isoformat", m_isoformat}, {"weekday", m_weekday},
	{"isoweekday", m_isoweekday}, {"date", m_date}, {NULL, NULL}
};
static const FiFunc tdelta_methods[] = {
	{"total_seconds", m_total_seconds}, {NULL, NULL}
};

FiVal *
fi_date_attr(FiTpl *t, FiVal *v, const char *name)
{
	if (v->type == FV_TDELTA)
	{
		int64_t		rest;
		int64_t		days = fi_split_usec(v->u.td, &rest);

		if (strcmp(name, "days") == 0)
			return fi_mkint(t, days);
		if (strcmp(name, "seconds") == 0)
			return fi_mkint(t, rest / 1000000);
		if (strcmp(name, "microseconds") == 0)
			return fi_mkint(t, rest % 1000000);
		for (int i = 0; tdelta_methods[i].name; i++)
			if (strcmp(tdelta_methods[i].name, name) == 0)
				return fi_mkfunc(t, &tdelta_methods[i], v);
		return NULL;
	}
	{
		int			y,
					m,
					d;
		int64_t		s = v->type == FV_DATETIME ? v->u.dt.usec / 1000000 : 0;

		fi_ord_to_ymd(v->u.dt.ord, &y, &m, &d);
		if (strcmp(name, "year") == 0)
			return fi_mkint(t, y);
		if (strcmp(name, "month") == 0)
			return fi_mkint(t, m);
		if (strcmp(name, "day") == 0)
			return fi_mkint(t, d);
		if (v->type == FV_DATETIME)
		{
			if (strcmp(name, "hour") == 0)
				return fi_mkint(t, s / 3600);
			if (strcmp(name, "minute") == 0)
				return fi_mkint(t, s / 60 % 60);
			if (strcmp(name, "second") == 0)
				return fi_mkint(t, s % 60);
			if (strcmp(name, "microsecond") == 0)
				return fi_mkint(t, v->u.dt.usec % 1000000);
		}
		for (int i = 0; date_methods[i].name; i++)
			if (strcmp(date_methods[i].name, name) == 0 &&
				(v->type == FV_DATETIME || strcmp(name, "date") != 0))
				return fi_mkfunc(t, &date_methods[i], v);
	}
	return NULL;
}

/* ------------------------------------------------------ '%' formatting */

FiVal *
fi_percent_format(FiTpl *t, FiVal *fmt, FiVal *args, int pos)
{
	FiBuf		b = {0};
	int			argi = 0;
	int			nargs = args->type == FV_TUPLE ? args->u.l.n : 1;
	FiVal	  **argv = args->type == FV_TUPLE ? args->u.l.v : &args;
	const char *f = fmt->u.s.p;
	size_t		n = fmt->u.s.n;

	for (size_t i = 0; i < n; i++)
	{
		char		spec[32];
		int			k = 0;
		char		conv;
		FiVal	   *v;
		char		tmp[1400];	/* %999.999f of 1e50 fits */

		if (f[i] != '%')
		{
			fi_buf_putc(t, &b, f[i]);
			continue;
		}
		if (++i >= n)
			fi_throw(t, FI_TPL_EVALUE, pos, "incomplete format");
		if (f[i] == '%')
		{
			fi_buf_putc(t, &b, '%');
			continue;
		}
		if (f[i] == '(')
			fi_throw(t, FI_TPL_EVALUE, pos, "named '%%' format fields are not supported");
		spec[k++] = '%';
		while (i < n && strchr("-+ #0", f[i]) && k < 8)
			spec[k++] = f[i++];
		{
			/* width and precision: at most 3 digits each (up to 999) */
			int			nd = 0;

			while (i < n && isdigit((unsigned char) f[i]))
			{
				if (++nd > 3)
					fi_throw(t, FI_TPL_EVALUE, pos, "'%%' format width is too large");
				spec[k++] = f[i++];
			}
			if (i < n && f[i] == '.')
			{
				spec[k++] = f[i++];
				nd = 0;
				while (i < n && isdigit((unsigned char) f[i]))
				{
					if (++nd > 3)
						fi_throw(t, FI_TPL_EVALUE, pos, "'%%' format precision is too large");
					spec[k++] = f[i++];
				}
			}
		}
		if (i >= n)
			fi_throw(t, FI_TPL_EVALUE, pos, "incomplete format");
		conv = f[i];
		if (argi >= nargs)
			fi_throw(t, FI_TPL_EVALUE, pos, "not enough arguments for format string");
		v = argv[argi++];
		switch (conv)
		{
			case 's':
			case 'r':
				{
					FiBuf		sb = {0};
					int			width = 0;
					bool		left = false;
					size_t		cps;

					if (conv == 's')
						fi_str_into(t, &sb, v);
					else
						fi_repr_into(t, &sb, v);
					for (int q = 1; q < k; q++)
					{
						if (spec[q] == '-')
							left = true;
						else if (spec[q] == '.')
						{
							/* precision truncates */
							int			prec = atoi(spec + q + 1);
							size_t		off = 0;

							for (int c = 0; c < prec && off < sb.n; c++)
								fi_utf8_next(sb.p, sb.n, &off);
							if (off < sb.n)
								sb.n = off;
							break;
						}
						else if (isdigit((unsigned char) spec[q]) && width == 0)
							width = atoi(spec + q);
					}
					cps = sb.p ? fi_utf8_len(sb.p, sb.n) : 0;
					if (!left)
						for (size_t q = cps; (int) q < width; q++)
							fi_buf_putc(t, &b, ' ');
					if (sb.n)
						fi_buf_put(t, &b, sb.p, sb.n);
					if (left)
						for (size_t q = cps; (int) q < width; q++)
							fi_buf_putc(t, &b, ' ');
					break;
				}
			case 'd':
			case 'i':
			case 'x':
			case 'X':
			case 'o':
				{
					int64_t		iv;

					if (v->type == FV_FLOAT)
					{
						FiVal	   *iv2 = fi_float_to_int(t, v->u.f, pos, NULL);

						iv = iv2->u.i;
					}
					else if (v->type == FV_INT || v->type == FV_BOOL)
						iv = v->type == FV_BOOL ? v->u.b : v->u.i;
					else
						fi_throw(t, FI_TPL_EVALUE, pos, "%%%c format: a real number is required, not %s",
								 conv, fi_typename(v));
					if (conv != 'd' && conv != 'i' && iv < 0)
						fi_throw(t, FI_TPL_EVALUE, pos, "negative numbers in %%%c are not supported", conv);
					spec[k++] = 'l';
					spec[k++] = 'l';
					spec[k++] = conv == 'i' ? 'd' : conv;
					spec[k] = '\0';
					snprintf(tmp, sizeof(tmp), spec, (long long) iv);
					fi_buf_puts(t, &b, tmp);
					break;
				}
			case 'f':
			case 'F':
			case 'e':
			case 'E':
			case 'g':
			case 'G':
				{
					double		dv;

					if (!fi_is_number(v))
						fi_throw(t, FI_TPL_EVALUE, pos, "must be real number, not %s", fi_typename(v));
					dv = fi_as_double(v);
					if (isnan(dv) || isinf(dv))
						fi_throw(t, FI_TPL_EVALUE, pos, "formatting nan or inf with %%%c is not supported", conv);
					if (strchr(spec, '.') == NULL && k > 14)
						fi_throw(t, FI_TPL_EVALUE, pos, "format too wide");
					spec[k++] = conv;
					spec[k] = '\0';
					if (fabs(dv) > 1e50 && (conv == 'f' || conv == 'F'))
						fi_throw(t, FI_TPL_EVALUE, pos, "number too large for %%f");
					snprintf(tmp, sizeof(tmp), spec, dv);
					fi_buf_puts(t, &b, tmp);
					break;
				}
			default:
				fi_throw(t, FI_TPL_EVALUE, pos, "unsupported format character '%c'", conv);
		}
	}
	if (argi < nargs && args->type == FV_TUPLE)
		fi_throw(t, FI_TPL_EVALUE, pos, "not all arguments converted during string formatting");
	/* a list or dict argument is taken as a mapping: no error (CPython) */
	if (argi == 0 && args->type != FV_TUPLE && args->type != FV_DICT && args->type != FV_LIST)
		fi_throw(t, FI_TPL_EVALUE, pos, "not all arguments converted during string formatting");
	return fi_mkstr_buf(t, &b);
}
