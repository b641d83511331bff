"""The Frappe app's logic without Frappe (issue 17, item 12).

Frappe is not installable here and no copy of it may enter the tests, so a
stand-in module named frappe gives the bridge what it uses of Frappe
(frappe.conf, frappe.local.flags, frappe.db.sql / db_type, and
frappe.model.document.run_webhooks, which Document.run_method calls after the
document's event hooks, as Frappe v15 does).  frappe.db.sql runs on a real
connection to the test database, so what the bridge tells the database is
checked by what the extension queues.

usage: test_bridge.py <bridge app dir> <dbname> <role for mode B>   (PGHOST/PGPORT set)
Prints TAP.
"""
import importlib
import os
import sys
import types

import psycopg2

APP_DIR, DBNAME, FRAPPE_ROLE = sys.argv[1:4]
n = 0
failed = 0


def ok(cond, desc, diag=None):
	global n, failed
	n += 1
	print(("ok %d - %s" if cond else "not ok %d - %s") % (n, desc))
	if not cond:
		failed += 1
		if diag is not None:
			print("#   got: %r" % (diag,))


def connect(user="postgres"):
	return psycopg2.connect(host=os.environ["PGHOST"], port=os.environ["PGPORT"], user=user, dbname=DBNAME)


class _dict(dict):
	"""frappe._dict: attributes are the keys"""

	def __getattr__(self, k):
		return self.get(k)

	def __setattr__(self, k, v):
		self[k] = v


class StandInDB:
	db_type = "postgres"

	def __init__(self, conn):
		self.conn = conn
		self.calls = []

	def sql(self, query, values=None):
		self.calls.append(query)
		with self.conn.cursor() as cur:
			cur.execute(query, values)
			return cur.fetchall() if cur.description else ()

	def commit(self):
		self.conn.commit()

	def rollback(self):
		self.conn.rollback()


frappe_webhook_calls = []


def frappe_run_webhooks(doc, method):
	"""Frappe's own delivery, as far as the test needs it: it was asked."""
	frappe_webhook_calls.append((doc["name"], method))


def stand_in(conn, conf):
	frappe = types.ModuleType("frappe")
	frappe.conf = _dict(conf)
	frappe.local = types.SimpleNamespace(flags=_dict())
	frappe.db = StandInDB(conn)
	model = types.ModuleType("frappe.model")
	document = types.ModuleType("frappe.model.document")
	document.run_webhooks = frappe_run_webhooks
	frappe.model = model
	model.document = document
	sys.modules.update({"frappe": frappe, "frappe.model": model, "frappe.model.document": document})
	sys.modules.pop("frappe_integrations_bridge.bridge", None)
	sys.modules.pop("frappe_integrations_bridge", None)
	sys.path.insert(0, APP_DIR)
	bridge = importlib.import_module("frappe_integrations_bridge.bridge")
	return frappe, bridge


def insert(frappe, bridge, name):
	"""Document.insert as Frappe v15 runs it: event hooks, the write, after_insert and its webhooks."""
	doc = {"doctype": "Sales Invoice", "name": name}
	bridge.before_write(doc, "before_insert")
	bridge.before_write(doc, "before_validate")
	bridge.before_write(doc, "before_save")
	frappe.db.sql('INSERT INTO "tabSales Invoice" (name, customer, docstatus) VALUES (%s, %s, 0)', (name, "C"))
	frappe.model.document.run_webhooks(doc, "after_insert")


def queued():
	with connect() as c, c.cursor() as cur:
		cur.execute("SELECT coalesce(string_agg(docname, ' ' ORDER BY id), '-') FROM integrations.webhook_queue")
		return cur.fetchone()[0]


# ---- hooks.py names functions the bridge has
sys.path.insert(0, APP_DIR)
hooks_src = open(os.path.join(APP_DIR, "frappe_integrations_bridge", "hooks.py")).read()
hooks = {}
exec(compile(hooks_src, "hooks.py", "exec"), hooks)
named = set(hooks["before_request"] + hooks["before_job"] + hooks["before_migrate"] + hooks["before_app_install"])
named |= set(hooks["doc_events"]["*"].values())
conn = connect()
frappe, bridge = stand_in(conn, {"frappe_integrations_delivery": "database"})
ok(all(callable(getattr(bridge, p.rsplit(".", 1)[1], None)) and p.startswith("frappe_integrations_bridge.bridge.")
       for p in named) and len(named) == 3,
   "hooks.py: every hook names a function of the bridge (install, before_write, quiet)", sorted(named))
ok(set(hooks["doc_events"]["*"]) >= {"before_insert", "before_validate", "before_submit", "before_cancel", "on_trash"},
   "doc_events '*': before every write of a document (insert, save, submit, cancel, delete)")

# ---- "database": Frappe's delivery off, the database told when Frappe is quiet
insert(frappe, bridge, "DB-1")
frappe.db.commit()
ok(frappe_webhook_calls == [], "delivery database: Frappe's own run_webhooks is never asked", frappe_webhook_calls)
ok(queued() == "DB-1", "and the database queues the ORM's insert (once)", queued())
ok(frappe.db.calls == ['INSERT INTO "tabSales Invoice" (name, customer, docstatus) VALUES (%s, %s, 0)'],
   "an ordinary write costs no extra statement", frappe.db.calls)

for flag in ("in_import", "in_patch", "in_install", "in_migrate"):
	frappe.local.flags[flag] = True
	insert(frappe, bridge, "QUIET-" + flag)
	frappe.db.commit()
	frappe.local.flags[flag] = False
ok(queued() == "DB-1", "in_import, in_patch, in_install, in_migrate: nothing queued (as Frappe's run_webhooks fires nothing)",
   queued())
insert(frappe, bridge, "DB-2")
frappe.db.commit()
ok(queued() == "DB-1 DB-2", "and after them the next write fires again", queued())

frappe.local.flags.in_import = True
bridge.before_write({"name": "x"}, "before_insert")
frappe.db.rollback()  # (a failed document: Frappe rolls back, the setting with it)
insert(frappe, bridge, "QUIET-after-rollback")
frappe.db.commit()
frappe.local.flags.in_import = False
ok(queued() == "DB-1 DB-2", "a rolled back transaction does not undo the bridge: told again before the next write", queued())

bridge.quiet()  # before_migrate: patches write with SQL, no document event
frappe.local.flags.in_migrate = True
frappe.db.sql('INSERT INTO "tabSales Invoice" (name, customer, docstatus) VALUES (%s, %s, 0)', ("PATCH-SQL", "C"))
frappe.db.commit()
ok(queued() == "DB-1 DB-2", "before_migrate: a patch's plain SQL fires nothing", queued())
frappe.local.flags.in_migrate = False
conn.close()

# ---- "frappe": the bridge changes nothing; the database fires only for other roles
frappe_webhook_calls.clear()
conn = connect(FRAPPE_ROLE)
frappe, bridge = stand_in(conn, {})
insert(frappe, bridge, "FR-1")
frappe.db.commit()
ok(frappe_webhook_calls == [("FR-1", "after_insert")], "delivery frappe: Frappe's own run_webhooks runs as before",
   frappe_webhook_calls)
ok(len(frappe.db.calls) == 1, "and the bridge sends the database nothing", frappe.db.calls)
ok(queued() == "DB-1 DB-2",
   "the role Frappe connects as (ALTER ROLE ... SET frappe_integrations.webhooks = off): the database fires nothing for it",
   queued())
conn.close()
with connect() as c, c.cursor() as cur:
	cur.execute('INSERT INTO "tabSales Invoice" (name, customer, docstatus) VALUES (%s, %s, 0)', ("SQL-1", "C"))
ok(queued() == "DB-1 DB-2 SQL-1", "a write by any other role (not through Frappe) fires in the database", queued())
print("1..%d" % n)
sys.exit(1 if failed else 0)
