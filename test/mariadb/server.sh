# test/mariadb/server.sh -- a throwaway MariaDB server for the tests (sourced).
#
#   mdb_start <dir> [mariadbd options]   mariadb-install-db + mariadbd
#                     --no-defaults in <dir>, on a private socket, no networking
#                     unless the options say so (--port=...), plugin_dir
#                     <dir>/plugin; as root the server runs as the mysql user.
#                     Sets MDB_PID, MDB_SOCK, MDB_PLUGIN, MDB_DIR, MDB_OPTS.
#   mdb_run           start that server again (after a kill -9), same options
#   mdb <sql>         run SQL as root, tab-separated rows, no header, values raw
#   mdb_err <sql>     run SQL that should fail: "SQLSTATE: message"
#   mdb_stop          SIGTERM to the server's PID, waited for (bounded)
#   mdb_site <db> <password>   a Frappe-shaped site (test/make_site.py --db
#                     mariadb) in database <db>, with its own user <db>@localhost
#                     (ALL on <db>, EXECUTE on integrations), as bench new-site
#                     makes one
#   mdb_sqlstate      the mariadb client's "ERROR n (SQLSTATE) at line 1: message" on
#                     stdin as "SQLSTATE: message" (the first such line)
#   jget <expr>       the JSON on stdin as d: the Python expression's value printed
#   mdb_worker <bench> <log> [options]   frappe-integrations worker for the bench in
#                     the background, back once it serves a site; its PID appended
#                     to MDB_WORKERS (kill them in the test's EXIT trap)
#   mdb_worker_stop   SIGTERM to the last worker started, waited for
# Never the packaged service: nothing outside <dir> is used -- not even /tmp: a
# starting mariadbd deletes every #sql* file in its tmpdir, so servers sharing
# /tmp (two test runs at once) would delete each other's temporary tables.
mdb_start() {
    MDB_DIR=$1
    shift
    MDB_SOCK=$MDB_DIR/mysqld.sock
    MDB_PLUGIN=$MDB_DIR/plugin
    mkdir -p "$MDB_DIR/data" "$MDB_DIR/tmp" "$MDB_PLUGIN"
    local as=()
    if [ "$(id -u)" -eq 0 ]; then
        chown -R mysql:mysql "$MDB_DIR"
        chmod 755 "$MDB_DIR"
        runuser -u mysql -- test -w "$MDB_DIR/data" \
            || { echo "the mysql user cannot reach $MDB_DIR (a parent directory is private)" >&2; return 1; }
        as=(--user=mysql)
    fi
    mariadb-install-db --no-defaults --datadir="$MDB_DIR/data" --auth-root-authentication-method=normal \
        "${as[@]}" --skip-test-db > "$MDB_DIR/install.log" 2>&1 \
        || { cat "$MDB_DIR/install.log" >&2; return 1; }
    MDB_OPTS=("$@")
    mdb_run
}

mdb_run() {
    local as=() net=(--skip-networking)
    [ "$(id -u)" -eq 0 ] && as=(--user=mysql)
    case " ${MDB_OPTS[*]} " in *" --port="*) net=(--bind-address=127.0.0.1) ;; esac
    mariadbd --no-defaults --datadir="$MDB_DIR/data" --socket="$MDB_SOCK" "${net[@]}" \
        --plugin-dir="$MDB_PLUGIN" --tmpdir="$MDB_DIR/tmp" --pid-file="$MDB_DIR/mysqld.pid" --log-error="$MDB_DIR/error.log" \
        --max-allowed-packet=256M --innodb-buffer-pool-size=64M "${as[@]}" "${MDB_OPTS[@]}" > /dev/null 2>&1 &
    MDB_PID=$!
    local i
    for i in $(seq 300); do
        mariadb --no-defaults --socket="$MDB_SOCK" -u root -e "SELECT 1" >/dev/null 2>&1 && return 0
        kill -0 "$MDB_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "mariadbd did not start:" >&2
    tail -20 "$MDB_DIR/error.log" >&2
    return 1
}

mdb() {
    mariadb --no-defaults --socket="$MDB_SOCK" -u root -N -B -r -e "$1"
}

mdb_err() {
    local out
    if out=$(mariadb --no-defaults --socket="$MDB_SOCK" -u root -N -B -e "$1" 2>&1); then
        echo "no error: $out"
    else
        # "ERROR 1644 (22023) at line 1: message"
        echo "$out" | sed -n 's/^ERROR [0-9]* (\([0-9A-Z]*\))[^:]*: /\1: /p' | head -1
    fi
}

mdb_site() {
    [ -s "$MDB_DIR/frappe_site.sql" ] || "$FI_PY" "$FI_ROOT/test/make_site.py" --db mariadb > "$MDB_DIR/frappe_site.sql"
    mdb "CREATE DATABASE $1 CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; CREATE USER $1@localhost IDENTIFIED BY '$2';
         GRANT ALL PRIVILEGES ON $1.* TO $1@localhost; GRANT EXECUTE ON integrations.* TO $1@localhost"
    mariadb --no-defaults --socket="$MDB_SOCK" -u root "$1" -e "source $MDB_DIR/frappe_site.sql"
}

mdb_stop() {
    [ -n "${MDB_PID:-}" ] || return 0
    kill -TERM "$MDB_PID" 2>/dev/null || true
    local i
    for i in $(seq 300); do
        kill -0 "$MDB_PID" 2>/dev/null || { MDB_PID=""; return 0; }
        sleep 0.1
    done
    kill -KILL "$MDB_PID" 2>/dev/null || true
    MDB_PID=""
}

mdb_sqlstate() {
    sed -n 's/^ERROR [0-9]* (\([0-9A-Z]*\))[^:]*: /\1: /p' | head -1
}

jget() {
    "$FI_PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

MDB_WORKERS=()
mdb_worker() {
    local bench=$1 log=$2
    shift 2
    "$FI_ROOT/bin/frappe-integrations" worker --bench "$bench" "$@" 2> "$log" &
    MDB_WORKERS+=($!)
    local i
    for i in $(seq 100); do grep -q 'serving it' "$log" 2>/dev/null && return 0; sleep 0.05; done
}

mdb_worker_stop() {
    local p=${MDB_WORKERS[-1]}
    kill -TERM "$p"
    wait "$p" 2>/dev/null || true
    unset 'MDB_WORKERS[-1]'
}
