"""Parts shared by the benchmarks: paths, machine facts, process CPU, ports, scratch databases,
and a benchmark user who signs in the way everyone does (password, then a TOTP code).

Not a benchmark itself; the scripts beside it import it (the script's folder is on
``sys.path`` when a script is run as ``python benchmarks/<name>.py``).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
OUT = BENCH / "out"
LUA = BENCH / "read.lua"
VENV_BIN = Path(sys.executable).parent
PACKAGES = ("litestar", "granian", "sqlalchemy", "msgspec", "psycopg", "psycopg-binary")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Names this run's databases, schemas and files, so that runs started side by side (by several
# people on one machine) never touch each other's.
RUN_ID = uuid.uuid4().hex[:6]


def run_dir(name: str) -> Path:
    """A new folder ``benchmarks/out/<name>-<time>-<run id>/`` for one run's logs and inputs."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = OUT / f"{name}-{stamp}-{RUN_ID}"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- the machine -------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def env_overrides() -> dict[str, str]:
    """``BLUELIGHT_*`` settings in this environment, which the processes a benchmark starts
    inherit (the benchmark's own database and data folder are set apart from these)."""
    own = {"BLUELIGHT_DATABASE_URL", "BLUELIGHT_DATA_DIR", "BLUELIGHT_ENV"}
    return {
        k: v for k, v in sorted(os.environ.items()) if k.startswith("BLUELIGHT_") and k not in own
    }


def machine() -> dict[str, str]:
    """What a reader needs to compare figures between machines."""
    facts = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "memory": _memory_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }
    facts.update({name: _version(name) for name in PACKAGES})
    facts.update(env_overrides())
    return facts


# --- processes -----------------------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (granian runs its workers as child processes)."""
    children = _children_map()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """User plus system CPU time used so far by ``pids`` (threads included)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / CLOCK_TICKS


def memory_mib(pids: Sequence[int]) -> float:
    """The proportional set size (PSS) of ``pids`` together, in MiB.

    PSS shares each page among the processes that map it, so the sum over a forked process
    tree counts shared pages once (a plain RSS sum would count them in every process).
    """
    total_kib = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Pss:"):
                total_kib += int(line.split()[1])
                break
    return total_kib / 1024


def stop_tree(pid: int) -> None:
    """Kill ``pid`` and every process below it (a benchmark's own child only)."""
    for member in reversed(process_tree(pid)):
        with suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_get(url: str, headers: dict[str, str] | None = None, timeout: float = 5.0) -> Any:
    """GET ``url`` on loopback and decode the JSON answer; raises on a non-2xx status."""
    return _http(url, None, headers, timeout)


def http_post(
    url: str, body: Any, headers: dict[str, str] | None = None, timeout: float = 10.0
) -> Any:
    """POST ``body`` as JSON to ``url`` on loopback and decode the JSON answer; raises on a
    non-2xx status (``urllib.error.HTTPError``, whose body carries the problem+json)."""
    return _http(url, json.dumps(body).encode(), headers, timeout)


def _http(url: str, data: bytes | None, headers: dict[str, str] | None, timeout: float) -> Any:
    if not url.startswith("http://127.0.0.1:"):
        msg = f"benchmarks only talk to loopback, not {url}"
        raise ValueError(msg)
    sent = dict(headers or {})
    if data is not None:
        sent.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, headers=sent)  # noqa: S310  (loopback only, checked above)
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read())


@dataclass
class Server:
    """A granian server started by a benchmark, with its log file."""

    name: str
    target: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    argv: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        return process_tree(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def granian_argv(target: str, port: int, *, workers: int, interface: str) -> list[str]:
    """The command line of granian serving ``target`` (a factory) the way ``bluelight serve``
    does: one process per worker, ASGI, HTTP/1 and 2 on loopback, default event loop."""
    return [
        str(VENV_BIN / "python"),
        "-m",
        "granian",
        "--interface",
        interface,
        "--workers",
        str(workers),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--factory",
        "--log-level",
        "warning",
        target,
    ]


def start_server(
    name: str,
    target: str,
    *,
    env: dict[str, str],
    workers: int,
    interface: str,
    probe: str,
    log_dir: Path,
    probe_headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Server:
    """Start granian on a free loopback port and wait until ``probe`` answers 2xx.

    Raises:
        RuntimeError: the server exited or did not answer within ``timeout`` seconds.
    """
    port = free_port()
    argv = granian_argv(target, port, workers=workers, interface=interface)
    log = log_dir / f"server-{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            argv, env={**os.environ, **env}, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT
        )
    server = Server(name, target, port, process, log, argv)
    return wait_until_answering(server, probe, probe_headers, timeout=timeout)


def wait_until_answering(
    server: Server, probe: str, headers: dict[str, str] | None = None, *, timeout: float
) -> Server:
    """``server`` once ``probe`` answers 2xx.

    Raises:
        RuntimeError: the server exited or did not answer within ``timeout`` seconds (it is
            stopped).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            msg = f"{server.name} server exited ({server.process.returncode}); see {server.log}"
            raise RuntimeError(msg)
        try:
            http_get(server.base_url + probe, headers, timeout=2)
        except (OSError, urllib.error.URLError, ValueError):
            time.sleep(0.2)
        else:
            return server
    server.stop()
    msg = (
        f"{server.name} server did not answer on {server.base_url}{probe} in {timeout:.0f}s; "
        f"see {server.log}"
    )
    raise RuntimeError(msg)


# --- the load generator --------------------------------------------------------------------


def require_wrk(console: Any) -> str:
    """The path of ``wrk``; without it, say how to install it and exit with status 2."""
    wrk = shutil.which("wrk")
    if wrk is None:
        console.print(
            "[red]wrk is not installed.[/] This benchmark drives the servers with wrk, a load "
            "generator in C, so that the client is not the bottleneck.\n"
            "Install it (Debian/Ubuntu):  [bold]sudo apt-get update && sudo apt-get install -y "
            "wrk[/]\n(macOS: brew install wrk)"
        )
        sys.exit(2)
    return wrk


@dataclass
class Round:
    """One wrk run against one server."""

    target: str
    round: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    non_2xx: int
    bytes_per_response: float
    server_cpu: float  # CPU seconds used by the server per wall second (1.0 = one core)
    client_cpu: float  # the same for wrk
    load: float  # the machine's 1-minute load average as the run ended (others' work too)

    @property
    def server_cpu_us(self) -> float:
        """The server's CPU time per answered request, in microseconds."""
        return self.server_cpu * 1e6 / self.rps if self.rps else 0.0


def run_wrk(
    wrk: str,
    server: Server,
    paths: Path,
    *,
    threads: int,
    connections: int,
    duration: int,
    round_no: int,
    token: str = "",
    headers: dict[str, str] | None = None,
) -> Round:
    """Drive ``server`` with wrk and ``read.lua`` for ``duration`` seconds: GET each path of
    the file ``paths`` in turn, with ``Authorization: Bearer <token>`` and ``headers``.

    Raises:
        RuntimeError: wrk failed or printed no figures.
    """
    argv = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA),
        server.base_url,
        "--",
        str(paths),
        token,
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    pids = server.pids()
    server_before = cpu_seconds(pids)
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, check=False)
    wall = time.perf_counter() - start
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_used = cpu_seconds(pids) - server_before
    client_used = (client_after.ru_utime - client_before.ru_utime) + (
        client_after.ru_stime - client_before.ru_stime
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        msg = f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        raise RuntimeError(msg)
    data = json.loads(line.removeprefix("WRK_JSON "))
    seconds = data["duration_us"] / 1e6
    errors = data["errors"]
    lat = data["latency_us"]
    return Round(
        target=server.name,
        round=round_no,
        requests=data["requests"],
        seconds=round(seconds, 2),
        rps=data["requests"] / seconds,
        p50_ms=lat["p50"] / 1000,
        p90_ms=lat["p90"] / 1000,
        p99_ms=lat["p99"] / 1000,
        max_ms=lat["max"] / 1000,
        errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        non_2xx=errors["status"],
        bytes_per_response=data["bytes"] / max(data["requests"], 1),
        server_cpu=server_used / wall,
        client_cpu=client_used / wall,
        load=float(Path("/proc/loadavg").read_text().split()[0]),
    )


# --- scratch databases ---------------------------------------------------------------------


@dataclass
class ScratchDatabase:
    """An empty database for one benchmark run, and how to remove it afterwards."""

    url: str
    label: str
    drop: Callable[[], None]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.as_posix()}"


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def scratch_database(
    database_url: str | None, name: str, *, directory: Path = OUT, keep: bool = False
) -> ScratchDatabase:
    """A fresh SQLite file ``<directory>/<name>.db`` or, given a PostgreSQL URL, a fresh schema
    ``<name>`` (either replaced if a previous run left it).

    The PostgreSQL URL selects the schema with ``options=-csearch_path=<name>``. ``drop``
    removes the file or the schema, unless ``keep``.
    """
    if not database_url or database_url.startswith("sqlite"):
        path = directory / f"{name}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_sqlite(path)
        return ScratchDatabase(
            sqlite_url(path),
            f"SQLite {path.name}",
            (lambda: None) if keep else (lambda: _remove_sqlite(path)),
        )
    if not database_url.startswith("postgresql"):
        msg = f"only sqlite:/// and postgresql:// URLs are benchmarked, not {database_url}"
        raise ValueError(msg)
    drop_schema(database_url, name)
    from sqlalchemy import text

    from bluelight.db import make_engine

    admin = make_engine(database_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
    finally:
        admin.dispose()
    return ScratchDatabase(
        schema_url(database_url, name),
        f"PostgreSQL schema {name}",
        (lambda: None) if keep else (lambda: drop_schema(database_url, name)),
    )


def schema_url(database_url: str, schema: str) -> str:
    """``database_url`` with ``schema`` first on the search path (psycopg ``options``)."""
    sep = "&" if "?" in database_url else "?"
    return f"{database_url}{sep}options=-csearch_path%3D{schema}"


def drop_schema(database_url: str, schema: str) -> None:
    """Drop a PostgreSQL schema and everything in it, if it exists."""
    from sqlalchemy import text

    from bluelight.db import make_engine

    if not schema.isidentifier():
        msg = f"schema name {schema!r} is not a plain identifier"
        raise ValueError(msg)
    admin = make_engine(database_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()


def redacted(url: str) -> str:
    """``url`` without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def timed() -> Iterator[list[float]]:
    """``with timed() as t: ...`` leaves the elapsed seconds in ``t[0]``."""
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def write_json(name: str, document: dict[str, Any]) -> Path:
    """Save a run's raw figures as ``benchmarks/out/<name>-<time>.json``."""
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = OUT / f"{name}-{stamp}-{uuid.uuid4().hex[:4]}.json"
    path.write_text(json.dumps(document, indent=2, default=str))
    return path


# --- a user who signs in ---------------------------------------------------------------------

BENCH_PASSWORD = "benchmark pass phrase 2026"  # noqa: S105  (a scratch account on loopback)
BENCH_AGENCY = "DEMO"  # the agency _dataset.py's persons belong to
# Person reads need a reason (400 REASON_REQUIRED without one); every benchmark read gives this.
REASON_HEADERS = {
    "X-Bluelight-Reason": "INVESTIGATION",
    "X-Bluelight-Reason-Text": "benchmark%20read",
}


def bench_settings(url: str, data_dir: Path) -> Any:
    """The settings a benchmark's servers run with: development, the real password cost, the
    database and data folder (keys) of this run."""
    from bluelight.settings import Environment, Settings

    return Settings(database_url=url, data_dir=data_dir, env=Environment.DEVELOPMENT)


def create_bench_user(url: str, data_dir: Path, *, roles: Sequence[str] = ("officer",)) -> str:
    """Add a user (and, if missing, the agency ``BENCH_AGENCY``) through the identity services,
    as an administrator would; return the username, ``bench.<run id>``, new on every run so a
    kept database never holds a user whose second factor this run does not know."""
    username = f"bench.{RUN_ID}"
    create_bench_users(url, data_dir, [username], roles=roles)
    return username


def create_bench_users(
    url: str, data_dir: Path, usernames: Sequence[str], *, roles: Sequence[str] = ("officer",)
) -> None:
    """Add users named ``usernames`` (and, if missing, the agency ``BENCH_AGENCY``) through
    the identity services, as an administrator would."""
    import msgspec

    from bluelight.db import Database, make_engine
    from bluelight.identity import services as identity
    from bluelight.identity import system_actor
    from bluelight.identity.errors import IdentityError
    from bluelight.identity.policy import identity_policy
    from bluelight.identity.schemas import AgencyCreate, UserCreate

    policy = identity_policy(bench_settings(url, data_dir))
    db = Database(make_engine(url))
    try:
        actor = system_actor(BENCH_AGENCY)
        try:
            identity.create_agency(
                db,
                msgspec.convert(
                    {"code": BENCH_AGENCY, "name": "Benchmark force", "type": "police"},
                    AgencyCreate,
                ),
                actor=actor,
            )
        except IdentityError as exc:
            if exc.code != "AGENCY_EXISTS":
                raise
        for n, username in enumerate(usernames, 1):
            identity.create_user(
                db,
                policy,
                msgspec.convert(
                    {
                        "username": username,
                        "display_name": f"Benchmark officer {n}",
                        "password": BENCH_PASSWORD,
                        "roles": list(roles),
                        "agency": BENCH_AGENCY,
                    },
                    UserCreate,
                ),
                actor=actor,
            )
    finally:
        db.dispose()


def sign_in_http(base_url: str, username: str, password: str = BENCH_PASSWORD) -> str:
    """Sign in through the API (password, then the TOTP code of the secret the first sign-in
    enrols) from a new device; return the bearer token."""
    from bluelight.kernel.crypto import totp_code

    device = {"id": str(uuid.uuid4()), "name": "benchmark client"}
    first = http_post(
        f"{base_url}/api/v1/auth/sign-in",
        {"username": username, "password": password, "device": device},
    )
    enrolment = first.get("enrolment")
    if not enrolment:
        msg = f"{username} is already enrolled: the benchmark signs in only new users"
        raise RuntimeError(msg)
    code = totp_code(enrolment["secret"], datetime.now(UTC))
    second = http_post(
        f"{base_url}/api/v1/auth/second-factor", {"challenge": first["challenge"], "code": code}
    )
    token: str = second["token"]
    return token


def sign_in_services(db: Any, policy: Any, username: str, password: str = BENCH_PASSWORD) -> str:
    """``sign_in_http`` without HTTP: the same two identity services the routes call."""
    from bluelight.identity import services as identity
    from bluelight.kernel.crypto import totp_code

    due = identity.start_sign_in(
        db,
        policy,
        username=username,
        password=password,
        device_id=uuid.uuid4(),
        device_name="benchmark client",
    )
    if due.enrolment is None:
        msg = f"{username} is already enrolled: the benchmark signs in only new users"
        raise RuntimeError(msg)
    code = totp_code(due.enrolment.secret, datetime.now(UTC))
    granted = identity.finish_sign_in(db, policy, challenge=due.challenge, code=code)
    return granted.token
