#!/usr/bin/env bash
# Connected App (Frappe as an OAuth client) against a local provider
# (test/tools/http_peer.py): the OpenID configuration fetched, the
# authorization URL (state, PKCE S256, query parameters), the callback's
# code exchange (the verifier the provider got matches the challenge), the
# tokens stored as Frappe stores them (python3-cryptography decrypts them),
# one refresh for eight sessions asking at the same moment, "re-authorisation
# required" when the refresh is refused, client-credentials tokens.
source "$FI_ROOT/test/lib.sh"
DB=fi_capp
newdb $DB
ORACLE="$FI_PY $FI_ROOT/test/oracles.py"
KEY=$($ORACLE fernet-key)
export PGOPTIONS="-c frappe_integrations.encryption_key=$KEY"
q $DB "ALTER DATABASE $DB SET frappe_integrations.site_url = 'https://erp.example.com'" >/dev/null
http_peer capp
trap 'kill $PEER_PID 2>/dev/null' EXIT
state() { $FI_PY -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' "$U/oauth/state"; }
jf() { $FI_PY -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v = v.get(k) if isinstance(v, dict) else None
print(v if isinstance(v, str) else json.dumps(v))' "$1"; }

q $DB "INSERT INTO \"tabConnected App\"(name, provider_name, client_id, openid_configuration) VALUES ('capp1', 'Local IdP', 'app-client', '$U/.well-known/openid-configuration');
       INSERT INTO \"tabOAuth Scope\"(name, parent, parenttype, parentfield, idx, scope) VALUES ('s1', 'capp1', 'Connected App', 'scopes', 1, 'read'), ('s2', 'capp1', 'Connected App', 'scopes', 2, 'write');
       INSERT INTO \"tabQuery Parameters\"(name, parent, parenttype, parentfield, idx, key, value) VALUES ('q1', 'capp1', 'Connected App', 'query_parameters', 1, 'access_type', 'offline');
       SELECT integrations.set_password('Connected App', 'capp1', 'client_secret', 'app-secret')" >/dev/null

q $DB "SELECT integrations.connected_app_fetch_openid_configuration('capp1')" >/dev/null
t_is "$(q $DB "SELECT concat_ws(' ', authorization_uri, token_uri, userinfo_uri, revocation_uri, introspection_uri) FROM \"tabConnected App\" WHERE name = 'capp1'")" \
     "$U/oauth/authorize $U/oauth/token $U/oauth/userinfo $U/oauth/revoke $U/oauth/introspect" "the OpenID configuration fills the URIs"

URL=$(q $DB "SELECT integrations.connected_app_authorize_url('capp1', 'jane@example.com', '/app/home')")
read -r STATE CHALLENGE <<<"$($FI_PY - "$URL" <<'PY'
import sys
from urllib.parse import urlsplit, parse_qs
u = urlsplit(sys.argv[1]); q = {k: v[0] for k, v in parse_qs(u.query).items()}
ok = (u.path == "/oauth/authorize" and q["response_type"] == "code" and q["client_id"] == "app-client"
      and q["redirect_uri"] == "https://erp.example.com/api/method/frappe.integrations.doctype.connected_app.connected_app.callback/capp1"
      and q["scope"] == "read write" and q["code_challenge_method"] == "S256" and q["access_type"] == "offline"
      and len(q["state"]) == 30)
print(q["state"] if ok else "BAD", q.get("code_challenge"))
PY
)"
t_like "$STATE" '^[A-Za-z0-9]{30}$' "authorization URL: code, client_id, Frappe's redirect_uri, scopes, a 30-char state, PKCE S256, the query parameters"
t_is "$(q $DB "SELECT concat_ws(' | ', \"user\", connected_app, provider_name, state = '$STATE', success_uri) FROM \"tabToken Cache\" WHERE name = 'capp1-jane@example.com'")" \
     "jane@example.com | capp1 | Local IdP | t | /app/home" "the user's Token Cache (named <app>-<user>) keeps the state"
t_is "$(q_err $DB "SELECT integrations.connected_app_callback('code-1', 'not-the-state')")" \
     "28000: Invalid token state! Check if the token has been created by the OAuth user." "a callback with another state is refused"
t_is "$(q $DB "SELECT integrations.connected_app_callback('code-1', '$STATE')")" "/app/home" "the callback exchanges the code and returns the success URI"
S=$(state)
t_is "$(echo "$S" | $FI_PY -c 'import json,sys,hashlib,base64; f=json.load(sys.stdin)["forms"]["authorization_code"]; v=f["code_verifier"]
print(f["code"], f["client_id"], f["client_secret"], f["access_type"], base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b"=").decode() == sys.argv[1])' "$CHALLENGE")" \
     "code-1 app-client app-secret offline True" "the provider got the code, the client id and secret, the query parameters, and the verifier of the challenge"
t_is "$(q $DB "SELECT concat_ws(' | ', token_type, expires_in, coalesce(state, 'NULL'), access_token, refresh_token) FROM \"tabToken Cache\" WHERE name = 'capp1-jane@example.com'")" \
     "Bearer | 3600 | NULL | **** | ****" "Token Cache: token type, expires_in, state cleared, the Password columns masked"
TOK=$(q $DB "SELECT password FROM \"__Auth\" WHERE doctype = 'Token Cache' AND name = 'capp1-jane@example.com' AND fieldname = 'access_token'")
t_is "$(printf '["%s"]' "$TOK" | $ORACLE fernet-decrypt "$KEY" | tr -d ' ')" '["at-1"]' "python3-cryptography decrypts the stored access token"
t_is "$(q $DB "SELECT string_agg(scope, ' ' ORDER BY idx) FROM \"tabOAuth Scope\" WHERE parent = 'capp1-jane@example.com'"), $(q $DB "SELECT count(*) FROM \"__Auth\" WHERE fieldname = 'code_verifier'")" \
     "read write, 0" "the granted scopes stored; the PKCE verifier gone"

t_is "$(q $DB "SELECT integrations.connected_app_token('capp1', 'jane@example.com')") $(state | jf counts.refresh_token)" "at-1 null" "a valid token is returned as it is (no refresh)"

# expired: eight sessions at once, one refresh
q $DB "UPDATE \"tabToken Cache\" SET modified = modified - interval '2 hours' WHERE name = 'capp1-jane@example.com'"
for i in 1 2 3 4 5 6 7 8; do
    "$FI_PGBIN/psql" -X -A -t -q -d $DB -c "SELECT integrations.connected_app_token('capp1', 'jane@example.com')" > "$FI_TMP/capp.$i" 2>&1 &
done
wait $(jobs -p | grep -v "^$PEER_PID$") 2>/dev/null
sleep 0.2
t_is "$(cat "$FI_TMP"/capp.[1-8] | sort | uniq -c | sed 's/^ *//') | $(state | jf counts.refresh_token)" "8 at-2 | 1" \
     "an expired token: eight sessions asking at once get the same new token from one refresh"
t_is "$(state | $FI_PY -c 'import json,sys; f=json.load(sys.stdin)["forms"]["refresh_token"]; print(f["refresh_token"], f["client_id"], f["client_secret"], f["scope"], f["redirect_uri"].endswith("/capp1"))')" \
     "rt-1 app-client app-secret read write True" "the refresh sent the refresh token, client, secret, scopes and redirect URI"

# the app's own redirect_uri (Frappe writes it on save): no site_url needed
CB=https://frappe.example.org/api/method/frappe.integrations.doctype.connected_app.connected_app.callback/capp1
q $DB "ALTER DATABASE $DB RESET frappe_integrations.site_url" >/dev/null
q $DB "UPDATE \"tabConnected App\" SET redirect_uri = '$CB' WHERE name = 'capp1';
       UPDATE \"tabToken Cache\" SET modified = modified - interval '2 hours' WHERE name = 'capp1-jane@example.com'" >/dev/null
t_like "$(q $DB "SELECT integrations.connected_app_token('capp1', 'jane@example.com')")" '^at-[0-9]+$' \
       "without frappe_integrations.site_url, a Connected App with its redirect_uri refreshes its token"
t_is "$(state | $FI_PY -c 'import json,sys; print(json.load(sys.stdin)["forms"]["refresh_token"]["redirect_uri"])')" "$CB" \
     "with the app's own redirect_uri"
q $DB "ALTER DATABASE $DB SET frappe_integrations.site_url = 'https://erp.example.com'" >/dev/null
q $DB "UPDATE \"tabConnected App\" SET redirect_uri = NULL WHERE name = 'capp1'" >/dev/null

q $DB "SELECT integrations.set_password('Token Cache', 'capp1-jane@example.com', 'refresh_token', 'rt-revoked');
       UPDATE \"tabToken Cache\" SET modified = modified - interval '2 hours' WHERE name = 'capp1-jane@example.com'" >/dev/null
t_is "$(q_err $DB "SELECT integrations.connected_app_token('capp1', 'jane@example.com')")" \
     "28000: re-authorisation required: the token of Connected App capp1 for user jane@example.com could not be refreshed" "a refused refresh: re-authorisation required"
t_is "$(q_err $DB "SELECT integrations.connected_app_token('capp1', 'api@example.com')")" \
     "28000: re-authorisation required: user api@example.com has not connected Connected App capp1" "a user who never connected"

# client credentials (the app's own token), reused until it expires
T1=$(q $DB "SELECT integrations.connected_app_token('capp1')"); T2=$(q $DB "SELECT integrations.connected_app_token('capp1')")
t_is "$T1 $([ "$T1" = "$T2" ] && echo same) $(state | jf counts.client_credentials) $(q $DB "SELECT count(*) FROM \"tabToken Cache\" WHERE name = 'capp1-' AND \"user\" IS NULL")" \
     "$T1 same 1 1" "client credentials: one token request (HTTP Basic), cached in Token Cache '<app>-' without a user"
t_like "$T1" '^at-[0-9]+$' "the client-credentials token"

# an https token endpoint: refused with an unknown CA, used once ca_bundle trusts it
q $DB "UPDATE \"tabConnected App\" SET token_uri = 'https://127.0.0.1:$PS/oauth/token' WHERE name = 'capp1'"
q $DB "UPDATE \"tabToken Cache\" SET modified = modified - interval '2 hours' WHERE name = 'capp1-'"
t_like "$(q_err $DB "SELECT integrations.connected_app_token('capp1')")" "^08006: HTTP request to 127.0.0.1 failed: .*(certificate|SSL)" "https token_uri with an unknown CA: refused"
q $DB "ALTER SYSTEM SET frappe_integrations.ca_bundle = '$CERTS/ca.pem'"; q $DB "SELECT pg_reload_conf()" >/dev/null; sleep 0.5
T3=$(q $DB "SELECT integrations.connected_app_token('capp1')")
q $DB "ALTER SYSTEM RESET frappe_integrations.ca_bundle"; q $DB "SELECT pg_reload_conf()" >/dev/null
t_is "$([ "$T3" != "$T1" ] && echo new) $(state | jf counts.client_credentials)" "new 2" "over https, trusted through ca_bundle: a fresh client-credentials token"

q $DB "UPDATE \"tabConnected App\" SET token_uri = 'http://idp.example.com/token' WHERE name = 'capp1'"
q $DB "UPDATE \"tabToken Cache\" SET modified = modified - interval '2 hours' WHERE name = 'capp1-'"
t_is "$(q_err $DB "SELECT integrations.connected_app_token('capp1')")" "22023: the token_uri of Connected App capp1 must be https" "a plain-http token endpoint off the loopback is refused"
t_is "$(q_err $DB "SELECT integrations.connected_app_token('nope', 'jane@example.com')")" "P0002: Connected App nope not found" "an unknown app"
t_done
