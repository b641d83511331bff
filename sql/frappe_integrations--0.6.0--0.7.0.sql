-- frappe_integrations 0.6.0 -> 0.7.0: HTTP requests queued to the worker.
\echo Use "ALTER EXTENSION frappe_integrations UPDATE TO '0.7.0'" to load this file. \quit

-- integrations.http_request_async checks a request as http_request does and
-- queues it here; once the transaction commits, the database's worker sends
-- it (one attempt: a request from SQL need not be idempotent) and writes
-- the response into the same row, which is kept for
-- frappe_integrations.http_retention after it finished.  status: pending,
-- sending (claimed, with a lease), done (a response came, whatever its
-- HTTP status) or failed (none came: error says why).
CREATE TABLE integrations.http_queue (
    id               bigserial PRIMARY KEY,
    method           text NOT NULL
                     CHECK (method IN ('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS')),
    url              text NOT NULL,
    headers          jsonb NOT NULL DEFAULT '{}',
    body             bytea,
    timeout_ms       integer NOT NULL CHECK (timeout_ms BETWEEN 1 AND 600000),
    max_redirects    integer NOT NULL DEFAULT 5 CHECK (max_redirects BETWEEN 0 AND 20),
    max_response     bigint NOT NULL CHECK (max_response > 0),
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sending', 'done', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,
    response_status  integer,
    response_headers jsonb,
    response_body    bytea,
    error            text,
    integration_request text,
    requested_by     name NOT NULL DEFAULT current_user,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX http_queue_due ON integrations.http_queue (next_attempt_at, id)
    WHERE status IN ('pending', 'sending');
CREATE INDEX http_queue_finished ON integrations.http_queue (finished_at)
    WHERE finished_at IS NOT NULL;
COMMENT ON TABLE integrations.http_queue IS
'Requests of integrations.http_request_async and their responses: status pending, sending, done (response_status, response_headers, response_body) or failed (error); deleted frappe_integrations.http_retention after finished_at';
COMMENT ON COLUMN integrations.http_queue.integration_request IS
'The tabIntegration Request row written when frappe_integrations.http_log was on (Queued, then Completed or Failed)';
REVOKE ALL ON integrations.http_queue FROM PUBLIC;

CREATE FUNCTION integrations.http_request_async(method text, url text, headers jsonb DEFAULT '{}',
                                                body text DEFAULT NULL, timeout_ms integer DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'fi_http_request_async'
LANGUAGE C VOLATILE;
CREATE FUNCTION integrations.http_request_async(method text, url text, headers jsonb,
                                                body bytea, timeout_ms integer DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'fi_http_request_async'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION integrations.http_request_async(text, text, jsonb, text, integer) IS
'Queue an HTTP request (checked as http_request checks it) for the worker to send after commit; returns its integrations.http_queue id';
COMMENT ON FUNCTION integrations.http_request_async(text, text, jsonb, bytea, integer) IS
'http_request_async with a binary body';
REVOKE ALL ON FUNCTION integrations.http_request_async(text, text, jsonb, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.http_request_async(text, text, jsonb, bytea, integer) FROM PUBLIC;

-- The outcome of a queued request, waiting up to wait_ms for it.  A request
-- queued by this very transaction is sent only once it commits: waiting for
-- it here would wait for nothing, so that is refused.
CREATE FUNCTION integrations.http_result(id bigint, wait_ms integer DEFAULT 0)
RETURNS TABLE (status text, response_status integer, response_headers jsonb,
               response_body text, error text)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q integrations.http_queue;
    mine boolean;
    deadline timestamptz := clock_timestamp() + make_interval(secs => greatest(wait_ms, 0) / 1000.0);
BEGIN
    LOOP
        SELECT * INTO q FROM integrations.http_queue h WHERE h.id = http_result.id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no queued HTTP request %', http_result.id
                USING ERRCODE = 'no_data_found',
                      HINT = 'Results are deleted frappe_integrations.http_retention after the request finished.';
        END IF;
        EXIT WHEN q.status IN ('done', 'failed') OR clock_timestamp() >= deadline;
        SELECT h.xmin::text = (pg_current_xact_id_if_assigned()::text::numeric % 4294967296)::text
          INTO mine FROM integrations.http_queue h WHERE h.id = http_result.id;
        IF mine THEN
            RAISE EXCEPTION 'HTTP request % is sent when this transaction commits', http_result.id
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Wait for its result in a later transaction.';
        END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
    status := q.status;
    response_status := q.response_status;
    response_headers := q.response_headers;
    response_body := convert_from(q.response_body, 'UTF8');
    error := q.error;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION integrations.http_result(bigint, integer) IS
'The outcome of http_request_async''s request (status pending, sending, done or failed; the response; the error), waiting up to wait_ms for it to finish';
REVOKE ALL ON FUNCTION integrations.http_result(bigint, integer) FROM PUBLIC;
