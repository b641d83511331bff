-- install: the extension on a Frappe-shaped site
CREATE EXTENSION frappe_integrations;

SELECT extversion = integrations.version() AS versions_match
  FROM pg_extension WHERE extname = 'frappe_integrations';

-- everything lives in the schema "integrations"
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'integrations'
 ORDER BY 1, 2;

-- the meta invalidation trigger sits on the four metadata tables
SELECT c.relname, t.tgname
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgname = 'frappe_integrations_meta'
 ORDER BY 1;
SELECT integrations.sync_meta_triggers() AS attached_again;

-- functions that touch secrets are not for PUBLIC
SELECT p.proname,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_execute
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'integrations'
 ORDER BY 1, 2;

-- the encryption key is hidden from everyone but superusers
SET frappe_integrations.encryption_key = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
SELECT count(*) AS in_show_all FROM pg_settings WHERE name = 'frappe_integrations.encryption_key';
CREATE ROLE fi_plain LOGIN;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO fi_plain;
SET ROLE fi_plain;
SHOW frappe_integrations.encryption_key;
SET frappe_integrations.encryption_key = 'x';
SELECT integrations.get_password('User', 'Administrator', 'api_secret');
SELECT integrations.set_password('Webhook', 'x', 'webhook_secret', 'y');
SELECT integrations.fernet_decrypt('gAAAAA', NULL);
SELECT integrations.sync_meta_triggers();
-- what PUBLIC may use works
SELECT length(integrations.random_name()) AS name_len;
RESET ROLE;

-- unknown settings under our prefix are refused
SET frappe_integrations.no_such_setting = 1;

-- err(sql), used by the tests after this one: run sql, expecting an error;
-- shows SQLSTATE, message, detail and hint
CREATE FUNCTION err(sql text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE st text; msg text; det text; hnt text;
BEGIN
  EXECUTE sql;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                          det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
  RETURN st || ': ' || msg || coalesce(nullif(E'\n  detail: ' || det, E'\n  detail: '), '')
            || coalesce(nullif(E'\n  hint: ' || hnt, E'\n  hint: '), '');
END $f$;
