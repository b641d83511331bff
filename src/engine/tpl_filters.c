/*
 * tpl_filters.c
 *		Jinja2 3.1's filters and tests that webhook templates use, and
 *		Frappe's filters (json = frappe.as_json, len, int = cint, str = cstr,
 *		flt), with the helpers the globals share.  Each behaves as the Python
 *		it stands for (checked by test/template/).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tpl_int.h"

typedef FiVal *(*FilterFn) (FiTpl *t, FiVal *v, FiArgs *a);

void
fi_need_str(FiTpl *t, FiVal *v, const char *what, int pos)
{
	if (v->type != FV_STR)
		fi_throw(t, FI_TPL_EVALUE, pos, "%s must be str, not %s", what, fi_typename(v));
}

FiVal *
fi_as_list(FiTpl *t, FiVal *v, int pos)
{
	int			n;
	FiVal	  **items = fi_iterate(t, v, &n, pos);
	FiVal	   *l = fi_mklist(t, FV_LIST, n);

	for (int i = 0; i < n; i++)
		fi_list_push(t, l, items[i]);
	return l;
}

int64_t
fi_py_len(FiTpl *t, FiVal *v, int pos)
{
	switch (v->type)
	{
		case FV_STR:
			return (int64_t) fi_utf8_len(v->u.s.p, v->u.s.n);
		case FV_LIST:
		case FV_TUPLE:
			return v->u.l.n;
		case FV_DICT:
			return v->u.d.n;
		case FV_UNDEF:
			return 0;
		default:
			fi_throw(t, FI_TPL_EVALUE, pos, "object of type '%s' has no len()", fi_typename(v));
	}
}

static FiVal *
json_text(FiTpl *t, FiVal *v, const FiJsonStyle *st, int pos)
{
	FiBuf		b = {0};

	fi_json_into(t, &b, v, st, pos);
	return fi_mkstr_buf(t, &b);
}

/* attribute path of map/sum/sort/selectattr: "a.b", "0" */
static FiVal *
attr_path(FiTpl *t, FiVal *item, FiVal *attr, int pos)
{
	const char *s;
	size_t		n;

	if (attr->type == FV_INT)
		return fi_getitem(t, item, attr, pos);
	if (attr->type != FV_STR)
		fi_throw(t, FI_TPL_EVALUE, pos, "attribute must be a string");
	s = attr->u.s.p;
	n = attr->u.s.n;
	while (n > 0)
	{
		const char *dot = memchr(s, '.', n);
		size_t		len = dot ? (size_t) (dot - s) : n;
		FiVal	   *key;
		bool		num = len > 0;

		for (size_t k = 0; k < len; k++)
			if (!isdigit((unsigned char) s[k]))
				num = false;
		if (num)
			key = fi_mkint(t, strtoll(fi_strndup(t, s, len), NULL, 10));
		else
			key = fi_mkstr(t, s, len);
		item = fi_getitem(t, item, key, pos);
		if (!dot)
			break;
		s = dot + 1;
		n -= len + 1;
	}
	return item;
}

/* ------------------------------------------------------------- filters */

static FiVal *
f_tojson(FiTpl *t, FiVal *v, FiArgs *a)
{
	static const char *const kws[] = {"indent", NULL};
	FiVal	   *ind = fi_arg(t, a, 0, "indent", t->none);
	FiJsonStyle st = {-1, true, false, true, false};

	fi_args_max(t, a, 1, kws);
	if (ind->type == FV_INT)
		st.indent = (int) (ind->u.i < 0 ? 0 : ind->u.i > 32 ? 32 : ind->u.i);
	return json_text(t, v, &st, a->pos);
}

/*
 * {{ x | tojson }} and {{ x | json }} as a whole print statement: the JSON
 * goes straight into the output, without a string in between.  Same text.
 */
bool
fi_filter_streams(const char *name)
{
	return strcmp(name, "tojson") == 0 || strcmp(name, "json") == 0;
}

void
fi_filter_stream(FiTpl *t, const char *name, FiVal *v, FiArgs *a, FiBuf *out)
{
	FiJsonStyle st = {-1, true, false, true, false};
	FiVal	   *ind;

	if (strcmp(name, "json") == 0)
	{
		static const char *const kws[] = {"indent", "separators", "ensure_ascii", NULL};

		fi_args_max(t, a, 1, kws);
		if (fi_arg(t, a, -1, "separators", NULL) || fi_arg(t, a, -1, "ensure_ascii", NULL))
			fi_throw(t, FI_TPL_EVALUE, a->pos, "json(): only the indent argument is supported");
		st = (FiJsonStyle) {1, true, true, false, true};
		ind = fi_arg(t, a, 0, "indent", fi_mkint(t, 1));
		if (ind->type == FV_NONE)
			st.indent = -1;
	}
	else
	{
		static const char *const kws[] = {"indent", NULL};

		fi_args_max(t, a, 1, kws);
		ind = fi_arg(t, a, 0, "indent", t->none);
	}
	if (ind->type == FV_INT)
		st.indent = (int) (ind->u.i < 0 ? 0 : ind->u.i > 32 ? 32 : ind->u.i);
	fi_json_into(t, out, v, &st, a->pos);
}

static FiVal *
f_json(FiTpl *t, FiVal *v, FiArgs *a)
{
	/* frappe.as_json: indent=1, sort_keys, separators (",", ": ") */
	static const char *const kws[] = {"indent", "separators", "ensure_ascii", NULL};
	FiVal	   *ind = fi_arg(t, a, 0, "indent", fi_mkint(t, 1));
	FiJsonStyle st = {1, true, true, false, true};

	fi_args_max(t, a, 1, kws);
	if (fi_arg(t, a, -1, "separators", NULL) || fi_arg(t, a, -1, "ensure_ascii", NULL))
		fi_throw(t, FI_TPL_EVALUE, a->pos, "json(): only the indent argument is supported");
	if (ind->type == FV_NONE)
		st.indent = -1;
	else if (ind->type == FV_INT)
		st.indent = (int) (ind->u.i < 0 ? 0 : ind->u.i > 32 ? 32 : ind->u.i);
	return json_text(t, v, &st, a->pos);
}

static FiVal *
f_default(FiTpl *t, FiVal *v, FiArgs *a)
{
	static const char *const kws[] = {"default_value", "boolean", NULL};
	FiVal	   *d = fi_arg(t, a, 0, "default_value", t->empty);
	bool		boolean = fi_truthy(fi_arg(t, a, 1, "boolean", t->vfalse));

	fi_args_max(t, a, 2, kws);
	if (v->type == FV_UNDEF || (boolean && !fi_truthy(v)))
		return d;
	return v;
}

static FiVal *
f_upper(FiTpl *t, FiVal *v, FiArgs *a)
{
	fi_args_max(t, a, 0, NULL);
	return fi_str_case(t, fi_soft_str(t, v), 1);
}

static FiVal *
f_lower(FiTpl *t, FiVal *v, FiArgs *a)
{
	fi_args_max(t, a, 0, NULL);
	return fi_str_case(t, fi_soft_str(t, v), 0);
}

static bool
title_sep(int cp)
{
	return cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' ||
		(cp >= 0 && fi_uni_isspace((uint32_t) cp));
}

static FiVal *
f_title(FiTpl *t, FiVal *v, FiArgs *a)
{
	FiVal	   *s = fi_soft_str(t, v);
	FiBuf		b = {0};
	size_t		i = 0;

	fi_args_max(t, a, 0, NULL);
	/* Jinja: split on runs of [-\s({\[<], then w[0].upper() + w[1:].lower() */
	while (i < s->u.s.n)
	{
		size_t		st = i;
		int			cp = fi_utf8_next(s->u.s.p, s->u.s.n, &i);

		if (title_sep(cp))
		{
			while (i < s->u.s.n)
			{
				size_t		save = i;

				if (!title_sep(fi_utf8_next(s->u.s.p, s->u.s.n, &i)))
				{
					i = save;
					break;
				}
			}
			fi_buf_put(t, &b, s->u.s.p + st, i - st);
			continue;
		}
		{
			FiVal		first = {.type = FV_STR},
						rest = {.type = FV_STR};
			size_t		end = i;

			while (end < s->u.s.n)
			{
				size_t		save = end;

				if (title_sep(fi_utf8_next(s->u.s.p, s->u.s.n, &end)))
				{
					end = save;
					break;
				}
			}
			first.u.s.p = s->u.s.p + st;
			first.u.s.n = i - st;
			rest.u.s.p = s->u.s.p + i;
			rest.u.s.n = end - i;
			{
				FiVal	   *u = fi_str_case(t, &first, 1);
				FiVal	   *l = fi_str_case(t, &rest, 0);

				fi_buf_put(t, &b, u->u.s.p, u->u.s.n);
				fi_buf_put(t, &b, l->u.s.p, l->u.s.n);
			}
			i = end;
		}
	}
	return fi_mkstr_buf(t, &b);
}

static bool
in_chars(FiVal *chars, int cp)
{
	size_t		i = 0;

	if (chars == NULL)
		return cp >= 0 && fi_uni_isspace((uint32_t) cp);
	while (i < chars->u.s.n)
		if (fi_utf8_next(chars->u.s.p, chars->u.s.n, &i) == cp)
			return true;
	return false;
}

FiVal *
fi_str_strip(FiTpl *t, FiVal *s, FiVal *chars, bool left, bool right)
{
	size_t		a = 0,
				b = s->u.s.n;

	if (left)
		while (a < b)
		{
			size_t		i = a;

			if (!in_chars(chars, fi_utf8_next(s->u.s.p, b, &i)))
				break;
			a = i;
		}
	if (right)
		while (b > a)
		{
			size_t		st = b - 1,
						i;

			while (st > a && ((unsigned char) s->u.s.p[st] & 0xC0) == 0x80)
				st--;
			i = st;
			if (!in_chars(chars, fi_utf8_next(s->u.s.p, b, &i)))
				break;
			b = st;
		}
	return fi_mkstr(t, s->u.s.p + a, b - a);
}

static FiVal *
f_trim(FiTpl *t, FiVal *v, FiArgs *a)
{
	static const char *const kws[] = {"chars", NULL};
	FiVal	   *chars = fi_arg(t, a, 0, "chars", NULL);

	fi_args_max(t, a, 1, kws);
	if (chars && chars->type == FV_NONE)
		chars = NULL;
	if (chars)
		chars = fi_soft_str(t, chars);
	return fi_str_strip(t, fi_soft_str(t, v), chars, true, true);
}

static FiVal *
f_round(FiTpl *t, FiVal *v, FiArgs *a)
{
	static const char *const kws[] = {"precision", "method", NULL};
	FiVal	   *prec = fi_arg(t, a, 0, "precision", fi_mkint(t, 0));
	FiVal	   *method = fi_arg(t, a, 1, "method", NULL);

	fi_args_max(t, a, 2, kws);
	if (method && !(method->type == FV_STR && method->u.s.n == 6 &&
					memcmp(method->u.s.p, "common", 6) == 0))
	{
		bool		ceil_ = method->type == FV_STR && method->u.s.n == 4 &&
			memcmp(method->u.s.p, "ceil", 4) == 0;
		bool		floor_ = method->type == FV_STR && method->u.s.n == 5 &&
			memcmp(method->u.s.p, "floor", 5) == 0;
		double		p,
					x;

		if (!ceil_ && !floor_)
			fi_throw(t, FI_TPL_EVALUE, a->pos, "method must be common, ceil or floor");
		if (!fi_is_number(v) || !fi_is_number(prec))
			fi_throw(t, FI_TPL_EVALUE, a->pos, "round needs a number");
		p = pow(10.0, fi_as_double(prec));
		x = fi_as_double(v) * p;
		return fi_mkfloat(t, (ceil_ ? ceil(x) : floor(x)) / p);
	}
	return fi_py_round(t, v, prec, a->pos);
}

static FiVal *
f_int(FiTpl *t, FiVal *v, FiArgs *a)
{
	/* Frappe replaces Jinja's int filter with cint */
	static const char *const kws[] = {"default", NULL};

	fi_args_max(t, a, 1, kws);
	return fi_cint(t, v, fi_arg(t, a, 0, "default", fi_mkint(t, 0)));
}

static FiVal *
f_float(FiTpl *t, FiVal *v, FiArgs *a)
{
	static const char *const kws[] = {"default", NULL};
	double		d;

	fi_args_max(t, a, 1, kws);
	if (v->type == FV_UNDEF)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "'%s' is undefined", v->u.u.name ? v->u.u.name : "value");
	if (!fi_to_float(t, v, &d))
		return fi_arg(t, a, 0, "default", fi_mkfloat(t, 0.0));
	return fi_mkfloat(t, d);
}

static FiVal *
f_string(FiTpl *t, FiVal *v, FiArgs *a)
{
	fi_args_max(t, a, 0, NULL);
	return fi_soft_str(t, v);
}

static FiVal *
f_str(FiTpl *t, FiVal *v, FiArgs *a)
{
	static const char *const kws[] = {"encoding", NULL};

	fi_args_max(t, a, 1, kws);
	return fi_cstr(t, v);
}

static FiVal *
f_length(FiTpl *t, FiVal *v, FiArgs *a)
{
	fi_args_max(t, a, 0, NULL);
	return fi_mkint(t, fi_py_len(t, v, a->pos));
}

static FiVal *
f_join(FiTpl *t, FiVal *v, FiArgs *a)
{
	static const char *const kws[] = {"d", "attribute", NULL};
	FiVal	   *d = fi_arg(t, a, 0, "d", t->empty);
	FiVal	   *attr = fi_arg(t, a, 1, "attribute", NULL);
	int			n;
	FiVal	  **items;
	FiBuf		b = {0};

	fi_args_max(t, a, 2, kws);
	items = fi_iterate(t, v, &n, a->pos);
	d = fi_soft_str(t, d);
	for (int i = 0; i < n; i++)
	{
		FiVal	   *x = attr ? attr_path(t, items[i], attr, a->pos) : items[i];

		if (i)
			fi_buf_put(t, &b, d->u.s.p, d->u.s.n);
		fi_str_into(t, &b, x);
	}
	return fi_mkstr_buf(t, &b);
}

FiVal *
fi_str_replace(FiTpl *t, FiVal *s, FiVal *old, FiVal *new, int64_t count)
{
	FiBuf		b = {0};
	size_t		i = 0;
	int64_t		done = 0;

	if (old->u.s.n == 0)
	{
		/* Python inserts new between every character */
		size_t		k = 0;

		while (k <= s->u.s.n && (count < 0 || done < count))
		{
			size_t		st = k;

			fi_buf_put(t, &b, new->u.s.p, new->u.s.n);
			done++;
			if (k == s->u.s.n)
			{
				k++;
				break;
			}
			fi_utf8_next(s->u.s.p, s->u.s.n, &k);
			fi_buf_put(t, &b, s->u.s.p + st, k - st);
		}
		if (k <= s->u.s.n)
			fi_buf_put(t, &b, s->u.s.p + k, s->u.s.n - k);
		fi_buf_put(t, &b, "", 0);
		return fi_mkstr_buf(t, &b);
	}
	fi_buf_put(t, &b, "", 0);
	while (i < s->u.s.n)
	{
		if ((count < 0 || done < count) && i + old->u.s.n <= s->u.s.n &&
			memcmp(s->u.s.p + i, old->u.s.p, old->u.s.n) == 0)
		{
			fi_buf_put(t, &b, new->u.s.p, new->u.s.n);
			i += old->u.s.n;
			done++;
		}
		else
			fi_buf_putc(t, &b, s->u.s.p[i++]);
	}
	return fi_mkstr_buf(t, &b);
}

static FiVal *
f_replace(FiTpl *t, FiVal *v, FiArgs *a)
{
	static const char *const kws[] = {"old", "new", "count", NULL};
	FiVal	   *cnt = fi_arg(t, a, 2, "count", t->none);

	fi_args_max(t, a, 3, kws);
	return fi_str_replace(t, fi_soft_str(t, v), fi_soft_str(t, fi_need(t, a, 0, "old")),
					   fi_soft_str(t, fi_need(t, a, 1, "new")),
					   cnt->type == FV_INT ? cnt->u.i : -1);
}

static FiVal *
f_first(FiTpl *t, FiVal *v, FiArgs *a)
{
	int			n;
	FiVal	  **items;

	fi_args_max(t, a, 0, NULL);
	items = fi_iterate(t, v, &n, a->pos);
	if (n == 0)
		return fi_mkundef_hint(t, "No first item, sequence was empty.");
	return items[0];
}

static FiVal *
f_last(FiTpl *t, FiVal *v, FiArgs *a)
{
	int			n;
	FiVal	  **items;

	fi_args_max(t, a, 0, NULL);
	items = fi_iterate(t, v, &n, a->pos);
	if (n == 0)
		return fi_mkundef_hint(t, "No last item, sequence was empty.");
	return items[n - 1];
}

FiVal *
fi_filter_abs(FiTpl *t, FiVal *v, FiArgs *a)
{
	fi_args_max(t, a, 0, NULL);
	if (v->type == FV_FLOAT)
		return fi_mkfloat(t, fabs(v->u.f));
	if (v->type == FV_INT || v->type == FV_BOOL)
	{
		int64_t		i = v->type == FV_BOOL ? v->u.b : v->u.i;

		if (i == INT64_MIN)
			fi_throw(t, FI_TPL_EVALUE, a->pos, "integer result does not fit in 64 bits");
		return fi_mkint(t, i < 0 ? -i : i);
	}
	if (v->type == FV_TDELTA)
		return fi_mktdelta(t, v->u.td < 0 ? -v->u.td : v->u.td);
	fi_throw(t, FI_TPL_EVALUE, a->pos, "bad operand type for abs(): '%s'", fi_typename(v));
}

static FiVal *
f_list(FiTpl *t, FiVal *v, FiArgs *a)
{
	fi_args_max(t, a, 0, NULL);
	return fi_as_list(t, v, a->pos);
}

static FiVal *
f_flt(FiTpl *t, FiVal *v, FiArgs *a)
{
	static const char *const kws[] = {"precision", "rounding_method", NULL};

	fi_args_max(t, a, 2, kws);
	return fi_flt(t, v, fi_arg(t, a, 0, "precision", NULL),
				  fi_arg(t, a, 1, "rounding_method", NULL), a->pos);
}

FiVal *
fi_filter_capitalize(FiTpl *t, FiVal *v, FiArgs *a)
{
	FiVal	   *s = fi_soft_str(t, v);
	size_t		i = 0;
	FiVal		first = {.type = FV_STR},
				rest = {.type = FV_STR};
	FiBuf		b = {0};

	fi_args_max(t, a, 0, NULL);
	if (s->u.s.n == 0)
		return s;
	fi_utf8_next(s->u.s.p, s->u.s.n, &i);
	first.u.s.p = s->u.s.p;
	first.u.s.n = i;
	rest.u.s.p = s->u.s.p + i;
	rest.u.s.n = s->u.s.n - i;
	{
		FiVal	   *u = fi_str_case(t, &first, 1),
				   *l = fi_str_case(t, &rest, 0);

		fi_buf_put(t, &b, u->u.s.p, u->u.s.n);
		fi_buf_put(t, &b, l->u.s.p, l->u.s.n);
	}
	return fi_mkstr_buf(t, &b);
}

/*
 * & < > escaped, and " and ' as given: Jinja's escape writes &#34; &#39;,
 * frappe.utils.escape_html &quot; &apos;.
 */
FiVal *
fi_html_escape(FiTpl *t, FiVal *s, const char *quot, const char *apos)
{
	FiBuf		b = {0};

	for (size_t i = 0; i < s->u.s.n; i++)
		switch (s->u.s.p[i])
		{
			case '&':
				fi_buf_puts(t, &b, "&amp;");
				break;
			case '<':
				fi_buf_puts(t, &b, "&lt;");
				break;
			case '>':
				fi_buf_puts(t, &b, "&gt;");
				break;
			case '"':
				fi_buf_puts(t, &b, quot);
				break;
			case '\'':
				fi_buf_puts(t, &b, apos);
				break;
			default:
				fi_buf_putc(t, &b, s->u.s.p[i]);
		}
	return fi_mkstr_buf(t, &b);
}

static FiVal *
f_escape(FiTpl *t, FiVal *v, FiArgs *a)
{
	fi_args_max(t, a, 0, NULL);
	return fi_html_escape(t, fi_soft_str(t, v), "&#34;", "&#39;");
}

static void
url_quote(FiTpl *t, FiBuf *b, FiVal *v, bool for_qs)
{
	FiVal	   *s = fi_soft_str(t, v);

	for (size_t i = 0; i < s->u.s.n; i++)
	{
		unsigned char c = (unsigned char) s->u.s.p[i];
		char		tmp[4];

		if (isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~' || (c == '/' && !for_qs))
			fi_buf_putc(t, b, (char) c);
		else if (c == ' ' && for_qs)
			fi_buf_putc(t, b, '+');
		else
		{
			snprintf(tmp, sizeof(tmp), "%%%02X", c);
			fi_buf_puts(t, b, tmp);
		}
	}
}

static FiVal *
f_urlencode(FiTpl *t, FiVal *v, FiArgs *a)
{
	FiBuf		b = {0};

	fi_args_max(t, a, 0, NULL);
	if (v->type == FV_DICT || v->type == FV_LIST || v->type == FV_TUPLE)
	{
		int			n;
		FiVal	  **items = v->type == FV_DICT ? v->u.d.k : fi_iterate(t, v, &n, a->pos);

		n = v->type == FV_DICT ? v->u.d.n : n;
		for (int i = 0; i < n; i++)
		{
			FiVal	   *k,
					   *val;

			if (v->type == FV_DICT)
			{
				k = items[i];
				val = v->u.d.v[i];
			}
			else
			{
				int			m;
				FiVal	  **kv = fi_iterate(t, items[i], &m, a->pos);

				if (m != 2)
					fi_throw(t, FI_TPL_EVALUE, a->pos, "urlencode needs (key, value) pairs");
				k = kv[0];
				val = kv[1];
			}
			if (i)
				fi_buf_putc(t, &b, '&');
			url_quote(t, &b, k, true);
			fi_buf_putc(t, &b, '=');
			url_quote(t, &b, val, true);
		}
	}
	else
		url_quote(t, &b, v, false);
	return fi_mkstr_buf(t, &b);
}

static FiVal *
f_sum(FiTpl *t, FiVal *v, FiArgs *a)
{
	static const char *const kws[] = {"attribute", "start", NULL};
	FiVal	   *attr = fi_arg(t, a, 0, "attribute", NULL);
	FiVal	   *acc = fi_arg(t, a, 1, "start", fi_mkint(t, 0));
	int			n;
	FiVal	  **items;

	fi_args_max(t, a, 2, kws);
	items = fi_iterate(t, v, &n, a->pos);
	for (int i = 0; i < n; i++)
		acc = fi_binop(t, OP_ADD, acc, attr && attr->type != FV_NONE ?
					   attr_path(t, items[i], attr, a->pos) : items[i], a->pos);
	return acc;
}

static FiVal *
f_map(FiTpl *t, FiVal *v, FiArgs *a)
{
	FiVal	   *attr = fi_arg(t, a, -1, "attribute", NULL);
	FiVal	   *dflt = fi_arg(t, a, -1, "default", NULL);
	int			n;
	FiVal	  **items = fi_iterate(t, v, &n, a->pos);
	FiVal	   *r = fi_mklist(t, FV_LIST, n);

	if (attr)
	{
		for (int i = 0; i < n; i++)
		{
			FiVal	   *x = attr_path(t, items[i], attr, a->pos);

			if (dflt && x->type == FV_UNDEF)
				x = dflt;
			fi_list_push(t, r, x);
		}
		return r;
	}
	if (a->n < 1 || a->v[0]->type != FV_STR)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "map requires a filter argument");
	{
		char	   *fname = fi_strndup(t, a->v[0]->u.s.p, a->v[0]->u.s.n);
		FiArgs		sub = *a;

		if (!fi_filter_exists(fname))
			fi_throw(t, FI_TPL_EVALUE, a->pos, "No filter named '%s'.", fname);
		sub.n = a->n - 1;
		sub.v = a->v + 1;
		sub.fname = fname;
		for (int i = 0; i < n; i++)
			fi_list_push(t, r, fi_apply_filter(t, fname, items[i], &sub));
	}
	return r;
}

static FiVal *
select_attr(FiTpl *t, FiVal *v, FiArgs *a, bool want)
{
	int			n;
	FiVal	  **items = fi_iterate(t, v, &n, a->pos);
	FiVal	   *r = fi_mklist(t, FV_LIST, n);
	FiVal	   *attr = fi_need(t, a, 0, "attribute");
	char	   *test = NULL;
	FiArgs		sub = *a;

	if (a->n >= 2)
	{
		if (a->v[1]->type != FV_STR)
			fi_throw(t, FI_TPL_EVALUE, a->pos, "test name must be a string");
		test = fi_strndup(t, a->v[1]->u.s.p, a->v[1]->u.s.n);
		if (!fi_test_exists(test))
			fi_throw(t, FI_TPL_EVALUE, a->pos, "No test named '%s'.", test);
		sub.n = a->n - 2;
		sub.v = a->v + 2;
		sub.fname = test;
	}
	for (int i = 0; i < n; i++)
	{
		FiVal	   *x = attr_path(t, items[i], attr, a->pos);
		bool		ok = test ? fi_apply_test(t, test, x, &sub) : fi_truthy(x);

		if (ok == want)
			fi_list_push(t, r, items[i]);
	}
	return r;
}

static FiVal *
f_selectattr(FiTpl *t, FiVal *v, FiArgs *a)
{
	return select_attr(t, v, a, true);
}

static FiVal *
f_rejectattr(FiTpl *t, FiVal *v, FiArgs *a)
{
	return select_attr(t, v, a, false);
}

/* the key an item sorts by: its attribute path, lower-cased when asked */
static FiVal *
sort_key(FiTpl *t, FiVal *x, FiVal *attr, bool ci, int pos)
{
	if (attr)
		x = attr_path(t, x, attr, pos);
	if (ci && x->type == FV_STR)
		x = fi_str_case(t, x, 0);
	return x;
}

static void
merge_sort(FiTpl *t, FiVal **items, FiVal **keys, FiVal **tmpi, FiVal **tmpk,
		   int lo, int hi, bool reverse, int pos)
{
	int			mid,
				i,
				j,
				k;

	if (hi - lo < 2)
		return;
	mid = (lo + hi) / 2;
	merge_sort(t, items, keys, tmpi, tmpk, lo, mid, reverse, pos);
	merge_sort(t, items, keys, tmpi, tmpk, mid, hi, reverse, pos);
	i = lo;
	j = mid;
	k = lo;
	while (i < mid && j < hi)
	{
		int			c = fi_cmp(t, keys[j], keys[i], pos);

		if (c == 2)
			c = 0;
		/* take from the right only when strictly before (after, reversed) */
		if (reverse ? c > 0 : c < 0)
		{
			tmpi[k] = items[j];
			tmpk[k++] = keys[j++];
		}
		else
		{
			tmpi[k] = items[i];
			tmpk[k++] = keys[i++];
		}
	}
	while (i < mid)
	{
		tmpi[k] = items[i];
		tmpk[k++] = keys[i++];
	}
	while (j < hi)
	{
		tmpi[k] = items[j];
		tmpk[k++] = keys[j++];
	}
	memcpy(items + lo, tmpi + lo, sizeof(FiVal *) * (hi - lo));
	memcpy(keys + lo, tmpk + lo, sizeof(FiVal *) * (hi - lo));
}

void
fi_sort_items(FiTpl *t, FiVal **items, int n, FiVal *attr, bool ci, bool reverse, int pos)
{
	FiVal	  **keys = fi_alloc(t, sizeof(FiVal *) * (n ? n : 1));
	FiVal	  **tmpi = fi_alloc(t, sizeof(FiVal *) * (n ? n : 1));
	FiVal	  **tmpk = fi_alloc(t, sizeof(FiVal *) * (n ? n : 1));

	for (int i = 0; i < n; i++)
		keys[i] = sort_key(t, items[i], attr, ci, pos);
	/* stable, as Python's sort; reverse=True keeps equal items in order */
	merge_sort(t, items, keys, tmpi, tmpk, 0, n, reverse, pos);
}

static FiVal *
f_sort(FiTpl *t, FiVal *v, FiArgs *a)
{
	static const char *const kws[] = {"reverse", "case_sensitive", "attribute", NULL};
	FiVal	   *l;

	fi_args_max(t, a, 3, kws);
	l = fi_as_list(t, v, a->pos);
	{
		FiVal	   *attr = fi_arg(t, a, 2, "attribute", NULL);

		fi_sort_items(t, l->u.l.v, l->u.l.n, attr && attr->type != FV_NONE ? attr : NULL,
				   !fi_truthy(fi_arg(t, a, 1, "case_sensitive", t->vfalse)),
				   fi_truthy(fi_arg(t, a, 0, "reverse", t->vfalse)), a->pos);
	}
	return l;
}

static FiVal *
f_reverse(FiTpl *t, FiVal *v, FiArgs *a)
{
	fi_args_max(t, a, 0, NULL);
	if (v->type == FV_STR)
	{
		int			n;
		FiVal	  **items = fi_iterate(t, v, &n, a->pos);
		FiBuf		b = {0};

		for (int i = n - 1; i >= 0; i--)
			fi_buf_put(t, &b, items[i]->u.s.p, items[i]->u.s.n);
		return fi_mkstr_buf(t, &b);
	}
	{
		FiVal	   *l = fi_as_list(t, v, a->pos);
		FiVal	   *r = fi_mklist(t, FV_LIST, l->u.l.n);

		for (int i = l->u.l.n - 1; i >= 0; i--)
			fi_list_push(t, r, l->u.l.v[i]);
		return r;
	}
}

FiVal *
fi_minmax(FiTpl *t, FiVal **items, int n, bool want_max, int pos, bool ci)
{
	FiVal	   *best = NULL,
			   *bk = NULL;

	for (int i = 0; i < n; i++)
	{
		FiVal	   *k = (ci && items[i]->type == FV_STR) ? fi_str_case(t, items[i], 0) : items[i];

		if (best == NULL)
		{
			best = items[i];
			bk = k;
			continue;
		}
		{
			int			c = fi_cmp(t, k, bk, pos);

			if (c != 2 && (want_max ? c > 0 : c < 0))
			{
				best = items[i];
				bk = k;
			}
		}
	}
	return best;
}

static FiVal *
f_minmax(FiTpl *t, FiVal *v, FiArgs *a, bool want_max)
{
	static const char *const kws[] = {"case_sensitive", "attribute", NULL};
	int			n;
	FiVal	  **items;
	FiVal	   *r;

	fi_args_max(t, a, 2, kws);
	if (fi_arg(t, a, 1, "attribute", NULL))
		fi_throw(t, FI_TPL_EVALUE, a->pos, "%s(attribute=...) is not supported", a->fname);
	items = fi_iterate(t, v, &n, a->pos);
	r = fi_minmax(t, items, n, want_max, a->pos,
			   !fi_truthy(fi_arg(t, a, 0, "case_sensitive", t->vfalse)));
	return r ? r : fi_mkundef_hint(t, "No aggregated item, sequence was empty.");
}

static FiVal *
f_min(FiTpl *t, FiVal *v, FiArgs *a)
{
	return f_minmax(t, v, a, false);
}

static FiVal *
f_max(FiTpl *t, FiVal *v, FiArgs *a)
{
	return f_minmax(t, v, a, true);
}

FiVal *
fi_filter_items(FiTpl *t, FiVal *v, FiArgs *a)
{
	FiVal	   *r;

	fi_args_max(t, a, 0, NULL);
	if (v->type == FV_UNDEF)
		return fi_mklist(t, FV_LIST, 0);
	if (v->type != FV_DICT)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "Can only get item pairs from a mapping.");
	r = fi_mklist(t, FV_LIST, v->u.d.n);
	for (int i = 0; i < v->u.d.n; i++)
	{
		FiVal	   *p = fi_mklist(t, FV_TUPLE, 2);

		fi_list_push(t, p, v->u.d.k[i]);
		fi_list_push(t, p, v->u.d.v[i]);
		fi_list_push(t, r, p);
	}
	return r;
}

static FiVal *
f_wordcount(FiTpl *t, FiVal *v, FiArgs *a)
{
	FiVal	   *s = fi_soft_str(t, v);
	int64_t		n = 0;
	bool		in = false;

	fi_args_max(t, a, 0, NULL);
	/* len(re.findall(r"\w+", s)) */
	for (size_t i = 0; i < s->u.s.n;)
	{
		bool		w = fi_uni_isword((uint32_t) fi_utf8_next(s->u.s.p, s->u.s.n, &i));

		if (w && !in)
			n++;
		in = w;
	}
	return fi_mkint(t, n);
}

typedef struct
{
	const char *name;
	FilterFn	fn;
} FilterDef;

static const FilterDef filters[] = {
	{"abs", fi_filter_abs},
	{"capitalize", fi_filter_capitalize},
	{"count", f_length},
	{"d", f_default},
	{"default", f_default},
	{"e", f_escape},
	{"escape", f_escape},
	{"first", f_first},
	{"float", f_float},
	{"flt", f_flt},
	{"int", f_int},
	{"items", fi_filter_items},
	{"join", f_join},
	{"json", f_json},
	{"last", f_last},
	{"len", f_length},
	{"length", f_length},
	{"list", f_list},
	{"lower", f_lower},
	{"map", f_map},
	{"max", f_max},
	{"min", f_min},
	{"rejectattr", f_rejectattr},
	{"replace", f_replace},
	{"reverse", f_reverse},
	{"round", f_round},
	{"selectattr", f_selectattr},
	{"sort", f_sort},
	{"str", f_str},
	{"string", f_string},
	{"sum", f_sum},
	{"title", f_title},
	{"tojson", f_tojson},
	{"trim", f_trim},
	{"upper", f_upper},
	{"urlencode", f_urlencode},
	{"wordcount", f_wordcount},
	{NULL, NULL}
};

bool
fi_filter_exists(const char *name)
{
	for (int i = 0; filters[i].name; i++)
		if (strcmp(filters[i].name, name) == 0)
			return true;
	return false;
}

FiVal *
fi_apply_filter(FiTpl *t, const char *name, FiVal *v, FiArgs *a)
{
	for (int i = 0; filters[i].name; i++)
		if (strcmp(filters[i].name, name) == 0)
			return filters[i].fn(t, v, a);
	fi_throw(t, FI_TPL_EVALUE, a->pos, "No filter named '%s'.", name);
}

/* --------------------------------------------------------------- tests */

static const char *const test_names[] = {
	"defined", "undefined", "none", "number", "string", "mapping", "iterable",
	"sequence", "even", "odd", "divisibleby", "true", "false", "boolean",
	"integer", "float", "lower", "upper", "eq", "equalto", "==", "ne", "!=",
	"lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=",
	"in", "sameas", "callable", NULL
};

bool
fi_test_exists(const char *name)
{
	for (int i = 0; test_names[i]; i++)
		if (strcmp(test_names[i], name) == 0)
			return true;
	return false;
}

static bool
str_all_case(FiTpl *t, FiVal *v, int upper)
{
	FiVal	   *s = fi_soft_str(t, v);
	FiVal	   *u = fi_str_case(t, s, 1),
			   *l = fi_str_case(t, s, 0);
	bool		cased = !(u->u.s.n == l->u.s.n && memcmp(u->u.s.p, l->u.s.p, u->u.s.n) == 0);
	FiVal	   *want = upper ? u : l;

	/* Python: at least one cased character, and no character of the other case */
	return cased && want->u.s.n == s->u.s.n && memcmp(want->u.s.p, s->u.s.p, s->u.s.n) == 0;
}

bool
fi_apply_test(FiTpl *t, const char *name, FiVal *v, FiArgs *a)
{
	FiVal	   *arg = a->n > 0 ? a->v[0] : NULL;

#define IS(s) (strcmp(name, s) == 0)
	if (IS("defined"))
		return v->type != FV_UNDEF;
	if (IS("undefined"))
		return v->type == FV_UNDEF;
	if (IS("none"))
		return v->type == FV_NONE;
	if (IS("number"))
		return fi_is_number(v);
	if (IS("string"))
		return v->type == FV_STR;
	if (IS("mapping"))
		return v->type == FV_DICT;
	if (IS("iterable"))
		return v->type == FV_STR || v->type == FV_LIST || v->type == FV_TUPLE ||
			v->type == FV_DICT || v->type == FV_UNDEF;
	if (IS("sequence"))
		return v->type == FV_STR || v->type == FV_LIST || v->type == FV_TUPLE ||
			v->type == FV_DICT || v->type == FV_UNDEF;
	if (IS("boolean"))
		return v->type == FV_BOOL;
	if (IS("true"))
		return v->type == FV_BOOL && v->u.b;
	if (IS("false"))
		return v->type == FV_BOOL && !v->u.b;
	if (IS("integer"))
		return v->type == FV_INT;
	if (IS("float"))
		return v->type == FV_FLOAT;
	if (IS("callable"))
		return v->type == FV_FUNC;
	if (IS("lower"))
		return str_all_case(t, v, 0);
	if (IS("upper"))
		return str_all_case(t, v, 1);
	if (IS("even") || IS("odd") || IS("divisibleby"))
	{
		FiVal	   *m = IS("divisibleby") ? fi_need(t, a, 0, "num") : fi_mkint(t, 2);
		FiVal	   *r;

		if (v->type == FV_UNDEF)
			fi_throw(t, FI_TPL_EVALUE, a->pos, "'%s' is undefined", v->u.u.name ? v->u.u.name : "value");
		/* Jinja: value % 2 == 1, value % 2 == 0, value % num == 0 */
		r = fi_binop(t, OP_MOD, v, m, a->pos);
		return fi_eq(t, r, fi_mkint(t, IS("odd") ? 1 : 0));
	}
	if (arg == NULL)
		fi_throw(t, FI_TPL_EVALUE, a->pos, "test '%s' needs an argument", name);
	if (IS("eq") || IS("equalto") || IS("=="))
		return fi_eq(t, v, arg);
	if (IS("ne") || IS("!="))
		return !fi_eq(t, v, arg);
	if (IS("in"))
	{
		if (arg->type == FV_STR || arg->type == FV_LIST || arg->type == FV_TUPLE ||
			arg->type == FV_DICT)
		{
			int			n;

			if (arg->type == FV_STR)
			{
				if (v->type != FV_STR)
					fi_throw(t, FI_TPL_EVALUE, a->pos,
							 "'in <string>' requires string as left operand, not %s",
							 fi_typename(v));
				if (v->u.s.n == 0)
					return true;
				for (size_t i = 0; i + v->u.s.n <= arg->u.s.n; i++)
					if (memcmp(arg->u.s.p + i, v->u.s.p, v->u.s.n) == 0)
						return true;
				return false;
			}
			if (arg->type == FV_DICT)
				return fi_dict_get(arg, v) != NULL;
			{
				FiVal	  **items = fi_iterate(t, arg, &n, a->pos);

				for (int i = 0; i < n; i++)
					if (fi_eq(t, items[i], v))
						return true;
			}
			return false;
		}
		fi_throw(t, FI_TPL_EVALUE, a->pos, "argument of type '%s' is not iterable",
				 fi_typename(arg));
	}
	if (IS("sameas"))
	{
		if (v->type == FV_NONE || arg->type == FV_NONE || v->type == FV_BOOL || arg->type == FV_BOOL)
			return v->type == arg->type && (v->type != FV_BOOL || v->u.b == arg->u.b);
		return v == arg;
	}
	{
		int			c;

		if (v->type == FV_UNDEF || arg->type == FV_UNDEF)
			fi_throw(t, FI_TPL_EVALUE, a->pos, "cannot compare an undefined value");
		c = fi_cmp(t, v, arg, a->pos);
		if (c == 2)
			return false;
		if (IS("lt") || IS("lessthan") || IS("<"))
			return c < 0;
		if (IS("le") || IS("<="))
			return c <= 0;
		if (IS("gt") || IS("greaterthan") || IS(">"))
			return c > 0;
		if (IS("ge") || IS(">="))
			return c >= 0;
	}
#undef IS
	fi_throw(t, FI_TPL_EVALUE, a->pos, "No test named '%s'.", name);
}
