/*
 * auth.c
 *		Who is this request?  Frappe's REST API authentication (frappe-facts
 *		4) against the site's own tables: API key and secret (`token k:s`,
 *		`Basic base64(k:s)`, another DocType through
 *		Frappe-Authorization-Source), OAuth bearer tokens, login passwords.
 *
 * Secrets are compared in constant time (HMAC of both sides under a key of
 * the process, then CRYPTO_memcmp); every refusal is the same error,
 * whichever part failed; a missing row costs what a present one does.
 * Unlike Frappe v15, a disabled user is refused on every path.
 */
#include "postgres.h"

#include <openssl/crypto.h>

#include "access/genam.h"
#include "catalog/pg_am.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "parser/parse_relation.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "frappe_integrations.h"
#include "engine/codec.h"
#include "engine/csv.h"
#include "engine/secretfmt.h"

/* a well-formed hash of a random password, verified when a user has none */
#define DUMMY_HASH "$pbkdf2-sha256$29000$N2ZPqVVqjXEuBaCUUipFqA$vJpWkBlwM7bdb5m3NnO8yR3cD0l9P5y3Gx2mH1bYv0o"

/* a == b, in time that depends on neither */
bool
fi_secure_equal(const char *a, size_t an, const char *b, size_t bn)
{
	static unsigned char key[32];
	static bool have_key = false;
	unsigned char da[32],
				db[32];

	if (!have_key)
	{
		fi_strong_random(key, sizeof(key));
		have_key = true;
	}
	if (fi_hmac_sha256(key, sizeof(key), (const unsigned char *) a, an, da) != FI_SECRET_OK ||
		fi_hmac_sha256(key, sizeof(key), (const unsigned char *) b, bn, db) != FI_SECRET_OK)
		elog(ERROR, "HMAC failed");
	return CRYPTO_memcmp(da, db, sizeof(da)) == 0;
}

/* the one error of a refusal */
static void
refuse(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("authentication failed")));
}

static char *
spi_text(int row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

static bool row_lookup(const char *table, int nkeys, const char *const *keycols,
					   const char *const *keys, const size_t *keylens, int ncols,
					   const char *const *cols, char **out, bool *fallback);
static bool row_by_name(const char *table, const char *name, size_t namelen, int ncols,
						const char *const *cols, char **out, bool *fallback);

static bool
user_enabled(const char *user)
{
	static const char *const cols[] = {"enabled"};
	char	   *v[1];
	bool		fallback;

	if (row_by_name("tabUser", user, strlen(user), 1, cols, v, &fallback))
		return v[0] != NULL && strcmp(v[0], "1") == 0;
	if (!fallback)
		return false;
	{
		Oid			t[1] = {TEXTOID};
		Datum		d[1] = {CStringGetTextDatum(user)};

		if (fi_spi_execute(psprintf("SELECT enabled FROM %s WHERE name = $1", fi_site_table("tabUser")),
						   1, t, d, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read tabUser");
		return SPI_processed == 1 && spi_text(0, 1) != NULL && strcmp(spi_text(0, 1), "1") == 0;
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

	if (meta == NULL || fi_meta_field(meta, "api_key") == NULL ||
		fi_meta_field(meta, "api_secret") == NULL || (!is_user && fi_meta_field(meta, "user") == NULL))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("DocType \"%s\" cannot authenticate requests", source),
				 errdetail("An authorization source needs api_key, api_secret and user fields.")));
	{
		static const char *const kc[] = {"api_key"};
		static const char *const uc[] = {"name", "user"};
		static const char *const ac[] = {"doctype", "name", "fieldname"};
		static const char *const pc[] = {"password", "encrypted"};
		const char *kv[1] = {key};
		size_t		kl[1] = {keylen};
		char	   *row[2];
		bool		fallback;
		bool		got = row_lookup(psprintf("tab%s", source), 1, kc, kv, kl, is_user ? 1 : 2, uc, row, &fallback);

		if (fallback)
		{
			v[0] = PointerGetDatum(cstring_to_text_with_len(key, keylen));
			if (fi_spi_execute(psprintf("SELECT name::text, %s::text FROM %s WHERE api_key = $1 LIMIT 1",
										is_user ? "name" : "\"user\"", fi_site_table(psprintf("tab%s", source))),
							   1, t, v, NULL, true, 1) != SPI_OK_SELECT)
				elog(ERROR, "could not read the API keys");
			got = SPI_processed == 1;
			if (got)
			{
				row[0] = spi_text(0, 1);
				row[1] = spi_text(0, 2);
			}
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
			if (row_lookup("__Auth", 3, ac, av, al, 2, pc, prow, &fallback))
			{
				if (prow[0] != NULL && prow[1] != NULL && strcmp(prow[1], "1") == 0)
					plain = fi_decrypt_with_site_key(prow[0], strlen(prow[0]));
			}
			else if (fallback)
			{
				v[0] = CStringGetTextDatum(source);
				v[1] = CStringGetTextDatum(doc);
				if (fi_spi_execute(psprintf("SELECT password FROM %s WHERE doctype = $1 AND name = $2 AND "
											"fieldname = 'api_secret' AND encrypted = 1 LIMIT 1",
											fi_site_table("__Auth")), 2, t, v, NULL, true, 1) != SPI_OK_SELECT)
					elog(ERROR, "could not read __Auth");
				if (SPI_processed == 1)
				{
					char	   *token = spi_text(0, 1);

					plain = fi_decrypt_with_site_key(token, strlen(token));
				}
			}
		}
	}
	/* compare even when nothing was found: the time says nothing */
	ok = fi_secure_equal(plain ? plain : "\x01no secret\x01", plain ? strlen(plain) : 11, secret, secretlen);
	if (!ok || plain == NULL || user == NULL || !user_enabled(user))
		return NULL;
	return user;
}

/* a btree index whose leading columns are atts (in order), or InvalidOid */
static Oid
index_on(Relation rel, int n, const AttrNumber *atts)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	Oid			found = InvalidOid;

	foreach(lc, indexes)
	{
		Relation	i = index_open(lfirst_oid(lc), AccessShareLock);
		bool		ok = i->rd_rel->relam == BTREE_AM_OID && i->rd_index->indnkeyatts >= n &&
			i->rd_index->indisvalid && RelationGetIndexExpressions(i) == NIL &&
			RelationGetIndexPredicate(i) == NIL;

		for (int k = 0; ok && k < n; k++)
			ok = i->rd_index->indkey.values[k] == atts[k];
		index_close(i, AccessShareLock);
		if (ok)
		{
			found = lfirst_oid(lc);
			break;
		}
	}
	list_free(indexes);
	return found;
}

/*
 * One row of a site table by text key columns, read through a btree index
 * on them without the executor: the columns asked for, as text (NULL when
 * null).  The caller's SELECT privilege is checked, as a query would; with
 * row-level security or no such index, *fallback is set and nothing read.
 */
static bool
row_lookup(const char *table, int nkeys, const char *const *keycols, const char *const *keys,
		   const size_t *keylens, int ncols, const char *const *cols, char **out, bool *fallback)
{
	Oid			relid = fi_site_table_oid(table, false);
	Relation	rel,
				idx;
	Oid			ixoid;
	ScanKeyData sk[4];
	AttrNumber	atts[4];
	IndexScanDesc scan;
	TupleTableSlot *slot;
	bool		found;
	AclResult	acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);

	*fallback = false;
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, table);
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
	{
		*fallback = true;
		return false;
	}
	rel = table_open(relid, AccessShareLock);
	for (int k = 0; k < nkeys; k++)
	{
		atts[k] = attnameAttNum(rel, keycols[k], false);
		if (atts[k] <= 0 ||
			!(TupleDescAttr(RelationGetDescr(rel), atts[k] - 1)->atttypid == VARCHAROID ||
			  TupleDescAttr(RelationGetDescr(rel), atts[k] - 1)->atttypid == TEXTOID))
			atts[k] = InvalidAttrNumber;
	}
	ixoid = InvalidOid;
	/* by name: the primary key, known to the relcache (no look at each index) */
	if (nkeys == 1 && strcmp(keycols[0], "name") == 0 && atts[0] != InvalidAttrNumber)
	{
		Oid			pk = RelationGetPrimaryKeyIndex(rel);

		if (OidIsValid(pk))
		{
			Relation	i = index_open(pk, AccessShareLock);

			if (i->rd_index->indnkeyatts >= 1 && i->rd_index->indkey.values[0] == atts[0] &&
				i->rd_rel->relam == BTREE_AM_OID)
				ixoid = pk;
			index_close(i, AccessShareLock);
		}
	}
	if (!OidIsValid(ixoid) && atts[0] != InvalidAttrNumber && (nkeys < 2 || atts[1] != InvalidAttrNumber) &&
		(nkeys < 3 || atts[2] != InvalidAttrNumber))
		ixoid = index_on(rel, nkeys, atts);
	if (!OidIsValid(ixoid))
	{
		table_close(rel, AccessShareLock);
		*fallback = true;
		return false;
	}
	idx = index_open(ixoid, AccessShareLock);
	for (int k = 0; k < nkeys; k++)
	{
		ScanKeyInit(&sk[k], k + 1, BTEqualStrategyNumber, F_TEXTEQ,
					PointerGetDatum(cstring_to_text_with_len(keys[k], keylens[k])));
		sk[k].sk_collation = idx->rd_indcollation[k];
	}
	scan = index_beginscan(rel, idx, GetActiveSnapshot(), nkeys, 0);
	index_rescan(scan, sk, nkeys, NULL, 0);
	slot = table_slot_create(rel, NULL);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found)
	{
		for (int i = 0; i < ncols; i++)
		{
			AttrNumber	a = attnameAttNum(rel, cols[i], false);
			bool		isnull = true;
			Datum		d = (a > 0) ? slot_getattr(slot, a, &isnull) : (Datum) 0;

			if (a <= 0 || isnull)
				out[i] = NULL;
			else
			{
				Oid			typout;
				bool		varlena;

				getTypeOutputInfo(TupleDescAttr(RelationGetDescr(rel), a - 1)->atttypid, &typout, &varlena);
				out[i] = OidOutputFunctionCall(typout, d);
			}
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(idx, AccessShareLock);
	table_close(rel, NoLock);
	return found;
}

/* one row by name (the primary key) */
static bool
row_by_name(const char *table, const char *name, size_t namelen, int ncols,
			const char *const *cols, char **out, bool *fallback)
{
	static const char *const keycol[] = {"name"};
	const char *keys[1] = {name};
	size_t		lens[1] = {namelen};

	return row_lookup(table, 1, keycol, keys, lens, ncols, cols, out, fallback);
}

/* the token's user and scopes, or NULL (facts 4: validate_bearer_token) */
static char *
bearer_user(const char *token, size_t len, ArrayType *required, char **scopes_out)
{
	static const char *const tcols[] = {"user", "scopes", "client", "status", "expiration_time"};
	static const char *const ccols[] = {"scopes"};
	static const char *const ucols[] = {"enabled"};
	char	   *tv[5],
			   *cv[1] = {NULL},
			   *uv[1] = {NULL};
	char	   *user,
			   *scopes,
			   *client_scopes;
	char	   *s,
			   *save = NULL;
	bool		fallback;
	Timestamp	now = (Timestamp) (fi_site_now_usec() -
								   (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);
	Timestamp	expires;

	if (!row_by_name("tabOAuth Bearer Token", token, len, 5, tcols, tv, &fallback))
	{
		if (!fallback)
			return NULL;
		/* row-level security or no primary key: through a query (SPI may nest) */
		{
			Oid			t[1] = {TEXTOID};
			Datum		v[1] = {PointerGetDatum(cstring_to_text_with_len(token, len))};

			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			if (fi_spi_execute(psprintf("SELECT \"user\"::text, scopes, client::text, status, "
										"expiration_time::text FROM %s WHERE name = $1",
										fi_site_table("tabOAuth Bearer Token")),
							   1, t, v, NULL, true, 1) != SPI_OK_SELECT)
				elog(ERROR, "could not read the bearer tokens");
			for (int i = 0; i < 5; i++)
				tv[i] = SPI_processed == 1 ? spi_text(0, i + 1) : NULL;
			SPI_finish();
			if (tv[0] == NULL && tv[4] == NULL)
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
	if (tv[2] == NULL || !row_by_name("tabOAuth Client", tv[2], strlen(tv[2]), 1, ccols, cv, &fallback))
		return NULL;
	client_scopes = cv[0];
	if (!row_by_name("tabUser", user, strlen(user), 1, ucols, uv, &fallback) ||
		uv[0] == NULL || strcmp(uv[0], "1") != 0)
		return NULL;
	/* every scope of the token is one of the client's */
	for (s = strtok_r(pstrdup(scopes ? scopes : ""), " \t\n", &save); s; s = strtok_r(NULL, " \t\n", &save))
	{
		char	   *c,
				   *save2 = NULL;
		bool		found = false;

		for (c = strtok_r(pstrdup(client_scopes ? client_scopes : ""), " \t\n", &save2); c && !found;
			 c = strtok_r(NULL, " \t\n", &save2))
			found = strcmp(c, s) == 0;
		if (!found)
			return NULL;
	}
	/* and every scope the caller requires is one of the token's */
	if (required != NULL)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(required, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (int i = 0; i < n; i++)
		{
			char	   *want,
					   *c,
					   *save2 = NULL;
			bool		found = false;

			if (nulls[i])
				return NULL;
			want = TextDatumGetCString(elems[i]);
			for (c = strtok_r(pstrdup(scopes ? scopes : ""), " \t\n", &save2); c && !found;
				 c = strtok_r(NULL, " \t\n", &save2))
				found = strcmp(c, want) == 0;
			if (!found)
				return NULL;
		}
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
	MemoryContext cxt = CurrentMemoryContext;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	fi_check_version();
	key = PG_GETARG_TEXT_PP(0);
	secret = PG_GETARG_TEXT_PP(1);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	user = api_key_user(PG_ARGISNULL(2) ? "User" : text_to_cstring(PG_GETARG_TEXT_PP(2)),
						VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret));
	if (user)
		user = MemoryContextStrdup(cxt, user);
	SPI_finish();
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
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (fi_spi_execute(psprintf("SELECT password FROM %s WHERE doctype = 'User' AND name = $1 AND "
								"fieldname = 'password' AND encrypted = 0 LIMIT 1", fi_site_table("__Auth")),
					   1, t, v, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read __Auth");
	if (SPI_processed == 1)
		hash = spi_text(0, 1);
	/* no hash: verify against one anyway, so the time says nothing */
	err = fi_passlib_verify(VARDATA_ANY(pwd), VARSIZE_ANY_EXHDR(pwd), hash ? hash : DUMMY_HASH,
							strlen(hash ? hash : DUMMY_HASH), &match);
	SPI_finish();
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
	char	   *h,
			   *sp,
			   *scheme,
			   *cred;
	const char *source;
	char	   *user = NULL,
			   *method = NULL,
			   *scopes = NULL;
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	MemoryContext cxt = CurrentMemoryContext;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("malformed Authorization header"),
				 errdetail("It is empty.")));
	fi_check_version();
	h = text_to_cstring(PG_GETARG_TEXT_PP(0));
	source = PG_ARGISNULL(1) ? "User" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	/* Frappe: split(" ") into exactly two parts */
	sp = strchr(h, ' ');
	if (sp == NULL || sp == h || sp[1] == '\0' || strchr(sp + 1, ' ') != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("malformed Authorization header"),
				 errdetail("Expected \"<scheme> <credentials>\": token, Basic or Bearer.")));
	*sp = '\0';
	scheme = h;
	cred = sp + 1;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (pg_strcasecmp(scheme, "bearer") == 0)
	{
		user = bearer_user(cred, strlen(cred), NULL, &scopes);
		method = "bearer";
	}
	else if (pg_strcasecmp(scheme, "token") == 0 || pg_strcasecmp(scheme, "basic") == 0)
	{
		char	   *pair = cred;
		char	   *colon;

		method = pg_strcasecmp(scheme, "token") == 0 ? "token" : "basic";
		if (method[0] == 'b')
		{
			size_t		n = strlen(cred);
			unsigned char *raw = palloc(fi_b64_decoded_maxlen(n) + 1);
			long		got = fi_b64_decode(cred, n, raw, FI_B64_STD);
			size_t		bad;

			if (got < 0 || memchr(raw, '\0', got) != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("Failed to decode token, please provide a valid base64-encoded token.")));
			raw[got] = '\0';
			pair = (char *) raw;
			if (!fi_utf8_valid(pair, got, &bad))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("Failed to decode token, please provide a valid base64-encoded token.")));
		}
		/* exactly key:secret (Frappe ignores other shapes: a refusal) */
		colon = strchr(pair, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL)
			user = api_key_user(source, pair, colon - pair, colon + 1, strlen(colon + 1));
		scopes = NULL;
	}
	if (user != NULL)
		user = MemoryContextStrdup(cxt, user);
	if (scopes != NULL)
		scopes = MemoryContextStrdup(cxt, scopes);
	SPI_finish();
	if (user == NULL)
		refuse();

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "authenticate must return a row");
	desc = BlessTupleDesc(desc);
	values[0] = CStringGetTextDatum(user);
	values[1] = CStringGetTextDatum(method);
	{
		/* the token's scopes, split on blanks */
		List	   *l = NIL;
		char	   *s,
				   *save = NULL;
		Datum	   *d;
		int			n = 0;
		ListCell   *lc;

		for (s = strtok_r(scopes ? scopes : pstrdup(""), " \t\n", &save); s; s = strtok_r(NULL, " \t\n", &save))
			l = lappend(l, s);
		d = palloc(sizeof(Datum) * (list_length(l) + 1));
		foreach(lc, l)
			d[n++] = CStringGetTextDatum(lfirst(lc));
		values[2] = PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
