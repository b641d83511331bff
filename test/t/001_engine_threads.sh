#!/usr/bin/env bash
# The pure engines from 8 threads at once (test/unit/thread_test.c, built with
# ThreadSanitizer when clang has it): the same bytes as one thread, no race.
set -euo pipefail
make -s -C "$FI_ROOT" test/unit/thread_test >/dev/null
exec "$FI_ROOT/test/unit/thread_test"
