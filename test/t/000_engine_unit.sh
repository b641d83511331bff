#!/usr/bin/env bash
# The pure engines (codec, secret formats) tested alone, without a server.
set -euo pipefail
make -s -C "$FI_ROOT" test/unit/engine_test >/dev/null
exec "$FI_ROOT/test/unit/engine_test"
