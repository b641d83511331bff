#!/usr/bin/env bash
# Crash safety of webhook delivery: 10,000 committed events in flight, then
# kill -9 of the worker (the server restarts its processes) and, separately,
# kill -9 of the postmaster (the server is started again).  Afterwards every
# committed event has reached the receiver, and an event received twice
# carries the same webhook-id both times.
source "$FI_ROOT/test/lib.sh"
DB=fi_webhook_crash
W=$FI_TMP/crash
mkdir -p "$W"
chmod 777 "$W"
N=10000

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
conf() { "$FI_PGBIN/psql" -X -q -d postgres -c "ALTER SYSTEM SET $1 = '$2'" -c "SELECT pg_reload_conf()" >/dev/null; }
PORT=$("$FI_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LOG=$W/received.jsonl
: > "$LOG"
"$FI_PY" "$FI_ROOT/test/receiver.py" "$PORT" "$LOG" > "$W/receiver.out" 2>&1 &
RCV=$!
trap 'kill $RCV 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q listening "$W/receiver.out" 2>/dev/null && break; sleep 0.1; done

conf frappe_integrations.deliver off
newdb $DB
q $DB "SET frappe_integrations.webhooks = off;
       INSERT INTO \"tabSales Invoice\" (name, customer, grand_total) SELECT 'C-' || g, 'X', g FROM generate_series(1, $((2 * N))) g"
q $DB "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enabled)
       VALUES ('crash', 'Sales Invoice', 'on_update', 'http://127.0.0.1:$PORT/crash', 'JSON', '{\"n\": \"{{ doc.name }}\"}', 1)"

wait_count() {	# wait_count <n> <seconds>: until the receiver has n distinct ids
    local i
    for i in $(seq $(($2 * 10))); do
        [ "$("$FI_PY" -c "import json,sys; print(len({json.loads(l)['headers']['webhook-id'] for l in open(sys.argv[1]) if l.strip()}))" "$LOG")" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
received() { wc -l < "$LOG"; }
check() {	# check <label>: every committed event received, duplicates with the same id
    "$FI_PY" - "$LOG" "$W/ids.txt" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ids = [r["headers"]["webhook-id"] for r in rows]
want = set("msg_" + l.strip() for l in open(sys.argv[2]) if l.strip())
body_of = {}
mismatch = 0
for r in rows:
    i = r["headers"]["webhook-id"]
    if i in body_of and body_of[i] != r["body"]:
        mismatch += 1
    body_of[i] = r["body"]
print(len(want), len(want - set(ids)), len(ids) - len(set(ids)), mismatch, len(set(ids) - want))
PY
}

# ---- 1. kill -9 of the worker with 10,000 events in flight
q $DB "UPDATE \"tabSales Invoice\" SET grand_total = grand_total + 1 WHERE name IN (SELECT 'C-' || g FROM generate_series(1, $N) g)"
# a large transaction: its events wait in the outbox, their ids fixed at commit
t_is "$(q $DB "SELECT count(*) || ' ' || sum(events) FROM integrations.webhook_outbox")" "$((N / 500)) $N" \
     "the $N events of one transaction are committed as $((N / 500)) outbox rows"
q $DB "COPY (SELECT unnest(event_id) FROM integrations.webhook_outbox) TO STDOUT" > "$W/ids.txt"
conf frappe_integrations.deliver on
for _ in $(seq 200); do [ "$(received)" -ge 1500 ] && break; sleep 0.05; done
WPID=$(q postgres "SELECT pid FROM pg_stat_activity WHERE backend_type = 'frappe_integrations webhook worker' AND datname = '$DB'")
BEFORE=$(received)
kill -9 "$WPID"
t_like "$BEFORE" '^[0-9]+$' "the worker (pid $WPID) killed with -9 after $BEFORE of $N deliveries"
# the server resets every process; the launcher comes back and starts a
# worker for each database with something pending
for _ in $(seq 300); do q postgres "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
wait_count $N 120
R=$(check)
t_is "$(echo "$R" | cut -d' ' -f1-2)" "$N 0" "after the restart every one of the $N committed events reached the receiver"
t_is "$(echo "$R" | cut -d' ' -f4-5)" "0 0" "an event sent twice ($(echo "$R" | cut -d' ' -f3) were) carried the same webhook-id and body; no unknown id"

# ---- 2. kill -9 of the postmaster with 10,000 events in flight
conf frappe_integrations.deliver off
: > "$LOG"
q $DB "UPDATE \"tabSales Invoice\" SET grand_total = grand_total + 1 WHERE name IN (SELECT 'C-' || g FROM generate_series($N + 1, $((2 * N))) g)"
q $DB "COPY (SELECT unnest(event_id) FROM integrations.webhook_outbox) TO STDOUT" > "$W/ids.txt"
conf frappe_integrations.deliver on
for _ in $(seq 200); do [ "$(received)" -ge 1500 ] && break; sleep 0.05; done
PM=$(head -1 "$FI_DATA/postmaster.pid")
BEFORE=$(received)
kill -9 "$PM"
# the server's processes leave when they see the postmaster gone; a killed
# process nobody reaps stays a zombie, whose pid would block the new start
for _ in $(seq 100); do
    st=$(awk '{print $3}' "/proc/$PM/stat" 2>/dev/null || echo gone)
    [ "$st" = gone ] || [ "$st" = Z ] && break
    sleep 0.1
done
# its children (the worker among them) leave when they see it gone
PGUSR=$( [ "$(id -u)" -eq 0 ] && echo postgres || id -un )
for _ in $(seq 100); do
    pgrep -u "$PGUSR" -f '^postgres: ' >/dev/null 2>&1 || break
    sleep 0.1
done
sleep 0.5
if [ "$(awk '{print $3}' "/proc/$PM/stat" 2>/dev/null || echo gone)" = Z ]; then
    # a zombie's pid is "alive" to the new server's lock-file checks
    rm -f "$FI_DATA/postmaster.pid" "$FI_TMP"/.s.PGSQL.*.lock
fi
as_pg "$FI_PGBIN/pg_ctl" -D "$FI_DATA" -l "$FI_TMP/server.log" -w -t 60 start >/dev/null
t_like "$BEFORE" '^[0-9]+$' "the postmaster killed with -9 after $BEFORE of $N deliveries, then started again"
for _ in $(seq 300); do q postgres "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
wait_count $N 120
R=$(check)
t_is "$(echo "$R" | cut -d' ' -f1-2)" "$N 0" "after the restart every one of the $N committed events reached the receiver"
t_is "$(echo "$R" | cut -d' ' -f4-5)" "0 0" "an event sent twice ($(echo "$R" | cut -d' ' -f3) were) carried the same webhook-id and body; no unknown id"
# outcomes are written in batches, and a row the killed server had claimed
# is sent again (same id) once its lease ends: give both a bounded while
for _ in $(seq 300); do
    LEFT=$(q $DB "SELECT count(*) FROM integrations.webhook_queue WHERE webhook = 'crash' AND status <> 'delivered'")
    [ "$LEFT" = 0 ] && break
    sleep 0.1
done
t_is "$LEFT" 0 "the queue shows them all delivered"

conf frappe_integrations.deliver off
"$FI_PGBIN/psql" -X -q -d postgres -c "ALTER SYSTEM SET frappe_integrations.deliver = off" -c "SELECT pg_reload_conf()" >/dev/null
"$FI_PGBIN/dropdb" --force --if-exists $DB
t_done
