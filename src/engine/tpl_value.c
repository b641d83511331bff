/*
 * tpl_value.c
 *		The template engine's session (arena, limits, errors) and value model:
 *		constructors, Python's truth, ==, ordering, str() and repr(), JSON text
 *		exactly as Python's json module writes and reads it, UTF-8 and case
 *		mapping (tables generated from CPython), and proleptic Gregorian
 *		ordinals as Python's datetime keeps them.  Pure C, no server state.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tpl_int.h"
#include "engine/pyjson.h"
#include "engine/unitab.h"

static inline char *buf_reserve(FiTpl *t, FiBuf *b, size_t n);
static void buf_grow(FiTpl *t, FiBuf *b, size_t need);
static inline void buf_lit(FiTpl *t, FiBuf *b, const char *s, size_t n);

/* ---------------------------------------------------------------- arena */

struct FiBlock
{
	struct FiBlock *next;
	size_t		size,
				used;
	/* data follows, max-aligned */
};

#define FI_BLOCK_HDR	((sizeof(FiBlock) + 15) & ~(size_t) 15)
#define FI_BLOCK_MIN	(32 * 1024)

/*
 * Freed blocks are kept for the next session (up to FI_CACHE_MAX bytes):
 * sessions are short and many, and handing memory back to the system each
 * time costs page faults on every render.  The engine runs in one thread
 * per process (a PostgreSQL backend), so the cache is a plain list.
 */
#define FI_CACHE_MAX	(8 * 1024 * 1024)
static FiBlock *block_cache;
static size_t block_cache_bytes;

static FiBlock *
block_get(size_t sz)
{
	FiBlock   **pp;

	for (pp = &block_cache; *pp; pp = &(*pp)->next)
	{
		FiBlock    *b = *pp;

		/* a block may be up to 4x larger than asked */
		if (b->size >= sz && b->size <= sz * 4)
		{
			*pp = b->next;
			block_cache_bytes -= b->size;
			b->used = 0;
			return b;
		}
	}
	{
		FiBlock    *b = malloc(FI_BLOCK_HDR + sz);

		if (b)
		{
			b->size = sz;
			b->used = 0;
		}
		return b;
	}
}

static void
block_put(FiBlock *b)
{
	if (block_cache_bytes + b->size > FI_CACHE_MAX)
	{
		free(b);
		return;
	}
	b->next = block_cache;
	block_cache = b;
	block_cache_bytes += b->size;
}

void *
fi_alloc(FiTpl *t, size_t n)
{
	FiBlock    *b = t->blocks;

	n = (n + 15) & ~(size_t) 15;
	if (b == NULL || b->size - b->used < n)
	{
		size_t		sz = n > FI_BLOCK_MIN ? n : FI_BLOCK_MIN;

		if (t->used + sz > t->opt.max_memory)
			fi_throw(t, FI_TPL_ELIMIT, -1,
					 "template evaluation needs more than %zu bytes of memory",
					 t->opt.max_memory);
		b = block_get(sz);
		if (b == NULL)
			fi_throw(t, FI_TPL_ELIMIT, -1, "out of memory");
		sz = b->size;
		t->used += sz;
		/* keep the partly used block in front when this one is a big one */
		if (t->blocks && sz > FI_BLOCK_MIN)
		{
			b->next = t->blocks->next;
			t->blocks->next = b;
			b->used = n;
			return (char *) b + FI_BLOCK_HDR;
		}
		b->next = t->blocks;
		t->blocks = b;
	}
	{
		char	   *p = (char *) b + FI_BLOCK_HDR + b->used;

		b->used += n;
		return p;
	}
}

char *
fi_strndup(FiTpl *t, const char *s, size_t n)
{
	char	   *p = fi_alloc(t, n + 1);

	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
fi_tpl_default_options(FiTplOptions *opt)
{
	opt->max_memory = 256 * 1024 * 1024;
	opt->max_output = 64 * 1024 * 1024;
	opt->max_depth = 200;
	opt->max_steps = 50 * 1000 * 1000;
	opt->now_usec = 0;
	opt->interrupted = NULL;
	opt->interrupt_arg = NULL;
}

FiTpl *
fi_tpl_new(const FiTplOptions *opt)
{
	FiTpl	   *volatile t = calloc(1, sizeof(FiTpl));
	jmp_buf		jb;

	if (t == NULL)
		return NULL;
	if (opt)
		t->opt = *opt;
	else
		fi_tpl_default_options(&t->opt);
	t->jb = &jb;
	if (setjmp(jb) != 0)
	{
		fi_tpl_free(t);
		return NULL;
	}
	t->none = fi_new(t, FV_NONE);
	t->vtrue = fi_new(t, FV_BOOL);
	t->vtrue->u.b = true;
	t->vfalse = fi_new(t, FV_BOOL);
	t->empty = fi_mkstr(t, "", 0);
	t->jb = NULL;
	return t;
}

void
fi_tpl_free(FiTpl *t)
{
	FiBlock    *b,
			   *nb;

	if (t == NULL)
		return;
	for (b = t->blocks; b; b = nb)
	{
		nb = b->next;
		block_put(b);
	}
	free(t);
}

int
fi_tpl_errcode(const FiTpl *t)
{
	return t->errcode;
}

const char *
fi_tpl_errmsg(const FiTpl *t)
{
	return t->errmsg;
}

int
fi_tpl_errline(const FiTpl *t)
{
	return t->errline;
}

int
fi_tpl_errcol(const FiTpl *t)
{
	return t->errcol;
}

/*
 * Raise an error at byte offset pos of the current source (-1: none).
 */
void
fi_throw(FiTpl *t, int code, int pos, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(t->errmsg, sizeof(t->errmsg), fmt, ap);
	va_end(ap);
	t->errcode = code;
	t->errline = t->errcol = 0;
	if (pos >= 0 && t->src && (size_t) pos <= t->srclen)
	{
		int			line = 1,
					col = 1;

		for (int i = 0; i < pos; i++)
		{
			unsigned char c = (unsigned char) t->src[i];

			if (c == '\n')
			{
				line++;
				col = 1;
			}
			else if ((c & 0xC0) != 0x80)
				col++;
		}
		t->errline = line;
		t->errcol = col;
	}
	if (t->jb == NULL)
		abort();				/* can't happen: every entry point sets jb */
	longjmp(*t->jb, 1);
}

void
fi_step(FiTpl *t, int pos)
{
	if (++t->steps > t->opt.max_steps)
		fi_throw(t, FI_TPL_ELIMIT, pos,
				 "template evaluation took more than %lld steps",
				 (long long) t->opt.max_steps);
	if ((t->steps & 4095) == 0 && t->opt.interrupted &&
		t->opt.interrupted(t->opt.interrupt_arg))
		fi_throw(t, FI_TPL_ECANCEL, pos, "canceled");
}

/* --------------------------------------------------------------- values */

FiVal *
fi_new(FiTpl *t, int type)
{
	FiVal	   *v = fi_alloc(t, sizeof(FiVal));

	memset(v, 0, sizeof(FiVal));
	v->type = type;
	return v;
}

FiVal *
fi_mkstr(FiTpl *t, const char *s, size_t n)
{
	FiVal	   *v = fi_new(t, FV_STR);

	v->u.s.p = fi_strndup(t, s, n);
	v->u.s.n = n;
	return v;
}

FiVal *
fi_mkcstr(FiTpl *t, const char *s)
{
	return fi_mkstr(t, s, strlen(s));
}

#define SMALLINT_MIN (-5)
#define SMALLINT_MAX 256

FiVal *
fi_mkint(FiTpl *t, int64_t i)
{
	FiVal	   *v;

	/* like CPython, share the small ints: loops make many */
	if (i >= SMALLINT_MIN && i <= SMALLINT_MAX)
	{
		if (t->smallints == NULL)
		{
			int			n = SMALLINT_MAX - SMALLINT_MIN + 1;
			FiVal	   *arr = fi_alloc(t, sizeof(FiVal) * n);

			memset(arr, 0, sizeof(FiVal) * n);
			for (int k = 0; k < n; k++)
			{
				arr[k].type = FV_INT;
				arr[k].u.i = k + SMALLINT_MIN;
			}
			t->smallints = arr;
		}
		return &t->smallints[i - SMALLINT_MIN];
	}
	v = fi_new(t, FV_INT);

	v->u.i = i;
	return v;
}

FiVal *
fi_mkfloat(FiTpl *t, double f)
{
	FiVal	   *v = fi_new(t, FV_FLOAT);

	v->u.f = f;
	return v;
}

FiVal *
fi_mkbool(FiTpl *t, bool b)
{
	return b ? t->vtrue : t->vfalse;
}

FiVal *
fi_mklist(FiTpl *t, int type, int cap)
{
	FiVal	   *v = fi_new(t, type);

	if (cap < 4)
		cap = 4;
	v->u.l.cap = cap;
	v->u.l.v = fi_alloc(t, sizeof(FiVal *) * cap);
	return v;
}

FiVal *
fi_mkundef_name(FiTpl *t, const char *name)
{
	FiVal	   *v = fi_new(t, FV_UNDEF);

	v->u.u.name = name;
	return v;
}

FiVal *
fi_mkundef_item(FiTpl *t, FiVal *obj, FiVal *key)
{
	FiVal	   *v = fi_new(t, FV_UNDEF);

	v->u.u.obj = obj;
	v->u.u.key = key;
	return v;
}

FiVal *
fi_mkundef_hint(FiTpl *t, const char *hint)
{
	FiVal	   *v = fi_new(t, FV_UNDEF);

	v->u.u.hint = hint;
	return v;
}

FiVal *
fi_mkfunc(FiTpl *t, const FiFunc *f, FiVal *self)
{
	FiVal	   *v = fi_new(t, FV_FUNC);

	v->u.fn.f = f;
	v->u.fn.self = self;
	return v;
}

void
fi_list_push(FiTpl *t, FiVal *l, FiVal *v)
{
	if (l->u.l.n == l->u.l.cap)
	{
		int			ncap = l->u.l.cap * 2;
		FiVal	  **nv = fi_alloc(t, sizeof(FiVal *) * ncap);

		memcpy(nv, l->u.l.v, sizeof(FiVal *) * l->u.l.n);
		l->u.l.v = nv;
		l->u.l.cap = ncap;
	}
	l->u.l.v[l->u.l.n++] = v;
}

/*
 * Dicts keep keys in insertion order; past a few keys, str keys are also
 * found through a small open-addressing index (documents have a hundred
 * fields).  Keys of other types are rare and found by a scan.
 */
#define DICT_INDEX_FROM 8

static uint32_t
str_hash(const char *s, size_t n)
{
	uint32_t	h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char) s[i]) * 16777619u;
	return h;
}

/* index of str key s in d, or -1 */
static int
dict_find_str(FiVal *d, const char *s, size_t n)
{
	if (d->u.d.hcap)
	{
		uint32_t	mask = (uint32_t) d->u.d.hcap - 1;
		uint32_t	h = str_hash(s, n) & mask;

		for (;;)
		{
			int			ix = d->u.d.hidx[h] - 1;
			FiVal	   *k;

			if (ix < 0)
				return -1;
			k = d->u.d.k[ix];
			if (k->u.s.n == n && memcmp(k->u.s.p, s, n) == 0)
				return ix;
			h = (h + 1) & mask;
		}
	}
	for (int i = 0; i < d->u.d.n; i++)
	{
		FiVal	   *k = d->u.d.k[i];

		if (k->type == FV_STR && k->u.s.n == n && memcmp(k->u.s.p, s, n) == 0)
			return i;
	}
	return -1;
}

static void
dict_index_add(FiVal *d, int ix)
{
	FiVal	   *k = d->u.d.k[ix];
	uint32_t	mask = (uint32_t) d->u.d.hcap - 1;
	uint32_t	h = str_hash(k->u.s.p, k->u.s.n) & mask;

	while (d->u.d.hidx[h])
		h = (h + 1) & mask;
	d->u.d.hidx[h] = ix + 1;
}

static void
dict_reindex(FiTpl *t, FiVal *d)
{
	int			hcap = 16;

	while (hcap < d->u.d.n * 2)
		hcap *= 2;
	d->u.d.hidx = fi_alloc(t, sizeof(int) * hcap);
	memset(d->u.d.hidx, 0, sizeof(int) * hcap);
	d->u.d.hcap = hcap;
	for (int i = 0; i < d->u.d.n; i++)
		if (d->u.d.k[i]->type == FV_STR)
			dict_index_add(d, i);
}

FiVal *
fi_dict_get(FiVal *d, FiVal *key)
{
	if (key->type == FV_STR)
	{
		int			ix = dict_find_str(d, key->u.s.p, key->u.s.n);

		return ix < 0 ? NULL : d->u.d.v[ix];
	}
	for (int i = 0; i < d->u.d.n; i++)
		if (d->u.d.k[i]->type != FV_STR && fi_eq(NULL, d->u.d.k[i], key))
			return d->u.d.v[i];
	return NULL;
}

FiVal *
fi_dict_getc(FiVal *d, const char *key)
{
	int			ix = dict_find_str(d, key, strlen(key));

	return ix < 0 ? NULL : d->u.d.v[ix];
}

void
fi_dict_put(FiTpl *t, FiVal *d, FiVal *key, FiVal *v)
{
	if (key->type == FV_STR)
	{
		int			ix = dict_find_str(d, key->u.s.p, key->u.s.n);

		if (ix >= 0)
		{
			d->u.d.v[ix] = v;
			return;
		}
	}
	else
		for (int i = 0; i < d->u.d.n; i++)
			if (d->u.d.k[i]->type != FV_STR && fi_eq(t, d->u.d.k[i], key))
			{
				d->u.d.v[i] = v;
				return;
			}
	if (d->u.d.n == d->u.d.cap)
	{
		int			ncap = d->u.d.cap ? d->u.d.cap * 2 : 8;
		FiVal	  **nk = fi_alloc(t, sizeof(FiVal *) * ncap);
		FiVal	  **nv = fi_alloc(t, sizeof(FiVal *) * ncap);

		if (d->u.d.n)
		{
			memcpy(nk, d->u.d.k, sizeof(FiVal *) * d->u.d.n);
			memcpy(nv, d->u.d.v, sizeof(FiVal *) * d->u.d.n);
		}
		d->u.d.k = nk;
		d->u.d.v = nv;
		d->u.d.cap = ncap;
	}
	d->u.d.k[d->u.d.n] = key;
	d->u.d.v[d->u.d.n] = v;
	d->u.d.n++;
	if (d->u.d.hcap == 0 ? d->u.d.n >= DICT_INDEX_FROM : d->u.d.n * 2 > d->u.d.hcap)
		dict_reindex(t, d);
	else if (d->u.d.hcap && key->type == FV_STR)
		dict_index_add(d, d->u.d.n - 1);
}

/* public constructors */
FiVal *
fi_val_none(FiTpl *t)
{
	return t->none;
}

FiVal *
fi_val_bool(FiTpl *t, bool b)
{
	return fi_mkbool(t, b);
}

/*
 * The public constructors run outside an entry point: an allocation failure
 * there must not longjmp into nowhere, so they catch it and return NULL.
 */
#define FI_GUARD(t, fail) \
	jmp_buf guard_jb; \
	jmp_buf *volatile guard_saved = (t)->jb; \
	if ((t)->jb == NULL) { \
		(t)->jb = &guard_jb; \
		if (setjmp(guard_jb) != 0) { (t)->jb = NULL; return fail; } \
	}
#define FI_UNGUARD(t) ((t)->jb = guard_saved)

FiVal *
fi_val_int(FiTpl *t, int64_t i)
{
	FiVal	   *v;

	FI_GUARD(t, NULL);
	v = fi_mkint(t, i);
	FI_UNGUARD(t);
	return v;
}

FiVal *
fi_val_float(FiTpl *t, double d)
{
	FiVal	   *v;

	FI_GUARD(t, NULL);
	v = fi_mkfloat(t, d);
	FI_UNGUARD(t);
	return v;
}

FiVal *
fi_val_str(FiTpl *t, const char *s, size_t len)
{
	FiVal	   *v;

	FI_GUARD(t, NULL);
	v = fi_mkstr(t, s, len);
	FI_UNGUARD(t);
	return v;
}

FiVal *
fi_val_list(FiTpl *t)
{
	FiVal	   *v;

	FI_GUARD(t, NULL);
	v = fi_mklist(t, FV_LIST, 8);
	FI_UNGUARD(t);
	return v;
}

FiVal *
fi_val_dict(FiTpl *t)
{
	FiVal	   *v;

	FI_GUARD(t, NULL);
	v = fi_new(t, FV_DICT);
	FI_UNGUARD(t);
	return v;
}

FiVal *
fi_val_date(FiTpl *t, int year, int month, int day)
{
	FiVal	   *v;

	FI_GUARD(t, NULL);
	v = fi_mkdate(t, fi_ymd_to_ord(year, month, day));
	FI_UNGUARD(t);
	return v;
}

FiVal *
fi_val_datetime(FiTpl *t, int year, int month, int day,
				int hour, int minute, int second, int usec)
{
	FiVal	   *v;

	FI_GUARD(t, NULL);
	v = fi_mkdatetime(t, fi_ymd_to_ord(year, month, day),
					  ((int64_t) hour * 3600 + minute * 60 + second) * 1000000 + usec);
	FI_UNGUARD(t);
	return v;
}

void
fi_val_append(FiTpl *t, FiVal *list, FiVal *v)
{
	FI_GUARD(t, (void) 0);
	fi_list_push(t, list, v);
	FI_UNGUARD(t);
}

void
fi_val_set(FiTpl *t, FiVal *dict, const char *key, size_t klen, FiVal *v)
{
	FI_GUARD(t, (void) 0);
	fi_dict_put(t, dict, fi_mkstr(t, key, klen), v);
	FI_UNGUARD(t);
}

void
fi_val_as_documents(FiVal *v)
{
	if (v == NULL)
		return;
	if (v->type == FV_DICT && !v->is_ns)
	{
		v->is_doc = 1;
		for (int i = 0; i < v->u.d.n; i++)
			fi_val_as_documents(v->u.d.v[i]);
	}
	else if (v->type == FV_LIST || v->type == FV_TUPLE)
		for (int i = 0; i < v->u.l.n; i++)
			fi_val_as_documents(v->u.l.v[i]);
}

FiVal *
fi_val_member(FiVal *dict, const char *key)
{
	if (dict == NULL || dict->type != FV_DICT)
		return NULL;
	return fi_dict_getc(dict, key);
}

const char *
fi_val_text(FiVal *v, size_t *len)
{
	if (v == NULL || v->type != FV_STR)
		return NULL;
	*len = v->u.s.n;
	return v->u.s.p;
}

/* ------------------------------------------------- truth, ==, ordering */

const char *
fi_typename(FiVal *v)
{
	switch (v->type)
	{
		case FV_UNDEF:
			return "DebugUndefined";
		case FV_NONE:
			return "NoneType";
		case FV_BOOL:
			return "bool";
		case FV_INT:
			return "int";
		case FV_FLOAT:
			return "float";
		case FV_STR:
			return "str";
		case FV_LIST:
			return "list";
		case FV_TUPLE:
			return "tuple";
		case FV_DICT:
			return v->is_ns ? "Namespace" : "dict";
		case FV_DATE:
			return "date";
		case FV_DATETIME:
			return "datetime";
		case FV_TDELTA:
			return "timedelta";
		case FV_FUNC:
			return "builtin_function_or_method";
		case FV_NS:
			return "module";
		case FV_LOOP:
			return "LoopContext";
	}
	return "object";
}

bool
fi_truthy(FiVal *v)
{
	switch (v->type)
	{
		case FV_UNDEF:
		case FV_NONE:
			return false;
		case FV_BOOL:
			return v->u.b;
		case FV_INT:
			return v->u.i != 0;
		case FV_FLOAT:
			return v->u.f != 0.0;
		case FV_STR:
			return v->u.s.n != 0;
		case FV_LIST:
		case FV_TUPLE:
			return v->u.l.n != 0;
		case FV_DICT:
			return v->is_ns || v->u.d.n != 0;
		case FV_TDELTA:
			return v->u.td != 0;
		default:
			return true;
	}
}

bool
fi_is_number(FiVal *v)
{
	return v->type == FV_BOOL || v->type == FV_INT || v->type == FV_FLOAT;
}

double
fi_as_double(FiVal *v)
{
	switch (v->type)
	{
		case FV_BOOL:
			return v->u.b;
		case FV_INT:
			return (double) v->u.i;
		case FV_FLOAT:
			return v->u.f;
		default:
			return 0;
	}
}

static int64_t
as_int64(FiVal *v)
{
	return v->type == FV_BOOL ? v->u.b : v->u.i;
}

/*
 * Python's int == float compares exactly, not through a rounded double.
 */
static int
cmp_num(FiVal *a, FiVal *b)
{
	if (a->type != FV_FLOAT && b->type != FV_FLOAT)
	{
		int64_t		x = as_int64(a),
					y = as_int64(b);

		return x < y ? -1 : x > y;
	}
	if (a->type == FV_FLOAT && b->type == FV_FLOAT)
		return a->u.f < b->u.f ? -1 : a->u.f > b->u.f ? 1 : (a->u.f == b->u.f ? 0 : 2);
	{
		bool		flip = a->type != FV_FLOAT;
		double		f = flip ? b->u.f : a->u.f;
		int64_t		i = flip ? as_int64(a) : as_int64(b);
		int			r;

		if (isnan(f))
			return 2;
		if (f >= 9223372036854775808.0)
			r = 1;
		else if (f < -9223372036854775808.0)
			r = -1;
		else
		{
			double		fl = floor(f);
			int64_t		fi = (int64_t) fl;

			if (fi < i)
				r = -1;
			else if (fi > i)
				r = 1;
			else
				r = (f > fl) ? 1 : 0;
		}
		return flip ? (r == 2 ? 2 : -r) : r;
	}
}

bool
fi_eq(FiTpl *t, FiVal *a, FiVal *b)
{
	if (a == b)
		return a->type != FV_FLOAT || !isnan(a->u.f);
	if (fi_is_number(a) && fi_is_number(b))
		return cmp_num(a, b) == 0;
	if (a->type != b->type)
	{
		if ((a->type == FV_LIST && b->type == FV_TUPLE) || (a->type == FV_TUPLE && b->type == FV_LIST))
			return false;
		return false;
	}
	switch (a->type)
	{
		case FV_UNDEF:
		case FV_NONE:
			return true;
		case FV_STR:
			return a->u.s.n == b->u.s.n && memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0;
		case FV_LIST:
		case FV_TUPLE:
			if (a->u.l.n != b->u.l.n)
				return false;
			for (int i = 0; i < a->u.l.n; i++)
				if (!fi_eq(t, a->u.l.v[i], b->u.l.v[i]))
					return false;
			return true;
		case FV_DICT:
			if (a->u.d.n != b->u.d.n)
				return false;
			for (int i = 0; i < a->u.d.n; i++)
			{
				FiVal	   *o = fi_dict_get(b, a->u.d.k[i]);

				if (o == NULL || !fi_eq(t, a->u.d.v[i], o))
					return false;
			}
			return true;
		case FV_DATE:
			return a->u.dt.ord == b->u.dt.ord;
		case FV_DATETIME:
			return a->u.dt.ord == b->u.dt.ord && a->u.dt.usec == b->u.dt.usec;
		case FV_TDELTA:
			return a->u.td == b->u.td;
		case FV_FUNC:
			return a->u.fn.f == b->u.fn.f && a->u.fn.self == b->u.fn.self;
		case FV_NS:
			return a->u.ns == b->u.ns;
		default:
			return false;
	}
}

/*
 * Python's <: numbers, str, lists and tuples (each with their own kind),
 * dates, datetimes, timedeltas.  Returns <0, 0, >0, or 2 for "unordered"
 * (NaN).  Anything else raises Python's TypeError.
 */
int
fi_cmp(FiTpl *t, FiVal *a, FiVal *b, int pos)
{
	if (fi_is_number(a) && fi_is_number(b))
		return cmp_num(a, b);
	if (a->type == b->type)
	{
		switch (a->type)
		{
			case FV_STR:
				{
					size_t		n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
					int			r = memcmp(a->u.s.p, b->u.s.p, n);

					if (r)
						return r < 0 ? -1 : 1;
					return a->u.s.n < b->u.s.n ? -1 : a->u.s.n > b->u.s.n;
				}
			case FV_LIST:
			case FV_TUPLE:
				for (int i = 0; i < a->u.l.n && i < b->u.l.n; i++)
				{
					if (!fi_eq(t, a->u.l.v[i], b->u.l.v[i]))
						return fi_cmp(t, a->u.l.v[i], b->u.l.v[i], pos);
				}
				return a->u.l.n < b->u.l.n ? -1 : a->u.l.n > b->u.l.n;
			case FV_DATE:
				return a->u.dt.ord < b->u.dt.ord ? -1 : a->u.dt.ord > b->u.dt.ord;
			case FV_DATETIME:
				if (a->u.dt.ord != b->u.dt.ord)
					return a->u.dt.ord < b->u.dt.ord ? -1 : 1;
				return a->u.dt.usec < b->u.dt.usec ? -1 : a->u.dt.usec > b->u.dt.usec;
			case FV_TDELTA:
				return a->u.td < b->u.td ? -1 : a->u.td > b->u.td;
			default:
				break;
		}
	}
	fi_throw(t, FI_TPL_EVALUE, pos,
			 "'<' not supported between instances of '%s' and '%s'",
			 fi_typename(a), fi_typename(b));
}

bool
fi_hashable(FiVal *v)
{
	if (v->type == FV_LIST || v->type == FV_DICT || v->type == FV_LOOP)
		return false;
	if (v->type == FV_TUPLE)
		for (int i = 0; i < v->u.l.n; i++)
			if (!fi_hashable(v->u.l.v[i]))
				return false;
	return true;
}

/* ------------------------------------------------------------ buffers */

void
fi_buf_put(FiTpl *t, FiBuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap)
		buf_grow(t, b, b->n + n + 1);
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void
fi_buf_putc(FiTpl *t, FiBuf *b, char c)
{
	if (b->n + 2 <= b->cap)
	{
		b->p[b->n++] = c;
		b->p[b->n] = '\0';
		return;
	}
	fi_buf_put(t, b, &c, 1);
}

void
fi_buf_puts(FiTpl *t, FiBuf *b, const char *s)
{
	fi_buf_put(t, b, s, strlen(s));
}

/* ---------------------------------------------------------------- UTF-8 */

int
fi_utf8_next(const char *s, size_t n, size_t *i)
{
	const unsigned char *p = (const unsigned char *) s + *i;
	size_t		left = n - *i;
	uint32_t	cp;
	int			len;

	if (left == 0)
		return -1;
	if (p[0] < 0x80)
	{
		cp = p[0];
		len = 1;
	}
	else if ((p[0] & 0xE0) == 0xC0 && left >= 2)
	{
		cp = ((p[0] & 0x1F) << 6) | (p[1] & 0x3F);
		len = 2;
	}
	else if ((p[0] & 0xF0) == 0xE0 && left >= 3)
	{
		cp = ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
		len = 3;
	}
	else if ((p[0] & 0xF8) == 0xF0 && left >= 4)
	{
		cp = ((p[0] & 0x07) << 18) | ((p[1] & 0x3F) << 12) |
			((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
		len = 4;
	}
	else
	{
		/* not UTF-8: take the byte as Latin-1 rather than loop forever */
		cp = p[0];
		len = 1;
	}
	*i += len;
	return (int) cp;
}

/*
 * Offset of the first byte that is not strict UTF-8 (overlong forms,
 * surrogates, > U+10FFFF refused), or n when all of s is.
 */
size_t
fi_utf8_invalid_at(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = p[i];
		int			len;
		uint32_t	cp;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4, cp = c & 0x07;
		else
			return i;
		if (i + len > n)
			return i;
		for (int k = 1; k < len; k++)
		{
			if ((p[i + k] & 0xC0) != 0x80)
				return i;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
			(len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
			return i;
		i += len;
	}
	return n;
}

size_t
fi_utf8_len(const char *s, size_t n)
{
	size_t		c = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char) s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

void
fi_utf8_put(FiTpl *t, FiBuf *b, uint32_t cp)
{
	char		u[4];
	int			n;

	if (cp < 0x80)
	{
		u[0] = (char) cp;
		n = 1;
	}
	else if (cp < 0x800)
	{
		u[0] = (char) (0xC0 | (cp >> 6));
		u[1] = (char) (0x80 | (cp & 0x3F));
		n = 2;
	}
	else if (cp < 0x10000)
	{
		u[0] = (char) (0xE0 | (cp >> 12));
		u[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char) (0x80 | (cp & 0x3F));
		n = 3;
	}
	else
	{
		u[0] = (char) (0xF0 | (cp >> 18));
		u[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char) (0x80 | (cp & 0x3F));
		n = 4;
	}
	fi_buf_put(t, b, u, n);
}

static bool
in_ranges(const FiURange *r, int n, uint32_t cp)
{
	int			lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (cp < r[mid].lo)
			hi = mid - 1;
		else if (cp > r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

bool
fi_uni_isword(uint32_t cp)
{
	return in_ranges(fi_word, FI_WORD_N, cp);
}

bool
fi_uni_isspace(uint32_t cp)
{
	return in_ranges(fi_space, FI_SPACE_N, cp);
}

static const char *
case_map(const FiUMap *m, int n, uint32_t cp)
{
	int			lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (cp < m[mid].cp)
			hi = mid - 1;
		else if (cp > m[mid].cp)
			lo = mid + 1;
		else
			return m[mid].to;
	}
	return NULL;
}

/*
 * str.upper() / str.lower().  (Python's final-sigma rule for lower() is not
 * applied: 'Σ' always becomes 'σ'.)
 */
FiVal *
fi_str_case(FiTpl *t, FiVal *s, int upper)
{
	FiBuf		b = {0};
	size_t		i = 0;
	bool		ascii = true;

	for (size_t k = 0; k < s->u.s.n; k++)
		if ((unsigned char) s->u.s.p[k] >= 0x80)
		{
			ascii = false;
			break;
		}
	if (ascii)
	{
		FiVal	   *r = fi_mkstr(t, s->u.s.p, s->u.s.n);
		char	   *p = (char *) r->u.s.p;

		for (size_t k = 0; k < s->u.s.n; k++)
			p[k] = upper ? toupper((unsigned char) p[k]) : tolower((unsigned char) p[k]);
		return r;
	}
	fi_buf_put(t, &b, "", 0);
	while (i < s->u.s.n)
	{
		size_t		start = i;
		int			cp = fi_utf8_next(s->u.s.p, s->u.s.n, &i);
		const char *to = upper ? case_map(fi_upper, FI_UPPER_N, cp)
			: case_map(fi_lower, FI_LOWER_N, cp);

		if (to)
			fi_buf_puts(t, &b, to);
		else
			fi_buf_put(t, &b, s->u.s.p + start, i - start);
	}
	{
		FiVal	   *r = fi_new(t, FV_STR);

		r->u.s.p = b.p;
		r->u.s.n = b.n;
		return r;
	}
}

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
		else if (!in_ranges(fi_nonprintable, FI_NONPRINTABLE_N, cp))
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
	int64_t		day = 86400LL * 1000000;
	int64_t		days = td / day;
	int64_t		rest = td % day;
	char		tmp[64];

	if (rest < 0)
	{
		rest += day;
		days--;
	}
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
	buf_lit(t, b, tmp + n, sizeof(tmp) - n);
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
				int64_t		day = 86400LL * 1000000;
				int64_t		days = v->u.td / day,
							rest = v->u.td % day;
				const char *sep = "";

				if (rest < 0)
				{
					rest += day;
					days--;
				}
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

/*
 * Grow a buffer to at least need bytes: in place when it is the last thing
 * allocated in the current block, else by moving it.
 */
static void
buf_grow(FiTpl *t, FiBuf *b, size_t need)
{
	size_t		ncap = b->cap ? b->cap * 2 : 256;
	char	   *np;
	FiBlock    *blk = t->blocks;

	while (ncap < need)
		ncap *= 2;
	if (need > t->opt.max_output + 1)
		fi_throw(t, FI_TPL_ELIMIT, -1,
				 "template output is longer than %zu bytes", t->opt.max_output);
	if (b->p && blk)
	{
		char	   *end = (char *) blk + FI_BLOCK_HDR + blk->used;
		size_t		olda = (b->cap + 15) & ~(size_t) 15,
					newa = (ncap + 15) & ~(size_t) 15;

		if (b->p + olda == end && blk->size - blk->used >= newa - olda)
		{
			blk->used += newa - olda;
			b->cap = ncap;
			return;
		}
	}
	np = fi_alloc(t, ncap);
	if (b->n)
		memcpy(np, b->p, b->n);
	b->p = np;
	b->cap = ncap;
}

/* room for n more bytes (and a NUL) at b->p + b->n */
static inline char *
buf_reserve(FiTpl *t, FiBuf *b, size_t n)
{
	if (b->n + n + 1 > b->cap)
		buf_grow(t, b, b->n + n + 1);
	return b->p + b->n;
}

static const char hexdig[] = "0123456789abcdef";

static inline void
buf_lit(FiTpl *t, FiBuf *b, const char *s, size_t n)
{
	char	   *w = buf_reserve(t, b, n);

	memcpy(w, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

/*
 * A JSON string as Python writes it with ensure_ascii: runs of plain bytes
 * are copied at once; everything else is escaped (\uXXXX, surrogate pairs).
 */
static void
json_str(FiTpl *t, FiBuf *b, const char *s, size_t n, bool html_safe, uint8_t *plain_out)
{
	static bool init;
	static uint8_t plain[2][256];	/* [html_safe][byte]: copied as is */
	const unsigned char *u = (const unsigned char *) s;
	const uint8_t *pl;
	size_t		i = 0;
	char	   *w;

	if (!init)
	{
		for (int h = 0; h < 2; h++)
			for (int c = 0; c < 256; c++)
				plain[h][c] = c >= 0x20 && c < 0x7F && c != '"' && c != '\\' &&
					!(h && (c == '<' || c == '>' || c == '&' || c == '\''));
		init = true;
	}
	pl = plain[html_safe ? 1 : 0];
	/* the common case: nothing to escape */
	while (i < n && pl[u[i]])
		i++;
	if (i == n && plain_out)
	{
		/* plain for the html-safe table too? then for both */
		size_t		k = 0;

		while (k < n && plain[1][u[k]])
			k++;
		*plain_out = k == n ? 1 : 2;
	}
	if (i == n)
	{
		/*
		 * Nothing to escape: copy in 8-byte steps.  Every string value lives
		 * in an arena allocation rounded up to 16 bytes past its NUL, so the
		 * last step never reads outside it.
		 */
		w = buf_reserve(t, b, n + 2 + 8);
		w[0] = '"';
		for (size_t j = 0; j < n; j += 8)
			memcpy(w + 1 + j, s + j, 8);
		w[n + 1] = '"';
		w[n + 2] = '\0';
		b->n += n + 2;
		return;
	}
	w = buf_reserve(t, b, i + 2);
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
			w = buf_reserve(t, b, i - st);
			memcpy(w, s + st, i - st);
			b->n += i - st;
		}
		if (i >= n)
			break;
		w = buf_reserve(t, b, 12);
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
	w = buf_reserve(t, b, 1);
	w[0] = '"';
	b->n++;
	b->p[b->n] = '\0';
}

static void
json_newline(FiTpl *t, FiBuf *b, const FiJsonStyle *st, int level)
{
	fi_buf_putc(t, b, '\n');
	for (int i = 0; i < st->indent * level; i++)
		fi_buf_putc(t, b, ' ');
}

static int	json_level;

static int
key_cmp_sort(FiTpl *t, FiVal *a, FiVal *b)
{
	int			r;

	if (a->type == FV_STR && b->type == FV_STR)
	{
		size_t		n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;

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
	char		tmp[64];
	const char *item_sep = (st->indent >= 0 || st->compact_item) ? "," : ", ";
	size_t		sep_len = item_sep[1] ? 2 : 1;

	switch (v->type)
	{
		case FV_NONE:
			buf_lit(t, b, "null", 4);
			return;
		case FV_BOOL:
			if (v->u.b)
				buf_lit(t, b, "true", 4);
			else
				buf_lit(t, b, "false", 5);
			return;
		case FV_INT:
			put_int(t, b, v->u.i);
			return;
		case FV_FLOAT:
			{
				char	   *w = buf_reserve(t, b, FI_PYFLOAT_MAXLEN);

				b->n += fi_pyjson_float(v->u.f, w);
				b->p[b->n] = '\0';
				(void) tmp;
				return;
			}
		case FV_STR:
			json_str(t, b, v->u.s.p, v->u.s.n, st->html_safe, NULL);
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
					buf_lit(t, b, item_sep, sep_len);
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
				int		   *order;

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
				order = fi_alloc(t, sizeof(int) * n);
				for (int i = 0; i < n; i++)
					order[i] = i;
				if (st->sort_keys)
				{
					/* the same key objects as last time: the same order */
					if (t->sorted_n == n && t->sorted_keys &&
						memcmp(t->sorted_keys, v->u.d.k, sizeof(FiVal *) * n) == 0)
						memcpy(order, t->sorted_order, sizeof(int) * n);
					else
					{
						sort_order(t, v->u.d.k, order, fi_alloc(t, sizeof(int) * n), 0, n);
						t->sorted_keys = fi_alloc(t, sizeof(FiVal *) * n);
						memcpy(t->sorted_keys, v->u.d.k, sizeof(FiVal *) * n);
						t->sorted_order = fi_alloc(t, sizeof(int) * n);
						memcpy(t->sorted_order, order, sizeof(int) * n);
						t->sorted_n = n;
					}
				}
				fi_buf_putc(t, b, '{');
				for (int i = 0; i < n; i++)
				{
					FiVal	   *k = v->u.d.k[order[i]];

					if (k->type == FV_STR && k->json_plain == 1 && st->indent < 0)
					{
						/*
						 * The hot path (rows share their keys, known to need no
						 * escapes): separator, key and ": " in one go.
						 */
						char	   *w;
						char	   *w0;
						size_t		kn;
						const char *jk;

						if (k->u.s.jk == NULL)
						{
							/* "key": once per key, padded for 8-byte copies */
							char	   *e = fi_alloc(t, k->u.s.n + 4 + 8);

							e[0] = '"';
							memcpy(e + 1, k->u.s.p, k->u.s.n);
							memcpy(e + 1 + k->u.s.n, "\": ", 3);
							k->u.s.jk = e;
							k->u.s.jkn = k->u.s.n + 4;
						}
						kn = k->u.s.jkn;
						jk = k->u.s.jk;
						w = buf_reserve(t, b, kn + 2 + 8);
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
							FiVal	   *val = v->u.d.v[order[i]];


							/* scalars inline: most fields of a row */
							if (val->type == FV_NONE)
							{
								w = buf_reserve(t, b, 4);
								memcpy(w, "null", 4);
								b->n += 4;
								continue;
							}
							if (val->type == FV_FLOAT)
							{
								w = buf_reserve(t, b, FI_PYFLOAT_MAXLEN);
								b->n += fi_pyjson_float(val->u.f, w);
								continue;
							}
							if (val->type == FV_STR)
							{
								json_str(t, b, val->u.s.p, val->u.s.n, st->html_safe, NULL);
								continue;
							}
							if (val->type == FV_INT && val->u.i >= 0 && val->u.i < 10)
							{
								w = buf_reserve(t, b, 1);
								*w = (char) ('0' + val->u.i);
								b->n++;
								continue;
							}
							json_value(t, b, val, st, level + 1, pos);
						}
						continue;
					}
					if (i)
						buf_lit(t, b, item_sep, sep_len);
					if (st->indent >= 0)
						json_newline(t, b, st, level + 1);
					switch (k->type)
					{
						case FV_STR:
							if (k->json_plain == 1)
							{
								char	   *w = buf_reserve(t, b, k->u.s.n + 2);

								w[0] = '"';
								memcpy(w + 1, k->u.s.p, k->u.s.n);
								w[k->u.s.n + 1] = '"';
								b->n += k->u.s.n + 2;
							}
							else
								json_str(t, b, k->u.s.p, k->u.s.n, st->html_safe,
										 k->json_plain ? NULL : &k->json_plain);
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
					buf_lit(t, b, ": ", 2);
					json_value(t, b, v->u.d.v[order[i]], st, level + 1, pos);
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
				json_str(t, b, sb.p, sb.n, st->html_safe, NULL);
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
	(void) json_level;
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
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
jp_hex4(JP *p, size_t at)
{
	int			v = 0;

	if (at + 4 > p->n)
		return -1;
	for (int k = 0; k < 4; k++)
	{
		int			h = hexval(p->s[at + k]);

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
						jp_fail(p, "Invalid \\uXXXX escape");
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

			d = e < 0 ? d / p10[-e] : d * p10[e];
			return fi_mkfloat(p->t, neg ? -d : d);
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
			return jp_string(p);
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
					k = jp_string(p);
					/* one value per key text: rows of a table share keys */
					if (t->interned == NULL)
						t->interned = fi_new(t, FV_DICT);
					{
						int			ix = dict_find_str(t->interned, k->u.s.p, k->u.s.n);

						if (ix >= 0)
							k = t->interned->u.d.k[ix];
						else
							fi_dict_put(t, t->interned, k, k);
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

/* ---------------------------------------------------------------- dates */

static const int days_before[] = {0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

static bool
is_leap(int y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

int
fi_days_in_month(int y, int m)
{
	static const int dim[] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return (m == 2 && is_leap(y)) ? 29 : dim[m];
}

int32_t
fi_ymd_to_ord(int y, int m, int d)
{
	int			y1 = y - 1;

	return y1 * 365 + y1 / 4 - y1 / 100 + y1 / 400 +
		days_before[m] + (m > 2 && is_leap(y)) + d;
}

void
fi_ord_to_ymd(int32_t ord, int *yp, int *mp, int *dp)
{
	int			n = ord - 1,
				n400,
				n100,
				n4,
				n1,
				y,
				m;

	n400 = n / 146097;
	n = n % 146097;
	n100 = n / 36524;
	n = n % 36524;
	n4 = n / 1461;
	n = n % 1461;
	n1 = n / 365;
	n = n % 365;
	y = n400 * 400 + n100 * 100 + n4 * 4 + n1 + 1;
	if (n1 == 4 || n100 == 4)
	{
		*yp = y - 1;
		*mp = 12;
		*dp = 31;
		return;
	}
	m = (n + 50) >> 5;
	{
		int			before = days_before[m] + (m > 2 && is_leap(y));

		if (before > n)
		{
			m--;
			before = days_before[m] + (m > 2 && is_leap(y));
		}
		*yp = y;
		*mp = m;
		*dp = n - before + 1;
	}
}

FiVal *
fi_mkdate(FiTpl *t, int32_t ord)
{
	FiVal	   *v = fi_new(t, FV_DATE);

	v->u.dt.ord = ord;
	return v;
}

FiVal *
fi_mkdatetime(FiTpl *t, int32_t ord, int64_t usec)
{
	FiVal	   *v = fi_new(t, FV_DATETIME);

	v->u.dt.ord = ord;
	v->u.dt.usec = usec;
	return v;
}

FiVal *
fi_mktdelta(FiTpl *t, int64_t usec)
{
	FiVal	   *v = fi_new(t, FV_TDELTA);

	v->u.td = usec;
	return v;
}
