"""Settings refuse what is unsafe in production, and the database is opened so that a write
acknowledged to a client survives a crash."""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from bluelight.app import DemoSecretsError, create_app
from bluelight.db import Database, DurabilityError, make_engine
from bluelight.identity import AgencyType, Role, system_actor
from bluelight.identity.errors import IdentityError
from bluelight.identity.policy import identity_policy
from bluelight.identity.schemas import AgencyCreate, UserCreate
from bluelight.identity.services import create_agency, create_user
from bluelight.runtime import open_database
from bluelight.settings import Environment, Settings

PG_URL = os.environ.get("BLUELIGHT_TEST_DATABASE_URL")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No BLUELIGHT_* setting of the machine running the tests leaks into these."""
    for name in list(os.environ):
        if name.startswith("BLUELIGHT_") and name != "BLUELIGHT_TEST_DATABASE_URL":
            monkeypatch.delenv(name)


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bluelight.db'}"


# --- settings ------------------------------------------------------------------------------


def test_production_refuses_fast_password_hashing(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="BLUELIGHT_PASSWORD_HASH_COST"):
        Settings(env="production", data_dir=tmp_path, password_hash_cost="fast")


def test_production_hashes_passwords_in_full_by_default(tmp_path: Path) -> None:
    settings = Settings(env="production", data_dir=tmp_path)
    assert settings.is_production
    assert settings.password_hash_cost == "standard"


def test_development_may_hash_passwords_fast_for_tests(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, password_hash_cost="fast")
    assert settings.env is Environment.DEVELOPMENT
    assert settings.password_hash_cost == "fast"


def test_settings_are_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLUELIGHT_ENV", "production")
    monkeypatch.setenv("BLUELIGHT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BLUELIGHT_SQLITE_SYNCHRONOUS", "EXTRA")
    monkeypatch.setenv("BLUELIGHT_IDLE_TIMEOUT_MINUTES", "10")
    settings = Settings()
    assert settings.is_production
    assert settings.sqlite_synchronous == "EXTRA"
    assert settings.idle_timeout_minutes == 10
    assert settings.database_url == f"sqlite:///{(tmp_path / 'bluelight.db').as_posix()}"


def test_production_refuses_fast_hashing_given_by_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BLUELIGHT_ENV", "production")
    monkeypatch.setenv("BLUELIGHT_PASSWORD_HASH_COST", "fast")
    with pytest.raises(ValidationError, match="BLUELIGHT_PASSWORD_HASH_COST"):
        Settings()


def test_keys_live_in_the_data_folder(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path / "var").keys_dir == tmp_path / "var" / "keys"


def _user(db: Database, tmp_path: Path, username: str, *, demo: bool) -> None:
    policy = identity_policy(Settings(data_dir=tmp_path, password_hash_cost="fast"))
    actor = system_actor("DEMO")
    with contextlib.suppress(IdentityError):
        create_agency(
            db, AgencyCreate(code="DEMO", name="Demo", type=AgencyType.POLICE), actor=actor
        )
    data = UserCreate(
        username=username,
        display_name=username,
        password="a long enough password",
        roles=[Role.OFFICER],
    )
    create_user(db, policy, data, actor=actor, demo=demo)


def test_production_refuses_a_database_holding_the_demo_users(db: Database, tmp_path: Path) -> None:
    # Given a database holding a user of the demo, whose sign-in is published
    _user(db, tmp_path, "demo.officer", demo=True)
    production = Settings(env="production", data_dir=tmp_path)

    # When the server starts in production, then it refuses, saying what to do
    with pytest.raises(DemoSecretsError, match="demo"):
        create_app(production, database=db)
    # While development starts on the same database
    assert create_app(Settings(data_dir=tmp_path), database=db) is not None


def test_production_starts_on_a_database_of_real_users(db: Database, tmp_path: Path) -> None:
    _user(db, tmp_path, "pc.smith", demo=False)
    app = create_app(Settings(env="production", data_dir=tmp_path), database=db)
    assert app.state.database is db


def test_database_defaults_to_a_sqlite_file_in_the_data_folder(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    assert settings.is_sqlite
    assert settings.database_url == f"sqlite:///{(tmp_path / 'var' / 'bluelight.db').as_posix()}"


@pytest.mark.parametrize(
    "bad",
    [
        {"force_code": "west midlands"},
        {"max_body_bytes": 10},
        {"max_body_bytes": 1024**3},
        {"sqlite_synchronous": "SOMETIMES"},
        {"env": "staging"},
        {"port": 0},
    ],
    ids=lambda bad: next(iter(bad)),
)
def test_setting_out_of_bounds_is_refused(tmp_path: Path, bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, **bad)  # type: ignore[arg-type]


# --- durability: SQLite --------------------------------------------------------------------


@pytest.mark.parametrize("level", ["NORMAL", "OFF"])
def test_production_refuses_sqlite_that_can_lose_writes(tmp_path: Path, level: str) -> None:
    # Given production settings on SQLite with synchronous below FULL
    settings = Settings(
        env="production",
        database_url=_sqlite(tmp_path),
        sqlite_synchronous=level,  # type: ignore[arg-type]
    )

    # When the database is opened, then the server refuses, saying what to change
    with pytest.raises(DurabilityError) as refused:
        open_database(settings)
    assert "BLUELIGHT_SQLITE_SYNCHRONOUS=FULL" in str(refused.value)


@pytest.mark.parametrize("level", ["FULL", "EXTRA"])
def test_production_accepts_sqlite_that_syncs_every_commit(tmp_path: Path, level: str) -> None:
    settings = Settings(
        env="production",
        database_url=_sqlite(tmp_path),
        sqlite_synchronous=level,  # type: ignore[arg-type]
    )
    db = open_database(settings)
    try:
        with db.engine.connect() as conn:
            synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        assert synchronous == {"FULL": 2, "EXTRA": 3}[level]
    finally:
        db.dispose()


def test_development_opens_unsafe_sqlite_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=_sqlite(tmp_path), sqlite_synchronous="NORMAL")
    with caplog.at_level(logging.WARNING, logger="bluelight"):
        db = open_database(settings)
    db.dispose()
    assert "BLUELIGHT_SQLITE_SYNCHRONOUS=FULL" in caplog.text


def _sqlite_pragmas(engine: Engine) -> tuple[str, int, int]:
    with engine.connect() as conn:
        return (
            conn.exec_driver_sql("PRAGMA journal_mode").scalar(),
            conn.exec_driver_sql("PRAGMA foreign_keys").scalar(),
            conn.exec_driver_sql("PRAGMA synchronous").scalar(),
        )


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_full_sync(tmp_path: Path) -> None:
    engine = make_engine(_sqlite(tmp_path / "nested" / "folder"))
    try:
        assert _sqlite_pragmas(engine) == ("wal", 1, 2)
    finally:
        engine.dispose()


def test_the_suites_sqlite_database_has_the_same_pragmas(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the suite runs on PostgreSQL")
    assert _sqlite_pragmas(db.engine) == ("wal", 1, 2)


def test_database_refuses_an_event_at_a_place_that_does_not_exist(db: Database) -> None:
    # Foreign keys are enforced by the database itself, on SQLite as on PostgreSQL.
    insert = text(
        "INSERT INTO events (id, version, owner_agency, created_at, created_by, updated_at,"
        " updated_by, kind, occurred_from, location_id, incident_type, qualifiers)"
        " VALUES (:id, 1, 'DEMO', :now, 'x', :now, 'x', 'incident', :now, :loc, 'CRIME', '[]')"
    )
    params = {
        "id": uuid.uuid4() if db.dialect == "postgresql" else uuid.uuid4().hex,
        "now": "2026-01-01 00:00:00+00:00",
        "loc": uuid.uuid4() if db.dialect == "postgresql" else uuid.uuid4().hex,
    }
    with pytest.raises(IntegrityError), db.write() as session:
        session.execute(insert, params)


# --- durability: PostgreSQL ----------------------------------------------------------------

needs_postgresql = pytest.mark.skipif(
    not (PG_URL or "").startswith("postgresql"), reason="the suite runs on SQLite"
)


def _with_option(url: str, option: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options={option}"


@needs_postgresql
def test_production_refuses_postgresql_without_synchronous_commit() -> None:
    # Given a connection that turns synchronous_commit off for itself
    assert PG_URL
    url = _with_option(PG_URL, "-csynchronous_commit%3Doff")
    settings = Settings(env="production", database_url=url)

    # Then the server refuses to start, naming the setting
    with pytest.raises(DurabilityError, match="synchronous_commit"):
        open_database(settings)


@needs_postgresql
def test_production_accepts_postgresql_as_configured() -> None:
    assert PG_URL
    db = open_database(Settings(env="production", database_url=PG_URL))
    db.dispose()


@needs_postgresql
def test_development_opens_postgresql_without_synchronous_commit_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert PG_URL
    url = _with_option(PG_URL, "-csynchronous_commit%3Doff")
    with caplog.at_level(logging.WARNING, logger="bluelight"):
        open_database(Settings(database_url=url)).dispose()
    assert "synchronous_commit is off" in caplog.text
