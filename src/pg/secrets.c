/*
 * secrets.c
 *		SQL face of Frappe's secret formats: Fernet with the site key,
 *		Password fields in __Auth (get_password / set_password), passlib
 *		hashes, HMAC-SHA256, and Frappe's random names and tokens.
 *
 * Secrets never appear in messages: errors name the document and field,
 * never a value, key or token.  get_password, set_password and the Fernet
 * functions are revoked from PUBLIC by the install script.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "mb/pg_wchar.h"
#include "port.h"
#include "commands/dbcommands.h"
#include "storage/fd.h"
#include "utils/memutils.h"
#include "utils/builtins.h"

#include "frappe_integrations.h"
#include "engine/codec.h"
#include "engine/secretfmt.h"

void
fi_strong_random(void *buf, size_t n)
{
	if (!pg_strong_random(buf, n))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
}

/* Error for a failed secret-format operation; never includes the data. */
static void
secret_error(FiSecretErr err, const char *what)
{
	switch (err)
	{
		case FI_SECRET_OK:
			return;
		case FI_SECRET_BAD_MAC:
		case FI_SECRET_BAD_PADDING:
			/* Frappe's wording for cryptography's InvalidToken */
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("Encryption key is invalid! Please check site_config.json"),
					 errdetail("%s.", fi_secret_strerror(err)),
					 errhint("frappe_integrations.encryption_key must be the encryption_key of the site that wrote the value.")));
			break;
		case FI_SECRET_CRYPTO:
			ereport(ERROR,
					(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
					 errmsg("cryptographic operation on the %s failed", what)));
			break;
		case FI_SECRET_HASH_LIMITS:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the %s exceeds the cost limits of this server", what),
					 errdetail("pbkdf2_sha256 rounds must be at most %d; argon2 memory at most %d KiB, "
							   "passes at most %d, lanes at most %d, memory times passes at most %ld KiB.",
							   FI_PBKDF2_MAX_ROUNDS, FI_ARGON2_MAX_MEMORY_KIB, FI_ARGON2_MAX_TIME_COST,
							   FI_ARGON2_MAX_LANES, FI_ARGON2_MAX_WORK_KIB)));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s", what),
					 errdetail("%s.", fi_secret_strerror(err))));
	}
}

/* Parse a key given as text; errors name the setting or argument. */
static void
parse_key_or_error(const char *key, const char *source, unsigned char raw[FI_FERNET_KEY_LEN])
{
	if (fi_fernet_parse_key(key, strlen(key), raw) != FI_SECRET_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is not a valid Fernet key", source),
				 errdetail("A Fernet key is 44 characters of URL-safe base64 encoding 32 bytes, "
						   "as written by Fernet.generate_key().")));
}

/* the key read from frappe_integrations.encryption_key_file, kept until a reload */
static char key_from_file[FI_FERNET_KEY_TEXT_MAX];
static bool key_from_file_read = false;

void
fi_forget_key_file(void)
{
	explicit_bzero(key_from_file, sizeof(key_from_file));
	key_from_file_read = false;
}

/*
 * The key from the file (%d in the path: this database's name): its whole
 * text, or the "encryption_key" of a site_config.json.  Errors name the
 * file, never its content.
 */
static const char *
read_key_file(void)
{
	StringInfoData path;
	FILE	   *f;
	char		buf[8192];
	size_t		n;
	char	   *k;
	size_t		klen;

	if (key_from_file_read)
		return key_from_file;
	initStringInfo(&path);
	for (const char *p = fi_encryption_key_file; *p; p++)
	{
		if (p[0] == '%' && p[1] == 'd')
		{
			appendStringInfoString(&path, get_database_name(MyDatabaseId));
			p++;
		}
		else
			appendStringInfoChar(&path, *p);
	}
	f = AllocateFile(path.data, "r");
	if (f == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open the key file \"%s\": %m", path.data),
				 errhint("frappe_integrations.encryption_key_file names it.")));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	FreeFile(f);
	buf[n] = '\0';
	k = buf;
	/* a site_config.json: the value of "encryption_key" */
	if ((k = strstr(buf, "\"encryption_key\"")) != NULL)
	{
		k = strchr(k + 16, '"');
		k = k ? k + 1 : buf + n;
		klen = strcspn(k, "\"");
	}
	else
	{
		k = buf;
		while (*k == ' ' || *k == '\t' || *k == '\n' || *k == '\r')
			k++;
		klen = strcspn(k, " \t\r\n");
	}
	if (klen == 0 || klen >= sizeof(key_from_file))
	{
		explicit_bzero(buf, sizeof(buf));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the key file \"%s\" holds no Fernet key", path.data),
				 errdetail("It must hold the key alone, or be a site_config.json with an encryption_key.")));
	}
	memcpy(key_from_file, k, klen);
	key_from_file[klen] = '\0';
	explicit_bzero(buf, sizeof(buf));
	key_from_file_read = true;
	return key_from_file;
}

void
fi_site_fernet_key(unsigned char key[FI_FERNET_KEY_LEN])
{
	if (fi_encryption_key != NULL && fi_encryption_key[0] != '\0')
	{
		parse_key_or_error(fi_encryption_key, "frappe_integrations.encryption_key", key);
		return;
	}
	if (fi_encryption_key_file != NULL && fi_encryption_key_file[0] != '\0')
	{
		parse_key_or_error(read_key_file(), "the key in frappe_integrations.encryption_key_file", key);
		return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("frappe_integrations.encryption_key is not set"),
			 errhint("Set it, in postgresql.conf or by a superuser, to the encryption_key "
					 "in the site's site_config.json.")));
}

static text *
fernet_encrypt_text(const unsigned char key[FI_FERNET_KEY_LEN], const char *pt, size_t n)
{
	unsigned char iv[FI_FERNET_IV_LEN];
	size_t		toklen = fi_fernet_token_len(n);
	char	   *out = palloc(toklen + 1);
	size_t		outlen = 0;
	FiSecretErr err;

	if (n > MaxAllocSize / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("value too large to encrypt")));
	fi_strong_random(iv, sizeof(iv));
	err = fi_fernet_encrypt(key, iv, (uint64) time(NULL), (const unsigned char *) pt, n,
							out, &outlen);
	secret_error(err, "value");
	return cstring_to_text_with_len(out, (int) outlen);
}

/* Decrypt into a palloc'd NUL-terminated string. */
static char *
fernet_decrypt_cstring(const unsigned char key[FI_FERNET_KEY_LEN],
					   const char *token, size_t toklen, const char *what)
{
	unsigned char *out = palloc(fi_fernet_plain_maxlen(toklen) + 1);
	size_t		outlen = 0;
	FiSecretErr err;

	err = fi_fernet_decrypt(key, token, toklen, out, &outlen, NULL);
	secret_error(err, what);
	out[outlen] = '\0';
	/* Frappe decodes the plaintext as UTF-8 */
	if (pg_verifymbstr((const char *) out, (int) outlen, true) == false ||
		memchr(out, '\0', outlen) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("the decrypted %s is not valid text", what)));
	return (char *) out;
}

char *
fi_decrypt_with_site_key(const char *token, size_t toklen)
{
	unsigned char key[FI_FERNET_KEY_LEN];
	char	   *result;

	fi_site_fernet_key(key);
	result = fernet_decrypt_cstring(key, token, toklen, "Fernet token in __Auth");
	explicit_bzero(key, sizeof(key));
	return result;
}

PG_FUNCTION_INFO_V1(fi_fernet_encrypt_sql);

/*
 * integrations.fernet_encrypt(plaintext text, key text default null)
 *		A Fernet token, as Frappe's encrypt(); key null means the site key.
 */
Datum
fi_fernet_encrypt_sql(PG_FUNCTION_ARGS)
{
	text	   *pt = PG_GETARG_TEXT_PP(0);
	unsigned char key[FI_FERNET_KEY_LEN];
	text	   *result;

	fi_check_version();
	if (PG_ARGISNULL(1))
		fi_site_fernet_key(key);
	else
		parse_key_or_error(text_to_cstring(PG_GETARG_TEXT_PP(1)), "the key", key);
	result = fernet_encrypt_text(key, VARDATA_ANY(pt), VARSIZE_ANY_EXHDR(pt));
	explicit_bzero(key, sizeof(key));
	PG_RETURN_TEXT_P(result);
}

PG_FUNCTION_INFO_V1(fi_fernet_decrypt_sql);

/*
 * integrations.fernet_decrypt(token text, key text default null)
 *		The plaintext of a Fernet token, as Frappe's decrypt().
 */
Datum
fi_fernet_decrypt_sql(PG_FUNCTION_ARGS)
{
	text	   *tok = PG_GETARG_TEXT_PP(0);
	unsigned char key[FI_FERNET_KEY_LEN];
	char	   *pt;

	fi_check_version();
	if (PG_ARGISNULL(1))
		fi_site_fernet_key(key);
	else
		parse_key_or_error(text_to_cstring(PG_GETARG_TEXT_PP(1)), "the key", key);
	pt = fernet_decrypt_cstring(key, VARDATA_ANY(tok), VARSIZE_ANY_EXHDR(tok), "Fernet token");
	explicit_bzero(key, sizeof(key));
	PG_RETURN_TEXT_P(cstring_to_text(pt));
}

/* ---- __Auth ---- */

/* The Password field, or an error naming what is wrong. */
static const FiDocMeta *
password_field_meta(const char *doctype, const char *fieldname)
{
	const FiDocMeta *meta = fi_get_meta(doctype, false);
	const FiDocField *f = fi_meta_field(meta, fieldname);

	if (f == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("DocType \"%s\" has no field \"%s\"", doctype, fieldname)));
	if (strcmp(f->fieldtype, "Password") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("field \"%s\" of DocType \"%s\" is a %s field, not a Password field",
						fieldname, doctype, f->fieldtype)));
	return meta;
}

PG_FUNCTION_INFO_V1(fi_get_password);

/*
 * integrations.get_password(doctype text, name text, fieldname text
 *							 default 'password') returns text
 *		Frappe's get_decrypted_password: the __Auth row (encrypted = 1)
 *		decrypted with the site key.
 */
Datum
fi_get_password(PG_FUNCTION_ARGS)
{
	char	   *doctype = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *fieldname = text_to_cstring(PG_GETARG_TEXT_PP(2));
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		args[3];
	char	   *token = NULL;
	char	   *result;
	int			ret;

	fi_check_version();
	args[0] = CStringGetTextDatum(doctype);
	args[1] = CStringGetTextDatum(name);
	args[2] = CStringGetTextDatum(fieldname);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = fi_spi_execute(psprintf("SELECT password FROM %s WHERE doctype = $1 AND name = $2 "
										 "AND fieldname = $3 AND encrypted = 1 LIMIT 1",
										 fi_site_table("__Auth")),
								3, argtypes, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading __Auth failed: %s", SPI_result_code_string(ret));
	if (SPI_processed > 0)
		token = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (token == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("Password not found for %s %s %s", doctype, name, fieldname),
				 errdetail("There is no encrypted row in __Auth for this document and field.")));
	result = fi_decrypt_with_site_key(token, strlen(token));
	/* copy out of SPI memory before it is freed */
	{
		text	   *t = (text *) SPI_palloc(VARHDRSZ + strlen(result));

		SET_VARSIZE(t, VARHDRSZ + strlen(result));
		memcpy(VARDATA(t), result, strlen(result));
		explicit_bzero(result, strlen(result));
		SPI_finish();
		PG_RETURN_TEXT_P(t);
	}
}

PG_FUNCTION_INFO_V1(fi_set_password);

/*
 * integrations.set_password(doctype text, name text, fieldname text,
 *							 value text) returns void
 *		Frappe's _save_passwords for one field: upsert the Fernet token into
 *		__Auth (encrypted = 1) and mask the document's column with as many
 *		'*' as the value has characters.  An empty or null value deletes the
 *		__Auth row.  The document must exist.
 */
Datum
fi_set_password(PG_FUNCTION_ARGS)
{
	char	   *doctype,
			   *name,
			   *fieldname;
	text	   *value = PG_ARGISNULL(3) ? NULL : PG_GETARG_TEXT_PP(3);
	const FiDocMeta *meta;
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		args[4];
	char	   *mask;
	int			ret;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("doctype, name and fieldname must not be null")));
	doctype = text_to_cstring(PG_GETARG_TEXT_PP(0));
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	fieldname = text_to_cstring(PG_GETARG_TEXT_PP(2));

	fi_check_version();
	meta = password_field_meta(doctype, fieldname);

	args[0] = CStringGetTextDatum(doctype);
	args[1] = CStringGetTextDatum(name);
	args[2] = CStringGetTextDatum(fieldname);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* the document must exist (Singles live in tabSingles) */
	if (meta->issingle)
	{
		if (strcmp(doctype, name) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the name of Single DocType \"%s\" is \"%s\"", doctype, doctype)));
	}
	else
	{
		ret = SPI_execute_with_args(psprintf("SELECT 1 FROM %s WHERE name = $1",
											 fi_site_table(psprintf("tab%s", doctype))),
									1, &argtypes[1], &args[1], NULL, true, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "reading the document failed: %s", SPI_result_code_string(ret));
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("%s %s not found", doctype, name)));
	}

	if (value == NULL || VARSIZE_ANY_EXHDR(value) == 0)
	{
		ret = SPI_execute_with_args(psprintf("DELETE FROM %s WHERE doctype = $1 AND name = $2 "
											 "AND fieldname = $3",
											 fi_site_table("__Auth")),
									3, argtypes, args, NULL, false, 0);
		if (ret != SPI_OK_DELETE)
			elog(ERROR, "deleting from __Auth failed: %s", SPI_result_code_string(ret));
		SPI_finish();
		PG_RETURN_VOID();
	}

	{
		unsigned char key[FI_FERNET_KEY_LEN];

		fi_site_fernet_key(key);
		args[3] = PointerGetDatum(fernet_encrypt_text(key, VARDATA_ANY(value),
													  VARSIZE_ANY_EXHDR(value)));
		explicit_bzero(key, sizeof(key));
	}
	ret = SPI_execute_with_args(psprintf("INSERT INTO %s (doctype, name, fieldname, password, encrypted) "
										 "VALUES ($1, $2, $3, $4, 1) "
										 "ON CONFLICT (doctype, name, fieldname) "
										 "DO UPDATE SET password = EXCLUDED.password, encrypted = 1",
										 fi_site_table("__Auth")),
								4, argtypes, args, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "writing __Auth failed: %s", SPI_result_code_string(ret));

	/* the column keeps '*' times the number of characters */
	{
		int			nchars = pg_mbstrlen_with_len(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));

		mask = palloc(nchars + 1);
		memset(mask, '*', nchars);
		mask[nchars] = '\0';
		args[3] = CStringGetTextDatum(mask);
		if (meta->issingle)
		{
			ret = SPI_execute_with_args(psprintf("DELETE FROM %s WHERE doctype = $1 AND field = $3",
												 fi_site_table("tabSingles")),
										3, argtypes, args, NULL, false, 0);
			if (ret == SPI_OK_DELETE)
				ret = SPI_execute_with_args(psprintf("INSERT INTO %s (doctype, field, value) "
													 "VALUES ($1, $3, $4)",
													 fi_site_table("tabSingles")),
											4, argtypes, args, NULL, false, 0);
			if (ret != SPI_OK_INSERT)
				elog(ERROR, "writing tabSingles failed: %s", SPI_result_code_string(ret));
		}
		else
		{
			ret = SPI_execute_with_args(psprintf("UPDATE %s SET %s = $4 WHERE name = $2",
												 fi_site_table(psprintf("tab%s", doctype)),
												 quote_identifier(fieldname)),
										4, argtypes, args, NULL, false, 0);
			if (ret != SPI_OK_UPDATE)
				elog(ERROR, "masking the password column failed: %s", SPI_result_code_string(ret));
		}
	}
	SPI_finish();
	PG_RETURN_VOID();
}

/* ---- passlib ---- */

PG_FUNCTION_INFO_V1(fi_passlib_hash_sql);

/*
 * integrations.passlib_hash(password text, rounds int default 29000)
 *		A passlib pbkdf2_sha256 hash with a fresh 16-byte salt, as Frappe's
 *		update_password stores in __Auth.
 */
Datum
fi_passlib_hash_sql(PG_FUNCTION_ARGS)
{
	text	   *pwd = PG_GETARG_TEXT_PP(0);
	int32		rounds = PG_GETARG_INT32(1);
	unsigned char salt[FI_PBKDF2_SALT_LEN];
	char		out[FI_PASSLIB_HASH_MAXLEN];
	FiSecretErr err;

	fi_check_version();
	if (rounds < 1 || rounds > FI_PBKDF2_MAX_ROUNDS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rounds must be between 1 and %d", FI_PBKDF2_MAX_ROUNDS)));
	fi_strong_random(salt, sizeof(salt));
	err = fi_pbkdf2_sha256_hash(VARDATA_ANY(pwd), VARSIZE_ANY_EXHDR(pwd),
								salt, sizeof(salt), (unsigned int) rounds, out);
	secret_error(err, "password hash");
	PG_RETURN_TEXT_P(cstring_to_text(out));
}

PG_FUNCTION_INFO_V1(fi_passlib_verify_sql);

/*
 * integrations.passlib_verify(password text, hash text) returns boolean
 *		pbkdf2_sha256 or argon2, as Frappe's CryptContext accepts.
 */
Datum
fi_passlib_verify_sql(PG_FUNCTION_ARGS)
{
	text	   *pwd = PG_GETARG_TEXT_PP(0);
	text	   *hash = PG_GETARG_TEXT_PP(1);
	bool		match = false;
	FiSecretErr err;

	fi_check_version();
	err = fi_passlib_verify(VARDATA_ANY(pwd), VARSIZE_ANY_EXHDR(pwd),
							VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash), &match);
	secret_error(err, "password hash");
	PG_RETURN_BOOL(match);
}

/* ---- HMAC ---- */

static text *
encode_digest(const unsigned char *d, size_t n, const char *encoding)
{
	char		out[128];

	if (strcmp(encoding, "base64") == 0)
		fi_b64_encode(d, n, out, FI_B64_STD);
	else if (strcmp(encoding, "base64url") == 0)
		fi_b64_encode(d, n, out, FI_B64_URL);
	else if (strcmp(encoding, "hex") == 0)
		fi_hex_encode(d, n, out);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown encoding \"%s\"", encoding),
				 errhint("Use base64, base64url or hex.")));
	return cstring_to_text(out);
}

PG_FUNCTION_INFO_V1(fi_hmac_sha256_sql);

/*
 * integrations.hmac_sha256(key, message, encoding default 'base64')
 *		for (text, text, text) and (bytea, bytea, text): text is taken as
 *		its UTF-8 bytes (the database encoding).
 */
Datum
fi_hmac_sha256_sql(PG_FUNCTION_ARGS)
{
	bytea	   *key = PG_GETARG_BYTEA_PP(0);
	bytea	   *msg = PG_GETARG_BYTEA_PP(1);
	char	   *encoding = text_to_cstring(PG_GETARG_TEXT_PP(2));
	unsigned char d[FI_SHA256_LEN];
	FiSecretErr err;

	fi_check_version();
	err = fi_hmac_sha256((unsigned char *) VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key),
						 (unsigned char *) VARDATA_ANY(msg), VARSIZE_ANY_EXHDR(msg), d);
	secret_error(err, "HMAC");
	PG_RETURN_TEXT_P(encode_digest(d, sizeof(d), encoding));
}

/* ---- random names and tokens ---- */

static int32
length_arg(FunctionCallInfo fcinfo, int argno, int32 max)
{
	int32		n = PG_GETARG_INT32(argno);

	if (n < 1 || n > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("length must be between 1 and %d", max)));
	return n;
}

PG_FUNCTION_INFO_V1(fi_random_name);

/* integrations.random_name(): Frappe v15's "hash" autoname, 10 of 0-9a-v. */
Datum
fi_random_name(PG_FUNCTION_ARGS)
{
	unsigned char rnd[10];
	char		out[11];

	fi_strong_random(rnd, sizeof(rnd));
	fi_random_base32hex(rnd, 10, out);
	PG_RETURN_TEXT_P(cstring_to_text(out));
}

PG_FUNCTION_INFO_V1(fi_generate_hash);

/* integrations.generate_hash(length default 56): frappe.generate_hash, hex. */
Datum
fi_generate_hash(PG_FUNCTION_ARGS)
{
	int32		n = length_arg(fcinfo, 0, 1024);
	unsigned char *rnd = palloc(n);
	char	   *out = palloc(n + 1);

	fi_strong_random(rnd, n);
	fi_random_hex(rnd, n, out);
	PG_RETURN_TEXT_P(cstring_to_text(out));
}

PG_FUNCTION_INFO_V1(fi_generate_token);

/*
 * integrations.generate_token(length default 30): oauthlib's
 * generate_token, uniform over a-z A-Z 0-9 (OAuth codes and tokens).
 */
Datum
fi_generate_token(PG_FUNCTION_ARGS)
{
	int32		n = length_arg(fcinfo, 0, 1024);
	char	   *out = palloc(n + 1);
	size_t		got = 0;
	unsigned char rnd[64];

	while (got < (size_t) n)
	{
		fi_strong_random(rnd, sizeof(rnd));
		got += fi_random_from_alphabet(rnd, sizeof(rnd), fi_oauth_token_alphabet,
									   n - got, out + got);
	}
	out[n] = '\0';
	PG_RETURN_TEXT_P(cstring_to_text(out));
}
