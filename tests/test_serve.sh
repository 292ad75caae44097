#!/bin/sh
# test_serve.sh — `glam-eval serve` end to end (tests/serve_client.py: the server against the local runtime on
# stories260K and an `init` checkpoint, limits, errors, concurrency, disconnects). Prints TAP; skips visibly
# without python3.
srcdir=${TEST_SRCDIR:-.}
if ! command -v python3 >/dev/null 2>&1; then
    echo "1..0 # SKIP python3 is not installed"
    exit 0
fi
GLAM_EVAL_BIN=${GLAM_EVAL_BIN:-./glam-eval} exec python3 "$srcdir/tests/serve_client.py"
