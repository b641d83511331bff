#!/usr/bin/env bash
# bench/mariadb_webhooks: webhooks on MariaDB (issue 19, point 6), with the
# same measurement of the PostgreSQL build in the same run, side by side.
# Run by `make bench-mariadb-webhooks` (test/run.sh starts the PostgreSQL
# cluster; this script a throwaway mariadbd).
#
#  (a) capture overhead: a 100,000-row INSERT … SELECT and UPDATE of
#      "tabSales Invoice" as Frappe creates it, with one enabled webhook vs
#      none (target: at most 1.5x on MariaDB); 8 rounds in ABBA order, the
#      median of each round's own ratio (the fastest round of each side
#      shown beside); InnoDB's purge and the writing of its dirty pages are
#      waited for before each timed statement, so that a statement's figure
#      is its own work, not the background writing of the one before.
#      MariaDB: the row triggers writing __fi_webhook_outbox in the
#      statement's transaction.  PostgreSQL: its capture, commit
#      included (it renders and queues at commit).
#  (b) delivery rate: 20,000 events of one committed UPDATE, the worker
#      started after it: outbox folded, documents read, requests rendered,
#      signed, sent to nginx (return 204, keep-alive) and logged in
#      tabWebhook Request Log; events per second from the worker's start to
#      the last delivery (target >= 5,000/s).
#  (c) commit-to-receipt latency: the worker running; one event every 20 ms
#      (idle, target p50 <= 10 ms) and 1,000 events/s (5 events every 5 ms
#      by the clock,
#      target p99 <= 100 ms); the commit time is the row's modified
#      (UTC_TIMESTAMP(6) of the autocommit statement), the receipt nginx's
#      $msec for the URL that carries it.
#  PostgreSQL's figures for (b) and (c) come from bench/webhooks parts b and
#  d, run here in the same run and shown beside (their own targets).
# The bench fails when a target is missed or a part gives no figure.
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/bench/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
N=${BENCH_ROWS:-100000}
PARTS=${BENCH_PARTS:-abp}	# a: capture overhead; b: rate and latency (MariaDB); p: PostgreSQL's beside
part() { case "$PARTS" in *"$1"*) return 0 ;; esac; return 1; }
ROUNDS=${BENCH_ROUNDS:-8}
DB=fi_bench_mdbwh
KEY='cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4='
make -s -C "$FI_ROOT" mariadb >/dev/null
MD=$FI_TMP/mariadb_webhooks_bench
rm -rf "$MD"
trap 'mdb_stop' EXIT
# the server as a site's would be set up: a buffer pool that holds the tables (the tests'
# 64 MB does not hold 100,000 Sales Invoices of 144 columns, and PostgreSQL has the OS's cache)
mdb_start "$MD" --innodb-buffer-pool-size=1G --innodb-log-file-size=512M
"$FI_ROOT/bin/frappe-integrations" install --socket "$MDB_SOCK" --user root --plugin-dir "$MDB_PLUGIN" >/dev/null
mdb "INSTALL SONAME 'ha_sequence'" 2>/dev/null || true
mdb_site _wsite pw-bench
printf '{"encryption_key": "%s"}\n' "$KEY" > "$MD/site_config.json"
"$FI_ROOT/bin/frappe-integrations" install --socket "$MDB_SOCK" --user root --plugin-dir "$MDB_PLUGIN" \
    --site _wsite --site-user _wsite --key-file "$MD/site_config.json" >/dev/null
ms() { mariadb --no-defaults --socket="$MDB_SOCK" -u _wsite -ppw-bench -D _wsite -N -B -e "$1"; }
newdb $DB
"$FI_PGBIN/psql" -X -q -d postgres -c "ALTER SYSTEM SET frappe_integrations.encryption_key = '$KEY'" \
    -c "ALTER SYSTEM SET frappe_integrations.deliver = off" -c "SELECT pg_reload_conf()" >/dev/null
echo "bench/mariadb_webhooks: $(nproc) cores, MariaDB $(mdb "SELECT VERSION()"), PostgreSQL $(q $DB "SHOW server_version");" \
     "tabSales Invoice with $(ms "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '_wsite' AND TABLE_NAME = 'tabSales Invoice'") columns on MariaDB," \
     "$(q $DB "SELECT count(*) FROM information_schema.columns WHERE table_name = 'tabSales Invoice'") on PostgreSQL"

# ---- (a) capture overhead
if part a; then
M_INS="INSERT INTO \`tabSales Invoice\` (name, customer, grand_total, status, docstatus, posting_date, modified, modified_by)
       SELECT CONCAT('B-', seq), CONCAT('Customer ', seq % 97), seq * 1.5, 'Draft', 0, '2024-05-06', NOW(6), 'jane@example.com'
         FROM seq_1_to_$N"
M_UPD="UPDATE \`tabSales Invoice\` SET grand_total = grand_total + 1, modified = NOW(6)"
P_INS="INSERT INTO \"tabSales Invoice\" (name, customer, grand_total, status, docstatus, posting_date, modified, modified_by)
       SELECT 'B-' || g, 'Customer ' || (g % 97), g * 1.5, 'Draft', 0, DATE '2024-05-06', now(), 'jane@example.com'
         FROM generate_series(1, $N) g"
P_UPD="UPDATE \"tabSales Invoice\" SET grand_total = grand_total + 1, modified = now()"
read -r DIRTY_PCT DIRTY_LWM <<< "$(mdb "SELECT @@innodb_max_dirty_pages_pct, @@innodb_max_dirty_pages_pct_lwm")"
innodb_settled() {	# the previous side's purge done and its dirty pages written (else they run during the next)
    mdb "SET GLOBAL innodb_max_purge_lag_wait = 0;
         SET GLOBAL innodb_max_dirty_pages_pct_lwm = 0.001, GLOBAL innodb_max_dirty_pages_pct = 0"
    local i
    for i in $(seq 300); do
        [ "$(mdb "SELECT VARIABLE_VALUE < 100 FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_PAGES_DIRTY'")" = 1 ] && break
        sleep 0.1
    done
    mdb "SET GLOBAL innodb_max_dirty_pages_pct = $DIRTY_PCT, GLOBAL innodb_max_dirty_pages_pct_lwm = $DIRTY_LWM"
}
mtime() { local t0; t0=$(now); ms "$1" >/dev/null || return 1; calc "$(now) - $t0"; }
ptime() { local t0; t0=$(now); q $DB "$1" >/dev/null || return 1; calc "$(now) - $t0"; }
m_side() {	# m_side bare|hook: a fresh table, then the timed INSERT and UPDATE (MariaDB)
    ms "DELETE FROM tabWebhook; TRUNCATE \`tabSales Invoice\`; DELETE FROM __fi_webhook_outbox" >/dev/null
    [ "$1" = hook ] && ms "INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, enabled)
                           VALUES ('overhead', 'Sales Invoice', 'on_update', 'http://127.0.0.1:9/x', 1)"
    ms "CALL sync_webhooks()" >/dev/null
    innodb_settled
    SIDE_I=$(mtime "$M_INS") || return 1
    innodb_settled
    SIDE_U=$(mtime "$M_UPD") || return 1
    [ "$1" = hook ] && M_OUT=$(ms "SELECT COUNT(*) FROM __fi_webhook_outbox")
    return 0
}
p_side() {	# the same on PostgreSQL
    q $DB "DELETE FROM \"tabWebhook\"; TRUNCATE \"tabSales Invoice\"; TRUNCATE integrations.webhook_queue, integrations.webhook_outbox" >/dev/null
    [ "$1" = hook ] && q $DB "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url, enabled)
                              VALUES ('overhead', 'Sales Invoice', 'on_update', 'http://127.0.0.1:9/x', 1)" >/dev/null
    q $DB "CHECKPOINT" >/dev/null
    SIDE_I=$(ptime "$P_INS") || return 1
    q $DB "CHECKPOINT" >/dev/null
    SIDE_U=$(ptime "$P_UPD") || return 1
    [ "$1" = hook ] && P_OUT=$(q $DB "SELECT (SELECT count(*) FROM integrations.webhook_queue) + (SELECT coalesce(sum(events), 0) FROM integrations.webhook_outbox)")
    return 0
}
mri=() mru=() pri=() pru=() mbi=() mhi=() pbi=() phi=() mbu=() mhu=() pbu=() phu=()
for round in $(seq "$ROUNDS"); do
    for db in m p; do
        if [ $((round % 2)) -eq 1 ]; then
            ${db}_side bare && b_i=$SIDE_I b_u=$SIDE_U && ${db}_side hook && h_i=$SIDE_I h_u=$SIDE_U || break 2
        else
            ${db}_side hook && h_i=$SIDE_I h_u=$SIDE_U && ${db}_side bare && b_i=$SIDE_I b_u=$SIDE_U || break 2
        fi
        eval "${db}ri+=(\"\$(calc \"round(\$h_i / \$b_i, 2)\")\"); ${db}ru+=(\"\$(calc \"round(\$h_u / \$b_u, 2)\")\")"
        eval "${db}bi+=(\"\$b_i\"); ${db}hi+=(\"\$h_i\"); ${db}bu+=(\"\$b_u\"); ${db}hu+=(\"\$h_u\")"
    done
done
if [ "${#pri[@]}" -eq "$ROUNDS" ] && [ "${M_OUT:-0}" -eq $((2 * N)) ]; then
    MI=$(calc "round($(median "${mri[@]}"), 2)"); MU=$(calc "round($(median "${mru[@]}"), 2)")
    PI=$(calc "round($(median "${pri[@]}"), 2)"); PU=$(calc "round($(median "${pru[@]}"), 2)")
    echo "(a) $N rows, one enabled webhook vs none (hook/bare; rounds ABBA):"
    echo "    MariaDB    INSERT $MI (bare $(calc "round($(median "${mbi[@]}"), 2)") s, rounds ${mri[*]}), UPDATE $MU (rounds ${mru[*]}); outbox rows $M_OUT"
    echo "    PostgreSQL INSERT $PI (bare $(calc "round($(median "${pbi[@]}"), 2)") s, rounds ${pri[*]}), UPDATE $PU (rounds ${pru[*]}); events $P_OUT"
    best() { calc "round(min(${1// /, }) / min(${2// /, }), 2)"; }
    echo "    (the fastest round of each side against the other's: MariaDB INSERT $(best "${mhi[*]}" "${mbi[*]}")," \
         "UPDATE $(best "${mhu[*]}" "${mbu[*]}"); PostgreSQL INSERT $(best "${phi[*]}" "${pbi[*]}"), UPDATE $(best "${phu[*]}" "${pbu[*]}"))"
    target "(a) MariaDB INSERT with a webhook / without" "$MI" "<=" 1.5
    target "(a) MariaDB UPDATE with a webhook / without" "$MU" "<=" 1.5
    target "(a) PostgreSQL INSERT with a webhook / without (shown beside; no MariaDB target)" "$PI" ">" 0
    target "(a) PostgreSQL UPDATE with a webhook / without (shown beside)" "$PU" ">" 0
else
    target "(a) capture overhead (no figure: outbox rows ${M_OUT:-none}, expected $((2 * N)))" "" "<=" 1.5
fi
fi
# ---- (b) delivery rate, (c) latency: the worker and nginx
NDEL=${BENCH_DELIVERIES:-20000}
RPORT=$("$FI_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LPORT=$("$FI_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if ! part b; then
    :
elif nginx_start "$MD/nginx" "    keepalive_requests 10000000;
    keepalive_timeout 60s;
    log_format lat '\$request_uri \$msec';
    server { listen 127.0.0.1:$RPORT; location / { return 204; } }
    server { listen 127.0.0.1:$LPORT; access_log $MD/nginx/lat.log lat; location / { return 204; } }"; then
    trap 'kill $NGX_PID ${WPID:-} 2>/dev/null; mdb_stop' EXIT
    for _ in $(seq 50); do
        "$FI_PY" -c "import socket; socket.create_connection(('127.0.0.1', $RPORT), 0.2)" 2>/dev/null && break
        sleep 0.1
    done
    printf '{"db_name": "_wsite", "db_password": "pw-bench", "db_socket": "%s", "encryption_key": "%s"}\n' "$MDB_SOCK" "$KEY" > "$MD/site_config.json"
    ms "DELETE FROM tabWebhook; DELETE FROM __fi_webhook_outbox; DELETE FROM __fi_webhook_queue;
        DELETE FROM \`tabWebhook Request Log\`;
        INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enable_security, enabled)
        VALUES ('rate', 'Sales Invoice', 'on_update', 'http://127.0.0.1:$RPORT/rate', 'JSON',
                '{\"name\": \"{{ doc.name }}\", \"customer\": \"{{ doc.customer }}\", \"total\": {{ doc.grand_total }}}', 1, 1);
        CALL set_password('Webhook', 'rate', 'webhook_secret', 'bench-secret'); CALL sync_webhooks()" >/dev/null
    NROWS=$(( NDEL > 6000 ? NDEL : 6000 ))
    ms "SET @frappe_integrations_webhooks = 'off'; INSERT IGNORE INTO \`tabSales Invoice\` (name, customer, grand_total, status, docstatus, posting_date, modified, modified_by)
        SELECT CONCAT('B-', seq), CONCAT('Customer ', seq % 97), seq * 1.5, 'Draft', 0, '2024-05-06', NOW(6), 'jane@example.com' FROM seq_1_to_$NROWS"
    ms "UPDATE \`tabSales Invoice\` SET grand_total = grand_total + 1, modified = NOW(6) WHERE name IN (SELECT CONCAT('B-', seq) FROM seq_1_to_$NDEL)"
    # InnoDB's purge of what part (a) and the lines above deleted and updated, done before timing
    mdb "SET GLOBAL innodb_max_purge_lag_wait = 0"
    t0=$(now)
    c0=$(cpu_snap)
    m0=$(proc_cpu "$MDB_PID") n0=$(proc_cpu "$NGX_PID")
    "$FI_ROOT/bin/frappe-integrations" worker --site-config "$MD/site_config.json" --concurrency 32 2> "$MD/worker.log" &
    WPID=$!
    [ -n "${BENCH_PERF:-}" ] && (perf record -g -o "$BENCH_PERF" -p $WPID -- sleep 15 >/dev/null 2>&1 &)
    left=$NDEL
    for _ in $(seq 1200); do
        left=$(ms "SELECT $NDEL - COUNT(*) FROM __fi_webhook_queue WHERE status = 'delivered'")
        [ "$left" = 0 ] && break
        sleep 0.05
    done
    t1=$(now)
    WCPU=$(proc_cpu "$WPID") MCPU=$(calc "round($(proc_cpu "$MDB_PID") - $m0, 2)") NCPU=$(calc "round($(proc_cpu "$NGX_PID") - $n0, 2)")
    RATE=""
    [ "$left" = 0 ] && RATE=$(calc "round($NDEL / ($t1 - $t0))")
    echo "(b) delivery rate to nginx (return 204), signed, logged, rendering included:"
    echo "    MariaDB    $NDEL events in $(calc "round($t1 - $t0, 2)") s from the worker's start: ${RATE:-none} deliveries/s ($left left;" \
         "$(ms "SELECT COUNT(*) FROM \`tabWebhook Request Log\`") log rows; $(cpu_since "$c0"))"
    echo "    (queued: $(ms "SELECT ROUND(TIMESTAMPDIFF(MICROSECOND, MIN(created_at), MAX(created_at)) / 1e6, 2) FROM __fi_webhook_queue") s" \
         "from the first event queued to the last; sent: $(ms "SELECT ROUND(TIMESTAMPDIFF(MICROSECOND, MIN(delivered_at), MAX(delivered_at)) / 1e6, 2) FROM __fi_webhook_queue") s from the first delivery to the last)"
    echo "    (CPU meanwhile: mariadbd ${MCPU} s, the worker ${WCPU} s, nginx ${NCPU} s, of $(nproc) cores x $(calc "round($t1 - $t0, 2)") s)"
    [ -n "$RATE" ] || { echo "    the worker's log:"; tail -5 "$MD/worker.log" | sed 's/^/      /'; }
    target "(b) MariaDB deliveries/s, signed and logged" "$RATE" ">=" 5000

    # (c) the worker idle, then busy; the commit time in the URL
    ms "UPDATE tabWebhook SET request_url = 'http://127.0.0.1:$LPORT/lat/{{ doc.name }}', is_dynamic_url = 1,
        enable_security = 0 WHERE name = 'rate'" >/dev/null
    sleep 2.5	# the worker sees the change (it looks every second)
    lat() {	# lat <log>: p50/p99 of receipt - commit (the document's modified) of the requests logged
        ms "SELECT name, DATE_FORMAT(modified, '%Y-%m-%dT%H:%i:%s.%f') FROM \`tabSales Invoice\` WHERE name LIKE 'B-%'" > "$MD/modified.tsv"
        "$FI_PY" - "$1" "$MD/modified.tsv" <<'PY'
import sys, datetime
mod = dict(l.rstrip("\n").split("\t") for l in open(sys.argv[2]))
lat = []
for line in open(sys.argv[1]):
    uri, msec = line.split()
    name = uri.rsplit("/", 1)[-1]
    if name not in mod:
        continue
    t = datetime.datetime.fromisoformat(mod[name]).replace(tzinfo=datetime.timezone.utc).timestamp()
    lat.append((float(msec) - t) * 1000)
lat.sort()
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
print("%d %.1f %.1f %.1f" % (len(lat), p(0.5), p(0.99), lat[-1] if lat else float("nan")))
PY
    }
    # idle: one event every 20 ms, 300 of them
    "$FI_PY" -c '
for i in range(1, 301):
    print("UPDATE `tabSales Invoice` SET modified = UTC_TIMESTAMP(6) WHERE name = \"B-%d\"; SELECT SLEEP(0.02);" % i)' \
        | mariadb --no-defaults --socket="$MDB_SOCK" -u _wsite -ppw-bench -D _wsite -N -B >/dev/null
    sleep 1
    mv "$MD/nginx/lat.log" "$MD/nginx/lat.idle.log"
    kill -USR1 "$NGX_PID"	# nginx reopens its log
    sleep 0.3
    read -r NI P50 P99I MAXI <<< "$(lat "$MD/nginx/lat.idle.log")"
    # 1,000 events/s: 5 documents every 5 ms for 5 s, paced by the clock
    # (each sleep ends at the start + k * 5 ms, so the statements' own time
    # does not slow the rate down)
    "$FI_PY" -c '
print("SET @t0 = UNIX_TIMESTAMP(NOW(6));")
for k in range(1000):
    names = ", ".join("\"B-%d\"" % (1000 + 5 * k + j) for j in range(5))
    print("UPDATE `tabSales Invoice` SET modified = UTC_TIMESTAMP(6) WHERE name IN (%s); SELECT SLEEP(GREATEST(0, @t0 + %d * 0.005 - UNIX_TIMESTAMP(NOW(6))));" % (names, k + 1))' > "$MD/load.sql"
    t0=$(now)
    mariadb --no-defaults --socket="$MDB_SOCK" -u _wsite -ppw-bench -D _wsite -N -B < "$MD/load.sql" >/dev/null
    t1=$(now)
    sleep 1.5
    read -r NB P50B P99 MAXB <<< "$(lat "$MD/nginx/lat.log")"
    echo "(c) commit-to-receipt latency (the row's modified to nginx's receipt):"
    echo "    MariaDB    idle (one every 20 ms): $NI events, p50 $P50 ms, p99 $P99I ms, max $MAXI ms"
    echo "    MariaDB    busy: $NB events in $(calc "round($t1 - $t0, 2)") s ($(calc "round($NB / ($t1 - $t0))")/s), p50 $P50B ms, p99 $P99 ms, max $MAXB ms"
    target "(c) MariaDB idle p50 ms" "$P50" "<=" 10
    target "(c) MariaDB p99 ms at about 1,000 events/s" "$P99" "<=" 100
    target "(c) MariaDB events received at load (of 5,000)" "$NB" ">=" 5000
    kill -TERM "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null || true
    echo "    (the worker: $(tail -1 "$MD/worker.log" | sed 's/^LOG: worker stopped (signal); //'))"
else
    target "(b) MariaDB deliveries/s (nginx is not installed: apt-get install nginx-light)" "" ">=" 5000
fi

# ---- PostgreSQL's (b) and (d) beside, from bench/webhooks in this run
part p && echo "PostgreSQL, bench/webhooks parts b and d in the same run (their targets there):"
part p && BENCH_PARTS=bd BENCH_DELIVERIES=$NDEL bash "$FI_ROOT/bench/webhooks/bench.sh" 2>&1 \
    | grep -E '^ *(logging|idle|at 1|\(b\)|\(d\)|[0-9,]+ events)|p50' | sed 's/^/    /' | head -12

bench_verdict
