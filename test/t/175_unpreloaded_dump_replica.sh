#!/usr/bin/env bash
# A cluster of its own, without shared_preload_libraries and with
# wal_level = logical: savepoints when the library is loaded late (by the
# first trigger), pg_dump/restore of what is still to deliver, and a
# FOR ALL TABLES publication whose subscriber must neither fail on nor keep
# the publisher's queues.  Nothing is delivered here (no worker runs).
source "$FI_ROOT/test/lib.sh"
D=$FI_TMP/unpreloaded
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg mkdir -p "$D"
PORT=$("$FI_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$FI_PGBIN/initdb" -D "$D/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$D/initdb.log" 2>&1 \
    || { cat "$D/initdb.log"; exit 1; }
as_pg sh -c "cat >> '$D/data/postgresql.auto.conf'" <<EOF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$D'
fsync = off
wal_level = logical
max_wal_senders = 4
max_replication_slots = 4
log_min_messages = warning
EOF
as_pg "$FI_PGBIN/pg_ctl" -D "$D/data" -l "$D/server.log" -w -t 60 start >/dev/null || { tail "$D/server.log"; exit 1; }
trap 'as_pg "$FI_PGBIN/pg_ctl" -D "$D/data" -m immediate stop >/dev/null 2>&1' EXIT
export PGHOST=$D PGPORT=$PORT

# 0. first preloaded, for the launcher's probe of every database at its start: a
#    database owner's own schema "integrations" with a "webhook_queue" view
#    calling their function, in a database without the extension
q postgres "CREATE ROLE probe_owner LOGIN" >/dev/null
q postgres "CREATE DATABASE probe OWNER probe_owner" >/dev/null
"$FI_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -U probe_owner -d probe >/dev/null <<'SQL'
CREATE TABLE public.seen (who text, su boolean);
CREATE FUNCTION public.probe() RETURNS timestamptz LANGUAGE plpgsql AS $$ BEGIN
  INSERT INTO public.seen SELECT current_user, rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user;
  BEGIN EXECUTE 'ALTER ROLE probe_owner SUPERUSER'; EXCEPTION WHEN others THEN NULL; END;
  RETURN now(); END $$;
CREATE SCHEMA integrations;
CREATE VIEW integrations.webhook_queue AS SELECT 1::bigint AS id, 'pending'::text AS status,
  public.probe() AS next_attempt_at, NULL::timestamptz AS lease_until;
CREATE VIEW integrations.webhook_outbox AS SELECT 1::bigint AS id WHERE public.probe() IS NOT NULL;
CREATE VIEW integrations.http_queue AS SELECT 1::bigint AS id, 'pending'::text AS status,
  public.probe() AS next_attempt_at;
SQL
as_pg sh -c "echo \"shared_preload_libraries = 'frappe_integrations'\" >> '$D/data/postgresql.auto.conf'"
as_pg "$FI_PGBIN/pg_ctl" -D "$D/data" -l "$D/server.log" -w -t 60 restart >/dev/null || { tail "$D/server.log"; exit 1; }
for _ in $(seq 50); do
    [ "$(q postgres "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'frappe_integrations launcher'")" = 1 ] && break
    sleep 0.1
done
sleep 3
t_is "$(q probe "SELECT count(*) FROM public.seen")|$(q postgres "SELECT rolsuper FROM pg_roles WHERE rolname = 'probe_owner'")" "0|f" \
     "the launcher's probe runs none of a database owner's objects named like the extension's"
as_pg sed -i '/shared_preload_libraries/d' "$D/data/postgresql.auto.conf"
as_pg "$FI_PGBIN/pg_ctl" -D "$D/data" -l "$D/server.log" -w -t 60 restart >/dev/null || { tail "$D/server.log"; exit 1; }
"$FI_PGBIN/createdb" site_tpl
"$FI_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d site_tpl -f "$FI_TMP/site.sql" >/dev/null
mkdb() { "$FI_PGBIN/createdb" -T site_tpl "$1" && q "$1" "CREATE EXTENSION frappe_integrations" >/dev/null 2>&1; }
hook() {	# hook <db> <name> <event>
    q "$1" "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url,
            request_method, request_structure, webhook_json, enabled, timeout)
            VALUES ('$2', 'Sales Invoice', '$3', 'http://127.0.0.1:9/$2', 'POST', 'JSON',
            '{\"name\": \"{{ doc.name }}\"}', 1, 2)" >/dev/null
}

# 1. savepoints, the library first loaded inside one (a fresh session's first trigger)
mkdb sp
hook sp trash on_trash
hook sp upd on_update
q sp "INSERT INTO \"tabSales Invoice\" (name, customer, grand_total) VALUES ('SINV-S1', 'A', 1), ('SINV-S2', 'A', 2)"
q sp "DELETE FROM integrations.webhook_queue"
OUT=$(q sp "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE false;
  BEGIN; SAVEPOINT a; DELETE FROM \"tabSales Invoice\" WHERE name = 'SINV-S1'; ROLLBACK TO a;
  SAVEPOINT b; UPDATE \"tabSales Invoice\" SET grand_total = 3 WHERE name = 'SINV-S2'; RELEASE b;
  SAVEPOINT c; SAVEPOINT d; DELETE FROM \"tabSales Invoice\" WHERE name = 'SINV-S2'; RELEASE d; ROLLBACK TO c;
  COMMIT;
  SELECT string_agg(webhook || ':' || docname, ',' ORDER BY id) FROM integrations.webhook_queue" 2>&1 | tail -1)
t_is "$OUT" "upd:SINV-S2" \
     "without preloading, what rolled-back savepoints did fires nothing (on_trash of neither), a released one's update fires"
t_is "$(q sp "SELECT string_agg(name, ',' ORDER BY name) FROM \"tabSales Invoice\" WHERE name LIKE 'SINV-S%'")" "SINV-S1,SINV-S2" \
     "and the rows are there"

# 2. pg_dump / pg_restore keeps the events still to deliver, the outbox and queued requests
mkdb dumped
hook dumped d-upd on_update
q dumped "INSERT INTO \"tabSales Invoice\" (name, customer, grand_total) VALUES ('SINV-D1', 'A', 1)"
q dumped "INSERT INTO \"tabSales Invoice\" (name, customer, grand_total) SELECT 'SINV-B' || g, 'B', g FROM generate_series(1, 150) g"
q dumped "INSERT INTO integrations.webhook_queue (webhook, doctype, docname, event, method, url, headers, body, sign, timeout_ms, status, delivered_at)
          SELECT webhook, doctype, docname, event, method, url, headers, body, sign, timeout_ms, 'delivered', now()
          FROM integrations.webhook_queue LIMIT 1"
q dumped "SELECT integrations.http_request_async('GET', 'http://127.0.0.1:9/x')" >/dev/null
BEFORE=$(q dumped "SELECT (SELECT count(*) FROM integrations.webhook_queue WHERE status <> 'delivered') || '/' ||
                          (SELECT count(*) FROM integrations.webhook_outbox) || '/' ||
                          (SELECT count(*) FROM integrations.http_queue)")
"$FI_PGBIN/pg_dump" -Fc -f "$D/dumped.dump" dumped
"$FI_PGBIN/createdb" restored
"$FI_PGBIN/pg_restore" -d restored "$D/dumped.dump" 2> "$D/restore.err"
AFTER=$(q restored "SELECT (SELECT count(*) FROM integrations.webhook_queue WHERE status <> 'delivered') || '/' ||
                           (SELECT count(*) FROM integrations.webhook_outbox) || '/' ||
                           (SELECT count(*) FROM integrations.http_queue)")
t_like "$BEFORE" '^1/[1-9][0-9]*/1$' "before the dump: a pending event, the outbox of a large transaction, a queued request ($BEFORE)"
t_is "$AFTER" "$BEFORE" "pg_dump/pg_restore keeps them ($(wc -l < "$D/restore.err") restore warnings)"
t_is "$(q restored "SELECT count(*) FROM integrations.webhook_queue WHERE status = 'delivered'")" 0 \
     "delivered events (history) are not dumped"
q restored "INSERT INTO \"tabSales Invoice\" (name, customer, grand_total) VALUES ('SINV-D2', 'A', 1)"
t_is "$(q restored "SELECT count(*) FROM integrations.webhook_queue WHERE docname = 'SINV-D2'")" 1 \
     "the restored site fires its webhooks (ids go on: no key clash)"

# 3. a FOR ALL TABLES publication and its subscriber in another database
mkdb pub
mkdb sub
hook pub p-upd on_update
q pub "CREATE PUBLICATION everything FOR ALL TABLES"
q pub "SELECT pg_create_logical_replication_slot('fi_sub', 'pgoutput')" >/dev/null
q sub "CREATE SUBSCRIPTION fi_sub CONNECTION 'host=$D port=$PORT dbname=pub' PUBLICATION everything
       WITH (create_slot = false, slot_name = 'fi_sub', copy_data = false)" >/dev/null
q pub "INSERT INTO \"tabSales Invoice\" (name, customer, grand_total) VALUES ('SINV-R1', 'A', 1)"
q pub "INSERT INTO \"tabSales Invoice\" (name, customer, grand_total) SELECT 'SINV-RB' || g, 'B', g FROM generate_series(1, 150) g"
q pub "SELECT integrations.http_request_async('GET', 'http://127.0.0.1:9/y')" >/dev/null
q pub "UPDATE integrations.webhook_queue SET attempts = 1"
ok=1
for _ in $(seq 100); do
    [ "$(q sub "SELECT count(*) FROM \"tabSales Invoice\" WHERE name LIKE 'SINV-R%'")" = 151 ] && { ok=0; break; }
    sleep 0.1
done
t_is "$ok" 0 "the subscriber receives the site's rows"
t_is "$(q sub "SELECT (SELECT count(*) FROM integrations.webhook_queue) + (SELECT count(*) FROM integrations.webhook_outbox) + (SELECT count(*) FROM integrations.http_queue)")" 0 \
     "but none of the publisher's queued events or requests (nothing to send twice)"
t_is "$(grep -c 'webhook_queue_pkey\|duplicate key' "$D/server.log")" 0 "and its apply never fails on the queues' keys"
q pub "INSERT INTO \"tabSales Invoice\" (name, customer, grand_total) VALUES ('SINV-R2', 'A', 1)"
ok=1
for _ in $(seq 100); do
    [ "$(q sub "SELECT count(*) FROM \"tabSales Invoice\" WHERE name = 'SINV-R2'")" = 1 ] && { ok=0; break; }
    sleep 0.1
done
t_is "$ok" 0 "replication goes on afterwards"
q sub "DROP SUBSCRIPTION fi_sub" >/dev/null 2>&1
t_done
