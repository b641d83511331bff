/*
 * frappe_integrations.h
 *		Declarations shared by the PostgreSQL glue of frappe_integrations.
 *
 * Never include postgres.h here: every .c file includes it first.
 */
#ifndef FRAPPE_INTEGRATIONS_H
#define FRAPPE_INTEGRATIONS_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "nodes/pg_list.h"
#include "utils/relcache.h"

#ifndef FI_EXTVERSION
#error "FI_EXTVERSION must be defined by the Makefile"
#endif

#define FI_EXTNAME		"frappe_integrations"
#define FI_SCHEMA		"integrations"

/* settings (frappe_integrations.c) */
extern char *fi_encryption_key;
extern char *fi_encryption_key_file;
/* forget the key read from encryption_key_file (a reload may change it) */
extern void fi_forget_key_file(void);
#define FI_FERNET_KEY_TEXT_MAX 128
extern char *fi_site_schema;

/*
 * Raise an error unless the installed SQL objects match this library's
 * version.  Cheap after the first successful call in a backend.
 */
extern void fi_check_version(void);

/* "schema"."table" for a Frappe table in the site schema; palloc'd. */
extern char *fi_site_table(const char *table);

/* Is rel one of the Frappe tables named, in the site schema? */
extern Oid	fi_site_table_oid(const char *table, bool missing_ok);

/* SPI_execute_with_args, the plan kept per process for the same text (spi_plans.c) */
extern int	fi_spi_execute(const char *sql, int nargs, Oid *argtypes, Datum *values,
						   const char *nulls, bool read_only, long count);
/* a column of an SPI row as text, allocated in cxt (NULL for NULL) (spi_plans.c) */
extern char *fi_spi_getstr(HeapTuple tup, TupleDesc desc, int col, MemoryContext cxt);

/* ---- acting for the site (secure.c; the README's "Privileges") ---- */

typedef struct FiSecure
{
	Oid			save_user;
	int			save_sec;
	int			nestlevel;
} FiSecure;

/*
 * Act as role (InvalidOid: the current user) in a security-restricted
 * operation with search_path pinned to "pg_catalog, pg_temp", until
 * fi_secure_exit (an error unwinds both with the (sub)transaction).
 */
extern void fi_secure_enter(FiSecure *s, Oid role);
extern void fi_secure_exit(FiSecure *s);
/* pin search_path for the whole session (the worker) */
extern void fi_pin_search_path(void);
/* the owner of a relation (InvalidOid when there is none) */
extern Oid	fi_rel_owner(Oid relid);
/* the owner of a site table (InvalidOid when the site has no such table) */
extern Oid	fi_site_table_owner(const char *table);
/* the owner of the schema integrations: the one who created the extension */
extern Oid	fi_schema_owner(void);
/* is the extension installed, with integrations its own schema (pg_extension)? */
extern bool fi_extension_installed_here(void);
/* is integrations.relname a relation of the extension? */
extern bool fi_extension_relation(const char *relname);
/* fn(arg) in a subtransaction: NULL, or its error (all it did rolled back) */
struct ErrorData;
extern struct ErrorData *fi_run_in_subxact(void (*fn) (void *arg), void *arg);

/* ---- templates and conditions (template.c over src/engine/tpl.h) ---- */

#include "engine/tpl.h"

/* the transaction's now() on the site's clock (System Settings time_zone) */
extern int64 fi_site_now_usec(void);

/* forget the cached site time zone (template.c) */
extern void fi_site_tz_reset(void);

/* an engine session freed with the current memory context (also on ERROR) */
extern FiTpl *fi_template_session(int64 now_usec);

/* raise the session's error; what = "template", "condition" or "JSON" */
extern void fi_template_error(FiTpl *t, const char *what) pg_attribute_noreturn();

/* ---- DocType metadata (meta.c) ---- */

#include "engine/doctype.h"		/* FiDocMeta, FiDocField, the fieldtype rules */

/*
 * The effective meta of a DocType (DocFields + Custom Fields, Property
 * Setters applied, sorted as Frappe sorts).  The result stays valid until
 * the end of the current transaction; do not free it.  Errors with
 * SQLSTATE 42704 when the DocType does not exist (unless missing_ok).
 */
extern const FiDocMeta *fi_get_meta(const char *doctype, bool missing_ok);

/* ---- jsonb options of the SQL functions (options.c); refusals are 22023 ---- */

#include "utils/jsonb.h"

extern JsonbValue *fi_opt_find(Jsonb *opts, const char *key);	/* NULL: absent or null */
extern void fi_opt_refuse(const char *key, const char *what) pg_attribute_noreturn();
extern bool fi_opt_bool(Jsonb *opts, const char *key, bool dflt);
extern char *fi_opt_text(Jsonb *opts, const char *key);
extern double fi_opt_number(Jsonb *opts, const char *key, double dflt, double lo, double hi);
extern long fi_opt_count(Jsonb *opts, const char *key, long dflt);	/* whole, >= 0 */
extern void fi_opt_check_keys(Jsonb *opts, const char *const *known, int n);

/* ---- secrets (secrets.c) ---- */

/*
 * The raw 32-byte Fernet key from frappe_integrations.encryption_key;
 * errors (55000 / 22023) when it is not set or malformed.
 */
extern void fi_site_fernet_key(unsigned char key[32]);

/* Decrypt a Fernet token with the site key (palloc'd, NUL-terminated). */
extern char *fi_decrypt_with_site_key(const char *token, size_t toklen);

/* Fill buf with n bytes from a cryptographically strong source. */
extern void fi_strong_random(void *buf, size_t n);

/*
 * Does the table carry the statement trigger (integrations.meta_invalidate,
 * attached by sync_meta_triggers) that turns each change into a relcache
 * invalidation?  Caches of its rows may then outlive the transaction.
 */
extern bool fi_has_invalidation_trigger(Relation rel);

/* ---- rows by key through an index (rowread.c) ---- */

/*
 * One row of a site table by text key columns: the columns asked for, as
 * text (NULL when null).  False when there is no such row, or (with
 * *fallback set) when the caller must query instead: row-level security,
 * no btree index on the keys.
 */
extern bool fi_row_lookup(const char *table, int nkeys, const char *const *keycols,
						  const char *const *keys, const size_t *keylens, int ncols,
						  const char *const *cols, char **out, bool *fallback);
/*
 * By one key, kept across transactions when the table carries the
 * invalidation trigger (see fi_has_invalidation_trigger).
 */
extern bool fi_row_lookup_keep(const char *table, int nkeys, const char *const *keycols,
							   const char *const *keys, const size_t *keylens, int ncols,
							   const char *const *cols, char **out, bool *fallback);
extern bool fi_row_lookup_cached(const char *table, const char *keycol, const char *key, size_t keylen,
								 int ncols, const char *const *cols, char **out, bool *fallback);
/* forget what fi_row_lookup knows of the tables (another site schema) */
extern void fi_rowread_reset(void);
extern bool fi_row_by_name(const char *table, const char *name, size_t namelen, int ncols,
						   const char *const *cols, char **out, bool *fallback);

/* ---- outbound HTTP (http.c, delivery.c) ---- */

extern void fi_http_init(void);	/* its settings */
extern void fi_payments_init(void);	/* the gateways' API URLs (payments.c) */
extern void fi_curl_global_init(void);
extern void fi_curl_http_only(void *easy);	/* CURL *: http and https only, also redirects */
/* Python's parse_qs of a query string, as jsonb {"key": ["value", …]} */
extern Datum fi_parse_qs(const char *qs);

/* ---- auth (auth.c) ---- */


#endif							/* FRAPPE_INTEGRATIONS_H */
