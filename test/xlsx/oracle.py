"""The XLSX reader against openpyxl, Frappe's own library (test/t/085).

Writes workbooks with openpyxl and by hand (the parts openpyxl does not
write: cached formula values, inline and rich strings, booleans and errors,
the 1904 system, an active second sheet, rows and cells without numbers),
reads each as Frappe's read_xlsx_file_from_attached_file does (load_workbook
data_only, wb.active, iter_rows, cstr), and compares with the C reader's
rows (test/unit/xlsx_driver).  Prints one line per file, then a summary.
"""
import datetime
import hashlib
import io
import json
import random
import subprocess
import sys
import time
import zipfile

import openpyxl

DRIVER, WORK = sys.argv[1], sys.argv[2]
MADE_ELSEWHERE = sys.argv[3:]     # workbooks written by other programs (LibreOffice: test/t/085)


def frappe_rows(path):
    wb = openpyxl.load_workbook(filename=path, data_only=True)
    ws = wb.active
    return [["" if c.value is None else str(c.value) for c in row] for row in ws.iter_rows()]


def ours(path, *extra):
    out = subprocess.run([DRIVER, path, *extra], capture_output=True, text=True, check=True).stdout
    if out.startswith("ERROR"):
        return out.strip()
    return [json.loads(line) for line in out.splitlines()]


def by_openpyxl(name, fill):
    wb = openpyxl.Workbook()
    fill(wb)
    path = f"{WORK}/{name}.xlsx"
    wb.save(path)
    return path


CT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
{sheets}
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def by_hand(name, sheets, strings=(), numfmts=(), xfs=(0,), date1904=False, active=0, prefix=""):
    """sheets: list of sheetData XML; strings: <si> bodies; xfs: numFmtId per cell format."""
    p = prefix
    path = f"{WORK}/{name}.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CT.format(sheets="".join(
            f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(len(sheets)))))
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   f'<Relationship Id="rId1" Type="{R}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   + "".join(f'<Relationship Id="rId{i + 1}" Type="{R}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>' for i in range(len(sheets)))
                   + f'<Relationship Id="rIdS" Type="{R}/sharedStrings" Target="sharedStrings.xml"/>'
                   + f'<Relationship Id="rIdT" Type="{R}/styles" Target="/xl/styles.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><{p}workbook {NS.replace("xmlns=", "xmlns" + (":" + p[:-1] if p else "") + "=")}>'
                   + (f'<{p}workbookPr date1904="1"/>' if date1904 else "")
                   + f'<{p}bookViews><{p}workbookView activeTab="{active}"/></{p}bookViews><{p}sheets>'
                   + "".join(f'<{p}sheet name="S{i + 1}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i in range(len(sheets)))
                   + f'</{p}sheets></{p}workbook>')
        z.writestr("xl/styles.xml", f'<?xml version="1.0"?><styleSheet {NS}><numFmts count="{len(numfmts)}">'
                   + "".join(f'<numFmt numFmtId="{i}" formatCode="{c}"/>' for i, c in numfmts)
                   + '</numFmts><fonts count="1"><font/></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders>'
                   + '<cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs>'
                   + f'<cellXfs count="{len(xfs)}">' + "".join(f'<xf numFmtId="{i}" xfId="0" applyNumberFormat="1"/>' for i in xfs)
                   + '</cellXfs></styleSheet>')
        z.writestr("xl/sharedStrings.xml", f'<?xml version="1.0"?><sst {NS} count="{len(strings)}">'
                   + "".join(f"<si>{s}</si>" for s in strings) + "</sst>")
        for i, data in enumerate(sheets):
            z.writestr(f"xl/worksheets/sheet{i + 1}.xml",
                       f'<?xml version="1.0"?><{p}worksheet {NS.replace("xmlns=", "xmlns" + (":" + p[:-1] if p else "") + "=")}>'
                       f'<{p}sheetData>{data}</{p}sheetData></{p}worksheet>')
    return path


files = []

# 1. openpyxl's own: every Python type Frappe's users put in a sheet
def types(wb):
    ws = wb.active
    ws.append(["Item Code", "Qty", "Rate", "Date", "When", "At", "Flag", "Note", None])
    ws.append(["A1", 5, 1.5, datetime.date(2026, 12, 3), datetime.datetime(2026, 12, 3, 10, 30, 15), datetime.time(10, 30),
               True, "é ünïcode 😀", None])
    ws.append(["B2", -7, 1e20, datetime.date(1900, 1, 1), datetime.datetime(1899, 12, 31, 0, 0), datetime.time(0, 0, 1),
               False, "", "x"])
    ws.append(["C3", 10 ** 17, 0.1 + 0.2, datetime.date(1900, 3, 1), datetime.datetime(9999, 12, 31, 23, 59, 59),
               datetime.time(23, 59, 59, 500000), None, "  padded  ", None])
    ws.append([None] * 9)
    ws.append(["D4", 0, -0.0, datetime.date(2000, 2, 29), datetime.datetime(2026, 1, 1, 0, 0, 0, 123000), None, 1, "a\nb", None])
    ws["K9"] = "far"
    ws.cell(row=12, column=2).number_format = "0.00"   # a styled empty cell widens nothing? (openpyxl keeps it)
    ws["B12"].value = None
files.append(by_openpyxl("types", types))

def formats(wb):
    ws = wb.active
    for i, fmt in enumerate(["dd/mm/yyyy", "yyyy-mm-dd hh:mm", "h:mm AM/PM", "[h]:mm:ss", "mm:ss", '"Date: "0.00',
                              "[Red]0.00", "d", "0.00E+00", "#,##0", "[$-409]mmmm d, yyyy", "@", "General"]):
        for j, v in enumerate([45000, 45000.5, 0.25, 1.75, 61, 59.999, 0.999999, 2.5e-7, -1.5]):
            c = ws.cell(row=j + 1, column=i + 1, value=v)
            c.number_format = fmt
files.append(by_openpyxl("formats", formats))

def sheets(wb):
    wb.active.append(["first"])
    s2 = wb.create_sheet("Second")
    s2.append(["second", 2])
    wb.active = 1
    s3 = wb.create_sheet("Hidden")
    s3.sheet_state = "hidden"
    s3.append(["hidden"])
files.append(by_openpyxl("active", sheets))

def empty(wb):
    pass
files.append(by_openpyxl("empty", empty))

random.seed(5)
def fuzzy(wb):
    ws = wb.active
    alpha = "abc é€😀 ,\"'\n\t<>&;x005F_"
    for r in range(300):
        row = []
        for c in range(12):
            k = random.randint(0, 6)
            row.append(None if k == 0 else random.randint(-10 ** 12, 10 ** 12) if k == 1 else
                       random.uniform(-1e6, 1e6) if k == 2 else
                       "".join(random.choice(alpha) for _ in range(random.randint(0, 20))) if k == 3 else
                       datetime.datetime(random.randint(1901, 2100), random.randint(1, 12), random.randint(1, 28),
                                         random.randint(0, 23), random.randint(0, 59), random.randint(0, 59)) if k == 4 else
                       datetime.date(random.randint(1901, 2100), random.randint(1, 12), random.randint(1, 28)) if k == 5 else
                       bool(random.randint(0, 1)))
        ws.append(row)
files.append(by_openpyxl("random", fuzzy))

def merged(wb):
    ws = wb.active
    ws.append(["Item Code", "Qty", "Note", "End"])
    ws.append(["M-1", 1, "spans two columns", "x"])
    ws.merge_cells("C2:D2")                     # D2's value goes: openpyxl keeps only the top-left one
    ws.append(["M-2", 2, "spans", "rows"])
    ws.append([None, 3, None, "y"])
    ws.merge_cells("A3:A4")
    ws.merge_cells("C3:C5")
    ws.append(["M-5", 5])
files.append(by_openpyxl("merged", merged))

# 2. by hand: what Excel and LibreOffice write and openpyxl does not
files.append(by_hand("hand", [
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>'
    '<row r="3"><c r="A3"><f>1+1</f><v>2</v></c><c r="B3" t="str"><f>A1</f><v>text result</v></c>'
    '<c r="C3" t="b"><v>1</v></c><c r="D3" t="e"><v>#DIV/0!</v></c><c r="E3" t="inlineStr"><is><t>inline</t></is></c>'
    '<c r="F3" t="inlineStr"><is><r><t>ri</t></r><r><rPr/><t xml:space="preserve">ch </t></r></is></c></row>'
    '<row><c t="s"><v>3</v></c><c s="1"><v>45000.25</v></c><c s="2"><v>1.5</v></c><c s="3"><v>0.5</v></c></row>'
    '<row r="5"><c r="B5" t="d"><v>2026-12-03T10:20:30.5Z</v></c><c r="C5" t="d"><v>2026-12-03</v></c><c r="D5" s="1"/><c r="E5" t="s"><v>-1</v></c></row>',
    '<row r="1"><c r="A1" t="s"><v>4</v></c></row>'],
    strings=["<t>plain</t>", "<r><t>rich</t></r><r><t xml:space=\"preserve\"> text</t></r>",
             "<t>ruby</t><rPh sb=\"0\" eb=\"1\"><t>ルビ</t></rPh>", "<t>a_x005F_x000D_b</t>", "<t>other sheet</t>"],
    numfmts=[(164, "dd/mm/yyyy hh:mm"), (165, "[hh]:mm")], xfs=(0, 164, 165, 21)))
files.append(by_hand("h1904", ['<row r="1"><c s="1"><v>0</v></c><c s="1"><v>45000</v></c><c s="1"><v>1.5</v></c><c s="2"><v>30</v></c></row>'],
                     xfs=(0, 14, 22), date1904=True))
files.append(by_hand("active2", ['<row r="1"><c t="inlineStr"><is><t>one</t></is></c></row>',
                                 '<row r="1"><c t="inlineStr"><is><t>two</t></is></c></row>'], active=1))
files.append(by_hand("emptystrings", ['<row r="1"><c t="s"><v>0</v></c><c t="s"><v>1</v></c><c><v>1</v></c></row>'
                                      '<row r="2"><c t="s"><v>2</v></c><c t="s"><v>0</v></c></row>'],
                     strings=["<t></t>", "<t/>", "<t>after</t>"]))
files.append(by_hand("prefixed", ['<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>ns</x:t></x:is></x:c><x:c r="C1"><x:v>7</x:v></x:c></x:row>'],
                     prefix="x:"))

files += MADE_ELSEWHERE
agree = differ = 0
for path in files:
    want, got = frappe_rows(path), ours(path)
    if want == got:
        agree += 1
        print(f"same {path.rsplit('/', 1)[1]}: {len(want)} rows")
    else:
        differ += 1
        print(f"DIFFERENT {path.rsplit('/', 1)[1]}")
        for i, (a, b) in enumerate(zip(want, got if isinstance(got, list) else [])):
            if a != b:
                print("  row", i + 1, "openpyxl", a, "\n         ours    ", b)
                break
        else:
            print("  openpyxl", len(want), "rows; ours", got if isinstance(got, str) else len(got))
print(f"{len(files)} workbooks: {agree} agree with openpyxl, {differ} differ")

# 3. bad input: each a clear error of the reader (its FiXlsxErr), never a crash
def raw_zip(name, parts):
    path = f"{WORK}/{name}.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in parts.items():
            z.writestr(k, v)
    return path


good = f"{WORK}/hand.xlsx"
with zipfile.ZipFile(good) as z:
    base = {n: z.read(n) for n in z.namelist()}


def variant(name, **changes):
    parts = dict(base)
    parts.update({k.replace("__", "/").replace("_xml", ".xml"): v for k, v in changes.items()})
    return raw_zip(name, parts)


open(f"{WORK}/notzip.xlsx", "wb").write(b"Item Code,Qty\nA1,5\n")
bad = [
    ("not a ZIP", f"{WORK}/notzip.xlsx", (), "1"),
    ("a ZIP without a workbook", raw_zip("nowb", {"a.txt": "x"}), (), "1"),
    ("a workbook without a worksheet", variant("nosheet", xl__workbook_xml=f'<workbook {NS}><sheets/></workbook>'), (), "1"),
    ("a ZIP bomb (a sheet inflating past max_part)",
     variant("bomb", xl__worksheets__sheet1_xml=f'<worksheet {NS}><sheetData>' + " " * 50_000_000 + "</sheetData></worksheet>"),
     ("10000000",), "4"),
    ("a DTD with an entity (refused, never expanded)",
     variant("dtd", xl__worksheets__sheet1_xml='<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
             f'<worksheet {NS}><sheetData><row r="1"><c t="inlineStr"><is><t>&b;</t></is></c></row></sheetData></worksheet>'), (), "2"),
    ("a shared-string index out of range",
     variant("sst", xl__worksheets__sheet1_xml=f'<worksheet {NS}><sheetData><row r="1"><c t="s"><v>99</v></c></row></sheetData></worksheet>'), (), "3"),
    ("a cell beyond 16,384 columns",
     variant("cols", xl__worksheets__sheet1_xml=f'<worksheet {NS}><sheetData><row r="1"><c r="XFE1"><v>1</v></c></row></sheetData></worksheet>'), (), "4"),
    ("invalid UTF-8 in the shared strings",
     variant("utf8", xl__sharedStrings_xml=f'<sst {NS}><si><t>'.encode() + b"\xff\xfe bad" + b"</t></si></sst>"), (), "2"),
    ("a sheet that is not XML", variant("notxml", xl__worksheets__sheet1_xml="<worksheet><sheetData><row>"), (), "2"),
    ("a cell referenced as column 0 (found by xlsx_fuzz)",
     variant("col0", xl__worksheets__sheet1_xml=f'<worksheet {NS}><sheetData><row r="1"><c r="0"/><c r="1A"><v>1</v></c></row></sheetData></worksheet>'), (), "3"),
    ("a number cell that is no number",
     variant("nan", xl__worksheets__sheet1_xml=f'<worksheet {NS}><sheetData><row r="1"><c><v>12abc</v></c></row></sheetData></worksheet>'), (), "3"),
]
refused = 0
for desc, path, extra, code in bad:
    got = ours(path, *extra)
    ok = isinstance(got, str) and got.split()[1] == code
    refused += ok
    print(f"{'refused' if ok else 'NOT REFUSED'} {desc}: {got if isinstance(got, str) else str(len(got)) + ' rows'}")
print(f"{len(bad)} bad files: {refused} refused with the right error")

# 4. a million rows, written by openpyxl as Frappe's users' big sheets are (write_only), compared row by
#    row with openpyxl's own reading (read_only: the same values, in bounded memory) through a digest
def digest(rows):
    h = hashlib.sha256()
    n = 0
    for row in rows:
        h.update(("\x1f".join(row) + "\n").encode())
        n += 1
    return n, h.hexdigest()


t0 = time.monotonic()
wb = openpyxl.Workbook(write_only=True)
ws = wb.create_sheet()
ws.append(["Item Code", "End of Life"])
day = datetime.date(2020, 1, 1)
for i in range(1_000_000):
    ws.append([f"R-{i}", day + datetime.timedelta(days=i % 3000)])
big = f"{WORK}/million.xlsx"
wb.save(big)
t1 = time.monotonic()
wb = openpyxl.load_workbook(big, read_only=True, data_only=True)
want = digest(["" if v is None else str(v) for v in row] for row in wb.active.iter_rows(values_only=True))
t2 = time.monotonic()
drv = subprocess.Popen([DRIVER, big, "2000000000"], stdout=subprocess.PIPE, text=True)
got = digest(json.loads(line) for line in drv.stdout)
drv.wait()
t3 = time.monotonic()
print(f"{want[0]} rows of openpyxl ({t1 - t0:.1f} s to write, {t2 - t1:.1f} s to read): "
      f"{'the same' if want == got else 'NOT THE SAME'} rows read by ours in {t3 - t2:.1f} s ({got[0]} rows)")
