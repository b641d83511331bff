#!/usr/bin/python3
"""Write the SQL that creates a Frappe-shaped site, as Frappe v15 creates one on
PostgreSQL (frappe-facts §2): a "tab<DocType>" table per DocType with Frappe's
column types and standard columns, the rows of tabDocType / tabDocField that
describe every DocType, and the fixed tables (tabSingles, tabSeries, __Auth,
...), plus a few users.

Inputs: the real DocType JSON files in test/fixtures/doctypes/ (copies of
shared/frappe-doctypes), and below, in compact form, the core DocTypes Frappe
bootstraps itself (DocType, DocField, Custom Field, Property Setter, ...).
Link targets and child DocTypes that have no JSON file become minimal DocTypes.

Usage: make_site.py [--doctypes DIR] [--db postgres|mariadb] > site.sql   (stdlib only)

--db mariadb writes the site as Frappe v15 creates it on MariaDB
(frappe/database/mariadb/: its type map, int(1) checks, datetime(6),
longtext, indexes inside CREATE TABLE, InnoDB, ROW_FORMAT=DYNAMIC, utf8mb4,
framework_mariadb.sql's fixed tables), in ANSI_QUOTES and
NO_BACKSLASH_ESCAPES so that the same INSERTs serve both databases.
"""
import argparse
import glob
import hashlib
import json
import os
import sys

VARCHAR_LEN = 140

# fieldtype -> PG column type (facts §2.1); None: no column
TYPE_MAP = {
    "Currency": "decimal(21,9)", "Int": "bigint", "Long Int": "bigint",
    "Float": "decimal(21,9)", "Percent": "decimal(21,9)", "Check": "smallint",
    "Small Text": "text", "Long Text": "text", "Code": "text", "Text Editor": "text",
    "Markdown Editor": "text", "HTML Editor": "text", "Date": "date",
    "Datetime": "timestamp", "Time": "time(6)", "Text": "text", "Data": "varchar",
    "Link": "varchar", "Dynamic Link": "varchar", "Password": "text",
    "Select": "varchar", "Rating": "decimal(3,2)", "Read Only": "varchar",
    "Attach": "text", "Attach Image": "text", "Signature": "text", "Color": "varchar",
    "Barcode": "text", "Geolocation": "text", "Duration": "decimal(21,9)",
    "Icon": "varchar", "Phone": "varchar", "Autocomplete": "varchar", "JSON": "json",
}
# fieldtype -> MariaDB column type (frappe/database/mariadb/database.py, v15)
MARIADB_TYPE_MAP = {
    "Currency": "decimal(21,9)", "Int": "int(11)", "Long Int": "bigint(20)",
    "Float": "decimal(21,9)", "Percent": "decimal(21,9)", "Check": "int(1)",
    "Small Text": "text", "Long Text": "longtext", "Code": "longtext", "Text Editor": "longtext",
    "Markdown Editor": "longtext", "HTML Editor": "longtext", "Date": "date",
    "Datetime": "datetime(6)", "Time": "time(6)", "Text": "text", "Data": "varchar",
    "Link": "varchar", "Dynamic Link": "varchar", "Password": "text",
    "Select": "varchar", "Rating": "decimal(3,2)", "Read Only": "varchar",
    "Attach": "text", "Attach Image": "text", "Signature": "longtext", "Color": "varchar",
    "Barcode": "longtext", "Geolocation": "longtext", "Duration": "decimal(21,9)",
    "Icon": "varchar", "Phone": "varchar", "Autocomplete": "varchar", "JSON": "json",
}
DB = "postgres"
NO_VALUE = {"Section Break", "Column Break", "Tab Break", "HTML", "Table",
            "Table MultiSelect", "Button", "Image", "Fold", "Heading"}
DEFAULT_SHORTCUTS = {"_Login", "__user", "_Full Name", "Today", "__today", "now", "Now"}
FIXED_CREATION = "2024-01-01 00:00:00"


def q(ident):
    return '"' + ident.replace('"', '""') + '"'


def lit(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def cint(v):
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return 0


def flt(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return 0.0


def stable_name(*parts):
    """A 10-char name of 0-9a-v, stable across runs (fixtures must not churn)."""
    h = hashlib.sha256("\x00".join(parts).encode()).digest()
    return "".join("0123456789abcdefghijklmnopqrstuv"[b & 31] for b in h[:10])


def column_def(df):
    """DbColumn.get_definition for PostgreSQL, v15."""
    ft = df["fieldtype"]
    base = (MARIADB_TYPE_MAP if DB == "mariadb" else TYPE_MAP).get(ft)
    if base is None or df.get("is_virtual"):
        return None
    if base == "varchar":
        length = cint(df.get("length")) or VARCHAR_LEN
        base = "varchar(%d)" % length
    default = df.get("default")
    if ft in ("Check", "Int"):
        base += " not null default %d" % (cint(default) or 0)
    elif ft in ("Currency", "Float", "Percent"):
        base += " not null default %s" % (repr(flt(default)) if flt(default) else "0")
    elif default and default not in DEFAULT_SHORTCUTS and not str(default).startswith(":"):
        base += " default " + lit(default)
    if df.get("unique") and not base.startswith(("text", "longtext", "json")):
        base += " unique"
    return base


# ---- the core DocTypes Frappe bootstraps (compact: fieldname, fieldtype, options) ----

def F(fieldname, fieldtype="Data", options=None, **kw):
    d = {"fieldname": fieldname, "fieldtype": fieldtype,
         "label": kw.pop("label", fieldname.replace("_", " ").title())}
    if options is not None:
        d["options"] = options
    d.update(kw)
    return d


CHECK_PROPS = ["reqd", "unique", "hidden", "read_only", "no_copy", "allow_on_submit",
               "in_list_view", "in_standard_filter", "in_global_search", "in_preview",
               "bold", "print_hide", "print_hide_if_no_value", "report_hide",
               "search_index", "allow_in_quick_entry", "ignore_user_permissions",
               "ignore_xss_filter", "translatable", "collapsible", "fetch_if_empty",
               "non_negative", "is_virtual", "hide_days", "hide_seconds", "sort_options",
               "show_dashboard"]
FIELDTYPES = ("Autocomplete\nAttach\nAttach Image\nBarcode\nButton\nCheck\nCode\nColor\n"
              "Column Break\nCurrency\nData\nDate\nDatetime\nDuration\nDynamic Link\nFloat\n"
              "Fold\nGeolocation\nHeading\nHTML\nHTML Editor\nIcon\nImage\nInt\nJSON\nLink\n"
              "Long Text\nMarkdown Editor\nPassword\nPercent\nPhone\nRead Only\nRating\n"
              "Section Break\nSelect\nSignature\nSmall Text\nTab Break\nTable\n"
              "Table MultiSelect\nText\nText Editor\nTime")


def field_props():
    """Columns shared by DocField and Custom Field."""
    return ([F("label"), F("fieldtype", "Select", FIELDTYPES, reqd=1),
             F("fieldname"), F("precision", "Select", "\n1\n2\n3\n4\n5\n6\n7\n8\n9"),
             F("length", "Int"), F("options", "Small Text"), F("fetch_from", "Small Text"),
             F("depends_on", "Code"), F("mandatory_depends_on", "Code"),
             F("read_only_depends_on", "Code"), F("collapsible_depends_on", "Code"),
             F("default", "Small Text"), F("permlevel", "Int"), F("print_width", "Data"),
             F("width", "Data"), F("columns", "Int"), F("description", "Small Text"),
             F("placeholder", "Data"), F("link_filters", "JSON")]
            + [F(p, "Check") for p in CHECK_PROPS])


CORE_DOCTYPES = [
    {"name": "DocType", "module": "Core", "autoname": "Prompt", "fields": [
        F("module", "Link", "Module Def", reqd=1), F("is_submittable", "Check"),
        F("istable", "Check"), F("issingle", "Check"), F("is_tree", "Check"),
        F("is_virtual", "Check"), F("editable_grid", "Check", default="1"),
        F("quick_entry", "Check"), F("track_changes", "Check"), F("track_seen", "Check"),
        F("track_views", "Check"), F("custom", "Check"), F("beta", "Check"),
        F("naming_rule", "Select", "\nSet by user\nAutoincrement\nBy fieldname\n"
          "By \"Naming Series\" field\nExpression\nExpression (old style)\nRandom\nBy script"),
        F("autoname", "Data"), F("title_field", "Data"), F("search_fields", "Data"),
        F("sort_field", "Data", default="modified"),
        F("sort_order", "Select", "ASC\nDESC", default="DESC"),
        F("allow_rename", "Check"), F("allow_import", "Check"), F("in_create", "Check"),
        F("read_only", "Check"), F("image_field", "Data"),
        F("document_type", "Select", "\nDocument\nSetup\nSystem\nOther"),
        F("engine", "Select", "InnoDB\nMyISAM", default="InnoDB"),
        F("description", "Small Text"), F("migration_hash", "Data"),
        F("fields", "Table", "DocField"), F("permissions", "Table", "DocPerm")]},
    {"name": "DocField", "module": "Core", "istable": 1, "autoname": "hash",
     "fields": field_props() + [F("set_only_once", "Check"), F("allow_bulk_edit", "Check"),
                                F("remember_last_selected_value", "Check"),
                                F("oldfieldname", "Data"), F("oldfieldtype", "Data")]},
    {"name": "DocPerm", "module": "Core", "istable": 1, "autoname": "hash", "fields": [
        F("role", "Link", "Role"), F("permlevel", "Int"), F("read", "Check", default="1"),
        F("write", "Check", default="1"), F("create", "Check", default="1"),
        F("delete", "Check", default="1"), F("submit", "Check"), F("cancel", "Check"),
        F("amend", "Check"), F("report", "Check", default="1"), F("export", "Check", default="1"),
        F("import", "Check"), F("if_owner", "Check")]},
    {"name": "Custom Field", "module": "Custom", "autoname": "", "fields":
        [F("dt", "Link", "DocType", reqd=1, label="DocType"), F("module", "Link", "Module Def"),
         F("is_system_generated", "Check"), F("insert_after", "Select"),
         F("label_help", "HTML"), F("options_help", "HTML")] + field_props()},
    {"name": "Property Setter", "module": "Custom", "autoname": "", "fields": [
        F("is_system_generated", "Check"),
        F("doctype_or_field", "Select", "\nDocField\nDocType\nDocType Link\nDocType Action\n"
          "DocType State", reqd=1),
        F("doc_type", "Link", "DocType", reqd=1), F("field_name", "Data"),
        F("row_name", "Data"), F("module", "Link", "Module Def"),
        F("property", "Data", reqd=1), F("property_type", "Data"),
        F("value", "Small Text"), F("default_value", "Data")]},
    {"name": "Module Def", "module": "Core", "autoname": "field:module_name", "fields": [
        F("module_name", "Data", reqd=1, unique=1), F("custom", "Check"),
        F("app_name", "Data", reqd=1)]},
    {"name": "Role", "module": "Core", "autoname": "field:role_name", "fields": [
        F("role_name", "Data", reqd=1, unique=1), F("desk_access", "Check", default="1"),
        F("disabled", "Check"), F("is_custom", "Check")]},
    {"name": "Document Naming Rule", "module": "Core", "autoname": "hash", "fields": [
        F("document_type", "Link", "DocType", reqd=1), F("disabled", "Check"),
        F("prefix", "Data", reqd=1), F("counter", "Int", read_only=1),
        F("prefix_digits", "Int", default="5", reqd=1),
        F("conditions", "Table", "Document Naming Rule Condition"), F("priority", "Int")]},
    {"name": "Document Naming Rule Condition", "module": "Core", "istable": 1, "autoname": "hash",
     "fields": [F("field", "Select", reqd=1), F("condition", "Select", "=\n!=\n>\n<\n>=\n<=", reqd=1),
                F("value", "Data", reqd=1)]},
    {"name": "System Settings", "module": "Core", "issingle": 1, "fields": [
        F("time_zone", "Autocomplete"), F("language", "Link", "Language"),
        F("date_format", "Select", "dd-mm-yyyy\ndd/mm/yyyy\ndd.mm.yyyy\nmm/dd/yyyy\n"
          "mm-dd-yyyy\nyyyy-mm-dd"),
        F("time_format", "Select", "HH:mm:ss\nHH:mm"),
        F("number_format", "Select", "#,###.##\n#.###,##\n# ###.##\n#,###.###\n#,##,###.##"),
        F("float_precision", "Select", "\n2\n3\n4\n5\n6\n7\n8\n9"),
        F("currency_precision", "Select", "\n1\n2\n3\n4\n5\n6\n7\n8\n9"),
        F("first_day_of_the_week", "Select", "Sunday\nMonday", default="Sunday")]},
]

# child DocTypes referenced by the JSON files whose files we do not have
MINIMAL_CHILDREN = {
    "Has Role": [F("role", "Link", "Role")],
    "OAuth Client Role": [F("role", "Link", "Role")],
    "Query Parameters": [F("key", "Data", reqd=1), F("value", "Data", reqd=1)],
    "User Social Login": [F("provider", "Data"), F("username", "Data"), F("userid", "Data")],
    "Sales Taxes and Charges": [
        F("charge_type", "Select", "\nActual\nOn Net Total\nOn Previous Row Amount\n"
          "On Previous Row Total\nOn Item Quantity", reqd=1),
        F("account_head", "Link", "Account", reqd=1), F("description", "Small Text"),
        F("rate", "Float"), F("tax_amount", "Currency"), F("total", "Currency")],
}

SITE_USERS = [
    # name, first_name, enabled, user_type
    ("Administrator", "Administrator", 1, "System User"),
    ("Guest", "Guest", 1, "Website User"),
    ("jane@example.com", "Jane", 1, "System User"),
    ("api@example.com", "API", 1, "System User"),
    ("disabled@example.com", "Disabled", 0, "System User"),
]


class Site:
    def __init__(self):
        self.doctypes = {}     # name -> doctype dict
        self.out = []

    def add(self, d):
        self.doctypes[d["name"]] = d

    def emit(self, sql):
        self.out.append(sql)

    def complete(self):
        """Minimal DocTypes for Link targets and child tables that have no file."""
        for d in list(self.doctypes.values()):
            for df in d["fields"]:
                target = df.get("options")
                if not target:
                    continue
                if df["fieldtype"] in ("Table", "Table MultiSelect") and target not in self.doctypes:
                    self.add({"name": target, "module": "Stub", "istable": 1,
                              "fields": MINIMAL_CHILDREN.get(target, [])})
        for d in list(self.doctypes.values()):
            for df in d["fields"]:
                target = df.get("options")
                if df["fieldtype"] == "Link" and target and target not in self.doctypes:
                    self.add({"name": target, "module": "Stub", "fields": []})

    def create_table(self, d):
        if d.get("issingle") or d.get("is_virtual"):
            return
        autoinc = d.get("autoname") == "autoincrement"
        my = DB == "mariadb"
        cols = ["name bigint primary key" if autoinc else "name varchar(140) primary key",
                "creation datetime(6)" if my else "creation timestamp(6)",
                "modified datetime(6)" if my else "modified timestamp(6)",
                "modified_by varchar(140)", "owner varchar(140)",
                "docstatus int(1) not null default '0'" if my else "docstatus smallint not null default '0'",
                "idx int(8) not null default '0'" if my else "idx bigint not null default '0'"]
        seen = {"name", "creation", "modified", "modified_by", "owner", "docstatus", "idx"}
        indexes = []
        for df in d["fields"]:
            cd = column_def(df)
            if cd is None or df["fieldname"] in seen:
                continue
            seen.add(df["fieldname"])
            cols.append("%s %s" % (q(df["fieldname"]), cd))
            if df.get("search_index") and not df.get("unique") and not cd.startswith(("text", "longtext", "json")):
                indexes.append(df["fieldname"])
        if d.get("istable"):
            cols += ["parent varchar(140)", "parentfield varchar(140)", "parenttype varchar(140)"]
        else:
            cols += ["_user_tags text", "_comments text", "_assign text", "_liked_by text"]
            if d.get("track_seen"):
                cols.append("_seen text")
        table = q("tab" + d["name"])
        if DB == "mariadb":
            # (MariaDBTable.create: indexes in the statement, parent / modified indexed)
            cols += ["index %s(%s)" % (q(f), q(f)) for f in indexes]
            cols.append("index parent(parent)" if d.get("istable") else "index modified(modified)")
            self.emit("CREATE TABLE %s (\n  %s\n) ENGINE=InnoDB ROW_FORMAT=DYNAMIC "
                      "CHARACTER SET=utf8mb4 COLLATE=utf8mb4_unicode_ci;" % (table, ",\n  ".join(cols)))
            if autoinc:
                seq = d["name"].lower().replace(" ", "_").replace("-", "_") + "_id_seq"
                self.emit("CREATE SEQUENCE IF NOT EXISTS %s NOCACHE NOCYCLE;" % q(seq))
            return
        self.emit("CREATE TABLE %s (\n  %s\n);" % (table, ",\n  ".join(cols)))
        if autoinc:
            seq = d["name"].lower().replace(" ", "_").replace("-", "_") + "_id_seq"
            self.emit("CREATE SEQUENCE IF NOT EXISTS %s CACHE 1;" % q(seq))
        for f in indexes:
            # Frappe names a PG index by the fieldname alone (facts §2.2)
            self.emit("CREATE INDEX IF NOT EXISTS %s ON %s (%s);" % (q(f), table, q(f)))

    def meta_rows(self, d):
        dt_cols = {"name": d["name"], "creation": FIXED_CREATION, "modified": FIXED_CREATION,
                   "modified_by": "Administrator", "owner": "Administrator",
                   "module": d.get("module") or "Stub",
                   "autoname": d.get("autoname"), "naming_rule": d.get("naming_rule"),
                   "title_field": d.get("title_field"), "search_fields": d.get("search_fields"),
                   "sort_field": d.get("sort_field") or "modified",
                   "sort_order": d.get("sort_order") or "DESC",
                   "image_field": d.get("image_field"), "document_type": d.get("document_type"),
                   "description": d.get("description"), "engine": d.get("engine") or "InnoDB"}
        for c in ("is_submittable", "istable", "issingle", "is_tree", "is_virtual",
                  "track_changes", "track_seen", "track_views", "custom", "allow_rename",
                  "allow_import", "in_create", "read_only", "quick_entry", "editable_grid", "beta"):
            dt_cols[c] = cint(d.get(c))
        self.insert("tabDocType", dt_cols)
        for i, df in enumerate(d["fields"], 1):
            row = {"name": stable_name("DocField", d["name"], df["fieldname"]),
                   "creation": FIXED_CREATION, "modified": FIXED_CREATION,
                   "modified_by": "Administrator", "owner": "Administrator",
                   "parent": d["name"], "parenttype": "DocType", "parentfield": "fields",
                   "idx": i}
            for k, v in df.items():
                if k in self.docfield_columns:
                    row[k] = v
            self.insert("tabDocField", row)

    def insert(self, table, row):
        cols = list(row)
        self.emit("INSERT INTO %s (%s) VALUES (%s);" % (
            q(table), ", ".join(q(c) for c in cols), ", ".join(lit(row[c]) for c in cols)))

    def build(self):
        self.complete()
        self.docfield_columns = {df["fieldname"] for df in self.doctypes["DocField"]["fields"]
                                 if column_def(df)}
        self.emit("-- Frappe-shaped site generated by test/make_site.py; do not edit")
        if DB == "mariadb":
            self.emit("SET sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES,NO_BACKSLASH_ESCAPES');")
            self.emit("SET NAMES utf8mb4;")
            self.mariadb_fixed_tables()
            for d in sorted(self.doctypes.values(), key=lambda d: d["name"]):
                self.create_table(d)
            self.emit("START TRANSACTION;")
            for d in sorted(self.doctypes.values(), key=lambda d: d["name"]):
                self.meta_rows(d)
            self.site_data()
            self.emit("COMMIT;")
            return "\n".join(self.out) + "\n"
        self.emit("SET client_min_messages = warning;")
        self.emit("BEGIN;")
        # fixed tables (framework_postgres.sql and PostgresDatabase.create_*)
        self.emit('CREATE TABLE "tabSingles" (doctype varchar(255), field varchar(255), value text);')
        self.emit('CREATE INDEX "singles_doctype_field_index" ON "tabSingles" (doctype, field);')
        self.emit('CREATE TABLE "tabSeries" (name varchar(100) primary key, '
                  'current bigint not null default 0);')
        self.emit('CREATE TABLE "__Auth" ("doctype" VARCHAR(140) NOT NULL, "name" VARCHAR(255) '
                  'NOT NULL, "fieldname" VARCHAR(140) NOT NULL, "password" TEXT NOT NULL, '
                  '"encrypted" INT NOT NULL DEFAULT 0, PRIMARY KEY ("doctype", "name", "fieldname"));')
        self.emit('CREATE INDEX "auth_index" ON "__Auth" ("doctype", "name", "fieldname");')
        self.emit('CREATE TABLE "__UserSettings" ("user" VARCHAR(180) NOT NULL, '
                  '"doctype" VARCHAR(180) NOT NULL, "data" TEXT, UNIQUE ("user", "doctype"));')
        self.emit('CREATE TABLE "__global_search" (doctype varchar(100), name varchar(140), '
                  'title varchar(140), content text, route varchar(140), '
                  'published int not null default 0, unique (doctype, name));')
        for d in sorted(self.doctypes.values(), key=lambda d: d["name"]):
            self.create_table(d)
        for d in sorted(self.doctypes.values(), key=lambda d: d["name"]):
            self.meta_rows(d)
        self.site_data()
        self.emit("COMMIT;")
        self.emit("ANALYZE;")
        return "\n".join(self.out) + "\n"

    def mariadb_fixed_tables(self):
        """framework_mariadb.sql's tables that are not DocTypes"""
        tail = " ENGINE=InnoDB ROW_FORMAT=DYNAMIC CHARACTER SET=utf8mb4 COLLATE=utf8mb4_unicode_ci;"
        self.emit('CREATE TABLE "tabSingles" (doctype varchar(255) DEFAULT NULL, field varchar(255) '
                  'DEFAULT NULL, value longtext, KEY singles_doctype_field_index (doctype, field))' + tail)
        self.emit('CREATE TABLE "tabSeries" (name varchar(100), current int(10) NOT NULL DEFAULT 0, '
                  'PRIMARY KEY (name))' + tail)
        self.emit('CREATE TABLE "__Auth" (doctype VARCHAR(140) NOT NULL, name VARCHAR(255) NOT NULL, '
                  'fieldname VARCHAR(140) NOT NULL, password TEXT NOT NULL, encrypted INT(1) NOT NULL '
                  'DEFAULT 0, PRIMARY KEY (doctype, name, fieldname))' + tail)
        self.emit('CREATE TABLE "__UserSettings" (user VARCHAR(180) NOT NULL, doctype VARCHAR(180) '
                  'NOT NULL, data TEXT, UNIQUE(user, doctype))' + tail)
        self.emit('CREATE TABLE "__global_search" (doctype varchar(100), name varchar(140), '
                  'title varchar(140), content text, route varchar(140), published int(1) not null '
                  'default 0, unique (doctype, name))' + tail)

    def site_data(self):
        std = {"creation": FIXED_CREATION, "modified": FIXED_CREATION,
               "modified_by": "Administrator", "owner": "Administrator"}
        for module in sorted({d.get("module") or "Stub" for d in self.doctypes.values()}):
            self.insert("tabModule Def", dict(std, name=module, module_name=module,
                                              app_name="frappe"))
        for role in ("Administrator", "System Manager", "Desk User", "Guest", "All"):
            self.insert("tabRole", dict(std, name=role, role_name=role))
        for i, (name, first, enabled, utype) in enumerate(SITE_USERS):
            self.insert("tabUser", dict(std, name=name, email=(name if "@" in name else
                                                             name.lower() + "@example.com"),
                                        first_name=first, full_name=first, enabled=enabled,
                                        user_type=utype, language="en",
                                        time_zone="Asia/Kolkata"))
            roles = ["Guest"] if name == "Guest" else ["System Manager", "Desk User"]
            for j, role in enumerate(roles, 1):
                self.insert("tabHas Role", dict(std, name=stable_name("Has Role", name, role),
                                                parent=name, parenttype="User",
                                                parentfield="roles", idx=j, role=role))
        for field, value in (("time_zone", "Asia/Kolkata"), ("date_format", "dd-mm-yyyy"),
                             ("time_format", "HH:mm:ss"), ("number_format", "#,###.##"),
                             ("float_precision", "3"), ("currency_precision", "2"),
                             ("language", "en")):
            self.insert("tabSingles", {"doctype": "System Settings", "field": field,
                                       "value": value})


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--doctypes", default=os.path.join(here, "fixtures", "doctypes"))
    ap.add_argument("--db", choices=("postgres", "mariadb"), default="postgres")
    args = ap.parse_args()
    global DB
    DB = args.db
    site = Site()
    for d in CORE_DOCTYPES:
        site.add(d)
    for path in sorted(glob.glob(os.path.join(args.doctypes, "*.json"))):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        site.add(d)
    sys.stdout.write(site.build())


if __name__ == "__main__":
    main()
