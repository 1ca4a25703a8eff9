"""A kept connection is used round after round without a trip to the pool, is checked again
after it idled, goes back to the pool when a use fails (its transaction not committed),
is lent to one caller at a time, and goes back to the pool when closed."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select

import bluelight.db
from bluelight.db import Database, KeptConnection
from bluelight.identity.models import Agency


class Checkouts:
    """Counts the engine's pool checkouts."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        self._engine = db.engine
        event.listen(self._engine, "checkout", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self._engine, "checkout", self._seen)


@pytest.fixture
def checkouts(db: Database) -> Iterator[Checkouts]:
    counter = Checkouts(db)
    yield counter
    counter.close()


@pytest.fixture
def writer(db: Database) -> Iterator[KeptConnection]:
    kept = db.kept_writer()
    yield kept
    kept.close()


def _driver(conn: Any) -> Any:
    return conn.connection.dbapi_connection


def _agency(code: str) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "code": code,
        "name": code,
        "type": "police",
        "created_at": datetime.now(UTC),
    }


def _agencies(db: Database) -> set[str]:
    with db.connect() as conn:
        return set(conn.scalars(select(Agency.code)))


def test_rounds_back_to_back_use_one_connection_without_the_pool(
    db: Database, writer: KeptConnection, checkouts: Checkouts
) -> None:
    # When three transactions run one after another
    seen = []
    for code in ("AAA", "BBB", "CCC"):
        with writer.use() as conn:
            conn.execute(Agency.__table__.insert(), _agency(code))
            seen.append(_driver(conn))

    # Then they ran on one connection, checked out of the pool once, and each was committed
    assert len({id(c) for c in seen}) == 1
    assert checkouts.count == 1
    assert _agencies(db) >= {"AAA", "BBB", "CCC"}


def test_a_connection_idle_too_long_is_checked_out_again(
    db: Database, writer: KeptConnection, checkouts: Checkouts, monkeypatch: pytest.MonkeyPatch
) -> None:
    with writer.use():
        pass
    # When the next use comes after the connection idled for longer than allowed
    monkeypatch.setattr(bluelight.db, "KEPT_IDLE_SECONDS", -1.0)
    with writer.use():
        pass

    # Then the kept one went back and another checkout (the pool's pre-ping) was made
    assert checkouts.count == 2


def test_a_failed_use_is_rolled_back_and_its_connection_dropped(
    db: Database, writer: KeptConnection, checkouts: Checkouts
) -> None:
    # When a transaction fails half-way
    def half_way() -> None:
        with writer.use() as conn:
            conn.execute(Agency.__table__.insert(), _agency("LOST"))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        half_way()
    # Then nothing of it was committed
    assert "LOST" not in _agencies(db)

    # and the connection went back to the pool: the next use checks one out (and so pings it)
    before = checkouts.count
    with writer.use():
        pass
    assert checkouts.count == before + 1


def test_a_caller_finding_it_lent_out_gets_one_of_the_pools(db: Database) -> None:
    # (a reader's: a write transaction on SQLite would hold the database from the other)
    kept = db.kept_reader()
    lent = threading.Event()
    done = threading.Event()
    held: list[Any] = []

    def hold() -> None:
        with kept.use() as conn:
            held.append(_driver(conn))
            lent.set()
            done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert lent.wait(10)
        # When another caller asks while the first still has it
        with kept.use() as conn:
            codes = conn.scalars(select(Agency.code)).all()
            other = _driver(conn)
    finally:
        done.set()
        thread.join(10)
        kept.close()

    # Then it was given another connection, which worked as usual
    assert other is not held[0]
    assert codes == []


def test_reads_are_not_left_in_a_transaction(db: Database) -> None:
    # Given a kept reader that has read
    reader = db.kept_reader()
    try:
        with reader.use() as conn:
            conn.execute(select(Agency.code)).all()
            # Then the block ends with nothing begun on it
        assert not conn.in_transaction()
    finally:
        reader.close()


def test_closing_gives_the_connection_back_to_the_pool(db: Database) -> None:
    pool: Any = db.engine.pool
    before = pool.checkedout()
    kept = db.kept_writer()
    with kept.use():
        pass
    assert pool.checkedout() == before + 1

    # When it is closed
    kept.close()

    # Then the pool has it back
    assert pool.checkedout() == before
