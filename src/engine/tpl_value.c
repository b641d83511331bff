/*
 * tpl_value.c
 *		The template engine's session (arena, limits, errors) and value model:
 *		constructors, dicts, Python's truth, == and ordering, growing buffers,
 *		UTF-8 and case mapping (tables generated from CPython), and proleptic
 *		Gregorian ordinals as Python's datetime keeps them.  Text forms of
 *		values (str, repr, JSON) are in tpl_text.c.  Pure C, no server state.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tpl_int.h"
#include "engine/codec.h"
#include "engine/pyjson.h"
#include "engine/unitab.h"

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
 * time costs page faults on every render.  The cache is shared by the
 * process's threads (a server that runs a connection per thread) behind a
 * mutex: a block is taken or given back once per 32 KB of engine memory.
 */
#define FI_CACHE_MAX	(8 * 1024 * 1024)
static FiBlock *block_cache;
static size_t block_cache_bytes;
static pthread_mutex_t block_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static FiBlock *
block_get(size_t sz)
{
	FiBlock   **pp;

	pthread_mutex_lock(&block_cache_lock);
	for (pp = &block_cache; *pp; pp = &(*pp)->next)
	{
		FiBlock    *b = *pp;

		/* a block may be up to 4x larger than asked */
		if (b->size >= sz && b->size <= sz * 4)
		{
			*pp = b->next;
			block_cache_bytes -= b->size;
			pthread_mutex_unlock(&block_cache_lock);
			b->used = 0;
			return b;
		}
	}
	pthread_mutex_unlock(&block_cache_lock);
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
	pthread_mutex_lock(&block_cache_lock);
	if (block_cache_bytes + b->size > FI_CACHE_MAX)
	{
		pthread_mutex_unlock(&block_cache_lock);
		free(b);
		return;
	}
	b->next = block_cache;
	block_cache = b;
	block_cache_bytes += b->size;
	pthread_mutex_unlock(&block_cache_lock);
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

/*
 * A float read from decimal text that had at most 15 significant digits
 * (|f| = dec / 10^places, trailing zeros gone): no other decimal of at most
 * 15 digits reads back as the same double, so these digits are Python's
 * repr and JSON output need not search for them.
 */
FiVal *
fi_mkfloat_dec(FiTpl *t, double f, uint64_t dec, int places)
{
	FiVal	   *v = fi_new(t, FV_FLOAT);

	v->u.f = f;
	if (dec != 0 && places >= 0 && places <= 22)
	{
		v->u.fdec.dec = dec;
		v->u.fdec.dplaces = places + 1;
	}
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

/* the hash as keys keep it: never 0 (0 means "not worked out yet") */
static inline uint32_t
str_hash_nz(const char *s, size_t n)
{
	uint32_t	h = str_hash(s, n);

	return h ? h : 1;
}

/* a str key's hash, worked out once (a pure function of its bytes) */
static inline uint32_t
key_hash(FiVal *k)
{
	if (k->u.s.hash == 0)
		k->u.s.hash = str_hash_nz(k->u.s.p, k->u.s.n);
	return k->u.s.hash;
}

static int
dict_find_hashed(FiVal *d, const char *s, size_t n, uint32_t hash)
{
	if (d->u.d.hcap)
	{
		uint32_t	mask = (uint32_t) d->u.d.hcap - 1;
		uint32_t	h = hash & mask;

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

/* index of str key s in d, or -1 */
int
fi_dict_find_str(FiVal *d, const char *s, size_t n)
{
	return dict_find_hashed(d, s, n, d->u.d.hcap ? str_hash_nz(s, n) : 0);
}

static void
dict_index_add(FiVal *d, int ix)
{
	FiVal	   *k = d->u.d.k[ix];
	uint32_t	mask = (uint32_t) d->u.d.hcap - 1;
	uint32_t	h = key_hash(k) & mask;

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

/*
 * A dict just made whose keys (interned) are those of the last one made, in
 * the same order (rows of a table), shares that key array: less memory, and
 * JSON output knows the sorted order at a pointer comparison.  Key arrays
 * are only ever appended to; a sharer's cap is its n, so its first append
 * copies both arrays and the shared one stays as it was.
 */
void
fi_dict_share_shape(FiTpl *t, FiVal *d)
{
	int			n = d->u.d.n;

	if (n == 0)
		return;
	if (t->shape_k && t->shape_n == n && t->shape_k != d->u.d.k &&
		memcmp(t->shape_k, d->u.d.k, sizeof(FiVal *) * n) == 0)
	{
		d->u.d.k = t->shape_k;
		d->u.d.cap = n;
		return;
	}
	t->shape_k = d->u.d.k;
	t->shape_n = n;
}

FiVal *
fi_dict_get(FiVal *d, FiVal *key)
{
	if (key->type == FV_STR)
	{
		int			ix = dict_find_hashed(d, key->u.s.p, key->u.s.n,
										  d->u.d.hcap ? key_hash(key) : 0);

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
	int			ix = fi_dict_find_str(d, key, strlen(key));

	return ix < 0 ? NULL : d->u.d.v[ix];
}

void
fi_dict_put(FiTpl *t, FiVal *d, FiVal *key, FiVal *v)
{
	if (key->type == FV_STR)
	{
		int			ix = dict_find_hashed(d, key->u.s.p, key->u.s.n,
										  d->u.d.hcap ? key_hash(key) : 0);

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
fi_val_float_text(FiTpl *t, const char *s, size_t len)
{
	FiVal	   *v;

	FI_GUARD(t, NULL);
	v = fi_float_from_text(t, s, len);
	FI_UNGUARD(t);
	return v;
}

FiVal *
fi_val_str(FiTpl *t, const char *s, size_t len)
{
	FiVal	   *v;

	FI_GUARD(t, NULL);
	v = fi_mkstr(t, s, len);
	fi_str_classify(v);
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
	fi_dict_put(t, dict, fi_intern_key(t, key, klen), v);
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

bool
fi_val_get_int(FiVal *v, int64_t *out)
{
	if (v == NULL || (v->type != FV_INT && v->type != FV_BOOL))
		return false;
	*out = v->type == FV_INT ? v->u.i : v->u.b;
	return true;
}

const char *
fi_val_text(FiVal *v, size_t *len)
{
	if (v == NULL || v->type != FV_STR)
		return NULL;
	*len = v->u.s.n;
	return v->u.s.p;
}

FiValKind
fi_val_kind(FiVal *v)
{
	switch (v ? v->type : FV_NONE)
	{
		case FV_NONE:
			return FI_VK_NONE;
		case FV_BOOL:
			return FI_VK_BOOL;
		case FV_INT:
			return FI_VK_INT;
		case FV_FLOAT:
			return FI_VK_FLOAT;
		case FV_STR:
			return FI_VK_STR;
		case FV_LIST:
		case FV_TUPLE:
			return FI_VK_LIST;
		case FV_DICT:
			return FI_VK_DICT;
		default:
			return FI_VK_OTHER;
	}
}

bool
fi_val_get_bool(FiVal *v, bool *out)
{
	if (v == NULL || v->type != FV_BOOL)
		return false;
	*out = v->u.b;
	return true;
}

bool
fi_val_get_float(FiVal *v, double *out)
{
	if (v == NULL || (v->type != FV_FLOAT && v->type != FV_INT))
		return false;
	*out = v->type == FV_FLOAT ? v->u.f : (double) v->u.i;
	return true;
}

int
fi_val_count(FiVal *v)
{
	if (v == NULL)
		return 0;
	if (v->type == FV_LIST || v->type == FV_TUPLE)
		return v->u.l.n;
	if (v->type == FV_DICT)
		return v->u.d.n;
	return 0;
}

FiVal *
fi_val_item(FiVal *list, int i)
{
	if (list == NULL || (list->type != FV_LIST && list->type != FV_TUPLE) || i < 0 || i >= list->u.l.n)
		return NULL;
	return list->u.l.v[i];
}

FiVal *
fi_val_key_at(FiVal *dict, int i)
{
	if (dict == NULL || dict->type != FV_DICT || i < 0 || i >= dict->u.d.n)
		return NULL;
	return dict->u.d.k[i];
}

FiVal *
fi_val_value_at(FiVal *dict, int i)
{
	if (dict == NULL || dict->type != FV_DICT || i < 0 || i >= dict->u.d.n)
		return NULL;
	return dict->u.d.v[i];
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

/*
 * Grow a buffer to at least need bytes: in place when it is the last thing
 * allocated in the current block, else by moving it.
 */
void
fi_buf_grow(FiTpl *t, FiBuf *b, size_t need)
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


void
fi_buf_put(FiTpl *t, FiBuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap)
		fi_buf_grow(t, b, b->n + n + 1);
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
			/* ASCII runs a word at a time */
			uint64_t	w;

			i++;
			while (i + 8 <= n && (memcpy(&w, p + i, 8), (w & 0x8080808080808080ULL) == 0))
				i += 8;
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

	fi_buf_put(t, b, u, fi_utf8_encode(u, cp));
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
fi_uni_isprintable(uint32_t cp)
{
	return !in_ranges(fi_nonprintable, FI_NONPRINTABLE_N, cp);
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
