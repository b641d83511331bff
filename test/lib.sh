# test/lib.sh -- TAP helpers for the script tests under test/t (sourced).
#
# The harness (test/run.sh) exports PGHOST/PGPORT/PGUSER of the throwaway
# cluster, FI_ROOT, FI_TMP, FI_PGBIN and FI_PY (the Debian python3 that sees
# python3-cryptography, python3-passlib and python3-jinja2: our oracles).
set -uo pipefail

T_N=0
T_FAILED=0

_t_result() {	# _t_result <0|1> <description> [diagnostics]
    T_N=$((T_N + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $T_N - $2"
    else
        T_FAILED=$((T_FAILED + 1))
        echo "not ok $T_N - $2"
        [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/#   /'
    fi
    return 0
}

t_is() {	# t_is <got> <expected> <description>
    if [ "$1" == "$2" ]; then _t_result 0 "$3"
    else _t_result 1 "$3" "got:      '$1'
expected: '$2'"; fi
}

t_like() {	# t_like <got> <extended regex> <description>
    if printf '%s' "$1" | grep -qE -- "$2"; then _t_result 0 "$3"
    else _t_result 1 "$3" "got:      '$1'
expected to match: $2"; fi
}

t_ok() {	# t_ok <description> <command...>
    local desc=$1 out
    shift
    if out=$("$@" 2>&1); then _t_result 0 "$desc"; else _t_result 1 "$desc" "$out"; fi
}

t_done() {
    echo "1..$T_N"
    [ "$T_FAILED" -eq 0 ]
    exit $?
}

# newdb <name>: a fresh copy of the Frappe-shaped site, with the extension
newdb() {
    "$FI_PGBIN/dropdb" --if-exists "$1"
    "$FI_PGBIN/createdb" -T fi_template "$1"
    q "$1" "CREATE EXTENSION frappe_integrations" >/dev/null
}

# http_peer <name>: the local HTTP(S) peer (test/tools/http_peer.sh)
source "$FI_ROOT/test/tools/http_peer.sh"

# q <db> <sql>: run SQL, print unaligned tuples; fails on error
q() {
    "$FI_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# q_err <db> <sql>: run SQL that should fail; prints "SQLSTATE: message"
q_err() {
    local out
    if out=$("$FI_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose \
             -d "$1" -c "$2" 2>&1); then
        echo "NO ERROR: $out"
    else
        printf '%s\n' "$out" | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): \(.*\)$/\1: \2/p' | head -1
    fi
}

# soffice_xlsx <outdir> <file...>: LibreOffice (soffice --headless, a private
# profile under FI_TMP) saves each file as <outdir>/<its name>.xlsx, with its
# own Excel filter: the files a LibreOffice user hands to Data Import.  Fails
# when LibreOffice is missing (.ci/run installs libreoffice-calc-nogui).
soffice_xlsx() {
    local out=$1
    shift
    command -v soffice >/dev/null || { echo "soffice is not installed (apt-get install libreoffice-calc-nogui)"; return 1; }
    mkdir -p "$out"
    timeout 300 soffice -env:UserInstallation="file://$FI_TMP/libreoffice-profile" --headless --norestore \
        --convert-to 'xlsx:Calc MS Excel 2007 XML' --outdir "$out" "$@" >"$out/soffice.log" 2>&1
    local f
    for f in "$@"; do
        f=${f##*/}
        [ -s "$out/${f%.*}.xlsx" ] || { cat "$out/soffice.log"; return 1; }
    done
}
