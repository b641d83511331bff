#!/usr/bin/env bash
# MariaDB, part 2 (issue 19): frappe-integrations webhook-preview, what a
# webhook sends for a document (engine/webhookreq.c, the rules PostgreSQL's
# queue and webhook_preview use): the site of test/t/100 made on PostgreSQL
# with webhooks of every shape, its rows copied into a MariaDB site, and each
# preview compared with PostgreSQL's webhook_preview text for text.
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
DB=fi_whprev_mdb
DB2=fi_whprev_mdb_copy
source "$FI_ROOT/test/export_site.sh"
make -s -C "$FI_ROOT" mariadb >/dev/null
MD=$FI_TMP/mariadb_whprev
rm -rf "$MD"
trap 'mdb_stop' EXIT
mdb_start "$MD"
mdb_site _site1 pw-site1
printf '{"db_name": "_site1", "db_password": "pw-site1", "db_socket": "%s"}\n' "$MDB_SOCK" > "$MD/site_config.json"
chmod 600 "$MD/site_config.json"

# webhooks of each shape (disabled: nothing fires while they are made)
SINV1=$(q $DB "SELECT name FROM \"tabSales Invoice\" ORDER BY posting_date LIMIT 1")
SINV2=$(q $DB "SELECT name FROM \"tabSales Invoice\" ORDER BY posting_date DESC LIMIT 1")
JSON_T='{"name": "{{ doc.name }}", "customer": "{{ doc.customer }}", "date": "{{ doc.posting_date }}", "time": "{{ doc.posting_time }}",
 "total": {{ doc.grand_total or 0 }}, "event": "{{ event }}", "modified_by": {{ doc.modified_by | tojson }},
 "items": [{% for i in doc.items %}{"item": "{{ i.item_code }}", "qty": {{ i.qty }}, "rate": {{ i.rate }}, "idx": {{ i.idx }}}{% if not loop.last %}, {% endif %}{% endfor %}],
 "n": {{ doc.items | length }}, "upper": "{{ doc.customer | upper }}", "flt": {{ utils.flt(doc.items[0].rate, 1) }}}'
q $DB "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url, is_dynamic_url, request_structure,
                                  webhook_json, enable_security, enabled, condition, request_method) VALUES
  ('w-json', 'Sales Invoice', 'on_update', 'https://hooks.example.com/in', 0, 'JSON', \$t\$$JSON_T\$t\$, 1, 0, NULL, 'POST'),
  ('w-form', 'Sales Invoice', 'on_submit', 'http://127.0.0.1:9/form', 0, 'Form URL-Encoded', NULL, 0, 0, NULL, 'PUT'),
  ('w-dyn', 'Sales Invoice', 'after_insert', 'http://127.0.0.1:9/si/{{ doc.name }}?c={{ doc.customer }}', 1, 'JSON', '{\"n\": \"{{ doc.name }}\"}', 0, 0, NULL, NULL),
  ('w-cond-yes', 'Sales Invoice', 'on_update', 'http://127.0.0.1:9/y', 0, 'JSON', '{\"ok\": true}', 0, 0, 'doc.docstatus == 0 and doc.customer == \"CUST-A\"', 'POST'),
  ('w-cond-no', 'Sales Invoice', 'on_update', 'http://127.0.0.1:9/n', 0, 'JSON', '{\"ok\": true}', 0, 0, 'doc.customer == \"nobody\"', 'POST'),
  ('w-cond-date', 'Sales Invoice', 'on_update', 'http://127.0.0.1:9/d', 0, 'JSON', '{}', 0, 0, 'doc.posting_date == utils.getdate(\"2024-05-06\")', 'POST'),
  ('w-cond-bad', 'Sales Invoice', 'on_update', 'http://127.0.0.1:9/b', 0, 'JSON', '{}', 0, 0, 'doc.customer ==', 'POST'),
  ('w-tpl-bad', 'Sales Invoice', 'on_update', 'http://127.0.0.1:9/t', 0, 'JSON', '{\"a\": {{ doc.customer }', 0, 0, NULL, 'POST'),
  ('w-not-json', 'Sales Invoice', 'on_update', 'http://127.0.0.1:9/j', 0, 'JSON', '{\"a\": {{ doc.customer }}}', 0, 0, NULL, 'POST'),
  ('w-url-bad', 'Sales Invoice', 'on_update', 'ftp://127.0.0.1/x', 0, 'JSON', '{}', 0, 0, NULL, 'POST'),
  ('w-empty', 'Sales Invoice', 'on_update', 'http://127.0.0.1:9/e', 0, 'JSON', '', 0, 0, NULL, 'DELETE'),
  ('w-hdr-bad', 'Sales Invoice', 'on_update', 'http://127.0.0.1:9/h', 0, 'JSON', '{}', 0, 0, NULL, 'POST');
  INSERT INTO \"tabWebhook Header\" (name, parent, parenttype, parentfield, idx, key, value) VALUES
  ('h1', 'w-json', 'Webhook', 'webhook_headers', 1, 'Authorization', 'token abc:def'),
  ('h2', 'w-json', 'Webhook', 'webhook_headers', 2, 'X-Note', 'ü \"quoted\"'),
  ('h3', 'w-json', 'Webhook', 'webhook_headers', 3, 'X-Empty', ''),
  ('h4', 'w-form', 'Webhook', 'webhook_headers', 1, 'Content-Type', 'application/x-www-form-urlencoded'),
  ('h5', 'w-hdr-bad', 'Webhook', 'webhook_headers', 1, 'X-Bad', 'a' || chr(10) || 'Injected: 1');
  INSERT INTO \"tabWebhook Data\" (name, parent, parenttype, parentfield, idx, fieldname, key) VALUES
  ('d1', 'w-form', 'Webhook', 'webhook_data', 1, 'name', 'id'),
  ('d2', 'w-form', 'Webhook', 'webhook_data', 2, 'posting_date', 'date'),
  ('d3', 'w-form', 'Webhook', 'webhook_data', 3, 'conversion_rate', 'rate'),
  ('d4', 'w-form', 'Webhook', 'webhook_data', 4, 'no_such_field', 'missing'),
  ('d5', 'w-form', 'Webhook', 'webhook_data', 5, 'docstatus', 'ds')" >/dev/null

# the PostgreSQL site's rows, row for row
for t in "tabSales Invoice" "tabSales Invoice Item" "tabWebhook" "tabWebhook Header" "tabWebhook Data"; do
    "$FI_PGBIN/pg_dump" --data-only --column-inserts --quote-all-identifiers --table "\"$t\"" "$DB"
done | grep -v -e '^SET ' -e '^SELECT pg_catalog' -e '^--' -e '^\\' | sed 's/^INSERT INTO "public"\./INSERT INTO /' > "$MD/rows.sql"
{ echo "SET SESSION sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES,STRICT_ALL_TABLES';"; cat "$MD/rows.sql"; } \
    | mariadb --no-defaults --socket="$MDB_SOCK" -u root _site1
t_is "$(mdb "SELECT CONCAT((SELECT COUNT(*) FROM _site1.tabWebhook), ' ', (SELECT COUNT(*) FROM _site1.\`tabWebhook Header\`), ' ', (SELECT COUNT(*) FROM _site1.\`tabWebhook Data\`), ' ', (SELECT COUNT(*) FROM _site1.\`tabSales Invoice Item\`))")" \
     "12 5 5 3" "the PostgreSQL site's webhooks and invoices are in the MariaDB site"

FI=("$FI_ROOT/bin/frappe-integrations")
[ -n "${FI_VALGRIND:-}" ] && FI=(valgrind -q --error-exitcode=99 --leak-check=no "$FI_ROOT/build/mariadb/fi-client")
mprev() { "${FI[@]}" webhook-preview --site-config "$MD/site_config.json" --webhook "$1" --name "$2" 2>&1; }
pprev() { echo "SELECT integrations.webhook_preview(:'w', :'d')" \
              | "$FI_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -d "$DB" -v w="$1" -v d="$2" 2>&1; }
for w in w-json w-form w-dyn w-cond-yes w-cond-no w-cond-date w-cond-bad w-tpl-bad w-not-json w-url-bad w-empty w-hdr-bad; do
    for d in "$SINV1" "$SINV2"; do
        p=$(pprev "$w" "$d")
        m=$(mprev "$w" "$d")
        if [ "$m" = "$p" ]; then
            t_ok "webhook-preview $w $d: the text of PostgreSQL's webhook_preview" true
        else
            t_is "$m" "$p" "webhook-preview $w $d: the text of PostgreSQL's webhook_preview"
        fi
    done
done
# what the comparisons above covered, shown: the rendered body, the form's values, the errors
t_like "$(mprev w-json "$SINV1")" '\\"time\\": \\"10:30:15.250000\\", .*\\"items\\": \[\{\\"item\\": \\"I-1\\", \\"qty\\": 2.0, \\"rate\\": 10.5, \\"idx\\": 1\}, .*\\"n\\": 2, ' \
       "a JSON template: the document's fields and its child rows, floats as Python prints them"
t_like "$(mprev w-json "$SINV1")" '"signed": true, "headers": \[\["Authorization", "token abc:def"\], \["X-Note", "ü \\"quoted\\""\]\]' \
       "headers: the rows with a value, in order; enable_security shown"
t_like "$(mprev w-form "$SINV1")" '"body": "\{\\"id\\": \\"[^"]*\\", \\"date\\": \\"2024-05-06\\", \\"rate\\": 0.0, \\"missing\\": null, \\"ds\\": 0\}"' \
       "Webhook Data rows: {key: doc[fieldname]} as JSON text (a missing field: null)"
t_like "$(mprev w-dyn "$SINV2")" '"url": "http://127.0.0.1:9/si/[^"]*\?c=CUST-B"' "a dynamic URL rendered"
t_like "$(mprev w-cond-no "$SINV1")" '"meets_condition": false' "a false condition: nothing else"
t_like "$(mprev w-cond-date "$SINV1") $(mprev w-cond-date "$SINV2")" '"meets_condition": true.* "meets_condition": false' \
       "a condition sees dates as dates"
t_like "$(mprev w-cond-bad "$SINV1")" '"error": "condition: .*line 1, column' "a broken condition: its message, line and column"
t_like "$(mprev w-not-json "$SINV1")" '"error": "the rendered JSON template is not JSON' "a template that renders no JSON"
t_like "$(mprev w-url-bad "$SINV1")" '"error": "the request URL must start with http:// or https://"' "a bad URL"
t_like "$(mprev w-hdr-bad "$SINV1")" '"error": "the value of header \\"X-Bad\\" contains a line break"' "a header with a line break is never sent"
t_like "$(mprev w-empty "$SINV1")" '"body": "\{\}", .*"method": "DELETE"' "no template: {}; the webhook's method"
t_is "$(mprev nope "$SINV1")" "ERROR 42704: webhook \"nope\" does not exist
HINT: Webhooks are the rows of tabWebhook." "an unknown webhook: PostgreSQL's words"
t_is "$(mprev w-json "nope' OR '1'='1")" "ERROR 02000: Sales Invoice \"nope' OR '1'='1\" does not exist" "an unknown document (SQL in the name is a name)"
mdb "INSERT INTO _site1.tabWebhook (name, webhook_doctype, request_url) VALUES ('w-notable', 'No Such Thing', 'http://x/')"
t_is "$(mprev w-notable x)" "ERROR 42P01: webhook \"w-notable\" is for DocType \"No Such Thing\", which has no table" "a webhook for a DocType without a table"
t_is "$("${FI[@]}" webhook-preview --site-config "$MD/site_config.json" --webhook w-json 2>&1; echo "rc $?")" \
     "fi-client: webhook-preview needs --webhook and --name
rc 2" "--name is required"
mdb_stop
t_done
