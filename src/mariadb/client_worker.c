/*
 * client_worker.c
 *		frappe-integrations worker: one process delivers the webhooks of every
 *		site of a bench on MariaDB (issue 19, point 2).
 *
 *   fi-client worker (--bench DIR | --site-config FILE ...) [--concurrency N]
 *                    [--poll-ms MS] [--batch TRANSACTIONS] [--max-attempts N]
 *                    [--retry-base-ms MS] [--ca-bundle FILE] [--no-log] [--once]
 *                    [--http-retention SECONDS]
 *
 * Per site, on the site's own connection (its site_config.json's user):
 *
 *   lease    GET_LOCK('frappe_integrations.worker:<db>', 0), held for the
 *            connection's life: one worker serves a site; a second one
 *            started by mistake stands by and takes over when the first's
 *            connection goes (a kill -9 included).
 *   sync     when tabWebhook, its child tables or the DocTypes change (and
 *            once a minute), CALL sync_webhooks() and reload the webhooks.
 *   flush    the committed transactions of __fi_webhook_outbox, oldest
 *            first, in one transaction each batch: folded per document with
 *            Frappe's rules (engine/webhookev.c), matched with the enabled
 *            webhooks, each document read once (as Frappe's as_dict; a
 *            delete from the row the trigger kept), the condition, URL and
 *            body from engine/webhookreq.c, one __fi_webhook_queue row per
 *            event; the outbox rows deleted in the same transaction.
 *   send     due queue rows claimed (status sending, a lease), sent with
 *            libcurl's multi interface (keep-alive, --concurrency in flight
 *            across all sites), signed at send time (engine/webhooksend.c);
 *            no transaction is open meanwhile.
 *   record   the outcomes in one transaction: the queue rows' status (the
 *            retry policy of engine/webhooksend.c, as on PostgreSQL) and a
 *            tabWebhook Request Log row per attempt.
 *   http     the requests of http_request_async (__fi_http_queue): claimed
 *            as events are (at most half of what is claimed ahead), sent
 *            on the same multi handle with the checks and options of
 *            engine/httpreq.c, the response (or why none came) written
 *            into the row, its Queued tabIntegration Request completed;
 *            one attempt (see "http_request_async's queue"); finished rows
 *            deleted --http-retention after they finished.
 *
 * SIGHUP re-reads the sites and their configs; SIGTERM and SIGINT stop within
 * a second (transfers in flight are put back, due at once): a statement of a
 * site's turn still running STOP_GRACE_MS after the signal (sync_webhooks on
 * a site of many tables, a lock wait) is cut short by the stop thread, which
 * shuts its connection (mariadb_cancel); the server ends it, and what that
 * site had claimed waits out its lease.  Once stopping, no site starts a turn.
 * Log lines on
 * stderr: "LOG:", "WARNING:" or "ERROR:", the site, the message; no secret.
 */
#include "mariadb/client.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <pthread.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/httpreq.h"
#include "engine/jsoncanon.h"
#include "engine/secretfmt.h"
#include "engine/webhookev.h"
#include "engine/webhookreq.h"
#include "engine/webhooksend.h"

#define RESPONSE_KEEP	(64 * 1024)	/* bytes of a response body kept for the log */
#define JOB_CHUNK		1000	/* events rendered in one template session */
#define STMT_MAX		(4 * 1024 * 1024)	/* a multi-row statement is sent when this long */

typedef struct Options
{
	const char *bench;
	const char **configs;
	int			nconfigs;
	int			concurrency;
	int			poll_ms;
	int			batch;
	int			max_attempts;
	int			retry_base_ms;
	const char *ca_bundle;
	bool		log_requests;
	bool		once;
	int			http_retention_s;
	int			jobs;			/* import/export job processes at once, all sites together */
	int			job_retention_s;
} Options;

typedef struct Site
{
	char	   *path;			/* its site_config.json: who it is */
	char	   *label;			/* its folder's name */
	FcArena    *arena;			/* the connection's settings */
	FcSite		c;
	unsigned char key[FI_FERNET_KEY_LEN];
	bool		key_ok;
	MYSQL	   *conn;
	bool		owner;			/* holds the site's worker lock */
	bool		standby_said;
	bool		replica_said;
	long long	replica_at;		/* ms: next look at whether the server is a replica */
	long long	retry_at;		/* ms: next connect or lock try, or pause after an error */
	FcArena    *cfg_arena;		/* the webhooks */
	void	   *meta_cache;		/* the DocTypes' metas (client_meta.c), in meta_arena, */
	FcArena    *meta_arena;		/* read again when a DocType, Custom Field or Property Setter changes */
	FcWebhook  *hooks;
	int			nhooks;
	char	   *cfg_sig;
	long long	cfg_check_at;
	long long	sync_at;
	bool		has_refdt;		/* tabWebhook Request Log has reference_doctype */
	bool		has_httpq;		/* the site has __fi_http_queue (http_request_async) */
	long long	http_at;		/* ms: next look at it */
	long long	http_leases_at; /* ms: next look for its leases run out */
	long long	http_purge_at;	/* ms: next delete of its finished rows */
	bool		has_jobs;		/* the site has __fi_jobs (import_csv_async, export_*_async) */
	long long	jobs_at;		/* ms: next look for queued jobs */
	long long	jobs_lost_at;	/* ms: next look for running jobs whose process is gone */
	long long	jobs_purge_at;	/* ms: next delete of finished jobs */
	long long	due_at;			/* ms: the queue's next due row (LLONG_MAX: none) */
	long long	flush_at;		/* ms: next look at the outbox */
	long long	tz_offset_us;	/* the site's time zone: its now minus UTC, */
	long long	tz_at;			/* read again at this ms */
	long long	leases_at;		/* ms: next look for leases run out (a worker gone) */
	bool		check_folded;	/* a fold may have been cut short: look for its queued events */
	struct Delivery *live;		/* its deliveries claimed and not yet freed (live_next) */
	struct FieldSet *fieldsets; /* per DocType, the keys of doc its webhooks read (meta_arena) */
	int			inflight;
	bool		gone;			/* dropped from the bench: freed when nothing is in flight */
	bool		seen;			/* in the last scan */
	long long	n_queued,
				n_delivered,
				n_retried,
				n_failed;
	int			warnings;		/* this minute's */
	struct Site *next;
} Site;

typedef struct Delivery
{
	Site	   *site;
	FcArena    *a;
	unsigned long long id;
	char	   *event_id;
	char	   *webhook;
	char	   *doctype;
	char	   *docname;
	char	   *method;
	char	   *url;
	char	   *body;
	size_t		bodylen;
	char	   *user;
	int			timeout_ms;
	int			attempt;
	char	   *secret;			/* decrypted, zeroed when freed; NULL: unsigned */
	int			nrows;			/* the Webhook Header rows */
	const char **keys;
	const char **values;
	char	   *logged_headers;
	CURL	   *easy;
	struct curl_slist *list;
	long		status;
	char	   *error;
	bool		no_retry;
	bool		aborted;		/* the worker stopped during the transfer: put back */
	FcBuf		response;
	int			retry_after_s;
	char		curl_error[CURL_ERROR_SIZE];
	/* a request of http_request_async (__fi_http_queue) rather than a webhook event */
	bool		http;
	char	   *headers_json;	/* its headers, a JSON object of strings */
	int			max_redirects;
	size_t		max_response;
	bool		too_big;
	FiJBuf		resp_headers;	/* the last response's header lines */
	char	   *integration_request;	/* its Queued tabIntegration Request, or NULL */
	struct Delivery *next;		/* in one list at a time: net_in, net_done, record_list, ... */
	struct Delivery *live_prev,	/* its site's live list (the main thread's) */
			   *live_next;
} Delivery;

static volatile sig_atomic_t got_term;
static volatile sig_atomic_t got_hup;

/*
 * The stop thread: the signal handler writes 't' into stop_pipe, the main
 * thread 'd' once its loop is left.  A 't' with no 'd' within STOP_GRACE_MS
 * cancels the connection of busy_site (the site whose turn the main thread is
 * in).  stop_mu guards busy_site and every change of a site's conn.
 */
#define STOP_GRACE_MS 300
static int	stop_pipe[2] = {-1, -1};
static pthread_t stop_thread;
static pthread_mutex_t stop_mu = PTHREAD_MUTEX_INITIALIZER;
static struct Site *busy_site;
static bool stop_cut;			/* a statement was cut short (stop_mu) */
static Site *sites;
static Options opt;
static int	outstanding;		/* claimed and not yet recorded (the main thread's) */
static struct Delivery *record_list;	/* finished, to be recorded (the main thread's) */
static int	ahead;				/* claimed ahead of the transfers: 4 x --concurrency, at least JOB_CHUNK */

/* the network thread's (see "the network thread") */
static CURLM *multi;
static int	inflight;
static Delivery **slots;		/* the transfers in flight, for shutdown */

/* where the worker's time went (ms), said when it stops */
static double t_flush,
			t_claim,
			t_record,
			t_poll,
			t_curl;

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* what a step holds that a failure (fc_fail's longjmp) must give back */
static FiTpl *step_tpl;
static MYSQL_RES *step_res;
static MYSQL_RES *step_outer_res;	/* the outbox rows while a fold pauses */
static FcArena *step_arena;
static long long step_now;

static void
on_term(int sig)
{
	int			e = errno;

	got_term = 1;
	if (stop_pipe[1] >= 0 && write(stop_pipe[1], "t", 1) < 0)
	{
		/* the pipe full: a 't' is there already */
	}
	errno = e;
}

static void
on_hup(int sig)
{
	got_hup = 1;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
say(const char *level, const Site *s, const char *fmt,...) __attribute__((format(printf, 3, 4)));

static void
say(const char *level, const Site *s, const char *fmt,...)
{
	va_list		ap;
	char		line[2048];
	int			n = s ? snprintf(line, sizeof(line), "%s site %s: ", level, s->label)
		: snprintf(line, sizeof(line), "%s ", level);

	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

static void
random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0)
	{
		ssize_t		r = getrandom(p, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fc_fail("58000", NULL, NULL, "no random bytes from the kernel");
		p += r;
		n -= (size_t) r;
	}
}

static void
uuid4(char out[37])
{
	unsigned char b[16];
	static const char hex[] = "0123456789abcdef";
	int			o = 0;

	random_bytes(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	for (int i = 0; i < 16; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

/* a literal of n bytes (a body may hold any) */
static void
put_literal(FcBuf *b, MYSQL *conn, const char *s, size_t n)
{
	if (s == NULL)
	{
		fc_buf_puts(b, "NULL");
		return;
	}
	fc_buf_reserve(b, 2 * n + 3);
	b->data[b->len++] = '\'';
	b->len += mysql_real_escape_string(conn, b->data + b->len, s, n);
	b->data[b->len++] = '\'';
	b->data[b->len] = '\0';
}

static void
put_str(FcBuf *b, MYSQL *conn, const char *s)
{
	put_literal(b, conn, s, s ? strlen(s) : 0);
}

static void
exec(MYSQL *conn, const char *sql, size_t len, const char *what)
{
	if (mysql_real_query(conn, sql, len) != 0)
		fc_fail_mysql(conn, what);
	/* a CALL's results, read and dropped */
	do
	{
		MYSQL_RES  *r = mysql_store_result(conn);

		if (r)
			mysql_free_result(r);
	} while (mysql_next_result(conn) == 0);
}

static void
execs(MYSQL *conn, const char *sql, const char *what)
{
	exec(conn, sql, strlen(sql), what);
}

static long long
query_ll(MYSQL *conn, const char *sql, long long dflt, const char *what)
{
	MYSQL_RES  *r = fc_query(conn, sql, what);
	MYSQL_ROW	row = mysql_fetch_row(r);
	long long	v = row && row[0] ? strtoll(row[0], NULL, 10) : dflt;

	mysql_free_result(r);
	return v;
}

/* ---- sites ---- */

static void
site_close(Site *s)
{
	MYSQL	   *c;

	pthread_mutex_lock(&stop_mu);
	c = s->conn;
	s->conn = NULL;
	pthread_mutex_unlock(&stop_mu);
	if (c)
		mysql_close(c);
	s->owner = false;
}

static void
site_free(Site *s)
{
	fc_meta_use(NULL, NULL);	/* its cache goes with it */
	site_close(s);
	memset(s->key, 0, sizeof(s->key));
	if (s->c.password)
		memset((char *) s->c.password, 0, strlen(s->c.password));
	fc_arena_free(s->cfg_arena);
	fc_arena_free(s->meta_arena);
	fc_arena_free(s->arena);
	free(s);
}

static Site *
site_add(const char *path, const char *label)
{
	Site	   *volatile s = calloc(1, sizeof(Site));
	jmp_buf		jb;

	if (s == NULL)
		fc_fail("53200", NULL, NULL, "out of memory");
	s->arena = fc_arena_new();
	s->path = fc_strndup(s->arena, path, strlen(path));
	s->label = fc_strndup(s->arena, label, strlen(label));
	fc_fail_jump = &jb;
	if (setjmp(jb) == 0)
		fc_site_config(s->arena, s->path, &s->c);
	else
	{
		say("ERROR:", s, "its config cannot be read: %s", fc_fail_text);
		fc_fail_jump = NULL;
		site_free(s);
		return NULL;
	}
	fc_fail_jump = NULL;
	if (s->c.database == NULL)
	{
		say("ERROR:", s, "its config \"%s\" names no db_name", path);
		site_free(s);
		return NULL;
	}
	s->key_ok = s->c.encryption_key &&
		fi_fernet_parse_key(s->c.encryption_key, strlen(s->c.encryption_key), s->key) == FI_SECRET_OK;
	s->due_at = 0;
	s->next = sites;
	sites = s;
	say("LOG:", s, "added (database %s)", s->c.database);
	return s;
}

static Site *
site_find(const char *path)
{
	for (Site *s = sites; s; s = s->next)
		if (!s->gone && strcmp(s->path, path) == 0)
			return s;
	return NULL;
}

static void
site_seen(const char *path, const char *label)
{
	Site	   *s = site_find(path);

	if (s)
		s->seen = true;
	else if ((s = site_add(path, label)) != NULL)
		s->seen = true;
}

/*
 * The bench's sites/<site>/site_config.json (those that name a db_name), or
 * the configs given.  reread (SIGHUP): every config read again (a site's
 * old connection goes once nothing of it is in flight; the new one takes
 * the lease after it).
 */
static void
scan_sites(bool reread)
{
	for (Site *s = sites; s; s = s->next)
	{
		if (reread)
			s->gone = true;
		s->seen = false;
	}
	if (opt.bench)
	{
		char		dir[4096];
		DIR		   *d;
		struct dirent *e;

		snprintf(dir, sizeof(dir), "%s/sites", opt.bench);
		if ((d = opendir(dir)) == NULL)
		{
			say("ERROR:", NULL, "cannot read the bench's sites folder \"%s\": %s", dir, strerror(errno));
			return;
		}
		while ((e = readdir(d)) != NULL)
		{
			char		path[8192];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s/site_config.json", dir, e->d_name);
			if (access(path, R_OK) == 0)
				site_seen(path, e->d_name);
		}
		closedir(d);
	}
	else
		for (int i = 0; i < opt.nconfigs; i++)
		{
			const char *p = opt.configs[i];
			const char *end = strrchr(p, '/');
			const char *start = end;
			char		label[256];

			while (start && start > p && start[-1] != '/')
				start--;
			if (end && end > start)
				snprintf(label, sizeof(label), "%.*s", (int) (end - start), start);
			else
				snprintf(label, sizeof(label), "%s", p);
			site_seen(p, label);
		}
	for (Site *s = sites; s; s = s->next)
		if (!s->seen && !s->gone)
		{
			say("LOG:", s, "no longer in the bench: dropped");
			s->gone = true;
		}
}

/*
 * Whether the server the site is on is a replica: read-only, or applying a
 * primary's binary log now (Slaves_running counts the SQL threads running;
 * both are open to a user without privileges).  A replica's outbox and queue
 * are the primary's copies: its worker sends none of them and attaches no
 * trigger (the primary's come through replication).  NULL: not a replica.
 */
static const char *
site_replica(Site *s)
{
	MYSQL_RES  *r = fc_query(s->conn, "SELECT @@global.read_only, (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
							 "WHERE VARIABLE_NAME = 'SLAVES_RUNNING')", "asking whether the server is a replica");
	MYSQL_ROW	row = mysql_fetch_row(r);
	const char *why = NULL;

	if (row && row[0] && strcmp(row[0], "0") != 0)
		why = "the server is read_only (a replica?)";
	else if (row && row[1] && strcmp(row[1], "0") != 0)
		why = "the server replicates from a primary";
	mysql_free_result(r);
	return why;
}

/* connect and take the site's lease; false while it cannot serve */
static bool
site_ready(Site *s, long long now)
{
	MYSQL_RES  *r;
	MYSQL_ROW	row;
	bool		got;

	if (s->owner)
		return true;
	if (now < s->retry_at)
		return false;
	s->retry_at = now + 1000;
	if (s->conn == NULL)
	{
		unsigned int timeout = 5;
		MYSQL	   *c = mysql_init(NULL);

		if (c == NULL)
			fc_fail("53200", NULL, NULL, "out of memory");
		mysql_options(c, MYSQL_SET_CHARSET_NAME, "utf8mb4");
		mysql_options(c, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
		timeout = 60;
		mysql_options(c, MYSQL_OPT_READ_TIMEOUT, &timeout);
		mysql_options(c, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
		if (mysql_real_connect(c, s->c.host, s->c.user, s->c.password, s->c.database, s->c.port,
							   s->c.socket, CLIENT_MULTI_RESULTS) == NULL)
		{
			say("WARNING:", s, "cannot connect: %s", mysql_error(c));
			mysql_close(c);
			s->owner = false;
			s->retry_at = now + 2000;
			return false;
		}
		/* (published connected: the stop thread may cancel it from now on) */
		pthread_mutex_lock(&stop_mu);
		s->conn = c;
		pthread_mutex_unlock(&stop_mu);
		/* the worker's own writes fire no webhook; times in UTC; short lock waits */
		execs(s->conn, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", "setting up the session");
		execs(s->conn, "SET @frappe_integrations_webhooks = 'off', time_zone = '+00:00', "
			  "innodb_lock_wait_timeout = 10, lock_wait_timeout = 10", "setting up the session");
		if (query_ll(s->conn, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
					 "AND TABLE_NAME IN ('__fi_webhook_outbox', '__fi_webhook_queue')", 0,
					 "looking for the webhook tables") != 2)
		{
			say("WARNING:", s, "has no webhook outbox and queue (run frappe-integrations install --site for it)");
			site_close(s);
			s->retry_at = now + 30000;
			return false;
		}
		s->has_refdt = fc_column_exists(s->conn, s->arena, "tabWebhook Request Log", "reference_doctype");
		s->has_httpq = query_ll(s->conn, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
								"AND TABLE_NAME = '__fi_http_queue'", 0, "looking for __fi_http_queue") == 1;
		s->has_jobs = query_ll(s->conn, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
							   "AND TABLE_NAME = '__fi_jobs'", 0, "looking for __fi_jobs") == 1;
	}
	{
		const char *why = site_replica(s);

		if (why)
		{
			if (!s->replica_said)
				say("LOG:", s, "%s: its primary's worker serves it; standing by", why);
			s->replica_said = true;
			return false;
		}
		if (s->replica_said)
			say("LOG:", s, "the server is no longer a replica");
		s->replica_said = false;
	}
	r = fc_query(s->conn, "SELECT GET_LOCK(CONCAT('frappe_integrations.worker:', DATABASE()), 0)", "taking the lease");
	row = mysql_fetch_row(r);
	got = row && row[0] && strcmp(row[0], "1") == 0;
	mysql_free_result(r);
	if (!got)
	{
		if (!s->standby_said)
			say("LOG:", s, "another worker serves it; standing by");
		s->standby_said = true;
		return false;
	}
	s->owner = true;
	s->standby_said = false;
	s->cfg_sig = NULL;
	s->cfg_check_at = 0;
	s->sync_at = 0;
	s->due_at = 0;
	s->tz_at = 0;
	s->leases_at = 0;
	s->http_at = s->http_leases_at = s->http_purge_at = 0;
	s->check_folded = true;
	s->replica_at = now + 1000;
	say("LOG:", s, "serving it");
	return true;
}

/* ---- the webhooks: in step with tabWebhook ---- */

/* the site's DocType metas and table columns read again as they are needed */
static void
site_forget_metas(Site *s)
{
	fc_arena_free(s->meta_arena);
	s->meta_arena = fc_arena_new();
	s->meta_cache = NULL;
	s->fieldsets = NULL;
	fc_meta_use(&s->meta_cache, s->meta_arena);
}

static void
site_config_check(Site *s, long long now)
{
	MYSQL_RES  *r;
	MYSQL_ROW	row;
	char	   *sig;
	FcArena    *a;

	if (now < s->cfg_check_at)
		return;
	s->cfg_check_at = now + 1000;
	r = fc_query(s->conn, "SELECT CONCAT_WS('/', "
				 "(SELECT CONCAT(COUNT(*), ',', COALESCE(MAX(modified), ''), ',', COALESCE(SUM(enabled), 0)) FROM tabWebhook), "
				 "(SELECT CONCAT(COUNT(*), ',', COALESCE(MAX(modified), '')) FROM tabDocType), "
				 "(SELECT CONCAT(COUNT(*), ',', COALESCE(MAX(modified), '')) FROM `tabCustom Field`), "
				 "(SELECT CONCAT(COUNT(*), ',', COALESCE(MAX(modified), '')) FROM `tabProperty Setter`), "
				 "(SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f, name, webhook_doctype, webhook_docevent, `condition`, request_url, "
				 "is_dynamic_url, webhook_json, request_method, enable_security, enabled) ORDER BY name SEPARATOR 0x1e)) FROM tabWebhook), "
				 "(SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f, parent, idx, `key`, `value`) ORDER BY parent, idx SEPARATOR 0x1e)) FROM `tabWebhook Header`), "
				 "(SELECT MD5(GROUP_CONCAT(CONCAT_WS(0x1f, parent, idx, fieldname, `key`) ORDER BY parent, idx SEPARATOR 0x1e)) FROM `tabWebhook Data`))",
				 "reading the webhooks' state");
	row = mysql_fetch_row(r);
	sig = row && row[0] ? fc_strndup(s->arena, row[0], strlen(row[0])) : fc_strndup(s->arena, "", 0);
	mysql_free_result(r);
	if (s->cfg_sig && strcmp(sig, s->cfg_sig) == 0 && now < s->sync_at)
		return;
	if (s->cfg_sig == NULL || strcmp(sig, s->cfg_sig) != 0)
	{
		/* the triggers first: what sync_webhooks makes is what the outbox will hold */
		MYSQL_RES  *sr;

		if (mysql_query(s->conn, "CALL sync_webhooks()") != 0)
			fc_fail_mysql(s->conn, "CALL sync_webhooks()");
		sr = mysql_store_result(s->conn);
		if (sr && (row = mysql_fetch_row(sr)) != NULL)
		{
			if (row[0] && strcmp(row[0], "0") != 0)
				say("LOG:", s, "sync_webhooks: %s trigger(s) changed, %s in place", row[0], row[1] ? row[1] : "?");
			if (row[2])
				say("WARNING:", s, "sync_webhooks: busy tables left for the next try: %s", row[2]);
			if (row[3])
				say("WARNING:", s, "sync_webhooks: tables it cannot watch: %s", row[3]);
		}
		if (sr)
			mysql_free_result(sr);
		while (mysql_next_result(s->conn) == 0)
		{
			sr = mysql_store_result(s->conn);
			if (sr)
				mysql_free_result(sr);
		}
		a = fc_arena_new();
		s->nhooks = fc_webhooks_load(s->conn, a, NULL, &s->hooks);
		site_forget_metas(s);
		fc_arena_free(s->cfg_arena);
		s->cfg_arena = a;
		s->cfg_sig = sig;
	}
	else
	{
		/* once a minute: triggers dropped or changed by hand are put back */
		if (mysql_query(s->conn, "CALL sync_webhooks()") != 0)
			fc_fail_mysql(s->conn, "CALL sync_webhooks()");
		do
		{
			MYSQL_RES  *sr = mysql_store_result(s->conn);

			if (sr)
				mysql_free_result(sr);
		} while (mysql_next_result(s->conn) == 0);
	}
	s->sync_at = now + 60000;
}

/* ---- flush: the outbox's committed transactions into the queue ---- */

typedef struct DocMemo
{
	const char *doctype;
	const char *name;
	FiVal	   *doc;			/* NULL: gone since */
	FiVal	   *cdoc;
	bool		read;
	struct DocMemo *next;
} DocMemo;

/* one event of the batch: a webhook for a document */
typedef struct Job
{
	const FcWebhook *hook;
	const char *doctype;
	const char *name;
	unsigned long long trx;
	int			start,			/* its transaction's rows (on_trash: the deleted rows) */
				end;
	bool		trash;
	bool		queued;			/* already in the queue (a fold cut short before) */
	DocMemo    *memo;			/* the document now, or */
	FiVal	   *doc;			/* as it was deleted (on_trash) */
	FiVal	   *cdoc;
} Job;

typedef struct SecretMemo
{
	const char *webhook;
	char	   *secret;			/* NULL: why */
	const char *why;
	struct SecretMemo *next;
} SecretMemo;

typedef struct Flush
{
	Site	   *s;
	FcArena    *a;
	FiTpl	   *t;
	FcBuf		queue;			/* INSERT ... VALUES being built */
	FcBuf		log;
	int			nqueue;
	struct Delivery **rowd;		/* per row of the INSERT: its delivery when claimed at birth */
	int			nrowd_cap;
	int			born_room;		/* this slice's rows that may still be claimed at birth */
	int			nborn;			/* rows of the INSERT claimed at birth */
	SecretMemo *secrets;		/* the webhooks' secrets, decrypted for the batch */
	int			nlog;
	DocMemo    *docs;
	DocMemo   **slots;			/* docs by (doctype, name): open addressing, a power of two */
	int			nslots;
	int			nmemo;
	long long	queued,
				failed;
} Flush;

static void
log_begin(Site *s, FcBuf *b)
{
	b->len = 0;
	fc_buf_printf(b, "INSERT INTO `tabWebhook Request Log` (name, creation, modified, owner, modified_by, docstatus, idx, "
				  "webhook, reference_document, url, headers, data, `user`, response, error%s) VALUES ",
				  s->has_refdt ? ", reference_doctype" : "");
}

/* one tabWebhook Request Log row, as Frappe's: name a random hash, times the site's */
static void
log_row(Site *s, FcBuf *b, int *n, const char *now_lit, const char *webhook, const char *doctype,
		const char *docname, const char *url, const char *headers, const char *data, size_t datalen,
		const char *user, const char *response, const char *error)
{
	unsigned char rnd[10];
	char		name[11];

	random_bytes(rnd, sizeof(rnd));
	fi_random_base32hex(rnd, 10, name);
	name[10] = '\0';
	if (*n == 0)
		log_begin(s, b);
	else
		fc_buf_puts(b, ", ");
	fc_buf_printf(b, "('%s', %s, %s, ", name, now_lit, now_lit);
	put_str(b, s->conn, user ? user : "Administrator");
	fc_buf_puts(b, ", ");
	put_str(b, s->conn, user ? user : "Administrator");
	fc_buf_puts(b, ", 0, 0, ");
	put_str(b, s->conn, webhook);
	fc_buf_puts(b, ", ");
	put_str(b, s->conn, docname);
	fc_buf_puts(b, ", LEFT(");
	put_str(b, s->conn, url);
	fc_buf_puts(b, ", 140), ");
	put_str(b, s->conn, headers);
	fc_buf_puts(b, ", ");
	put_literal(b, s->conn, data, datalen);
	fc_buf_puts(b, ", ");
	put_str(b, s->conn, user);
	fc_buf_puts(b, ", ");
	put_str(b, s->conn, response);
	fc_buf_puts(b, ", ");
	put_str(b, s->conn, error ? error : "");
	if (s->has_refdt)
	{
		fc_buf_puts(b, ", ");
		put_str(b, s->conn, doctype);
	}
	fc_buf_puts(b, ")");
	(*n)++;
}

static void
log_flush(Site *s, FcBuf *b, int *n)
{
	if (*n > 0)
		exec(s->conn, b->data, b->len, "writing tabWebhook Request Log");
	*n = 0;
	b->len = 0;
}

/* the site's now, as microseconds of its naive local time (the time zone read once a minute) */
static long long
site_now(Site *s)
{
	struct timespec ts;
	long long	utc;

	clock_gettime(CLOCK_REALTIME, &ts);
	utc = (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	if (now_ms() >= s->tz_at)
	{
		s->tz_offset_us = fc_site_now_usec(s->conn) - utc;
		/* whole minutes: the two clocks were read a moment apart */
		s->tz_offset_us = (s->tz_offset_us + (s->tz_offset_us >= 0 ? 30000000 : -30000000)) / 60000000 * 60000000;
		s->tz_at = now_ms() + 60000;
	}
	return utc + s->tz_offset_us;
}

/* the site's now as a DATETIME literal (Frappe's creation and modified) */
static char *
site_now_literal(Site *s, FcArena *a)
{
	long long	us = site_now(s);
	time_t		secs = (time_t) (us / 1000000);
	struct tm	tm;

	gmtime_r(&secs, &tm);
	return fc_printf(a, "'%04d-%02d-%02d %02d:%02d:%02d.%06lld'", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
					 tm.tm_hour, tm.tm_min, tm.tm_sec, us % 1000000);
}

static struct Delivery *delivery_born(Flush *f, const FcWebhook *h, const char *doctype, const char *docname,
									  const FiWebhookReq *rq, const char *event_id);
static Delivery *step_born,		/* claimed at birth, sent once their fold commits */
		   *step_born_tail;
static void born_send(void);
static void born_drop(void);

/* the queue INSERT being built sent; the ids of the rows claimed at birth read back */
static void
queue_flush(Flush *f)
{
	MYSQL_RES  *res;
	MYSQL_ROW	r;
	int			i = 0;

	if (f->nqueue == 0)
		return;
	if (f->nborn == 0)
		exec(f->s->conn, f->queue.data, f->queue.len, "writing __fi_webhook_queue");
	else
	{
		fc_buf_puts(&f->queue, " RETURNING id");
		res = fc_query(f->s->conn, f->queue.data, "writing __fi_webhook_queue");
		while ((r = mysql_fetch_row(res)) != NULL && i < f->nqueue)
		{
			if (f->rowd[i])
				f->rowd[i]->id = strtoull(r[0], NULL, 10);
			i++;
		}
		mysql_free_result(res);
		if (i != f->nqueue)
			fc_fail("XX000", NULL, NULL, "writing __fi_webhook_queue: %d ids returned for %d rows", i, f->nqueue);
	}
	f->nqueue = 0;
	f->nborn = 0;
}

static void
queue_row(Flush *f, const FcWebhook *h, const char *doctype, const char *docname, const FiWebhookReq *rq,
		  unsigned long long trx, const char *now_lit)
{
	Site	   *s = f->s;
	FcBuf	   *b = &f->queue;
	char		id[37];
	Delivery   *born = NULL;

	uuid4(id);
	/* claimed at birth: sent when the fold commits, without a claim's SELECT and UPDATE */
	if (f->born_room > 0 && rq->error == NULL && (born = delivery_born(f, h, doctype, docname, rq, id)) != NULL)
		f->born_room--;
	if (f->nqueue == f->nrowd_cap)
	{
		Delivery  **more = fc_alloc(f->a, sizeof(Delivery *) * (f->nrowd_cap = f->nrowd_cap ? 2 * f->nrowd_cap : 256));

		if (f->nqueue)
			memcpy(more, f->rowd, sizeof(Delivery *) * f->nqueue);
		f->rowd = more;
	}
	f->rowd[f->nqueue] = born;
	if (born)
		f->nborn++;
	if (f->nqueue == 0)
	{
		b->len = 0;
		fc_buf_puts(b, "INSERT INTO `__fi_webhook_queue` (event_id, webhook, doctype, docname, event, method, url, "
					"headers, body, sign, timeout_ms, doc_user, status, attempts, last_error, lease_until, "
					"created_at, next_attempt_at, source_trx) VALUES ");
	}
	else
		fc_buf_puts(b, ", ");
	fc_buf_printf(b, "('%s', ", id);
	put_str(b, s->conn, h->def.name);
	fc_buf_puts(b, ", ");
	put_str(b, s->conn, doctype);
	fc_buf_puts(b, ", ");
	put_str(b, s->conn, docname);
	fc_buf_puts(b, ", ");
	put_str(b, s->conn, h->def.docevent);
	fc_buf_puts(b, ", ");
	put_str(b, s->conn, h->method);
	fc_buf_puts(b, ", ");
	put_str(b, s->conn, rq->url);
	fc_buf_puts(b, ", ");
	put_str(b, s->conn, rq->headers ? rq->headers : "[]");
	fc_buf_puts(b, ", ");
	put_literal(b, s->conn, rq->body ? rq->body : "", rq->body ? rq->bodylen : 0);
	fc_buf_printf(b, ", %d, %d, ", h->secured ? 1 : 0, h->timeout_ms);
	put_str(b, s->conn, rq->user);
	if (born)
		fc_buf_printf(b, ", 'sending', 1, NULL, UTC_TIMESTAMP(6) + INTERVAL %d SECOND, UTC_TIMESTAMP(6), "
					  "UTC_TIMESTAMP(6) + INTERVAL %d SECOND, %llu)", h->timeout_ms / 1000 + 5, h->timeout_ms / 1000 + 5,
					  trx);
	else
	{
		fc_buf_printf(b, ", '%s', 0, ", rq->error ? "failed" : "pending");
		put_str(b, s->conn, rq->error);
		fc_buf_printf(b, ", NULL, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), %llu)", trx);
	}
	f->nqueue++;
	if (rq->error)
	{
		f->failed++;
		if (s->warnings++ < 10)
			say("WARNING:", s, "webhook \"%s\" cannot be sent for %s \"%s\": %s (kept as failed in __fi_webhook_queue)",
				h->def.name, doctype, docname, rq->error);
		if (opt.log_requests)
			log_row(s, &f->log, &f->nlog, now_lit, h->def.name, doctype, docname, rq->url, NULL, NULL, 0,
					rq->user, NULL, rq->error);
	}
	else
		f->queued++;
	if (b->len > STMT_MAX)
		queue_flush(f);
}

static unsigned int
memo_hash(const char *doctype, const char *name)
{
	unsigned int h = 2166136261u;

	for (const char *p = doctype; *p; p++)
		h = (h ^ (unsigned char) *p) * 16777619u;
	h = (h ^ 0x1f) * 16777619u;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char) *p) * 16777619u;
	return h;
}

/* a document the batch reads (once, however many events it has) */
static DocMemo *
doc_wanted(Flush *f, const char *doctype, const char *name)
{
	unsigned int i;
	DocMemo    *m;

	if (f->nmemo * 2 >= f->nslots)
	{
		/* grow the table: twice as many slots, the memos placed again */
		int			n = f->nslots ? f->nslots * 2 : 1024;
		DocMemo   **slots = fc_alloc(f->a, sizeof(DocMemo *) * n);

		for (int k = 0; k < f->nslots; k++)
			if (f->slots[k])
			{
				for (i = memo_hash(f->slots[k]->doctype, f->slots[k]->name) & (n - 1); slots[i]; i = (i + 1) & (n - 1))
					;
				slots[i] = f->slots[k];
			}
		f->slots = slots;
		f->nslots = n;
	}
	for (i = memo_hash(doctype, name) & (f->nslots - 1); (m = f->slots[i]) != NULL; i = (i + 1) & (f->nslots - 1))
		if (strcmp(m->doctype, doctype) == 0 && strcmp(m->name, name) == 0)
			return m;
	m = fc_alloc(f->a, sizeof(DocMemo));
	m->doctype = doctype;
	m->name = name;
	m->next = f->docs;
	f->docs = m;
	f->slots[i] = m;
	f->nmemo++;
	return m;
}

/* the keys of doc a DocType's webhooks read (engine/webhookreq.c), worked out once per configuration */
typedef struct FieldSet
{
	const char *doctype;
	const char **fields;		/* NULL: all of doc */
	int			n;
	struct FieldSet *next;
} FieldSet;

static FieldSet *
fields_of(Site *s, FiTpl *t, const FiDocMeta *meta)
{
	FieldSet   *fs;
	const FiWebhookDef **defs;
	int			ndefs = 0;

	for (fs = s->fieldsets; fs; fs = fs->next)
		if (strcmp(fs->doctype, meta->name) == 0)
			return fs;
	fs = fc_alloc(s->meta_arena, sizeof(FieldSet));
	fs->doctype = fc_strndup(s->meta_arena, meta->name, strlen(meta->name));
	defs = fc_alloc(s->meta_arena, sizeof(FiWebhookDef *) * (s->nhooks + 1));
	for (int i = 0; i < s->nhooks; i++)
		if (s->hooks[i].doctype && strcmp(s->hooks[i].doctype, meta->name) == 0)
			defs[ndefs++] = &s->hooks[i].def;
	if (!fi_webhook_doc_fields(t, defs, ndefs, meta, &fs->fields, &fs->n, fc_alloc, s->meta_arena))
		fs->fields = NULL;
	else
	{
		/* the names copied: the hooks' strings live in cfg_arena, reloaded with meta_arena */
		for (int i = 0; i < fs->n; i++)
			fs->fields[i] = fc_strndup(s->meta_arena, fs->fields[i], strlen(fs->fields[i]));
	}
	fs->next = s->fieldsets;
	s->fieldsets = fs;
	return fs;
}

/*
 * every wanted document, set-wise per DocType: as templates see it and as
 * conditions do, with only the keys its webhooks read
 */
static void
docs_read(Flush *f)
{
	for (DocMemo *m = f->docs; m; m = m->next)
	{
		const FiDocMeta *meta;
		int			n = 0;
		char	  **names;
		DocMemo   **which;
		FiVal	  **docs,
				  **cdocs;

		if (m->read)
			continue;
		for (DocMemo *o = m; o; o = o->next)
			if (!o->read && strcmp(o->doctype, m->doctype) == 0)
				n++;
		names = fc_alloc(f->a, sizeof(char *) * n);
		which = fc_alloc(f->a, sizeof(DocMemo *) * n);
		docs = fc_alloc(f->a, sizeof(FiVal *) * n);
		cdocs = fc_alloc(f->a, sizeof(FiVal *) * n);
		n = 0;
		for (DocMemo *o = m; o; o = o->next)
			if (!o->read && strcmp(o->doctype, m->doctype) == 0)
			{
				o->read = true;
				which[n] = o;
				names[n++] = (char *) o->name;
			}
		meta = fc_meta(f->s->conn, f->a, m->doctype);
		if (meta == NULL || !fc_meta_in_table(f->s->conn, f->a, meta, "name"))
			continue;
		{
			FieldSet   *fs = fields_of(f->s, f->t, meta);

			fc_read_docs(f->s->conn, f->a, f->t, meta, names, n, true, fs->fields, fs->n, docs, cdocs);
		}
		for (int i = 0; i < n; i++)
		{
			which[i]->doc = docs[i];
			which[i]->cdoc = cdocs[i];
			if (docs[i])
				fi_val_as_documents(docs[i]);
			if (cdocs[i])
				fi_val_as_documents(cdocs[i]);
		}
	}
}

/*
 * A deleted document as its rows were (the on_trash capture kept each
 * row's columns): the row, "doctype", and its deleted child rows of the
 * same transaction under their Table fields.
 */
static FiVal *
doc_trashed(Flush *f, MYSQL_ROW *raw, unsigned long **lens, const FiRowChange *c, int n, const FiDocChange *dc)
{
	FiVal	   *doc = NULL;

	for (int i = 0; i < n && doc == NULL; i++)
		if (c[i].op == FI_ROW_DELETE && c[i].parent == NULL && strcmp(c[i].doctype, dc->doctype) == 0 &&
			strcmp(c[i].name, dc->name) == 0 && raw[i][11] != NULL)
		{
			if (fi_tpl_from_json(f->t, raw[i][11], lens[i][11], &doc) != FI_TPL_OK || fi_val_kind(doc) != FI_VK_DICT)
				doc = NULL;
		}
	if (doc == NULL)
	{
		doc = fi_val_dict(f->t);
		fi_val_set(f->t, doc, "name", 4, fi_val_str(f->t, dc->name, strlen(dc->name)));
	}
	fi_val_set(f->t, doc, "doctype", 7, fi_val_str(f->t, dc->doctype, strlen(dc->doctype)));
	for (int i = 0; i < n; i++)
	{
		FiVal	   *child,
				   *list;
		const char *field = raw[i][10];

		if (c[i].op != FI_ROW_DELETE || c[i].parent == NULL || field == NULL || raw[i][11] == NULL ||
			strcmp(c[i].parent, dc->name) != 0 || strcmp(c[i].parenttype, dc->doctype) != 0)
			continue;
		if (fi_tpl_from_json(f->t, raw[i][11], lens[i][11], &child) != FI_TPL_OK || fi_val_kind(child) != FI_VK_DICT)
			continue;
		fi_val_set(f->t, child, "doctype", 7, fi_val_str(f->t, c[i].doctype, strlen(c[i].doctype)));
		list = fi_val_member(doc, field);
		if (list == NULL || fi_val_kind(list) != FI_VK_LIST)
		{
			list = fi_val_list(f->t);
			fi_val_set(f->t, doc, field, strlen(field), list);
		}
		fi_val_append(f->t, list, child);
	}
	fi_val_as_documents(doc);
	return doc;
}

/*
 * The jobs already in the queue: a fold of a large transaction commits in
 * slices (see flush_batch), and one cut short (the worker killed, the server
 * gone) left some of its events queued and its outbox rows in place.  Such a
 * transaction's events are found by (source_trx, webhook, doctype, name),
 * which is one event's identity, and not queued twice.  Asked only when a
 * fold may have been cut short: once the lease is taken, after an error.
 */
static void
jobs_queued(Site *s, FcArena *a, Job *jobs, int njobs)
{
	FcBuf		q = {0};
	MYSQL_RES  *res;
	MYSQL_ROW	r;
	int			nslots = 64,
				hit = 0;
	Job		  **slot;

	while (nslots < 2 * njobs)
		nslots *= 2;
	slot = fc_alloc(a, sizeof(Job *) * nslots);
	memset(slot, 0, sizeof(Job *) * nslots);
	fc_buf_puts(&q, "SELECT source_trx, webhook, doctype, docname FROM `__fi_webhook_queue` WHERE source_trx IN (");
	for (int i = 0; i < njobs; i++)
	{
		unsigned int h = memo_hash(jobs[i].doctype, jobs[i].name) ^ (unsigned int) jobs[i].trx;

		if (i == 0 || jobs[i].trx != jobs[i - 1].trx)
			fc_buf_printf(&q, i ? ", %llu" : "%llu", jobs[i].trx);
		while (slot[h & (nslots - 1)])
			h++;
		slot[h & (nslots - 1)] = &jobs[i];
	}
	fc_buf_puts(&q, ")");
	res = fc_query(s->conn, q.data, "reading __fi_webhook_queue");
	fc_buf_free(&q);
	while ((r = mysql_fetch_row(res)) != NULL)
	{
		unsigned long long trx = strtoull(r[0], NULL, 10);
		unsigned int h = memo_hash(r[2], r[3]) ^ (unsigned int) trx;
		Job		   *j;

		while ((j = slot[h & (nslots - 1)]) != NULL)
		{
			if (j->trx == trx && strcmp(j->hook->def.name, r[1]) == 0 && strcmp(j->doctype, r[2]) == 0 &&
				strcmp(j->name, r[3]) == 0)
			{
				j->queued = true;
				hit++;
				break;
			}
			h++;
		}
	}
	mysql_free_result(res);
	if (hit > 0)
		say("LOG:", s, "%d event(s) of a fold cut short were queued already: not queued again", hit);
}

/* delete the outbox rows [from, to) of the batch */
static void
outbox_delete(Site *s, MYSQL_ROW *raw, long long from, long long to)
{
	FcBuf		del = {0};

	if (from >= to)
		return;
	fc_buf_puts(&del, "DELETE FROM `__fi_webhook_outbox` WHERE id IN (");
	for (long long i = from; i < to; i++)
		fc_buf_printf(&del, i > from ? ", %s" : "%s", raw[i][0]);
	fc_buf_puts(&del, ")");
	exec(s->conn, del.data, del.len, "deleting from __fi_webhook_outbox");
	fc_buf_free(&del);
}

static double t_paused;			/* ms of fold_pause inside t_flush */
static void record_all(void);
static bool net_collect(int wait_ms);
static int	claim(Site *s, FcArena *a, int room, bool leases);

/*
 * Between two committed slices of a fold: the finished deliveries recorded
 * and, if there is room, what the slice queued claimed, so that the network
 * thread sends while the next slice is folded.
 */
static void
fold_pause(Site *s)
{
	double		t0 = now_us();

	net_collect(0);
	if (record_list)
	{
		double		t1 = now_us();

		record_all();
		t_record += (now_us() - t1) / 1000;
	}
	if (outstanding < ahead / 2)
	{
		double		t1 = now_us();
		FcArena    *ca = fc_arena_new();

		step_outer_res = step_res;
		step_res = NULL;
		claim(s, ca, ahead - outstanding, false);
		step_res = step_outer_res;
		step_outer_res = NULL;
		fc_arena_free(ca);
		t_claim += (now_us() - t1) / 1000;
	}
	t_paused += (now_us() - t0) / 1000;
}

/*
 * One batch: the oldest --batch committed transactions of the outbox.  Their
 * events are rendered and queued JOB_CHUNK at a time; when there are more
 * chunks, each is committed with the outbox rows of the transactions it
 * finished (a transaction of 20,000 rows is sent while it is still being
 * folded; see jobs_queued for a fold cut short).  Returns how many outbox
 * rows it took.
 */
static long long
flush_batch(Site *s, FcArena *a)
{
	MYSQL_RES  *res;
	MYSQL_ROW  *raw;
	unsigned long **lens;
	my_ulonglong nrows;
	FiRowChange *rows;
	unsigned long long *trx;
	FiDocChange *docs;
	Flush		f = {0};
	FiTplOptions o;
	char	   *now_lit;
	Job		   *jobs;
	int			njobs = 0,
				njobcap,
				ntrx = 0;
	long long	deleted = 0;	/* the outbox rows before this one are deleted */
	bool		stopped = false;

	if (query_ll(s->conn, "SELECT EXISTS (SELECT 1 FROM `__fi_webhook_outbox`)", 0, "reading __fi_webhook_outbox") == 0)
		return 0;
	execs(s->conn, "START TRANSACTION", "starting a transaction");
	res = fc_query(s->conn, fc_printf(a,
									  "SELECT o.id, t.last_id, o.op, o.doctype, o.name, o.old_name, o.docstatus_old, "
									  "o.docstatus_new, o.parent, o.parenttype, o.parentfield, o.doc "
									  FC_OUTBOX_TRANSACTIONS, opt.batch),
				   "reading __fi_webhook_outbox");
	step_res = res;
	nrows = mysql_num_rows(res);
	if (nrows == 0)
	{
		mysql_free_result(res);
		step_res = NULL;
		execs(s->conn, "COMMIT", "committing");
		return 0;
	}
	raw = fc_alloc(a, sizeof(MYSQL_ROW) * nrows);
	lens = fc_alloc(a, sizeof(unsigned long *) * nrows);
	rows = fc_alloc(a, sizeof(FiRowChange) * nrows);
	trx = fc_alloc(a, sizeof(unsigned long long) * nrows);
	docs = fc_alloc(a, sizeof(FiDocChange) * 2 * nrows);
	for (my_ulonglong i = 0; i < nrows; i++)
	{
		MYSQL_ROW	r = mysql_fetch_row(res);
		FiRowChange *c = &rows[i];

		raw[i] = r;
		lens[i] = fc_alloc(a, sizeof(unsigned long) * 12);
		memcpy(lens[i], mysql_fetch_lengths(res), sizeof(unsigned long) * 12);
		trx[i] = r[1] ? strtoull(r[1], NULL, 10) : 0;
		c->op = r[2] && r[2][0] == 'I' ? FI_ROW_INSERT : r[2] && r[2][0] == 'U' ? FI_ROW_UPDATE : FI_ROW_DELETE;
		c->doctype = r[3];
		c->name = r[4];
		c->old_name = r[5];
		c->docstatus_old = r[6] ? atoi(r[6]) : 0;
		c->docstatus_new = r[7] ? atoi(r[7]) : 0;
		c->parent = r[8];
		c->parenttype = r[9];
	}

	f.s = s;
	f.a = a;
	fi_tpl_default_options(&o);
	o.now_usec = site_now(s);
	now_lit = site_now_literal(s, a);

	/* 1: the events, per transaction in commit order: which webhook for which document */
	jobs = fc_alloc(a, sizeof(Job) * (njobcap = 64));
	for (my_ulonglong start = 0; start < nrows;)
	{
		my_ulonglong end = start;
		int			nd;

		while (end < nrows && trx[end] == trx[start])
			end++;
		ntrx++;
		nd = fi_fold_changes(rows + start, (int) (end - start), docs, fc_alloc, a);
		for (int d = 0; d < nd; d++)
		{
			FiDocChange *dc = &docs[d];
			bool		has_row = dc->has_row;
			int			docstatus = dc->docstatus;
			uint32_t	ev;

			if (dc->row_change < 0)
				fc_doc_row(s->conn, a, dc->doctype, dc->name, &has_row, &docstatus);
			ev = fi_events_at_commit(dc->noted, has_row, docstatus);
			if (ev == 0)
				continue;
			for (int hi = 0; hi < s->nhooks; hi++)
			{
				const FcWebhook *h = &s->hooks[hi];
				Job		   *j;

				if ((h->event & ev) == 0 || h->doctype == NULL || strcmp(h->doctype, dc->doctype) != 0)
					continue;
				/* a document gone at commit is delivered only to on_trash */
				if (!has_row && h->event != FI_EV_ON_TRASH)
					continue;
				if (njobs == njobcap)
				{
					Job		   *more = fc_alloc(a, sizeof(Job) * njobcap * 2);

					memcpy(more, jobs, sizeof(Job) * njobcap);
					jobs = more;
					njobcap *= 2;
				}
				j = &jobs[njobs++];
				j->hook = h;
				j->doctype = dc->doctype;
				j->name = dc->name;
				j->trx = trx[start];
				j->start = (int) start;
				j->end = (int) end;
				j->trash = h->event == FI_EV_ON_TRASH;
			}
		}
		start = end;
	}
	if (s->check_folded && njobs > 0)
		jobs_queued(s, a, jobs, njobs);

	/*
	 * 2: per chunk of events, in order, in a template session of its own: the
	 * documents read set-wise per DocType as they are now (a deleted one as
	 * its rows were), each event's request queued
	 */
	for (int c0 = 0; c0 < njobs; c0 += JOB_CHUNK)
	{
		int			c1 = njobs - c0 < JOB_CHUNK ? njobs : c0 + JOB_CHUNK;

		if ((f.t = step_tpl = fi_tpl_new(&o)) == NULL)
			fc_fail("53200", NULL, NULL, "out of memory");
		f.docs = NULL;
		f.slots = NULL;
		f.nslots = 0;
		f.nmemo = 0;
		f.born_room = ahead - outstanding;
		for (int i = c0; i < c1; i++)
		{
			Job		   *j = &jobs[i];

			if (j->queued)
				continue;
			if (j->trash)
			{
				FiDocChange dc = {.doctype = j->doctype, .name = j->name};

				/* as it was when deleted (a REPLACE: the row it replaced) */
				j->doc = j->cdoc = doc_trashed(&f, raw + j->start, lens + j->start, rows + j->start,
											   j->end - j->start, &dc);
			}
			else
				j->memo = doc_wanted(&f, j->doctype, j->name);
		}
		docs_read(&f);
		for (int i = c0; i < c1; i++)
		{
			Job		   *j = &jobs[i];
			FiWebhookReq rq;

			if (j->queued)
				continue;
			if (j->memo)
			{
				if (j->memo->doc == NULL || j->memo->cdoc == NULL)
					continue;	/* deleted since: its delete has its own events */
				j->doc = j->memo->doc;
				j->cdoc = j->memo->cdoc;
			}
			fi_webhook_request(f.t, &j->hook->def, j->doc, j->cdoc, &rq, fc_alloc, a);
			if (rq.skip)
				continue;
			queue_row(&f, j->hook, j->doctype, j->name, &rq, j->trx, now_lit);
		}
		/* the requests' bytes are in the statement: the session can go */
		queue_flush(&f);
		fi_tpl_free(f.t);
		f.t = step_tpl = NULL;
		if (c1 < njobs)
		{
			/*
			 * a slice: committed with the transactions it finished (those
			 * before the next job's), then sent while the next is folded
			 */
			log_flush(s, &f.log, &f.nlog);
			outbox_delete(s, raw, deleted, jobs[c1].start);
			deleted = jobs[c1].start;
			execs(s->conn, "COMMIT", "committing");
			born_send();
			s->n_queued += f.queued;
			s->n_failed += f.failed;
			f.queued = f.failed = 0;
			if (got_term)
			{
				/* SIGTERM: the fold cut short here, the next worker completes it */
				stopped = true;
				s->check_folded = true;
				break;
			}
			fold_pause(s);
			execs(s->conn, "START TRANSACTION", "starting a transaction");
		}
	}
	if (!stopped)
	{
		log_flush(s, &f.log, &f.nlog);
		outbox_delete(s, raw, deleted, (long long) nrows);
		execs(s->conn, "COMMIT", "committing");
		born_send();
		/* every transaction there was seen: any fold cut short before is complete now */
		if (ntrx < opt.batch)
			s->check_folded = false;
	}
	for (SecretMemo *m = f.secrets; m; m = m->next)
		if (m->secret)
			memset(m->secret, 0, strlen(m->secret));
	mysql_free_result(res);
	step_res = NULL;
	fc_buf_free(&f.queue);
	fc_buf_free(&f.log);
	s->n_queued += f.queued;
	s->n_failed += f.failed;
	s->due_at = 0;				/* new events: claim at once */
	return (long long) nrows;
}

/* ---- send ---- */

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	Delivery   *d = arg;
	size_t		n = size * nmemb;

	if (d->response.len < RESPONSE_KEEP)
		fc_buf_put(&d->response, ptr, n < RESPONSE_KEEP - d->response.len ? n : RESPONSE_KEEP - d->response.len);
	return n;
}

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	Delivery   *d = arg;
	size_t		n = size * nmemb;
	int			s;

	s = fi_retry_after_line(ptr, n, (long long) time(NULL));
	if (s >= 0)
		d->retry_after_s = s;
	return n;
}

/* a delivery of the site, claimed: on its live list until freed */
static Delivery *
delivery_new(Site *s)
{
	Delivery   *d = calloc(1, sizeof(Delivery));

	if (d == NULL)
		fc_fail("53200", NULL, NULL, "out of memory");
	d->a = fc_arena_new();
	d->site = s;
	s->inflight++;
	outstanding++;
	d->live_next = s->live;
	if (s->live)
		s->live->live_prev = d;
	s->live = d;
	return d;
}

static void
delivery_free(Delivery *d)
{
	if (d->secret)
		memset(d->secret, 0, strlen(d->secret));
	if (d->live_prev)
		d->live_prev->live_next = d->live_next;
	else
		d->site->live = d->live_next;
	if (d->live_next)
		d->live_next->live_prev = d->live_prev;
	d->site->inflight--;
	outstanding--;
	fc_buf_free(&d->response);
	fi_jbuf_free(&d->resp_headers);
	fc_arena_free(d->a);
	free(d);
}

static CURL *http_easy(Delivery *d);

/* a webhook event's transfer, signed now; NULL (d->error set) when it cannot be made */
static CURL *
webhook_easy(Delivery *d)
{
	FiSendHeaders sh;
	CURL	   *e;

	d->retry_after_s = -1;
	if (d->url == NULL || fi_webhook_url_problem(d->url))
	{
		d->error = fc_printf(d->a, "%s", d->url ? fi_webhook_url_problem(d->url) : "the event has no URL");
		d->no_retry = true;
		return NULL;
	}
	if (!fi_webhook_send_headers(d->event_id, d->secret, d->body, d->bodylen, (long long) time(NULL),
								 d->nrows, d->keys, d->values, &sh, fc_alloc, d->a))
	{
		d->error = sh.error;
		d->no_retry = true;
		return NULL;
	}
	d->logged_headers = sh.logged;
	for (int i = 0; i < sh.n; i++)
		d->list = curl_slist_append(d->list, fc_printf(d->a, "%s: %s", sh.h[i].name, sh.h[i].value));
	d->list = curl_slist_append(d->list, "Expect:");
	if ((e = curl_easy_init()) == NULL)
	{
		d->error = fc_printf(d->a, "libcurl could not make a transfer");
		return NULL;
	}
	curl_easy_setopt(e, CURLOPT_URL, d->url);
	fi_http_only(e);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) d->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) d->timeout_ms);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->list);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "frappe_integrations/" FI_EXTVERSION);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) d->bodylen);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body);
	if (strcmp(d->method, "POST") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, d->method);
	if (opt.ca_bundle)
		curl_easy_setopt(e, CURLOPT_CAINFO, opt.ca_bundle);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, d);
	return e;
}

/* begin sending; false (d->error set) when it cannot start */
static bool
send_start(Delivery *d)
{
	CURL	   *e = d->http ? http_easy(d) : webhook_easy(d);

	if (e == NULL)
		return false;
	curl_easy_setopt(e, CURLOPT_PRIVATE, d);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, d->curl_error);
	if (curl_multi_add_handle(multi, e) != CURLM_OK)
	{
		curl_easy_cleanup(e);
		d->error = fc_printf(d->a, "libcurl could not start the transfer");
		return false;
	}
	d->easy = e;
	for (int i = 0; i < opt.concurrency; i++)
		if (slots[i] == NULL)
		{
			slots[i] = d;
			break;
		}
	inflight++;
	return true;
}

static void
send_end(Delivery *d, CURLcode rc)
{
	if (d->easy == NULL)
		return;
	if (rc == CURLE_OK)
		curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &d->status);
	else if (d->http)
	{
		/* as PostgreSQL's queue says it: one attempt, the reason kept */
		const char *t = fi_http_curl_error_text((int) rc, d->curl_error);

		d->error = d->too_big ?
			fc_printf(d->a, "the response is larger than integrations.http_settings.max_response_kb (%zu kB)",
					  d->max_response / 1024) :
			rc == CURLE_OPERATION_TIMEDOUT ? fc_printf(d->a, "timed out after %d ms", d->timeout_ms) :
			rc == CURLE_TOO_MANY_REDIRECTS ? fc_printf(d->a, "redirected more than %d times", d->max_redirects) :
			fc_printf(d->a, "%s", t ? t : d->curl_error[0] ? d->curl_error : curl_easy_strerror(rc));
		d->no_retry = true;
	}
	else
	{
		const char *t = fi_http_curl_error_text((int) rc, d->curl_error);

		d->error = fc_printf(d->a, "%s", t ? t : curl_easy_strerror(rc));
		/* a URL that cannot work will not work later either */
		d->no_retry = rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL;
	}
	curl_multi_remove_handle(multi, d->easy);
	curl_easy_cleanup(d->easy);
	curl_slist_free_all(d->list);
	d->easy = NULL;
	d->list = NULL;
	inflight--;
	for (int i = 0; i < opt.concurrency; i++)
		if (slots[i] == d)
			slots[i] = NULL;
}

/* a webhook's decrypted webhook_secret (Frappe's get_password), or NULL with why */
static SecretMemo *
secret_of(Site *s, FcArena *a, SecretMemo **memo, const char *webhook)
{
	SecretMemo *m;
	MYSQL_RES  *r;
	MYSQL_ROW	row;

	for (m = *memo; m; m = m->next)
		if (strcmp(m->webhook, webhook) == 0)
			return m;
	m = fc_alloc(a, sizeof(SecretMemo));
	m->webhook = webhook;
	m->next = *memo;
	*memo = m;
	if (!s->key_ok)
	{
		m->why = "the site's encryption_key is missing or not a Fernet key: the webhook secret cannot be decrypted";
		return m;
	}
	r = fc_query(s->conn, fc_printf(a, "SELECT password FROM `__Auth` WHERE doctype = 'Webhook' AND name = %s "
									"AND fieldname = 'webhook_secret' LIMIT 1", fc_literal(a, s->conn, webhook)),
				 "reading the webhook secret");
	row = mysql_fetch_row(r);
	if (row == NULL || row[0] == NULL || row[0][0] == '\0')
		m->why = "enable_security is set but the webhook has no secret";
	else
	{
		size_t		toklen = strlen(row[0]);
		unsigned char *plain = fc_alloc(a, fi_fernet_plain_maxlen(toklen) + 1);
		size_t		n = 0;

		if (fi_fernet_decrypt(s->key, row[0], toklen, plain, &n, NULL) != FI_SECRET_OK)
			m->why = "the webhook secret cannot be decrypted (is encryption_key the site's key?)";
		else
		{
			plain[n] = '\0';
			m->secret = (char *) plain;
		}
	}
	mysql_free_result(r);
	return m;
}

/* the Webhook Header rows of a queue row: [[key, value], ...] */
static int
header_rows(FiTpl *t, Delivery *d, const char *json, const char ***keys, const char ***values)
{
	FiVal	   *v;
	int			n = 0,
				cnt;

	if (json == NULL || fi_tpl_from_json(t, json, strlen(json), &v) != FI_TPL_OK || fi_val_kind(v) != FI_VK_LIST)
		return 0;
	cnt = fi_val_count(v);
	*keys = fc_alloc(d->a, sizeof(char *) * (cnt + 1));
	*values = fc_alloc(d->a, sizeof(char *) * (cnt + 1));
	for (int i = 0; i < cnt; i++)
	{
		FiVal	   *p = fi_val_item(v, i);
		size_t		kl,
					vl;
		const char *k = fi_val_text(fi_val_item(p, 0), &kl);
		const char *val = fi_val_text(fi_val_item(p, 1), &vl);

		if (k == NULL || val == NULL)
			continue;
		(*keys)[n] = fc_strndup(d->a, k, kl);
		(*values)[n++] = fc_strndup(d->a, val, vl);
	}
	return n;
}

static char *
dup_or_null(FcArena *a, const char *p, size_t n)
{
	return p ? fc_strndup(a, p, n) : NULL;
}

/*
 * A queue row claimed as it is queued (queue_row): its delivery, on
 * step_born until the fold commits.  NULL when it cannot be (its secret
 * cannot be read: the claim says why, as for any event).
 */
static Delivery *
delivery_born(Flush *f, const FcWebhook *h, const char *doctype, const char *docname, const FiWebhookReq *rq,
			  const char *event_id)
{
	Site	   *s = f->s;
	Delivery   *d;
	const char *secret = NULL;

	if (h->secured)
	{
		SecretMemo *m = secret_of(s, f->a, &f->secrets, h->def.name);

		if ((secret = m->secret) == NULL)
			return NULL;
	}
	d = delivery_new(s);
	d->event_id = fc_strndup(d->a, event_id, strlen(event_id));
	d->webhook = fc_strndup(d->a, h->def.name, strlen(h->def.name));
	d->doctype = fc_strndup(d->a, doctype, strlen(doctype));
	d->docname = fc_strndup(d->a, docname, strlen(docname));
	d->method = fc_strndup(d->a, h->method, strlen(h->method));
	d->url = dup_or_null(d->a, rq->url, rq->url ? strlen(rq->url) : 0);
	d->body = rq->body ? fc_strndup(d->a, rq->body, rq->bodylen) : fc_strndup(d->a, "", 0);
	d->bodylen = rq->body ? rq->bodylen : 0;
	d->timeout_ms = h->timeout_ms;
	d->attempt = 1;
	d->user = dup_or_null(d->a, rq->user, rq->user ? strlen(rq->user) : 0);
	d->nrows = header_rows(f->t, d, rq->headers ? rq->headers : "[]", &d->keys, &d->values);
	if (secret)
		d->secret = fc_strndup(d->a, secret, strlen(secret));
	if (step_born_tail)
		step_born_tail->next = d;
	else
		step_born = d;
	step_born_tail = d;
	return d;
}

/* the fold committed: what it claimed at birth goes to the network thread */
static void net_submit(Delivery *head, Delivery *tail);
static void
born_send(void)
{
	net_submit(step_born, step_born_tail);
	step_born = step_born_tail = NULL;
}

/* the fold failed: what it claimed at birth was rolled back with it */
static void
born_drop(void)
{
	while (step_born)
	{
		Delivery   *n = step_born->next;

		delivery_free(step_born);
		step_born = n;
	}
	step_born_tail = NULL;
}

/*
 * ---- the network thread ----
 *
 * Every transfer runs on one thread of its own, so that HTTP and SQL overlap:
 * the main thread folds, claims and records on the sites' connections while
 * this one keeps the transfers going.  They share two lists under net_mu:
 * net_in (claimed, to send, in the order claimed) and net_done (finished, or
 * not startable, or put back at shutdown: aborted).  A Delivery belongs to
 * whichever side holds it; the multi handle, inflight and slots to this
 * thread alone.  Nothing here runs SQL or fc_fail's jump.
 */
static pthread_t net_thread;
static pthread_mutex_t net_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t net_cv = PTHREAD_COND_INITIALIZER;	/* net_done got something */
static Delivery *net_in_head,
		   *net_in_tail;
static Delivery *net_done;
static bool net_stop;

static void
net_finished(Delivery **list, Delivery *d)
{
	d->next = *list;
	*list = d;
}

/* the net thread's finished list onto net_done, the main thread woken */
static void
net_hand_back(Delivery *fin)
{
	pthread_mutex_lock(&net_mu);
	while (fin)
	{
		Delivery   *n = fin->next;

		net_finished(&net_done, fin);
		fin = n;
	}
	pthread_cond_signal(&net_cv);
	pthread_mutex_unlock(&net_mu);
}

static void *
net_main(void *arg)
{
	Delivery   *wait_head = NULL,
			   *wait_tail = NULL;
	Delivery   *fin;
	bool		stop = false;

	(void) arg;
	while (!stop)
	{
		double		t0;
		int			running,
					left;
		CURLMsg    *msg;

		pthread_mutex_lock(&net_mu);
		stop = net_stop;
		if (net_in_head)
		{
			if (wait_tail)
				wait_tail->next = net_in_head;
			else
				wait_head = net_in_head;
			wait_tail = net_in_tail;
			net_in_head = net_in_tail = NULL;
		}
		pthread_mutex_unlock(&net_mu);
		if (stop)
			break;
		t0 = now_us();
		fin = NULL;
		while (wait_head && inflight < opt.concurrency)
		{
			Delivery   *d = wait_head;

			if ((wait_head = d->next) == NULL)
				wait_tail = NULL;
			d->next = NULL;
			if (!send_start(d))
				net_finished(&fin, d);
		}
		curl_multi_perform(multi, &running);
		while ((msg = curl_multi_info_read(multi, &left)) != NULL)
		{
			Delivery   *d;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &d);
			send_end(d, msg->data.result);
			net_finished(&fin, d);
		}
		t_curl += (now_us() - t0) / 1000;
		if (fin)
			net_hand_back(fin);
		if (wait_head == NULL || inflight >= opt.concurrency)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	}
	/* the worker stops: transfers in flight and those not begun go back, the attempt not counted */
	fin = NULL;
	for (int i = 0; i < opt.concurrency; i++)
		if (slots[i])
		{
			Delivery   *d = slots[i];

			send_end(d, CURLE_ABORTED_BY_CALLBACK);
			d->aborted = true;
			net_finished(&fin, d);
		}
	while (wait_head)
	{
		Delivery   *d = wait_head;

		wait_head = d->next;
		d->aborted = true;
		net_finished(&fin, d);
	}
	net_hand_back(fin);
	return NULL;
}

/* hand claimed deliveries (a list in claim order) to the network thread */
static void
net_submit(Delivery *head, Delivery *tail)
{
	if (head == NULL)
		return;
	pthread_mutex_lock(&net_mu);
	if (net_in_tail)
		net_in_tail->next = head;
	else
		net_in_head = head;
	net_in_tail = tail;
	pthread_mutex_unlock(&net_mu);
	curl_multi_wakeup(multi);
}

/*
 * The deliveries finished since the last call onto record_list, waiting up to
 * wait_ms for one when there is none; true when there were any.
 */
static bool
net_collect(int wait_ms)
{
	Delivery   *got;

	pthread_mutex_lock(&net_mu);
	if (net_done == NULL && wait_ms > 0)
	{
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long) wait_ms * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&net_cv, &net_mu, &until);
	}
	got = net_done;
	net_done = NULL;
	pthread_mutex_unlock(&net_mu);
	if (got == NULL)
		return false;
	while (got)
	{
		Delivery   *n = got->next;

		got->next = record_list;
		record_list = got;
		got = n;
	}
	return true;
}

/* a thread of the worker's: it takes no signal (SIGTERM and SIGHUP are the main thread's) */
static void
thread_start(pthread_t *t, void *(*fn) (void *), const char *what)
{
	sigset_t	all,
				old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(t, NULL, fn, NULL) != 0)
		fc_fail("58000", NULL, NULL, "could not start the %s thread", what);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
net_begin(void)
{
	thread_start(&net_thread, net_main, "network");
}

/* stop the network thread; what it had comes back in record_list (aborted ones marked) */
static void
net_end(void)
{
	pthread_mutex_lock(&net_mu);
	net_stop = true;
	pthread_mutex_unlock(&net_mu);
	curl_multi_wakeup(multi);
	pthread_join(net_thread, NULL);
	net_collect(0);
}

/*
 * Claim up to room due events: pending ones (the index's order), or with
 * leases those whose claim ran out (a worker stopped while sending them).
 */
static int
claim(Site *s, FcArena *a, int room, bool leases)
{
	MYSQL_RES  *res;
	MYSQL_ROW	r;
	FcBuf		ids = {0};
	SecretMemo *memo = NULL;
	FiTplOptions o;
	FiTpl	   *t;
	int			n = 0;
	Delivery   *head = NULL,
			   *tail = NULL;

	/*
	 * a lease run out is another worker's (or a failed record's): never one
	 * of this worker's own, however long it has waited for a transfer
	 */
	if (leases && s->live)
	{
		fc_buf_puts(&ids, " AND id NOT IN (");
		for (Delivery *d = s->live; d; d = d->live_next)
			fc_buf_printf(&ids, d == s->live ? "%llu" : ", %llu", d->id);
		fc_buf_puts(&ids, ")");
	}
	res = fc_query(s->conn, fc_printf(a, "SELECT id, event_id, webhook, doctype, docname, method, url, headers, body, "
									  "sign, timeout_ms, attempts + 1, doc_user FROM `__fi_webhook_queue` "
									  "WHERE status = %s AND next_attempt_at <= UTC_TIMESTAMP(6)%s "
									  "ORDER BY next_attempt_at, id LIMIT %d", leases ? "'sending'" : "'pending'",
									  ids.len ? ids.data : "", room),
				   "claiming from __fi_webhook_queue");
	fc_buf_free(&ids);
	step_res = res;
	if (mysql_num_rows(res) == 0)
	{
		mysql_free_result(res);
		step_res = NULL;
		return 0;
	}
	fc_buf_puts(&ids, "UPDATE `__fi_webhook_queue` SET status = 'sending', attempts = attempts + 1, "
				"lease_until = UTC_TIMESTAMP(6) + INTERVAL (timeout_ms DIV 1000 + 5) SECOND, "
				"next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL (timeout_ms DIV 1000 + 5) SECOND WHERE id IN (");
	while ((r = mysql_fetch_row(res)) != NULL)
		fc_buf_printf(&ids, n++ ? ", %s" : "%s", r[0]);
	fc_buf_puts(&ids, ")");
	exec(s->conn, ids.data, ids.len, "claiming from __fi_webhook_queue");
	fc_buf_free(&ids);
	mysql_data_seek(res, 0);
	fi_tpl_default_options(&o);
	if ((t = step_tpl = fi_tpl_new(&o)) == NULL)
		fc_fail("53200", NULL, NULL, "out of memory");
	while ((r = mysql_fetch_row(res)) != NULL)
	{
		unsigned long *len = mysql_fetch_lengths(res);
		Delivery   *d = delivery_new(s);

#define COL(i) (r[i] ? fc_strndup(d->a, r[i], len[i]) : NULL)
		d->id = strtoull(r[0], NULL, 10);
		d->event_id = COL(1);
		d->webhook = COL(2);
		d->doctype = COL(3);
		d->docname = COL(4);
		d->method = COL(5);
		d->url = COL(6);
		d->body = COL(8);
		d->bodylen = len[8];
		d->timeout_ms = r[10] ? atoi(r[10]) : 5000;
		d->attempt = r[11] ? atoi(r[11]) : 1;
		d->user = COL(12);
#undef COL
		d->nrows = header_rows(t, d, r[7], &d->keys, &d->values);
		if (r[9] && strcmp(r[9], "1") == 0)
		{
			SecretMemo *m = secret_of(s, a, &memo, d->webhook);

			if (m->secret == NULL)
			{
				d->error = fc_printf(d->a, "%s", m->why);
				d->no_retry = true;
				d->next = record_list;
				record_list = d;
				continue;
			}
			d->secret = fc_strndup(d->a, m->secret, strlen(m->secret));
		}
		/* sent as transfers free up, in the order claimed */
		d->next = NULL;
		if (tail)
			tail->next = d;
		else
			head = d;
		tail = d;
	}
	net_submit(head, tail);
	for (SecretMemo *m = memo; m; m = m->next)
		if (m->secret)
			memset(m->secret, 0, strlen(m->secret));
	fi_tpl_free(t);
	mysql_free_result(res);
	step_tpl = NULL;
	step_res = NULL;
	return n;
}

/* in how many ms the queue's next row is due (<= 0: now; LLONG_MAX: none) */
static long long
next_due_ms(Site *s)
{
	long long	us = query_ll(s->conn, "SELECT TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), MIN(next_attempt_at)) "
							  "FROM `__fi_webhook_queue` WHERE status = 'pending'",
							  LLONG_MAX, "reading __fi_webhook_queue");

	return us == LLONG_MAX ? us : us / 1000;
}

/*
 * ---- http_request_async's queue ----
 *
 * A row of __fi_http_queue (written by the site's http_request_async, in
 * its caller's transaction: committed, it is due) is claimed, sent and
 * recorded as an event is, on the same multi handle, with the options and
 * checks of engine/httpreq.c (checked again here: the row may have been
 * written by hand).  One attempt: a request from SQL need not be
 * idempotent, so a failure is recorded, not retried; only a row whose
 * lease ran out (a worker stopped while sending it) is sent again, three
 * sends at most.  The response is kept whole up to the row's max_response
 * (64 MB at most: the worker holds it in memory).
 */
#define HTTP_MAX_SENDS	3
#define HTTP_LOOK_MS	20		/* how often an idle site's queue is looked at */
#define HTTP_MAX_RESPONSE ((size_t) 64 * 1024 * 1024)

static size_t
http_on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	Delivery   *d = arg;
	size_t		n = size * nmemb;

	if (d->response.len + n > d->max_response)
	{
		d->too_big = true;
		return 0;				/* ends the transfer */
	}
	fc_buf_put(&d->response, ptr, n);
	return n;
}

static size_t
http_on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	Delivery   *d = arg;
	size_t		n = size * nmemb;

	return fi_http_keep_header_line(&d->resp_headers, ptr, n) ? n : 0;
}

/* a queued request's transfer; NULL (d->error set) when the row cannot be sent */
static CURL *
http_easy(Delivery *d)
{
	char		host[512];
	FiHttpError err;
	void	   *list = NULL;
	CURL	   *e;

	d->no_retry = true;
	if (d->error)
		return NULL;			/* (claimed to be failed: sent too often) */
	if (!fi_http_check_request(d->method, d->url, d->timeout_ms, host, sizeof(host), &err))
	{
		d->error = fc_printf(d->a, "%s", err.message);
		return NULL;
	}
	if (d->headers_json &&
		!fi_http_headers_from_json(d->headers_json, strlen(d->headers_json), &list, NULL, NULL, &err))
	{
		d->error = fc_printf(d->a, "%s", err.message);
		fi_http_free_headers(list);
		return NULL;
	}
	d->list = list;
	if ((e = curl_easy_init()) == NULL)
	{
		d->error = fc_printf(d->a, "libcurl could not make a transfer");
		return NULL;
	}
	fi_http_easy_setup(e, d->method, d->url, d->list, d->body, d->bodylen, d->timeout_ms, d->max_redirects,
					   opt.ca_bundle, "frappe_integrations/" FI_EXTVERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, d);
	return e;
}

/*
 * Claim up to room due requests: pending ones, or with leases those whose
 * claim ran out (one sent too often is claimed to be recorded as failed).
 */
static int
claim_http(Site *s, FcArena *a, int room, bool leases)
{
	MYSQL_RES  *res;
	MYSQL_ROW	r;
	FcBuf		ids = {0};
	int			n = 0;
	Delivery   *head = NULL,
			   *tail = NULL;

	if (leases && s->live)
	{
		for (Delivery *d = s->live; d; d = d->live_next)
			if (d->http)
				fc_buf_printf(&ids, ids.len ? ", %llu" : " AND id NOT IN (%llu", d->id);
		if (ids.len)
			fc_buf_puts(&ids, ")");
	}
	res = fc_query(s->conn, fc_printf(a, "SELECT id, method, url, headers, body, timeout_ms, max_redirects, "
									  "max_response, attempts + 1, integration_request FROM `__fi_http_queue` "
									  "WHERE status = %s%s ORDER BY next_attempt_at, id LIMIT %d",
									  leases ? "'sending' AND lease_until <= UTC_TIMESTAMP(6)" :
									  "'pending' AND next_attempt_at <= UTC_TIMESTAMP(6)",
									  ids.len ? ids.data : "", room),
				   "claiming from __fi_http_queue");
	fc_buf_free(&ids);
	step_res = res;
	if (mysql_num_rows(res) == 0)
	{
		mysql_free_result(res);
		step_res = NULL;
		return 0;
	}
	fc_buf_printf(&ids, "UPDATE `__fi_http_queue` SET status = 'sending', attempts = attempts + 1, "
				  "lease_until = UTC_TIMESTAMP(6) + INTERVAL (timeout_ms DIV 1000 + 5) SECOND "
				  "WHERE status = '%s' AND id IN (", leases ? "sending" : "pending");
	while ((r = mysql_fetch_row(res)) != NULL)
		fc_buf_printf(&ids, n++ ? ", %s" : "%s", r[0]);
	fc_buf_puts(&ids, ")");
	exec(s->conn, ids.data, ids.len, "claiming from __fi_http_queue");
	fc_buf_free(&ids);
	mysql_data_seek(res, 0);
	while ((r = mysql_fetch_row(res)) != NULL)
	{
		unsigned long *len = mysql_fetch_lengths(res);
		Delivery   *d = delivery_new(s);
		long long	mx = r[7] ? atoll(r[7]) : 0;

#define COL(i) (r[i] ? fc_strndup(d->a, r[i], len[i]) : NULL)
		d->http = true;
		d->id = strtoull(r[0], NULL, 10);
		d->method = COL(1);
		d->url = COL(2);
		d->headers_json = COL(3);
		d->body = COL(4);
		d->bodylen = r[4] ? len[4] : 0;
		d->timeout_ms = r[5] ? atoi(r[5]) : 30000;
		d->max_redirects = r[6] ? atoi(r[6]) : 5;
		d->max_response = mx <= 0 || (size_t) mx > HTTP_MAX_RESPONSE ? HTTP_MAX_RESPONSE : (size_t) mx;
		d->attempt = r[8] ? atoi(r[8]) : 1;
		d->integration_request = COL(9);
#undef COL
		if (d->method == NULL || d->url == NULL)
			d->error = fc_printf(d->a, "the row has no method or URL");
		else if (d->attempt > HTTP_MAX_SENDS)
			d->error = fc_printf(d->a, "the worker stopped while sending this request %d times", HTTP_MAX_SENDS);
		d->next = NULL;
		if (tail)
			tail->next = d;
		else
			head = d;
		tail = d;
	}
	/* (a row that cannot be sent comes straight back from the network thread, failed) */
	net_submit(head, tail);
	mysql_free_result(res);
	step_res = NULL;
	return n;
}

/*
 * The outcomes of a site's finished requests (its events are recorded
 * beside them, in the same transaction): done with the response, whatever
 * its status, or failed with why none came; a Queued tabIntegration Request
 * completed as PostgreSQL's worker completes it.
 */
static void
record_http(Site *s, FcArena *a, Delivery *list)
{
	FcBuf		up = {0};
	char	   *now_lit = NULL;

	for (Delivery *d = list; d; d = d->next)
	{
		bool		answered = d->error == NULL && d->status > 0;

		if (!d->http)
			continue;
		up.len = 0;
		fc_buf_printf(&up, "UPDATE `__fi_http_queue` SET status = '%s', lease_until = NULL, "
					  "finished_at = UTC_TIMESTAMP(6), ", answered ? "done" : "failed");
		if (answered)
		{
			FiJBuf		hj = {0},
						canon = {0};
			FiJsonRoot	root;
			char		msg[200];

			if (!fi_http_headers_json(d->resp_headers.data ? d->resp_headers.data : "", d->resp_headers.len, &hj) ||
				fi_json_canon(hj.data ? hj.data : "{}", hj.data ? hj.len : 2, false, 10, &canon, &root, msg,
							  sizeof(msg)) != FI_JSON_OK)
				fc_fail("53200", NULL, NULL, "out of memory recording a response");
			fc_buf_printf(&up, "response_status = %ld, response_headers = ", d->status);
			put_literal(&up, s->conn, canon.data, canon.len);
			fi_jbuf_free(&hj);
			fi_jbuf_free(&canon);
			fc_buf_puts(&up, ", response_body = _binary");
			put_literal(&up, s->conn, d->response.data ? d->response.data : "", d->response.len);
			fc_buf_puts(&up, ", error = NULL");
		}
		else
		{
			fc_buf_puts(&up, "response_status = NULL, response_headers = NULL, response_body = NULL, error = ");
			put_str(&up, s->conn, d->error ? d->error : "no response");
		}
		fc_buf_printf(&up, " WHERE id = %llu AND status = 'sending'", d->id);
		exec(s->conn, up.data, up.len, "recording the response of a queued HTTP request");
		if (answered)
			s->n_delivered++;
		else
			s->n_failed++;
		if (d->integration_request)
		{
			bool		ok = answered && d->status < 400;
			FiJBuf		txt = {0};

			if (now_lit == NULL)
				now_lit = site_now_literal(s, a);
			if (answered)
				fi_http_log_text(d->response.data ? d->response.data : "", d->response.len, &txt);
			up.len = 0;
			fc_buf_printf(&up, "UPDATE `tabIntegration Request` SET status = '%s', modified = %s, %s = ",
						  ok ? "Completed" : "Failed", now_lit, ok ? "output" : "error");
			if (answered)
				put_literal(&up, s->conn, txt.data ? txt.data : "", txt.len);
			else
				put_str(&up, s->conn, d->error ? d->error : "no response");
			fi_jbuf_free(&txt);
			fc_buf_puts(&up, ", request_description = ");
			put_str(&up, s->conn, answered ? fc_printf(a, "%s %ld", d->method, d->status) :
					fc_printf(a, "%s (no response)", d->method));
			fc_buf_puts(&up, " WHERE name = ");
			put_str(&up, s->conn, d->integration_request);
			fc_buf_puts(&up, " AND status = 'Queued'");
			exec(s->conn, up.data, up.len, "completing a tabIntegration Request");
		}
	}
	fc_buf_free(&up);
}

/* the finished requests older than --http-retention: deleted, a slice at a time */
static void
purge_http(Site *s)
{
	char		sql[256];

	snprintf(sql, sizeof(sql), "DELETE FROM `__fi_http_queue` WHERE finished_at < UTC_TIMESTAMP(6) - INTERVAL %d SECOND "
			 "LIMIT 10000", opt.http_retention_s);
	execs(s->conn, sql, "deleting finished HTTP requests");
}

/* a site's turn at its HTTP queue: at most half of what may be claimed ahead */
static void
site_http(Site *s, long long now)
{
	int			room = (ahead - outstanding) / 2;
	int			got;

	if (!s->has_httpq)
		return;
	if (now >= s->http_purge_at)
	{
		purge_http(s);
		s->http_purge_at = now + 60000;
	}
	if (now < s->http_at || room < 1)
		return;
	step_arena = fc_arena_new();
	if (now >= s->http_leases_at)
	{
		claim_http(s, step_arena, room, true);
		s->http_leases_at = now + 1000;
		room = (ahead - outstanding) / 2;
	}
	got = room > 0 ? claim_http(s, step_arena, room, false) : 0;
	fc_arena_free(step_arena);
	step_arena = NULL;
	s->http_at = got == room ? now : now + HTTP_LOOK_MS;
}

/* ---- import and export jobs (__fi_jobs): each in a process of its own ---- */

/*
 * A job runs as `fi-client job --site-config <the site's config> --job ID`
 * (client_job.c), started here once its row is committed: an import or an
 * export takes seconds to minutes, which the deliveries of every site must
 * not wait for.  The process takes the job's named lock (FC_JOB_LOCK) and
 * writes the outcome itself; when it dies first (killed, the server
 * restarted), its lock is free while the row is still running, and the
 * site's next look marks the job failed.  A worker stopping leaves its jobs
 * running: each finishes and records itself.
 */
#define JOBS_LOOK_MS	200
typedef struct JobChild
{
	pid_t		pid;
	char	   *site_path;		/* the site's config (its Site may be freed meanwhile) */
	unsigned long long id;
} JobChild;
static JobChild *job_children;	/* opt.jobs slots, pid 0: free */
static int	njob_children;
static char self_exe[4096];

static bool
job_running(const Site *s, unsigned long long id)
{
	for (int i = 0; i < opt.jobs; i++)
		if (job_children[i].pid != 0 && job_children[i].id == id && strcmp(job_children[i].site_path, s->path) == 0)
			return true;
	return false;
}

static void
job_spawn(Site *s, unsigned long long id)
{
	char		idtext[24];
	char	   *argv[7];
	pid_t		pid;
	int			slot = -1;

	for (int i = 0; i < opt.jobs && slot < 0; i++)
		if (job_children[i].pid == 0)
			slot = i;
	if (slot < 0)
		return;
	snprintf(idtext, sizeof(idtext), "%llu", id);
	argv[0] = self_exe;
	argv[1] = "job";
	argv[2] = "--site-config";
	argv[3] = s->path;
	argv[4] = "--job";
	argv[5] = idtext;
	argv[6] = NULL;
	fflush(stderr);
	pid = fork();
	if (pid < 0)
	{
		say("WARNING:", s, "could not start job %llu: %s (tried again shortly)", id, strerror(errno));
		return;
	}
	if (pid == 0)
	{
		sigset_t	none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		execv(self_exe, argv);
		_exit(127);
	}
	job_children[slot].pid = pid;
	job_children[slot].id = id;
	free(job_children[slot].site_path);
	job_children[slot].site_path = strdup(s->path);
	njob_children++;
	say("LOG:", s, "job %llu started (process %d)", id, (int) pid);
}

/* the job processes that ended; one that ended badly: its site looks for lost jobs at once */
static void
jobs_reap(void)
{
	int			st;
	pid_t		pid;

	while (njob_children > 0 && (pid = waitpid(-1, &st, WNOHANG)) > 0)
	{
		for (int i = 0; i < opt.jobs; i++)
		{
			if (job_children[i].pid != pid)
				continue;
			job_children[i].pid = 0;
			njob_children--;
			if (!WIFEXITED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 1))
			{
				/* its directory (a copy of an import's file among it) */
				const char *tmpdir = getenv("TMPDIR");
				char		pattern[4200];
				glob_t		g;

				snprintf(pattern, sizeof(pattern), "%s/fi-job-%d-*", tmpdir && tmpdir[0] ? tmpdir : "/tmp", (int) pid);
				if (glob(pattern, GLOB_NOSORT, NULL, &g) == 0)
					for (size_t k = 0; k < g.gl_pathc; k++)
						fc_job_remove_dir(g.gl_pathv[k]);
				globfree(&g);
				Site	   *s = site_find(job_children[i].site_path);

				if (WIFSIGNALED(st))
					say("WARNING:", s, "job %llu's process ended by signal %d", job_children[i].id, WTERMSIG(st));
				else
					say("WARNING:", s, "job %llu's process ended with status %d", job_children[i].id,
						WIFEXITED(st) ? WEXITSTATUS(st) : -1);
				if (s)
					s->jobs_lost_at = 0;
			}
		}
	}
}

/* a site's turn at its jobs: lost ones marked failed, queued ones started, old ones deleted */
static void
site_jobs(Site *s, long long now)
{
	MYSQL_RES  *r;
	MYSQL_ROW	row;
	char		sql[512];
	int			room = opt.jobs - njob_children;

	if (!s->has_jobs)
		return;
	if (now >= s->jobs_purge_at)
	{
		snprintf(sql, sizeof(sql), "DELETE FROM `__fi_jobs` WHERE finished_at < UTC_TIMESTAMP(6) - INTERVAL %d SECOND "
				 "LIMIT 1000", opt.job_retention_s);
		execs(s->conn, sql, "deleting finished jobs");
		s->jobs_purge_at = now + 60000;
	}
	if (now >= s->jobs_lost_at)
	{
		static const char lost[] =
			"UPDATE `__fi_jobs` SET status = 'failed', error_sqlstate = '57000', "
			"error = 'the job''s process ended before it finished (killed, or the server or the worker stopped)', "
			"error_hint = 'The job is not started again: the batches an import committed before stay (see its documents).', "
			"finished_at = UTC_TIMESTAMP(6) WHERE status = 'running' AND IS_FREE_LOCK(" FC_JOB_LOCK("id") ") = 1";
		my_ulonglong n;

		if (mysql_real_query(s->conn, lost, sizeof(lost) - 1) != 0)
			fc_fail_mysql(s->conn, "marking lost jobs failed");
		n = mysql_affected_rows(s->conn);
		if (n > 0 && n != (my_ulonglong) -1)
			say("WARNING:", s, "%llu job(s) lost their process: marked failed", (unsigned long long) n);
		s->jobs_lost_at = now + 5000;
	}
	if (now < s->jobs_at || room < 1)
		return;
	s->jobs_at = now + JOBS_LOOK_MS;
	snprintf(sql, sizeof(sql), "SELECT id FROM `__fi_jobs` WHERE status = 'queued' ORDER BY id LIMIT %d", opt.jobs);
	r = fc_query(s->conn, sql, "looking for queued jobs");
	while ((row = mysql_fetch_row(r)) != NULL && njob_children < opt.jobs)
	{
		unsigned long long id = strtoull(row[0], NULL, 10);

		if (!job_running(s, id))
			job_spawn(s, id);
	}
	mysql_free_result(r);
}

/* ---- record ---- */

static void
record_site(Site *s, FcArena *a, Delivery *list)
{
	FcBuf		up = {0};
	FcBuf		ok = {0};
	FcBuf		log = {0};
	int			nlog = 0;
	char	   *now_lit = site_now_literal(s, a);
	long		ok_status = -1;

	execs(s->conn, "START TRANSACTION", "starting a transaction");
	for (Delivery *d = list; d; d = d->next)
	{
		uint32_t	jitter;
		int64_t		delay = 0;
		FiOutcome	o;
		const char *err = NULL;

		if (d->http)
			continue;			/* (record_http's) */
		random_bytes(&jitter, sizeof(jitter));
		o = fi_webhook_outcome(d->error ? 0 : d->status, d->no_retry, d->attempt, opt.max_attempts,
							   opt.retry_base_ms, d->retry_after_s, jitter, &delay);
		if (o != FI_OUTCOME_DELIVERED)
			err = d->error ? d->error : fc_printf(d->a, "HTTP %ld", d->status);
		if (o == FI_OUTCOME_DELIVERED)
			s->n_delivered++;
		else if (o == FI_OUTCOME_RETRY)
			s->n_retried++;
		else
		{
			s->n_failed++;
			if (s->warnings++ < 10)
				say("WARNING:", s, "webhook \"%s\" for %s \"%s\" failed after %d attempt(s): %s",
					d->webhook, d->doctype, d->docname, d->attempt, err);
		}
		if (o == FI_OUTCOME_DELIVERED && (ok_status < 0 || ok_status == d->status))
		{
			/* the common case: delivered with one status, one UPDATE for all of them */
			ok_status = d->status;
			fc_buf_printf(&ok, ok.len ? ", %llu" : "%llu", d->id);
		}
		else
		{
			up.len = 0;
			fc_buf_printf(&up, "UPDATE `__fi_webhook_queue` SET status = '%s', last_status = ",
						  o == FI_OUTCOME_DELIVERED ? "delivered" : o == FI_OUTCOME_RETRY ? "pending" : "failed");
			if (d->status)
				fc_buf_printf(&up, "%ld", d->status);
			else
				fc_buf_puts(&up, "NULL");
			fc_buf_puts(&up, ", last_error = ");
			put_str(&up, s->conn, err);
			fc_buf_printf(&up, ", lease_until = NULL, delivered_at = %s, "
						  "next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL %lld MICROSECOND "
						  "WHERE id = %llu AND status = 'sending'",
						  o == FI_OUTCOME_DELIVERED ? "UTC_TIMESTAMP(6)" : "NULL", (long long) delay * 1000, d->id);
			exec(s->conn, up.data, up.len, "recording a webhook outcome");
		}
		if (opt.log_requests)
			log_row(s, &log, &nlog, now_lit, d->webhook, d->doctype, d->docname, d->url, d->logged_headers,
					d->body, d->bodylen, d->user, d->status && d->response.data ? d->response.data : NULL,
					err ? err : "");
		if (log.len > STMT_MAX)
			log_flush(s, &log, &nlog);
	}
	if (ok.len)
	{
		up.len = 0;
		fc_buf_printf(&up, "UPDATE `__fi_webhook_queue` SET status = 'delivered', last_status = %ld, last_error = NULL, "
					  "lease_until = NULL, delivered_at = UTC_TIMESTAMP(6), next_attempt_at = UTC_TIMESTAMP(6) "
					  "WHERE id IN (%s) AND status = 'sending'", ok_status, ok.data);
		exec(s->conn, up.data, up.len, "recording webhook outcomes");
	}
	log_flush(s, &log, &nlog);
	record_http(s, a, list);
	execs(s->conn, "COMMIT", "committing");
	fc_buf_free(&up);
	fc_buf_free(&ok);
	fc_buf_free(&log);
}

/* the outcomes of the finished deliveries, one transaction per site */
static void
record_all(void)
{
	Delivery   *list = record_list;

	record_list = NULL;
	while (list)
	{
		Site	   *s = list->site;
		Delivery  **pp = &list;
		Delivery   *volatile mine = NULL;
		FcArena    *a = fc_arena_new();
		jmp_buf		jb;
		jmp_buf    *outer = fc_fail_jump;

		/* this site's out of the list */
		while (*pp)
		{
			Delivery   *d = *pp;

			if (d->site == s)
			{
				*pp = d->next;
				d->next = mine;
				mine = d;
			}
			else
				pp = &d->next;
		}
		fc_fail_jump = &jb;
		if (setjmp(jb) == 0)
		{
			if (s->conn == NULL)
				fc_fail("08003", NULL, NULL, "the connection is gone");
			record_site(s, a, mine);
			s->due_at = 0;		/* retries just scheduled among them */
		}
		else
		{
			/* the rows stay claimed: due again when their lease ends */
			say("ERROR:", s, "%s (the events are sent again when their lease ends)", fc_fail_text);
			if (s->conn)
				mysql_query(s->conn, "ROLLBACK");
		}
		fc_fail_jump = outer;
		fc_arena_free(a);
		while (mine)
		{
			Delivery   *n = mine->next;

			delivery_free(mine);
			mine = n;
		}
	}
}

/*
 * Shutdown: the network thread stopped; what finished is recorded, what was
 * claimed and not sent (in flight included) goes back, due at once, the
 * attempt not counted: one UPDATE per site.
 */
static void
release_all(void)
{
	Delivery   *back = NULL;

	net_end();
	for (Delivery **pp = &record_list; *pp;)
	{
		Delivery   *d = *pp;

		if (d->aborted)
		{
			*pp = d->next;
			d->next = back;
			back = d;
		}
		else
			pp = &d->next;
	}
	record_all();
	while (back)
	{
		Site	   *s = back->site;
		FcBuf		sql = {0};
		jmp_buf		jb;
		jmp_buf    *outer = fc_fail_jump;

		bool		http = back->http;

		/* (a site's events, then its HTTP requests) */
		fc_buf_printf(&sql, "UPDATE `%s` SET status = 'pending', attempts = attempts - 1, "
					  "lease_until = NULL, next_attempt_at = UTC_TIMESTAMP(6) WHERE status = 'sending' AND id IN (",
					  http ? "__fi_http_queue" : "__fi_webhook_queue");
		for (Delivery **pp = &back; *pp;)
		{
			Delivery   *d = *pp;

			if (d->site == s && d->http == http)
			{
				fc_buf_printf(&sql, sql.data[sql.len - 1] == '(' ? "%llu" : ", %llu", d->id);
				*pp = d->next;
				delivery_free(d);
			}
			else
				pp = &d->next;
		}
		fc_buf_puts(&sql, ")");
		fc_fail_jump = &jb;
		if (setjmp(jb) == 0 && s->conn)
			exec(s->conn, sql.data, sql.len, "putting events back");
		fc_fail_jump = outer;
		fc_buf_free(&sql);
	}
}

/* ---- the loop ---- */

/* a site's turn: its lease, webhooks, outbox and queue */
static void
site_work(Site *s, long long now)
{
	if (now < s->retry_at && s->owner)
		return;
	if (!site_ready(s, now))
		return;
	if (now >= s->replica_at)
	{
		/* made a replica while served (a switchover): the lease let go, its transfers finish */
		s->replica_at = now + 1000;
		if (site_replica(s))
		{
			site_close(s);
			s->retry_at = now;
			return;
		}
	}
	if (s->meta_arena == NULL)
		s->meta_arena = fc_arena_new();
	fc_meta_use(&s->meta_cache, s->meta_arena);
	site_config_check(s, now);
	for (int i = 0; i < 20 && now >= s->flush_at && !got_term; i++)
	{
		double		t0 = now_us();
		long long	took;

		step_arena = fc_arena_new();
		t_paused = 0;
		took = flush_batch(s, step_arena);
		fc_arena_free(step_arena);
		step_arena = NULL;
		t_flush += (now_us() - t0) / 1000 - t_paused;
		if (took == 0)
		{
			s->flush_at = now + opt.poll_ms;	/* nothing committed: look again after the poll interval */
			break;
		}
	}
	/* claimed ahead (see ahead), topped up when half are left */
	if (outstanding < ahead / 2 && now >= s->due_at)
	{
		double		t0 = now_us();
		long long	due;
		int			room,
					got;

		step_arena = fc_arena_new();
		if (now >= s->leases_at)
		{
			claim(s, step_arena, ahead - outstanding, true);
			s->leases_at = now + 1000;
		}
		room = ahead - outstanding;
		got = claim(s, step_arena, room, false);
		fc_arena_free(step_arena);
		step_arena = NULL;
		/* what is left: at once (the claim was full), when due, or a look again in a second (retry_webhook_events) */
		due = got == room ? 0 : next_due_ms(s);
		s->due_at = now + (due <= 0 ? 0 : due < 1000 ? due : 1000);
		t_claim += (now_us() - t0) / 1000;
	}
	site_http(s, now);
	site_jobs(s, now);
}

/* the site whose turn the main thread is in, for the stop thread; whether a statement was cut */
static bool
busy_set(Site *s)
{
	bool		cut;

	pthread_mutex_lock(&stop_mu);
	busy_site = s;
	cut = stop_cut;
	pthread_mutex_unlock(&stop_mu);
	return cut;
}

/* site_work, a failure ending only this site's turn */
static void
site_step(Site *s, long long now)
{
	jmp_buf		jb;

	if (s->gone || got_term)
		return;
	step_now = now;
	busy_set(s);
	fc_fail_jump = &jb;
	if (setjmp(jb) != 0)
	{
		unsigned int err = s->conn ? mysql_errno(s->conn) : 0;

		if (busy_set(NULL))
			say("LOG:", s, "stopping: the statement in progress cut short (%s)", fc_fail_text);
		else
			say("ERROR:", s, "%s", fc_fail_text);
		if (step_tpl)
			fi_tpl_free(step_tpl);
		if (step_res)
			mysql_free_result(step_res);
		if (step_outer_res)
			mysql_free_result(step_outer_res);
		fc_arena_free(step_arena);
		step_tpl = NULL;
		step_res = NULL;
		step_outer_res = NULL;
		born_drop();
		/* a fold cut short: its slices committed are looked for */
		s->check_folded = true;
		step_arena = NULL;
		if (s->conn)
			mysql_query(s->conn, "ROLLBACK");
		/* a column dropped or a table changed by hand: the metas read again */
		site_forget_metas(s);
		/* the server gone: connect again (the lease with it); else pause a second */
		if (err == 2006 || err == 2013 || err == 2055 || err == 1927 || s->conn == NULL || !s->owner)
			site_close(s);
		s->retry_at = step_now + 1000;
		fc_fail_jump = NULL;
		return;
	}
	site_work(s, step_now);
	fc_fail_jump = NULL;
	busy_set(NULL);
}

/* the stop thread (see stop_pipe) */
static void *
stop_main(void *arg)
{
	struct pollfd p = {.fd = stop_pipe[0], .events = POLLIN};
	char		c;
	int			wait_ms = -1;	/* until a signal */

	for (;;)
	{
		int			n = poll(&p, 1, wait_ms);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
		{
			/* the grace over, the main thread still in a site's statement */
			pthread_mutex_lock(&stop_mu);
			if (busy_site && busy_site->conn)
			{
				stop_cut = true;
				mariadb_cancel(busy_site->conn);
			}
			pthread_mutex_unlock(&stop_mu);
			wait_ms = -1;
			continue;
		}
		if (n < 0 || read(stop_pipe[0], &c, 1) != 1 || c == 'd')
			return NULL;
		if (wait_ms < 0 && !stop_cut)
			wait_ms = STOP_GRACE_MS;
	}
}

static void
stop_begin(void)
{
	if (pipe2(stop_pipe, O_CLOEXEC) != 0 || fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK) != 0)
		fc_fail("58000", NULL, NULL, "could not make the stop thread's pipe: %s", strerror(errno));
	thread_start(&stop_thread, stop_main, "stop");
}

/* the main loop left: the stop thread ends (a blocking write: the 'd' must get there) */
static void
stop_end(void)
{
	int			fl = fcntl(stop_pipe[1], F_GETFL);

	fcntl(stop_pipe[1], F_SETFL, fl & ~O_NONBLOCK);
	while (write(stop_pipe[1], "d", 1) < 0 && errno == EINTR)
		;
	pthread_join(stop_thread, NULL);
}

static void
usage(FILE *to, int status)
{
	fputs("usage: fi-client worker (--bench DIR | --site-config sites/SITE/site_config.json ...)\n"
		  "         [--concurrency N]     transfers in flight, all sites together (32)\n"
		  "         [--poll-ms MS]        how often an idle site's outbox is looked at (5)\n"
		  "         [--batch N]           transactions of the outbox per batch (500)\n"
		  "         [--max-attempts N]    attempts before an event fails (8)\n"
		  "         [--retry-base-ms MS]  the first retry's delay, doubling (1000)\n"
		  "         [--ca-bundle FILE]    CA certificates for https (the system's)\n"
		  "         [--no-log]            no tabWebhook Request Log rows\n"
		  "         [--http-retention S]  seconds http_request_async's results are kept (86400)\n"
		  "         [--jobs N]            import/export jobs of SQL running at once, all sites (2)\n"
		  "         [--job-retention S]   seconds a finished job's outcome is kept (86400)\n"
		  "         [--once]              deliver what is due and stop\n", to);
	exit(status);
}

static int
int_opt(const char *name, const char *v, int lo, int hi)
{
	char	   *end;
	long		n = strtol(v, &end, 10);

	if (*end != '\0' || n < lo || n > hi)
	{
		fprintf(stderr, "fi-client worker: %s must be a number from %d to %d\n", name, lo, hi);
		exit(2);
	}
	return (int) n;
}

int
fc_worker_main(int argc, char **argv)
{
	struct sigaction sa = {0};
	long long	stats_at;
	long long	idle_since = 0;
	long long	record_since = 0;

	opt.concurrency = 32;
	opt.poll_ms = 5;
	opt.batch = 500;
	opt.max_attempts = 8;
	opt.retry_base_ms = 1000;
	opt.log_requests = true;
	opt.http_retention_s = 86400;
	opt.jobs = 2;
	opt.job_retention_s = 86400;
	opt.configs = calloc(argc + 1, sizeof(char *));
	for (int i = 1; i < argc; i++)
	{
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0)
			usage(stdout, 0);
		if (strcmp(o, "--no-log") == 0)
		{
			opt.log_requests = false;
			continue;
		}
		if (strcmp(o, "--once") == 0)
		{
			opt.once = true;
			continue;
		}
		if (v == NULL)
		{
			fprintf(stderr, "fi-client worker: %s needs a value\n", o);
			exit(2);
		}
		if (strcmp(o, "--bench") == 0)
			opt.bench = v;
		else if (strcmp(o, "--site-config") == 0)
			opt.configs[opt.nconfigs++] = v;
		else if (strcmp(o, "--concurrency") == 0)
			opt.concurrency = int_opt(o, v, 1, 10000);
		else if (strcmp(o, "--poll-ms") == 0)
			opt.poll_ms = int_opt(o, v, 1, 10000);
		else if (strcmp(o, "--batch") == 0)
			opt.batch = int_opt(o, v, 1, 100000);
		else if (strcmp(o, "--max-attempts") == 0)
			opt.max_attempts = int_opt(o, v, 1, 1000);
		else if (strcmp(o, "--retry-base-ms") == 0)
			opt.retry_base_ms = int_opt(o, v, 1, 3600 * 1000);
		else if (strcmp(o, "--ca-bundle") == 0)
			opt.ca_bundle = v;
		else if (strcmp(o, "--http-retention") == 0)
			opt.http_retention_s = int_opt(o, v, 1, 315360000);
		else if (strcmp(o, "--jobs") == 0)
			opt.jobs = int_opt(o, v, 1, 64);
		else if (strcmp(o, "--job-retention") == 0)
			opt.job_retention_s = int_opt(o, v, 1, 315360000);
		else
		{
			fprintf(stderr, "fi-client worker: unknown option %s\n", o);
			usage(stderr, 2);
		}
		i++;
	}
	if ((opt.bench == NULL) == (opt.nconfigs == 0))
	{
		fprintf(stderr, "fi-client worker: give --bench DIR or --site-config FILE (one or more), not both\n");
		exit(2);
	}
	if (!fi_http_global_init() || (multi = curl_multi_init()) == NULL)
		fc_fail("58000", NULL, NULL, "libcurl could not be initialised");
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) opt.concurrency);
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long) opt.concurrency);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long) opt.concurrency);
	slots = calloc(opt.concurrency, sizeof(Delivery *));
	job_children = calloc(opt.jobs, sizeof(JobChild));
	{
		ssize_t		n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);

		if (n <= 0 || n >= (ssize_t) sizeof(self_exe) - 1)
			fc_fail("58000", NULL, NULL, "could not find the worker's own program (/proc/self/exe)");
		self_exe[n] = '\0';
	}
	stop_begin();
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stderr, NULL, _IOLBF, 0);
	ahead = 4 * opt.concurrency > JOB_CHUNK ? 4 * opt.concurrency : JOB_CHUNK;
	net_begin();

	scan_sites(false);
	say("LOG:", NULL, "worker started: %s, concurrency %d, polling every %d ms",
		opt.bench ? "a bench" : "sites given", opt.concurrency, opt.poll_ms);
	stats_at = now_ms() + 60000;
	{
		long long	scan_at = now_ms() + 5000;

		while (!got_term)
		{
			long long	now = now_ms();
			bool		busy = false;

			if (got_hup || now >= scan_at)
			{
				bool		reread = got_hup;

				if (got_hup)
					say("LOG:", NULL, "SIGHUP: reading the sites and their configs again");
				got_hup = 0;
				scan_sites(reread);
				scan_at = now + 5000;
			}
			for (Site *s = sites; s; s = s->next)
				site_step(s, now);
			jobs_reap();
			net_collect(0);

			/*
			 * outcomes recorded in batches: half of what is claimed ahead, or
			 * what has waited 5 ms, or all when nothing else is out
			 */
			{
				int			nrec = 0;

				for (Delivery *d = record_list; d; d = d->next)
					nrec++;
				if (nrec > 0 && record_since == 0)
					record_since = now;
				if (nrec > 0 && (nrec >= ahead / 2 || nrec == outstanding || now - record_since >= 5))
				{
					double		t0 = now_us();

					record_all();
					t_record += (now_us() - t0) / 1000;
					record_since = 0;
					busy = true;
				}
			}
			/* sites dropped: freed once nothing of theirs is in flight */
			for (Site **pp = &sites; *pp;)
			{
				Site	   *s = *pp;

				if (s->gone && s->inflight == 0)
				{
					*pp = s->next;
					site_free(s);
				}
				else
					pp = &s->next;
			}
			if (now >= stats_at)
			{
				for (Site *s = sites; s; s = s->next)
				{
					if (s->n_queued || s->n_delivered || s->n_retried || s->n_failed)
						say("LOG:", s, "last minute: %lld queued, %lld delivered, %lld to retry, %lld failed",
							s->n_queued, s->n_delivered, s->n_retried, s->n_failed);
					s->n_queued = s->n_delivered = s->n_retried = s->n_failed = 0;
					s->warnings = 0;
				}
				stats_at = now + 60000;
			}
			if (opt.once)
			{
				bool		due = outstanding > 0 || njob_children > 0;

				for (Site *s = sites; s && !due; s = s->next)
					due = s->owner && s->due_at <= now_ms();
				if (!due)
				{
					if (idle_since == 0)
						idle_since = now;
					else if (now - idle_since > 200)
						break;
				}
				else
					idle_since = 0;
			}
			if (!busy)
			{
				double		t0 = now_us();

				net_collect(opt.poll_ms);
				t_poll += (now_us() - t0) / 1000;
			}
		}
	}
	stop_end();
	release_all();
	say("LOG:", NULL, "worker stopped%s; its time (ms): outbox %.0f, claiming %.0f, sending %.0f, recording %.0f, waiting %.0f",
		got_term ? " (signal)" : "", t_flush, t_claim, t_curl, t_record, t_poll);
	while (sites)
	{
		Site	   *n = sites->next;

		site_free(sites);
		sites = n;
	}
	curl_multi_cleanup(multi);
	free(slots);
	for (int i = 0; i < opt.jobs; i++)
		free(job_children[i].site_path);
	free(job_children);
	free(opt.configs);
	return 0;
}
