/*
 * rowread.c
 *		One row of a site table by its key, read through a btree index
 *		without the executor: the hot paths (token validation, the site's
 *		time zone once per transaction) cost an index probe, not a query.
 *
 * The caller's SELECT privilege is checked as a query would; a table
 * under row-level security, or without a usable index, is left to the
 * caller's query fallback (*fallback).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"

/* string keys were the default before PostgreSQL 14 named them */
#if PG_VERSION_NUM < 140000
#define HASH_STRINGS 0
#endif
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "frappe_integrations.h"

/* a btree index whose leading columns are atts (in order), or InvalidOid */
static Oid
index_on(Relation rel, int n, const AttrNumber *atts)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	Oid			found = InvalidOid;

	foreach(lc, indexes)
	{
		Relation	i = index_open(lfirst_oid(lc), AccessShareLock);
		bool		ok = i->rd_rel->relam == BTREE_AM_OID && i->rd_index->indnkeyatts >= n &&
			i->rd_index->indisvalid && RelationGetIndexExpressions(i) == NIL &&
			RelationGetIndexPredicate(i) == NIL;

		for (int k = 0; ok && k < n; k++)
			ok = i->rd_index->indkey.values[k] == atts[k];
		index_close(i, AccessShareLock);
		if (ok)
		{
			found = lfirst_oid(lc);
			break;
		}
	}
	list_free(indexes);
	return found;
}

/*
 * What a lookup needs to know of its table, kept per backend: the table's
 * OID, the index, the columns' numbers and output functions.  Dropped by
 * any relcache invalidation of the table (DDL, an index built or dropped)
 * and by a change of site_schema.
 */
#define ROW_PLANS		16
#define ROW_MAX_KEYS	4
#define ROW_MAX_COLS	8

typedef struct RowPlan
{
	bool		valid;
	char		table[NAMEDATALEN];
	int			nkeys,
				ncols;
	char		keycols[ROW_MAX_KEYS][NAMEDATALEN];
	char		cols[ROW_MAX_COLS][NAMEDATALEN];
	Oid			relid;
	Oid			ixoid;			/* InvalidOid: no usable index */
	bool		has_trigger;	/* changes reach us as invalidations: rows may be kept */
	AttrNumber	colatts[ROW_MAX_COLS];	/* 0: no such column */
	FmgrInfo	out[ROW_MAX_COLS];
} RowPlan;

static RowPlan plans[ROW_PLANS];
static int	next_victim = 0;
static bool callback_registered = false;

/*
 * Rows kept across transactions, for tables that carry the invalidation
 * trigger (sync_meta_triggers: tabUser, tabOAuth Client): any change of
 * such a table reaches every backend as a relcache invalidation (the writer
 * at its next command, and again if it aborts), which empties the cache.
 * Only found rows are kept; the caller's privileges and row-level security
 * are checked on every call all the same.
 */
#define ROW_CACHE_KEYLEN	512
#define ROW_CACHE_MAX		50000

typedef struct RowCacheEntry
{
	char		key[ROW_CACHE_KEYLEN];	/* see row_cache_key */
	char	   *vals[ROW_MAX_COLS];
} RowCacheEntry;

static MemoryContext row_cache_cxt = NULL;
static HTAB *row_cache = NULL;
static Oid	row_cache_relids[ROW_PLANS];
static int	n_row_cache_relids = 0;

static void
row_cache_clear(void)
{
	if (row_cache_cxt != NULL)
		MemoryContextReset(row_cache_cxt);
	row_cache = NULL;
	n_row_cache_relids = 0;
}

static void
plans_relcache_cb(Datum arg, Oid relid)
{
	for (int i = 0; i < ROW_PLANS; i++)
		if (!OidIsValid(relid) || plans[i].relid == relid)
			plans[i].valid = false;
	for (int i = 0; i < n_row_cache_relids; i++)
		if (!OidIsValid(relid) || row_cache_relids[i] == relid)
		{
			row_cache_clear();
			break;
		}
}

/* forget every plan (another site schema) */
void
fi_rowread_reset(void)
{
	for (int i = 0; i < ROW_PLANS; i++)
		plans[i].valid = false;
	row_cache_clear();
}

/*
 * The cache key of a lookup: table, key columns, columns, key values, each
 * ended by \x01; false when too long to keep or a value holds \x01 or NUL.
 */
static bool
row_cache_key(char *buf, const char *table, int nkeys, const char *const *keycols,
			  const char *const *keys, const size_t *keylens, int ncols, const char *const *cols)
{
	size_t		n = 0;

#define PUT(str, len) \
	do { \
		if (n + (len) + 1 >= ROW_CACHE_KEYLEN || memchr((str), '\x01', (len)) || memchr((str), '\0', (len))) \
			return false; \
		memcpy(buf + n, (str), (len)); \
		n += (len); \
		buf[n++] = '\x01'; \
	} while (0)

	PUT(table, strlen(table));
	for (int k = 0; k < nkeys; k++)
		PUT(keycols[k], strlen(keycols[k]));
	for (int i = 0; i < ncols; i++)
		PUT(cols[i], strlen(cols[i]));
	for (int k = 0; k < nkeys; k++)
		PUT(keys[k], keylens[k]);
#undef PUT
	memset(buf + n, 0, ROW_CACHE_KEYLEN - n);
	return true;
}

static bool
plan_matches(const RowPlan *p, const char *table, int nkeys, const char *const *keycols,
			 int ncols, const char *const *cols)
{
	if (!p->valid || p->nkeys != nkeys || p->ncols != ncols || strcmp(p->table, table) != 0)
		return false;
	for (int k = 0; k < nkeys; k++)
		if (strcmp(p->keycols[k], keycols[k]) != 0)
			return false;
	for (int i = 0; i < ncols; i++)
		if (strcmp(p->cols[i], cols[i]) != 0)
			return false;
	return true;
}

static void
row_cache_put(const char *ckey, Oid relid, int ncols, char *const *vals)
{
	RowCacheEntry *e;
	bool		found;
	bool		known = false;

	if (row_cache_cxt == NULL)
		row_cache_cxt = AllocSetContextCreate(TopMemoryContext, "frappe_integrations row cache",
											  ALLOCSET_DEFAULT_SIZES);
	if (row_cache != NULL && hash_get_num_entries(row_cache) >= ROW_CACHE_MAX)
		row_cache_clear();
	if (row_cache == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = ROW_CACHE_KEYLEN;
		ctl.entrysize = sizeof(RowCacheEntry);
		ctl.hcxt = row_cache_cxt;
		row_cache = hash_create("frappe_integrations rows", 256, &ctl,
								HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	for (int i = 0; i < n_row_cache_relids; i++)
		known = known || row_cache_relids[i] == relid;
	if (!known)
	{
		if (n_row_cache_relids == ROW_PLANS)
			return;
		row_cache_relids[n_row_cache_relids++] = relid;
	}
	e = hash_search(row_cache, ckey, HASH_ENTER, &found);
	for (int i = 0; i < ncols; i++)
		e->vals[i] = vals[i] ? MemoryContextStrdup(row_cache_cxt, vals[i]) : NULL;
}

/* find the index and the columns of a lookup (rel is open) */
static void
plan_build(RowPlan *p, Relation rel, const char *table, int nkeys, const char *const *keycols,
		   int ncols, const char *const *cols)
{
	AttrNumber	atts[ROW_MAX_KEYS] = {0};
	TupleDesc	desc = RelationGetDescr(rel);

	memset(p, 0, sizeof(*p));
	strlcpy(p->table, table, NAMEDATALEN);
	p->nkeys = nkeys;
	p->ncols = ncols;
	p->relid = RelationGetRelid(rel);
	p->has_trigger = fi_has_invalidation_trigger(rel);
	for (int k = 0; k < nkeys; k++)
	{
		strlcpy(p->keycols[k], keycols[k], NAMEDATALEN);
		atts[k] = attnameAttNum(rel, keycols[k], false);
		if (atts[k] <= 0 ||
			!(TupleDescAttr(desc, atts[k] - 1)->atttypid == VARCHAROID ||
			  TupleDescAttr(desc, atts[k] - 1)->atttypid == TEXTOID))
			atts[k] = InvalidAttrNumber;
	}
	p->ixoid = InvalidOid;
	/* by name: the primary key, known to the relcache (no look at each index) */
	if (nkeys == 1 && strcmp(keycols[0], "name") == 0 && atts[0] != InvalidAttrNumber)
	{
		Oid			pk = RelationGetPrimaryKeyIndex(rel);

		if (OidIsValid(pk))
		{
			Relation	i = index_open(pk, AccessShareLock);

			if (i->rd_index->indnkeyatts >= 1 && i->rd_index->indkey.values[0] == atts[0] &&
				i->rd_rel->relam == BTREE_AM_OID)
				p->ixoid = pk;
			index_close(i, AccessShareLock);
		}
	}
	if (!OidIsValid(p->ixoid))
	{
		bool		all = true;

		for (int k = 0; k < nkeys; k++)
			all = all && atts[k] != InvalidAttrNumber;
		if (all)
			p->ixoid = index_on(rel, nkeys, atts);
	}
	for (int i = 0; i < ncols; i++)
	{
		AttrNumber	a = attnameAttNum(rel, cols[i], false);

		strlcpy(p->cols[i], cols[i], NAMEDATALEN);
		p->colatts[i] = a > 0 ? a : 0;
		if (a > 0)
		{
			Oid			typout;
			bool		varlena;

			getTypeOutputInfo(TupleDescAttr(desc, a - 1)->atttypid, &typout, &varlena);
			fmgr_info_cxt(typout, &p->out[i], TopMemoryContext);
		}
	}
	p->valid = true;
}

/*
 * One row of a site table by text key columns, read through a btree index
 * on them without the executor: the columns asked for, as text (NULL when
 * null).  The caller's SELECT privilege is checked, as a query would; with
 * row-level security or no such index, *fallback is set and nothing read.
 */
static bool
row_lookup(const char *table, int nkeys, const char *const *keycols, const char *const *keys,
		   const size_t *keylens, int ncols, const char *const *cols, char **out, bool *fallback,
		   bool use_cache)
{
	char		ckey[ROW_CACHE_KEYLEN];
	RowPlan    *p = NULL;
	RowPlan		local;
	Relation	rel,
				idx;
	ScanKeyData sk[ROW_MAX_KEYS];
	IndexScanDesc scan;
	TupleTableSlot *slot;
	bool		found;
	Oid			relid;
	AclResult	acl;
	bool		cacheable = nkeys >= 1 && nkeys <= ROW_MAX_KEYS && ncols <= ROW_MAX_COLS &&
		strlen(table) < NAMEDATALEN;

	if (nkeys < 1 || nkeys > ROW_MAX_KEYS)
		elog(ERROR, "fi_row_lookup: %d key columns", nkeys);
	for (int k = 0; cacheable && k < nkeys; k++)
		cacheable = strlen(keycols[k]) < NAMEDATALEN;
	for (int i = 0; cacheable && i < ncols; i++)
		cacheable = strlen(cols[i]) < NAMEDATALEN;
	if (!cacheable && ncols > ROW_MAX_COLS)
		elog(ERROR, "fi_row_lookup: %d columns", ncols);

	if (cacheable)
		for (int i = 0; i < ROW_PLANS && p == NULL; i++)
			if (plan_matches(&plans[i], table, nkeys, keycols, ncols, cols))
				p = &plans[i];
	relid = p ? p->relid : fi_site_table_oid(table, false);

	*fallback = false;
	acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, table);
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
	{
		*fallback = true;
		return false;
	}
	use_cache = use_cache && p != NULL && p->valid && p->has_trigger &&
		row_cache_key(ckey, table, nkeys, keycols, keys, keylens, ncols, cols);
	if (use_cache && row_cache != NULL)
	{
		RowCacheEntry *e = hash_search(row_cache, ckey, HASH_FIND, NULL);

		if (e != NULL)
		{
			/* copies: an invalidation may empty the cache while they are used */
			for (int i = 0; i < ncols; i++)
				out[i] = e->vals[i] ? pstrdup(e->vals[i]) : NULL;
			return true;
		}
	}
	rel = table_open(relid, AccessShareLock);
	/* (opening it may have taken an invalidation that dropped the plan) */
	if (p == NULL || !p->valid)
	{
		if (cacheable)
		{
			if (!callback_registered)
			{
				CacheRegisterRelcacheCallback(plans_relcache_cb, (Datum) 0);
				callback_registered = true;
			}
			p = &plans[next_victim];
			next_victim = (next_victim + 1) % ROW_PLANS;
		}
		else
			p = &local;
		plan_build(p, rel, table, nkeys, keycols, ncols, cols);
	}
	if (!OidIsValid(p->ixoid))
	{
		table_close(rel, AccessShareLock);
		*fallback = true;
		return false;
	}
	idx = index_open(p->ixoid, AccessShareLock);
	for (int k = 0; k < nkeys; k++)
	{
		ScanKeyInit(&sk[k], k + 1, BTEqualStrategyNumber, F_TEXTEQ,
					PointerGetDatum(cstring_to_text_with_len(keys[k], keylens[k])));
		sk[k].sk_collation = idx->rd_indcollation[k];
	}
	scan = index_beginscan(rel, idx, GetActiveSnapshot(), nkeys, 0);
	index_rescan(scan, sk, nkeys, NULL, 0);
	slot = table_slot_create(rel, NULL);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found)
	{
		for (int i = 0; i < ncols; i++)
		{
			bool		isnull = true;
			Datum		d = p->colatts[i] > 0 ? slot_getattr(slot, p->colatts[i], &isnull) : (Datum) 0;

			out[i] = isnull ? NULL : OutputFunctionCall(&p->out[i], d);
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(idx, AccessShareLock);
	table_close(rel, NoLock);
	/* keep it, if the plan still stands (no invalidation came meanwhile) */
	if (found && use_cache && p->valid && p->has_trigger)
		row_cache_put(ckey, p->relid, ncols, out);
	return found;
}

bool
fi_row_lookup(const char *table, int nkeys, const char *const *keycols, const char *const *keys,
			  const size_t *keylens, int ncols, const char *const *cols, char **out, bool *fallback)
{
	return row_lookup(table, nkeys, keycols, keys, keylens, ncols, cols, out, fallback, false);
}

/*
 * The same, kept across transactions when the table carries the
 * invalidation trigger: for rows read far more often than written (users,
 * OAuth clients, their secrets as stored).
 */
bool
fi_row_lookup_keep(const char *table, int nkeys, const char *const *keycols, const char *const *keys,
				   const size_t *keylens, int ncols, const char *const *cols, char **out, bool *fallback)
{
	return row_lookup(table, nkeys, keycols, keys, keylens, ncols, cols, out, fallback, true);
}

bool
fi_row_lookup_cached(const char *table, const char *keycol, const char *key, size_t keylen,
					 int ncols, const char *const *cols, char **out, bool *fallback)
{
	const char *keycols[1] = {keycol};
	const char *keys[1] = {key};
	size_t		lens[1] = {keylen};

	return row_lookup(table, 1, keycols, keys, lens, ncols, cols, out, fallback, true);
}

/* one row by name (the primary key) */
bool
fi_row_by_name(const char *table, const char *name, size_t namelen, int ncols,
			const char *const *cols, char **out, bool *fallback)
{
	static const char *const keycol[] = {"name"};
	const char *keys[1] = {name};
	size_t		lens[1] = {namelen};

	return fi_row_lookup(table, 1, keycol, keys, lens, ncols, cols, out, fallback);
}

