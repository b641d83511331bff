#!/usr/bin/env bash
# The OAuth 2 / OpenID Connect provider through its SQL functions, with a
# real client library on the other side: the authorization-code flow with
# PKCE made by node's crypto, the id_token verified by the npm `jose`
# library (signature, aud, iss, nonce, at_hash), refresh with rotation,
# revoke, introspect, userinfo, implicit and hybrid responses, the password
# grant against a hash python3-passlib made; then every bad input: each
# gives its error, changes no row it should not, and says nothing secret.
source "$FI_ROOT/test/lib.sh"
DB=fi_oauth
newdb $DB
ORACLE="$FI_PY $FI_ROOT/test/oracles.py"
ISS=https://erp.example.com
q $DB "ALTER DATABASE $DB SET frappe_integrations.site_url = '$ISS/'" >/dev/null

JOSE_DIR=$FI_TMP/npm-jose
mkdir -p "$JOSE_DIR"
if ! (cd "$JOSE_DIR" && npm install --no-audit --no-fund --silent jose@5.10.0 >/dev/null 2>&1); then
    _t_result 1 "npm install jose (the npm registry must be reachable)"
    t_done
fi
PEER="env JOSE_DIR=$JOSE_DIR node $FI_ROOT/test/tools/oauth_peer.cjs"
# jf <key>: a key of the JSON on stdin (strings raw, the rest as JSON)
jf() { $FI_PY -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v = v.get(k) if isinstance(v, dict) else None
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$1"; }
token() { q $DB "SELECT integrations.oauth_token(\$j\$$1\$j\$::jsonb)"; }
token_err() { q_err $DB "SELECT integrations.oauth_token(\$j\$$1\$j\$::jsonb)"; }
authorize() { q $DB "SELECT integrations.oauth_authorize('${2:-jane@example.com}', \$j\$$1\$j\$::jsonb)"; }
# every row the provider may touch, to prove a refusal changed nothing
snapshot() { q $DB "SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
    SELECT row(c.*)::text t FROM \"tabOAuth Authorization Code\" c UNION ALL
    SELECT row(b.*)::text FROM \"tabOAuth Bearer Token\" b UNION ALL
    SELECT row(o.*)::text FROM \"tabOAuth Client\" o) s"; }

SECRET=0a1b2c3d4e
SUB=$($FI_PY -c 'import secrets; print(secrets.token_hex(20)[:39])')
q $DB "INSERT INTO \"tabOAuth Client\"(name, client_id, app_name, client_secret, scopes, redirect_uris, default_redirect_uri, grant_type, response_type, skip_authorization) VALUES
        ('cl1', 'cl1', 'App', '$SECRET', 'all openid', 'https://app.example/cb https://app.example/cb?x=1', 'https://app.example/cb', 'Authorization Code', 'Code', 1),
        ('cl2', 'cl2', 'Other', 'f0e1d2c3b4', 'all openid', 'https://other.example/cb', 'https://other.example/cb', 'Authorization Code', 'Code', 0),
        ('spa', 'spa', 'Public SPA', '', 'all openid', 'https://spa.example/cb', 'https://spa.example/cb', 'Authorization Code', 'Code', 0),
        ('imp', 'imp', 'Implicit', 'a1a1a1a1a1', 'all openid', 'https://imp.example/cb', 'https://imp.example/cb', 'Implicit', 'Token', 0),
        ('acc', 'acc', 'Accounts only', '9f9f9f9f9f', 'all', 'https://acc.example/cb', 'https://acc.example/cb', 'Authorization Code', 'Code', 0);
       INSERT INTO \"tabOAuth Client Role\"(name, parent, parenttype, parentfield, idx, role) VALUES
        ('ocr1', 'cl1', 'OAuth Client', 'allowed_roles', 1, 'Desk User'),
        ('ocr2', 'acc', 'OAuth Client', 'allowed_roles', 1, 'Accounts User');
       INSERT INTO \"tabUser Social Login\"(name, parent, parenttype, parentfield, idx, provider, userid) VALUES
        ('usl1', 'jane@example.com', 'User', 'social_logins', 1, 'frappe', '$SUB');
       UPDATE \"tabUser\" SET last_name = 'Doe', user_image = '/files/jane.png' WHERE name = 'jane@example.com'"

# ---- 1. authorization code + PKCE S256 (made by node), then the token endpoint
read -r VERIFIER CHALLENGE <<<"$($PEER pkce)"
A=$(authorize "{\"client_id\": \"cl1\", \"response_type\": \"code\", \"redirect_uri\": \"https://app.example/cb\", \"scope\": \"openid all\", \"state\": \"st 1/2\", \"nonce\": \"n-123\", \"code_challenge\": \"$CHALLENGE\", \"code_challenge_method\": \"S256\"}")
CODE=$(echo "$A" | jf code)
t_like "$CODE" '^[A-Za-z0-9]{30}$' "authorize: a 30-character code (oauthlib's generate_token)"
t_is "$(echo "$A" | jf redirect_to)" "https://app.example/cb?code=$CODE&state=st+1%2F2" "redirect to the registered URI with the code and the state, form-encoded"
t_is "$(q $DB "SELECT concat_ws(' | ', client, \"user\", scopes, validity, redirect_uri_bound_to_authorization_code, nonce, code_challenge = '$CHALLENGE', code_challenge_method, expiration_time - creation, owner) FROM \"tabOAuth Authorization Code\" WHERE name = '$CODE'")" \
     "cl1 | jane@example.com | openid all | Valid | https://app.example/cb | n-123 | t | s256 | 00:10:00 | jane@example.com" \
     "the OAuth Authorization Code row as Frappe writes it (method lower-cased), expiring in 10 minutes"
ISSUED_AFTER=$(date +%s)
T=$(token "{\"grant_type\": \"authorization_code\", \"code\": \"$CODE\", \"redirect_uri\": \"https://app.example/cb\", \"client_id\": \"cl1\", \"client_secret\": \"$SECRET\", \"code_verifier\": \"$VERIFIER\"}")
AT=$(echo "$T" | jf access_token); RT=$(echo "$T" | jf refresh_token); IDT=$(echo "$T" | jf id_token)
t_is "$(echo "$T" | $FI_PY -c 'import json,sys; d=json.load(sys.stdin); print(sorted(d), d["expires_in"], d["token_type"], d["scope"])')" \
     "['access_token', 'expires_in', 'id_token', 'refresh_token', 'scope', 'token_type'] 3600 Bearer openid all" \
     "token response: Frappe's keys, expires_in 3600, Bearer, the granted scopes"
t_like "$AT $RT" '^[A-Za-z0-9]{30} [A-Za-z0-9]{30}$' "access and refresh tokens of 30 characters"
t_is "$(q $DB "SELECT concat_ws(' | ', name = access_token, client, \"user\", scopes, status, expires_in, expiration_time - creation, refresh_token = '$RT', owner) FROM \"tabOAuth Bearer Token\" WHERE name = '$AT'")" \
     "t | cl1 | jane@example.com | openid all | Active | 3600 | 01:00:00 | t | Guest" "the OAuth Bearer Token row as Frappe writes it"
t_is "$(q $DB "SELECT validity FROM \"tabOAuth Authorization Code\" WHERE name = '$CODE'")" "Invalid" "the code is spent"

V=$(printf '{"token": "%s", "secret": "%s", "aud": "cl1", "iss": "%s", "nonce": "n-123", "access_token": "%s"}' "$IDT" "$SECRET" "$ISS" "$AT" | $PEER verify)
t_is "$(echo "$V" | jf ok) $(echo "$V" | jf at_hash_ok) $(echo "$V" | jf nonce_ok)" "true true true" \
     "jose verifies the id_token (HS256 with the client secret, aud, iss), its nonce and at_hash"
t_is "$(echo "$V" | jf header)" '{"alg": "HS256", "typ": "jwt"}' "the JOSE header Frappe writes"
t_is "$(echo "$V" | $FI_PY -c 'import json,sys; c=json.load(sys.stdin)["claims"]; print(c["sub"], c["name"], c["given_name"], c["family_name"], c["email"], c["picture"], ",".join(c["roles"]), c["exp"] - c["iat"])')" \
     "$SUB Jane Doe Jane Doe jane@example.com $ISS/files/jane.png System Manager,All,Guest,Desk User 3600" \
     "id_token claims: Frappe's userinfo (sub from User Social Login, a relative image on the site URL, get_roles) and exp = iat + 3600"
t_is "$(printf '{"token": "%s", "secret": "wrong-secr", "aud": "cl1", "iss": "%s"}' "$IDT" "$ISS" | $PEER verify | jf error)" \
     "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" "and refuses it under another key (the test can fail)"
J=$($PEER sign <<<"{\"claims\": {\"aud\": \"cl1\", \"x\": \"é\"}, \"secret\": \"$SECRET\"}")
t_is "$(q $DB "SELECT integrations.jwt_decode_hs256('$J', '$SECRET') ->> 'x', integrations.jwt_decode_hs256('$J', 'other') IS NULL, integrations.jwt_decode_hs256('$IDT', '$SECRET') ->> 'aud'")" \
     "é|t|cl1" "jwt_decode_hs256 verifies a JWT jose signed and ours; NULL under another key"
DEEP="$(printf '{"a": %.0s' $(seq 3000))1$(printf '}%.0s' $(seq 3000))"
t_like "$(q_err $DB "SELECT integrations.jwt_hs256('$DEEP', 'k')")" "^54001" \
       "claims nested 3,000 deep: a clean 54001 (the engine's depth follows max_stack_depth), the backend lives"
t_is "$(q $DB "SELECT length(integrations.jwt_hs256(('{\"a\": ' || repeat('[', 500) || repeat(']', 500) || '}')::jsonb, 'k')) > 0")" "t" \
     "and 500 deep is signed"

t_is "$(q $DB "SELECT integrations.validate_bearer_token('$AT', ARRAY['openid'])")" "jane@example.com" "the access token authenticates"
U=$(q $DB "SELECT integrations.oauth_userinfo('$AT')")
t_is "$(echo "$U" | $FI_PY -c 'import json,sys; print(sorted(json.load(sys.stdin)))')" \
     "['email', 'family_name', 'given_name', 'iss', 'name', 'picture', 'roles', 'sub']" "userinfo: Frappe's openid_profile keys"
t_is "$(echo "$U" | jf iss) $(echo "$U" | jf sub)" "$ISS $SUB" "userinfo: iss is the site URL, sub the frappe social login"
I=$(q $DB "SELECT integrations.oauth_introspect('$AT')")
t_is "$(echo "$I" | $FI_PY -c 'import json,sys; d=json.load(sys.stdin); print(d["active"], d["client_id"], d["trusted_client"], d["scope"], d["sub"], "email" in d)')" \
     "True cl1 1 openid all $SUB True" "introspect: active, client, trusted_client (skip_authorization), scope, sub and userinfo"
# (between an hour after the token was asked for and an hour from now: no race with a busy machine)
t_is "$(q $DB "SELECT ('$I'::jsonb ->> 'exp')::bigint BETWEEN $ISSUED_AFTER + 3600 - 1 AND extract(epoch FROM now() + interval '1 hour')::bigint + 1")" "t" \
     "introspect: exp is the expiry as a Unix time (the site-local expiration_time converted)"

# ---- 2. refresh rotates: the new pair works, the old one is Revoked
R=$(token "{\"grant_type\": \"refresh_token\", \"refresh_token\": \"$RT\", \"client_id\": \"cl1\", \"client_secret\": \"$SECRET\"}")
AT2=$(echo "$R" | jf access_token); RT2=$(echo "$R" | jf refresh_token)
t_is "$(q $DB "SELECT string_agg(name || '=' || status, ' ' ORDER BY creation, name = '$AT2') FROM \"tabOAuth Bearer Token\" WHERE name IN ('$AT', '$AT2')")" \
     "$AT=Revoked $AT2=Active" "refresh: a new token, the old one Revoked"
t_is "$(q $DB "SELECT coalesce(integrations.validate_bearer_token('$AT'), 'NULL'), integrations.validate_bearer_token('$AT2'), integrations.oauth_introspect('$AT')")" \
     'NULL|jane@example.com|{"active": false}' "the old access token stops working at once; the new one works"
t_is "$(echo "$R" | jf scope) $(test "$RT2" != "$RT" && echo rotated)" "openid all rotated" "a new refresh token, the same scopes"
t_is "$(printf '{"token": "%s", "secret": "%s", "aud": "cl1", "iss": "%s", "access_token": "%s"}' "$(echo "$R" | jf id_token)" "$SECRET" "$ISS" "$AT2" | $PEER verify | jf at_hash_ok)" \
     "true" "the refreshed id_token verifies, at_hash of the new token"
t_is "$(token_err "{\"grant_type\": \"refresh_token\", \"refresh_token\": \"$RT\", \"client_id\": \"cl1\", \"client_secret\": \"$SECRET\"}")" \
     "28000: invalid_grant: the refresh token is invalid, revoked, or was issued to another client" "the old refresh token cannot be used again"
R3=$(token "{\"grant_type\": \"refresh_token\", \"refresh_token\": \"$RT2\", \"scope\": \"all\", \"client_id\": \"cl1\", \"client_secret\": \"$SECRET\"}")
t_is "$(echo "$R3" | jf scope) $(echo "$R3" | jf id_token)" "all null" "refresh with fewer scopes: those, and no id_token without openid"
AT3=$(echo "$R3" | jf access_token); RT3=$(echo "$R3" | jf refresh_token)

# ---- 3. revoke and introspect
t_is "$(q $DB "SELECT integrations.oauth_revoke('$AT3')")" '{}' "revoke an access token: {}"
t_is "$(q $DB "SELECT integrations.oauth_introspect('$AT3'), coalesce(integrations.validate_bearer_token('$AT3'), 'NULL')")" \
     '{"active": false}|NULL' "then it is inactive and refused"
t_is "$(token_err "{\"grant_type\": \"refresh_token\", \"refresh_token\": \"$RT3\", \"client_id\": \"cl1\", \"client_secret\": \"$SECRET\"}" | cut -d: -f1-2)" \
     "28000: invalid_grant" "its refresh token died with it"
T4=$(token "{\"grant_type\": \"password\", \"username\": \"jane@example.com\", \"password\": \"x\", \"client_id\": \"cl1\", \"client_secret\": \"$SECRET\"}" 2>/dev/null)
t_is "$T4" "" "password grant with a wrong password: nothing issued"
HASH=$(echo '[["pässwörd", "pbkdf2_sha256"]]' | $ORACLE passlib-hash | $FI_PY -c 'import json,sys; print(json.load(sys.stdin)[0])')
q $DB "INSERT INTO \"__Auth\" VALUES ('User', 'jane@example.com', 'password', '$HASH', 0)"
PW="\"grant_type\": \"password\", \"username\": \"jane@example.com\", \"password\": \"pässwörd\", \"client_id\": \"cl1\", \"client_secret\": \"$SECRET\""
P=$(token "{$PW, \"scope\": \"all\"}")
AT5=$(echo "$P" | jf access_token); RT5=$(echo "$P" | jf refresh_token)
t_is "$(q $DB "SELECT \"user\" || ' ' || scopes FROM \"tabOAuth Bearer Token\" WHERE name = '$AT5'")" "jane@example.com all" \
     "password grant: the password python3-passlib hashed logs in, a token for its user"
t_is "$(q $DB "SELECT integrations.oauth_introspect('$RT5', 'refresh_token') ->> 'active', integrations.oauth_introspect('$AT5', 'refresh_token') ->> 'active'")" \
     "true|false" "introspect a refresh token with its hint"
t_is "$(q $DB "SELECT integrations.oauth_revoke('$RT5', 'refresh_token')"; q $DB "SELECT status FROM \"tabOAuth Bearer Token\" WHERE name = '$AT5'")" \
     "{}
Revoked" "revoke by refresh token (hint refresh_token)"
P=$(token "{$PW}")
AT6=$(echo "$P" | jf access_token); RT6=$(echo "$P" | jf refresh_token)
q $DB "UPDATE \"tabOAuth Bearer Token\" SET expiration_time = expiration_time - interval '2 hours' WHERE name = '$AT6'"
t_is "$(q $DB "SELECT integrations.oauth_introspect('$AT6'), (SELECT status FROM \"tabOAuth Bearer Token\" WHERE name = '$AT6')")" \
     '{"active": false}|Active' "introspect: an expired token is inactive even while its row says Active (Frappe says active)"
t_is "$(q_err $DB "SELECT integrations.oauth_userinfo('$AT6')")" \
     "28000: invalid_token: the access token is invalid, expired, revoked or lacks the openid scope" "userinfo refuses an expired token"
t_is "$(q $DB "SELECT integrations.oauth_revoke('no-such-token'), integrations.oauth_revoke(''), integrations.oauth_introspect('no-such-token')")" \
     '{}|{}|{"active": false}' "an unknown token: revoke says {} (RFC 7009), introspect inactive"

# ---- 4. public client (no secret): PKCE plain, no id_token to sign
read -r V2 _ <<<"$($PEER pkce)"
A=$(authorize "{\"client_id\": \"spa\", \"response_type\": \"code\", \"scope\": \"all\", \"code_challenge\": \"$V2\", \"code_challenge_method\": \"plain\"}")
C2=$(echo "$A" | jf code)
t_is "$(token "{\"grant_type\": \"authorization_code\", \"code\": \"$C2\", \"client_id\": \"spa\", \"code_verifier\": \"$V2\"}" | jf token_type)" "Bearer" \
     "a public client: PKCE plain, no secret, no redirect_uri (the default was used)"
t_is "$(authorize '{"client_id": "spa", "response_type": "code"}' | jf error)" "invalid_request" "a public client must use PKCE"

# ---- 5. implicit and hybrid responses
A=$(authorize '{"client_id": "imp", "response_type": "token", "state": "s"}')
t_like "$(echo "$A" | jf redirect_to)" '^https://imp\.example/cb#access_token=[A-Za-z0-9]{30}&expires_in=3600&token_type=Bearer&scope=all\+openid&state=s$' \
     "implicit: the token in the fragment"
t_is "$(q $DB "SELECT count(*) FROM \"tabOAuth Bearer Token\" WHERE name = '$(echo "$A" | jf access_token)' AND refresh_token IS NULL AND status = 'Active'")" "1" \
     "implicit: a bearer token row without a refresh token"
A=$(authorize '{"client_id": "imp", "response_type": "id_token token", "nonce": "nn", "state": "s"}')
V=$(printf '{"token": "%s", "secret": "a1a1a1a1a1", "aud": "imp", "iss": "%s", "nonce": "nn", "access_token": "%s"}' "$(echo "$A" | jf id_token)" "$ISS" "$(echo "$A" | jf access_token)" | $PEER verify)
t_is "$(echo "$V" | jf ok) $(echo "$V" | jf at_hash_ok) $(echo "$V" | jf nonce_ok)" "true true true" "id_token token: jose verifies the id_token, nonce, at_hash"
A=$(authorize '{"client_id": "cl1", "response_type": "code id_token", "nonce": "hy"}')
V=$(printf '{"token": "%s", "secret": "%s", "aud": "cl1", "iss": "%s", "nonce": "hy", "code": "%s"}' "$(echo "$A" | jf id_token)" "$SECRET" "$ISS" "$(echo "$A" | jf code)" | $PEER verify)
t_is "$(echo "$V" | jf ok) $(echo "$V" | jf c_hash_ok)" "true true" "code id_token: jose verifies the id_token and its c_hash"
t_is "$(authorize '{"client_id": "imp", "response_type": "id_token"}' | jf error)" "invalid_request" "an id_token from the authorization endpoint needs a nonce"
t_is "$(authorize '{"client_id": "cl1", "response_type": "token"}' | jf error)" "unsupported_response_type" "a code client cannot ask for a token"

# ---- 6. the bad-input matrix: each refused with its error, nothing changed
read -r VERIFIER CHALLENGE <<<"$($PEER pkce)"
C1=$(authorize "{\"client_id\": \"cl1\", \"response_type\": \"code\", \"redirect_uri\": \"https://app.example/cb?x=1\", \"code_challenge\": \"$CHALLENGE\", \"code_challenge_method\": \"S256\"}" | jf code)
CO=$(authorize '{"client_id": "cl2", "response_type": "code"}' | jf code)
GOOD="\"client_id\": \"cl1\", \"client_secret\": \"$SECRET\""
BEFORE=$(snapshot)
check() {	# check <params> <expected error> <description>
    t_is "$(token_err "$1")" "$2" "$3"
}
BADGRANT="28000: invalid_grant: the authorization code is invalid, expired, already used, or was issued to another client or redirect URI"
BADCLIENT="28000: invalid_client: client authentication failed"
check '{}' "22023: invalid_request: grant_type is missing" "no grant_type"
check '{"grant_type": ""}' "22023: invalid_request: grant_type is missing" "an empty grant_type is a missing one"
check '{"grant_type": "client_credentials", "client_id": "cl1"}' "22023: unsupported_grant_type: grant_type must be authorization_code, refresh_token or password" "client_credentials (Frappe refuses it too)"
check '{"grant_type": "authorization_code", "code": "x"}' "22023: invalid_request: client_id is missing" "no client_id"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"client_id\": \"cl1\", \"code_verifier\": \"$VERIFIER\", \"redirect_uri\": \"https://app.example/cb?x=1\"}" "$BADCLIENT" "no client secret (Frappe never checks it)"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"client_id\": \"cl1\", \"client_secret\": \"0a1b2c3d4f\", \"code_verifier\": \"$VERIFIER\", \"redirect_uri\": \"https://app.example/cb?x=1\"}" "$BADCLIENT" "a wrong client secret"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"client_id\": \"nobody\", \"client_secret\": \"$SECRET\"}" "$BADCLIENT" "an unknown client: the same answer"
check "{\"grant_type\": \"authorization_code\", $GOOD}" "22023: invalid_request: code is missing" "no code"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$CO\", $GOOD}" "$BADGRANT" "the code of another client"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"code_verifier\": \"$VERIFIER\", $GOOD}" "$BADGRANT" "no redirect_uri for a code bound to a non-default one"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"code_verifier\": \"$VERIFIER\", \"redirect_uri\": \"https://app.example/cb\", $GOOD}" "$BADGRANT" "another registered redirect_uri"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"redirect_uri\": \"https://app.example/cb?x=1\", $GOOD}" "$BADGRANT" "no code_verifier for a PKCE code (Frappe deletes the code; we keep it)"
# change the verifier's last character (to one it is not: a fixed 'A' would be no change one time in 64)
WRONGV="${VERIFIER%?}A"; [ "$WRONGV" = "$VERIFIER" ] && WRONGV="${VERIFIER%?}B"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"code_verifier\": \"$WRONGV\", \"redirect_uri\": \"https://app.example/cb?x=1\", $GOOD}" "$BADGRANT" "a wrong code_verifier"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"code_verifier\": \"$CHALLENGE\", \"redirect_uri\": \"https://app.example/cb?x=1\", $GOOD}" "$BADGRANT" "the challenge sent as the verifier"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"code_verifier\": \"short\", \"redirect_uri\": \"https://app.example/cb?x=1\", $GOOD}" "22023: invalid_request: code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~" "a malformed code_verifier"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$(head -c 300 /dev/zero | tr '\0' a)\", $GOOD}" "22023: invalid_request: parameter code is longer than 255 characters" "a code too long"
check "{\"grant_type\": \"authorization_code\", \"code\": 12345, $GOOD}" "22023: invalid_request: parameter code must be a string" "a code that is not a string"
check '["grant_type"]' "22023: invalid_request: the parameters must be a JSON object" "parameters that are not an object"
check "{\"grant_type\": \"authorization_code\", \"code\": \"x' OR '1'='1\", $GOOD}" "$BADGRANT" "SQL in the code is a code"
check "{\"grant_type\": \"refresh_token\", \"refresh_token\": \"x' OR ''='\", $GOOD}" "28000: invalid_grant: the refresh token is invalid, revoked, or was issued to another client" "SQL in the refresh token"
check "{\"grant_type\": \"refresh_token\", \"refresh_token\": \"$RT6\", \"client_id\": \"cl2\", \"client_secret\": \"f0e1d2c3b4\"}" "28000: invalid_grant: the refresh token is invalid, revoked, or was issued to another client" "another client's refresh token"
check "{\"grant_type\": \"refresh_token\", $GOOD}" "22023: invalid_request: refresh_token is missing" "no refresh_token"
check "{\"grant_type\": \"refresh_token\", \"refresh_token\": \"$RT6\", \"scope\": \"all admin\", $GOOD}" "22023: invalid_scope: a scope asked for was not granted to this refresh token" "a wider scope on refresh"
check "{\"grant_type\": \"password\", \"username\": \"jane@example.com\", \"password\": \"wrong\", $GOOD}" "28000: invalid_grant: the username or password is not valid" "a wrong password"
check "{\"grant_type\": \"password\", \"username\": \"nobody@example.com\", \"password\": \"pässwörd\", $GOOD}" "28000: invalid_grant: the username or password is not valid" "an unknown user: the same answer"
check "{\"grant_type\": \"password\", \"username\": \"' OR 1=1 --\", \"password\": \"x\", $GOOD}" "28000: invalid_grant: the username or password is not valid" "SQL in the username"
check "{\"grant_type\": \"password\", \"username\": \"jane@example.com\", $GOOD}" "22023: invalid_request: username and password are required" "no password"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"authorization\": \"Basic !!!\"}" "22023: invalid_request: the authorization parameter is not HTTP Basic credentials" "Basic credentials that are not base64"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"authorization\": \"Basic $(printf 'cl1' | base64)\"}" "22023: invalid_request: the authorization parameter is not HTTP Basic credentials" "Basic credentials without a colon"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"authorization\": \"Basic $(printf 'cl1:wrong' | base64)\"}" "$BADCLIENT" "Basic credentials with a wrong secret"
t_is "$(snapshot)" "$BEFORE" "none of these refusals changed a code, a token or a client"
t_is "$(q $DB "SELECT string_agg(validity, ' ' ORDER BY name = '$C1') FROM \"tabOAuth Authorization Code\" WHERE name IN ('$C1', '$CO')")" "Valid Valid" \
     "a failed exchange burnt neither this client's code nor another client's"
T=$(token "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"code_verifier\": \"$VERIFIER\", \"redirect_uri\": \"https://app.example/cb?x=1\", \"authorization\": \"Basic $(printf "cl1:$SECRET" | base64)\"}")
t_like "$(echo "$T" | jf access_token)" '^[A-Za-z0-9]{30}$' "after all that the code still works, once (client authenticated by HTTP Basic)"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"code_verifier\": \"$VERIFIER\", \"redirect_uri\": \"https://app.example/cb?x=1\", $GOOD}" "$BADGRANT" "and a second exchange of it is refused"
t_is "$(token "{\"grant_type\": \"authorization_code\", \"code\": \"$CO\", \"client_id\": \"cl2\", \"client_secret\": \"f0e1d2c3b4\"}" | jf token_type)" "Bearer" "the other client's code still works for it"
C3=$(authorize '{"client_id": "cl1", "response_type": "code"}' | jf code)
q $DB "UPDATE \"tabOAuth Authorization Code\" SET expiration_time = creation - interval '1 second' WHERE name = '$C3'"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C3\", $GOOD}" "$BADGRANT" "an expired code"
C4=$(authorize '{"client_id": "cl1", "response_type": "code"}' | jf code)
q $DB "UPDATE \"tabOAuth Authorization Code\" SET expiration_time = NULL, creation = creation - interval '11 minutes' WHERE name = '$C4'"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C4\", $GOOD}" "$BADGRANT" "a code Frappe wrote (no expiration_time) 11 minutes old"

# two sessions exchange one code at the same moment: one token
C5=$(authorize '{"client_id": "cl1", "response_type": "code"}' | jf code)
P5="{\"grant_type\": \"authorization_code\", \"code\": \"$C5\", $GOOD}"
( "$FI_PGBIN/psql" -X -A -t -q -d $DB -c "BEGIN; SELECT integrations.oauth_token(\$j\$$P5\$j\$::jsonb) ->> 'token_type'; SELECT pg_sleep(1); COMMIT" >"$FI_TMP/race1" 2>&1 ) &
sleep 0.3
token_err "$P5" >"$FI_TMP/race2"
wait
t_is "$(grep -c Bearer "$FI_TMP/race1") $(cat "$FI_TMP/race2")" "1 $BADGRANT" "two exchanges of one code at once: the second waits and is refused"

# authorize refusals that must not redirect, and those that must
AB=$(snapshot)
t_is "$(q_err $DB "SELECT integrations.oauth_authorize('jane@example.com', '{\"client_id\": \"nobody\", \"response_type\": \"code\"}')")" \
     "28000: invalid_client: client_id is missing or not an OAuth Client" "authorize: an unknown client is raised, not redirected"
t_is "$(q_err $DB "SELECT integrations.oauth_authorize('jane@example.com', '{\"client_id\": \"cl1\", \"response_type\": \"code\", \"redirect_uri\": \"https://evil.example/cb\"}')")" \
     "22023: invalid_request: redirect_uri is not registered for this client" "authorize: an unregistered redirect_uri is raised, not redirected"
t_is "$(q_err $DB "SELECT integrations.oauth_authorize('disabled@example.com', '{\"client_id\": \"cl1\", \"response_type\": \"code\"}')")" \
     "28000: access_denied: the user is not logged in, does not exist or is disabled" "authorize: a disabled user"
t_is "$(q_err $DB "SELECT integrations.oauth_authorize('Guest', '{\"client_id\": \"cl1\", \"response_type\": \"code\"}')" | cut -d: -f1-2)" \
     "28000: access_denied" "authorize: Guest"
t_is "$(q_err $DB "SELECT integrations.oauth_authorize('jane@example.com', '{\"client_id\": \"acc\", \"response_type\": \"code\"}')")" \
     "42501: access_denied: user jane@example.com has none of the roles allowed for OAuth Client acc" "authorize: a user without an allowed role"
t_is "$(authorize '{"client_id": "cl1", "response_type": "code", "scope": "all admin", "state": "z"}' | jf redirect_to)" \
     "https://app.example/cb?error=invalid_scope&error_description=a+scope+asked+for+is+not+one+of+the+client%27s&state=z" "authorize: a scope beyond the client's goes back as an error redirect"
t_is "$(authorize '{"client_id": "cl1", "response_type": "code", "code_challenge": "abc", "code_challenge_method": "S256"}' | jf error)" "invalid_request" "authorize: a malformed code_challenge"
t_is "$(authorize '{"client_id": "cl1", "response_type": "code", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S512"}' | jf error)" "invalid_request" "authorize: an unknown code_challenge_method"
t_is "$(authorize '{"client_id": "cl1"}' | jf error_description)" "response_type is missing" "authorize: no response_type"
t_is "$(snapshot)" "$AB" "none of the refused or redirected authorizations wrote a row"
A=$(authorize "{\"client_id\": \"cl1\", \"response_type\": \"code\", \"state\": \"'; DROP TABLE x; --\", \"nonce\": \"\\\\' OR 1=1\"}")
t_like "$(echo "$A" | jf redirect_to)" "^https://app\.example/cb\?code=[A-Za-z0-9]{30}&state=%27%3B\+DROP\+TABLE\+x%3B\+--$" "SQL in the state is a state, form-encoded"
t_is "$(q $DB "SELECT nonce FROM \"tabOAuth Authorization Code\" WHERE name = '$(echo "$A" | jf code)'")" "\\' OR 1=1" "SQL in the nonce is stored as a nonce"
t_like "$(q_err $DB "SELECT integrations.oauth_authorize('jane'' OR ''1''=''1', '{\"client_id\": \"cl1\", \"response_type\": \"code\"}')")" "^28000: access_denied" "SQL in the user name"

# ---- 7. discovery
C=$(q $DB "SELECT integrations.oauth_openid_configuration()")
t_is "$(echo "$C" | jf issuer) $(echo "$C" | jf token_endpoint) $(echo "$C" | jf id_token_signing_alg_values_supported)" \
     "$ISS $ISS/api/method/frappe.integrations.oauth2.get_token [\"HS256\"]" "openid configuration: the site URL as issuer, Frappe's endpoints"
t_is "$(q $DB "SELECT integrations.oauth_openid_configuration('https://other.example/') ->> 'introspection_endpoint'")" \
     "https://other.example/api/method/frappe.integrations.oauth2.introspect_token" "openid configuration for a given base URL"
t_is "$(PGOPTIONS='-c frappe_integrations.site_url=' q_err $DB "SELECT integrations.oauth_issuer()")" "55000: the site's URL is not known" \
     "no site URL: a clear error, not an empty issuer"

# ---- 7b. the consent question (OAuth Provider Settings, a Single)
t_is "$(q $DB "SELECT integrations.oauth_needs_consent('jane@example.com', 'cl1'), integrations.oauth_needs_consent('jane@example.com', 'cl2')")" "f|t" \
     "consent: not for a client that skips authorization; asked otherwise (Provider Settings unset = Force)"
q $DB "INSERT INTO \"tabSingles\" VALUES ('OAuth Provider Settings', 'skip_authorization', 'Auto')"
t_is "$(q $DB "SELECT integrations.oauth_needs_consent('jane@example.com', 'cl2'), integrations.oauth_needs_consent('api@example.com', 'cl2')")" "f|t" \
     "consent with Auto: not asked again of a user holding an Active token of the client; asked of another user"

# ---- 7c. SQL meta-characters in every argument: refused as values, nothing changed
EVIL="x''); DELETE FROM \\\"tabOAuth Bearer Token\\\"; --"
BEFORE=$(snapshot)
for k in grant_type code redirect_uri code_verifier client_id client_secret refresh_token scope username password; do
    out=$(token_err "{\"grant_type\": \"authorization_code\", \"code\": \"$C5\", \"client_id\": \"cl1\", \"client_secret\": \"$SECRET\", \"$k\": \"$EVIL\"}")
    t_like "$out" "^(22023|28000): (invalid_request|invalid_grant|invalid_client|unsupported_grant_type): " "SQL in $k: an OAuth error, nothing run"
done
t_is "$(q $DB "SELECT integrations.oauth_revoke('$EVIL'), integrations.oauth_revoke('$EVIL', '$EVIL'), integrations.oauth_introspect('$EVIL', '$EVIL')")" \
     '{}|{}|{"active": false}' "SQL in revoke's and introspect's arguments"
t_like "$(q_err $DB "SELECT integrations.oauth_userinfo('$EVIL')")" "^28000: invalid_token" "SQL in userinfo's token"
t_like "$(q_err $DB "SELECT integrations.oauth_authorize('jane@example.com', '{\"client_id\": \"$EVIL\", \"response_type\": \"code\"}')")" "^28000: invalid_client" "SQL in authorize's client_id"
t_is "$(snapshot)" "$BEFORE" "and no row changed"

# ---- 8. who may call what: no function PUBLIC may run reads a secret
q $DB "CREATE ROLE fi_oauth_plain LOGIN; GRANT USAGE ON SCHEMA integrations TO fi_oauth_plain" >/dev/null
for f in "oauth_needs_consent('a', 'b')" "oauth_token('{}')" "oauth_authorize('a', '{}')" "oauth_revoke('x')" "oauth_introspect('x')" "oauth_userinfo('x')" "oauth_client('cl1')" "oauth_authenticate_client('{}')" "get_password('User', 'a')" "check_password('a', 'b')"; do
    t_like "$(PGOPTIONS= PGUSER=fi_oauth_plain q_err $DB "SELECT integrations.$f")" "^42501: permission denied for function" "a plain role cannot call $f"
done
t_is "$(q $DB "SELECT string_agg(p.proname, ' ' ORDER BY p.proname) FROM pg_proc p WHERE p.pronamespace = 'integrations'::regnamespace
               AND has_function_privilege('fi_oauth_plain', p.oid, 'EXECUTE') AND p.proname ~ '^(oauth|jwt|secure|url|user_roles)'")" \
     "jwt_decode_hs256 jwt_hs256 oauth_authorize_rules oauth_basic_credentials oauth_code_exchange_ok oauth_fail oauth_grant_type oauth_half_hash oauth_openid_configuration oauth_param oauth_pkce_syntax oauth_redirect oauth_redirect_uri oauth_scopes secure_compare url_encode" \
     "the provider functions a plain role may run: pure ones only (no table, no secret)"
t_is "$(PGOPTIONS= PGUSER=fi_oauth_plain q $DB "SELECT integrations.url_encode('a b/é'), integrations.secure_compare('abc', 'abc'), integrations.secure_compare('abc', 'abd')")" \
     "a+b%2F%C3%A9|t|f" "url_encode and secure_compare"
t_done
