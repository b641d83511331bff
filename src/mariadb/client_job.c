/*
 * client_job.c
 *		One import or export job of SQL (<site>.__fi_jobs, site.sql's
 *		import_csv_async and export_*_async): `fi-client job --job ID`, which
 *		the worker starts in a process of its own once the job's row is
 *		committed.  The job runs the code of the import and export commands
 *		on a connection of the site's own user and writes its outcome into
 *		the row on a second one (so that a failed import's open transaction
 *		is rolled back before the outcome is written).
 *
 *		A job runs at most once: its process takes the named lock
 *		fi_job:<database>:<id> (FC_JOB_LOCK) and moves the row from queued
 *		to running; a second process finds the lock taken or the row no
 *		longer queued and leaves it.  A running row whose lock is free lost
 *		its process (killed, or the server restarted): the worker marks it
 *		failed; an import is never started again, the batches it committed
 *		stay.
 */
#include "mariadb/client.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "engine/tpl.h"

typedef struct JobRun
{
	FcArena    *a;
	MYSQL	   *ctl;
	unsigned long long id;
	char	   *dir;			/* the job's private directory (mkdtemp, mode 0700) */
	/* the row */
	char	   *kind;
	char	   *doctype;
	char	   *file_type;
	char	   *import_type;
	char	   *docname;
	char	   *options;
	char	   *data;
	size_t		datalen;
	/* the outcome */
	bool		failed;
	char	   *sqlstate;
	char	   *error;
	char	   *detail;
	char	   *hint;
	char	   *result;			/* JSON text, or NULL */
	char	   *output;			/* the export's file, or NULL */
	size_t		outlen;
} JobRun;

static char *
path_in(JobRun *j, const char *name)
{
	return fc_printf(j->a, "%s/%s", j->dir, name);
}

static void
write_file(JobRun *j, const char *path, const char *data, size_t n)
{
	int			fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	size_t		done = 0;

	if (fd < 0)
		fc_fail("58030", NULL, NULL, "could not create \"%s\": %s", path, strerror(errno));
	while (done < n)
	{
		ssize_t		w = write(fd, data + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			fc_fail("58030", NULL, NULL, "could not write \"%s\": %s", path, strerror(errno));
		done += (size_t) w;
	}
	if (close(fd) != 0)
		fc_fail("58030", NULL, NULL, "could not write \"%s\": %s", path, strerror(errno));
}

/* a file the job wrote, whole (NULL when there is none) */
static char *
slurp(JobRun *j, const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	FcBuf		b = {0};
	char		chunk[65536];
	size_t		n;
	char	   *out;

	*len = 0;
	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fc_buf_put(&b, chunk, n);
	fclose(f);
	out = fc_strndup(j->a, b.data ? b.data : "", b.len);
	*len = b.len;
	fc_buf_free(&b);
	return out;
}

static char *
col(JobRun *j, MYSQL_ROW row, unsigned long *len, int i)
{
	return row[i] ? fc_strndup(j->a, row[i], len[i]) : NULL;
}

/* the import's options (checked by fi_job_queue; a row written by hand is checked again here) */
static int
run_import(JobRun *j, MYSQL *work)
{
	FiTplOptions o;
	FiTpl	   *t;
	FiVal	   *opts;
	FiVal	   *v;
	FcImportOptions io = {.batch_docs = 1000};
	int64_t		batch = 1000;
	size_t		n;
	const char *s;
	char	   *file = path_in(j, "data.csv");
	int			status;

	fi_tpl_default_options(&o);
	t = fi_tpl_new(&o);
	if (t == NULL)
		fc_fail("53200", NULL, NULL, "out of memory");
	if (fi_tpl_from_json(t, j->options, strlen(j->options), &opts) != FI_TPL_OK || fi_val_kind(opts) != FI_VK_DICT)
		fc_fail("22023", NULL, NULL, "options must be a JSON object");
	if ((v = fi_val_member(opts, "user")) != NULL)
	{
		if ((s = fi_val_text(v, &n)) == NULL)
			fc_fail("22023", NULL, NULL, "options.user must be a string (the Frappe user who owns the documents)");
		io.user = fc_strndup(j->a, s, n);
	}
	if ((v = fi_val_member(opts, "data_import")) != NULL)
	{
		if ((s = fi_val_text(v, &n)) == NULL)
			fc_fail("22023", NULL, NULL, "options.data_import must be a string (the tabData Import document to log to)");
		io.data_import = fc_strndup(j->a, s, n);
	}
#define FLAG(key, var) \
	if ((v = fi_val_member(opts, key)) != NULL && !fi_val_get_bool(v, &var)) \
		fc_fail("22023", NULL, NULL, "options.%s must be true or false", key)
	FLAG("dry_run", io.dry_run);
	FLAG("atomic", io.atomic);
	FLAG("submit_after_import", io.submit);
	FLAG("webhooks", io.webhooks);
#undef FLAG
	if ((v = fi_val_member(opts, "column_to_field_map")) != NULL)
		fc_import_column_map(j->a, v, &io);
	if ((v = fi_val_member(opts, "batch_size")) != NULL &&
		(fi_val_kind(v) != FI_VK_INT || !fi_val_get_int(v, &batch) || batch < 1 || batch > 100000))
		fc_fail("22023", NULL, NULL, "options.batch_size must be a number from 1 to 100000");
	fi_tpl_free(t);
	io.batch_docs = (int) batch;
	io.update = j->import_type && strcmp(j->import_type, "Update Existing Records") == 0;
	write_file(j, file, j->data ? j->data : "", j->datalen);
	status = fc_import_main(work, j->a, j->doctype, file, &io);
	return status == 3 ? 0 : status;	/* 3: some documents failed, which the result tells */
}

static int
run_export(JobRun *j, MYSQL *work)
{
	char	   *out = path_in(j, "output");

	if (strcmp(j->file_type, "doc") == 0)
		return fc_export_json_main(work, j->a, j->doctype, NULL, j->docname, out);
	if (strcmp(j->file_type, "json") == 0)
		return fc_export_json_main(work, j->a, j->doctype, j->options, NULL, out);
	return fc_export_main(work, j->a, j->doctype, j->options, out, j->file_type);
}

/* "ERROR <sqlstate>: message" / "DETAIL: " / "HINT: " lines of what the job wrote on stderr */
static void
failure_from_stderr(JobRun *j, char *text)
{
	char	   *save = NULL;

	j->failed = true;
	j->sqlstate = "XX000";
	j->error = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		if (strncmp(line, "ERROR ", 6) == 0 && strlen(line) > 13 && line[11] == ':' && j->error == NULL)
		{
			j->sqlstate = fc_strndup(j->a, line + 6, 5);
			j->error = line + 13;
		}
		else if (strncmp(line, "DETAIL: ", 8) == 0)
			j->detail = line + 8;
		else if (strncmp(line, "HINT: ", 6) == 0)
			j->hint = line + 6;
		else if (j->error == NULL)
			j->error = line;
	}
	if (j->error == NULL)
		j->error = "the job ended without a result";
}

static void
bind_text(MYSQL_BIND *b, const char *s, size_t n, my_bool *is_null, unsigned long *len)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_BLOB;
	b->buffer = (void *) s;
	*len = s ? (unsigned long) n : 0;
	b->length = len;
	*is_null = s == NULL;
	b->is_null = is_null;
}

/* the outcome into the row (on the control connection) */
static void
record(JobRun *j)
{
	static const char sql[] =
		"UPDATE `__fi_jobs` SET status = ?, result = ?, output = ?, error_sqlstate = ?, error = ?, error_detail = ?, "
		"error_hint = ?, finished_at = UTC_TIMESTAMP(6) WHERE id = ? AND status = 'running'";
	const char *vals[7];
	size_t		lens[7];
	MYSQL_BIND	b[8];
	my_bool		nulls[8];
	unsigned long blens[8];
	MYSQL_STMT *st;
	unsigned long long id = j->id;

	vals[0] = j->failed ? "failed" : "done";
	vals[1] = j->failed ? NULL : j->result;
	vals[2] = j->failed ? NULL : j->output;
	vals[3] = j->failed ? j->sqlstate : NULL;
	vals[4] = j->failed ? j->error : NULL;
	vals[5] = j->failed && j->detail && j->detail[0] ? j->detail : NULL;
	vals[6] = j->failed && j->hint && j->hint[0] ? j->hint : NULL;
	for (int i = 0; i < 7; i++)
	{
		lens[i] = i == 2 ? j->outlen : vals[i] ? strlen(vals[i]) : 0;
		bind_text(&b[i], vals[i], lens[i], &nulls[i], &blens[i]);
	}
	memset(&b[7], 0, sizeof(b[7]));
	b[7].buffer_type = MYSQL_TYPE_LONGLONG;
	b[7].buffer = &id;
	b[7].is_unsigned = 1;
	st = mysql_stmt_init(j->ctl);
	if (st == NULL)
		fc_fail("53200", NULL, NULL, "out of memory");
	if (mysql_stmt_prepare(st, sql, sizeof(sql) - 1) != 0 || mysql_stmt_bind_param(st, b) != 0 ||
		mysql_stmt_execute(st) != 0)
		fc_fail(mysql_stmt_sqlstate(st), NULL, NULL, "writing the outcome of job %llu: %s", j->id, mysql_stmt_error(st));
	mysql_stmt_close(st);
}

void
fc_job_remove_dir(const char *dir)
{
	static const char *const names[] = {"data.csv", "stdout", "stderr", "output", "output.part"};
	char		path[4200];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	{
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static double
now_s(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

int
fc_job_main(MYSQL *ctl, MYSQL *work, FcArena *a, const char *id_text)
{
	JobRun		j = {0};
	char	   *end;
	MYSQL_RES  *res;
	MYSQL_ROW	row;
	unsigned long *len;
	char		tmpl[4096];
	const char *tmpdir = getenv("TMPDIR");
	int			saved_out,
				saved_err,
				fd;
	int			status = 1;
	jmp_buf		jb;
	size_t		n;
	char	   *text;
	long long	max_packet;
	double		t0 = now_s();

	j.a = a;
	j.ctl = ctl;
	errno = 0;
	j.id = strtoull(id_text, &end, 10);
	if (errno != 0 || end == id_text || *end != '\0' || j.id == 0)
	{
		fprintf(stderr, "fi-client: --job takes the job's id (a positive number)\n");
		return 2;
	}
	signal(SIGHUP, SIG_IGN);	/* the worker's reload is not the job's */

	/* one process runs it: the lock, then the row from queued to running */
	res = fc_query(ctl, fc_printf(a, "SELECT GET_LOCK(" FC_JOB_LOCK("%llu") ", 0)", j.id), "taking the job's lock");
	row = mysql_fetch_row(res);
	if (row == NULL || row[0] == NULL || strcmp(row[0], "1") != 0)
	{
		mysql_free_result(res);
		fprintf(stderr, "fi-client: job %llu is run by another process\n", j.id);
		return 0;
	}
	mysql_free_result(res);
	if (mysql_query(ctl, fc_printf(a, "UPDATE `__fi_jobs` SET status = 'running', started_at = UTC_TIMESTAMP(6) "
								   "WHERE id = %llu AND status = 'queued'", j.id)) != 0)
		fc_fail_mysql(ctl, "starting the job");
	if (mysql_affected_rows(ctl) != 1)
	{
		res = fc_query(ctl, fc_printf(a, "SELECT status FROM `__fi_jobs` WHERE id = %llu", j.id), "reading the job");
		row = mysql_fetch_row(res);
		if (row == NULL)
			fc_fail("P0002", NULL, NULL, "no import or export job %llu", j.id);
		fprintf(stderr, "fi-client: job %llu is %s, not queued: nothing to do\n", j.id, row[0]);
		mysql_free_result(res);
		return 0;
	}
	res = fc_query(ctl, fc_printf(a, "SELECT kind, doctype, file_type, docname, options, data, import_type "
								  "FROM `__fi_jobs` WHERE id = %llu", j.id), "reading the job");
	row = mysql_fetch_row(res);
	len = mysql_fetch_lengths(res);
	if (row == NULL)
		fc_fail("P0002", NULL, NULL, "no import or export job %llu", j.id);
	j.kind = col(&j, row, len, 0);
	j.doctype = col(&j, row, len, 1);
	j.file_type = col(&j, row, len, 2);
	j.docname = col(&j, row, len, 3);
	j.options = col(&j, row, len, 4);
	j.data = col(&j, row, len, 5);
	j.datalen = row[5] ? len[5] : 0;
	j.import_type = col(&j, row, len, 6);
	mysql_free_result(res);
	if (j.options == NULL)
		j.options = "{}";

	/* its files in a private directory; what it prints kept there */
	/* (named by the process: the worker removes it when the process dies before it could) */
	snprintf(tmpl, sizeof(tmpl), "%s/fi-job-%d-XXXXXX", tmpdir && tmpdir[0] ? tmpdir : "/tmp", (int) getpid());
	if (mkdtemp(tmpl) == NULL)
		fc_fail("58030", NULL, NULL, "could not make the job's directory \"%s\": %s", tmpl, strerror(errno));
	j.dir = fc_strndup(a, tmpl, strlen(tmpl));
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	if (saved_out < 0 || saved_err < 0)
		fc_fail("58030", NULL, NULL, "could not keep standard output: %s", strerror(errno));
	fd = open(path_in(&j, "stdout"), O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || dup2(fd, 1) < 0)
		fc_fail("58030", NULL, NULL, "could not open the job's output: %s", strerror(errno));
	close(fd);
	fd = open(path_in(&j, "stderr"), O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || dup2(fd, 2) < 0)
		fc_fail("58030", NULL, NULL, "could not open the job's error output: %s", strerror(errno));
	close(fd);

	fc_fail_jump = &jb;
	if (setjmp(jb) == 0)
	{
		status = strcmp(j.kind, "import") == 0 ? run_import(&j, work) : run_export(&j, work);
		if (status != 0)
		{
			fflush(stderr);
			text = slurp(&j, path_in(&j, "stderr"), &n);
			failure_from_stderr(&j, text ? text : fc_strndup(a, "", 0));
		}
	}
	else
	{
		j.failed = true;
		j.sqlstate = fc_strndup(a, fc_fail_sqlstate ? fc_fail_sqlstate : "XX000", 5);
		j.error = fc_strndup(a, fc_fail_text, strlen(fc_fail_text));
		j.detail = fc_strndup(a, fc_fail_detail, strlen(fc_fail_detail));
		j.hint = fc_strndup(a, fc_fail_hint, strlen(fc_fail_hint));
	}
	fc_fail_jump = NULL;
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	mysql_close(work);			/* what a failed import left open is rolled back first */

	if (!j.failed)
	{
		j.result = slurp(&j, path_in(&j, "stdout"), &n);
		while (j.result && n > 0 && (j.result[n - 1] == '\n' || j.result[n - 1] == '\r'))
			j.result[--n] = '\0';
		if (strcmp(j.kind, "export") == 0)
		{
			j.output = slurp(&j, path_in(&j, "output"), &j.outlen);
			if (j.output == NULL)
			{
				j.failed = true;
				j.sqlstate = "XX000";
				j.error = "the export wrote no file";
			}
		}
	}
	max_packet = 0;
	res = fc_query(ctl, "SELECT @@max_allowed_packet", "reading max_allowed_packet");
	if ((row = mysql_fetch_row(res)) != NULL && row[0])
		max_packet = atoll(row[0]);
	mysql_free_result(res);
	if (!j.failed && max_packet > 0 &&
		(long long) (j.outlen + (j.result ? strlen(j.result) : 0)) + 4096 > max_packet)
	{
		j.failed = true;
		j.sqlstate = "54000";
		j.error = fc_printf(a, "the export's file is %zu bytes, more than the server's max_allowed_packet "
							"(%lld bytes) lets one statement write into the job's row", j.outlen, max_packet);
		j.hint = "Export to a file with frappe-integrations export --output FILE, or raise max_allowed_packet.";
	}
	record(&j);
	fc_job_remove_dir(j.dir);
	if (mysql_query(ctl, fc_printf(a, "DO RELEASE_LOCK(" FC_JOB_LOCK("%llu") ")", j.id)) != 0)
		fc_fail_mysql(ctl, "letting the job's lock go");
	fprintf(stderr, "LOG: database %s: job %llu (%s%s%s of %s): %s in %.2f s%s%s\n", ctl->db ? ctl->db : "?", j.id, j.kind,
			strcmp(j.kind, "export") == 0 ? " " : "", strcmp(j.kind, "export") == 0 ? j.file_type : "",
			j.doctype, j.failed ? "failed" : "done", now_s() - t0, j.failed ? ": " : "", j.failed ? j.error : "");
	return j.failed ? 1 : 0;
}
