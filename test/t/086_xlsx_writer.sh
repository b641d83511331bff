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
