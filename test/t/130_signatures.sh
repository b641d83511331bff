#!/usr/bin/env bash
# integrations.verify_signature: Frappe's webhook header (the vector of
# frappe-facts 1.9), Standard Webhooks (the library's published vector, and
# 60 signatures made by the npm `standardwebhooks` library; ours verified
# there), Stripe, Razorpay and GoCardless against Python's hmac; tampered
# bytes, other secrets, old timestamps, malformed headers.
source "$FI_ROOT/test/lib.sh"
DB=fi_sig
newdb $DB
vs() { q $DB "SELECT integrations.verify_signature($1)"; }

# Frappe: facts 1.9
BODY='{"name": "ACC-SINV-2024-00001", "grand_total": 1180.0, "customer": "Caf\u00e9 \u00dcn\u00efcode", "posting_date": "2024-05-06", "items": [{"item_code": "X", "qty": 2.0}]}'
t_is "$(vs "'frappe', \$b\$$BODY\$b\$, 's3cr3t', 'wZuZTVDmXMQGIXoQbYFinj9NaSIT0lZ1dm0/Ng6+bms='")" "t" "frappe: the documented vector"
t_is "$(vs "'frappe', \$b\$$BODY \$b\$, 's3cr3t', 'wZuZTVDmXMQGIXoQbYFinj9NaSIT0lZ1dm0/Ng6+bms='"),$(vs "'frappe', \$b\$$BODY\$b\$, 's3cr3T', 'wZuZTVDmXMQGIXoQbYFinj9NaSIT0lZ1dm0/Ng6+bms='"),$(vs "'frappe', \$b\$$BODY\$b\$, 's3cr3t', 'wZuZTVDmXMQGIXoQbYFinj9NaSIT0lZ1dm0/Ng6+bms'")" \
     "f,f,f" "frappe: a byte more, another secret, a truncated signature: false"

# Standard Webhooks: the published test vector (standard-webhooks/standard-webhooks, libraries' tests)
SV="'standard-webhooks', '{\"test\": 2432232314}', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='"
H="'{\"webhook-id\": \"msg_p5jXN8AQM9LWM0D4loKWxJek\", \"webhook-timestamp\": \"1614265330\"}'"
t_is "$(vs "$SV, $H, NULL")" "t" "standard-webhooks: the published vector (time not checked)"
t_is "$(vs "$SV, $H")" "f" "standard-webhooks: the same, 5 years old, outside the default 300 s"
t_is "$(vs "'standard-webhooks', '{\"test\": 2432232314}', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'v1,bm9wZQ== v2,xyz v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=', '{\"Webhook-Id\": \"msg_p5jXN8AQM9LWM0D4loKWxJek\", \"WEBHOOK-TIMESTAMP\": \"1614265330\"}', NULL")" "t" \
     "standard-webhooks: one good v1 among several signatures; header names in any case"

SW_DIR=$FI_TMP/npm-sw
mkdir -p "$SW_DIR"
if (cd "$SW_DIR" && npm install --no-audit --no-fund --silent standardwebhooks@1.1.1 >/dev/null 2>&1); then
    PEER="env SW_DIR=$SW_DIR node $FI_ROOT/test/tools/sig_peer.cjs"
    $PEER sign 60 > "$FI_TMP/sw.jsonl"
    q $DB "CREATE TABLE sw (j jsonb)"
    "$FI_PGBIN/psql" -X -q -d $DB -c "\\copy sw FROM '$FI_TMP/sw.jsonl' WITH (FORMAT csv, QUOTE E'\\x02', DELIMITER E'\\x01')"
    t_is "$(q $DB "SELECT count(*) FILTER (WHERE integrations.verify_signature('standard-webhooks', j->>'payload', j->>'secret', j->>'signature', jsonb_build_object('webhook-id', j->>'id', 'webhook-timestamp', j->>'timestamp')))
                   || ' ' || count(*) FILTER (WHERE integrations.verify_signature('standard-webhooks', (j->>'payload') || ' ', j->>'secret', j->>'signature', jsonb_build_object('webhook-id', j->>'id', 'webhook-timestamp', j->>'timestamp')))
                   || ' ' || count(*) FILTER (WHERE integrations.verify_signature('standard-webhooks', j->>'payload', j->>'secret', j->>'signature', jsonb_build_object('webhook-id', (j->>'id') || 'x', 'webhook-timestamp', j->>'timestamp')))
                   || ' ' || count(*) FROM sw")" \
         "60 0 0 60" "standard-webhooks: all 60 signatures the npm library made verify; none with a byte added or another message id"
    # ours, checked there: v1,base64(HMAC(base64-decoded key, id.ts.payload)) made with hmac_sha256
    q $DB "SELECT json_build_object('secret', j->>'secret', 'id', j->>'id', 'timestamp', j->>'timestamp', 'payload', j->>'payload',
                 'signature', 'v1,' || integrations.hmac_sha256(decode(substr(j->>'secret', 7), 'base64'),
                                                                convert_to((j->>'id') || '.' || (j->>'timestamp') || '.' || (j->>'payload'), 'UTF8')))
           FROM sw" > "$FI_TMP/ours.jsonl"
    t_is "$($PEER verify < "$FI_TMP/ours.jsonl" | sort | uniq -c | sed 's/^ *//')" "60 ok" "the npm library verifies the same 60 signed by hmac_sha256"
else
    _t_result 1 "npm install standardwebhooks (the npm registry must be reachable)"
fi

# Stripe, Razorpay, GoCardless: Python's hmac as the oracle
NOW=$(date +%s)
read -r STRIPE OLDSTRIPE RZP GC <<<"$($FI_PY - "$NOW" <<'PY'
import hashlib, hmac, sys
now = int(sys.argv[1])
body = b'{"id": "evt_1", "object": "event", "amount": 2000}'
def hx(key, msg): return hmac.new(key, msg, hashlib.sha256).hexdigest()
s = "whsec_test_secret"
print("t=%d,v1=%s,v0=deadbeef" % (now, hx(s.encode(), b"%d." % now + body)),
      "t=%d,v1=%s" % (now - 600, hx(s.encode(), b"%d." % (now - 600) + body)),
      hx(b"rzp_secret", b"order_9A33XWu170gUtm|pay_29QQoUBi66xm2f"),
      hx(b"gc_secret", body).upper())
PY
)"
SBODY='{"id": "evt_1", "object": "event", "amount": 2000}'
t_is "$(vs "'stripe', '$SBODY', 'whsec_test_secret', '$STRIPE'")" "t" "stripe: t=…,v1=… made by Python's hmac, now"
t_is "$(vs "'stripe', '$SBODY', 'whsec_test_secret', '$OLDSTRIPE'"),$(vs "'stripe', '$SBODY', 'whsec_test_secret', '$OLDSTRIPE', '{}', 900"),$(vs "'stripe', '$SBODY', 'whsec_test_secret', '$OLDSTRIPE', '{}', NULL")" \
     "f,t,t" "stripe: 10 minutes old refused at the default 300 s tolerance, accepted at 900 s or without a time check"
t_is "$(vs "'stripe', '$SBODY', 'whsec_test_secreT', '$STRIPE'"),$(vs "'stripe', '$SBODY ', 'whsec_test_secret', '$STRIPE'"),$(vs "'stripe', '$SBODY', 'whsec_test_secret', 'v1=abc'"),$(vs "'stripe', '$SBODY', 'whsec_test_secret', 't=12x,v1=00'")" \
     "f,f,f,f" "stripe: another secret, altered bytes, no timestamp, a malformed one: false"
t_is "$(vs "'razorpay', 'order_9A33XWu170gUtm|pay_29QQoUBi66xm2f', 'rzp_secret', '$RZP'"),$(vs "'razorpay', 'order_9A33XWu170gUtm|pay_29QQoUBi66xm2g', 'rzp_secret', '$RZP'")" \
     "t,f" "razorpay: hex HMAC of order_id|payment_id (Razorpay's payment signature); another payment id"
t_is "$(vs "'gocardless', '$SBODY', 'gc_secret', '$GC'"),$(vs "'gocardless', '$SBODY', 'gc_secret', '${GC:0:63}'")" \
     "t,f" "gocardless: hex HMAC of the body (either case); a digit short"
t_is "$(q $DB "SELECT integrations.verify_signature('gocardless', convert_to('$SBODY', 'UTF8'), 'gc_secret', '$GC')")" "t" "the bytea form"

# bad input: clear errors, never a crash; NULL in, NULL out
t_is "$(q_err $DB "SELECT integrations.verify_signature('hmac', 'x', 'k', 's')")" '22023: unknown signature scheme "hmac"' "an unknown scheme"
t_is "$(q_err $DB "SELECT integrations.verify_signature('standard-webhooks', 'x', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'v1,x')")" \
     '22023: a standard-webhooks signature needs the "webhook-id" header' "standard-webhooks without its headers"
t_is "$(q_err $DB "SELECT integrations.verify_signature('standard-webhooks', 'x', 'whsec_!!!', 'v1,x', $H)")" \
     '22023: the secret is not a Standard Webhooks secret' "a Standard Webhooks secret that is not base64"
t_is "$(q_err $DB "SELECT integrations.verify_signature('stripe', 'x', 'k', 't=1,v1=00', '{}', -5)")" \
     '22023: tolerance_seconds must not be negative' "a negative tolerance"
t_is "$(q $DB "SELECT coalesce(integrations.verify_signature('frappe', NULL::text, 'k', 's')::text, 'NULL'), integrations.verify_signature('frappe', '', '', ''), integrations.verify_signature('stripe', 'x', 'k', repeat('v1=', 100000))")" \
     "NULL|f|f" "NULL gives NULL; empty and huge signatures are false"
t_done
