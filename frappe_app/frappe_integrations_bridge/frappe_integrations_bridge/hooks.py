app_name = "frappe_integrations_bridge"
app_title = "Frappe Integrations Bridge"
app_publisher = "frappe_integrations"
app_description = (
	"Tells the site's database (the frappe_integrations extension) when Frappe delivers "
	"webhooks itself and when it is importing, patching, installing or migrating"
)
app_email = "dev@example.com"
app_license = "MIT"

# Frappe's own webhook delivery is switched off (site_config
# "frappe_integrations_delivery": "database") in every process that serves
# the site: web workers, background workers and bench commands.
before_request = ["frappe_integrations_bridge.bridge.install"]
before_job = ["frappe_integrations_bridge.bridge.install"]

# Before every write Frappe makes for a document: whether the database's
# webhooks fire for it (not while importing, patching, installing or
# migrating, as Frappe's own run_webhooks decides).
doc_events = {
	"*": {
		event: "frappe_integrations_bridge.bridge.before_write"
		for event in (
			"before_insert",
			"before_validate",
			"before_save",
			"before_submit",
			"before_cancel",
			"before_update_after_submit",
			"before_rename",
			"on_trash",
		)
	}
}

# Writes that no document event announces (patches' SQL, installs' db_insert).
before_migrate = ["frappe_integrations_bridge.bridge.quiet"]
before_app_install = ["frappe_integrations_bridge.bridge.quiet"]
before_app_uninstall = ["frappe_integrations_bridge.bridge.quiet"]
