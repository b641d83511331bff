#!/usr/bin/env bash
# test/run.sh -- the one harness behind `make test` and `make demo`.
#
#   test/run.sh test    packages, build, install, throwaway cluster, all tests
#   test/run.sh demo    the same set-up, then the guided tour (test/demo.sh)
#   test/run.sh bench-webhooks   the same set-up, then bench/webhooks/bench.sh
#   test/run.sh bench-import     the same set-up, then bench/import/bench.sh
#   test/run.sh bench-export     the same set-up, then bench/export/bench.sh
#   test/run.sh bench-auth       the same set-up, then bench/auth/bench.sh
#   test/run.sh bench-mariadb    the same set-up, then bench/mariadb/bench.sh
#   test/run.sh bench-mariadb-webhooks   the same set-up, then bench/mariadb_webhooks/bench.sh
#   test/run.sh bench-mariadb-import     the same set-up, then bench/mariadb_import/bench.sh
#   test/run.sh run CMD...       the same set-up, then CMD with PGHOST/PGPORT set
#                                (experiments against a throwaway site)
#
# The cluster lives in a temp directory on a private port and unix socket,
# with the library preloaded, and is stopped (and removed) on exit, also on
# failure.  As root the server runs as the `postgres` user (initdb refuses
# root).  Test outputs (regression.diffs, server log) are copied to
# tmp_check/ before the temp directory goes.
set -euo pipefail

MODE=${1:-test}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=15
PGBIN=/usr/lib/postgresql/$PG_MAJOR/bin
export PG_CONFIG=$PGBIN/pg_config
PY=/usr/bin/python3

PACKAGES=(postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR make gcc libssl-dev
          libcurl4-openssl-dev libargon2-dev python3 python3-jinja2 python3-cryptography
          python3-passlib python3-argon2 python3-dateutil python3-psycopg2 perl libipc-run-perl nodejs
          clang libclang-rt-14-dev mariadb-server libmariadb-dev libmariadbd-dev
          libzip-dev libexpat1-dev libxlsxwriter-dev python3-openpyxl valgrind)

say() { printf '\n== %s\n' "$*"; }

ensure_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        say "installing ${missing[*]}"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    else
        echo "missing system packages: ${missing[*]}" >&2
        echo "run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
}

build_and_install() {
    say "building (warnings are errors)"
    make -C "$ROOT" -s WERROR=1 PG_CONFIG="$PG_CONFIG"
    local libdir
    libdir=$("$PG_CONFIG" --pkglibdir)
    if [ -w "$libdir" ]; then
        make -C "$ROOT" -s install PG_CONFIG="$PG_CONFIG" >/dev/null
    else
        echo "cannot write $libdir; run: sudo make install PG_CONFIG=$PG_CONFIG" >&2
        exit 1
    fi
}

as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

FI_TMP=""
cleanup() {
    local rc=$?
    if [ -n "$FI_TMP" ] && [ -d "$FI_TMP" ]; then
        if [ -f "$FI_TMP/data/postmaster.pid" ]; then
            as_pg "$PGBIN/pg_ctl" -D "$FI_TMP/data" -m fast -w stop >/dev/null 2>&1 \
                || as_pg "$PGBIN/pg_ctl" -D "$FI_TMP/data" -m immediate stop >/dev/null 2>&1 || true
        fi
        mkdir -p "$ROOT/tmp_check"
        cp -f "$FI_TMP/server.log" "$ROOT/tmp_check/server.log" 2>/dev/null || true
        rm -f "$ROOT/tmp_check/regression.diffs"
        cp -f "$FI_TMP/regress/regression.diffs" "$ROOT/tmp_check/" 2>/dev/null || true
        rm -rf "$ROOT/tmp_check/results"
        cp -rf "$FI_TMP/regress/results" "$ROOT/tmp_check/results" 2>/dev/null || true
        if [ $rc -ne 0 ]; then
            if [ -s "$FI_TMP/regress/regression.diffs" ]; then
                say "regression.diffs"
                cat "$FI_TMP/regress/regression.diffs"
            fi
            say "server log (last 60 lines)"
            tail -n 60 "$FI_TMP/server.log" 2>/dev/null || true
        fi
        rm -rf "$FI_TMP"
    fi
    exit $rc
}

start_cluster() {
    FI_TMP=$(mktemp -d /tmp/frappe_integrations.XXXXXX)
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    chmod 755 "$FI_TMP"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$FI_TMP"
    say "starting a throwaway PostgreSQL $PG_MAJOR cluster in $FI_TMP"
    as_pg "$PGBIN/initdb" -D "$FI_TMP/data" -U postgres -A trust -E UTF8 --locale=C \
        --no-sync >"$FI_TMP/initdb.log" 2>&1 || { cat "$FI_TMP/initdb.log"; exit 1; }
    local port tries=0
    while :; do
        port=$((20000 + RANDOM % 20000))
        {
            echo "port = $port"
            echo "listen_addresses = ''"
            echo "unix_socket_directories = '$FI_TMP'"
            cat "$ROOT/test/regress.conf"
        } > "$FI_TMP/data/postgresql.auto.conf"
        as_pg touch "$FI_TMP/server.log"
        if as_pg "$PGBIN/pg_ctl" -D "$FI_TMP/data" -l "$FI_TMP/server.log" -w -t 60 start >/dev/null; then
            break
        fi
        tries=$((tries + 1))
        [ $tries -lt 5 ] || { tail -20 "$FI_TMP/server.log"; exit 1; }
    done
    export PGHOST=$FI_TMP PGPORT=$port PGUSER=postgres PGDATABASE=postgres
    export FI_TMP FI_DATA=$FI_TMP/data FI_PGBIN=$PGBIN FI_ROOT=$ROOT FI_PY=$PY
    say "loading a Frappe-shaped site into the template database fi_template"
    "$PY" "$ROOT/test/make_site.py" > "$FI_TMP/site.sql"
    "$PGBIN/createdb" fi_template
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d fi_template -f "$FI_TMP/site.sql" >/dev/null
}

run_tests() {
    local rfail=0 rpass=0 tpass=0 tfail=0 tests
    tests=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$ROOT/test/regress_schedule")
    say "pg_regress: $(echo $tests | wc -w) tests"
    "$PGBIN/createdb" -T fi_template fi_regress
    mkdir -p "$FI_TMP/regress"
    if "$PG_CONFIG" --pgxs >/dev/null && \
       "$(dirname "$("$PG_CONFIG" --pgxs)")/../test/regress/pg_regress" \
            --inputdir="$ROOT" --outputdir="$FI_TMP/regress" --bindir="$PGBIN" \
            --host="$FI_TMP" --port="$PGPORT" --user=postgres \
            --use-existing --dbname=fi_regress $tests | tee "$FI_TMP/regress.out"; then
        :
    fi
    # FI_REGRESS_OUT=dir keeps pg_regress's results (to review or adopt expected output)
    [ -n "${FI_REGRESS_OUT:-}" ] && cp -r "$FI_TMP/regress/." "$FI_REGRESS_OUT/"
    rpass=$(grep -cE '^(ok|test) .* ok( |$)|^ok [0-9]+ ' "$FI_TMP/regress.out" || true)
    rfail=$(grep -cE 'FAILED|failed \(ignored\)|^not ok' "$FI_TMP/regress.out" || true)

    say "script tests (TAP) under test/t"
    prove -v --exec bash "$ROOT"/test/t/${FI_TAP:-*}.sh 2>&1 | tee "$FI_TMP/prove.out" || true
    tpass=$(grep -cE '^ok ' "$FI_TMP/prove.out" || true)
    tfail=$(grep -cE '^not ok ' "$FI_TMP/prove.out" || true)
    if ! grep -q '^Result: PASS' "$FI_TMP/prove.out"; then
        [ "$tfail" -gt 0 ] || tfail=1
    fi

    # a crash anywhere in the suite (a backend or worker killed by a fault,
    # not by the tests' own kill -9) fails the run, whatever the tests said
    local crashes
    crashes=$(grep -cE 'terminated by signal (4|6|7|8|11)\b|was terminated by exception|PANIC:' "$FI_TMP/server.log" || true)
    if [ "$crashes" -eq 0 ]; then
        echo "ok - no server process crashed during the suite (server log: no SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, PANIC)"
        tpass=$((tpass + 1))
    else
        echo "not ok - $crashes server processes crashed during the suite:"
        grep -E 'terminated by signal (4|6|7|8|11)\b|was terminated by exception|PANIC:' "$FI_TMP/server.log" | head -5
        tfail=$((tfail + 1))
    fi

    say "summary: pg_regress $rpass passed, $rfail failed; script tests $tpass passed, $tfail failed"
    echo "$((rpass + tpass)) passed, $((rfail + tfail)) failed"
    [ $((rfail + tfail)) -eq 0 ]
}

ensure_packages
build_and_install
start_cluster
case "$MODE" in
    test) run_tests ;;
    demo) bash "$ROOT/test/demo.sh" ;;
    bench-webhooks) bash "$ROOT/bench/webhooks/bench.sh" ;;
    bench-import) bash "$ROOT/bench/import/bench.sh" ;;
    bench-export) bash "$ROOT/bench/export/bench.sh" ;;
    bench-auth) bash "$ROOT/bench/auth/bench.sh" ;;
    bench-mariadb) bash "$ROOT/bench/mariadb/bench.sh" ;;
    bench-mariadb-webhooks) bash "$ROOT/bench/mariadb_webhooks/bench.sh" ;;
    bench-mariadb-import) bash "$ROOT/bench/mariadb_import/bench.sh" ;;
    run) shift; "$@" ;;
    *) echo "usage: $0 test|demo|bench-webhooks|bench-import|bench-export|bench-auth|bench-mariadb|bench-mariadb-webhooks|bench-mariadb-import|run CMD..." >&2; exit 2 ;;
esac
