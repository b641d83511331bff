"""What the bridge tells Frappe and the database.

Two ways to run webhooks on a site whose database has frappe_integrations
(the site_config key "frappe_integrations_delivery"):

"database"  The database delivers every webhook, once, whatever wrote the
            document.  Frappe's own delivery is switched off here (its
            run_webhooks, called after every document event, does nothing),
            and the database is told, before each write Frappe makes for a
            document, whether its webhooks fire: not while Frappe is
            importing, patching, installing or migrating (frappe.flags
            in_import, in_patch, in_install, in_migrate), the moments
            Frappe's own run_webhooks returns without firing.

"frappe"    (or unset) Frappe keeps delivering the writes it makes itself;
            the bridge changes nothing.  The database is set up to fire only
            for writes that do not come through Frappe: for the role Frappe
            connects as, ALTER ROLE ... IN DATABASE ... SET
            frappe_integrations.webhooks = off (README: Running next to
            Frappe).

The database hears it through the session setting frappe_integrations.webhooks
(on: this session's writes fire the site's webhooks).  MariaDB sites: the
same decision, told through the extension's MariaDB session variable once
that part exists; until then nothing is sent there.
"""

import frappe

SETTING = "frappe_integrations.webhooks"

# the flags under which Frappe's own run_webhooks fires nothing
QUIET_FLAGS = ("in_import", "in_patch", "in_install", "in_migrate")


def delivery():
	"""Who delivers webhooks on this site: "database" or "frappe"."""
	value = frappe.conf.get("frappe_integrations_delivery") or "frappe"
	return "database" if str(value).strip().lower() == "database" else "frappe"


def frappe_is_quiet():
	"""Is Frappe importing, patching, installing or migrating?"""
	flags = frappe.local.flags
	return any(flags.get(flag) for flag in QUIET_FLAGS)


def tell_database(fire):
	"""Set the session's frappe_integrations.webhooks (it lasts the connection)."""
	if frappe.db.db_type == "postgres":
		frappe.db.sql("SELECT set_config(%s, %s, false)", (SETTING, "on" if fire else "off"))
	frappe.local.frappe_integrations_told = fire


# ---- Frappe's own delivery

_frappe_run_webhooks = None


def run_webhooks(doc, method):
	"""Frappe's run_webhooks, unless the database delivers."""
	if delivery() == "database":
		return None
	return _frappe_run_webhooks(doc, method)


run_webhooks.frappe_integrations_bridge = True


def install(*args, **kwargs):
	"""Put run_webhooks in Frappe's place (once a process)."""
	global _frappe_run_webhooks
	import frappe.model.document as document

	if getattr(document.run_webhooks, "frappe_integrations_bridge", False):
		return
	_frappe_run_webhooks = document.run_webhooks
	document.run_webhooks = run_webhooks


# ---- the hooks


def before_write(doc, method=None, *args, **kwargs):
	"""doc_events "*": before Frappe writes a document (and its webhooks run)."""
	install()
	if delivery() != "database":
		return
	fire = not frappe_is_quiet()
	told = getattr(frappe.local, "frappe_integrations_told", None)
	if fire and told is None:
		return  # this connection was never told otherwise: it fires (the default)
	# (told again each time: a rolled back transaction undoes the setting)
	tell_database(fire)


def quiet(*args, **kwargs):
	"""before_migrate, before_app_install, before_app_uninstall: writes no event announces."""
	install()
	if delivery() == "database":
		tell_database(False)
