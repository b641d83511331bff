-- upgrade: the oldest release installs and updates to the current one
\set VERBOSITY terse
DROP EXTENSION frappe_integrations CASCADE;
CREATE EXTENSION frappe_integrations VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'frappe_integrations';
SELECT count(*) AS template_functions FROM pg_proc WHERE proname = 'render_template';
ALTER EXTENSION frappe_integrations UPDATE;
SELECT extversion = integrations.version() AS versions_match
  FROM pg_extension WHERE extname = 'frappe_integrations';
SELECT integrations.render_template('{{ a ~ b }}', '{"a": "up", "b": "dated"}');
SELECT integrations.doctype_meta('Webhook')->>'name' AS meta_still_works;
