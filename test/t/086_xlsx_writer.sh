#!/usr/bin/env bash
# The XLSX writer (src/engine/xlsxwrite.c) against openpyxl, the library
# Frappe's make_xlsx writes Excel files with: the same tables written both
# ways and read back by openpyxl as Frappe reads them (values, their Python
# types, number formats, the sheet title, the bold first row); the cases we
# differ on purpose; the row bound; an abandoned workbook; valgrind.
source "$FI_ROOT/test/lib.sh"
make -s -C "$FI_ROOT" test/unit/xlsxw_driver >/dev/null
DRV=$FI_ROOT/test/unit/xlsxw_driver
W=$FI_TMP/xlsxw
mkdir -p "$W"
OUT=$($FI_PY "$FI_ROOT/test/xlsx/writer_oracle.py" "$DRV" "$W" 2>&1)
printf '%s\n' "$OUT" | sed 's/^/# /'
t_like "$(printf '%s\n' "$OUT" | grep 'tables:')" "^([0-9]+) tables: \\1 agree with openpyxl, 0 differ$" \
       "every table reads back as Frappe's make_xlsx file does: values, types, number formats, title, bold header"
t_like "$(printf '%s\n' "$OUT" | grep 'tables:')" "^(8|9|[1-9][0-9]+) tables" "and there are at least 8 of them"
t_like "$(printf '%s\n' "$OUT" | grep '^same strings')" "\\(OK 11 3\\)$" \
       "three strings past 32,767 characters were cut (and counted), as openpyxl cuts them"
t_is "$(printf '%s\n' "$OUT" | grep '^purpose:')" \
     "purpose: ['=1+1', '2024-05-06 10:11:12.345678', '01:02:03.000004', 'a_x000D_\\nb']" \
     "on purpose: '=…' stays text, microseconds stay whole (as text), CR is written _x000D_ as Excel does"
t_is "$(printf '%s\n' "$OUT" | grep '^limit:')" \
     "limit: ERROR 1 an Excel sheet holds 2 rows at most (the header's included)" "rows past the bound are refused"
t_is "$(printf '%s\n' "$OUT" | grep '^abandon:'; ls "$W" | grep -c abandoned)" "abandon: ABANDONED
0" "an abandoned workbook writes no file"
t_is "$(printf 's 41\nr\nd 0 1 1\nd 10000 1 1\nD 2024 13 1 0 0 0 0\nr\n' | "$DRV" "$W/refused.xlsx" R)" "REFUSED
REFUSED
REFUSED
OK 2 0" "dates Python cannot hold are left to the caller (written as text there)"
# the compression level (libxlsxwriter has no option for it: xlsxwrite.c puts it into minizip's call),
# seen in each part's deflate flag bits (zlib's level 1: 6, 2-7: 0, 8-9: 2) and the sheet's size
"$FI_PY" -c 'import random, sys
random.seed(1)
for i in range(20000):
    print("s", ("item %d %s" % (i, random.random())).encode().hex()); print("n", random.random() * 1000); print("r")' > "$W/cells.txt"
for l in default 1 6 9; do
    "$DRV" "$W/level$l.xlsx" L 0 $([ $l = default ] || echo $l) < "$W/cells.txt" > "$W/level$l.out"
done
t_is "$(cat "$W"/level{default,1,6,9}.out | tr '\n' ' ')" "OK 20000 0 OK 20000 0 OK 20000 0 OK 20000 0 " "written at levels 1, 6 and 9"
t_is "$(for l in default 1 6 9; do "$FI_PY" -c 'import sys, zipfile
print(sorted(set(i.flag_bits & 6 for i in zipfile.ZipFile(sys.argv[1]).infolist())), end=" ")' "$W/level$l.xlsx"; done)" \
     "[6] [6] [0] [2] " "every part deflated at the level asked (1 by default)"
t_is "$("$FI_PY" -c 'import sys, zipfile, openpyxl
size = [zipfile.ZipFile(f).getinfo("xl/worksheets/sheet1.xml").compress_size for f in sys.argv[1:4]]
rows = [[c for c in openpyxl.load_workbook(f, read_only=True).active.iter_rows(values_only=True)] for f in sys.argv[1:4]]
print(size[0] > size[1] > size[2], rows[0] == rows[1] == rows[2], len(rows[0]))' "$W"/level{1,6,9}.xlsx)" "True True 20000" \
     "level 1 makes the largest sheet and 9 the smallest, with the same rows"
if command -v valgrind >/dev/null; then
    bad=0
    cells='s 41\nn 1.5\nd 2024 5 6\nD 2024 5 6 1 2 3 4000\nt 1 2 3 0\nT 5000000\ne\ns 3d312b31\nr\n'
    printf "$cells$cells" | valgrind -q --error-exitcode=9 --leak-check=full "$DRV" "$W/vg.xlsx" V >/dev/null 2>"$W/vg.1" || bad=$((bad + 1))
    printf "$cells"'a\n' | valgrind -q --error-exitcode=9 --leak-check=full "$DRV" "$W/vg2.xlsx" V >/dev/null 2>"$W/vg.2" || bad=$((bad + 1))
    printf "$cells$cells$cells" | valgrind -q --error-exitcode=9 --leak-check=full "$DRV" "$W/vg3.xlsx" V 2 >/dev/null 2>"$W/vg.3" || bad=$((bad + 1))
    t_is "$bad" "0" "valgrind: no error and no leak writing, abandoning, and refusing past the bound"
    cat "$W"/vg.? | sed 's/^/# /' | head -20
fi
t_done
