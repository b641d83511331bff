/*
 * secure.c
 *		Who the extension acts as when it acts for nobody in particular: the
 *		commit-time step, the capture trigger's reads, and the worker.
 *
 * The privilege model (README "Privileges"):
 *  - A read or write of a site table (tab..., __Auth) done on behalf of the
 *    site -- a webhook's configuration, the document it sends, its secret,
 *    its tabWebhook Request Log row, an Integration Request row -- runs as
 *    the owner of that table, never as a superuser: a trigger, rule, policy
 *    or view function the owner put there runs with the owner's rights,
 *    which the owner has anyway.
 *  - The extension's own tables (integrations.*) are written as the owner of
 *    the schema integrations (who created the extension); no other role can
 *    attach anything to them.
 *  - Both run as a security-restricted operation (no SET ROLE, no temporary
 *    objects, no cursors left behind) with search_path pinned to
 *    "pg_catalog, pg_temp", so that no function or operator of a role's own
 *    schema stands in for a built-in (PostgreSQL's maintenance commands work
 *    this way).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "commands/extension.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "frappe_integrations.h"

#define PINNED_SEARCH_PATH "pg_catalog, pg_temp"

void
fi_secure_enter(FiSecure *s, Oid role)
{
	GetUserIdAndSecContext(&s->save_user, &s->save_sec);
	SetUserIdAndSecContext(OidIsValid(role) ? role : s->save_user,
						   s->save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	s->nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", PINNED_SEARCH_PATH, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

void
fi_secure_exit(FiSecure *s)
{
	AtEOXact_GUC(false, s->nestlevel);
	SetUserIdAndSecContext(s->save_user, s->save_sec);
}

void
fi_pin_search_path(void)
{
	SetConfigOption("search_path", PINNED_SEARCH_PATH, PGC_SUSET, PGC_S_OVERRIDE);
}

Oid
fi_rel_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

Oid
fi_site_table_owner(const char *table)
{
	Oid			relid = fi_site_table_oid(table, true);

	return OidIsValid(relid) ? fi_rel_owner(relid) : InvalidOid;
}

Oid
fi_schema_owner(void)
{
	Oid			nsp = get_namespace_oid(FI_SCHEMA, false);
	HeapTuple	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for schema %u", nsp);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return owner;
}

bool
fi_extension_installed_here(void)
{
	Oid			ext = get_extension_oid(FI_EXTNAME, true);
	Oid			nsp;

	if (!OidIsValid(ext))
		return false;
	/* the schema must be the extension's own, not one a user made */
	nsp = get_namespace_oid(FI_SCHEMA, true);
	return OidIsValid(nsp) && getExtensionOfObject(NamespaceRelationId, nsp) == ext;
}

bool
fi_extension_relation(const char *relname)
{
	Oid			ext = get_extension_oid(FI_EXTNAME, true);
	Oid			nsp = get_namespace_oid(FI_SCHEMA, true);
	Oid			relid;

	if (!OidIsValid(ext) || !OidIsValid(nsp))
		return false;
	relid = get_relname_relid(relname, nsp);
	return OidIsValid(relid) && getExtensionOfObject(RelationRelationId, relid) == ext;
}

/*
 * Run fn(arg) in a subtransaction of its own: NULL when it succeeded, else
 * its error (allocated in the caller's memory context), everything it did
 * rolled back.  For work that must never make the caller's statement or
 * commit fail (the commit step, the tabWebhook trigger).
 */
ErrorData *
fi_run_in_subxact(void (*fn) (void *arg), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return edata;
}
