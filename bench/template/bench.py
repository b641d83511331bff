#!/usr/bin/python3
"""bench/template: the typical webhook payload template over a Sales Invoice
with 50 item rows (every value field of the real DocType JSON, as Frappe's
as_dict gives it), rendered N times by our engine and by Jinja2 in the same
run.  Prints per-render times and the ratios.  Target: engine >= 20x Jinja2.

  Jinja2 (render)       the template compiled once, then .render(ctx) N times:
                        the fastest Jinja2 can do
  Jinja2 (Frappe)       from_string(...).render(ctx) N times: what
                        frappe.render_template does for each webhook
  engine                a fresh session each time: the template parsed,
                        rendered over the context (built once, as a webhook
                        builds its document), the session freed; also shown
                        with the context parsed from JSON text every time

usage: bench.py DRIVER [N]"""
import json
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "template"))
import oracle  # noqa: E402  (jinja2 set up as Frappe's)

NO_VALUE = {"Section Break", "Column Break", "Tab Break", "Button", "HTML", "Image", "Fold", "Heading"}
TEMPLATE = ('{"name": "{{ doc.name }}", "total": {{ doc.grand_total }}, '
            '"items": {{ doc.items | tojson }}, "event": "{{ event }}"}')


def value(f, rnd, i):
    t = f["fieldtype"]
    if t in ("Currency", "Float", "Percent"):
        return round(rnd.uniform(0, 5000), rnd.choice([0, 2, 3]))
    if t in ("Int", "Check"):
        return rnd.choice([0, 1])
    if t == "Date":
        return "2024-05-%02d" % rnd.randint(1, 28)
    if t == "Datetime":
        return "2024-05-06 10:%02d:00.123456" % rnd.randint(0, 59)
    if t in ("Text", "Small Text", "Text Editor", "Long Text"):
        return rnd.choice([None, "", "<p>Line one</p><p>Caf\u00e9 \u2013 deliver by Friday</p>"])
    if t == "Link":
        return rnd.choice([None, f"{f['fieldname'].upper()}-{i:04d}"])
    return rnd.choice([None, "", f"{f['fieldname']} {i} \u00e9"])


def doctype_fields(name):
    with open(os.path.join(ROOT, "test", "fixtures", "doctypes", name)) as fh:
        return [f for f in json.load(fh)["fields"] if f["fieldtype"] not in NO_VALUE
                and f["fieldtype"] != "Table" and not f.get("is_virtual")]


def invoice(rows=50):
    rnd = random.Random(42)
    std = ["name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"]
    doc = {k: None for k in std}
    doc.update(name="ACC-SINV-2024-00042", owner="jane@example.com", creation="2024-05-06 10:00:00.123456",
               modified="2024-05-06 10:05:00.654321", modified_by="jane@example.com", docstatus=1, idx=0)
    for f in doctype_fields("sales_invoice.json"):
        doc[f["fieldname"]] = value(f, rnd, 0)
    doc["grand_total"] = 118000.0
    doc["doctype"] = "Sales Invoice"
    items = []
    for i in range(1, rows + 1):
        row = {"name": f"{i:010x}", "owner": "jane@example.com", "creation": "2024-05-06 10:00:00.123456",
               "modified": "2024-05-06 10:05:00.654321", "modified_by": "jane@example.com",
               "docstatus": 1, "idx": i, "parent": doc["name"], "parentfield": "items",
               "parenttype": "Sales Invoice"}
        for f in doctype_fields("sales_invoice_item.json"):
            row[f["fieldname"]] = value(f, rnd, i)
        row["doctype"] = "Sales Invoice Item"
        items.append(row)
    doc["items"] = items
    return {"doc": doc, "event": "on_submit"}


def main():
    driver = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    ctx = invoice()
    case = {"id": 1, "kind": "t", "src": TEMPLATE, "ctx": ctx}
    line = json.dumps(case) + "\n"

    # same bytes from both, first
    ours = json.loads(subprocess.run([driver], input=line.encode(), capture_output=True,
                                     check=True).stdout)
    theirs = oracle.render(TEMPLATE, ctx)
    assert ours["ok"] and ours["out"] == theirs, "engine and Jinja2 differ on the bench template"

    jctx = {k: oracle.as_frappe_dicts(v) for k, v in ctx.items()}
    compiled = oracle.ENV.from_string(TEMPLATE)
    compiled.render(jctx)

    def j_render_once(n):
        t0 = time.perf_counter()
        for _ in range(n):
            compiled.render(jctx)
        return (time.perf_counter() - t0) / n

    def j_frappe_once(n):
        t0 = time.perf_counter()
        for _ in range(n):
            oracle.ENV.from_string(TEMPLATE).render(jctx)
        return (time.perf_counter() - t0) / n

    def ours(flag, reps):
        out = subprocess.run([driver, flag, str(reps)], input=line.encode(), capture_output=True,
                             check=True).stdout.decode().split()
        return float(out[1] if flag == "-r" else out[0]) / reps

    # many short interleaved rounds, the best of each side: this machine's
    # speed drifts by tens of percent within a minute, so long rounds mix
    # fast and slow stretches; the best round is each side at full speed
    rounds = 15
    jr, jf, orr, of, paired = [], [], [], [], []
    for _ in range(rounds):
        jr.append(j_render_once(max(n // 3, 10)))
        orr.append(ours("-r", n * 3))
        paired.append(jr[-1] / orr[-1])
        jf.append(j_frappe_once(max(n // 5, 10)))
        of.append(ours("-n", max(n // 3, 10)))
    j_render, j_frappe, ours_t, ours_full = min(jr), min(jf), min(orr), min(of)
    paired.sort()

    print(f"bench/template: Sales Invoice, {len(ctx['doc']['items'])} item rows of "
          f"{len(ctx['doc']['items'][0])} fields, body {len(theirs)} bytes")
    print(f"  (each figure: the best of {rounds} interleaved rounds)")
    print(f"  Jinja2 render (compiled once)   {j_render * 1e6:9.1f} us/render")
    print(f"  Jinja2 as Frappe (from_string)  {j_frappe * 1e6:9.1f} us/render")
    print(f"  engine (parse + render)          {ours_t * 1e6:9.1f} us/render")
    print(f"  engine (+ context from JSON)    {ours_full * 1e6:9.1f} us/render")
    print(f"  ratio, engine vs Jinja2 render:             {j_render / ours_t:6.1f}x  (target >= 20x)")
    print(f"    (round by round: lowest {paired[0]:.1f}x, median {paired[len(paired) // 2]:.1f}x)")
    print(f"  ratio, engine vs Frappe's from_string path: {j_frappe / ours_t:6.1f}x")
    print(f"  ratio, engine with JSON context vs Jinja2:  {j_render / ours_full:6.1f}x")
    return 0 if j_render / ours_t >= 20 else 1


if __name__ == "__main__":
    sys.exit(main())
