/*
 * webhook_sync.c
 *		Keeping the capture triggers in step with tabWebhook, and the SQL
 *		face of the configuration: sync_webhooks(), webhook_problem() (what
 *		webhook_status shows), webhook_preview().
 *
 * A DocType with an enabled webhook gets the row trigger
 * frappe_integrations_webhook on its table, and each of its child tables
 * (Table fields) gets frappe_integrations_webhook_child.  A statement
 * trigger on tabWebhook re-syncs after every change of it; a failure there
 * (say the user may not create triggers) is a WARNING, never a refused write.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"

#include "frappe_integrations.h"
#include "webhook.h"

#define CAPTURE_TRIGGER		FI_CAPTURE_TRIGGER
#define CHILD_TRIGGER		FI_CHILD_TRIGGER
#define CONFIG_TRIGGER		"frappe_integrations_webhook_config"

typedef struct WantedTrigger
{
	Oid			relid;
	bool		child;
	bool		exists;
} WantedTrigger;

static int
want(WantedTrigger *w, int n, Oid relid, bool child)
{
	for (int i = 0; i < n; i++)
		if (w[i].relid == relid && w[i].child == child)
			return n;
	w[n].relid = relid;
	w[n].child = child;
	w[n].exists = false;
	return n + 1;
}

static bool trigger_on(Oid relid, const char *tgname);

static void
exec_utility(const char *sql)
{
	int			ret = SPI_execute(sql, false, 0);

	if (ret != SPI_OK_UTILITY)
		elog(ERROR, "\"%s\" failed: %s", sql, SPI_result_code_string(ret));
}

/*
 * Attach and detach capture triggers; returns how many changed.  The
 * caller has connected to SPI.
 */
static int
sync_triggers(void)
{
	FiWebhookConfig *cfg = fi_webhook_load_config(NULL);
	WantedTrigger *w;
	int			nw = 0,
				changed = 0,
				cap = 16;
	Oid			webhook_rel = fi_site_table_oid("tabWebhook", true);
	int			ret;

	if (!OidIsValid(webhook_rel))
		return 0;
	/* the triggers that keep every session told of configuration changes */
	{
		static const char *const tables[] = {"tabWebhook", "tabWebhook Header", "tabWebhook Data"};

		for (int i = 0; i < (int) lengthof(tables); i++)
		{
			Oid			rel = fi_site_table_oid(tables[i], true);

			if (!OidIsValid(rel) || fi_webhook_config_trigger_on(rel))
				continue;
			exec_utility(psprintf("CREATE TRIGGER " CONFIG_TRIGGER
								  " AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s"
								  " FOR EACH STATEMENT EXECUTE FUNCTION " FI_SCHEMA ".webhook_config_changed()",
								  fi_site_table(tables[i])));
			changed++;
		}
	}

	/* the triggers that note who configured each webhook (webhook_author) */
	if (fi_extension_relation("webhook_author"))
	{
		static const char *const tables[] = {"tabWebhook", "tabWebhook Header", "tabWebhook Data"};

		for (int i = 0; i < (int) lengthof(tables); i++)
		{
			Oid			rel = fi_site_table_oid(tables[i], true);

			if (!OidIsValid(rel) || trigger_on(rel, FI_AUTHOR_TRIGGER))
				continue;
			exec_utility(psprintf("CREATE TRIGGER " FI_AUTHOR_TRIGGER
								  " AFTER INSERT OR UPDATE ON %s FOR EACH ROW"
								  " EXECUTE FUNCTION " FI_SCHEMA ".webhook_author_noted(%s)",
								  fi_site_table(tables[i]), i == 0 ? "" : "'child'"));
			changed++;
		}
	}
	w = palloc(sizeof(WantedTrigger) * cap);
	for (int i = 0; i < cfg->n; i++)
	{
		FiWebhook  *h = &cfg->hooks[i];
		const FiDocMeta *meta;
		Oid			relid;

		if (!h->enabled || h->doctype == NULL)
			continue;
		relid = fi_site_table_oid(psprintf("tab%s", h->doctype), true);
		if (!OidIsValid(relid))
			continue;			/* reported by webhook_status */
		meta = fi_get_meta(h->doctype, true);
		if (meta && meta->istable)
			continue;			/* Frappe saves child rows without run_method: never fired */
		if (nw + 1 + 64 > cap)
		{
			cap = (nw + 65) * 2;
			w = repalloc(w, sizeof(WantedTrigger) * cap);
		}
		nw = want(w, nw, relid, false);
		for (int f = 0; meta && f < meta->nfields && nw < cap; f++)
		{
			const FiDocField *df = &meta->fields[f];
			Oid			crel;

			if (!fi_fieldtype_is_table(df->fieldtype) || df->options == NULL)
				continue;
			crel = fi_site_table_oid(psprintf("tab%s", df->options), true);
			if (OidIsValid(crel))
				nw = want(w, nw, crel, true);
		}
	}

	/* what is there now */
	ret = SPI_execute("SELECT tgrelid, tgname = '" CHILD_TRIGGER "' FROM pg_catalog.pg_trigger "
					  "WHERE tgname IN ('" CAPTURE_TRIGGER "', '" CHILD_TRIGGER "') "
					  "AND tgfoid = '" FI_SCHEMA ".webhook_capture()'::pg_catalog.regprocedure",
					  false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading pg_trigger failed: %s", SPI_result_code_string(ret));
	{
		SPITupleTable *tt = SPI_tuptable;
		uint64		nexist = SPI_processed;

		for (uint64 r = 0; r < nexist; r++)
		{
			bool		isnull;
			Oid			relid = DatumGetObjectId(SPI_getbinval(tt->vals[r], tt->tupdesc, 1, &isnull));
			bool		child = DatumGetBool(SPI_getbinval(tt->vals[r], tt->tupdesc, 2, &isnull));
			bool		wanted = false;

			for (int i = 0; i < nw; i++)
				if (w[i].relid == relid && w[i].child == child)
				{
					w[i].exists = wanted = true;
					break;
				}
			if (!wanted)
			{
				char	   *rel = get_rel_name(relid);
				char	   *nsp = get_namespace_name(get_rel_namespace(relid));

				if (rel && nsp)
				{
					exec_utility(psprintf("DROP TRIGGER %s ON %s.%s",
										  child ? CHILD_TRIGGER : CAPTURE_TRIGGER,
										  quote_identifier(nsp), quote_identifier(rel)));
					changed++;
				}
			}
		}
	}
	for (int i = 0; i < nw; i++)
	{
		char	   *rel;
		char	   *nsp;

		if (w[i].exists)
			continue;
		rel = get_rel_name(w[i].relid);
		nsp = get_namespace_name(get_rel_namespace(w[i].relid));
		exec_utility(psprintf("CREATE TRIGGER %s AFTER INSERT OR UPDATE OR DELETE ON %s.%s "
							  "FOR EACH ROW EXECUTE FUNCTION " FI_SCHEMA ".webhook_capture(%s)",
							  w[i].child ? CHILD_TRIGGER : CAPTURE_TRIGGER,
							  quote_identifier(nsp), quote_identifier(rel),
							  w[i].child ? "'child'" : ""));
		changed++;
	}
	return changed;
}

/* does relid carry the trigger named? */
static bool
trigger_on(Oid relid, const char *tgname)
{
	Oid			argtypes[2] = {OIDOID, NAMEOID};
	Datum		args[2] = {ObjectIdGetDatum(relid), CStringGetDatum(tgname)};
	bool		found;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	found = SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = $1 "
								  "AND tgname = $2", 2, argtypes, args, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1;
	SPI_finish();
	return found;
}

/* does relid carry our configuration trigger? */
bool
fi_webhook_config_trigger_on(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};
	bool		found;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	found = SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = $1 "
								  "AND tgname = '" CONFIG_TRIGGER "'",
								  1, argtypes, args, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1;
	SPI_finish();
	return found;
}

PG_FUNCTION_INFO_V1(fi_sync_webhooks);

/*
 * integrations.sync_webhooks() returns integer
 *		Attach the capture triggers the site's webhooks need and detach the
 *		rest; returns how many triggers were created or dropped.
 */
Datum
fi_sync_webhooks(PG_FUNCTION_ARGS)
{
	int			n;
	FiSecure	sec;

	fi_check_version();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* as the caller, but immune to a search_path the site owner set (secure.c) */
	fi_secure_enter(&sec, InvalidOid);
	n = sync_triggers();
	fi_secure_exit(&sec);
	SPI_finish();
	PG_RETURN_INT32(n);
}

PG_FUNCTION_INFO_V1(fi_webhook_author_noted);

/*
 * integrations.webhook_author_noted() -- AFTER INSERT OR UPDATE FOR EACH ROW
 * on tabWebhook (no argument: the row's name) and on tabWebhook Header /
 * Data ('child': its parent): notes the role writing it as the webhook's
 * author in integrations.webhook_author (see fi_webhook_author_problem).
 * Fired from any other table, it notes nothing.
 */
Datum
fi_webhook_author_noted(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	HeapTuple	row;
	bool		child;
	char	   *webhook;
	Oid			author = GetUserId();
	FiSecure	sec;
	Oid			types[2] = {TEXTOID, OIDOID};
	Datum		args[2];
	const char *relname;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_AFTER(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("integrations.webhook_author_noted() must be an AFTER ... FOR EACH ROW trigger")));
	rel = td->tg_relation;
	relname = RelationGetRelationName(rel);
	child = td->tg_trigger->tgnargs > 0;
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP ||
		strcmp(td->tg_trigger->tgname, FI_AUTHOR_TRIGGER) != 0 ||
		(child ? strcmp(relname, "tabWebhook Header") != 0 && strcmp(relname, "tabWebhook Data") != 0 :
		 strcmp(relname, "tabWebhook") != 0) ||
		fi_site_table_oid(relname, true) != RelationGetRelid(rel))
		return PointerGetDatum(NULL);
	row = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	if (child)
	{
		int			tcol = SPI_fnumber(RelationGetDescr(rel), "parenttype");
		char	   *ptype = tcol > 0 ? SPI_getvalue(row, RelationGetDescr(rel), tcol) : NULL;

		if (ptype == NULL || strcmp(ptype, "Webhook") != 0)
			return PointerGetDatum(NULL);
	}
	webhook = SPI_getvalue(row, RelationGetDescr(rel),
						   SPI_fnumber(RelationGetDescr(rel), child ? "parent" : "name"));
	if (webhook == NULL)
		return PointerGetDatum(NULL);
	args[0] = CStringGetTextDatum(webhook);
	args[1] = ObjectIdGetDatum(author);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	fi_secure_enter(&sec, fi_schema_owner());
	if (fi_spi_execute("INSERT INTO " FI_SCHEMA ".webhook_author (webhook, author) VALUES ($1, $2) "
					   "ON CONFLICT (webhook) DO UPDATE SET author = EXCLUDED.author, "
					   "noted_at = pg_catalog.now()", 2, types, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "noting the author of webhook \"%s\" failed", webhook);
	fi_secure_exit(&sec);
	SPI_finish();
	return PointerGetDatum(NULL);
}

static void
sync_in_subxact(void *arg)
{
	FiSecure	sec;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	fi_secure_enter(&sec, InvalidOid);
	sync_triggers();
	fi_secure_exit(&sec);
	SPI_finish();
}

PG_FUNCTION_INFO_V1(fi_webhook_config_changed);

/*
 * integrations.webhook_config_changed() -- statement trigger on tabWebhook.
 * Never refuses the write: a failure to sync is a WARNING.
 */
Datum
fi_webhook_config_changed(PG_FUNCTION_ARGS)
{
	ErrorData  *edata;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("integrations.webhook_config_changed() must be called as a trigger")));
	/* every session (this one at its next command) reads the configuration again */
	CacheInvalidateRelcacheByRelid(RelationGetRelid(((TriggerData *) fcinfo->context)->tg_relation));
	fi_webhook_config_reset();
	if (strcmp(RelationGetRelationName(((TriggerData *) fcinfo->context)->tg_relation),
			   "tabWebhook") != 0)
		return PointerGetDatum(NULL);	/* headers and data rows: no trigger changes */
	edata = fi_run_in_subxact(sync_in_subxact, NULL);
	if (edata != NULL)
	{
		ereport(WARNING,
				(errmsg("the webhook triggers could not be brought up to date: %s", edata->message),
				 errhint("Run SELECT " FI_SCHEMA ".sync_webhooks(); as the owner of the site's tables.")));
		FreeErrorData(edata);
	}
	return PointerGetDatum(NULL);
}

/* ---- status and preview ---- */

static const char *
problem_of(FiWebhook *h)
{
	FiTpl	   *t;
	FiVal	   *doc,
			   *ctx;
	const char *out;
	size_t		outlen;
	bool		b;

	if (h->doctype == NULL || h->doctype[0] == '\0')
		return "no DocType is set (webhook_doctype)";
	if (!OidIsValid(fi_site_table_oid(psprintf("tab%s", h->doctype), true)))
		return psprintf("the table \"tab%s\" of DocType \"%s\" does not exist", h->doctype, h->doctype);
	{
		const FiDocMeta *meta = fi_get_meta(h->doctype, true);

		if (meta && meta->istable)
			return psprintf("%s is a child DocType: Frappe never fires a webhook for a child table's rows "
							"(a webhook on its parent DocType sees them in doc)", h->doctype);
	}
	if (h->event == 0)
		return psprintf("unknown document event \"%s\"", h->docevent ? h->docevent : "");
	if (h->method && strcmp(h->method, "POST") != 0 && strcmp(h->method, "PUT") != 0 &&
		strcmp(h->method, "DELETE") != 0)
		return psprintf("unknown request method \"%s\" (POST, PUT or DELETE)", h->method);
	if (!h->is_dynamic_url)
	{
		const char *why = fi_webhook_url_problem(h->request_url);

		if (why)
			return why;
	}
	for (int i = 0; i < h->nheaders; i++)
		if ((h->header_keys[i] && strpbrk(h->header_keys[i], "\r\n:")) ||
			(h->header_values[i] && strpbrk(h->header_values[i], "\r\n")))
			return fi_webhook_header_problem_pg(h->header_keys[i] ? h->header_keys[i] : "",
											 h->header_values[i] ? h->header_values[i] : "");
	/* syntax only: an empty document proves nothing about evaluation */
	t = fi_template_session(fi_site_now_usec());
	doc = fi_val_dict(t);
	ctx = fi_val_dict(t);
	fi_val_as_documents(doc);
	fi_val_set(t, ctx, "doc", 3, doc);
	if (!fi_blank(h->condition) &&
		fi_tpl_condition(t, h->condition, strlen(h->condition), ctx, &b) == FI_TPL_ESYNTAX)
		return psprintf("condition: %s (line %d, column %d)", fi_tpl_errmsg(t),
						fi_tpl_errline(t), fi_tpl_errcol(t));
	if (h->ndata == 0 && !fi_blank(h->webhook_json) &&
		fi_tpl_render(t, h->webhook_json, strlen(h->webhook_json), ctx, &out, &outlen) == FI_TPL_ESYNTAX)
		return psprintf("JSON template: %s (line %d, column %d)", fi_tpl_errmsg(t),
						fi_tpl_errline(t), fi_tpl_errcol(t));
	if (h->is_dynamic_url && h->request_url &&
		fi_tpl_render(t, h->request_url, strlen(h->request_url), ctx, &out, &outlen) == FI_TPL_ESYNTAX)
		return psprintf("request URL template: %s (line %d, column %d)", fi_tpl_errmsg(t),
						fi_tpl_errline(t), fi_tpl_errcol(t));
	if (h->enable_security)
	{
		Oid			auth = fi_site_table_oid("__Auth", true);
		Oid			argtypes[1] = {TEXTOID};
		Datum		args[1] = {CStringGetTextDatum(h->name)};
		int			ret;

		if (!OidIsValid(auth))
			return "enable_security is set but the site has no __Auth table";
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		ret = SPI_execute_with_args(psprintf("SELECT 1 FROM %s WHERE doctype = 'Webhook' AND name = $1 "
											 "AND fieldname = 'webhook_secret' AND coalesce(password, '') <> ''",
											 fi_site_table("__Auth")),
									1, argtypes, args, NULL, true, 1);
		b = ret == SPI_OK_SELECT && SPI_processed == 1;
		SPI_finish();
		if (!b)
			return "enable_security is set but the webhook has no secret (webhook_secret in __Auth)";
	}
	return NULL;
}

PG_FUNCTION_INFO_V1(fi_webhook_problem);

/*
 * integrations.webhook_problem(webhook text) returns text
 *		Why the webhook cannot be used as configured (NULL: it can).
 */
Datum
fi_webhook_problem(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	FiWebhookConfig *cfg;
	const char *why;

	fi_check_version();
	cfg = fi_webhook_load_config(name);
	if (cfg->n == 0)
		PG_RETURN_TEXT_P(cstring_to_text("no such webhook"));
	why = problem_of(&cfg->hooks[0]);
	if (why == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(why));
}

PG_FUNCTION_INFO_V1(fi_webhook_preview);

/*
 * integrations.webhook_preview(webhook text, docname text) returns jsonb
 *		What the webhook would send for the document now: url, method,
 *		headers, body, and whether the condition holds (Frappe's preview).
 */
Datum
fi_webhook_preview(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *docname = text_to_cstring(PG_GETARG_TEXT_PP(1));
	FiWebhookConfig *cfg;
	FiWebhook  *h;
	const FiDocMeta *meta;
	FiTpl	   *t;
	FiVal	   *doc = NULL,
			   *cdoc = NULL;
	FiRequest	rq;
	StringInfoData s;
	const char *names[1] = {docname};

	fi_check_version();
	cfg = fi_webhook_load_config(name);
	if (cfg->n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("webhook \"%s\" does not exist", name),
				 errhint("Webhooks are the rows of tabWebhook.")));
	h = &cfg->hooks[0];
	meta = h->doctype ? fi_get_meta(h->doctype, true) : NULL;
	if (meta == NULL || !OidIsValid(fi_site_table_oid(psprintf("tab%s", h->doctype), true)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("webhook \"%s\" is for DocType \"%s\", which has no table",
						name, h->doctype ? h->doctype : "")));
	t = fi_template_session(fi_site_now_usec());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	{
		FiDocFetch	f = {.meta = meta, .names = names, .n = 1, .docs = &doc, .cdocs = &cdoc};

		fi_docs_fetch(t, &f);
	}
	SPI_finish();
	if (doc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("%s \"%s\" does not exist", h->doctype, docname)));
	fi_val_as_documents(doc);
	fi_val_as_documents(cdoc);
	fi_webhook_build(t, h, doc, cdoc, &rq);

	initStringInfo(&s);
	appendStringInfoString(&s, "{\"webhook\": ");
	escape_json(&s, h->name);
	appendStringInfoString(&s, ", \"event\": ");
	escape_json(&s, h->docevent ? h->docevent : "");
	appendStringInfo(&s, ", \"meets_condition\": %s", rq.skip ? "false" : "true");
	if (!rq.skip)
	{
		appendStringInfoString(&s, ", \"method\": ");
		escape_json(&s, h->method);
		if (rq.url)
		{
			appendStringInfoString(&s, ", \"url\": ");
			escape_json(&s, rq.url);
		}
		if (rq.error)
		{
			appendStringInfoString(&s, ", \"error\": ");
			escape_json(&s, rq.error);
		}
		else
		{
			appendStringInfo(&s, ", \"headers\": %s, \"signed\": %s, \"body\": ",
							 rq.headers, h->enable_security ? "true" : "false");
			escape_json(&s, pnstrdup(rq.body, rq.bodylen));
		}
	}
	appendStringInfoChar(&s, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}
