"""Shared fixtures: a real database (SQLite, or PostgreSQL when BLUELIGHT_TEST_DATABASE_URL
points at one), its schema built by the migrations, emptied between tests, and an API client.

On PostgreSQL each test session works in a schema of its own, so parallel runs and a developer's
own data never meet.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text

from bluelight.app import create_app
from bluelight.db import Base, Database, make_engine
from bluelight.migrations import upgrade
from bluelight.settings import Settings
from factories import auth_headers, settings_for_tests


def scratch_engine(tmp_dir: Path, name: str) -> tuple[Engine, str, Any]:
    """A fresh, empty database (a SQLite file, or a new PostgreSQL schema) and its URL.

    Returns the engine, its URL and a function that removes the database.
    """
    base = os.environ.get("BLUELIGHT_TEST_DATABASE_URL")
    if not base:
        url = f"sqlite:///{tmp_dir / (name + '.db')}"
        return make_engine(url), url, lambda: None
    schema = f"t_{name}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    engine = make_engine(url)

    def drop() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return engine, url, drop


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, str]]:
    engine, url, drop = scratch_engine(tmp_path_factory.mktemp("db"), "main")
    upgrade(engine)
    yield engine, url
    drop()


@pytest.fixture
def db(migrated: tuple[Engine, str]) -> Iterator[Database]:
    """The test database, emptied after each test."""
    engine, _ = migrated
    database = Database(engine)
    yield database
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def settings(migrated: tuple[Engine, str], tmp_path: Path) -> Settings:
    _, url = migrated
    return settings_for_tests(url, tmp_path)


@pytest.fixture
def client(db: Database, settings: Settings) -> Iterator[TestClient[Any]]:
    """An API client signed in as a user holding every role of the force, giving a reason."""
    with TestClient(create_app(settings, database=db)) as c:
        c.headers.update(auth_headers(c))
        yield c
