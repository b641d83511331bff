-- frappe_integrations 0.7.0 -> 0.8.0: privilege boundaries (README "Privileges").
\echo Use "ALTER EXTENSION frappe_integrations UPDATE TO '0.8.0'" to load this file. \quit

-- Who last wrote each webhook (its tabWebhook row, or a Header/Data row of
-- it), noted by the trigger frappe_integrations_webhook_author that
-- sync_webhooks attaches.  A webhook sends a document only when that role
-- may read the DocType's tables, and (unless it owns tabWebhook) run
-- integrations.http_request.  No role reads or writes it but the owner.
CREATE TABLE integrations.webhook_author (
    webhook   text PRIMARY KEY,
    author    oid NOT NULL,
    noted_at  timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON integrations.webhook_author FROM PUBLIC;
COMMENT ON TABLE integrations.webhook_author IS
'The role (pg_authid oid) that last wrote each webhook: its documents are sent only if that role may read them';

CREATE FUNCTION integrations.webhook_author_noted()
RETURNS trigger
AS 'MODULE_PATHNAME', 'fi_webhook_author_noted'
LANGUAGE C;
REVOKE ALL ON FUNCTION integrations.webhook_author_noted() FROM PUBLIC;

-- The async queue: rows are written only by http_request_async (as the
-- queue's owner, for the calling role); each role sees its own rows only.
ALTER TABLE integrations.http_queue ENABLE ROW LEVEL SECURITY;
CREATE POLICY http_queue_own ON integrations.http_queue
    FOR SELECT USING (requested_by OPERATOR(pg_catalog.=) current_user);
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON integrations.http_queue FROM PUBLIC;

-- Logical replication: a FOR ALL TABLES publication carries the queues, but
-- a subscriber must neither deliver the publisher's events again nor fail
-- on their ids.  This trigger fires only in replication's apply (ENABLE
-- REPLICA) and drops the row.
CREATE FUNCTION integrations.drop_replicated_row()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION integrations.drop_replicated_row() FROM PUBLIC;
CREATE TRIGGER frappe_integrations_not_replicated BEFORE INSERT OR UPDATE ON integrations.webhook_queue
    FOR EACH ROW EXECUTE FUNCTION integrations.drop_replicated_row();
ALTER TABLE integrations.webhook_queue ENABLE REPLICA TRIGGER frappe_integrations_not_replicated;
CREATE TRIGGER frappe_integrations_not_replicated BEFORE INSERT OR UPDATE ON integrations.webhook_outbox
    FOR EACH ROW EXECUTE FUNCTION integrations.drop_replicated_row();
ALTER TABLE integrations.webhook_outbox ENABLE REPLICA TRIGGER frappe_integrations_not_replicated;
CREATE TRIGGER frappe_integrations_not_replicated BEFORE INSERT OR UPDATE ON integrations.http_queue
    FOR EACH ROW EXECUTE FUNCTION integrations.drop_replicated_row();
ALTER TABLE integrations.http_queue ENABLE REPLICA TRIGGER frappe_integrations_not_replicated;
CREATE TRIGGER frappe_integrations_not_replicated BEFORE INSERT OR UPDATE ON integrations.webhook_author
    FOR EACH ROW EXECUTE FUNCTION integrations.drop_replicated_row();
ALTER TABLE integrations.webhook_author ENABLE REPLICA TRIGGER frappe_integrations_not_replicated;

-- pg_dump keeps what is still to do: events not yet delivered (pending,
-- sending, failed: dead letters stay retryable), the outbox, the queued
-- HTTP requests and their results, the authors; and the sequences, so that
-- ids go on.  Delivered events are history and are not dumped.
SELECT pg_catalog.pg_extension_config_dump('integrations.webhook_queue',
                                           'WHERE status <> ''delivered''');
SELECT pg_catalog.pg_extension_config_dump('integrations.webhook_queue_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('integrations.webhook_outbox', '');
SELECT pg_catalog.pg_extension_config_dump('integrations.webhook_outbox_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('integrations.http_queue', '');
SELECT pg_catalog.pg_extension_config_dump('integrations.http_queue_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('integrations.webhook_author', '');



-- A Connected App's redirect_uri is the one Frappe wrote on the app's row
-- when it was saved; frappe_integrations.site_url makes one only for a row
-- without it (a token refresh no longer needs site_url).
CREATE OR REPLACE FUNCTION integrations.connected_app(app text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    a jsonb;
    scopes text;
    qp jsonb;
BEGIN
    EXECUTE format('SELECT to_jsonb(c) FROM %I.%I c WHERE name = $1', site, 'tabConnected App') INTO a USING app;
    IF a IS NULL THEN
        RAISE EXCEPTION 'Connected App % not found', app USING ERRCODE = 'no_data_found';
    END IF;
    EXECUTE format('SELECT string_agg(scope, '' '' ORDER BY idx) FROM %I.%I WHERE parent = $1 AND parenttype = ''Connected App''',
                   site, 'tabOAuth Scope') INTO scopes USING app;
    EXECUTE format('SELECT coalesce(jsonb_object_agg(key, value), ''{}'') FROM %I.%I WHERE parent = $1 AND parenttype = ''Connected App''',
                   site, 'tabQuery Parameters') INTO qp USING app;
    RETURN a || jsonb_build_object('scope', coalesce(scopes, ''), 'query', qp,
        'redirect_uri', coalesce(nullif(a ->> 'redirect_uri', ''),
            integrations.oauth_issuer() || '/api/method/frappe.integrations.doctype.connected_app.connected_app.callback/' || app));
END
$$;
REVOKE ALL ON FUNCTION integrations.connected_app(text) FROM PUBLIC;

-- Every SQL and PL/pgSQL function of the extension runs with search_path
-- pinned: a search_path the site's owner set (ALTER DATABASE ... SET) must
-- not put their functions or operators in front of the built-ins when a
-- more privileged role calls ours.  (The C functions pin it themselves
-- where they run SQL on the site's behalf.)
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
             JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype = 'e'
             JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'frappe_integrations'
             JOIN pg_catalog.pg_language l ON l.oid = p.prolang
             WHERE l.lanname IN ('sql', 'plpgsql') AND p.proconfig IS NULL
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f);
    END LOOP;
END
$$;

-- the author triggers on the site's webhook tables
SELECT integrations.sync_webhooks() >= 0 AS webhook_triggers_synced;
