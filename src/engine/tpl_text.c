/*
 * tpl_text.c
 *		Values as text, the way CPython writes them: str() and repr()
 *		(Jinja prints str()), and JSON exactly as Python's json module writes
 *		it (separators, ensure_ascii escapes, float repr, sort_keys, indent,
 *		Jinja's html-safe tojson, Frappe's as_json) and reads it (json.loads:
 *		ints stay ints, NaN/Infinity, lone surrogates, duplicate keys).
 *		Pure C, no server state.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tpl_int.h"
#include "engine/pyjson.h"
#include "engine/codec.h"

/* ------------------------------------------------------ str() and repr() */

void
fi_float_repr(double f, char *buf)
{
	if (isnan(f))
		strcpy(buf, "nan");
	else if (isinf(f))
		strcpy(buf, f > 0 ? "inf" : "-inf");
	else
	{
		size_t		n = fi_pyjson_float(f, buf);

		buf[n] = '\0';
	}
}

static void
repr_str(FiTpl *t, FiBuf *b, const char *s, size_t n)
{
	char		quote = '\'';
	size_t		i = 0;

	if (memchr(s, '\'', n) && !memchr(s, '"', n))
		quote = '"';
	fi_buf_putc(t, b, quote);
	while (i < n)
	{
		size_t		start = i;
		int			cp = fi_utf8_next(s, n, &i);
		char		esc[16];

		if (cp == quote || cp == '\\')
		{
			fi_buf_putc(t, b, '\\');
			fi_buf_putc(t, b, (char) cp);
		}
		else if (cp == '\t')
			fi_buf_puts(t, b, "\\t");
		else if (cp == '\n')
			fi_buf_puts(t, b, "\\n");
		else if (cp == '\r')
			fi_buf_puts(t, b, "\\r");
		else if (cp < 0x20 || cp == 0x7F)
		{
			snprintf(esc, sizeof(esc), "\\x%02x", cp);
			fi_buf_puts(t, b, esc);
		}
		else if (cp < 0x7F)
			fi_buf_putc(t, b, (char) cp);
		else if (fi_uni_isprintable((uint32_t) cp))
			fi_buf_put(t, b, s + start, i - start);
		else
		{
			if (cp <= 0xFF)
				snprintf(esc, sizeof(esc), "\\x%02x", cp);
			else if (cp <= 0xFFFF)
				snprintf(esc, sizeof(esc), "\\u%04x", cp);
			else
				snprintf(esc, sizeof(esc), "\\U%08x", cp);
			fi_buf_puts(t, b, esc);
		}
	}
	fi_buf_putc(t, b, quote);
}

static void
put_date(FiTpl *t, FiBuf *b, int32_t ord)
{
	int			y,
				m,
				d;
	char		tmp[32];

	fi_ord_to_ymd(ord, &y, &m, &d);
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
	fi_buf_puts(t, b, tmp);
}

static void
put_time(FiTpl *t, FiBuf *b, int64_t usec)
{
	char		tmp[48];
	int			us = (int) (usec % 1000000);
	int64_t		s = usec / 1000000;

	snprintf(tmp, sizeof(tmp), "%02d:%02d:%02d", (int) (s / 3600), (int) (s / 60 % 60), (int) (s % 60));
	fi_buf_puts(t, b, tmp);
	if (us)
	{
		snprintf(tmp, sizeof(tmp), ".%06d", us);
		fi_buf_puts(t, b, tmp);
	}
}

static void
str_tdelta(FiTpl *t, FiBuf *b, int64_t td)
{
	/* Python normalises to days (may be negative) + 0 <= seconds < 86400 */
	int64_t		rest;
	int64_t		days = fi_split_usec(td, &rest);
	char		tmp[64];

	if (days)
	{
		snprintf(tmp, sizeof(tmp), "%lld day%s, ", (long long) days,
				 (days == 1 || days == -1) ? "" : "s");
		fi_buf_puts(t, b, tmp);
	}
	{
		int64_t		s = rest / 1000000;
		int			us = (int) (rest % 1000000);

		snprintf(tmp, sizeof(tmp), "%d:%02d:%02d", (int) (s / 3600), (int) (s / 60 % 60), (int) (s % 60));
		fi_buf_puts(t, b, tmp);
		if (us)
		{
			snprintf(tmp, sizeof(tmp), ".%06d", us);
			fi_buf_puts(t, b, tmp);
		}
	}
}

static void
undef_str(FiTpl *t, FiBuf *b, FiVal *v)
{
	fi_buf_puts(t, b, "{{ ");
	if (v->u.u.hint)
	{
		fi_buf_puts(t, b, "undefined value printed: ");
		fi_buf_puts(t, b, v->u.u.hint);
	}
	else if (v->u.u.obj == NULL)
		fi_buf_puts(t, b, v->u.u.name);
	else
	{
		fi_buf_puts(t, b, "no such element: ");
		if (v->u.u.obj->type == FV_NONE)
			fi_buf_puts(t, b, "None");
		else
		{
			fi_buf_puts(t, b, fi_typename(v->u.u.obj));
			fi_buf_puts(t, b, " object");
		}
		fi_buf_putc(t, b, '[');
		fi_repr_into(t, b, v->u.u.key);
		fi_buf_putc(t, b, ']');
	}
	fi_buf_puts(t, b, " }}");
}

static void
put_int(FiTpl *t, FiBuf *b, int64_t i)
{
	char		tmp[24];
	int			n = sizeof(tmp);
	uint64_t	u = i < 0 ? (uint64_t) 0 - (uint64_t) i : (uint64_t) i;

	do
	{
		tmp[--n] = (char) ('0' + u % 10);
		u /= 10;
	} while (u);
	if (i < 0)
		tmp[--n] = '-';
	fi_buf_lit(t, b, tmp + n, sizeof(tmp) - n);
}

static void
container_into(FiTpl *t, FiBuf *b, FiVal *v)
{
	t->depth++;
	if (t->depth > t->opt.max_depth)
		fi_throw(t, FI_TPL_ELIMIT, -1, "value nested more than %d deep", t->opt.max_depth);
	if (v->type == FV_DICT)
	{
		fi_buf_putc(t, b, '{');
		for (int i = 0; i < v->u.d.n; i++)
		{
			if (i)
				fi_buf_puts(t, b, ", ");
			fi_repr_into(t, b, v->u.d.k[i]);
			fi_buf_puts(t, b, ": ");
			fi_repr_into(t, b, v->u.d.v[i]);
		}
		fi_buf_putc(t, b, '}');
	}
	else
	{
		fi_buf_putc(t, b, v->type == FV_LIST ? '[' : '(');
		for (int i = 0; i < v->u.l.n; i++)
		{
			if (i)
				fi_buf_puts(t, b, ", ");
			fi_repr_into(t, b, v->u.l.v[i]);
		}
		if (v->type == FV_TUPLE && v->u.l.n == 1)
			fi_buf_putc(t, b, ',');
		fi_buf_putc(t, b, v->type == FV_LIST ? ']' : ')');
	}
	t->depth--;
}

/* str(v) */
void
fi_str_into(FiTpl *t, FiBuf *b, FiVal *v)
{
	char		tmp[64];

	switch (v->type)
	{
		case FV_UNDEF:
			if (!v->u.u.plain)
				undef_str(t, b, v);
			break;
		case FV_NONE:
			fi_buf_puts(t, b, "None");
			break;
		case FV_BOOL:
			fi_buf_puts(t, b, v->u.b ? "True" : "False");
			break;
		case FV_INT:
			put_int(t, b, v->u.i);
			break;
		case FV_FLOAT:
			fi_float_repr(v->u.f, tmp);
			fi_buf_puts(t, b, tmp);
			break;
		case FV_STR:
			fi_buf_put(t, b, v->u.s.p, v->u.s.n);
			break;
		case FV_LIST:
		case FV_TUPLE:
		case FV_DICT:
			if (v->is_ns)
			{
				fi_buf_puts(t, b, "<Namespace ");
				container_into(t, b, v);
				fi_buf_puts(t, b, ">");
			}
			else
				container_into(t, b, v);
			break;
		case FV_DATE:
			put_date(t, b, v->u.dt.ord);
			break;
		case FV_DATETIME:
			put_date(t, b, v->u.dt.ord);
			fi_buf_putc(t, b, ' ');
			put_time(t, b, v->u.dt.usec);
			break;
		case FV_TDELTA:
			str_tdelta(t, b, v->u.td);
			break;
		case FV_FUNC:
			fi_buf_puts(t, b, "<built-in function ");
			fi_buf_puts(t, b, v->u.fn.f->name);
			fi_buf_puts(t, b, ">");
			break;
		case FV_NS:
			fi_buf_puts(t, b, "<module '");
			fi_buf_puts(t, b, v->u.ns->name);
			fi_buf_puts(t, b, "'>");
			break;
		case FV_LOOP:
			snprintf(tmp, sizeof(tmp), "<LoopContext %lld/%lld>",
					 (long long) v->u.loop->index0 + 1, (long long) v->u.loop->length);
			fi_buf_puts(t, b, tmp);
			break;
	}
}

/* repr(v) */
void
fi_repr_into(FiTpl *t, FiBuf *b, FiVal *v)
{
	char		tmp[128];

	switch (v->type)
	{
		case FV_STR:
			repr_str(t, b, v->u.s.p, v->u.s.n);
			break;
		case FV_UNDEF:
			fi_buf_puts(t, b, "Undefined");
			break;
		case FV_DATE:
			{
				int			y,
							m,
							d;

				fi_ord_to_ymd(v->u.dt.ord, &y, &m, &d);
				snprintf(tmp, sizeof(tmp), "datetime.date(%d, %d, %d)", y, m, d);
				fi_buf_puts(t, b, tmp);
				break;
			}
		case FV_DATETIME:
			{
				int			y,
							m,
							d;
				int64_t		s = v->u.dt.usec / 1000000;
				int			us = (int) (v->u.dt.usec % 1000000);

				fi_ord_to_ymd(v->u.dt.ord, &y, &m, &d);
				snprintf(tmp, sizeof(tmp), "datetime.datetime(%d, %d, %d, %d, %d",
						 y, m, d, (int) (s / 3600), (int) (s / 60 % 60));
				fi_buf_puts(t, b, tmp);
				if (s % 60 || us)
				{
					snprintf(tmp, sizeof(tmp), ", %d", (int) (s % 60));
					fi_buf_puts(t, b, tmp);
				}
				if (us)
				{
					snprintf(tmp, sizeof(tmp), ", %d", us);
					fi_buf_puts(t, b, tmp);
				}
				fi_buf_putc(t, b, ')');
				break;
			}
		case FV_TDELTA:
			{
				int64_t		rest;
				int64_t		days = fi_split_usec(v->u.td, &rest);
				const char *sep = "";

				fi_buf_puts(t, b, "datetime.timedelta(");
				if (days)
				{
					snprintf(tmp, sizeof(tmp), "days=%lld", (long long) days);
					fi_buf_puts(t, b, tmp);
					sep = ", ";
				}
				if (rest / 1000000)
				{
					snprintf(tmp, sizeof(tmp), "%sseconds=%lld", sep, (long long) (rest / 1000000));
					fi_buf_puts(t, b, tmp);
					sep = ", ";
				}
				if (rest % 1000000)
				{
					snprintf(tmp, sizeof(tmp), "%smicroseconds=%lld", sep, (long long) (rest % 1000000));
					fi_buf_puts(t, b, tmp);
					sep = ", ";
				}
				if (!*sep)
					fi_buf_putc(t, b, '0');
				fi_buf_putc(t, b, ')');
				break;
			}
		default:
			fi_str_into(t, b, v);
	}
}

FiVal *
fi_to_str(FiTpl *t, FiVal *v)
{
	FiBuf		b = {0};
	FiVal	   *r;

	if (v->type == FV_STR)
		return v;
	fi_str_into(t, &b, v);
	r = fi_new(t, FV_STR);
	r->u.s.p = b.p ? b.p : "";
	r->u.s.n = b.n;
	return r;
}

/* ------------------------------------------------------------ JSON out */

static const char hexdig[] = "0123456789abcdef";


/* [html_safe][byte]: bytes JSON (and Jinja's tojson) copy as they are (made once a process) */
static uint8_t json_plain[2][256];
static pthread_once_t json_plain_once = PTHREAD_ONCE_INIT;

static void
json_plain_init(void)
{
	for (int h = 0; h < 2; h++)
		for (int c = 0; c < 256; c++)
			json_plain[h][c] = c >= 0x20 && c < 0x7F && c != '"' && c != '\\' &&
				!(h && (c == '<' || c == '>' || c == '&' || c == '\''));
}

static const uint8_t *
json_plain_table(bool html_safe)
{
	pthread_once(&json_plain_once, json_plain_init);
	return json_plain[html_safe ? 1 : 0];
}

/*
 * Note on a str value whether JSON output copies it as it is (json_plain 1,
 * also under tojson's html-safe escaping) or must escape something (2).
 * Done once where context values are made (JSON text, the builders), so that
 * rendering reads the flag and never writes to a value it did not make.
 */
void
fi_str_classify(FiVal *v)
{
	const uint8_t *pl = json_plain_table(true);
	const unsigned char *u = (const unsigned char *) v->u.s.p;
	size_t		i = 0,
				n = v->u.s.n;

	while (i < n && pl[u[i]])
		i++;
	v->json_plain = i == n ? 1 : 2;
}

/*
 * The one str value per key text of a session's context dicts (rows of a
 * table share their keys: less memory, and the sorted-key order of one row
 * serves the next).  A key JSON copies as it is also carries its encoded
 * form, "key": , padded for 8-byte copies.
 */
FiVal *
fi_intern_key(FiTpl *t, const char *s, size_t n)
{
	FiVal	   *k;
	int			ix;

	if (t->interned == NULL)
		t->interned = fi_new(t, FV_DICT);
	ix = fi_dict_find_str(t->interned, s, n);
	if (ix >= 0)
		return t->interned->u.d.k[ix];
	k = fi_mkstr(t, s, n);
	fi_str_classify(k);
	if (k->json_plain == 1)
	{
		char	   *e = fi_alloc(t, n + 4 + 8);

		e[0] = '"';
		memcpy(e + 1, s, n);
		memcpy(e + 1 + n, "\": ", 3);
		k->u.s.jk = e;
		k->u.s.jkn = (uint32_t) (n + 4);
	}
	fi_dict_put(t, t->interned, k, k);
	return k;
}

/*
 * A JSON string as Python writes it with ensure_ascii: runs of plain bytes
 * are copied at once; everything else is escaped as \u plus four hex digits
 * (a surrogate pair above U+FFFF).
 */
static void
json_str(FiTpl *t, FiBuf *b, const char *s, size_t n, bool html_safe)
{
	const unsigned char *u = (const unsigned char *) s;
	const uint8_t *pl = json_plain_table(html_safe);
	size_t		i = 0;
	char	   *w;

	/* the common case: nothing to escape */
	while (i < n && pl[u[i]])
		i++;
	if (i == n)
	{
		/*
		 * Nothing to escape: copy in 8-byte steps.  Every string value lives
		 * in an arena allocation rounded up to 16 bytes past its NUL, so the
		 * last step never reads outside it.
		 */
		w = fi_buf_reserve(t, b, n + 2 + 8);
		w[0] = '"';
		for (size_t j = 0; j < n; j += 8)
			memcpy(w + 1 + j, s + j, 8);
		w[n + 1] = '"';
		w[n + 2] = '\0';
		b->n += n + 2;
		return;
	}
	w = fi_buf_reserve(t, b, i + 2);
	w[0] = '"';
	memcpy(w + 1, s, i);
	b->n += i + 1;
	while (i < n)
	{
		size_t		st = i;

		while (i < n && pl[u[i]])
			i++;
		if (i > st)
		{
			w = fi_buf_reserve(t, b, i - st);
			memcpy(w, s + st, i - st);
			b->n += i - st;
		}
		if (i >= n)
			break;
		w = fi_buf_reserve(t, b, 12);
		if (u[i] < 0x80)
		{
			unsigned char c = u[i++];
			char		e = 0;

			switch (c)
			{
				case '"':
					e = '"';
					break;
				case '\\':
					e = '\\';
					break;
				case '\n':
					e = 'n';
					break;
				case '\r':
					e = 'r';
					break;
				case '\t':
					e = 't';
					break;
				case '\b':
					e = 'b';
					break;
				case '\f':
					e = 'f';
					break;
			}
			if (e)
			{
				w[0] = '\\';
				w[1] = e;
				b->n += 2;
			}
			else
			{
				memcpy(w, "\\u00", 4);
				w[4] = hexdig[c >> 4];
				w[5] = hexdig[c & 15];
				b->n += 6;
			}
		}
		else if ((u[i] & 0xE0) == 0xC0 && i + 1 < n)
		{
			/* two-byte UTF-8 (Latin, Greek, Cyrillic...): \u0080-\u07ff */
			unsigned int cp = ((u[i] & 0x1Fu) << 6) | (u[i + 1] & 0x3Fu);

			i += 2;
			w[0] = '\\';
			w[1] = 'u';
			w[2] = '0';
			w[3] = hexdig[cp >> 8];
			w[4] = hexdig[(cp >> 4) & 15];
			w[5] = hexdig[cp & 15];
			b->n += 6;
		}
		else
		{
			int			cp = fi_utf8_next(s, n, &i);
			int			k = 0;
			unsigned int units[2];

			if (cp >= 0x10000)
			{
				int			v = cp - 0x10000;

				units[k++] = 0xD800 | (v >> 10);
				units[k++] = 0xDC00 | (v & 0x3FF);
			}
			else
				units[k++] = (unsigned int) cp;
			for (int q = 0; q < k; q++)
			{
				w[0] = '\\';
				w[1] = 'u';
				w[2] = hexdig[(units[q] >> 12) & 15];
				w[3] = hexdig[(units[q] >> 8) & 15];
				w[4] = hexdig[(units[q] >> 4) & 15];
				w[5] = hexdig[units[q] & 15];
				w += 6;
				b->n += 6;
			}
		}
	}
	w = fi_buf_reserve(t, b, 1);
	w[0] = '"';
	b->n++;
	b->p[b->n] = '\0';
}

/* a float as json.dumps writes it: its digits at once when made from text */
static inline size_t
float_json(const FiVal *v, char *w)
{
	if (v->u.fdec.dplaces)
		return fi_pyjson_decimal(v->u.f, v->u.fdec.dec, v->u.fdec.dplaces - 1, w);
	return fi_pyjson_float(v->u.f, w);
}

/* a str value: copied at once when made known to need no escapes */
static inline void
json_strval(FiTpl *t, FiBuf *b, FiVal *v, bool html_safe)
{
	size_t		n = v->u.s.n;
	char	   *w;

	if (v->json_plain != 1)
	{
		json_str(t, b, v->u.s.p, n, html_safe);
		return;
	}
	/* 8-byte steps: the arena pads every string past its NUL */
	w = fi_buf_reserve(t, b, n + 2 + 8);
	w[0] = '"';
	for (size_t j = 0; j < n; j += 8)
		memcpy(w + 1 + j, v->u.s.p + j, 8);
	w[n + 1] = '"';
	b->n += n + 2;
}

static void
json_newline(FiTpl *t, FiBuf *b, const FiJsonStyle *st, int level)
{
	fi_buf_putc(t, b, '\n');
	for (int i = 0; i < st->indent * level; i++)
		fi_buf_putc(t, b, ' ');
}

static int
key_cmp_sort(FiTpl *t, FiVal *a, FiVal *b)
{
	int			r;

	if (a->type == FV_STR && b->type == FV_STR)
	{
		size_t		n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;

		if (n >= 8)
		{
			/* the first 8 bytes as big-endian words decide most field names */
			uint64_t	x,
						y;

			memcpy(&x, a->u.s.p, 8);
			memcpy(&y, b->u.s.p, 8);
			if (x != y)
				return fi_be64(x) < fi_be64(y) ? -1 : 1;
			r = memcmp(a->u.s.p + 8, b->u.s.p + 8, n - 8);
		}
		else
			r = memcmp(a->u.s.p, b->u.s.p, n);
		if (r)
			return r < 0 ? -1 : 1;
		return a->u.s.n < b->u.s.n ? -1 : a->u.s.n > b->u.s.n;
	}
	r = fi_cmp(t, a, b, -1);

	return r == 2 ? 0 : r;
}

/* stable merge sort of order[lo, hi) by keys[order[i]] (Python's sorted) */
static void
sort_order(FiTpl *t, FiVal **keys, int *order, int *tmp, int lo, int hi)
{
	int			mid,
				i,
				j,
				k;

	if (hi - lo < 2)
		return;
	mid = (lo + hi) / 2;
	sort_order(t, keys, order, tmp, lo, mid);
	sort_order(t, keys, order, tmp, mid, hi);
	i = lo;
	j = mid;
	k = lo;
	while (i < mid && j < hi)
	{
		if (key_cmp_sort(t, keys[order[j]], keys[order[i]]) < 0)
			tmp[k++] = order[j++];
		else
			tmp[k++] = order[i++];
	}
	while (i < mid)
		tmp[k++] = order[i++];
	while (j < hi)
		tmp[k++] = order[j++];
	memcpy(order + lo, tmp + lo, sizeof(int) * (hi - lo));
}

static void
json_value(FiTpl *t, FiBuf *b, FiVal *v, const FiJsonStyle *st, int level, int pos)
{
	const char *item_sep = (st->indent >= 0 || st->compact_item) ? "," : ", ";
	size_t		sep_len = item_sep[1] ? 2 : 1;

	switch (v->type)
	{
		case FV_NONE:
			fi_buf_lit(t, b, "null", 4);
			return;
		case FV_BOOL:
			if (v->u.b)
				fi_buf_lit(t, b, "true", 4);
			else
				fi_buf_lit(t, b, "false", 5);
			return;
		case FV_INT:
			put_int(t, b, v->u.i);
			return;
		case FV_FLOAT:
			{
				char	   *w = fi_buf_reserve(t, b, FI_PYFLOAT_MAXLEN);

				b->n += float_json(v, w);
				b->p[b->n] = '\0';
				return;
			}
		case FV_STR:
			json_strval(t, b, v, st->html_safe);
			return;
		case FV_LIST:
		case FV_TUPLE:
			if (v->u.l.n == 0)
			{
				fi_buf_puts(t, b, "[]");
				return;
			}
			if (level >= t->opt.max_depth)
				fi_throw(t, FI_TPL_ELIMIT, pos, "value nested more than %d deep", t->opt.max_depth);
			t->steps += v->u.l.n;
			fi_step(t, pos);
			fi_buf_putc(t, b, '[');
			for (int i = 0; i < v->u.l.n; i++)
			{
				if (i)
					fi_buf_lit(t, b, item_sep, sep_len);
				if (st->indent >= 0)
					json_newline(t, b, st, level + 1);
				json_value(t, b, v->u.l.v[i], st, level + 1, pos);
			}
			if (st->indent >= 0)
				json_newline(t, b, st, level);
			fi_buf_putc(t, b, ']');
			return;
		case FV_DICT:
			{
				int			n = v->u.d.n;
				FiVal	  **keys = v->u.d.k;
				const int  *order = NULL;	/* NULL: as inserted */
				const char *const *jks = NULL;	/* in order: "key": or NULL */
				const int  *jkns = NULL;

				if (v->is_ns)
					break;
				if (n == 0)
				{
					fi_buf_puts(t, b, "{}");
					return;
				}
				if (level >= t->opt.max_depth)
					fi_throw(t, FI_TPL_ELIMIT, pos, "value nested more than %d deep", t->opt.max_depth);
				t->steps += n;
				fi_step(t, pos);
				if (st->sort_keys)
				{
					/*
					 * The same key objects as the last dict (rows of a table):
					 * the same order, and the keys' encoded forms in it.  The
					 * cache's arrays are replaced, never overwritten, so a
					 * nested dict may renew it while this one is written.
					 */
					if (!(t->sorted_n == n && t->sorted_keys &&
						  (t->sorted_src == keys ||
						   memcmp(t->sorted_keys, keys, sizeof(FiVal *) * n) == 0)))
					{
						int		   *o = fi_alloc(t, sizeof(int) * n);

						for (int i = 0; i < n; i++)
							o[i] = i;
						sort_order(t, keys, o, fi_alloc(t, sizeof(int) * n), 0, n);
						t->sorted_keys = fi_alloc(t, sizeof(FiVal *) * n);
						memcpy(t->sorted_keys, keys, sizeof(FiVal *) * n);
						t->sorted_order = o;
						t->sorted_src = keys;
						t->sorted_jk = fi_alloc(t, sizeof(const char *) * n);
						t->sorted_jkn = fi_alloc(t, sizeof(int) * n);
						for (int i = 0; i < n; i++)
						{
							FiVal	   *k = keys[o[i]];

							t->sorted_jk[i] = k->type == FV_STR ? k->u.s.jk : NULL;
							t->sorted_jkn[i] = k->type == FV_STR ? (int) k->u.s.jkn : 0;
						}
						t->sorted_n = n;
					}
					order = t->sorted_order;
					jks = t->sorted_jk;
					jkns = t->sorted_jkn;
				}
				fi_buf_putc(t, b, '{');
				for (int i = 0; i < n; i++)
				{
					int			ix = order ? order[i] : i;
					FiVal	   *k;
					const char *jk = jks ? jks[i] :
						keys[ix]->type == FV_STR ? keys[ix]->u.s.jk : NULL;

					if (jk != NULL && st->indent < 0)
					{
						/*
						 * The hot path (interned context keys, known to need
						 * no escapes): separator, key and ": " in one go.
						 */
						char	   *w;
						char	   *w0;
						size_t		kn = jks ? (size_t) jkns[i] : keys[ix]->u.s.jkn;

						w = fi_buf_reserve(t, b, kn + 2 + 8);
						w0 = w;
						if (i)
						{
							*w++ = ',';
							if (sep_len == 2)
								*w++ = ' ';
						}
						for (size_t j = 0; j < kn; j += 8)
							memcpy(w + j, jk + j, 8);
						w += kn;
						b->n += w - w0;
						{
							FiVal	   *val = v->u.d.v[ix];

							/* scalars inline: most fields of a row */
							if (val->type == FV_NONE)
							{
								w = fi_buf_reserve(t, b, 4);
								memcpy(w, "null", 4);
								b->n += 4;
								continue;
							}
							if (val->type == FV_FLOAT)
							{
								w = fi_buf_reserve(t, b, FI_PYFLOAT_MAXLEN);
								b->n += float_json(val, w);
								continue;
							}
							if (val->type == FV_STR)
							{
								json_strval(t, b, val, st->html_safe);
								continue;
							}
							if (val->type == FV_INT && val->u.i >= 0 && val->u.i < 10)
							{
								w = fi_buf_reserve(t, b, 1);
								*w = (char) ('0' + val->u.i);
								b->n++;
								continue;
							}
							json_value(t, b, val, st, level + 1, pos);
						}
						continue;
					}
					k = keys[ix];
					if (i)
						fi_buf_lit(t, b, item_sep, sep_len);
					if (st->indent >= 0)
						json_newline(t, b, st, level + 1);
					switch (k->type)
					{
						case FV_STR:
							if (k->json_plain == 1)
							{
								char	   *w = fi_buf_reserve(t, b, k->u.s.n + 2);

								w[0] = '"';
								memcpy(w + 1, k->u.s.p, k->u.s.n);
								w[k->u.s.n + 1] = '"';
								b->n += k->u.s.n + 2;
							}
							else
								json_str(t, b, k->u.s.p, k->u.s.n, st->html_safe);
							break;
						case FV_INT:
						case FV_FLOAT:
						case FV_BOOL:
						case FV_NONE:
							{
								FiBuf		kb = {0};

								json_value(t, &kb, k, st, level, pos);
								fi_buf_putc(t, b, '"');
								fi_buf_put(t, b, kb.p, kb.n);
								fi_buf_putc(t, b, '"');
								break;
							}
						default:
							fi_throw(t, FI_TPL_EVALUE, pos,
									 "keys must be str, int, float, bool or None, not %s",
									 fi_typename(k));
					}
					fi_buf_lit(t, b, ": ", 2);
					json_value(t, b, v->u.d.v[ix], st, level + 1, pos);
				}
				if (st->indent >= 0)
					json_newline(t, b, st, level);
				fi_buf_putc(t, b, '}');	/* and a NUL */
				return;
			}
		case FV_DATE:
		case FV_DATETIME:
		case FV_TDELTA:
			if (st->lenient)
			{
				FiBuf		sb = {0};

				fi_str_into(t, &sb, v);
				json_str(t, b, sb.p, sb.n, st->html_safe);
				return;
			}
			break;
		case FV_UNDEF:
			if (st->lenient)
			{
				/* json_handler turns any iterable into a list: [] */
				fi_buf_puts(t, b, "[]");
				return;
			}
			break;
		default:
			break;
	}
	fi_throw(t, FI_TPL_EVALUE, pos, "Object of type %s is not JSON serializable",
			 fi_typename(v));
}

void
fi_json_into(FiTpl *t, FiBuf *b, FiVal *v, const FiJsonStyle *st, int pos)
{
	json_value(t, b, v, st, 0, pos);
}

/* ------------------------------------------------------------- JSON in */

typedef struct JP
{
	FiTpl	   *t;
	const char *s;
	size_t		n,
				i;
	int			depth;
} JP;

static void
jp_fail(JP *p, const char *what)
{
	/* report against the JSON text, with Python's wording */
	p->t->src = p->s;
	p->t->srclen = p->n;
	fi_throw(p->t, FI_TPL_EVALUE, (int) p->i, "%s", what);
}

static void
jp_ws(JP *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
						   p->s[p->i] == '\n' || p->s[p->i] == '\r'))
		p->i++;
}

static int
jp_hex4(JP *p, size_t at)
{
	int			v = 0;

	if (at + 4 > p->n)
		return -1;
	for (int k = 0; k < 4; k++)
	{
		int			h = fi_hex_value(p->s[at + k]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static FiVal *
jp_string(JP *p)
{
	FiBuf		b = {0};
	size_t		start;
	FiVal	   *r;

	p->i++;						/* opening quote */
	{
		/* no escapes (the common case): one exact allocation */
		size_t		k = p->i;

		while (k < p->n && p->s[k] != '"' && p->s[k] != '\\' &&
			   (unsigned char) p->s[k] >= 0x20)
			k++;
		if (k < p->n && p->s[k] == '"')
		{
			r = fi_mkstr(p->t, p->s + p->i, k - p->i);
			p->i = k + 1;
			return r;
		}
	}
	fi_buf_put(p->t, &b, "", 0);
	for (;;)
	{
		start = p->i;
		while (p->i < p->n && p->s[p->i] != '"' && p->s[p->i] != '\\' &&
			   (unsigned char) p->s[p->i] >= 0x20)
			p->i++;
		fi_buf_put(p->t, &b, p->s + start, p->i - start);
		if (p->i >= p->n)
			jp_fail(p, "Unterminated string starting at");
		if (p->s[p->i] == '"')
		{
			p->i++;
			break;
		}
		if ((unsigned char) p->s[p->i] < 0x20)
			jp_fail(p, "Invalid control character at");
		/* backslash */
		p->i++;
		if (p->i >= p->n)
			jp_fail(p, "Unterminated string starting at");
		switch (p->s[p->i])
		{
			case '"':
				fi_buf_putc(p->t, &b, '"');
				break;
			case '\\':
				fi_buf_putc(p->t, &b, '\\');
				break;
			case '/':
				fi_buf_putc(p->t, &b, '/');
				break;
			case 'b':
				fi_buf_putc(p->t, &b, '\b');
				break;
			case 'f':
				fi_buf_putc(p->t, &b, '\f');
				break;
			case 'n':
				fi_buf_putc(p->t, &b, '\n');
				break;
			case 'r':
				fi_buf_putc(p->t, &b, '\r');
				break;
			case 't':
				fi_buf_putc(p->t, &b, '\t');
				break;
			case 'u':
				{
					int			cp = jp_hex4(p, p->i + 1);

					if (cp < 0)
						jp_fail(p, "Invalid \\u escape: four hex digits expected");
					p->i += 4;
					if (cp >= 0xD800 && cp <= 0xDBFF && p->i + 2 < p->n &&
						p->s[p->i + 1] == '\\' && p->s[p->i + 2] == 'u')
					{
						int			lo = jp_hex4(p, p->i + 3);

						if (lo >= 0xDC00 && lo <= 0xDFFF)
						{
							cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
							p->i += 6;
						}
					}
					/* a lone surrogate is kept (as Python does) */
					fi_utf8_put(p->t, &b, (uint32_t) cp);
					break;
				}
			default:
				jp_fail(p, "Invalid \\escape");
		}
		p->i++;
	}
	r = fi_new(p->t, FV_STR);
	r->u.s.p = b.p;
	r->u.s.n = b.n;
	return r;
}

static FiVal *jp_value(JP *p);

static FiVal *
jp_number(JP *p)
{
	size_t		start = p->i;
	bool		isfloat = false;

	if (p->s[p->i] == '-')
		p->i++;
	if (p->i < p->n && p->s[p->i] == '0')
		p->i++;
	else if (p->i < p->n && p->s[p->i] >= '1' && p->s[p->i] <= '9')
		while (p->i < p->n && isdigit((unsigned char) p->s[p->i]))
			p->i++;
	else
	{
		p->i = start;
		jp_fail(p, "Expecting value");
	}
	if (p->i + 1 < p->n && p->s[p->i] == '.' && isdigit((unsigned char) p->s[p->i + 1]))
	{
		isfloat = true;
		p->i++;
		while (p->i < p->n && isdigit((unsigned char) p->s[p->i]))
			p->i++;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E'))
	{
		size_t		save = p->i;

		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (p->i < p->n && isdigit((unsigned char) p->s[p->i]))
		{
			isfloat = true;
			while (p->i < p->n && isdigit((unsigned char) p->s[p->i]))
				p->i++;
		}
		else
			p->i = save;
	}
	if (isfloat)
	{
		/* exact when mantissa < 2^53 and the power of ten is exact */
		static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
		1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
		uint64_t	mant = 0;
		int			ndig = 0,
					scale = 0,
					e = 0;
		bool		neg = p->s[start] == '-',
					frac = false,
					ok = true;
		size_t		k = start + (neg ? 1 : 0);

		for (; k < p->i; k++)
		{
			char		c = p->s[k];

			if (c == '.')
				frac = true;
			else if (c == 'e' || c == 'E')
			{
				bool		eneg = false;

				k++;
				if (k < p->i && (p->s[k] == '+' || p->s[k] == '-'))
					eneg = p->s[k++] == '-';
				for (; k < p->i && e < 10000; k++)
					e = e * 10 + (p->s[k] - '0');
				if (eneg)
					e = -e;
				break;
			}
			else
			{
				if (mant == 0 && c == '0')
				{
					if (frac)
						scale++;
					continue;
				}
				if (++ndig > 15)
				{
					ok = false;
					break;
				}
				mant = mant * 10 + (c - '0');
				if (frac)
					scale++;
			}
		}
		e -= scale;
		if (ok && e >= -22 && e <= 22)
		{
			double		d = (double) mant;
			uint64_t	dec = mant;
			int			places = -e;

			d = e < 0 ? d / p10[-e] : d * p10[e];
			/* the same decimal without trailing zeros, for the output */
			while (places > 0 && dec != 0 && dec % 10 == 0)
			{
				dec /= 10;
				places--;
			}
			for (; places < 0 && dec < (1ULL << 53) / 10; places++)
				dec *= 10;
			if (places < 0)
				dec = 0;		/* not known */
			return fi_mkfloat_dec(p->t, neg ? -d : d, dec, places);
		}
	}
	{
		char	   *tmp = fi_strndup(p->t, p->s + start, p->i - start);

		if (isfloat)
			return fi_mkfloat(p->t, strtod(tmp, NULL));
		else
		{
			char	   *end;
			long long	v;

			errno = 0;
			v = strtoll(tmp, &end, 10);
			if (errno == ERANGE)
			{
				p->i = start;
				jp_fail(p, "integer does not fit in 64 bits");
			}
			return fi_mkint(p->t, v);
		}
	}
}

static bool
jp_word(JP *p, const char *w)
{
	size_t		n = strlen(w);

	if (p->i + n <= p->n && memcmp(p->s + p->i, w, n) == 0)
	{
		p->i += n;
		return true;
	}
	return false;
}

static FiVal *
jp_value(JP *p)
{
	FiTpl	   *t = p->t;

	jp_ws(p);
	if (p->i >= p->n)
		jp_fail(p, "Expecting value");
	switch (p->s[p->i])
	{
		case '"':
			{
				FiVal	   *r = jp_string(p);

				fi_str_classify(r);
				return r;
			}
		case '{':
			{
				FiVal	   *d = fi_new(t, FV_DICT);

				if (++p->depth > t->opt.max_depth)
					jp_fail(p, "JSON nested too deep");
				p->i++;
				jp_ws(p);
				if (p->i < p->n && p->s[p->i] == '}')
				{
					p->i++;
					p->depth--;
					return d;
				}
				for (;;)
				{
					FiVal	   *k,
							   *v;

					jp_ws(p);
					if (p->i >= p->n || p->s[p->i] != '"')
						jp_fail(p, "Expecting property name enclosed in double quotes");
					{
						/* a key without escapes: looked up in the input */
						size_t		e = p->i + 1;

						while (e < p->n && p->s[e] != '"' && p->s[e] != '\\' &&
							   (unsigned char) p->s[e] >= 0x20)
							e++;
						if (e < p->n && p->s[e] == '"')
						{
							k = fi_intern_key(t, p->s + p->i + 1, e - p->i - 1);
							p->i = e + 1;
						}
						else
						{
							k = jp_string(p);
							k = fi_intern_key(t, k->u.s.p, k->u.s.n);
						}
					}
					jp_ws(p);
					if (p->i >= p->n || p->s[p->i] != ':')
						jp_fail(p, "Expecting ':' delimiter");
					p->i++;
					v = jp_value(p);
					fi_dict_put(t, d, k, v);
					jp_ws(p);
					if (p->i < p->n && p->s[p->i] == ',')
					{
						p->i++;
						continue;
					}
					if (p->i < p->n && p->s[p->i] == '}')
					{
						p->i++;
						break;
					}
					jp_fail(p, "Expecting ',' delimiter");
				}
				p->depth--;
				fi_dict_share_shape(t, d);
				return d;
			}
		case '[':
			{
				FiVal	   *l = fi_mklist(t, FV_LIST, 4);

				if (++p->depth > t->opt.max_depth)
					jp_fail(p, "JSON nested too deep");
				p->i++;
				jp_ws(p);
				if (p->i < p->n && p->s[p->i] == ']')
				{
					p->i++;
					p->depth--;
					return l;
				}
				for (;;)
				{
					fi_list_push(t, l, jp_value(p));
					jp_ws(p);
					if (p->i < p->n && p->s[p->i] == ',')
					{
						p->i++;
						continue;
					}
					if (p->i < p->n && p->s[p->i] == ']')
					{
						p->i++;
						break;
					}
					jp_fail(p, "Expecting ',' delimiter");
				}
				p->depth--;
				return l;
			}
		case 'n':
			if (jp_word(p, "null"))
				return t->none;
			break;
		case 't':
			if (jp_word(p, "true"))
				return t->vtrue;
			break;
		case 'f':
			if (jp_word(p, "false"))
				return t->vfalse;
			break;
		case 'N':
			if (jp_word(p, "NaN"))
				return fi_mkfloat(t, NAN);
			break;
		case 'I':
			if (jp_word(p, "Infinity"))
				return fi_mkfloat(t, INFINITY);
			break;
		case '-':
			if (jp_word(p, "-Infinity"))
				return fi_mkfloat(t, -INFINITY);
			return jp_number(p);
		default:
			if (isdigit((unsigned char) p->s[p->i]))
				return jp_number(p);
	}
	jp_fail(p, "Expecting value");
	return NULL;
}

/*
 * A float from decimal text (PostgreSQL's numeric output: "1180.000000000",
 * "5", "NaN", "-Infinity"), as Frappe reads a numeric column: always a
 * float, keeping the decimal for the output when it has few digits.
 */
FiVal *
fi_float_from_text(FiTpl *t, const char *s, size_t n)
{
	JP			p = {t, s, n, 0, 0};
	FiVal	   *v = NULL;

	size_t		digits = 0;
	bool		plain_int = true;

	for (size_t i = (n > 0 && s[0] == '-') ? 1 : 0; i < n; i++)
	{
		if (isdigit((unsigned char) s[i]))
			digits++;
		else
			plain_int = false;
	}
	/* JSON's number grammar, and no integer past 64 bits (that one throws) */
	if (n > 0 && isdigit((unsigned char) s[s[0] == '-' ? 1 : 0]) &&
		!(plain_int && digits > 18))
	{
		v = jp_number(&p);
		if (p.i != n)
			v = NULL;
	}
	if (v != NULL && v->type == FV_INT)
	{
		int64_t		i = v->u.i;
		uint64_t	a = i < 0 ? (uint64_t) 0 - (uint64_t) i : (uint64_t) i;

		return fi_mkfloat_dec(t, (double) i, a < (1ULL << 53) ? a : 0, 0);
	}
	if (v != NULL)
		return v;
	{
		char	   *tmp = fi_strndup(t, s, n);

		if (strcmp(tmp, "NaN") == 0)
			return fi_mkfloat(t, NAN);
		if (strcmp(tmp, "Infinity") == 0)
			return fi_mkfloat(t, INFINITY);
		if (strcmp(tmp, "-Infinity") == 0)
			return fi_mkfloat(t, -INFINITY);
		return fi_mkfloat(t, strtod(tmp, NULL));
	}
}

FiVal *
fi_json_parse(FiTpl *t, const char *s, size_t n)
{
	JP			p = {t, s, n, 0, 0};
	FiVal	   *v = jp_value(&p);

	jp_ws(&p);
	if (p.i != n)
		jp_fail(&p, "Extra data");
	return v;
}

