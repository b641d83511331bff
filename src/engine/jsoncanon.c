/*
 * jsoncanon.c
 *		JSON text as jsonb keeps and prints it (see jsoncanon.h).
 *
 * The text is parsed into a tree in an arena (linear in the input), each
 * object's members sorted and made unique, then written once.  Numbers
 * follow numeric_in: an exponent beyond +-1000 is refused, the scale is
 * the fraction's digits less the exponent (never below 0).
 */
#include "engine/jsoncanon.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/codec.h"		/* fi_utf8_encode */
#include "engine/csv.h"			/* fi_utf8_valid */

#define NUMERIC_MAX_EXPONENT 1000	/* numeric_in's NUMERIC_MAX_PRECISION */
#define NUMERIC_MAX_DSCALE	0x3FFF
#define NUMERIC_MAX_WEIGHT_DIGITS 131072

/* ---- buffers and the arena ---- */

void
fi_jbuf_free(FiJBuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

bool
fi_jbuf_put(FiJBuf *b, const char *s, size_t n)
{
	if (b->oom)
		return false;
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 256;
		char	   *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((d = realloc(b->data, cap)) == NULL)
		{
			b->oom = true;
			return false;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

typedef struct Chunk
{
	struct Chunk *next;
	size_t		used,
				size;
	char		mem[];
} Chunk;

typedef struct Arena
{
	Chunk	   *head;
	bool		oom;
} Arena;

static void *
aalloc(Arena *a, size_t n)
{
	Chunk	   *c = a->head;

	n = (n + 15) & ~(size_t) 15;
	if (c == NULL || c->used + n > c->size)
	{
		size_t		size = n > 65536 ? n : 65536;

		if ((c = malloc(sizeof(Chunk) + size)) == NULL)
		{
			a->oom = true;
			return NULL;
		}
		c->next = a->head;
		c->used = 0;
		c->size = size;
		a->head = c;
	}
	c->used += n;
	return c->mem + c->used - n;
}

static void
afree(Arena *a)
{
	while (a->head)
	{
		Chunk	   *n = a->head->next;

		free(a->head);
		a->head = n;
	}
}

/* ---- the tree ---- */

enum
{
	J_NULL, J_TRUE, J_FALSE, J_NUM, J_STR, J_ARR, J_OBJ
};

typedef struct JVal JVal;
typedef struct JMember
{
	const char *key;
	size_t		klen;
	JVal	   *val;
	size_t		order;
} JMember;

struct JVal
{
	int			type;
	const char *s;				/* J_STR: decoded; J_NUM: as numeric prints it */
	size_t		n;
	size_t		count;
	JVal	  **items;			/* J_ARR */
	JMember    *members;		/* J_OBJ, sorted and unique */
};

typedef struct Parser
{
	const char *p,
			   *end,
			   *start;
	int			depth,
				max_depth;
	Arena		arena;
	FiJsonErr	err;
	char	   *msg;
	size_t		msglen;
} Parser;

static void
fail(Parser *ps, FiJsonErr err, const char *what)
{
	if (ps->err != FI_JSON_OK)
		return;
	ps->err = err;
	if (ps->msg && ps->msglen)
		snprintf(ps->msg, ps->msglen, "%s (at byte %zu)", what, (size_t) (ps->p - ps->start));
}

static void
skip_ws(Parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int
hex4(const char *p)
{
	int			v = 0;

	for (int i = 0; i < 4; i++)
	{
		int			c = p[i],
					d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* a string at ps->p ('"'), decoded into the arena */
static bool
parse_string(Parser *ps, const char **out, size_t *outlen)
{
	const char *q = ++ps->p;
	size_t		n = 0;
	char	   *o;

	/* the decoded text is never longer than the raw */
	while (q < ps->end && *q != '"')
		q += *q == '\\' && q + 1 < ps->end ? 2 : 1;
	if (q >= ps->end)
	{
		fail(ps, FI_JSON_SYNTAX, "unterminated string");
		return false;
	}
	if ((o = aalloc(&ps->arena, (size_t) (q - ps->p) + 1)) == NULL)
	{
		fail(ps, FI_JSON_NOMEM, "out of memory");
		return false;
	}
	while (*ps->p != '"')
	{
		unsigned char c = (unsigned char) *ps->p;

		if (c < 0x20)
		{
			fail(ps, FI_JSON_SYNTAX, "a control character in a string must be escaped");
			return false;
		}
		if (c != '\\')
		{
			o[n++] = (char) c;
			ps->p++;
			continue;
		}
		ps->p++;
		switch (*ps->p)
		{
			case '"':
			case '\\':
			case '/':
				o[n++] = *ps->p++;
				break;
			case 'b':
				o[n++] = '\b';
				ps->p++;
				break;
			case 'f':
				o[n++] = '\f';
				ps->p++;
				break;
			case 'n':
				o[n++] = '\n';
				ps->p++;
				break;
			case 'r':
				o[n++] = '\r';
				ps->p++;
				break;
			case 't':
				o[n++] = '\t';
				ps->p++;
				break;
			case 'u':
				{
					int			u = ps->end - ps->p >= 5 ? hex4(ps->p + 1) : -1;
					uint32_t	cp;

					if (u < 0)
					{
						fail(ps, FI_JSON_SYNTAX, "\\u must be followed by four hexadecimal digits");
						return false;
					}
					ps->p += 5;
					cp = (uint32_t) u;
					if (cp >= 0xD800 && cp <= 0xDBFF)
					{
						int			lo = ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u' ? hex4(ps->p + 2) : -1;

						if (lo < 0xDC00 || lo > 0xDFFF)
						{
							fail(ps, FI_JSON_UNICODE, "a high surrogate must be followed by a low one");
							return false;
						}
						ps->p += 6;
						cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t) lo - 0xDC00);
					}
					else if (cp >= 0xDC00 && cp <= 0xDFFF)
					{
						fail(ps, FI_JSON_UNICODE, "a low surrogate must follow a high one");
						return false;
					}
					else if (cp == 0)
					{
						fail(ps, FI_JSON_UNICODE, "\\u0000 cannot be converted to text");
						return false;
					}
					n += fi_utf8_encode(o + n, cp);
					break;
				}
			default:
				fail(ps, FI_JSON_SYNTAX, "an invalid escape in a string");
				return false;
		}
	}
	ps->p++;
	o[n] = '\0';
	*out = o;
	*outlen = n;
	return true;
}

/* a number, as numeric_out prints numeric_in's value of it */
static bool
parse_number(Parser *ps, JVal *v)
{
	const char *p = ps->p,
			   *ip,
			   *fp = NULL;
	size_t		il,
				fl = 0;
	bool		neg = false;
	long		exp = 0;
	long		dscale;
	char	   *o;
	size_t		n = 0;

	if (p < ps->end && *p == '-')
	{
		neg = true;
		p++;
	}
	if (p >= ps->end || *p < '0' || *p > '9')
	{
		fail(ps, FI_JSON_SYNTAX, "an invalid number");
		return false;
	}
	ip = p;
	if (*p == '0')
		p++;
	else
		while (p < ps->end && *p >= '0' && *p <= '9')
			p++;
	il = (size_t) (p - ip);
	if (p < ps->end && *p == '.')
	{
		fp = ++p;
		while (p < ps->end && *p >= '0' && *p <= '9')
			p++;
		fl = (size_t) (p - fp);
		if (fl == 0)
		{
			fail(ps, FI_JSON_SYNTAX, "an invalid number");
			return false;
		}
	}
	if (p < ps->end && (*p == 'e' || *p == 'E'))
	{
		bool		eneg = false;
		const char *ep;

		p++;
		if (p < ps->end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		ep = p;
		while (p < ps->end && *p >= '0' && *p <= '9')
		{
			if (exp <= NUMERIC_MAX_EXPONENT)
				exp = exp * 10 + (*p - '0');
			p++;
		}
		if (p == ep)
		{
			fail(ps, FI_JSON_SYNTAX, "an invalid number");
			return false;
		}
		if (exp > NUMERIC_MAX_EXPONENT)
		{
			fail(ps, FI_JSON_SYNTAX, "an exponent beyond 1000 (numeric refuses it)");
			return false;
		}
		if (eneg)
			exp = -exp;
	}
	ps->p = p;

	/* digits D = int . frac; the value D * 10^(exp - fl); scale max(0, fl - exp) */
	dscale = (long) fl - exp;
	if (dscale < 0)
		dscale = 0;
	if (dscale > NUMERIC_MAX_DSCALE || (long) il + exp > NUMERIC_MAX_WEIGHT_DIGITS)
	{
		fail(ps, FI_JSON_RANGE, "a number beyond numeric's range");
		return false;
	}
	{
		/* all digits, then the point moved by exp */
		size_t		nd = il + fl;
		long		point = (long) il + exp;	/* digits before the point */
		size_t		cap = nd + (size_t) (point > 0 ? point : 0) + (size_t) dscale + 4;
		bool		any = false;
		char	   *digits;

		if ((o = aalloc(&ps->arena, cap)) == NULL || (digits = aalloc(&ps->arena, nd + 1)) == NULL)
		{
			fail(ps, FI_JSON_NOMEM, "out of memory");
			return false;
		}
		memcpy(digits, ip, il);
		if (fl)
			memcpy(digits + il, fp, fl);
		for (size_t i = 0; i < nd; i++)
			any |= digits[i] != '0';
		if (neg && any)
			o[n++] = '-';
		/* the integer part: digits [0, point), zeros beyond nd, leading zeros dropped */
		{
			size_t		start = n;

			for (long i = 0; i < point; i++)
			{
				char		c = (size_t) i < nd ? digits[i] : '0';

				if (n == start && c == '0')
					continue;
				o[n++] = c;
			}
			if (n == start)
				o[n++] = '0';
		}
		if (dscale > 0)
		{
			o[n++] = '.';
			for (long i = 0; i < dscale; i++)
			{
				long		at = point + i;

				o[n++] = at >= 0 && (size_t) at < nd ? digits[at] : '0';
			}
		}
		o[n] = '\0';
	}
	v->type = J_NUM;
	v->s = o;
	v->n = n;
	return true;
}

static int
member_cmp(const void *a, const void *b)
{
	const JMember *x = a,
			   *y = b;
	int			c;

	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	if ((c = memcmp(x->key, y->key, x->klen)) != 0)
		return c;
	/* the same key: the later one first, so that it is the one kept */
	return x->order > y->order ? -1 : 1;
}

static JVal *parse_value(Parser *ps);

/* a growing list of pointers or members in malloc, copied into the arena when done */
static bool
grow(void **list, size_t *cap, size_t count, size_t size)
{
	if (count < *cap)
		return true;
	{
		size_t		ncap = *cap ? *cap * 2 : 8;
		void	   *l = realloc(*list, ncap * size);

		if (l == NULL)
			return false;
		*list = l;
		*cap = ncap;
	}
	return true;
}

static JVal *
parse_container(Parser *ps, JVal *v, bool object)
{
	void	   *list = NULL;
	size_t		cap = 0,
				count = 0;
	size_t		size = object ? sizeof(JMember) : sizeof(JVal *);
	char		close = object ? '}' : ']';

	if (++ps->depth > ps->max_depth)
	{
		fail(ps, FI_JSON_DEPTH, "nested deeper than allowed");
		return NULL;
	}
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close)
		ps->p++;
	else
		for (;;)
		{
			JMember		m = {0};
			JVal	   *item;

			skip_ws(ps);
			if (object)
			{
				if (ps->p >= ps->end || *ps->p != '"')
				{
					fail(ps, FI_JSON_SYNTAX, "expected a string key");
					break;
				}
				if (!parse_string(ps, &m.key, &m.klen))
					break;
				skip_ws(ps);
				if (ps->p >= ps->end || *ps->p != ':')
				{
					fail(ps, FI_JSON_SYNTAX, "expected ':'");
					break;
				}
				ps->p++;
			}
			if ((item = parse_value(ps)) == NULL)
				break;
			if (!grow(&list, &cap, count, size))
			{
				fail(ps, FI_JSON_NOMEM, "out of memory");
				break;
			}
			if (object)
			{
				m.val = item;
				m.order = count;
				((JMember *) list)[count++] = m;
			}
			else
				((JVal **) list)[count++] = item;
			skip_ws(ps);
			if (ps->p < ps->end && *ps->p == ',')
			{
				ps->p++;
				continue;
			}
			if (ps->p < ps->end && *ps->p == close)
			{
				ps->p++;
				break;
			}
			fail(ps, FI_JSON_SYNTAX, object ? "expected ',' or '}'" : "expected ',' or ']'");
			break;
		}
	if (ps->err == FI_JSON_OK)
	{
		void	   *keep = aalloc(&ps->arena, count * size + 1);

		if (keep == NULL)
			fail(ps, FI_JSON_NOMEM, "out of memory");
		else
		{
			if (count)
				memcpy(keep, list, count * size);
			if (object)
			{
				JMember    *ms = keep;
				size_t		u = 0;

				qsort(ms, count, sizeof(JMember), member_cmp);
				for (size_t i = 0; i < count; i++)
					if (u == 0 || ms[u - 1].klen != ms[i].klen || memcmp(ms[u - 1].key, ms[i].key, ms[i].klen) != 0)
						ms[u++] = ms[i];
				v->type = J_OBJ;
				v->members = ms;
				v->count = u;
			}
			else
			{
				v->type = J_ARR;
				v->items = keep;
				v->count = count;
			}
		}
	}
	free(list);
	ps->depth--;
	return ps->err == FI_JSON_OK ? v : NULL;
}

static JVal *
parse_value(Parser *ps)
{
	JVal	   *v;

	skip_ws(ps);
	if ((v = aalloc(&ps->arena, sizeof(JVal))) == NULL)
	{
		fail(ps, FI_JSON_NOMEM, "out of memory");
		return NULL;
	}
	memset(v, 0, sizeof(*v));
	if (ps->p >= ps->end)
	{
		fail(ps, FI_JSON_SYNTAX, "unexpected end of input");
		return NULL;
	}
	switch (*ps->p)
	{
		case '{':
			return parse_container(ps, v, true);
		case '[':
			return parse_container(ps, v, false);
		case '"':
			v->type = J_STR;
			return parse_string(ps, &v->s, &v->n) ? v : NULL;
		case 't':
		case 'f':
		case 'n':
			{
				static const char *const words[] = {"true", "false", "null"};
				static const int types[] = {J_TRUE, J_FALSE, J_NULL};

				for (int i = 0; i < 3; i++)
				{
					size_t		l = strlen(words[i]);

					if ((size_t) (ps->end - ps->p) >= l && memcmp(ps->p, words[i], l) == 0 &&
						((size_t) (ps->end - ps->p) == l || !((ps->p[l] >= 'a' && ps->p[l] <= 'z') ||
															  (ps->p[l] >= 'A' && ps->p[l] <= 'Z') ||
															  (ps->p[l] >= '0' && ps->p[l] <= '9') ||
															  ps->p[l] == '_')))
					{
						ps->p += l;
						v->type = types[i];
						return v;
					}
				}
				fail(ps, FI_JSON_SYNTAX, "an invalid token");
				return NULL;
			}
		default:
			return parse_number(ps, v) ? v : NULL;
	}
}

/* ---- writing ---- */

static void put_string(FiJBuf *b, const char *s, size_t n);

bool
fi_json_put_string(FiJBuf *b, const char *s, size_t n)
{
	put_string(b, s, n);
	return !b->oom;
}

/* a string as escape_json writes it */
static void
put_string(FiJBuf *b, const char *s, size_t n)
{
	size_t		run = 0;

	fi_jbuf_put(b, "\"", 1);
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];
		const char *e = NULL;
		char		u[8];

		switch (c)
		{
			case '"':
				e = "\\\"";
				break;
			case '\\':
				e = "\\\\";
				break;
			case '\b':
				e = "\\b";
				break;
			case '\f':
				e = "\\f";
				break;
			case '\n':
				e = "\\n";
				break;
			case '\r':
				e = "\\r";
				break;
			case '\t':
				e = "\\t";
				break;
			default:
				if (c < 0x20)
				{
					snprintf(u, sizeof(u), "\\u%04x", c);
					e = u;
				}
		}
		if (e)
		{
			fi_jbuf_put(b, s + run, i - run);
			fi_jbuf_put(b, e, strlen(e));
			run = i + 1;
		}
	}
	fi_jbuf_put(b, s + run, n - run);
	fi_jbuf_put(b, "\"", 1);
}

static void
put_value(FiJBuf *b, const JVal *v, bool spaced)
{
	switch (v->type)
	{
		case J_NULL:
			fi_jbuf_put(b, "null", 4);
			break;
		case J_TRUE:
			fi_jbuf_put(b, "true", 4);
			break;
		case J_FALSE:
			fi_jbuf_put(b, "false", 5);
			break;
		case J_NUM:
			fi_jbuf_put(b, v->s, v->n);
			break;
		case J_STR:
			put_string(b, v->s, v->n);
			break;
		case J_ARR:
			fi_jbuf_put(b, "[", 1);
			for (size_t i = 0; i < v->count; i++)
			{
				if (i)
					fi_jbuf_put(b, spaced ? ", " : ",", spaced ? 2 : 1);
				put_value(b, v->items[i], spaced);
			}
			fi_jbuf_put(b, "]", 1);
			break;
		case J_OBJ:
			fi_jbuf_put(b, "{", 1);
			for (size_t i = 0; i < v->count; i++)
			{
				if (i)
					fi_jbuf_put(b, spaced ? ", " : ",", spaced ? 2 : 1);
				put_string(b, v->members[i].key, v->members[i].klen);
				fi_jbuf_put(b, spaced ? ": " : ":", spaced ? 2 : 1);
				put_value(b, v->members[i].val, spaced);
			}
			fi_jbuf_put(b, "}", 1);
			break;
	}
}

static JVal *
parse_all(Parser *ps, const char *in, size_t n, int max_depth, char *msg, size_t msglen)
{
	JVal	   *v;
	size_t		bad;

	memset(ps, 0, sizeof(*ps));
	ps->p = ps->start = in;
	ps->end = in + n;
	ps->max_depth = max_depth;
	ps->msg = msg;
	ps->msglen = msglen;
	if (!fi_utf8_valid(in, n, &bad))
	{
		ps->p = in + bad;
		fail(ps, FI_JSON_SYNTAX, "not UTF-8 text");
		return NULL;
	}
	if ((v = parse_value(ps)) == NULL)
		return NULL;
	skip_ws(ps);
	if (ps->p != ps->end)
	{
		fail(ps, FI_JSON_SYNTAX, "text after the JSON value");
		return NULL;
	}
	return v;
}

FiJsonErr
fi_json_canon(const char *in, size_t n, bool spaced, int max_depth, FiJBuf *out, FiJsonRoot *root,
			  char *msg, size_t msglen)
{
	Parser		ps;
	JVal	   *v = parse_all(&ps, in, n, max_depth, msg, msglen);
	FiJsonErr	err = ps.err;

	if (v != NULL)
	{
		*root = v->type == J_OBJ ? FI_JROOT_OBJECT : v->type == J_ARR ? FI_JROOT_ARRAY : FI_JROOT_SCALAR;
		put_value(out, v, spaced);
		if (out->oom)
			err = FI_JSON_NOMEM;
	}
	afree(&ps.arena);
	return err;
}

bool
fi_json_top_string(const char *in, size_t n, const char *key, FiJBuf *out)
{
	Parser		ps;
	JVal	   *v = parse_all(&ps, in, n, 1000, NULL, 0);
	bool		found = false;
	size_t		kl = strlen(key);

	if (v != NULL && v->type == J_OBJ)
		for (size_t i = 0; i < v->count; i++)
			if (v->members[i].klen == kl && memcmp(v->members[i].key, key, kl) == 0 &&
				v->members[i].val->type == J_STR)
				found = fi_jbuf_put(out, v->members[i].val->s, v->members[i].val->n);
	afree(&ps.arena);
	return found;
}

FiJsonErr
fi_json_each_member(const char *in, size_t n, int max_depth, FiJsonMemberFn fn, void *arg, bool *is_object,
					char *msg, size_t msglen)
{
	Parser		ps;
	JVal	   *v = parse_all(&ps, in, n, max_depth, msg, msglen);
	FiJsonErr	err = ps.err;

	*is_object = v != NULL && v->type == J_OBJ;
	if (*is_object)
		for (size_t i = 0; i < v->count; i++)
		{
			const JVal *m = v->members[i].val;

			if (!fn(arg, v->members[i].key, v->members[i].klen, m->type == J_STR,
					m->type == J_STR ? m->s : NULL, m->type == J_STR ? m->n : 0))
				break;
		}
	afree(&ps.arena);
	return err;
}
