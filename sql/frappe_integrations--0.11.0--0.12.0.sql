-- frappe_integrations 0.11.0 -> 0.12.0: payments through the worker (issue
-- 22, point 3).  payment_checkout(..., options => '{"async": true}') queues
-- the gateway's call in integrations.http_queue instead of waiting for it;
-- the worker sends it after commit, adding the gateway's key only then
-- (the queue never holds it), and writes the answer into the Integration
-- Request as the synchronous form does.  options.retries (Stripe only: its
-- Idempotency-Key makes a repeat harmless) sends it again after a failure
-- with the worker's back-off; the last failure ends the request Failed
-- with the reason.  The request, its answer and the answer's reading are
-- one body of SQL shared by both forms.
\echo Use "ALTER EXTENSION frappe_integrations UPDATE TO '0.12.0'" to load this file. \quit

ALTER TABLE integrations.http_queue
    ADD COLUMN max_attempts integer NOT NULL DEFAULT 1 CHECK (max_attempts BETWEEN 1 AND 11),
    ADD COLUMN payment jsonb;
COMMENT ON COLUMN integrations.http_queue.max_attempts IS
'How often the worker sends the request in all: 1 (http_request_async: a request from SQL need not be idempotent), more only for a payment gateway''s call that may be repeated';
COMMENT ON COLUMN integrations.http_queue.payment IS
'A payment_checkout call ({"gateway", "settings", "integration_request", "api"}): the worker adds the gateway''s key when it sends, and writes the answer into the Integration Request';

-- The gateway's API call of a checkout, without its key: {"url", "headers",
-- "body"} for a Stripe Checkout Session (form) or a Razorpay Order /
-- Payment Link (JSON).  The Integration Request's name is the Stripe
-- Idempotency-Key, Stripe's client_reference_id and Razorpay's receipt /
-- reference_id.
CREATE FUNCTION integrations.payment_request(gateway text, kind text, integration_request text,
                                             reference_doctype text, reference_docname text, currency text,
                                             units bigint, options jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o jsonb := coalesce(options, '{}');
    ir text := integration_request;
    base text;
    site_url text := rtrim(coalesce(nullif(current_setting('frappe_integrations.site_url', true), ''), ''), '/');
BEGIN
    IF lower(gateway) = 'stripe' THEN
        base := rtrim(current_setting('frappe_integrations.stripe_api_url'), '/');
        RETURN jsonb_build_object(
            'url', base || '/v1/checkout/sessions',
            'headers', jsonb_build_object('Idempotency-Key', ir, 'Content-Type', 'application/x-www-form-urlencoded'),
            'body', integrations.form_encode(jsonb_strip_nulls(jsonb_build_object(
                'mode', 'payment',
                'client_reference_id', ir,
                'success_url', coalesce(o ->> 'success_url', site_url || '/payment-success?doctype='
                                        || integrations.url_encode(reference_doctype) || '&docname='
                                        || integrations.url_encode(reference_docname)),
                'cancel_url', coalesce(o ->> 'cancel_url', site_url || '/payment-failed'),
                'customer_email', o ->> 'payer_email',
                'line_items[0][quantity]', '1',
                'line_items[0][price_data][currency]', lower(currency),
                'line_items[0][price_data][unit_amount]', units::text,
                'line_items[0][price_data][product_data][name]', coalesce(o ->> 'title', reference_doctype || ' ' || reference_docname),
                'line_items[0][price_data][product_data][description]', o ->> 'description',
                'metadata[integration_request]', ir,
                'metadata[reference_doctype]', reference_doctype,
                'metadata[reference_docname]', reference_docname))));
    END IF;
    base := rtrim(current_setting('frappe_integrations.razorpay_api_url'), '/');
    IF kind = 'order' THEN
        RETURN jsonb_build_object(
            'url', base || '/v1/orders',
            'headers', jsonb_build_object('Content-Type', 'application/json'),
            'body', jsonb_build_object('amount', units, 'currency', currency, 'receipt', ir,
                                       'notes', jsonb_build_object('integration_request', ir,
                                                                   'reference_doctype', reference_doctype,
                                                                   'reference_docname', reference_docname))::text);
    END IF;
    RETURN jsonb_build_object(
        'url', base || '/v1/payment_links',
        'headers', jsonb_build_object('Content-Type', 'application/json'),
        'body', jsonb_strip_nulls(jsonb_build_object('amount', units, 'currency', currency, 'reference_id', ir,
                   'description', coalesce(o ->> 'description', o ->> 'title'),
                   'customer', jsonb_strip_nulls(jsonb_build_object('email', o ->> 'payer_email', 'name', o ->> 'payer_name')),
                   'callback_url', o ->> 'success_url',
                   'notes', jsonb_build_object('integration_request', ir, 'reference_doctype', reference_doctype,
                                               'reference_docname', reference_docname)))::text);
END
$$;

-- The Authorization header's value for the gateway's API: Stripe's secret
-- key as a Bearer token, Razorpay's key id and secret as HTTP Basic.
CREATE FUNCTION integrations.payment_authorization(gateway text, settings_name text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s jsonb := integrations.payment_settings(gateway, settings_name);
BEGIN
    IF s ->> 'secret' IS NULL THEN
        RAISE EXCEPTION '% has no %', s ->> 'doctype', CASE lower(gateway) WHEN 'stripe' THEN 'secret_key' ELSE 'api_secret' END
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF lower(gateway) = 'stripe' THEN
        RETURN 'Bearer ' || (s ->> 'secret');
    END IF;
    RETURN 'Basic ' || translate(encode(convert_to((s ->> 'key_id') || ':' || (s ->> 'secret'), 'UTF8'), 'base64'), E'\n', '');
END
$$;

-- The gateway's answer to a checkout's call, written into its Integration
-- Request: the gateway's id as request_id and the answer as output (the
-- request stays Queued: the payer has yet to pay), or Failed with the
-- reason in error (no answer: err; an HTTP error or an answer that is no
-- object with an id).  Only a Queued request the gateway has not answered
-- yet is written.  Returns the reason of a failure, NULL on success.
CREATE FUNCTION integrations.payment_checkout_apply(integration_request text, response_status integer,
                                                    response_body text, err text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    service text;
    j jsonb;
    why text := err;
BEGIN
    EXECUTE format('SELECT integration_request_service FROM %I.%I WHERE name = $1 AND status = ''Queued'' '
                   'AND request_id IS NULL AND coalesce(is_remote_request, 0) = 0 FOR UPDATE', site, 'tabIntegration Request')
       INTO service USING integration_request;
    IF service IS NULL THEN
        RETURN NULL;            -- answered already (a repeat), or no longer waiting
    END IF;
    IF why IS NULL THEN
        BEGIN
            j := response_body::jsonb;
        EXCEPTION WHEN OTHERS THEN
            j := NULL;
        END;
        IF response_status IS NULL OR response_status >= 400 OR j IS NULL OR jsonb_typeof(j) <> 'object'
           OR coalesce(j ->> 'id', '') = '' THEN
            why := format('%s answered HTTP %s', service, coalesce(response_status::text, '(none)'));
        END IF;
    END IF;
    IF why IS NOT NULL THEN
        EXECUTE format('UPDATE %I.%I SET status = ''Failed'', error = $2, modified = $3 WHERE name = $1',
                       site, 'tabIntegration Request')
           USING integration_request,
                 jsonb_pretty(jsonb_strip_nulls(jsonb_build_object('error', why, 'status', response_status,
                                                                    'response', coalesce(j, to_jsonb(left(response_body, 2000)))))),
                 integrations.site_now();
        RETURN why;
    END IF;
    EXECUTE format('UPDATE %I.%I SET request_id = $2, output = $3, modified = $4 WHERE name = $1',
                   site, 'tabIntegration Request')
       USING integration_request, j ->> 'id', jsonb_pretty(j), integrations.site_now();
    RETURN NULL;
END
$$;

-- What payment_checkout returns, read from the Integration Request:
-- {"status", "integration_request", "gateway_id", "amount" (smallest
-- unit), "url" (Stripe, Payment Links), "order" and "key_id" (Razorpay
-- Orders)}; {"status": "Failed", "integration_request", "error"}; or, while
-- the worker has not had the gateway's answer, {"status": "Queued",
-- "integration_request", "amount", "sent": false}.
CREATE FUNCTION integrations.payment_checkout_answer(integration_request text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    r record;
    data jsonb;
    j jsonb;
    e jsonb;
    g text;
    out jsonb;
BEGIN
    EXECUTE format('SELECT integration_request_service AS service, status, request_id, data, output, error FROM %I.%I '
                   'WHERE name = $1 AND coalesce(is_remote_request, 0) = 0', site, 'tabIntegration Request')
       INTO r USING integration_request;
    IF r.service IS NULL OR lower(r.service) NOT IN ('stripe', 'razorpay') THEN
        RAISE EXCEPTION 'no payment''s Integration Request %', coalesce(integration_request, 'NULL')
            USING ERRCODE = 'no_data_found';
    END IF;
    g := lower(r.service);
    IF r.status = 'Failed' AND r.request_id IS NULL THEN
        BEGIN
            e := r.error::jsonb;
        EXCEPTION WHEN OTHERS THEN
            e := to_jsonb(r.error);
        END;
        RETURN jsonb_build_object('status', 'Failed', 'integration_request', integration_request,
                                  'error', coalesce(e ->> 'error', r.error));
    END IF;
    BEGIN
        data := r.data::jsonb;
    EXCEPTION WHEN OTHERS THEN
        data := '{}';
    END;
    out := jsonb_build_object('status', r.status, 'integration_request', integration_request,
                              'amount', integrations.payment_check(g, data ->> 'currency', (data ->> 'amount')::numeric));
    IF r.request_id IS NULL THEN
        RETURN out || jsonb_build_object('sent', false);
    END IF;
    BEGIN
        j := r.output::jsonb;
    EXCEPTION WHEN OTHERS THEN
        j := '{}';
    END;
    out := out || jsonb_build_object('gateway_id', r.request_id);
    IF j ? 'url' THEN
        out := out || jsonb_build_object('url', j ->> 'url');
    ELSIF j ? 'short_url' THEN
        out := out || jsonb_build_object('url', j ->> 'short_url');
    END IF;
    IF g = 'razorpay' AND j ->> 'entity' = 'order' THEN
        out := out || jsonb_build_object('order', j, 'key_id', integrations.payment_settings(g, NULL) ->> 'key_id');
    END IF;
    RETURN out;
END
$$;

-- The payer's checkout, Frappe's get_payment_url for a reference document
-- (see 0.11.0): the controller's checks, an Integration Request, the
-- gateway's call.  options.async: queue the call for the worker (sent
-- after commit) and return {"status": "Queued", "integration_request",
-- "amount", "sent": false, "http_queue_id"}; payment_checkout_result reads
-- the outcome.  options.retries (0-10, with async, Stripe only): send it
-- again after a failure the worker's policy retries (no answer, 408, 429,
-- 5xx; Stripe-Should-Retry honoured) with the same Idempotency-Key.
CREATE OR REPLACE FUNCTION integrations.payment_checkout(gateway text, settings_name text, reference_doctype text,
                                                         reference_docname text, amount numeric, currency text,
                                                         options jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET frappe_integrations.http_log = off
AS $$
DECLARE
    g text := lower(coalesce(gateway, ''));
    service text;
    units bigint;
    o jsonb := coalesce(options, '{}');
    kind text := coalesce(options ->> 'kind', 'order');
    queued boolean;
    retries integer;
    timeout integer;
    data jsonb;
    ir text;
    req jsonb;
    r record;
    resp_status integer;
    resp_body text;
    err text;
    qid bigint;
    auth text;
BEGIN
    IF g NOT IN ('stripe', 'razorpay') THEN
        RAISE EXCEPTION 'unknown payment gateway "%"', coalesce(gateway, 'NULL')
            USING ERRCODE = 'invalid_parameter_value', HINT = 'The gateways are Stripe and Razorpay.';
    END IF;
    IF jsonb_typeof(o) <> 'object' THEN
        RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF reference_doctype IS NULL OR reference_docname IS NULL THEN
        RAISE EXCEPTION 'a payment needs its reference document (reference_doctype, reference_docname)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF g = 'razorpay' AND kind NOT IN ('order', 'payment_link') THEN
        RAISE EXCEPTION 'options.kind must be "order" or "payment_link"' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF o ? 'async' AND jsonb_typeof(o -> 'async') <> 'boolean' THEN
        RAISE EXCEPTION 'options.async must be true or false' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    queued := coalesce((o ->> 'async')::boolean, false);
    IF o ? 'retries' AND (jsonb_typeof(o -> 'retries') <> 'number' OR (o ->> 'retries') !~ '^[0-9]+$'
                          OR (o ->> 'retries')::numeric > 10) THEN
        RAISE EXCEPTION 'options.retries must be a whole number from 0 to 10' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    retries := coalesce((o ->> 'retries')::integer, 0);
    IF retries > 0 AND NOT queued THEN
        RAISE EXCEPTION 'options.retries needs options.async: only the worker sends a call again'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF retries > 0 AND g <> 'stripe' THEN
        RAISE EXCEPTION 'Razorpay''s calls are not sent again: its API takes no idempotency key, and a repeat after a lost answer could make a second order'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Leave options.retries out for Razorpay.';
    END IF;
    IF o ? 'timeout_ms' AND (jsonb_typeof(o -> 'timeout_ms') <> 'number' OR (o ->> 'timeout_ms') !~ '^[0-9]+$'
                             OR (o ->> 'timeout_ms')::numeric NOT BETWEEN 1 AND 600000) THEN
        RAISE EXCEPTION 'options.timeout_ms must be a whole number of milliseconds from 1 to 600000'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    timeout := coalesce((o ->> 'timeout_ms')::integer, 30000);
    service := initcap(g);
    units := integrations.payment_check(g, currency, amount);
    -- the key is there before anything is written (read once; the worker
    -- reads it again when it sends a queued call, and this copy is dropped)
    auth := integrations.payment_authorization(g, settings_name);

    data := jsonb_strip_nulls(jsonb_build_object(
        'amount', amount, 'currency', currency, 'reference_doctype', reference_doctype,
        'reference_docname', reference_docname, 'payer_email', o ->> 'payer_email', 'payer_name', o ->> 'payer_name',
        'title', o ->> 'title', 'description', o ->> 'description', 'payment_gateway', o ->> 'payment_gateway',
        'order_id', o ->> 'order_id'));
    ir := integrations.create_request_log(data, 'Host', service, NULL, NULL, NULL, NULL,
                                          reference_doctype, reference_docname);
    req := integrations.payment_request(g, kind, ir, reference_doctype, reference_docname, currency, units, o);

    IF queued THEN
        auth := NULL;
        qid := integrations.http_request_async('POST', req ->> 'url', req -> 'headers', req ->> 'body', timeout);
        PERFORM integrations.payment_queue_attach(qid, g, settings_name, ir, 1 + retries);
        RETURN integrations.payment_checkout_answer(ir) || jsonb_build_object('http_queue_id', qid);
    END IF;

    BEGIN
        SELECT * INTO r FROM integrations.http_request('POST', req ->> 'url',
                                                       (req -> 'headers') || jsonb_build_object('Authorization', auth),
                                                       req ->> 'body', timeout);
        resp_status := r.status;
        resp_body := r.response_body;
    EXCEPTION WHEN OTHERS THEN
        err := SQLERRM;
    END;
    r := NULL;
    auth := NULL;
    PERFORM integrations.payment_checkout_apply(ir, resp_status, resp_body, err);
    RETURN integrations.payment_checkout_answer(ir);
END
$$;

-- Mark a row that payment_checkout just queued as its gateway call (the
-- queue's owner writes it: no role updates the queue).  Only a pending row
-- never sent, POST to the gateway's own API (frappe_integrations.*_api_url,
-- a superuser's setting) at a checkout's path, with no Authorization of
-- its own, for a Queued Integration Request of that gateway the gateway
-- has not answered: so the worker adds the site's key to nothing else.
CREATE FUNCTION integrations.payment_queue_attach(queue_id bigint, gateway text, settings_name text,
                                                  integration_request text, max_attempts integer)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    g text := lower(gateway);
    api text;
    q record;
    ok boolean;
BEGIN
    api := rtrim(current_setting(CASE g WHEN 'stripe' THEN 'frappe_integrations.stripe_api_url'
                                        ELSE 'frappe_integrations.razorpay_api_url' END), '/');
    SELECT h.method, h.url, h.headers, h.status, h.attempts, h.payment INTO q
      FROM integrations.http_queue h WHERE h.id = queue_id FOR UPDATE;
    IF NOT FOUND OR q.status <> 'pending' OR q.attempts <> 0 OR q.payment IS NOT NULL OR q.method <> 'POST'
       OR g NOT IN ('stripe', 'razorpay')
       OR q.url NOT IN (SELECT api || p FROM unnest(CASE g WHEN 'stripe' THEN ARRAY['/v1/checkout/sessions']
                                                     ELSE ARRAY['/v1/orders', '/v1/payment_links'] END) AS p)
       OR EXISTS (SELECT 1 FROM jsonb_object_keys(q.headers) k WHERE lower(k) = 'authorization')
       OR (max_attempts > 1 AND g <> 'stripe') OR max_attempts NOT BETWEEN 1 AND 11 THEN
        RAISE EXCEPTION 'queued HTTP request % is not a checkout call to the % API', queue_id, initcap(coalesce(g, '?'))
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE name = $1 AND integration_request_service = $2 '
                   'AND status = ''Queued'' AND request_id IS NULL AND coalesce(is_remote_request, 0) = 0)',
                   site, 'tabIntegration Request')
       INTO ok USING integration_request, initcap(g);
    IF NOT ok THEN
        RAISE EXCEPTION 'Integration Request % is no % payment waiting for its checkout', integration_request, initcap(g)
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE integrations.http_queue h
       SET payment = jsonb_build_object('gateway', g, 'settings', settings_name,
                                        'integration_request', payment_queue_attach.integration_request, 'api', api),
           max_attempts = payment_queue_attach.max_attempts
     WHERE h.id = queue_id;
END
$$;

-- The worker, as it sends a payment's call: the Authorization header's
-- value ({"authorization"}), or why it sends nothing ({"error"}: the
-- Integration Request answered meanwhile, the key gone or unreadable).
CREATE FUNCTION integrations.payment_send_authorization(payment jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    waiting boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE name = $1 AND integration_request_service = $2 '
                   'AND status = ''Queued'' AND request_id IS NULL AND coalesce(is_remote_request, 0) = 0)',
                   site, 'tabIntegration Request')
       INTO waiting USING payment ->> 'integration_request', initcap(payment ->> 'gateway');
    IF NOT waiting THEN
        RETURN jsonb_build_object('error', format('Integration Request %s is no longer waiting for its checkout',
                                                  payment ->> 'integration_request'));
    END IF;
    RETURN jsonb_build_object('authorization', integrations.payment_authorization(payment ->> 'gateway', payment ->> 'settings'));
EXCEPTION WHEN OTHERS THEN
    RETURN jsonb_build_object('error', SQLERRM);
END
$$;

-- The worker, once payment calls of integrations.http_queue finished
-- (done or failed, not to be sent again): their answers into their
-- Integration Requests.  A row that cannot be written is left with a
-- warning; the others are written.
CREATE FUNCTION integrations.payment_checkout_finish(ids bigint[])
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    q record;
    n integer := 0;
BEGIN
    FOR q IN SELECT h.id, h.payment, h.status, h.response_status, h.response_body, h.error
               FROM integrations.http_queue h
              WHERE h.id = ANY (ids) AND h.payment IS NOT NULL AND h.status IN ('done', 'failed')
              ORDER BY h.id
    LOOP
        BEGIN
            PERFORM integrations.payment_checkout_apply(q.payment ->> 'integration_request',
                                                        CASE WHEN q.status = 'done' THEN q.response_status END,
                                                        CASE WHEN q.status = 'done' THEN convert_from(q.response_body, 'UTF8') END,
                                                        CASE WHEN q.status = 'failed' THEN coalesce(q.error, 'no response') END);
            n := n + 1;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'the answer of queued HTTP request % could not be written into Integration Request %: %',
                q.id, q.payment ->> 'integration_request', SQLERRM;
        END;
    END LOOP;
    RETURN n;
END
$$;

-- The outcome of a checkout queued with options.async, waiting up to
-- wait_ms for the worker to have the gateway's answer: what payment_checkout
-- returns synchronously.  Waiting in the transaction that queued it is
-- refused (it is sent once that commits).
CREATE FUNCTION integrations.payment_checkout_result(integration_request text, wait_ms integer DEFAULT 0)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    deadline timestamptz := clock_timestamp() + make_interval(secs => greatest(coalesce(wait_ms, 0), 0) / 1000.0);
    a jsonb;
    mine boolean;
BEGIN
    LOOP
        a := integrations.payment_checkout_answer(integration_request);
        EXIT WHEN NOT coalesce(a ? 'sent', false) OR clock_timestamp() >= deadline;
        EXECUTE format('SELECT xmin::text = (pg_current_xact_id_if_assigned()::text::numeric %% 4294967296)::text FROM %I.%I '
                       'WHERE name = $1', site, 'tabIntegration Request')
           INTO mine USING integration_request;
        IF mine THEN
            RAISE EXCEPTION 'the checkout of Integration Request % is sent when this transaction commits', integration_request
                USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Wait for its result in a later transaction.';
        END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
    RETURN a;
END
$$;

COMMENT ON FUNCTION integrations.payment_request(text, text, text, text, text, text, bigint, jsonb) IS
'The gateway''s API call of a checkout, without its key: {"url", "headers", "body"}';
COMMENT ON FUNCTION integrations.payment_authorization(text, text) IS
'The Authorization header for the gateway''s API, from the settings row''s keys in __Auth';
COMMENT ON FUNCTION integrations.payment_checkout_apply(text, integer, text, text) IS
'The gateway''s answer to a checkout written into its Integration Request (request_id and output, or Failed with the reason)';
COMMENT ON FUNCTION integrations.payment_checkout_answer(text) IS
'What payment_checkout returns, read from the Integration Request';
COMMENT ON FUNCTION integrations.payment_queue_attach(bigint, text, text, text, integer) IS
'payment_checkout''s: mark the HTTP request it queued as the gateway''s checkout call (the worker adds the key when it sends)';
COMMENT ON FUNCTION integrations.payment_send_authorization(jsonb) IS
'The worker''s: the Authorization of a queued payment call, or why it is not sent';
COMMENT ON FUNCTION integrations.payment_checkout_finish(bigint[]) IS
'The worker''s: the answers of finished payment calls into their Integration Requests';
COMMENT ON FUNCTION integrations.payment_checkout_result(text, integer) IS
'The outcome of a checkout queued with options.async (what payment_checkout returns), waiting up to wait_ms for it';
COMMENT ON FUNCTION integrations.payment_checkout(text, text, text, text, numeric, text, jsonb) IS
'A payment for a reference document: the controller''s checks, an Integration Request, a Stripe Checkout Session or a Razorpay Order / Payment Link, now or (options.async, with options.retries for Stripe) through the worker; where to send the payer';

REVOKE ALL ON FUNCTION integrations.payment_request(text, text, text, text, text, text, bigint, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.payment_authorization(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.payment_checkout_apply(text, integer, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.payment_checkout_answer(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.payment_queue_attach(bigint, text, text, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.payment_send_authorization(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.payment_checkout_finish(bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.payment_checkout_result(text, integer) FROM PUBLIC;
