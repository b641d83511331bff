/*
 * tpl_driver.c
 *		Runs the template engine over JSON-lines cases, without a server:
 *		  {"id": ..., "kind": "t" | "c" | "j", "src": "...", "ctx": {...}}
 *		t = render a template, c = evaluate a condition, j = normalise JSON
 *		text (json.dumps(json.loads(src))).  Writes one JSON line per case:
 *		  {"id": ..., "ok": true, "out": ...}  or
 *		  {"id": ..., "ok": false, "err": "syntax|value|limit", "msg": "..."}
 *		The clock is fixed at 2024-05-06 10:20:30.123456 (as the oracle's).
 *		With -n N: each case is run N times in a fresh session that parses
 *		the context from JSON (as the SQL function does), then N times with
 *		the context built once (as a webhook builds its document); the two
 *		times in seconds are printed, one line per case.  -r N: only the
 *		second (for profiling).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/tpl.h"

static void
put_json(FiTpl *t, FiVal *v)
{
	const char *js;
	size_t		jl;

	if (fi_tpl_dumps(t, v, &js, &jl) != FI_TPL_OK)
	{
		fprintf(stderr, "dumps failed: %s\n", fi_tpl_errmsg(t));
		exit(2);
	}
	fwrite(js, 1, jl, stdout);
}

static int
run_case(FiTpl *t, const char *kind, const char *src, size_t srclen, FiVal *ctx,
		 const char **out, size_t *outlen, bool *cond)
{
	if (kind[0] == 'c')
		return fi_tpl_condition(t, src, srclen, ctx, cond);
	if (kind[0] == 'j')
		return fi_tpl_normalize_json(t, src, srclen, out, outlen);
	return fi_tpl_render(t, src, srclen, ctx, out, outlen);
}

int
main(int argc, char **argv)
{
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		n;
	long		reps = 0;
	bool		render_only = false;
	FiTplOptions opt;

	if (argc == 3 && strcmp(argv[1], "-n") == 0)
		reps = atol(argv[2]);
	if (argc == 3 && strcmp(argv[1], "-r") == 0)
	{
		reps = atol(argv[2]);
		render_only = true;
	}
	fi_tpl_default_options(&opt);
	/* 2024-05-06 10:20:30.123456, microseconds since 1970-01-01 */
	opt.now_usec = (19849LL * 86400 + 10 * 3600 + 20 * 60 + 30) * 1000000LL + 123456;

	while ((n = getline(&line, &cap, stdin)) > 0)
	{
		FiTpl	   *t = fi_tpl_new(&opt);
		FiVal	   *c = NULL,
				   *ctx;
		const char *kind,
				   *src,
				   *out = NULL;
		size_t		kl,
					srclen,
					outlen = 0;
		bool		cond = false;
		int			rc,
					code = 0;
		char		msg[700];

		if (t == NULL || fi_tpl_from_json(t, line, (size_t) n, &c) != FI_TPL_OK)
		{
			fprintf(stderr, "bad case line\n");
			return 2;
		}
		kind = fi_val_text(fi_val_member(c, "kind"), &kl);
		src = fi_val_text(fi_val_member(c, "src"), &srclen);
		ctx = fi_val_member(c, "ctx");
		fi_val_as_documents(ctx);
		if (kind == NULL || src == NULL)
		{
			fprintf(stderr, "case needs kind and src\n");
			return 2;
		}
		if (reps > 0)
		{
			struct timespec a,
						b;
			char	   *ref = NULL;
			size_t		reflen = 0;

			/* the reference output: every timed loop must give these bytes */
			{
				FiTpl	   *t3 = fi_tpl_new(&opt);

				if (t3 == NULL || run_case(t3, kind, src, srclen, ctx, &out, &outlen,
										   &cond) != FI_TPL_OK)
				{
					fprintf(stderr, "case failed: %s\n", t3 ? fi_tpl_errmsg(t3) : "oom");
					return 2;
				}
				ref = malloc(outlen + 1);
				if (kind[0] != 'c')
					memcpy(ref, out, outlen);
				reflen = outlen;
				fi_tpl_free(t3);
			}

			clock_gettime(CLOCK_MONOTONIC, &a);
			for (long r = 0; r < (render_only ? 0 : reps); r++)
			{
				FiTpl	   *t3 = fi_tpl_new(&opt);
				FiVal	   *c3;

				if (t3 == NULL || fi_tpl_from_json(t3, line, (size_t) n, &c3) != FI_TPL_OK ||
					(fi_val_as_documents(fi_val_member(c3, "ctx")), 0) ||
					run_case(t3, kind, src, srclen, fi_val_member(c3, "ctx"),
							 &out, &outlen, &cond) != FI_TPL_OK)
				{
					fprintf(stderr, "case failed: %s\n", t3 ? fi_tpl_errmsg(t3) : "oom");
					return 2;
				}
				if (kind[0] != 'c' && (outlen != reflen || memcmp(out, ref, reflen) != 0))
				{
					fprintf(stderr, "a timed render gave other bytes\n");
					return 2;
				}
				fi_tpl_free(t3);
			}
			clock_gettime(CLOCK_MONOTONIC, &b);
			printf("%.6f", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
			/* then with the context built once, as a webhook builds its doc */
			clock_gettime(CLOCK_MONOTONIC, &a);
			for (long r = 0; r < reps; r++)
			{
				FiTpl	   *t3 = fi_tpl_new(&opt);

				if (t3 == NULL || run_case(t3, kind, src, srclen, ctx, &out, &outlen,
										   &cond) != FI_TPL_OK)
				{
					fprintf(stderr, "case failed: %s\n", t3 ? fi_tpl_errmsg(t3) : "oom");
					return 2;
				}
				if (kind[0] != 'c' && (outlen != reflen || memcmp(out, ref, reflen) != 0))
				{
					fprintf(stderr, "a timed render gave other bytes\n");
					return 2;
				}
				fi_tpl_free(t3);
			}
			clock_gettime(CLOCK_MONOTONIC, &b);
			printf(" %.6f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
			free(ref);
			fi_tpl_free(t);
			continue;
		}
		rc = run_case(t, kind, src, srclen, ctx, &out, &outlen, &cond);
		if (rc != FI_TPL_OK)
		{
			/* keep the error before the next engine call resets it */
			snprintf(msg, sizeof(msg), "%s (line %d, column %d)", fi_tpl_errmsg(t),
					 fi_tpl_errline(t), fi_tpl_errcol(t));
			code = fi_tpl_errcode(t);
		}
		fputs("{\"id\": ", stdout);
		put_json(t, fi_val_member(c, "id") ? fi_val_member(c, "id") : fi_val_none(t));
		if (rc == FI_TPL_OK)
		{
			fputs(", \"ok\": true, \"out\": ", stdout);
			if (kind[0] == 'c')
				fputs(cond ? "true" : "false", stdout);
			else
				put_json(t, fi_val_str(t, out, outlen));
		}
		else
		{
			printf(", \"ok\": false, \"err\": \"%s\", \"msg\": ",
				   code == FI_TPL_ESYNTAX ? "syntax" : code == FI_TPL_ELIMIT ? "limit" : "value");
			put_json(t, fi_val_str(t, msg, strlen(msg)));
		}
		fputs("}\n", stdout);
		fi_tpl_free(t);
	}
	free(line);
	return 0;
}
