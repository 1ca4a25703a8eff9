"""Parts shared by the benchmarks: paths, machine facts, process CPU, ports, scratch databases.

Not a benchmark itself; the scripts beside it import it (the script's folder is on
``sys.path`` when a script is run as ``python benchmarks/<name>.py``).
"""

from __future__ import annotations

import json
import os
import platform
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
    inherit (the benchmark's own database, data folder and token are set apart from these)."""
    own = {"BLUELIGHT_DATABASE_URL", "BLUELIGHT_DATA_DIR", "BLUELIGHT_ENV", "BLUELIGHT_DEV_TOKEN"}
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
    if not url.startswith("http://127.0.0.1:"):
        msg = f"benchmarks only talk to loopback, not {url}"
        raise ValueError(msg)
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310  (loopback only, checked above)
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
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"{name} server exited ({process.returncode}); see {log}"
            raise RuntimeError(msg)
        try:
            http_get(server.base_url + probe, probe_headers, timeout=2)
        except (OSError, urllib.error.URLError, ValueError):
            time.sleep(0.2)
        else:
            return server
    server.stop()
    msg = f"{name} server did not answer on {server.base_url}{probe} in {timeout:.0f}s; see {log}"
    raise RuntimeError(msg)


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
