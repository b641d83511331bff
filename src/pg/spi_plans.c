/*
 * spi_plans.c
 *		Statements the extension runs again and again (at every commit that
 *		fires a webhook, in the worker's loop), planned once per process.
 *
 * A commit that fires a webhook for one document ran four or five SPI
 * statements, and parsing and planning them cost more than running them
 * (a single-row UPDATE became 5x slower).  fi_spi_execute keeps one saved
 * plan per distinct SQL text (the texts name their tables with the site
 * schema, so a change of frappe_integrations.site_schema gives new texts);
 * PostgreSQL's plan cache re-plans a saved plan when a table it uses
 * changes.  Only a bounded number of texts is kept; beyond that a statement
 * is run unprepared.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "frappe_integrations.h"

#define MAX_KEPT_PLANS 256
#define MAX_KEPT_SQL 4096

typedef struct KeptPlan
{
	char		sql[MAX_KEPT_SQL];	/* the hash key */
	int			nargs;
	Oid			argtypes[FUNC_MAX_ARGS];
	SPIPlanPtr	plan;
} KeptPlan;

static HTAB *kept = NULL;

static SPIPlanPtr
plan_for(const char *sql, int nargs, Oid *argtypes)
{
	KeptPlan   *e;
	bool		found;
	SPIPlanPtr	p;

	if (strlen(sql) >= MAX_KEPT_SQL || nargs > FUNC_MAX_ARGS)
		return NULL;
	if (kept == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = MAX_KEPT_SQL;
		ctl.entrysize = sizeof(KeptPlan);
		kept = hash_create("frappe_integrations kept plans", 32, &ctl,
						   HASH_ELEM | HASH_STRINGS);
	}
	e = hash_search(kept, sql, HASH_FIND, NULL);
	if (e != NULL)
	{
		if (e->nargs == nargs &&
			(nargs == 0 || memcmp(e->argtypes, argtypes, sizeof(Oid) * nargs) == 0))
			return e->plan;
		return NULL;			/* the same text with other types: not kept */
	}
	if (hash_get_num_entries(kept) >= MAX_KEPT_PLANS)
		return NULL;
	/* generic plans: re-planning each call for its parameters is what cost */
	p = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);
	if (p == NULL)
		elog(ERROR, "preparing \"%s\" failed: %s", sql, SPI_result_code_string(SPI_result));
	SPI_keepplan(p);
	e = hash_search(kept, sql, HASH_ENTER, &found);
	e->nargs = nargs;
	if (nargs > 0)
		memcpy(e->argtypes, argtypes, sizeof(Oid) * nargs);
	e->plan = p;
	return p;
}

/*
 * SPI_execute_with_args with the plan kept for the next call of the same
 * text (nulls as SPI's: NULL or a string of ' ' and 'n').
 *
 * Unlike SPI's own calls, this returns in the caller's memory context: SPI
 * leaves the procedure's context current, which lives until SPI_finish, so
 * a loop that allocates after each call (an import's batches) grew with
 * every batch.
 */
/* a column of an SPI row as text, allocated in cxt (NULL for NULL) */
char *
fi_spi_getstr(HeapTuple tup, TupleDesc desc, int col, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	char	   *v = SPI_getvalue(tup, desc, col);

	MemoryContextSwitchTo(old);
	return v;
}

int
fi_spi_execute(const char *sql, int nargs, Oid *argtypes, Datum *values, const char *nulls,
			   bool read_only, long count)
{
	MemoryContext cxt = CurrentMemoryContext;
	SPIPlanPtr	p = plan_for(sql, nargs, argtypes);
	int			ret;

	if (p == NULL)
		ret = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, read_only, count);
	else
		ret = SPI_execute_plan(p, values, nulls, read_only, count);
	MemoryContextSwitchTo(cxt);
	return ret;
}
