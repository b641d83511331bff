#!/usr/bin/env bash
# Data Import where users see Frappe v15's behaviour (issue 17): an Update
# never deletes child rows the file does not give, fetch_from and the title,
# Check and Duration cells, Data Import Log messages as v15 writes them,
# header labels repeated in a child table, Frappe's words for a missing value.
source "$FI_ROOT/test/lib.sh"
DB=fi_import_frappe
newdb $DB
q $DB "INSERT INTO \"tabItem Group\"(name) VALUES ('Products');
       INSERT INTO \"tabUOM\"(name) VALUES ('Nos');
       INSERT INTO \"tabCompany\"(name) VALUES ('ACME Ltd');
       INSERT INTO \"tabCurrency\"(name) VALUES ('INR');
       INSERT INTO \"tabPrice List\"(name) VALUES ('Standard Selling');
       INSERT INTO \"tabAccount\"(name) VALUES ('Debtors - A'), ('Sales - A'), ('VAT - A');
       INSERT INTO \"tabCost Center\"(name) VALUES ('Main - A');
       INSERT INTO \"tabCustomer\"(name, customer_name, tax_id) VALUES ('C1', 'Customer One', 'TAX-1'),
                                                               ('C2', 'Customer Two', NULL)" >/dev/null
imp() {	# imp <doctype> <csv> [import type] [options]: the whole result (jsonb)
    q $DB "SELECT integrations.import_csv('$1', \$csv\$$2\$csv\$, '${3:-Insert New Records}', '${4:-{\}}')"
}
status() { echo "$1" | "$FI_PY" -c 'import json,sys; r=json.load(sys.stdin); print(r["status"], r.get("inserted", 0), r.get("updated", 0), r["failed"])'; }
messages() { echo "$1" | "$FI_PY" -c 'import json,sys; r=json.load(sys.stdin); print(" | ".join(e["message"] for e in r["errors"]))'; }

SI_HEAD='Customer,Company,Currency,Price List,Price List Currency,Debit To,Item Name (Items),UOM (Items),Income Account (Items),Cost Center (Items),Rate (Items),Amount (Items),Rate (Company Currency) (Items),Amount (Company Currency) (Items),UOM Conversion Factor (Items),Charge Type (Sales Taxes and Charges),Account Head (Sales Taxes and Charges),Rate (Sales Taxes and Charges)'
SI_ROW='ACME Ltd,INR,Standard Selling,INR,Debtors - A'
R=$(imp 'Sales Invoice' "$SI_HEAD
C1,$SI_ROW,Widget,Nos,Sales - A,Main - A,1,1,1,1,1,On Net Total,VAT - A,5
,,,,,,Gadget,Nos,Sales - A,Main - A,2,2,2,2,1,,,
C2,$SI_ROW,Thing,Nos,Sales - A,Main - A,3,3,3,3,1,On Net Total,VAT - A,7
")
t_is "$(status "$R")" "Success 2 0 0" "two invoices with items and taxes"

# ---- fetch_from, then the title (Frappe: link validation fetches, set_title_field after)
t_is "$(q $DB "SELECT string_agg(concat_ws('/', customer, customer_name, coalesce(tax_id, '-'), title), ' ' ORDER BY customer) FROM \"tabSales Invoice\"")" \
     "C1/Customer One/TAX-1/Customer One C2/Customer Two/-/Customer Two" \
     "fetch_from fills customer_name and tax_id from the Customer; the title {customer_name} follows"
R=$(imp 'Sales Invoice' "$SI_HEAD,Customer Name
C1,$SI_ROW,Widget,Nos,Sales - A,Main - A,1,1,1,1,1,,,,Typed In
")
t_is "$(q $DB "SELECT customer_name FROM \"tabSales Invoice\" ORDER BY creation DESC, name DESC LIMIT 1")" "Customer One" \
     "a fetched field the file also gives takes the Link's value (fetch_if_empty unset), as Frappe's save does"
q $DB "UPDATE \"tabDocField\" SET fetch_if_empty = 1 WHERE parent = 'Sales Invoice' AND fieldname = 'customer_name'" >/dev/null
R=$(imp 'Sales Invoice' "$SI_HEAD,Customer Name
C1,$SI_ROW,Widget,Nos,Sales - A,Main - A,1,1,1,1,1,,,,Typed In
C1,$SI_ROW,Widget,Nos,Sales - A,Main - A,1,1,1,1,1,,,,
")
t_is "$(q $DB "SELECT string_agg(customer_name || '/' || title, ' ' ORDER BY name) FROM (SELECT * FROM \"tabSales Invoice\" ORDER BY creation DESC, name DESC LIMIT 2) x")" \
     "Typed In/Typed In Customer One/Customer One" "fetch_if_empty: the file's value stays, an empty one is fetched"
q $DB "UPDATE \"tabDocField\" SET fetch_if_empty = 0 WHERE parent = 'Sales Invoice' AND fieldname = 'customer_name'" >/dev/null

# ---- Update never deletes a child row the file does not give
INV=$(q $DB "SELECT name FROM \"tabSales Invoice\" WHERE customer = 'C1' ORDER BY name LIMIT 1")
INV2=$(q $DB "SELECT name FROM \"tabSales Invoice\" WHERE customer = 'C2' ORDER BY name LIMIT 1")
rows_of() { q $DB "SELECT (SELECT string_agg(item_name || ':' || name, ',' ORDER BY idx) FROM \"tabSales Invoice Item\" WHERE parent = '$1')
                   || ' / ' || coalesce((SELECT string_agg(account_head || '@' || rate::float || ':' || name, ',' ORDER BY idx) FROM \"tabSales Taxes and Charges\" WHERE parent = '$1'), '')"; }
BEFORE=$(rows_of "$INV"); BEFORE2=$(rows_of "$INV2")
R=$(imp 'Sales Invoice' "ID,Customer's Purchase Order
$INV,PO-1
" 'Update Existing Records')
t_is "$(status "$R") $(rows_of "$INV")" "Success 0 1 0 $BEFORE" "Update, no child columns: every child row stays"
R=$(imp 'Sales Invoice' "ID,Customer's Purchase Order,ID (Items),Item Name (Items),Charge Type (Sales Taxes and Charges),Account Head (Sales Taxes and Charges),Rate (Sales Taxes and Charges)
$INV,PO-2,,,,,
" 'Update Existing Records')
t_is "$(status "$R") $(rows_of "$INV")" "Success 0 1 0 $BEFORE" \
     "Update, child columns all empty: the taxes stay, and the Items (mandatory) are not 'missing'"
R=$(imp 'Sales Invoice' "ID,Customer's Purchase Order,Item Name (Items),Charge Type (Sales Taxes and Charges),Account Head (Sales Taxes and Charges),Rate (Sales Taxes and Charges)
$INV,PO-3,,Actual,VAT - A,9
" 'Update Existing Records')
AFTER=$(rows_of "$INV")
t_like "$(status "$R") $AFTER" "^Success 0 1 0 ${BEFORE%% / *} / VAT - A@9:[0-9a-v]{10}$" \
       "Update with tax rows for the document: the taxes are the file's; the Items it leaves empty stay"
BEFORE=$AFTER
THEIRS=$(q $DB "SELECT name FROM \"tabSales Taxes and Charges\" WHERE parent = '$INV2'")
R=$(imp 'Sales Invoice' "ID,ID (Sales Taxes and Charges),Charge Type (Sales Taxes and Charges),Account Head (Sales Taxes and Charges),Rate (Sales Taxes and Charges)
$INV,$THEIRS,Actual,VAT - A,1
" 'Update Existing Records')
t_is "$(status "$R")|$(messages "$R")" \
     "Error 0 0 1|Sales Taxes and Charges: row $THEIRS belongs to Sales Invoice $INV2, not to this document" \
     "Update naming another document's child row: the document fails"
t_is "$(rows_of "$INV") # $(rows_of "$INV2")" "$BEFORE # $BEFORE2" "and neither document lost or gained a row"
t_is "$(q $DB "SELECT po_no FROM \"tabSales Invoice\" WHERE name = '$INV'")" "PO-3" "(nor changed a value)"

# ---- Check and Duration cells
R=$(imp 'Sales Invoice' "$SI_HEAD,Update Stock
C1,$SI_ROW,Widget,Nos,Sales - A,Main - A,1,1,1,1,1,,,,2
C1,$SI_ROW,Widget,Nos,Sales - A,Main - A,1,1,1,1,1,,,,-3
C1,$SI_ROW,Widget,Nos,Sales - A,Main - A,1,1,1,1,1,,,,0
")
t_is "$(q $DB "SELECT string_agg(update_stock::text, ',' ORDER BY name) FROM (SELECT * FROM \"tabSales Invoice\" ORDER BY creation DESC, name DESC LIMIT 3) x")" \
     "1,1,0" "a Check cell of 2 or -3 is stored as 1 (Frappe: 1 if cint(value) else 0)"
q $DB "INSERT INTO \"tabCustom Field\"(name, dt, fieldname, label, fieldtype) VALUES ('Item-custom_lead', 'Item', 'custom_lead', 'Lead Time', 'Duration');
       ALTER TABLE \"tabItem\" ADD COLUMN custom_lead decimal(21,9)" >/dev/null
R=$(imp Item "Item Code,Item Group,Default Unit of Measure,Lead Time
D1,Products,Nos,3h
D2,Products,Nos,1d
D3,Products,Nos,2d
D4,Products,Nos,1d 2h 3m 4s
D5,Products,Nos,45s
D6,Products,Nos,36500d
")
t_is "$(q $DB "SELECT string_agg(name || '=' || custom_lead::bigint, ' ' ORDER BY name) FROM \"tabItem\" WHERE name LIKE 'D%'")" \
     "D1=10800 D2=86400 D3=172800 D4=93784 D5=45 D6=3153600000" "Duration cells: the seconds whatever the length of the cell"

# ---- Data Import Log: v15's message objects
q $DB "INSERT INTO \"tabData Import\"(name, reference_doctype, import_type, status) VALUES ('DI-1', 'Item', 'Insert New Records', 'Pending')" >/dev/null
R=$(imp Item "Item Code,Item Group,Default Unit of Measure
L1,Nope,Nos
" 'Insert New Records' '{"data_import": "DI-1"}')
t_is "$(q $DB "SELECT jsonb_typeof(messages::jsonb) || ' ' || jsonb_typeof(messages::jsonb->0) || ' ' || (messages::jsonb->0->>'title') || ' ' || (messages::jsonb->0->>'indicator')
               || ' ' || (messages::jsonb->0->>'message') FROM \"tabData Import Log\" WHERE data_import = 'DI-1' AND success = 0")" \
     "array object Message red Value Nope missing for Item Group" \
     "tabData Import Log.messages: a list of objects (message, title, indicator), as v15's form reads them"
t_is "$(q $DB "SELECT messages FROM \"tabData Import Log\" WHERE data_import = 'DI-1'")" \
     '[{"message": "Value Nope missing for Item Group", "title": "Message", "indicator": "red", "raise_exception": 1}]' \
     "(the whole text)"

# ---- header labels: a child table's repeated label is its last field; the parent's its first
q $DB "INSERT INTO \"tabCustom Field\"(name, dt, fieldname, label, fieldtype) VALUES
         ('Sales Taxes and Charges-custom_rate', 'Sales Taxes and Charges', 'custom_rate', 'Rate', 'Float'),
         ('Sales Invoice-custom_po', 'Sales Invoice', 'custom_po', 'Customer''s Purchase Order', 'Data');
       ALTER TABLE \"tabSales Taxes and Charges\" ADD COLUMN custom_rate decimal(21,9) NOT NULL DEFAULT 0;
       ALTER TABLE \"tabSales Invoice\" ADD COLUMN custom_po varchar(140)" >/dev/null
R=$(imp 'Sales Invoice' "$SI_HEAD,Customer's Purchase Order
C2,$SI_ROW,Widget,Nos,Sales - A,Main - A,1,1,1,1,1,Actual,VAT - A,12,PO-X
")
t_is "$(q $DB "SELECT t.rate::float || ' ' || t.custom_rate::float || ' ' || s.po_no || ' ' || coalesce(s.custom_po, '-')
               FROM \"tabSales Invoice\" s JOIN \"tabSales Taxes and Charges\" t ON t.parent = s.name
               ORDER BY s.creation DESC, s.name DESC LIMIT 1")" "0 12 PO-X -" \
     "'Rate (Sales Taxes and Charges)' is the child's last field labelled Rate; the parent's label its first field"

# ---- Frappe's words for a missing value
R=$(imp 'Sales Invoice' "$SI_HEAD
C2,$SI_ROW,Widget,Nos,Sales - A,Main - A,1,1,1,1,1,Actual,,3
")
t_is "$(messages "$R")" "Error: <strong>Sales Taxes and Charges</strong> Row #1: Value missing for: Account Head" \
     "a child row's missing value, as Frappe prints it"
R=$(imp 'Sales Invoice' "Customer,Currency,Price List,Price List Currency,Debit To
C2,INR,Standard Selling,INR,Debtors - A
")
t_is "$(messages "$R")" "Error: Value missing for Sales Invoice: Company | Error: Data missing in table: Items" \
     "a parent's missing value and a missing table, as Frappe prints them"
R=$(imp Item "Item Code,Item Name,Item Group,Default Unit of Measure
,Nameless,Products,Nos
")
t_is "$(messages "$R")" "Item Code is required" "field: naming with the field empty: '{label} is required' (Frappe names first)"
# ---- Document Naming Rules: before the DocType's autoname, highest priority first, their own counters
q $DB "INSERT INTO \"tabDocument Naming Rule\"(name, document_type, disabled, prefix, prefix_digits, priority, counter) VALUES
         ('r-ind', 'Customer', 0, 'IND-', 3, 5, 0), ('r-all', 'Customer', 0, 'CO-.YY.-', 2, 1, 0),
         ('r-off', 'Customer', 1, 'NO-', 3, 9, 0), ('r-item', 'Item', 0, 'NOPE-', 3, 9, 0);
       INSERT INTO \"tabDocument Naming Rule Condition\"(name, parent, parenttype, parentfield, idx, field, condition, value) VALUES
         ('c1', 'r-ind', 'Document Naming Rule', 'conditions', 1, 'customer_type', '=', 'Individual'),
         ('c2', 'r-item', 'Document Naming Rule', 'conditions', 1, 'standard_rate', '>', '100')" >/dev/null
R=$(imp Customer "ID,Customer Name,Customer Type
,Ada,Individual
,Bob,Company
,Cy,Individual
MY-ID,Eve,Individual
")
YY=$(q $DB "SELECT to_char(integrations.site_now(), 'YY')")
t_is "$(status "$R") $(q $DB "SELECT string_agg(customer_name || '=' || name, ' ' ORDER BY customer_name) FROM \"tabCustomer\" WHERE customer_name IN ('Ada', 'Bob', 'Cy', 'Eve')")" \
     "Success 4 0 0 Ada=IND-001 Bob=CO-$YY-01 Cy=IND-002 Eve=MY-ID" \
     "Document Naming Rules name the documents (conditions, priority, prefix with .YY., digits); a given ID stays"
R=$(imp Customer "Customer Name,Customer Type
Dee,Individual
")
t_is "$(q $DB "SELECT name FROM \"tabCustomer\" WHERE customer_name = 'Dee'") $(q $DB "SELECT string_agg(name || ':' || counter, ' ' ORDER BY name) FROM \"tabDocument Naming Rule\"")" \
     "IND-003 r-all:1 r-ind:3 r-item:0 r-off:0" "each rule's counter goes on from the last import (a disabled rule is never used)"
R=$(imp Item "Item Code,Item Group,Default Unit of Measure,Standard Selling Rate
N1,Products,Nos,50
N2,Products,Nos,150
")
t_is "$(q $DB "SELECT string_agg(item_code || '=' || name, ' ' ORDER BY item_code) FROM \"tabItem\" WHERE item_code IN ('N1', 'N2')")" \
     "N1=N1 N2=NOPE-001" "a numeric condition compares numbers (150 > 100, 50 is not), before field: naming"
t_done
