#!/usr/bin/env bash
# Data Export as Frappe v15's Exporter and Report Builder write it (issue 17):
# the ID only when name is asked for, a label made a fieldname only when the
# header already has it, a tree by lft, Duration with hide_days and truncated
# seconds, small and large floats as Python's repr, Report Builder's labels
# and its HTML cells as text.
source "$FI_ROOT/test/lib.sh"
DB=fi_export_frappe
newdb $DB
ex() { q $DB "SELECT integrations.export_csv('$1', '$2')" | tr -d '\r'; }

# a tree DocType (lft/rgt), as Frappe's nested sets store one
q $DB "INSERT INTO \"tabDocType\"(name, module, autoname, istable, issingle, is_tree) VALUES ('Test Tree', 'Stub', 'field:title', 0, 0, 1);
       INSERT INTO \"tabDocField\"(name, parent, parenttype, parentfield, idx, fieldname, label, fieldtype, options) VALUES
         ('tt-1', 'Test Tree', 'DocType', 'fields', 1, 'title', 'Title', 'Data', NULL),
         ('tt-2', 'Test Tree', 'DocType', 'fields', 2, 'parent_test_tree', 'Parent Test Tree', 'Link', 'Test Tree'),
         ('tt-3', 'Test Tree', 'DocType', 'fields', 3, 'lft', 'Left', 'Int', NULL),
         ('tt-4', 'Test Tree', 'DocType', 'fields', 4, 'rgt', 'Right', 'Int', NULL),
         ('tt-5', 'Test Tree', 'DocType', 'fields', 5, 'spent', 'Time Spent', 'Duration', NULL),
         ('tt-6', 'Test Tree', 'DocType', 'fields', 6, 'spent_hours', 'Time Spent', 'Duration', NULL),
         ('tt-7', 'Test Tree', 'DocType', 'fields', 7, 'weight', 'Weight', 'Float', NULL),
         ('tt-8', 'Test Tree', 'DocType', 'fields', 8, 'notes', 'Notes', 'Text Editor', NULL);
       UPDATE \"tabDocField\" SET hide_days = 1 WHERE name = 'tt-6';
       CREATE TABLE \"tabTest Tree\" (name varchar(140) PRIMARY KEY, creation timestamp(6), modified timestamp(6),
         modified_by varchar(140), owner varchar(140), docstatus smallint NOT NULL DEFAULT 0, idx bigint NOT NULL DEFAULT 0,
         title varchar(140), parent_test_tree varchar(140), lft bigint NOT NULL DEFAULT 0, rgt bigint NOT NULL DEFAULT 0,
         spent decimal(21,9), spent_hours decimal(21,9), weight decimal(21,9) NOT NULL DEFAULT 0, notes text);
       -- the root made last, its children first: newest first would put them before it
       INSERT INTO \"tabTest Tree\"(name, creation, owner, title, parent_test_tree, lft, rgt, spent, spent_hours, weight, notes) VALUES
         ('Leaf B', '2024-01-01 10:00', 'Administrator', 'Leaf B', 'Root', 4, 5, 0, NULL, 0.00006, '<p>Hello <b>World</b></p><p>x &amp; y&nbsp;z</p>'),
         ('Leaf A', '2024-01-02 10:00', 'Administrator', 'Leaf A', 'Root', 2, 3, 90061.9, 90061.9, 0.000012, 'a<br>b'),
         ('Root', '2024-01-03 10:00', 'Administrator', 'Root', NULL, 1, 6, 59.99, 3600, 1234.5, 'plain <not a tag')" >/dev/null

t_is "$(ex 'Test Tree' '{"fields": ["name", "title", "parent_test_tree"]}')" \
     '"ID","Title","Parent Test Tree"
"Root","Root",""
"Leaf A","Leaf A","Root"
"Leaf B","Leaf B","Root"' "a tree exports by lft ascending: a parent before its children (Frappe: lft ASC, not creation DESC)"
t_is "$(ex 'Test Tree' '{"fields": ["title", "spent", "spent_hours", "weight"]}')" \
     '"Title","Time Spent","spent_hours","Weight"
"Root","59s","1h",1234.5
"Leaf A","1d 1h 1m 1s","25h 1m 1s",1.2e-05
"Leaf B","","",6e-05' \
     "no ID unless name is asked for; a label already in the header becomes the fieldname; Duration truncated, hide_days; 6e-05 and 1.2e-05 as Python writes them"
t_is "$(ex 'Sales Invoice' '{"fields": ["customer", "items.item_name", "items.qty"]}' | head -1)" \
     '"Customer","Item Name (Items)","Quantity (Items)"' "a child table without items.name: no ID (Items) column"
t_is "$(ex 'Sales Invoice' '{"fields": ["customer", "items.name", "items.item_name"]}' | head -1)" \
     '"Customer","ID (Items)","Item Name (Items)"' "with items.name: ID (Items)"
t_is "$(ex 'Item' '{"fields": ["name", "item_name", "description"]}' | head -1)" \
     '"ID","Item Name","Description"' "a label shared with a field not exported is kept as the label"
t_is "$(ex 'Test Tree' '{"format": "report", "fields": ["title", "notes", "spent"], "order_by": "lft asc"}')" \
     '"Sr","ID","Title","Notes","Time Spent","owner"
1,"Root","Root","plain <not a tag","59s","Administrator"
2,"Leaf A","Leaf A","a, b","1d 1h 1m 1s","Administrator"
3,"Leaf B","Leaf B","Hello World x & y z",0.0,"Administrator"' \
     "Report Builder: HTML cells as text, a 0 Duration left a number, owner by its fieldname"
t_done
