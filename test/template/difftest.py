#!/usr/bin/python3
"""Differential test of the template engine (src/engine/tpl_*.c) against the
real thing: python3-jinja2 set up as Frappe does, Python's eval, CPython's
json (test/template/oracle.py).  Renders every case of corpus.py plus
generated ones with both, and requires the same text byte for byte, or that
both refuse.  Usage: difftest.py DRIVER [--seed N] [--generated N] [-v]
Exit status 0 when every case agrees."""
import argparse
import json
import random
import struct
import subprocess
import sys
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
import oracle  # noqa: E402


def gen_template_expr(rnd, depth=0):
    leaves = [
        lambda: str(rnd.randint(-20, 20)),
        lambda: repr(rnd.choice([0.5, 2.25, -1.5, 1e16, 1e-5, 3.0, 0.1, 100.0, 7.125])),
        lambda: repr(rnd.choice(["abc", "Hello World", "", "caf\u00e9", " pad ", "a-b", "x'y"])),
        lambda: rnd.choice(["doc.grand_total", "doc.name", "doc.status", "doc.total_qty",
                            "doc.items", "doc.items[0].qty", "doc.items[1].item_name", "doc.remarks",
                            "doc.docstatus", "doc.is_return", "doc.customer_name", "doc.nope",
                            "missing", "doc.taxes[0].rate", "doc.posting_date"]),
        lambda: rnd.choice(["[1, 2, 3]", "[]", "[3, 'a']", "(1, 2)", "{'k': 1}", "none", "true", "false"]),
    ]
    if depth > 2 or rnd.random() < 0.3:
        return rnd.choice(leaves)()
    r = rnd.random()
    a = gen_template_expr(rnd, depth + 1)
    if r < 0.35:
        op = rnd.choice(["+", "-", "*", "/", "//", "%", "**", "~", "==", "!=", "<", ">", "<=", ">=",
                         "and", "or", "in", "not in"])
        b = gen_template_expr(rnd, depth + 1)
        if op == "**":
            b = str(rnd.randint(-2, 4))
        return f"({a} {op} {b})"
    if r < 0.7:
        f = rnd.choice(["upper", "lower", "title", "trim", "length", "first", "last", "abs", "int",
                        "float", "string", "list", "tojson", "json", "round", "round(1)", "default('d')",
                        "default('e', true)", "join(',')", "replace('a', 'b')", "sort", "sum", "min", "max",
                        "reverse | list", "capitalize", "str", "flt", "flt(1)", "len", "e", "wordcount"])
        return f"({a} | {f})"
    if r < 0.8:
        return f"(not {a})"
    if r < 0.9:
        return f"({a} if {gen_template_expr(rnd, depth + 1)} else {gen_template_expr(rnd, depth + 1)})"
    t = rnd.choice(["defined", "none", "number", "string", "odd", "even", "iterable", "mapping", "lower"])
    return f"({a} is {t})"


def gen_condition(rnd, depth=0):
    leaves = [
        lambda: str(rnd.randint(-5, 2000)),
        lambda: repr(rnd.choice([0.5, 1180.0, -1.5, 1e3, 0.0])),
        lambda: repr(rnd.choice(["Paid", "Draft", "", "INR", "Retail"])),
        lambda: rnd.choice(["doc.grand_total", "doc.status", "doc.docstatus", "doc.is_return",
                            "doc.currency", "doc.customer_group", "doc.total_qty", "doc.remarks",
                            "doc.items[0].qty", "len(doc.items)" if rnd.random() < 0.1 else "doc.net_total",
                            "utils.flt(doc.outstanding_amount)", "utils.cint(doc.is_pos)",
                            "doc.get('status')", "None", "True", "False", "[1, 2]"]),
    ]
    if depth > 2 or rnd.random() < 0.3:
        return rnd.choice(leaves)()
    r = rnd.random()
    a = gen_condition(rnd, depth + 1)
    if r < 0.5:
        op = rnd.choice(["==", "!=", "<", ">", "<=", ">=", "and", "or", "+", "-", "*", "in", "not in",
                         "is", "is not"])
        b = gen_condition(rnd, depth + 1)
        if op in ("is", "is not"):
            b = "None"
        return f"({a} {op} {b})"
    if r < 0.7:
        return f"(not {a})"
    if r < 0.85:
        return f"({a} if {gen_condition(rnd, depth + 1)} else {gen_condition(rnd, depth + 1)})"
    return f"{rnd.choice(['int', 'float', 'round', 'utils.flt', 'utils.cint', 'utils.cstr'])}({a})"


def gen_json(rnd, depth=0):
    r = rnd.random()
    if depth > 3 or r < 0.4:
        k = rnd.random()
        if k < 0.4:
            # any double: the float text must be Python's repr
            while True:
                d = struct.unpack("<d", struct.pack("<Q", rnd.getrandbits(64)))[0]
                if d == d and d not in (float("inf"), float("-inf")):
                    return d
        if k < 0.55:
            return rnd.randint(-10**15, 10**15)
        if k < 0.8:
            return "".join(rnd.choice(["a", "\u00e9", "\U0001F680", "\n", '"', "\\", "\x01", "<", "\u2028", " "])
                           for _ in range(rnd.randint(0, 8)))
        return rnd.choice([None, True, False, 0.1, 100.0, 1e16, 1e-5])
    if r < 0.7:
        return [gen_json(rnd, depth + 1) for _ in range(rnd.randint(0, 4))]
    return {f"k{rnd.randint(0, 9)}\u00e9": gen_json(rnd, depth + 1) for _ in range(rnd.randint(0, 4))}


def cases(seed, n_generated):
    out = []
    for i, (kind, src, ctxname) in enumerate(corpus.CASES):
        out.append({"id": f"hand-{i}", "kind": kind, "src": src, "ctx": corpus.CONTEXTS[ctxname]})
    for i, (kind, src, ctxname, _why) in enumerate(corpus.DELIBERATE):
        out.append({"id": f"deliberate-{i}", "kind": kind, "src": src, "ctx": corpus.CONTEXTS[ctxname],
                    "deliberate": True})
    rnd = random.Random(seed)
    for i in range(n_generated):
        out.append({"id": f"gen-t-{i}", "kind": "t", "src": "{{ " + gen_template_expr(rnd) + " }}",
                    "ctx": corpus.CONTEXTS["inv"]})
    for i in range(n_generated // 2):
        out.append({"id": f"gen-c-{i}", "kind": "c", "src": gen_condition(rnd),
                    "ctx": corpus.CONTEXTS["inv"]})
    for i in range(n_generated // 4):
        v = gen_json(rnd)
        text = json.dumps(v, ensure_ascii=rnd.random() < 0.5,
                          indent=rnd.choice([None, 1, 2]), separators=rnd.choice([None, (",", ":")]))
        out.append({"id": f"gen-j-{i}", "kind": "j", "src": text})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("driver", nargs="?")
    ap.add_argument("--seeds", help="write each case's source as a fuzzer seed into this directory")
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--generated", type=int, default=240)
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--valgrind", action="store_true")
    args = ap.parse_args()

    all_cases = cases(args.seed, args.generated)
    if args.seeds:
        mode = {"t": b"\x00", "c": b"\x01", "j": b"\x02"}
        for i, c in enumerate(all_cases):
            with open(os.path.join(args.seeds, f"seed-{i}"), "wb") as f:
                f.write(mode[c["kind"]] + c["src"].encode())
        return 0
    lines = "".join(json.dumps(c) + "\n" for c in all_cases)
    cmd = [args.driver]
    if args.valgrind:
        cmd = ["valgrind", "-q", "--error-exitcode=9", "--leak-check=full"] + cmd
    proc = subprocess.run(cmd, input=lines.encode(), capture_output=True)
    if proc.returncode != 0:
        print(proc.stderr.decode(errors="replace"))
        print(f"driver failed with status {proc.returncode}")
        return 1
    ours = [json.loads(l) for l in proc.stdout.decode().splitlines()]
    assert len(ours) == len(all_cases), (len(ours), len(all_cases))

    agree = refused = deliberate = 0
    bad = []
    kinds = {}
    for case, got in zip(all_cases, ours):
        want = oracle.run(case)
        k = case["kind"]
        kinds[k] = kinds.get(k, 0) + 1
        if case.get("deliberate"):
            # a documented refusal of ours: the engine must refuse it
            if got["ok"]:
                bad.append((case, {"expected": "a refusal (deliberate difference)"}, got))
            else:
                deliberate += 1
            continue
        if want["ok"] and got["ok"] and want["out"] == got["out"]:
            agree += 1
        elif not want["ok"] and not got["ok"]:
            agree += 1
            refused += 1
        else:
            bad.append((case, want, got))
    for case, want, got in bad:
        print(f"MISMATCH {case['id']} ({case['kind']}): {case['src']!r}")
        print(f"   python: {want}")
        print(f"   engine: {got}")
    print(f"{len(all_cases)} cases (templates {kinds.get('t', 0)}, conditions {kinds.get('c', 0)}, "
          f"json {kinds.get('j', 0)}): {agree} agree ({refused} refused by both), "
          f"{deliberate} refused on purpose, {len(bad)} differ")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
