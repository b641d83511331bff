#!/usr/bin/env bash
# The Frappe app frappe_app/frappe_integrations_bridge (issue 17, item 12),
# its logic run against a stand-in for Frappe on a real connection to a test
# site: no duplicate delivery next to a live Frappe, and no event while
# Frappe imports, patches, installs or migrates.
source "$FI_ROOT/test/lib.sh"
DB=fi_frappe_app
newdb $DB
q $DB "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enabled)
       VALUES ('si', 'Sales Invoice', 'after_insert', 'http://127.0.0.1:9/', 'JSON', '{}', 1);
       SELECT integrations.sync_webhooks()" >/dev/null
# mode "frappe": the role Frappe connects as fires nothing in the database
q $DB "DROP ROLE IF EXISTS fi_frappe_site; CREATE ROLE fi_frappe_site LOGIN;
       GRANT USAGE ON SCHEMA integrations TO fi_frappe_site;
       GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO fi_frappe_site;
       ALTER ROLE fi_frappe_site IN DATABASE $DB SET frappe_integrations.webhooks = off" >/dev/null
# (the app's files are read by the server's user too when the checkout is private: a copy)
cp -r "$FI_ROOT/frappe_app/frappe_integrations_bridge" "$FI_TMP/bridge_app"
rc=0
"$FI_PY" "$FI_ROOT/test/frappe_app/test_bridge.py" "$FI_TMP/bridge_app" $DB fi_frappe_site || rc=$?
# (no event left to retry against a closed port: a later test's worker slots)
q $DB "TRUNCATE integrations.webhook_queue, integrations.webhook_outbox" >/dev/null
exit $rc
