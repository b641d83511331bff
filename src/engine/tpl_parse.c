/*
 * tpl_parse.c
 *		Lexer and recursive-descent parser for Jinja templates (as Jinja2 3.1
 *		lexes and parses them with the default delimiters, trim_blocks and
 *		lstrip_blocks off, keep_trailing_newline off) and for Python
 *		expressions (webhook conditions).  One grammar with two modes: the
 *		differences (filters, tests, '~', '**' associativity, true/none
 *		spellings, 'is') are switched on t->mode.  Produces FiNode trees in the
 *		session arena; errors are FI_TPL_ESYNTAX at the offending offset.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tpl_int.h"

typedef enum
{
	T_EOF, T_NAME, T_INT, T_FLOAT, T_STR, T_OP, T_VAR_END, T_BLOCK_END
} TokType;

typedef struct Tok
{
	TokType		type;
	int			pos;
	const char *s;				/* name / op text (NUL-terminated) */
	FiVal	   *val;			/* literal */
	bool		strip;			/* *_END: '-' before the delimiter */
} Tok;

typedef struct P
{
	FiTpl	   *t;
	const char *s;
	size_t		n;
	size_t		i;				/* lexer position */
	bool		in_tag;			/* template mode: inside {{ }} or {% %} */
	Tok			cur;
	bool		have;
	bool		lstrip_next;	/* previous tag ended with '-' */
	int			depth;
} P;

static void
syntax(P *p, int pos, const char *fmt, const char *arg)
{
	fi_throw(p->t, FI_TPL_ESYNTAX, pos, fmt, arg ? arg : "");
}

static FiNode *
mk(P *p, int kind, int pos)
{
	FiNode	   *n = fi_alloc(p->t, sizeof(FiNode));

	memset(n, 0, sizeof(FiNode));
	n->kind = kind;
	n->pos = pos;
	return n;
}

/* ---------------------------------------------------------------- lexer */

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static const char *const ops2[] = {"**", "//", "==", "!=", "<=", ">=", NULL};
static const char ops1[] = "+-*/%~()[]{},.:|=<>";

static FiVal *
lex_string(P *p)
{
	char		q = p->s[p->i];
	int			start = (int) p->i;
	FiBuf		b = {0};
	FiVal	   *v;

	p->i++;
	fi_buf_put(p->t, &b, "", 0);
	for (;;)
	{
		char		c;

		if (p->i >= p->n)
			syntax(p, start, "unexpected end of string literal%s", NULL);
		c = p->s[p->i];
		if (c == q)
		{
			p->i++;
			break;
		}
		if (c == '\n' && p->t->mode == FI_MODE_PYTHON)
			syntax(p, start, "unterminated string literal%s", NULL);
		if (c == '\r')
		{
			/* Jinja normalises newlines inside literals too */
			fi_buf_putc(p->t, &b, '\n');
			p->i++;
			if (p->i < p->n && p->s[p->i] == '\n')
				p->i++;
			continue;
		}
		if (c != '\\')
		{
			fi_buf_putc(p->t, &b, c);
			p->i++;
			continue;
		}
		/* escapes, as Python's unicode-escape codec reads them */
		p->i++;
		if (p->i >= p->n)
			syntax(p, start, "unexpected end of string literal%s", NULL);
		c = p->s[p->i++];
		switch (c)
		{
			case '\n':
				break;			/* line continuation */
			case '\\':
				fi_buf_putc(p->t, &b, '\\');
				break;
			case '\'':
				fi_buf_putc(p->t, &b, '\'');
				break;
			case '"':
				fi_buf_putc(p->t, &b, '"');
				break;
			case 'a':
				fi_buf_putc(p->t, &b, '\a');
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
			case 'v':
				fi_buf_putc(p->t, &b, '\v');
				break;
			case 'x':
			case 'u':
			case 'U':
				{
					int			nd = c == 'x' ? 2 : c == 'u' ? 4 : 8;
					uint32_t	cp = 0;

					for (int k = 0; k < nd; k++)
					{
						char		h = p->i < p->n ? p->s[p->i] : 0;

						if (!isxdigit((unsigned char) h))
							syntax(p, (int) p->i, "truncated \\%sXX escape in string literal",
								   c == 'x' ? "x" : c == 'u' ? "u" : "U");
						cp = cp * 16 + (isdigit((unsigned char) h) ? h - '0' : (tolower(h) - 'a' + 10));
						p->i++;
					}
					if (cp > 0x10FFFF)
						syntax(p, (int) p->i, "illegal Unicode character in string literal%s", NULL);
					fi_utf8_put(p->t, &b, cp);
					break;
				}
			default:
				if (c >= '0' && c <= '7')
				{
					uint32_t	cp = c - '0';

					for (int k = 0; k < 2 && p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '7'; k++)
						cp = cp * 8 + (p->s[p->i++] - '0');
					fi_utf8_put(p->t, &b, cp);
				}
				else
				{
					/* unknown escape: kept as written */
					fi_buf_putc(p->t, &b, '\\');
					p->i--;
				}
		}
	}
	v = fi_new(p->t, FV_STR);
	v->u.s.p = b.p;
	v->u.s.n = b.n;
	return v;
}

static void
lex_number(P *p, Tok *tk)
{
	size_t		start = p->i;
	char	   *buf = fi_alloc(p->t, p->n - start + 2);
	int			k = 0;
	bool		isfloat = false;
	int			base = 10;

	if (p->s[p->i] == '0' && p->i + 1 < p->n && strchr("xXoObB", p->s[p->i + 1]))
	{
		char		c = tolower(p->s[p->i + 1]);

		base = c == 'x' ? 16 : c == 'o' ? 8 : 2;
		p->i += 2;
		while (p->i < p->n && (isxdigit((unsigned char) p->s[p->i]) || p->s[p->i] == '_'))
		{
			if (p->s[p->i] != '_')
				buf[k++] = p->s[p->i];
			p->i++;
		}
	}
	else
	{
		while (p->i < p->n && (isdigit((unsigned char) p->s[p->i]) || p->s[p->i] == '_'))
		{
			if (p->s[p->i] != '_')
				buf[k++] = p->s[p->i];
			p->i++;
		}
		/* Jinja wants a digit after the point; Python takes "1." too */
		if (p->i < p->n && p->s[p->i] == '.' &&
			((p->i + 1 < p->n && isdigit((unsigned char) p->s[p->i + 1])) ||
			 (p->t->mode == FI_MODE_PYTHON &&
			  !(p->i + 1 < p->n && isalpha((unsigned char) p->s[p->i + 1])))))
		{
			isfloat = true;
			buf[k++] = '.';
			p->i++;
			while (p->i < p->n && (isdigit((unsigned char) p->s[p->i]) || p->s[p->i] == '_'))
			{
				if (p->s[p->i] != '_')
					buf[k++] = p->s[p->i];
				p->i++;
			}
		}
		if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E'))
		{
			size_t		save = p->i;
			int			savek = k;

			buf[k++] = 'e';
			p->i++;
			if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
				buf[k++] = p->s[p->i++];
			if (p->i < p->n && isdigit((unsigned char) p->s[p->i]))
			{
				isfloat = true;
				while (p->i < p->n && (isdigit((unsigned char) p->s[p->i]) || p->s[p->i] == '_'))
				{
					if (p->s[p->i] != '_')
						buf[k++] = p->s[p->i];
					p->i++;
				}
			}
			else
			{
				p->i = save;
				k = savek;
			}
		}
	}
	buf[k] = '\0';
	tk->pos = (int) start;
	if (isfloat)
	{
		tk->type = T_FLOAT;
		tk->val = fi_mkfloat(p->t, strtod(buf, NULL));
	}
	else
	{
		long long	v;
		char	   *end;

		errno = 0;
		v = strtoll(buf, &end, base);
		if (errno == ERANGE)
			syntax(p, (int) start, "integer literal does not fit in 64 bits%s", NULL);
		if (*end || k == 0)
			syntax(p, (int) start, "invalid number literal%s", NULL);
		/* Python refuses leading zeros in decimal literals */
		if (base == 10 && k > 1 && buf[0] == '0' && v != 0)
			syntax(p, (int) start, "leading zeros in decimal integer literals are not permitted%s", NULL);
		tk->type = T_INT;
		tk->val = fi_mkint(p->t, v);
	}
}

/* next token inside a tag (template mode) or an expression (Python mode) */
static void
lex(P *p, Tok *tk)
{
	memset(tk, 0, sizeof(Tok));
	while (p->i < p->n && (is_ws(p->s[p->i]) ||
						   (p->t->mode == FI_MODE_PYTHON && p->s[p->i] == '\\' &&
							p->i + 1 < p->n && p->s[p->i + 1] == '\n')))
		p->i++;
	tk->pos = (int) p->i;
	if (p->i >= p->n)
	{
		tk->type = T_EOF;
		return;
	}
	if (p->t->mode == FI_MODE_JINJA)
	{
		const char *r = p->s + p->i;
		size_t		left = p->n - p->i;

		if (left >= 3 && r[0] == '-' && (r[1] == '}' || r[1] == '%') && r[2] == '}')
		{
			tk->type = r[1] == '}' ? T_VAR_END : T_BLOCK_END;
			tk->strip = true;
			p->i += 3;
			return;
		}
		if (left >= 2 && r[0] == '}' && r[1] == '}')
		{
			tk->type = T_VAR_END;
			p->i += 2;
			return;
		}
		if (left >= 2 && r[0] == '%' && r[1] == '}')
		{
			tk->type = T_BLOCK_END;
			p->i += 2;
			return;
		}
	}
	{
		char		c = p->s[p->i];

		if (isalpha((unsigned char) c) || c == '_')
		{
			size_t		st = p->i;

			while (p->i < p->n && (isalnum((unsigned char) p->s[p->i]) || p->s[p->i] == '_'))
				p->i++;
			/* Python string prefixes: only the no-op ones */
			if (p->t->mode == FI_MODE_PYTHON && p->i < p->n &&
				(p->s[p->i] == '\'' || p->s[p->i] == '"') && p->i - st == 1 &&
				(c == 'u' || c == 'U'))
			{
				tk->type = T_STR;
				tk->val = lex_string(p);
				return;
			}
			tk->type = T_NAME;
			tk->s = fi_strndup(p->t, p->s + st, p->i - st);
			return;
		}
		if ((unsigned char) c >= 0x80)
			syntax(p, (int) p->i, "unexpected character in expression%s", NULL);
		if (isdigit((unsigned char) c) ||
			(c == '.' && p->t->mode == FI_MODE_PYTHON && p->i + 1 < p->n &&
			 isdigit((unsigned char) p->s[p->i + 1])))
		{
			lex_number(p, tk);
			return;
		}
		if (c == '\'' || c == '"')
		{
			tk->type = T_STR;
			tk->val = lex_string(p);
			return;
		}
		for (int k = 0; ops2[k]; k++)
			if (p->i + 1 < p->n && p->s[p->i] == ops2[k][0] && p->s[p->i + 1] == ops2[k][1])
			{
				tk->type = T_OP;
				tk->s = ops2[k];
				p->i += 2;
				return;
			}
		if (strchr(ops1, c))
		{
			char	   *o = fi_alloc(p->t, 2);

			o[0] = c;
			o[1] = '\0';
			tk->type = T_OP;
			tk->s = o;
			p->i++;
			return;
		}
		{
			char		tmp[2] = {c, 0};

			syntax(p, (int) p->i, "unexpected char '%s'", tmp);
		}
	}
}

static Tok *
peek(P *p)
{
	if (!p->have)
	{
		lex(p, &p->cur);
		p->have = true;
	}
	return &p->cur;
}

static Tok
next(P *p)
{
	Tok			t = *peek(p);

	p->have = false;
	return t;
}

static bool
is_op(P *p, const char *op)
{
	Tok		   *t = peek(p);

	return t->type == T_OP && strcmp(t->s, op) == 0;
}

static bool
is_name(P *p, const char *name)
{
	Tok		   *t = peek(p);

	return t->type == T_NAME && strcmp(t->s, name) == 0;
}

static const char *
tokdesc(Tok *t)
{
	switch (t->type)
	{
		case T_EOF:
			return "end of input";
		case T_NAME:
		case T_OP:
			return t->s;
		case T_INT:
		case T_FLOAT:
			return "number";
		case T_STR:
			return "string";
		case T_VAR_END:
			return "}}";
		case T_BLOCK_END:
			return "%}";
	}
	return "?";
}

static void
expect_op(P *p, const char *op)
{
	if (!is_op(p, op))
	{
		Tok		   *t = peek(p);
		char		msg[128];

		snprintf(msg, sizeof(msg), "expected '%s', got '%s'", op, tokdesc(t));
		syntax(p, t->pos, "%s", msg);
	}
	next(p);
}

static const char *
expect_name(P *p)
{
	Tok			t = next(p);

	if (t.type != T_NAME)
		syntax(p, t.pos, "expected a name, got '%s'", tokdesc(&t));
	return t.s;
}

/* --------------------------------------------------------------- parser */

static FiNode *parse_expr(P *p);
static FiNode *parse_or(P *p);
static FiNode *parse_unary(P *p, bool with_filter);
static FiNode *parse_primary(P *p);

static void
enter(P *p, int pos)
{
	if (++p->depth > p->t->opt.max_depth)
		fi_throw(p->t, FI_TPL_ELIMIT, pos, "blocks and expressions nested more than %d deep",
				 p->t->opt.max_depth);
}

static bool
is_keyword_stop(Tok *t)
{
	static const char *const kw[] = {"else", "or", "and", NULL};

	if (t->type != T_NAME)
		return false;
	for (int k = 0; kw[k]; k++)
		if (strcmp(t->s, kw[k]) == 0)
			return true;
	return false;
}

/* call arguments after '(' */
static void
parse_args(P *p, FiNode *call)
{
	FiNode	   *args[64];
	const char *kwn[64];
	FiNode	   *kwv[64];
	int			na = 0,
				nk = 0;

	while (!is_op(p, ")"))
	{
		Tok		   *t = peek(p);

		if (na + nk >= 64)
			syntax(p, t->pos, "too many arguments%s", NULL);
		if (t->type == T_OP && (strcmp(t->s, "*") == 0 || strcmp(t->s, "**") == 0))
			syntax(p, t->pos, "argument unpacking is not supported%s", NULL);
		if (t->type == T_NAME)
		{
			/* keyword argument? look ahead one token */
			size_t		save_i = p->i;
			Tok			save = *t;
			Tok			nx;

			p->have = false;
			lex(p, &nx);
			if (nx.type == T_OP && strcmp(nx.s, "=") == 0)
			{
				kwn[nk] = save.s;
				kwv[nk++] = parse_expr(p);
				goto sep;
			}
			p->i = save_i;
			p->cur = save;
			p->have = true;
		}
		if (nk)
			syntax(p, t->pos, "positional argument follows keyword argument%s", NULL);
		args[na++] = parse_expr(p);
sep:
		if (!is_op(p, ","))
			break;
		next(p);
	}
	expect_op(p, ")");
	call->nkids = na;
	call->kids = fi_alloc(p->t, sizeof(FiNode *) * (na ? na : 1));
	memcpy(call->kids, args, sizeof(FiNode *) * na);
	call->nkw = nk;
	call->kwn = fi_alloc(p->t, sizeof(char *) * (nk ? nk : 1));
	call->kwv = fi_alloc(p->t, sizeof(FiNode *) * (nk ? nk : 1));
	memcpy(call->kwn, kwn, sizeof(char *) * nk);
	memcpy(call->kwv, kwv, sizeof(FiNode *) * nk);
}

static FiNode *
parse_subscript(P *p, FiNode *obj, int pos)
{
	FiNode	   *parts[3] = {NULL, NULL, NULL};
	int			k = 0;
	bool		slice = false;

	for (;;)
	{
		if (is_op(p, ":"))
		{
			slice = true;
			next(p);
			if (++k > 2)
				syntax(p, pos, "invalid slice%s", NULL);
			continue;
		}
		if (is_op(p, "]"))
			break;
		if (parts[k])
			syntax(p, peek(p)->pos, "invalid subscript%s", NULL);
		parts[k] = parse_expr(p);
		if (is_op(p, ","))
			syntax(p, peek(p)->pos, "tuple subscripts are not supported%s", NULL);
	}
	expect_op(p, "]");
	if (slice)
	{
		FiNode	   *n = mk(p, N_SLICE, pos);

		n->a = obj;
		n->b = parts[0];
		n->c = parts[1];
		n->d = parts[2];
		return n;
	}
	if (!parts[0])
		syntax(p, pos, "empty subscript%s", NULL);
	{
		FiNode	   *n = mk(p, N_ITEM, pos);

		n->a = obj;
		n->b = parts[0];
		return n;
	}
}

static FiNode *
parse_postfix(P *p, FiNode *node)
{
	for (;;)
	{
		Tok		   *t = peek(p);

		if (t->type != T_OP)
			break;
		if (strcmp(t->s, ".") == 0)
		{
			Tok			dot = next(p);
			Tok			nm = next(p);

			if (nm.type == T_NAME)
			{
				FiNode	   *n = mk(p, N_ATTR, dot.pos);

				n->a = node;
				n->name = nm.s;
				node = n;
			}
			else if (nm.type == T_INT && p->t->mode == FI_MODE_JINJA)
			{
				FiNode	   *n = mk(p, N_ITEM, dot.pos);
				FiNode	   *k = mk(p, N_CONST, nm.pos);

				k->val = nm.val;
				n->a = node;
				n->b = k;
				node = n;
			}
			else
				syntax(p, nm.pos, "expected a name after '.'%s", NULL);
		}
		else if (strcmp(t->s, "[") == 0)
		{
			int			pos = next(p).pos;

			node = parse_subscript(p, node, pos);
		}
		else if (strcmp(t->s, "(") == 0)
		{
			FiNode	   *n = mk(p, N_CALL, next(p).pos);

			n->a = node;
			parse_args(p, n);
			node = n;
		}
		else
			break;
	}
	return node;
}

/* Jinja: '|' filters and 'is' tests after a unary expression */
static FiNode *
parse_filters(P *p, FiNode *node)
{
	for (;;)
	{
		Tok		   *t = peek(p);

		if (t->type == T_OP && strcmp(t->s, "|") == 0)
		{
			FiNode	   *n = mk(p, N_FILTER, next(p).pos);

			n->a = node;
			n->name = expect_name(p);
			if (!fi_filter_exists(n->name))
				syntax(p, n->pos, "No filter named '%s'.", n->name);
			if (is_op(p, "("))
			{
				next(p);
				parse_args(p, n);
			}
			node = n;
		}
		else if (t->type == T_NAME && strcmp(t->s, "is") == 0)
		{
			FiNode	   *n = mk(p, N_TEST, next(p).pos);

			n->a = node;
			if (is_name(p, "not"))
			{
				next(p);
				n->negated = 1;
			}
			n->name = expect_name(p);
			if (!fi_test_exists(n->name))
				syntax(p, n->pos, "No test named '%s'.", n->name);
			if (is_op(p, "("))
			{
				next(p);
				parse_args(p, n);
			}
			else
			{
				Tok		   *a = peek(p);

				if (a->type == T_NAME && strcmp(a->s, "is") == 0)
					syntax(p, a->pos, "You cannot chain multiple tests with is%s", NULL);

				/* one bare argument: "is divisibleby 3", "is sameas none" */
				if ((a->type == T_NAME || a->type == T_STR || a->type == T_INT ||
					 a->type == T_FLOAT || (a->type == T_OP && (strcmp(a->s, "(") == 0 ||
																strcmp(a->s, "[") == 0 || strcmp(a->s, "{") == 0))) &&
					!is_keyword_stop(a))
				{
					FiNode	   *arg = parse_primary(p);

					arg = parse_postfix(p, arg);
					n->kids = fi_alloc(p->t, sizeof(FiNode *));
					n->kids[0] = arg;
					n->nkids = 1;
				}
			}
			node = n;
		}
		else if (t->type == T_OP && strcmp(t->s, "(") == 0)
		{
			FiNode	   *n = mk(p, N_CALL, next(p).pos);

			n->a = node;
			parse_args(p, n);
			node = n;
		}
		else
			break;
	}
	return node;
}

static FiNode *
parse_seq(P *p, int kind, const char *close, int pos)
{
	FiNode	   *n = mk(p, kind, pos);
	FiNode	   *items[1024];
	int			k = 0;

	while (!is_op(p, close))
	{
		if (k >= 1024)
			syntax(p, pos, "literal with too many items%s", NULL);
		items[k++] = parse_expr(p);
		if (kind == N_DICT)
		{
			expect_op(p, ":");
			items[k++] = parse_expr(p);
		}
		if (!is_op(p, ","))
			break;
		next(p);
	}
	expect_op(p, close);
	n->nkids = k;
	n->kids = fi_alloc(p->t, sizeof(FiNode *) * (k ? k : 1));
	memcpy(n->kids, items, sizeof(FiNode *) * k);
	return n;
}

static FiNode *
parse_primary(P *p)
{
	Tok			t = next(p);
	FiNode	   *n;

	switch (t.type)
	{
		case T_NAME:
			{
				bool		py = p->t->mode == FI_MODE_PYTHON;

				n = mk(p, N_CONST, t.pos);
				if (strcmp(t.s, "True") == 0 || (!py && strcmp(t.s, "true") == 0))
					n->val = p->t->vtrue;
				else if (strcmp(t.s, "False") == 0 || (!py && strcmp(t.s, "false") == 0))
					n->val = p->t->vfalse;
				else if (strcmp(t.s, "None") == 0 || (!py && strcmp(t.s, "none") == 0))
					n->val = p->t->none;
				else
				{
					if (py && (strcmp(t.s, "lambda") == 0 || strcmp(t.s, "yield") == 0 ||
							   strcmp(t.s, "await") == 0))
						syntax(p, t.pos, "'%s' is not allowed in a condition", t.s);
					n->kind = N_NAME;
					n->name = t.s;
				}
				return n;
			}
		case T_STR:
			{
				/* adjacent literals concatenate */
				FiVal	   *v = t.val;

				while (peek(p)->type == T_STR)
				{
					Tok			s2 = next(p);
					FiBuf		b = {0};

					fi_buf_put(p->t, &b, v->u.s.p, v->u.s.n);
					fi_buf_put(p->t, &b, s2.val->u.s.p, s2.val->u.s.n);
					v = fi_new(p->t, FV_STR);
					v->u.s.p = b.p;
					v->u.s.n = b.n;
				}
				n = mk(p, N_CONST, t.pos);
				n->val = v;
				return n;
			}
		case T_INT:
		case T_FLOAT:
			n = mk(p, N_CONST, t.pos);
			n->val = t.val;
			return n;
		case T_OP:
			if (strcmp(t.s, "(") == 0)
			{
				FiNode	   *first;

				enter(p, t.pos);
				if (is_op(p, ")"))
				{
					next(p);
					n = mk(p, N_TUPLE, t.pos);
					p->depth--;
					return n;
				}
				first = parse_expr(p);
				if (is_op(p, ","))
				{
					FiNode	   *items[1024];
					int			k = 0;

					items[k++] = first;
					while (is_op(p, ","))
					{
						next(p);
						if (is_op(p, ")"))
							break;
						if (k >= 1024)
							syntax(p, t.pos, "literal with too many items%s", NULL);
						items[k++] = parse_expr(p);
					}
					n = mk(p, N_TUPLE, t.pos);
					n->nkids = k;
					n->kids = fi_alloc(p->t, sizeof(FiNode *) * k);
					memcpy(n->kids, items, sizeof(FiNode *) * k);
					first = n;
				}
				expect_op(p, ")");
				p->depth--;
				return first;
			}
			if (strcmp(t.s, "[") == 0)
			{
				enter(p, t.pos);
				n = parse_seq(p, N_LIST, "]", t.pos);
				p->depth--;
				return n;
			}
			if (strcmp(t.s, "{") == 0)
			{
				enter(p, t.pos);
				n = parse_seq(p, N_DICT, "}", t.pos);
				p->depth--;
				return n;
			}
			break;
		default:
			break;
	}
	syntax(p, t.pos, "unexpected '%s'", tokdesc(&t));
	return NULL;
}

static FiNode *
mkbin(P *p, int kind, int op, FiNode *a, FiNode *b, int pos)
{
	FiNode	   *n = mk(p, kind, pos);

	n->op = op;
	n->a = a;
	n->b = b;
	return n;
}

/* Python: '**' binds tighter than unary minus on its left, right-assoc */
static FiNode *
parse_power_py(P *p)
{
	FiNode	   *base = parse_postfix(p, parse_primary(p));

	if (is_op(p, "**"))
	{
		int			pos = next(p).pos;

		return mkbin(p, N_BINOP, OP_POW, base, parse_unary(p, false), pos);
	}
	return base;
}

static FiNode *
parse_unary(P *p, bool with_filter)
{
	Tok		   *t = peek(p);
	FiNode	   *n;

	enter(p, t->pos);
	if (t->type == T_OP && (strcmp(t->s, "-") == 0 || strcmp(t->s, "+") == 0))
	{
		int			kind = t->s[0] == '-' ? N_NEG : N_POS;
		int			pos = next(p).pos;

		n = mk(p, kind, pos);
		n->a = parse_unary(p, false);
	}
	else if (p->t->mode == FI_MODE_PYTHON)
		n = parse_power_py(p);
	else
		n = parse_postfix(p, parse_primary(p));
	if (with_filter && p->t->mode == FI_MODE_JINJA)
		n = parse_filters(p, n);
	p->depth--;
	return n;
}

/* Jinja: '**' is left-associative over unary operands */
static FiNode *
parse_pow(P *p)
{
	FiNode	   *left = parse_unary(p, true);

	if (p->t->mode == FI_MODE_PYTHON)
		return left;
	while (is_op(p, "**"))
	{
		int			pos = next(p).pos;

		left = mkbin(p, N_BINOP, OP_POW, left, parse_unary(p, true), pos);
	}
	return left;
}

/* one left-associative level of binary operators: ops[i] is written syms[i] */
static FiNode *
parse_level(P *p, FiNode *(*operand) (P *p), const char *const *syms, const int *ops)
{
	FiNode	   *left = operand(p);

	for (;;)
	{
		int			k = 0;

		while (syms[k] && !is_op(p, syms[k]))
			k++;
		if (!syms[k])
			return left;
		{
			int			pos = next(p).pos;

			left = mkbin(p, N_BINOP, ops[k], left, operand(p), pos);
		}
	}
}

static FiNode *
parse_math2(P *p)
{
	static const char *const syms[] = {"*", "/", "//", "%", NULL};
	static const int ops[] = {OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD};

	return parse_level(p, parse_pow, syms, ops);
}

static FiNode *
parse_concat(P *p)
{
	FiNode	   *left = parse_math2(p);

	if (p->t->mode == FI_MODE_JINJA)
		while (is_op(p, "~"))
		{
			int			pos = next(p).pos;

			left = mkbin(p, N_BINOP, OP_CONCAT, left, parse_math2(p), pos);
		}
	return left;
}

static FiNode *
parse_math1(P *p)
{
	static const char *const syms[] = {"+", "-", NULL};
	static const int ops[] = {OP_ADD, OP_SUB};

	return parse_level(p, parse_concat, syms, ops);
}

static FiNode *
parse_compare(P *p)
{
	FiNode	   *first = parse_math1(p);
	FiNode	   *kids[32];
	uint8_t		ops[32];
	int			k = 0;
	int			pos = peek(p)->pos;

	for (;;)
	{
		Tok		   *t = peek(p);
		int			op = -1;

		if (t->type == T_OP)
		{
			if (strcmp(t->s, "==") == 0)
				op = OP_EQ;
			else if (strcmp(t->s, "!=") == 0)
				op = OP_NE;
			else if (strcmp(t->s, "<") == 0)
				op = OP_LT;
			else if (strcmp(t->s, "<=") == 0)
				op = OP_LE;
			else if (strcmp(t->s, ">") == 0)
				op = OP_GT;
			else if (strcmp(t->s, ">=") == 0)
				op = OP_GE;
			if (op >= 0)
				next(p);
		}
		else if (t->type == T_NAME && strcmp(t->s, "in") == 0)
		{
			next(p);
			op = OP_IN;
		}
		else if (t->type == T_NAME && strcmp(t->s, "not") == 0)
		{
			/* "not in" */
			size_t		save_i = p->i;
			Tok			save = *t;
			Tok			nx;

			p->have = false;
			lex(p, &nx);
			if (nx.type == T_NAME && strcmp(nx.s, "in") == 0)
				op = OP_NOTIN;
			else
			{
				p->i = save_i;
				p->cur = save;
				p->have = true;
			}
		}
		else if (t->type == T_NAME && strcmp(t->s, "is") == 0 &&
				 p->t->mode == FI_MODE_PYTHON)
		{
			next(p);
			op = OP_IS;
			if (is_name(p, "not"))
			{
				next(p);
				op = OP_ISNOT;
			}
		}
		if (op < 0)
			break;
		if (k >= 32)
			syntax(p, t->pos, "comparison chain too long%s", NULL);
		ops[k] = op;
		kids[k++] = parse_math1(p);
	}
	if (k == 0)
		return first;
	{
		FiNode	   *n = mk(p, N_COMPARE, pos);

		n->a = first;
		n->nkids = k;
		n->kids = fi_alloc(p->t, sizeof(FiNode *) * k);
		memcpy(n->kids, kids, sizeof(FiNode *) * k);
		n->ops = fi_alloc(p->t, k);
		memcpy(n->ops, ops, k);
		return n;
	}
}

static FiNode *
parse_not(P *p)
{
	if (is_name(p, "not"))
	{
		int			pos = next(p).pos;
		FiNode	   *n = mk(p, N_NOT, pos);

		enter(p, pos);
		n->a = parse_not(p);
		p->depth--;
		return n;
	}
	return parse_compare(p);
}

static FiNode *
parse_and(P *p)
{
	FiNode	   *left = parse_not(p);

	while (is_name(p, "and"))
	{
		int			pos = next(p).pos;

		left = mkbin(p, N_AND, 0, left, parse_not(p), pos);
	}
	return left;
}

static FiNode *
parse_or(P *p)
{
	FiNode	   *left = parse_and(p);

	while (is_name(p, "or"))
	{
		int			pos = next(p).pos;

		left = mkbin(p, N_OR, 0, left, parse_and(p), pos);
	}
	return left;
}

/* conditional expression: a if cond [else b] (else is optional in Jinja) */
static FiNode *
parse_expr(P *p)
{
	FiNode	   *body;
	int			pos = peek(p)->pos;

	enter(p, pos);
	body = parse_or(p);
	while (is_name(p, "if"))
	{
		FiNode	   *n = mk(p, N_COND, next(p).pos);

		n->a = body;
		n->b = parse_or(p);
		if (is_name(p, "else"))
		{
			next(p);
			n->c = parse_expr(p);
		}
		else if (p->t->mode == FI_MODE_PYTHON)
			syntax(p, peek(p)->pos, "expected 'else' after 'if' expression%s", NULL);
		body = n;
	}
	p->depth--;
	return body;
}

/* ------------------------------------------------------------ templates */

static void
emit(P *p, FiNode *body, FiNode *stmt)
{
	if (body->nkids == body->cap)
	{
		int			ncap = body->nkids ? body->nkids * 2 : 8;
		FiNode	  **nk = fi_alloc(p->t, sizeof(FiNode *) * ncap);

		if (body->nkids)
			memcpy(nk, body->kids, sizeof(FiNode *) * body->nkids);
		body->kids = nk;
		body->cap = ncap;
	}
	body->kids[body->nkids++] = stmt;
}

static void
text_node(P *p, FiNode *body, size_t start, size_t end, bool lstrip, bool rstrip)
{
	FiBuf		b = {0};
	FiNode	   *n;

	if (lstrip)
		while (start < end && is_ws(p->s[start]))
			start++;
	if (rstrip)
		while (end > start && is_ws(p->s[end - 1]))
			end--;
	if (start >= end)
		return;
	/* newlines become '\n' */
	for (size_t i = start; i < end; i++)
	{
		if (p->s[i] == '\r')
		{
			fi_buf_putc(p->t, &b, '\n');
			if (i + 1 < end && p->s[i + 1] == '\n')
				i++;
		}
		else
		{
			size_t		j = i;

			while (j < end && p->s[j] != '\r')
				j++;
			fi_buf_put(p->t, &b, p->s + i, j - i);
			i = j - 1;
		}
	}
	n = mk(p, S_TEXT, (int) start);
	n->val = fi_new(p->t, FV_STR);
	n->val->u.s.p = b.p;
	n->val->u.s.n = b.n;
	emit(p, body, n);
}

/* find the next tag opening at or after i: returns its offset or n */
static size_t
find_tag(P *p, size_t i)
{
	while (i + 1 < p->n)
	{
		const char *hit = memchr(p->s + i, '{', p->n - i - 1);

		if (hit == NULL)
			return p->n;
		i = hit - p->s;
		if (p->s[i + 1] == '{' || p->s[i + 1] == '%' || p->s[i + 1] == '#')
			return i;
		i++;
	}
	return p->n;
}

/*
 * "a, b, c" without parentheses (for targets' iterables, set values, print):
 * first is already parsed; more items follow each ','.  A trailing ',' is
 * allowed where trailing_ok (before '}}').
 */
static FiNode *
implicit_tuple(P *p, FiNode *first, FiNode *(*item) (P *p), bool trailing_ok)
{
	FiNode	   *tup;
	FiNode	   *items[64];
	int			k = 0;

	if (!is_op(p, ","))
		return first;
	tup = mk(p, N_TUPLE, first->pos);
	items[k++] = first;
	while (is_op(p, ","))
	{
		next(p);
		if (trailing_ok && peek(p)->type == T_VAR_END)
			break;
		if (k >= 64)
			syntax(p, peek(p)->pos, "too many items in a tuple%s", NULL);
		items[k++] = item(p);
	}
	tup->nkids = k;
	tup->kids = fi_alloc(p->t, sizeof(FiNode *) * k);
	memcpy(tup->kids, items, sizeof(FiNode *) * k);
	return tup;
}

static FiNode *parse_body(P *p, const char *const *ends, const char **ended);

static FiNode *
parse_target(P *p)
{
	FiNode	   *first;
	int			pos = peek(p)->pos;
	FiNode	   *items[16];
	int			k = 0;
	bool		paren = false;

	if (is_op(p, "("))
	{
		next(p);
		paren = true;
	}
	for (;;)
	{
		const char *nm = expect_name(p);

		first = mk(p, N_NAME, pos);
		first->name = nm;
		if (k >= 16)
			syntax(p, pos, "too many loop targets%s", NULL);
		items[k++] = first;
		if (!is_op(p, ","))
			break;
		next(p);
	}
	if (paren)
		expect_op(p, ")");
	if (k == 1)
		return items[0];
	{
		FiNode	   *n = mk(p, N_TUPLE, pos);

		n->nkids = k;
		n->kids = fi_alloc(p->t, sizeof(FiNode *) * k);
		memcpy(n->kids, items, sizeof(FiNode *) * k);
		return n;
	}
}

static void
expect_block_end(P *p)
{
	Tok			t = next(p);

	if (t.type != T_BLOCK_END)
		syntax(p, t.pos, "expected end of statement block, got '%s'", tokdesc(&t));
	p->lstrip_next = t.strip;
}

static const char *const end_if[] = {"elif", "else", "endif", NULL};
static const char *const end_if2[] = {"endif", NULL};
static const char *const end_for[] = {"else", "endfor", NULL};
static const char *const end_for2[] = {"endfor", NULL};
static const char *const end_set[] = {"endset", NULL};

static FiNode *
parse_if(P *p, int pos)
{
	FiNode	   *n = mk(p, S_IF, pos);
	const char *ended;

	n->a = parse_expr(p);
	expect_block_end(p);
	n->b = parse_body(p, end_if, &ended);
	if (strcmp(ended, "elif") == 0)
		n->c = parse_if(p, pos);
	else if (strcmp(ended, "else") == 0)
	{
		expect_block_end(p);
		n->c = parse_body(p, end_if2, &ended);
		expect_block_end(p);
	}
	else
		expect_block_end(p);
	return n;
}

static FiNode *
parse_statement(P *p, int pos)
{
	Tok			t = next(p);

	if (t.type != T_NAME)
		syntax(p, t.pos, "tag name expected%s", NULL);
	if (strcmp(t.s, "if") == 0)
		return parse_if(p, t.pos);
	if (strcmp(t.s, "for") == 0)
	{
		FiNode	   *n = mk(p, S_FOR, t.pos);
		const char *ended;

		n->d = parse_target(p);
		if (!is_name(p, "in"))
			syntax(p, peek(p)->pos, "expected 'in', got '%s'", tokdesc(peek(p)));
		next(p);
		/* the iterable: no conditional expression (its 'if' filters) */
		n->a = implicit_tuple(p, parse_or(p), parse_or, false);
		if (is_name(p, "if"))
		{
			FiNode	   *f;

			next(p);
			f = parse_expr(p);
			/* kept in ops as a node pointer */
			n->kwv = fi_alloc(p->t, sizeof(FiNode *));
			n->kwv[0] = f;
			n->nkw = 1;
		}
		if (is_name(p, "recursive"))
			syntax(p, peek(p)->pos, "recursive loops are not supported%s", NULL);
		expect_block_end(p);
		n->b = parse_body(p, end_for, &ended);
		if (strcmp(ended, "else") == 0)
		{
			expect_block_end(p);
			n->c = parse_body(p, end_for2, &ended);
		}
		expect_block_end(p);
		return n;
	}
	if (strcmp(t.s, "set") == 0)
	{
		FiNode	   *target;

		target = parse_target(p);
		if (target->kind == N_NAME && is_op(p, "."))
		{
			/* namespace attribute: set ns.attr = ... */
			FiNode	   *attr = mk(p, N_ATTR, peek(p)->pos);

			next(p);
			attr->a = target;
			attr->name = expect_name(p);
			target = attr;
		}
		if (is_op(p, "="))
		{
			FiNode	   *n = mk(p, S_SET, t.pos);

			next(p);
			n->b = target;
			n->a = implicit_tuple(p, parse_expr(p), parse_expr, false);
			expect_block_end(p);
			return n;
		}
		if (target->kind != N_NAME)
			syntax(p, t.pos, "a block assignment takes one name%s", NULL);
		{
			FiNode	   *n = mk(p, S_SETBLOCK, t.pos);
			const char *ended;

			n->b = target;
			if (is_op(p, "|"))
				syntax(p, peek(p)->pos, "filtered block assignment is not supported%s", NULL);
			expect_block_end(p);
			n->a = parse_body(p, end_set, &ended);
			expect_block_end(p);
			return n;
		}
	}
	{
		static const char *const known[] = {"macro", "call", "filter", "block", "extends",
			"include", "import", "from", "with", "autoescape", "do", "break", "continue",
		"trans", NULL};

		for (int k = 0; known[k]; k++)
			if (strcmp(t.s, known[k]) == 0)
				syntax(p, t.pos, "the '%s' tag is not supported in webhook templates", t.s);
	}
	(void) pos;
	syntax(p, t.pos, "Encountered unknown tag '%s'.", t.s);
	return NULL;
}

/*
 * Statements until one of the end tags; *ended gets the tag name that ended
 * the body, with the lexer just after that name (so the caller parses the
 * rest of that tag).  ends == NULL: the top level, ends at end of input.
 */
static FiNode *
parse_body(P *p, const char *const *ends, const char **ended)
{
	FiNode	   *body = mk(p, S_BODY, (int) p->i);
	int			open_pos = (int) p->i;

	enter(p, open_pos);
	for (;;)
	{
		size_t		tag = find_tag(p, p->i);
		bool		strip_before = tag + 2 < p->n && p->s[tag + 2] == '-';

		text_node(p, body, p->i, tag, p->lstrip_next, strip_before);
		p->lstrip_next = false;
		if (tag >= p->n)
		{
			if (ends)
			{
				char		msg[200];

				snprintf(msg, sizeof(msg),
						 "Unexpected end of template. Jinja was looking for the following tags: '%s'.",
						 ends[0]);
				for (int k = 1; ends[k]; k++)
					if (strcmp(ends[k], "endif") == 0 || strcmp(ends[k], "endfor") == 0)
						snprintf(msg, sizeof(msg),
								 "Unexpected end of template. Jinja was looking for the following tags: '%s'.",
								 ends[k]);
				syntax(p, (int) p->n, "%s", msg);
			}
			p->i = p->n;
			*ended = NULL;
			p->depth--;
			return body;
		}
		p->i = tag + 2;
		if (strip_before || (p->i < p->n && p->s[p->i] == '+'))
			p->i++;
		fi_step(p->t, (int) tag);
		if (p->s[tag + 1] == '#')
		{
			/* comment */
			const char *endc = NULL;

			for (size_t k = p->i; k + 1 < p->n; k++)
				if (p->s[k] == '#' && p->s[k + 1] == '}')
				{
					endc = p->s + k;
					break;
				}
			if (endc == NULL)
				syntax(p, (int) tag, "Missing end of comment tag%s", NULL);
			p->lstrip_next = endc > p->s + p->i && endc[-1] == '-';
			p->i = endc - p->s + 2;
			continue;
		}
		p->have = false;
		if (p->s[tag + 1] == '{')
		{
			FiNode	   *n = mk(p, S_PRINT, (int) tag);
			Tok			e;

			if (peek(p)->type == T_VAR_END)
				syntax(p, peek(p)->pos, "Expected an expression, got 'end of print statement'%s", NULL);
			n->a = implicit_tuple(p, parse_expr(p), parse_expr, true);
			e = next(p);
			if (e.type != T_VAR_END)
				syntax(p, e.pos, "expected token 'end of print statement', got '%s'", tokdesc(&e));
			p->lstrip_next = e.strip;
			emit(p, body, n);
			continue;
		}
		/* {% ... %} */
		{
			Tok		   *t = peek(p);

			if (t->type == T_NAME && ends)
				for (int k = 0; ends[k]; k++)
					if (strcmp(t->s, ends[k]) == 0)
					{
						*ended = ends[k];
						next(p);
						p->depth--;
						return body;
					}
			if (t->type == T_NAME && strcmp(t->s, "raw") == 0)
			{
				size_t		k;
				bool		found = false;

				next(p);
				expect_block_end(p);
				/* raw text up to {% endraw %} */
				for (k = p->i; k + 1 < p->n; k++)
				{
					if (p->s[k] == '{' && p->s[k + 1] == '%')
					{
						size_t		j = k + 2;
						bool		strip = false;

						if (j < p->n && p->s[j] == '-')
						{
							strip = true;
							j++;
						}
						while (j < p->n && is_ws(p->s[j]))
							j++;
						if (j + 6 <= p->n && memcmp(p->s + j, "endraw", 6) == 0)
						{
							size_t		e = j + 6;

							while (e < p->n && is_ws(p->s[e]))
								e++;
							if (e < p->n && p->s[e] == '-')
								e++;
							if (e + 1 < p->n && p->s[e] == '%' && p->s[e + 1] == '}')
							{
								text_node(p, body, p->i, k, p->lstrip_next, strip);
								p->lstrip_next = p->s[e - 1] == '-';
								p->i = e + 2;
								found = true;
								break;
							}
						}
					}
				}
				if (!found)
					syntax(p, (int) tag, "Missing end of raw directive%s", NULL);
				continue;
			}
			if (t->type == T_NAME && (strcmp(t->s, "endif") == 0 || strcmp(t->s, "endfor") == 0 ||
									  strcmp(t->s, "elif") == 0 || strcmp(t->s, "else") == 0 ||
									  strcmp(t->s, "endset") == 0))
				syntax(p, t->pos, "Encountered unknown tag '%s'.", t->s);
			emit(p, body, parse_statement(p, (int) tag));
		}
	}
}

FiNode *
fi_parse_template(FiTpl *t, const char *src, size_t n)
{
	P			p;
	const char *ended;

	memset(&p, 0, sizeof(p));
	p.t = t;
	/* keep_trailing_newline=False: one final newline goes */
	if (n >= 2 && src[n - 2] == '\r' && src[n - 1] == '\n')
		n -= 2;
	else if (n >= 1 && (src[n - 1] == '\n' || src[n - 1] == '\r'))
		n -= 1;
	p.s = src;
	p.n = n;
	t->mode = FI_MODE_JINJA;
	return parse_body(&p, NULL, &ended);
}

FiNode *
fi_parse_expression(FiTpl *t, const char *src, size_t n)
{
	P			p;
	FiNode	   *e;
	Tok		   *tk;

	memset(&p, 0, sizeof(p));
	p.t = t;
	p.s = src;
	p.n = n;
	t->mode = FI_MODE_PYTHON;
	if (peek(&p)->type == T_EOF)
		syntax(&p, 0, "the condition is empty%s", NULL);
	e = parse_expr(&p);
	tk = peek(&p);
	if (tk->type != T_EOF)
		syntax(&p, tk->pos, "invalid syntax at '%s'", tokdesc(tk));
	return e;
}
