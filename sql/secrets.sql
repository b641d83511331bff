-- secrets: Fernet with the site key, __Auth, passlib, HMAC, random names
\set VERBOSITY terse

-- Fernet spec key; tokens below were written by python3-cryptography
SET frappe_integrations.encryption_key = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
SELECT integrations.fernet_decrypt(
  'gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==') AS python_token;
SELECT integrations.fernet_decrypt(
  'gAAAAABlU_EAEBESExQVFhcYGRobHB0eH3JFywHkzOOJDziKeIVDiC90JxBBR1hHmSggI_HKK74ZZu2CF0LFEHs3vfdvCEvQCjWA1dwnXDHVIZ9KJl5UU78=',
  'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=') AS python_unicode_token;
-- our tokens: Frappe's shape (gAAAAA prefix, 100 characters for a 6-byte secret), fresh IV each time
SELECT t LIKE 'gAAAAA%' AS prefix, length(t) AS len,
       integrations.fernet_decrypt(t) AS roundtrip
  FROM integrations.fernet_encrypt('s3cr3t') AS t;
SELECT integrations.fernet_encrypt('x') <> integrations.fernet_encrypt('x') AS fresh_iv;
SELECT integrations.fernet_decrypt(integrations.fernet_encrypt(repeat('é', 5000))) = repeat('é', 5000) AS long_roundtrip;

-- wrong key, altered and truncated tokens, bad keys: clear errors, no secrets
SELECT err($$SELECT integrations.fernet_decrypt(integrations.fernet_encrypt('s3cr3t'),
                                   'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=')$$);
-- one character changed inside: python's Fernet raises InvalidToken for it too
SELECT err($$SELECT integrations.fernet_decrypt('gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CVBdOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==')$$);
-- a changed last character leaves non-zero padding bits: malformed
SELECT err($$SELECT integrations.fernet_decrypt('gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDB==')$$);
SELECT err($$SELECT integrations.fernet_decrypt('gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4')$$);
SELECT err($$SELECT integrations.fernet_decrypt('')$$);
SELECT err($$SELECT integrations.fernet_decrypt('not base64 at all!')$$);
SELECT err($$SELECT integrations.fernet_encrypt('x', 'c2hvcnQ=')$$);
SET frappe_integrations.encryption_key = 'this-is-not-a-key';
SELECT err($$SELECT integrations.fernet_encrypt('x')$$);
RESET frappe_integrations.encryption_key;
SELECT err($$SELECT integrations.fernet_encrypt('x')$$);
SET frappe_integrations.encryption_key = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';

-- Password fields in __Auth, as Frappe's _save_passwords
INSERT INTO "tabWebhook" (name, webhook_doctype, webhook_docevent, request_url, request_method)
VALUES ('hook1', 'Sales Invoice', 'on_submit', 'http://127.0.0.1:9/hook', 'POST');
SELECT integrations.set_password('Webhook', 'hook1', 'webhook_secret', 's3cr3t');
SELECT doctype, name, fieldname, encrypted, password LIKE 'gAAAAA%' AS fernet, length(password) AS len
  FROM "__Auth";
SELECT webhook_secret AS masked FROM "tabWebhook" WHERE name = 'hook1';
SELECT integrations.get_password('Webhook', 'hook1', 'webhook_secret');
-- update: one row, the new value; the mask counts characters, not bytes
SELECT integrations.set_password('Webhook', 'hook1', 'webhook_secret', 'pässwörd');
SELECT count(*) AS rows, integrations.get_password('Webhook', 'hook1', 'webhook_secret') AS value,
       (SELECT webhook_secret FROM "tabWebhook" WHERE name = 'hook1') AS masked
  FROM "__Auth";
-- an empty value deletes the row (Frappe's rule); then the read fails as Frappe's does
SELECT integrations.set_password('Webhook', 'hook1', 'webhook_secret', '');
SELECT count(*) AS rows FROM "__Auth";
SELECT err($$SELECT integrations.get_password('Webhook', 'hook1', 'webhook_secret')$$);
-- API secrets of users
SELECT integrations.set_password('User', 'api@example.com', 'api_secret', 'abcdef012345678');
SELECT api_secret FROM "tabUser" WHERE name = 'api@example.com';
SELECT integrations.get_password('User', 'api@example.com', 'api_secret');
-- Singles keep the mask in tabSingles (a Custom Field makes System Settings carry one)
INSERT INTO "tabCustom Field" (name, dt, fieldname, label, fieldtype, insert_after)
VALUES ('System Settings-custom_smtp_password', 'System Settings', 'custom_smtp_password',
        'SMTP Password', 'Password', 'time_zone');
SELECT integrations.set_password('System Settings', 'System Settings', 'custom_smtp_password', 'mail-pw');
SELECT value FROM "tabSingles" WHERE doctype = 'System Settings' AND field = 'custom_smtp_password';
SELECT integrations.get_password('System Settings', 'System Settings', 'custom_smtp_password');

-- bad input
SELECT err($$SELECT integrations.set_password('Webhook', 'hook1', 'request_url', 'x')$$);
SELECT err($$SELECT integrations.set_password('Webhook', 'hook1', 'no_such_field', 'x')$$);
SELECT err($$SELECT integrations.set_password('Webhook', 'no such hook', 'webhook_secret', 'x')$$);
SELECT err($$SELECT integrations.set_password('No Such DocType', 'x', 'password', 'x')$$);
SELECT err($$SELECT integrations.set_password('System Settings', 'other', 'custom_smtp_password', 'x')$$);
SELECT err($$SELECT integrations.set_password(NULL, 'x', 'y', 'z')$$);
SELECT err($$SELECT integrations.get_password('Webhook', 'hook1''; DELETE FROM "__Auth"; --', 'webhook_secret')$$);
SELECT count(*) AS auth_rows_intact FROM "__Auth";
-- a corrupt stored token and a wrong site key fail clearly, without the value
UPDATE "__Auth" SET password = left(password, 60) WHERE name = 'api@example.com';
SELECT err($$SELECT integrations.get_password('User', 'api@example.com', 'api_secret')$$);
SELECT integrations.set_password('User', 'api@example.com', 'api_secret', 'abcdef012345678');
SET frappe_integrations.encryption_key = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
DO $$
BEGIN
  PERFORM integrations.get_password('User', 'api@example.com', 'api_secret');
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'sqlstate %, message %, mentions a secret: %', SQLSTATE, SQLERRM,
    SQLERRM LIKE '%abcdef012345678%' OR SQLERRM LIKE '%AAAAAAAA%' OR SQLERRM LIKE '%gAAAAA%';
END $$;
SET frappe_integrations.encryption_key = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';

-- passlib: hashes written by python3-passlib verify; ours have passlib's shape
SELECT integrations.passlib_verify('admin123',
  '$pbkdf2-sha256$29000$MDEyMzQ1Njc4OWFiY2RlZg$NHBlffTsUBBEsyzbUshC.4tfZ7ylPsyNjIqBqOJHiH4') AS pbkdf2_ok,
       integrations.passlib_verify('admin124',
  '$pbkdf2-sha256$29000$MDEyMzQ1Njc4OWFiY2RlZg$NHBlffTsUBBEsyzbUshC.4tfZ7ylPsyNjIqBqOJHiH4') AS pbkdf2_wrong,
       integrations.passlib_verify('admin123',
  '$argon2id$v=19$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$sU//NWANGVpoTSt/Imj4jQ') AS argon2_ok,
       integrations.passlib_verify('admin123',
  '$argon2id$v=19$m=102400,t=2,p=8$Z+zdu7eWsraWck6pldK61w$FUn6DxNayyewiBN3XTf3Ig') AS argon2_default_ok;
SELECT h ~ '^\$pbkdf2-sha256\$29000\$[./A-Za-z0-9]{22}\$[./A-Za-z0-9]{43}$' AS passlib_shape,
       integrations.passlib_verify('admin123', h) AS verifies,
       integrations.passlib_verify('Admin123', h) AS wrong_case
  FROM integrations.passlib_hash('admin123') AS h;
SELECT integrations.passlib_hash('x') <> integrations.passlib_hash('x') AS fresh_salt;
SELECT err($$SELECT integrations.passlib_verify('x', '$pbkdf2-sha256$29000$abc')$$);
SELECT err($$SELECT integrations.passlib_verify('x', 'plaintext-password')$$);
SELECT err($$SELECT integrations.passlib_verify('x', '$pbkdf2-sha256$99999999$MDEy$NHBlffTsUBBEsyzbUshC.4tfZ7ylPsyNjIqBqOJHiH4')$$);
SELECT err($$SELECT integrations.passlib_hash('x', 0)$$);

-- HMAC-SHA256: Frappe's webhook signature vector (facts 1.9), RFC 4231
SELECT integrations.hmac_sha256('s3cr3t',
  '{"name": "ACC-SINV-2024-00001", "grand_total": 1180.0, "customer": "Caf\u00e9 \u00dcn\u00efcode", "posting_date": "2024-05-06", "items": [{"item_code": "X", "qty": 2.0}]}') AS frappe_signature;
SELECT integrations.hmac_sha256('Jefe', 'what do ya want for nothing?', 'hex') AS rfc4231,
       integrations.hmac_sha256('\x4a656665'::bytea, convert_to('what do ya want for nothing?', 'UTF8'), 'hex') AS rfc4231_bytea,
       integrations.hmac_sha256('k', 'm', 'base64url') AS url;
SELECT err($$SELECT integrations.hmac_sha256('k', 'm', 'base32')$$);

-- random names and tokens: Frappe's alphabets and lengths, no repeats
SELECT bool_and(n ~ '^[0-9a-v]{10}$') AS hash_names, count(DISTINCT n) AS distinct_names
  FROM (SELECT integrations.random_name() AS n FROM generate_series(1, 2000)) s;
SELECT bool_and(k ~ '^[0-9a-f]{15}$') AS api_keys, count(DISTINCT k) AS distinct_keys
  FROM (SELECT integrations.generate_hash(15) AS k FROM generate_series(1, 2000)) s;
SELECT bool_and(t ~ '^[A-Za-z0-9]{30}$') AS oauth_tokens, count(DISTINCT t) AS distinct_tokens
  FROM (SELECT integrations.generate_token() AS t FROM generate_series(1, 2000)) s;
-- every character of the alphabets turns up
SELECT count(DISTINCT c) AS token_chars
  FROM (SELECT regexp_split_to_table(integrations.generate_token(1000), '') AS c) s;
SELECT count(DISTINCT c) AS name_chars
  FROM (SELECT regexp_split_to_table(string_agg(integrations.random_name(), ''), '') AS c
          FROM generate_series(1, 100)) s;
SELECT length(integrations.generate_hash()) AS default_hash_len;
SELECT err($$SELECT integrations.generate_token(0)$$);
SELECT err($$SELECT integrations.generate_hash(100000)$$);
