#!/usr/bin/env bash
# A short fuzz run of each parser of the pure engines (CSV reader and value
# rules, templates and conditions, secret formats and signature headers),
# built with libFuzzer, ASan and UBSan: `make fuzz-smoke`, FUZZ_SMOKE_SECONDS
# each (15 s by default); the long runs are `make fuzz`, `fuzz-import` and
# `fuzz-template`.  Any crash, leak, sanitizer report or timeout fails it.
source "$FI_ROOT/test/lib.sh"
OUT=$FI_TMP/fuzz-smoke.out
if make -s -C "$FI_ROOT" fuzz-smoke FUZZ_SMOKE_DIR="$FI_TMP/fuzz-smoke" > "$OUT" 2>&1; then
    _t_result 0 "the engines' fuzzers ran clean: $(grep -o 'number_of_executed_units: [0-9]*' "$OUT" | awk '{s = s (s ? ", " : "") $2} END {print s}') runs"
else
    _t_result 1 "the engines' fuzzers ran clean" "$(tail -n 40 "$OUT")"
fi
t_done
