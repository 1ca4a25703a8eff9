"""CPU per request of the person read, in process: where the time of ``http_read.py`` goes.

    .venv/bin/python benchmarks/read_cost.py              # reuses http_read.py --keep-db's data
    .venv/bin/python benchmarks/read_cost.py --profile    # plus a cProfile of the person read

The HTTP benchmark's figures move with whatever else the machine runs. This one drives the
two ASGI apps directly, one request at a time on one thread, with no server and no sockets,
and counts the CPU time each request costs. The requests carry a real token (an officer
signed in with password and TOTP through the identity services) and a reason. It also times
the query function alone (``records.queries.get_record``, with the consultation it writes to
the audit trail), so the table splits a request into the framework's share (authentication
included) and the database read's. Rounds alternate between the apps; figures are medians.

Because one worker serves requests one after another on one core, the inverse of these costs
bounds the req/s of ``http_read.py`` from above, and their ratio predicts its ratio well
before any socket is opened.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import time
import uuid
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from _common import (
    BENCH,
    REASON_HEADERS,
    bench_settings,
    create_bench_user,
    machine,
    median,
    run_dir,
    sign_in_services,
)
from _dataset import prepare_database

console = Console(width=None if sys.stdout.isatty() else 132)
Message = MutableMapping[str, Any]


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="In-process CPU per request: person read vs bare.")
    p.add_argument("--database-url", default=None, help="as http_read.py (default: SQLite)")
    p.add_argument("--persons", type=int, default=10_000, help="persons in the database (10000)")
    p.add_argument("--requests", type=int, default=2_000, help="requests per round (2000)")
    p.add_argument("--rounds", type=int, default=5, help="rounds per app (5)")
    p.add_argument(
        "--fresh",
        action="store_true",
        help="build a database of this run's own even if http_read.py --keep-db left one",
    )
    p.add_argument("--profile", action="store_true", help="print a cProfile of the person read")
    args = p.parse_args(argv)
    if not 1 <= args.requests <= 100_000 or not 1 <= args.rounds <= 50:
        p.error("keep it bounded: --requests 1..100000, --rounds 1..50")
    return args


async def _drive(app: Any, paths: Sequence[str], count: int, token: str) -> None:
    """Send ``count`` GET requests to ``app``, one at a time; every answer must be 200."""
    headers = [
        (b"host", b"127.0.0.1"),
        (b"authorization", f"Bearer {token}".encode()),
        *((k.lower().encode(), v.encode()) for k, v in REASON_HEADERS.items()),
    ]
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    for i in range(count):
        path = paths[i % len(paths)]
        scope: Message = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        await app(scope, receive, send)
    bad = [s for s in statuses if s != 200]
    if bad or len(statuses) != count:
        msg = f"{len(bad)} of {count} answers were not 200 (first: {bad[:1]})"
        raise RuntimeError(msg)


def _cpu_us(run: Callable[[], None], count: int) -> float:
    start = time.process_time()
    run()
    return (time.process_time() - start) / count * 1e6


def _profile(run_ours: Callable[[], None], run_query: Callable[[], None], count: int) -> str:
    """Thread hand-offs per request, and where the query's own time goes.

    cProfile sees only the thread it runs on: on the event loop's thread a request shows as
    work handed to the executor (``ThreadPoolExecutor.submit``) and time waiting in
    ``epoll``; the query, run here on this thread, shows its own functions.
    """
    profiler = cProfile.Profile()
    profiler.runcall(run_ours)
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    submits = sum(
        v[1]
        for (file, _, name), v in raw.items()
        if name == "submit" and file.endswith("thread.py")
    )
    out = io.StringIO()
    out.write(
        f"thread hand-offs per person read (ThreadPoolExecutor.submit): {submits / count:.1f}\n"
    )
    profiler = cProfile.Profile()
    profiler.runcall(run_query)
    out.write(f"\nqueries.get_record alone, {count} calls, by own time:\n")
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(20)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915  (one straight measurement script)
    args = _parse_args(argv)
    sys.path.insert(0, str(BENCH))
    from bluelight.app import create_app
    from bluelight.audit import Justification
    from bluelight.audit.door import Door
    from bluelight.db import Database, make_engine
    from bluelight.identity.services import authenticate
    from bluelight.records import queries
    from bluelight.records.kinds import PERSON
    from hello_app import app_factory as hello_factory

    facts = machine()
    console.print(
        f"[bold]read_cost[/] {facts['date']} · {facts['nproc']} x {facts['cpu']} · "
        f"Python {facts['python']} · litestar {facts['litestar']} · "
        f"SQLAlchemy {facts['sqlalchemy']}"
    )
    workdir = run_dir("read_cost")
    prepared = None
    if not args.fresh:
        try:  # the database http_read.py --keep-db left, when there is one
            prepared = prepare_database(
                args.database_url, args.persons, workdir=workdir, reuse=True, console=console
            )
        except Exception:  # noqa: BLE001  (none kept, or too small: build one below)
            prepared = None
    if prepared is None:
        prepared = prepare_database(
            args.database_url, args.persons, workdir=workdir, console=console
        )
    console.print(f"database: {prepared.label}, {len(prepared.ids)} persons")
    settings = bench_settings(prepared.url, workdir / "data")
    username = create_bench_user(prepared.url, settings.data_dir)
    db = Database(make_engine(prepared.url))
    ours = create_app(settings, database=db)
    policy, writer = ours.state.identity_policy, ours.state.audit_writer
    token = sign_in_services(db, policy, username)
    actor = authenticate(db, policy, token)
    why = Justification(code=REASON_HEADERS["X-Bluelight-Reason"], text="benchmark read")
    bare = hello_factory()
    person_paths = [f"/api/v1/persons/{i}" for i in prepared.ids]
    ids = [uuid.UUID(i) for i in prepared.ids]
    loop = asyncio.new_event_loop()
    n = args.requests

    def run_ours() -> None:
        loop.run_until_complete(_drive(ours, person_paths, n, token))

    def run_bare() -> None:
        loop.run_until_complete(_drive(bare, ["/hello"], n, token))

    def run_query() -> None:
        for i in range(n):
            queries.get_record(Door(writer), db, PERSON, ids[i % len(ids)], actor=actor, why=why)

    costs: dict[str, list[float]] = {"ours": [], "bare": [], "query": []}
    try:
        for run in (run_ours, run_bare, run_query):  # warm-up: caches, pools, compiled SQL
            run()
        for round_no in range(args.rounds):
            steps = [("ours", run_ours), ("bare", run_bare), ("query", run_query)]
            for name, run in steps if round_no % 2 == 0 else steps[::-1]:
                costs[name].append(_cpu_us(run, n))
        report = _profile(run_ours, run_query, n) if args.profile else None
    finally:
        loop.close()
        writer.close()
        db.dispose()
        prepared.drop()

    ours_us, bare_us, query_us = (median(costs[k]) for k in ("ours", "bare", "query"))
    table = Table(
        title=f"CPU per request, in process (median of {args.rounds} rounds of {n})",
        title_justify="left",
    )
    table.add_column("what")
    table.add_column("µs CPU", justify="right")
    table.add_column("rounds (µs)", justify="right")
    table.add_column("bound on req/s, 1 core", justify="right")
    rows = [
        ("GET /api/v1/persons/{id} (whole request)", ours_us, costs["ours"]),
        ("  of which queries.get_record alone (with its audit entry)", query_us, costs["query"]),
        ("  of which the framework, auth and encoding", ours_us - query_us, []),
        ("GET /hello (bare Litestar)", bare_us, costs["bare"]),
    ]
    for label, value, samples in rows:
        table.add_row(
            label,
            f"{value:,.0f}",
            " ".join(f"{s:,.0f}" for s in samples),
            f"{1e6 / value:,.0f}" if samples else "",
        )
    console.print(table)
    console.print(
        f"predicted ratio ours/bare (bare cost / our cost): [bold]{bare_us / ours_us:.2f}[/]"
    )
    if report is not None:
        console.print(report, markup=False, highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
