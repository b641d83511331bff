-- frappe_integrations 0.3.0 -> 0.4.0: a queue the worker reads in due order,
-- and an outbox for the events of large transactions.
\echo Use "ALTER EXTENSION frappe_integrations UPDATE TO '0.4.0'" to load this file. \quit

-- A claimed row is due again when its lease ends: claiming moves its
-- next_attempt_at to the lease's end, so "due" is one range of one index
-- for pending and claimed rows alike, read in order and stopped after a
-- batch (the old claim sorted every due row for each batch).
UPDATE integrations.webhook_queue SET next_attempt_at = lease_until
 WHERE status = 'sending' AND lease_until IS NOT NULL;
DROP INDEX integrations.webhook_queue_due;
CREATE INDEX webhook_queue_due ON integrations.webhook_queue (next_attempt_at, id)
    WHERE status IN ('pending', 'sending');

-- Every commit that fires a webhook pays for each index of the queue; the
-- (webhook, status) index served only webhook_status, which reads the
-- queue on demand.
DROP INDEX integrations.webhook_queue_webhook;

COMMENT ON COLUMN integrations.webhook_queue.next_attempt_at IS
    'when the event is due: its next attempt (pending) or the end of its lease (sending)';

-- A transaction that fires webhooks for many documents (a bulk UPDATE, an
-- import) writes its events at commit as a few rows of arrays here, each
-- holding a batch of events with their ids, bodies and headers fixed; the
-- worker moves them into webhook_queue (one event a row) in a transaction
-- of its own before it delivers them.  Writing 100,000 queue rows cost a
-- bulk statement more than the statement itself; these rows cost little.
CREATE TABLE integrations.webhook_outbox (
    id              bigserial PRIMARY KEY,
    created_at      timestamptz NOT NULL DEFAULT now(),
    events          integer NOT NULL,
    event_id        uuid[] NOT NULL,
    webhook         text[] NOT NULL,
    doctype         text[] NOT NULL,
    docname         text[] NOT NULL,
    event           text[] NOT NULL,
    method          text[] NOT NULL,
    url             text[] NOT NULL,
    headers         text[] NOT NULL,
    body            bytea[] NOT NULL,
    sign            boolean[] NOT NULL,
    timeout_ms      integer[] NOT NULL,
    doc_user        text[] NOT NULL,
    status          text[] NOT NULL,
    last_error      text[] NOT NULL
);
COMMENT ON TABLE integrations.webhook_outbox IS
'Webhook events of large transactions, as committed (a batch of events a row, the columns of webhook_queue as arrays); the worker moves them into webhook_queue before delivering them';
REVOKE ALL ON integrations.webhook_outbox FROM PUBLIC;
-- Its arrays are always stored out of line; compressing them with pglz cost
-- a bulk commit about a tenth of its time.  lz4 where the server has it
-- (PostgreSQL 14+ built with lz4), else no compression at all.
DO $$
DECLARE
    cols text := 'event_id, webhook, doctype, docname, event, method, url, headers, body, sign, '
                 'timeout_ms, doc_user, status, last_error';
    alter_lz4 text;
    alter_ext text;
BEGIN
    SELECT string_agg(format('ALTER COLUMN %I SET COMPRESSION lz4', c), ', '),
           string_agg(format('ALTER COLUMN %I SET STORAGE EXTERNAL', c), ', ')
      INTO alter_lz4, alter_ext
      FROM unnest(string_to_array(replace(cols, ' ', ''), ',')) AS c;
    IF current_setting('server_version_num')::int >= 140000 THEN
        BEGIN
            EXECUTE 'ALTER TABLE integrations.webhook_outbox ' || alter_lz4;
            RETURN;
        EXCEPTION WHEN OTHERS THEN
            NULL;           -- built without lz4
        END;
    END IF;
    EXECUTE 'ALTER TABLE integrations.webhook_outbox ' || alter_ext;
END
$$;

-- webhook_status reads the queue once for all webhooks (it read it once per
-- webhook through the index dropped above).
CREATE OR REPLACE VIEW integrations.webhook_status AS
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
  LEFT JOIN (
       SELECT webhook,
              count(*) FILTER (WHERE status IN ('pending', 'sending')) AS pending,
              count(*) FILTER (WHERE status = 'failed') AS failed,
              min(created_at) FILTER (WHERE status IN ('pending', 'sending')) AS oldest_pending,
              max(delivered_at) AS last_success,
              (array_agg(last_error ORDER BY id DESC) FILTER (WHERE last_error IS NOT NULL))[1] AS last_error
         FROM (SELECT webhook, status, created_at, delivered_at, last_error, id
                 FROM integrations.webhook_queue
               UNION ALL
               SELECT x.webhook, x.status, o.created_at, NULL, x.last_error, NULL
                 FROM integrations.webhook_outbox o,
                      unnest(o.webhook, o.status, o.last_error) AS x(webhook, status, last_error)) e
        GROUP BY webhook) q ON q.webhook = w.webhook;

-- Re-queued events wake the worker when the transaction commits (they
-- waited for its next look at the queue).
CREATE FUNCTION integrations.wake_webhook_worker()
RETURNS void
AS 'MODULE_PATHNAME', 'fi_webhook_wake_at_commit'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION integrations.wake_webhook_worker() IS
'Wake the database''s webhook worker when the transaction commits (after changing webhook_queue by hand)';
REVOKE ALL ON FUNCTION integrations.wake_webhook_worker() FROM PUBLIC;

CREATE OR REPLACE FUNCTION integrations.retry_webhook_events(webhook text DEFAULT NULL, since timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE sql VOLATILE
AS $$
    SELECT integrations.wake_webhook_worker();
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
