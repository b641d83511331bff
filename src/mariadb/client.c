/*
 * client.c
 *		fi-client: the MariaDB side's client program (see client.h).
 *
 *   fi-client export --doctype DOCTYPE [--options JSON] [--output FILE] [--file-type csv|xlsx|json]
 *   fi-client export-doc --doctype DOCTYPE --name NAME [--output FILE]
 *                    [--site-config FILE] [--site DB] [--socket PATH]
 *                    [--host HOST] [--port N] [--user USER] [--password-file FILE]
 *
 * The connection: the site's site_config.json (db_name, db_password,
 * db_user or else db_name, db_host, db_port, db_socket; bench's
 * sites/common_site_config.json first) and/or the options, which win.
 * From a bench directory --site SITE reads sites/SITE/site_config.json;
 * else --site is the database's name.  A password is never taken from the command line:
 * from the site's config, --password-file, or MYSQL_PWD.
 */
#include "mariadb/client.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "engine/tpl.h"

/* ---- memory ---- */

typedef struct FcChunk
{
	struct FcChunk *next;
	size_t		used,
				cap;
	char		data[];
} FcChunk;

struct FcArena
{
	FcChunk    *head;
};

static void
out_of_memory(void)
{
	fc_fail("53200", NULL, NULL, "out of memory");
}

FcArena *
fc_arena_new(void)
{
	FcArena    *a = calloc(1, sizeof(FcArena));

	if (a == NULL)
		out_of_memory();
	return a;
}

void
fc_arena_free(FcArena *a)
{
	if (a == NULL)
		return;
	while (a->head)
	{
		FcChunk    *n = a->head->next;

		free(a->head);
		a->head = n;
	}
	free(a);
}

void *
fc_alloc(void *arena, size_t size)
{
	FcArena    *a = arena;
	FcChunk    *c = a->head;
	void	   *p;

	size = (size + 15) & ~(size_t) 15;
	if (c == NULL || c->cap - c->used < size)
	{
		size_t		cap = size > 60000 ? size : 65536 - sizeof(FcChunk);

		c = malloc(sizeof(FcChunk) + cap);
		if (c == NULL)
			out_of_memory();
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

char *
fc_strndup(FcArena *a, const char *s, size_t n)
{
	char	   *o = fc_alloc(a, n + 1);

	memcpy(o, s, n);
	return o;
}

char *
fc_printf(FcArena *a, const char *fmt,...)
{
	va_list		ap;
	int			n;
	char	   *o;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	o = fc_alloc(a, (size_t) n + 1);
	va_start(ap, fmt);
	vsnprintf(o, (size_t) n + 1, fmt, ap);
	va_end(ap);
	return o;
}

void
fc_buf_reserve(FcBuf *b, size_t more)
{
	if (b->cap - b->len > more)
		return;
	while (b->cap - b->len <= more)
		b->cap = b->cap ? b->cap * 2 : 65536;
	b->data = realloc(b->data, b->cap);
	if (b->data == NULL)
		out_of_memory();
}

void
fc_buf_put(FcBuf *b, const char *s, size_t n)
{
	fc_buf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
fc_buf_puts(FcBuf *b, const char *s)
{
	fc_buf_put(b, s, strlen(s));
}

void
fc_buf_printf(FcBuf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	fc_buf_reserve(b, (size_t) n + 1);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

void
fc_buf_free(FcBuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* ---- errors ---- */

static const char *remove_on_fail;

void
fc_on_fail_remove(const char *path)
{
	remove_on_fail = path;
}

_Thread_local jmp_buf *fc_fail_jump;
_Thread_local char fc_fail_text[1024];
_Thread_local const char *fc_fail_sqlstate;
_Thread_local char fc_fail_detail[1024];
_Thread_local char fc_fail_hint[1024];

void
fc_fail(const char *sqlstate, const char *detail, const char *hint, const char *fmt,...)
{
	va_list		ap;

	if (fc_fail_jump)
	{
		/* a long-running command (the worker) goes on with its next site or batch */
		va_start(ap, fmt);
		vsnprintf(fc_fail_text, sizeof(fc_fail_text), fmt, ap);
		va_end(ap);
		fc_fail_sqlstate = sqlstate;
		snprintf(fc_fail_detail, sizeof(fc_fail_detail), "%s", detail ? detail : "");
		snprintf(fc_fail_hint, sizeof(fc_fail_hint), "%s", hint ? hint : "");
		longjmp(*fc_fail_jump, 1);
	}
	if (remove_on_fail)
		unlink(remove_on_fail);
	fflush(stdout);
	fprintf(stderr, "ERROR %s: ", sqlstate);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (detail && detail[0])
		fprintf(stderr, "DETAIL: %s\n", detail);
	if (hint && hint[0])
		fprintf(stderr, "HINT: %s\n", hint);
	exit(1);
}

void
fc_fail_mysql(MYSQL *conn, const char *what)
{
	fc_fail(mysql_sqlstate(conn), NULL, NULL, "%s: %s", what, mysql_error(conn));
}

char *
fc_ident(FcArena *a, const char *name)
{
	size_t		n = strlen(name);
	char	   *o = fc_alloc(a, 2 * n + 3);
	char	   *p = o;

	*p++ = '`';
	for (const char *s = name; *s; s++)
	{
		if (*s == '`')
			*p++ = '`';
		*p++ = *s;
	}
	*p = '`';
	return o;
}

char *
fc_literal(FcArena *a, MYSQL *conn, const char *s)
{
	size_t		n = strlen(s);
	char	   *o = fc_alloc(a, 2 * n + 3);

	o[0] = '\'';
	n = mysql_real_escape_string(conn, o + 1, s, n);
	o[n + 1] = '\'';
	o[n + 2] = '\0';
	return o;
}

MYSQL_RES *
fc_query(MYSQL *conn, const char *sql, const char *what)
{
	MYSQL_RES  *r;

	if (mysql_real_query(conn, sql, strlen(sql)) != 0)
		fc_fail_mysql(conn, what);
	r = mysql_store_result(conn);
	if (r == NULL)
		fc_fail_mysql(conn, what);
	return r;
}

/* ---- the connection ---- */

char *
fc_read_file(FcArena *a, const char *path, const char *what, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	FcBuf		b = {0};
	char		chunk[8192];
	size_t		n;
	char	   *out;

	if (f == NULL)
		fc_fail("58P01", NULL, NULL, "could not open %s \"%s\": %s", what, path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
	{
		if (b.len + n > 16 * 1024 * 1024)
			fc_fail("54000", NULL, NULL, "%s \"%s\" is larger than 16 MB", what, path);
		fc_buf_put(&b, chunk, n);
	}
	if (ferror(f))
		fc_fail("58030", NULL, NULL, "could not read %s \"%s\": %s", what, path, strerror(errno));
	fclose(f);
	out = fc_strndup(a, b.data ? b.data : "", b.len);
	*len = b.len;
	if (b.data)
		memset(b.data, 0, b.cap);	/* it may hold a password: no copy left behind */
	fc_buf_free(&b);
	return out;
}

/* site_config.json's connection keys (those of common_site_config.json first: the site's win) */
static void
read_site_config(FcArena *a, const char *path, FcSite *c)
{
	size_t		n;
	char	   *text = fc_read_file(a, path, "the site config", &n);
	FiTplOptions o;
	FiTpl	   *t;
	FiVal	   *cfg;
	FiVal	   *v;
	size_t		len;
	const char *s;
	int64_t		port;

	fi_tpl_default_options(&o);
	t = fi_tpl_new(&o);
	if (t == NULL)
		out_of_memory();
	if (fi_tpl_from_json(t, text, n, &cfg) != FI_TPL_OK || fi_val_kind(cfg) != FI_VK_DICT)
		fc_fail("22P02", NULL, NULL, "the site config \"%s\" is not a JSON object", path);
#define KEY(name, field) \
	if ((s = fi_val_text(fi_val_member(cfg, name), &len)) != NULL) \
		c->field = fc_strndup(a, s, len)
	KEY("db_name", database);
	KEY("db_password", password);
	KEY("db_host", host);
	KEY("db_socket", socket);
	KEY("db_user", user);
	KEY("encryption_key", encryption_key);
#undef KEY
	v = fi_val_member(cfg, "db_port");
	if (fi_val_get_int(v, &port) && port > 0 && port < 65536)
		c->port = (unsigned int) port;
	else if ((s = fi_val_text(v, &len)) != NULL)
		c->port = (unsigned int) atoi(fc_strndup(a, s, len));
	memset(text, 0, n);			/* the password's copy in the file's text */
	fi_tpl_free(t);
}

/*
 * A site's connection from its site_config.json, bench's
 * sites/common_site_config.json beside its folder first (as
 * frappe.get_site_config merges them: the site's keys win).
 */
void
fc_site_config(FcArena *a, const char *site_config, FcSite *c)
{
	char	   *dir = fc_strndup(a, site_config, strlen(site_config));
	char	   *slash = strrchr(dir, '/');
	char	   *common;

	*(slash ? slash : dir) = '\0';
	slash = strrchr(dir, '/');
	common = slash ? fc_printf(a, "%.*s/common_site_config.json", (int) (slash - dir), dir)
		: fc_printf(a, "%s", dir[0] ? "common_site_config.json" : "../common_site_config.json");
	if (access(common, R_OK) == 0)
	{
		FcSite		shared = {0};

		read_site_config(a, common, &shared);
		c->host = shared.host;
		c->port = shared.port;
		c->socket = shared.socket;
	}
	read_site_config(a, site_config, c);
	if (c->user == NULL)
		c->user = c->database;	/* Frappe's default: the user is named after the database */
}

/* a connection of the site's user (1 GB packets: a job's file is read and written whole) */
static MYSQL *
connect_site(const FcSite *c)
{
	MYSQL	   *conn = mysql_init(NULL);
	unsigned long max_packet = 1024UL * 1024 * 1024;

	if (conn == NULL)
		out_of_memory();
	mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(conn, MYSQL_OPT_MAX_ALLOWED_PACKET, &max_packet);
	if (mysql_real_connect(conn, c->host, c->user, c->password, c->database, c->port, c->socket, 0) == NULL)
		fc_fail(mysql_sqlstate(conn), NULL, NULL, "could not connect to the site's database \"%s\": %s",
				c->database, mysql_error(conn));
	return conn;
}

static void
usage(FILE *to, int status)
{
	fputs("usage: fi-client export --doctype DOCTYPE [--options JSON] [--output FILE] [--file-type csv|xlsx|json]\n"
		  "       fi-client export-doc --doctype DOCTYPE --name NAME [--output FILE]\n"
		  "       fi-client import --doctype DOCTYPE [--update] [--dry-run] [--atomic] [--submit] [--webhooks] [--as USER] [--batch-size N] [--data-import NAME] [--column-map JSON] FILE.csv\n"
		  "       fi-client job --job ID\n"
		  "       fi-client webhook-pending [--limit TRANSACTIONS]\n"
		  "       fi-client webhook-preview --webhook WEBHOOK --name DOCNAME\n"
		  "       fi-client worker --bench DIR | --site-config FILE ... [options] (fi-client worker --help)\n"
		  "         [--site-config sites/SITE/site_config.json] [--site DB] [--socket PATH]\n"
		  "         [--host HOST] [--port N] [--user USER] [--password-file FILE]\n", to);
	exit(status);
}

int
main(int argc, char **argv)
{
	FcArena    *a = fc_arena_new();
	FcSite		c = {0};
	const char *cmd;
	const char *doctype = NULL;
	const char *options = NULL;
	const char *output = NULL;
	const char *file_type = NULL;
	const char *name = NULL;
	const char *limit = NULL;
	const char *webhook = NULL;
	const char *job = NULL;
	const char *site_config = NULL;
	const char *password_file = NULL;
	FcSite		given = {0};
	MYSQL	   *conn;
	int			status;
	const char *imp_file = NULL;
	const char *imp_map = NULL;
	FcImportOptions imp = {.batch_docs = 1000};

	if (argc < 2)
		usage(stderr, 2);
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0)
		usage(stdout, 0);
	if (strcmp(cmd, "worker") == 0)
		return fc_worker_main(argc - 1, argv + 1);
	if (strcmp(cmd, "export") != 0 && strcmp(cmd, "export-doc") != 0 && strcmp(cmd, "webhook-pending") != 0 &&
		strcmp(cmd, "webhook-preview") != 0 && strcmp(cmd, "import") != 0 && strcmp(cmd, "job") != 0)
	{
		fprintf(stderr, "fi-client: unknown command \"%s\"\n", cmd);
		usage(stderr, 2);
	}
	for (int i = 2; i < argc; i++)
	{
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0)
			usage(stdout, 0);
		if (strcmp(o, "--password") == 0 || strncmp(o, "--password=", 11) == 0)
		{
			fprintf(stderr, "fi-client: a password is not taken on the command line (others can read it there): "
					"use --password-file, the site's config, or MYSQL_PWD\n");
			exit(2);
		}
		if (strcmp(cmd, "import") == 0 && (strcmp(o, "--dry-run") == 0 || strcmp(o, "--atomic") == 0 ||
										  strcmp(o, "--submit") == 0 || strcmp(o, "--update") == 0 ||
										  strcmp(o, "--webhooks") == 0))
		{
			if (strcmp(o, "--dry-run") == 0)
				imp.dry_run = true;
			else if (strcmp(o, "--atomic") == 0)
				imp.atomic = true;
			else if (strcmp(o, "--submit") == 0)
				imp.submit = true;
			else if (strcmp(o, "--update") == 0)
				imp.update = true;
			else
				imp.webhooks = true;
			continue;
		}
		if (strcmp(cmd, "import") == 0 && o[0] != '-' && imp_file == NULL)
		{
			imp_file = o;
			continue;
		}
		if (v == NULL)
		{
			fprintf(stderr, "fi-client: %s needs a value\n", o);
			exit(2);
		}
		if (strcmp(o, "--doctype") == 0)
			doctype = v;
		else if (strcmp(o, "--options") == 0)
			options = v;
		else if (strcmp(o, "--output") == 0)
			output = v;
		else if (strcmp(o, "--file-type") == 0)
			file_type = v;
		else if (strcmp(o, "--name") == 0 && (strcmp(cmd, "export-doc") == 0 || strcmp(cmd, "webhook-preview") == 0))
			name = v;
		else if (strcmp(o, "--limit") == 0 && strcmp(cmd, "webhook-pending") == 0)
			limit = v;
		else if (strcmp(o, "--webhook") == 0 && strcmp(cmd, "webhook-preview") == 0)
			webhook = v;
		else if (strcmp(o, "--job") == 0 && strcmp(cmd, "job") == 0)
			job = v;
		else if (strcmp(o, "--as") == 0 && strcmp(cmd, "import") == 0)
			imp.user = v;
		else if (strcmp(o, "--data-import") == 0 && strcmp(cmd, "import") == 0)
			imp.data_import = v;
		else if (strcmp(o, "--column-map") == 0 && strcmp(cmd, "import") == 0)
			imp_map = v;
		else if (strcmp(o, "--batch-size") == 0 && strcmp(cmd, "import") == 0)
		{
			imp.batch_docs = atoi(v);
			if (imp.batch_docs < 1 || imp.batch_docs > 100000)
			{
				fprintf(stderr, "fi-client: --batch-size must be a number from 1 to 100000\n");
				exit(2);
			}
		}
		else if (strcmp(o, "--site-config") == 0)
			site_config = v;
		else if (strcmp(o, "--site") == 0)
			given.database = v;
		else if (strcmp(o, "--socket") == 0)
			given.socket = v;
		else if (strcmp(o, "--host") == 0)
			given.host = v;
		else if (strcmp(o, "--port") == 0)
			given.port = (unsigned int) atoi(v);
		else if (strcmp(o, "--user") == 0)
			given.user = v;
		else if (strcmp(o, "--password-file") == 0)
			password_file = v;
		else
		{
			fprintf(stderr, "fi-client: unknown option %s\n", o);
			usage(stderr, 2);
		}
		i++;
	}
	if (strcmp(cmd, "webhook-preview") == 0 && (webhook == NULL || name == NULL))
	{
		fprintf(stderr, "fi-client: webhook-preview needs --webhook and --name\n");
		exit(2);
	}
	if (strcmp(cmd, "import") == 0 && imp_file == NULL)
	{
		fprintf(stderr, "fi-client: import needs the file: import --doctype DOCTYPE [options] FILE.csv\n");
		exit(2);
	}
	if (strcmp(cmd, "job") == 0 && job == NULL)
	{
		fprintf(stderr, "fi-client: job needs --job ID\n");
		exit(2);
	}
	if (strncmp(cmd, "webhook-", 8) != 0 && strcmp(cmd, "job") != 0 && (doctype == NULL || (strcmp(cmd, "export-doc") == 0 && name == NULL)))
	{
		fprintf(stderr, "fi-client: %s needs --doctype%s\n", cmd, strcmp(cmd, "export-doc") == 0 ? " and --name" : "");
		exit(2);
	}
	/* from a bench directory, --site may name the site as bench does: sites/<site>/site_config.json */
	if (site_config == NULL && given.database != NULL && strchr(given.database, '/') == NULL)
	{
		char	   *bench_config = fc_printf(a, "sites/%s/site_config.json", given.database);

		if (access(bench_config, R_OK) == 0)
		{
			site_config = bench_config;
			given.database = NULL;
		}
	}
	if (site_config)
		fc_site_config(a, site_config, &c);
#define TAKE(field) if (given.field) c.field = given.field
	TAKE(database);
	TAKE(socket);
	TAKE(host);
	TAKE(port);
	TAKE(user);
#undef TAKE
	if (password_file)
	{
		size_t		n;
		char	   *p = fc_read_file(a, password_file, "the password file", &n);

		while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
			p[--n] = '\0';
		c.password = p;
	}
	if (c.database == NULL)
	{
		fprintf(stderr, "fi-client: which site? give --site-config or --site\n");
		exit(2);
	}

	conn = connect_site(&c);
	if (strcmp(cmd, "job") == 0)
	{
		/* the job's work and, beside it, the connection that records its outcome */
		MYSQL	   *work = connect_site(&c);

		if (c.password)
			memset((char *) c.password, 0, strlen(c.password));
		status = fc_job_main(conn, work, a, job);
		mysql_close(conn);
		fc_arena_free(a);
		return status;
	}
	if (c.password)
		memset((char *) c.password, 0, strlen(c.password));
	if (strcmp(cmd, "import") == 0)
	{
		if (imp_map != NULL)
		{
			FiTplOptions to;
			FiTpl	   *t;
			FiVal	   *m;

			fi_tpl_default_options(&to);
			if ((t = fi_tpl_new(&to)) == NULL)
				fc_fail("53200", NULL, NULL, "out of memory");
			if (fi_tpl_from_json(t, imp_map, strlen(imp_map), &m) != FI_TPL_OK)
				m = NULL;
			fc_import_column_map(a, m, &imp);
			fi_tpl_free(t);
		}
		status = fc_import_main(conn, a, doctype, imp_file, &imp);
	}
	else if (strcmp(cmd, "webhook-pending") == 0)
		status = fc_webhook_pending_main(conn, a, limit ? atoi(limit) : 100);
	else if (strcmp(cmd, "webhook-preview") == 0)
		status = fc_webhook_preview_main(conn, a, webhook, name);
	else if (name != NULL)
		status = fc_export_json_main(conn, a, doctype, NULL, name, output);
	else if (file_type ? strcmp(file_type, "json") == 0
			 : output != NULL && strlen(output) > 5 && strcasecmp(output + strlen(output) - 5, ".json") == 0)
		status = fc_export_json_main(conn, a, doctype, options, NULL, output);
	else
		status = fc_export_main(conn, a, doctype, options, output, file_type);
	mysql_close(conn);
	fc_arena_free(a);
	return status;
}
