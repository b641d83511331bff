# The site the Data Export tests read (test/t/100, test/t/107): Items,
# Customers and two Sales Invoices with three item rows, made by import as a
# site's data would be (defaults applied), in $DB; $DB2 an empty copy with
# the same Link targets.  imp <db> <doctype> <csv> [import type]: import_csv,
# printing "status inserted+updated unchanged failed".
LINKS="INSERT INTO \"tabItem Group\"(name) VALUES ('Products'), ('Services');
       INSERT INTO \"tabUOM\"(name) VALUES ('Nos'), ('Kg'); INSERT INTO \"tabBrand\"(name) VALUES ('Acme');
       INSERT INTO \"tabCompany\"(name) VALUES ('ACME Ltd'); INSERT INTO \"tabCurrency\"(name) VALUES ('INR');
       INSERT INTO \"tabPrice List\"(name) VALUES ('Standard Selling');
       INSERT INTO \"tabAccount\"(name) VALUES ('Debtors - A'), ('Sales - A');
       INSERT INTO \"tabCost Center\"(name) VALUES ('Main - A');
       INSERT INTO \"tabCustomer Group\"(name) VALUES ('Commercial'); INSERT INTO \"tabTerritory\"(name) VALUES ('India')"
newdb $DB
newdb $DB2
q $DB "$LINKS" >/dev/null
q $DB2 "$LINKS" >/dev/null
imp() { q "$1" "SELECT r->>'status' || ' ' || (r->>'inserted')::int + (r->>'updated')::int || ' ' || coalesce(r->>'unchanged', '-') || ' ' || (r->>'failed')
                FROM integrations.import_csv('$2', \$csv\$$3\$csv\$, '${4:-Insert New Records}') r"; }

# the site's documents, made by import (as a site's data would be: defaults applied)
imp $DB Item 'Item Code,Item Name,Item Group,Default Unit of Measure,Brand,Description,Maintain Stock,Standard Selling Rate,Valuation Rate,Shelf Life In Days,End of Life
I-1,"Apple, ""red""",Products,Nos,Acme,"two
lines",Yes,"1,234.50",0.1,30,2030-12-31
I-2,Pear ü 日本,Services,Kg,,=1+2,No,3,1234.567890123,0,
I-3,Plum,Products,Nos,Acme,,1,0,,, ' >/dev/null
imp $DB Customer 'Customer Name,Customer Type,Customer Group,Territory
Ada Ltd,Company,Commercial,India
Bob,Individual,,' >/dev/null
q $DB "UPDATE \"tabCustomer\" SET name = 'CUST-A' WHERE customer_name = 'Ada Ltd'; UPDATE \"tabCustomer\" SET name = 'CUST-B' WHERE customer_name = 'Bob'" >/dev/null
imp $DB "Sales Invoice" 'Customer,Company,Posting Date,Posting Time,Currency,Price List,Price List Currency,Debit To,Item (Items),Item Name (Items),Quantity (Items),Rate (Items),UOM (Items),Income Account (Items),Cost Center (Items)
CUST-A,ACME Ltd,2024-05-06,10:30:15.25,INR,Standard Selling,INR,Debtors - A,I-1,Apple,2,10.5,Nos,Sales - A,Main - A
,,,,,,,,I-2,Pear,1,3,Kg,Sales - A,Main - A
CUST-B,ACME Ltd,2024-05-07,09:00,INR,Standard Selling,INR,Debtors - A,I-3,Plum,5,1,Nos,Sales - A,Main - A' >/dev/null
