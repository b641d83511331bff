/*
 * udf.c
 *		The pure functions of frappe_integrations as MariaDB UDFs (issue 18,
 *		part 1): the same engines as the PostgreSQL extension, called from the
 *		server's connection threads.  What a UDF cannot do, its SQL wrapper
 *		in the database `integrations` does (src/mariadb/install.sql): the
 *		result's charset (a UDF's string is binary), the error as an SQL error
 *		(a UDF can only return NULL: its message is kept per thread for
 *		fi_udf_last_error(), which the wrapper SIGNALs), and the clock.
 *
 * No secret is ever kept in a UDF's state: none of these functions takes
 * the site's key (the functions that need it come with the per-site
 * install, behind SQL SECURITY DEFINER functions).  Every call checks its
 * arguments and returns NULL with a message rather than fail the server;
 * the template engine's nesting is bounded by the free stack of the
 * calling thread (MariaDB's thread_stack is smaller than a backend's).
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>

#include "engine/authheader.h"
#include "engine/codec.h"
#include "engine/csv.h"
#include "engine/httpreq.h"
#include "engine/jsoncanon.h"
#include "engine/jwt.h"
#include "engine/oauth.h"
#include "engine/secretfmt.h"
#include "engine/sigverify.h"
#include "engine/tpl.h"

/* the UDF entry points are the library's only exported symbols */
#define FI_UDF	__attribute__((visibility("default")))

#define FI_VERSION			"0.12.0"
#define FI_MAX_RESULT		(1UL << 30)
#define FI_STACK_MARGIN		(96 * 1024)	/* kept free below the engine */
#define FI_STACK_PER_LEVEL	(4 * 1024)	/* measured: ~3.2 KiB a nesting level */

/* ---- the last error of this thread (read by the wrappers) ---- */

static __thread char last_error[512];
static __thread bool has_error;

static void
set_error(const char *sqlstate, const char *fmt,...)
{
	va_list		ap;
	int			n = snprintf(last_error, sizeof(last_error), "%s:", sqlstate);

	va_start(ap, fmt);
	vsnprintf(last_error + n, sizeof(last_error) - n, fmt, ap);
	va_end(ap);
	has_error = true;
}

static void
clear_error(void)
{
	has_error = false;
	last_error[0] = '\0';
}

/* ---- argument checks ---- */

static bool
check_args(UDF_ARGS *args, char *message, const char *name, unsigned int min, unsigned int max,
		   const enum Item_result *types)
{
	if (args->arg_count < min || args->arg_count > max)
	{
		snprintf(message, MYSQL_ERRMSG_SIZE, "%s takes %u to %u arguments", name, min, max);
		return false;
	}
	for (unsigned int i = 0; i < args->arg_count; i++)
		args->arg_type[i] = types[i];	/* the server converts to these */
	return true;
}

/* a string result kept in initid->ptr (grown as needed) */
static char *
result_copy(UDF_INIT *initid, const char *s, size_t n, unsigned long *length)
{
	char	   *buf = initid->ptr;
	size_t		cap = buf ? *(size_t *) buf : 0;

	if (n + 1 > cap)
	{
		free(buf);
		cap = n + 1 > 256 ? n + 1 : 256;
		buf = malloc(sizeof(size_t) + cap);
		initid->ptr = buf;
		if (buf == NULL)
			return NULL;
		*(size_t *) buf = cap;
	}
	memcpy(buf + sizeof(size_t), s, n);
	buf[sizeof(size_t) + n] = '\0';
	*length = n;
	return buf + sizeof(size_t);
}

static void
result_free(UDF_INIT *initid)
{
	free(initid->ptr);
	initid->ptr = NULL;
}

/* ---- templates ---- */

/* the nesting the calling thread's free stack allows (0: not even a little) */
static int
depth_for_stack(void)
{
	pthread_attr_t attr;
	void	   *base;
	size_t		size;
	char		here;
	long		free_bytes;

	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return 50;
	if (pthread_attr_getstack(&attr, &base, &size) != 0)
	{
		pthread_attr_destroy(&attr);
		return 50;
	}
	pthread_attr_destroy(&attr);
	free_bytes = (long) (&here - (char *) base);	/* the stack grows down */
	if (free_bytes < FI_STACK_MARGIN + 10 * FI_STACK_PER_LEVEL)
		return 0;
	free_bytes = (free_bytes - FI_STACK_MARGIN) / FI_STACK_PER_LEVEL;
	return free_bytes > 200 ? 200 : (int) free_bytes;
}

/* the local wall clock in microseconds since 1970-01-01 00:00 (as the site's clock) */
static int64_t
local_now_usec(void)
{
	struct timespec ts;
	struct tm	tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	return ((int64_t) ts.tv_sec + tm.tm_gmtoff) * 1000000 + ts.tv_nsec / 1000;
}

static const char *
tpl_state(int rc)
{
	return rc == FI_TPL_ESYNTAX ? "42601" : rc == FI_TPL_ELIMIT ? "54000" : "22023";
}

/* a session with the context parsed; NULL and the error set */
static FiTpl *
tpl_begin(UDF_ARGS *args, int ctx_arg, int now_arg, FiVal **ctx)
{
	FiTplOptions opt;
	FiTpl	   *t;
	int			depth = depth_for_stack();

	*ctx = NULL;
	if (depth == 0)
	{
		set_error("54001", "not enough stack for the template engine in this connection's thread "
				  "(raise thread_stack)");
		return NULL;
	}
	fi_tpl_default_options(&opt);
	if (opt.max_depth > depth)
		opt.max_depth = depth;
	opt.now_usec = ((int) args->arg_count > now_arg && args->args[now_arg] != NULL) ?
		*(long long *) args->args[now_arg] : local_now_usec();
	t = fi_tpl_new(&opt);
	if (t == NULL)
	{
		set_error("53200", "out of memory");
		return NULL;
	}
	if ((int) args->arg_count > ctx_arg && args->args[ctx_arg] != NULL && args->lengths[ctx_arg] > 0)
	{
		int			rc = fi_tpl_from_json(t, args->args[ctx_arg], args->lengths[ctx_arg], ctx);

		if (rc != FI_TPL_OK)
		{
			set_error("22023", "invalid JSON: %s", fi_tpl_errmsg(t));
			fi_tpl_free(t);
			return NULL;
		}
		/* its dicts are documents, as the PostgreSQL functions make them */
		fi_val_as_documents(*ctx);
	}
	return t;
}

static const enum Item_result tpl_types[] = {STRING_RESULT, STRING_RESULT, INT_RESULT};

/* fi_udf_render_template(template, context_json [, now_usec]) */
FI_UDF my_bool		fi_udf_render_template_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char	   *fi_udf_render_template(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
							   char *is_null, char *error);
FI_UDF void		fi_udf_render_template_deinit(UDF_INIT *initid);

my_bool
fi_udf_render_template_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_render_template", 1, 3, tpl_types))
		return 1;
	initid->maybe_null = 1;
	initid->max_length = FI_MAX_RESULT;
	initid->ptr = NULL;
	return 0;
}

char *
fi_udf_render_template(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
				   char *is_null, char *error)
{
	FiTpl	   *t;
	FiVal	   *ctx;
	const char *out;
	size_t		outlen;
	int			rc;
	char	   *r = NULL;

	(void) result;
	(void) error;
	clear_error();
	*is_null = 1;
	if (args->args[0] == NULL)
		return NULL;
	if ((t = tpl_begin(args, 1, 2, &ctx)) == NULL)
		return NULL;
	rc = fi_tpl_render(t, args->args[0], args->lengths[0], ctx, &out, &outlen);
	if (rc != FI_TPL_OK)
		set_error(tpl_state(rc), "%s template: %s (line %d, column %d)",
				  rc == FI_TPL_ESYNTAX ? "syntax error in" : "could not evaluate",
				  fi_tpl_errmsg(t), fi_tpl_errline(t), fi_tpl_errcol(t));
	else if ((r = result_copy(initid, out, outlen, length)) == NULL)
		set_error("53200", "out of memory");
	else
		*is_null = 0;
	fi_tpl_free(t);
	return r;
}

void
fi_udf_render_template_deinit(UDF_INIT *initid)
{
	result_free(initid);
}

/* fi_udf_eval_condition(condition, context_json [, now_usec]): 1, 0, or NULL (error) */
FI_UDF my_bool		fi_udf_eval_condition_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF long long	fi_udf_eval_condition(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error);

my_bool
fi_udf_eval_condition_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_eval_condition", 1, 3, tpl_types))
		return 1;
	initid->maybe_null = 1;
	return 0;
}

long long
fi_udf_eval_condition(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error)
{
	FiTpl	   *t;
	FiVal	   *ctx;
	bool		b = false;
	int			rc;

	(void) initid;
	(void) error;
	clear_error();
	*is_null = 1;
	if (args->args[0] == NULL)
		return 0;
	if ((t = tpl_begin(args, 1, 2, &ctx)) == NULL)
		return 0;
	rc = fi_tpl_condition(t, args->args[0], args->lengths[0], ctx, &b);
	if (rc != FI_TPL_OK)
		set_error(tpl_state(rc), "%s condition: %s (line %d, column %d)",
				  rc == FI_TPL_ESYNTAX ? "syntax error in" : "could not evaluate",
				  fi_tpl_errmsg(t), fi_tpl_errline(t), fi_tpl_errcol(t));
	else
		*is_null = 0;
	fi_tpl_free(t);
	return b ? 1 : 0;
}

/* fi_udf_normalize_json(text): json.dumps(json.loads(text)) */
FI_UDF my_bool		fi_udf_normalize_json_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char	   *fi_udf_normalize_json(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
							  char *is_null, char *error);
FI_UDF void		fi_udf_normalize_json_deinit(UDF_INIT *initid);

my_bool
fi_udf_normalize_json_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_normalize_json", 1, 1, tpl_types))
		return 1;
	initid->maybe_null = 1;
	initid->max_length = FI_MAX_RESULT;
	initid->ptr = NULL;
	return 0;
}

char *
fi_udf_normalize_json(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
				  char *is_null, char *error)
{
	FiTplOptions opt;
	FiTpl	   *t;
	const char *out;
	size_t		outlen;
	char	   *r = NULL;

	(void) result;
	(void) error;
	clear_error();
	*is_null = 1;
	if (args->args[0] == NULL)
		return NULL;
	fi_tpl_default_options(&opt);
	if ((t = fi_tpl_new(&opt)) == NULL)
	{
		set_error("53200", "out of memory");
		return NULL;
	}
	if (fi_tpl_normalize_json(t, args->args[0], args->lengths[0], &out, &outlen) != FI_TPL_OK)
		set_error("22023", "invalid JSON: %s", fi_tpl_errmsg(t));
	else if ((r = result_copy(initid, out, outlen, length)) == NULL)
		set_error("53200", "out of memory");
	else
		*is_null = 0;
	fi_tpl_free(t);
	return r;
}

void
fi_udf_normalize_json_deinit(UDF_INIT *initid)
{
	result_free(initid);
}

/* ---- HMAC, comparison, encoding ---- */

static const enum Item_result str3[] = {STRING_RESULT, STRING_RESULT, STRING_RESULT};

/* fi_udf_hmac_sha256(key, message [, encoding]): base64 (default), base64url or hex */
FI_UDF my_bool		fi_udf_hmac_sha256_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char	   *fi_udf_hmac_sha256(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
						   char *is_null, char *error);

my_bool
fi_udf_hmac_sha256_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_hmac_sha256", 2, 3, str3))
		return 1;
	initid->maybe_null = 1;
	initid->max_length = 64;
	return 0;
}

char *
fi_udf_hmac_sha256(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
			   char *is_null, char *error)
{
	unsigned char mac[FI_SHA256_LEN];
	const char *enc = "base64";
	char		encbuf[16];

	(void) initid;
	(void) error;
	clear_error();
	*is_null = 1;
	if (args->args[0] == NULL || args->args[1] == NULL)
		return NULL;
	if (args->arg_count > 2 && args->args[2] != NULL)
	{
		size_t		n = args->lengths[2] < sizeof(encbuf) - 1 ? args->lengths[2] : sizeof(encbuf) - 1;

		memcpy(encbuf, args->args[2], n);
		encbuf[n] = '\0';
		enc = encbuf;
	}
	if (fi_hmac_sha256((const unsigned char *) args->args[0], args->lengths[0],
					   (const unsigned char *) args->args[1], args->lengths[1], mac) != FI_SECRET_OK)
	{
		set_error("XX000", "HMAC-SHA256 failed");
		return NULL;
	}
	/* (result is a 255-byte buffer of the server's: enough for 64 characters) */
	if (strcmp(enc, "hex") == 0)
	{
		fi_hex_encode(mac, sizeof(mac), result);
		*length = 2 * sizeof(mac);
	}
	else if (strcmp(enc, "base64") == 0 || strcmp(enc, "base64url") == 0)
		*length = fi_b64_encode(mac, sizeof(mac), result, enc[6] ? FI_B64_URL : FI_B64_STD);
	else
	{
		set_error("22023", "unknown encoding \"%s\" (base64, base64url or hex)", enc);
		return NULL;
	}
	*is_null = 0;
	return result;
}

/* fi_udf_secure_compare(a, b): equality in constant time */
FI_UDF my_bool		fi_udf_secure_compare_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF long long	fi_udf_secure_compare(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error);

my_bool
fi_udf_secure_compare_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_secure_compare", 2, 2, str3))
		return 1;
	initid->maybe_null = 1;
	return 0;
}

long long
fi_udf_secure_compare(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error)
{
	(void) initid;
	(void) error;
	clear_error();
	*is_null = 1;
	if (args->args[0] == NULL || args->args[1] == NULL)
		return 0;
	*is_null = 0;
	return fi_secure_equal(args->args[0], args->lengths[0], args->args[1], args->lengths[1]) ? 1 : 0;
}

/* fi_udf_url_encode(value): Python's quote_plus */
FI_UDF my_bool		fi_udf_url_encode_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char	   *fi_udf_url_encode(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
						  char *is_null, char *error);
FI_UDF void		fi_udf_url_encode_deinit(UDF_INIT *initid);

my_bool
fi_udf_url_encode_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_url_encode", 1, 1, str3))
		return 1;
	initid->maybe_null = 1;
	initid->max_length = FI_MAX_RESULT;
	initid->ptr = NULL;
	return 0;
}

char *
fi_udf_url_encode(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
			  char *is_null, char *error)
{
	char	   *tmp;
	char	   *r;

	(void) result;
	(void) error;
	clear_error();
	*is_null = 1;
	if (args->args[0] == NULL)
		return NULL;
	if ((tmp = malloc(args->lengths[0] * 3 + 1)) == NULL)
	{
		set_error("53200", "out of memory");
		return NULL;
	}
	r = result_copy(initid, tmp, fi_quote_plus((const unsigned char *) args->args[0], args->lengths[0], tmp),
					length);
	free(tmp);
	if (r != NULL)
		*is_null = 0;
	return r;
}

void
fi_udf_url_encode_deinit(UDF_INIT *initid)
{
	result_free(initid);
}

/* ---- random names ---- */

static const enum Item_result int1[] = {INT_RESULT};

static long long
length_arg(UDF_ARGS *args, long long dflt)
{
	return args->arg_count > 0 && args->args[0] != NULL ? *(long long *) args->args[0] : dflt;
}

/* fi_udf_random_name(): Frappe's hash autoname, 10 of 0-9a-v */
FI_UDF my_bool		fi_udf_random_name_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char	   *fi_udf_random_name(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
						   char *is_null, char *error);

my_bool
fi_udf_random_name_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_random_name", 0, 0, int1))
		return 1;
	initid->max_length = 10;
	initid->const_item = 0;
	return 0;
}

char *
fi_udf_random_name(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
			   char *is_null, char *error)
{
	unsigned char rnd[10];

	(void) initid;
	(void) args;
	*is_null = 0;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
	{
		*error = 1;
		return NULL;
	}
	fi_random_base32hex(rnd, 10, result);
	*length = 10;
	return result;
}

/* fi_udf_generate_hash([length = 56]): lowercase hex; fi_udf_generate_token([length = 30]): a-zA-Z0-9 */
FI_UDF my_bool		fi_udf_generate_hash_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char	   *fi_udf_generate_hash(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
							 char *is_null, char *error);
FI_UDF void		fi_udf_generate_hash_deinit(UDF_INIT *initid);
FI_UDF my_bool		fi_udf_generate_token_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char	   *fi_udf_generate_token(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
							  char *is_null, char *error);
FI_UDF void		fi_udf_generate_token_deinit(UDF_INIT *initid);

my_bool
fi_udf_generate_hash_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_generate_hash", 0, 1, int1))
		return 1;
	initid->maybe_null = 1;
	initid->max_length = 1024;
	initid->ptr = NULL;
	return 0;
}

static char *
random_text(UDF_INIT *initid, long long n, bool hex, unsigned long *length, char *is_null)
{
	char	   *out;
	char	   *r;

	clear_error();
	*is_null = 1;
	if (n < 1 || n > 1024)
	{
		set_error("22023", "length must be between 1 and 1024");
		return NULL;
	}
	if ((out = malloc((size_t) n + 65)) == NULL)
		return NULL;
	if (hex)
	{
		unsigned char rnd[1024];

		if (RAND_bytes(rnd, (int) n) != 1)
		{
			free(out);
			return NULL;
		}
		fi_random_hex(rnd, (size_t) n, out);
	}
	else
	{
		size_t		got = 0;
		unsigned char rnd[64];

		while (got < (size_t) n)
		{
			if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			{
				free(out);
				return NULL;
			}
			got += fi_random_from_alphabet(rnd, sizeof(rnd), fi_oauth_token_alphabet, (size_t) n - got,
										   out + got);
		}
	}
	r = result_copy(initid, out, (size_t) n, length);
	free(out);
	if (r)
		*is_null = 0;
	return r;
}

char *
fi_udf_generate_hash(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
				 char *is_null, char *error)
{
	(void) result;
	(void) error;
	return random_text(initid, length_arg(args, 56), true, length, is_null);
}

void
fi_udf_generate_hash_deinit(UDF_INIT *initid)
{
	result_free(initid);
}

my_bool
fi_udf_generate_token_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_generate_token", 0, 1, int1))
		return 1;
	initid->maybe_null = 1;
	initid->max_length = 1024;
	initid->ptr = NULL;
	return 0;
}

char *
fi_udf_generate_token(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
				  char *is_null, char *error)
{
	(void) result;
	(void) error;
	return random_text(initid, length_arg(args, 30), false, length, is_null);
}

void
fi_udf_generate_token_deinit(UDF_INIT *initid)
{
	result_free(initid);
}

/* ---- passlib ---- */

static const enum Item_result str_int[] = {STRING_RESULT, INT_RESULT};

/* fi_udf_passlib_hash(password [, rounds = 29000]): pbkdf2_sha256, a fresh salt */
FI_UDF my_bool		fi_udf_passlib_hash_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char	   *fi_udf_passlib_hash(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
							char *is_null, char *error);

my_bool
fi_udf_passlib_hash_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_passlib_hash", 1, 2, str_int))
		return 1;
	initid->maybe_null = 1;
	initid->max_length = FI_PASSLIB_HASH_MAXLEN;
	return 0;
}

char *
fi_udf_passlib_hash(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
				char *is_null, char *error)
{
	long long	rounds = args->arg_count > 1 && args->args[1] ? *(long long *) args->args[1] : 29000;
	unsigned char salt[FI_PBKDF2_SALT_LEN];
	char		out[FI_PASSLIB_HASH_MAXLEN];

	(void) initid;
	(void) error;
	clear_error();
	*is_null = 1;
	if (args->args[0] == NULL)
		return NULL;
	if (rounds < 1 || rounds > FI_PBKDF2_MAX_ROUNDS)
	{
		set_error("22023", "rounds must be between 1 and %d", FI_PBKDF2_MAX_ROUNDS);
		return NULL;
	}
	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
		fi_pbkdf2_sha256_hash(args->args[0], args->lengths[0], salt, sizeof(salt),
							  (unsigned int) rounds, out) != FI_SECRET_OK)
	{
		set_error("XX000", "pbkdf2_sha256 failed");
		return NULL;
	}
	*length = strlen(out);
	if (*length > 255)
		return NULL;
	memcpy(result, out, *length);
	*is_null = 0;
	return result;
}

/* fi_udf_passlib_verify(password, hash): 1, 0; NULL with an error for a malformed or over-costly hash */
FI_UDF my_bool		fi_udf_passlib_verify_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF long long	fi_udf_passlib_verify(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error);

my_bool
fi_udf_passlib_verify_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_passlib_verify", 2, 2, str3))
		return 1;
	initid->maybe_null = 1;
	return 0;
}

long long
fi_udf_passlib_verify(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error)
{
	bool		match = false;
	FiSecretErr err;

	(void) initid;
	(void) error;
	clear_error();
	*is_null = 1;
	if (args->args[0] == NULL || args->args[1] == NULL)
		return 0;
	err = fi_passlib_verify(args->args[0], args->lengths[0], args->args[1], args->lengths[1], &match);
	if (err != FI_SECRET_OK)
	{
		set_error(err == FI_SECRET_HASH_LIMITS ? "54000" : "22023", "%s", fi_secret_strerror(err));
		return 0;
	}
	*is_null = 0;
	return match ? 1 : 0;
}

/* ---- signatures ---- */

static const enum Item_result sig_types[] = {STRING_RESULT, STRING_RESULT, STRING_RESULT, STRING_RESULT,
STRING_RESULT, STRING_RESULT, INT_RESULT, INT_RESULT};

/*
 * fi_udf_verify_signature(scheme, payload, secret, signature, webhook_id,
 *                     webhook_timestamp, tolerance_seconds, now_unix): 1, 0;
 * NULL with an error for an unknown scheme or a bad secret.
 */
FI_UDF my_bool		fi_udf_verify_signature_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF long long	fi_udf_verify_signature(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error);

my_bool
fi_udf_verify_signature_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_verify_signature", 8, 8, sig_types))
		return 1;
	initid->maybe_null = 1;
	return 0;
}

static char *
arg_cstr(UDF_ARGS *args, unsigned int i)
{
	char	   *s;

	if (args->args[i] == NULL)
		return NULL;
	if ((s = malloc(args->lengths[i] + 1)) == NULL)
		return NULL;
	memcpy(s, args->args[i], args->lengths[i]);
	s[args->lengths[i]] = '\0';
	return s;
}

long long
fi_udf_verify_signature(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error)
{
	char	   *scheme,
			   *id,
			   *ts;
	bool		known;
	FiSigResult r;
	long long	tolerance = args->args[6] ? *(long long *) args->args[6] : -1;
	long long	now = args->args[7] ? *(long long *) args->args[7] : (long long) time(NULL);

	(void) initid;
	(void) error;
	clear_error();
	*is_null = 1;
	if (args->args[0] == NULL || args->args[1] == NULL || args->args[2] == NULL || args->args[3] == NULL)
		return 0;
	if (args->args[6] != NULL && tolerance < 0)
	{
		set_error("22023", "tolerance_seconds must not be negative (NULL checks no time)");
		return 0;
	}
	scheme = arg_cstr(args, 0);
	id = arg_cstr(args, 4);
	ts = arg_cstr(args, 5);
	if (scheme == NULL)
		return 0;
	if (strcmp(scheme, "standard-webhooks") == 0 && (id == NULL || ts == NULL))
	{
		set_error("22023", "the standard-webhooks scheme needs the %s header", id == NULL ? "webhook-id" : "webhook-timestamp");
		free(scheme);
		free(id);
		free(ts);
		return 0;
	}
	r = fi_sig_verify_scheme(scheme, &known, args->args[2], args->lengths[2],
							 (const unsigned char *) args->args[1], args->lengths[1],
							 args->args[3], args->lengths[3], id, ts, now, tolerance);
	if (!known)
		set_error("22023", "unknown signature scheme \"%.64s\" (frappe, standard-webhooks, stripe, razorpay or gocardless)", scheme);
	else if (r == FI_SIG_BAD_SECRET && strcmp(scheme, "standard-webhooks") == 0)
		set_error("22023", "the secret is not a Standard Webhooks secret (\"whsec_\" followed by base64)");
	else if (r == FI_SIG_CRYPTO)
		set_error("XX000", "HMAC-SHA256 failed");
	else
		*is_null = 0;
	free(scheme);
	free(id);
	free(ts);
	return r == FI_SIG_OK ? 1 : 0;
}

/* ---- the last error, the version ---- */

/* fi_udf_last_error(): "SQLSTATE:message" of this thread's last failed call, or NULL */
FI_UDF my_bool		fi_udf_last_error_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char	   *fi_udf_last_error(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
						  char *is_null, char *error);

my_bool
fi_udf_last_error_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_last_error", 0, 0, int1))
		return 1;
	initid->maybe_null = 1;
	initid->max_length = sizeof(last_error);
	initid->const_item = 0;
	return 0;
}

char *
fi_udf_last_error(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
			  char *is_null, char *error)
{
	(void) initid;
	(void) args;
	(void) result;
	(void) error;
	if (!has_error)
	{
		*is_null = 1;
		return NULL;
	}
	*is_null = 0;
	*length = strlen(last_error);
	return last_error;
}

/* fi_udf_version(): the library's release */
FI_UDF my_bool		fi_udf_version_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char	   *fi_udf_version(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
					   char *is_null, char *error);

my_bool
fi_udf_version_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_version", 0, 0, int1))
		return 1;
	initid->max_length = 16;
	return 0;
}

char *
fi_udf_version(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
		   char *is_null, char *error)
{
	(void) initid;
	(void) args;
	(void) error;
	*is_null = 0;
	*length = strlen(FI_VERSION);
	memcpy(result, FI_VERSION, *length);
	return result;
}

/* ---- Fernet (the site key is an argument of each call, never kept) ---- */

/*
 * fi_udf_fernet_encrypt(key, plaintext), fi_udf_fernet_decrypt(key, token):
 * Frappe's encrypt()/decrypt() with the site's encryption_key.  Called only
 * by the per-site SQL SECURITY DEFINER functions (src/mariadb/site.sql),
 * which read the key from integrations.site_keys; the key and the values
 * never reach an error message.
 */
FI_UDF my_bool fi_udf_fernet_encrypt_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char *fi_udf_fernet_encrypt(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
								   char *is_null, char *error);
FI_UDF void fi_udf_fernet_encrypt_deinit(UDF_INIT *initid);
FI_UDF my_bool fi_udf_fernet_decrypt_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char *fi_udf_fernet_decrypt(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
								   char *is_null, char *error);
FI_UDF void fi_udf_fernet_decrypt_deinit(UDF_INIT *initid);

static bool
site_key(UDF_ARGS *args, unsigned char raw[FI_FERNET_KEY_LEN])
{
	if (args->args[0] == NULL ||
		fi_fernet_parse_key(args->args[0], args->lengths[0], raw) != FI_SECRET_OK)
	{
		set_error("22023", "the site's encryption_key is not a Fernet key "
				  "(44 characters of URL-safe base64 encoding 32 bytes)");
		return false;
	}
	return true;
}

my_bool
fi_udf_fernet_encrypt_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_fernet_encrypt", 2, 2, str3))
		return 1;
	initid->maybe_null = 1;
	initid->max_length = FI_MAX_RESULT;
	initid->ptr = NULL;
	return 0;
}

char *
fi_udf_fernet_encrypt(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
					  char *is_null, char *error)
{
	unsigned char raw[FI_FERNET_KEY_LEN],
				iv[FI_FERNET_IV_LEN];
	char	   *tok;
	size_t		toklen;
	char	   *r = NULL;

	(void) result;
	(void) error;
	clear_error();
	*is_null = 1;
	if (args->args[1] == NULL || !site_key(args, raw))
		return NULL;
	if ((tok = malloc(fi_fernet_token_len(args->lengths[1]) + 1)) == NULL)
	{
		set_error("53200", "out of memory");
		return NULL;
	}
	if (RAND_bytes(iv, sizeof(iv)) != 1 ||
		fi_fernet_encrypt(raw, iv, (uint64_t) time(NULL), (const unsigned char *) args->args[1],
						  args->lengths[1], tok, &toklen) != FI_SECRET_OK)
		set_error("XX000", "Fernet encryption failed");
	else if ((r = result_copy(initid, tok, toklen, length)) != NULL)
		*is_null = 0;
	memset(raw, 0, sizeof(raw));
	free(tok);
	return r;
}

void
fi_udf_fernet_encrypt_deinit(UDF_INIT *initid)
{
	if (initid->ptr)
		memset(initid->ptr, 0, *(size_t *) initid->ptr + sizeof(size_t));
	result_free(initid);
}

my_bool
fi_udf_fernet_decrypt_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_fernet_decrypt", 2, 2, str3))
		return 1;
	initid->maybe_null = 1;
	initid->max_length = FI_MAX_RESULT;
	initid->ptr = NULL;
	return 0;
}

char *
fi_udf_fernet_decrypt(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
					  char *is_null, char *error)
{
	unsigned char raw[FI_FERNET_KEY_LEN];
	unsigned char *pt;
	size_t		ptlen;
	FiSecretErr err;
	char	   *r = NULL;

	(void) result;
	(void) error;
	clear_error();
	*is_null = 1;
	if (args->args[1] == NULL || !site_key(args, raw))
		return NULL;
	if ((pt = malloc(fi_fernet_plain_maxlen(args->lengths[1]) + 1)) == NULL)
	{
		set_error("53200", "out of memory");
		return NULL;
	}
	err = fi_fernet_decrypt(raw, args->args[1], args->lengths[1], pt, &ptlen, NULL);
	memset(raw, 0, sizeof(raw));
	if (err != FI_SECRET_OK)
		/* Frappe's words; nothing of the token or the key */
		set_error("22023", "Encryption key is invalid! Please check site_config.json");
	else if ((r = result_copy(initid, (const char *) pt, ptlen, length)) != NULL)
		*is_null = 0;
	memset(pt, 0, ptlen);
	free(pt);
	return r;
}

void
fi_udf_fernet_decrypt_deinit(UDF_INIT *initid)
{
	if (initid->ptr)
		memset(initid->ptr, 0, *(size_t *) initid->ptr + sizeof(size_t));
	result_free(initid);
}

/* ---- HS256 JSON Web Tokens (the claims' bytes as the PostgreSQL build writes them) ---- */

/* the JSON nesting the calling thread's free stack allows */
static int
json_depth_for_stack(void)
{
	int			levels = depth_for_stack();	/* template levels of 4 KiB */

	/* a JSON level takes well under 512 bytes of stack: 8 of them per template level */
	return levels * 8 > 1000 ? 1000 : levels * 8;
}

static const char *
json_state(FiJsonErr e)
{
	return e == FI_JSON_SYNTAX ? "22P02" : e == FI_JSON_UNICODE ? "22P05" : e == FI_JSON_RANGE ? "22003" :
		e == FI_JSON_DEPTH ? "54001" : "53200";
}

static char *
jwt_result(UDF_INIT *initid, FiJwtErr rc, FiJsonErr je, const char *msg, FiJBuf *out,
		   unsigned long *length, char *is_null)
{
	char	   *r = NULL;

	if (rc == FI_JWT_OK)
	{
		if ((r = result_copy(initid, out->data, out->len, length)) == NULL)
			set_error("53200", "out of memory");
		else
			*is_null = 0;
	}
	else if (rc == FI_JWT_JSON)
		set_error(json_state(je), "invalid JSON: %s", msg);
	else if (rc != FI_JWT_REFUSED)
		set_error("22023", "%s", msg);
	fi_jbuf_free(out);
	return r;
}

/* fi_udf_jwt_hs256(claims, key): a compact JWS with Frappe's header */
FI_UDF my_bool		fi_udf_jwt_hs256_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char	   *fi_udf_jwt_hs256(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
							 char *is_null, char *error);
FI_UDF void		fi_udf_jwt_hs256_deinit(UDF_INIT *initid);
FI_UDF my_bool		fi_udf_jwt_decode_hs256_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char	   *fi_udf_jwt_decode_hs256(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
									char *is_null, char *error);
FI_UDF void		fi_udf_jwt_decode_hs256_deinit(UDF_INIT *initid);

typedef FiJwtErr (*JwtFn) (const char *, size_t, const unsigned char *, size_t, int, FiJBuf *,
						   FiJsonErr *, char *, size_t);

static my_bool
jwt_init(UDF_INIT *initid, UDF_ARGS *args, char *message, const char *name)
{
	if (!check_args(args, message, name, 2, 2, str3))
		return 1;
	initid->maybe_null = 1;
	initid->max_length = FI_MAX_RESULT;
	initid->ptr = NULL;
	return 0;
}

/* fn(args[0], key args[1]): its text, NULL when refused, NULL and the error set on bad input */
static char *
jwt_call(JwtFn fn, UDF_INIT *initid, UDF_ARGS *args, unsigned long *length, char *is_null)
{
	FiJBuf		out = {0};
	FiJsonErr	je = FI_JSON_OK;
	char		msg[256] = "";
	FiJwtErr	rc;

	clear_error();
	*is_null = 1;
	if (args->args[0] == NULL || args->args[1] == NULL)
		return NULL;
	rc = fn(args->args[0], args->lengths[0], (const unsigned char *) args->args[1], args->lengths[1],
			json_depth_for_stack(), &out, &je, msg, sizeof(msg));
	return jwt_result(initid, rc, je, msg, &out, length, is_null);
}

my_bool
fi_udf_jwt_hs256_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	return jwt_init(initid, args, message, "fi_udf_jwt_hs256");
}

char *
fi_udf_jwt_hs256(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
				 char *is_null, char *error)
{
	(void) result;
	(void) error;
	return jwt_call(fi_jwt_hs256_sign, initid, args, length, is_null);
}

void
fi_udf_jwt_hs256_deinit(UDF_INIT *initid)
{
	result_free(initid);
}

/* fi_udf_jwt_decode_hs256(token, key): the claims (jsonb's text), NULL when refused */
my_bool
fi_udf_jwt_decode_hs256_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	return jwt_init(initid, args, message, "fi_udf_jwt_decode_hs256");
}

char *
fi_udf_jwt_decode_hs256(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
						char *is_null, char *error)
{
	(void) result;
	(void) error;
	return jwt_call(fi_jwt_hs256_verify, initid, args, length, is_null);
}

void
fi_udf_jwt_decode_hs256_deinit(UDF_INIT *initid)
{
	result_free(initid);
}

/* ---- token validation (the per-site authenticate / validate_api_key / validate_bearer_token) ---- */

/* a bump arena over one malloc'd block, for engines that take an FiAlloc */
typedef struct Arena
{
	char	   *base;
	size_t		used,
				cap;
} Arena;

static void *
arena_alloc(void *arg, size_t size)
{
	Arena	   *a = arg;
	size_t		at = (a->used + 7) & ~(size_t) 7;

	/* callers size the block for the engine's worst case; past it: a static zeroed byte run */
	if (at + size > a->cap)
	{
		static __thread char spare[64];

		memset(spare, 0, sizeof(spare));
		return size <= sizeof(spare) ? spare : NULL;
	}
	a->used = at + size;
	return a->base + at;
}

/*
 * fi_udf_auth_header(header, part): Frappe's reading of an Authorization
 * header (engine/authheader.c).  part 'kind' gives malformed, bad_base64,
 * bearer, key or other; 'method', 'token', 'key' and 'secret' the parts
 * (NULL when the header has none).  The copies are wiped after the call.
 */
FI_UDF my_bool fi_udf_auth_header_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char *fi_udf_auth_header(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
								char *is_null, char *error);
FI_UDF void fi_udf_auth_header_deinit(UDF_INIT *initid);

my_bool
fi_udf_auth_header_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_auth_header", 2, 2, str3))
		return 1;
	initid->maybe_null = 1;
	initid->max_length = FI_MAX_RESULT;
	initid->ptr = NULL;
	return 0;
}

char *
fi_udf_auth_header(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
				   char *is_null, char *error)
{
	static const char *const kinds[] = {"malformed", "bad_base64", "bearer", "key", "other"};
	FiAuthHeader ah;
	FiAuthKind	kind;
	Arena		a;
	const char *part,
			   *v = NULL;
	size_t		plen,
				vlen = 0;
	char	   *r = NULL;

	(void) result;
	(void) error;
	clear_error();
	*is_null = 1;
	if (args->args[1] == NULL)
		return NULL;
	part = args->args[1];
	plen = args->lengths[1];
	a.cap = 3 * (size_t) (args->args[0] ? args->lengths[0] : 0) + 64;
	a.used = 0;
	if ((a.base = calloc(1, a.cap)) == NULL)
	{
		set_error("53200", "out of memory");
		return NULL;
	}
	kind = fi_auth_header(args->args[0], args->args[0] ? args->lengths[0] : 0, arena_alloc, &a, &ah);
#define PART_IS(w) (plen == sizeof(w) - 1 && memcmp(part, w, plen) == 0)
	if (PART_IS("kind"))
		v = kinds[kind], vlen = strlen(v);
	else if (PART_IS("method"))
		v = ah.method, vlen = v ? strlen(v) : 0;
	else if (PART_IS("token"))
		v = ah.token, vlen = ah.token_len;
	else if (PART_IS("key"))
		v = ah.key, vlen = ah.key_len;
	else if (PART_IS("secret"))
		v = ah.secret, vlen = ah.secret_len;
	else
		set_error("22023", "fi_udf_auth_header: part must be kind, method, token, key or secret");
#undef PART_IS
	if (v != NULL && (r = result_copy(initid, v, vlen, length)) != NULL)
		*is_null = 0;
	else if (v != NULL)
		set_error("53200", "out of memory");
	memset(a.base, 0, a.cap);	/* the secret's copy */
	free(a.base);
	return r;
}

/* the result buffer may hold a secret: wiped */
static void
result_wipe_free(UDF_INIT *initid)
{
	if (initid->ptr)
		memset(initid->ptr, 0, *(size_t *) initid->ptr + sizeof(size_t));
	result_free(initid);
}

void
fi_udf_auth_header_deinit(UDF_INIT *initid)
{
	result_wipe_free(initid);
}

/*
 * fi_udf_fernet_equal(key, token, candidate): 1 when the Fernet token
 * decrypts (with the site's key) to exactly candidate, compared in constant
 * time; 0 otherwise, also for a NULL token (compared against a stand-in, so
 * a missing row costs what a present one does).  NULL with Frappe's error
 * when the token was made with another key.  The plaintext never leaves.
 */
FI_UDF my_bool fi_udf_fernet_equal_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF long long fi_udf_fernet_equal(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error);

my_bool
fi_udf_fernet_equal_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_fernet_equal", 3, 3, str3))
		return 1;
	initid->maybe_null = 1;
	return 0;
}

long long
fi_udf_fernet_equal(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error)
{
	static const char standin[] = "\x01no secret\x01";
	unsigned char raw[FI_FERNET_KEY_LEN];
	unsigned char *pt = NULL;
	size_t		ptlen = 0;
	bool		eq;

	(void) initid;
	(void) error;
	clear_error();
	*is_null = 1;
	if (!site_key(args, raw))
		return 0;
	if (args->args[1] != NULL)
	{
		if ((pt = malloc(fi_fernet_plain_maxlen(args->lengths[1]) + 1)) == NULL)
		{
			memset(raw, 0, sizeof(raw));
			set_error("53200", "out of memory");
			return 0;
		}
		if (fi_fernet_decrypt(raw, args->args[1], args->lengths[1], pt, &ptlen, NULL) != FI_SECRET_OK)
		{
			memset(raw, 0, sizeof(raw));
			free(pt);
			set_error("22023", "Encryption key is invalid! Please check site_config.json");
			return 0;
		}
	}
	memset(raw, 0, sizeof(raw));
	eq = fi_secure_equal(pt ? (const char *) pt : standin, pt ? ptlen : sizeof(standin) - 1,
						 args->args[2] ? args->args[2] : "", args->args[2] ? args->lengths[2] : 0);
	if (pt)
	{
		memset(pt, 0, ptlen);
		free(pt);
	}
	*is_null = 0;
	return eq && pt != NULL && args->args[2] != NULL;
}

/*
 * fi_udf_bearer_scopes_ok(token_scopes, client_scopes, required): Frappe's
 * scope rule of a bearer token, the lists blank-separated (NULL: empty).
 */
FI_UDF my_bool fi_udf_bearer_scopes_ok_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF long long fi_udf_bearer_scopes_ok(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error);

my_bool
fi_udf_bearer_scopes_ok_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_bearer_scopes_ok", 3, 3, str3))
		return 1;
	initid->maybe_null = 0;
	return 0;
}

long long
fi_udf_bearer_scopes_ok(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error)
{
	char	   *s[3];
	bool		ok = false;

	(void) initid;
	(void) error;
	*is_null = 0;
	for (int i = 0; i < 3; i++)
		s[i] = arg_cstr(args, i);	/* NUL-terminated copies (NULL stays NULL) */
	if ((args->args[0] == NULL || s[0]) && (args->args[1] == NULL || s[1]) && (args->args[2] == NULL || s[2]))
		ok = fi_bearer_scopes_ok_list(s[0], s[1], s[2]);
	for (int i = 0; i < 3; i++)
		free(s[i]);
	return ok;
}

/* fi_udf_scopes_json(scopes): a blank-separated list as a JSON array of strings */
FI_UDF my_bool fi_udf_scopes_json_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char *fi_udf_scopes_json(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
								char *is_null, char *error);
FI_UDF void fi_udf_scopes_json_deinit(UDF_INIT *initid);

my_bool
fi_udf_scopes_json_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_scopes_json", 1, 1, str3))
		return 1;
	initid->maybe_null = 1;
	initid->max_length = FI_MAX_RESULT;
	initid->ptr = NULL;
	return 0;
}

char *
fi_udf_scopes_json(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
				   char *is_null, char *error)
{
	FiJBuf		b = {0};
	char	   *list = arg_cstr(args, 0);
	const char *rest = list,
			   *w;
	size_t		wn;
	bool		first = true;
	char	   *r = NULL;

	(void) result;
	(void) error;
	clear_error();
	*is_null = 1;
	if (args->args[0] != NULL && list == NULL)
	{
		set_error("53200", "out of memory");
		return NULL;
	}
	fi_jbuf_put(&b, "[", 1);
	while (fi_next_scope(&rest, &w, &wn))
	{
		if (!first)
			fi_jbuf_put(&b, ", ", 2);
		fi_json_put_string(&b, w, wn);
		first = false;
	}
	fi_jbuf_put(&b, "]", 1);
	if (b.oom)
		set_error("53200", "out of memory");
	else if ((r = result_copy(initid, b.data, b.len, length)) != NULL)
		*is_null = 0;
	fi_jbuf_free(&b);
	free(list);
	return r;
}

void
fi_udf_scopes_json_deinit(UDF_INIT *initid)
{
	result_free(initid);
}

/* ---- outbound HTTP (the per-site http_request) ---- */

/*
 * A UDF is open to every account of the server, so the one that sends
 * HTTP asks for the server's HTTP gate: a secret that `frappe-integrations
 * install` keeps in integrations.http_gate (read by the per-site
 * http_request, SQL SECURITY DEFINER, for the site's own user only) and
 * whose SHA-256 it writes beside this library as frappe_integrations.gate.
 * The file holds no secret (a hash of 32 random bytes); it is read at each
 * call, so a new gate takes effect at once.
 */
#define FI_HTTP_GATE_FILE	"frappe_integrations.gate"
#define FI_HTTP_DEFAULT_TIMEOUT 30000
#define FI_HTTP_STEP_MS		50

/* plain malloc for the engine's FiAlloc (the caller frees what it returns) */
static void *
malloc_zero(void *arg, size_t size)
{
	(void) arg;
	return calloc(1, size ? size : 1);
}

static bool
http_gate_ok(const char *gate, size_t n)
{
	Dl_info		info;
	char		path[4096],
				want[80],
				got[2 * SHA256_DIGEST_LENGTH + 1];
	unsigned char md[SHA256_DIGEST_LENGTH];
	const char *slash;
	ssize_t		len;
	int			fd;

	if (dladdr((void *) http_gate_ok, &info) == 0 || info.dli_fname == NULL ||
		(slash = strrchr(info.dli_fname, '/')) == NULL ||
		snprintf(path, sizeof(path), "%.*s/%s", (int) (slash - info.dli_fname), info.dli_fname,
				 FI_HTTP_GATE_FILE) >= (int) sizeof(path) ||
		(fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
	{
		set_error("42501", "HTTP from SQL is not set up on this server: no %s beside the library "
				  "(frappe-integrations install writes it)", FI_HTTP_GATE_FILE);
		return false;
	}
	len = read(fd, want, sizeof(want) - 1);
	close(fd);
	while (len > 0 && (want[len - 1] == '\n' || want[len - 1] == '\r' || want[len - 1] == ' '))
		len--;
	SHA256((const unsigned char *) gate, n, md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(got + 2 * i, 3, "%02x", md[i]);
	if (len != 2 * SHA256_DIGEST_LENGTH || CRYPTO_memcmp(got, want, 2 * SHA256_DIGEST_LENGTH) != 0)
	{
		set_error("42501", "permission denied: HTTP from SQL only through a site's http_request");
		OPENSSL_cleanse(got, sizeof(got));
		return false;
	}
	return true;
}

static void
set_http_error(const FiHttpError *e)
{
	if (e->detail[0])
		set_error(e->sqlstate, "%s (%s)", e->message, e->detail);
	else
		set_error(e->sqlstate, "%s", e->message);
}

/*
 * ,"log":{"url": …, "data": …, "service": …, "request_headers": …  (the
 * columns of a tabIntegration Request row every request's log has; the
 * caller adds its own and the closing brace).  false when out of memory.
 */
static bool
put_log_request(FiJBuf *out, const char *url, const char *body, size_t bodylen, const char *host, FiJBuf *logh,
				bool log_first)
{
	char	   *lurl = fi_http_log_url(url, malloc_zero, NULL);
	FiJBuf		txt = {0};

	if (lurl == NULL)
		return false;
	fi_http_log_headers_end(logh, log_first);
	fi_jbuf_put(out, ",\"log\":{\"url\":", 14);
	fi_json_put_string(out, lurl, strlen(lurl));
	free(lurl);
	fi_jbuf_put(out, ",\"data\":", 8);
	if (body)
	{
		fi_http_log_text(body, bodylen, &txt);
		fi_json_put_string(out, txt.data ? txt.data : "", txt.len);
	}
	else
		fi_jbuf_put(out, "null", 4);
	fi_jbuf_free(&txt);
	fi_jbuf_put(out, ",\"service\":", 11);
	fi_json_put_string(out, host, strlen(host));
	fi_jbuf_put(out, ",\"request_headers\":", 19);
	fi_json_put_string(out, logh->data ? logh->data : "{}", logh->data ? logh->len : 2);
	return !out->oom;
}

/*
 * fi_udf_http_request(gate, method, url, headers_json, body, timeout_ms,
 * max_redirects, max_response, binary, log, ca_bundle): one HTTP request, the checks
 * and the transfer of engine/httpreq.c.  The answer as JSON text
 * {"body": …, "status": …, "headers": {…}} (jsonb's key order; header
 * names lower-cased; binary 1: the body as base64, else it must be UTF-8
 * text); log 1 adds "log": the columns of its tabIntegration Request row
 * as the PostgreSQL build fills them (the URL without user and password
 * and with credential-like query values masked, credential headers as
 * "***"), for the SQL wrapper to insert.  ca_bundle: a CA file to
 * verify HTTPS with (NULL: the system's CAs).  The calling thread is held for the transfer and never longer
 * than timeout_ms (libcurl's timeout covers name lookup, connection and
 * answer; a KILL takes effect when it returns).  NULL with the error
 * otherwise.  binary 3 (http_request_async): the same checks, nothing
 * sent: {"method": …} (upper-cased), with "log" (url, data, service,
 * request_headers) when log is 1.
 */
static const enum Item_result http_types[] = {STRING_RESULT, STRING_RESULT, STRING_RESULT, STRING_RESULT,
	STRING_RESULT, INT_RESULT, INT_RESULT, INT_RESULT, INT_RESULT, INT_RESULT, STRING_RESULT};

FI_UDF my_bool fi_udf_http_request_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char *fi_udf_http_request(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
								 char *is_null, char *error);
FI_UDF void fi_udf_http_request_deinit(UDF_INIT *initid);

my_bool
fi_udf_http_request_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (!check_args(args, message, "fi_udf_http_request", 11, 11, http_types))
		return 1;
	if (!fi_http_global_init())
	{
		snprintf(message, MYSQL_ERRMSG_SIZE, "libcurl could not be set up");
		return 1;
	}
	initid->maybe_null = 1;
	initid->max_length = FI_MAX_RESULT;
	initid->const_item = 0;
	initid->ptr = NULL;
	return 0;
}

static long long
int_arg(UDF_ARGS *args, unsigned int i, long long dflt)
{
	return args->args[i] != NULL ? *(long long *) args->args[i] : dflt;
}

char *
fi_udf_http_request(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
					char *is_null, char *error)
{
	char	   *method = NULL,
			   *url = NULL,
			   *cab = NULL,
			   *r = NULL;
	char		host[512];
	void	   *hlist = NULL;
	bool		log_first = true;
	FiHttpRequest req = {0};
	FiHttpTransfer t;
	FiHttpError err;
	FiJBuf		out = {0},
				hj = {0},
				logh = {0};
	long long	timeout = int_arg(args, 5, FI_HTTP_DEFAULT_TIMEOUT),
				redirects = int_arg(args, 6, 5),
				maxresp = int_arg(args, 7, 10 * 1024 * 1024);
	long long	mode = int_arg(args, 8, 0);	/* 0 text, 1 bytes, 2 make_request, 3 check only */
	bool		binary = mode == 1,
				with_log = int_arg(args, 9, 0) != 0,
				begun = false;

	(void) result;
	(void) error;
	clear_error();
	*is_null = 1;
	if (args->args[0] == NULL || !http_gate_ok(args->args[0], args->lengths[0]))
	{
		if (!has_error)
			set_error("42501", "permission denied: HTTP from SQL only through a site's http_request");
		return NULL;
	}
	if (args->args[1] == NULL || args->args[2] == NULL)
	{
		set_error("22023", "method and url are required");
		return NULL;
	}
	if (memchr(args->args[1], '\0', args->lengths[1]) || memchr(args->args[2], '\0', args->lengths[2]))
	{
		set_error("22023", "the method and the URL must not contain NUL bytes");
		return NULL;
	}
	if (redirects < 0 || redirects > 20 || maxresp < 1024 || maxresp > (long long) (FI_MAX_RESULT / 2))
	{
		set_error("22023", "max_redirects must be 0 to 20 and max_response 1 kB to %lu MB",
				  FI_MAX_RESULT / 2 / (1024 * 1024));
		return NULL;
	}
	if (args->args[10] != NULL && memchr(args->args[10], '\0', args->lengths[10]))
	{
		set_error("22023", "ca_bundle must not contain NUL bytes");
		return NULL;
	}
	if ((method = arg_cstr(args, 1)) == NULL || (url = arg_cstr(args, 2)) == NULL ||
		(args->args[10] != NULL && (cab = arg_cstr(args, 10)) == NULL))
	{
		set_error("53200", "out of memory");
		goto done;
	}
	for (char *c = method; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c -= 'a' - 'A';
	if (!fi_http_check_request(method, url, timeout < -1000000000 ? -1000000000 : timeout > 1000000000 ? 1000000000 : (int) timeout,
							   host, sizeof(host), &err))
	{
		set_http_error(&err);
		goto done;
	}
	if (args->args[3] != NULL &&
		!fi_http_headers_from_json(args->args[3], args->lengths[3], &hlist, with_log ? &logh : NULL, &log_first, &err))
	{
		set_http_error(&err);
		goto done;
	}
	if (mode == 3)
	{
		/* http_request_async: checked, not sent; the method as sent, and the log row's columns */
		fi_jbuf_put(&out, "{\"method\":", 10);
		fi_json_put_string(&out, method, strlen(method));
		if (with_log && !put_log_request(&out, url, args->args[4], args->lengths[4], host, &logh, log_first))
		{
			set_error("53200", "out of memory");
			goto done;
		}
		if (with_log)
			fi_jbuf_put(&out, "}", 1);
		fi_jbuf_put(&out, "}", 1);
		if (out.oom || (r = result_copy(initid, out.data, out.len, length)) == NULL)
			set_error("53200", "out of memory");
		else
			*is_null = 0;
		goto done;
	}
	req.method = method;
	req.url = url;
	req.headers = hlist;
	req.body = args->args[4];
	req.bodylen = args->args[4] ? args->lengths[4] : 0;
	req.timeout_ms = (int) timeout;
	req.max_redirects = (int) redirects;
	req.user_agent = "frappe_integrations/" FI_VERSION;
	req.max_response = (size_t) maxresp;
	req.max_response_setting = "integrations.http_settings.max_response_kb";
	req.ca_bundle = cab;
	begun = true;				/* fi_http_end frees what a failed begin made */
	if (!fi_http_begin(&t, &req, &err))
	{
		set_http_error(&err);
		goto done;
	}
	while (fi_http_step(&t, FI_HTTP_STEP_MS))
		;
	if (!fi_http_outcome(&t, &req, host, &err))
	{
		set_http_error(&err);
		goto done;
	}
	{
		char		msg[200];
		FiJsonRoot	root;

		if (!fi_http_headers_json(t.headers.data ? t.headers.data : "", t.headers.len, &hj))
		{
			set_error("53200", "out of memory reading the response from %s", host);
			goto done;
		}
		fi_jbuf_put(&out, "{", 1);
		if (mode == 2)
			;					/* the result instead, below */
		else if (binary)
		{
			size_t		n = fi_b64_encoded_len(t.body.len, FI_B64_STD);
			char	   *b64 = malloc(n + 1);

			if (b64 == NULL)
			{
				set_error("53200", "out of memory");
				goto done;
			}
			fi_b64_encode((const unsigned char *) (t.body.data ? t.body.data : ""), t.body.len, b64, FI_B64_STD);
			fi_jbuf_put(&out, "\"body\":\"", 8);
			fi_jbuf_put(&out, b64, n);
			fi_jbuf_put(&out, "\"", 1);
			free(b64);
		}
		else
		{
			size_t		bad_at;

			if ((t.body.len && memchr(t.body.data, '\0', t.body.len) != NULL) ||
				!fi_utf8_valid(t.body.data ? t.body.data : "", t.body.len, &bad_at))
			{
				set_error("22021", "the response body is not UTF-8 text (http_request_bytes gives it as base64)");
				goto done;
			}
			fi_jbuf_put(&out, "\"body\":", 7);
			fi_json_put_string(&out, t.body.data ? t.body.data : "", t.body.len);
		}
		snprintf(msg, sizeof(msg), "%s\"status\":%ld,\"headers\":", mode == 2 ? "" : ",", t.status);
		fi_jbuf_put(&out, msg, strlen(msg));
		/* jsonb's order of the header names, as PostgreSQL's response_headers */
		if (fi_json_canon(hj.data, hj.len, false, 10, &out, &root, msg, sizeof(msg)) != FI_JSON_OK)
		{
			set_error("53200", "out of memory reading the response from %s", host);
			goto done;
		}
		if (mode == 2)
		{
			FiJBuf		ct = {0},
						res = {0};
			bool		none,
						has_ct = fi_json_top_string(hj.data, hj.len, "content-type", &ct);
			FiJsonErr	je = FI_JSON_OK;

			if (!fi_http_make_result(method, host, t.status, has_ct ? (ct.data ? ct.data : "") : NULL,
									 t.body.data ? t.body.data : "", t.body.len, &res, &none, &err))
				set_http_error(&err);
			else if (!none)
			{
				fi_jbuf_put(&out, ",\"result\":", 10);
				je = fi_json_canon(res.data ? res.data : "", res.len, true, json_depth_for_stack(), &out, &root,
								   msg, sizeof(msg));
				if (je != FI_JSON_OK)
					set_error(je == FI_JSON_NOMEM ? "53200" : je == FI_JSON_DEPTH ? "54001" : "22P02",
							  "the response from %s is not JSON: %s", host, msg);
			}
			fi_jbuf_free(&ct);
			fi_jbuf_free(&res);
			if (has_error)
				goto done;
		}
		if (with_log)
		{
			bool		ok = t.status > 0 && t.status < 400;
			FiJBuf		txt = {0};

			if (!put_log_request(&out, url, req.body, req.bodylen, host, &logh, log_first))
			{
				set_error("53200", "out of memory");
				goto done;
			}
			fi_jbuf_put(&out, ",\"status\":", 10);
			fi_json_put_string(&out, ok ? "Completed" : "Failed", ok ? 9 : 6);
			fi_jbuf_put(&out, ok ? ",\"output\":" : ",\"error\":", ok ? 10 : 9);
			fi_http_log_text(t.body.data ? t.body.data : "", t.body.len, &txt);
			fi_json_put_string(&out, txt.data ? txt.data : "", txt.len);
			fi_jbuf_free(&txt);
			snprintf(msg, sizeof(msg), "%s %ld", method, t.status);
			fi_jbuf_put(&out, ",\"description\":", 15);
			fi_json_put_string(&out, msg, strlen(msg));
			fi_jbuf_put(&out, "}", 1);
		}
		fi_jbuf_put(&out, "}", 1);
		if (out.oom)
			set_error("53200", "out of memory");
		else if ((r = result_copy(initid, out.data, out.len, length)) != NULL)
			*is_null = 0;
		else
			set_error("53200", "out of memory");
	}
done:
	if (begun)
		fi_http_end(&t);
	fi_http_free_headers(hlist);
	fi_jbuf_free(&out);
	fi_jbuf_free(&hj);
	fi_jbuf_free(&logh);
	free(method);
	free(url);
	free(cab);
	return r;
}

void
fi_udf_http_request_deinit(UDF_INIT *initid)
{
	result_free(initid);
}

/* ---- the OAuth provider's rules (engine/oauth.c), for the per-site OAuth functions ---- */

/* the engine's memory for one call: malloc'd blocks chained, all freed (wiped) after it */
typedef struct CallPool
{
	void	   *head;
} CallPool;

static void *
pool_alloc(void *arg, size_t size)
{
	CallPool   *p = arg;
	size_t	   *b = calloc(1, 2 * sizeof(size_t) + (size ? size : 1));

	if (b == NULL)
	{
		/* the engine takes memory as never NULL: a small zeroed run, else NULL as the arena does */
		static __thread char spare[64];

		memset(spare, 0, sizeof(spare));
		return size <= sizeof(spare) ? spare : NULL;
	}
	b[0] = (size_t) p->head;
	b[1] = size;
	p->head = b;
	return b + 2;
}

static void
pool_free(CallPool *p)
{
	while (p->head)
	{
		size_t	   *b = p->head;

		p->head = (void *) b[0];
		explicit_bzero(b + 2, b[1]);
		free(b);
	}
}

/*
 * fi_udf_oauth(op, ...): one rule of engine/oauth.c per op, its answer as a
 * string ("1"/"0" for yes and no), NULL with the error set ("22023:" and
 * the OAuth error code first) when the rule refuses:
 *   'scopes', have, asked                the scopes granted (NULL: one is not had)
 *   'half_hash', value                   at_hash / c_hash
 *   'redirect_uri', asked, uris, default the authorization request's redirect URI
 *   'authorize', response_type, scope, nonce, code_challenge, method,
 *                client_response_type, client_scopes, client_has_secret ('1')
 *        JSON {"code", "token", "id_token", "in_fragment", and "error",
 *        "error_description" or "scopes", "challenge_method"}
 *   'redirect', uri, in_fragment ('1'), key, value, ...   (NULL values left out)
 *   'grant_type', grant_type             it, when Frappe supports it
 *   'pkce', value                        RFC 7636's syntax
 *   'code_ok', bound_uri, challenge, method, redirect_uri, verifier,
 *              default_uri, client_has_secret
 *   'basic', authorization, client_id    JSON [id, secret] (wiped after the call)
 */
FI_UDF my_bool fi_udf_oauth_init(UDF_INIT *initid, UDF_ARGS *args, char *message);
FI_UDF char *fi_udf_oauth(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
						  char *is_null, char *error);
FI_UDF void fi_udf_oauth_deinit(UDF_INIT *initid);

#define FI_OAUTH_MAX_ARGS 21

my_bool
fi_udf_oauth_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (args->arg_count < 1 || args->arg_count > FI_OAUTH_MAX_ARGS)
	{
		snprintf(message, MYSQL_ERRMSG_SIZE, "fi_udf_oauth takes 1 to %d arguments", FI_OAUTH_MAX_ARGS);
		return 1;
	}
	for (unsigned int i = 0; i < args->arg_count; i++)
		args->arg_type[i] = STRING_RESULT;
	initid->maybe_null = 1;
	initid->max_length = FI_MAX_RESULT;
	initid->ptr = NULL;
	return 0;
}

static bool
oauth_nargs(UDF_ARGS *args, unsigned int n, const char *op)
{
	if (args->arg_count == n + 1)
		return true;
	set_error("22023", "fi_udf_oauth('%s') takes %u arguments after the operation", op, n);
	return false;
}

/* a JSON text of the authorize rule's answer */
static bool
oauth_grant_json(FiJBuf *b, const FiOAuthGrant *g)
{
	const char *keys[4] = {"error", "error_description", "scopes", "challenge_method"};
	const char *vals[4] = {g->error, g->error_description, g->scopes, g->challenge_method};
	char		head[128];

	snprintf(head, sizeof(head), "{\"code\": %s, \"token\": %s, \"id_token\": %s, \"in_fragment\": %s",
			 (g->response_types & FI_RT_CODE) ? "true" : "false",
			 (g->response_types & FI_RT_TOKEN) ? "true" : "false",
			 (g->response_types & FI_RT_ID_TOKEN) ? "true" : "false",
			 g->in_fragment ? "true" : "false");
	fi_jbuf_put(b, head, strlen(head));
	for (int i = 0; i < 4; i++)
	{
		if (vals[i] == NULL)
			continue;
		fi_jbuf_put(b, ", \"", 3);
		fi_jbuf_put(b, keys[i], strlen(keys[i]));
		fi_jbuf_put(b, "\": ", 3);
		fi_json_put_string(b, vals[i], strlen(vals[i]));
	}
	fi_jbuf_put(b, "}", 1);
	return !b->oom;
}

char *
fi_udf_oauth(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
			 char *is_null, char *error)
{
	CallPool	pool = {NULL};
	char	   *a[FI_OAUTH_MAX_ARGS] = {NULL};
	const char *op;
	const char *out = NULL;
	const char *why;
	FiJBuf		b = {0};
	char	   *r = NULL;

	(void) result;
	(void) error;
	clear_error();
	*is_null = 1;
	for (unsigned int i = 0; i < args->arg_count; i++)
		if (args->args[i] != NULL)
			a[i] = fi_alloc_strndup(pool_alloc, &pool, args->args[i], args->lengths[i]);
	op = a[0] ? a[0] : "";

	if (strcmp(op, "scopes") == 0)
	{
		if (oauth_nargs(args, 2, op))
			out = fi_oauth_scopes(a[1], a[2], pool_alloc, &pool);
	}
	else if (strcmp(op, "half_hash") == 0)
	{
		char		h[23];

		if (oauth_nargs(args, 1, op) && a[1] != NULL)
		{
			fi_oauth_half_hash(a[1], args->lengths[1], h);
			out = fi_alloc_strndup(pool_alloc, &pool, h, strlen(h));
		}
	}
	else if (strcmp(op, "redirect_uri") == 0)
	{
		if (oauth_nargs(args, 3, op) && (out = fi_oauth_redirect_uri(a[1], a[2], a[3], &why)) == NULL)
			set_error("22023", "invalid_request: %s", why);
	}
	else if (strcmp(op, "authorize") == 0)
	{
		FiOAuthAuthorize req;
		FiOAuthGrant g;

		if (oauth_nargs(args, 8, op))
		{
			req.response_type = a[1];
			req.scope = a[2];
			req.nonce = a[3];
			req.code_challenge = a[4];
			req.code_challenge_method = a[5];
			req.client_response_type = a[6];
			req.client_scopes = a[7];
			req.client_has_secret = a[8] != NULL && strcmp(a[8], "1") == 0;
			fi_oauth_authorize(&req, pool_alloc, &pool, &g);
			if (oauth_grant_json(&b, &g))
				out = b.data;
			else
				set_error("53200", "out of memory");
		}
	}
	else if (strcmp(op, "redirect") == 0)
	{
		int			n = ((int) args->arg_count - 3) / 2;

		if (args->arg_count < 3 || (args->arg_count - 3) % 2 != 0 || a[1] == NULL)
			set_error("22023", "fi_udf_oauth('redirect') takes a URI, in_fragment and pairs of key and value");
		else
		{
			const char *keys[(FI_OAUTH_MAX_ARGS - 3) / 2];
			const char *vals[(FI_OAUTH_MAX_ARGS - 3) / 2];
			bool		keys_ok = true;

			for (int i = 0; i < n; i++)
			{
				keys[i] = a[3 + 2 * i];
				vals[i] = a[4 + 2 * i];
				keys_ok = keys_ok && keys[i] != NULL;
			}
			if (!keys_ok)
				set_error("22023", "a redirect parameter's key is NULL");
			else
				out = fi_oauth_redirect(a[1], a[2] != NULL && strcmp(a[2], "1") == 0, keys, vals, n,
										pool_alloc, &pool);
		}
	}
	else if (strcmp(op, "grant_type") == 0)
	{
		const char *desc;

		if (oauth_nargs(args, 1, op))
		{
			if (fi_oauth_grant_type(a[1], &why, &desc))
				out = a[1];
			else
				set_error("22023", "%s: %s", why, desc);
		}
	}
	else if (strcmp(op, "pkce") == 0)
	{
		if (oauth_nargs(args, 1, op))
			out = a[1] != NULL && fi_oauth_pkce_syntax(a[1]) ? "1" : "0";
	}
	else if (strcmp(op, "code_ok") == 0)
	{
		FiOAuthCode code;

		if (oauth_nargs(args, 7, op))
		{
			code.redirect_uri = a[1];
			code.code_challenge = a[2];
			code.code_challenge_method = a[3];
			out = fi_oauth_code_exchange_ok(&code, a[4], a[5], a[6], a[7] != NULL && strcmp(a[7], "1") == 0)
				? "1" : "0";
		}
	}
	else if (strcmp(op, "basic") == 0)
	{
		char	   *id,
				   *secret;

		if (oauth_nargs(args, 2, op))
		{
			if (a[1] == NULL || !fi_oauth_basic_credentials(a[1], a[2], pool_alloc, &pool, &id, &secret))
				set_error("22023", "invalid_request: the authorization parameter is not HTTP Basic credentials");
			else
			{
				fi_jbuf_put(&b, "[", 1);
				fi_json_put_string(&b, id, strlen(id));
				fi_jbuf_put(&b, ", ", 2);
				fi_json_put_string(&b, secret, strlen(secret));
				fi_jbuf_put(&b, "]", 1);
				if (b.oom)
					set_error("53200", "out of memory");
				else
					out = b.data;
			}
		}
	}
	else
		set_error("22023", "fi_udf_oauth: unknown operation");

	if (out != NULL && (r = result_copy(initid, out, strlen(out), length)) != NULL)
		*is_null = 0;
	else if (out != NULL)
		set_error("53200", "out of memory");
	if (b.data)
		explicit_bzero(b.data, b.len);
	fi_jbuf_free(&b);
	pool_free(&pool);
	return r;
}

void
fi_udf_oauth_deinit(UDF_INIT *initid)
{
	/* the last answer may be a client's secret ('basic'): wiped */
	if (initid->ptr)
		explicit_bzero(initid->ptr, *(size_t *) initid->ptr + sizeof(size_t));
	result_free(initid);
}
