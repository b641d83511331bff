/*
 * client.h
 *		The MariaDB side's client program (build/mariadb/fi-client, run by
 *		bin/frappe-integrations): what a DBA runs against a site's database
 *		from outside the server, where MariaDB gives SQL no way to do it
 *		(a stored function cannot run a query it builds).  Connector/C for
 *		the connection, the engines for Frappe's rules.
 *
 *		client.c         arguments, the site's connection, errors, the arena
 *		client_meta.c    a DocType's meta from the site's tables (engine/doctype.c)
 *		client_export.c  Data Export as CSV and Excel (engine/exportplan.c, engine/exportfmt.c)
 *		client_json.c    Data Export as JSON: export_json's and export_doc's shapes (engine/docdict.c)
 *		client_export.h  what the two share
 *		client_worker.c  worker: the webhook worker of a bench (outbox -> queue -> HTTP -> log)
 *		client_webhooks.c  webhook-pending: the outbox folded into Frappe's events (engine/webhookev.c);
 *		                 webhook-preview: what a webhook sends for a document (engine/webhookreq.c)
 */
#ifndef FI_MARIADB_CLIENT_H
#define FI_MARIADB_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <mysql.h>

#include "engine/doctype.h"
#include "engine/tpl.h"
#include "engine/webhookreq.h"

/* memory for the whole run: taken in chunks, given back at exit */
typedef struct FcArena FcArena;
extern FcArena *fc_arena_new(void);
extern void fc_arena_free(FcArena *a);
extern void *fc_alloc(void *arena, size_t size);	/* zeroed; FiAlloc's shape */
extern char *fc_strndup(FcArena *a, const char *s, size_t n);
extern char *fc_printf(FcArena *a, const char *fmt,...) __attribute__((format(printf, 2, 3)));

/* a growing byte buffer */
typedef struct FcBuf
{
	char	   *data;
	size_t		len,
				cap;
} FcBuf;
extern void fc_buf_reserve(FcBuf *b, size_t more);
extern void fc_buf_put(FcBuf *b, const char *s, size_t n);
extern void fc_buf_puts(FcBuf *b, const char *s);
extern void fc_buf_printf(FcBuf *b, const char *fmt,...) __attribute__((format(printf, 2, 3)));
extern void fc_buf_free(FcBuf *b);

/*
 * A refusal or failure: "ERROR <sqlstate>: message", then DETAIL and HINT
 * lines, on stderr, and exit status 1 (the file being written is removed
 * first).  The message never holds a secret.
 */
extern void fc_fail(const char *sqlstate, const char *detail, const char *hint, const char *fmt,...)
			__attribute__((format(printf, 4, 5), noreturn));
/* the server's error of the last call on conn, as that */
extern void fc_fail_mysql(MYSQL *conn, const char *what) __attribute__((noreturn));
/*
 * While fc_fail_jump is set, fc_fail longjmps there instead of exiting, with
 * the message in fc_fail_text and its SQLSTATE in fc_fail_sqlstate (the
 * worker: one site's failure ends that site's batch, not the process).  Per
 * thread: the worker's network thread has none set (a failure there exits).
 */
extern _Thread_local jmp_buf *fc_fail_jump;
extern _Thread_local char fc_fail_text[1024];
extern _Thread_local const char *fc_fail_sqlstate;
extern _Thread_local char fc_fail_detail[1024];	/* "" when none */
extern _Thread_local char fc_fail_hint[1024];
/* a file to remove when the run fails (NULL: none) */
extern void fc_on_fail_remove(const char *path);

/* a site's connection and key, from its site_config.json */
typedef struct FcSite
{
	const char *database;
	const char *user;
	const char *password;
	const char *host;
	const char *socket;
	unsigned int port;
	const char *encryption_key;
} FcSite;

/* site_config (sites/SITE/site_config.json) over sites/common_site_config.json */
extern void fc_site_config(FcArena *a, const char *site_config, FcSite *c);
/* a whole file (at most 16 MB); fails with what it is in the message */
extern char *fc_read_file(FcArena *a, const char *path, const char *what, size_t *len);

/* `name` quoted for MariaDB (backticks doubled) / a string literal for the connection */
extern char *fc_ident(FcArena *a, const char *name);
extern char *fc_literal(FcArena *a, MYSQL *conn, const char *s);

/* a query whose rows are read whole (small: meta, columns); fails with the server's error */
extern MYSQL_RES *fc_query(MYSQL *conn, const char *sql, const char *what);

/* a DocType's meta (client_meta.c); NULL when there is no such DocType */
extern const FiDocMeta *fc_meta(MYSQL *conn, FcArena *a, const char *doctype);
/* forget the metas read (a new site or batch; their memory was the arena's) */
extern void fc_meta_reset(void);
/*
 * the cache used from now on: *entries (a site's own, NULL at first), its
 * metas kept in arena (which lives as long); NULL: the run's own cache
 */
extern void fc_meta_use(void **entries, FcArena *arena);
/* the site's table has the column */
extern bool fc_column_exists(MYSQL *conn, FcArena *a, const char *table, const char *column);
/* the table of a DocType has the column (a Custom Field before bench migrate has none) */
extern bool fc_meta_in_table(MYSQL *conn, FcArena *a, const FiDocMeta *meta, const char *column);

/*
 * import (client_import.c): Data Import of a CSV file, Insert New Records;
 * the result as import_csv's JSON on stdout; exit status 0, or 3 when
 * documents failed
 */
typedef struct FcImportOptions
{
	bool		dry_run,
				atomic,
				submit,			/* submit_after_import */
				update,			/* Update Existing Records */
				webhooks;		/* the site's webhooks fire for the imported documents */
	const char *user;			/* who owns the documents; NULL: Administrator */
	int			batch_docs;
	const char *data_import;	/* the Data Import to log to; NULL: none */
	/* column_to_field_map: column index (as text) -> field, n pairs */
	const char **map_columns;
	const char **map_fields;
	int			nmap;
} FcImportOptions;

extern int	fc_import_main(MYSQL *conn, FcArena *a, const char *doctype, const char *file, const FcImportOptions *o);

/*
 * PostgreSQL's option column_to_field_map (an object of column index to
 * field) into o; exits with 22023 (PostgreSQL's messages) when it is not
 * that.  map: the option's value as the template engine read it.
 */
struct FiVal;
extern void fc_import_column_map(FcArena *a, struct FiVal *map, FcImportOptions *o);

/* export [options] (client_export.c): the exit status */
extern int	fc_export_main(MYSQL *conn, FcArena *a, const char *doctype, const char *options_json,
						   const char *output, const char *file_type);

/*
 * export as JSON (client_json.c): bench export-json's list of documents
 * (options name, filters, order_by, limit), or with name one document in
 * bench export-doc's shape; jsonb's text of PostgreSQL's export_json and
 * export_doc.
 */
extern int	fc_export_json_main(MYSQL *conn, FcArena *a, const char *doctype, const char *options_json,
								const char *name, const char *output);

/*
 * webhook-pending (client_webhooks.c): the outbox's first `limit`
 * transactions as the worker delivers them, one JSON line per document
 */
extern int	fc_webhook_pending_main(MYSQL *conn, FcArena *a, int limit);

/*
 * The rest of a SELECT over the outbox's first (printf: %d) committed
 * transactions, each transaction's rows together in capture order.  One
 * transaction is the rows of one (connection_id, trx) (site_webhooks.sql
 * says how the trigger sets them), numbered by t.last_id, its last row's id;
 * the transactions come in that order.  The SELECT list names o's columns
 * and t.last_id.  Used by webhook-pending and the worker alike.
 */
#define FC_OUTBOX_TRANSACTIONS \
	"FROM `__fi_webhook_outbox` o " \
	"JOIN (SELECT connection_id, trx, MAX(id) AS last_id FROM `__fi_webhook_outbox` " \
	"GROUP BY connection_id, trx ORDER BY last_id LIMIT %d) t " \
	"ON t.connection_id = o.connection_id AND t.trx = o.trx " \
	"ORDER BY t.last_id, o.id"

/* an enabled webhook (or the one asked for) with its Header and Data rows */
typedef struct FcWebhook
{
	FiWebhookDef def;
	const char *doctype;
	uint32_t	event;			/* its FI_EV_ bit, 0: none known */
	const char *method;
	bool		secured;
	bool		has_condition;
	int			timeout_ms;
} FcWebhook;
extern int	fc_webhooks_load(MYSQL *conn, FcArena *a, const char *only, FcWebhook **out);
/* the site's now (System Settings' time zone, else UTC) as microseconds of the naive local time */
extern long long fc_site_now_usec(MYSQL *conn);
/* has_row and docstatus of a document's row now */
extern void fc_doc_row(MYSQL *conn, FcArena *a, const char *doctype, const char *name, bool *has_row,
					   int *docstatus);

/* webhook-preview (client_webhooks.c): PostgreSQL's webhook_preview(webhook, docname), its JSON text */
extern int	fc_webhook_preview_main(MYSQL *conn, FcArena *a, const char *webhook, const char *docname);

/*
 * job --job ID (client_job.c): one import or export job of SQL (__fi_jobs),
 * run on work, its outcome written on ctl; the exit status
 */
extern int	fc_job_main(MYSQL *ctl, MYSQL *work, FcArena *a, const char *id);
/* a job's directory ($TMPDIR/fi-job-<pid>-XXXXXX) and the files a job writes there, removed */
extern void fc_job_remove_dir(const char *dir);
/*
 * The named lock a job's process holds while it runs (SQL, of the job's id
 * as SQL text): fi_job:<database>:<id>, the database's MD5 when its name is
 * long (a lock's name has 64 characters at most).
 */
#define FC_JOB_LOCK(id) \
	"CONCAT('fi_job:', IF(CHAR_LENGTH(DATABASE()) <= 36, DATABASE(), MD5(DATABASE())), ':', " id ")"

/* worker (client_worker.c): the webhook worker of a bench's sites; its own options */
extern int	fc_worker_main(int argc, char **argv);

/*
 * a document's dict as Frappe's as_dict() gives it, children included
 * (client_json.c); dates_as_str false: date values, for a condition.
 * NULL when there is none of that name.
 */
extern FiVal *fc_read_doc(MYSQL *conn, FcArena *a, FiTpl *t, const FiDocMeta *meta, const char *name,
						  bool dates_as_str);

/*
 * the same for n documents of one DocType, set-wise (500 a query); docs[i]
 * NULL: none.  cdocs (or NULL): the same documents with date values (for
 * conditions), from the same rows.
 */
extern void fc_read_docs(MYSQL *conn, FcArena *a, FiTpl *t, const FiDocMeta *meta, char **names, int n,
						 bool dates_as_str, const char *const *fields, int nfields, FiVal **docs, FiVal **cdocs);

#endif							/* FI_MARIADB_CLIENT_H */
