-- frappe_integrations 0.10.0 -> 0.11.0: payments from the database (issue
-- 22, first part): a checkout with Stripe (Checkout Sessions) or Razorpay
-- (Orders, Payment Links) from the site's own settings rows, tracked by an
-- Integration Request; the gateway's webhook verified and applied once;
-- the Payment Request told.  The rules are src/engine/payments.c's.
\echo Use "ALTER EXTENSION frappe_integrations UPDATE TO '0.11.0'" to load this file. \quit

CREATE FUNCTION integrations.payment_check(gateway text, currency text, amount numeric)
RETURNS bigint
AS 'MODULE_PATHNAME', 'fi_payment_check'
LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION integrations.payment_check(text, text, numeric) IS
'The gateway controller''s currency and minimum checks (Frappe''s messages); the amount in the gateway''s smallest unit';

CREATE FUNCTION integrations.payment_event_status(gateway text, event_type text, payment_status text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'fi_payment_event_status'
LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION integrations.payment_event_status(text, text, text) IS
'The Integration Request status a gateway''s event means (NULL: none)';

CREATE FUNCTION integrations.payment_status_moves(from_status text, to_status text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'fi_payment_status_moves'
LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION integrations.payment_status_moves(text, text) IS
'A payment may move from this status to that one (Completed, Failed and Cancelled are final)';

-- The gateway's keys: Stripe Settings (named by gateway_name) or the single
-- Razorpay Settings, their Password fields in __Auth.  {"key_id", "secret",
-- "webhook_secret"}; what is not there is NULL.  The webhook's signing
-- secret is a Password field the site adds to the settings DocType (Custom
-- Field webhook_secret, or custom_webhook_secret as Frappe v15 names a
-- custom field): the payments app has none.
CREATE FUNCTION integrations.payment_settings(gateway text, settings_name text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    found_name text;
    key_id text;
    doc text;
    secret_field text;
BEGIN
    IF lower(gateway) = 'stripe' THEN
        doc := 'Stripe Settings';
        secret_field := 'secret_key';
        IF to_regclass(format('%I.%I', site, 'tabStripe Settings')) IS NOT NULL THEN
            EXECUTE format('SELECT name, publishable_key FROM %I.%I WHERE name = $1', site, 'tabStripe Settings')
               INTO found_name, key_id USING settings_name;
        END IF;
        IF found_name IS NULL THEN
            RAISE EXCEPTION 'Stripe Settings % not found', coalesce(settings_name, 'NULL')
                USING ERRCODE = 'no_data_found', HINT = 'Name the Stripe Settings row (its gateway_name).';
        END IF;
    ELSE
        doc := 'Razorpay Settings';
        secret_field := 'api_secret';
        found_name := 'Razorpay Settings';
        EXECUTE format('SELECT nullif(value, '''') FROM %I.%I WHERE doctype = ''Razorpay Settings'' AND field = ''api_key''',
                       site, 'tabSingles') INTO key_id;
        IF key_id IS NULL THEN
            RAISE EXCEPTION 'Razorpay Settings has no api_key' USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
    END IF;
    RETURN jsonb_build_object('doctype', doc, 'name', found_name, 'key_id', key_id,
                              'secret', integrations.payment_password(doc, found_name, secret_field),
                              'webhook_secret', coalesce(integrations.payment_password(doc, found_name, 'webhook_secret'),
                                                         integrations.payment_password(doc, found_name, 'custom_webhook_secret')));
END
$$;

-- a Password field of a settings row, NULL when it has none
CREATE FUNCTION integrations.payment_password(doctype text, name text, fieldname text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN integrations.get_password(doctype, name, fieldname);
EXCEPTION WHEN no_data_found THEN
    RETURN NULL;
END
$$;

-- The payer's checkout, Frappe's get_payment_url for a reference document:
-- the controller's checks (currency, minimum), an Integration Request
-- (Queued, its data the payment's), the gateway asked for a Checkout
-- Session (Stripe) or an Order / a Payment Link (Razorpay, options.kind
-- 'order' or 'payment_link'), its id kept as the request's request_id and
-- its answer as output.  Returns {"status": "Queued", "integration_request",
-- "gateway_id", "amount" (smallest unit), "url" (Stripe, Payment Links),
-- "order" (Razorpay Orders: for its checkout.js)}.  A gateway that is down,
-- slow or refuses: the Integration Request Failed with the reason in error,
-- and {"status": "Failed", "integration_request", "error"} (nothing raised:
-- the row stays).  The request carries the Integration Request's name as
-- Stripe's Idempotency-Key.
CREATE FUNCTION integrations.payment_checkout(gateway text, settings_name text, reference_doctype text,
                                              reference_docname text, amount numeric, currency text,
                                              options jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET frappe_integrations.http_log = off
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    g text := lower(coalesce(gateway, ''));
    service text;
    units bigint;
    s jsonb;
    o jsonb := coalesce(options, '{}');
    kind text := coalesce(options ->> 'kind', 'order');
    data jsonb;
    ir text;
    base text;
    url text;
    headers jsonb;
    body text;
    r record;
    resp_status integer;
    resp_body text;
    j jsonb;
    err text;
    site_url text := rtrim(coalesce(nullif(current_setting('frappe_integrations.site_url', true), ''), ''), '/');
    out jsonb;
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
    service := initcap(g);
    units := integrations.payment_check(g, currency, amount);
    s := integrations.payment_settings(g, settings_name);
    IF s ->> 'secret' IS NULL THEN
        RAISE EXCEPTION '% has no %', s ->> 'doctype', CASE g WHEN 'stripe' THEN 'secret_key' ELSE 'api_secret' END
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    data := jsonb_strip_nulls(jsonb_build_object(
        'amount', amount, 'currency', currency, 'reference_doctype', reference_doctype,
        'reference_docname', reference_docname, 'payer_email', o ->> 'payer_email', 'payer_name', o ->> 'payer_name',
        'title', o ->> 'title', 'description', o ->> 'description', 'payment_gateway', o ->> 'payment_gateway',
        'order_id', o ->> 'order_id'));
    ir := integrations.create_request_log(data, 'Host', service, NULL, NULL, NULL, NULL,
                                          reference_doctype, reference_docname);

    IF g = 'stripe' THEN
        base := rtrim(current_setting('frappe_integrations.stripe_api_url'), '/');
        url := base || '/v1/checkout/sessions';
        headers := jsonb_build_object('Authorization', 'Bearer ' || (s ->> 'secret'), 'Idempotency-Key', ir,
                                      'Content-Type', 'application/x-www-form-urlencoded');
        body := integrations.form_encode(jsonb_strip_nulls(jsonb_build_object(
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
            'metadata[reference_docname]', reference_docname)));
    ELSE
        base := rtrim(current_setting('frappe_integrations.razorpay_api_url'), '/');
        headers := jsonb_build_object('Authorization', 'Basic ' || translate(encode(convert_to((s ->> 'key_id') || ':' || (s ->> 'secret'), 'UTF8'), 'base64'), E'\n', ''),
                                      'Content-Type', 'application/json');
        IF kind = 'order' THEN
            url := base || '/v1/orders';
            body := jsonb_build_object('amount', units, 'currency', currency, 'receipt', ir,
                                       'notes', jsonb_build_object('integration_request', ir,
                                                                   'reference_doctype', reference_doctype,
                                                                   'reference_docname', reference_docname))::text;
        ELSE
            url := base || '/v1/payment_links';
            body := jsonb_strip_nulls(jsonb_build_object('amount', units, 'currency', currency, 'reference_id', ir,
                       'description', coalesce(o ->> 'description', o ->> 'title'),
                       'customer', jsonb_strip_nulls(jsonb_build_object('email', o ->> 'payer_email', 'name', o ->> 'payer_name')),
                       'callback_url', o ->> 'success_url',
                       'notes', jsonb_build_object('integration_request', ir, 'reference_doctype', reference_doctype,
                                                   'reference_docname', reference_docname)))::text;
        END IF;
    END IF;
    s := NULL;

    BEGIN
        SELECT * INTO r FROM integrations.http_request('POST', url, headers, body,
                                                       coalesce((o ->> 'timeout_ms')::integer, 30000));
        resp_status := r.status;
        resp_body := r.response_body;
    EXCEPTION WHEN OTHERS THEN
        err := SQLERRM;
    END;
    headers := NULL;
    IF err IS NULL THEN
        BEGIN
            j := resp_body::jsonb;
        EXCEPTION WHEN OTHERS THEN
            j := NULL;
        END;
        IF resp_status >= 400 OR j IS NULL OR jsonb_typeof(j) <> 'object' OR coalesce(j ->> 'id', '') = '' THEN
            err := format('%s answered HTTP %s', service, resp_status);
        END IF;
    END IF;
    IF err IS NOT NULL THEN
        EXECUTE format('UPDATE %I.%I SET status = ''Failed'', error = $2, modified = $3 WHERE name = $1',
                       site, 'tabIntegration Request')
           USING ir, jsonb_pretty(jsonb_strip_nulls(jsonb_build_object('error', err, 'status', resp_status,
                                                                        'response', coalesce(j, to_jsonb(left(resp_body, 2000)))))),
                 integrations.site_now();
        RETURN jsonb_build_object('status', 'Failed', 'integration_request', ir, 'error', err);
    END IF;
    EXECUTE format('UPDATE %I.%I SET request_id = $2, output = $3, modified = $4 WHERE name = $1',
                   site, 'tabIntegration Request')
       USING ir, j ->> 'id', jsonb_pretty(j), integrations.site_now();
    out := jsonb_build_object('status', 'Queued', 'integration_request', ir, 'gateway_id', j ->> 'id', 'amount', units);
    IF j ? 'url' THEN
        out := out || jsonb_build_object('url', j ->> 'url');
    ELSIF j ? 'short_url' THEN
        out := out || jsonb_build_object('url', j ->> 'short_url');
    END IF;
    IF g = 'razorpay' AND kind = 'order' THEN
        out := out || jsonb_build_object('order', j, 'key_id', integrations.payment_settings(g, settings_name) ->> 'key_id');
    END IF;
    RETURN out;
END
$$;
COMMENT ON FUNCTION integrations.payment_checkout(text, text, text, text, numeric, text, jsonb) IS
'A payment for a reference document: the controller''s checks, an Integration Request, a Stripe Checkout Session or a Razorpay Order / Payment Link; where to send the payer';

-- The gateway's webhook (or the redirect back), with the request's raw body
-- and headers: the signature verified over the exact bytes (Stripe-Signature
-- with a 300 s tolerance, X-Razorpay-Signature; the signing secret is the
-- settings row's webhook_secret in __Auth), each event applied once (its id
-- kept as a remote Integration Request), the payment's Integration Request
-- moved forward only (a late or repeated event changes nothing), the amount
-- and currency paid compared with the request's (a mismatch fails it), and
-- the reference document told: a Payment Request becomes Paid (its
-- Payment Entry is ERPNext's).  Returns {"event", "changed", "status",
-- "integration_request", "reference_status"}; a signature that does not
-- verify: 28000, nothing written.
CREATE FUNCTION integrations.payment_callback(gateway text, body bytea, headers jsonb, settings_name text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    site text := current_setting('frappe_integrations.site_schema');
    g text := lower(coalesce(gateway, ''));
    service text;
    h jsonb;
    secret text;
    sig text;
    ev jsonb;
    event_id text;
    event_type text;
    obj jsonb;
    ir text;
    paid_amount text;
    paid_currency text;
    pay_status text;
    gateway_id text;
    row jsonb;
    data jsonb;
    old_status text;
    new_status text;
    expected bigint;
    mismatch text;
    ref_status text;
    seen boolean;
    now_local timestamp := integrations.site_now();
BEGIN
    IF g NOT IN ('stripe', 'razorpay') THEN
        RAISE EXCEPTION 'unknown payment gateway "%"', coalesce(gateway, 'NULL')
            USING ERRCODE = 'invalid_parameter_value', HINT = 'The gateways are Stripe and Razorpay.';
    END IF;
    service := initcap(g);
    IF body IS NULL THEN
        RAISE EXCEPTION 'the callback has no body' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT coalesce(jsonb_object_agg(lower(key), value), '{}') INTO h FROM jsonb_each(coalesce(headers, '{}'));
    IF g = 'stripe' AND settings_name IS NULL THEN
        IF to_regclass(format('%I.%I', site, 'tabStripe Settings')) IS NOT NULL THEN
            EXECUTE format('SELECT min(name) FROM %I.%I HAVING count(*) = 1', site, 'tabStripe Settings') INTO settings_name;
        END IF;
    END IF;
    secret := integrations.payment_settings(g, settings_name) ->> 'webhook_secret';
    IF secret IS NULL THEN
        RAISE EXCEPTION '% has no webhook_secret to verify callbacks with', service || ' Settings'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Store it as a Password field: integrations.set_password(''' || service || ' Settings'', <name>, ''webhook_secret'', <the signing secret>).';
    END IF;
    sig := CASE g WHEN 'stripe' THEN h ->> 'stripe-signature' ELSE h ->> 'x-razorpay-signature' END;
    IF sig IS NULL OR NOT integrations.verify_signature(g, body, secret, sig, h, 300) THEN
        RAISE EXCEPTION 'the % signature of this callback does not verify', service
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    secret := NULL;
    BEGIN
        ev := convert_from(body, 'UTF8')::jsonb;
    EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION 'the % callback''s body is not JSON', service USING ERRCODE = 'invalid_text_representation';
    END;
    IF jsonb_typeof(ev) <> 'object' THEN
        RAISE EXCEPTION 'the % callback''s body is not a JSON object', service USING ERRCODE = 'invalid_parameter_value';
    END IF;

    IF g = 'stripe' THEN
        event_id := ev ->> 'id';
        event_type := ev ->> 'type';
        obj := ev -> 'data' -> 'object';
        ir := coalesce(obj -> 'metadata' ->> 'integration_request', obj ->> 'client_reference_id');
        pay_status := obj ->> 'payment_status';
        paid_amount := obj ->> 'amount_total';
        paid_currency := upper(obj ->> 'currency');
        gateway_id := obj ->> 'id';
    ELSE
        event_id := coalesce(h ->> 'x-razorpay-event-id',
                             (ev ->> 'event') || ':' || coalesce(ev #>> '{payload,payment,entity,id}', ev #>> '{payload,order,entity,id}',
                                                                  ev #>> '{payload,payment_link,entity,id}', '') || ':' || coalesce(ev ->> 'created_at', ''));
        event_type := ev ->> 'event';
        obj := coalesce(ev #> '{payload,payment,entity}', ev #> '{payload,order,entity}', ev #> '{payload,payment_link,entity}');
        ir := coalesce(obj -> 'notes' ->> 'integration_request', ev #>> '{payload,order,entity,receipt}',
                       ev #>> '{payload,payment_link,entity,reference_id}');
        paid_amount := obj ->> 'amount';
        paid_currency := upper(obj ->> 'currency');
        gateway_id := coalesce(ev #>> '{payload,order,entity,id}', obj ->> 'order_id', ev #>> '{payload,payment_link,entity,id}', obj ->> 'id');
    END IF;
    IF coalesce(event_id, '') = '' OR coalesce(event_type, '') = '' THEN
        RAISE EXCEPTION 'the % callback names no event', service USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- each event once: its id kept as a remote Integration Request (two
    -- deliveries at the same moment wait for each other here)
    PERFORM pg_advisory_xact_lock(hashtext('frappe_integrations payment event'), hashtext(service || ':' || event_id));
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE is_remote_request = 1 AND integration_request_service = $1 '
                   'AND request_id = $2)', site, 'tabIntegration Request')
       INTO seen USING service, event_id;
    IF seen THEN
        RETURN jsonb_build_object('event', event_id, 'changed', false, 'duplicate', true);
    END IF;
    EXECUTE format('INSERT INTO %I.%I (name, creation, modified, owner, modified_by, docstatus, idx, '
                   'integration_request_service, is_remote_request, request_description, request_id, status, data, '
                   'reference_doctype, reference_docname) '
                   'VALUES (integrations.random_name(), $1, $1, ''Guest'', ''Guest'', 0, 0, $2, 1, $3, $4, ''Completed'', $5, '
                   '''Integration Request'', $6)', site, 'tabIntegration Request')
       USING now_local, service, left('Webhook ' || event_type, 140), event_id, jsonb_pretty(ev), ir;

    -- the payment it is about
    IF ir IS NOT NULL THEN
        EXECUTE format('SELECT to_jsonb(r) FROM %I.%I r WHERE name = $1 AND integration_request_service = $2 '
                       'AND coalesce(is_remote_request, 0) = 0 FOR UPDATE', site, 'tabIntegration Request')
           INTO row USING ir, service;
    ELSE
        row := NULL;
    END IF;
    IF row IS NULL THEN
        RETURN jsonb_build_object('event', event_id, 'changed', false, 'ignored', 'no Integration Request of this gateway names it');
    END IF;
    new_status := integrations.payment_event_status(g, event_type, pay_status);
    old_status := row ->> 'status';
    IF new_status IS NULL OR NOT integrations.payment_status_moves(old_status, new_status) THEN
        RETURN jsonb_build_object('event', event_id, 'changed', false, 'status', old_status, 'integration_request', ir);
    END IF;
    -- what was paid is what was asked
    BEGIN
        data := (row ->> 'data')::jsonb;
    EXCEPTION WHEN OTHERS THEN
        data := NULL;
    END;
    IF new_status IN ('Authorized', 'Completed') THEN
        expected := integrations.payment_check(g, data ->> 'currency', (data ->> 'amount')::numeric);
        IF paid_currency IS DISTINCT FROM upper(data ->> 'currency') OR paid_amount IS DISTINCT FROM expected::text THEN
            mismatch := format('paid %s %s, asked %s %s', coalesce(paid_amount, 'nothing'), coalesce(paid_currency, ''),
                               expected, upper(data ->> 'currency'));
            new_status := 'Failed';
        END IF;
    END IF;
    IF new_status = 'Failed' THEN
        EXECUTE format('UPDATE %I.%I SET status = $2, error = $3, modified = $4 WHERE name = $1', site, 'tabIntegration Request')
           USING ir, new_status,
                 jsonb_pretty(jsonb_strip_nulls(jsonb_build_object('event', event_type, 'error', coalesce(mismatch, 'the payment failed'),
                                                                    'object', obj))), now_local;
    ELSE
        EXECUTE format('UPDATE %I.%I SET status = $2, output = $3, request_id = coalesce(request_id, $5), modified = $4 '
                       'WHERE name = $1', site, 'tabIntegration Request')
           USING ir, new_status, jsonb_pretty(obj), now_local, gateway_id;
    END IF;

    -- the reference document: a submitted Payment Request becomes Paid
    IF new_status IN ('Authorized', 'Completed') AND row ->> 'reference_doctype' = 'Payment Request'
       AND to_regclass(format('%I.%I', site, 'tabPayment Request')) IS NOT NULL THEN
        EXECUTE format('UPDATE %I.%I SET status = ''Paid'', modified = $2 WHERE name = $1 AND docstatus = 1 '
                       'AND status IS DISTINCT FROM ''Paid'' RETURNING status', site, 'tabPayment Request')
           INTO ref_status USING row ->> 'reference_docname', now_local;
    END IF;
    RETURN jsonb_strip_nulls(jsonb_build_object('event', event_id, 'changed', true, 'status', new_status,
                                                'integration_request', ir, 'error', mismatch,
                                                'reference_status', ref_status));
END
$$;
COMMENT ON FUNCTION integrations.payment_callback(text, bytea, jsonb, text) IS
'A gateway''s webhook: signature verified over the raw body, the event applied once, the Integration Request moved forward, a Payment Request made Paid';

REVOKE ALL ON FUNCTION integrations.payment_settings(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.payment_password(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.payment_checkout(text, text, text, text, numeric, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION integrations.payment_callback(text, bytea, jsonb, text) FROM PUBLIC;
