"""``bluelight serve`` in a process of its own, for tests that need a real server: TLS, and a
server killed part way through a request."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

BLUELIGHT = Path(sys.executable).parent / "bluelight"
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Served:
    """A running server: its base URL and its process (the leader of its own group, with the
    worker processes it starts)."""

    base: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """Kill the server and its workers at once (SIGKILL), as a power cut would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@contextmanager
def serving(url: str, data_dir: Path, **tls: Path) -> Iterator[Served]:
    """``bluelight serve`` on database ``url``; yields it once it listens, and stops it at the
    end (if it is still running)."""
    port = free_port()
    scheme = "https" if tls else "http"
    env = {
        **os.environ,
        "BLUELIGHT_DATABASE_URL": url,
        "BLUELIGHT_ENV": "test",
        "BLUELIGHT_DATA_DIR": str(data_dir),
        "BLUELIGHT_PASSWORD_HASH_COST": "fast",
        "BLUELIGHT_AUDIT_SIGN_INTERVAL_SECONDS": "0",
        "BLUELIGHT_HOST": "127.0.0.1",
        "BLUELIGHT_PORT": str(port),
        **{f"BLUELIGHT_TLS_{name.upper()}": str(path) for name, path in tls.items()},
    }
    log = data_dir / "server.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603  (our own command, fixed arguments)
            [str(BLUELIGHT), "serve"], env=env, stdout=out, stderr=out, start_new_session=True
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not listen in {STARTUP_SECONDS}s:\n{log.read_text()}")
            time.sleep(0.1)
        yield Served(f"{scheme}://127.0.0.1:{port}", proc)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # any worker left behind
