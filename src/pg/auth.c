/*
 * auth.c
 *		Who is this request?  Frappe's REST API authentication (frappe-facts
 *		4) against the site's own tables: API key and secret (`token k:s`,
 *		`Basic base64(k:s)`, another DocType through
 *		Frappe-Authorization-Source), OAuth bearer tokens, login passwords.
 *
 * Secrets are compared in constant time (engine/secretfmt.c's
 * fi_secure_equal: HMAC of both sides, then CRYPTO_memcmp); every refusal is the same error,
 * whichever part failed; a missing row costs what a present one does.
 * Unlike Frappe v15, a disabled user is refused on every path.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "frappe_integrations.h"
#include "engine/authheader.h"
#include "engine/secretfmt.h"

/* a well-formed hash of a random password, verified when a user has none */
#define DUMMY_HASH "$pbkdf2-sha256$29000$N2ZPqVVqjXEuBaCUUipFqA$vJpWkBlwM7bdb5m3NnO8yR3cD0l9P5y3Gx2mH1bYv0o"

/* memory for the engines: the current context */
static void *
pg_alloc(void *arg, size_t size)
{
	return palloc0(size);
}

/* the one error of a refusal */
static void
refuse(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("authentication failed")));
}

/*
 * The first row of a query (the fallback where a table cannot be read
 * through its index), as text in the caller's memory; SPI is connected for
 * it alone.
 */
static bool
query_row(const char *sql, int nargs, Oid *types, Datum *vals, int ncols, char **out)
{
	MemoryContext cxt = CurrentMemoryContext;
	bool		found;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (fi_spi_execute(sql, nargs, types, vals, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the site's tables");
	found = SPI_processed >= 1;
	for (int i = 0; i < ncols; i++)
	{
		char	   *v = found ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1) : NULL;

		out[i] = v ? MemoryContextStrdup(cxt, v) : NULL;
	}
	SPI_finish();
	return found;
}

static bool
user_enabled(const char *user)
{
	static const char *const cols[] = {"enabled"};
	char	   *v[1];
	bool		fallback;

	if (fi_row_lookup_cached("tabUser", "name", user, strlen(user), 1, cols, v, &fallback))
		return v[0] != NULL && strcmp(v[0], "1") == 0;
	if (!fallback)
		return false;
	{
		Oid			t[1] = {TEXTOID};
		Datum		d[1] = {CStringGetTextDatum(user)};

		return query_row(psprintf("SELECT enabled FROM %s WHERE name = $1", fi_site_table("tabUser")),
						 1, t, d, 1, v) && v[0] != NULL && strcmp(v[0], "1") == 0;
	}
}

/*
 * The user of an API key and secret (source: User or a DocType with
 * api_key, api_secret and user fields), or NULL.
 */
static char *
api_key_user(const char *source, const char *key, size_t keylen, const char *secret, size_t secretlen)
{
	const FiDocMeta *meta = fi_get_meta(source, true);
	bool		is_user = strcmp(source, "User") == 0;
	Oid			t[2] = {TEXTOID, TEXTOID};
	Datum		v[2];
	char	   *doc = NULL,
			   *user = NULL,
			   *plain = NULL;
	bool		ok;

	static const FiDocMeta *checked = NULL;	/* the last meta found fit */
	bool		enabled_known = false,
				enabled = false;

	if (meta == NULL || (meta != checked &&
						 (fi_meta_field(meta, "api_key") == NULL || fi_meta_field(meta, "api_secret") == NULL ||
						  (!is_user && fi_meta_field(meta, "user") == NULL))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("DocType \"%s\" cannot authenticate requests", source),
				 errdetail("An authorization source needs api_key, api_secret and user fields.")));
	checked = meta;
	{
		static const char *const kc[] = {"api_key"};
		static const char *const uc[] = {"name", "user"};
		static const char *const uec[] = {"name", "enabled"};	/* User: its own enabled */
		static const char *const ac[] = {"doctype", "name", "fieldname"};
		static const char *const pc[] = {"password", "encrypted"};
		const char *kv[1] = {key};
		size_t		kl[1] = {keylen};
		char	   *row[2];
		bool		fallback;
		bool		got = is_user ?
			fi_row_lookup_cached("tabUser", "api_key", key, keylen, 2, uec, row, &fallback) :
			fi_row_lookup(psprintf("tab%s", source), 1, kc, kv, kl, 2, uc, row, &fallback);

		if (got && is_user)
		{
			enabled_known = true;
			enabled = row[1] != NULL && strcmp(row[1], "1") == 0;
		}

		if (fallback)
		{
			v[0] = PointerGetDatum(cstring_to_text_with_len(key, keylen));
			got = query_row(psprintf("SELECT name::text, %s::text FROM %s WHERE api_key = $1 LIMIT 1",
									 is_user ? "name" : "\"user\"", fi_site_table(psprintf("tab%s", source))),
							1, t, v, 2, row);
		}
		if (got)
		{
			const char *av[3];
			size_t		al[3];
			char	   *prow[2];

			doc = row[0];
			user = is_user ? row[0] : row[1];
			av[0] = source;
			av[1] = doc;
			av[2] = "api_secret";
			for (int i = 0; i < 3; i++)
				al[i] = strlen(av[i]);
			if (fi_row_lookup_keep("__Auth", 3, ac, av, al, 2, pc, prow, &fallback))
			{
				if (prow[0] != NULL && prow[1] != NULL && strcmp(prow[1], "1") == 0)
					plain = fi_decrypt_with_site_key(prow[0], strlen(prow[0]));
			}
			else if (fallback)
			{
				char	   *token[1];

				v[0] = CStringGetTextDatum(source);
				v[1] = CStringGetTextDatum(doc);
				if (query_row(psprintf("SELECT password FROM %s WHERE doctype = $1 AND name = $2 AND "
									   "fieldname = 'api_secret' AND encrypted = 1 LIMIT 1",
									   fi_site_table("__Auth")), 2, t, v, 1, token) && token[0] != NULL)
					plain = fi_decrypt_with_site_key(token[0], strlen(token[0]));
			}
		}
	}
	/* compare even when nothing was found: the time says nothing */
	ok = fi_secure_equal(plain ? plain : "\x01no secret\x01", plain ? strlen(plain) : 11, secret, secretlen);
	if (!ok || plain == NULL || user == NULL || (enabled_known ? !enabled : !user_enabled(user)))
		return NULL;
	return user;
}

/* the token's user and scopes, or NULL (facts 4: validate_bearer_token) */
static char *
bearer_user(const char *token, size_t len, ArrayType *required, char **scopes_out)
{
	static const char *const tcols[] = {"user", "scopes", "client", "status", "expiration_time"};
	static const char *const ccols[] = {"scopes"};
	char	   *tv[5],
			   *cv[1] = {NULL};
	char	   *user,
			   *scopes,
			   *client_scopes;
	bool		fallback;
	Timestamp	now = (Timestamp) (fi_site_now_usec() -
								   (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);
	Timestamp	expires;

	if (!fi_row_by_name("tabOAuth Bearer Token", token, len, 5, tcols, tv, &fallback))
	{
		if (!fallback)
			return NULL;
		/* row-level security or no primary key: through a query (SPI may nest) */
		{
			Oid			t[1] = {TEXTOID};
			Datum		v[1] = {PointerGetDatum(cstring_to_text_with_len(token, len))};

			if (!query_row(psprintf("SELECT \"user\"::text, scopes, client::text, status, "
									"expiration_time::text FROM %s WHERE name = $1",
									fi_site_table("tabOAuth Bearer Token")),
						   1, t, v, 5, tv))
				return NULL;
		}
	}
	user = tv[0];
	scopes = tv[1];
	if (user == NULL || (tv[3] && strcmp(tv[3], "Revoked") == 0) || tv[4] == NULL)
		return NULL;
	expires = DatumGetTimestamp(DirectFunctionCall3(timestamp_in, CStringGetDatum(tv[4]),
													ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	if (!(expires > now))
		return NULL;
	if (tv[2] == NULL)
		return NULL;
	if (!fi_row_lookup_cached("tabOAuth Client", "name", tv[2], strlen(tv[2]), 1, ccols, cv, &fallback))
	{
		Oid			t[1] = {TEXTOID};
		Datum		v[1] = {CStringGetTextDatum(tv[2])};

		if (!fallback ||
			!query_row(psprintf("SELECT scopes FROM %s WHERE name = $1", fi_site_table("tabOAuth Client")),
					   1, t, v, 1, cv))
			return NULL;
	}
	client_scopes = cv[0];
	if (!user_enabled(user))
		return NULL;
	/* every scope of the token is the client's, every one required the token's */
	{
		const char **want = NULL;
		int			n = 0;

		if (required != NULL)
		{
			Datum	   *elems;
			bool	   *nulls;

			deconstruct_array(required, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
			want = palloc(sizeof(char *) * (n + 1));
			for (int i = 0; i < n; i++)
				want[i] = nulls[i] ? NULL : TextDatumGetCString(elems[i]);
		}
		if (!fi_bearer_scopes_ok(scopes, client_scopes, want, n))
			return NULL;
	}
	*scopes_out = scopes ? scopes : "";
	return user;
}

PG_FUNCTION_INFO_V1(fi_validate_api_key);

/* integrations.validate_api_key(key, secret, source_doctype default 'User') returns text */
Datum
fi_validate_api_key(PG_FUNCTION_ARGS)
{
	text	   *key,
			   *secret;
	char	   *user;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	fi_check_version();
	key = PG_GETARG_TEXT_PP(0);
	secret = PG_GETARG_TEXT_PP(1);
	user = api_key_user(PG_ARGISNULL(2) ? "User" : text_to_cstring(PG_GETARG_TEXT_PP(2)),
						VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret));
	if (user == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(user));
}

PG_FUNCTION_INFO_V1(fi_validate_bearer_token);

/* integrations.validate_bearer_token(token, required_scopes text[] default NULL) returns text */
Datum
fi_validate_bearer_token(PG_FUNCTION_ARGS)
{
	text	   *token;
	char	   *user,
			   *scopes;
	MemoryContext cxt = CurrentMemoryContext;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	fi_check_version();
	token = PG_GETARG_TEXT_PP(0);
	/* (no SPI: the rows are read through their indexes; a fallback connects) */
	user = bearer_user(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token),
					   PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1), &scopes);
	if (user)
		user = MemoryContextStrdup(cxt, user);
	if (user == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(user));
}

PG_FUNCTION_INFO_V1(fi_check_password);

/* integrations.check_password(user, password) returns boolean (pbkdf2_sha256, argon2) */
Datum
fi_check_password(PG_FUNCTION_ARGS)
{
	text	   *pwd;
	Oid			t[1] = {TEXTOID};
	Datum		v[1];
	char	   *hash = NULL;
	bool		match = false;
	FiSecretErr err;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(false);
	fi_check_version();
	pwd = PG_GETARG_TEXT_PP(1);
	v[0] = PointerGetDatum(PG_GETARG_TEXT_PP(0));
	query_row(psprintf("SELECT password FROM %s WHERE doctype = 'User' AND name = $1 AND "
					   "fieldname = 'password' AND encrypted = 0 LIMIT 1", fi_site_table("__Auth")),
			  1, t, v, 1, &hash);
	/* no hash: verify against one anyway, so the time says nothing */
	err = fi_passlib_verify(VARDATA_ANY(pwd), VARSIZE_ANY_EXHDR(pwd), hash ? hash : DUMMY_HASH,
							strlen(hash ? hash : DUMMY_HASH), &match);
	if (err != FI_SECRET_OK)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the stored password hash of this user is not one Frappe writes")));
	PG_RETURN_BOOL(match && hash != NULL);
}

PG_FUNCTION_INFO_V1(fi_authenticate_one);

/*
 * integrations.authenticate(authorization, source_doctype default 'User')
 * returns (user_name, method, scopes): Frappe's validate_auth.  A header
 * that is not "<scheme> <credentials>" or whose Basic credentials are not
 * base64 of UTF-8: 22023.  Any refusal: 28000, one message.
 */
Datum
fi_authenticate_one(PG_FUNCTION_ARGS)
{
	static TupleDesc result_desc = NULL;
	text	   *h;
	const char *source;
	FiAuthHeader ah;
	char	   *user = NULL,
			   *method = NULL,
			   *scopes = NULL;
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("malformed Authorization header"),
				 errdetail("It is empty.")));
	fi_check_version();
	h = PG_GETARG_TEXT_PP(0);
	source = PG_ARGISNULL(1) ? "User" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	switch (fi_auth_header(VARDATA_ANY(h), VARSIZE_ANY_EXHDR(h), pg_alloc, NULL, &ah))
	{
		case FI_AUTH_MALFORMED:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("malformed Authorization header"),
					 errdetail("Expected \"<scheme> <credentials>\": token, Basic or Bearer.")));
			break;
		case FI_AUTH_BAD_BASE64:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg(FI_AUTH_BAD_BASE64_MESSAGE)));
			break;
		case FI_AUTH_BEARER:
			user = bearer_user(ah.token, ah.token_len, NULL, &scopes);
			break;
		case FI_AUTH_KEY:
			if (ah.key != NULL)
				user = api_key_user(source, ah.key, ah.key_len, ah.secret, ah.secret_len);
			break;
		case FI_AUTH_OTHER:
			break;
	}
	method = (char *) ah.method;
	if (user == NULL)
		refuse();

	/* the row type (user_name text, method text, scopes text[]), built once */
	if (result_desc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		TupleDesc	d = CreateTemplateTupleDesc(3);

		TupleDescInitEntry(d, 1, "user_name", TEXTOID, -1, 0);
		TupleDescInitEntry(d, 2, "method", TEXTOID, -1, 0);
		TupleDescInitEntry(d, 3, "scopes", TEXTARRAYOID, -1, 0);
		result_desc = BlessTupleDesc(d);
		MemoryContextSwitchTo(old);
	}
	desc = result_desc;
	values[0] = CStringGetTextDatum(user);
	values[1] = CStringGetTextDatum(method);
	{
		/* the token's scopes, split on blanks */
		List	   *l = NIL;
		Datum	   *d;
		int			n = 0;
		ListCell   *lc;

		const char *rest = scopes,
				   *w;
		size_t		wn;

		while (fi_next_scope(&rest, &w, &wn))
			l = lappend(l, pnstrdup(w, wn));
		d = palloc(sizeof(Datum) * (list_length(l) + 1));
		foreach(lc, l)
			d[n++] = CStringGetTextDatum(lfirst(lc));
		values[2] = PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
