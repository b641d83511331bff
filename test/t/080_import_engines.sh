#!/usr/bin/env bash
# The import engines against Python, which Frappe's Data Import runs on: the
# CSV reader against csv.reader on generated nasty files and the csv-spectrum
# cases (npm), date-format guessing against Frappe's guess_date_format with
# datetime.strptime, numbers against float() after flt()'s comma removal.
source "$FI_ROOT/test/lib.sh"
make -s -C "$FI_ROOT" test/unit/import_driver >/dev/null
DRV=$FI_ROOT/test/unit/import_driver
DIFF="$FI_PY $FI_ROOT/test/unit/import_diff.py $DRV"

t_is "$($DIFF csv 4000 2>&1)" "ok csv 4015" "CSV records agree with Python's csv.reader on 4,015 files"

NPM=$FI_TMP/npm
mkdir -p "$NPM"
if (cd "$NPM" && npm install --no-audit --no-fund --silent csv-spectrum@2.0.0 >/dev/null 2>&1); then
    t_is "$($DIFF spectrum "$NPM/node_modules/csv-spectrum" 2>&1)" "ok csv-spectrum 12" \
         "CSV records agree with all 12 csv-spectrum cases"
else
    _t_result 1 "npm install csv-spectrum (the npm registry must be reachable)"
fi

t_is "$($DIFF dates 6000 2>&1)" "ok dates 6015" "date guesses and values agree with Frappe's guess_date_format + strptime"
t_is "$($DIFF numbers 6000 2>&1)" "ok numbers 6019" "numbers agree with float() after flt()'s comma removal"

# the engine's answers to a few cases by hand (a differential test can agree on a bug)
t_is "$(printf '1d 2h\n2h 30m\n1d2h\n45s\n3600\n' | $DRV duration 2>&1)" "93600
9000
-
45
-" "Duration: Frappe's pattern, to seconds"
t_is "$(printf 'Yes\nn\nTRUE\n1,000\nmaybe\n2.9\n' | $DRV check 2>&1)" "1
0
1
1000
-
2" "Check words, numbers truncated as cint"
t_done
