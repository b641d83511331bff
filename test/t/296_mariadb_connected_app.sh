#!/usr/bin/env bash
# MariaDB, part 3 (issue 20, point 4): Connected App (Frappe as an OAuth
# client) in a site's database against the local provider
# (test/tools/http_peer.py), as test/t/150 on PostgreSQL: the OpenID
# configuration fetched, the authorization URL (state, PKCE S256, query
# parameters), the callback's code exchange (the verifier the provider got
# matches the challenge), the tokens stored as Frappe stores them
# (python3-cryptography decrypts them), one refresh for eight sessions
# asking at the same moment, "re-authorisation required" when the refresh
# is refused, client-credentials tokens, https through the server's
# ca_bundle, who may call.
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
ORACLE="$FI_PY $FI_ROOT/test/oracles.py"
KEY=$($ORACLE fernet-key)
make -s -C "$FI_ROOT" mariadb >/dev/null
MD=$FI_TMP/mariadb_capp
rm -rf "$MD"
http_peer mdb_capp
trap 'kill $PEER_PID 2>/dev/null; mdb_stop' EXIT
mdb_start "$MD"
mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null | mariadb --no-defaults --socket="$MDB_SOCK" -u root mysql
mdb_site _site1 pw-_site1
mdb "CREATE USER plain@localhost IDENTIFIED BY 'pw-plain'; GRANT EXECUTE ON _site1.* TO plain@localhost; GRANT SELECT ON _site1.* TO plain@localhost"
printf '{"db_name": "_site1", "encryption_key": "%s"}\n' "$KEY" > "$MD/site1.json"
chmod 600 "$MD/site1.json"
"$FI_ROOT/bin/frappe-integrations" install --socket "$MDB_SOCK" --user root --plugin-dir "$MDB_PLUGIN" \
    --site _site1 --site-user _site1 --key-file "$MD/site1.json" --site-url https://erp.example.com >/dev/null
as() { mariadb --no-defaults --socket="$MDB_SOCK" -u "$1" -p"pw-$1" -D _site1 -N -B -r -e "$2" 2>&1; }
s1() { as _site1 "$1"; }
s1_err() { s1 "$1" | mdb_sqlstate; }
state() { $FI_PY -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' "$U/oauth/state"; }
jf() { $FI_PY -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v = v.get(k) if isinstance(v, dict) else None
print(v if isinstance(v, str) else json.dumps(v))' "$1"; }

s1 "INSERT INTO \`tabConnected App\`(name, provider_name, client_id, openid_configuration) VALUES ('capp1', 'Local IdP', 'app-client', '$U/.well-known/openid-configuration');
    INSERT INTO \`tabOAuth Scope\`(name, parent, parenttype, parentfield, idx, scope) VALUES ('s1', 'capp1', 'Connected App', 'scopes', 1, 'read'), ('s2', 'capp1', 'Connected App', 'scopes', 2, 'write');
    INSERT INTO \`tabQuery Parameters\`(name, parent, parenttype, parentfield, idx, \`key\`, value) VALUES ('q1', 'capp1', 'Connected App', 'query_parameters', 1, 'access_type', 'offline');
    CALL set_password('Connected App', 'capp1', 'client_secret', 'app-secret')"

C=$(s1 "SELECT connected_app_fetch_openid_configuration('capp1')")
t_is "$(echo "$C" | jf token_endpoint) | $(s1 "SELECT CONCAT_WS(' ', authorization_uri, token_uri, userinfo_uri, revocation_uri, introspection_uri) FROM \`tabConnected App\` WHERE name = 'capp1'")" \
     "$U/oauth/token | $U/oauth/authorize $U/oauth/token $U/oauth/userinfo $U/oauth/revoke $U/oauth/introspect" "the OpenID configuration fills the URIs"

URL=$(s1 "SELECT connected_app_authorize_url('capp1', 'jane@example.com', '/app/home')")
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
t_like "$STATE" '^[A-Za-z0-9]{30}$' "authorization URL: code, client_id, Frappe's redirect_uri on the site's URL, scopes, a 30-char state, PKCE S256, the query parameters"
t_is "$(s1 "SELECT CONCAT_WS(' | ', user, connected_app, provider_name, state = '$STATE', success_uri) FROM \`tabToken Cache\` WHERE name = 'capp1-jane@example.com'")" \
     "jane@example.com | capp1 | Local IdP | 1 | /app/home" "the user's Token Cache (named <app>-<user>) keeps the state"
t_is "$(s1_err "SELECT connected_app_callback('code-1', 'not-the-state')") | $(s1_err "SELECT connected_app_callback('code-1', UPPER('$STATE'))" | cut -d: -f1)" \
     "28000: Invalid token state! Check if the token has been created by the OAuth user. | 28000" "a callback with another state (or this one in capitals) is refused"
t_is "$(s1 "SELECT connected_app_callback('code-1', '$STATE')")" "/app/home" "the callback exchanges the code and returns the success URI"
S=$(state)
t_is "$(echo "$S" | $FI_PY -c 'import json,sys,hashlib,base64; f=json.load(sys.stdin)["forms"]["authorization_code"]; v=f["code_verifier"]
print(f["code"], f["client_id"], f["client_secret"], f["access_type"], base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b"=").decode() == sys.argv[1])' "$CHALLENGE")" \
     "code-1 app-client app-secret offline True" "the provider got the code, the client id and secret, the query parameters, and the verifier of the challenge"
t_is "$(s1 "SELECT CONCAT_WS(' | ', token_type, expires_in, COALESCE(state, 'NULL'), access_token, refresh_token) FROM \`tabToken Cache\` WHERE name = 'capp1-jane@example.com'")" \
     "Bearer | 3600 | NULL | **** | ****" "Token Cache: token type, expires_in, state cleared, the Password columns masked"
TOK=$(s1 "SELECT password FROM __Auth WHERE doctype = 'Token Cache' AND name = 'capp1-jane@example.com' AND fieldname = 'access_token'")
t_is "$(printf '["%s"]' "$TOK" | $ORACLE fernet-decrypt "$KEY" | tr -d ' ')" '["at-1"]' "python3-cryptography decrypts the stored access token"
t_is "$(s1 "SELECT GROUP_CONCAT(scope ORDER BY idx SEPARATOR ' ') FROM \`tabOAuth Scope\` WHERE parent = 'capp1-jane@example.com'"), $(s1 "SELECT COUNT(*) FROM __Auth WHERE fieldname = 'code_verifier'")" \
     "read write, 0" "the granted scopes stored; the PKCE verifier gone"
t_is "$(s1_err "SELECT connected_app_callback('code-1', '$STATE')")" \
     "28000: Invalid token state! Check if the token has been created by the OAuth user." "the same callback again: its state is spent"

t_is "$(s1 "SELECT connected_app_token('capp1', 'jane@example.com')") $(state | jf counts.refresh_token)" "at-1 null" "a valid token is returned as it is (no refresh)"

# expired: eight sessions at once, one refresh
s1 "UPDATE \`tabToken Cache\` SET modified = modified - INTERVAL 2 HOUR WHERE name = 'capp1-jane@example.com'"
RACE=()
for i in 1 2 3 4 5 6 7 8; do
    as _site1 "SELECT connected_app_token('capp1', 'jane@example.com')" > "$MD/capp.$i" &
    RACE+=($!)
done
wait "${RACE[@]}"
t_is "$(cat "$MD"/capp.[1-8] | sort | uniq -c | sed 's/^ *//') | $(state | jf counts.refresh_token)" "8 at-2 | 1" \
     "an expired token: eight sessions asking at once get the same new token from one refresh"
t_is "$(state | $FI_PY -c 'import json,sys; f=json.load(sys.stdin)["forms"]["refresh_token"]; print(f["refresh_token"], f["client_id"], f["client_secret"], f["scope"], f["redirect_uri"].endswith("/capp1"))')" \
     "rt-1 app-client app-secret read write True" "the refresh sent the refresh token, client, secret, scopes and redirect URI"
TOK=$(s1 "SELECT password FROM __Auth WHERE doctype = 'Token Cache' AND name = 'capp1-jane@example.com' AND fieldname = 'refresh_token'")
t_is "$(printf '["%s"]' "$TOK" | $ORACLE fernet-decrypt "$KEY" | tr -d ' ')" '["rt-2"]' "the new refresh token stored (python3-cryptography decrypts it)"

# the app's own redirect_uri (Frappe writes it on save): used as it is
CB=https://frappe.example.org/api/method/frappe.integrations.doctype.connected_app.connected_app.callback/capp1
s1 "UPDATE \`tabConnected App\` SET redirect_uri = '$CB' WHERE name = 'capp1';
    UPDATE \`tabToken Cache\` SET modified = modified - INTERVAL 2 HOUR WHERE name = 'capp1-jane@example.com'"
t_like "$(s1 "SELECT connected_app_token('capp1', 'jane@example.com')")" '^at-[0-9]+$' "a Connected App with its redirect_uri refreshes its token"
t_is "$(state | $FI_PY -c 'import json,sys; print(json.load(sys.stdin)["forms"]["refresh_token"]["redirect_uri"])')" "$CB" \
     "with the app's own redirect_uri"
s1 "UPDATE \`tabConnected App\` SET redirect_uri = NULL WHERE name = 'capp1'"

s1 "CALL set_password('Token Cache', 'capp1-jane@example.com', 'refresh_token', 'rt-revoked');
    UPDATE \`tabToken Cache\` SET modified = modified - INTERVAL 2 HOUR WHERE name = 'capp1-jane@example.com'"
t_is "$(s1_err "SELECT connected_app_token('capp1', 'jane@example.com')")" \
     "28000: re-authorisation required: the token of Connected App capp1 for user jane@example.com could not be refreshed" "a refused refresh: re-authorisation required"
t_is "$(s1_err "SELECT connected_app_token('capp1', 'api@example.com')")" \
     "28000: re-authorisation required: user api@example.com has not connected Connected App capp1 (send the user to connected_app_authorize_url(app, user))" "a user who never connected"

# client credentials (the app's own token), reused until it expires
T1=$(s1 "SELECT connected_app_token('capp1', NULL)"); T2=$(s1 "SELECT connected_app_token('capp1', NULL)")
t_is "$T1 $([ "$T1" = "$T2" ] && echo same) $(state | jf counts.client_credentials) $(s1 "SELECT COUNT(*) FROM \`tabToken Cache\` WHERE name = 'capp1-' AND user IS NULL")" \
     "$T1 same 1 1" "client credentials: one token request (HTTP Basic), cached in Token Cache '<app>-' without a user"
t_like "$T1" '^at-[0-9]+$' "the client-credentials token"

# an https token endpoint: refused with an unknown CA, used once the server's ca_bundle trusts it
s1 "UPDATE \`tabConnected App\` SET token_uri = 'https://127.0.0.1:$PS/oauth/token' WHERE name = 'capp1';
    UPDATE \`tabToken Cache\` SET modified = modified - INTERVAL 2 HOUR WHERE name = 'capp1-'"
t_like "$(s1_err "SELECT connected_app_token('capp1', NULL)")" "^08006: HTTP request to 127.0.0.1 failed: .*(certificate|SSL)" "https token_uri with an unknown CA: refused"
cp "$CERTS/ca.pem" "$MD/ca.pem"; chmod 644 "$MD/ca.pem"
mdb "UPDATE integrations.http_settings SET ca_bundle = '$MD/ca.pem' WHERE id = 1"
T3=$(s1 "SELECT connected_app_token('capp1', NULL)")
mdb "UPDATE integrations.http_settings SET ca_bundle = NULL WHERE id = 1"
t_is "$([ "$T3" != "$T1" ] && echo new) $(state | jf counts.client_credentials)" "new 2" "over https, trusted through ca_bundle: a fresh client-credentials token"

s1 "UPDATE \`tabConnected App\` SET token_uri = 'http://idp.example.com/token' WHERE name = 'capp1';
    UPDATE \`tabToken Cache\` SET modified = modified - INTERVAL 2 HOUR WHERE name = 'capp1-'"
t_is "$(s1_err "SELECT connected_app_token('capp1', NULL)")" "22023: the token_uri of Connected App capp1 must be https" "a plain-http token endpoint off the loopback is refused"
t_is "$(s1_err "SELECT connected_app_token('nope', 'jane@example.com')")" "P0002: Connected App nope not found" "an unknown app"
t_is "$(s1_err "SELECT connected_app_token('capp1'' OR ''1''=''1', NULL)")" "P0002: Connected App capp1' OR '1'='1 not found" "SQL in the app's name is a name"
t_is "$(as plain "SELECT connected_app_token('capp1', NULL)" | mdb_sqlstate) | $(as plain "SELECT connected_app_authorize_url('capp1', 'jane@example.com', NULL)" | mdb_sqlstate | cut -d: -f1)" \
     "42501: permission denied: only the site's own database user calls its OAuth functions | 42501" "another account with EXECUTE and SELECT: 42501"
t_is "$(grep -c 'app-secret\|at-1\|rt-1' "$MD/error.log" 2>/dev/null || true)" "0" "no secret or token in the server's log"
t_done
