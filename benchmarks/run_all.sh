#!/usr/bin/env bash
# Run every benchmark on SQLite and, given a PostgreSQL URL, on PostgreSQL too.
#
#   benchmarks/run_all.sh                                          # SQLite only
#   benchmarks/run_all.sh postgresql://postgres@127.0.0.1:5432/test  # both
#
# Each step prints its table; raw figures go to benchmarks/out/. Set SIZE=small to check the
# harness in a few minutes instead of loading the full demo force and a million audit entries.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PG_URL="${1:-}"
SIZE="${SIZE:-force}"
if [[ "$SIZE" == small ]]; then ENTRIES=100000; else ENTRIES=1000000; fi

echo "== HTTP read, SQLite"
"$PY" benchmarks/http_read.py
echo "== CPU per request, SQLite (builds its own data unless http_read.py --keep-db left some)"
"$PY" benchmarks/read_cost.py
echo "== authentication and audit cost, SQLite"
"$PY" benchmarks/auth_audit_cost.py
echo "== audit verify, $ENTRIES entries, SQLite"
"$PY" benchmarks/audit_verify.py --entries "$ENTRIES"
if [[ -n "$PG_URL" ]]; then
    echo "== HTTP read, PostgreSQL"
    "$PY" benchmarks/http_read.py --database-url "$PG_URL"
    echo "== authentication and audit cost, PostgreSQL"
    "$PY" benchmarks/auth_audit_cost.py --database-url "$PG_URL"
    echo "== audit verify, $ENTRIES entries, PostgreSQL"
    "$PY" benchmarks/audit_verify.py --entries "$ENTRIES" --database-url "$PG_URL"
    echo "== demo load, SQLite and PostgreSQL"
    "$PY" benchmarks/demo_load.py --size "$SIZE" --database-url sqlite --database-url "$PG_URL"
else
    echo "== demo load, SQLite"
    "$PY" benchmarks/demo_load.py --size "$SIZE"
fi
