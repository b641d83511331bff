#!/usr/bin/env bash
# bench/mariadb: the pure functions on MariaDB, as ratios measured in this run
# (make bench-mariadb; test/run.sh starts the PostgreSQL cluster, this script
# a throwaway mariadbd):
#  (a) render_template from SQL, 20,000 calls of a Sales Invoice-like template
#      on MariaDB vs the same calls on PostgreSQL;
#  (b) hmac_sha256 calls/s on MariaDB vs MariaDB's own SHA2() of the same
#      messages (the cost of a UDF call and its SQL wrapper).
# Median of 3 alternating rounds.  No target is set by the issue yet: the
# bench fails when a part produces no figure.
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/bench/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
DB=fi_bench_mdb
N=${BENCH_ROWS:-20000}
newdb $DB
make -s -C "$FI_ROOT" mariadb >/dev/null
MD=$FI_TMP/mariadb_bench
rm -rf "$MD"
trap 'mdb_stop' EXIT
mdb_start "$MD"
"$FI_ROOT/bin/frappe-integrations" install --socket "$MDB_SOCK" --user root --plugin-dir "$MDB_PLUGIN" >/dev/null
mdb "INSTALL SONAME 'ha_sequence'" 2>/dev/null || true

TPL='{"name": "{{ doc.name }}", "total": {{ doc.grand_total }}, "status": "{{ doc.status }}", "items": {{ doc.items | tojson }}}'
CTX="'{\"doc\": {\"name\": \"SINV-', g, '\", \"grand_total\": ', g * 1.5, ', \"status\": \"Paid\", \"items\": [{\"item_code\": \"A\", \"qty\": 2.0}, {\"item_code\": \"B\", \"qty\": 1}]}}'"
mtime() {	# seconds for one MariaDB statement
    local t0 t1
    t0=$(now); mariadb --no-defaults --socket="$MDB_SOCK" -u root -D integrations -N -B -e "$1" >/dev/null || return 1; t1=$(now)
    calc "$t1 - $t0"
}
ptime() { timed -c "$1"; }
pg_r=() md_r=() ratio_r=()
for round in 1 2 3; do
    p=$(ptime "SELECT count(integrations.render_template('$TPL', ('{\"doc\": {\"name\": \"SINV-' || g || '\", \"grand_total\": ' || g * 1.5 || ', \"status\": \"Paid\", \"items\": [{\"item_code\": \"A\", \"qty\": 2.0}, {\"item_code\": \"B\", \"qty\": 1}]}}')::jsonb)) FROM generate_series(1, $N) g")
    m=$(mtime "SELECT COUNT(integrations.render_template('$TPL', CONCAT($CTX))) FROM (SELECT seq AS g FROM seq_1_to_$N) s")
    pg_r+=("$p"); md_r+=("$m"); ratio_r+=("$(calc "round($p / $m, 2)")")
done
RATIO=$(median "${ratio_r[@]}")
echo "bench/mariadb: $(nproc) cores, MariaDB $(mdb "SELECT VERSION()"), PostgreSQL $(q $DB "SHOW server_version")"
echo "(a) render_template, $N calls: PostgreSQL $(calc "round($N / $(median "${pg_r[@]}"))")/s, MariaDB $(calc "round($N / $(median "${md_r[@]}"))")/s  ->  MariaDB/PostgreSQL = $RATIO  (rounds: ${ratio_r[*]})"
target "(a) MariaDB/PostgreSQL render_template" "$RATIO" ">" 0
h_r=() s_r=() u_r=() hr=() ur=()
for round in 1 2 3; do
    h=$(mtime "SELECT COUNT(integrations.hmac_sha256('whsec', CONCAT('{\"event\": ', seq, '}'), 'hex')) FROM seq_1_to_$((N * 5))")
    u=$(mtime "SELECT COUNT(fi_udf_hmac_sha256('whsec', CONCAT('{\"event\": ', seq, '}'), 'hex')) FROM seq_1_to_$((N * 5))")
    s=$(mtime "SELECT COUNT(SHA2(CONCAT('whsec', '{\"event\": ', seq, '}'), 256)) FROM seq_1_to_$((N * 5))")
    h_r+=("$h"); u_r+=("$u"); s_r+=("$s"); hr+=("$(calc "round($s / $h, 2)")"); ur+=("$(calc "round($s / $u, 2)")")
done
HR=$(median "${hr[@]}")
echo "(b) $((N * 5)) calls: integrations.hmac_sha256 $(calc "round($N * 5 / $(median "${h_r[@]}"))")/s, the UDF alone (fi_udf_hmac_sha256) $(calc "round($N * 5 / $(median "${u_r[@]}"))")/s, SHA2() $(calc "round($N * 5 / $(median "${s_r[@]}"))")/s  ->  hmac/SHA2 = $HR, UDF/SHA2 = $(median "${ur[@]}")  (the rest is the stored function's call)"
target "(b) hmac_sha256 / SHA2() on MariaDB" "$HR" ">" 0
mdb_stop
bench_verdict
