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
N=${RESULT%% *}
t_like "$N" '^[0-9]{6}$' "compared $N floats with json.dumps"
t_is "$(echo "$RESULT" | cut -d' ' -f2-)" "0 []" "every float is written exactly as python3's json.dumps writes it"
t_done
