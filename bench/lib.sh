# bench/lib.sh -- helpers shared by the benchmarks (sourced after test/lib.sh).
# Each bench sets DB before calling timed/peak.

now() { date +%s.%N; }
calc() { "$FI_PY" -c "print($1)"; }
median() { "$FI_PY" -c "import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }

timed() {	# timed <psql args...>: seconds for the statements, in one session
    local t0 t1
    t0=$(now)
    "$FI_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@" >/dev/null
    t1=$(now)
    calc "$t1 - $t0"
}

# the machine's CPU between two points: the share stolen by the hypervisor
cpu_snap() { head -1 /proc/stat; }
proc_cpu() {	# proc_cpu <pid>...: CPU seconds (user + system) the processes and their children used so far
    local p t=0 f
    for p in "$@" $(for p in "$@"; do pgrep -P "$p"; done); do
        f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
        t=$((t + ${f% *} + ${f#* }))
    done
    calc "round($t / $(getconf CLK_TCK), 2)"
}
cpu_since() {	# cpu_since "<snapshot>"
    "$FI_PY" - "$1" "$(cpu_snap)" <<'PY'
import sys
a = [int(x) for x in sys.argv[1].split()[1:]]
b = [int(x) for x in sys.argv[2].split()[1:]]
d = [y - x for x, y in zip(a, b)]
total = sum(d[:8]) or 1
print("CPU stolen by the hypervisor: %d%%" % round(100 * d[7] / total))
PY
}

peak() {	# peak "<setup sql>" "<expression>": MB of a fresh backend's peak (VmHWM less shared memory)
    q "$DB" "$1" >/dev/null
    "$FI_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -d "$DB" \
        -c "SELECT $2 IS NOT NULL" \
        -c "SELECT pg_read_file('/proc/' || pg_backend_pid() || '/status')" | "$FI_PY" -c '
import sys, re
s = sys.stdin.read()
kb = lambda k: int(re.search(k + r":\s+(\d+)", s).group(1))
print("%.1f" % ((kb("VmHWM") - kb("RssShmem")) / 1024.0))'
}

# the Link targets the import/export benches' files name (bench/import/gen.py)
BENCH_LINKS="INSERT INTO \"tabItem Group\"(name) VALUES ('Products'), ('Services'), ('Raw Material'), ('Sub Assemblies');
       INSERT INTO \"tabUOM\"(name) VALUES ('Nos'), ('Kg'), ('Box');
       INSERT INTO \"tabBrand\"(name) VALUES ('Acme'), ('Globex'), ('Initech'), ('Umbrella');
       INSERT INTO \"tabCompany\"(name) VALUES ('ACME Ltd');
       INSERT INTO \"tabCurrency\"(name) VALUES ('INR');
       INSERT INTO \"tabPrice List\"(name) VALUES ('Standard Selling');
       INSERT INTO \"tabAccount\"(name) VALUES ('Debtors - A'), ('Sales - A');
       INSERT INTO \"tabCost Center\"(name) VALUES ('Main - A');
       INSERT INTO \"tabCustomer\"(name, customer_name) SELECT 'Customer ' || g, 'Customer ' || g FROM generate_series(0, 49) g"

# ---- targets: each figure checked as it is measured, one verdict at the end;
# a missed target, or a part that produced no figure (it failed), makes the
# bench exit non-zero.
BENCH_MISSED=()
BENCH_CHECKED=0

# target <what> <figure> <op> <bound>: op is one of >= <= > <
target() {
    local what=$1 v=$2 op=$3 bound=$4
    BENCH_CHECKED=$((BENCH_CHECKED + 1))
    if [ -z "$v" ] || ! "$FI_PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) $op float(sys.argv[2]) else 1)" "$v" "$bound" 2>/dev/null; then
        BENCH_MISSED+=("$what: ${v:-no figure (the part failed)}, target $op $bound")
    fi
}

# bench_verdict: print the outcome and exit with it
bench_verdict() {
    if [ ${#BENCH_MISSED[@]} -gt 0 ]; then
        echo "FAILED: ${#BENCH_MISSED[@]} of $BENCH_CHECKED targets missed"
        printf '  %s\n' "${BENCH_MISSED[@]}"
        exit 1
    fi
    if [ "$BENCH_CHECKED" -eq 0 ]; then
        echo "FAILED: no target was checked"
        exit 1
    fi
    echo "PASSED: all $BENCH_CHECKED targets met"
    exit 0
}

# nginx_start <dir> <lines>: nginx in the foreground (one worker, every file
# under <dir>) with <lines> in its http block (its servers, log formats);
# sets NGX_PID.  Fails when nginx is not installed.
nginx_start() {
    local d=$1 ngx
    ngx=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null) || return 1
    mkdir -p "$d"
    chmod 777 "$d"
    cat > "$d/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
$2
}
NGX
    "$ngx" -c "$d/nginx.conf" -p "$d" 2>"$d/start.log" &
    NGX_PID=$!
}

# bench_export_columns: the columns the export benches read, in both forms: IF (Items, SQL) and IFJ
# (export's fields), SF/CF (Sales Invoice and its items) and SFJ, SFP/CFC (prefixed p. / c. for a join)
bench_export_columns() {
    IF='item_code, item_name, item_group, stock_uom, brand, description, is_stock_item, standard_rate, valuation_rate, shelf_life_in_days, weight_per_unit, end_of_life'
    IFJ=$(echo "$IF" | "$FI_PY" -c 'import sys, json; print(json.dumps([f.strip() for f in sys.stdin.read().split(",")]))')
    SF='customer, company, posting_date, currency, conversion_rate, selling_price_list, price_list_currency, plc_conversion_rate, debit_to, grand_total'
    CF='item_code, item_name, qty, rate, amount, uom, conversion_factor, income_account, cost_center'
    SFJ=$(echo "$SF" | "$FI_PY" -c 'import sys, json; print(json.dumps([f.strip() for f in sys.stdin.read().split(",")] + ["items." + f.strip() for f in sys.argv[1].split(",")]))' "$CF")
    SFP=$(echo "$SF" | sed -E 's/([a-z_]+)/p.\1/g')
    CFC=$(echo "$CF" | sed -E 's/([a-z_]+)/c.\1/g')
}
