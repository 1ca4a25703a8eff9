"""``bluelight demo``: refuses an unknown size, loads a force and sums it up."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from bluelight.cli import app
from bluelight.db import Database
from bluelight.demo import generator
from bluelight.demo.cli import sign_in_table
from bluelight.demo.generator import SizeSpec
from bluelight.demo.users import DEMO_USERS, DemoSignIn, demo_totp_secret
from bluelight.records.models import Event
from bluelight.settings import get_settings

runner = CliRunner()


@pytest.fixture
def configured(
    migrated: tuple[Engine, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The CLI's settings point at the test database."""
    _, url = migrated
    monkeypatch.setenv("BLUELIGHT_DATABASE_URL", url)
    monkeypatch.setenv("BLUELIGHT_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_an_unknown_size_is_refused(configured: None) -> None:
    result = runner.invoke(app, ["demo", "--size", "huge", "--no-serve"])
    assert result.exit_code == 2
    text = " ".join(result.output.replace("│", " ").split())
    assert "unknown size 'huge': choose one of small, force, large" in text


def test_demo_loads_the_force_and_prints_a_summary(
    configured: None, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = SizeSpec("tiny", persons=300, vehicles=100, events=400, officers=5, years=1)
    monkeypatch.setitem(generator.SIZES, "tiny", spec)
    result = runner.invoke(app, ["demo", "--size", "tiny", "--seed", "3", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "tiny force, seed 3" in result.output
    assert "rows/s" in result.output
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 400
    # a second load resets by default, so it succeeds and leaves the same force
    again = runner.invoke(app, ["demo", "--size", "tiny", "--seed", "3", "--no-serve"])
    assert again.exit_code == 0, again.output
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 400


def test_demo_without_reset_over_a_loaded_force_says_why_it_stops(
    configured: None, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = SizeSpec("tiny", persons=300, vehicles=100, events=400, officers=5, years=1)
    monkeypatch.setitem(generator.SIZES, "tiny", spec)
    args = ["demo", "--size", "tiny", "--no-serve"]
    assert runner.invoke(app, args).exit_code == 0
    result = runner.invoke(app, [*args, "--no-reset"])
    assert result.exit_code == 2
    assert "reset" in result.output


# --- the sign-in table, on any terminal ------------------------------------------------------

SIGN_INS = [
    DemoSignIn(
        u.username, str(u.role), u.agency or "DEMO", u.password, demo_totp_secret(1, u.username)
    )
    for u in DEMO_USERS
]
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def rendered(width: int) -> list[str]:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(sign_in_table(SIGN_INS, AT))
    return console.export_text().splitlines()


@pytest.mark.parametrize("width", [80, 100, 200])
def test_every_column_of_the_sign_in_table_reads_whole_on_the_terminal(width: int) -> None:
    lines = rendered(width)

    assert max(len(line) for line in lines) <= width
    # Each user's lines run from the one naming them to the next user's.
    starts = [next(i for i, line in enumerate(lines) if s.username in line) for s in SIGN_INS]
    ends = [*starts[1:], len(lines)]
    for s, start, end in zip(SIGN_INS, starts, ends, strict=True):
        block = lines[start:end]
        # The password, secret and code each stand whole on one line
        for value in (s.password, s.totp_secret, s.code(AT)):
            assert any(value in line for line in block), (width, s.username, value)
        # and so do the role and the agency, apart from the username and password that hold
        # the same words
        rest = "\n".join(block).replace(s.username, "").replace(s.password, "")
        for value in (s.role, s.agency):
            assert re.search(rf"(?<![\w.]){re.escape(value)}(?![\w.])", rest), (width, value)
