/* frappe_integrations 0.1.0: foundation (metadata, secret formats) */

\echo Use "CREATE EXTENSION frappe_integrations" to load this file. \quit

CREATE SCHEMA integrations;
COMMENT ON SCHEMA integrations IS 'frappe_integrations: Frappe integrations inside PostgreSQL';
GRANT USAGE ON SCHEMA integrations TO PUBLIC;

CREATE FUNCTION integrations.version()
RETURNS text
AS 'MODULE_PATHNAME', 'fi_version'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION integrations.version() IS 'version of the loaded library';

-- DocType metadata ---------------------------------------------------------

CREATE FUNCTION integrations.doctype_meta(doctype text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fi_doctype_meta'
LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION integrations.doctype_meta(text) IS
'effective meta of a DocType: DocFields and Custom Fields, Property Setters applied';

CREATE FUNCTION integrations.meta_invalidate()
RETURNS trigger
AS 'MODULE_PATHNAME', 'fi_meta_invalidate'
LANGUAGE C;
COMMENT ON FUNCTION integrations.meta_invalidate() IS
'statement trigger on the metadata tables: tells every session that DocType meta changed';

CREATE FUNCTION integrations.sync_meta_triggers()
RETURNS integer
AS 'MODULE_PATHNAME', 'fi_sync_meta_triggers'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION integrations.sync_meta_triggers() IS
'attach the meta invalidation trigger to tabDocType, tabDocField, tabCustom Field and tabProperty Setter';
REVOKE ALL ON FUNCTION integrations.sync_meta_triggers() FROM PUBLIC;

-- secret formats ---------------------------------------------------------

CREATE FUNCTION integrations.fernet_encrypt(plaintext text, key text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'fi_fernet_encrypt_sql'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION integrations.fernet_encrypt(text, text) IS
'Fernet token of plaintext (Frappe''s encrypt); key NULL means frappe_integrations.encryption_key';
REVOKE ALL ON FUNCTION integrations.fernet_encrypt(text, text) FROM PUBLIC;

CREATE FUNCTION integrations.fernet_decrypt(token text, key text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'fi_fernet_decrypt_sql'
LANGUAGE C STABLE;
COMMENT ON FUNCTION integrations.fernet_decrypt(text, text) IS
'plaintext of a Fernet token (Frappe''s decrypt); key NULL means frappe_integrations.encryption_key';
REVOKE ALL ON FUNCTION integrations.fernet_decrypt(text, text) FROM PUBLIC;

CREATE FUNCTION integrations.get_password(doctype text, name text, fieldname text DEFAULT 'password')
RETURNS text
AS 'MODULE_PATHNAME', 'fi_get_password'
LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION integrations.get_password(text, text, text) IS
'decrypted Password field from __Auth (Frappe''s get_decrypted_password)';
REVOKE ALL ON FUNCTION integrations.get_password(text, text, text) FROM PUBLIC;

CREATE FUNCTION integrations.set_password(doctype text, name text, fieldname text, value text)
RETURNS void
AS 'MODULE_PATHNAME', 'fi_set_password'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION integrations.set_password(text, text, text, text) IS
'store a Password field as Frappe does: Fernet token in __Auth, column masked with *; empty value deletes';
REVOKE ALL ON FUNCTION integrations.set_password(text, text, text, text) FROM PUBLIC;

CREATE FUNCTION integrations.passlib_hash(password text, rounds integer DEFAULT 29000)
RETURNS text
AS 'MODULE_PATHNAME', 'fi_passlib_hash_sql'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION integrations.passlib_hash(text, integer) IS
'passlib pbkdf2_sha256 hash, as Frappe stores login passwords in __Auth';

CREATE FUNCTION integrations.passlib_verify(password text, hash text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'fi_passlib_verify_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION integrations.passlib_verify(text, text) IS
'verify a password against a passlib pbkdf2_sha256 or argon2 hash';

CREATE FUNCTION integrations.hmac_sha256(key text, message text, encoding text DEFAULT 'base64')
RETURNS text
AS 'MODULE_PATHNAME', 'fi_hmac_sha256_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION integrations.hmac_sha256(key bytea, message bytea, encoding text DEFAULT 'base64')
RETURNS text
AS 'MODULE_PATHNAME', 'fi_hmac_sha256_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION integrations.hmac_sha256(text, text, text) IS
'HMAC-SHA256 as base64, base64url or hex';
COMMENT ON FUNCTION integrations.hmac_sha256(bytea, bytea, text) IS
'HMAC-SHA256 as base64, base64url or hex';

CREATE FUNCTION integrations.random_name()
RETURNS text
AS 'MODULE_PATHNAME', 'fi_random_name'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION integrations.random_name() IS
'Frappe''s "hash" autoname: 10 characters of 0-9a-v';

CREATE FUNCTION integrations.generate_hash(length integer DEFAULT 56)
RETURNS text
AS 'MODULE_PATHNAME', 'fi_generate_hash'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION integrations.generate_hash(integer) IS
'frappe.generate_hash: lowercase hex (15 for API keys and secrets)';

CREATE FUNCTION integrations.generate_token(length integer DEFAULT 30)
RETURNS text
AS 'MODULE_PATHNAME', 'fi_generate_token'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION integrations.generate_token(integer) IS
'oauthlib''s generate_token: a-z A-Z 0-9 (OAuth codes and tokens)';

-- on a Frappe site, wire the meta cache's invalidation now
SELECT integrations.sync_meta_triggers();
