"""``db.insert_rows`` stores what SQLAlchemy's own insert stores, every column type of the audit
tables (ids, instants, documents, bytes, nulls) included, several tables in one call, and
refuses a naive instant as ``UTCDateTime`` does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Table, insert, select

from bluelight.audit.models import AuditEntry, AuditSubject
from bluelight.db import Database, insert_rows

ENTRIES: Table = AuditEntry.__table__  # type: ignore[assignment]
SUBJECTS: Table = AuditSubject.__table__  # type: ignore[assignment]


def _entry(seq: int, **changes: Any) -> dict[str, Any]:
    entry = {
        "seq": seq,
        "id": uuid.uuid4(),
        "at": datetime(2026, 12, 3, 17, 0, 1, 123456, tzinfo=UTC) + timedelta(seconds=seq),
        "action": "read",
        "tag": "records:person:read",
        "outcome": "success",
        "actor_user_id": str(uuid.uuid4()),
        "actor_username": 'pc.o\'neill "quoted" \\ back',
        "agency": "DEMO",
        "device_id": None,
        "subject_type": "person",
        "subject_ids": [str(uuid.uuid4())],
        "reason_code": "INVESTIGATION",
        "reason_text": "naïve → ünïcödé, a tab\tand a newline\n",
        "recipients": [],
        "detail": {"nested": {"list": [1, 2.5, None, True]}},
        "leaf_hash": bytes(range(seq % 7, seq % 7 + 32)),
    }
    return {**entry, **changes}


def _stored(db: Database) -> list[tuple[Any, ...]]:
    with db.connect() as conn:
        entries = [tuple(r) for r in conn.execute(select(ENTRIES).order_by(ENTRIES.c.seq))]
        subjects = [tuple(r) for r in conn.execute(select(SUBJECTS).order_by(SUBJECTS.c.seq))]
    return entries + subjects


def _empty(db: Database) -> None:
    with db.write_connection() as conn:
        conn.execute(SUBJECTS.delete())
        conn.execute(ENTRIES.delete())


def test_rows_are_stored_as_sqlalchemys_insert_stores_them(db: Database) -> None:
    entries = [
        _entry(0),
        _entry(1, device_id="d-1", subject_type=None, reason_code=None, reason_text=None),
        # an instant given in another zone is stored as the same instant
        _entry(2, at=datetime(2026, 12, 3, 18, 0, tzinfo=timezone(timedelta(hours=1)))),
    ]
    subjects = [{"subject_id": e["subject_ids"][0], "seq": e["seq"]} for e in entries]

    # When the rows are inserted by SQLAlchemy, and then (the tables emptied) by insert_rows
    with db.write_connection() as conn:
        conn.execute(insert(ENTRIES), entries)
        conn.execute(insert(SUBJECTS), subjects)
    expected = _stored(db)
    _empty(db)
    with db.write_connection() as conn:
        insert_rows(conn, (ENTRIES, entries), (SUBJECTS, subjects))

    # Then the two store the same
    assert _stored(db) == expected
    assert len(expected) == 6


def test_empty_batches_insert_nothing(db: Database) -> None:
    with db.write_connection() as conn:
        insert_rows(conn, (ENTRIES, []), (SUBJECTS, []))
        insert_rows(conn, (ENTRIES, [_entry(0)]), (SUBJECTS, []))
    assert len(_stored(db)) == 1


def test_a_naive_instant_is_refused(db: Database) -> None:
    naive = _entry(0, at=datetime(2026, 12, 3, 17, 0))  # noqa: DTZ001  (the naive instant refused)
    with pytest.raises(ValueError, match="naive"), db.write_connection() as conn:
        insert_rows(conn, (ENTRIES, [naive]))
    assert _stored(db) == []
