"""Device-sync ingest: Bluelight's ``POST /api/v1/sync/push`` beside a PouchDB sync server.

    .venv/bin/python benchmarks/sync_ingest.py                      # SQLite (fresh files)
    .venv/bin/python benchmarks/sync_ingest.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/sync_ingest.py --scale 0.1 --rounds 1   # a quick check
    .venv/bin/python benchmarks/sync_ingest.py --src /tmp/head/src      # a snapshot of src/

What it does, for each workload (``--workloads``, default ``50x200,200x50,2000x5``: devices
times operations per device) in each of ``--rounds`` rounds, the two servers one after the
other (round 1 Bluelight first, round 2 PouchDB first, and so on):

1. **Bluelight.** A fresh database of its own (a SQLite file in the run's folder
   ``benchmarks/out/sync_ingest-<time>-<run id>/``, or a fresh PostgreSQL schema
   ``bench_sync_<run id>_<n>``), migrated, with ``--officers`` officers (role ``officer``,
   which holds the sync permission) added through the identity services. granian serves
   ``bluelight.app:app_factory`` with the command line ``bluelight serve`` uses. Each officer
   signs in over HTTP as an app does (password, then the TOTP code of the second factor the
   first sign-in enrols); the other devices get sessions of their own, one device each, made
   as the sign-in makes them (a ``devices`` row and an ``access_sessions`` row holding the
   SHA-256 of a new bearer token), spread over the officers. Each device's outbox is
   ``create`` operations of ``property`` records (an operation id made with
   ``bluelight.kernel.new_id``, a UUIDv7, and a fresh record id), pushed as one batch
   (``{"operations": [...]}``, the reason headers) to ``POST /api/v1/sync/push``,
   ``--concurrency`` devices at once. Timed from the first push to the last answer; every
   answer must be ``applied``. Then every batch again (a device that lost its answers),
   timed apart: every answer must be ``duplicate`` (``applied`` for a batch whose first push
   failed, which committed nothing). Then the database, through SQLAlchemy:
   one ``sync_operations`` row per operation, and exactly one ``created`` entry of the change
   log per record id.
2. **PouchDB.** ``express-pouchdb`` over ``pouchdb-node`` (``benchmarks/peers/pouchdb/``,
   installed with ``npm ci`` on first use, never by ``make``), with a fresh data folder.
   Each operation is a document (``_id`` the record id, the same content, the operation id)
   with a revision the device made (``1-<md5 of the content>``), and a device pushes as the
   PouchDB replicator does: ``POST /{db}/_revs_diff``, then ``POST /{db}/_bulk_docs`` with
   ``new_edits: false`` and the missing documents. The replay sends both again. Checks: the
   database's ``doc_count``, nothing written by the replay (``update_seq`` unchanged), and
   a sample of documents each with one revision (``?revs_info=true``).
3. Prints every pass, then the medians per workload with the ratio Bluelight ÷ PouchDB (the
   issue's target: at least 2 on every row), and saves the raw figures as JSON under
   ``benchmarks/out/``. Exit status 1 if any exactly-once check failed or any push was
   answered with an HTTP error (the figures would not stand), 2 if a server could not run
   (PouchDB skipped for want of node or npm included).

Set-up (databases, users, sessions, servers, building and encoding the batches) is not timed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from _common import (
    BENCH,
    REASON_HEADERS,
    RUN_ID,
    Server,
    bench_settings,
    cpu_seconds,
    create_bench_users,
    env_overrides,
    free_port,
    http_get,
    machine,
    median,
    redacted,
    run_dir,
    scratch_database,
    sign_in_http,
    start_server,
    wait_until_answering,
    write_json,
)

# The issue's target: Bluelight's median ops/s over PouchDB's, on every workload.
TARGET = 2.0
OURS, PEER = "bluelight", "pouchdb"
PEER_DIR = BENCH / "peers" / "pouchdb"
PUSH_PATH = "/api/v1/sync/push"
MAX_BATCH = 500  # bluelight.sync.schemas.MAX_OPERATIONS
WARMUP_OPS = 20  # one device's batch pushed before the clock starts, on both sides
DEFAULT_WORKLOADS = "50x200,200x50,2000x5"
console = Console(width=None if sys.stdout.isatty() else 150)


@dataclass(frozen=True)
class Workload:
    devices: int
    ops: int  # operations per device, pushed as one batch

    @property
    def name(self) -> str:
        return f"{self.devices}x{self.ops}"

    @property
    def total(self) -> int:
        return self.devices * self.ops


@dataclass
class Device:
    """One device's outbox: its operations and the request bodies made of them."""

    index: int
    record_ids: list[str]
    op_ids: list[str]
    contents: list[dict[str, str]]
    token: str = ""
    bodies: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Pass:
    """One server's timed push and replay of one workload."""

    server: str
    workload: str
    round: int
    operations: int
    requests: int
    seconds: float
    ops_per_s: float
    replay_seconds: float
    replay_ops_per_s: float
    server_cpu_us_per_op: float  # the server's CPU per operation in the timed push
    client_cpu: float  # this process's CPU per wall second in the timed push (1.0 = one core)
    load: float
    failed_requests: int  # answers of the timed push that were not a success (5xx, 4xx)
    exactly_once: bool
    violations: list[str]
    failures: list[str]


def _workloads(text: str, scale: float) -> list[Workload]:
    out = []
    for part in text.split(","):
        devices, _, ops = part.strip().lower().partition("x")
        workload = Workload(max(1, round(int(devices) * scale)), int(ops))
        if not 1 <= workload.ops <= MAX_BATCH:
            msg = f"{part}: a device pushes 1 to {MAX_BATCH} operations in its batch"
            raise ValueError(msg)
        out.append(workload)
    return out


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Device-sync ingest (operations/s): Bluelight's POST /api/v1/sync/push "
        "beside a PouchDB sync server (express-pouchdb) given the same workload.",
    )
    p.add_argument(
        "--database-url",
        default=None,
        help="postgresql://… to run Bluelight on PostgreSQL (fresh schemas of this run's "
        "own, dropped at the end); default: fresh SQLite files of this run's own",
    )
    p.add_argument(
        "--workloads",
        default=DEFAULT_WORKLOADS,
        help=f"devices x operations per device, comma-separated ({DEFAULT_WORKLOADS})",
    )
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every workload's devices by this (0.1 for a quick check; 1)",
    )
    p.add_argument("--concurrency", type=int, default=16, help="devices pushing at once (16)")
    p.add_argument("--rounds", type=int, default=3, help="rounds, alternating who goes first (3)")
    p.add_argument(
        "--officers",
        type=int,
        default=10,
        help="officers signing in over HTTP; the devices are spread over them (10)",
    )
    p.add_argument("--sample", type=int, default=100, help="PouchDB documents checked (100)")
    p.add_argument("--workers", type=int, default=1, help="granian worker processes (1)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds a request may take")
    p.add_argument("--skip-peer", action="store_true", help="measure Bluelight only")
    p.add_argument(
        "--src",
        type=Path,
        default=None,
        help="measure the bluelight package under DIR instead of the checked-out src/ (a "
        "snapshot, e.g. git archive HEAD src | tar -x -C /tmp/head, then --src /tmp/head/src), "
        "so edits made in src/ during the run do not change the code under test",
    )
    args = p.parse_args(argv)
    if args.src is not None:
        if not (args.src / "bluelight" / "app.py").is_file():
            p.error(f"--src: no bluelight/app.py under {args.src}")
        args.src = args.src.resolve()
    try:
        args.workload_list = _workloads(args.workloads, args.scale)
    except ValueError as exc:
        p.error(f"--workloads: {exc}")
    for name in ("concurrency", "rounds", "officers", "sample", "workers"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.rounds > 20 or args.scale <= 0 or args.scale > 10:
        p.error("keep a run bounded: --rounds at most 20, --scale in (0, 10]")
    return args


# --- the workload ----------------------------------------------------------------------------


def _outboxes(workload: Workload, round_no: int) -> list[Device]:
    """Every device's operations: property records, new ids, a unique description each."""
    from bluelight.kernel import new_id

    devices = []
    for d in range(workload.devices):
        record_ids = [str(uuid.uuid4()) for _ in range(workload.ops)]
        contents = [
            {
                "category": "BICYCLE",
                "description": f"bicycle {i} of device {d}, {workload.name} round {round_no} "
                f"({record_ids[i][:8]})",
            }
            for i in range(workload.ops)
        ]
        devices.append(Device(d, record_ids, [str(new_id()) for _ in contents], contents))
    return devices


def _warmup_outbox(round_no: int) -> Device:
    (device,) = _outboxes(Workload(1, WARMUP_OPS), round_no)
    device.index = -1
    return device


def _encode(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _push_body(device: Device, made_at: str) -> bytes:
    return _encode(
        {
            "operations": [
                {
                    "id": op_id,
                    "kind": "property",
                    "action": "create",
                    "record_id": record_id,
                    "content": content,
                    "made_at": made_at,
                }
                for op_id, record_id, content in zip(
                    device.op_ids, device.record_ids, device.contents, strict=True
                )
            ]
        }
    )


def _pouch_docs(device: Device) -> list[dict[str, Any]]:
    docs = []
    for op_id, record_id, content in zip(
        device.op_ids, device.record_ids, device.contents, strict=True
    ):
        body = {"kind": "property", "op_id": op_id, **content}
        digest = hashlib.md5(_encode(body), usedforsecurity=False).hexdigest()
        docs.append(
            {
                "_id": record_id,
                "_rev": f"1-{digest}",
                "_revisions": {"start": 1, "ids": [digest]},
                **body,
            }
        )
    return docs


def _pouch_bodies(device: Device) -> None:
    docs = _pouch_docs(device)
    device.bodies["revs_diff"] = _encode({d["_id"]: [d["_rev"]] for d in docs})
    device.bodies["bulk_docs"] = _encode({"docs": docs, "new_edits": False})
    device.bodies["revs"] = _encode({d["_id"]: d["_rev"] for d in docs})


# --- driving the servers ---------------------------------------------------------------------


@dataclass
class Timed:
    seconds: float
    client_cpu: float
    server_cpu: float
    answers: list[Any]

    def failed(self) -> int:
        """Requests answered with an HTTP error (an answer's statuses come first, then
        bodies)."""
        return sum(
            1 for answer in self.answers for status in answer[::2] if not 200 <= status < 300
        )


async def _drive(
    devices: list[Device],
    push: Any,
    *,
    base_url: str,
    concurrency: int,
    timeout: float,
) -> tuple[float, list[Any]]:
    """Run ``push(client, device)`` for every device, ``concurrency`` at once; return the
    seconds from the first request to the last answer and the answers in device order."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one(device: Device) -> Any:
            async with gate:
                return await push(client, device)

        start = time.perf_counter()
        answers = await asyncio.gather(*(one(d) for d in devices))
        return time.perf_counter() - start, list(answers)


def _timed(devices: list[Device], push: Any, server: Server, args: argparse.Namespace) -> Timed:
    pids = server.pids()
    server_before = cpu_seconds(pids)
    client_before = time.process_time()
    start = time.perf_counter()
    seconds, answers = asyncio.run(
        _drive(
            devices,
            push,
            base_url=server.base_url,
            concurrency=args.concurrency,
            timeout=args.timeout,
        )
    )
    wall = time.perf_counter() - start
    return Timed(
        seconds=seconds,
        client_cpu=(time.process_time() - client_before) / wall,
        server_cpu=cpu_seconds(pids) - server_before,
        answers=answers,
    )


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


# --- Bluelight -------------------------------------------------------------------------------


def _src_env(args: argparse.Namespace) -> dict[str, str]:
    """``PYTHONPATH`` putting ``--src`` before the installed (editable) package, if given."""
    if args.src is None:
        return {}
    return {
        "PYTHONPATH": os.pathsep.join(p for p in (str(args.src), os.environ.get("PYTHONPATH")) if p)
    }


def _code_digest() -> dict[str, str]:
    """Where the bluelight package under test is, and a SHA-256 of its Python files (taken at
    the start and the end of the run: a server is started for every pass, so an edit made in
    between would be measured from then on)."""
    import bluelight

    root = Path(bluelight.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    git, head = shutil.which("git"), "-"
    if git is not None:
        done = subprocess.run(
            [git, "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
        head = done.stdout.strip() or "-"
    return {"path": str(root), "git_head": head, "sha256": digest.hexdigest()}


def _create_officers(url: str, data_dir: Path, count: int) -> list[str]:
    """Add the agency and ``count`` officers through the identity services, as an
    administrator would; return their usernames."""
    names = [f"sync.{RUN_ID}.{n}" for n in range(count)]
    create_bench_users(url, data_dir, names)
    return names


def _more_sessions(url: str, data_dir: Path, usernames: list[str], count: int) -> list[str]:
    """``count`` sessions, each on a device of its own, spread over ``usernames`` in turn;
    return their bearer tokens.

    Made as ``finish_sign_in`` makes them (a device registered to the user's agency, a session
    holding the SHA-256 of a new ``blt_`` token, the policy's lifetime), without the password
    and the second factor: a TOTP code signs a user in once per 30 s step, and 2,000 devices
    would take hours.
    """
    from sqlalchemy import select

    from bluelight.db import Database, make_engine
    from bluelight.identity.models import AccessSession, User
    from bluelight.identity.models import Device as DeviceRow
    from bluelight.identity.policy import identity_policy
    from bluelight.kernel import new_id, utcnow
    from bluelight.kernel.crypto import mint_token, token_digest

    policy = identity_policy(bench_settings(url, data_dir))
    db = Database(make_engine(url))
    tokens = []
    try:
        with db.write() as session:
            users = {
                u.username: u
                for u in session.execute(select(User).where(User.username.in_(usernames))).scalars()
            }
            now = utcnow()
            for n in range(count):
                user = users[usernames[n % len(usernames)]]
                device_id = uuid.uuid4()
                session.add(
                    DeviceRow(
                        id=device_id,
                        agency_id=user.agency_id,
                        name=f"benchmark device {n}",
                        registered_by=user.id,
                        registered_at=now,
                        last_user_id=user.id,
                        last_seen_at=now,
                    )
                )
                session.flush()  # the device before its session (a foreign key)
                token = mint_token("blt")
                session.add(
                    AccessSession(
                        id=new_id(),
                        token_digest=token_digest(token),
                        user_id=user.id,
                        device_id=device_id,
                        created_at=now,
                        last_used_at=now,
                        expires_at=now + policy.session_lifetime,
                    )
                )
                tokens.append(token)
    finally:
        db.dispose()
    return tokens


def _ledger_check(url: str, devices: list[Device]) -> list[str]:
    """Exactly once in the database: one ledger row per operation, one ``created`` change per
    record."""
    from sqlalchemy import func, select

    from bluelight.changes.models import ChangeLogEntry
    from bluelight.db import make_engine
    from bluelight.sync.models import SyncOperation

    op_ids = {uuid.UUID(o) for d in devices for o in d.op_ids}
    record_ids = {uuid.UUID(r) for d in devices for r in d.record_ids}
    problems = []
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(func.count()).select_from(SyncOperation)).scalar_one()
            ledger = set(conn.execute(select(SyncOperation.id)).scalars())
            created = Counter(
                conn.execute(
                    select(ChangeLogEntry.entity_id).where(
                        ChangeLogEntry.entity_type == "property",
                        ChangeLogEntry.action == "created",
                    )
                ).scalars()
            )
            changes = conn.execute(
                select(func.count())
                .select_from(ChangeLogEntry)
                .where(ChangeLogEntry.entity_type == "property")
            ).scalar_one()
    finally:
        engine.dispose()
    if rows != len(op_ids):
        problems.append(f"sync_operations holds {rows} rows for {len(op_ids)} operations")
    if ledger != op_ids:
        problems.append(
            f"sync_operations: {len(op_ids - ledger)} operations missing, "
            f"{len(ledger - op_ids)} unknown"
        )
    twice = sum(1 for n in created.values() if n > 1)
    missing = len(record_ids - created.keys())
    if twice or missing or created.keys() != record_ids:
        problems.append(
            f"change_log: {twice} records created more than once, {missing} never, "
            f"{len(created.keys() - record_ids)} unknown"
        )
    if changes != len(record_ids):
        problems.append(f"change_log holds {changes} property changes for {len(record_ids)}")
    return problems


async def _bluelight_push(client: httpx.AsyncClient, device: Device) -> tuple[int, bytes]:
    answer = await client.post(
        PUSH_PATH,
        content=device.bodies["push"],
        headers={
            "Authorization": f"Bearer {device.token}",
            "Content-Type": "application/json",
            **REASON_HEADERS,
        },
    )
    return answer.status_code, answer.content


def _push_problems(
    devices: list[Device], answers: list[Any], expected: list[str]
) -> tuple[list[str], list[str]]:
    """Check each device's answer: every operation's status must be the device's ``expected``
    one. Return the violations, and the pushes answered with an HTTP error (a failed push
    commits nothing: not a violation, but the pass's figures do not stand)."""
    statuses: Counter[str] = Counter()
    problems: list[str] = []
    failures: list[str] = []
    wrong = 0
    for device, (status, content), wanted in zip(devices, answers, expected, strict=True):
        if status != 200:
            if len(failures) < 3:
                failures.append(f"device {device.index}: HTTP {status}: {content[:300]!r}")
            statuses[f"HTTP {status}"] += len(device.op_ids)
            continue
        results = json.loads(content)["results"]
        if [r["id"] for r in results] != device.op_ids:
            problems.append(f"device {device.index}: answers do not match its operations")
        for r in results:
            statuses[r["status"]] += 1
            if r["status"] != wanted:
                wrong += 1
                if wrong <= 3:
                    problems.append(f"device {device.index}: operation {r['id']}: {r}")
    if wrong:
        problems.insert(0, f"{wrong} operations not answered as expected: {dict(statuses)}")
    if failures:
        failed = sum(1 for status, _ in answers if status != 200)
        failures.insert(0, f"{failed} pushes failed: {dict(statuses)}")
    return problems, failures


def _bluelight_pass(
    workload: Workload,
    round_no: int,
    index: int,
    args: argparse.Namespace,
    workdir: Path,
) -> Pass:
    """Bluelight on a fresh database: push every device's batch, replay them, check."""
    from bluelight.db import make_engine
    from bluelight.migrations import upgrade

    on_sqlite = not args.database_url or args.database_url.startswith("sqlite")
    name = f"sync-{workload.name}-r{round_no}" if on_sqlite else f"bench_sync_{RUN_ID}_{index}"
    scratch = scratch_database(args.database_url, name, directory=workdir)
    server: Server | None = None
    try:
        engine = make_engine(scratch.url)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        data_dir = workdir / "data"
        settings = bench_settings(scratch.url, data_dir)
        officers = _create_officers(scratch.url, data_dir, min(args.officers, workload.devices))
        server = start_server(
            f"{OURS}-{workload.name}-r{round_no}",
            "bluelight.app:app_factory",
            env={
                "BLUELIGHT_DATABASE_URL": scratch.url,
                "BLUELIGHT_DATA_DIR": str(settings.data_dir),
                "BLUELIGHT_ENV": str(settings.env),
                **_src_env(args),
            },
            workers=args.workers,
            interface="asgi",
            probe="/api/v1/health",
            log_dir=workdir,
        )
        tokens = [sign_in_http(server.base_url, u) for u in officers]
        tokens += _more_sessions(
            scratch.url, data_dir, officers, workload.devices + 1 - len(tokens)
        )
        devices = _outboxes(workload, round_no)
        warmup = _warmup_outbox(round_no)
        made_at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        for device, token in zip([*devices, warmup], tokens, strict=True):
            device.token = token
            device.bodies["push"] = _push_body(device, made_at)

        problems, failures = _push_problems(
            [warmup], [asyncio.run(_one(warmup, _bluelight_push, server, args))], ["applied"]
        )
        first = _timed(devices, _bluelight_push, server, args)
        found = _push_problems(devices, first.answers, ["applied"] * len(devices))
        problems += found[0]
        failures += found[1]
        load = _load()
        again = _timed(devices, _bluelight_push, server, args)
        # A batch whose push failed was never committed: its replay is its first application.
        expected = ["duplicate" if status == 200 else "applied" for status, _ in first.answers]
        found = _push_problems(devices, again.answers, expected)
        problems += [f"replay: {p}" for p in found[0]]
        failures += [f"replay: {p}" for p in found[1]]
        problems += _ledger_check(scratch.url, [*devices, warmup])
    finally:
        if server is not None:
            server.stop()
        scratch.drop()
    return _pass(
        OURS,
        workload,
        round_no,
        first=first,
        again=again,
        load=load,
        problems=problems,
        failures=failures,
        requests=1,
    )


async def _one(device: Device, push: Any, server: Server, args: argparse.Namespace) -> Any:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=args.timeout) as client:
        return await push(client, device)


def _pass(
    server: str,
    workload: Workload,
    round_no: int,
    *,
    first: Timed,
    again: Timed,
    load: float,
    problems: list[str],
    failures: list[str],
    requests: int,
) -> Pass:
    return Pass(
        server=server,
        workload=workload.name,
        round=round_no,
        operations=workload.total,
        requests=requests * workload.devices,
        seconds=round(first.seconds, 3),
        ops_per_s=workload.total / first.seconds,
        replay_seconds=round(again.seconds, 3),
        replay_ops_per_s=workload.total / again.seconds,
        server_cpu_us_per_op=first.server_cpu * 1e6 / workload.total,
        client_cpu=first.client_cpu,
        load=load,
        failed_requests=first.failed(),
        exactly_once=not problems,
        violations=problems,
        failures=failures,
    )


# --- PouchDB ---------------------------------------------------------------------------------


def _peer_ready(install_log: Path) -> str | None:
    """``None`` when node and the peer's packages are there (running ``npm ci`` if they are
    missing); else why PouchDB cannot run."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return (
            "node and npm are needed for the PouchDB peer and are not installed "
            "(Debian/Ubuntu: sudo apt-get install -y nodejs npm; macOS: brew install node)"
        )
    if (PEER_DIR / "node_modules" / ".package-lock.json").exists():
        return None
    console.print(f"installing the PouchDB peer: npm ci in {PEER_DIR.relative_to(BENCH.parent)}")
    with install_log.open("wb") as sink:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=PEER_DIR,
            stdout=sink,
            stderr=subprocess.STDOUT,
            timeout=600,
            check=False,
        )
    if done.returncode != 0:
        return f"npm ci failed ({done.returncode}); see {install_log}"
    return None


def _start_pouchdb(name: str, data_dir: Path, log_dir: Path, timeout: float = 30.0) -> Server:
    """``node server.js`` on a free loopback port with a fresh data folder.

    Raises:
        RuntimeError: it exited, or did not answer within ``timeout`` seconds.
    """
    node = shutil.which("node") or "node"
    data_dir.mkdir(parents=True)
    port = free_port()
    argv = [node, str(PEER_DIR / "server.js"), str(data_dir), str(port)]
    log = log_dir / f"server-{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, cwd=PEER_DIR)
    server = Server(name, "express-pouchdb", port, process, log, argv)
    return wait_until_answering(server, "/", timeout=timeout)


JSON = {"Content-Type": "application/json"}


def _pouch_push(db: str, *, replay: bool) -> Any:
    """A device's replication to ``db``: the revisions the server lacks, then the documents
    (``new_edits: false``). A first push sends what ``_revs_diff`` reports missing; the replay
    sends the whole batch again, as a device that lost the answer does."""

    async def push(client: httpx.AsyncClient, device: Device) -> tuple[int, bytes, int, bytes]:
        diff = await client.post(
            f"/{db}/_revs_diff", content=device.bodies["revs_diff"], headers=JSON
        )
        body = device.bodies["bulk_docs"]
        if not replay and diff.status_code == 200:
            missing = json.loads(diff.content)
            if len(missing) != len(device.record_ids):
                wanted = [d for d in _pouch_docs(device) if d["_id"] in missing]
                body = _encode({"docs": wanted, "new_edits": False})
        stored = await client.post(f"/{db}/_bulk_docs", content=body, headers=JSON)
        return diff.status_code, diff.content, stored.status_code, stored.content

    return push


def _pouch_problems(devices: list[Device], answers: list[Any], *, replay: bool) -> list[str]:
    problems = []
    for device, (diff_status, diff, docs_status, docs) in zip(devices, answers, strict=True):
        if diff_status != 200 or docs_status != 201:
            problems.append(
                f"device {device.index}: _revs_diff {diff_status}, _bulk_docs {docs_status}: "
                f"{docs[:300]!r}"
            )
            continue
        missing = json.loads(diff)
        if replay and missing:
            problems.append(f"device {device.index}: replay: {len(missing)} documents missing")
        if not replay and len(missing) != len(device.record_ids):
            problems.append(f"device {device.index}: {len(missing)} missing, not all")
        errors = [r for r in json.loads(docs) if "error" in r]
        if errors:
            problems.append(f"device {device.index}: {len(errors)} refused: {errors[:2]}")
        if len(problems) >= 5:
            break
    return problems


def _pouch_check(server: Server, db: str, devices: list[Device], sample: int) -> list[str]:
    """Exactly once in the database: one document per operation, each with one revision."""
    problems = []
    info = http_get(f"{server.base_url}/{db}")
    expected = sum(len(d.record_ids) for d in devices)
    if info["doc_count"] != expected:
        problems.append(f"doc_count {info['doc_count']} for {expected} operations")
    step = max(1, expected // sample)
    revs: dict[str, str] = {}
    for device in devices:
        revs.update(json.loads(device.bodies["revs"]))
    pairs = list(revs.items())[::step][:sample]
    for record_id, rev in pairs:
        doc = http_get(f"{server.base_url}/{db}/{record_id}?revs_info=true")
        kept = [r["rev"] for r in doc.get("_revs_info", [])]
        if kept != [rev]:
            problems.append(f"document {record_id}: revisions {kept}, expected [{rev}]")
    return problems


def _pouchdb_pass(
    workload: Workload, round_no: int, args: argparse.Namespace, workdir: Path
) -> Pass:
    """PouchDB with a fresh data folder: the same workload, as the replicator sends it."""
    name = f"{PEER}-{workload.name}-r{round_no}"
    data_dir = workdir / name
    server = _start_pouchdb(name, data_dir, workdir)
    db = "sync"
    try:
        answer = httpx.put(f"{server.base_url}/{db}", timeout=30)
        answer.raise_for_status()
        devices = _outboxes(workload, round_no)
        warmup = _warmup_outbox(round_no)
        for device in [*devices, warmup]:
            _pouch_bodies(device)
        problems = _pouch_problems(
            [warmup],
            [asyncio.run(_one(warmup, _pouch_push(db, replay=False), server, args))],
            replay=False,
        )
        first = _timed(devices, _pouch_push(db, replay=False), server, args)
        problems += _pouch_problems(devices, first.answers, replay=False)
        load = _load()
        seq_before = http_get(f"{server.base_url}/{db}")["update_seq"]
        again = _timed(devices, _pouch_push(db, replay=True), server, args)
        problems += [f"replay: {p}" for p in _pouch_problems(devices, again.answers, replay=True)]
        seq_after = http_get(f"{server.base_url}/{db}")["update_seq"]
        if seq_after != seq_before:
            problems.append(f"replay: update_seq moved from {seq_before} to {seq_after}")
        problems += _pouch_check(server, db, [*devices, warmup], args.sample)
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return _pass(
        PEER,
        workload,
        round_no,
        first=first,
        again=again,
        load=load,
        problems=problems,
        failures=[f"{first.failed()} requests failed"] if first.failed() else [],
        requests=2,
    )


# --- the report ------------------------------------------------------------------------------


def _rounds_table(passes: list[Pass]) -> Table:
    table = Table(title="Each pass", title_justify="left")
    for column in ("round", "workload", "server"):
        table.add_column(column, justify="right" if column == "round" else "left")
    for column in (
        "operations",
        "requests",
        "push s",
        "ops/s",
        "replay ops/s",
        "server CPU µs/op",
        "client CPU",
        "failed",
        "load avg",
        "exactly once",
    ):
        table.add_column(column, justify="right")
    for p in passes:
        table.add_row(
            str(p.round),
            p.workload,
            p.server,
            f"{p.operations:,}",
            f"{p.requests:,}",
            f"{p.seconds:.2f}",
            f"{p.ops_per_s:,.0f}",
            f"{p.replay_ops_per_s:,.0f}",
            f"{p.server_cpu_us_per_op:,.0f}",
            f"{p.client_cpu:.0%}",
            str(p.failed_requests),
            f"{p.load:.1f}",
            "✓" if p.exactly_once else "✗",
        )
    return table


def _medians(passes: list[Pass], workloads: list[Workload]) -> list[dict[str, Any]]:
    rows = []
    for workload in workloads:
        row: dict[str, Any] = {"workload": workload.name, "operations": workload.total}
        for server in (OURS, PEER):
            mine = [p for p in passes if p.workload == workload.name and p.server == server]
            if not mine:
                continue
            row[server] = {
                "ops_per_s": median([p.ops_per_s for p in mine]),
                "replay_ops_per_s": median([p.replay_ops_per_s for p in mine]),
                "server_cpu_us_per_op": median([p.server_cpu_us_per_op for p in mine]),
                "exactly_once": all(p.exactly_once for p in mine),
                "failed_requests": sum(p.failed_requests for p in mine),
                "rounds": len(mine),
            }
        if OURS in row and PEER in row and row[PEER]["ops_per_s"]:
            ratio = row[OURS]["ops_per_s"] / row[PEER]["ops_per_s"]
            row["ratio"] = {"ratio": ratio, "target": TARGET, "met": ratio >= TARGET}
        rows.append(row)
    return rows


def _summary_table(rows: list[dict[str, Any]], database: str, args: argparse.Namespace) -> Table:
    table = Table(
        title=f"Medians of {args.rounds} round(s), {args.concurrency} devices pushing at once "
        "(PouchDB on LevelDB)",
        title_justify="left",
    )
    table.add_column("workload")
    table.add_column("database")
    for column in (
        "Bluelight ops/s",
        "PouchDB ops/s",
        "ours ÷ PouchDB",
        "target",
        "Bluelight replay ops/s",
        "PouchDB replay ops/s",
        "failed pushes",
        "exactly once",
    ):
        table.add_column(column, justify="right")

    def figure(row: dict[str, Any], server: str, key: str) -> str:
        return f"{row[server][key]:,.0f}" if server in row else "-"

    for row in rows:
        checks = [row[s]["exactly_once"] for s in (OURS, PEER) if s in row]
        ratio = row.get("ratio")
        table.add_row(
            f"{row['workload']} ({row['operations']:,} ops)",
            database,
            figure(row, OURS, "ops_per_s"),
            figure(row, PEER, "ops_per_s"),
            "-" if ratio is None else f"{ratio['ratio']:.2f}",
            f"≥ {TARGET:g}",
            figure(row, OURS, "replay_ops_per_s"),
            figure(row, PEER, "replay_ops_per_s"),
            str(sum(row[s]["failed_requests"] for s in (OURS, PEER) if s in row)),
            "✓" if all(checks) else "✗",
        )
    return table


def _peer_version() -> str:
    try:
        lock = json.loads((PEER_DIR / "package.json").read_text())
    except (OSError, ValueError):
        return "-"
    return " ".join(f"{k} {v}" for k, v in lock.get("dependencies", {}).items())


def _node_version() -> str:
    node = shutil.which("node")
    if node is None:
        return "-"
    done = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "-"


def _run_passes(
    workloads: list[Workload], args: argparse.Namespace, workdir: Path, *, run_peer: bool
) -> tuple[list[Pass], bool]:
    """Every workload of every round on each server, alternating who goes first; return the
    passes and whether a server failed to run."""
    passes: list[Pass] = []
    index = 0
    failed_to_run = False
    for round_no in range(1, args.rounds + 1):
        order = (OURS, PEER) if round_no % 2 else (PEER, OURS)
        for workload in workloads:
            for server in order:
                if server == PEER and not run_peer:
                    continue
                index += 1
                try:
                    if server == OURS:
                        result = _bluelight_pass(workload, round_no, index, args, workdir)
                    else:
                        result = _pouchdb_pass(workload, round_no, args, workdir)
                except (RuntimeError, OSError, httpx.HTTPError) as exc:
                    console.print(f"[red]{server} {workload.name} round {round_no}: {exc}[/]")
                    failed_to_run = True
                    continue
                passes.append(result)
                mark = "✓" if result.exactly_once else "[red]✗[/]"
                console.print(
                    f"  round {round_no} {workload.name:<8} {server:<10} "
                    f"{result.ops_per_s:>8,.0f} ops/s  replay {result.replay_ops_per_s:>8,.0f} "
                    f"ops/s  exactly once {mark}  (load average {result.load:.1f})"
                )
                for problem in result.violations:
                    console.print(f"    [red]exactly once: {problem}[/]")
                for failure in result.failures:
                    console.print(f"    [yellow]{failure}[/]")
    return passes, failed_to_run


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.src is not None:
        sys.path.insert(0, str(args.src))
    code: dict[str, Any] = dict(_code_digest())
    workloads: list[Workload] = args.workload_list
    facts = machine()
    facts["node"] = _node_version()
    facts["peer"] = _peer_version()
    console.print(
        f"[bold]sync_ingest[/] {facts['date']} · {facts['nproc']} x {facts['cpu']} · "
        f"Python {facts['python']} · granian {facts['granian']} · SQLAlchemy "
        f"{facts['sqlalchemy']} · node {facts['node']} · {facts['peer']}"
    )
    console.print(f"bluelight under test: {code['path']} (sha256 {code['sha256'][:12]})")
    if overrides := env_overrides():
        console.print(
            "settings from the environment: " + " ".join(f"{k}={v}" for k, v in overrides.items())
        )
    workdir = run_dir("sync_ingest")
    on_sqlite = not args.database_url or args.database_url.startswith("sqlite")
    database = "SQLite" if on_sqlite else "PostgreSQL"
    skipped = None
    if not args.skip_peer:
        skipped = _peer_ready(workdir / "npm-ci.log")
        if skipped:
            console.print(f"[red]PouchDB peer skipped:[/] {skipped}")
    run_peer = not args.skip_peer and skipped is None
    console.print(
        f"workloads: {', '.join(f'{w.name} ({w.total:,} ops)' for w in workloads)}; "
        f"{args.concurrency} devices at once; {args.rounds} round(s), alternating who goes "
        f"first; Bluelight on {database}, granian --workers {args.workers}"
    )

    passes, failed_to_run = _run_passes(workloads, args, workdir, run_peer=run_peer)

    code_after = _code_digest()
    code["changed_during_run"] = code_after["sha256"] != code["sha256"]
    rows = _medians(passes, workloads)
    console.print()
    console.print(_rounds_table(passes))
    console.print(_summary_table(rows, database, args))
    for row in rows:
        if ratio := row.get("ratio"):
            verdict = "[green]meets[/]" if ratio["met"] else "[red]is below[/]"
            console.print(
                f"{row['workload']}: Bluelight ÷ PouchDB (median ops/s) "
                f"[bold]{ratio['ratio']:.2f}[/] — {verdict} the target of {TARGET:g}"
            )
    saved = write_json(
        "sync_ingest",
        {
            "machine": facts,
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "database": redacted(args.database_url) if args.database_url else "sqlite",
            "args": {k: v for k, v in vars(args).items() if k != "workload_list"},
            "workloads": [asdict(w) for w in workloads],
            "peer_skipped": skipped,
            "code": code,
            "passes": [asdict(p) for p in passes],
            "medians": rows,
            "workdir": str(workdir.relative_to(BENCH.parent)),
        },
    )
    console.print(f"raw figures: {saved.relative_to(BENCH.parent)}")
    if code["changed_during_run"]:
        console.print(
            f"[red]the bluelight package under {code['path']} changed during the run: later "
            "passes measured other code than earlier ones (use --src with a snapshot)[/]"
        )
    if failed := sum(p.failed_requests for p in passes):
        console.print(
            f"[red]{failed} pushes were answered with an HTTP error: the ops/s of those passes "
            "do not stand (the server logs in the run's folder say why)[/]"
        )
        return 1
    if any(not p.exactly_once for p in passes):
        console.print("[red]an exactly-once check failed: see the violations above[/]")
        return 1
    if failed_to_run or skipped:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
