-- webhooks: the site's tabWebhook rows fire from plain SQL changes; what is
-- queued at commit (one row per webhook and document, body bytes fixed)
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.q() RETURNS TABLE (webhook text, docname text, event text, status text,
                                           url text, headers jsonb, body text, last_error text)
LANGUAGE sql AS $$
    SELECT webhook, docname, event, status, url, headers, convert_from(body, 'UTF8'), last_error
      FROM integrations.webhook_queue ORDER BY id
$$;
CREATE FUNCTION pg_temp.hook(name text, event text, tmpl text, cond text DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO "tabWebhook" (name, webhook_doctype, webhook_docevent, request_url,
                              request_structure, webhook_json, condition, enabled)
    VALUES (name, 'Sales Invoice', event, 'http://127.0.0.1:9/' || name, 'JSON', tmpl, cond, 1)
$$;
CREATE FUNCTION pg_temp.triggers() RETURNS TABLE (tgname name, tbl regclass)
LANGUAGE sql AS $$
    SELECT tgname, tgrelid::regclass FROM pg_trigger
     WHERE tgname LIKE 'frappe_integrations_webhook%' ORDER BY tgrelid::regclass::text, tgname
$$;

-- no webhook (the secrets test left one): only the configuration trigger
DELETE FROM "tabWebhook";
SELECT * FROM pg_temp.triggers();

-- a webhook configured as a Frappe user would: triggers on the DocType's
-- table and on each of its child tables
SELECT pg_temp.hook('inv-update', 'on_update', '{"name": "{{ doc.name }}", "event": "{{ event }}"}');
SELECT * FROM pg_temp.triggers();

-- disabling it detaches them; enabling attaches them again
UPDATE "tabWebhook" SET enabled = 0 WHERE name = 'inv-update';
SELECT count(*) AS capture_triggers FROM pg_temp.triggers() WHERE tgname <> 'frappe_integrations_webhook_config';
UPDATE "tabWebhook" SET enabled = 1 WHERE name = 'inv-update';
SELECT count(*) AS capture_triggers FROM pg_temp.triggers() WHERE tgname <> 'frappe_integrations_webhook_config';

-- one webhook per event of the table (SPEC 1)
SELECT pg_temp.hook('inv-' || e, e, '{"name": "{{ doc.name }}", "event": "{{ event }}", "ds": {{ doc.docstatus }}}')
  FROM unnest(ARRAY['after_insert', 'on_submit', 'on_cancel', 'on_trash',
                    'on_update_after_submit', 'on_change']) e;
SELECT webhook, doctype, docevent, enabled, usable, problem, pending, failed FROM integrations.webhook_status;

-- INSERT, docstatus 0: after_insert, on_update
INSERT INTO "tabSales Invoice" (name, customer, grand_total, docstatus, modified_by)
VALUES ('SINV-1', 'Café Ünïcode', 1180, 0, 'jane@example.com');
SELECT webhook, docname, event, status, body FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;

-- UPDATE 0 -> 0: on_update, on_change
UPDATE "tabSales Invoice" SET grand_total = 1200 WHERE name = 'SINV-1';
SELECT webhook, event, body FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;

-- UPDATE 0 -> 1: on_update, on_submit, on_change
UPDATE "tabSales Invoice" SET docstatus = 1 WHERE name = 'SINV-1';
SELECT webhook, event, body FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;

-- UPDATE 1 -> 1: on_update_after_submit, on_change (Frappe v15 never fires it)
UPDATE "tabSales Invoice" SET remarks = 'paid' WHERE name = 'SINV-1';
SELECT webhook, event FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;

-- a child row only: the parent's save events (submitted: on_update_after_submit)
INSERT INTO "tabSales Invoice Item" (name, parent, parenttype, parentfield, idx, item_code, qty, rate)
VALUES ('row-1', 'SINV-1', 'Sales Invoice', 'items', 1, 'X', 2, 590);
SELECT webhook, event FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;

-- UPDATE 1 -> 2: on_cancel, on_change
UPDATE "tabSales Invoice" SET docstatus = 2 WHERE name = 'SINV-1';
SELECT webhook, event FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;

-- INSERT, docstatus 1: after_insert, on_update, on_submit
INSERT INTO "tabSales Invoice" (name, customer, grand_total, docstatus) VALUES ('SINV-2', 'B', 5, 1);
SELECT webhook, event FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;

-- DELETE: on_trash, with the document (and its children) as it was
INSERT INTO "tabSales Invoice Item" (name, parent, parenttype, parentfield, idx, item_code, qty)
VALUES ('row-2', 'SINV-2', 'Sales Invoice', 'items', 1, 'Y', 3);
TRUNCATE integrations.webhook_queue;
UPDATE "tabWebhook" SET webhook_json = '{"name": "{{ doc.name }}", "items": {{ doc["items"] | map(attribute="item_code") | list | tojson }}}'
 WHERE name = 'inv-on_trash';
DELETE FROM "tabSales Invoice" WHERE name = 'SINV-2';
SELECT webhook, event, body FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;

-- only the on_update webhook from here on
DELETE FROM "tabWebhook" WHERE name <> 'inv-update';

-- insert then update in one transaction: one delivery, the document at commit
BEGIN;
INSERT INTO "tabSales Invoice" (name, customer, grand_total) VALUES ('SINV-3', 'C', 1);
UPDATE "tabSales Invoice" SET grand_total = 2 WHERE name = 'SINV-3';
UPDATE "tabWebhook" SET webhook_json = '{"name": "{{ doc.name }}", "total": {{ doc.grand_total }}}';
UPDATE "tabSales Invoice" SET grand_total = 3 WHERE name = 'SINV-3';
COMMIT;
SELECT webhook, body FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;

-- a rolled-back transaction: nothing
BEGIN;
UPDATE "tabSales Invoice" SET grand_total = 4 WHERE name = 'SINV-3';
ROLLBACK;
SELECT count(*) AS queued FROM integrations.webhook_queue;

-- a rolled-back savepoint: only what stayed
BEGIN;
INSERT INTO "tabSales Invoice" (name, customer, grand_total) VALUES ('SINV-4', 'D', 1);
SAVEPOINT a;
UPDATE "tabSales Invoice" SET grand_total = 5 WHERE name = 'SINV-3';
ROLLBACK TO a;
SAVEPOINT b;
INSERT INTO "tabSales Invoice" (name, customer, grand_total) VALUES ('SINV-5', 'E', 1);
RELEASE b;
COMMIT;
SELECT docname, body FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;

-- the session switch
SET frappe_integrations.webhooks = off;
UPDATE "tabSales Invoice" SET grand_total = 6 WHERE name = 'SINV-3';
RESET frappe_integrations.webhooks;
SELECT count(*) AS queued_while_off FROM integrations.webhook_queue;

-- the document as it stands at commit, also when its row changed after the
-- trigger saw it (the row id noted is stale: read by name) or when that
-- change was rolled back to a savepoint (the row noted is current again)
BEGIN;
UPDATE "tabSales Invoice" SET grand_total = 7 WHERE name = 'SINV-3';
SET LOCAL frappe_integrations.webhooks = off;
UPDATE "tabSales Invoice" SET grand_total = 8 WHERE name = 'SINV-3';
COMMIT;
SELECT docname, body FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;
BEGIN;
UPDATE "tabSales Invoice" SET grand_total = 9 WHERE name = 'SINV-3';
SAVEPOINT s;
UPDATE "tabSales Invoice" SET grand_total = 10 WHERE name = 'SINV-3';
ROLLBACK TO s;
COMMIT;
SELECT docname, body FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;

-- a bulk statement: one row per document
UPDATE "tabSales Invoice" SET grand_total = grand_total + 1;
SELECT docname, body FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;

-- conditions: true, false, and one that fails (the change still commits)
UPDATE "tabWebhook" SET condition = 'doc.grand_total > 3 and doc.customer != "E"';
UPDATE "tabSales Invoice" SET grand_total = grand_total + 1;
SELECT docname, status FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;
UPDATE "tabWebhook" SET condition = 'doc.grand_total / 0';
SET client_min_messages = warning;
UPDATE "tabSales Invoice" SET grand_total = 7 WHERE name = 'SINV-3';
SELECT grand_total FROM "tabSales Invoice" WHERE name = 'SINV-3';
SELECT docname, status, body, last_error FROM pg_temp.q();
SELECT webhook, reference_document, error FROM "tabWebhook Request Log" ORDER BY creation, name;
TRUNCATE integrations.webhook_queue;
DELETE FROM "tabWebhook Request Log";
UPDATE "tabWebhook" SET condition = NULL;

-- only the fields the templates and conditions read are fetched: the ways of
-- reading doc all give what the whole document gives
UPDATE "tabWebhook" SET webhook_json =
  '{"a": "{{ doc["customer"] }}", "b": "{{ doc.get("customer") }}", "c": {{ doc.items | length }}, "d": {{ 1 if (doc | tojson | length) > 100 else 0 }}, "e": "{{ doc.remarks }}"}';
UPDATE "tabSales Invoice" SET remarks = 'r' WHERE name = 'SINV-3';
UPDATE "tabWebhook" SET webhook_json = '{"a": "{{ doc["customer"] }}", "e": "{{ doc.remarks }}", "f": "{{ doc.no_such_field }}"}';
UPDATE "tabSales Invoice" SET remarks = 's' WHERE name = 'SINV-3';
SELECT body FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;

-- Form URL-Encoded: {key: doc[fieldname]} from the Webhook Data rows, sent as JSON text
INSERT INTO "tabWebhook Data" (name, parent, parenttype, parentfield, idx, fieldname, key) VALUES
  ('wd1', 'inv-update', 'Webhook', 'webhook_data', 1, 'name', 'id'),
  ('wd2', 'inv-update', 'Webhook', 'webhook_data', 2, 'customer', 'who'),
  ('wd3', 'inv-update', 'Webhook', 'webhook_data', 3, 'grand_total', 'amount'),
  ('wd4', 'inv-update', 'Webhook', 'webhook_data', 4, 'no_such_field', 'missing');
UPDATE "tabWebhook" SET request_structure = 'Form URL-Encoded', webhook_json = NULL;
UPDATE "tabSales Invoice" SET customer = 'Zoë ☃ 😀' WHERE name = 'SINV-3';
SELECT body FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;
DELETE FROM "tabWebhook Data";

-- a dynamic URL and header rows (no secret is ever queued)
UPDATE "tabWebhook" SET request_structure = 'JSON', webhook_json = '{"n": "{{ doc.name }}"}',
       is_dynamic_url = 1, request_url = 'https://example.com/inv/{{ doc.name }}?c={{ doc.customer | urlencode }}',
       enable_security = 1;
INSERT INTO "tabWebhook Header" (name, parent, parenttype, parentfield, idx, key, value) VALUES
  ('wh1', 'inv-update', 'Webhook', 'webhook_headers', 1, 'Authorization', 'Bearer abc'),
  ('wh2', 'inv-update', 'Webhook', 'webhook_headers', 2, 'X-Empty', ''),
  ('wh3', 'inv-update', 'Webhook', 'webhook_headers', 3, 'Content-Type', 'application/json; charset=utf-8');
UPDATE "tabSales Invoice" SET grand_total = 8 WHERE name = 'SINV-3';
SELECT url, headers, body, sign FROM integrations.webhook_queue;
TRUNCATE integrations.webhook_queue;

-- what cannot be used is reported, and what fires anyway is kept as failed
SELECT webhook, usable, problem FROM integrations.webhook_status;
UPDATE "tabWebhook" SET enable_security = 0, is_dynamic_url = 0, request_url = 'file:///etc/passwd';
SELECT webhook, usable, problem FROM integrations.webhook_status;
UPDATE "tabSales Invoice" SET grand_total = 9 WHERE name = 'SINV-3';
SELECT status, url, last_error FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;
UPDATE "tabWebhook" SET request_url = 'http://127.0.0.1:9/x', webhook_json = '{"n": {{ doc.name }';
SELECT webhook, usable, problem FROM integrations.webhook_status;
UPDATE "tabWebhook Header" SET value = E'a\r\nX-Injected: 1' WHERE name = 'wh1';
UPDATE "tabWebhook" SET webhook_json = '{"n": 1}';
SELECT webhook, usable, problem FROM integrations.webhook_status;
UPDATE "tabSales Invoice" SET grand_total = 10 WHERE name = 'SINV-3';
SELECT status, headers, last_error FROM pg_temp.q();
TRUNCATE integrations.webhook_queue;
DELETE FROM "tabWebhook Header";
DELETE FROM "tabWebhook Request Log";

-- the preview: what would be sent now
SELECT integrations.webhook_preview('inv-update', 'SINV-3');
SELECT integrations.webhook_preview('inv-update', 'NO-SUCH');
SELECT integrations.webhook_preview('no-such-hook', 'SINV-3');

-- failed events can be queued again
UPDATE "tabWebhook" SET request_url = 'gopher://x';
UPDATE "tabSales Invoice" SET grand_total = 11 WHERE name = 'SINV-3';
SELECT status FROM integrations.webhook_queue;
SELECT integrations.retry_webhook_events('other-hook') AS requeued_other;
SELECT integrations.retry_webhook_events('inv-update') AS requeued;
SELECT status, attempts, last_error FROM integrations.webhook_queue;
SELECT integrations.retry_webhook_events() AS requeued_again;
TRUNCATE integrations.webhook_queue;

-- changing the webhook's DocType moves its triggers; deleting it removes them
UPDATE "tabWebhook" SET webhook_doctype = 'Customer';
SELECT * FROM pg_temp.triggers();
DELETE FROM "tabWebhook";
SELECT * FROM pg_temp.triggers();
SELECT integrations.sync_webhooks() AS changed;

-- a webhook for a DocType without a table: reported, and the write not refused
INSERT INTO "tabWebhook" (name, webhook_doctype, webhook_docevent, request_url, enabled)
VALUES ('ghost', 'No Such DocType', 'on_update', 'http://127.0.0.1:9/', 1);
SELECT webhook, usable, problem FROM integrations.webhook_status;
DELETE FROM "tabWebhook";
DELETE FROM "tabSales Invoice";
DELETE FROM "tabSales Invoice Item";
