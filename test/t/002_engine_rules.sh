#!/usr/bin/env bash
# The engines of Frappe's rules (meta order, import header, naming, webhook
# events, export text, OAuth) tested alone; week numbers, number text and
# OAuth's hashes and redirects against Python (isocalendar through Frappe's
# rule; repr(float(text)); hashlib, urlencode).
set -euo pipefail
make -s -C "$FI_ROOT" test/unit/rules_test >/dev/null
bin="$FI_ROOT/test/unit/rules_test"
out=$("$bin") || { echo "$out"; exit 1; }
n=$(printf '%s\n' "$out" | sed -n 's/^1\.\.//p')
printf '%s\n' "$out" | grep -v '^1\.\.'
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" weeks 1999 2031 > "$tmp/weeks"
/usr/bin/python3 - "$tmp/weeks" > "$tmp/weeks.py" <<'PY'
import datetime, sys
for line in open(sys.argv[1]):
    d, _ = line.split()
    y, m, dd = map(int, d.split('-'))
    w = datetime.date(y, m, dd).isocalendar()[1]
    # frappe.model.naming.determine_consecutive_week_number
    if m == 1 and w >= 52:
        w = 0
    elif m == 12 and w <= 1:
        w = 53
    print(d, str(w).zfill(2))
PY
days=$(wc -l < "$tmp/weeks")
if cmp -s "$tmp/weeks" "$tmp/weeks.py" && [ "$days" -gt 12000 ]; then
    echo "ok $((n + 1)) - naming: the week number of all $days days of 1999-2031 is Python's"
else
    echo "not ok $((n + 1)) - naming: week numbers differ from Python's"; diff "$tmp/weeks" "$tmp/weeks.py" | head
fi

/usr/bin/python3 - > "$tmp/numbers" <<'PY'
import random
from decimal import Decimal
random.seed(7)
# numeric text as a decimal(21,9) column prints it, of at most 15 significant
# digits (what a float keeps; more are written as they are, on purpose)
vals = ["0.000000000", "1.000000000", "-1.500000000", "0.000100000", "0.000099999", "999999999999999",
        "10000000000000000", "-12345678901234500000", "0.000000001", "7"]
for _ in range(3000):
    m = random.randint(0, 10 ** random.randint(1, 15)) * random.choice([1, -1])
    vals.append(format(Decimal(m).scaleb(random.randint(-9, 6)), ".9f"))
    vals.append(str(random.randint(-10**12, 10**12)))
print("\n".join(vals))
PY
"$bin" numbers < "$tmp/numbers" > "$tmp/numbers.c"
/usr/bin/python3 -c '
import sys
for line in open(sys.argv[1]):
    print(repr(float(line)))' "$tmp/numbers" > "$tmp/numbers.py"
count=$(wc -l < "$tmp/numbers")
if cmp -s "$tmp/numbers.c" "$tmp/numbers.py" && [ "$count" -gt 6000 ]; then
    echo "ok $((n + 2)) - export: $count numbers written as Python's repr(float(text))"
else
    echo "not ok $((n + 2)) - export: numbers differ from Python's repr"; diff "$tmp/numbers.c" "$tmp/numbers.py" | head
fi
# OAuth: at_hash / c_hash, a redirect's form-urlencoding and PKCE S256, per line, against Python
/usr/bin/python3 - > "$tmp/oauth" <<'PY'
import base64, hashlib, random, string
random.seed(11)
alpha = string.ascii_letters + string.digits + "-._~ /?&=+%#é€😀\t"
for _ in range(2000):
    v = "".join(random.choice(alpha) for _ in range(random.randint(1, 90)))
    # the value, then its PKCE S256 challenge (RFC 7636 4.2) as hashlib makes it
    print(v)
    print(base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b"=").decode())
PY
"$bin" oauth < "$tmp/oauth" > "$tmp/oauth.c"
/usr/bin/python3 - "$tmp/oauth" > "$tmp/oauth.py" <<'PY'
import base64, hashlib, sys, urllib.parse
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
for v in lines[0:-1:2]:
    half = base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()[:16]).rstrip(b"=").decode()
    print(half, urllib.parse.urlencode({"state": v}), 1)
PY
count=$(wc -l < "$tmp/oauth.py")
if cmp -s "$tmp/oauth.c" "$tmp/oauth.py" && [ "$count" -eq 2000 ]; then
    echo "ok $((n + 3)) - oauth: $count values' at_hash, form-urlencoded state and PKCE S256 check agree with Python (hashlib, urlencode)"
else
    echo "not ok $((n + 3)) - oauth: differs from Python"; diff "$tmp/oauth.c" "$tmp/oauth.py" | head
fi
/usr/bin/python3 - > "$tmp/qs.hex" <<'PY'
import random
random.seed(11)
parts = ["a", "b", "a", "=", "&", "+", "%", "%2", "%41", "%C3%A9", "%E2%82", "%FF", "%00", "%F0%9F%98", "%ED%A0%80",
         "x y", "é", "\\", '"', "%0A", "%7F", "c=", "=d", "%3D", "%26", ";", "k", "v"]
cases = ["", "a=1", "a=1&a=2&b=x+y&c=&d=%C3%A9", "&&&", "=z", "a%20b=1&a+b=2"]
for _ in range(4000):
    cases.append("".join(random.choice(parts) for _ in range(random.randint(1, 14))))
for c in cases:
    print(c.encode().hex())
PY
"$bin" qs < "$tmp/qs.hex" > "$tmp/qs.c"
/usr/bin/python3 -c '
import sys, json
from urllib.parse import parse_qs
for line in open(sys.argv[1]):
    qs = bytes.fromhex(line.strip()).decode()
    d = parse_qs(qs, separator="&")
    d = {k.replace("\0", "\ufffd"): [v.replace("\0", "\ufffd") for v in vs] for k, vs in d.items()}
    print(json.dumps(d, ensure_ascii=False, separators=(",", ":")))' "$tmp/qs.hex" > "$tmp/qs.py"
count=$(wc -l < "$tmp/qs.hex")
if cmp -s "$tmp/qs.c" "$tmp/qs.py" && [ "$count" -gt 4000 ]; then
    echo "ok $((n + 4)) - http: $count query strings read as Python's urllib.parse.parse_qs (keys, order, +, %XX, U+FFFD for bad bytes)"
else
    echo "not ok $((n + 4)) - http: parse_qs differs from Python's"; diff "$tmp/qs.c" "$tmp/qs.py" | head
fi
echo "1..$((n + 4))"
