#!/usr/bin/env bash
# bench/mariadb_webhooks: webhooks on MariaDB (issue 19, point 6), with the
# same measurement of the PostgreSQL build in the same run, side by side.
# Run by `make bench-mariadb-webhooks` (test/run.sh starts the PostgreSQL
# cluster; this script a throwaway mariadbd).
#
#  (a) capture overhead: a 100,000-row INSERT … SELECT and UPDATE of
#      "tabSales Invoice" as Frappe creates it, with one enabled webhook vs
#      none (target: at most 1.5x on MariaDB); 6 rounds in ABBA order, the
#      median of each round's own ratio; InnoDB's purge of the previous
#      round's rows is waited for before each side.  MariaDB: the row triggers writing
#      __fi_webhook_outbox in the statement's transaction.  PostgreSQL: its
#      capture, commit included (it renders and queues at commit).
# (The worker's delivery rate and commit-to-receipt latency come with the
# worker.)  The bench fails when a target is missed or a part gives no figure.
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/bench/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
N=${BENCH_ROWS:-100000}
ROUNDS=${BENCH_ROUNDS:-6}
DB=fi_bench_mdbwh
KEY='cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4='
make -s -C "$FI_ROOT" mariadb >/dev/null
MD=$FI_TMP/mariadb_webhooks_bench
rm -rf "$MD"
trap 'mdb_stop' EXIT
mdb_start "$MD"
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
M_INS="INSERT INTO \`tabSales Invoice\` (name, customer, grand_total, status, docstatus, posting_date, modified, modified_by)
       SELECT CONCAT('B-', seq), CONCAT('Customer ', seq % 97), seq * 1.5, 'Draft', 0, '2024-05-06', NOW(6), 'jane@example.com'
         FROM seq_1_to_$N"
M_UPD="UPDATE \`tabSales Invoice\` SET grand_total = grand_total + 1, modified = NOW(6)"
P_INS="INSERT INTO \"tabSales Invoice\" (name, customer, grand_total, status, docstatus, posting_date, modified, modified_by)
       SELECT 'B-' || g, 'Customer ' || (g % 97), g * 1.5, 'Draft', 0, DATE '2024-05-06', now(), 'jane@example.com'
         FROM generate_series(1, $N) g"
P_UPD="UPDATE \"tabSales Invoice\" SET grand_total = grand_total + 1, modified = now()"
mtime() { local t0; t0=$(now); ms "$1" >/dev/null || return 1; calc "$(now) - $t0"; }
ptime() { local t0; t0=$(now); q $DB "$1" >/dev/null || return 1; calc "$(now) - $t0"; }
m_side() {	# m_side bare|hook: a fresh table, then the timed INSERT and UPDATE (MariaDB)
    ms "DELETE FROM tabWebhook; TRUNCATE \`tabSales Invoice\`; DELETE FROM __fi_webhook_outbox; DELETE HISTORY FROM __fi_webhook_outbox" >/dev/null
    [ "$1" = hook ] && ms "INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, enabled)
                           VALUES ('overhead', 'Sales Invoice', 'on_update', 'http://127.0.0.1:9/x', 1)"
    ms "CALL sync_webhooks()" >/dev/null
    # the deleted rows' purge done before timing (else it runs during the next side)
    mdb "SET GLOBAL innodb_max_purge_lag_wait = 0"
    SIDE_I=$(mtime "$M_INS") && SIDE_U=$(mtime "$M_UPD") || return 1
    [ "$1" = hook ] && M_OUT=$(ms "SELECT COUNT(*) FROM __fi_webhook_outbox")
    return 0
}
p_side() {	# the same on PostgreSQL
    q $DB "DELETE FROM \"tabWebhook\"; TRUNCATE \"tabSales Invoice\"; TRUNCATE integrations.webhook_queue, integrations.webhook_outbox" >/dev/null
    [ "$1" = hook ] && q $DB "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url, enabled)
                              VALUES ('overhead', 'Sales Invoice', 'on_update', 'http://127.0.0.1:9/x', 1)" >/dev/null
    q $DB "CHECKPOINT" >/dev/null
    SIDE_I=$(ptime "$P_INS") && SIDE_U=$(ptime "$P_UPD") || return 1
    [ "$1" = hook ] && P_OUT=$(q $DB "SELECT (SELECT count(*) FROM integrations.webhook_queue) + (SELECT coalesce(sum(events), 0) FROM integrations.webhook_outbox)")
    return 0
}
mri=() mru=() pri=() pru=() mbi=() mhi=() pbi=() phi=()
for round in $(seq "$ROUNDS"); do
    for db in m p; do
        if [ $((round % 2)) -eq 1 ]; then
            ${db}_side bare && b_i=$SIDE_I b_u=$SIDE_U && ${db}_side hook && h_i=$SIDE_I h_u=$SIDE_U || break 2
        else
            ${db}_side hook && h_i=$SIDE_I h_u=$SIDE_U && ${db}_side bare && b_i=$SIDE_I b_u=$SIDE_U || break 2
        fi
        eval "${db}ri+=(\"\$(calc \"round(\$h_i / \$b_i, 2)\")\"); ${db}ru+=(\"\$(calc \"round(\$h_u / \$b_u, 2)\")\")"
        eval "${db}bi+=(\"\$b_i\"); ${db}hi+=(\"\$h_i\")"
    done
done
if [ "${#pri[@]}" -eq "$ROUNDS" ] && [ "${M_OUT:-0}" -eq $((2 * N)) ]; then
    MI=$(calc "round($(median "${mri[@]}"), 2)"); MU=$(calc "round($(median "${mru[@]}"), 2)")
    PI=$(calc "round($(median "${pri[@]}"), 2)"); PU=$(calc "round($(median "${pru[@]}"), 2)")
    echo "(a) $N rows, one enabled webhook vs none (hook/bare; rounds ABBA):"
    echo "    MariaDB    INSERT $MI (bare $(calc "round($(median "${mbi[@]}"), 2)") s, rounds ${mri[*]}), UPDATE $MU (rounds ${mru[*]}); outbox rows $M_OUT"
    echo "    PostgreSQL INSERT $PI (bare $(calc "round($(median "${pbi[@]}"), 2)") s, rounds ${pri[*]}), UPDATE $PU (rounds ${pru[*]}); events $P_OUT"
    target "(a) MariaDB INSERT with a webhook / without" "$MI" "<=" 1.5
    target "(a) MariaDB UPDATE with a webhook / without" "$MU" "<=" 1.5
    target "(a) PostgreSQL INSERT with a webhook / without (shown beside; no MariaDB target)" "$PI" ">" 0
    target "(a) PostgreSQL UPDATE with a webhook / without (shown beside)" "$PU" ">" 0
else
    target "(a) capture overhead (no figure: outbox rows ${M_OUT:-none}, expected $((2 * N)))" "" "<=" 1.5
fi
bench_verdict
