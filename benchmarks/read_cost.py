"""CPU per request of the person read, in process: where the time of ``http_read.py`` goes.

    .venv/bin/python benchmarks/read_cost.py              # reuses http_read.py --keep-db's data
    .venv/bin/python benchmarks/read_cost.py --profile    # plus a cProfile of the person read

The HTTP benchmark's figures move with whatever else the machine runs. This one drives the
ASGI apps directly, with no server and no sockets, ``--at-once`` requests at a time (as a
loaded server has them: they share the reader's rounds), and counts the CPU time each request
costs, all threads together. The requests carry a real token (an officer signed in with
password and TOTP through the identity services) and a reason. It splits a person read into:

- the round: the same reads handed to the reader directly (``RecordReader.release_to``, the
  token looked up, the persons read, the consultations committed), ``--at-once`` together;
- the framework's share: the person read over ASGI with the reader's answer given from
  memory, through the direct path of a read by id (``web.direct``) and, for comparison, the
  long way through Litestar's router and layers.

Rounds alternate the order of the measures; figures are medians. The ratio of the bare
hello-world's cost to the whole read's predicts ``http_read.py``'s ratio before any socket is
opened (the server adds a roughly fixed cost per request on both sides).
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
    p.add_argument("--requests", type=int, default=2_048, help="requests per round (2048)")
    p.add_argument("--at-once", type=int, default=32, help="requests at a time (32)")
    p.add_argument("--rounds", type=int, default=5, help="rounds per measure (5)")
    p.add_argument(
        "--fresh",
        action="store_true",
        help="build a database of this run's own even if http_read.py --keep-db left one",
    )
    p.add_argument("--profile", action="store_true", help="print a cProfile of the person read")
    args = p.parse_args(argv)
    if not 1 <= args.requests <= 100_000 or not 1 <= args.rounds <= 50:
        p.error("keep it bounded: --requests 1..100000, --rounds 1..50")
    if not 1 <= args.at_once <= 256:
        p.error("--at-once must be 1..256 (a round reads at most 256)")
    return args


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> Message:
    return {
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


async def _drive(app: Any, paths: Sequence[str], count: int, token: str, at_once: int) -> None:
    """Send ``count`` GET requests to ``app``, ``at_once`` at a time; every answer must be 200."""
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

    for start in range(0, count, at_once):
        await asyncio.gather(
            *(
                app(_scope(paths[i % len(paths)], headers), receive, send)
                for i in range(start, min(start + at_once, count))
            )
        )
    bad = [s for s in statuses if s != 200]
    if bad or len(statuses) != count:
        msg = f"{len(bad)} of {count} answers were not 200 (first: {bad[:1]})"
        raise RuntimeError(msg)


def _cpu_us(run: Callable[[], None], count: int) -> float:
    start = time.process_time()
    run()
    return (time.process_time() - start) / count * 1e6


def _profile(run_ours: Callable[[], None], count: int) -> str:
    """Where the event loop's thread spends a person read (cProfile sees only the thread it
    runs on: the rounds, on the reader's worker thread, show as time waiting in ``epoll``)."""
    profiler = cProfile.Profile()
    profiler.runcall(run_ours)
    out = io.StringIO()
    out.write(f"\nthe person read on the event loop's thread, {count} requests, by own time:\n")
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(25)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915  (one straight measurement script)
    args = _parse_args(argv)
    sys.path.insert(0, str(BENCH))
    from functools import partial

    from bluelight.app import create_app, tune_collector
    from bluelight.audit import Justification
    from bluelight.db import Database, make_engine
    from bluelight.kernel.permissions import Permission, needs
    from bluelight.records.kinds import PERSON
    from bluelight.records.reader import Caller, RecordReader
    from bluelight.web.auth import authorise
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
    reader: RecordReader = ours.state.reader
    direct = ours.asgi_handler
    token = sign_in_services(db, ours.state.identity_policy, username)
    why = Justification(code=REASON_HEADERS["X-Bluelight-Reason"], text="benchmark read")
    admit = partial(authorise, opt=needs(Permission.PERSON_READ))
    bare = hello_factory()
    person_paths = [f"/api/v1/persons/{i}" for i in prepared.ids]
    ids = [uuid.UUID(i) for i in prepared.ids]
    loop = asyncio.new_event_loop()
    n, at_once = args.requests, args.at_once
    tune_collector()  # as the server runs (bluelight.app.app_factory)

    # The reader's answer to each person read, from memory: the framework's share alone
    remembered: dict[uuid.UUID, tuple[Any, Any]] = {}
    real_release = reader.release_to

    async def from_memory(caller: Any, kind: Any, record_id: uuid.UUID, *, why: Any) -> Any:
        known = remembered.get(record_id)
        if known is None:
            known = remembered[record_id] = await real_release(caller, kind, record_id, why=why)
        return known

    def run_ours() -> None:
        loop.run_until_complete(_drive(ours, person_paths, n, token, at_once))

    def run_bare() -> None:
        loop.run_until_complete(_drive(bare, ["/hello"], n, token, at_once))

    def run_round() -> None:
        async def together(start: int) -> None:
            await asyncio.gather(
                *(
                    reader.release_to(Caller(token, admit), PERSON, ids[i % len(ids)], why=why)
                    for i in range(start, min(start + at_once, n))
                )
            )

        for start in range(0, n, at_once):
            loop.run_until_complete(together(start))

    def framework(way: Any) -> Callable[[], None]:
        def run() -> None:
            ours.asgi_handler = way
            reader.release_to = from_memory  # type: ignore[method-assign]
            try:
                loop.run_until_complete(_drive(ours, person_paths, n, token, at_once))
            finally:
                ours.asgi_handler = direct
                del reader.release_to

        return run

    steps = [
        ("ours", run_ours),
        ("round", run_round),
        ("direct", framework(direct)),
        ("long", framework(direct.fallback)),
        ("bare", run_bare),
    ]
    costs: dict[str, list[float]] = {name: [] for name, _ in steps}
    try:
        for _, run in steps:  # warm-up: caches, pools, compiled SQL, the remembered answers
            run()
        for round_no in range(args.rounds):
            for name, run in steps if round_no % 2 == 0 else steps[::-1]:
                costs[name].append(_cpu_us(run, n))
        report = _profile(run_ours, n) if args.profile else None
    finally:
        loop.close()
        reader.close()
        ours.state.door.close()
        ours.state.audit_writer.close()
        db.dispose()
        prepared.drop()

    cost = {name: median(values) for name, values in costs.items()}
    table = Table(
        title=f"CPU per request, in process, {at_once} at a time "
        f"(median of {args.rounds} rounds of {n})",
        title_justify="left",
    )
    table.add_column("what")
    table.add_column("µs CPU", justify="right")
    table.add_column("rounds (µs)", justify="right")
    table.add_column("bound on req/s, 1 core", justify="right")
    rows = [
        ("GET /api/v1/persons/{id} (whole request)", "ours"),
        ("  its round alone (token, read, consultations committed)", "round"),
        ("  the framework alone (round answered from memory): direct path", "direct"),
        ("  the same, the long way through Litestar's router and layers", "long"),
        ("GET /hello (bare Litestar)", "bare"),
    ]
    for label, name in rows:
        table.add_row(
            label,
            f"{cost[name]:,.0f}",
            " ".join(f"{s:,.0f}" for s in costs[name]),
            f"{1e6 / cost[name]:,.0f}",
        )
    console.print(table)
    console.print(
        "predicted ratio ours/bare (bare cost / our cost): "
        f"[bold]{cost['bare'] / cost['ours']:.2f}[/]"
    )
    if report is not None:
        console.print(report, markup=False, highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
