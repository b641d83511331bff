-- meta: the effective DocType meta as the C code reads it
\set VERBOSITY terse

-- a helper for compact output: fieldnames in effective order
CREATE FUNCTION fieldnames(dt text, first_idx int, last_idx int) RETURNS text
LANGUAGE sql AS $$
  SELECT string_agg(f->>'fieldname', ',' ORDER BY (f->>'idx')::int)
    FROM jsonb_array_elements(integrations.doctype_meta(dt)->'fields') f
   WHERE (f->>'idx')::int BETWEEN first_idx AND last_idx
$$;
CREATE FUNCTION field(dt text, fname text) RETURNS jsonb
LANGUAGE sql AS $$
  SELECT f FROM jsonb_array_elements(integrations.doctype_meta(dt)->'fields') f
   WHERE f->>'fieldname' = fname
$$;

-- DocType properties, from tabDocType as Frappe wrote them
SELECT m->>'name' AS name, m->>'autoname' AS autoname, m->>'naming_rule' AS naming_rule,
       m->'istable' AS istable, m->'issingle' AS issingle,
       m->'is_submittable' AS submittable, jsonb_array_length(m->'fields') AS nfields,
       m->'child_tables' AS child_tables
  FROM unnest(ARRAY['Webhook', 'Webhook Header', 'Sales Invoice', 'Sales Invoice Item',
                    'Item', 'Customer', 'System Settings', 'OAuth Bearer Token']) AS dt,
       integrations.doctype_meta(dt) AS m;

-- fields in DocField order, with their properties
SELECT fieldnames('Webhook', 1, 8);
SELECT f->>'fieldtype' AS fieldtype, f->>'label' AS label, f->>'options' AS options,
       f->'reqd' AS reqd, f->>'default' AS "default", f->'has_column' AS has_column
  FROM unnest(ARRAY['webhook_doctype', 'webhook_docevent', 'timeout', 'request_method',
                    'webhook_headers', 'webhook_secret', 'sb_doc_events']) AS fn,
       field('Webhook', fn) AS f;
SELECT field('Item', 'item_code')->'unique' AS item_code_unique,
       field('Sales Invoice', 'customer')->'reqd' AS customer_reqd,
       field('Sales Invoice', 'items')->>'options' AS items_table;

-- a Custom Field is placed after its insert_after field, at once
INSERT INTO "tabCustom Field" (name, dt, fieldname, label, fieldtype, insert_after, idx)
VALUES ('Sales Invoice-custom_po_ref', 'Sales Invoice', 'custom_po_ref', 'PO Ref', 'Data',
        'customer', 1);
SELECT fieldnames('Sales Invoice', (field('Sales Invoice', 'customer')->>'idx')::int,
                  (field('Sales Invoice', 'customer')->>'idx')::int + 2) AS after_customer;
SELECT field('Sales Invoice', 'custom_po_ref') - 'idx' AS custom_field;

-- several after the same field keep their idx order; chains follow; orphans go last
INSERT INTO "tabCustom Field" (name, dt, fieldname, label, fieldtype, insert_after, idx) VALUES
  ('Sales Invoice-custom_b', 'Sales Invoice', 'custom_b', 'B', 'Int', 'customer', 3),
  ('Sales Invoice-custom_a', 'Sales Invoice', 'custom_a', 'A', 'Check', 'customer', 2),
  ('Sales Invoice-custom_a2', 'Sales Invoice', 'custom_a2', 'A2', 'Data', 'custom_a', 4),
  ('Sales Invoice-custom_lost', 'Sales Invoice', 'custom_lost', 'Lost', 'Data', 'no_such_field', 5);
SELECT fieldnames('Sales Invoice', (field('Sales Invoice', 'customer')->>'idx')::int,
                  (field('Sales Invoice', 'customer')->>'idx')::int + 5) AS after_customer;
SELECT (SELECT f->>'fieldname' FROM jsonb_array_elements(m->'fields') f
         WHERE (f->>'idx')::int = jsonb_array_length(m->'fields')) AS last_field
  FROM integrations.doctype_meta('Sales Invoice') m;

-- Property Setters change fields and the DocType; the newest wins
INSERT INTO "tabProperty Setter" (name, doctype_or_field, doc_type, field_name, property,
                                  property_type, value, creation) VALUES
  ('ps1', 'DocField', 'Sales Invoice', 'customer', 'reqd', 'Check', '0', '2024-01-01'),
  ('ps2', 'DocField', 'Sales Invoice', 'customer', 'label', 'Data', 'Client', '2024-01-01'),
  ('ps3', 'DocField', 'Sales Invoice', 'customer', 'label', 'Data', 'Buyer', '2024-02-01'),
  ('ps4', 'DocField', 'Sales Invoice', 'custom_po_ref', 'reqd', 'Check', '1', '2024-01-01'),
  ('ps5', 'DocType', 'Sales Invoice', NULL, 'autoname', 'Data', 'format:SI-{#####}', '2024-01-01');
SELECT field('Sales Invoice', 'customer')->'reqd' AS reqd,
       field('Sales Invoice', 'customer')->>'label' AS label,
       field('Sales Invoice', 'custom_po_ref')->'reqd' AS custom_reqd,
       integrations.doctype_meta('Sales Invoice')->>'autoname' AS autoname;

-- a field_order Property Setter wins over insert_after
INSERT INTO "tabProperty Setter" (name, doctype_or_field, doc_type, property, property_type, value)
VALUES ('ps6', 'DocType', 'Webhook Header', 'field_order', 'Data', '["value", "no_such", "key"]');
SELECT fieldnames('Webhook Header', 1, 10);

-- changes inside a rolled-back transaction are forgotten with it
BEGIN;
DELETE FROM "tabCustom Field" WHERE dt = 'Sales Invoice';
SELECT field('Sales Invoice', 'custom_po_ref') IS NULL AS gone_in_xact;
ROLLBACK;
SELECT field('Sales Invoice', 'custom_po_ref') IS NOT NULL AS back_after_rollback;

-- TRUNCATE is seen too
BEGIN;
TRUNCATE "tabProperty Setter";
SELECT field('Sales Invoice', 'customer')->>'label' AS label_after_truncate;
ROLLBACK;

-- bad input
SELECT err($$SELECT integrations.doctype_meta('No Such DocType')$$);
SELECT err($$SELECT integrations.doctype_meta('Webhook''; DROP TABLE "tabWebhook"; --')$$);
SELECT integrations.doctype_meta(NULL) IS NULL AS null_in_null_out;
SET frappe_integrations.site_schema = 'no_such_schema';
SELECT err($$SELECT integrations.doctype_meta('Webhook')$$);
RESET frappe_integrations.site_schema;
SELECT count(*) AS webhook_table_intact FROM "tabWebhook";

DROP FUNCTION fieldnames(text, int, int);
DROP FUNCTION field(text, text);

-- a cached meta is not served from another site schema
SELECT integrations.doctype_meta('Webhook')->>'name' AS cached;
CREATE SCHEMA other_site;
CREATE TABLE other_site."tabDocType" (LIKE public."tabDocType" INCLUDING DEFAULTS);
CREATE TABLE other_site."tabDocField" (LIKE public."tabDocField" INCLUDING DEFAULTS);
CREATE TABLE other_site."tabCustom Field" (LIKE public."tabCustom Field" INCLUDING DEFAULTS);
CREATE TABLE other_site."tabProperty Setter" (LIKE public."tabProperty Setter" INCLUDING DEFAULTS);
INSERT INTO other_site."tabDocType" (name, module, autoname) VALUES ('Webhook', 'Other', 'hash');
SET frappe_integrations.site_schema = 'other_site';
SELECT m->>'module' AS module, m->>'autoname' AS autoname, jsonb_array_length(m->'fields') AS nfields
  FROM integrations.doctype_meta('Webhook') m;
RESET frappe_integrations.site_schema;
SELECT integrations.doctype_meta('Webhook')->>'autoname' AS back_to_public;
DROP SCHEMA other_site CASCADE;
