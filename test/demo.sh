#!/usr/bin/env bash
# test/demo.sh -- the guided tour behind `make demo` (run by test/run.sh on
# the throwaway cluster it started; PGHOST/PGPORT point at it).
set -euo pipefail
DB=fi_demo
PSQL="$FI_PGBIN/psql -X -q -v ON_ERROR_STOP=1 -P pager=off -d $DB"
ORACLE="$FI_PY $FI_ROOT/test/oracles.py"

step() { printf '\n\033[1m%s\033[0m\n' "$*"; }
say() { printf '%s' "$*" | tr '\n' ' ' | fold -s -w 100; echo; }
run() { printf -- '-- %s\n' "$1"; $PSQL -c "$1"; }
q() { $PSQL -A -t -c "$1"; }

"$FI_PGBIN/createdb" -T fi_template $DB

step "1. A Frappe site on PostgreSQL"
say "This database was made the way Frappe v15 makes a site: a \"tab<DocType>\" table per DocType, built
from Frappe's own DocType JSON files, with the rows of tabDocType and tabDocField that describe them."
run "SELECT count(*) AS doctypes, count(*) FILTER (WHERE istable = 1) AS child_doctypes FROM \"tabDocType\""
run "SELECT column_name, data_type, column_default FROM information_schema.columns
      WHERE table_name = 'tabWebhook' ORDER BY ordinal_position LIMIT 12"

step "2. Install the extension"
say "The library is preloaded (shared_preload_libraries); CREATE EXTENSION puts everything in the schema
\"integrations\" and asks to be told when DocType metadata changes."
run "CREATE EXTENSION frappe_integrations"
run "SELECT integrations.version()"

step "3. DocType metadata, as Frappe sees it"
say "integrations.doctype_meta() is the effective meta the C code works from: DocFields plus the site's
Custom Fields, with Property Setters applied."
run "SELECT m->>'autoname' AS autoname, m->'is_submittable' AS submittable,
            jsonb_array_length(m->'fields') AS fields, m->'child_tables'->>'items' AS items_table
       FROM integrations.doctype_meta('Sales Invoice') m"
say "Another session adds a Custom Field, as Frappe's Customize Form would, and renames a label:"
run "INSERT INTO \"tabCustom Field\" (name, dt, fieldname, label, fieldtype, insert_after)
     VALUES ('Sales Invoice-custom_po_ref', 'Sales Invoice', 'custom_po_ref', 'Customer PO', 'Data', 'customer');
     INSERT INTO \"tabProperty Setter\" (name, doctype_or_field, doc_type, field_name, property, value)
     VALUES ('Sales Invoice-customer-label', 'DocField', 'Sales Invoice', 'customer', 'label', 'Client')"
say "The next call, in any session, sees both (the field sits right after 'customer'):"
run "SELECT f->>'idx' AS idx, f->>'fieldname' AS fieldname, f->>'label' AS label, f->'is_custom' AS custom
       FROM jsonb_array_elements(integrations.doctype_meta('Sales Invoice')->'fields') f
      WHERE f->>'fieldname' IN ('customer', 'custom_po_ref', 'customer_name')"

step "4. Password fields, encrypted exactly as Frappe encrypts them"
KEY=$($ORACLE fernet-key)
say "A site's encryption_key lives in site_config.json; here python3-cryptography (Frappe's library) makes
one. A superuser gives it to the extension: in real life in postgresql.conf (or a file it includes),
here as a session setting of each connection."
export PGOPTIONS="-c frappe_integrations.encryption_key=$KEY"
run "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url)
     VALUES ('Invoice to ERP', 'Sales Invoice', 'on_submit', 'https://erp.example.com/hook')"
run "SELECT integrations.set_password('Webhook', 'Invoice to ERP', 'webhook_secret', 's3cr3t-value')"
say "Frappe's layout: a Fernet token in __Auth, the column masked with one '*' per character:"
run "SELECT doctype, name, fieldname, encrypted, left(password, 24) || '...' AS token FROM \"__Auth\""
run "SELECT webhook_secret FROM \"tabWebhook\""
TOKEN=$($PSQL -A -t -c "SELECT password FROM \"__Auth\" WHERE name = 'Invoice to ERP'")
say "python3-cryptography decrypts what we stored: $(printf '["%s"]' "$TOKEN" | $ORACLE fernet-decrypt "$KEY")"
run "SELECT integrations.get_password('Webhook', 'Invoice to ERP', 'webhook_secret')"
say "With the wrong key, the error is Frappe's, and no secret appears in it:"
$PSQL -c "SET frappe_integrations.encryption_key = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='" \
      -c "SELECT integrations.get_password('Webhook', 'Invoice to ERP', 'webhook_secret')" 2>&1 | sed 's/^/   /' || true

step "5. Login passwords (passlib)"
run "SELECT integrations.passlib_hash('admin') AS pbkdf2_sha256_hash"
HASH=$($ORACLE passlib-hash <<< '[["admin", "argon2"]]' | $FI_PY -c 'import json,sys; print(json.load(sys.stdin)[0])')
say "An argon2 hash made by python3-passlib: $HASH"
run "SELECT integrations.passlib_verify('admin', '$HASH') AS right_password,
            integrations.passlib_verify('admin!', '$HASH') AS wrong_password"

step "6. Webhook signatures and Frappe's random names"
say "X-Frappe-Webhook-Signature is base64(HMAC-SHA256(secret, body)); Frappe's documented vector:"
run "SELECT integrations.hmac_sha256('s3cr3t', '{\"name\": \"ACC-SINV-2024-00001\", \"grand_total\": 1180.0, \"customer\": \"Caf\\u00e9 \\u00dcn\\u00efcode\", \"posting_date\": \"2024-05-06\", \"items\": [{\"item_code\": \"X\", \"qty\": 2.0}]}') AS signature"
run "SELECT integrations.random_name() AS doc_name, integrations.generate_hash(15) AS api_key,
            integrations.generate_token() AS oauth_token"

step "7. Frappe's Jinja templates and webhook conditions, in C"
say "A webhook's JSON template, rendered as Frappe's sandboxed Jinja renders it (doc.items is the child
table; tojson as Jinja writes it), then normalised as Frappe sends it (json.loads + json.dumps):"
CTX='{"doc": {"name": "ACC-SINV-2024-00001", "customer_name": "Café Ünïcode", "grand_total": 1180.0, "posting_date": "2024-05-06", "status": "Paid", "items": [{"item_code": "X", "qty": 2.0}, {"item_code": "Y", "qty": 1.5}]}, "event": "on_submit"}'
run "SELECT integrations.render_template(
       '{\"name\": \"{{ doc.name }}\", \"total\": {{ doc.grand_total }}, \"event\": \"{{ event }}\", \"items\": {{ doc.items | tojson }}}',
       '$CTX')"
run "SELECT integrations.normalize_json(integrations.render_template(
       '{\"customer\": \"{{ doc.customer_name }}\", \"due\": \"{{ utils.add_days(doc.posting_date, 30) }}\", \"qty\": {{ doc.items | sum(attribute=\"qty\") }}}',
       '$CTX')) AS body"
say "A webhook condition is Python over doc and utils:"
run "SELECT integrations.eval_condition('doc.status == \"Paid\" and doc.grand_total > 1000', '$CTX') AS fires,
            integrations.eval_condition('utils.getdate(doc.posting_date) < utils.getdate(\"2024-01-01\")', '$CTX') AS old"
say "Mistakes are reported with their place, never with a crash:"
$PSQL -c "SELECT integrations.render_template('{% for it in doc.items %}{{ it.qty | nosuch }}{% endfor %}', '$CTX')" 2>&1 | sed 's/^/   /' || true

step "8. A webhook fired by plain SQL, signed, delivered"
RPORT=$($FI_PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RLOG=$FI_TMP/demo-received.jsonl
$FI_PY "$FI_ROOT/test/receiver.py" "$RPORT" "$RLOG" s3cr3t > "$FI_TMP/demo-receiver.out" 2>&1 &
RPID=$!
trap 'kill $RPID 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q listening "$FI_TMP/demo-receiver.out" 2>/dev/null && break; sleep 0.1; done
$FI_PGBIN/psql -X -q -d postgres -c "ALTER SYSTEM SET frappe_integrations.deliver = on" \
    -c "ALTER SYSTEM SET frappe_integrations.encryption_key = '$KEY'" -c "SELECT pg_reload_conf()" >/dev/null
say "(The worker reads the site key from the server's configuration: postgresql.conf on a real server.)"
say "The webhook of step 4 points nowhere: disable it, as a user would untick Enabled."
run "UPDATE \"tabWebhook\" SET enabled = 0"
say "A Frappe user configures a webhook in Frappe's UI: that is rows in tabWebhook (and the secret in
__Auth). Nothing else is needed: the extension attaches its capture triggers by itself."
run "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url, request_structure,
       webhook_json, enable_security, enabled)
     VALUES ('erp-sync', 'Sales Invoice', 'on_submit', 'http://127.0.0.1:$RPORT/hook', 'JSON',
       '{\"name\": \"{{ doc.name }}\", \"total\": {{ doc.grand_total }}, \"items\": {{ doc.items | map(attribute=\"item_code\") | list | tojson }}, \"event\": \"{{ event }}\"}', 1, 1)"
run "SELECT integrations.set_password('Webhook', 'erp-sync', 'webhook_secret', 's3cr3t')"
run "SELECT tgname, tgrelid::regclass FROM pg_trigger WHERE tgname LIKE 'frappe_integrations_webhook%' ORDER BY 2::text LIMIT 4"
run "INSERT INTO \"tabSales Invoice\" (name, customer, grand_total, docstatus) VALUES ('ACC-SINV-2024-00042', 'Café Ünïcode', 1180, 0);
     INSERT INTO \"tabSales Invoice Item\" (name, parent, parenttype, parentfield, idx, item_code, qty, rate)
     VALUES ('row-1', 'ACC-SINV-2024-00042', 'Sales Invoice', 'items', 1, 'X', 2, 590)"
say "Now a plain SQL UPDATE submits the invoice (no Frappe involved):"
run "UPDATE \"tabSales Invoice\" SET docstatus = 1 WHERE name = 'ACC-SINV-2024-00042'"
for _ in $(seq 100); do [ -s "$RLOG" ] && break; sleep 0.1; done
sleep 0.3
say "The local receiver got it, and checked the signature as receivers are told to (base64 HMAC-SHA256 of
the raw body, hmac.compare_digest):"
$FI_PY -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    print("   %s %s\n   X-Frappe-Webhook-Signature: %s (verified: %s)\n   webhook-id: %s\n   body: %s" % (
        r["method"], r["path"], r["headers"].get("X-Frappe-Webhook-Signature"), r["sig_ok"],
        r["headers"].get("webhook-id"), r["body"]))' "$RLOG"
run "SELECT webhook, docname, event, status, attempts, last_status FROM integrations.webhook_queue"
run "SELECT webhook, reference_document, response, error = '' AS success FROM \"tabWebhook Request Log\""
run "SELECT webhook, usable, pending, failed, last_success IS NOT NULL AS delivered FROM integrations.webhook_status"

step "9. Data Import from SQL, with Frappe's rules"
say "A CSV as a user fills Frappe's Data Import template: labels as headers, the invoice's item rows
under it (empty parent columns), a date in the user's format. One invoice has a Price List the site
does not have: it fails alone, with the row, the column and the reason; the other is named by its
naming series through tabSeries, as Frappe would name it."
run "INSERT INTO \"tabItem Group\"(name) VALUES ('Products'); INSERT INTO \"tabUOM\"(name) VALUES ('Nos');
     INSERT INTO \"tabCompany\"(name) VALUES ('ACME Ltd'); INSERT INTO \"tabCurrency\"(name) VALUES ('INR');
     INSERT INTO \"tabPrice List\"(name) VALUES ('Standard Selling');
     INSERT INTO \"tabAccount\"(name) VALUES ('Debtors - A'), ('Sales - A');
     INSERT INTO \"tabCost Center\"(name) VALUES ('Main - A')"
run "SELECT jsonb_pretty(integrations.import_csv('Sales Invoice', \$csv\$Company,Posting Date,Currency,Price List,Price List Currency,Debit To,Item Name (Items),Quantity (Items),Rate (Items),UOM (Items),Income Account (Items),Cost Center (Items)
ACME Ltd,28-11-2026,INR,Standard Selling,INR,Debtors - A,Widget,2,\"1,250.00\",Nos,Sales - A,Main - A
,,,,,,Gadget,1,99.50,Nos,Sales - A,Main - A
ACME Ltd,29-11-2026,INR,Wholesale,INR,Debtors - A,Thing,3,10,Nos,Sales - A,Main - A
\$csv\$) - 'warnings')"
run "SELECT s.name, s.posting_date, i.idx, i.item_name, i.qty, i.rate FROM \"tabSales Invoice\" s
     JOIN \"tabSales Invoice Item\" i ON i.parent = s.name WHERE s.company = 'ACME Ltd' ORDER BY s.name, i.idx"
run "SELECT name, current FROM \"tabSeries\""

step "10. Data Export, in the layout the import reads back"
say "The invoice exported as Frappe's Data Import template lays it out (ID, labels, the item rows under
the invoice); imported back as an Update, it changes nothing."
run "SELECT integrations.export_csv('Sales Invoice', '{\"fields\": [\"company\", \"posting_date\", \"items.item_name\", \"items.qty\", \"items.rate\"], \"filters\": {\"company\": \"ACME Ltd\"}}')"
run "SELECT r->>'status' AS status, r->>'unchanged' AS unchanged, r->>'updated' AS updated
     FROM integrations.import_csv('Sales Invoice', integrations.export_csv('Sales Invoice', '{\"children\": true, \"filters\": {\"company\": \"ACME Ltd\"}}'), 'Update Existing Records') r"

step "11. Tokens and the OAuth 2 provider, against Frappe's tables"
say "An API key and secret as Frappe's generate_keys makes them, then a request's Authorization header:"
SECRET=$(q "SELECT integrations.generate_keys('jane@example.com')")
APIKEY=$(q "SELECT api_key FROM \"tabUser\" WHERE name = 'jane@example.com'")
run "SELECT * FROM integrations.authenticate('token $APIKEY:$SECRET')"
say "An OAuth client (a row of tabOAuth Client, as Frappe's form saves it). The user consents; the app
exchanges the code with its secret and the PKCE verifier (RFC 7636's example), and gets Frappe's token
response, with an id_token signed HS256 by the client secret:"
run "ALTER DATABASE $DB SET frappe_integrations.site_url = 'https://erp.example.com'"
run "INSERT INTO \"tabOAuth Client\"(name, client_id, app_name, client_secret, scopes, redirect_uris, default_redirect_uri, grant_type, response_type)
     VALUES ('demoapp001', 'demoapp001', 'Demo App', '0a1b2c3d4e', 'all openid', 'https://app.example/cb', 'https://app.example/cb', 'Authorization Code', 'Code')"
CODE=$(q "SELECT integrations.oauth_authorize('jane@example.com', '{\"client_id\": \"demoapp001\", \"response_type\": \"code\", \"state\": \"s1\", \"code_challenge\": \"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\", \"code_challenge_method\": \"S256\"}') ->> 'code'")
run "SELECT name, client, \"user\", validity, code_challenge_method, expiration_time - creation AS lifetime FROM \"tabOAuth Authorization Code\""
run "SELECT jsonb_pretty(r - 'id_token') AS response, left(r ->> 'id_token', 60) || '…' AS id_token
     FROM integrations.oauth_token('{\"grant_type\": \"authorization_code\", \"code\": \"$CODE\", \"client_id\": \"demoapp001\", \"client_secret\": \"0a1b2c3d4e\", \"code_verifier\": \"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\"}') r"
say "The code served once; a second exchange is refused and changes nothing:"
run "SELECT integrations.oauth_token('{\"grant_type\": \"authorization_code\", \"code\": \"$CODE\", \"client_id\": \"demoapp001\", \"client_secret\": \"0a1b2c3d4e\", \"code_verifier\": \"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\"}')" || true
run "SELECT integrations.validate_bearer_token(name) AS bearer_user, integrations.oauth_introspect(name) - 'exp' AS introspection FROM \"tabOAuth Bearer Token\""

step "12. HTTP from SQL: at once, or queued to the worker"
say "A local peer on 127.0.0.1 (test/tools/http_peer.py) stands in for an API. Frappe's make_get_request
returns the JSON decoded; http_request gives status, headers and body:"
source "$FI_ROOT/test/tools/http_peer.sh"
http_peer demo
trap 'kill $RPID $PEER_PID 2>/dev/null' EXIT
run "SELECT integrations.http_get('$U/json') AS make_get_request"
run "SELECT status, response_headers ->> 'content-type' AS content_type, response_body::jsonb -> 'body' AS body_the_api_saw
     FROM integrations.http_request('POST', '$U/echo', '{\"Content-Type\": \"application/json\"}', '{\"item\": \"X\"}')"
say "Queued instead: the request is checked now, sent by the worker once the transaction commits (never if
it rolls back), and its response kept in integrations.http_queue for frappe_integrations.http_retention:"
AID=$(q "SELECT integrations.http_request_async('POST', '$U/echo', '{\"Content-Type\": \"application/json\"}', '{\"queued\": true}')")
run "SELECT status, response_status, response_body::jsonb -> 'body' AS body_the_api_saw, error
     FROM integrations.http_result($AID, 5000)"
run "SELECT id, method, url, status, attempts, finished_at - created_at AS took FROM integrations.http_queue"

step "13. MariaDB (in progress): the same engines as UDFs"
say "Most Frappe sites run on MariaDB. A throwaway mariadbd (never the packaged service), the library built
by make mariadb and installed by frappe-integrations, a Frappe site made as Frappe v15 makes one there,
and its Password fields behind the site's own SQL SECURITY DEFINER functions:"
source "$FI_ROOT/test/mariadb/server.sh"
make -s -C "$FI_ROOT" mariadb >/dev/null
mdb_start "$FI_TMP/mariadb_demo"
trap 'kill $RPID $PEER_PID 2>/dev/null; mdb_stop' EXIT
"$FI_ROOT/bin/frappe-integrations" install --socket "$MDB_SOCK" --user root --plugin-dir "$MDB_PLUGIN"
"$FI_PY" "$FI_ROOT/test/make_site.py" --db mariadb > "$FI_TMP/mariadb_demo/site.sql"
mdb "CREATE DATABASE _demo CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; CREATE USER _demo@localhost IDENTIFIED BY 'demo-pw';
     GRANT ALL PRIVILEGES ON _demo.* TO _demo@localhost; GRANT EXECUTE ON integrations.* TO _demo@localhost"
mariadb --no-defaults --socket="$MDB_SOCK" -u root _demo -e "source $FI_TMP/mariadb_demo/site.sql"
printf '{"encryption_key": "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="}\n' > "$FI_TMP/mariadb_demo/site_config.json"
"$FI_ROOT/bin/frappe-integrations" install --socket "$MDB_SOCK" --user root --plugin-dir "$MDB_PLUGIN" \
    --site _demo --site-user _demo --key-file "$FI_TMP/mariadb_demo/site_config.json"
mrun() { printf -- '-- (MariaDB) %s\n' "$1"; mariadb --no-defaults --socket="$MDB_SOCK" -u _demo -pdemo-pw -D _demo -t -e "$1"; }
mrun "SELECT integrations.render_template('{\"name\": \"{{ doc.name }}\", \"items\": {{ doc.items | tojson }}}', '{\"doc\": {\"name\": \"SINV-1\", \"items\": [{\"qty\": 2.0}]}}') AS body,
             integrations.eval_condition('doc.grand_total > 1000', '{\"doc\": {\"grand_total\": 1180.0}}') AS fires"
mrun "CALL set_password('Webhook', 'erp-sync', 'webhook_secret', 's3cr3t')"
mrun "SELECT LEFT(password, 12) AS fernet_token_in___Auth, get_password('Webhook', 'erp-sync', 'webhook_secret') AS decrypted FROM __Auth"
mrun "SELECT integrations.render_template('{{ x', '{}')" || true
mdb_stop

step "Done"
say "That was metadata, secrets, signatures, templates, webhooks, Data Import and Export, tokens, OAuth and HTTP, and the first of MariaDB. The clusters are now stopped and removed."
