"""Fixtures of the sign-in and session tests.

- ``clock``: the time the identity services read, frozen at the start of the test and moved
  on only when the test says so (idle timeouts, lifetimes, lockouts, expired challenges).
- ``door``: signs people in through the HTTP API, step by step, with codes from the clock.
- ``app_with``: an app on the test database built from settings the test chooses.
- ``trail``: the audit entries written since a point in the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine, func, select

from bluelight.app import create_app
from bluelight.audit.models import AuditEntry
from bluelight.db import Database
from bluelight.identity.services import accounts, agencies, devices, sessions, sign_in, users
from bluelight.kernel import utcnow
from bluelight.kernel.crypto import totp_code
from bluelight.settings import Settings
from factories import API, TEST_PASSWORD, app, make_user

__all__ = ["app"]

STEP = timedelta(seconds=30)


@dataclass
class Clock:
    """A settable stand-in for ``bluelight.kernel.utcnow`` as the identity use cases see it."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(utcnow())
    for module in (accounts, agencies, devices, sessions, sign_in, users):
        monkeypatch.setattr(module, "utcnow", frozen)
    return frozen


@pytest.fixture
def app_with(
    db: Database, migrated: tuple[Engine, str], tmp_path: Path
) -> Iterator[Callable[..., TestClient[Any]]]:
    """Builds an app on the test database whose settings differ as the test asks, and opens
    an anonymous client on it."""
    _, url = migrated
    with ExitStack() as stack:

        def build(**overrides: Any) -> TestClient[Any]:
            data_dir = tmp_path / f"app-{uuid.uuid4().hex[:8]}"
            chosen = {"password_hash_cost": "fast", "audit_sign_interval_seconds": 0, **overrides}
            settings = Settings(database_url=url, data_dir=data_dir, env="test", **chosen)
            application = create_app(settings, database=db)
            return stack.enter_context(TestClient(application))

        yield build


@pytest.fixture
def anonymous(app: Litestar, db: Database) -> Iterator[TestClient[Any]]:
    """A client of the shared test app that carries no credentials."""
    with TestClient(app) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Door:
    """Sign-in through the API, one step at a time, with TOTP codes taken from ``clock``."""

    client: TestClient[Any]
    clock: Clock
    secrets: dict[str, str] = field(default_factory=dict)
    last_step: dict[str, int] = field(default_factory=dict)

    def start(
        self,
        username: str,
        password: str = TEST_PASSWORD,
        *,
        device: uuid.UUID | None = None,
    ) -> Any:
        """Step one; returns the response (the secret of an enrolment is kept)."""
        response = self.client.post(
            f"{API}/auth/sign-in",
            json={
                "username": username,
                "password": password,
                "device": {"id": str(device or uuid.uuid4()), "name": "test handset"},
            },
        )
        if response.status_code == 200 and response.json().get("enrolment"):
            self.secrets[username] = response.json()["enrolment"]["secret"]
        return response

    def code(self, username: str, at: datetime | None = None) -> str:
        """The authenticator's code for ``username`` at ``at`` (the clock's now)."""
        return totp_code(self.secrets[username], at or self.clock.now)

    def fresh_code(self, username: str) -> str:
        """A code not used before: the clock moves on a step when this one was spent."""
        step = int(self.clock.now.timestamp()) // 30
        if self.last_step.get(username, -1) >= step:
            self.clock.advance(seconds=30)
            step += 1
        self.last_step[username] = step
        return self.code(username)

    def finish(self, challenge: str, code: str) -> Any:
        """Step two; returns the response."""
        return self.client.post(
            f"{API}/auth/second-factor", json={"challenge": challenge, "code": code}
        )

    def sign_in(
        self, username: str, *, device: uuid.UUID | None = None, password: str = TEST_PASSWORD
    ) -> dict[str, Any]:
        """Both steps; returns the session granted (``token``, ``user``, …)."""
        first = self.start(username, password, device=device)
        assert first.status_code == 200, first.text
        second = self.finish(first.json()["challenge"], self.fresh_code(username))
        assert second.status_code == 200, second.text
        granted: dict[str, Any] = second.json()
        return granted

    def headers(
        self,
        username: str,
        roles: tuple[str, ...] | list[str],
        *,
        agency: str = "DEMO",
        device: uuid.UUID | None = None,
    ) -> dict[str, str]:
        """Make a user with ``roles``, sign them in, and return their Authorization header."""
        make_user(self.client.app, username, roles, agency=agency)
        return bearer(self.sign_in(username, device=device)["token"])


@pytest.fixture
def door(anonymous: TestClient[Any], clock: Clock) -> Door:
    return Door(anonymous, clock)


@pytest.fixture
def door_on(clock: Clock) -> Callable[[TestClient[Any]], Door]:
    """A ``Door`` on another client (an app built by ``app_with``)."""
    return lambda client: Door(client, clock)


@dataclass
class Trail:
    """The audit entries of the test database."""

    db: Database

    def size(self) -> int:
        with self.db.read() as session:
            return int(session.execute(select(func.count()).select_from(AuditEntry)).scalar_one())

    def since(self, seq: int) -> list[AuditEntry]:
        """Every entry from ``seq`` on (a ``size()`` taken before the act), oldest first."""
        with self.db.read() as session:
            rows = list(
                session.scalars(
                    select(AuditEntry).where(AuditEntry.seq >= seq).order_by(AuditEntry.seq)
                )
            )
            session.expunge_all()
            return rows

    def tagged(self, tag: str) -> list[AuditEntry]:
        return [e for e in self.since(0) if e.tag == tag]


@pytest.fixture
def trail(db: Database) -> Trail:
    return Trail(db)
