/* frappe_integrations 0.2.0 -> 0.3.0: webhooks fired from the database (capture and queue) */
\echo Use "ALTER EXTENSION frappe_integrations UPDATE TO '0.3.0'" to load this file. \quit

CREATE FUNCTION integrations.site_now()
RETURNS timestamp
AS 'MODULE_PATHNAME', 'fi_site_now'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION integrations.site_now() IS
'frappe.utils.now(): the transaction''s start on the site''s clock (System Settings time_zone)';

-- One row per (webhook, document) of each committed transaction.  The body
-- bytes are fixed at commit; the signature is made at send time from the
-- secret in __Auth, which is never stored here.
CREATE TABLE integrations.webhook_queue (
    id              bigserial PRIMARY KEY,
    event_id        uuid NOT NULL DEFAULT gen_random_uuid(),
    webhook         text NOT NULL,
    doctype         text NOT NULL,
    docname         text NOT NULL,
    event           text NOT NULL,
    method          text NOT NULL,
    url             text,
    headers         jsonb NOT NULL DEFAULT '[]',
    body            bytea NOT NULL,
    sign            boolean NOT NULL DEFAULT false,
    timeout_ms      integer NOT NULL DEFAULT 5000,
    doc_user        text,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until     timestamptz,
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX webhook_queue_due ON integrations.webhook_queue (next_attempt_at)
    WHERE status IN ('pending', 'sending');
CREATE INDEX webhook_queue_webhook ON integrations.webhook_queue (webhook, status);
COMMENT ON TABLE integrations.webhook_queue IS
'Webhook events queued at commit: headers are the Webhook Header rows (no secret), body the exact bytes sent; status pending, sending, delivered or failed (dead letter, payload kept)';
REVOKE ALL ON integrations.webhook_queue FROM PUBLIC;

CREATE FUNCTION integrations.webhook_capture()
RETURNS trigger
AS 'MODULE_PATHNAME', 'fi_webhook_capture'
LANGUAGE C;
COMMENT ON FUNCTION integrations.webhook_capture() IS
'Row trigger on the tables of DocTypes with webhooks (and, with argument ''child'', their child tables): notes the document for the commit-time flush';

CREATE FUNCTION integrations.webhook_config_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'fi_webhook_config_changed'
LANGUAGE C;
COMMENT ON FUNCTION integrations.webhook_config_changed() IS
'Statement trigger on tabWebhook: brings the capture triggers up to date (a failure is a WARNING, never a refused write)';

CREATE FUNCTION integrations.sync_webhooks()
RETURNS integer
AS 'MODULE_PATHNAME', 'fi_sync_webhooks'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION integrations.sync_webhooks() FROM PUBLIC;
COMMENT ON FUNCTION integrations.sync_webhooks() IS
'Attach the capture triggers the enabled rows of tabWebhook need and detach the others; returns how many changed (runs by itself after each change of tabWebhook)';

CREATE FUNCTION integrations.webhook_problem(webhook text)
RETURNS text
AS 'MODULE_PATHNAME', 'fi_webhook_problem'
LANGUAGE C STABLE STRICT;
REVOKE ALL ON FUNCTION integrations.webhook_problem(text) FROM PUBLIC;
COMMENT ON FUNCTION integrations.webhook_problem(text) IS
'Why a webhook cannot be used as configured (NULL when it can): missing table, unknown event or method, bad URL, header or template syntax, missing secret';

CREATE FUNCTION integrations.webhook_preview(webhook text, docname text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fi_webhook_preview'
LANGUAGE C STABLE STRICT;
REVOKE ALL ON FUNCTION integrations.webhook_preview(text, text) FROM PUBLIC;
COMMENT ON FUNCTION integrations.webhook_preview(text, text) IS
'What the webhook would send for the document now: meets_condition, method, url, headers, signed, body (Frappe''s preview)';

CREATE FUNCTION integrations.retry_webhook_events(webhook text DEFAULT NULL, since timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE sql VOLATILE
AS $$
    WITH r AS (
        UPDATE integrations.webhook_queue q
           SET status = 'pending', attempts = 0, next_attempt_at = now(),
               lease_until = NULL, last_error = NULL
         WHERE q.status = 'failed' AND q.url IS NOT NULL
           AND ($1 IS NULL OR q.webhook = $1)
           AND ($2 IS NULL OR q.created_at >= $2)
        RETURNING 1)
    SELECT count(*) FROM r
$$;
COMMENT ON FUNCTION integrations.retry_webhook_events(text, timestamptz) IS
'Queue failed events again (all, one webhook''s, or those created since a time); returns how many';
REVOKE ALL ON FUNCTION integrations.retry_webhook_events(text, timestamptz) FROM PUBLIC;

CREATE FUNCTION integrations.webhook_config_rows(
    OUT webhook text, OUT doctype text, OUT docevent text, OUT enabled boolean, OUT problem text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    tbl text := format('%I.%I', current_setting('frappe_integrations.site_schema'), 'tabWebhook');
BEGIN
    IF to_regclass(tbl) IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT name::text, webhook_doctype::text, webhook_docevent::text, enabled = 1,
                integrations.webhook_problem(name) FROM %s ORDER BY name', tbl);
END
$$;

CREATE VIEW integrations.webhook_status AS
SELECT w.webhook,
       w.doctype,
       w.docevent,
       w.enabled,
       w.problem IS NULL AS usable,
       w.problem,
       coalesce(q.pending, 0) AS pending,
       coalesce(q.failed, 0) AS failed,
       now() - q.oldest_pending AS oldest_pending_age,
       q.last_success,
       q.last_error
  FROM integrations.webhook_config_rows() w
  LEFT JOIN LATERAL (
       SELECT count(*) FILTER (WHERE status IN ('pending', 'sending')) AS pending,
              count(*) FILTER (WHERE status = 'failed') AS failed,
              min(created_at) FILTER (WHERE status IN ('pending', 'sending')) AS oldest_pending,
              max(delivered_at) AS last_success,
              (array_agg(last_error ORDER BY id DESC) FILTER (WHERE last_error IS NOT NULL))[1] AS last_error
         FROM integrations.webhook_queue
        WHERE webhook = w.webhook) q ON true;
COMMENT ON VIEW integrations.webhook_status IS
'Per webhook of the site: enabled, usable and why not, events pending and failed, age of the oldest pending, last success, last error';
REVOKE ALL ON integrations.webhook_status FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.webhook_config_rows() FROM PUBLIC;

-- the capture triggers for the webhooks the site has now
SELECT integrations.sync_webhooks() >= 0 AS webhook_triggers_synced;
