#!/usr/bin/env bash
# MariaDB, part 1 (issue 18): Frappe's Password fields on a MariaDB site:
# get_password / set_password in the site's database (SQL SECURITY DEFINER),
# the key in integrations.site_keys (installed from the site's
# site_config.json by frappe-integrations), Fernet in __Auth exactly as
# Frappe writes it (python3-cryptography both ways); another site's user, a
# plain role and a wrong key get a clear error and never a secret.
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
# (both keys made here: a constant one would be on the command line of the same test's Python
# in another run at once, and the ps check below would see it)
fernet_key() { "$FI_PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'; }
KEY1=$(fernet_key)
KEY2=$(fernet_key)
make -s -C "$FI_ROOT" mariadb >/dev/null
MD=$FI_TMP/mariadb_secrets
rm -rf "$MD"
trap 'mdb_stop' EXIT
mdb_start "$MD"
FI=("$FI_ROOT/bin/frappe-integrations")
CONN=(--socket "$MDB_SOCK" --user root)
for s in _site1 _site2; do
    mdb_site $s "pw-$s"
done
printf '{\n "db_name": "_site1",\n "encryption_key": "%s"\n}\n' "$KEY1" > "$MD/site1_config.json"
printf '%s\n' "$KEY2" > "$MD/site2.key"
chmod 600 "$MD"/site1_config.json "$MD"/site2.key
t_is "$("${FI[@]}" install "${CONN[@]}" --plugin-dir "$MDB_PLUGIN" --site _site1 --site-user _site1 --key-file "$MD/site1_config.json")" \
     "frappe-integrations 0.12.0 installed, with the functions of site _site1 (for _site1)" "install --site with the site's site_config.json"
"${FI[@]}" install "${CONN[@]}" --plugin-dir "$MDB_PLUGIN" --site _site2 --site-user _site2 --key-file "$MD/site2.key" >/dev/null
as() { mariadb --no-defaults --socket="$MDB_SOCK" -u "$1" -p"pw-$1" -D "$1" -N -B -r -e "$2" 2>&1; }
as_err() { as "$@" | sed -n 's/^ERROR [0-9]* (\([0-9A-Z]*\))[^:]*: /\1: /p' | head -1; }

as _site1 "CALL set_password('Webhook', 'hook-1', 'webhook_secret', 's3cr3t ü')" >/dev/null
TOK=$(mdb "SELECT password FROM _site1.__Auth WHERE doctype = 'Webhook' AND name = 'hook-1' AND fieldname = 'webhook_secret' AND encrypted = 1")
t_is "$("$FI_PY" -c 'import sys; from cryptography.fernet import Fernet; print(Fernet(sys.argv[1].encode()).decrypt(sys.argv[2].encode()).decode())' "$KEY1" "$TOK")" \
     "s3cr3t ü" "set_password writes a Fernet token python3-cryptography decrypts with the site's key"
PYTOK=$("$FI_PY" -c 'import sys; from cryptography.fernet import Fernet; print(Fernet(sys.argv[1].encode()).encrypt("from Frappe 日本".encode()).decode())' "$KEY1")
mdb "INSERT INTO _site1.__Auth (doctype, name, fieldname, password, encrypted) VALUES ('User', 'jane@example.com', 'api_secret', '$PYTOK', 1)"
t_is "$(as _site1 "SELECT get_password('User', 'jane@example.com', 'api_secret')") | $(as _site1 "SELECT get_password('Webhook', 'hook-1', 'webhook_secret')")" \
     "from Frappe 日本 | s3cr3t ü" "get_password decrypts what Frappe (python3-cryptography) wrote, and its own"
as _site1 "CALL set_password('Webhook', 'hook-1', 'webhook_secret', '')" >/dev/null
t_is "$(mdb "SELECT COUNT(*) FROM _site1.__Auth WHERE name = 'hook-1'") $(as_err _site1 "SELECT get_password('Webhook', 'hook-1', 'webhook_secret')")" \
     "0 P0002: Password not found (no encrypted row in __Auth for this document and field)" "an empty value deletes the row; a missing one is P0002 (as on PostgreSQL)"

# ---- who may: only the site's own user, each site its own key
mdb "GRANT EXECUTE ON _site1.* TO _site2@localhost"
t_like "$(as_err _site2 "SELECT _site1.get_password('User', 'jane@example.com', 'api_secret')")" "^42501: permission denied: only the site's own database user" \
       "another site's user, even granted EXECUTE on the site's functions: 42501"
t_like "$(as_err _site1 "SELECT * FROM integrations.site_keys")" "^42000: SELECT command denied" "the site's user cannot read the keys"
t_is "$(as _site1 "SELECT fi_udf_fernet_decrypt('x', '$PYTOK') IS NULL")" "1" "the Fernet UDF is callable by anyone, and useless without the key"
as _site2 "CALL set_password('Webhook', 'w2', 'webhook_secret', 'site two')" >/dev/null
T2=$(mdb "SELECT password FROM _site2.__Auth WHERE name = 'w2'")
t_is "$("$FI_PY" -c 'import sys; from cryptography.fernet import Fernet; print(Fernet(sys.argv[1].encode()).decrypt(sys.argv[2].encode()).decode())' "$KEY2" "$T2")" \
     "site two" "the second site's token is made with its own key (read from a bare key file)"
mdb "INSERT INTO _site2.__Auth (doctype, name, fieldname, password, encrypted) VALUES ('User', 'x', 'api_secret', '$PYTOK', 1)"
ERR=$(as _site2 "SELECT get_password('User', 'x', 'api_secret')")
t_like "$ERR" "Encryption key is invalid! Please check site_config.json" "a token of another key: Frappe's words"
t_is "$(printf '%s\n' "$ERR" | grep -c -e "$KEY1" -e "$KEY2" -e "$PYTOK" -e "gAAAA")" "0" "and no key, token or value in the error"
t_is "$(grep -c -e "$KEY1" -e "$KEY2" "$MD/error.log")" "0" "nor in the server's error log"
t_is "$(ps -eo args | grep -v grep | grep -c -e "$KEY1" -e "$KEY2")" "0" "nor on any process's command line"

"${FI[@]}" uninstall "${CONN[@]}" --site _site2 >/dev/null
t_is "$(mdb "SELECT COUNT(*) FROM integrations.site_keys WHERE site = '_site2'") $(mdb "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '_site2'") $(mdb "SELECT COUNT(*) FROM _site2.__Auth")" \
     "0 0 2" "uninstall --site: the site's functions and key gone, its __Auth rows kept"
t_is "$(kill -0 $MDB_PID && echo alive)" "alive" "the server is still the same process"
mdb_stop
t_done
