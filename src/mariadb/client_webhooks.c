/*
 * client_webhooks.c
 *		frappe-integrations webhook-pending: what a site's outbox holds, as
 *		the worker delivers it.  The captured rows of each committed
 *		transaction (one transaction: the rows of one connection_id and trx,
 *		numbered by its last row's id) are folded
 *		per document with Frappe's rules (engine/webhookev.c: the events of a
 *		row change, a child row as its parent's save, once per document and
 *		event in a transaction), then matched with the site's enabled webhooks
 *		by DocType and event.  One JSON line per document, then a summary line.
 *		Conditions are not evaluated here (they need the document): a webhook
 *		with one says so.
 *
 *		frappe-integrations webhook-preview: what one webhook would send for a
 *		document now (PostgreSQL's webhook_preview, the same JSON), from the
 *		rules of engine/webhookreq.c.
 *
 * Order: transactions by their last captured row.  Two transactions that
 * changed the same document's row were serialised by its row lock, so for
 * each document this is the order of their commits.
 */
#include "mariadb/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/jsoncanon.h"
#include "engine/webhookev.h"
#include "engine/webhookreq.h"

typedef struct Hook
{
	const char *name;
	const char *doctype;
	uint32_t	event;
	bool		condition;
} Hook;

static void
put_str(FiJBuf *j, const char *s)
{
	if (!fi_json_put_string(j, s, strlen(s)))
		fc_fail("53200", NULL, NULL, "out of memory");
}

static void
put(FiJBuf *j, const char *s)
{
	if (!fi_jbuf_put(j, s, strlen(s)))
		fc_fail("53200", NULL, NULL, "out of memory");
}

static int
int_or(const char *s, int dflt)
{
	return s ? atoi(s) : dflt;
}

/* has_row and docstatus of a document's row now (only child rows were captured) */
void
fc_doc_row(MYSQL *conn, FcArena *a, const char *doctype, const char *name, bool *has_row, int *docstatus)
{
	MYSQL_RES  *res;
	MYSQL_ROW	r;
	char	   *sql = fc_printf(a, "SELECT docstatus FROM %s WHERE name = %s",
								fc_ident(a, fc_printf(a, "tab%s", doctype)), fc_literal(a, conn, name));

	*has_row = false;
	*docstatus = 0;
	if (mysql_query(conn, sql) != 0)
	{
		/* a child row claiming a parent DocType without a table: nothing to read */
		if (mysql_errno(conn) == 1146)
			return;
		fc_fail_mysql(conn, "reading a document's row");
	}
	res = mysql_store_result(conn);
	if (res == NULL)
		fc_fail_mysql(conn, "reading a document's row");
	if ((r = mysql_fetch_row(res)) != NULL)
	{
		*has_row = true;
		*docstatus = int_or(r[0], 0);
	}
	mysql_free_result(res);
}

int
fc_webhook_pending_main(MYSQL *conn, FcArena *a, int limit)
{
	MYSQL_RES  *res;
	MYSQL_ROW	r;
	Hook	   *hooks;
	int			nhooks = 0;
	my_ulonglong nrows;
	FiRowChange *rows;
	unsigned long long *trx;
	FiDocChange *docs;
	FiJBuf		j = {0};
	long long	ntrx = 0,
				ndocs = 0,
				ndeliveries = 0;

	if (limit <= 0)
		fc_fail("22023", NULL, NULL, "--limit must be a positive number of transactions");
	res = fc_query(conn, "SELECT name, webhook_doctype, webhook_docevent, COALESCE(`condition`, '') <> '' "
				   "FROM tabWebhook WHERE enabled = 1 ORDER BY name", "reading tabWebhook");
	hooks = fc_alloc(a, sizeof(Hook) * (mysql_num_rows(res) + 1));
	while ((r = mysql_fetch_row(res)) != NULL)
	{
		if (r[0] == NULL || r[1] == NULL || fi_event_bit(r[2]) == 0)
			continue;			/* webhook_status reports it */
		hooks[nhooks].name = fc_strndup(a, r[0], strlen(r[0]));
		hooks[nhooks].doctype = fc_strndup(a, r[1], strlen(r[1]));
		hooks[nhooks].event = fi_event_bit(r[2]);
		hooks[nhooks].condition = r[3] && strcmp(r[3], "1") == 0;
		nhooks++;
	}
	mysql_free_result(res);

	/* the rows of the first `limit` transactions, each transaction's rows together */
	res = fc_query(conn, fc_printf(a,
								   "SELECT t.last_id, o.op, o.doctype, o.name, o.old_name, o.docstatus_old, o.docstatus_new, "
								   "o.parent, o.parenttype "
								   FC_OUTBOX_TRANSACTIONS, limit),
				   "reading __fi_webhook_outbox");
	nrows = mysql_num_rows(res);
	rows = fc_alloc(a, sizeof(FiRowChange) * (nrows + 1));
	trx = fc_alloc(a, sizeof(unsigned long long) * (nrows + 1));
	docs = fc_alloc(a, sizeof(FiDocChange) * 2 * (nrows + 1));
	for (my_ulonglong i = 0; (r = mysql_fetch_row(res)) != NULL; i++)
	{
		FiRowChange *c = &rows[i];

		trx[i] = r[0] ? strtoull(r[0], NULL, 10) : 0;
		c->op = r[1] && r[1][0] == 'I' ? FI_ROW_INSERT : r[1] && r[1][0] == 'U' ? FI_ROW_UPDATE : FI_ROW_DELETE;
		c->doctype = r[2];
		c->name = r[3];
		c->old_name = r[4];
		c->docstatus_old = int_or(r[5], 0);
		c->docstatus_new = int_or(r[6], 0);
		c->parent = r[7];
		c->parenttype = r[8];
	}

	for (my_ulonglong start = 0; start < nrows;)
	{
		my_ulonglong end = start;
		int			nd;

		while (end < nrows && trx[end] == trx[start])
			end++;
		ntrx++;
		nd = fi_fold_changes(rows + start, (int) (end - start), docs, fc_alloc, a);
		for (int d = 0; d < nd; d++)
		{
			FiDocChange *dc = &docs[d];
			bool		has_row = dc->has_row;
			int			docstatus = dc->docstatus;
			uint32_t	ev;
			bool		first = true;

			if (dc->row_change < 0)
				fc_doc_row(conn, a, dc->doctype, dc->name, &has_row, &docstatus);
			ev = fi_events_at_commit(dc->noted, has_row, docstatus);
			if (ev == 0)
				continue;		/* a rename's old name: nothing of its own */
			ndocs++;
			j.len = 0;
			put(&j, fc_printf(a, "{\"transaction\": %llu, \"doctype\": ", trx[start]));
			put_str(&j, dc->doctype);
			put(&j, ", \"name\": ");
			put_str(&j, dc->name);
			put(&j, ", \"events\": [");
			for (uint32_t bit = 1; bit <= FI_EV_ON_CHANGE; bit <<= 1)
				if (ev & bit)
				{
					put(&j, first ? "\"" : ", \"");
					put(&j, fi_event_name(bit));
					put(&j, "\"");
					first = false;
				}
			put(&j, fc_printf(a, "], \"row\": \"%s\", \"webhooks\": [",
							  !has_row ? "gone" : dc->row_change < 0 ? "read now" : "at commit"));
			first = true;
			for (int h = 0; h < nhooks; h++)
			{
				if ((hooks[h].event & ev) == 0 || strcmp(hooks[h].doctype, dc->doctype) != 0)
					continue;
				/* a document gone at commit is delivered only to on_trash */
				if (!has_row && hooks[h].event != FI_EV_ON_TRASH)
					continue;
				put(&j, first ? "{\"name\": " : ", {\"name\": ");
				put_str(&j, hooks[h].name);
				put(&j, ", \"event\": \"");
				put(&j, fi_event_name(hooks[h].event));
				put(&j, hooks[h].condition ? "\", \"condition\": true}" : "\", \"condition\": false}");
				first = false;
				ndeliveries++;
			}
			put(&j, "]}\n");
			fwrite(j.data, 1, j.len, stdout);
		}
		start = end;
	}
	mysql_free_result(res);
	fi_jbuf_free(&j);
	printf("{\"transactions\": %lld, \"documents\": %lld, \"deliveries\": %lld}\n", ntrx, ndocs, ndeliveries);
	if (fflush(stdout) != 0)
		fc_fail("58030", NULL, NULL, "could not write the output");
	return 0;
}

/* the site's now as Frappe's: System Settings' time zone, else UTC; microseconds of the naive local time */
long long
fc_site_now_usec(MYSQL *conn)
{
	MYSQL_RES  *res = fc_query(conn,
							   "SELECT TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', "
							   "COALESCE((SELECT CONVERT_TZ(UTC_TIMESTAMP(6), '+00:00', z.value) FROM tabSingles z "
							   "WHERE z.doctype = 'System Settings' AND z.field = 'time_zone' LIMIT 1), UTC_TIMESTAMP(6)))",
							   "reading the site's time");
	MYSQL_ROW	r = mysql_fetch_row(res);
	long long	v = r && r[0] ? strtoll(r[0], NULL, 10) : 0;

	mysql_free_result(res);
	return v;
}

/* a Webhook Header / Webhook Data child table's (a, b) rows of the webhook, in order */
static int
child_rows(MYSQL *conn, FcArena *a, const char *table, const char *ca, const char *cb, const char *webhook,
		   const char ***va, const char ***vb)
{
	MYSQL_RES  *res;
	MYSQL_ROW	r;
	int			n = 0;

	res = fc_query(conn, fc_printf(a, "SELECT %s, %s FROM %s WHERE parenttype = 'Webhook' AND BINARY parent = BINARY %s "
								   "ORDER BY idx", fc_ident(a, ca), fc_ident(a, cb), fc_ident(a, table),
								   fc_literal(a, conn, webhook)),
				   "reading the webhook's rows");
	*va = fc_alloc(a, sizeof(char *) * (mysql_num_rows(res) + 1));
	*vb = fc_alloc(a, sizeof(char *) * (mysql_num_rows(res) + 1));
	while ((r = mysql_fetch_row(res)) != NULL)
	{
		(*va)[n] = r[0] ? fc_strndup(a, r[0], strlen(r[0])) : NULL;
		(*vb)[n] = r[1] ? fc_strndup(a, r[1], strlen(r[1])) : NULL;
		n++;
	}
	mysql_free_result(res);
	return n;
}

static char *
col_dup(FcArena *a, const char *s)
{
	return s ? fc_strndup(a, s, strlen(s)) : NULL;
}

/*
 * The webhooks of tabWebhook (only: that one, else the enabled ones), with
 * their Webhook Header and Webhook Data rows, in name order.
 */
int
fc_webhooks_load(MYSQL *conn, FcArena *a, const char *only, FcWebhook **out)
{
	MYSQL_RES  *res;
	MYSQL_ROW	r;
	FcWebhook  *w;
	int			n = 0;
	bool		has_timeout = fc_column_exists(conn, a, "tabWebhook", "timeout");

	res = fc_query(conn, fc_printf(a, "SELECT name, webhook_doctype, webhook_docevent, `condition`, request_url, "
								   "is_dynamic_url, webhook_json, request_method, enable_security, %s "
								   "FROM tabWebhook WHERE %s ORDER BY name",
								   has_timeout ? "timeout" : "5",
								   only ? fc_printf(a, "BINARY name = BINARY %s", fc_literal(a, conn, only))
								   : "enabled = 1"),
				   "reading tabWebhook");
	w = fc_alloc(a, sizeof(FcWebhook) * (mysql_num_rows(res) + 1));
	while ((r = mysql_fetch_row(res)) != NULL)
	{
		FcWebhook  *h = &w[n++];
		int			timeout = r[9] ? atoi(r[9]) : 5;

		h->def.name = col_dup(a, r[0]);
		h->doctype = col_dup(a, r[1]);
		h->def.docevent = col_dup(a, r[2]);
		h->event = fi_event_bit(r[2]);
		h->def.condition = col_dup(a, r[3]);
		h->has_condition = !fi_webhook_blank(r[3]);
		h->def.request_url = col_dup(a, r[4]);
		h->def.is_dynamic_url = r[5] && atoi(r[5]) != 0;
		h->def.webhook_json = col_dup(a, r[6]);
		h->method = fi_webhook_blank(r[7]) ? "POST" : col_dup(a, r[7]);
		h->secured = r[8] && atoi(r[8]) != 0;
		/* Frappe's timeout field, seconds (5 when unset), at most an hour */
		h->timeout_ms = (timeout <= 0 ? 5 : timeout > 3600 ? 3600 : timeout) * 1000;
	}
	mysql_free_result(res);
	for (int i = 0; i < n; i++)
	{
		FcWebhook  *h = &w[i];

		h->def.nheaders = child_rows(conn, a, "tabWebhook Header", "key", "value", h->def.name,
									 (const char ***) &h->def.header_keys, (const char ***) &h->def.header_values);
		h->def.ndata = child_rows(conn, a, "tabWebhook Data", "fieldname", "key", h->def.name,
								  (const char ***) &h->def.data_fieldnames, (const char ***) &h->def.data_keys);
	}
	*out = w;
	return n;
}

int
fc_webhook_preview_main(MYSQL *conn, FcArena *a, const char *webhook, const char *docname)
{
	FcWebhook  *w;
	FiWebhookDef h;
	const char *doctype,
			   *method;
	bool		secured;
	const FiDocMeta *meta;
	FiTplOptions o;
	FiTpl	   *t;
	FiVal	   *doc,
			   *cdoc;
	FiWebhookReq rq;
	FiJBuf		j = {0};
	FiJBuf		canon = {0};
	FiJsonRoot	root;
	char		msg[128];

	if (fc_webhooks_load(conn, a, webhook, &w) == 0)
		fc_fail("42704", NULL, "Webhooks are the rows of tabWebhook.", "webhook \"%s\" does not exist", webhook);
	h = w[0].def;
	doctype = w[0].doctype;
	method = w[0].method;
	secured = w[0].secured;
	meta = doctype ? fc_meta(conn, a, doctype) : NULL;
	if (meta == NULL || !fc_meta_in_table(conn, a, meta, "name"))
		fc_fail("42P01", NULL, NULL, "webhook \"%s\" is for DocType \"%s\", which has no table",
				webhook, doctype ? doctype : "");
	fi_tpl_default_options(&o);
	o.now_usec = fc_site_now_usec(conn);
	if ((t = fi_tpl_new(&o)) == NULL)
		fc_fail("53200", NULL, NULL, "out of memory");
	doc = fc_read_doc(conn, a, t, meta, docname, true);
	cdoc = fc_read_doc(conn, a, t, meta, docname, false);
	if (doc == NULL || cdoc == NULL)
		fc_fail("02000", NULL, NULL, "%s \"%s\" does not exist", doctype, docname);
	fi_val_as_documents(doc);
	fi_val_as_documents(cdoc);
	fi_webhook_request(t, &h, doc, cdoc, &rq, fc_alloc, a);

	put(&j, "{\"webhook\": ");
	put_str(&j, h.name);
	put(&j, ", \"event\": ");
	put_str(&j, h.docevent ? h.docevent : "");
	put(&j, rq.skip ? ", \"meets_condition\": false" : ", \"meets_condition\": true");
	if (!rq.skip)
	{
		put(&j, ", \"method\": ");
		put_str(&j, method);
		if (rq.url)
		{
			put(&j, ", \"url\": ");
			put_str(&j, rq.url);
		}
		if (rq.error)
		{
			put(&j, ", \"error\": ");
			put_str(&j, rq.error);
		}
		else
		{
			put(&j, ", \"headers\": ");
			put(&j, rq.headers);
			put(&j, secured ? ", \"signed\": true, \"body\": " : ", \"signed\": false, \"body\": ");
			if (!fi_json_put_string(&j, rq.body, rq.bodylen))
				fc_fail("53200", NULL, NULL, "out of memory");
		}
	}
	put(&j, "}");
	/* the text PostgreSQL's jsonb prints for it */
	if (fi_json_canon(j.data, j.len, true, 10000, &canon, &root, msg, sizeof(msg)) != FI_JSON_OK)
		fc_fail("22P02", msg, NULL, "the preview of webhook \"%s\" did not make JSON", webhook);
	fwrite(canon.data, 1, canon.len, stdout);
	fputc('\n', stdout);
	fi_jbuf_free(&canon);
	fi_jbuf_free(&j);
	fi_tpl_free(t);
	if (fflush(stdout) != 0)
		fc_fail("58030", NULL, NULL, "could not write the output");
	return 0;
}
