#!/usr/bin/env bash
# Python's float text in JSON bodies, against python3's json.dumps: specials,
# every power of two and its neighbours, random bit patterns, money amounts.
source "$FI_ROOT/test/lib.sh"
make -s -C "$FI_ROOT" test/unit/pyfloat_driver >/dev/null

RESULT=$("$FI_PY" - "$FI_ROOT/test/unit/pyfloat_driver" <<'PY'
import json, math, random, struct, subprocess, sys
random.seed(20261127)
vals = [0.0, -0.0, 1.0, 100.0, 0.1, 1e-05, 1e16, 1e15, 1e-4, 1.5e-07, 1e100, 5e-324,
        1.7976931348623157e308, 2.2250738585072014e-308, 1180.0, 0.3, 2 / 3, -1.25, 1e22,
        1e23, 9007199254740993.0, 7.678447687145631e-239, 6.150157786156811e+259,
        float("nan"), float("inf"), -float("inf")]
vals += [2.0 ** e for e in range(-1074, 1024)]
vals += [math.nextafter(2.0 ** e, 0) for e in range(-1000, 1000)]
vals += [math.nextafter(2.0 ** e, math.inf) for e in range(-1000, 1000)]
vals += [struct.unpack("<d", struct.pack("<Q", random.getrandbits(64)))[0] for _ in range(150000)]
vals += [round(random.uniform(-1e7, 1e7), random.randint(0, 9)) for _ in range(50000)]
# short decimals of every length and scale (the fast path), and their neighbours
dec = [float(f"{random.randint(1, 10 ** random.randint(1, 17))}e-{random.randint(0, 20)}") for _ in range(60000)]
vals += dec + [math.nextafter(d, math.inf) for d in dec[:20000]] + [math.nextafter(d, 0) for d in dec[:20000]]
inp = "".join((v.hex() if math.isfinite(v) else ("nan" if v != v else ("inf" if v > 0 else "-inf"))) + "\n"
              for v in vals)
out = subprocess.run([sys.argv[1]], input=inp.encode(), capture_output=True, check=True).stdout.decode().split("\n")
bad = [(json.dumps(v), o) for v, o in zip(vals, out) if json.dumps(v) != o]
print(len(vals), len(bad), bad[:3])
PY
)
# numbers read from JSON text keep their decimal (no digit search on output):
# every spelling of it (trailing zeros, exponents, 15 to 17 digits, signs)
# must still come out as json.dumps(json.loads(text)) writes it
make -s -C "$FI_ROOT" test/template/tpl_driver >/dev/null
RESULT2=$("$FI_PY" - "$FI_ROOT/test/template/tpl_driver" <<'PY'
import json, random, subprocess, sys
random.seed(20261128)
texts = ["0.0", "-0.0", "1.50", "1e2", "1E+2", "0.000100", "-2.5e-3", "100", "100.000", "1e-4", "0.99999e-4",
         "999999999999999.0", "1000000000000000.0", "123456789012345e-10", "1234567890123456e-10",
         "0.1000000000000000055511151231257827", "1e22", "1e23", "5e-324", "0e5", "0.5e1"]
for _ in range(60000):
    nd = random.randint(1, 17)
    digits = str(random.randint(10 ** (nd - 1), 10 ** nd - 1)) + "0" * random.choice([0, 0, 1, 3])
    p = random.randint(0, len(digits))
    t = (digits[:p] or "0") + "." + (digits[p:] or "0")
    if random.random() < 0.3:
        t += random.choice(["e", "E"]) + random.choice(["", "+", "-"]) + str(random.randint(0, 25))
    texts.append(random.choice(["", "-"]) + t)
lines, want = [], []
for i in range(0, len(texts), 500):
    src = "[" + ", ".join(texts[i:i + 500]) + "]"
    lines.append(json.dumps({"id": i, "kind": "j", "src": src}))
    want.append(json.dumps(json.loads(src)))
out = subprocess.run([sys.argv[1]], input=("\n".join(lines) + "\n").encode(), capture_output=True,
                     check=True).stdout.decode().splitlines()
got = [json.loads(o)["out"] for o in out]
bad = [(w, g) for w, g in zip(want, got) if w != g]
print(len(texts), len(bad) if len(got) == len(want) else -1, bad[:1])
PY
)
N2=${RESULT2%% *}
t_like "$N2" '^[0-9]{5,}$' "read $N2 numbers from JSON text"
t_is "$(echo "$RESULT2" | cut -d' ' -f2-)" "0 []" "each comes out as python3's json.dumps(json.loads(text)) writes it"

N=${RESULT%% *}
t_like "$N" '^[0-9]{6}$' "compared $N floats with json.dumps"
t_is "$(echo "$RESULT" | cut -d' ' -f2-)" "0 []" "every float is written exactly as python3's json.dumps writes it"
t_done
