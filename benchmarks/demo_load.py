"""Loading the demo force: rows per second, wall time and peak memory, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/demo_load.py                                   # SQLite
    .venv/bin/python benchmarks/demo_load.py --database-url sqlite \\
        --database-url postgresql://postgres@127.0.0.1:5432/test              # both

For each database it builds the schema (``bluelight db upgrade``, not timed), then runs the
real command, ``bluelight demo --size <size> --no-serve``, as a child process under
``/usr/bin/time -v``, with ``BLUELIGHT_DATABASE_URL`` pointing at a fresh database of this
run's own (a SQLite file in ``benchmarks/out/demo_load-<size>-<time>-<run id>/``, or a schema
``bench_demo_<run id>`` in the PostgreSQL database given) and ``BLUELIGHT_DATA_DIR`` at a
fresh folder. Then it counts the rows of every table, so the figures do not depend on what
the loader chooses to print, and removes the database (``--keep`` keeps it). The loader's
output and ``/usr/bin/time``'s report stay in the run's folder.

- wall time: the whole command, from process start (imports included) to exit;
- rows/s: every row the load left in the database (records, links, markers, the change log
  and anything else the loader writes) divided by that wall time;
- peak memory, two ways: the largest resident set of any one process of the load
  (``/usr/bin/time``'s "Maximum resident set size"; the loader may fork producer processes),
  and the peak of all its processes together, as proportional set size (PSS, shared pages
  counted once), sampled every 0.25 s;
- the loader's own wall time, as it prints it (without interpreter start and imports);
- size on disk: the SQLite file (and its WAL), or the PostgreSQL schema's tables and indexes.

Exit status: 0 when every load succeeded, 1 when a load failed or timed out, 2 on a set-up
problem (no ``/usr/bin/time``, no ``bluelight`` command).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from _common import (
    BENCH,
    RUN_ID,
    VENV_BIN,
    env_overrides,
    machine,
    memory_mib,
    process_tree,
    redacted,
    run_dir,
    scratch_database,
    stop_tree,
    write_json,
)

TIME = Path("/usr/bin/time")
SAMPLE_EVERY = 0.25
console = Console(width=None if sys.stdout.isatty() else 132)


@dataclass
class Load:
    """One load of the demo force into one database."""

    database: str
    size: str
    ok: bool
    exit_code: int
    wall_seconds: float
    peak_rss_mib: float  # the largest single process (/usr/bin/time)
    peak_tree_mib: float = float("nan")  # every process of the load together (PSS, sampled)
    loader_seconds: float = float("nan")  # the loader's own wall time, from its summary
    rows: int = 0
    rows_per_second: float = 0.0
    disk_mib: float = 0.0
    tables: dict[str, int] = field(default_factory=dict)
    tail: str = ""


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Time `bluelight demo --no-serve` on each database.")
    p.add_argument(
        "--database-url",
        action="append",
        default=None,
        help="'sqlite' (a fresh file of this run's own) or postgresql://… (a schema "
        "bench_demo_<run id> is created, loaded, measured and dropped); repeat for several; "
        "default: sqlite",
    )
    p.add_argument("--size", default="force", help="the demo size: small, force or large (force)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument(
        "--timeout", type=int, default=3600, help="seconds before a load is stopped (3600)"
    )
    p.add_argument(
        "--keep", action="store_true", help="keep the loaded databases (default: remove them)"
    )
    args = p.parse_args(argv)
    args.database_url = args.database_url or ["sqlite"]
    if not 1 <= args.timeout <= 6 * 3600:
        p.error("--timeout must be between 1 and 21600 seconds")
    return args


def _shown(target: str) -> str:
    return target if target == "sqlite" else redacted(target)


def _peak_rss_mib(report: str) -> float:
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
    return int(found.group(1)) / 1024 if found else float("nan")


def _loader_seconds(log: str) -> float:
    """The wall time the loader printed in its summary, if it printed one."""
    found = re.findall(r"wall time\W+([\d.,]+) s", log)
    return float(found[-1].replace(",", "")) if found else float("nan")


def _run_sampled(
    argv: list[str], env: dict[str, str], log: Path, timeout: int
) -> tuple[int, float, float]:
    """Run the load, sampling the memory of its process tree every ``SAMPLE_EVERY`` s.

    Returns the exit code (-1 if it timed out and was killed), the wall time and the peak
    PSS of all its processes together.
    """
    peak = 0.0
    start = time.perf_counter()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            argv, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=BENCH.parent
        )
        try:
            while process.poll() is None:
                if time.perf_counter() - start > timeout:
                    stop_tree(process.pid)
                    process.wait(timeout=30)
                    return -1, time.perf_counter() - start, peak
                peak = max(peak, memory_mib(process_tree(process.pid)))
                time.sleep(SAMPLE_EVERY)
        finally:
            if process.poll() is None:
                stop_tree(process.pid)
                process.wait(timeout=30)
    return process.returncode, time.perf_counter() - start, peak


def _count_rows(url: str) -> tuple[dict[str, int], float]:
    """Rows in every table of the database, and its size on disk in MiB."""
    from sqlalchemy import inspect, text

    from bluelight.db import make_engine

    engine = make_engine(url)
    try:
        names = sorted(inspect(engine).get_table_names())
        counts: dict[str, int] = {}
        with engine.connect() as conn:
            for name in names:
                if name == "alembic_version":
                    continue
                counts[name] = int(
                    conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                )
            if engine.dialect.name == "postgresql":
                size = conn.execute(
                    text(
                        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')"
                    )
                ).scalar_one()
                disk = int(size) / 1024 / 1024
            else:
                path = Path(str(engine.url.database))
                disk = sum(
                    Path(f"{path}{s}").stat().st_size / 1024 / 1024
                    for s in ("", "-wal")
                    if Path(f"{path}{s}").exists()
                )
    finally:
        engine.dispose()
    return counts, disk


def _load(target: str, args: argparse.Namespace, workdir: Path) -> Load:
    is_sqlite = target.startswith("sqlite")
    tag = "sqlite" if is_sqlite else "pg"
    scratch = scratch_database(
        None if target == "sqlite" else target,
        f"demo_{args.size}" if is_sqlite else f"bench_demo_{RUN_ID}",
        directory=workdir,
        keep=args.keep,
    )
    label = f"SQLite ({scratch.url.rsplit('/', 1)[-1]})" if is_sqlite else "PostgreSQL"
    data_dir = workdir / f"data-{tag}"
    data_dir.mkdir(parents=True, exist_ok=True)
    report = workdir / f"{tag}.time.txt"
    log = workdir / f"{tag}.log"
    bluelight = str(VENV_BIN / "bluelight")
    argv = [str(TIME), "-v", "-o", str(report), bluelight, "demo"]
    argv += ["--size", args.size, "--seed", str(args.seed), "--no-serve"]
    env = {
        **os.environ,
        "BLUELIGHT_DATABASE_URL": scratch.url,
        "BLUELIGHT_DATA_DIR": str(data_dir),
        "BLUELIGHT_ENV": "development",
        "PYTHONUNBUFFERED": "1",
    }
    console.print(
        f"[bold]{label}[/]: bluelight demo --size {args.size} --seed {args.seed} --no-serve "
        f"({redacted(scratch.url)})"
    )
    try:
        # The schema is built first and not timed, as `make run` does before its demo load.
        upgrade = subprocess.run(
            [bluelight, "db", "upgrade"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=BENCH.parent,
        )
        if upgrade.returncode != 0:
            msg = f"bluelight db upgrade failed:\n{upgrade.stdout}{upgrade.stderr}"
            raise RuntimeError(msg)
        exit_code, wall, peak_tree = _run_sampled(argv, env, log, args.timeout)
        result = Load(
            database=label,
            size=args.size,
            ok=exit_code == 0,
            exit_code=exit_code,
            wall_seconds=wall,
            peak_rss_mib=_peak_rss_mib(report.read_text()) if report.exists() else float("nan"),
            peak_tree_mib=peak_tree,
            loader_seconds=_loader_seconds(log.read_text(errors="replace")),
            tail="\n".join(log.read_text(errors="replace").splitlines()[-15:]),
        )
        if result.ok:
            result.tables, result.disk_mib = _count_rows(scratch.url)
            result.rows = sum(result.tables.values())
            result.rows_per_second = result.rows / wall
    finally:
        scratch.drop()
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    if not result.ok:
        why = "timed out" if exit_code == -1 else f"exited {exit_code}"
        console.print(f"[red]  the load {why}; the end of {log.relative_to(BENCH.parent)}:[/]")
        console.print(result.tail, markup=False, highlight=False)
    return result


def _table(loads: list[Load]) -> Table:
    table = Table(
        title=f"bluelight demo --size {loads[0].size} --no-serve",
        title_justify="left",
        caption="wall: the whole command; loader: its own printed time (no start-up); max RSS: "
        "largest process; all PSS: every process of the load together, sampled",
        caption_justify="left",
    )
    table.add_column("database")
    columns = (
        "rows",
        "wall s",
        "rows/s",
        "loader s",
        "rows/s (loader)",
        "max RSS MiB",
        "all PSS MiB",
        "disk MiB",
        "result",
    )
    for column in columns:
        table.add_column(column, justify="right")
    for load in loads:
        table.add_row(
            load.database,
            f"{load.rows:,}",
            f"{load.wall_seconds:,.1f}",
            f"{load.rows_per_second:,.0f}",
            f"{load.loader_seconds:,.1f}",
            f"{load.rows / load.loader_seconds:,.0f}" if load.loader_seconds > 0 else "-",
            f"{load.peak_rss_mib:,.0f}",
            f"{load.peak_tree_mib:,.0f}",
            f"{load.disk_mib:,.0f}",
            "ok" if load.ok else f"failed ({load.exit_code})",
        )
    return table


def _rows_table(loads: list[Load]) -> Table:
    table = Table(title="Rows by table", title_justify="left")
    table.add_column("table")
    for load in loads:
        table.add_column(load.database, justify="right")
    names = sorted({name for load in loads for name in load.tables})
    for name in names:
        table.add_row(name, *(f"{load.tables.get(name, 0):,}" for load in loads))
    return table


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if not TIME.exists():
        console.print(
            "[red]/usr/bin/time is missing[/] (it measures the loader's peak memory). "
            "Install it: [bold]sudo apt-get install -y time[/]"
        )
        return 2
    if not (VENV_BIN / "bluelight").exists():
        console.print(f"[red]no bluelight command in {VENV_BIN}[/]: run `uv sync` first")
        return 2
    facts = machine()
    console.print(
        f"[bold]demo_load[/] {facts['date']} · {facts['nproc']} x {facts['cpu']} · "
        f"{facts['memory']} · Python {facts['python']} · SQLAlchemy {facts['sqlalchemy']} · "
        f"psycopg {facts['psycopg']}"
    )
    if overrides := env_overrides():
        console.print(
            "settings from the environment: " + " ".join(f"{k}={v}" for k, v in overrides.items())
        )
    workdir = run_dir(f"demo_load-{args.size}")
    loads: list[Load] = []
    for target in args.database_url:
        try:
            loads.append(_load(target, args, workdir))
        except Exception as exc:  # noqa: BLE001  (report the set-up failure, go on with the next)
            console.print(f"[red]{target}: {exc}[/]")
            loads.append(Load(_shown(target), args.size, False, -2, 0.0, float("nan")))
    console.print()
    console.print(_table(loads))
    if any(load.tables for load in loads):
        console.print(_rows_table(loads))
    saved = write_json(
        f"demo_load-{args.size}",
        {
            "machine": facts,
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "args": {**vars(args), "database_url": [_shown(u) for u in args.database_url]},
            "loads": [asdict(load) for load in loads],
        },
    )
    console.print(f"raw figures: {saved.relative_to(BENCH.parent)}")
    return 0 if all(load.ok for load in loads) else 1


if __name__ == "__main__":
    sys.exit(main())
