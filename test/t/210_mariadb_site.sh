#!/usr/bin/env bash
# MariaDB, part 1 (issue 18): a Frappe site on MariaDB, made from the same
# DocType JSON as the PostgreSQL one (test/make_site.py --db mariadb) the way
# Frappe v15 makes it there, loaded into a throwaway mariadbd; its shape
# checked against Frappe's MariaDB schema code and against the PostgreSQL site.
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
MD=$FI_TMP/mariadb_site
rm -rf "$MD"
trap 'mdb_stop' EXIT
mdb_start "$MD"
"$FI_PY" "$FI_ROOT/test/make_site.py" --db mariadb > "$MD/site.sql"
mdb "CREATE DATABASE _site1 CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
t_ok "the MariaDB site loads" mariadb --no-defaults --socket="$MDB_SOCK" -u root _site1 -e "source $MD/site.sql"
col() { mdb "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '_site1' AND TABLE_NAME = '$1' AND COLUMN_NAME = '$2'"; }
t_is "$(col 'tabSales Invoice' name) $(col 'tabSales Invoice' creation) $(col 'tabSales Invoice' docstatus) $(col 'tabSales Invoice' idx)" \
     "varchar(140) datetime(6) int(1) int(8)" "standard columns as MariaDBTable.create writes them"
t_is "$(col 'tabSales Invoice' grand_total) $(col 'tabSales Invoice' is_return) $(col 'tabSales Invoice' posting_time) $(col 'tabSales Invoice' terms) $(col 'tabItem' shelf_life_in_days)" \
     "decimal(21,9) int(1) time(6) longtext int(11)" "Frappe's MariaDB type map (Currency, Check, Time, Text Editor, Int)"
t_is "$(mdb "SELECT CONCAT(ENGINE, ' ', ROW_FORMAT, ' ', TABLE_COLLATION) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '_site1' AND TABLE_NAME = 'tabSales Invoice'")" \
     "InnoDB Dynamic utf8mb4_unicode_ci" "InnoDB, ROW_FORMAT=DYNAMIC, utf8mb4"
t_is "$(mdb "SELECT GROUP_CONCAT(INDEX_NAME ORDER BY INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '_site1' AND TABLE_NAME = 'tabSales Invoice Item' AND INDEX_NAME IN ('parent', 'PRIMARY')")" \
     "parent,PRIMARY" "a child table: the parent index"
PG_COUNTS=$(q fi_template "SELECT (SELECT count(*) FROM \"tabDocType\") || ' ' || (SELECT count(*) FROM \"tabDocField\") || ' ' || (SELECT count(*) FROM \"tabUser\") || ' ' || (SELECT count(*) FROM \"tabSingles\")")
t_is "$(mdb "SELECT CONCAT((SELECT COUNT(*) FROM _site1.\`tabDocType\`), ' ', (SELECT COUNT(*) FROM _site1.\`tabDocField\`), ' ', (SELECT COUNT(*) FROM _site1.\`tabUser\`), ' ', (SELECT COUNT(*) FROM _site1.tabSingles))")" \
     "$PG_COUNTS" "the same DocTypes, fields, users and System Settings as the PostgreSQL site"
t_is "$(mdb "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '_site1' AND TABLE_NAME IN ('tabSingles', 'tabSeries', '__Auth', '__UserSettings', '__global_search')")" "5" \
     "framework_mariadb.sql's fixed tables (tabSingles, tabSeries, __Auth, __UserSettings, __global_search)"
t_is "$(mdb "SELECT options FROM _site1.\`tabDocField\` WHERE parent = 'Customer' AND fieldname = 'customer_type'")" "Company
Individual
Partnership" "DocField options keep their newlines (NO_BACKSLASH_ESCAPES, ANSI_QUOTES: one INSERT text for both databases)"
mdb_stop
t_done
