/*
 * udf_oauth_test.c
 *		fi_udf_oauth called as the server calls it (init, calls, deinit),
 *		under AddressSanitizer: every operation with NULLs, empty and huge
 *		arguments, wrong counts and unknown operations returns an answer or
 *		NULL with an error -- never a crash or a leak.  (t/295 runs it.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "test/unit/tap.h"

extern my_bool fi_udf_oauth_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
extern char *fi_udf_oauth(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
						  char *is_null, char *error);
extern void fi_udf_oauth_deinit(UDF_INIT *initid);
extern char *fi_udf_last_error(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
							   char *is_null, char *error);

/* one call with n arguments (NULL: SQL NULL); the answer, or "NULL:<error>" */
static char *
call(int n, const char **v)
{
	UDF_INIT	init;
	UDF_ARGS	args;
	enum Item_result types[32];
	char	   *ptrs[32];
	unsigned long lens[32];
	char		msg[512] = "",
				res[256],
				is_null = 0,
				err = 0;
	unsigned long len = 0;
	char	   *r;
	static char out[8192];

	memset(&init, 0, sizeof(init));
	memset(&args, 0, sizeof(args));
	args.arg_count = (unsigned int) n;
	args.arg_type = types;
	args.args = ptrs;
	args.lengths = lens;
	for (int i = 0; i < n; i++)
	{
		ptrs[i] = (char *) v[i];
		lens[i] = v[i] ? strlen(v[i]) : 0;
	}
	if (fi_udf_oauth_init(&init, &args, msg))
	{
		snprintf(out, sizeof(out), "INIT:%s", msg);
		return out;
	}
	r = fi_udf_oauth(&init, &args, res, &len, &is_null, &err);
	if (is_null)
	{
		char		e[600];
		unsigned long el = 0;
		char		en = 0;
		char	   *le = fi_udf_last_error(NULL, NULL, e, &el, &en, &err);

		snprintf(out, sizeof(out), "NULL:%.*s", en ? 0 : (int) el, en ? "" : le);
	}
	else
		snprintf(out, sizeof(out), "%.*s", (int) len, r);
	fi_udf_oauth_deinit(&init);
	return out;
}

#define CALL(...) call(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *), (const char *[]){__VA_ARGS__})

int
main(void)
{
	char	   *big = malloc(1 << 20);

	memset(big, 'a', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	is_str(CALL("scopes", "all openid", "openid"), "openid", "scopes: granted");
	is_str(CALL("scopes", NULL, NULL), "", "scopes: NULLs are none");
	is_str(CALL("half_hash", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ", "half_hash: OpenID Core A.3");
	ok(strncmp(CALL("half_hash", NULL), "NULL", 4) == 0, "half_hash of NULL: NULL");
	is_str(CALL("redirect_uri", "https://x/cb", "https://y/cb", "https://y/cb"),
		   "NULL:22023:invalid_request: redirect_uri is not registered for this client", "redirect_uri: not registered");
	ok(strncmp(CALL("authorize", "code", NULL, NULL, NULL, NULL, NULL, NULL, NULL), "{\"code\": true", 13) == 0,
	   "authorize with NULLs: an answer");
	ok(strstr(CALL("authorize", big, big, big, big, big, big, big, "1"), "\"error\"") != NULL, "authorize with 1 MB arguments: an error answer");
	is_str(CALL("redirect", "https://a/cb", "0", "code", "x y", "state", NULL), "https://a/cb?code=x+y", "redirect: pairs, a NULL value left out");
	ok(strncmp(CALL("redirect", "https://a/cb", "0", NULL, "v"), "NULL:22023", 10) == 0, "redirect: a NULL key refused");
	ok(strncmp(CALL("redirect", "https://a/cb", "0", "k"), "NULL:22023", 10) == 0, "redirect: an odd pair refused");
	ok(strncmp(CALL("redirect", NULL, NULL), "NULL:22023", 10) == 0, "redirect: no URI refused");
	ok(strncmp(CALL("redirect", "https://a/cb", "1", "a", big, "b", big, "c", big), "https://a/cb#a=aaaa", 19) == 0,
	   "redirect: 3 MB of values encoded");
	is_str(CALL("grant_type", "client_credentials"),
		   "NULL:22023:unsupported_grant_type: grant_type must be authorization_code, refresh_token or password", "grant_type refused");
	is_str(CALL("grant_type", NULL), "NULL:22023:invalid_request: grant_type is missing", "grant_type missing");
	is_str(CALL("pkce", big), "0", "pkce: 1 MB is no verifier");
	is_str(CALL("code_ok", NULL, NULL, NULL, NULL, NULL, NULL, NULL), "0", "code_ok with NULLs: no (no redirect URI anywhere)");
	is_str(CALL("basic", "Basic Y2wxOnMzY3JldA==", "cl1"), "[\"cl1\", \"s3cret\"]", "basic: id and secret");
	ok(strncmp(CALL("basic", "Basic !!!", NULL), "NULL:22023", 10) == 0 && strncmp(CALL("basic", NULL, NULL), "NULL:22023", 10) == 0,
	   "basic: not base64, NULL: refused");
	ok(strncmp(CALL("basic", big, NULL), "NULL:22023", 10) == 0, "basic: 1 MB refused");
	ok(strncmp(CALL("scopes", "a"), "NULL:22023", 10) == 0, "a wrong count of arguments: refused");
	ok(strncmp(CALL("nope"), "NULL:22023:fi_udf_oauth: unknown operation", 40) == 0 && strncmp(CALL(NULL), "NULL:22023", 10) == 0,
	   "an unknown or NULL operation: refused");
	{
		const char *many[30] = {"scopes"};

		ok(strncmp(call(30, many), "INIT:", 5) == 0, "more than 21 arguments: refused at init");
		ok(strncmp(call(0, many), "INIT:", 5) == 0, "no argument: refused at init");
	}
	free(big);
	printf("1..%d\n", n_test);
	return n_fail == 0 ? 0 : 1;
}
