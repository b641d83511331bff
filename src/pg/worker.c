/*
 * worker.c
 *		The background workers that deliver queued webhooks: a launcher that
 *		starts one worker per database of the server, and that worker's loop
 *		(claim due rows, commit, send with no transaction open, record the
 *		outcomes and the tabWebhook Request Log rows in one transaction).
 *
 * Serving every site of a bench needs no configuration: the launcher reads
 * pg_database and starts a worker for each database that allows
 * connections; a worker whose database lacks the extension, or that has
 * been idle a while with nothing due, leaves (so DROP DATABASE is not held
 * up) and is started again when a commit in its database queues something
 * (the committing backend sets the launcher's latch) or at the next scan.
 * Both run only once recovery has finished: a hot standby sends nothing,
 * and after promotion what was pending is delivered.
 *
 * At-least-once: a claimed row is 'sending' with a lease; a crash leaves the
 * lease to expire and the row is claimed again with the same event id.
 *
 * The same worker sends the requests of integrations.http_request_async
 * (integrations.http_queue, http_queue.c) through the same sender: they are
 * claimed with the outbox's events, when a commit queued some or one is
 * due, and recorded in the same transactions.
 */
#include "postgres.h"

#include <math.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "frappe_integrations.h"
#include "delivery.h"
#include "http.h"
#include "webhook.h"

#define MAX_DB_WORKERS		64
#define IDLE_EXIT_MS		30000	/* nothing due for this long: leave */
#define SCAN_INTERVAL_MS	60000
#define RESULT_FLUSH_MS		20
/* longest wait on the network with requests in flight: a commit sets the
 * latch, which libcurl's poll does not see, so look at it this often */
#define SEND_POLL_MS		2
#define CLAIM_GAP_MS		2	/* under load, claims this far apart at least */
#define RECORD_BATCH		256	/* outcomes written at once when this many wait */
#define UNPACK_CHECK_MS		5000	/* the outbox looked at this often at least */
#define DUE_RECHECK_MS		1000	/* the queue looked at this often when idle */
#define HOUSEKEEPING_GRACE_MS	300000	/* retention waits this long for an idle moment */

/* settings */
int			fi_worker_concurrency = 32;
int			fi_max_attempts = 8;
int			fi_retry_base_ms = 1000;
int			fi_log_retention_days = 30;
bool		fi_log_requests = true;
bool		fi_deliver = true;
char	   *fi_ca_bundle = NULL;

typedef struct DbSlot
{
	Oid			dboid;
	pid_t		pid;
	Latch	   *latch;
	bool		outbox;			/* a commit wrote webhook_outbox rows */
} DbSlot;

typedef struct WorkerShmem
{
	slock_t		mutex;
	Latch	   *launcher_latch;
	DbSlot		slots[MAX_DB_WORKERS];
	Oid			wanted[MAX_DB_WORKERS];	/* databases that asked for a worker */
	int			nwanted;
	Oid			held[MAX_DB_WORKERS];	/* no worker here: DROP/ALTER DATABASE runs */
} WorkerShmem;

static WorkerShmem *wshm = NULL;
static bool preloaded = false;

#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
worker_shmem_request(void)
{
#if PG_VERSION_NUM >= 150000
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
#endif
	RequestAddinShmemSpace(MAXALIGN(sizeof(WorkerShmem)));
}

static void
worker_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	wshm = ShmemInitStruct("frappe_integrations workers", sizeof(WorkerShmem), &found);
	if (!found)
	{
		memset(wshm, 0, sizeof(WorkerShmem));
		SpinLockInit(&wshm->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

static ProcessUtility_hook_type prev_utility_hook = NULL;

static bool
db_held(Oid dboid)
{
	bool		held = false;

	SpinLockAcquire(&wshm->mutex);
	for (int i = 0; i < MAX_DB_WORKERS; i++)
		held |= wshm->held[i] == dboid;
	SpinLockRelease(&wshm->mutex);
	return held;
}

static void
hold_db(Oid dboid, bool on)
{
	SpinLockAcquire(&wshm->mutex);
	for (int i = 0; i < MAX_DB_WORKERS; i++)
		if (on ? wshm->held[i] == InvalidOid : wshm->held[i] == dboid)
		{
			wshm->held[i] = on ? dboid : InvalidOid;
			break;
		}
	SpinLockRelease(&wshm->mutex);
}

/*
 * DROP DATABASE (and ALTER/RENAME DATABASE, which also need it empty) must
 * never wait for our worker: before the command runs, the database's worker
 * is asked to leave (SIGTERM: it puts its claimed rows back) and none is
 * started there until the command is done.
 */
static void
leave_database(Oid dboid)
{
	pid_t		pid = 0;

	hold_db(dboid, true);
	for (int tries = 0; tries < 1000; tries++)	/* 10 s at most */
	{
		pid = 0;
		SpinLockAcquire(&wshm->mutex);
		for (int i = 0; i < MAX_DB_WORKERS; i++)
			if (wshm->slots[i].dboid == dboid)
				pid = wshm->slots[i].pid;
		SpinLockRelease(&wshm->mutex);
		if (pid == 0)
			return;
		if (tries == 0)
			(void) kill(pid, SIGTERM);
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10000);
	}
}

#if PG_VERSION_NUM >= 140000
#define UTILITY_READONLY_ARG bool readOnlyTree,
#define UTILITY_READONLY readOnlyTree,
#else
#define UTILITY_READONLY_ARG
#define UTILITY_READONLY
#endif

static void
fi_utility_hook(PlannedStmt *pstmt, const char *queryString, UTILITY_READONLY_ARG
				ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *queryEnv,
				DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *n = pstmt->utilityStmt;
	const char *dbname = NULL;
	volatile Oid dboid = InvalidOid;

	if (IsA(n, DropdbStmt))
		dbname = ((DropdbStmt *) n)->dbname;
	else if (IsA(n, RenameStmt) && ((RenameStmt *) n)->renameType == OBJECT_DATABASE)
		dbname = ((RenameStmt *) n)->subname;
	else if (IsA(n, AlterDatabaseStmt))
		dbname = ((AlterDatabaseStmt *) n)->dbname;
	if (dbname && wshm != NULL)
		dboid = get_database_oid(dbname, true);
	if (OidIsValid(dboid) && dboid != MyDatabaseId)
		leave_database(dboid);
	PG_TRY();
	{
		if (prev_utility_hook)
			prev_utility_hook(pstmt, queryString, UTILITY_READONLY context, params, queryEnv,
							  dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, UTILITY_READONLY context, params,
									queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		if (OidIsValid(dboid) && dboid != MyDatabaseId)
			hold_db(dboid, false);
	}
	PG_END_TRY();
}

void
fi_worker_init(void)
{
	BackgroundWorker bgw;

	DefineCustomIntVariable("frappe_integrations.concurrency",
							"Webhook requests in flight at once, per database.",
							NULL, &fi_worker_concurrency, 32, 1, 1000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("frappe_integrations.max_attempts",
							"Attempts per webhook event before it is kept as failed.",
							NULL, &fi_max_attempts, 8, 1, 100,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("frappe_integrations.retry_base",
							"The first retry's delay; each next one doubles (with jitter).",
							NULL, &fi_retry_base_ms, 1000, 10, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("frappe_integrations.log_retention",
							"Days tabWebhook Request Log rows and delivered queue rows are kept.",
							NULL, &fi_log_retention_days, 30, 0, 3650,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("frappe_integrations.deliver",
							 "Send queued webhook events and HTTP requests (off: they wait in their queues).",
							 NULL, &fi_deliver, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("frappe_integrations.log_requests",
							 "Write a tabWebhook Request Log row per delivery attempt.",
							 NULL, &fi_log_requests, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("frappe_integrations.ca_bundle",
							   "CA certificates to verify HTTPS receivers with (default: the system's).",
							   NULL, &fi_ca_bundle, "",
							   PGC_SIGHUP, 0, NULL, NULL, NULL);

	if (!process_shared_preload_libraries_in_progress)
		return;
	preloaded = true;
#if PG_VERSION_NUM >= 150000
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = worker_shmem_request;
#else
	worker_shmem_request();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = worker_shmem_startup;
	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = fi_utility_hook;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = 5;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "frappe_integrations");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "fi_launcher_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "frappe_integrations launcher");
	snprintf(bgw.bgw_type, BGW_MAXLEN, "frappe_integrations launcher");
	RegisterBackgroundWorker(&bgw);
}

bool
fi_worker_preloaded(void)
{
	return preloaded;
}

/*
 * A commit queued webhook events in this database: wake its worker, or ask
 * the launcher for one.
 */
void
fi_worker_wake(bool outbox)
{
	Latch	   *latch = NULL;

	if (wshm == NULL)
		return;
	SpinLockAcquire(&wshm->mutex);
	for (int i = 0; i < MAX_DB_WORKERS; i++)
		if (wshm->slots[i].dboid == MyDatabaseId && wshm->slots[i].latch)
		{
			latch = wshm->slots[i].latch;
			wshm->slots[i].outbox |= outbox;
			break;
		}
	if (latch == NULL)
	{
		bool		asked = false;

		for (int i = 0; i < wshm->nwanted; i++)
			asked |= wshm->wanted[i] == MyDatabaseId;
		if (!asked && wshm->nwanted < MAX_DB_WORKERS)
			wshm->wanted[wshm->nwanted++] = MyDatabaseId;
		latch = wshm->launcher_latch;
	}
	SpinLockRelease(&wshm->mutex);
	if (latch)
		SetLatch(latch);
}

/* ---- the launcher ---- */

typedef struct DbRun
{
	Oid			dboid;
	BackgroundWorkerHandle *handle;
	TimestampTz next_start;
} DbRun;

static DbRun runs[MAX_DB_WORKERS];
static int	nruns = 0;

/* is the database's worker registered or running? (and notice its end) */
static bool
db_worker_alive(DbRun *r, TimestampTz now)
{
	pid_t		pid;

	if (r->handle == NULL)
		return false;
	switch (GetBackgroundWorkerPid(r->handle, &pid))
	{
		case BGWH_STARTED:
		case BGWH_NOT_YET_STARTED:
			return true;
		default:
			/*
			 * It left: no extension there, idle with nothing pending, or
			 * killed.  Not again before a commit there asks for it (or a
			 * while has passed).
			 */
			pfree(r->handle);
			r->handle = NULL;
			r->next_start = TimestampTzPlusMilliseconds(now, 10 * SCAN_INTERVAL_MS);
			return false;
	}
}

static DbRun *
db_run(Oid dboid)
{
	for (int i = 0; i < nruns; i++)
		if (runs[i].dboid == dboid)
			return &runs[i];
	if (nruns == MAX_DB_WORKERS)
		return NULL;
	runs[nruns].dboid = dboid;
	runs[nruns].handle = NULL;
	runs[nruns].next_start = 0;
	return &runs[nruns++];
}

/* start the database's worker unless it runs; false when no slot was free */
static bool
start_db_worker(Oid dboid, bool asked)
{
	BackgroundWorker bgw;
	DbRun	   *r = db_run(dboid);
	TimestampTz now = GetCurrentTimestamp();

	if (r == NULL || db_worker_alive(r, now))
		return true;
	if (!asked && now < r->next_start)
		return true;
	if (db_held(dboid))
		return true;			/* DROP/ALTER DATABASE runs there */
	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "frappe_integrations");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "fi_webhook_worker_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "frappe_integrations webhook worker");
	snprintf(bgw.bgw_type, BGW_MAXLEN, "frappe_integrations webhook worker");
	bgw.bgw_main_arg = ObjectIdGetDatum(dboid);
	bgw.bgw_notify_pid = MyProcPid;
	bgw.bgw_extra[0] = asked ? 1 : 0;	/* a probe leaves at once when idle */
	if (!RegisterDynamicBackgroundWorker(&bgw, &r->handle))
	{
		static TimestampTz last_warned = 0;

		r->handle = NULL;
		/* no free slot now: tried again soon; said at most once a minute */
		if (TimestampDifferenceExceeds(last_warned, now, 60 * 1000))
		{
			ereport(WARNING,
					(errmsg("no background worker slot is free for the webhook worker of database %u", dboid),
					 errdetail("Its webhook events and queued HTTP requests wait until one is."),
					 errhint("Raise max_worker_processes: a worker per database with events to deliver, plus the launcher.")));
			last_warned = now;
		}
		return false;
	}
	return true;
}

/* workers started per round of the scan (a round every half second) */
#define MAX_PROBES 4

/*
 * Look at every database: one whose worker is not running (and was not
 * stopped lately) gets one, which leaves at once if the extension is not
 * there.  Few at a time, so as not to take every background worker slot.
 * Returns true when some were left for the next round.
 */
static bool
scan_databases(void)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	Oid		   *dbs = palloc(sizeof(Oid) * MAX_DB_WORKERS);
	int			n = 0,
				probes = 0;
	bool		more = false;
	TimestampTz now;

	StartTransactionCommand();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL && n < MAX_DB_WORKERS)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (db->datallowconn && !db->datistemplate)
			dbs[n++] = db->oid;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	now = GetCurrentTimestamp();
	for (int i = 0; i < n; i++)
	{
		DbRun	   *r = db_run(dbs[i]);

		if (r == NULL)
			continue;
		if (db_worker_alive(r, now))
			continue;
		if (now < r->next_start)
			continue;
		if (probes >= MAX_PROBES)
		{
			more = true;
			continue;
		}
		if (start_db_worker(dbs[i], false))
			probes++;
		else
			more = true;
	}
	pfree(dbs);
	return more;
}

PGDLLEXPORT void fi_launcher_main(Datum arg);

void
fi_launcher_main(Datum arg)
{
	TimestampTz next_scan = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("frappe_integrations launcher");

	SpinLockAcquire(&wshm->mutex);
	wshm->launcher_latch = MyLatch;
	SpinLockRelease(&wshm->mutex);

	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		Oid			wanted[MAX_DB_WORKERS];
		int			nwanted;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			bool		was = fi_deliver;

			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			if (fi_deliver && !was)
			{
				/* delivery resumed: look for pending events everywhere now */
				for (int i = 0; i < nruns; i++)
					runs[i].next_start = 0;
				next_scan = 0;
			}
		}
		SpinLockAcquire(&wshm->mutex);
		nwanted = wshm->nwanted;
		memcpy(wanted, wshm->wanted, sizeof(Oid) * nwanted);
		wshm->nwanted = 0;
		SpinLockRelease(&wshm->mutex);
		for (int i = 0; i < nwanted; i++)
			if (!start_db_worker(wanted[i], true))
			{
				/* no free slot: ask again */
				SpinLockAcquire(&wshm->mutex);
				if (wshm->nwanted < MAX_DB_WORKERS)
					wshm->wanted[wshm->nwanted++] = wanted[i];
				SpinLockRelease(&wshm->mutex);
				next_scan = 0;
			}
		if (now >= next_scan)
		{
			bool		more = scan_databases();

			/* the rest of the probes after the first ones have left */
			next_scan = TimestampTzPlusMilliseconds(now, more ? 500 : SCAN_INTERVAL_MS);
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(10, Min(SCAN_INTERVAL_MS,
									 TimestampDifferenceMilliseconds(GetCurrentTimestamp(), next_scan))),
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* ---- the per-database worker ---- */

static volatile sig_atomic_t got_sigterm = false;
static bool http_queue_present = false;	/* integrations.http_queue (0.7.0 on) */
static int64 next_due_ms(void);
static int64 due_ms_query(void);

static void
worker_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/*
 * Is the extension installed here?  Asked of pg_extension, and the queue
 * must be the extension's own relation: a schema "integrations" that a
 * database's owner made, with a "webhook_queue" view of their own, is not
 * the extension, and the worker runs none of its SQL there.
 */
static bool
extension_present(void)
{
	bool		ok;

	StartTransactionCommand();
	ok = fi_extension_installed_here() && fi_extension_relation("webhook_queue") &&
		fi_extension_relation("webhook_outbox");
	/* an older version's objects under this library: no async HTTP until updated */
	http_queue_present = ok && fi_extension_relation("http_queue");
	fi_http_queue_payments = http_queue_present && fi_http_queue_has_payments();
	CommitTransactionCommand();
	return ok;
}

/* a transaction of the worker's own, with SPI connected */
static void
xact_spi_begin(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

static void
xact_spi_end(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/* the decrypted webhook_secret, or NULL with *why set */
static char *
webhook_secret(const char *webhook, MemoryContext cxt, char **why)
{
	Oid			auth = fi_site_table_oid("__Auth", true);
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(webhook)};
	char	   *token;
	char	   *secret = NULL;
	int			ret;
	FiSecure	sec;

	*why = NULL;
	if (!OidIsValid(auth))
	{
		*why = "the site has no __Auth table for the webhook secret";
		return NULL;
	}
	/* the site's table, read as its owner (secure.c) */
	fi_secure_enter(&sec, fi_rel_owner(auth));
	ret = fi_spi_execute(psprintf("SELECT password FROM %s WHERE doctype = 'Webhook' "
								  "AND name = $1 AND fieldname = 'webhook_secret'",
								  fi_site_table("__Auth")),
						 1, argtypes, args, NULL, true, 1);
	fi_secure_exit(&sec);
	if (ret != SPI_OK_SELECT || SPI_processed == 0 ||
		(token = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)) == NULL ||
		token[0] == '\0')
	{
		*why = "enable_security is set but the webhook has no secret";
		return NULL;
	}
	PG_TRY();
	{
		char	   *plain = fi_decrypt_with_site_key(token, strlen(token));

		secret = MemoryContextStrdup(cxt, plain);
		explicit_bzero(plain, strlen(plain));
	}
	PG_CATCH();
	{
		/* the key missing or wrong: say so without the token or the key */
		FlushErrorState();
		*why = "the webhook secret cannot be decrypted (is frappe_integrations.encryption_key the site's key?)";
		secret = NULL;
	}
	PG_END_TRY();
	return secret;
}

/* the secrets of the webhooks of one claimed batch, read once each */
typedef struct SecretMemo
{
	const char *webhook;
	char	   *secret;			/* NULL: see why */
	char	   *why;
	struct SecretMemo *next;
} SecretMemo;

static SecretMemo *
secret_of(SecretMemo **memo, const char *webhook, MemoryContext cxt)
{
	SecretMemo *m;

	for (m = *memo; m; m = m->next)
		if (strcmp(m->webhook, webhook) == 0)
			return m;
	m = MemoryContextAllocZero(cxt, sizeof(SecretMemo));
	m->webhook = MemoryContextStrdup(cxt, webhook);
	m->secret = webhook_secret(webhook, cxt, &m->why);
	m->next = *memo;
	*memo = m;
	return m;
}

/*
 * Move the events large transactions left in webhook_outbox into
 * webhook_queue, a few batches at a time, oldest first, in the caller's
 * transaction: their ids, bodies and times are those fixed at commit.
 */
static uint64
unpack_outbox(void)
{
	int			ret;

	ret = fi_spi_execute("WITH o AS (DELETE FROM " FI_SCHEMA ".webhook_outbox "
						 "WHERE id IN (SELECT id FROM " FI_SCHEMA ".webhook_outbox "
						 "ORDER BY id LIMIT 8 FOR UPDATE SKIP LOCKED) RETURNING *) "
						 "INSERT INTO " FI_SCHEMA ".webhook_queue (event_id, webhook, "
						 "doctype, docname, event, method, url, headers, body, sign, "
						 "timeout_ms, doc_user, status, last_error, created_at, "
						 "next_attempt_at) "
						 "SELECT x.i, x.w, x.d, x.n, x.e, x.m, x.u, x.h::jsonb, x.b, x.s, "
						 "x.t, x.us, x.st, x.er, o.created_at, o.created_at FROM o, "
						 "unnest(o.event_id, o.webhook, o.doctype, o.docname, o.event, "
						 "o.method, o.url, o.headers, o.body, o.sign, o.timeout_ms, "
						 "o.doc_user, o.status, o.last_error) WITH ORDINALITY "
						 "AS x(i, w, d, n, e, m, u, h, b, s, t, us, st, er, k) "
						 "ORDER BY o.id, x.k",
						 0, NULL, NULL, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "moving webhook events from the outbox failed: %s",
			 SPI_result_code_string(ret));
	return SPI_processed;
}

/*
 * Claim up to n due rows: 'sending' with a lease, attempts + 1.  A claimed
 * row is due again when its lease ends (next_attempt_at moves there), so
 * pending and claimed rows are found alike, in due order, by one range of
 * the partial index webhook_queue_due; the scan stops after n rows.
 * Returns them as deliveries allocated in cxt (a list through ->next).
 */
static FiDelivery *
claim(int n, MemoryContext cxt, FiDelivery **failed_setup, bool *unpack, int *nclaimed,
	  int64 *due_ms)
{
	FiDelivery *list = NULL;
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1] = {Int32GetDatum(n)};
	MemoryContext memo_cxt;
	SecretMemo *memo = NULL;
	int			ret;

	xact_spi_begin();
	*nclaimed = 0;
	/* the side tables only when a commit wrote to them (or they may hold rows) */
	if (*unpack)
	{
		bool		side = unpack_outbox() > 0;

		if (http_queue_present)
		{
			/* half the batch at most: a burst of requests does not hold up webhooks */
			int			limit = Max(1, n / 2);
			int			got;
			FiDelivery *h = fi_http_queue_claim(limit, cxt, &got);

			side |= got == limit;	/* there may be more */
			*nclaimed += got;
			n -= got;
			while (h)
			{
				FiDelivery *next = h->next;

				if (h->done)	/* cannot be sent: its error is its outcome */
				{
					h->next = *failed_setup;
					*failed_setup = h;
				}
				else
				{
					h->next = list;
					list = h;
				}
				h = next;
			}
		}
		*unpack = side;
	}
	args[0] = Int32GetDatum(n);
	memo_cxt = AllocSetContextCreate(CurrentMemoryContext, "webhook secrets",
									 ALLOCSET_SMALL_SIZES);
	if (n <= 0)
		ret = SPI_OK_UPDATE_RETURNING;	/* the requests took the whole batch */
	else
		ret = fi_spi_execute("UPDATE " FI_SCHEMA ".webhook_queue q SET status = 'sending', "
							 "attempts = q.attempts + 1, "
							 "lease_until = " FI_LEASE_END ", next_attempt_at = " FI_LEASE_END " "
							 "WHERE q.id IN (SELECT id FROM " FI_SCHEMA ".webhook_queue "
							 "WHERE status IN ('pending', 'sending') AND next_attempt_at <= now() "
							 "ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED) "
							 "RETURNING q.id, q.event_id, q.webhook, q.doctype, q.docname, q.method, "
							 "q.url, q.headers, q.body, q.sign, q.timeout_ms, q.attempts, q.doc_user",
							 1, argtypes, args, NULL, false, 0);
	if (ret != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "claiming webhook events failed: %s", SPI_result_code_string(ret));
	if (n > 0)
	{
		SPITupleTable *tt = SPI_tuptable;
		uint64		rows = SPI_processed;

		*nclaimed += (int) rows;
		for (uint64 r = 0; r < rows; r++)
		{
			HeapTuple	tup = tt->vals[r];
			TupleDesc	desc = tt->tupdesc;
			MemoryContext dcxt = AllocSetContextCreate(cxt, "webhook delivery",
													   ALLOCSET_SMALL_SIZES);
			FiDelivery *d = MemoryContextAllocZero(dcxt, sizeof(FiDelivery));
			bool		isnull;
			bytea	   *body;

			d->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
			d->event_id = fi_spi_getstr(tup, desc, 2, dcxt);
			d->webhook = fi_spi_getstr(tup, desc, 3, dcxt);
			d->doctype = fi_spi_getstr(tup, desc, 4, dcxt);
			d->docname = fi_spi_getstr(tup, desc, 5, dcxt);
			d->method = fi_spi_getstr(tup, desc, 6, dcxt);
			d->url = fi_spi_getstr(tup, desc, 7, dcxt);
			d->headers_json = fi_spi_getstr(tup, desc, 8, dcxt);
			body = DatumGetByteaPP(SPI_getbinval(tup, desc, 9, &isnull));
			d->bodylen = VARSIZE_ANY_EXHDR(body);
			d->body = MemoryContextAlloc(dcxt, d->bodylen + 1);
			memcpy(d->body, VARDATA_ANY(body), d->bodylen);
			d->body[d->bodylen] = '\0';
			d->timeout_ms = DatumGetInt32(SPI_getbinval(tup, desc, 11, &isnull));
			d->attempt = DatumGetInt32(SPI_getbinval(tup, desc, 12, &isnull));
			d->user = fi_spi_getstr(tup, desc, 13, dcxt);
			if (DatumGetBool(SPI_getbinval(tup, desc, 10, &isnull)))
			{
				SecretMemo *m = secret_of(&memo, d->webhook, memo_cxt);

				if (m->secret == NULL)
				{
					d->error = MemoryContextStrdup(dcxt, m->why);
					d->no_retry = true;
					d->done = true;
					d->next = *failed_setup;
					*failed_setup = d;
					continue;
				}
				d->secret = MemoryContextStrdup(dcxt, m->secret);
			}
			if (d->url == NULL || fi_webhook_url_problem(d->url))
			{
				d->error = MemoryContextStrdup(dcxt, d->url ? fi_webhook_url_problem(d->url) :
											   "the event has no URL");
				d->no_retry = true;
				d->done = true;
				d->next = *failed_setup;
				*failed_setup = d;
				continue;
			}
			d->next = list;
			list = d;
		}
	}
	for (SecretMemo *m = memo; m; m = m->next)
		if (m->secret)
			explicit_bzero(m->secret, strlen(m->secret));
	MemoryContextDelete(memo_cxt);
	*due_ms = due_ms_query();	/* what is left, for the worker's next wait */
	xact_spi_end();
	return list;
}

static char *
http_status_text(FiDelivery *d)
{
	if (d->http_status)
		return psprintf("HTTP %ld", d->http_status);
	return d->error ? d->error : "no response";
}

/*
 * Record what happened to each delivery (one transaction): the queue row's
 * new status, and a tabWebhook Request Log row per attempt.
 */
static void
record(FiDelivery *done, int64 *due_ms)
{
	int			n = 0;
	Datum	   *ids,
			   *statuses,
			   *codes,
			   *errors,
			   *delays;
	bool	   *code_nulls,
			   *error_nulls;
	Oid			types[5] = {INT8ARRAYOID, TEXTARRAYOID, INT4ARRAYOID, TEXTARRAYOID, INT8ARRAYOID};
	const char **logcols[9];
	Datum		args[5];
	int			ret;
	int			nhttp = 0;

	for (FiDelivery *d = done; d; d = d->next)
	{
		n += !d->http;
		nhttp += d->http;
	}
	if (n + nhttp == 0)
		return;
	xact_spi_begin();
	if (nhttp > 0)
		fi_http_queue_record(done);
	if (n == 0)
	{
		*due_ms = due_ms_query();
		xact_spi_end();
		return;
	}
	ids = palloc(sizeof(Datum) * n);
	statuses = palloc(sizeof(Datum) * n);
	codes = palloc(sizeof(Datum) * n);
	errors = palloc(sizeof(Datum) * n);
	delays = palloc(sizeof(Datum) * n);
	code_nulls = palloc(sizeof(bool) * n);
	error_nulls = palloc(sizeof(bool) * n);
	{
		/* the log rows of the batch, as columns */
		const char **lw = palloc(sizeof(char *) * n),
				  **ldt = palloc(sizeof(char *) * n),
				  **ldn = palloc(sizeof(char *) * n),
				  **lu = palloc(sizeof(char *) * n),
				  **lh = palloc(sizeof(char *) * n),
				  **ld = palloc(sizeof(char *) * n),
				  **lus = palloc(sizeof(char *) * n),
				  **lr = palloc(sizeof(char *) * n),
				  **le = palloc(sizeof(char *) * n);

		logcols[0] = lw;
		logcols[1] = ldt;
		logcols[2] = ldn;
		logcols[3] = lu;
		logcols[4] = lh;
		logcols[5] = ld;
		logcols[6] = lus;
		logcols[7] = lr;
		logcols[8] = le;
	}
	n = 0;
	for (FiDelivery *d = done; d; d = d->next)
	{
		int64		delay = 0;
		FiOutcome	o;
		char	   *err = NULL;

		if (d->http)
			continue;			/* recorded above */
		o = fi_delivery_outcome(d, fi_max_attempts, fi_retry_base_ms, &delay);
		if (o != FI_OUTCOME_DELIVERED)
			err = d->error ? d->error : http_status_text(d);
		ids[n] = Int64GetDatum(d->id);
		statuses[n] = CStringGetTextDatum(o == FI_OUTCOME_DELIVERED ? "delivered" :
										  o == FI_OUTCOME_RETRY ? "pending" : "failed");
		code_nulls[n] = d->http_status == 0;
		codes[n] = Int32GetDatum((int32) d->http_status);
		error_nulls[n] = err == NULL;
		errors[n] = err ? CStringGetTextDatum(err) : (Datum) 0;
		delays[n] = Int64GetDatum(delay);
		logcols[0][n] = d->webhook;
		logcols[1][n] = d->doctype;
		logcols[2][n] = d->docname;
		logcols[3][n] = d->url;
		logcols[4][n] = d->sent_headers.data ? d->sent_headers.data : NULL;
		logcols[5][n] = d->body;
		logcols[6][n] = d->user;
		logcols[7][n] = d->response.data && d->http_status ? d->response.data : NULL;
		logcols[8][n] = err ? err : "";
		n++;
	}
	if (fi_log_requests)
		fi_webhook_log_many(n, logcols[0], logcols[1], logcols[2], logcols[3], logcols[4],
							logcols[5], logcols[6], logcols[7], logcols[8]);
	{
		int			dims[1] = {n};
		int			lbs[1] = {1};

		args[0] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, true, TYPALIGN_DOUBLE));
		args[1] = PointerGetDatum(construct_array(statuses, n, TEXTOID, -1, false, TYPALIGN_INT));
		args[2] = PointerGetDatum(construct_md_array(codes, code_nulls, 1, dims, lbs, INT4OID, 4,
													 true, TYPALIGN_INT));
		args[3] = PointerGetDatum(construct_md_array(errors, error_nulls, 1, dims, lbs, TEXTOID,
													 -1, false, TYPALIGN_INT));
		args[4] = PointerGetDatum(construct_array(delays, n, INT8OID, 8, true, TYPALIGN_DOUBLE));
	}
	ret = fi_spi_execute("UPDATE " FI_SCHEMA ".webhook_queue q SET status = r.st, "
						 "last_status = r.code, last_error = r.err, lease_until = NULL, "
						 "delivered_at = CASE WHEN r.st = 'delivered' THEN now() END, "
						 "next_attempt_at = now() + make_interval(secs => r.delay / 1000.0) "
						 "FROM unnest($1, $2, $3, $4, $5) AS r(id, st, code, err, delay) "
						 "WHERE q.id = r.id AND q.status = 'sending'",
						 5, types, args, NULL, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "recording webhook outcomes failed: %s", SPI_result_code_string(ret));
	*due_ms = due_ms_query();	/* retries just scheduled among them */
	xact_spi_end();
}

/* put claimed rows back (shutdown): due again at once, attempt not counted */
static void
release(FiDelivery *list)
{
	StringInfoData ids;

	if (list == NULL)
		return;
	initStringInfo(&ids);
	for (FiDelivery *d = list; d; d = d->next)
		if (!d->http)
			appendStringInfo(&ids, "%s" INT64_FORMAT, ids.len ? "," : "", d->id);
	xact_spi_begin();
	if (ids.len > 0)
		SPI_execute(psprintf("UPDATE " FI_SCHEMA ".webhook_queue SET status = 'pending', "
							 "attempts = greatest(attempts - 1, 0), lease_until = NULL, "
							 "next_attempt_at = now() "
							 "WHERE id IN (%s) AND status = 'sending'", ids.data), false, 0);
	fi_http_queue_release(list);
	xact_spi_end();
}

/*
 * Milliseconds until the next row comes due (-1: none pending; 0 also while
 * the outbox holds events), in the caller's transaction.  A pending row is
 * due at next_attempt_at, a claimed one when its lease ends (the same).
 */
static int64
due_ms_query(void)
{
	int64		ms = -1;
	const char *sql;

	/* a row of either queue is due at next_attempt_at (the oldest first) */
	if (http_queue_present)
		sql = "SELECT CASE WHEN EXISTS (SELECT FROM " FI_SCHEMA ".webhook_outbox) THEN 0 "
			"ELSE greatest(0, extract(epoch FROM least("
			"(SELECT min(next_attempt_at) FROM " FI_SCHEMA ".webhook_queue "
			"WHERE status IN ('pending', 'sending')), "
			"(SELECT min(next_attempt_at) FROM " FI_SCHEMA ".http_queue "
			"WHERE status IN ('pending', 'sending'))) - clock_timestamp()) * 1000)::bigint END";
	else
		sql = "SELECT CASE WHEN EXISTS (SELECT FROM " FI_SCHEMA ".webhook_outbox) "
			"THEN 0 ELSE greatest(0, extract(epoch FROM min(next_attempt_at) - "
			"clock_timestamp()) * 1000)::bigint END FROM " FI_SCHEMA ".webhook_queue "
			"WHERE status IN ('pending', 'sending')";
	if (fi_spi_execute(sql, 0, NULL, NULL, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			ms = DatumGetInt64(d);
	}
	return ms;
}

/* the same in a transaction of its own */
static int64
next_due_ms(void)
{
	int64		ms;

	xact_spi_begin();
	ms = due_ms_query();
	xact_spi_end();
	return ms;
}

/* the results of async HTTP requests past frappe_integrations.http_retention */
static void
http_purge(void)
{
	if (!http_queue_present)
		return;
	xact_spi_begin();
	fi_http_queue_purge();
	xact_spi_end();
}

static void
retention(void)
{
	char	   *days = psprintf("%d", fi_log_retention_days);

	xact_spi_begin();
	SPI_execute(psprintf("DELETE FROM " FI_SCHEMA ".webhook_queue WHERE status = 'delivered' "
						 "AND delivered_at < now() - interval '%s days'", days), false, 0);
	if (OidIsValid(fi_site_table_oid("tabWebhook Request Log", true)))
	{
		FiSecure	sec;

		/* the site's log, as its owner: its triggers run with no more rights */
		fi_secure_enter(&sec, fi_site_table_owner("tabWebhook Request Log"));
		SPI_execute(psprintf("DELETE FROM %s WHERE modified < " FI_SCHEMA ".site_now() - "
							 "interval '%s days'", fi_site_table("tabWebhook Request Log"), days),
					false, 0);
		fi_secure_exit(&sec);
	}
	xact_spi_end();
}

/* did a commit write webhook_outbox rows since we last looked? */
static bool
take_outbox_flag(void)
{
	bool		v = false;

	SpinLockAcquire(&wshm->mutex);
	for (int i = 0; i < MAX_DB_WORKERS; i++)
		if (wshm->slots[i].pid == MyProcPid)
		{
			v = wshm->slots[i].outbox;
			wshm->slots[i].outbox = false;
			break;
		}
	SpinLockRelease(&wshm->mutex);
	return v;
}

static void
register_slot(Oid dboid, bool on)
{
	SpinLockAcquire(&wshm->mutex);
	for (int i = 0; i < MAX_DB_WORKERS; i++)
	{
		DbSlot	   *s = &wshm->slots[i];

		if (on && s->dboid == InvalidOid)
		{
			s->dboid = dboid;
			s->pid = MyProcPid;
			s->latch = MyLatch;
			s->outbox = false;
			break;
		}
		if (!on && s->dboid == dboid && s->pid == MyProcPid)
		{
			s->dboid = InvalidOid;
			s->pid = 0;
			s->latch = NULL;
			break;
		}
	}
	SpinLockRelease(&wshm->mutex);
}

static void
unregister_slot(int code, Datum arg)
{
	register_slot(DatumGetObjectId(arg), false);
}

PGDLLEXPORT void fi_webhook_worker_main(Datum arg);


/* deliveries whose outcome is known, waiting to be recorded */
typedef struct Outcomes
{
	FiDelivery *list;
	int			n;
	TimestampTz first;			/* when the oldest of them came */
} Outcomes;

static void
outcomes_add(Outcomes *o, FiDelivery *d)
{
	if (o->list == NULL)
		o->first = GetCurrentTimestamp();
	d->next = o->list;
	o->list = d;
	o->n++;
}

void
fi_webhook_worker_main(Datum arg)
{
	Oid			dboid = DatumGetObjectId(arg);
	MemoryContext cxt;
	FiSender   *sender;
	Outcomes	results = {NULL, 0, 0};
	FiDelivery *backlog = NULL,
			   *backlog_tail = NULL;
	int			nbacklog = 0;
	TimestampTz idle_since,
				next_retention = 0,
				next_http_purge = 0,
				next_ext_check = 0,
				next_unpack = 0,
				due_seen;
	int			last_claim_got = 0;
	long		claim_wait;
	TimestampTz last_claim = 0;
	int64		due_ms = -1;	/* as of due_seen: when the next row comes due */
	bool		check_due = true;
	bool		claimed_nothing = false;
	bool		unpack = true;	/* look in the outbox (at start: events of a crash) */

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, worker_sigterm);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("frappe_integrations webhook worker");
	/*
	 * Before any SQL: the database's own search_path (ALTER DATABASE SET)
	 * could otherwise put a role's functions and operators in front of the
	 * built-ins in every statement below.
	 */
	fi_pin_search_path();
	if (db_held(dboid) || !extension_present())
		proc_exit(0);
	/* a probe (not asked for by a commit) with nothing to do leaves at once */
	if (MyBgworkerEntry->bgw_extra[0] == 0 && next_due_ms() < 0)
	{
		http_purge();			/* the results that expired while no worker ran */
		proc_exit(0);
	}
	register_slot(dboid, true);
	before_shmem_exit(unregister_slot, ObjectIdGetDatum(dboid));

	/*
	 * The worker's statements touch a few rows of a queue that may hold
	 * millions (claim by the due index, record by the primary key); with
	 * parameters as arrays the planner cannot see that and would scan.
	 */
	SetConfigOption("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("enable_hashjoin", "off", PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("enable_mergejoin", "off", PGC_USERSET, PGC_S_SESSION);

	cxt = AllocSetContextCreate(TopMemoryContext, "frappe_integrations webhook worker",
								ALLOCSET_DEFAULT_SIZES);
	sender = fi_sender_new(fi_worker_concurrency, fi_ca_bundle);
	idle_since = due_seen = GetCurrentTimestamp();
	next_retention = next_http_purge = idle_since;	/* at the first idle moment */

	while (!got_sigterm)
	{
		TimestampTz now;
		FiDelivery *fin;
		bool		busy;

		CHECK_FOR_INTERRUPTS();
		if (!PostmasterIsAlive())
			proc_exit(1);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			fi_sender_set_ca_bundle(sender, fi_ca_bundle);
			next_http_purge = GetCurrentTimestamp();	/* http_retention may be shorter now */
		}
		if (db_held(dboid))
			break;				/* DROP/ALTER DATABASE waits for us to leave */
		/* the extension dropped: stop serving this database */
		if (GetCurrentTimestamp() >= next_ext_check)
		{
			if (!extension_present())
				break;
			next_ext_check = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 5000);
		}

		/*
		 * Keep a backlog of claimed rows a few times the concurrency deep,
		 * so that claiming, sending and recording overlap.
		 */
		if (!fi_deliver)
			check_due = false;
		/*
		 * Under load, claims are paced CLAIM_GAP_MS apart so that each
		 * takes the several events committed meanwhile (a claim is a
		 * transaction; one per event cost most of the worker's time).  An
		 * event arriving at an idle worker is claimed at once.
		 */
		claim_wait = 0;
		if (check_due && last_claim_got > 0)
		{
			long		since = (long) ((GetCurrentTimestamp() - last_claim) / 1000);

			if (since < CLAIM_GAP_MS)
				claim_wait = CLAIM_GAP_MS - since;
		}
		if (check_due && claim_wait == 0 && nbacklog < fi_worker_concurrency * 2)
		{
			FiDelivery *failed = NULL;
			FiDelivery *batch;
			int			want = fi_worker_concurrency * 4 - nbacklog,
						got = 0;

			now = GetCurrentTimestamp();
			if (take_outbox_flag() || now >= next_unpack)
			{
				unpack = true;
				next_unpack = TimestampTzPlusMilliseconds(now, UNPACK_CHECK_MS);
			}
			batch = claim(want, cxt, &failed, &unpack, &got, &due_ms);
			due_seen = last_claim = GetCurrentTimestamp();
			last_claim_got = got;

			/* fewer than asked: every due row is taken (unless the outbox has more) */
			check_due = got == want || unpack;
			claimed_nothing = got == 0;
			while (batch)
			{
				FiDelivery *next = batch->next;

				batch->next = NULL;
				if (backlog_tail)
					backlog_tail->next = batch;
				else
					backlog = batch;
				backlog_tail = batch;
				nbacklog++;
				batch = next;
			}
			while (failed)
			{
				FiDelivery *next = failed->next;

				outcomes_add(&results, failed);
				failed = next;
			}
		}
		while (backlog && fi_sender_inflight(sender) < fi_worker_concurrency)
		{
			FiDelivery *d = backlog;

			backlog = d->next;
			if (backlog == NULL)
				backlog_tail = NULL;
			nbacklog--;
			d->next = NULL;
			fi_sender_add(sender, d);
			if (d->done)
				outcomes_add(&results, d);
		}

		/* the network */
		fin = fi_sender_run(sender, (results.list || (backlog && fi_sender_inflight(sender) <
												  fi_worker_concurrency)) ? 0 : SEND_POLL_MS);
		while (fin)
		{
			FiDelivery *next = fin->next;

			outcomes_add(&results, fin);
			fin = next;
		}
		now = GetCurrentTimestamp();

		/*
		 * Outcomes are written a batch at a time: when many are waiting, or
		 * the oldest has waited RESULT_FLUSH_MS (what the sender saw is not
		 * held back by it; the queue's status lags by that much at most).
		 */
		if (results.list && (results.n >= RECORD_BATCH ||
							 TimestampDifferenceExceeds(results.first, now, RESULT_FLUSH_MS)))
		{
			record(results.list, &due_ms);
			due_seen = GetCurrentTimestamp();
			for (FiDelivery *d = results.list, *next; d; d = next)
			{
				next = d->next;
				MemoryContextDelete(GetMemoryChunkContext(d));
			}
			results.list = NULL;
			results.n = 0;
			if (due_ms == 0)
				check_due = true;	/* a retry is due at once */
		}
		/*
		 * Housekeeping: when nothing is in flight, or (under a load that
		 * never leaves the worker idle) once it is overdue by a while.
		 */
		busy = fi_sender_inflight(sender) > 0 || backlog != NULL;
		if (now >= TimestampTzPlusMilliseconds(next_retention, busy ? HOUSEKEEPING_GRACE_MS : 0))
		{
			retention();
			next_retention = TimestampTzPlusMilliseconds(now, 3600 * 1000);
		}
		if (now >= TimestampTzPlusMilliseconds(next_http_purge, busy ? HOUSEKEEPING_GRACE_MS : 0))
		{
			/* async HTTP results: within a minute of expiring (sooner when kept less) */
			http_purge();
			next_http_purge = TimestampTzPlusMilliseconds(now, Min(60000, (int64) fi_http_retention_s * 1000));
		}
		if (fi_sender_inflight(sender) > 0 || backlog)
		{
			idle_since = now;
			/* a commit may have woken us while we were busy */
			if (WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 0,
						  PG_WAIT_EXTENSION) & WL_LATCH_SET)
			{
				ResetLatch(MyLatch);
				check_due = true;
			}
			continue;
		}
		if (check_due && claim_wait > 0)
		{
			/* the next claim's time has not come: wait for it (or SIGTERM) */
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 claim_wait, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			continue;
		}
		if (check_due)
			continue;
		{
			/* when the next row comes due, as the last claim or record saw it */
			int64		due = !fi_deliver ? -1 : due_ms < 0 ? -1 :
				Max(0, due_ms - (now - due_seen) / 1000);
			long		wait;
			int			rc;

			if (due == 0 && !claimed_nothing)
			{
				unpack = true;	/* it may be the outbox that holds them */
				check_due = true;
				continue;
			}
			if (due == 0)
				due = 10;		/* due but not claimable (locked): look again soon */
			if (due < 0 && results.list == NULL &&
				TimestampDifferenceExceeds(idle_since, now, IDLE_EXIT_MS))
			{
				http_purge();
				break;			/* nothing pending: leave until a commit wakes the launcher */
			}
			wait = due < 0 ? IDLE_EXIT_MS : (long) Min(due, IDLE_EXIT_MS);
			if (results.list)	/* outcomes to write when RESULT_FLUSH_MS is up */
				wait = Min(wait, Max(1, RESULT_FLUSH_MS - (now - results.first) / 1000));
			/* rows made due by others (retry_webhook_events) are seen this often */
			wait = Min(wait, DUE_RECHECK_MS);
			rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, wait,
						   PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			if (rc & WL_LATCH_SET)
				check_due = true;	/* a commit queued events */
			else if (results.list == NULL || due >= 0)
			{
				/* the wait ran out: look at the queue again (and maybe claim) */
				due_ms = next_due_ms();
				due_seen = GetCurrentTimestamp();
				check_due = due_ms == 0;
				if (due_ms == 0)
					unpack = true;
			}
		}
	}

	/* SIGTERM (or nothing to do): finish quickly, keeping every claimed row */
	{
		FiDelivery *aborted = fi_sender_abort_all(sender);

		if (results.list)
			record(results.list, &due_ms);
		while (backlog)
		{
			FiDelivery *next = backlog->next;

			backlog->next = aborted;
			aborted = backlog;
			backlog = next;
		}
		release(aborted);
	}
	fi_sender_free(sender);
	proc_exit(0);
}
