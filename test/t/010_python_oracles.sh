#!/usr/bin/env bash
# Our secret formats against the libraries Frappe uses: python3-cryptography
# (Fernet) and python3-passlib (pbkdf2_sha256, argon2), both directions.
source "$FI_ROOT/test/lib.sh"
DB=fi_oracles
newdb $DB
ORACLE="$FI_PY $FI_ROOT/test/oracles.py"

KEY=$($ORACLE fernet-key)
t_like "$KEY" '^[A-Za-z0-9_-]{43}=$' "python made a Fernet key"
export PGOPTIONS="-c frappe_integrations.encryption_key=$KEY"

# psql_json <json> <sql using :'data'>: run with the JSON bound to :data
psql_json() {
    printf '%s\n' "$2" | "$FI_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -d $DB -v data="$1"
}

PLAIN='["s3cr3t", "", "abcdef012345678", "Café Ünïcode", "日本語のパスワード", "emoji 🎉🔐",
        "quote '"'"' and \" and \\\\ and\nnewline\ttab", "'"$(printf 'x%.0s' $(seq 1 3000))"'"]'
N=$(echo "$PLAIN" | $FI_PY -c 'import json,sys; print(len(json.load(sys.stdin)))')

# python encrypts, we decrypt
TOKENS=$(echo "$PLAIN" | $ORACLE fernet-encrypt "$KEY")
OURS=$(psql_json "$TOKENS" "SELECT json_agg(integrations.fernet_decrypt(t) ORDER BY o)
                            FROM json_array_elements_text(:'data') WITH ORDINALITY AS x(t, o)")
SAME=$($FI_PY -c 'import json,sys; print(json.loads(sys.argv[1]) == json.loads(sys.argv[2]))' "$PLAIN" "$OURS")
t_is "$SAME" "True" "we decrypt all $N tokens python3-cryptography wrote"

# we encrypt, python decrypts
OURTOKENS=$(psql_json "$PLAIN" "SELECT json_agg(integrations.fernet_encrypt(s) ORDER BY o)
                                FROM json_array_elements_text(:'data') WITH ORDINALITY AS x(s, o)")
BACK=$(echo "$OURTOKENS" | $ORACLE fernet-decrypt "$KEY")
SAME=$($FI_PY -c 'import json,sys; print(json.loads(sys.argv[1]) == json.loads(sys.argv[2]))' "$PLAIN" "$BACK")
t_is "$SAME" "True" "python3-cryptography decrypts all $N tokens we wrote"

# a token under another key is refused by both
OTHER=$($ORACLE fernet-key)
BACK=$(echo "$OURTOKENS" | $ORACLE fernet-decrypt "$OTHER")
t_is "$($FI_PY -c 'import json,sys; print(set(json.loads(sys.argv[1])))' "$BACK")" "{None}" \
     "python refuses our tokens under another key"
ERR=$(PGOPTIONS="-c frappe_integrations.encryption_key=$OTHER" q_err $DB \
      "SELECT integrations.fernet_decrypt('$(echo "$TOKENS" | $FI_PY -c 'import json,sys; print(json.load(sys.stdin)[0])')')")
t_is "$ERR" "22023: Encryption key is invalid! Please check site_config.json" \
     "we refuse python's token under another key with Frappe's message"

# __Auth: set_password writes what python decrypts; python's token is read by get_password
q $DB "INSERT INTO \"tabWebhook\" (name, webhook_doctype, request_url) VALUES ('h', 'Item', 'http://127.0.0.1/')"
q $DB "SELECT integrations.set_password('Webhook', 'h', 'webhook_secret', 'wh-sécret')" >/dev/null
STORED=$(q $DB "SELECT password FROM \"__Auth\" WHERE doctype = 'Webhook' AND name = 'h'")
BACK=$(printf '["%s"]' "$STORED" | $ORACLE fernet-decrypt "$KEY")
t_is "$BACK" '["wh-sécret"]' "python decrypts the __Auth row set_password wrote"
PYTOKEN=$(echo '["api-secret-from-frappe"]' | $ORACLE fernet-encrypt "$KEY" | $FI_PY -c 'import json,sys; print(json.load(sys.stdin)[0])')
q $DB "INSERT INTO \"__Auth\" VALUES ('User', 'api@example.com', 'api_secret', '$PYTOKEN', 1)"
t_is "$(q $DB "SELECT integrations.get_password('User', 'api@example.com', 'api_secret')")" \
     "api-secret-from-frappe" "get_password reads a token Frappe (python) wrote"

# passlib: our hashes verify in passlib (Frappe's CryptContext) ...
PWS='["admin123", "", "pässwörd", "日本語", "a much longer pass phrase with spaces 0123456789"]'
OURHASHES=$(psql_json "$PWS" "SELECT json_agg(json_build_array(p, integrations.passlib_hash(p)) ORDER BY o)
                              FROM json_array_elements_text(:'data') WITH ORDINALITY AS x(p, o)")
t_is "$(echo "$OURHASHES" | $ORACLE passlib-verify)" "[true, true, true, true, true]" \
     "passlib verifies every pbkdf2_sha256 hash we made"
WRONG=$($FI_PY -c 'import json,sys; print(json.dumps([[p+"x", h] for p, h in json.loads(sys.argv[1])]))' "$OURHASHES")
t_is "$(echo "$WRONG" | $ORACLE passlib-verify)" "[false, false, false, false, false]" \
     "passlib refuses wrong passwords against our hashes"

# ... and passlib's hashes (pbkdf2 with several rounds, argon2 id/i/d) verify here
REQ='[["admin123","pbkdf2_sha256"],["pässwörd","pbkdf2_sha256:1000"],["x","pbkdf2_sha256:50000"],
      ["admin123","argon2"],["pässwörd","argon2:ID"],["日本語","argon2:I"],["", "argon2:D"]]'
PYHASHES=$(echo "$REQ" | $ORACLE passlib-hash)
PAIRS=$($FI_PY -c 'import json,sys; r=json.loads(sys.argv[1]); h=json.loads(sys.argv[2]); print(json.dumps([[p, x] for (p,_), x in zip(r, h)]))' "$REQ" "$PYHASHES")
OK=$(psql_json "$PAIRS" "SELECT json_agg(integrations.passlib_verify(p->>0, p->>1) ORDER BY o)
                         FROM json_array_elements(:'data') WITH ORDINALITY AS x(p, o)")
t_is "$OK" "[true, true, true, true, true, true, true]" "we verify passlib's pbkdf2_sha256 and argon2 (id, i, d) hashes"
BAD=$(psql_json "$PAIRS" "SELECT json_agg(integrations.passlib_verify((p->>0) || '!', p->>1) ORDER BY o)
                          FROM json_array_elements(:'data') WITH ORDINALITY AS x(p, o)")
t_is "$BAD" "[false, false, false, false, false, false, false]" "and refuse wrong passwords against them"

# Frappe's login hash rows (encrypted = 0) written by passlib verify through __Auth
ADMINHASH=$(echo '[["admin",  "pbkdf2_sha256"]]' | $ORACLE passlib-hash | $FI_PY -c 'import json,sys; print(json.load(sys.stdin)[0])')
q $DB "INSERT INTO \"__Auth\" VALUES ('User', 'Administrator', 'password', '$ADMINHASH', 0)"
t_is "$(q $DB "SELECT integrations.passlib_verify('admin', password) FROM \"__Auth\" WHERE name = 'Administrator' AND encrypted = 0")" \
     "t" "a login hash stored as Frappe stores it verifies"

t_done
