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
write("q_auth.sql", "SELECT authenticate('token %s:%s', NULL);", [(k, secret[u]) for u, k in pick])
write("q_key.sql", "SELECT u.name FROM tabUser u WHERE u.api_key = '%s';", [(k,) for u, k in pick])
