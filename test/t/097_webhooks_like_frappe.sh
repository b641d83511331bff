#!/usr/bin/env bash
# Webhooks where Frappe v15 decides (issue 17): a webhook on a child DocType
# never fires; next to a live Frappe, the database fires for writes that did
# not come through Frappe only (frappe_integrations.fire_for).
source "$FI_ROOT/test/lib.sh"
DB=fi_webhooks_frappe
newdb $DB
queued() { q $DB "SELECT coalesce(string_agg(webhook || ':' || event || ':' || docname, ' ' ORDER BY id), '-') FROM integrations.webhook_queue"; }

# ---- a webhook on a child DocType: Frappe saves child rows without run_method
q $DB "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enabled)
       VALUES ('on-item', 'Sales Invoice Item', 'after_insert', 'http://127.0.0.1:9/', 'JSON', '{}', 1),
              ('on-invoice', 'Sales Invoice', 'after_insert', 'http://127.0.0.1:9/', 'JSON', '{\"n\": {{ doc.items | length }}}', 1);
       SELECT integrations.sync_webhooks()" >/dev/null
q $DB "BEGIN;
       INSERT INTO \"tabSales Invoice\" (name, customer, docstatus) VALUES ('SINV-1', 'C', 0);
       INSERT INTO \"tabSales Invoice Item\" (name, parent, parenttype, parentfield, idx, item_code) VALUES ('r1', 'SINV-1', 'Sales Invoice', 'items', 1, 'X');
       COMMIT;
       INSERT INTO \"tabSales Invoice Item\" (name, parent, parenttype, parentfield, idx, item_code) VALUES ('r2', 'SINV-1', 'Sales Invoice', 'items', 2, 'Y')" >/dev/null
t_is "$(queued)" "on-invoice:after_insert:SINV-1" "a webhook on a child DocType never fires; its parent's does, with the row in doc"
t_is "$(q $DB "SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = '\"tabSales Invoice Item\"'::regclass AND tgname LIKE 'frappe_integrations_webhook%'")" \
     "frappe_integrations_webhook_child" "the child table carries only the parent's trigger"
t_like "$(q $DB "SELECT integrations.webhook_problem('on-item')")" "^Sales Invoice Item is a child DocType: Frappe never fires" \
       "webhook_problem says why it never fires"
# (its events would be retried for hours against a closed port, and keep a
# worker slot whenever delivery is on in a later test)
q $DB "TRUNCATE integrations.webhook_queue, integrations.webhook_outbox" >/dev/null
t_done
