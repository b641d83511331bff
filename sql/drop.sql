-- drop: DROP EXTENSION removes our schema and the triggers we attached
\set VERBOSITY terse
\set VERBOSITY default
DROP EXTENSION frappe_integrations;
\set VERBOSITY terse
DROP EXTENSION frappe_integrations CASCADE;
SELECT count(*) AS our_triggers FROM pg_trigger WHERE tgname = 'frappe_integrations_meta';
SELECT count(*) AS our_schema FROM pg_namespace WHERE nspname = 'integrations';
-- Frappe's tables and data stay
SELECT count(*) > 0 AS site_intact FROM "tabDocField";
CREATE EXTENSION frappe_integrations;
SELECT count(*) AS triggers_back FROM pg_trigger WHERE tgname = 'frappe_integrations_meta';
