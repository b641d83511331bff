-- import: Frappe's Data Import from SQL (integrations.import_csv)
\set VERBOSITY terse
SET client_min_messages = notice;
SET frappe_integrations.webhooks = off;

-- the meta test customised Sales Invoice: back to the DocType as shipped
DELETE FROM "tabProperty Setter" WHERE doc_type = 'Sales Invoice';
DELETE FROM "tabCustom Field" WHERE dt = 'Sales Invoice';

-- Link targets of the site
INSERT INTO "tabItem Group"(name) VALUES ('Products'), ('Services');
INSERT INTO "tabUOM"(name) VALUES ('Nos'), ('Kg');
INSERT INTO "tabBrand"(name) VALUES ('Acme');
INSERT INTO "tabCompany"(name) VALUES ('ACME Ltd');
INSERT INTO "tabCurrency"(name) VALUES ('INR'), ('USD');
INSERT INTO "tabPrice List"(name) VALUES ('Standard Selling');
INSERT INTO "tabAccount"(name) VALUES ('Debtors - A'), ('Sales - A');
INSERT INTO "tabCost Center"(name) VALUES ('Main - A');
INSERT INTO "tabCustomer Group"(name) VALUES ('Commercial');

-- labels as headers; Check words, thousands separators, a guessed date format;
-- a bad document fails alone with every problem listed; defaults fill the rest
SELECT jsonb_pretty(integrations.import_csv('Item', $csv$Item Code,Item Name,Item Group,Default Unit of Measure,Brand,Maintain Stock,Standard Selling Rate,End of Life
A1,Apple,Products,Nos,Acme,yes,"1,234.50",31-12-2030
A2,Banana,Nowhere,Nos,,maybe,x,2030-01-01
A3,Cherry,Services,Kg,,0,3,01-02-2031
$csv$, 'Insert New Records', '{"progress_seconds": -1}'));
SELECT name, item_name, item_group, stock_uom, brand, is_stock_item, standard_rate, end_of_life,
       owner, modified_by, docstatus, idx, is_sales_item, disabled, creation = modified AS same_times
  FROM "tabItem" ORDER BY name;

-- the standard columns: creation/modified on the site's clock (System Settings: Asia/Kolkata)
SELECT bool_and(abs(extract(epoch FROM creation - integrations.site_now())) < 600) AS site_clock
  FROM "tabItem";

-- Custom Fields are imported like standard ones (Duration, Time, Datetime among them)
INSERT INTO "tabCustom Field"(name, dt, fieldname, label, fieldtype, insert_after) VALUES
  ('Item-custom_colour', 'Item', 'custom_colour', 'Colour', 'Data', 'item_name'),
  ('Item-custom_lead', 'Item', 'custom_lead', 'Lead Time', 'Duration', 'custom_colour'),
  ('Item-custom_cutoff', 'Item', 'custom_cutoff', 'Cut-off', 'Time', 'custom_lead'),
  ('Item-custom_checked_at', 'Item', 'custom_checked_at', 'Checked At', 'Datetime', 'custom_cutoff');
ALTER TABLE "tabItem" ADD COLUMN custom_colour varchar(140), ADD COLUMN custom_lead decimal(21,9),
  ADD COLUMN custom_cutoff time(6), ADD COLUMN custom_checked_at timestamp(6);
SELECT integrations.import_csv('Item', $csv$Item Code,Item Group,Default Unit of Measure,Colour,Lead Time,Cut-off,Checked At
K1,Products,Nos,Red,1d 2h,5:30 PM,05/06/2024 17:45
K2,Products,Nos,Blue,45m,17:30:15,13/06/2024 08:00
K3,Products,Nos,Green,90,25:00,2024-06-13
$csv$)->'errors' AS custom_field_errors;
SELECT name, custom_colour, custom_lead, custom_cutoff, custom_checked_at FROM "tabItem"
 WHERE name LIKE 'K%' ORDER BY name;
-- and exported as Frappe writes them (Duration as "1d 2h", times and datetimes as str())
SELECT integrations.export_csv('Item', '{"fields": ["name", "custom_colour", "custom_lead", "custom_cutoff", "custom_checked_at", "is_stock_item", "standard_rate"], "filters": {"name": ["like", "K%"]}, "order_by": "name"}');

-- fieldnames, "Label (fieldname)", ID forms; unmatched and repeated headers are skipped with a warning
SELECT jsonb_pretty(integrations.import_csv('Item', $csv$item_code,Item Name (item_name),item_group,stock_uom,Whatever,item_group
B1,Blue,Products,Nos,zzz,Services
$csv$, 'Insert New Records', '{"user": "jane@example.com"}'));
SELECT name, item_name, item_group, owner, modified_by FROM "tabItem" WHERE name = 'B1';
-- column_to_field_map: a column by index, or not imported
SELECT integrations.import_csv('Item', $csv$Code,Name,Group,UOM,Junk
B2,Beet,Products,Nos,x
$csv$, 'Insert New Records',
  '{"column_to_field_map": {"0": "item_code", "1": "item_name", "2": "Item Group", "3": "stock_uom", "4": "Don''t Import"}}')
  - 'warnings' AS result;
SELECT name, item_name FROM "tabItem" WHERE name = 'B2';

-- a name already taken, twice in the file, the unique item_code
SELECT integrations.import_csv('Item', $csv$Item Code,Item Group,Default Unit of Measure
A1,Products,Nos
C1,Products,Nos
C1,Products,Nos
$csv$)->'errors' AS errors;

-- child rows: "Label (Table Label)" and table.fieldname; rows with empty parent
-- columns belong to the document above; a naming series through tabSeries;
-- defaults (Today, Now, Draft, the first series); the title from {customer_name}
INSERT INTO "tabCustomer"(name, customer_name) VALUES ('Café Ünïcode', 'Café Ünïcode');
SELECT integrations.import_csv('Sales Invoice', $csv$Customer,Company,Currency,Exchange Rate,Price List,Price List Currency,Price List Exchange Rate,Debit To,Item Name (Items),Quantity (Items),Rate (Items),Amount (Items),Rate (Company Currency) (Items),Amount (Company Currency) (Items),UOM (Items),UOM Conversion Factor (Items),Income Account (Items),items.cost_center
Café Ünïcode,ACME Ltd,INR,1,Standard Selling,INR,1,Debtors - A,Widget,2,10,20,10,20,Nos,1,Sales - A,Main - A
,,,,,,,,Gadget,1,5,5,5,5,Nos,1,Sales - A,Main - A
Café Ünïcode,ACME Ltd,INR,1,Standard Selling,INR,1,Debtors - A,Thing,3,1,3,1,3,Kg,1,Sales - A,Main - A
$csv$, 'Insert New Records', '{"submit_after_import": true}') - 'warnings' AS result;
SELECT name = 'ACC-SINV-' || to_char(now() AT TIME ZONE 'Asia/Kolkata', 'YYYY') || '-0000' || right(name, 1) AS series_name,
       right(name, 1) AS n, customer, title, status, naming_series, docstatus,
       posting_date = (now() AT TIME ZONE 'Asia/Kolkata')::date AS posting_today,
       posting_time IS NOT NULL AS has_time, is_return
  FROM "tabSales Invoice" ORDER BY name;
SELECT right(parent, 1) AS parent, parenttype, parentfield, idx, item_name, qty, uom, docstatus,
       length(name) AS name_len, name ~ '^[0-9a-v]{10}$' AS hash_name
  FROM "tabSales Invoice Item" ORDER BY parent, idx;
SELECT name = 'ACC-SINV-' || to_char(now() AT TIME ZONE 'Asia/Kolkata', 'YYYY') || '-' AS key, current
  FROM "tabSeries";

-- mandatory: a missing value and a missing table; Select options; lengths
SELECT integrations.import_csv('Sales Invoice', $csv$Customer,Company,Currency,Price List,Price List Currency,Debit To,Status,Item Name (Items),UOM (Items),Income Account (Items),Cost Center (Items)
Café Ünïcode,,INR,Standard Selling,INR,Debtors - A,Lost,Widget,Nos,Sales - A,Main - A
Café Ünïcode,ACME Ltd,INR,Standard Selling,INR,Debtors - A,Draft,,,,
$csv$)->'errors' AS errors;
SELECT integrations.import_csv('Item', 'Item Code,Item Group,Default Unit of Measure' || chr(10) ||
  repeat('x', 141) || ',Products,Nos')->'errors'->0->>'message' AS too_long;

-- atomic: one failure and nothing is written; dry_run: nothing is written
SELECT integrations.import_csv('Item', $csv$Item Code,Item Group,Default Unit of Measure
D1,Products,Nos
D2,Nope,Nos
$csv$, 'Insert New Records', '{"atomic": true}') - 'errors' - 'warnings' AS atomic;
SELECT count(*) AS d_items FROM "tabItem" WHERE name LIKE 'D%';
SELECT integrations.import_csv('Sales Invoice', $csv$Customer,Company,Currency,Price List,Price List Currency,Debit To,Item Name (Items),UOM (Items),Income Account (Items),Cost Center (Items),Rate (Items),Amount (Items),Rate (Company Currency) (Items),Amount (Company Currency) (Items),UOM Conversion Factor (Items)
Café Ünïcode,ACME Ltd,INR,Standard Selling,INR,Debtors - A,Widget,Nos,Sales - A,Main - A,1,1,1,1,1
$csv$, 'Insert New Records', '{"dry_run": true}') - 'errors' - 'warnings' AS dry_run;
SELECT count(*) AS invoices, (SELECT current FROM "tabSeries") AS series_unchanged FROM "tabSales Invoice";

-- Update: found by ID, only the cells given change; nothing to change is no write
SELECT integrations.import_csv('Item', $csv$ID,Item Name,Standard Selling Rate
A1,Apple (red),
A3,Cherry,3
Z9,Nobody,1
$csv$, 'Update Existing Records') - 'warnings' AS updated;
SELECT name, item_name, standard_rate, modified > creation AS modified_moved FROM "tabItem"
 WHERE name IN ('A1', 'A3') ORDER BY name;

-- Update replaces a child table given in the file (rows without ID are new, the rest go)
SELECT name AS inv FROM "tabSales Invoice" ORDER BY name LIMIT 1 \gset
SELECT name AS keep FROM "tabSales Invoice Item" WHERE parent = :'inv' AND idx = 2 \gset
SELECT integrations.import_csv('Sales Invoice', format($csv$ID,ID (Items),Item Name (Items),Quantity (Items)
%s,%s,Gadget v2,4
,,New line,7
$csv$, :'inv', :'keep'), 'Update Existing Records') - 'warnings' AS replaced_on_submitted;
-- a draft document takes the change
UPDATE "tabSales Invoice" SET docstatus = 0 WHERE name = :'inv';
UPDATE "tabSales Invoice Item" SET docstatus = 0 WHERE parent = :'inv';
SELECT integrations.import_csv('Sales Invoice', format($csv$ID,ID (Items),Item Name (Items),Quantity (Items)
%s,%s,Gadget v2,4
,,New line,7
$csv$, :'inv', :'keep'), 'Update Existing Records') - 'warnings' AS replaced;
SELECT idx, item_name, qty, name = :'keep' AS kept_id, uom FROM "tabSales Invoice Item"
 WHERE parent = :'inv' ORDER BY idx;
-- two documents in one file: the first as stored (unchanged), the second gets a row
SELECT name AS inv2 FROM "tabSales Invoice" WHERE name <> :'inv' \gset
UPDATE "tabSales Invoice" SET docstatus = 0 WHERE name = :'inv2';
UPDATE "tabSales Invoice Item" SET docstatus = 0 WHERE parent = :'inv2';
SELECT name AS newrow FROM "tabSales Invoice Item" WHERE parent = :'inv' AND idx = 2 \gset
SELECT name AS thing FROM "tabSales Invoice Item" WHERE parent = :'inv2' \gset
SELECT integrations.import_csv('Sales Invoice', format($csv$ID,ID (Items),Item Name (Items),Quantity (Items)
%s,%s,Gadget v2,4
,%s,New line,7
%s,%s,Thing,3
,,Extra,1
$csv$, :'inv', :'keep', :'newrow', :'inv2', :'thing'), 'Update Existing Records') - 'warnings' AS two_docs;
SELECT parent = :'inv2' AS second, idx, item_name, qty FROM "tabSales Invoice Item"
 WHERE parent IN (:'inv', :'inv2') ORDER BY 1, idx;

-- Data Import Log, as Frappe records a run
INSERT INTO "tabData Import"(name, reference_doctype, import_type, status)
VALUES ('Item Import on 2026-01-01 00:00:00.000000', 'Item', 'Insert New Records', 'Pending');
SELECT integrations.import_csv('Item', $csv$Item Code,Item Group,Default Unit of Measure
E1,Products,Nos
E2,Nope,Nos
E3,Products,Nos
$csv$, 'Insert New Records', '{"data_import": "Item Import on 2026-01-01 00:00:00.000000"}')->>'status' AS status;
SELECT log_index, success, docname, row_indexes, messages, exception IS NOT NULL AS has_exception
  FROM "tabData Import Log" ORDER BY log_index;
SELECT status, payload_count FROM "tabData Import";

-- bad input: each a clear error or a per-row entry
SELECT integrations.import_csv('Item', E'Item Code,Item Group,Default Unit of Measure\nF1,Products,Nos,extra\nF2,Products\n"F3,Products,Nos')->'errors' AS ragged_and_unterminated;
SELECT integrations.import_csv('Item', '');
SELECT integrations.import_csv('Item', E'\n\n  ,  \n');
SELECT integrations.import_csv('Item', E'Item Code,Item Group\n');
SELECT integrations.import_csv('Item', E'Nothing,Here\n1,2\n');
SELECT integrations.import_csv('No Such Type', E'a\n1\n');
SELECT integrations.import_csv('Sales Invoice Item', E'Item Name\nx\n');
SELECT integrations.import_csv('DocType', E'Name\nx\n');
SELECT integrations.import_csv('Item', E'Item Code\nx\n', 'Upsert');
SELECT integrations.import_csv('Item', E'Item Code\nx\n', 'Insert New Records', '{"atomc": true}');
SELECT integrations.import_csv('Item', E'Item Code\nx\n', 'Insert New Records', '{"data_import": "nope"}');
SELECT integrations.import_csv('Customer', E'Customer Name\nx\n', 'Insert New Records', '{"submit_after_import": true}');
-- a BOM and CRLF are fine
SELECT integrations.import_csv('Item', E'\uFEFFItem Code,Item Group,Default Unit of Measure\r\nG1,Products,Nos\r\n')->>'inserted' AS bom_crlf;

-- the template header
SELECT integrations.import_template('Customer', '{"mandatory_only": true}');

-- other naming rules: format: with a field and a counter (a Property Setter
-- changes the autoname: the import reads the effective meta), hash
INSERT INTO "tabProperty Setter"(name, doctype_or_field, doc_type, property, property_type, value)
VALUES ('Customer-main-autoname', 'DocType', 'Customer', 'autoname', 'Data', 'format:C-{customer_type}-{####}');
SELECT integrations.import_csv('Customer', E'Customer Name,Customer Type\nAda,Individual\nBob,Company\nCy,Individual\n')->>'inserted' AS inserted;
SELECT name, customer_name FROM "tabCustomer" WHERE name LIKE 'C-%' ORDER BY name;
SELECT name, current FROM "tabSeries" WHERE name LIKE 'C-%' ORDER BY name;
UPDATE "tabProperty Setter" SET value = 'hash' WHERE name = 'Customer-main-autoname';
SELECT integrations.import_csv('Customer', E'Customer Name\nDee\n')->>'inserted' AS inserted;
SELECT name ~ '^[0-9a-v]{10}$' AS hash_name FROM "tabCustomer" WHERE customer_name = 'Dee';
-- a supplied ID is kept whatever the rule
SELECT integrations.import_csv('Customer', E'ID,Customer Name\nMY-ID,Eve\n')->>'inserted' AS inserted;
-- a series as the autoname itself: PREFIX-.YY.-.###
UPDATE "tabProperty Setter" SET value = 'CU-.YY.-.###' WHERE name = 'Customer-main-autoname';
SELECT integrations.import_csv('Customer', E'Customer Name\nGus\nHal\n')->>'inserted' AS inserted;
SELECT name = 'CU-' || to_char(now() AT TIME ZONE 'Asia/Kolkata', 'YY') || '-00' || right(name, 1) AS series_name,
       right(name, 1) AS n FROM "tabCustomer" WHERE customer_name IN ('Gus', 'Hal') ORDER BY name;
-- prompt: the name must be given
UPDATE "tabProperty Setter" SET value = 'prompt' WHERE name = 'Customer-main-autoname';
SELECT integrations.import_csv('Customer', E'Customer Name\nFay\n')->'errors'->0->>'message' AS prompt;
SELECT name FROM "tabCustomer" WHERE customer_name = 'Eve';
DELETE FROM "tabProperty Setter" WHERE name = 'Customer-main-autoname';
SELECT integrations.import_template('Sales Invoice', '{"mandatory_only": true, "children": true}');
SELECT left(integrations.import_template('Item'), 60) AS item_template;

-- the server-file variant is not for everyone
SET ROLE fi_plain;
SELECT integrations.import_csv_file('Item', '/etc/passwd');
RESET ROLE;
