/*
 * thread_test.c
 *		The pure engines called from many threads at once (a server with a
 *		connection per thread, as MariaDB runs one) give the same bytes as
 *		one thread: templates (sort, tojson, filters, the block cache shared
 *		behind its lock), JSON, passlib pbkdf2 hashes and verification,
 *		Fernet, HMAC signatures, the CSV reader, the import value rules, HTML
 *		cells, JSON as jsonb prints it and HS256 tokens, naming and export
 *		text.  Built with ThreadSanitizer when clang has it (make
 *		thread-test), so a data race fails the run even when the bytes agree.
 *		Prints TAP.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/csv.h"
#include "engine/docdict.h"
#include "engine/exportfmt.h"
#include "engine/htmltext.h"
#include "engine/httpreq.h"
#include "engine/importval.h"
#include "engine/exportplan.h"
#include "engine/importcell.h"
#include "engine/jwt.h"
#include "engine/xlsx.h"
#include "engine/oauth.h"
#include "engine/naming.h"
#include "engine/secretfmt.h"
#include "engine/sigverify.h"
#include "engine/tpl.h"

#define NTHREADS	8
#define ROUNDS		150

static const char *const TEMPLATE =
	"{\"name\": \"{{ doc.name }}\", \"rows\": {{ doc.items | sort(attribute='qty', reverse=true) | tojson }}, "
	"\"codes\": \"{{ doc.items | map(attribute='item_code') | join(', ') | upper }}\", "
	"\"total\": {{ doc.items | sum(attribute='qty') }}, \"when\": \"{{ utils.add_days('2024-05-06', 3) }}\"}";
static const char *const CONTEXT =
	"{\"doc\": {\"name\": \"SINV-1\", \"items\": [{\"item_code\": \"b\", \"qty\": 2.5}, "
	"{\"item_code\": \"a\", \"qty\": 7}, {\"item_code\": \"ü\", \"qty\": 1}, {\"item_code\": \"c\", \"qty\": 7}]}}";
static const char *const FERNET_KEY = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
static const char *const CSV_TEXT = "Item Code,Item Name\r\n\"A1\",\"Apple, \"\"red\"\"\"\nB2,\"two\nlines\"\n";

/* one of everything: a text the run is summarised by */
static void *
thread_alloc(void *arg, size_t size)
{
	/* (the plan's blocks are kept on a list the caller frees) */
	void	  **list = arg;
	void	  **b = calloc(1, sizeof(void *) + size + 1);

	b[0] = *list;
	*list = b;
	return b + 1;
}

static const char *
thread_value(void *arg, const char *fieldname, bool *present)
{
	*present = strcmp(fieldname, "customer") == 0;
	return *present ? "ACME" : "";
}

static const FiDocMeta *
thread_meta(void *arg, const char *doctype)
{
	return NULL;
}

static bool
thread_in_table(void *arg, const FiDocMeta *meta, const char *fieldname)
{
	return true;
}

/* a workbook (argv[1]) every thread reads whole */
static char *xlsx_data;
static size_t xlsx_len;

/* the workbook's rows: their count and an FNV-1a hash of their cells */
static void
read_workbook(char *acc, size_t *n)
{
	FiXlsx	   *x;
	FiCsvReader rec;
	bool		done = false;
	long		rows = 0;
	uint64_t	h = 1469598103934665603ULL;

	if (xlsx_data == NULL)
		return;
	if (fi_xlsx_open(xlsx_data, xlsx_len, NULL, NULL, NULL, &x, NULL, 0) != FI_XLSX_OK)
	{
		*n += snprintf(acc + *n, 8192 - *n, "|xlsx failed");
		return;
	}
	memset(&rec, 0, sizeof(rec));
	while (fi_xlsx_next(x, &rec, &done, NULL, 0) == FI_XLSX_OK && !done)
	{
		rows++;
		for (int i = 0; i < rec.nfields; i++)
			for (size_t k = 0; k <= rec.len[i]; k++)
				h = (h ^ (unsigned char) rec.buf[rec.off[i] + k]) * 1099511628211ULL;
	}
	fi_csv_free(&rec);
	fi_xlsx_close(x);
	*n += snprintf(acc + *n, 8192 - *n, "|xlsx %ld rows %016llx", rows, (unsigned long long) h);
}

static char *
work(void)
{
	FiTplOptions opt;
	FiTpl	   *t;
	FiVal	   *ctx;
	const char *out;
	size_t		outlen;
	char	   *acc = malloc(8192);
	size_t		n = 0;
	char		hash[FI_PASSLIB_HASH_MAXLEN];
	bool		match = false;
	unsigned char key[32],
				mac[FI_SHA256_LEN];
	char		token[256],
				plain[256],
				html[64];
	size_t		toklen,
				plainlen;
	uint64_t	ts;
	FiCsvReader r;
	int64_t		secs;
	static const unsigned char salt[16] = "0123456789abcdef";
	static const unsigned char iv[16] = "fedcba9876543210";

	fi_tpl_default_options(&opt);
	opt.now_usec = INT64_C(1714990830123456);
	t = fi_tpl_new(&opt);
	if (fi_tpl_from_json(t, CONTEXT, strlen(CONTEXT), &ctx) != FI_TPL_OK ||
		fi_tpl_render(t, TEMPLATE, strlen(TEMPLATE), ctx, &out, &outlen) != FI_TPL_OK)
		n += snprintf(acc + n, 8192 - n, "render failed: %s|", fi_tpl_errmsg(t));
	else
		n += snprintf(acc + n, 8192 - n, "%.*s|", (int) outlen, out);
	{
		/* a document's dict from a database's text, in export-doc's shape (engine/docdict.c) */
		FiDocField	f[3] = {{.fieldname = "qty", .fieldtype = "Float"}, {.fieldname = "posting_date", .fieldtype = "Date"},
		{.fieldname = "code", .fieldtype = "Data", .unique = true}};
		FiDocMeta	m = {.name = "Thing", .nfields = 3, .fields = f};
		static const char *const texts[] = {"T-1", NULL, "2024-05-06 10:30:15.000000", NULL, NULL, "0", "1", "2.500000000",
		"2024-05-06", ""};
		static const FiDocText kinds[] = {FI_DT_TEXT, FI_DT_TEXT, FI_DT_CLOCK, FI_DT_CLOCK, FI_DT_TEXT, FI_DT_INT, FI_DT_INT,
		FI_DT_NUMBER, FI_DT_CLOCK, FI_DT_TEXT};
		void	   *blocks = NULL;
		FiDocKey   *keys;
		int			nk = fi_doc_row_keys(&m, thread_alloc, &blocks, &keys);
		FiVal	   *doc = fi_val_dict(t);
		const char *dj;
		size_t		djn;

		for (int i = 0; i < nk && i < 10; i++)
			fi_val_set(t, doc, keys[i].key, strlen(keys[i].key),
					   fi_doc_value(t, kinds[i], keys[i].df, texts[i], texts[i] ? strlen(texts[i]) : 0, true));
		if (fi_tpl_dumps(t, fi_doc_export_shape(t, doc, true), &dj, &djn) == FI_TPL_OK)
			n += snprintf(acc + n, 8192 - n, "%d %.*s|", nk, (int) djn, dj);
		while (blocks)
		{
			void	   *next = *(void **) blocks;

			free(blocks);
			blocks = next;
		}
	}
	fi_tpl_free(t);

	fi_pbkdf2_sha256_hash("s3cr3t", 6, salt, sizeof(salt), 1000, hash);
	fi_passlib_verify("s3cr3t", 6, hash, strlen(hash), &match);
	n += snprintf(acc + n, 8192 - n, "%s %d|", hash, match);

	fi_fernet_parse_key(FERNET_KEY, strlen(FERNET_KEY), key);
	fi_fernet_encrypt(key, iv, 499162800, (const unsigned char *) "hello", 5, token, &toklen);
	fi_fernet_decrypt(key, token, toklen, (unsigned char *) plain, &plainlen, &ts);
	n += snprintf(acc + n, 8192 - n, "%.*s %.*s|", (int) toklen, token, (int) plainlen, plain);

	fi_hmac_sha256((const unsigned char *) "k", 1, (const unsigned char *) "{}", 2, mac);
	for (int i = 0; i < FI_SHA256_LEN; i++)
		n += snprintf(acc + n, 8192 - n, "%02x", mac[i]);
	n += snprintf(acc + n, 8192 - n, " %d|",
				  (int) fi_sig_hmac_hex("k", 1, (const unsigned char *) "{}", 2,
										"6e2fd9b5b1f84c16dc31f2c1ef4ddeb3cd0de13e15d2aa3dbdbb4d1c0de0c9a4", 64));

	fi_csv_init(&r, CSV_TEXT, strlen(CSV_TEXT));
	while (fi_csv_next(&r) == 1)
		for (int i = 0; i < r.nfields; i++)
			n += snprintf(acc + n, 8192 - n, "[%s]", r.buf + r.off[i]);
	fi_csv_free(&r);
	fi_parse_duration("1d 2h 3m 4s", 11, &secs);
	fi_html_to_text("<p>a &amp; b</p>c", 17, html);
	{
		static const char claims[] = "{\"sub\": \"x\", \"a\": [1.50, 1e2], \"sub\": \"y\"}";
		FiJBuf		tok = {0},
					back = {0};
		FiJsonErr	je;
		void	   *blocks = NULL;
		FiNameHooks nh = {&blocks, thread_alloc, thread_value};
		FiNamePlan	p = {0};
		FiDateTime	now = {2026, 12, 3, 1, 2, 3, 0};
		char		num[FI_EXPORT_NUMBER_MAX(16)];

		fi_jwt_hs256_sign(claims, strlen(claims), (const unsigned char *) "k", 1, 100, &tok, &je, NULL, 0);
		fi_jwt_hs256_verify(tok.data, tok.len, (const unsigned char *) "k", 1, 100, &back, &je, NULL, 0);
		fi_name_plan_series(&p, "INV-.customer.-.YYYY.-.WW.-.####", &now, &nh);
		num[fi_export_number("-0.000060000", 12, num)] = '\0';
		{
			char		clk[FI_EXPORT_CLOCK_MAX];
			size_t		cl = 0;

			if (!fi_export_clock_text("2024-05-06T10:30:15.25", 22, &cl, clk))
				cl = 0;
			clk[cl] = '\0';
			n += snprintf(acc + n, 8192 - n, "|%s", clk);
		}
		n += snprintf(acc + n, 8192 - n, "|%s %s %s %s", tok.data, back.data, fi_name_compose(&p, 7, &nh), num);
		{
			/* the OAuth provider's rules */
			FiOAuthAuthorize req = {"code id_token", "files openid", "n", "dBjftJeZ4CVP-mJ92K9ZgNsWiJ9vE5KpaLXF8VZbDk0",
			"S256", "Code", "openid all files", true};
			FiOAuthGrant g;
			FiOAuthCode code = {"https://a/cb", "B8NT0N5Fc8cbg7Ejp8ZQ4E12gSJli_ko5QsbQaWtsnA", "s256"};
			static const char *const keys[] = {"code", "state"};
			static const char *const vals[] = {"c0de", "é &"};
			char	   *id,
					   *secret,
						half[23];

			FiCellField rate = {FI_CELL_NUMBER, "Rate", .maxchars = -1, .int_digits = 12};
			FiCellField when = {FI_CELL_DATETIME, "When", true, {1, 1}, .maxchars = -1, .int_digits = -1};
			FiCell		c1,
						c2;

			static FiDocField xf[] = {{.fieldname = "customer", .fieldtype = "Link"}};
			static FiDocMeta xm = {.name = "Sales Invoice", .nfields = 1, .fields = xf};
			FiExportHooks xh = {&blocks, thread_alloc, thread_meta, thread_in_table};
			FiExportPlan xp;
			FiExportError xe;

			fi_export_plan_init(&xp, &xm, &xh);
			fi_export_order_by(&xp, "customer DESC", &xh, &xe);
			n += snprintf(acc + n, 8192 - n, "|%s %d %s", xp.order[0].field, xp.order[0].desc, xp.order[1].field);
			fi_cell_value(&rate, "1,234.50", 8, &c1, thread_alloc, &blocks);
			fi_cell_value(&when, "03-12-2026 13:45:10", 19, &c2, thread_alloc, &blocks);
			n += snprintf(acc + n, 8192 - n, "|%s %04d%02d%02d%02d", c1.number, c2.dt.year, c2.dt.month, c2.dt.day,
						  c2.dt.hour);
			fi_oauth_authorize(&req, thread_alloc, &blocks, &g);
			fi_oauth_basic_credentials("Basic Y2wxOnMzY3I6ZXQ=", NULL, thread_alloc, &blocks, &id, &secret);
			fi_oauth_half_hash("c0de", 4, half);
			n += snprintf(acc + n, 8192 - n, "|%d %s %s %d %s %s %s %s", g.response_types, g.scopes, g.challenge_method,
						  fi_oauth_code_exchange_ok(&code, NULL, "dBjftJeZ4CVP-mJ92K9ZgNsWiJ9vE5KpaLXF8VZbDk0",
													"https://a/cb", false),
						  id, secret, half, fi_oauth_redirect("https://a/cb", true, keys, vals, 2, thread_alloc, &blocks));
		}
		fi_jbuf_free(&tok);
		fi_jbuf_free(&back);
		while (blocks)
		{
			void	   *next = *(void **) blocks;

			free(blocks);
			blocks = next;
		}
	}
	n += snprintf(acc + n, 8192 - n, "|%lld %s %d", (long long) secs, html,
				  fi_frappe_compare("150", ">", "100", FI_CMP_FLOAT));
	{
		/* outbound HTTP's rules (MariaDB runs them in its connection threads) */
		static const char raw[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nX-A: 1\r\nx-a: 2\r\n\r\n";
		void	   *blocks = NULL;
		FiJBuf		h = {0},
					q = {0};
		FiHttpError e;
		char		host[64];
		bool		none;
		char	   *u = fi_http_log_url("https://u:p@h.example/p?token=s&a=1", thread_alloc, &blocks);

		fi_http_headers_json(raw, sizeof(raw) - 1, &h);
		fi_http_make_result("GET", "h.example", 200, "text/plain; charset=utf-8", "a=1&a=%C3%A9&b=+", 16, &q, &none, &e);
		fi_jbuf_put(&h, "", 1);
		fi_jbuf_put(&q, "", 1);
		n += snprintf(acc + n, 8192 - n, "|http %s %s %s %d %s", h.data, q.data, u,
					  fi_http_check_request("POST", "http://127.0.0.1:1/x", 1000, host, sizeof(host), &e), host);
		fi_jbuf_free(&h);
		fi_jbuf_free(&q);
		while (blocks)
		{
			void	   *next = *(void **) blocks;

			free(blocks);
			blocks = next;
		}
	}
	read_workbook(acc, &n);
	return acc;
}

static const char *reference;
static int	mismatches[NTHREADS];

static void *
thread_main(void *arg)
{
	int			id = (int) (intptr_t) arg;

	for (int i = 0; i < ROUNDS; i++)
	{
		char	   *got = work();

		if (strcmp(got, reference) != 0)
			mismatches[id]++;
		free(got);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t	th[NTHREADS];
	int			bad = 0;

	if (argc > 1)
	{
		FILE	   *f = fopen(argv[1], "rb");

		if (f == NULL || fseek(f, 0, SEEK_END) != 0)
			return 2;
		xlsx_len = (size_t) ftell(f);
		rewind(f);
		xlsx_data = malloc(xlsx_len);
		if (fread(xlsx_data, 1, xlsx_len, f) != xlsx_len)
			return 2;
		fclose(f);
	}
	reference = work();
	printf("# reference: %.120s...\n", reference);
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, thread_main, (void *) (intptr_t) i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NTHREADS; i++)
		bad += mismatches[i];
	printf("%s 1 - %d threads x %d rounds of templates, JSON, passlib, Fernet, HMAC, CSV, XLSX, value, OAuth and HTTP rules: "
		   "the same bytes as one thread (%d differed)\n", bad ? "not ok" : "ok", NTHREADS, ROUNDS, bad);
	printf("%s 2 - the reference itself is whole (the template rendered, the token read back, the name made, "
		   "the OAuth grant given, the document's dict)\n",
		   strstr(reference, "render failed") == NULL && strstr(reference, "\"total\": 17.5") != NULL &&
		   strstr(reference, "eyJhbGciOiJIUzI1NiIsInR5cCI6Imp3dCJ9.") != NULL &&
		   strstr(reference, "{\"a\": [1.50, 100], \"sub\": \"y\"} INV-ACME-2026-49-0007 -6e-05") != NULL &&
		   strstr(reference, "|customer 1 name|1234.50 2026120313|5 files openid s256 1 cl1 s3cr:et ") != NULL &&
		   strstr(reference, "https://a/cb#code=c0de&state=%C3%A9+%26") != NULL &&
		   strstr(reference, "|10 {\"name\": \"T-1\", \"creation\": \"2024-05-06 10:30:15\", \"docstatus\": 0, \"idx\": 1, "
				  "\"qty\": 2.5, \"posting_date\": \"2024-05-06\"}|") != NULL &&
		   strstr(reference, "|http {\"content-type\":\"text/plain; charset=utf-8\",\"x-a\":\"1, 2\"} "
				  "{\"a\":[\"1\",\"\xc3\xa9\"],\"b\":[\" \"]} https://h.example/p?token=********&a=1 1 127.0.0.1") != NULL &&
		   (xlsx_data == NULL || strstr(reference, "|xlsx 300 rows ") != NULL) ? "ok" : "not ok");
	printf("1..2\n");
	return bad ? 1 : 0;
}
