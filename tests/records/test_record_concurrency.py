"""Two writers acting on the same record, or the same reference, at the same moment: one wins,
the other is told why, and nothing is lost or half written. On SQLite writers queue for the
database; on PostgreSQL they overlap, which is where these tests bite."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from sqlalchemy import select

from bluelight.audit import Justification
from bluelight.changes import ChangeLogEntry
from bluelight.db import Database
from bluelight.identity import system_actor
from bluelight.records import services
from bluelight.records.errors import RecordError
from bluelight.records.kinds import BY_NAME

ACTOR = system_actor("DEMO")
WHY = Justification("DATA-QUALITY", "loading the test force")


def _create(db: Database, kind_name: str, /, **content: Any) -> Any:
    data = msgspec.convert(content, BY_NAME[kind_name].create)
    return services.create_record(db, BY_NAME[kind_name], data, actor=ACTOR, why=WHY)


def _change(db: Database, kind: str, record_id: uuid.UUID, **patch: Any) -> str:
    update = msgspec.convert(patch, BY_NAME[kind].update)
    try:
        services.update_record(db, BY_NAME[kind], record_id, update, actor=ACTOR, why=WHY)
    except RecordError as exc:
        return exc.code
    return "applied"


def _meet_before(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make two writers meet just before ``services.<name>``, if the database lets both in.

    A writer the database holds back never arrives; the other waits a second, then goes on.
    """
    both_there = threading.Barrier(2, timeout=1)
    original: Callable[..., Any] = getattr(services, name)

    def meet_then(*args: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            both_there.wait()
        return original(*args)

    monkeypatch.setattr(services, name, meet_then)


def _versions(db: Database, record_id: uuid.UUID) -> list[int]:
    with db.read() as session:
        return sorted(
            session.scalars(
                select(ChangeLogEntry.version).where(ChangeLogEntry.entity_id == record_id)
            )
        )


def test_concurrent_changes_based_on_the_same_version_do_not_both_succeed(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a person at version 1, and two writers who both read version 1 if they can
    person = _create(db, "person", names=[{"family_name": "Okafor"}])
    _meet_before(monkeypatch, "_check_version")

    # When both send a change based on version 1 at once
    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(
            pool.map(lambda sex: _change(db, "person", person.id, version=1, sex=sex), "FM")
        )

    # Then one is applied and the other is refused as a conflict: no change is lost
    assert outcomes == ["VERSION_CONFLICT", "applied"]
    assert _versions(db, person.id) == [1, 2]


def test_concurrent_changes_to_the_same_event_reference_do_not_both_succeed(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two events, and two writers who both find a reference free if they can
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    events = [
        _create(db, "event", kind="incident", incident_type="ASB-NUISANCE", occurred_from=when)
        for _ in range(2)
    ]
    _meet_before(monkeypatch, "_unique_reference")

    # When each event is given the same reference at once
    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(
            pool.map(lambda e: _change(db, "event", e.id, version=1, reference="CR/1/26"), events)
        )

    # Then one has it, and the other is told it is taken (not a server error)
    assert outcomes == ["DUPLICATE_REFERENCE", "applied"]
    assert sorted(len(_versions(db, e.id)) for e in events) == [1, 2]
