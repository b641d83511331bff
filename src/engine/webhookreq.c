/*
 * webhookreq.c
 *		What one webhook sends for one document (see webhookreq.h).
 */
#include "engine/webhookreq.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/jsoncanon.h"

static char *
fmt(FiAlloc alloc, void *arg, const char *f,...) __attribute__((format(printf, 3, 4)));

static char *
fmt(FiAlloc alloc, void *arg, const char *f,...)
{
	va_list		ap;
	int			n;
	char	   *o;

	va_start(ap, f);
	n = vsnprintf(NULL, 0, f, ap);
	va_end(ap);
	o = alloc(arg, (size_t) (n > 0 ? n : 0) + 1);
	va_start(ap, f);
	vsnprintf(o, (size_t) (n > 0 ? n : 0) + 1, f, ap);
	va_end(ap);
	return o;
}

static char *
dup(FiAlloc alloc, void *arg, const char *s, size_t n)
{
	return fi_alloc_strndup(alloc, arg, s, n);
}

bool
fi_webhook_blank(const char *s)
{
	if (s == NULL)
		return true;
	for (; *s; s++)
		if (!isspace((unsigned char) *s))
			return false;
	return true;
}

const char *
fi_webhook_url_problem(const char *url)
{
	const char *p;

	if (fi_webhook_blank(url))
		return "the request URL is empty";
	if (strncasecmp(url, "https://", 8) == 0)
		p = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		p = url + 7;
	else
		return "the request URL must start with http:// or https://";
	if (*p == '\0' || *p == '/' || *p == '?' || *p == '#' || *p == ':')
		return "the request URL has no host";
	for (; *p; p++)
		if ((unsigned char) *p <= ' ' || *p == 0x7f)
			return "the request URL contains a space or control character";
	return NULL;
}

char *
fi_webhook_header_problem(const char *key, const char *value, FiAlloc alloc, void *arg)
{
	(void) value;
	if (strpbrk(key, "\r\n:"))
		return fmt(alloc, arg, "the header name \"%s\" contains a line break or a colon", key);
	return fmt(alloc, arg, "the value of header \"%s\" contains a line break", key);
}

static char *
engine_error(FiTpl *t, const char *what, FiAlloc alloc, void *arg)
{
	if (fi_tpl_errline(t) > 0)
		return fmt(alloc, arg, "%s: %s (line %d, column %d)", what, fi_tpl_errmsg(t),
				   fi_tpl_errline(t), fi_tpl_errcol(t));
	return fmt(alloc, arg, "%s: %s", what, fi_tpl_errmsg(t));
}

static FiVal *
context(FiTpl *t, FiVal *doc, const char *event)
{
	FiVal	   *ctx = fi_val_dict(t);

	if (ctx == NULL)
		return NULL;
	fi_val_set(t, ctx, "doc", 3, doc);
	if (event)
		fi_val_set(t, ctx, "event", 5, fi_val_str(t, event, strlen(event)));
	return ctx;
}

/* [[k, v], ...] of the rows with a key and a value; false (rq->error) for a row that cannot be sent */
static bool
headers(const FiWebhookDef *h, FiWebhookReq *rq, FiAlloc alloc, void *arg)
{
	FiJBuf		b = {0};
	bool		any = false;

	fi_jbuf_put(&b, "[", 1);
	for (int i = 0; i < h->nheaders; i++)
	{
		const char *k = h->header_keys[i],
				   *v = h->header_values[i];

		if (fi_webhook_blank(k) || v == NULL || v[0] == '\0')
			continue;
		if (strpbrk(k, "\r\n:") || strpbrk(v, "\r\n"))
		{
			rq->error = fi_webhook_header_problem(k, v, alloc, arg);
			fi_jbuf_free(&b);
			return false;
		}
		if (any)
			fi_jbuf_put(&b, ", ", 2);
		any = true;
		fi_jbuf_put(&b, "[", 1);
		fi_json_put_string(&b, k, strlen(k));
		fi_jbuf_put(&b, ", ", 2);
		fi_json_put_string(&b, v, strlen(v));
		fi_jbuf_put(&b, "]", 1);
	}
	fi_jbuf_put(&b, "]", 1);
	if (b.oom)
	{
		rq->error = fmt(alloc, arg, "out of memory");
		fi_jbuf_free(&b);
		return false;
	}
	rq->headers = dup(alloc, arg, b.data, b.len);
	fi_jbuf_free(&b);
	return true;
}

void
fi_webhook_request(FiTpl *t, const FiWebhookDef *h, FiVal *doc, FiVal *cond_doc,
				   FiWebhookReq *rq, FiAlloc alloc, void *arg)
{
	const char *event = h->docevent ? h->docevent : "";
	FiVal	   *ctx;

	memset(rq, 0, sizeof(*rq));
	if (!fi_webhook_blank(h->condition))
	{
		bool		ok;

		ctx = context(t, cond_doc, NULL);
		if (ctx == NULL || fi_tpl_condition(t, h->condition, strlen(h->condition), ctx, &ok) != FI_TPL_OK)
		{
			rq->error = engine_error(t, "condition", alloc, arg);
			return;
		}
		if (!ok)
		{
			rq->skip = true;
			return;
		}
	}
	ctx = context(t, doc, event);
	if (ctx == NULL)
	{
		rq->error = fmt(alloc, arg, "out of template memory");
		return;
	}
	/* URL */
	if (h->is_dynamic_url && h->request_url)
	{
		const char *out;
		size_t		outlen;

		if (fi_tpl_render(t, h->request_url, strlen(h->request_url), ctx, &out, &outlen) != FI_TPL_OK)
		{
			rq->error = engine_error(t, "request URL template", alloc, arg);
			return;
		}
		rq->url = dup(alloc, arg, out, outlen);
	}
	else
		rq->url = fmt(alloc, arg, "%s", h->request_url ? h->request_url : "");
	{
		const char *why = fi_webhook_url_problem(rq->url);

		if (why)
		{
			rq->error = fmt(alloc, arg, "%s", why);
			return;
		}
	}
	/* headers: the rows with a key and a value, in order (no secret here) */
	if (!headers(h, rq, alloc, arg))
		return;
	/* body (frappe-facts 1.6, 1.8) */
	if (h->ndata > 0)
	{
		FiVal	   *data = fi_val_dict(t);

		for (int i = 0; data && i < h->ndata; i++)
		{
			const char *f = h->data_fieldnames[i] ? h->data_fieldnames[i] : "";
			const char *k = h->data_keys[i] ? h->data_keys[i] : "";
			FiVal	   *v = fi_val_member(doc, f);

			fi_val_set(t, data, k, strlen(k), v ? v : fi_val_none(t));
		}
		if (data == NULL || fi_tpl_dumps(t, data, &rq->body, &rq->bodylen) != FI_TPL_OK)
		{
			rq->error = engine_error(t, "form data", alloc, arg);
			return;
		}
	}
	else if (!fi_webhook_blank(h->webhook_json))
	{
		const char *out;
		size_t		outlen;

		if (fi_tpl_render(t, h->webhook_json, strlen(h->webhook_json), ctx, &out, &outlen) != FI_TPL_OK)
		{
			rq->error = engine_error(t, "JSON template", alloc, arg);
			return;
		}
		if (fi_tpl_normalize_json(t, out, outlen, &rq->body, &rq->bodylen) != FI_TPL_OK)
		{
			rq->error = engine_error(t, "the rendered JSON template is not JSON", alloc, arg);
			return;
		}
	}
	else
	{
		rq->body = "{}";
		rq->bodylen = 2;
	}
	{
		FiVal	   *u = fi_val_member(doc, "modified_by");
		size_t		ul;
		const char *us = u ? fi_val_text(u, &ul) : NULL;

		rq->user = us ? dup(alloc, arg, us, ul) : NULL;
	}
}

/* ---- the keys of doc the webhooks read ---- */

typedef struct FieldList
{
	const char **v;
	int			n,
				cap;
	FiAlloc		alloc;
	void	   *arg;
} FieldList;

static bool
field_add(FieldList *l, const char *name)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return true;
	if (l->n == l->cap)
	{
		const char **more = l->alloc(l->arg, sizeof(char *) * (l->cap = l->cap ? 2 * l->cap : 16));

		if (more == NULL)
			return false;
		if (l->n)
			memcpy(more, l->v, sizeof(char *) * l->n);
		l->v = more;
	}
	l->v[l->n++] = name;
	return true;
}

/* a key of a document's dict: a standard one, or a field with a column or child rows */
static bool
doc_key(const FiDocMeta *meta, const char *name)
{
	static const char *const std[] = {"doctype", "name", "owner", "creation", "modified",
	"modified_by", "docstatus", "idx", "parent", "parentfield", "parenttype"};
	const FiDocField *df;

	for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++)
		if (strcmp(std[i], name) == 0)
			return true;
	df = fi_meta_field(meta, name);
	return df != NULL && !df->is_virtual &&
		(fi_fieldtype_has_column(df->fieldtype) || fi_fieldtype_is_table(df->fieldtype));
}

static bool
uses_add(FiTpl *t, const FiDocMeta *meta, const char *src, bool condition, FieldList *l)
{
	const char **names;
	int			nn;
	bool		whole;

	if (fi_webhook_blank(src))
		return true;
	if (fi_tpl_var_fields(t, src, strlen(src), condition, "doc", &names, &nn, &whole) != FI_TPL_OK || whole)
		return false;
	for (int i = 0; i < nn; i++)
	{
		char	   *copy;

		/* a method, or a name no field has: all of it */
		if (!doc_key(meta, names[i]) ||
			(copy = fi_alloc_strndup(l->alloc, l->arg, names[i], strlen(names[i]))) == NULL ||
			!field_add(l, copy))
			return false;
	}
	return true;
}

bool
fi_webhook_doc_fields(FiTpl *t, const FiWebhookDef *const *defs, int ndefs, const FiDocMeta *meta,
					  const char ***fields, int *n, FiAlloc alloc, void *arg)
{
	FieldList	l = {.alloc = alloc, .arg = arg};

	*fields = NULL;
	*n = 0;
	if (!field_add(&l, "name") || !field_add(&l, "docstatus") || !field_add(&l, "modified_by"))
		return false;
	for (int i = 0; i < ndefs; i++)
	{
		const FiWebhookDef *h = defs[i];

		if (!uses_add(t, meta, h->condition, true, &l) ||
			(h->ndata == 0 && !uses_add(t, meta, h->webhook_json, false, &l)) ||
			(h->is_dynamic_url && !uses_add(t, meta, h->request_url, false, &l)))
			return false;
		for (int j = 0; j < h->ndata; j++)
			if (h->data_fieldnames[j] && !field_add(&l, h->data_fieldnames[j]))
				return false;
	}
	*fields = l.v;
	*n = l.n;
	return true;
}
