/*
 * tpl_int.h
 *		Inside the template engine: the value model, the session (arena,
 *		limits, error), the syntax tree, and the calls the four parts of the
 *		engine make of each other:
 *
 *		tpl_value.c  session, arena, values, ==, <, buffers, UTF-8, dates
 *		tpl_text.c   str(), repr(), JSON out and in, as CPython
 *		tpl_parse.c  lexer and parser (Jinja templates, Python expressions)
 *		tpl_eval.c   evaluation of expressions and template statements
 *		tpl_lib.c    utils.* helpers, conversions (flt, cint, cstr, round)
 *		tpl_filters.c, tpl_builtins.c  filters and tests; globals, methods
 *
 * Errors inside the engine longjmp to the entry point (fi_tpl_render and
 * friends), which turns them into a return code; all memory is in the arena,
 * so nothing leaks on the way.  Nothing here knows about PostgreSQL.
 */
#ifndef FI_TPL_INT_H
#define FI_TPL_INT_H

#include <setjmp.h>
#include <string.h>
#include "engine/tpl.h"

typedef enum FiType
{
	FV_UNDEF,					/* Jinja's DebugUndefined */
	FV_NONE,
	FV_BOOL,
	FV_INT,
	FV_FLOAT,
	FV_STR,
	FV_LIST,
	FV_TUPLE,
	FV_DICT,
	FV_DATE,					/* datetime.date: ordinal (0001-01-01 = 1) */
	FV_DATETIME,				/* datetime.datetime: ordinal + usec of day */
	FV_TDELTA,					/* datetime.timedelta: microseconds */
	FV_FUNC,					/* a builtin, maybe bound to a value */
	FV_NS,						/* a namespace of builtins: utils, frappe */
	FV_LOOP						/* Jinja's loop variable */
} FiType;

typedef struct FiArgs FiArgs;
typedef FiVal *(*FiFn) (FiTpl *t, FiVal *self, FiArgs *a);

typedef struct FiFunc
{
	const char *name;
	FiFn		fn;
} FiFunc;

typedef struct FiNs
{
	const char *name;
	const FiFunc *funcs;		/* NULL-terminated */
	const struct FiNs *const *subs; /* NULL-terminated child namespaces */
} FiNs;

typedef struct FiLoop
{
	int64_t		index0;
	int64_t		length;
	FiVal	   *seq;
} FiLoop;

struct FiVal
{
	uint8_t		type;
	uint8_t		is_ns;			/* dict made by namespace(): settable */
	uint8_t		json_plain;		/* str: 0 not known, 1 needs no JSON escape
								 * (not even html-safe), 2 needs some */
	uint8_t		is_doc;			/* dict from the context: a document (in
								 * templates Frappe's _dict, missing keys
								 * read as None; in conditions a Document) */
	union
	{
		bool		b;
		int64_t		i;
		double		f;
		struct
		{
			double		f;		/* the same as u.f */
			uint64_t	dec;	/* made from decimal text with at most 15
								 * significant digits: |f| = dec / 10^(dplaces
								 * - 1), its shortest repr (no search needed) */
			int32_t		dplaces;	/* 0: not known */
		}			fdec;
		struct
		{
			const char *p;
			size_t		n;
			const char *jk;		/* as a JSON key: "p": (8 bytes slack) */
			uint32_t	jkn;
			uint32_t	hash;	/* as a dict key; 0 while not worked out */
		}			s;
		struct
		{
			FiVal	  **v;
			int			n,
						cap;
		}			l;
		struct
		{
			FiVal	  **k;
			FiVal	  **v;
			int			n,
						cap;
			int		   *hidx;	/* str keys: open addressing, index + 1 */
			int			hcap;	/* power of two, 0 while small */
		}			d;
		struct
		{
			int32_t		ord;
			int64_t		usec;
		}			dt;
		int64_t		td;
		struct
		{
			const FiFunc *f;
			FiVal	   *self;
		}			fn;
		const FiNs *ns;
		struct
		{
			const char *name;	/* missing name, or NULL */
			FiVal	   *obj;	/* object that lacked key, or NULL */
			FiVal	   *key;
			const char *hint;	/* explicit message, or NULL */
			bool		plain;	/* jinja2.Undefined: prints as "" */
		}			u;
		FiLoop	   *loop;
	}			u;
};

/* arguments of a builtin call */
struct FiArgs
{
	int			n;
	FiVal	  **v;
	int			nkw;
	const char **kwn;
	FiVal	  **kwv;
	int			pos;			/* source offset, for errors */
	const char *fname;
};

/* syntax tree */
typedef enum FiNodeKind
{
	N_CONST, N_NAME, N_ATTR, N_ITEM, N_SLICE, N_CALL, N_FILTER, N_TEST,
	N_NEG, N_POS, N_NOT, N_BINOP, N_AND, N_OR, N_COMPARE, N_COND,
	N_LIST, N_TUPLE, N_DICT,
	S_BODY, S_TEXT, S_PRINT, S_IF, S_FOR, S_SET, S_SETBLOCK
} FiNodeKind;

typedef enum FiOp
{
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW, OP_CONCAT,
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_NOTIN, OP_IS, OP_ISNOT
} FiOp;

typedef struct FiNode FiNode;
struct FiNode
{
	uint8_t		kind;
	uint8_t		op;
	uint8_t		negated;		/* N_TEST: "is not" */
	int			pos;			/* byte offset in the source */
	FiVal	   *val;			/* N_CONST; S_TEXT as a str */
	const char *name;			/* N_NAME, N_ATTR, N_FILTER, N_TEST */
	FiNode	   *a,
			   *b,
			   *c,
			   *d;
	FiNode	  **kids;			/* args, items, statements, operands */
	int			nkids;
	int			cap;			/* S_BODY: room in kids */
	uint8_t    *ops;			/* N_COMPARE: one per kid */
	const char **kwn;			/* keyword arguments */
	FiNode	  **kwv;
	int			nkw;
};

/* evaluation scope: names set by {% set %} and {% for %} */
typedef struct FiScope
{
	struct FiScope *up;
	int			n,
				cap;
	const char **names;
	FiVal	  **vals;
} FiScope;

typedef struct FiBlock FiBlock;

#define FI_MODE_JINJA	0
#define FI_MODE_PYTHON	1

struct FiTpl
{
	FiTplOptions opt;
	FiBlock    *blocks;			/* arena */
	size_t		used;
	jmp_buf    *jb;				/* where errors go, while in an entry point */
	int			errcode;
	int			errline,
				errcol;
	char		errmsg[512];
	const char *src;			/* source being parsed or run */
	/* the sources this session parsed (a flush renders one per document) */
	struct
	{
		const char *src;
		size_t		len;
		bool		condition;
		struct FiNode *root;
	}			parsed[4];
	int			nparsed;
	size_t		srclen;
	int			mode;
	int			depth;
	int64_t		steps;
	/* output buffer (in the arena) */
	struct FiBuf *ob;
	FiVal	   *ctx;			/* dict of top-level names */
	FiVal	   *interned;		/* JSON object keys, one value per text */
	FiVal	  **shape_k;		/* the key array the last dict made from JSON */
	int			shape_n;		/* shares with the next of the same keys */
	/* sort_keys: the last key set sorted, and its order (child rows share) */
	FiVal	  **sorted_keys;
	int		   *sorted_order;
	FiVal	  **sorted_src;		/* the key array sorted_keys was copied from */
	const char **sorted_jk;		/* the keys' "key": forms, in that order */
	int		   *sorted_jkn;
	int			sorted_n;
	FiScope    *scope;
	FiVal	   *smallints;		/* -5 .. 256 (as CPython), made on first use */
	FiVal	   *none,
			   *vtrue,
			   *vfalse,
			   *empty;
};

/* tpl_value.c: session and arena */
extern void *fi_alloc(FiTpl *t, size_t n);
extern char *fi_strndup(FiTpl *t, const char *s, size_t n);
extern void fi_throw(FiTpl *t, int code, int pos, const char *fmt,...)
			__attribute__((format(printf, 4, 5), noreturn));
extern void fi_step(FiTpl *t, int pos);

/* values */
extern FiVal *fi_new(FiTpl *t, int type);
extern FiVal *fi_mkstr(FiTpl *t, const char *s, size_t n);
extern FiVal *fi_mkfloat_dec(FiTpl *t, double f, uint64_t dec, int places);
extern FiVal *fi_float_from_text(FiTpl *t, const char *s, size_t n);
extern void fi_str_classify(FiVal *v);	/* set json_plain (context values) */
extern FiVal *fi_intern_key(FiTpl *t, const char *s, size_t n);
extern void fi_dict_share_shape(FiTpl *t, FiVal *d);
extern FiVal *fi_mkcstr(FiTpl *t, const char *s);
extern FiVal *fi_mkint(FiTpl *t, int64_t i);
extern FiVal *fi_mkfloat(FiTpl *t, double f);
extern FiVal *fi_mkbool(FiTpl *t, bool b);
extern FiVal *fi_mklist(FiTpl *t, int type, int cap);
extern FiVal *fi_mkundef_name(FiTpl *t, const char *name);
extern FiVal *fi_mkundef_item(FiTpl *t, FiVal *obj, FiVal *key);
extern FiVal *fi_mkundef_hint(FiTpl *t, const char *hint);
extern FiVal *fi_mkfunc(FiTpl *t, const FiFunc *f, FiVal *self);
extern void fi_list_push(FiTpl *t, FiVal *l, FiVal *v);
extern int	fi_dict_find_str(FiVal *d, const char *s, size_t n);
extern FiVal *fi_dict_get(FiVal *d, FiVal *key);
extern FiVal *fi_dict_getc(FiVal *d, const char *key);
extern void fi_dict_put(FiTpl *t, FiVal *d, FiVal *key, FiVal *v);

extern const char *fi_typename(FiVal *v);
extern bool fi_truthy(FiVal *v);
extern bool fi_is_number(FiVal *v);	/* bool, int, float */
extern double fi_as_double(FiVal *v);
extern bool fi_eq(FiTpl *t, FiVal *a, FiVal *b);
extern int	fi_cmp(FiTpl *t, FiVal *a, FiVal *b, int pos); /* <0, 0, >0 or throw */
extern bool fi_hashable(FiVal *v);

/* text: Python's str() and repr() */
typedef struct FiBuf
{
	char	   *p;
	size_t		n,
				cap;
} FiBuf;
extern void fi_buf_grow(FiTpl *t, FiBuf *b, size_t need);
extern void fi_buf_put(FiTpl *t, FiBuf *b, const char *s, size_t n);

/* room for n more bytes (and a NUL) at b->p + b->n */
static inline char *
fi_buf_reserve(FiTpl *t, FiBuf *b, size_t n)
{
	if (b->n + n + 1 > b->cap)
		fi_buf_grow(t, b, b->n + n + 1);
	return b->p + b->n;
}

/* a word loaded from memory as if big-endian (byte order = string order) */
static inline uint64_t
fi_be64(uint64_t x)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return x;
#else
	return __builtin_bswap64(x);
#endif
}

/* append n bytes known to the caller (separators, literals) */
static inline void
fi_buf_lit(FiTpl *t, FiBuf *b, const char *s, size_t n)
{
	char	   *w = fi_buf_reserve(t, b, n);

	memcpy(w, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}
extern void fi_buf_putc(FiTpl *t, FiBuf *b, char c);
extern void fi_buf_puts(FiTpl *t, FiBuf *b, const char *s);
extern void fi_str_into(FiTpl *t, FiBuf *b, FiVal *v);
extern void fi_repr_into(FiTpl *t, FiBuf *b, FiVal *v);
extern FiVal *fi_to_str(FiTpl *t, FiVal *v);	/* str(v) as a value */
extern void fi_float_repr(double f, char *buf);	/* Python repr(float) */

/* JSON as Python writes it */
typedef struct FiJsonStyle
{
	int			indent;			/* -1: none */
	bool		sort_keys;
	bool		compact_item;	/* "," instead of ", " */
	bool		html_safe;		/* Jinja tojson: escape < > & ' */
	bool		lenient;		/* Frappe's json_handler: dates as str,
								 * Undefined as [] */
} FiJsonStyle;
extern void fi_json_into(FiTpl *t, FiBuf *b, FiVal *v, const FiJsonStyle *st,
						 int pos);
extern FiVal *fi_json_parse(FiTpl *t, const char *s, size_t n);

/* UTF-8 helpers */
extern size_t fi_utf8_len(const char *s, size_t n);	/* code points */
extern size_t fi_utf8_invalid_at(const char *s, size_t n);
extern int	fi_utf8_next(const char *s, size_t n, size_t *i); /* cp or -1 */
extern void fi_utf8_put(FiTpl *t, FiBuf *b, uint32_t cp);
extern bool fi_uni_isspace(uint32_t cp);
extern bool fi_uni_isprintable(uint32_t cp);	/* str.isprintable */
extern bool fi_uni_isword(uint32_t cp);	/* re's \w */
extern FiVal *fi_str_case(FiTpl *t, FiVal *s, int upper);

/* dates (proleptic Gregorian, Python's ordinals) */
#define FI_USEC_PER_DAY INT64_C(86400000000)

/* us as whole days, floored as Python does, and the microseconds left */
static inline int64_t
fi_split_usec(int64_t us, int64_t *rest)
{
	int64_t		d = us / FI_USEC_PER_DAY,
				r = us % FI_USEC_PER_DAY;

	if (r < 0)
	{
		r += FI_USEC_PER_DAY;
		d--;
	}
	*rest = r;
	return d;
}

extern int32_t fi_ymd_to_ord(int y, int m, int d);
extern void fi_ord_to_ymd(int32_t ord, int *y, int *m, int *d);
extern int	fi_days_in_month(int y, int m);
extern FiVal *fi_mkdate(FiTpl *t, int32_t ord);
extern FiVal *fi_mkdatetime(FiTpl *t, int32_t ord, int64_t usec);
extern FiVal *fi_mktdelta(FiTpl *t, int64_t usec);

/* tpl_parse.c */
extern FiNode *fi_parse_template(FiTpl *t, const char *src, size_t n);
extern FiNode *fi_parse_expression(FiTpl *t, const char *src, size_t n);

/* tpl_eval.c */
extern void fi_run(FiTpl *t, FiNode *body);
extern FiVal *fi_eval(FiTpl *t, FiNode *n);
extern FiVal *fi_call_value(FiTpl *t, FiVal *callee, FiArgs *a);
extern FiVal *fi_getattr(FiTpl *t, FiVal *obj, const char *name, int pos);
extern FiVal *fi_getitem(FiTpl *t, FiVal *obj, FiVal *key, int pos);
extern FiVal *fi_binop(FiTpl *t, int op, FiVal *a, FiVal *b, int pos);
extern FiVal **fi_iterate(FiTpl *t, FiVal *v, int *n, int pos);
extern void fi_out(FiTpl *t, const char *s, size_t n);

/* tpl_lib.c: conversions shared with the filters */
extern FiVal *fi_need(FiTpl *t, FiArgs *a, int idx, const char *kw);
extern FiVal *fi_mkstr_buf(FiTpl *t, FiBuf *b);
extern FiVal *fi_soft_str(FiTpl *t, FiVal *v);
extern bool fi_to_float(FiTpl *t, FiVal *v, double *out);
extern bool fi_py_parse_int(FiTpl *t, const char *s, size_t n, int64_t *out);
extern FiVal *fi_float_to_int(FiTpl *t, double d, int pos, bool *ok);
extern FiVal *fi_cint(FiTpl *t, FiVal *s, FiVal *dflt);
extern FiVal *fi_cstr(FiTpl *t, FiVal *s);
extern FiVal *fi_flt(FiTpl *t, FiVal *s, FiVal *precision, FiVal *method, int pos);
extern const FiNs fi_ns_utils_def;
extern const FiNs fi_ns_frappe_def;

/* tpl_lib.c, tpl_builtins.c */
extern bool fi_filter_exists(const char *name);
extern bool fi_filter_streams(const char *name);
extern void fi_filter_stream(FiTpl *t, const char *name, FiVal *v, FiArgs *a, FiBuf *out);
extern bool fi_test_exists(const char *name);
extern FiVal *fi_apply_filter(FiTpl *t, const char *name, FiVal *v, FiArgs *a);
extern bool fi_apply_test(FiTpl *t, const char *name, FiVal *v, FiArgs *a);
extern FiVal *fi_lookup_global(FiTpl *t, const char *name);
extern FiVal *fi_method(FiTpl *t, FiVal *obj, const char *name);
extern FiVal *fi_ns_attr(FiTpl *t, const FiNs *ns, const char *name);
extern FiVal *fi_date_attr(FiTpl *t, FiVal *v, const char *name);
extern FiVal *fi_arg(FiTpl *t, FiArgs *a, int idx, const char *kw, FiVal *dflt);
extern void fi_args_max(FiTpl *t, FiArgs *a, int maxpos, const char *const *kws);
/* tpl_filters.c: shared with tpl_builtins.c */
extern void fi_need_str(FiTpl *t, FiVal *v, const char *what, int pos);
extern FiVal *fi_html_escape(FiTpl *t, FiVal *s, const char *quot, const char *apos);
extern FiVal *fi_as_list(FiTpl *t, FiVal *v, int pos);
extern int64_t fi_py_len(FiTpl *t, FiVal *v, int pos);
extern FiVal *fi_filter_abs(FiTpl *t, FiVal *v, FiArgs *a);
extern FiVal *fi_filter_capitalize(FiTpl *t, FiVal *v, FiArgs *a);
extern FiVal *fi_filter_items(FiTpl *t, FiVal *v, FiArgs *a);
extern FiVal *fi_minmax(FiTpl *t, FiVal **items, int n, bool want_max, int pos, bool ci);
extern void fi_sort_items(FiTpl *t, FiVal **items, int n, FiVal *attr, bool ci, bool reverse, int pos);
extern FiVal *fi_str_replace(FiTpl *t, FiVal *s, FiVal *old, FiVal *new, int64_t count);
extern FiVal *fi_str_strip(FiTpl *t, FiVal *s, FiVal *chars, bool left, bool right);
extern FiVal *fi_percent_format(FiTpl *t, FiVal *fmt, FiVal *args, int pos);
extern FiVal *fi_py_round(FiTpl *t, FiVal *v, FiVal *nd, int pos);

#endif							/* FI_TPL_INT_H */
