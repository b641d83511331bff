"""Differential tests of the import engines against Python, which Frappe uses.

    import_diff.py DRIVER csv N          N generated nasty files: our records == csv.reader's
    import_diff.py DRIVER spectrum DIR   the csv-spectrum cases (npm): records == the JSON
    import_diff.py DRIVER dates N        Frappe's guess_date_format + strptime on N values
    import_diff.py DRIVER numbers N      float(value.replace(",", "")) on N values

Prints "ok <what> <count>" or the first disagreement, exit 1.
"""
import csv
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile

csv.field_size_limit(1 << 30)   # Python's default limit (128 KiB) is not ours
DRIVER = sys.argv[1]


def run(args, stdin=None):
    return subprocess.run([DRIVER] + args, input=stdin, capture_output=True, check=True).stdout


def ours_csv(data):
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(data)
    try:
        out = run(["csv", f.name]).decode("utf-8")
    finally:
        os.unlink(f.name)
    recs, unterminated = [], []
    for line in out.split("\n"):
        if not line:
            continue
        if line == "!unterminated":
            unterminated.append(len(recs) - 1)
        else:
            recs.append(json.loads(line))
    return recs, unterminated


def python_csv(data):
    # frappe.utils.csvutils.read_csv_content: lines split on the bytes, then csv.reader
    lines = [line.decode("utf-8") for line in data.splitlines(True)]
    return [list(r) for r in csv.reader(lines)]


TOKENS = ['a', 'b', 'xyz', ' ', '  ', ',', ',', '"', '"', '""', '\r\n', '\n', '\r', '\t',
          'é', '日本', '🎉', '1,234', '"q"', '""""', '\u00a0', "'", '\\', '=1+2', '-', ';']


def gen(rng):
    n = rng.randint(0, 40)
    return "".join(rng.choice(TOKENS) for _ in range(n)).encode("utf-8")


def test_csv(n):
    rng = random.Random(20261128)
    fixed = [b"", b"\n", b"\r\n\r\n", b'"', b'""', b'"a', b'a"b,c', b'"a"b"c",d',
             b'"x\r\ny"\r\nz', b'a,\n', b',', b'"a""', b'\r', b'a\rb\nc\r\nd', b'"\n"']
    cases = fixed + [gen(rng) for _ in range(n)]
    for data in cases:
        recs, unterminated = ours_csv(data)
        py = python_csv(data)
        if recs != py:
            print("csv disagreement on %r:\n ours   %r\n python %r" % (data, recs, py))
            return 1
        if unterminated and unterminated != [len(recs) - 1]:
            print("unterminated flag on a record that is not the last: %r" % data)
            return 1
        # the flag is set exactly when the data ends inside quotes
        if bool(unterminated) != ends_in_quotes(data):
            print("unterminated flag wrong for %r" % data)
            return 1
    print("ok csv %d" % len(cases))
    return 0


def ends_in_quotes(data):
    # a second opinion: strict mode raises exactly then for unterminated input,
    # once the lenient "ab"c cases are removed by the quote-pairing walk below
    inq, start = False, True
    i = 0
    s = data.decode("utf-8")
    while i < len(s):
        c = s[i]
        if inq:
            if c == '"':
                if i + 1 < len(s) and s[i + 1] == '"':
                    i += 1
                else:
                    inq = False
        else:
            if c == '"' and start:
                inq = True
            start = c in ',\r\n'
        i += 1
    return inq


def test_spectrum(d):
    csvs = os.path.join(d, "csvs")
    names = sorted(os.listdir(csvs))
    for name in names:
        with open(os.path.join(csvs, name), "rb") as f:
            data = f.read()
        with open(os.path.join(d, "json", name[:-4] + ".json"), encoding="utf-8") as f:
            want = json.load(f)
        if isinstance(want, dict):
            want = [want]
        if name == "location_coordinates.csv":
            # the package's JSON has another phone number than its CSV (upstream erratum)
            want[0]["Contact Phone Number"] = "2095257564"
        recs, _ = ours_csv(data)
        recs = [r for r in recs if r]
        got = [dict(zip(recs[0], r)) for r in recs[1:]]
        if got != want:
            print("csv-spectrum %s:\n ours %r\n want %r" % (name, got, want))
            return 1
    print("ok csv-spectrum %d" % len(names))
    return 0


DATE_FORMATS = ["%d/%b/%y", "%d-%m-%Y", "%m-%d-%Y", "%Y-%m-%d", "%d-%m-%y", "%m-%d-%y", "%y-%m-%d",
                "%y-%b-%d", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d/%m/%y", "%m/%d/%y", "%y/%m/%d",
                "%d.%m.%Y", "%m.%d.%Y", "%Y.%m.%d", "%d.%m.%y", "%m.%d.%y", "%y.%m.%d", "%d %b %Y",
                "%d %B %Y"]
TIME_FORMATS = ["%H:%M:%S.%f", "%H:%M:%S", "%H:%M", "%I:%M:%S.%f %p", "%I:%M:%S %p", "%I:%M %p"]


def first(fmts, s):
    for f in fmts:
        try:
            datetime.datetime.strptime(s, f)
            return f
        except ValueError:
            pass


def frappe_guess(s):
    # frappe.utils.data.guess_date_format (facts §8.5)
    s = s.strip()
    f = first(DATE_FORMATS, s)
    if f:
        return f
    if " " in s:
        d, t = s.split(" ", 1)
        df, tf = first(DATE_FORMATS, d) or "", first(TIME_FORMATS, t) or ""
        if df and tf:
            return (df + " " + tf).strip()


def test_dates(n):
    rng = random.Random(7)
    values = ["29/Feb/24", "29/Feb/23", "31-04-2024", "1-2-2024", " 5-06-2024", "2024-1-5",
              "12.31.99", "5 September 2024", "5 sept 2024", "10:30", "2024-01-05 24:00",
              "2024-01-05 12:00 AM", "2024-01-05 12:00:00.1234567", "00-01-01", "0000-01-01"]
    for _ in range(n):
        dt = datetime.datetime(rng.randint(1, 2999), rng.randint(1, 12), rng.randint(1, 28),
                               rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59),
                               rng.randint(0, 999999))
        f = rng.choice(DATE_FORMATS)
        if rng.random() < 0.4:
            f += " " + rng.choice(TIME_FORMATS)
        v = dt.strftime(f)
        if rng.random() < 0.3:
            i = rng.randrange(len(v))
            v = v[:i] + rng.choice("0123456789-/. :aAmMpP") + v[i + 1:]
        values.append(v)
    out = run(["guess"], "\n".join(values).encode() + b"\n").decode().split("\n")
    for v, o in zip(values, out):
        f = frappe_guess(v)
        want = "-"
        if f:
            p = datetime.datetime.strptime(v.strip(), f)
            want = "%s|%04d-%02d-%02d %02d:%02d:%02d.%06d" % (
                f, p.year, p.month, p.day, p.hour, p.minute, p.second, p.microsecond)
        if o != want:
            print("date %r: ours %r, frappe %r" % (v, o, want))
            return 1
    print("ok dates %d" % len(values))
    return 0


def test_numbers(n):
    rng = random.Random(11)
    values = ["1,234.50", "-1e3", "1_000", "_1", "1__0", "1_", ".5", "5.", ".", "e5", "1e", "+.5e-3",
              "inf", "nan", "--1", "1 000", "0x10", "1,,2", " 7 "]
    # not here: digits of other scripts ("١٢"), which float() reads and we refuse
    alphabet = "0123456789.,_eE+- "
    for _ in range(n):
        values.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))))
    out = run(["number"], "\n".join(values).encode() + b"\n").decode().split("\n")
    for v, o in zip(values, out):
        try:
            want = float(v.replace(",", ""))
            if want != want or want in (float("inf"), float("-inf")):
                want = None
        except ValueError:
            want = None
        # inf/nan words are refused; an overflowing literal is also inf for Python
        got = None if o == "-" else float(o)
        if got != want and not (want is None and v.strip().lower() in ("inf", "nan")):
            if not (got is not None and want is None and "inf" in repr(float(o))):
                print("number %r: ours %r, python %r" % (v, o, want))
                return 1
    print("ok numbers %d" % len(values))
    return 0


if __name__ == "__main__":
    what = sys.argv[2]
    arg = sys.argv[3]
    sys.exit({"csv": lambda: test_csv(int(arg)), "spectrum": lambda: test_spectrum(arg),
              "dates": lambda: test_dates(int(arg)), "numbers": lambda: test_numbers(int(arg))}[what]())
