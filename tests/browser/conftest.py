"""Browser fixtures: the real app served by granian on a free loopback port, Chromium, and
accounts that sign in through the page the way a person does.

The server runs in its own process against the session's test database (SQLite or
PostgreSQL, from the ``migrated`` fixture); tests seed records and users through the services
with the ``db`` fixture, which empties the tables after each test. The test process opens the
same data directory as the server, so both seal TOTP secrets with one key. Chromium is
Debian's package (``apt-get install chromium``): Playwright's own browser downloads are not
used.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_session import Account, Phone, SignIn, make_account
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from sqlalchemy import Engine

from bluelight.db import Database
from bluelight.identity.policy import identity_policy
from bluelight.identity.services import IdentityPolicy
from bluelight.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
STARTUP_SECONDS = 30


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the server did not become healthy in {STARTUP_SECONDS}s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def server_settings(
    migrated: tuple[Engine, str], tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """The settings the server runs with (the test process reads the same data directory)."""
    _, url = migrated
    return Settings(
        database_url=url,
        data_dir=tmp_path_factory.mktemp("server"),
        env="test",
        password_hash_cost="fast",
        audit_sign_interval_seconds=0,
    )


@pytest.fixture(scope="session")
def server(server_settings: Settings) -> Iterator[str]:
    """The base URL of the real app, served by granian against the test database."""
    log = server_settings.data_dir / "server.log"
    port = _free_port()
    env = {
        **os.environ,
        "BLUELIGHT_DATABASE_URL": server_settings.database_url,
        "BLUELIGHT_ENV": "test",
        "BLUELIGHT_DATA_DIR": str(server_settings.data_dir),
        "BLUELIGHT_PASSWORD_HASH_COST": "fast",
        "BLUELIGHT_AUDIT_SIGN_INTERVAL_SECONDS": "0",
    }
    command = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--factory",
        "bluelight.app:app_factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603  (our own interpreter, fixed arguments)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def policy(server: str, server_settings: Settings) -> IdentityPolicy:
    """The server's sign-in policy, with its key (made by the server when it started)."""
    return identity_policy(server_settings)


# --- accounts and signing in -------------------------------------------------------------------


@pytest.fixture
def account(db: Database, policy: IdentityPolicy) -> Account:
    """A user of the demo force holding every role a force user can have."""
    return make_account(db, policy)


@pytest.fixture
def phone() -> Phone:
    return Phone()


@pytest.fixture
def sign_in(phone: Phone, account: Account) -> SignIn:
    """``sign_in(page)`` signs ``account`` in through the page and gives a reason for checks."""
    return SignIn(phone, account)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (or make browser)")
    b = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield b
    b.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    """A fresh tab the size of a phone, failing the test on any uncaught script error and on
    anything the response headers' policies (CSP, Permissions-Policy) blocked or rejected."""
    context = browser.new_context(viewport=PHONE, base_url=server, locale="en-GB")
    tab = context.new_page()
    tab.set_default_timeout(5_000)
    errors: list[str] = []
    dialogs: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    blocked: list[str] = []

    def on_console(message: Any) -> None:
        if message.type in ("error", "warning") and any(
            policy in message.text for policy in ("Content Security Policy", "Permissions-Policy")
        ):
            blocked.append(message.text)

    tab.on("console", on_console)

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    yield tab
    context.close()
    assert not errors, f"script errors on the page: {errors}"
    assert not blocked, f"the security headers' policies blocked: {blocked}"
    assert not dialogs, f"the page opened dialogs: {dialogs}"
