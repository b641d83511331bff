/*
 * tpl.h
 *		Frappe's Jinja templates and webhook conditions, evaluated in C.
 *
 * A pure engine (no server state): the caller makes a session (FiTpl) that
 * owns every allocation in one arena, builds the context from values or from
 * JSON text, renders a template or evaluates a condition, and frees the
 * session.  Errors never leave through longjmp: every entry point returns
 * FI_TPL_OK or an error code, with the line, column and message kept in the
 * session (fi_tpl_errmsg).
 *
 * Semantics are those of Frappe v15: Jinja2 3.1's SandboxedEnvironment with
 * DebugUndefined and Frappe's filters (json, len, int, str, flt) for
 * templates; Python's eval over {doc, utils, int, float, long, round} for
 * conditions; Python's json.dumps for JSON text.  test/template/ proves it
 * against python3-jinja2 and CPython.
 */
#ifndef FI_TPL_H
#define FI_TPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct FiTpl FiTpl;
typedef struct FiVal FiVal;

/* result codes */
#define FI_TPL_OK		0
#define FI_TPL_ESYNTAX	1		/* the template or condition does not parse */
#define FI_TPL_EVALUE	2		/* it parses, but evaluating it failed */
#define FI_TPL_ELIMIT	3		/* a bound (memory, output, depth, steps) */
#define FI_TPL_ECANCEL	4		/* the interrupted() callback said stop */

typedef struct FiTplOptions
{
	size_t		max_memory;		/* bytes the session may allocate */
	size_t		max_output;		/* bytes of rendered text */
	int			max_depth;		/* nesting of expressions and blocks */
	int64_t		max_steps;		/* evaluation steps (loop bodies, nodes) */
	int64_t		now_usec;		/* site wall clock: microseconds since
								 * 1970-01-01 00:00 local time, for now(),
								 * nowdate(), today(), getdate() */
	bool		(*interrupted) (void *arg);	/* polled now and then; may be
											 * NULL */
	void	   *interrupt_arg;
} FiTplOptions;

/* sensible bounds for a webhook payload */
extern void fi_tpl_default_options(FiTplOptions *opt);

/* a session; NULL only when malloc fails */
extern FiTpl *fi_tpl_new(const FiTplOptions *opt);
extern void fi_tpl_free(FiTpl *t);

/* the last error: code, 1-based line and column (0 when not positional) */
extern int	fi_tpl_errcode(const FiTpl *t);
extern const char *fi_tpl_errmsg(const FiTpl *t);
extern int	fi_tpl_errline(const FiTpl *t);
extern int	fi_tpl_errcol(const FiTpl *t);

/*
 * Context values.  Strings are UTF-8 and copied.  Dicts keep insertion
 * order; setting an existing key replaces its value in place.
 */
extern FiVal *fi_val_none(FiTpl *t);
extern FiVal *fi_val_bool(FiTpl *t, bool b);
extern FiVal *fi_val_int(FiTpl *t, int64_t i);
extern FiVal *fi_val_float(FiTpl *t, double d);
extern FiVal *fi_val_str(FiTpl *t, const char *s, size_t len);
/* a float from decimal text (numeric output), as Frappe reads numerics */
extern FiVal *fi_val_float_text(FiTpl *t, const char *s, size_t len);
extern FiVal *fi_val_list(FiTpl *t);
extern FiVal *fi_val_dict(FiTpl *t);
extern FiVal *fi_val_date(FiTpl *t, int year, int month, int day);
extern FiVal *fi_val_datetime(FiTpl *t, int year, int month, int day,
							  int hour, int minute, int second, int usec);
extern void fi_val_append(FiTpl *t, FiVal *list, FiVal *v);
extern void fi_val_set(FiTpl *t, FiVal *dict, const char *key, size_t klen,
					   FiVal *v);

/*
 * Mark every dict inside v (through lists) as a document: in templates a
 * missing field then reads as None (frappe._dict), in conditions doc.field
 * is attribute access on a Document.  The SQL face marks its context.
 */
extern void fi_val_as_documents(FiVal *v);

/* reading values back: a dict member (NULL when absent), a str's bytes, an int */
extern FiVal *fi_val_member(FiVal *dict, const char *key);
extern const char *fi_val_text(FiVal *v, size_t *len);
extern bool fi_val_get_int(FiVal *v, int64_t *out);	/* an int (or bool) */

/* what a value is (for a caller walking parsed JSON); the other kinds are the engine's own */
typedef enum FiValKind
{
	FI_VK_NONE,
	FI_VK_BOOL,
	FI_VK_INT,
	FI_VK_FLOAT,
	FI_VK_STR,
	FI_VK_LIST,
	FI_VK_DICT,
	FI_VK_OTHER
} FiValKind;
extern FiValKind fi_val_kind(FiVal *v);
extern bool fi_val_get_bool(FiVal *v, bool *out);	/* a bool */
extern bool fi_val_get_float(FiVal *v, double *out);	/* a float or an int */
/* a list's items or a dict's members: how many (0 for any other), the i-th (NULL past the end) */
extern int	fi_val_count(FiVal *v);
extern FiVal *fi_val_item(FiVal *list, int i);
extern FiVal *fi_val_key_at(FiVal *dict, int i);
extern FiVal *fi_val_value_at(FiVal *dict, int i);

/*
 * JSON text (Python's json.loads: ints stay ints, floats become doubles,
 * NaN/Infinity accepted, duplicate keys: last value at the first position).
 * Returns FI_TPL_OK and *out, or FI_TPL_EVALUE with the position.
 */
extern int	fi_tpl_from_json(FiTpl *t, const char *json, size_t len, FiVal **out);

/* json.dumps(v) with Python's defaults; the text lives in the session */
extern int	fi_tpl_dumps(FiTpl *t, FiVal *v, const char **out, size_t *outlen);

/* json.dumps(json.loads(text)): Frappe's normalisation of a rendered body */
extern int	fi_tpl_normalize_json(FiTpl *t, const char *json, size_t len,
								  const char **out, size_t *outlen);

/*
 * Render a Jinja template; ctx is a dict (or NULL) whose keys become the
 * template's names, over the globals (utils, frappe.utils, range, ...).
 */
extern int	fi_tpl_render(FiTpl *t, const char *src, size_t len, FiVal *ctx,
						  const char **out, size_t *outlen);

/* Evaluate a webhook condition (a Python expression); *result = truthiness */
extern int	fi_tpl_condition(FiTpl *t, const char *src, size_t len, FiVal *ctx,
							 bool *result);

/*
 * Which keys of the context variable var a template (or a condition) reads:
 * the names used as var.NAME or var["NAME"]; *whole when var is used in any
 * other way (passed on, iterated, filtered, a method called...), so all of
 * it may be read.  A caller building var may then fill only those keys.
 */
extern int	fi_tpl_var_fields(FiTpl *t, const char *src, size_t len, bool condition,
							  const char *var, const char ***names, int *n, bool *whole);

#endif							/* FI_TPL_H */
