/*
 * frappe_integrations.c
 *		Module entry point: settings, the library/SQL version check, and the
 *		helpers that name Frappe's tables in the site schema.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "frappe_integrations.h"
#include "webhook.h"

PG_MODULE_MAGIC;

char	   *fi_encryption_key = NULL;
char	   *fi_encryption_key_file = NULL;
char	   *fi_site_schema = NULL;
char	   *fi_site_url = NULL;

static bool fi_version_ok = false;

void		_PG_init(void);
extern void fi_meta_init(void);
extern void fi_meta_reset(void);

/* Another site schema means other metadata tables. */
static void
site_schema_assign(const char *newval, void *extra)
{
	fi_meta_reset();
	fi_site_tz_reset();
	fi_rowread_reset();
}

/*
 * SHOW, current_setting() and pg_settings give the key to superusers only:
 * GUC_SUPERUSER_ONLY alone still lets members of pg_read_all_settings (and
 * so pg_monitor) read it.
 */
static const char *
encryption_key_show(void)
{
	if (fi_encryption_key == NULL || fi_encryption_key[0] == '\0')
		return "";
	return superuser() ? fi_encryption_key : "********";
}

static void
encryption_key_file_assign(const char *newval, void *extra)
{
	fi_forget_key_file();
}

/*
 * The key is accepted as given and validated where it is used: a check
 * hook that rejected it would make PostgreSQL print the value in the
 * server log ("invalid value for parameter ...").
 */
void
_PG_init(void)
{
	DefineCustomStringVariable("frappe_integrations.encryption_key",
							   "The site's encryption_key from site_config.json (a Fernet key).",
							   "Needed to read and write Password fields in __Auth. "
							   "Only superusers can see or set it.",
							   &fi_encryption_key,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, encryption_key_show);

	DefineCustomStringVariable("frappe_integrations.encryption_key_file",
							   "A file holding the site's encryption_key (or its site_config.json).",
							   "%d in the path is the database's name (one file per site). "
							   "Read by the server's user; used when encryption_key is empty.",
							   &fi_encryption_key_file,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, encryption_key_file_assign, NULL);

	DefineCustomStringVariable("frappe_integrations.site_schema",
							   "The schema holding the Frappe site's tables.",
							   NULL,
							   &fi_site_schema,
							   "public",
							   PGC_SUSET,
							   0,
							   NULL, site_schema_assign, NULL);

	DefineCustomStringVariable("frappe_integrations.site_url",
							   "The site's public URL (https://erp.example.com).",
							   "The OAuth provider's issuer (iss) and the base of relative "
							   "user images, when the Social Login Key \"frappe\" has no base_url.",
							   &fi_site_url,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("frappe_integrations.webhooks",
							 "Fire the site's webhooks for changes made in this session.",
							 "Off: no webhook fires for what this session changes "
							 "(maintenance scripts, like Frappe's in_patch).",
							 &fi_webhooks_on,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	/* the worker's settings (and, when preloading, the workers themselves) */
	fi_worker_init();
	fi_http_init();
	fi_payments_init();

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("frappe_integrations");
#else
	EmitWarningsOnPlaceholders("frappe_integrations");
#endif

	fi_meta_init();
	fi_webhook_init();
}

/* The extversion of the installed extension, or NULL. */
static char *
installed_version(void)
{
	Oid			extoid = get_extension_oid(FI_EXTNAME, true);
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *result = NULL;

	if (!OidIsValid(extoid))
		return NULL;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			result = text_to_cstring(DatumGetTextPP(d));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

void
fi_check_version(void)
{
	char	   *installed;

	if (fi_version_ok || creating_extension)
		return;
	installed = installed_version();
	if (installed == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"%s\" is not installed in this database", FI_EXTNAME),
				 errhint("Run CREATE EXTENSION %s.", FI_EXTNAME)));
	if (strcmp(installed, FI_EXTVERSION) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"%s\" is at version %s but its library is version %s",
						FI_EXTNAME, installed, FI_EXTVERSION),
				 errhint("Run ALTER EXTENSION %s UPDATE.", FI_EXTNAME)));
	fi_version_ok = true;
}

char *
fi_site_table(const char *table)
{
	return psprintf("%s.%s", quote_identifier(fi_site_schema),
					quote_identifier(table));
}

Oid
fi_site_table_oid(const char *table, bool missing_ok)
{
	Oid			nsp = get_namespace_oid(fi_site_schema, true);
	Oid			relid = InvalidOid;

	if (OidIsValid(nsp))
		relid = get_relname_relid(table, nsp);
	if (!OidIsValid(relid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"%s\" not found in schema \"%s\"", table, fi_site_schema),
				 errhint("frappe_integrations works in the database of a Frappe site; "
						 "set frappe_integrations.site_schema if its tables are in another schema.")));
	return relid;
}

PG_FUNCTION_INFO_V1(fi_version);

/* integrations.version(): the library's version. */
Datum
fi_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(FI_EXTVERSION));
}
