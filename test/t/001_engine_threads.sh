#!/usr/bin/env bash
# The pure engines from 8 threads at once (test/unit/thread_test.c, built with
# ThreadSanitizer when clang has it): the same bytes as one thread, no race;
# the XLSX reader among them, every thread reading the same workbook.
set -euo pipefail
make -s -C "$FI_ROOT" test/unit/thread_test >/dev/null
# a workbook every thread reads (300 rows of every kind of cell)
XLSX=$FI_TMP/threads.xlsx
/usr/bin/python3 - "$XLSX" <<'PY'
import datetime, sys
import openpyxl
wb = openpyxl.Workbook()
ws = wb.active
for i in range(300):
    ws.append([f"r{i} é", i, i * 0.25, datetime.datetime(2026, 1, 1) + datetime.timedelta(hours=i), i % 2 == 0, None, "x" * (i % 7)])
wb.save(sys.argv[1])
PY
# (glibc's tzset, which libzip reaches, locks inside libc where TSan cannot see: test/unit/tsan.supp)
export TSAN_OPTIONS="suppressions=$FI_ROOT/test/unit/tsan.supp"
exec "$FI_ROOT/test/unit/thread_test" "$XLSX"
