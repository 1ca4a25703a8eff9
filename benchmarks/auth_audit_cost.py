"""What authentication and the audit trail cost a person read: req/s with and without them.

    .venv/bin/python benchmarks/auth_audit_cost.py                 # SQLite (a fresh file)
    .venv/bin/python benchmarks/auth_audit_cost.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/auth_audit_cost.py --profile       # plus where the time goes

The issue's target: together, authentication and audit cost at most 25 % of the throughput of
``GET /api/v1/persons/{id}``. What it does:

1. Prepares a database of this run's own, as ``http_read.py`` does (``_dataset.py``: a fresh
   SQLite file in the run's folder or a fresh PostgreSQL schema, ``--persons`` persons, each
   with an address and a warning marker), and adds an officer of the persons' agency through
   the identity services.
2. Serves the same database with the same granian command line (``--interface asgi
   --workers 1 --factory``), once per variant:

   - ``with``: the real app, ``bluelight.app:app_factory``, exactly as ``bluelight serve``
     runs it: ``TokenAuthenticator`` looks every bearer token up (on a worker thread, the
     tokens of requests arriving together in one statement), and the read's consultation is
     committed by the ``AuditWriter`` (group commit, awaited on the event loop) before the
     person is sent.
   - ``without``: the same ``create_app`` with ``authenticator=FixedAuthenticator()`` (every
     token stands for one fixed officer, with no lookup) and ``audit_writer=NoAuditWriter``
     (entries are dropped; nothing touches the database). Both are defined below and exist
     only here. The reason headers are still parsed and the access rules still applied.
   - ``auth only`` (real authentication, no audit) and ``audit only`` (the fixed officer,
     real audit): the breakdown, so each part's share shows.

3. Signs in over HTTP as the officer (password, then the TOTP code of the second factor the
   first sign-in enrols) and checks, before measuring, that every variant answers the person
   with its marker and address, and that exactly the audited variants add one entry per read.
4. Drives each server in turn with ``wrk`` (``read.lua``, the bearer token and a reason on
   every request, all person ids in turn), a warm-up each, then ``--rounds`` rounds
   alternating the order, and prints each round, the medians and the ratio with/without.

``--candidate-src DIR`` adds one more variant, ``with, candidate``: the real app imported
from another copy of ``src/`` (a branch's worktree, a prototype of a fix), so a change can be
compared with ``main`` in the same run, under the same load.

``--profile`` then measures the parts in process, one call at a time (CPU and wall time per
call: ``authenticate``, ``get_record`` without audit, one audit write alone and in a group,
all together), and prints a cProfile of each part.

Exit status: 0 when the run was clean (whatever the ratio), 1 when any request failed, 2 when
``wrk`` is missing or the set-up failed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from _common import (
    BENCH,
    BENCH_AGENCY,
    REASON_HEADERS,
    Round,
    Server,
    bench_settings,
    create_bench_user,
    env_overrides,
    http_get,
    machine,
    median,
    redacted,
    require_wrk,
    run_dir,
    run_wrk,
    sign_in_http,
    start_server,
    write_json,
)
from bluelight.audit import AuditWriter, Draft
from bluelight.identity import ALL_PERMISSIONS, Actor, Classification, Role

if TYPE_CHECKING:
    from litestar import Litestar

    from bluelight.db import Database

TARGET_COST = 0.25  # the issue: authentication plus audit cost at most 25 % of throughput
WITH, WITHOUT, AUTH_ONLY, AUDIT_ONLY = "with", "without", "auth only", "audit only"
CANDIDATE = "with, candidate"
# name: (granian target, real authentication, real audit)
VARIANTS: dict[str, tuple[str, bool, bool]] = {
    WITH: ("bluelight.app:app_factory", True, True),
    WITHOUT: ("auth_audit_cost:without_app", False, False),
    AUTH_ONLY: ("auth_audit_cost:auth_only_app", True, False),
    AUDIT_ONLY: ("auth_audit_cost:audit_only_app", False, True),
    CANDIDATE: ("bluelight.app:app_factory", True, True),  # from --candidate-src
}
OPTION_NAMES = {"with": WITH, "without": WITHOUT, "auth-only": AUTH_ONLY, "audit-only": AUDIT_ONLY}
console = Console(width=None if sys.stdout.isatty() else 132)


# --- the variants without authentication and audit (used only by this benchmark) -------------


class FixedAuthenticator:
    """Every token stands for one officer of the benchmark's agency, with every permission:
    no lookup, no database. ``create_app(authenticator=...)`` takes it in place of
    ``TokenAuthenticator``."""

    def __init__(self) -> None:
        self._actor = Actor(
            user_id=str(uuid.uuid4()),
            username="bench.fixed",
            agency=BENCH_AGENCY,
            permissions=ALL_PERMISSIONS,
            device_id=str(uuid.uuid4()),
            clearance=Classification.OFFICIAL_SENSITIVE,
            session_id=str(uuid.uuid4()),
            roles=frozenset({Role.OFFICER}),
        )

    async def authenticate(self, token: str) -> Actor:  # noqa: ARG002  (every token is the same officer)
        return self._actor


class NoAuditWriter(AuditWriter):
    """An audit writer that drops every entry at once: no queue, no thread, no database."""

    def submit(self, draft: Draft) -> Future[int]:  # noqa: ARG002  (dropped on purpose)
        done: Future[int] = Future()
        done.set_result(0)
        return done

    def write(self, draft: Draft) -> int:  # noqa: ARG002  (dropped on purpose)
        return 0

    async def write_async(self, draft: Draft) -> int:  # noqa: ARG002  (dropped on purpose)
        return 0


def _variant_app(*, real_auth: bool, real_audit: bool) -> Litestar:
    """``bluelight.app.create_app`` from the environment's settings, with the fixed officer
    and/or the dropping writer in place of the real parts."""
    from bluelight.app import create_app
    from bluelight.runtime import open_database
    from bluelight.settings import get_settings

    settings = get_settings()
    db = open_database(settings)
    return create_app(
        settings,
        database=db,
        authenticator=None if real_auth else FixedAuthenticator(),
        audit_writer=None if real_audit else NoAuditWriter(db),
    )


def without_app() -> Litestar:
    """``granian --factory auth_audit_cost:without_app``: no authentication, no audit."""
    return _variant_app(real_auth=False, real_audit=False)


def auth_only_app() -> Litestar:
    """Real token authentication, no audit."""
    return _variant_app(real_auth=True, real_audit=False)


def audit_only_app() -> Litestar:
    """The fixed officer, real audit."""
    return _variant_app(real_auth=False, real_audit=True)


# --- the run -----------------------------------------------------------------------------


@dataclass
class Measured:
    """One wrk run, and the audit entries the database gained meanwhile."""

    round: Round
    audit_entries: int

    @property
    def entries_per_request(self) -> float:
        return self.audit_entries / max(self.round.requests, 1)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="GET /api/v1/persons/{id} with and without authentication and audit."
    )
    p.add_argument(
        "--database-url",
        default=None,
        help="postgresql://… to run on PostgreSQL (in a schema of this run's own, dropped at "
        "the end); default: a fresh SQLite file of this run's own",
    )
    p.add_argument("--persons", type=int, default=10_000, help="persons to create (10000)")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    p.add_argument("--connections", type=int, default=64, help="keep-alive connections (64)")
    p.add_argument("--rounds", type=int, default=3, help="rounds per variant (3)")
    p.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per variant (3)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    p.add_argument("--workers", type=int, default=1, help="granian worker processes (1)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument(
        "--variants",
        default="with,without,auth-only,audit-only",
        help="comma-separated, from with, without, auth-only, audit-only (with and without "
        "are always run; default: all four)",
    )
    p.add_argument(
        "--candidate-src",
        type=Path,
        default=None,
        help="also serve the real app from this copy of src/ (A/B of a change, same run)",
    )
    p.add_argument(
        "--reuse-db",
        action="store_true",
        help="use the database http_read.py --keep-db left instead of building one",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="afterwards, measure and profile the parts in process",
    )
    p.add_argument(
        "--requests", type=int, default=1_000, help="calls per part and round for --profile"
    )
    args = p.parse_args(argv)
    for name in ("persons", "duration", "connections", "rounds", "threads", "workers"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.duration > 600 or args.rounds > 20 or not 1 <= args.requests <= 100_000:
        p.error("keep a run bounded: --duration ≤ 600, --rounds ≤ 20, --requests 1..100000")
    if args.threads > args.connections:
        p.error("--threads cannot exceed --connections")
    chosen = {v.strip() for v in args.variants.split(",") if v.strip()}
    unknown = chosen - set(OPTION_NAMES)
    if unknown:
        p.error(f"unknown variants: {', '.join(sorted(unknown))}")
    chosen |= {"with", "without"}
    args.variant_names = [OPTION_NAMES[k] for k in OPTION_NAMES if k in chosen]
    if args.candidate_src is not None:
        if not (args.candidate_src / "bluelight" / "app.py").is_file():
            p.error(f"--candidate-src: no bluelight/app.py under {args.candidate_src}")
        args.candidate_src = args.candidate_src.resolve()
        args.variant_names.insert(1, CANDIDATE)
    return args


class AuditCounter:
    """How many entries the audit trail holds (its next ``seq``: one indexed lookup)."""

    def __init__(self, url: str) -> None:
        from bluelight.db import make_engine

        self._engine = make_engine(url)

    def settled(self, quiet: float = 0.3, limit: float = 10.0) -> int:
        """The size once it stops growing: requests still in flight when wrk stopped are
        answered (and audited) after it, and belong to the run that sent them."""
        size, deadline = self.size(), time.monotonic() + limit
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = self.size()
            if now == size:
                break
            size = now
        return size

    def size(self) -> int:
        from sqlalchemy import func, select

        from bluelight.audit.models import AuditEntry

        with self._engine.connect() as conn:
            stmt = select(func.coalesce(func.max(AuditEntry.seq) + 1, 0))
            return int(conn.execute(stmt).scalar_one())

    def close(self) -> None:
        self._engine.dispose()


def _start_servers(
    url: str, names: Sequence[str], args: argparse.Namespace, servers: list[Server], workdir: Path
) -> dict[str, Server]:
    """One granian server per variant, on the same database and data folder (keys)."""
    settings = bench_settings(url, workdir / "data")
    env = {
        "BLUELIGHT_DATABASE_URL": url,
        "BLUELIGHT_DATA_DIR": str(settings.data_dir),
        "BLUELIGHT_ENV": str(settings.env),
    }
    started: dict[str, Server] = {}
    for name in names:
        target = VARIANTS[name][0]
        # The candidate's src/ comes before the installed one on the import path.
        first = [str(args.candidate_src)] if name == CANDIDATE else []
        path = [str(BENCH), *first, os.environ.get("PYTHONPATH", "")]
        server = start_server(
            name.replace(" ", "-").replace(",", ""),
            target,
            env={**env, "PYTHONPATH": os.pathsep.join(p for p in path if p)},
            workers=args.workers,
            interface="asgi",
            probe="/api/v1/health",
            log_dir=workdir,
        )
        server.name = name
        servers.append(server)
        started[name] = server
    return started


def _check_variants(
    servers: dict[str, Server], token: str, person_id: str, counter: AuditCounter
) -> None:
    """Each variant answers the realistic person read, and only the audited ones audit it.

    Raises:
        RuntimeError: a variant answers something else, or audits when it should not.
    """
    headers = {"Authorization": f"Bearer {token}", **REASON_HEADERS}
    for name, server in servers.items():
        before = counter.size()
        person = http_get(f"{server.base_url}/api/v1/persons/{person_id}", headers)
        added = counter.size() - before
        if not person.get("markers") or not person.get("addresses"):
            msg = f"{name}: the person read carries no marker or no address"
            raise RuntimeError(msg)
        expected = 1 if VARIANTS[name][2] else 0
        if added != expected:
            msg = f"{name}: one read added {added} audit entries, not {expected}"
            raise RuntimeError(msg)


def _measure(
    wrk: str,
    servers: dict[str, Server],
    *,
    paths: Path,
    token: str,
    counter: AuditCounter,
    args: argparse.Namespace,
) -> list[Measured]:
    """A warm-up of each variant, then rounds alternating the order."""

    def once(server: Server, duration: int, round_no: int) -> Measured:
        before = counter.settled()
        result = run_wrk(
            wrk,
            server,
            paths,
            threads=args.threads,
            connections=args.connections,
            duration=duration,
            round_no=round_no,
            token=token,
            headers=REASON_HEADERS,
        )
        return Measured(result, counter.settled() - before)

    names = list(servers)
    for name in names:
        once(servers[name], args.warmup, 0)
    measured: list[Measured] = []
    for round_no in range(1, args.rounds + 1):
        for name in names if round_no % 2 else names[::-1]:
            m = once(servers[name], args.duration, round_no)
            measured.append(m)
            r = m.round
            console.print(
                f"  round {round_no} {name:<11} {r.rps:>8,.0f} req/s  p50 {r.p50_ms:7.2f} ms  "
                f"p99 {r.p99_ms:7.2f} ms  {r.server_cpu_us:6,.0f} µs CPU/req  "
                f"audit/req {m.entries_per_request:.2f}  (load average {r.load:.1f})"
            )
    return measured


# --- the report --------------------------------------------------------------------------


def _rounds_table(measured: list[Measured]) -> Table:
    table = Table(title="Each round (wrk)", title_justify="left")
    table.add_column("round", justify="right")
    table.add_column("variant", no_wrap=True)
    for column in ("req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "failed"):
        table.add_column(column, justify="right")
    for column in ("audit/req", "server CPU", "CPU µs/req", "wrk CPU", "load avg"):
        table.add_column(column, justify="right")
    for m in measured:
        r = m.round
        table.add_row(
            str(r.round),
            r.target,
            f"{r.rps:,.0f}",
            f"{r.p50_ms:.2f}",
            f"{r.p90_ms:.2f}",
            f"{r.p99_ms:.2f}",
            f"{r.max_ms:.1f}",
            str(r.errors + r.non_2xx),
            f"{m.entries_per_request:.2f}",
            f"{r.server_cpu:.0%}",
            f"{r.server_cpu_us:,.0f}",
            f"{r.client_cpu:.0%}",
            f"{r.load:.1f}",
        )
    return table


def _summary(measured: list[Measured], names: Sequence[str]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name in names:
        mine = [m.round for m in measured if m.round.target == name]
        out[name] = {
            "rps": median([r.rps for r in mine]),
            "p50_ms": median([r.p50_ms for r in mine]),
            "p99_ms": median([r.p99_ms for r in mine]),
            "server_cpu": median([r.server_cpu for r in mine]),
            "cpu_us_per_request": median([r.server_cpu_us for r in mine]),
        }
    base = out[WITHOUT]["rps"]
    for figures in out.values():
        figures["ratio"] = figures["rps"] / base
    return out


def _summary_table(summary: dict[str, dict[str, float]], args: argparse.Namespace) -> Table:
    table = Table(
        title=f"Medians of {args.rounds} rounds, GET /api/v1/persons/{{id}}, "
        f"{args.connections} connections, {args.duration} s each",
        title_justify="left",
    )
    table.add_column("variant", no_wrap=True)
    table.add_column("authentication")
    table.add_column("audit")
    for column in ("req/s", "p50 ms", "p99 ms", "CPU µs/req", "÷ without", "cost"):
        table.add_column(column, justify="right")
    for name, figures in summary.items():
        _, real_auth, real_audit = VARIANTS[name]
        table.add_row(
            name if name != CANDIDATE else f"{name} ({args.candidate_src})",
            "token lookup" if real_auth else "fixed officer",
            "group commit" if real_audit else "dropped",
            f"{figures['rps']:,.0f}",
            f"{figures['p50_ms']:.2f}",
            f"{figures['p99_ms']:.2f}",
            f"{figures['cpu_us_per_request']:,.0f}",
            f"{figures['ratio']:.2f}",
            f"{1 - figures['ratio']:.0%}" if name != WITHOUT else "",
        )
    return table


# --- in process: where the time goes -----------------------------------------------------


@dataclass
class Part:
    """One part of the audited read, timed in process."""

    label: str
    run: Callable[[], None]
    calls: int
    cpu_us: list[float]
    wall_us: list[float]


def _profile(run: Callable[[], None]) -> str:
    """A cProfile of ``run``, its 18 costliest functions by own CPU time.

    The clock is this thread's CPU time, not the wall clock, so time the machine spent on
    other processes does not land on whatever function was running.
    """
    profiler = cProfile.Profile(time.thread_time)
    profiler.runcall(run)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(18)
    return out.getvalue()


def _print_parts(parts: list[Part], profiles: dict[str, str], args: argparse.Namespace) -> None:
    table = Table(
        title=f"In process, one call at a time (median of {args.rounds} rounds of "
        f"{args.requests} calls)",
        title_justify="left",
    )
    table.add_column("part")
    table.add_column("CPU µs/call", justify="right")
    table.add_column("wall µs/call", justify="right")
    table.add_column("CPU rounds (µs)", justify="right")
    for part in parts:
        table.add_row(
            part.label,
            f"{median(part.cpu_us):,.0f}",
            f"{median(part.wall_us):,.0f}",
            " ".join(f"{v:,.0f}" for v in part.cpu_us),
        )
    console.print(table)
    for label, text in profiles.items():
        console.print(f"\n[bold]cProfile: {label}, {args.requests} calls, by own time[/]")
        console.print(text, markup=False, highlight=False)


def _in_process(
    url: str, data_dir: Path, token: str, person_ids: Sequence[str], args: argparse.Namespace
) -> dict[str, Any]:
    """CPU and wall time per call of each part, one call at a time, and a cProfile of each.

    CPU is ``time.process_time`` (every thread, so the audit writer's thread counts). One
    call at a time, each audit write waits for its own commit; in the server, reads that
    arrive together share one (``audit, group of 32`` shows that case).
    """
    from bluelight.audit import Action, Justification, draft
    from bluelight.audit.door import Door
    from bluelight.audit.services import record
    from bluelight.db import Database, make_engine
    from bluelight.identity.policy import identity_policy
    from bluelight.identity.services import authenticate
    from bluelight.kernel import new_id, utcnow
    from bluelight.records import queries
    from bluelight.records.kinds import PERSON

    db: Database = Database(make_engine(url))
    policy = identity_policy(bench_settings(url, data_dir))
    writer, dropping = AuditWriter(db), NoAuditWriter(db)
    actor = authenticate(db, policy, token)
    why = Justification(code=REASON_HEADERS["X-Bluelight-Reason"], text="benchmark read")
    ids = [uuid.UUID(i) for i in person_ids]
    n = args.requests
    group = 32

    def consultation(i: int) -> Draft:
        return draft(
            actor,
            Action.CONSULTATION,
            "records:person:read",
            at=utcnow(),
            id=new_id(),
            subject_type="person",
            subject_ids=[str(ids[i % len(ids)])],
            why=why,
        )

    def read_alone() -> None:
        for i in range(n):
            queries.get_record(Door(dropping), db, PERSON, ids[i % len(ids)], actor=actor, why=why)

    def auth_alone() -> None:
        for _ in range(n):
            authenticate(db, policy, token)

    def audit_one_by_one() -> None:
        for i in range(n):
            writer.write(consultation(i))

    def audit_grouped() -> None:
        for start in range(0, n, group):
            futures = [writer.submit(consultation(i)) for i in range(start, min(n, start + group))]
            for f in futures:
                f.result()

    def record_grouped() -> None:  # what the writer's thread does, on this thread (profiled)
        for start in range(0, n, group):
            record(db, *(consultation(i) for i in range(start, min(n, start + group))))

    def both() -> None:
        for i in range(n):
            who = authenticate(db, policy, token)
            queries.get_record(Door(writer), db, PERSON, ids[i % len(ids)], actor=who, why=why)

    parts = [
        Part("get_record, audit dropped (the read alone)", read_alone, n, [], []),
        Part("authenticate (token lookup)", auth_alone, n, [], []),
        Part("audit write, one at a time (a commit each)", audit_one_by_one, n, [], []),
        Part(f"audit write, groups of {group} (group commit)", audit_grouped, n, [], []),
        Part("authenticate + get_record with audit", both, n, [], []),
    ]
    try:
        for part in parts:  # warm-up: caches, pools, compiled SQL
            part.run()
        for round_no in range(args.rounds):
            for part in parts if round_no % 2 == 0 else parts[::-1]:
                cpu, wall = time.process_time(), time.perf_counter()
                part.run()
                part.cpu_us.append((time.process_time() - cpu) / part.calls * 1e6)
                part.wall_us.append((time.perf_counter() - wall) / part.calls * 1e6)
        profiles = {
            label: _profile(run)
            for label, run in (
                ("authenticate", auth_alone),
                (f"audit record(), groups of {group} (the writer thread's work)", record_grouped),
                ("get_record, audit dropped", read_alone),
            )
        }
    finally:
        writer.close()
        db.dispose()

    _print_parts(parts, profiles, args)
    return {
        "parts": {
            p.label: {"cpu_us": median(p.cpu_us), "wall_us": median(p.wall_us)} for p in parts
        },
        "profiles": profiles,
    }


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915  (one straight measurement script)
    args = _parse_args(argv)
    wrk = require_wrk(console)
    facts = machine()
    console.print(
        f"[bold]auth_audit_cost[/] {facts['date']} · {facts['nproc']} x {facts['cpu']} · "
        f"Python {facts['python']} · litestar {facts['litestar']} · granian "
        f"{facts['granian']} · SQLAlchemy {facts['sqlalchemy']}"
    )
    if overrides := env_overrides():
        console.print(
            "settings from the environment: " + " ".join(f"{k}={v}" for k, v in overrides.items())
        )
    from _dataset import prepare_database

    workdir = run_dir("auth_audit_cost")
    try:
        prepared = prepare_database(
            args.database_url,
            args.persons,
            workdir=workdir,
            seed=args.seed,
            reuse=args.reuse_db,
            console=console,
        )
        username = create_bench_user(prepared.url, workdir / "data")
    except Exception as exc:  # noqa: BLE001  (any set-up failure ends the run with its message)
        console.print(f"[red]could not prepare the database: {exc}[/]")
        return 2
    url, ids = prepared.url, list(prepared.ids)
    random.Random(args.seed).shuffle(ids)  # noqa: S311  (a reproducible order, not a secret)
    paths = workdir / "paths-persons.txt"
    paths.write_text("".join(f"/api/v1/persons/{i}\n" for i in ids))

    servers: list[Server] = []
    counter = AuditCounter(url)
    in_process: dict[str, Any] | None = None
    try:
        started = _start_servers(url, args.variant_names, args, servers, workdir)
        token = sign_in_http(started[WITH].base_url, username)
        _check_variants(started, token, ids[0], counter)
        console.print(f"server: {' '.join(started[WITH].argv[1:])} (and one per variant)")
        console.print(
            f"load: wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
            f"{len(ids)} person ids in turn, bearer token and reason; {args.rounds} rounds, "
            "alternating the order"
        )
        measured = _measure(wrk, started, paths=paths, token=token, counter=counter, args=args)
        for server in servers:
            server.stop()
        if args.profile:
            in_process = _in_process(url, workdir / "data", token, ids, args)
    except Exception as exc:  # noqa: BLE001  (a failed run ends with its message)
        console.print(f"[red]{type(exc).__name__}: {exc}[/]")
        body = getattr(exc, "read", None)
        if callable(body):
            console.print(body().decode(errors="replace"), markup=False)
        return 2
    finally:
        for server in servers:
            server.stop()
        counter.close()
        prepared.drop()

    summary = _summary(measured, args.variant_names)
    cost = 1 - summary[WITH]["ratio"]
    console.print()
    console.print(_rounds_table(measured))
    console.print(_summary_table(summary, args))
    verdict = "[green]met[/]" if cost <= TARGET_COST else "[red]not met[/]"
    console.print(
        f"with/without (median req/s): [bold]{summary[WITH]['ratio']:.2f}[/]: authentication "
        f"plus audit cost [bold]{cost:.0%}[/] of throughput; target ≤ {TARGET_COST:.0%}: "
        f"{verdict}"
    )
    if AUTH_ONLY in summary and AUDIT_ONLY in summary:
        console.print(
            f"breakdown: authentication alone costs {1 - summary[AUTH_ONLY]['ratio']:.0%}, "
            f"audit alone {1 - summary[AUDIT_ONLY]['ratio']:.0%}"
        )
    if CANDIDATE in summary:
        console.print(
            f"candidate ({args.candidate_src}): with/without {summary[CANDIDATE]['ratio']:.2f}, "
            f"cost {1 - summary[CANDIDATE]['ratio']:.0%}"
        )
    # Server CPU per request moves less with the machine's other load than req/s does.
    cpu = {name: figures["cpu_us_per_request"] for name, figures in summary.items()}
    console.print(
        f"server CPU per request: with {cpu[WITH]:,.0f} µs, without {cpu[WITHOUT]:,.0f} µs: "
        f"authentication plus audit take {1 - cpu[WITHOUT] / cpu[WITH]:.0%} of the CPU of a "
        "read with them"
    )
    saved = write_json(
        "auth_audit_cost",
        {
            "machine": facts,
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "database": redacted(url),
            "setup": {"database": prepared.label, "seed_seconds": prepared.seed_seconds},
            "args": {k: str(v) for k, v in vars(args).items() if k != "variant_names"},
            "rounds": [{**asdict(m.round), "audit_entries": m.audit_entries} for m in measured],
            "medians": summary,
            "cost": cost,
            "target_met": cost <= TARGET_COST,
            "in_process": in_process,
        },
    )
    console.print(f"raw figures: {saved.relative_to(BENCH.parent)}")
    failed = sum(m.round.errors + m.round.non_2xx for m in measured)
    if failed:
        console.print(f"[red]{failed} requests failed: these figures do not stand[/]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
