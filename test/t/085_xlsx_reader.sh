#!/usr/bin/env bash
# The XLSX reader (src/engine/xlsx.c) against openpyxl, the library Frappe's
# Data Import reads Excel files with: workbooks written by openpyxl and by
# hand (cached formula values, inline and rich strings, booleans, errors,
# the 1904 system, an active second sheet, namespace prefixes, merged cells,
# a million rows) and by LibreOffice, read as Frappe reads them
# (load_workbook data_only, wb.active, iter_rows, cstr); then bad files, each
# refused with its error; then valgrind over some.
source "$FI_ROOT/test/lib.sh"
make -s -C "$FI_ROOT" test/unit/xlsx_driver >/dev/null
DRV=$FI_ROOT/test/unit/xlsx_driver
W=$FI_TMP/xlsx
mkdir -p "$W"
# LibreOffice's own files: test/xlsx/libreoffice.fods (every value type of
# Calc, a formula's cached number and text, merged cells, a hidden sheet),
# and the same in the 1904 date system, saved as .xlsx by soffice
sed 's|<office:spreadsheet>|&<table:calculation-settings><table:null-date table:date-value="1904-01-01"/></table:calculation-settings>|' \
    "$FI_ROOT/test/xlsx/libreoffice.fods" > "$W/libreoffice1904.fods"
cp "$FI_ROOT/test/xlsx/libreoffice.fods" "$W/"
LO=$(soffice_xlsx "$W/lo" "$W/libreoffice.fods" "$W/libreoffice1904.fods")
t_is "$?|$LO|$("$FI_PY" -c 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read("xl/workbook.xml").decode())' "$W/lo/libreoffice1904.xlsx" 2>&1 | grep -o 'date1904="[a-z]*"')" '0||date1904="true"' \
     "LibreOffice saved its two workbooks as .xlsx (one in the 1904 date system)"
OUT=$($FI_PY "$FI_ROOT/test/xlsx/oracle.py" "$DRV" "$W" "$W/lo/libreoffice.xlsx" "$W/lo/libreoffice1904.xlsx" 2>&1)
printf '%s\n' "$OUT" | sed 's/^/# /'
t_like "$(printf '%s\n' "$OUT" | grep 'workbooks:')" "^([0-9]+) workbooks: \\1 agree with openpyxl, 0 differ$" \
       "every workbook's rows are openpyxl's, as Frappe's cstr writes them"
t_like "$(printf '%s\n' "$OUT" | grep 'workbooks:')" "^(9|[1-9][0-9]+) workbooks" "and there are at least 9 of them"
t_like "$(printf '%s\n' "$OUT" | grep 'bad files:')" "^([0-9]+) bad files: \\1 refused with the right error$" \
       "every bad file is refused with its error (not a ZIP, no sheet, ZIP bomb, DTD, string index, columns, UTF-8, XML, number)"
t_is "$(printf '%s\n' "$OUT" | grep -E -c '^same (merged|emptystrings|libreoffice|libreoffice1904)\.xlsx')" "4" \
     "among them merged cells, empty shared strings and LibreOffice's two"
t_like "$(printf '%s\n' "$OUT" | grep 'rows of openpyxl')" "^1000001 rows of openpyxl .*: the same rows read by ours" \
       "a million-row sheet openpyxl wrote: every row as openpyxl reads it"
t_is "$(printf '%s\n' "$OUT" | grep -c '^same ')" "$(printf '%s\n' "$OUT" | sed -n 's/^\([0-9]*\) workbooks.*/\1/p')" \
     "(one line per workbook)"
# a rewind reads the same rows again (the import reads a sheet twice: dates, then rows)
t_is "$("$DRV" "$W/random.xlsx" 1073741824 again | sort | uniq -c | awk '$1 != 2' | wc -l)" "0" \
     "after a rewind the same rows come again"
if command -v valgrind >/dev/null; then
    bad=0
    for f in hand types random bomb dtd sst utf8 notzip; do
        valgrind -q --error-exitcode=9 --leak-check=full "$DRV" "$W/$f.xlsx" 10000000 again >/dev/null 2>"$W/vg.$f" || bad=$((bad + 1))
    done
    t_is "$bad" "0" "valgrind: no error and no leak reading good and bad files"
fi
t_done
