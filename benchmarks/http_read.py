"""Reading a person by id over HTTP, side by side with its ceiling and a bare hello-world.

    .venv/bin/python benchmarks/http_read.py                      # SQLite (a fresh file)
    .venv/bin/python benchmarks/http_read.py --database-url postgresql://postgres@127.0.0.1:5432/test

What it does:

1. Prepares a database of this run's own: a fresh SQLite file in the run's folder
   ``benchmarks/out/http_read-<time>-<run id>/`` (or a fresh schema ``bench_http_<run id>``
   in the PostgreSQL database given), migrated, with ``--persons`` persons, each with an
   address (a location and a resides-at link) and a warning marker, created through the
   records service layer. It is removed at the end; ``--keep-db`` builds it at a shared
   place instead (``benchmarks/out/http_read.db`` or the schema ``bench_http``) and leaves
   it for ``--reuse-db`` and ``read_cost.py``.
2. Starts three granian servers with the same command line (``--interface asgi --workers 1
   --factory``, default event loop, as ``bluelight serve`` runs): Bluelight
   (``bluelight.app:app_factory``); the ceiling (``ceiling_app.py``: the same person read,
   token look-up, three selects and a durable audit insert, in a bare Litestar route on the
   raw database driver); and a bare Litestar hello-world (``hello_app.py``).
3. Adds an officer of the persons' agency (through the identity services) and signs in as
   that officer over HTTP, as an app does: password, then the TOTP code of the second factor
   the first sign-in enrols. Checks that the ceiling answers a person as Bluelight does (same
   id, family name, marker and address). Drives each server in turn with ``wrk`` (a separate
   process, written in C), ``--connections`` keep-alive connections for ``--duration``
   seconds: ``GET /api/v1/persons/{id}`` cycling through every person id, with the bearer
   token and a reason (``X-Bluelight-Reason``; a person read needs one), on Bluelight and on
   the ceiling, and ``GET /hello`` with the same headers.
   Rounds rotate the order of the servers; the figures are the medians over the rounds.
4. Prints each round, the medians and the ratios ours/ceiling (the issue's target: at least
   0.5) and ours/bare (at least 0.2), and saves the raw figures as JSON under
   ``benchmarks/out/``; the servers' logs and wrk's inputs stay in the run's folder.

Exit status: 0 when the run was clean (whatever the ratio), 1 when any request failed (a
non-2xx answer or a socket error: the figures would not mean what they say), 2 when ``wrk``
is missing or the set-up failed.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from _common import (
    BENCH,
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
from _dataset import prepare_database
from bluelight.kernel.errors import BluelightError
from ceiling_app import create_audit_table

# The targets: Bluelight's median req/s over the ceiling's, and over the bare peer's.
TARGET_CEILING = 0.5
TARGET_BARE = 0.2
OURS, CEILING, BARE = "bluelight", "ceiling", "hello"
SERVERS = (OURS, CEILING, BARE)
console = Console(width=None if sys.stdout.isatty() else 132)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="GET /api/v1/persons/{id} vs its ceiling (the same read in bare Litestar "
        "and raw SQL) and a bare Litestar hello-world, under wrk.",
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
    p.add_argument("--rounds", type=int, default=3, help="rounds per server (3)")
    p.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per server (3)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (1; see README)")
    p.add_argument("--workers", type=int, default=1, help="granian worker processes (1)")
    p.add_argument("--interface", default="asgi", choices=("asgi", "asginl"))
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument(
        "--reuse-db",
        action="store_true",
        help="use the database a --keep-db run left instead of building one (repeated runs, "
        "profiling; read_cost.py uses it too)",
    )
    p.add_argument(
        "--keep-db",
        action="store_true",
        help="build the database at a shared place (benchmarks/out/http_read.db, or the "
        "schema bench_http) and leave it there after the run",
    )
    args = p.parse_args(argv)
    for name in ("persons", "duration", "connections", "rounds", "threads", "workers"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.duration > 600 or args.rounds > 20:
        p.error("keep a run bounded: --duration at most 600 s and --rounds at most 20")
    if args.threads > args.connections:
        p.error("--threads cannot exceed --connections")
    return args


def _bench_pythonpath() -> str:
    """``PYTHONPATH`` for a server whose app lives in ``benchmarks/``."""
    return os.pathsep.join(p for p in (str(BENCH), os.environ.get("PYTHONPATH")) if p)


def _start_servers(
    url: str, person_id: str, args: argparse.Namespace, servers: list[Server], workdir: Path
) -> tuple[dict[str, Server], str]:
    """Start Bluelight, the ceiling and the bare app (each appended to ``servers`` as soon as
    it runs) and sign in; return the servers by name and the bearer token.

    Raises:
        RuntimeError: a server did not start, the person read is not the realistic one, or
            the ceiling does not answer the person as Bluelight does.
    """
    common: dict[str, Any] = {
        "workers": args.workers,
        "interface": args.interface,
        "log_dir": workdir,
    }
    data_dir = workdir / "data"
    settings = bench_settings(url, data_dir)
    username = create_bench_user(url, data_dir)
    ours = start_server(
        OURS,
        "bluelight.app:app_factory",
        env={
            "BLUELIGHT_DATABASE_URL": url,
            "BLUELIGHT_DATA_DIR": str(settings.data_dir),
            "BLUELIGHT_ENV": str(settings.env),
        },
        probe="/api/v1/health",
        **common,
    )
    servers.append(ours)
    token = sign_in_http(ours.base_url, username)
    auth = {"Authorization": f"Bearer {token}", **REASON_HEADERS}
    # Made here, once, so that several workers do not race to create it.
    create_audit_table(url)
    person_path = f"/api/v1/persons/{person_id}"
    ceiling = start_server(
        CEILING,
        "ceiling_app:app_factory",
        env={"BLUELIGHT_DATABASE_URL": url, "PYTHONPATH": _bench_pythonpath()},
        probe=person_path,
        probe_headers=auth,
        **common,
    )
    servers.append(ceiling)
    bare = start_server(
        BARE,
        "hello_app:app_factory",
        env={"PYTHONPATH": _bench_pythonpath()},
        probe="/hello",
        **common,
    )
    servers.append(bare)
    person = http_get(f"{ours.base_url}{person_path}", auth)
    if not person.get("markers") or not person.get("addresses"):
        msg = "the person read carries no marker or no address"
        raise RuntimeError(msg)
    _same_person(person, http_get(f"{ceiling.base_url}{person_path}", auth))
    return {OURS: ours, CEILING: ceiling, BARE: bare}, token


def _same_person(ours: dict[str, Any], ceiling: dict[str, Any]) -> None:
    """Refuse a ceiling that does not read the person Bluelight reads.

    Raises:
        RuntimeError: the id, family name, markers or addresses differ.
    """

    def key(doc: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": doc.get("id"),
            "family name": [n.get("family_name") for n in doc.get("names") or []][:1],
            "markers": sorted((m["id"], m["marker"]) for m in doc.get("markers") or []),
            "addresses": sorted(
                (a["link_id"], a["link_type"], a["location_id"], a["summary"])
                for a in doc.get("addresses") or []
            ),
        }

    mine, theirs = key(ours), key(ceiling)
    if mine != theirs:
        msg = f"the ceiling does not read the person as Bluelight does:\n  {mine}\n  {theirs}"
        raise RuntimeError(msg)
    if ours != ceiling:
        differ = sorted(k for k in ours.keys() | ceiling.keys() if ours.get(k) != ceiling.get(k))
        console.print(f"[yellow]note: the ceiling's answer differs in {', '.join(differ)}[/]")


def _wrk(
    wrk: str,
    server: Server,
    paths: Path,
    args: argparse.Namespace,
    token: str,
    *,
    duration: int,
    round_no: int,
) -> Round:
    return run_wrk(
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


def _order(round_no: int) -> tuple[str, ...]:
    """The servers in round ``round_no``'s order: each round starts one further along."""
    shift = (round_no - 1) % len(SERVERS)
    return SERVERS[shift:] + SERVERS[:shift]


def _measure(
    wrk: str, targets: dict[str, tuple[Server, Path]], args: argparse.Namespace, token: str
) -> list[Round]:
    """A warm-up of each server, then ``args.rounds`` rounds rotating which goes first."""
    for name in SERVERS:
        server, paths = targets[name]
        _wrk(wrk, server, paths, args, token, duration=args.warmup, round_no=0)
    rounds: list[Round] = []
    for round_no in range(1, args.rounds + 1):
        for name in _order(round_no):
            server, paths = targets[name]
            result = _wrk(
                wrk, server, paths, args, token, duration=args.duration, round_no=round_no
            )
            rounds.append(result)
            console.print(
                f"  round {round_no} {name:<12} {result.rps:>9,.0f} req/s  "
                f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  "
                f"(load average {result.load:.1f})"
            )
    return rounds


# --- the report --------------------------------------------------------------------------


def _rounds_table(rounds: list[Round]) -> Table:
    table = Table(title="Each round (wrk)", title_justify="left")
    for column in ("round", "server", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right" if column != "server" else "left")
    for column in ("errors", "non-2xx", "bytes/resp", "server CPU", "wrk CPU", "load avg"):
        table.add_column(column, justify="right")
    for r in rounds:
        table.add_row(
            str(r.round),
            r.target,
            f"{r.rps:,.0f}",
            f"{r.p50_ms:.2f}",
            f"{r.p90_ms:.2f}",
            f"{r.p99_ms:.2f}",
            f"{r.max_ms:.1f}",
            str(r.errors),
            str(r.non_2xx),
            f"{r.bytes_per_response:,.0f}",
            f"{r.server_cpu:.0%}",
            f"{r.client_cpu:.0%}",
            f"{r.load:.1f}",
        )
    return table


def _summary(rounds: list[Round]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for target in SERVERS:
        mine = [r for r in rounds if r.target == target]
        out[target] = {
            "rps": median([r.rps for r in mine]),
            "p50_ms": median([r.p50_ms for r in mine]),
            "p99_ms": median([r.p99_ms for r in mine]),
            "server_cpu": median([r.server_cpu for r in mine]),
            "client_cpu": median([r.client_cpu for r in mine]),
        }
    return out


def _ratios(summary: dict[str, dict[str, float]]) -> dict[str, dict[str, Any]]:
    """Bluelight's median req/s over each peer's, with the issue's target for it."""
    out: dict[str, dict[str, Any]] = {}
    for peer, target in ((CEILING, TARGET_CEILING), (BARE, TARGET_BARE)):
        ratio = summary[OURS]["rps"] / summary[peer]["rps"] if summary[peer]["rps"] else 0.0
        out[f"{OURS}/{peer}"] = {"ratio": ratio, "target": target, "met": ratio >= target}
    return out


def _summary_table(
    summary: dict[str, dict[str, float]],
    ratios: dict[str, dict[str, Any]],
    args: argparse.Namespace,
) -> Table:
    table = Table(
        title=f"Medians of {args.rounds} rounds, {args.connections} connections, "
        f"{args.duration} s each",
        title_justify="left",
    )
    table.add_column("endpoint")
    for column in ("req/s", "p50 ms", "p99 ms", "server CPU", "wrk CPU", "ours ÷ this", "target"):
        table.add_column(column, justify="right")
    labels = {
        OURS: "GET /api/v1/persons/{id}",
        CEILING: "GET /api/v1/persons/{id} (ceiling)",
        BARE: "GET /hello (bare Litestar)",
    }
    for target, figures in summary.items():
        ratio = ratios.get(f"{OURS}/{target}")
        table.add_row(
            labels[target],
            f"{figures['rps']:,.0f}",
            f"{figures['p50_ms']:.2f}",
            f"{figures['p99_ms']:.2f}",
            f"{figures['server_cpu']:.0%}",
            f"{figures['client_cpu']:.0%}",
            "" if ratio is None else f"{ratio['ratio']:.2f}",
            "" if ratio is None else f"≥ {ratio['target']}",
        )
    return table


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    wrk = require_wrk(console)
    facts = machine()
    console.print(
        f"[bold]http_read[/] {facts['date']} · {facts['nproc']} x {facts['cpu']} · "
        f"Python {facts['python']} · litestar {facts['litestar']} · granian "
        f"{facts['granian']} · SQLAlchemy {facts['sqlalchemy']}"
    )
    if overrides := env_overrides():
        console.print(
            "settings from the environment: " + " ".join(f"{k}={v}" for k, v in overrides.items())
        )
    workdir = run_dir("http_read")
    try:
        prepared = prepare_database(
            args.database_url,
            args.persons,
            workdir=workdir,
            seed=args.seed,
            reuse=args.reuse_db,
            keep=args.keep_db,
            console=console,
        )
    except Exception as exc:  # noqa: BLE001  (any set-up failure ends the run with its message)
        console.print(f"[red]could not prepare the database: {exc}[/]")
        return 2
    url, ids = prepared.url, list(prepared.ids)

    rng = random.Random(args.seed)  # noqa: S311  (a reproducible order, not a secret)
    rng.shuffle(ids)
    person_paths = workdir / "paths-persons.txt"
    person_paths.write_text("".join(f"/api/v1/persons/{i}\n" for i in ids))
    bare_paths = workdir / "paths-hello.txt"
    bare_paths.write_text("/hello\n")

    servers: list[Server] = []
    try:
        started, token = _start_servers(url, ids[0], args, servers, workdir)
        console.print(f"server: {' '.join(started[OURS].argv[1:])}")
        console.print(
            f"load: wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
            f"{len(ids)} person ids in turn; {args.rounds} rounds, rotating which "
            "server goes first"
        )
        paths = {OURS: person_paths, CEILING: person_paths, BARE: bare_paths}
        rounds = _measure(wrk, {n: (started[n], paths[n]) for n in SERVERS}, args, token)
    except (RuntimeError, OSError, BluelightError, subprocess.TimeoutExpired) as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    finally:
        for server in servers:
            server.stop()
        prepared.drop()

    summary = _summary(rounds)
    ratios = _ratios(summary)
    console.print()
    console.print(_rounds_table(rounds))
    console.print(_summary_table(summary, ratios, args))
    for name, figures in ratios.items():
        verdict = "[green]meets[/]" if figures["met"] else "[red]is below[/]"
        console.print(
            f"ratio {name} (median req/s): [bold]{figures['ratio']:.2f}[/] — {verdict} the "
            f"target of {figures['target']}"
        )
    saved = write_json(
        "http_read",
        {
            "machine": facts,
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "database": redacted(url),
            "setup": {"database": prepared.label, "seed_seconds": prepared.seed_seconds},
            "args": vars(args),
            "rounds": [asdict(r) for r in rounds],
            "medians": summary,
            "ratios": ratios,
            # ours/bare, under the name earlier runs saved it with
            "ratio": ratios[f"{OURS}/{BARE}"]["ratio"],
        },
    )
    console.print(f"raw figures: {saved.relative_to(BENCH.parent)}")
    failed = sum(r.errors + r.non_2xx for r in rounds)
    if failed:
        console.print(f"[red]{failed} requests failed: these figures do not stand[/]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
