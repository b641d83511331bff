#!/usr/bin/env bash
# The meta cache across sessions: a session keeps its cached meta while
# nothing changes, and sees a change committed by another session at its
# next call.  Session A is one long psql; `\!` runs session B in between.
source "$FI_ROOT/test/lib.sh"
DB=fi_meta_sessions
newdb $DB
B="$FI_PGBIN/psql -X -q -d $DB -v ON_ERROR_STOP=1"

OUT=$("$FI_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -d $DB <<SQL
SELECT 'label:' || (f->>'label') FROM jsonb_array_elements(integrations.doctype_meta('Webhook')->'fields') f WHERE f->>'fieldname' = 'timeout';
-- B changes a label with triggers off (session_replication_role = replica): nobody is told
\! $B -c "SET session_replication_role = replica; UPDATE \"tabDocField\" SET label = 'Sneaky' WHERE parent = 'Webhook' AND fieldname = 'timeout'"
SELECT 'cached:' || (f->>'label') FROM jsonb_array_elements(integrations.doctype_meta('Webhook')->'fields') f WHERE f->>'fieldname' = 'timeout';
-- B adds a Custom Field the ordinary way: the trigger tells every session
\! $B -c "INSERT INTO \"tabCustom Field\" (name, dt, fieldname, label, fieldtype, insert_after) VALUES ('Webhook-custom_team', 'Webhook', 'custom_team', 'Team', 'Data', 'enabled')"
SELECT 'custom:' || count(*) FROM jsonb_array_elements(integrations.doctype_meta('Webhook')->'fields') f WHERE f->>'fieldname' = 'custom_team';
SELECT 'reloaded:' || (f->>'label') FROM jsonb_array_elements(integrations.doctype_meta('Webhook')->'fields') f WHERE f->>'fieldname' = 'timeout';
-- B removes it again
\! $B -c "DELETE FROM \"tabCustom Field\" WHERE name = 'Webhook-custom_team'"
SELECT 'removed:' || count(*) FROM jsonb_array_elements(integrations.doctype_meta('Webhook')->'fields') f WHERE f->>'fieldname' = 'custom_team';
-- a Property Setter from B
\! $B -c "INSERT INTO \"tabProperty Setter\" (name, doctype_or_field, doc_type, field_name, property, value) VALUES ('Webhook-timeout-reqd', 'DocField', 'Webhook', 'timeout', 'reqd', '1')"
SELECT 'reqd:' || (f->>'reqd') FROM jsonb_array_elements(integrations.doctype_meta('Webhook')->'fields') f WHERE f->>'fieldname' = 'timeout';
-- an uncommitted change of B is not seen
\! $B -c "BEGIN; INSERT INTO \"tabCustom Field\" (name, dt, fieldname, label, fieldtype) VALUES ('Webhook-custom_x', 'Webhook', 'custom_x', 'X', 'Data'); SELECT pg_sleep(0); ROLLBACK"
SELECT 'rolledback:' || count(*) FROM jsonb_array_elements(integrations.doctype_meta('Webhook')->'fields') f WHERE f->>'fieldname' = 'custom_x';
SQL
)
lines() { printf '%s\n' "$OUT" | grep "^$1:" | head -1; }
t_is "$(lines label)" "label:Request Timeout" "session A reads the meta"
t_is "$(lines cached)" "cached:Request Timeout" "A keeps its cached meta while no change is signalled (the cache is used)"
t_is "$(lines custom)" "custom:1" "a Custom Field committed by B is seen by A's next call"
t_is "$(lines reloaded)" "reloaded:Sneaky" "the whole meta was reloaded then"
t_is "$(lines removed)" "removed:0" "a deleted Custom Field disappears for A"
t_is "$(lines reqd)" "reqd:true" "a Property Setter committed by B applies in A"
t_is "$(lines rolledback)" "rolledback:0" "a rolled-back change of B is never seen"

# without the trigger, the cache lives for one transaction only
q $DB 'DROP TRIGGER frappe_integrations_meta ON "tabDocField"'
OUT=$("$FI_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -d $DB <<SQL
SELECT 'before:' || (f->>'label') FROM jsonb_array_elements(integrations.doctype_meta('Webhook')->'fields') f WHERE f->>'fieldname' = 'enabled';
\! $B -c "UPDATE \"tabDocField\" SET label = 'On' WHERE parent = 'Webhook' AND fieldname = 'enabled'"
SELECT 'after:' || (f->>'label') FROM jsonb_array_elements(integrations.doctype_meta('Webhook')->'fields') f WHERE f->>'fieldname' = 'enabled';
SELECT 'attached:' || integrations.sync_meta_triggers();
SQL
)
t_is "$(lines before)" "before:Enabled" "without the trigger A reads the meta"
t_is "$(lines after)" "after:On" "and sees B's change in its next transaction all the same"
t_is "$(lines attached)" "attached:1" "sync_meta_triggers() puts the missing trigger back"

t_done
