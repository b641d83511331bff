#!/usr/bin/python3
"""bench/mariadb (c): the statement files mariadb-slap runs, from the keys
made by generate_keys (DIR/keys.txt: user secret) and DIR/apikeys.txt
(user api_key): random tokens among 10,000 and random keys among them, the
same choice for a function and its baseline."""
import random
import sys

d = sys.argv[1]
random.seed(7)
secret = dict(line.split() for line in open(d + "/keys.txt"))
keys = [line.split() for line in open(d + "/apikeys.txt")]
toks = ["tok-%d" % random.randint(1, 10000) for _ in range(5000)]
pick = [random.choice(keys) for _ in range(5000)]


def write(name, fmt, rows):
    with open("%s/%s" % (d, name), "w") as f:
        f.write("".join(fmt % r for r in rows))


write("q_vbt.sql", "SELECT validate_bearer_token('%s', NULL);", toks)
write("q_pk.sql", "SELECT t.`user`, t.scopes, t.client, t.status, t.expiration_time "
      "FROM `tabOAuth Bearer Token` t WHERE t.name = '%s';", toks)
# the same rule as one plain statement: the rows of four tables the function reads
write("q_rule.sql", "SELECT t.`user` FROM `tabOAuth Bearer Token` t JOIN `tabOAuth Client` c ON c.name = t.client "
      "JOIN tabUser u ON u.name = t.`user` WHERE t.name = '%s' AND CAST(t.name AS BINARY) = CAST('%s' AS BINARY) "
      "AND COALESCE(t.status, '') <> 'Revoked' AND t.expiration_time > COALESCE((SELECT CONVERT_TZ(UTC_TIMESTAMP(6), "
      "'+00:00', z.value) FROM tabSingles z WHERE z.doctype = 'System Settings' AND z.field = 'time_zone' LIMIT 1), "
      "NOW(6)) AND u.enabled = 1 AND fi_udf_bearer_scopes_ok(t.scopes, c.scopes, NULL) = 1 LIMIT 1;",
      [(t, t) for t in toks])
# the rows that cost: the token and its client and user without the time
# zone's row and CONVERT_TZ (what a copy kept beside the token would save)
write("q_rows3.sql", "SELECT t.`user` FROM `tabOAuth Bearer Token` t JOIN `tabOAuth Client` c ON c.name = t.client "
      "JOIN tabUser u ON u.name = t.`user` WHERE t.name = '%s' AND u.enabled = 1;", toks)
write("q_auth.sql", "SELECT authenticate('token %s:%s', NULL);", [(k, secret[u]) for u, k in pick])
write("q_key.sql", "SELECT u.name FROM tabUser u WHERE u.api_key = '%s';", [(k,) for u, k in pick])
