#!/usr/bin/env bash
# bench/auth: validate_bearer_token and authenticate('token key:secret') calls
# per second against a plain primary-key SELECT of the same table, in the
# same run (pgbench, BENCH_CLIENTS clients, BENCH_SECONDS each, random keys
# among 10,000).  Run by `make bench-auth`.
source "$FI_ROOT/test/lib.sh"
DB=fi_bench_auth
W=$FI_TMP/bench_auth
mkdir -p "$W"
SECS=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-2}
KEY='cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4='
export PGOPTIONS="-c frappe_integrations.encryption_key=$KEY"
source "$FI_ROOT/bench/lib.sh"
newdb $DB
q $DB "INSERT INTO \"tabOAuth Client\"(name, client_id, app_name, scopes, default_redirect_uri) VALUES ('cl1', 'cl1', 'App', 'all openid', 'https://app/cb');
       INSERT INTO \"tabUser\"(name, email, first_name, enabled, api_key, api_secret)
         SELECT 'u' || g || '@example.com', 'u' || g || '@example.com', 'U', 1, 'k' || g, '******' FROM generate_series(1, 10000) g;
       INSERT INTO \"__Auth\" SELECT 'User', 'u' || g || '@example.com', 'api_secret', integrations.fernet_encrypt('s' || g), 1 FROM generate_series(1, 10000) g;
       INSERT INTO \"tabOAuth Bearer Token\"(name, access_token, client, \"user\", scopes, expiration_time, expires_in, status)
         SELECT 'tok' || g, 'tok' || g, 'cl1', 'u' || g || '@example.com', 'all openid', now()::timestamp + interval '1 day', 3600, 'Active' FROM generate_series(1, 10000) g" >/dev/null
q $DB "VACUUM ANALYZE" >/dev/null
cat > "$W/plain_token.sql" <<'SQL'
\set r random(1, 10000)
SELECT "user" FROM "tabOAuth Bearer Token" WHERE name = 'tok' || :r;
SQL
cat > "$W/bearer.sql" <<'SQL'
\set r random(1, 10000)
SELECT integrations.validate_bearer_token('tok' || :r);
SQL
cat > "$W/plain_user.sql" <<'SQL'
\set r random(1, 10000)
SELECT name FROM "tabUser" WHERE api_key = 'k' || :r;
SQL
cat > "$W/apikey.sql" <<'SQL'
\set r random(1, 10000)
SELECT user_name FROM integrations.authenticate('token k' || :r::int || chr(58) || 's' || :r::int);
SQL
[ "$(q $DB "SELECT integrations.validate_bearer_token('tok7') || ' ' || (SELECT user_name FROM integrations.authenticate('token k7:s7'))")" = "u7@example.com u7@example.com" ] \
    || { echo "the bench data does not authenticate"; exit 1; }
tps() { "$FI_PGBIN/pgbench" -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$SECS" -f "$W/$1.sql" $DB 2>"$W/$1.err" | sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }
ROUNDS=${BENCH_ROUNDS:-5}
echo "bench/auth: $(nproc) cores, $CLIENTS clients, $ROUNDS alternating rounds of ${SECS} s, 10,000 users and tokens"
# pair() <plain script> <function script>: ROUNDS alternating runs; prints
# the median plain and function tps and the median of the per-round ratios
pair() {
    local p f r ps=() fs=() rs=()
    for ((r = 0; r < ROUNDS; r++)); do
        p=$(tps "$1"); f=$(tps "$2")
        ps+=("$p"); fs+=("$f"); rs+=("$(calc "$f / $p")")
    done
    local list
    list=$(IFS=,; echo "${rs[*]}")
    echo "$(median "${ps[@]}") $(median "${fs[@]}") $(calc "round($(median "${rs[@]}"), 2)") $(calc "round(min([$list]), 2)")-$(calc "round(max([$list]), 2)")"
}
read -r p b r range <<<"$(pair plain_token bearer)"
target "validate_bearer_token / primary-key SELECT" "$r" ">=" 0.8	# SPEC
echo "bearer: plain SELECT by token $p tps, validate_bearer_token $b tps (medians)  ->  $r (rounds $range; target >= 0.8)"
read -r p a r range <<<"$(pair plain_user apikey)"
target "authenticate('token k:s') / SELECT by api_key" "$r" ">=" 0.5
echo "api key: plain SELECT by api_key $p tps, authenticate('token k:s') $a tps (medians)  ->  $r (rounds $range; target >= 0.5)"
[ -n "$a" ] || head -5 "$W/apikey.err"
bench_verdict
