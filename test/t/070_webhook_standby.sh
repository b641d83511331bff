#!/usr/bin/env bash
# Webhooks and replication: runs test/tap/webhook_standby.pl, a TAP test on
# PostgreSQL's own PostgreSQL::Test::Cluster (a primary and a streaming
# standby of its own, not the harness's cluster), as the server's user.
source "$FI_ROOT/test/lib.sh"
PGXS_SRC=$(dirname "$(dirname "$("$FI_PGBIN/pg_config" --pgxs)")")	# .../lib/pgxs/src
D=$FI_TMP/standby
mkdir -p "$D"
chmod 777 "$D"
PORT=$("$FI_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
: > "$D/received.jsonl"
"$FI_PY" "$FI_ROOT/test/receiver.py" "$PORT" "$D/received.jsonl" > "$D/receiver.out" 2>&1 &
RCV=$!
trap 'kill $RCV 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q listening "$D/receiver.out" 2>/dev/null && break; sleep 0.1; done
# the script runs as the server's user, who may not read the checkout (a
# clone in root's home or in a mktemp -d): it runs from a copy in $D
cp "$FI_ROOT/test/tap/webhook_standby.pl" "$D/webhook_standby.pl"
chmod 644 "$D/webhook_standby.pl"
run=(env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE
     PATH="$FI_PGBIN:$PATH" PG_REGRESS="$PGXS_SRC/test/regress/pg_regress" TESTDIR="$D"
     FI_RECEIVER_PORT="$PORT" FI_RECEIVER_LOG="$D/received.jsonl" FI_SITE_SQL="$FI_TMP/site.sql"
     perl -I "$PGXS_SRC/test/perl" "$D/webhook_standby.pl")
if [ "$(id -u)" -eq 0 ]; then
    (cd "$D" && runuser -u postgres -- "${run[@]}")
else
    (cd "$D" && "${run[@]}")
fi
rc=$?
[ $rc -eq 0 ] || { echo "# the nodes' logs:"; tail -n 30 "$D"/tmp_check/log/*.log 2>/dev/null | sed 's/^/# /'; }
exit $rc
