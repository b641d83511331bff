#!/usr/bin/env bash
# Payments from the database (issue 22): a checkout with Stripe (Checkout
# Sessions) and Razorpay (Orders, Payment Links) against a local gateway
# peer speaking their documented shapes (test/tools/gateway_peer.py), from
# the site's own settings rows and keys in __Auth; the Integration Request
# as Frappe's payments app keeps it; the gateway's webhook verified over
# the raw bytes with signatures the gateways' own npm libraries make and
# check (stripe, razorpay), applied once, moved forward only, the amount
# compared, the Payment Request made Paid; forged, replayed, stale and
# reordered callbacks; a gateway down, slow or answering 5xx; no key in any
# row.  Then the same calls queued through the worker (options.async): the
# key added only as it sends, retries for Stripe with one Idempotency-Key
# (503, 429 with Retry-After, Stripe-Should-Retry: false, exhausted, down),
# none for Razorpay, and a queued row that is no checkout call gets no key.
source "$FI_ROOT/test/lib.sh"
DB=fi_pay
newdb $DB
ORACLE="$FI_PY $FI_ROOT/test/oracles.py"
KEY=$($ORACLE fernet-key)
export PGOPTIONS="-c frappe_integrations.encryption_key=$KEY -c frappe_integrations.site_url=https://erp.example.com"
PAY_DIR=$FI_TMP/npm-pay
mkdir -p "$PAY_DIR"
if [ ! -d "$PAY_DIR/node_modules/stripe" ] && ! (cd "$PAY_DIR" && npm install --no-audit --no-fund --silent stripe@17 razorpay@2 >/dev/null 2>&1); then
    _t_result 1 "npm install stripe razorpay (the npm registry must be reachable)"
    t_done
fi
PAY="env PAY_DIR=$PAY_DIR node $FI_ROOT/test/tools/pay_peer.cjs"
SK=sk_test_51Hx$($FI_PY -c 'import secrets; print(secrets.token_hex(12))')
WHSEC=whsec_$($FI_PY -c 'import secrets; print(secrets.token_hex(16))')
RZP_ID=rzp_test_k1
RZP_SECRET=rzs_$($FI_PY -c 'import secrets; print(secrets.token_hex(10))')
RZP_WH=rzwh_$($FI_PY -c 'import secrets; print(secrets.token_hex(10))')
rm -f "$FI_TMP/gw_ports"
$FI_PY "$FI_ROOT/test/tools/gateway_peer.py" "$FI_TMP/gw_ports" "$SK" "$RZP_ID" "$RZP_SECRET" &
GW_PID=$!
# section 8 has the worker send: it needs the site's key too, and a short back-off
sys_reset() {
    "$FI_PGBIN/psql" -X -q -d postgres -c "ALTER SYSTEM RESET frappe_integrations.deliver" \
        -c "ALTER SYSTEM RESET frappe_integrations.encryption_key" -c "ALTER SYSTEM RESET frappe_integrations.retry_base" \
        -c "SELECT pg_reload_conf()" >/dev/null
}
trap 'kill $GW_PID 2>/dev/null; sys_reset' EXIT
for _ in $(seq 50); do [ -s "$FI_TMP/gw_ports" ] && break; sleep 0.1; done
GW=http://127.0.0.1:$(cat "$FI_TMP/gw_ports")
gw_state() { $FI_PY -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1] + "/state").read().decode())' "$GW"; }
gw_mode() { $FI_PY -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/mode", data=sys.argv[2].encode()).read()' "$GW" "$1"; }
jf() { $FI_PY -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v = v.get(k) if isinstance(v, dict) else (v[int(k)] if isinstance(v, list) else None)
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$1"; }
ir_row() { q $DB "SELECT concat_ws(' | ', integration_request_service, status, coalesce(request_id, '-'), reference_doctype, reference_docname) FROM \"tabIntegration Request\" WHERE name = '$1'"; }

ALTER="ALTER DATABASE $DB SET frappe_integrations.stripe_api_url = '$GW'; ALTER DATABASE $DB SET frappe_integrations.razorpay_api_url = '$GW'"
q $DB "$ALTER" >/dev/null
# the payments app's DocTypes as a site has them, with the Password custom field webhook_secret the site adds
q $DB "INSERT INTO \"tabDocType\"(name, module, autoname, istable, issingle) VALUES
         ('Stripe Settings', 'Payment Gateways', 'field:gateway_name', 0, 0), ('Razorpay Settings', 'Payment Gateways', NULL, 0, 1);
       INSERT INTO \"tabDocField\"(name, parent, parenttype, parentfield, idx, fieldname, label, fieldtype) VALUES
         ('ss1', 'Stripe Settings', 'DocType', 'fields', 1, 'gateway_name', 'Payment Gateway Name', 'Data'),
         ('ss2', 'Stripe Settings', 'DocType', 'fields', 2, 'publishable_key', 'Publishable Key', 'Data'),
         ('ss3', 'Stripe Settings', 'DocType', 'fields', 3, 'secret_key', 'Secret Key', 'Password'),
         ('ss4', 'Stripe Settings', 'DocType', 'fields', 4, 'header_img', 'Header Image', 'Attach Image'),
         ('ss5', 'Stripe Settings', 'DocType', 'fields', 5, 'redirect_url', 'Redirect URL', 'Data'),
         ('rs1', 'Razorpay Settings', 'DocType', 'fields', 1, 'api_key', 'API Key', 'Data'),
         ('rs2', 'Razorpay Settings', 'DocType', 'fields', 2, 'api_secret', 'API Secret', 'Password'),
         ('rs3', 'Razorpay Settings', 'DocType', 'fields', 3, 'redirect_to', 'Redirect To', 'Data');
       INSERT INTO \"tabCustom Field\"(name, dt, fieldname, label, fieldtype, insert_after) VALUES
         ('Stripe Settings-webhook_secret', 'Stripe Settings', 'webhook_secret', 'Webhook Secret', 'Password', 'secret_key'),
         ('Razorpay Settings-custom_webhook_secret', 'Razorpay Settings', 'custom_webhook_secret', 'Webhook Secret', 'Password', 'api_secret');
       CREATE TABLE \"tabStripe Settings\" (name varchar(140) PRIMARY KEY, creation timestamp(6), modified timestamp(6),
         modified_by varchar(140), owner varchar(140), docstatus smallint NOT NULL DEFAULT 0, idx bigint NOT NULL DEFAULT 0,
         gateway_name varchar(140), publishable_key varchar(140), secret_key text, header_img text, redirect_url varchar(140),
         webhook_secret text);
       CREATE TABLE \"tabPayment Request\" (name varchar(140) PRIMARY KEY, creation timestamp(6), modified timestamp(6),
         modified_by varchar(140), owner varchar(140), docstatus smallint NOT NULL DEFAULT 0, idx bigint NOT NULL DEFAULT 0,
         status varchar(140) DEFAULT 'Draft', grand_total numeric(21,9), currency varchar(140), email_to text);
       INSERT INTO \"tabStripe Settings\"(name, gateway_name, publishable_key) VALUES ('Main', 'Main', 'pk_test_main');
       SELECT integrations.set_password('Stripe Settings', 'Main', 'secret_key', '$SK');
       SELECT integrations.set_password('Stripe Settings', 'Main', 'webhook_secret', '$WHSEC');
       INSERT INTO \"tabSingles\"(doctype, field, value) VALUES ('Razorpay Settings', 'api_key', '$RZP_ID');
       SELECT integrations.set_password('Razorpay Settings', 'Razorpay Settings', 'api_secret', '$RZP_SECRET');
       SELECT integrations.set_password('Razorpay Settings', 'Razorpay Settings', 'custom_webhook_secret', '$RZP_WH');
       INSERT INTO \"tabPayment Request\"(name, docstatus, status, grand_total, currency, email_to) VALUES
         ('ACC-PRQ-0001', 1, 'Initiated', 12.5, 'USD', 'payer@example.com'),
         ('ACC-PRQ-0002', 1, 'Initiated', 500, 'INR', 'payer@example.com'),
         ('ACC-PRQ-0003', 1, 'Initiated', 20, 'USD', 'payer@example.com')" >/dev/null

# ---- 1. Stripe: the controller's checks, then a Checkout Session
t_is "$(q_err $DB "SELECT integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0001', 12.5, 'XYZ')")" \
     "22023: Please select another payment method. Stripe does not support transactions in currency 'XYZ'" "a currency Stripe does not take: Frappe's message"
t_is "$(q_err $DB "SELECT integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0001', 0.40, 'USD')")" \
     "22023: For currency USD, the minimum transaction amount should be 0.5" "below Stripe's minimum: Frappe's message"
t_is "$(q_err $DB "SELECT integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0001', -3, 'USD')")" \
     "22023: the amount must be a positive decimal number" "a negative amount"
t_is "$(q_err $DB "SELECT integrations.payment_checkout('Stripe', 'Nope', 'Payment Request', 'ACC-PRQ-0001', 12.5, 'USD')")" \
     "P0002: Stripe Settings Nope not found" "unknown settings"
t_is "$(q_err $DB "SELECT integrations.payment_checkout('PayPal', 'Main', 'Payment Request', 'ACC-PRQ-0001', 12.5, 'USD')")" \
     "22023: unknown payment gateway \"PayPal\"" "an unknown gateway"
t_is "$(q $DB "SELECT count(*) FROM \"tabIntegration Request\"") $(gw_state | jf requests | $FI_PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" "0 0" \
     "refused before anything is written or sent"
t_is "$(q $DB "SELECT integrations.payment_check('stripe', 'JPY', 50)") $(q $DB "SELECT integrations.payment_check('stripe', 'USD', 12.345)") $(q $DB "SELECT integrations.payment_check('razorpay', 'INR', 500)")" \
     "50 1235 50000" "amounts in the smallest unit: JPY as it is (zero-decimal), USD cents (rounded half up), INR paise"
C=$(q $DB "SELECT integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0001', 12.5, 'USD',
                                                '{\"title\": \"Invoice ACC-SINV-7\", \"payer_email\": \"payer@example.com\"}')")
IR1=$(echo "$C" | jf integration_request)
CS1=$(echo "$C" | jf gateway_id)
t_is "$(echo "$C" | jf status) $(echo "$C" | jf url) $(echo "$C" | jf amount)" "Queued https://checkout.stripe.com/c/pay/$CS1 1250" \
     "a Checkout Session: its URL to send the payer to, the amount in cents"
t_is "$(ir_row "$IR1")" "Stripe | Queued | $CS1 | Payment Request | ACC-PRQ-0001" \
     "the Integration Request: Stripe, Queued, the session's id, the reference document"
REQ=$(gw_state | jf requests.0)
t_is "$(echo "$REQ" | $FI_PY -c 'import json,sys; r=json.load(sys.stdin); f=r["form"]; h=r["headers"]
print(r["path"], f["mode"], f["line_items[0][price_data][currency]"], f["line_items[0][price_data][unit_amount]"], f["line_items[0][quantity]"],
      f["line_items[0][price_data][product_data][name]"], f["client_reference_id"], f["metadata[integration_request]"], f["metadata[reference_docname]"],
      f["customer_email"], f["success_url"], f["cancel_url"], h["idempotency-key"], h["content-type"])')" \
     "/v1/checkout/sessions payment usd 1250 1 Invoice ACC-SINV-7 $IR1 $IR1 ACC-PRQ-0001 payer@example.com https://erp.example.com/payment-success?doctype=Payment+Request&docname=ACC-PRQ-0001 https://erp.example.com/payment-failed $IR1 application/x-www-form-urlencoded" \
     "Stripe got its documented form: mode, the line item, client_reference_id and metadata, the payer, Frappe's success and failure pages, the Idempotency-Key"
t_is "$(echo "$REQ" | jf headers.authorization)" "Bearer $SK" "(authenticated with the secret key from __Auth)"
t_is "$(q $DB "SELECT count(*) FROM \"tabIntegration Request\" WHERE concat_ws(' ', data, output, error, request_headers, url) LIKE '%$SK%' OR concat_ws(' ', data, output, error) LIKE '%$WHSEC%'")" "0" \
     "no key in the Integration Request"

# ---- 2. Stripe's webhook: signed by the stripe library, applied once
event() {	# event <id> <type> <session> <payment_status> <amount> <currency> <integration request>
    printf '{"id": "%s", "object": "event", "type": "%s", "created": %s, "data": {"object": {"id": "%s", "object": "checkout.session", "payment_status": "%s", "amount_total": %s, "currency": "%s", "client_reference_id": "%s", "metadata": {"integration_request": "%s"}}}}' \
        "$1" "$2" "$(date +%s)" "$3" "$4" "$5" "$6" "$7" "$7"
}
callback() {	# callback <body> <Stripe-Signature>: payment_callback's answer
    local hex
    hex=$(printf '%s' "$1" | od -An -vtx1 | tr -d ' \n')
    q $DB "SELECT integrations.payment_callback('stripe', '\\x$hex'::bytea, '{\"Stripe-Signature\": \"$2\"}')"
}
callback_err() {
    local hex
    hex=$(printf '%s' "$1" | od -An -vtx1 | tr -d ' \n')
    q_err $DB "SELECT integrations.payment_callback('stripe', '\\x$hex'::bytea, '{\"Stripe-Signature\": \"$2\"}')"
}
E1=$(event evt_1 checkout.session.completed "$CS1" paid 1250 usd "$IR1")
SIG1=$(printf '%s' "$E1" | $PAY stripe-sign "$WHSEC")
t_is "$(printf '%s' "$E1" | $PAY stripe-verify "$WHSEC" "$SIG1")" "ok" "(the stripe library verifies its own header)"
BAD=$(printf '%s' "$E1" | $PAY stripe-sign "whsec_not_the_one")
t_is "$(callback_err "$E1" "$BAD") | $(ir_row "$IR1" | cut -d'|' -f2)" "28000: the Stripe signature of this callback does not verify |  Queued " \
     "a callback signed with another secret (forged): refused, nothing changed"
TAMPERED=${E1/1250/125}
t_is "$(callback_err "$TAMPERED" "$SIG1" | cut -d: -f1) $(q $DB "SELECT count(*) FROM \"tabIntegration Request\" WHERE is_remote_request = 1")" "28000 0" \
     "the body changed after signing: refused, no event logged"
OLD=$(printf '%s' "$E1" | $PAY stripe-sign "$WHSEC" $(( $(date +%s) - 400 )))
t_is "$(callback_err "$E1" "$OLD" | cut -d: -f1)" "28000" "signed 400 s ago (tolerance 300 s): refused as a replay"
R=$(callback "$E1" "$SIG1")
t_is "$(echo "$R" | jf changed) $(echo "$R" | jf status) $(echo "$R" | jf reference_status)" "true Completed Paid" \
     "checkout.session.completed, paid: the Integration Request Completed, the Payment Request Paid"
t_is "$(ir_row "$IR1" | cut -d'|' -f2) $(q $DB "SELECT status FROM \"tabPayment Request\" WHERE name = 'ACC-PRQ-0001'") $(q $DB "SELECT (output::jsonb) ->> 'payment_status' FROM \"tabIntegration Request\" WHERE name = '$IR1'")" \
     " Completed  Paid paid" "the rows: Completed with the gateway's object in output, Paid"
t_is "$(q $DB "SELECT concat_ws(' | ', integration_request_service, is_remote_request, request_id, status, request_description, reference_docname) FROM \"tabIntegration Request\" WHERE is_remote_request = 1")" \
     "Stripe | 1 | evt_1 | Completed | Webhook checkout.session.completed | $IR1" "the event kept as a remote Integration Request (its id, what it was about)"
R=$(callback "$E1" "$SIG1")
t_is "$(echo "$R" | jf changed) $(echo "$R" | jf duplicate) $(q $DB "SELECT count(*) FROM \"tabIntegration Request\" WHERE is_remote_request = 1")" "false true 1" \
     "the same event delivered again: nothing changes the second time"
E2=$(event evt_2 checkout.session.expired "$CS1" unpaid 1250 usd "$IR1")
R=$(callback "$E2" "$(printf '%s' "$E2" | $PAY stripe-sign "$WHSEC")")
t_is "$(echo "$R" | jf changed) $(ir_row "$IR1" | cut -d'|' -f2)" "false  Completed " "an expired event arriving after the payment (reordered): the payment stays Completed"

# ---- 3. an amount or currency that does not match; async failure; an unknown request
C=$(q $DB "SELECT integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0003', 20, 'USD')")
IR3=$(echo "$C" | jf integration_request); CS3=$(echo "$C" | jf gateway_id)
E3=$(event evt_3 checkout.session.completed "$CS3" paid 200 usd "$IR3")
R=$(callback "$E3" "$(printf '%s' "$E3" | $PAY stripe-sign "$WHSEC")")
t_is "$(echo "$R" | jf status) $(echo "$R" | jf error) | $(q $DB "SELECT status FROM \"tabPayment Request\" WHERE name = 'ACC-PRQ-0003'")" \
     "Failed paid 200 USD, asked 2000 USD | Initiated" "paid less than asked: the Integration Request Failed with the reason, the Payment Request not Paid"
t_like "$(q $DB "SELECT error FROM \"tabIntegration Request\" WHERE name = '$IR3'")" "paid 200 USD, asked 2000 USD" "(the reason in error)"
C=$(q $DB "SELECT integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0003', 20, 'USD')")
IR4=$(echo "$C" | jf integration_request); CS4=$(echo "$C" | jf gateway_id)
E4=$(event evt_4 checkout.session.completed "$CS4" paid 2000 eur "$IR4")
t_is "$(callback "$E4" "$(printf '%s' "$E4" | $PAY stripe-sign "$WHSEC")" | jf status)" "Failed" "paid in another currency: Failed"
C=$(q $DB "SELECT integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0003', 20, 'USD')")
IR5=$(echo "$C" | jf integration_request); CS5=$(echo "$C" | jf gateway_id)
E5=$(event evt_5 checkout.session.completed "$CS5" unpaid 2000 usd "$IR5")
E6=$(event evt_6 checkout.session.async_payment_failed "$CS5" unpaid 2000 usd "$IR5")
R5=$(callback "$E5" "$(printf '%s' "$E5" | $PAY stripe-sign "$WHSEC")")
R6=$(callback "$E6" "$(printf '%s' "$E6" | $PAY stripe-sign "$WHSEC")")
t_is "$(echo "$R5" | jf changed) $(echo "$R6" | jf status) $(ir_row "$IR5" | cut -d'|' -f2)" "false Failed  Failed " \
     "a completed session still unpaid waits; its async payment failing fails it"
E7=$(event evt_7 checkout.session.completed cs_x paid 100 usd "NOT-OURS")
t_is "$(callback "$E7" "$(printf '%s' "$E7" | $PAY stripe-sign "$WHSEC")" | jf ignored)" "no Integration Request of this gateway names it" \
     "an event of a session not ours: logged, ignored"

# ---- 4. two deliveries of one event at the same moment: applied once
C=$(q $DB "SELECT integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0003', 20, 'USD')")
IR8=$(echo "$C" | jf integration_request); CS8=$(echo "$C" | jf gateway_id)
E8=$(event evt_8 checkout.session.completed "$CS8" paid 2000 usd "$IR8")
S8=$(printf '%s' "$E8" | $PAY stripe-sign "$WHSEC")
PIDS=()
for i in 1 2 3 4; do callback "$E8" "$S8" > "$FI_TMP/pay_race.$i" & PIDS+=($!); done
wait "${PIDS[@]}"
t_is "$(for f in "$FI_TMP"/pay_race.*; do jf changed < "$f"; done | sort | uniq -c | sed 's/^ *//' | tr '\n' ' ')$(q $DB "SELECT status FROM \"tabPayment Request\" WHERE name = 'ACC-PRQ-0003'")" \
     "3 false 1 true Paid" "four deliveries of one event at once: one applies it, three see it done"

# ---- 5. a gateway that is down, slow, or answers 5xx / 401: the Integration Request Failed, with the reason
gw_mode 500
C=$(q $DB "SELECT integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0003', 20, 'USD')")
t_is "$(echo "$C" | jf status) $(echo "$C" | jf error) | $(ir_row "$(echo "$C" | jf integration_request)" | cut -d'|' -f2)" \
     "Failed Stripe answered HTTP 500 |  Failed " "Stripe answers 500: Failed, with the reason (and the row kept)"
gw_mode slow
C=$(q $DB "SELECT integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0003', 20, 'USD', '{\"timeout_ms\": 500}')")
t_like "$(echo "$C" | jf status) $(echo "$C" | jf error)" "^Failed .*(timed out|Timeout|timeout)" "a gateway slower than the timeout: Failed"
gw_mode ok
q $DB "ALTER DATABASE $DB SET frappe_integrations.stripe_api_url = 'http://127.0.0.1:9'" >/dev/null
C=$(q $DB "SELECT integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0003', 20, 'USD')")
t_like "$(echo "$C" | jf status) $(echo "$C" | jf error)" "^Failed HTTP request to 127.0.0.1 failed" "a gateway that is down: Failed, with the connection's error"
q $DB "ALTER DATABASE $DB SET frappe_integrations.stripe_api_url = '$GW'" >/dev/null
t_like "$(q $DB "SELECT string_agg(error, ' ') FROM \"tabIntegration Request\" WHERE status = 'Failed' AND coalesce(is_remote_request, 0) = 0")" \
     "Stripe answered HTTP 500" "the reasons are in the rows' error"

# ---- 6. Razorpay: an Order (checkout.js) and a Payment Link; its webhook
t_is "$(q_err $DB "SELECT integrations.payment_checkout('Razorpay', NULL, 'Payment Request', 'ACC-PRQ-0002', 500, 'USD')")" \
     "22023: Please select another payment method. Razorpay does not support transactions in currency 'USD'" "Razorpay takes INR only: Frappe's message"
C=$(q $DB "SELECT integrations.payment_checkout('Razorpay', NULL, 'Payment Request', 'ACC-PRQ-0002', 500, 'INR')")
IRR=$(echo "$C" | jf integration_request); ORD=$(echo "$C" | jf gateway_id)
t_is "$(echo "$C" | jf status) $(echo "$C" | jf order.amount) $(echo "$C" | jf order.receipt) $(echo "$C" | jf key_id)" "Queued 50000 $IRR $RZP_ID" \
     "an Order in paise, its receipt the Integration Request, the key id for checkout.js"
REQ=$(gw_state | $FI_PY -c 'import json,sys; print(json.dumps([r for r in json.load(sys.stdin)["requests"] if r["path"] == "/v1/orders"][-1]))')
t_is "$(echo "$REQ" | jf json.notes.integration_request) $(echo "$REQ" | jf json.currency) $(echo "$REQ" | jf headers.authorization)" \
     "$IRR INR Basic $(printf '%s:%s' "$RZP_ID" "$RZP_SECRET" | base64)" "Razorpay got the order with HTTP Basic key:secret"
L=$(q $DB "SELECT integrations.payment_checkout('Razorpay', NULL, 'Payment Request', 'ACC-PRQ-0002', 500, 'INR', '{\"kind\": \"payment_link\", \"payer_email\": \"payer@example.com\"}')")
t_like "$(echo "$L" | jf url) $(echo "$L" | jf gateway_id)" "^https://rzp.io/i/[0-9]+ plink_[0-9]+$" "a Payment Link: its short URL"
RB=$(printf '{"entity": "event", "event": "payment.captured", "created_at": %s, "payload": {"payment": {"entity": {"id": "pay_1", "entity": "payment", "amount": 50000, "currency": "INR", "status": "captured", "order_id": "%s", "notes": {"integration_request": "%s"}}}}}' "$(date +%s)" "$ORD" "$IRR")
RSIG=$(printf '%s' "$RB" | openssl dgst -sha256 -hmac "$RZP_WH" | awk '{print $NF}')
t_is "$(printf '%s' "$RB" | $PAY razorpay-verify "$RZP_WH" "$RSIG")" "ok" "(razorpay's validateWebhookSignature accepts the signature)"
HEX=$(printf '%s' "$RB" | od -An -vtx1 | tr -d ' \n')
R=$(q $DB "SELECT integrations.payment_callback('razorpay', '\\x$HEX'::bytea, '{\"X-Razorpay-Signature\": \"$RSIG\", \"X-Razorpay-Event-Id\": \"rzevt_1\"}')")
t_is "$(echo "$R" | jf status) $(echo "$R" | jf reference_status) $(q $DB "SELECT status FROM \"tabPayment Request\" WHERE name = 'ACC-PRQ-0002'")" "Completed Paid Paid" \
     "payment.captured (signed as Razorpay signs): Completed, the Payment Request Paid"
t_is "$(q_err $DB "SELECT integrations.payment_callback('razorpay', '\\x$HEX'::bytea, '{\"X-Razorpay-Signature\": \"$(printf '%064d' 0)\"}')" | cut -d: -f1)" "28000" \
     "a forged Razorpay signature: refused"
t_is "$(q $DB "SELECT count(*) FROM \"tabIntegration Request\" WHERE concat_ws(' ', data, output, error, request_headers) LIKE '%$RZP_SECRET%' OR concat_ws(' ', data, output, error) LIKE '%$SK%'")" "0" \
     "no key in any Integration Request row"

# ---- 7. who may call
q $DB "CREATE ROLE pay_plain LOGIN" >/dev/null
t_like "$(env -u PGOPTIONS "$FI_PGBIN/psql" -X -A -t -q -d $DB -U pay_plain -c "SELECT integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0001', 12.5, 'USD')" 2>&1)" \
       "permission denied for function payment_checkout" "a plain role cannot start a payment"
t_like "$(env -u PGOPTIONS "$FI_PGBIN/psql" -X -A -t -q -d $DB -U pay_plain -c "SET frappe_integrations.stripe_api_url = 'http://evil.example'" 2>&1)" \
       "permission denied to set parameter \"frappe_integrations.stripe_api_url\"" "nor send the keys elsewhere (stripe_api_url is a superuser's)"
t_is "$(q $DB "SELECT secret_key, webhook_secret FROM \"tabStripe Settings\" WHERE name = 'Main'" | tr -d '*')" "|" "the settings' Password columns hold only asterisks"

# ---- 8. through the worker: options.async, options.retries
"$FI_PGBIN/psql" -X -q -d postgres -c "ALTER SYSTEM SET frappe_integrations.deliver = on" \
    -c "ALTER SYSTEM SET frappe_integrations.encryption_key = '$KEY'" -c "ALTER SYSTEM SET frappe_integrations.retry_base = 100" \
    -c "SELECT pg_reload_conf()" >/dev/null
co() {	# co <options json> [gateway] [amount currency]: an async checkout for ACC-PRQ-0003
    q $DB "SELECT integrations.payment_checkout('${2:-Stripe}', $([ "${2:-Stripe}" = Stripe ] && echo "'Main'" || echo NULL), 'Payment Request', 'ACC-PRQ-0003', ${3:-20}, '${4:-USD}', '$1')"
}
res() { q $DB "SELECT integrations.payment_checkout_result('$1', 20000)"; }
keyed() {	# keyed <Idempotency-Key>: how often the gateway was called with it
    gw_state | $FI_PY -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin)["requests"] if r["headers"].get("idempotency-key") == sys.argv[1]))' "$1"
}
qrow() { q $DB "SELECT concat_ws(' ', status, attempts, max_attempts, response_status) FROM integrations.http_queue WHERE payment ->> 'integration_request' = '$1'"; }

t_is "$(q_err $DB "SELECT integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0003', 20, 'USD', '{\"retries\": 2}')")" \
     "22023: options.retries needs options.async: only the worker sends a call again" "retries without async: refused"
t_is "$(q_err $DB "SELECT integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0003', 20, 'USD', '{\"async\": true, \"retries\": 11}')") | $(q_err $DB "SELECT integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0003', 20, 'USD', '{\"async\": \"yes\"}')")" \
     "22023: options.retries must be a whole number from 0 to 10 | 22023: options.async must be true or false" "retries past 10, async not a boolean: refused"
t_is "$(q_err $DB "SELECT integrations.payment_checkout('Razorpay', NULL, 'Payment Request', 'ACC-PRQ-0002', 500, 'INR', '{\"async\": true, \"retries\": 2}')")" \
     "22023: Razorpay's calls are not sent again: its API takes no idempotency key, and a repeat after a lost answer could make a second order" \
     "Razorpay with retries: refused (no idempotency key)"
NIR=$(q $DB "SELECT count(*) FROM \"tabIntegration Request\"")

C=$(co '{"async": true}')
IRA=$(echo "$C" | jf integration_request)
t_is "$(echo "$C" | jf status) $(echo "$C" | jf sent) $(echo "$C" | jf amount) $(q $DB "SELECT count(*) FROM \"tabIntegration Request\"")" "Queued false 2000 $((NIR + 1))" \
     "async: Queued, not sent yet, the amount; refused calls wrote no Integration Request"
t_is "$(q $DB "SELECT concat_ws(' ', method, url = '$GW/v1/checkout/sessions', headers ? 'Authorization', headers ->> 'Idempotency-Key' = '$IRA', max_attempts, payment ->> 'gateway', payment ->> 'settings') FROM integrations.http_queue WHERE id = $(echo "$C" | jf http_queue_id)")" \
     "POST t f t 1 stripe Main" "queued: the gateway's URL, no Authorization in the row, the Idempotency-Key, one attempt"
R=$(res "$IRA")
CSA=$(echo "$R" | jf gateway_id)
t_is "$(echo "$R" | jf status) $(echo "$R" | jf url) $(echo "$R" | jf amount)" "Queued https://checkout.stripe.com/c/pay/$CSA 2000" \
     "payment_checkout_result: the worker's answer, as the synchronous form returns it"
t_is "$(ir_row "$IRA") $(keyed "$IRA")" "Stripe | Queued | $CSA | Payment Request | ACC-PRQ-0003 1" "the Integration Request has the session's id; Stripe was called once"
t_is "$(gw_state | $FI_PY -c 'import json,sys; print([r for r in json.load(sys.stdin)["requests"] if r["headers"].get("idempotency-key") == sys.argv[1]][0]["headers"]["authorization"])' "$IRA")" \
     "Bearer $SK" "the worker added the secret key as it sent"
t_like "$(q_err $DB "BEGIN; SELECT integrations.payment_checkout_result(integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0003', 20, 'USD', '{\"async\": true}') ->> 'integration_request', 2000)")" \
       "^55000: the checkout of Integration Request .* is sent when this transaction commits$" "waiting in the queueing transaction: refused"

gw_mode 503x2
C=$(co '{"async": true, "retries": 3}'); IRB=$(echo "$C" | jf integration_request)
R=$(res "$IRB")
t_is "$(echo "$R" | jf status) $(echo "$R" | jf url) $(keyed "$IRB") | $(qrow "$IRB")" "Queued https://checkout.stripe.com/c/pay/$(echo "$R" | jf gateway_id) 3 | done 3 4 200" \
     "503 twice, then the session: sent three times with one Idempotency-Key, answered"
gw_mode 429x1
C=$(co '{"async": true, "retries": 1}'); IRC=$(echo "$C" | jf integration_request)
R=$(res "$IRC")
t_is "$(echo "$R" | jf status) $(keyed "$IRC") $(q $DB "SELECT finished_at - created_at >= interval '1 second' FROM integrations.http_queue WHERE payment ->> 'integration_request' = '$IRC'")" \
     "Queued 2 t" "429 with Retry-After: 1: sent again after that second"
gw_mode 500final
C=$(co '{"async": true, "retries": 3}'); IRD=$(echo "$C" | jf integration_request)
R=$(res "$IRD")
t_is "$(echo "$R" | jf status) $(echo "$R" | jf error) | $(qrow "$IRD") | $(ir_row "$IRD" | cut -d'|' -f2)" \
     "Failed Stripe answered HTTP 500 | done 1 4 500 |  Failed " "500 with Stripe-Should-Retry: false: not sent again, Failed with the reason"
gw_mode 503x9
C=$(co '{"async": true, "retries": 2}'); IRE=$(echo "$C" | jf integration_request)
R=$(res "$IRE")
t_is "$(echo "$R" | jf status) $(echo "$R" | jf error) | $(qrow "$IRE") $(keyed "$IRE")" \
     "Failed Stripe answered HTTP 503 | done 3 3 503 3" "503 every time: three sends, then Failed with the reason"
gw_mode ok
q $DB "ALTER DATABASE $DB SET frappe_integrations.stripe_api_url = 'http://127.0.0.1:9'" >/dev/null
C=$(co '{"async": true, "retries": 1}'); IRF=$(echo "$C" | jf integration_request)
R=$(res "$IRF")
t_like "$(echo "$R" | jf status) $(echo "$R" | jf error) | $(qrow "$IRF")" "^Failed Couldn't connect to server \| failed 2 2 *$" \
       "a gateway that is down: sent twice, then Failed with the connection's error"
q $DB "ALTER DATABASE $DB SET frappe_integrations.stripe_api_url = '$GW'" >/dev/null

C=$(co '{"async": true}' Razorpay 500 INR); IRG=$(echo "$C" | jf integration_request)
R=$(res "$IRG")
t_is "$(echo "$R" | jf status) $(echo "$R" | jf order.receipt) $(echo "$R" | jf key_id) $(echo "$R" | jf gateway_id | cut -c1-6) | $(qrow "$IRG")" \
     "Queued $IRG $RZP_ID order_ | done 1 1 200" "Razorpay through the worker: the Order, once"

# a site's own role (not a superuser), granted the functions and the site's tables, walks it too
q $DB "CREATE ROLE pay_site LOGIN; GRANT USAGE ON SCHEMA integrations TO pay_site;
       GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA integrations TO pay_site;
       GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO pay_site;
       GRANT SELECT ON integrations.http_queue TO pay_site" >/dev/null
as_site() { env -u PGOPTIONS "$FI_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -d $DB -U pay_site -c "$1" 2>&1; }
C=$(as_site "SELECT integrations.payment_checkout('Stripe', 'Main', 'Payment Request', 'ACC-PRQ-0003', 20, 'USD', '{\"async\": true, \"retries\": 1}')")
IRS=$(echo "$C" | jf integration_request)
R=$(as_site "SELECT integrations.payment_checkout_result('$IRS', 20000)")
t_is "$(echo "$R" | jf status) $(echo "$R" | jf url) $(as_site "SELECT count(*), bool_and(requested_by = 'pay_site') FROM integrations.http_queue")" \
     "Queued https://checkout.stripe.com/c/pay/$(echo "$R" | jf gateway_id) 1|t" \
     "the site's own role: an async checkout answered; it sees only its own queued row"
t_like "$(as_site "UPDATE integrations.http_queue SET payment = NULL")" "permission denied for table http_queue" \
       "(and cannot write the queue itself)"

# a queued request that is no checkout call gets no key (attached in the transaction that queues it, as payment_checkout does)
IRH=$(q $DB "SELECT integrations.create_request_log('{\"amount\": 20, \"currency\": \"USD\"}', 'Host', 'Stripe')")
attach() {	# attach <url> <gateway> <settings> <integration request> <max attempts>
    q_err $DB "SELECT integrations.payment_queue_attach(integrations.http_request_async('POST', '$1', '{}', 'x'), '$2', $3, '$4', $5)"
}
t_like "$(attach 'http://127.0.0.1:9/v1/checkout/sessions' stripe "'Main'" "$IRH" 1)" \
       "^42501: queued HTTP request [0-9]+ is not a checkout call to the Stripe API$" "attaching a request for another host: refused"
t_is "$(attach "$GW/v1/checkout/sessions" stripe "'Main'" "$IRA" 1)" \
     "42501: Integration Request $IRA is no Stripe payment waiting for its checkout" "attaching to a payment already answered: refused"
t_like "$(attach "$GW/v1/checkout/sessions" razorpay NULL "$IRH" 1) | $(attach "$GW/v1/checkout/sessions" stripe "'Main'" "$IRH" 12)" \
       "^42501: queued HTTP request [0-9]+ is not a checkout call to the Razorpay API \| 42501: queued HTTP request [0-9]+ is not a checkout call to the Stripe API$" \
       "another gateway's path, too many attempts: refused"
t_is "$(attach "$GW/v1/checkout/sessions" stripe "'Main'" "$IRH" 1)" "NO ERROR: " "(the same call for a waiting payment is attached)"
t_is "$(q $DB "SELECT count(*) FROM integrations.http_queue WHERE concat_ws(' ', headers::text, convert_from(body, 'UTF8'), convert_from(response_body, 'UTF8'), error, payment::text) ~ '$SK|$RZP_SECRET|$WHSEC'")" "0" \
     "no key in any queued row (headers, body, answer, error)"
t_done
