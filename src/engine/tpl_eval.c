/*
 * tpl_eval.c
 *		Evaluation: expressions with Python's operator semantics (as Jinja's
 *		sandbox and Python's eval apply them), attribute and item lookup the
 *		way Jinja's SandboxedEnvironment does it (doc.<field> before dict
 *		methods), Jinja's statements and scoping, and the engine's entry
 *		points, which catch the engine's errors and hand back a code.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tpl_int.h"

/* ------------------------------------------------------------- output */

void
fi_out(FiTpl *t, const char *s, size_t n)
{
	if (t->ob->n + n > t->opt.max_output)
		fi_throw(t, FI_TPL_ELIMIT, -1, "template output is longer than %zu bytes",
				 t->opt.max_output);
	fi_buf_put(t, t->ob, s, n);
}

/* ------------------------------------------------------------- scopes */

static void
scope_push(FiTpl *t)
{
	FiScope    *s = fi_alloc(t, sizeof(FiScope));

	memset(s, 0, sizeof(FiScope));
	s->up = t->scope;
	t->scope = s;
}

static void
scope_set(FiTpl *t, const char *name, FiVal *v)
{
	FiScope    *s = t->scope;

	for (int i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
		{
			s->vals[i] = v;
			return;
		}
	if (s->n == s->cap)
	{
		int			ncap = s->cap ? s->cap * 2 : 8;
		const char **nn = fi_alloc(t, sizeof(char *) * ncap);
		FiVal	  **nv = fi_alloc(t, sizeof(FiVal *) * ncap);

		if (s->n)
		{
			memcpy(nn, s->names, sizeof(char *) * s->n);
			memcpy(nv, s->vals, sizeof(FiVal *) * s->n);
		}
		s->names = nn;
		s->vals = nv;
		s->cap = ncap;
	}
	s->names[s->n] = name;
	s->vals[s->n++] = v;
}

static FiVal *
lookup_name(FiTpl *t, const char *name, int pos)
{
	FiVal	   *v;

	for (FiScope *s = t->scope; s; s = s->up)
		for (int i = s->n - 1; i >= 0; i--)
			if (strcmp(s->names[i], name) == 0)
				return s->vals[i];
	if (t->ctx && (v = fi_dict_getc(t->ctx, name)) != NULL)
		return v;
	if ((v = fi_lookup_global(t, name)) != NULL)
		return v;
	if (t->mode == FI_MODE_PYTHON)
		fi_throw(t, FI_TPL_EVALUE, pos, "name '%s' is not defined", name);
	return fi_mkundef_name(t, name);
}

/* ------------------------------------------------------ attribute/item */

static void
undefined_error(FiTpl *t, FiVal *u, int pos)
{
	if (u->u.u.hint)
		fi_throw(t, FI_TPL_EVALUE, pos, "%s", u->u.u.hint);
	if (u->u.u.obj == NULL)
		fi_throw(t, FI_TPL_EVALUE, pos, "'%s' is undefined", u->u.u.name);
	{
		FiBuf		b = {0};

		fi_repr_into(t, &b, u->u.u.key);
		fi_throw(t, FI_TPL_EVALUE, pos, "'%s object' has no attribute %s",
				 fi_typename(u->u.u.obj), b.p);
	}
}

FiVal *
fi_getattr(FiTpl *t, FiVal *obj, const char *name, int pos)
{
	FiVal	   *v;

	if (name[0] == '_')
		fi_throw(t, FI_TPL_EVALUE, pos,
				 "access to attribute '%s' is not allowed (names starting with '_' are private)",
				 name);
	switch (obj->type)
	{
		case FV_UNDEF:
			undefined_error(t, obj, pos);
			break;
		case FV_DICT:
			if (t->mode == FI_MODE_PYTHON)
			{
				/* a Document: fields, and .get(); a dict literal: methods */
				if (obj->is_doc && (v = fi_dict_getc(obj, name)) != NULL)
					return v;
				if ((!obj->is_doc || strcmp(name, "get") == 0) &&
					(v = fi_method(t, obj, name)) != NULL)
					return v;
				break;
			}
			/* the field first: doc.items is the child table */
			if ((v = fi_dict_getc(obj, name)) != NULL)
				return v;
			if (!obj->is_ns && (v = fi_method(t, obj, name)) != NULL)
				return v;
			if (obj->is_doc)
				return t->none; /* frappe._dict: a missing key reads as None */
			break;
		case FV_NS:
			if ((v = fi_ns_attr(t, obj->u.ns, name)) != NULL)
				return v;
			fi_throw(t, FI_TPL_EVALUE, pos,
					 "%s.%s is not available: webhook templates and conditions support only the helpers listed in the documentation",
					 obj->u.ns->name, name);
			break;
		case FV_LOOP:
			{
				FiLoop	   *l = obj->u.loop;

				if (strcmp(name, "index") == 0)
					return fi_mkint(t, l->index0 + 1);
				if (strcmp(name, "index0") == 0)
					return fi_mkint(t, l->index0);
				if (strcmp(name, "revindex") == 0)
					return fi_mkint(t, l->length - l->index0);
				if (strcmp(name, "revindex0") == 0)
					return fi_mkint(t, l->length - l->index0 - 1);
				if (strcmp(name, "first") == 0)
					return fi_mkbool(t, l->index0 == 0);
				if (strcmp(name, "last") == 0)
					return fi_mkbool(t, l->index0 == l->length - 1);
				if (strcmp(name, "length") == 0)
					return fi_mkint(t, l->length);
				if (strcmp(name, "depth") == 0)
					return fi_mkint(t, 1);
				if (strcmp(name, "depth0") == 0)
					return fi_mkint(t, 0);
				if (strcmp(name, "previtem") == 0)
					return l->index0 > 0 ? l->seq->u.l.v[l->index0 - 1]
						: fi_mkundef_hint(t, "there is no previous item");
				if (strcmp(name, "nextitem") == 0)
					return l->index0 + 1 < l->length ? l->seq->u.l.v[l->index0 + 1]
						: fi_mkundef_hint(t, "there is no next item");
				break;
			}
		case FV_DATE:
		case FV_DATETIME:
		case FV_TDELTA:
			if ((v = fi_date_attr(t, obj, name)) != NULL)
				return v;
			break;
		default:
			if ((v = fi_method(t, obj, name)) != NULL)
				return v;
			break;
	}
	if (t->mode == FI_MODE_PYTHON)
	{
		if (obj->type == FV_DICT)
			fi_throw(t, FI_TPL_EVALUE, pos, "the document has no field '%s'", name);
		fi_throw(t, FI_TPL_EVALUE, pos, "'%s' object has no attribute '%s'",
				 fi_typename(obj), name);
	}
	return fi_mkundef_item(t, obj, fi_mkcstr(t, name));
}

static bool
index_of(FiTpl *t, FiVal *key, int64_t len, int64_t *idx)
{
	int64_t		i;

	if (key->type == FV_INT)
		i = key->u.i;
	else if (key->type == FV_BOOL)
		i = key->u.b;
	else
		return false;
	if (i < 0)
		i += len;
	if (i < 0 || i >= len)
		return false;
	*idx = i;
	return true;
}

/* the byte offset of code point number cp in s */
static size_t
cp_offset(const char *s, size_t n, int64_t cp)
{
	size_t		i = 0;

	while (cp > 0 && i < n)
	{
		i++;
		while (i < n && ((unsigned char) s[i] & 0xC0) == 0x80)
			i++;
		cp--;
	}
	return i;
}

FiVal *
fi_getitem(FiTpl *t, FiVal *obj, FiVal *key, int pos)
{
	int64_t		idx;

	switch (obj->type)
	{
		case FV_UNDEF:
			undefined_error(t, obj, pos);
			break;
		case FV_DICT:
			{
				FiVal	   *v;

				if (t->mode == FI_MODE_PYTHON && obj->is_doc)
					fi_throw(t, FI_TPL_EVALUE, pos,
							 "a document is not subscriptable in a condition: write doc.field or doc.get(\"field\")");
				if (!fi_hashable(key))
					fi_throw(t, FI_TPL_EVALUE, pos, "unhashable type: '%s'", fi_typename(key));
				if ((v = fi_dict_get(obj, key)) != NULL)
					return v;
				break;
			}
		case FV_LIST:
		case FV_TUPLE:
			if (index_of(t, key, obj->u.l.n, &idx))
				return obj->u.l.v[idx];
			if (t->mode == FI_MODE_PYTHON && key->type != FV_INT && key->type != FV_BOOL)
				fi_throw(t, FI_TPL_EVALUE, pos, "%s indices must be integers, not %s",
						 fi_typename(obj), fi_typename(key));
			if (t->mode == FI_MODE_PYTHON)
				fi_throw(t, FI_TPL_EVALUE, pos, "%s index out of range", fi_typename(obj));
			break;
		case FV_STR:
			{
				int64_t		len = (int64_t) fi_utf8_len(obj->u.s.p, obj->u.s.n);

				if (index_of(t, key, len, &idx))
				{
					size_t		a = cp_offset(obj->u.s.p, obj->u.s.n, idx);
					size_t		b = cp_offset(obj->u.s.p + a, obj->u.s.n - a, 1);

					return fi_mkstr(t, obj->u.s.p + a, b);
				}
				if (t->mode == FI_MODE_PYTHON)
					fi_throw(t, FI_TPL_EVALUE, pos, "string index out of range");
				break;
			}
		default:
			if (t->mode == FI_MODE_PYTHON)
				fi_throw(t, FI_TPL_EVALUE, pos, "'%s' object is not subscriptable",
						 fi_typename(obj));
			break;
	}
	if (t->mode == FI_MODE_PYTHON)
	{
		FiBuf		b = {0};

		fi_repr_into(t, &b, key);
		fi_throw(t, FI_TPL_EVALUE, pos, "KeyError: %s", b.p);
	}
	/* Jinja: a str key falls back to attribute lookup */
	if (key->type == FV_STR && obj->type != FV_UNDEF)
	{
		char	   *nm = fi_strndup(t, key->u.s.p, key->u.s.n);

		if (nm[0] != '_' && strlen(nm) == key->u.s.n)
		{
			FiVal	   *v = NULL;

			if (obj->type == FV_DATE || obj->type == FV_DATETIME || obj->type == FV_TDELTA)
				v = fi_date_attr(t, obj, nm);
			else if (obj->type == FV_NS)
				v = fi_ns_attr(t, obj->u.ns, nm);
			else if (obj->type != FV_LOOP && !obj->is_ns)
				v = fi_method(t, obj, nm);
			if (v)
				return v;
		}
		if (obj->type == FV_DICT && obj->is_doc)
			return t->none;
	}
	return fi_mkundef_item(t, obj, key);
}

static int64_t
slice_bound(FiTpl *t, FiVal *v, int64_t len, int64_t dflt, int pos, bool neg_step)
{
	int64_t		i;

	if (v == NULL || v->type == FV_NONE)
		return dflt;
	if (v->type == FV_INT)
		i = v->u.i;
	else if (v->type == FV_BOOL)
		i = v->u.b;
	else
		fi_throw(t, FI_TPL_EVALUE, pos,
				 "slice indices must be integers or None");
	if (i < 0)
	{
		i += len;
		if (i < 0)
			i = neg_step ? -1 : 0;
	}
	else if (i >= len)
		i = neg_step ? len - 1 : len;
	return i;
}

static FiVal *
eval_slice(FiTpl *t, FiNode *n)
{
	FiVal	   *obj = fi_eval(t, n->a);
	FiVal	   *lo = n->b ? fi_eval(t, n->b) : NULL;
	FiVal	   *hi = n->c ? fi_eval(t, n->c) : NULL;
	FiVal	   *st = n->d ? fi_eval(t, n->d) : NULL;
	int64_t		step = 1,
				len,
				a,
				b;
	bool		isstr = obj->type == FV_STR;
	size_t	   *offs = NULL;

	if (obj->type == FV_UNDEF)
		undefined_error(t, obj, n->pos);
	if (obj->type != FV_LIST && obj->type != FV_TUPLE && !isstr)
	{
		if (t->mode == FI_MODE_PYTHON)
			fi_throw(t, FI_TPL_EVALUE, n->pos, "'%s' object is not subscriptable",
					 fi_typename(obj));
		return fi_mkundef_item(t, obj, t->none);
	}
	if (st && st->type != FV_NONE)
	{
		if (st->type != FV_INT)
			fi_throw(t, FI_TPL_EVALUE, n->pos, "slice indices must be integers or None");
		step = st->u.i;
		if (step == 0)
			fi_throw(t, FI_TPL_EVALUE, n->pos, "slice step cannot be zero");
	}
	if (isstr)
	{
		size_t		i = 0;

		len = (int64_t) fi_utf8_len(obj->u.s.p, obj->u.s.n);
		offs = fi_alloc(t, sizeof(size_t) * (len + 1));
		for (int64_t k = 0; k < len; k++)
		{
			offs[k] = i;
			fi_utf8_next(obj->u.s.p, obj->u.s.n, &i);
		}
		offs[len] = obj->u.s.n;
	}
	else
		len = obj->u.l.n;
	if (step > 0)
	{
		a = slice_bound(t, lo, len, 0, n->pos, false);
		b = slice_bound(t, hi, len, len, n->pos, false);
	}
	else
	{
		a = slice_bound(t, lo, len, len - 1, n->pos, true);
		b = slice_bound(t, hi, len, -1, n->pos, true);
	}
	if (isstr)
	{
		FiBuf		buf = {0};
		FiVal	   *r;

		fi_buf_put(t, &buf, "", 0);
		if (step == 1)
		{
			if (b > a)
				fi_buf_put(t, &buf, obj->u.s.p + offs[a], offs[b] - offs[a]);
		}
		else
			for (int64_t k = a; step > 0 ? k < b : k > b; k += step)
				fi_buf_put(t, &buf, obj->u.s.p + offs[k], offs[k + 1] - offs[k]);
		r = fi_new(t, FV_STR);
		r->u.s.p = buf.p;
		r->u.s.n = buf.n;
		return r;
	}
	{
		FiVal	   *r = fi_mklist(t, obj->type, 4);

		for (int64_t k = a; step > 0 ? k < b : k > b; k += step)
			fi_list_push(t, r, obj->u.l.v[k]);
		return r;
	}
}

/* ---------------------------------------------------------- operators */

static void
type_error(FiTpl *t, const char *op, FiVal *a, FiVal *b, int pos)
{
	fi_throw(t, FI_TPL_EVALUE, pos,
			 "unsupported operand type(s) for %s: '%s' and '%s'",
			 op, fi_typename(a), fi_typename(b));
}

static int64_t
ival(FiVal *v)
{
	return v->type == FV_BOOL ? v->u.b : v->u.i;
}

static bool
is_intlike(FiVal *v)
{
	return v->type == FV_INT || v->type == FV_BOOL;
}

/* CPython's float divmod */
static void
float_divmod(double vx, double wx, double *floordiv, double *mod)
{
	double		div,
				m;

	m = fmod(vx, wx);
	div = (vx - m) / wx;
	if (m)
	{
		if ((wx < 0) != (m < 0))
		{
			m += wx;
			div -= 1.0;
		}
	}
	else
		m = copysign(0.0, wx);
	if (div)
	{
		double		fd = floor(div);

		if (div - fd > 0.5)
			fd += 1.0;
		div = fd;
	}
	else
		div = copysign(0.0, vx / wx);
	*floordiv = div;
	*mod = m;
}

static FiVal *
repeat(FiTpl *t, FiVal *seq, int64_t times, int pos)
{
	if (times < 0)
		times = 0;
	/* nothing times anything is nothing (and no loop of a trillion turns) */
	if (times == 0 || (seq->type == FV_STR ? seq->u.s.n == 0 : seq->u.l.n == 0))
		return seq->type == FV_STR ? t->empty : fi_mklist(t, seq->type, 0);
	if (seq->type == FV_STR)
	{
		FiBuf		b = {0};
		FiVal	   *r;

		if (seq->u.s.n && (uint64_t) times > t->opt.max_output / seq->u.s.n)
			fi_throw(t, FI_TPL_ELIMIT, pos, "string repetition is too long");
		fi_buf_put(t, &b, "", 0);
		for (int64_t k = 0; k < times; k++)
			fi_buf_put(t, &b, seq->u.s.p, seq->u.s.n);
		r = fi_new(t, FV_STR);
		r->u.s.p = b.p;
		r->u.s.n = b.n;
		return r;
	}
	{
		FiVal	   *r;

		if (seq->u.l.n && times > 1000000 / seq->u.l.n)
			fi_throw(t, FI_TPL_ELIMIT, pos, "list repetition is too long");
		r = fi_mklist(t, seq->type, (int) (seq->u.l.n * times));
		for (int64_t k = 0; k < times; k++)
			for (int i = 0; i < seq->u.l.n; i++)
				fi_list_push(t, r, seq->u.l.v[i]);
		return r;
	}
}

FiVal *
fi_binop(FiTpl *t, int op, FiVal *a, FiVal *b, int pos)
{
	static const char *const opname[] = {"+", "-", "*", "/", "//", "%", "** or pow()", "~"};
	const char *on = opname[op];

	if (op == OP_CONCAT)
	{
		FiBuf		buf = {0};
		FiVal	   *r;

		fi_str_into(t, &buf, a);
		fi_str_into(t, &buf, b);
		r = fi_new(t, FV_STR);
		r->u.s.p = buf.p ? buf.p : "";
		r->u.s.n = buf.n;
		return r;
	}
	if (a->type == FV_UNDEF)
		undefined_error(t, a, pos);
	if (b->type == FV_UNDEF)
		undefined_error(t, b, pos);

	if (fi_is_number(a) && fi_is_number(b))
	{
		if (is_intlike(a) && is_intlike(b))
		{
			int64_t		x = ival(a),
						y = ival(b),
						r;

			switch (op)
			{
				case OP_ADD:
					if (__builtin_add_overflow(x, y, &r))
						goto overflow;
					return fi_mkint(t, r);
				case OP_SUB:
					if (__builtin_sub_overflow(x, y, &r))
						goto overflow;
					return fi_mkint(t, r);
				case OP_MUL:
					if (__builtin_mul_overflow(x, y, &r))
						goto overflow;
					return fi_mkint(t, r);
				case OP_DIV:
					if (y == 0)
						fi_throw(t, FI_TPL_EVALUE, pos, "division by zero");
					return fi_mkfloat(t, (double) x / (double) y);
				case OP_FLOORDIV:
				case OP_MOD:
					{
						int64_t		q,
									m;

						if (y == 0)
							fi_throw(t, FI_TPL_EVALUE, pos, op == OP_MOD ?
									 "integer modulo by zero" : "integer division or modulo by zero");
						if (x == INT64_MIN && y == -1)
							goto overflow;
						q = x / y;
						m = x % y;
						if (m != 0 && ((m < 0) != (y < 0)))
						{
							q--;
							m += y;
						}
						return fi_mkint(t, op == OP_MOD ? m : q);
					}
				case OP_POW:
					if (y < 0)
					{
						if (x == 0)
							fi_throw(t, FI_TPL_EVALUE, pos,
									 "0.0 cannot be raised to a negative power");
						return fi_mkfloat(t, pow((double) x, (double) y));
					}
					r = 1;
					{
						int64_t		base = x,
									e = y;

						while (e > 0)
						{
							if (e & 1)
							{
								if (__builtin_mul_overflow(r, base, &r))
									goto overflow;
							}
							e >>= 1;
							if (e > 0 && __builtin_mul_overflow(base, base, &base))
								goto overflow;
						}
					}
					return fi_mkint(t, r);
			}
		}
		else
		{
			double		x = fi_as_double(a),
						y = fi_as_double(b),
						q,
						m;

			switch (op)
			{
				case OP_ADD:
					return fi_mkfloat(t, x + y);
				case OP_SUB:
					return fi_mkfloat(t, x - y);
				case OP_MUL:
					return fi_mkfloat(t, x * y);
				case OP_DIV:
					if (y == 0)
						fi_throw(t, FI_TPL_EVALUE, pos, "float division by zero");
					return fi_mkfloat(t, x / y);
				case OP_FLOORDIV:
				case OP_MOD:
					if (y == 0)
						fi_throw(t, FI_TPL_EVALUE, pos, op == OP_MOD ? "float modulo" :
								 "float floor division by zero");
					float_divmod(x, y, &q, &m);
					return fi_mkfloat(t, op == OP_MOD ? m : q);
				case OP_POW:
					if (x == 0 && y < 0)
						fi_throw(t, FI_TPL_EVALUE, pos,
								 "0.0 cannot be raised to a negative power");
					if (x < 0 && y != floor(y))
						fi_throw(t, FI_TPL_EVALUE, pos,
								 "a negative number to a fractional power has no real result");
					{
						double		r = pow(x, y);

						if (isinf(r) && !isinf(x) && !isinf(y))
							fi_throw(t, FI_TPL_EVALUE, pos, "(34, 'Numerical result out of range')");
						return fi_mkfloat(t, r);
					}
			}
		}
	}
	switch (op)
	{
		case OP_ADD:
			if (a->type == FV_STR && b->type == FV_STR)
			{
				FiBuf		buf = {0};
				FiVal	   *r;

				fi_buf_put(t, &buf, a->u.s.p, a->u.s.n);
				fi_buf_put(t, &buf, b->u.s.p, b->u.s.n);
				if (buf.p == NULL)
					return t->empty;
				r = fi_new(t, FV_STR);
				r->u.s.p = buf.p;
				r->u.s.n = buf.n;
				return r;
			}
			if ((a->type == FV_LIST || a->type == FV_TUPLE) && a->type == b->type)
			{
				FiVal	   *r = fi_mklist(t, a->type, a->u.l.n + b->u.l.n);

				for (int i = 0; i < a->u.l.n; i++)
					fi_list_push(t, r, a->u.l.v[i]);
				for (int i = 0; i < b->u.l.n; i++)
					fi_list_push(t, r, b->u.l.v[i]);
				return r;
			}
			if (b->type == FV_TDELTA && (a->type == FV_DATE || a->type == FV_DATETIME))
			{
				FiVal	   *tmp = a;

				a = b;
				b = tmp;
			}
			if (a->type == FV_TDELTA)
			{
				if (b->type == FV_TDELTA)
					return fi_mktdelta(t, a->u.td + b->u.td);
				if (b->type == FV_DATE)
				{
					/* date + timedelta uses whole days only */
					int64_t		rest;
					int64_t		days = fi_split_usec(a->u.td, &rest);

					return fi_mkdate(t, (int32_t) (b->u.dt.ord + days));
				}
				if (b->type == FV_DATETIME)
				{
					int64_t		r;
					int64_t		d = fi_split_usec(b->u.dt.usec + a->u.td, &r);

					return fi_mkdatetime(t, (int32_t) (b->u.dt.ord + d), r);
				}
			}
			break;
		case OP_SUB:
			if (a->type == FV_DATE && b->type == FV_DATE)
				return fi_mktdelta(t, (int64_t) (a->u.dt.ord - b->u.dt.ord) * FI_USEC_PER_DAY);
			if (a->type == FV_DATETIME && b->type == FV_DATETIME)
				return fi_mktdelta(t, (int64_t) (a->u.dt.ord - b->u.dt.ord) * FI_USEC_PER_DAY +
								   a->u.dt.usec - b->u.dt.usec);
			if (b->type == FV_TDELTA && (a->type == FV_DATE || a->type == FV_DATETIME ||
										 a->type == FV_TDELTA))
			{
				FiVal		neg = *b;

				neg.u.td = -b->u.td;
				if (a->type == FV_TDELTA)
					return fi_mktdelta(t, a->u.td - b->u.td);
				return fi_binop(t, OP_ADD, a, &neg, pos);
			}
			break;
		case OP_MUL:
			if ((a->type == FV_STR || a->type == FV_LIST || a->type == FV_TUPLE) && is_intlike(b))
				return repeat(t, a, ival(b), pos);
			if ((b->type == FV_STR || b->type == FV_LIST || b->type == FV_TUPLE) && is_intlike(a))
				return repeat(t, b, ival(a), pos);
			break;
		case OP_MOD:
			if (a->type == FV_STR)
				return fi_percent_format(t, a, b, pos);
			break;
		default:
			break;
	}
	type_error(t, on, a, b, pos);
overflow:
	fi_throw(t, FI_TPL_EVALUE, pos,
			 "integer result does not fit in 64 bits (Python would compute it exactly)");
}

/* x in container */
static bool
contains(FiTpl *t, FiVal *container, FiVal *x, int pos)
{
	switch (container->type)
	{
		case FV_STR:
			if (x->type == FV_UNDEF)
				undefined_error(t, x, pos);
			if (x->type != FV_STR)
				fi_throw(t, FI_TPL_EVALUE, pos,
						 "'in <string>' requires string as left operand, not %s", fi_typename(x));
			if (x->u.s.n == 0)
				return true;
			if (x->u.s.n > container->u.s.n)
				return false;
			for (size_t i = 0; i + x->u.s.n <= container->u.s.n; i++)
				if (memcmp(container->u.s.p + i, x->u.s.p, x->u.s.n) == 0)
					return true;
			return false;
		case FV_LIST:
		case FV_TUPLE:
			for (int i = 0; i < container->u.l.n; i++)
				if (container->u.l.v[i] == x || fi_eq(t, container->u.l.v[i], x))
					return true;
			return false;
		case FV_DICT:
			if (!fi_hashable(x))
				fi_throw(t, FI_TPL_EVALUE, pos, "unhashable type: '%s'", fi_typename(x));
			return fi_dict_get(container, x) != NULL;
		case FV_UNDEF:
			if (t->mode == FI_MODE_JINJA)
				return false;
			break;
		default:
			break;
	}
	fi_throw(t, FI_TPL_EVALUE, pos, "argument of type '%s' is not iterable",
			 fi_typename(container));
}

static bool
compare(FiTpl *t, int op, FiVal *a, FiVal *b, int pos)
{
	int			c;

	switch (op)
	{
		case OP_EQ:
			return fi_eq(t, a, b);
		case OP_NE:
			return !fi_eq(t, a, b);
		case OP_IN:
			return contains(t, b, a, pos);
		case OP_NOTIN:
			return !contains(t, b, a, pos);
		case OP_IS:
		case OP_ISNOT:
			{
				bool		same;

				if (a->type == FV_NONE || b->type == FV_NONE)
					same = a->type == b->type;
				else if (a->type == FV_BOOL || b->type == FV_BOOL)
					same = a->type == b->type && a->u.b == b->u.b;
				else
					same = a == b;
				return op == OP_IS ? same : !same;
			}
		default:
			break;
	}
	if (a->type == FV_UNDEF)
		undefined_error(t, a, pos);
	if (b->type == FV_UNDEF)
		undefined_error(t, b, pos);
	if ((a->type == FV_DATE && b->type == FV_DATETIME) ||
		(a->type == FV_DATETIME && b->type == FV_DATE))
		fi_throw(t, FI_TPL_EVALUE, pos, "can't compare datetime.datetime to datetime.date");
	c = fi_cmp(t, a, b, pos);
	if (c == 2)
		return false;			/* NaN */
	switch (op)
	{
		case OP_LT:
			return c < 0;
		case OP_LE:
			return c <= 0;
		case OP_GT:
			return c > 0;
		case OP_GE:
			return c >= 0;
	}
	return false;
}

/* ------------------------------------------------------------ calling */

static FiArgs *
eval_args(FiTpl *t, FiNode *n, FiVal *first)
{
	FiArgs	   *a = fi_alloc(t, sizeof(FiArgs));
	int			off = first ? 1 : 0;

	a->n = n->nkids + off;
	a->v = fi_alloc(t, sizeof(FiVal *) * (a->n ? a->n : 1));
	if (first)
		a->v[0] = first;
	for (int i = 0; i < n->nkids; i++)
		a->v[i + off] = fi_eval(t, n->kids[i]);
	a->nkw = n->nkw;
	a->kwn = n->kwn;
	a->kwv = fi_alloc(t, sizeof(FiVal *) * (n->nkw ? n->nkw : 1));
	for (int i = 0; i < n->nkw; i++)
		a->kwv[i] = fi_eval(t, n->kwv[i]);
	a->pos = n->pos;
	return a;
}

FiVal *
fi_call_value(FiTpl *t, FiVal *callee, FiArgs *a)
{
	if (callee->type == FV_FUNC)
	{
		a->fname = callee->u.fn.f->name;
		return callee->u.fn.f->fn(t, callee->u.fn.self, a);
	}
	if (callee->type == FV_UNDEF)
		undefined_error(t, callee, a->pos);
	fi_throw(t, FI_TPL_EVALUE, a->pos, "'%s' object is not callable", fi_typename(callee));
}

/* --------------------------------------------------------------- eval */

FiVal *
fi_eval(FiTpl *t, FiNode *n)
{
	FiVal	   *r = NULL;

	fi_step(t, n->pos);
	if (++t->depth > t->opt.max_depth)
		fi_throw(t, FI_TPL_ELIMIT, n->pos, "evaluation nested more than %d deep",
				 t->opt.max_depth);
	switch (n->kind)
	{
		case N_CONST:
			r = n->val;
			break;
		case N_NAME:
			r = lookup_name(t, n->name, n->pos);
			break;
		case N_ATTR:
			r = fi_getattr(t, fi_eval(t, n->a), n->name, n->pos);
			break;
		case N_ITEM:
			{
				FiVal	   *obj = fi_eval(t, n->a);

				r = fi_getitem(t, obj, fi_eval(t, n->b), n->pos);
				break;
			}
		case N_SLICE:
			r = eval_slice(t, n);
			break;
		case N_CALL:
			{
				FiVal	   *callee = fi_eval(t, n->a);

				r = fi_call_value(t, callee, eval_args(t, n, NULL));
				break;
			}
		case N_FILTER:
			{
				FiVal	   *v = fi_eval(t, n->a);
				FiArgs	   *a = eval_args(t, n, NULL);

				a->fname = n->name;
				r = fi_apply_filter(t, n->name, v, a);
				break;
			}
		case N_TEST:
			{
				FiVal	   *v = fi_eval(t, n->a);
				FiArgs	   *a = eval_args(t, n, NULL);
				bool		ok;

				a->fname = n->name;
				ok = fi_apply_test(t, n->name, v, a);
				r = fi_mkbool(t, n->negated ? !ok : ok);
				break;
			}
		case N_NEG:
		case N_POS:
			{
				FiVal	   *v = fi_eval(t, n->a);

				if (v->type == FV_UNDEF)
					undefined_error(t, v, n->pos);
				if (v->type == FV_FLOAT)
					r = fi_mkfloat(t, n->kind == N_NEG ? -v->u.f : v->u.f);
				else if (v->type == FV_INT || v->type == FV_BOOL)
				{
					int64_t		x = ival(v);

					if (n->kind == N_NEG && x == INT64_MIN)
						fi_throw(t, FI_TPL_EVALUE, n->pos, "integer result does not fit in 64 bits");
					r = fi_mkint(t, n->kind == N_NEG ? -x : x);
				}
				else if (v->type == FV_TDELTA)
					r = fi_mktdelta(t, n->kind == N_NEG ? -v->u.td : v->u.td);
				else
					fi_throw(t, FI_TPL_EVALUE, n->pos, "bad operand type for unary %s: '%s'",
							 n->kind == N_NEG ? "-" : "+", fi_typename(v));
				break;
			}
		case N_NOT:
			r = fi_mkbool(t, !fi_truthy(fi_eval(t, n->a)));
			break;
		case N_AND:
			r = fi_eval(t, n->a);
			if (fi_truthy(r))
				r = fi_eval(t, n->b);
			break;
		case N_OR:
			r = fi_eval(t, n->a);
			if (!fi_truthy(r))
				r = fi_eval(t, n->b);
			break;
		case N_BINOP:
			{
				FiVal	   *a = fi_eval(t, n->a);

				r = fi_binop(t, n->op, a, fi_eval(t, n->b), n->pos);
				break;
			}
		case N_COMPARE:
			{
				FiVal	   *left = fi_eval(t, n->a);

				r = t->vtrue;
				for (int i = 0; i < n->nkids; i++)
				{
					FiVal	   *right = fi_eval(t, n->kids[i]);

					if (!compare(t, n->ops[i], left, right, n->kids[i]->pos))
					{
						r = t->vfalse;
						break;
					}
					left = right;
				}
				break;
			}
		case N_COND:
			if (fi_truthy(fi_eval(t, n->b)))
				r = fi_eval(t, n->a);
			else if (n->c)
				r = fi_eval(t, n->c);
			else
			{
				char		msg[160];
				int			line = 1;

				for (int i = 0; i < n->pos && (size_t) i < t->srclen; i++)
					if (t->src[i] == '\n')
						line++;
				snprintf(msg, sizeof(msg),
						 "the inline if-expression on line %d evaluated to false and no else section was defined.",
						 line);
				/* Jinja uses the plain Undefined here: it prints as "" */
				r = fi_mkundef_hint(t, fi_strndup(t, msg, strlen(msg)));
				r->u.u.plain = true;
			}
			break;
		case N_LIST:
		case N_TUPLE:
			r = fi_mklist(t, n->kind == N_LIST ? FV_LIST : FV_TUPLE, n->nkids);
			for (int i = 0; i < n->nkids; i++)
				fi_list_push(t, r, fi_eval(t, n->kids[i]));
			break;
		case N_DICT:
			r = fi_new(t, FV_DICT);
			for (int i = 0; i + 1 < n->nkids; i += 2)
			{
				FiVal	   *k = fi_eval(t, n->kids[i]);

				if (!fi_hashable(k))
					fi_throw(t, FI_TPL_EVALUE, n->kids[i]->pos, "unhashable type: '%s'",
							 fi_typename(k));
				fi_dict_put(t, r, k, fi_eval(t, n->kids[i + 1]));
			}
			break;
		default:
			fi_throw(t, FI_TPL_EVALUE, n->pos, "statement where an expression was expected");
	}
	t->depth--;
	return r;
}

/* the items a for loop (or a filter) walks over */
FiVal **
fi_iterate(FiTpl *t, FiVal *v, int *n, int pos)
{
	switch (v->type)
	{
		case FV_LIST:
		case FV_TUPLE:
			*n = v->u.l.n;
			return v->u.l.v;
		case FV_DICT:
			*n = v->u.d.n;
			return v->u.d.k;
		case FV_UNDEF:
			*n = 0;
			return NULL;
		case FV_STR:
			{
				size_t		i = 0;
				int			k = 0;
				int			len = (int) fi_utf8_len(v->u.s.p, v->u.s.n);
				FiVal	  **items = fi_alloc(t, sizeof(FiVal *) * (len ? len : 1));

				while (i < v->u.s.n)
				{
					size_t		st = i;

					fi_utf8_next(v->u.s.p, v->u.s.n, &i);
					items[k++] = fi_mkstr(t, v->u.s.p + st, i - st);
				}
				*n = k;
				return items;
			}
		default:
			fi_throw(t, FI_TPL_EVALUE, pos, "'%s' object is not iterable", fi_typename(v));
	}
}

static void
assign(FiTpl *t, FiNode *target, FiVal *v, int pos)
{
	if (target->kind == N_NAME)
	{
		scope_set(t, target->name, v);
		return;
	}
	if (target->kind == N_ATTR)
	{
		FiVal	   *obj = fi_eval(t, target->a);

		if (obj->type != FV_DICT || !obj->is_ns)
			fi_throw(t, FI_TPL_EVALUE, pos, "cannot assign attribute on non-namespace object");
		fi_dict_put(t, obj, fi_mkcstr(t, target->name), v);
		return;
	}
	/* tuple unpacking */
	{
		int			n;
		FiVal	  **items = fi_iterate(t, v, &n, pos);

		if (n != target->nkids)
			fi_throw(t, FI_TPL_EVALUE, pos, n > target->nkids ?
					 "too many values to unpack (expected %d)" :
					 "not enough values to unpack (expected %d)", target->nkids);
		for (int i = 0; i < n; i++)
			assign(t, target->kids[i], items[i], pos);
	}
}

static void
run_for(FiTpl *t, FiNode *n)
{
	FiVal	   *seqv = fi_eval(t, n->a);
	int			cnt;
	FiVal	  **items = fi_iterate(t, seqv, &cnt, n->a->pos);
	FiVal	   *seq = fi_mklist(t, FV_LIST, (seqv->type == FV_LIST || seqv->type == FV_TUPLE) ? 0 : cnt);
	FiScope    *saved = t->scope;
	FiLoop	   *loop;
	FiVal	   *loopv;
	FiScope    *iter;

	/* the loop filter runs first, so loop.length counts what passes */
	if (n->nkw)
	{
		for (int i = 0; i < cnt; i++)
		{
			fi_step(t, n->pos);
			scope_push(t);
			assign(t, n->d, items[i], n->pos);
			if (fi_truthy(fi_eval(t, n->kwv[0])))
				fi_list_push(t, seq, items[i]);
			t->scope = saved;
		}
	}
	else if (seqv->type == FV_LIST || seqv->type == FV_TUPLE)
		seq = seqv;				/* no copy: nested loops over one list stay cheap */
	else
		for (int i = 0; i < cnt; i++)
			fi_list_push(t, seq, items[i]);

	if (seq->u.l.n == 0)
	{
		if (n->c)
		{
			scope_push(t);
			fi_run(t, n->c);
			t->scope = saved;
		}
		return;
	}
	/*
	 * One loop object and one scope, advanced each iteration (Jinja's
	 * LoopContext is one object too): a long loop allocates nothing itself.
	 */
	loop = fi_alloc(t, sizeof(FiLoop));
	loop->length = seq->u.l.n;
	loop->seq = seq;
	loopv = fi_new(t, FV_LOOP);
	loopv->u.loop = loop;
	scope_push(t);
	iter = t->scope;
	for (int i = 0; i < seq->u.l.n; i++)
	{
		fi_step(t, n->pos);		/* an empty body still counts */
		loop->index0 = i;
		iter->n = 0;
		t->scope = iter;
		scope_set(t, "loop", loopv);
		assign(t, n->d, seq->u.l.v[i], n->pos);
		fi_run(t, n->b);
	}
	t->scope = saved;
}

void
fi_run(FiTpl *t, FiNode *body)
{
	if (++t->depth > t->opt.max_depth)
		fi_throw(t, FI_TPL_ELIMIT, body->pos, "template blocks nested more than %d deep",
				 t->opt.max_depth);
	for (int i = 0; i < body->nkids; i++)
	{
		FiNode	   *n = body->kids[i];

		fi_step(t, n->pos);
		switch (n->kind)
		{
			case S_TEXT:
				fi_out(t, n->val->u.s.p, n->val->u.s.n);
				break;
			case S_PRINT:
				if (n->a->kind == N_FILTER && fi_filter_streams(n->a->name))
				{
					FiVal	   *v = fi_eval(t, n->a->a);
					FiArgs	   *a = eval_args(t, n->a, NULL);

					a->fname = n->a->name;
					fi_filter_stream(t, n->a->name, v, a, t->ob);
					break;
				}
				{
					FiVal	   *v = fi_eval(t, n->a);

					if (v->type == FV_STR)
						fi_out(t, v->u.s.p, v->u.s.n);
					else
						fi_str_into(t, t->ob, v);	/* straight into the output */
					break;
				}
			case S_IF:
				{
					FiNode	   *c = n;

					while (c)
					{
						if (c->kind == S_IF)
						{
							if (fi_truthy(fi_eval(t, c->a)))
							{
								fi_run(t, c->b);
								break;
							}
							c = c->c;
						}
						else
						{
							fi_run(t, c);
							break;
						}
					}
					break;
				}
			case S_FOR:
				run_for(t, n);
				break;
			case S_SET:
				assign(t, n->b, fi_eval(t, n->a), n->pos);
				break;
			case S_SETBLOCK:
				{
					FiBuf	   *saved = t->ob;
					FiBuf		inner = {0};
					FiVal	   *v;

					t->ob = &inner;
					fi_run(t, n->a);
					t->ob = saved;
					v = fi_mkstr_buf(t, &inner);
					assign(t, n->b, v, n->pos);
					break;
				}
			default:
				fi_throw(t, FI_TPL_EVALUE, n->pos, "unexpected node");
		}
	}
	t->depth--;
}

/* -------------------------------------------------------- entry points */

#define ENTER(t) \
	jmp_buf		jb; \
	(t)->jb = &jb; \
	(t)->errcode = 0; \
	(t)->errmsg[0] = '\0'; \
	(t)->depth = 0; \
	(t)->steps = 0; \
	(t)->scope = NULL; \
	if (setjmp(jb) != 0) \
	{ \
		(t)->jb = NULL; \
		return (t)->errcode; \
	}
#define LEAVE(t) ((t)->jb = NULL)

/* inputs must be strict UTF-8 (the server only ever passes that) */
static void
check_utf8(FiTpl *t, const char *s, size_t n, const char *what)
{
	size_t		bad = fi_utf8_invalid_at(s, n);

	if (bad < n)
		fi_throw(t, FI_TPL_EVALUE, (int) bad, "the %s is not valid UTF-8", what);
}

static bool
has_dunder(const char *s, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++)
		if (s[i] == '.' && s[i + 1] == '_' && s[i + 2] == '_')
			return true;
	return false;
}

/*
 * A source parsed before in this session (the same bytes at the same
 * address: the caller's configuration), or NULL.  The tree is never
 * changed by evaluation, so it serves again.
 */
static FiNode *
parsed_before(FiTpl *t, const char *src, size_t len, bool condition)
{
	for (int i = 0; i < t->nparsed; i++)
		if (t->parsed[i].src == src && t->parsed[i].len == len &&
			t->parsed[i].condition == condition)
			return t->parsed[i].root;
	return NULL;
}

static void
remember_parsed(FiTpl *t, const char *src, size_t len, bool condition, FiNode *root)
{
	int			i = t->nparsed < 4 ? t->nparsed++ : (int) (len % 4);

	t->parsed[i].src = src;
	t->parsed[i].len = len;
	t->parsed[i].condition = condition;
	t->parsed[i].root = root;
}

int
fi_tpl_render(FiTpl *t, const char *src, size_t len, FiVal *ctx,
			  const char **out, size_t *outlen)
{
	FiNode	   *body;

	ENTER(t);
	t->src = src;
	t->srclen = len;
	t->ob = fi_alloc(t, sizeof(FiBuf));
	memset(t->ob, 0, sizeof(FiBuf));
	t->ctx = (ctx && ctx->type == FV_DICT) ? ctx : NULL;
	body = parsed_before(t, src, len, false);
	if (body == NULL)
	{
		check_utf8(t, src, len, "template");
		if (has_dunder(src, len))
			fi_throw(t, FI_TPL_ESYNTAX, -1, "Illegal template");
		body = fi_parse_template(t, src, len);
		remember_parsed(t, src, len, false, body);
	}
	t->mode = FI_MODE_JINJA;
	scope_push(t);
	fi_run(t, body);
	*out = t->ob->p ? t->ob->p : "";
	*outlen = t->ob->n;
	LEAVE(t);
	return FI_TPL_OK;
}

int
fi_tpl_condition(FiTpl *t, const char *src, size_t len, FiVal *ctx, bool *result)
{
	FiNode	   *e;

	ENTER(t);
	t->src = src;
	t->srclen = len;
	t->ctx = (ctx && ctx->type == FV_DICT) ? ctx : NULL;
	e = parsed_before(t, src, len, true);
	if (e == NULL)
	{
		check_utf8(t, src, len, "condition");
		for (size_t i = 0; i + 1 < len; i++)
			if (src[i] == ':' && src[i + 1] == '=')
				fi_throw(t, FI_TPL_ESYNTAX, (int) i, "the walrus operator is not allowed in a condition");
		e = fi_parse_expression(t, src, len);
		remember_parsed(t, src, len, true, e);
	}
	t->mode = FI_MODE_PYTHON;
	*result = fi_truthy(fi_eval(t, e));
	LEAVE(t);
	return FI_TPL_OK;
}

/* ---- which fields of doc a template or condition reads ---- */

typedef struct DocUse
{
	const char *var;
	const char **names;
	int			n,
				cap;
	bool		whole;
} DocUse;

static void
use_add(FiTpl *t, DocUse *u, const char *name)
{
	for (int i = 0; i < u->n; i++)
		if (strcmp(u->names[i], name) == 0)
			return;
	if (u->n == u->cap)
	{
		const char **nn = fi_alloc(t, sizeof(char *) * (u->cap ? u->cap * 2 : 16));

		if (u->n)
			memcpy(nn, u->names, sizeof(char *) * u->n);
		u->names = nn;
		u->cap = u->cap ? u->cap * 2 : 16;
	}
	u->names[u->n++] = name;
}

static void
use_walk(FiTpl *t, DocUse *u, FiNode *n, FiNode *parent)
{
	if (n == NULL || u->whole)
		return;
	if (n->kind == N_NAME && n->name && strcmp(n->name, u->var) == 0)
	{
		if (parent && parent->kind == N_ATTR && parent->a == n && parent->name)
			use_add(t, u, parent->name);
		else if (parent && parent->kind == N_ITEM && parent->a == n && parent->b &&
				 parent->b->kind == N_CONST && parent->b->val && parent->b->val->type == FV_STR)
			use_add(t, u, parent->b->val->u.s.p);
		else
			u->whole = true;	/* doc itself is used: all of it */
		return;
	}
	use_walk(t, u, n->a, n);
	use_walk(t, u, n->b, n);
	use_walk(t, u, n->c, n);
	use_walk(t, u, n->d, n);
	for (int i = 0; i < n->nkids; i++)
		use_walk(t, u, n->kids[i], n);
	for (int i = 0; i < n->nkw; i++)
		use_walk(t, u, n->kwv[i], n);
}

int
fi_tpl_var_fields(FiTpl *t, const char *src, size_t len, bool condition, const char *var,
				  const char ***names, int *n, bool *whole)
{
	DocUse		u = {var, NULL, 0, 0, false};
	FiNode	   *root;

	ENTER(t);
	t->src = src;
	t->srclen = len;
	check_utf8(t, src, len, condition ? "condition" : "template");
	root = condition ? fi_parse_expression(t, src, len) : fi_parse_template(t, src, len);
	use_walk(t, &u, root, NULL);
	*names = u.names;
	*n = u.n;
	*whole = u.whole;
	LEAVE(t);
	return FI_TPL_OK;
}

int
fi_tpl_from_json(FiTpl *t, const char *json, size_t len, FiVal **out)
{
	ENTER(t);
	t->src = json;
	t->srclen = len;
	check_utf8(t, json, len, "JSON text");
	*out = fi_json_parse(t, json, len);
	LEAVE(t);
	return FI_TPL_OK;
}

int
fi_tpl_dumps(FiTpl *t, FiVal *v, const char **out, size_t *outlen)
{
	FiBuf		b = {0};
	FiJsonStyle st = {-1, false, false, false, false};

	ENTER(t);
	t->src = NULL;
	fi_json_into(t, &b, v, &st, -1);
	*out = b.p ? b.p : "";
	*outlen = b.n;
	LEAVE(t);
	return FI_TPL_OK;
}

int
fi_tpl_normalize_json(FiTpl *t, const char *json, size_t len,
					  const char **out, size_t *outlen)
{
	FiBuf		b = {0};
	FiJsonStyle st = {-1, false, false, false, false};
	FiVal	   *v;

	ENTER(t);
	t->src = json;
	t->srclen = len;
	check_utf8(t, json, len, "JSON text");
	v = fi_json_parse(t, json, len);
	t->src = NULL;
	fi_json_into(t, &b, v, &st, -1);
	*out = b.p ? b.p : "";
	*outlen = b.n;
	LEAVE(t);
	return FI_TPL_OK;
}
