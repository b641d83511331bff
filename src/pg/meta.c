/*
 * meta.c
 *		The effective metadata of a Frappe DocType, read from tabDocType,
 *		tabDocField, tabCustom Field and tabProperty Setter, cached per
 *		backend and invalidated across sessions.
 *
 * Frappe builds a DocType's meta as: its DocFields, plus the site's Custom
 * Fields, then Property Setters applied to both, then sorted (a
 * "field_order" property wins; otherwise each custom field follows its
 * insert_after field).  We do the same.
 *
 * Invalidation: a statement trigger on each of the four tables
 * (integrations.meta_invalidate) queues a relcache invalidation for that
 * table; every backend receives it with its next transaction and our
 * relcache callback marks the cache stale.  Where the triggers are missing
 * (integrations.sync_meta_triggers() adds them) the cache only lives for
 * one transaction.  A stale cache is not freed at once: callers may hold
 * pointers into it, so it is handed to the current transaction's memory
 * and freed at its end.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "frappe_integrations.h"

/* string keys were the default before PostgreSQL 14 named them */
#if PG_VERSION_NUM < 140000
#define HASH_STRINGS 0
#endif

#define META_TRIGGER_NAME	"frappe_integrations_meta"
#define META_KEY_LEN		256

static const char *const meta_tables[] = {
	"tabDocType", "tabDocField", "tabCustom Field", "tabProperty Setter"
};
#define N_META_TABLES lengthof(meta_tables)

/* the tables that carry the trigger: the metadata; tabSingles (the site's
 * settings, whose time zone template.c caches); tabUser, tabOAuth Client
 * and __Auth (whose rows token validation keeps, rowread.c) */
static const char *const trigger_tables[] = {
	"tabDocType", "tabDocField", "tabCustom Field", "tabProperty Setter", "tabSingles",
	"tabUser", "tabOAuth Client", "__Auth"
};

typedef struct MetaEntry
{
	char		key[META_KEY_LEN];
	FiDocMeta  *meta;
} MetaEntry;

static MemoryContext meta_cxt = NULL;
static HTAB *meta_hash = NULL;
static bool meta_stale = false;
static bool meta_xact_only = false;
static Oid	meta_table_oids[N_META_TABLES];

void		fi_meta_init(void);
void		fi_meta_reset(void);

/* ---- invalidation ---- */

static void
meta_relcache_cb(Datum arg, Oid relid)
{
	int			i;

	if (meta_cxt == NULL)
		return;
	if (!OidIsValid(relid))
	{
		meta_stale = true;
		return;
	}
	for (i = 0; i < (int) N_META_TABLES; i++)
		if (meta_table_oids[i] == relid)
			meta_stale = true;
}

static void
meta_xact_cb(XactEvent event, void *arg)
{
	if (meta_xact_only &&
		(event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		 event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT))
		meta_stale = true;
}

void
fi_meta_init(void)
{
	CacheRegisterRelcacheCallback(meta_relcache_cb, (Datum) 0);
	RegisterXactCallback(meta_xact_cb, NULL);
}

/* Mark the cache stale (safe anywhere: frees nothing). */
void
fi_meta_reset(void)
{
	meta_stale = true;
}

/* Drop a stale cache, keeping its memory alive until the transaction ends. */
static void
meta_drop_if_stale(void)
{
	if (!meta_stale || meta_cxt == NULL)
	{
		meta_stale = false;
		return;
	}
	if (IsTransactionState())
		MemoryContextSetParent(meta_cxt, TopTransactionContext);
	else
		MemoryContextDelete(meta_cxt);
	meta_cxt = NULL;
	meta_hash = NULL;
	meta_stale = false;
	meta_xact_only = false;
}

/* Do all four tables carry our invalidation trigger? Records their OIDs. */
static bool
meta_triggers_present(void)
{
	bool		all = true;
	int			i,
				j;

	for (i = 0; i < (int) N_META_TABLES; i++)
	{
		Oid			relid = fi_site_table_oid(meta_tables[i], true);
		bool		found = false;

		meta_table_oids[i] = relid;
		if (OidIsValid(relid))
		{
			Relation	rel = table_open(relid, AccessShareLock);

			if (rel->trigdesc)
				for (j = 0; j < rel->trigdesc->numtriggers; j++)
					if (strcmp(rel->trigdesc->triggers[j].tgname, META_TRIGGER_NAME) == 0 &&
						rel->trigdesc->triggers[j].tgenabled != TRIGGER_DISABLED)
						found = true;
			table_close(rel, AccessShareLock);
		}
		if (!found)
			all = false;
	}
	return all;
}

/* Does this table carry our (enabled) invalidation trigger? */
bool
fi_has_invalidation_trigger(Relation rel)
{
	if (rel->trigdesc)
		for (int j = 0; j < rel->trigdesc->numtriggers; j++)
			if (strcmp(rel->trigdesc->triggers[j].tgname, META_TRIGGER_NAME) == 0 &&
				rel->trigdesc->triggers[j].tgenabled != TRIGGER_DISABLED)
				return true;
	return false;
}

/* ---- loading ---- */

static char *
spi_str(HeapTuple tup, TupleDesc desc, int col)
{
	char	   *v = SPI_getvalue(tup, desc, col);

	return v ? v : "";
}

static bool
spi_bool(HeapTuple tup, TupleDesc desc, int col)
{
	char	   *v = SPI_getvalue(tup, desc, col);

	/* Frappe's cint(): an integer prefix, anything else 0 */
	return v != NULL && atoi(v) != 0;
}

static int
spi_int(HeapTuple tup, TupleDesc desc, int col)
{
	char	   *v = SPI_getvalue(tup, desc, col);

	return v ? atoi(v) : 0;
}

/* Columns read from DocField and Custom Field, in this order. */
#define FIELD_COLUMNS \
	"fieldname, label, fieldtype, options, \"default\", precision, fetch_from, " \
	"coalesce(length, 0), reqd, \"unique\", hidden, read_only, no_copy, %s, " \
	"allow_on_submit, in_list_view, non_negative, is_virtual, fetch_if_empty, " \
	"hide_days, hide_seconds"

static void
read_field(FiDocField *f, HeapTuple tup, TupleDesc desc)
{
	f->fieldname = pstrdup(spi_str(tup, desc, 1));
	f->label = pstrdup(spi_str(tup, desc, 2));
	f->fieldtype = pstrdup(spi_str(tup, desc, 3));
	f->options = pstrdup(spi_str(tup, desc, 4));
	f->default_value = SPI_getvalue(tup, desc, 5);
	if (f->default_value)
		f->default_value = pstrdup(f->default_value);
	f->precision = pstrdup(spi_str(tup, desc, 6));
	f->fetch_from = pstrdup(spi_str(tup, desc, 7));
	f->length = spi_int(tup, desc, 8);
	f->reqd = spi_bool(tup, desc, 9);
	f->unique = spi_bool(tup, desc, 10);
	f->hidden = spi_bool(tup, desc, 11);
	f->read_only = spi_bool(tup, desc, 12);
	f->no_copy = spi_bool(tup, desc, 13);
	f->set_only_once = spi_bool(tup, desc, 14);
	f->allow_on_submit = spi_bool(tup, desc, 15);
	f->in_list_view = spi_bool(tup, desc, 16);
	f->non_negative = spi_bool(tup, desc, 17);
	f->is_virtual = spi_bool(tup, desc, 18);
	f->fetch_if_empty = spi_bool(tup, desc, 19);
	f->hide_days = spi_bool(tup, desc, 20);
	f->hide_seconds = spi_bool(tup, desc, 21);
	f->insert_after = NULL;
	f->is_custom = false;
}

/* Sort as Frappe (engine/doctype.c): field_order first when set, else by insert_after. */
static void
sort_fields(FiDocMeta *m, List *field_order)
{
	const char **order = palloc(sizeof(char *) * (list_length(field_order) + 1));
	int			norder = 0;
	ListCell   *lc;

	foreach(lc, field_order)
		order[norder++] = (const char *) lfirst(lc);
	fi_doctype_sort_fields(m, order, norder, palloc(sizeof(FiDocField) * Max(m->nfields, 1)),
						   palloc(sizeof(bool) * Max(m->nfields, 1)));
}

/* Load the meta with SPI into the current memory context; NULL if absent. */
static FiDocMeta *
load_meta(const char *doctype)
{
	MemoryContext target = CurrentMemoryContext;
	MemoryContext oldcxt;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	FiDocMeta  *m;
	List	   *field_order = NIL;
	uint64		i;
	int			nstd,
				ncustom,
				ret;
	char	   *sql;
	FiSecure	sec;

	args[0] = CStringGetTextDatum(doctype);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* metadata is the site's: read as the owner of its tables (secure.c) */
	fi_secure_enter(&sec, fi_site_table_owner("tabDocType"));

	sql = psprintf("SELECT name, module, autoname, naming_rule, title_field, sort_field, "
				   "sort_order, istable, issingle, is_submittable, is_tree, is_virtual, "
				   "custom, track_seen FROM %s WHERE name = $1",
				   fi_site_table("tabDocType"));
	ret = SPI_execute_with_args(sql, 1, argtypes, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading tabDocType failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
	{
		fi_secure_exit(&sec);
		SPI_finish();
		return NULL;
	}

	oldcxt = MemoryContextSwitchTo(target);
	m = palloc0(sizeof(FiDocMeta));
	{
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	d = SPI_tuptable->tupdesc;

		m->name = pstrdup(spi_str(t, d, 1));
		m->module = pstrdup(spi_str(t, d, 2));
		m->autoname = pstrdup(spi_str(t, d, 3));
		m->naming_rule = pstrdup(spi_str(t, d, 4));
		m->title_field = pstrdup(spi_str(t, d, 5));
		m->sort_field = pstrdup(spi_str(t, d, 6));
		m->sort_order = pstrdup(spi_str(t, d, 7));
		m->istable = spi_bool(t, d, 8);
		m->issingle = spi_bool(t, d, 9);
		m->is_submittable = spi_bool(t, d, 10);
		m->is_tree = spi_bool(t, d, 11);
		m->is_virtual = spi_bool(t, d, 12);
		m->custom = spi_bool(t, d, 13);
		m->track_seen = spi_bool(t, d, 14);
	}
	MemoryContextSwitchTo(oldcxt);

	/* DocFields */
	sql = psprintf("SELECT " FIELD_COLUMNS " FROM %s WHERE parent = $1 ORDER BY idx, name",
				   "set_only_once", fi_site_table("tabDocField"));
	ret = SPI_execute_with_args(sql, 1, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading tabDocField failed: %s", SPI_result_code_string(ret));
	nstd = (int) SPI_processed;
	{
		SPITupleTable *std = SPI_tuptable;

		/* Custom Fields (set_only_once is not a Custom Field property) */
		sql = psprintf("SELECT " FIELD_COLUMNS ", insert_after FROM %s "
					   "WHERE dt = $1 ORDER BY idx, name",
					   "0", fi_site_table("tabCustom Field"));
		ret = SPI_execute_with_args(sql, 1, argtypes, args, NULL, true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "reading tabCustom Field failed: %s", SPI_result_code_string(ret));
		ncustom = (int) SPI_processed;

		oldcxt = MemoryContextSwitchTo(target);
		m->fields = palloc0(sizeof(FiDocField) * Max(nstd + ncustom, 1));
		for (i = 0; i < (uint64) nstd; i++)
			read_field(&m->fields[i], std->vals[i], std->tupdesc);
		for (i = 0; i < (uint64) ncustom; i++)
		{
			FiDocField *f = &m->fields[nstd + i];

			read_field(f, SPI_tuptable->vals[i], SPI_tuptable->tupdesc);
			f->is_custom = true;
			f->insert_after = pstrdup(spi_str(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 22));
		}
		m->nfields = nstd + ncustom;
		MemoryContextSwitchTo(oldcxt);
	}

	/* Property Setters, oldest first so that the newest wins */
	sql = psprintf("SELECT doctype_or_field, field_name, property, value FROM %s "
				   "WHERE doc_type = $1 ORDER BY creation NULLS FIRST, name",
				   fi_site_table("tabProperty Setter"));
	ret = SPI_execute_with_args(sql, 1, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading tabProperty Setter failed: %s", SPI_result_code_string(ret));
	oldcxt = MemoryContextSwitchTo(target);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		const char *kind = spi_str(t, d, 1);
		const char *fieldname = spi_str(t, d, 2);
		const char *prop = spi_str(t, d, 3);
		const char *value = spi_str(t, d, 4);

		if (strcmp(kind, "DocField") == 0)
		{
			FiDocField *f = (FiDocField *) fi_meta_field(m, fieldname);

			if (f)
				fi_field_set_property(f, prop, pstrdup(value));
		}
		else if (strcmp(kind, "DocType") == 0)
		{
			if (strcmp(prop, "field_order") == 0)
				field_order = list_make1(pstrdup(value));	/* parsed below */
			else
				fi_doctype_set_property(m, prop, pstrdup(value));
		}
	}
	MemoryContextSwitchTo(oldcxt);

	/* field_order is a JSON list of fieldnames: let the server parse it */
	if (field_order != NIL)
	{
		Oid			jt[1] = {TEXTOID};
		Datum		jv[1];

		jv[0] = CStringGetTextDatum((char *) linitial(field_order));
		field_order = NIL;
		ret = SPI_execute_with_args("SELECT f FROM json_array_elements_text($1::json) AS f",
									1, jt, jv, NULL, true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "reading field_order failed: %s", SPI_result_code_string(ret));
		oldcxt = MemoryContextSwitchTo(target);
		for (i = 0; i < SPI_processed; i++)
			field_order = lappend(field_order,
								  pstrdup(spi_str(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1)));
		MemoryContextSwitchTo(oldcxt);
	}

	oldcxt = MemoryContextSwitchTo(target);
	sort_fields(m, field_order);
	MemoryContextSwitchTo(oldcxt);

	fi_secure_exit(&sec);
	SPI_finish();
	return m;
}

const FiDocMeta *
fi_get_meta(const char *doctype, bool missing_ok)
{
	MetaEntry  *entry = NULL;
	FiDocMeta  *m;
	bool		found;
	bool		cacheable = strlen(doctype) < META_KEY_LEN;

	meta_drop_if_stale();
	if (meta_hash != NULL && cacheable)
	{
		entry = hash_search(meta_hash, doctype, HASH_FIND, NULL);
		if (entry)
			return entry->meta;
	}

	/* a clear error when this is not a Frappe site */
	(void) fi_site_table_oid("tabDocType", false);

	if (meta_cxt == NULL)
	{
		HASHCTL		ctl;

		meta_cxt = AllocSetContextCreate(CacheMemoryContext,
										 "frappe_integrations meta",
										 ALLOCSET_DEFAULT_SIZES);
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = META_KEY_LEN;
		ctl.entrysize = sizeof(MetaEntry);
		ctl.hcxt = meta_cxt;
		meta_hash = hash_create("frappe_integrations meta", 64, &ctl,
								HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
		/* without the triggers, nothing tells us of changes: one xact only */
		meta_xact_only = !meta_triggers_present();
	}

	if (!cacheable)
	{
		m = load_meta(doctype);	/* lives in the caller's context */
	}
	else
	{
		MemoryContext old = MemoryContextSwitchTo(meta_cxt);

		m = load_meta(doctype);
		MemoryContextSwitchTo(old);
		if (m != NULL)
		{
			entry = hash_search(meta_hash, doctype, HASH_ENTER, &found);
			entry->meta = m;
		}
	}

	if (m == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("DocType \"%s\" not found", doctype),
				 errdetail("There is no row named \"%s\" in tabDocType.", doctype)));
	return m;
}

/* ---- SQL ---- */

static void
json_key_str(StringInfo buf, const char *key, const char *value, bool comma)
{
	if (comma)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	if (value)
		escape_json(buf, value);
	else
		appendStringInfoString(buf, "null");
}

static void
json_key_bool(StringInfo buf, const char *key, bool value)
{
	appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, value ? ": true" : ": false");
}

PG_FUNCTION_INFO_V1(fi_doctype_meta);

/*
 * integrations.doctype_meta(doctype text) returns jsonb
 *		The effective meta, as our C code sees it.
 */
Datum
fi_doctype_meta(PG_FUNCTION_ARGS)
{
	char	   *doctype = text_to_cstring(PG_GETARG_TEXT_PP(0));
	const FiDocMeta *m;
	StringInfoData buf;
	int			i;

	fi_check_version();
	m = fi_get_meta(doctype, false);

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	json_key_str(&buf, "name", m->name, false);
	json_key_str(&buf, "module", m->module, true);
	json_key_str(&buf, "autoname", m->autoname, true);
	json_key_str(&buf, "naming_rule", m->naming_rule, true);
	json_key_str(&buf, "title_field", m->title_field, true);
	json_key_str(&buf, "sort_field", m->sort_field, true);
	json_key_str(&buf, "sort_order", m->sort_order, true);
	json_key_bool(&buf, "istable", m->istable);
	json_key_bool(&buf, "issingle", m->issingle);
	json_key_bool(&buf, "is_submittable", m->is_submittable);
	json_key_bool(&buf, "is_tree", m->is_tree);
	json_key_bool(&buf, "is_virtual", m->is_virtual);
	json_key_bool(&buf, "custom", m->custom);
	json_key_bool(&buf, "track_seen", m->track_seen);

	appendStringInfoString(&buf, ", \"child_tables\": {");
	{
		bool		first = true;

		for (i = 0; i < m->nfields; i++)
			if (fi_fieldtype_is_table(m->fields[i].fieldtype))
			{
				json_key_str(&buf, m->fields[i].fieldname, m->fields[i].options, !first);
				first = false;
			}
	}
	appendStringInfoString(&buf, "}, \"fields\": [");
	for (i = 0; i < m->nfields; i++)
	{
		const FiDocField *f = &m->fields[i];

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoChar(&buf, '{');
		json_key_str(&buf, "fieldname", f->fieldname, false);
		json_key_str(&buf, "label", f->label, true);
		json_key_str(&buf, "fieldtype", f->fieldtype, true);
		json_key_str(&buf, "options", f->options, true);
		json_key_str(&buf, "default", f->default_value, true);
		json_key_str(&buf, "precision", f->precision, true);
		json_key_str(&buf, "fetch_from", f->fetch_from, true);
		appendStringInfo(&buf, ", \"length\": %d, \"idx\": %d", f->length, f->idx);
		json_key_bool(&buf, "reqd", f->reqd);
		json_key_bool(&buf, "unique", f->unique);
		json_key_bool(&buf, "hidden", f->hidden);
		json_key_bool(&buf, "read_only", f->read_only);
		json_key_bool(&buf, "no_copy", f->no_copy);
		json_key_bool(&buf, "set_only_once", f->set_only_once);
		json_key_bool(&buf, "allow_on_submit", f->allow_on_submit);
		json_key_bool(&buf, "in_list_view", f->in_list_view);
		json_key_bool(&buf, "non_negative", f->non_negative);
		json_key_bool(&buf, "is_virtual", f->is_virtual);
		json_key_bool(&buf, "is_custom", f->is_custom);
		json_key_bool(&buf, "has_column",
					  fi_fieldtype_has_column(f->fieldtype) && !f->is_virtual);
		if (f->is_custom)
			json_key_str(&buf, "insert_after", f->insert_after, true);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "]}");

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

PG_FUNCTION_INFO_V1(fi_meta_invalidate);

/*
 * integrations.meta_invalidate(): statement trigger on the four metadata
 * tables.  Queues a relcache invalidation of the table, which every
 * backend (this one at its next command) turns into a stale meta cache.
 */
Datum
fi_meta_invalidate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("integrations.meta_invalidate() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(fi_sync_meta_triggers);

/*
 * integrations.sync_meta_triggers() returns integer
 *		Attach the invalidation trigger to each metadata table that lacks
 *		it; returns how many were attached.
 */
Datum
fi_sync_meta_triggers(PG_FUNCTION_ARGS)
{
	int			created = 0;
	int			i;
	FiSecure	sec;

	fi_check_version();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* as the caller, but immune to a search_path the site owner set (secure.c) */
	fi_secure_enter(&sec, InvalidOid);
	for (i = 0; i < (int) lengthof(trigger_tables); i++)
	{
		Oid			relid = fi_site_table_oid(trigger_tables[i], true);
		Oid			argtypes[1] = {OIDOID};
		Datum		args[1];
		int			ret;

		if (!OidIsValid(relid))
			continue;
		args[0] = ObjectIdGetDatum(relid);
		ret = SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_trigger "
									"WHERE tgrelid = $1 AND tgname = '" META_TRIGGER_NAME "'",
									1, argtypes, args, NULL, true, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "reading pg_trigger failed: %s", SPI_result_code_string(ret));
		if (SPI_processed > 0)
			continue;
		ret = SPI_execute(psprintf("CREATE TRIGGER " META_TRIGGER_NAME
								   " AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s"
								   " FOR EACH STATEMENT EXECUTE FUNCTION "
								   FI_SCHEMA ".meta_invalidate()",
								   fi_site_table(trigger_tables[i])),
						  false, 0);
		if (ret != SPI_OK_UTILITY)
			elog(ERROR, "creating trigger failed: %s", SPI_result_code_string(ret));
		created++;
	}
	fi_secure_exit(&sec);
	SPI_finish();
	meta_stale = true;
	PG_RETURN_INT32(created);
}
