/*
 * template.c
 *		SQL face of the template engine (src/engine/tpl_*.c):
 *		integrations.render_template(template, context), eval_condition(
 *		condition, context) and normalize_json(text), plus the helpers the
 *		webhook code uses to run the engine inside the server: a session
 *		freed with a memory context (so an ERROR never leaks it), the site's
 *		wall clock (System Settings time_zone, as frappe.utils.now_datetime),
 *		and the engine's errors turned into SQLSTATEs.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "frappe_integrations.h"
#include "engine/tpl.h"

PG_FUNCTION_INFO_V1(fi_render_template);
PG_FUNCTION_INFO_V1(fi_eval_condition);
PG_FUNCTION_INFO_V1(fi_normalize_json);

/* only the interrupts that end the query stop the engine */
static bool
interrupted(void *arg)
{
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

static void
free_session(void *arg)
{
	fi_tpl_free((FiTpl *) arg);
}

/*
 * The site's time zone: System Settings' time_zone (tabSingles), else
 * Frappe's default Asia/Kolkata; a zone PostgreSQL does not know gives UTC,
 * as Frappe falls back to UTC for a zone pytz does not know.
 *
 * Kept across transactions while tabSingles carries the invalidation
 * trigger (sync_meta_triggers): a change of it reaches every backend as a
 * relcache invalidation of tabSingles, which empties the cache.  Without
 * the trigger it is read once per transaction.
 */
static char site_tz[128];		/* "" when not cached */
static Oid	site_tz_relid = InvalidOid;
static bool site_tz_callback = false;

static void
site_tz_relcache_cb(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == site_tz_relid)
		site_tz[0] = '\0';
}

/* forget the cached zone (another site schema) */
void
fi_site_tz_reset(void)
{
	site_tz[0] = '\0';
}

static char *
site_time_zone(void)
{
	static const char *const keycols[] = {"doctype", "field"};
	static const char *const keys[] = {"System Settings", "time_zone"};
	static const size_t lens[] = {15, 9};
	static const char *const cols[] = {"value"};
	char	   *v[1] = {NULL};
	char	   *tz = NULL;
	bool		fallback;
	Oid			relid;
	Relation	rel;
	bool		keep;

	if (site_tz[0] != '\0')
		return pstrdup(site_tz);
	relid = fi_site_table_oid("tabSingles", true);
	if (!OidIsValid(relid))
		return pstrdup("Asia/Kolkata");
	if (!site_tz_callback)
	{
		CacheRegisterRelcacheCallback(site_tz_relcache_cb, (Datum) 0);
		site_tz_callback = true;
	}
	rel = table_open(relid, AccessShareLock);
	keep = fi_has_invalidation_trigger(rel);
	table_close(rel, AccessShareLock);

	/* through its (doctype, field) index, else a query */
	if (fi_row_lookup("tabSingles", 2, keycols, keys, lens, 1, cols, v, &fallback))
		tz = v[0] && *v[0] ? v[0] : NULL;
	else if (fallback)
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		{
			char	   *q = psprintf("SELECT value FROM %s WHERE doctype = 'System Settings' "
									 "AND field = 'time_zone'", fi_site_table("tabSingles"));

			if (fi_spi_execute(q, 0, NULL, NULL, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
			{
				char	   *val = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

				if (val && *val)
					tz = MemoryContextStrdup(TopTransactionContext, val);
			}
		}
		SPI_finish();
		/* row-level security: what this role sees; not for the next one */
		keep = false;
	}
	if (tz == NULL)
		tz = pstrdup("Asia/Kolkata");
	if (keep && strlen(tz) < sizeof(site_tz))
	{
		site_tz_relid = relid;
		strlcpy(site_tz, tz, sizeof(site_tz));
	}
	return tz;
}

/*
 * now() of the transaction on the site's wall clock, as microseconds since
 * 1970-01-01 00:00 of that clock.  Looked up once per transaction (a change
 * of System Settings' time_zone shows from the next transaction on).
 */
int64
fi_site_now_usec(void)
{
	/* once per transaction: a query rendering many rows asks many times */
	static TimestampTz cached_for = 0;
	static int64 cached = 0;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	char	   *zone;
	pg_tz	   *tz;
	struct pg_tm tm;
	fsec_t		fsec;
	int			offset = 0;
	int64		local = now;

	if (now == cached_for && cached_for != 0)
		return cached;
	zone = site_time_zone();
	tz = pg_tzset(zone);
	if (tz != NULL && timestamp2tm(now, &offset, &tm, &fsec, NULL, tz) == 0)
		local = now - (int64) offset * USECS_PER_SEC;
	cached = local + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
	cached_for = now;
	return cached;
}

/*
 * A template session owned by the current memory context: freed when that
 * context goes, also on ERROR.
 */
FiTpl *
fi_template_session(int64 now_usec)
{
	FiTplOptions opt;
	FiTpl	   *t;
	MemoryContextCallback *cb;

	fi_tpl_default_options(&opt);
	opt.now_usec = now_usec;
	opt.interrupted = interrupted;
	t = fi_tpl_new(&opt);
	if (t == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	cb = MemoryContextAlloc(CurrentMemoryContext, sizeof(MemoryContextCallback));
	cb->func = free_session;
	cb->arg = t;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
	return t;
}

/*
 * Raise the session's error.  what: "template", "condition" or "JSON".
 */
void
fi_template_error(FiTpl *t, const char *what)
{
	int			code = fi_tpl_errcode(t);
	int			line = fi_tpl_errline(t),
				col = fi_tpl_errcol(t);
	char	   *msg = pstrdup(fi_tpl_errmsg(t));

	if (code == FI_TPL_ECANCEL)
	{
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling statement due to user request")));
	}
	ereport(ERROR,
			(errcode(code == FI_TPL_ESYNTAX ? ERRCODE_SYNTAX_ERROR :
					 code == FI_TPL_ELIMIT ? ERRCODE_PROGRAM_LIMIT_EXCEEDED :
					 ERRCODE_INVALID_PARAMETER_VALUE),
			 code == FI_TPL_ESYNTAX ? errmsg("syntax error in %s: %s", what, msg) :
			 code == FI_TPL_ELIMIT ? errmsg("%s exceeds a limit: %s", what, msg) :
			 strcmp(what, "JSON") == 0 ? errmsg("invalid JSON: %s", msg) :
			 errmsg("could not evaluate %s: %s", what, msg),
			 line > 0 ? errdetail("At line %d, column %d of the %s.", line, col, what) : 0));
}

/* text in the server encoding -> UTF-8 bytes */
static char *
to_utf8(text *txt, size_t *len)
{
	char	   *s = VARDATA_ANY(txt);
	int			n = VARSIZE_ANY_EXHDR(txt);
	char	   *u = pg_server_to_any(s, n, PG_UTF8);

	*len = (u == s) ? (size_t) n : strlen(u);
	return u;
}

/* UTF-8 bytes -> text in the server encoding (verified) */
static text *
from_utf8(const char *s, size_t len)
{
	char	   *copy = palloc(len + 1);
	char	   *conv;

	memcpy(copy, s, len);
	copy[len] = '\0';
	if (GetDatabaseEncoding() == PG_UTF8)
	{
		(void) pg_verify_mbstr(PG_UTF8, copy, (int) len, false);
		return cstring_to_text_with_len(copy, (int) len);
	}
	conv = pg_any_to_server(copy, (int) len, PG_UTF8);
	return cstring_to_text(conv);
}

/*
 * A jsonb context as engine values: its dicts are documents (a missing
 * field reads as None in templates, doc.field is attribute access in
 * conditions).
 */
static FiVal *
fi_template_context_jsonb(FiTpl *t, Jsonb *jb)
{
	char	   *txt = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	char	   *u = pg_server_to_any(txt, strlen(txt), PG_UTF8);
	FiVal	   *v;

	if (fi_tpl_from_json(t, u, strlen(u), &v) != FI_TPL_OK)
		fi_template_error(t, "JSON");
	fi_val_as_documents(v);
	return v;
}

static void
check_context(Jsonb *ctx, const char *what)
{
	if (!JB_ROOT_IS_OBJECT(ctx))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the %s context must be a JSON object", what),
				 errhint("Pass the names the %s uses as keys, e.g. '{\"doc\": {...}}'.", what)));
}

/*
 * integrations.render_template(template text, context jsonb) returns text
 */
Datum
fi_render_template(PG_FUNCTION_ARGS)
{
	text	   *tpl = PG_GETARG_TEXT_PP(0);
	Jsonb	   *ctx = PG_GETARG_JSONB_P(1);
	MemoryContext cxt,
				old;
	FiTpl	   *t;
	const char *out;
	size_t		outlen,
				srclen;
	char	   *src;
	text	   *result;

	fi_check_version();
	check_context(ctx, "template");
	cxt = AllocSetContextCreate(CurrentMemoryContext, "render_template",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	t = fi_template_session(fi_site_now_usec());
	src = to_utf8(tpl, &srclen);
	if (fi_tpl_render(t, src, srclen, fi_template_context_jsonb(t, ctx), &out, &outlen) != FI_TPL_OK)
		fi_template_error(t, "template");
	MemoryContextSwitchTo(old);
	result = from_utf8(out, outlen);
	MemoryContextDelete(cxt);
	PG_RETURN_TEXT_P(result);
}

/*
 * integrations.eval_condition(condition text, context jsonb) returns boolean
 *
 * An empty condition is true, as a webhook without a condition matches.
 */
Datum
fi_eval_condition(PG_FUNCTION_ARGS)
{
	text	   *cond = PG_GETARG_TEXT_PP(0);
	Jsonb	   *ctx = PG_GETARG_JSONB_P(1);
	MemoryContext cxt,
				old;
	FiTpl	   *t;
	size_t		srclen;
	char	   *src;
	bool		result;
	bool		blank = true;

	fi_check_version();
	check_context(ctx, "condition");
	cxt = AllocSetContextCreate(CurrentMemoryContext, "eval_condition",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	src = to_utf8(cond, &srclen);
	for (size_t i = 0; i < srclen; i++)
		if (!isspace((unsigned char) src[i]))
			blank = false;
	if (blank)
		result = true;
	else
	{
		t = fi_template_session(fi_site_now_usec());
		if (fi_tpl_condition(t, src, srclen, fi_template_context_jsonb(t, ctx), &result) != FI_TPL_OK)
			fi_template_error(t, "condition");
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	PG_RETURN_BOOL(result);
}

/*
 * integrations.normalize_json(json text) returns text
 *
 * json.dumps(json.loads(text)): the body Frappe sends for a rendered JSON
 * template (key order kept, duplicates: last value at the first place,
 * Python's separators, ASCII escapes and float text).
 */
Datum
fi_normalize_json(PG_FUNCTION_ARGS)
{
	text	   *in = PG_GETARG_TEXT_PP(0);
	MemoryContext cxt,
				old;
	FiTpl	   *t;
	const char *out;
	size_t		outlen,
				srclen;
	char	   *src;
	text	   *result;

	fi_check_version();
	cxt = AllocSetContextCreate(CurrentMemoryContext, "normalize_json",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	t = fi_template_session(0);
	src = to_utf8(in, &srclen);
	if (fi_tpl_normalize_json(t, src, srclen, &out, &outlen) != FI_TPL_OK)
		fi_template_error(t, "JSON");
	MemoryContextSwitchTo(old);
	result = cstring_to_text_with_len(out, (int) outlen);	/* ASCII */
	MemoryContextDelete(cxt);
	PG_RETURN_TEXT_P(result);
}

PG_FUNCTION_INFO_V1(fi_site_now);

/*
 * integrations.site_now() returns timestamp
 *		frappe.utils.now(): the transaction's start on the site's clock.
 */
Datum
fi_site_now(PG_FUNCTION_ARGS)
{
	int64		usec = fi_site_now_usec();

	PG_RETURN_TIMESTAMP(usec - (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);
}
