"""The command line, run as a user runs it, against a real database file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bluelight.cli import app
from bluelight.db import Database, make_engine
from bluelight.migrations import current_revision, head_revision
from bluelight.settings import get_settings
from bluelight.vocab.queries import read_mapping

runner = CliRunner()


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("BLUELIGHT_DATABASE_URL", url)
    monkeypatch.setenv("BLUELIGHT_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_db_upgrade_brings_the_schema_to_head(sqlite_env: str) -> None:
    result = runner.invoke(app, ["db", "upgrade"])

    assert result.exit_code == 0, result.output
    engine = make_engine(sqlite_env)
    assert current_revision(engine) == head_revision(engine)
    engine.dispose()


def test_vocab_list_shows_every_national_list() -> None:
    result = runner.invoke(app, ["vocab", "list"])

    assert result.exit_code == 0
    for name in ("warning-marker", "offence", "ethnicity-officer", "incident-grade"):
        assert name in result.output


def test_vocab_show_prints_codes_and_refuses_an_unknown_list() -> None:
    shown = runner.invoke(app, ["vocab", "show", "ethnicity-officer"])
    unknown = runner.invoke(app, ["vocab", "show", "no-such-list"])

    assert shown.exit_code == 0
    assert "IC1" in shown.output
    assert unknown.exit_code == 1
    assert "no code list called" in unknown.output


def test_import_mapping_loads_good_lines_and_lists_the_rest(
    sqlite_env: str, tmp_path: Path
) -> None:
    runner.invoke(app, ["db", "upgrade"])
    mapping = tmp_path / "sex.csv"
    mapping.write_text(
        "local_code,local_label,national_code\n1,Male,M\n2,Female,F\n9,Unknown,NOT-A-CODE\n",
        encoding="utf-8",
    )

    result = runner.invoke(app, ["vocab", "import-mapping", "wmp", "sex", str(mapping)])

    assert result.exit_code == 1  # a line was refused, so the command says so
    assert "2 codes loaded" in result.output
    assert "NOT-A-CODE" in result.output
    db = Database(make_engine(sqlite_env))
    stored = read_mapping(db, "WMP", "sex")
    db.dispose()
    assert {(r.local_code, r.national_code) for r in stored.rows} == {("1", "M"), ("2", "F")}
