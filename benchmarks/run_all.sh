#!/usr/bin/env bash
# Run every benchmark on SQLite and, given a PostgreSQL URL, on PostgreSQL too.
#
#   benchmarks/run_all.sh                                          # SQLite only
#   benchmarks/run_all.sh postgresql://postgres@127.0.0.1:5432/test  # both
#
# Each step prints its table; raw figures go to benchmarks/out/. Set SIZE=small to check the
# harness in a minute instead of loading the full demo force.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PG_URL="${1:-}"
SIZE="${SIZE:-force}"

echo "== HTTP read, SQLite"
"$PY" benchmarks/http_read.py
echo "== CPU per request, SQLite (reuses the HTTP benchmark's data)"
"$PY" benchmarks/read_cost.py
if [[ -n "$PG_URL" ]]; then
    echo "== HTTP read, PostgreSQL"
    "$PY" benchmarks/http_read.py --database-url "$PG_URL"
    echo "== demo load, SQLite and PostgreSQL"
    "$PY" benchmarks/demo_load.py --size "$SIZE" --database-url sqlite --database-url "$PG_URL"
else
    echo "== demo load, SQLite"
    "$PY" benchmarks/demo_load.py --size "$SIZE"
fi
