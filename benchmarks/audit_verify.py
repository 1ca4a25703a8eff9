"""Verifying the audit trail: ``bluelight audit verify`` over a million entries, in records/s.

    .venv/bin/python benchmarks/audit_verify.py                     # SQLite, 1,000,000 entries
    .venv/bin/python benchmarks/audit_verify.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/audit_verify.py --entries 100000    # a quicker look

What it does:

1. Makes a database of this run's own (a SQLite file in a temporary folder, or a fresh
   PostgreSQL schema ``bench_audit_<run id>``), migrated, and an Ed25519 signing key beside it.
2. Builds a trail of ``--entries`` entries through the real write path,
   ``bluelight.audit.services.append``, ``--batch`` drafts per transaction, and signs a tree
   head with ``TreeSigner`` every ``--sign-every`` entries (and at the end). The drafts are
   what a force's trail holds, from a fixed seed: mostly person and vehicle checks with a
   reason, some record changes, links, shares with recipients, sign-ins. A progress bar shows
   the build; the table reports its rate (entries/s of ``append`` plus commit).
3. Times ``bluelight.audit.verification.verify`` over the whole trail in a fresh process of
   its own (so its peak memory is its own): entries, signed heads checked, seconds,
   records/s, peak RSS. Then the same through the command line, ``bluelight audit verify``,
   end to end (start-up and output included), unless ``--no-cli``.
4. Removes the database (unless ``--keep-db``) and saves the raw figures under
   ``benchmarks/out/``.

Exit status: 0 when the trail verified intact, 1 when it did not (the benchmark's trail is
untouched, so that is a bug), 2 when the set-up failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from _common import (
    BENCH,
    RUN_ID,
    VENV_BIN,
    env_overrides,
    machine,
    redacted,
    run_dir,
    scratch_database,
    write_json,
)

console = Console(width=None if sys.stdout.isatty() else 132)
AGENCY = "DEMO"
REASONS = ("INVESTIGATION", "INTELLIGENCE", "SAFEGUARDING", "STOP-CHECK", "WARRANT")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Build an audit trail, then time its verification.")
    p.add_argument(
        "--database-url",
        default=None,
        help="postgresql://… to run on PostgreSQL (in a schema of this run's own, dropped at "
        "the end); default: a SQLite file in a temporary folder",
    )
    p.add_argument("--entries", type=int, default=1_000_000, help="entries (1000000)")
    p.add_argument("--batch", type=int, default=10_000, help="drafts per transaction (10000)")
    p.add_argument(
        "--sign-every", type=int, default=100_000, help="sign a tree head every N (100000)"
    )
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--no-cli", action="store_true", help="skip `bluelight audit verify`")
    p.add_argument(
        "--keep-db", action="store_true", help="leave the database (and key) after the run"
    )
    # The verification's own process: python audit_verify.py --verify-child URL KEY_HEX
    p.add_argument("--verify-child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.verify_child is None:
        if not 1 <= args.entries <= 20_000_000:
            p.error("--entries must be 1..20000000")
        if not 1 <= args.batch <= 100_000 or args.sign_every < 1:
            p.error("--batch must be 1..100000 and --sign-every at least 1")
    return args


# --- the trail -----------------------------------------------------------------------------


class TrailMaker:
    """Drafts like a force's: who looked at whom and why, who changed what, who shared what."""

    def __init__(self, seed: int) -> None:
        from bluelight.identity import system_actor

        self._rng = random.Random(seed)  # noqa: S311  (reproducible test data, not secrets)
        base = system_actor(AGENCY)
        self._actors = [
            _Who(str(uuid.UUID(int=self._rng.getrandbits(128), version=4)), f"officer.{i:04d}")
            for i in range(500)
        ]
        self._actors.append(_Who(base.user_id, base.username, device_id=base.device_id))
        self._persons = [
            uuid.UUID(int=self._rng.getrandbits(128), version=4) for _ in range(50_000)
        ]
        self._vehicles = [
            uuid.UUID(int=self._rng.getrandbits(128), version=4) for _ in range(20_000)
        ]
        self._at = datetime(2026, 1, 1, tzinfo=UTC)

    def drafts(self, count: int) -> list[Any]:
        from bluelight.audit import Action, Justification, Outcome, draft

        rng, out = self._rng, []
        for _ in range(count):
            self._at += timedelta(milliseconds=rng.randint(1, 60_000))
            who = rng.choice(self._actors)
            roll = rng.random()
            common: dict[str, Any] = {
                "at": self._at,
                "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            }
            if roll < 0.70:  # a person or vehicle check, with its reason
                kind = "person" if roll < 0.55 else "vehicle"
                subject = rng.choice(self._persons if kind == "person" else self._vehicles)
                why = Justification(
                    code=rng.choice(REASONS), text=f"incident {rng.randint(1, 9_999_999):07d}"
                )
                d = draft(
                    who,
                    Action.CONSULTATION,
                    f"records:{kind}:read",
                    subject_type=kind,
                    subject_ids=[str(subject)],
                    why=why,
                    **common,
                )
            elif roll < 0.85:  # a record written or changed
                action = Action.COLLECTION if roll < 0.78 else Action.ALTERATION
                d = draft(
                    who,
                    action,
                    f"records:person:{'created' if action is Action.COLLECTION else 'updated'}",
                    subject_type="person",
                    subject_ids=[str(rng.choice(self._persons))],
                    detail={"version": rng.randint(1, 12), "fields": ["names", "addresses"]},
                    **common,
                )
            elif roll < 0.90:  # two records linked
                d = draft(
                    who,
                    Action.COMBINATION,
                    "records:link:created",
                    subject_type="person",
                    subject_ids=[str(rng.choice(self._persons)), str(rng.choice(self._persons))],
                    detail={"link_type": "associate-of"},
                    **common,
                )
            elif roll < 0.93:  # an event shared with a partner
                d = draft(
                    who,
                    Action.DISCLOSURE,
                    "records:event:shared",
                    subject_type="event",
                    subject_ids=[str(uuid.UUID(int=rng.getrandbits(128), version=4))],
                    why=Justification(code="SAFEGUARDING", text="multi-agency referral"),
                    recipients=[rng.choice(("FIRE", "AMBULANCE", "COUNCIL"))],
                    detail={"level": rng.choice(("location", "operational", "full"))},
                    **common,
                )
            else:  # a sign-in, sometimes refused
                refused = rng.random() < 0.1
                d = draft(
                    who,
                    Action.AUTHENTICATION,
                    "identity:sign-in:failed" if refused else "identity:sign-in:succeeded",
                    outcome=Outcome.DENIED if refused else Outcome.ALLOWED,
                    detail={"stage": "password"} if refused else {},
                    **common,
                )
            out.append(d)
        return out


@dataclass(frozen=True)
class _Who:
    user_id: str
    username: str
    agency: str = AGENCY
    device_id: str | None = "bench-device"


@dataclass
class Built:
    entries: int
    heads: int
    seconds: float  # the whole build, making drafts included
    append_seconds: float  # inside append() and the commit: the real write path
    sign_seconds: float


def build_trail(url: str, key_path: Path, args: argparse.Namespace) -> Built:
    """Migrate, then append ``args.entries`` entries in batches and sign heads as it goes."""
    from bluelight.audit import append
    from bluelight.audit.services import TreeSigner
    from bluelight.db import Database, make_engine
    from bluelight.kernel.crypto import load_or_create_signing_key
    from bluelight.migrations import upgrade

    engine = make_engine(url)
    upgrade(engine)
    db = Database(engine)
    signer = TreeSigner(db, load_or_create_signing_key(key_path))
    maker = TrailMaker(args.seed)
    done = heads = 0
    append_s = sign_s = 0.0
    next_sign = args.sign_every
    columns = (
        TextColumn("building the trail"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    start = time.perf_counter()
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("build", total=args.entries, rate="")
            while done < args.entries:
                drafts = maker.drafts(min(args.batch, args.entries - done))
                t = time.perf_counter()
                with db.write() as session:
                    append(session, drafts)
                append_s += time.perf_counter() - t
                done += len(drafts)
                if done >= next_sign or done == args.entries:
                    t = time.perf_counter()
                    signer.sign()
                    sign_s += time.perf_counter() - t
                    heads += 1
                    next_sign = (done // args.sign_every + 1) * args.sign_every
                bar.update(task, completed=done, rate=f"{done / append_s:,.0f} entries/s")
    finally:
        engine.dispose()
    return Built(done, heads, time.perf_counter() - start, append_s, sign_s)


# --- verification --------------------------------------------------------------------------


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def verify_child(url: str, key_hex: str) -> int:
    """Run in a process of its own: verify, report progress on stderr, the figures on stdout."""
    from bluelight.audit.verification import verify
    from bluelight.db import Database, make_engine

    db = Database(make_engine(url))
    before = _rss_mib()

    def progress(done: int, total: int) -> None:
        print(f"PROGRESS {done} {total}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    cpu = time.process_time()
    report = verify(db, bytes.fromhex(key_hex), progress=progress)
    figures = {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "entries": report.entries,
        "heads_checked": report.heads_checked,
        "unsigned_tail": report.unsigned_tail,
        "root_hash": report.root_hash,
        "problems": report.problems[:10],
        "intact": report.intact,
        "rss_before_mib": before,
        "peak_rss_mib": _rss_mib(),
    }
    db.dispose()
    print("VERIFY_JSON " + json.dumps(figures), flush=True)
    return 0


def _run_with_progress(
    argv: list[str], env: dict[str, str], label: str, total: int, log: Path
) -> tuple[float, float, float, int]:
    """Run ``argv``, showing the ``PROGRESS done total`` lines it writes to stderr as a bar;
    return its wall seconds, CPU seconds, its own peak RSS (MiB) and exit status. Its stdout
    goes to ``log``."""
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with log.open("w") as sink, Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        start = time.perf_counter()
        child = subprocess.Popen(
            argv, env={**os.environ, **env}, stdout=sink, stderr=subprocess.PIPE, text=True
        )
        assert child.stderr is not None  # noqa: S101  (PIPE above)
        errors: list[str] = []
        for line in child.stderr:
            if line.startswith("PROGRESS "):
                done, of = (int(x) for x in line.split()[1:3])
                bar.update(task, completed=done, total=of)
            else:
                errors.append(line)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
    if errors:
        with log.open("a") as sink:
            sink.write("".join(errors))
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, child.returncode


def _verify_in_child(url: str, key_hex: str, total: int, workdir: Path) -> dict[str, Any]:
    log = workdir / "verify.log"
    seconds, _, peak, status = _run_with_progress(
        [sys.executable, str(Path(__file__).resolve()), "--verify-child", url, key_hex],
        {},
        "verify()",
        total,
        log,
    )
    line = next((x for x in log.read_text().splitlines() if x.startswith("VERIFY_JSON ")), None)
    if status != 0 or line is None:
        msg = f"the verification process failed ({status}); see {log}"
        raise RuntimeError(msg)
    figures: dict[str, Any] = json.loads(line.removeprefix("VERIFY_JSON "))
    figures["process_seconds"] = seconds
    figures["process_peak_rss_mib"] = peak
    return figures


def _verify_cli(url: str, data_dir: Path, total: int, workdir: Path) -> dict[str, Any]:
    """``bluelight audit verify`` as an operator runs it (the key from the data folder)."""
    log = workdir / "cli.log"
    argv = [str(VENV_BIN / "bluelight"), "audit", "verify"]
    env = {"BLUELIGHT_DATABASE_URL": url, "BLUELIGHT_DATA_DIR": str(data_dir)}
    seconds, cpu, peak, status = _run_with_progress(argv, env, "bluelight audit verify", total, log)
    return {
        "command": " ".join(argv[-3:]),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mib": peak,
        "exit_status": status,
        "output": log.read_text()[-2000:],
    }


# --- the report ----------------------------------------------------------------------------


def _table(label: str, built: Built, checked: dict[str, Any], cli: dict[str, Any] | None) -> Table:
    table = Table(title=f"Audit trail on {label}", title_justify="left")
    table.add_column("step")
    for column in ("entries", "seconds", "records/s", "peak RSS MiB", "notes"):
        table.add_column(column, justify="right" if column != "notes" else "left")
    table.add_row(
        "build: append(), batches in one transaction each",
        f"{built.entries:,}",
        f"{built.append_seconds:.1f}",
        f"{built.entries / built.append_seconds:,.0f}",
        "",
        f"whole build {built.seconds:.1f} s; {built.heads} heads signed in "
        f"{built.sign_seconds:.1f} s",
    )
    table.add_row(
        "verify() (bluelight.audit.verification)",
        f"{checked['entries']:,}",
        f"{checked['seconds']:.1f}",
        f"[bold]{checked['entries'] / checked['seconds']:,.0f}[/]",
        f"{checked['peak_rss_mib']:,.0f}",
        f"CPU {checked['cpu_seconds']:.1f} s; {checked['heads_checked']} heads checked; "
        f"{'intact' if checked['intact'] else 'NOT INTACT'}; "
        f"RSS before {checked['rss_before_mib']:,.0f}",
    )
    if cli is not None:
        table.add_row(
            "bluelight audit verify (end to end)",
            f"{checked['entries']:,}",
            f"{cli['seconds']:.1f}",
            f"{checked['entries'] / cli['seconds']:,.0f}",
            f"{cli['peak_rss_mib']:,.0f}",
            f"CPU {cli['cpu_seconds']:.1f} s (start-up included); exit status {cli['exit_status']}",
        )
    return table


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.verify_child is not None:
        return verify_child(*args.verify_child)
    facts = machine()
    console.print(
        f"[bold]audit_verify[/] {facts['date']} · {facts['nproc']} x {facts['cpu']} · "
        f"Python {facts['python']} · SQLAlchemy {facts['sqlalchemy']} · psycopg {facts['psycopg']}"
    )
    if overrides := env_overrides():
        console.print(
            "settings from the environment: " + " ".join(f"{k}={v}" for k, v in overrides.items())
        )
    workdir = run_dir("audit_verify")
    folder = Path(tempfile.mkdtemp(prefix=f"bluelight-audit-verify-{RUN_ID}-"))
    data_dir = folder / "data"
    key_path = data_dir / "keys" / "audit-signing.pem"
    scratch = scratch_database(
        args.database_url, f"bench_audit_{RUN_ID}", directory=folder, keep=args.keep_db
    )
    where = folder if scratch.url.startswith("sqlite") else redacted(scratch.url)
    console.print(f"database: {scratch.label} ({where})")
    try:
        built = build_trail(scratch.url, key_path, args)
        console.print(
            f"built {built.entries:,} entries in {built.seconds:.1f} s: append() "
            f"{built.entries / built.append_seconds:,.0f} entries/s, {built.heads} signed heads"
        )
        from bluelight.kernel.crypto import load_or_create_signing_key

        key_hex = load_or_create_signing_key(key_path).public_bytes().hex()
        checked = _verify_in_child(scratch.url, key_hex, built.entries, workdir)
        cli = None if args.no_cli else _verify_cli(scratch.url, data_dir, built.entries, workdir)
    except Exception as exc:  # noqa: BLE001  (a failed run ends with its message)
        console.print(f"[red]{type(exc).__name__}: {exc}[/]")
        return 2
    finally:
        scratch.drop()
        if not args.keep_db:
            shutil.rmtree(folder, ignore_errors=True)
    label = "SQLite" if scratch.url.startswith("sqlite") else "PostgreSQL"
    console.print(_table(label, built, checked, cli))
    console.print(
        f"verify(): [bold]{checked['entries'] / checked['seconds']:,.0f} records/s[/] over "
        f"{checked['entries']:,} entries, peak RSS {checked['peak_rss_mib']:,.0f} MiB"
    )
    if args.keep_db:
        console.print(f"kept: {scratch.url} and the key in {data_dir}")
    saved = write_json(
        "audit_verify",
        {
            "machine": facts,
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "database": redacted(scratch.url),
            "args": {k: v for k, v in vars(args).items() if k != "verify_child"},
            "build": built.__dict__,
            "verify": checked,
            "cli": cli,
            "load_average": Path("/proc/loadavg").read_text().split()[:3],
        },
    )
    console.print(f"raw figures: {saved.relative_to(BENCH.parent)}")
    intact = checked["intact"] and (cli is None or cli["exit_status"] == 0)
    if not intact:
        console.print(f"[red]the trail did not verify: {checked['problems']}[/]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
