"""The change log as a feed: a reader sees their agency's changes within their clearance, in
commit order, page by page from an opaque cursor; restricted changes only where allowed."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import Engine, select, text

from bluelight.audit import Justification
from bluelight.changes import ChangeLogEntry, Visibility, read_feed
from bluelight.db import Database
from bluelight.identity import system_actor
from bluelight.identity.schemas import AgencyCreate
from bluelight.identity.services import create_agency
from bluelight.kernel.paging import CursorError
from bluelight.migrations import upgrade
from bluelight.records.kinds import BY_NAME
from bluelight.records.restriction import change_access
from bluelight.records.schemas import AccessChange
from bluelight.records.services import create_record, update_record
from factories import person_payload

PERSON = BY_NAME["person"]
WHY = Justification("DATA-QUALITY", "loading the test force")
BOTH = ("OFFICIAL", "OFFICIAL-SENSITIVE")


def _person(db: Database, agency: str = "DEMO", **fields: Any) -> Any:
    data = msgspec.convert(person_payload(**fields), PERSON.create)
    return create_record(db, PERSON, data, actor=system_actor(agency), why=WHY)


def _everything(db: Database, visibility: Visibility, limit: int = 2) -> list[Any]:
    seen: list[Any] = []
    cursor = None
    with db.connect() as conn:
        while True:
            page = read_feed(conn, cursor=cursor, limit=limit, visibility=visibility)
            seen += page.changes
            cursor = page.cursor
            if not page.more:
                return seen


def test_a_reader_sees_their_agency_s_changes_in_order_page_by_page(db: Database) -> None:
    # Given three persons of our force, one of another force, and a change to the first
    first = _person(db)
    second = _person(db)
    _person(db, agency="OTHER")
    third = _person(db)
    changed = msgspec.convert({"version": 1, "height_cm": 190}, PERSON.update)
    update_record(db, PERSON, first.id, changed, actor=system_actor("DEMO"), why=WHY)

    # When the feed is read two at a time
    seen = _everything(db, Visibility(agency="DEMO", classifications=BOTH))

    # Then every change of ours arrives once, in the order it was committed, with its snapshot
    assert [(c.entity_id, c.version, c.action) for c in seen] == [
        (first.id, 1, "created"),
        (second.id, 1, "created"),
        (third.id, 1, "created"),
        (first.id, 2, "updated"),
    ]
    assert [c.seq for c in seen] == sorted(c.seq for c in seen)
    assert seen[-1].snapshot["height_cm"] == 190
    assert all(c.owner_agency == "DEMO" and c.classification == "OFFICIAL" for c in seen)


def test_a_cursor_at_the_end_waits_for_new_changes(db: Database) -> None:
    _person(db)
    visibility = Visibility(agency="DEMO", classifications=BOTH)
    with db.connect() as conn:
        caught_up = read_feed(conn, cursor=None, limit=10, visibility=visibility)
        empty = read_feed(conn, cursor=caught_up.cursor, limit=10, visibility=visibility)
    assert (len(caught_up.changes), caught_up.more) == (1, False)
    assert (empty.changes, empty.cursor) == ([], caught_up.cursor)

    later = _person(db)
    with db.connect() as conn:
        fresh = read_feed(conn, cursor=caught_up.cursor, limit=10, visibility=visibility)
    assert [c.entity_id for c in fresh.changes] == [later.id]


def test_classified_and_restricted_changes_stay_out_of_a_feed_not_cleared_for_them(
    db: Database,
) -> None:
    # Given a person, then made OFFICIAL-SENSITIVE, and another restricted to named officers
    create_agency(
        db,
        msgspec.convert({"code": "DEMO", "name": "Demo", "type": "police"}, AgencyCreate),
        actor=system_actor("DEMO"),
    )
    open_one = _person(db)
    sensitive = _person(db)
    restricted = _person(db)
    system = system_actor("DEMO")
    change_access(
        db,
        PERSON,
        sensitive.id,
        msgspec.convert({"version": 1, "classification": "OFFICIAL-SENSITIVE"}, AccessChange),
        actor=system,
        why=WHY,
    )
    change_access(
        db,
        PERSON,
        restricted.id,
        msgspec.convert({"version": 1, "restricted": True}, AccessChange),
        actor=system,
        why=WHY,
    )

    # When a reader cleared only for OFFICIAL, and named on nothing, reads the feed
    official = _everything(db, Visibility(agency="DEMO", classifications=("OFFICIAL",)), 10)
    # Then they see the creations, but neither the sensitive version nor the restricted one
    assert {(c.entity_id, c.version) for c in official} == {
        (open_one.id, 1),
        (sensitive.id, 1),
        (restricted.id, 1),
    }

    # And a reader allowed the restricted record by the records feature's condition sees it
    shown = ChangeLogEntry.entity_id == restricted.id
    allowed = _everything(
        db, Visibility(agency="DEMO", classifications=BOTH, restricted_shown=shown), 10
    )
    assert (restricted.id, 2) in {(c.entity_id, c.version) for c in allowed}
    assert (sensitive.id, 2) in {(c.entity_id, c.version) for c in allowed}
    # And the change rows say what each change left its record as
    last = {c.entity_id: c for c in allowed}
    assert last[restricted.id].restricted is True
    assert last[sensitive.id].classification == "OFFICIAL-SENSITIVE"


def test_the_feed_can_be_narrowed_to_some_kinds(db: Database) -> None:
    _person(db)
    kinds = Visibility(agency="DEMO", classifications=BOTH, kinds=("vehicle",))
    assert _everything(db, kinds) == []


@pytest.mark.parametrize("cursor", ["", "nonsense", "AAAAAAAAAAAAAAAAAAAAAA", "cA"])
def test_a_cursor_this_server_did_not_make_is_refused(db: Database, cursor: str) -> None:
    visibility = Visibility(agency="DEMO", classifications=BOTH)
    with db.connect() as conn, pytest.raises(CursorError):
        read_feed(conn, cursor=cursor or "==", limit=5, visibility=visibility)


def test_a_page_size_out_of_bounds_is_refused(db: Database) -> None:
    visibility = Visibility(agency="DEMO", classifications=BOTH)
    with db.connect() as conn:
        for limit in (0, 1001):
            with pytest.raises(ValueError, match="1 to 1000"):
                read_feed(conn, cursor=None, limit=limit, visibility=visibility)


def test_a_reader_following_the_feed_while_writers_commit_misses_nothing(db: Database) -> None:
    """Places are handed out in commit order: a reader that has passed a place never sees a
    lower one committed later (on PostgreSQL two writers' sequence numbers could otherwise
    commit out of order, and sync would skip a change for good)."""
    visibility = Visibility(agency="DEMO", classifications=BOTH)
    writers_done = threading.Event()
    errors: list[BaseException] = []

    def write(count: int) -> None:
        try:
            for _ in range(count):
                _person(db)
        except BaseException as exc:  # noqa: BLE001  (reported by the test below)
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(15,)) for _ in range(4)]
    for t in threads:
        t.start()
    followed: list[int] = []
    cursor = None
    while True:
        finished = writers_done.is_set()
        with db.connect() as conn:
            page = read_feed(conn, cursor=cursor, limit=7, visibility=visibility)
        followed += [c.seq for c in page.changes]
        cursor = page.cursor
        if finished and not page.more:
            break
        if all(not t.is_alive() for t in threads):
            writers_done.set()
    assert errors == []
    with db.connect() as conn:
        stored = list(conn.scalars(select(ChangeLogEntry.seq).order_by(ChangeLogEntry.seq)))
    assert len(stored) == 60
    assert followed == stored


def test_the_backfill_fills_the_visibility_of_changes_written_before_it(
    fresh_engine: Callable[[], Engine],
) -> None:
    # Given a database at 0002 holding a change whose record was sensitive and restricted
    engine = fresh_engine()
    upgrade(engine, "0002")
    snapshot = '{"owner_agency": "WMP", "classification": "OFFICIAL-SENSITIVE", "restricted": true}'
    old = '{"owner_agency": "WMP"}'
    with engine.begin() as conn:
        for entity, body in ((uuid.uuid4(), snapshot), (uuid.uuid4(), old)):
            conn.execute(
                text(
                    "INSERT INTO change_log (entity_type, entity_id, version, action, changed_at,"
                    " changed_by, snapshot) VALUES ('person', :id, 1, 'created',"
                    " '2026-01-01 00:00:00+00:00', 'x', :snapshot)"
                ),
                {
                    "id": entity if engine.dialect.name == "postgresql" else entity.hex,
                    "snapshot": body,
                },
            )
    # When it is migrated to the head
    upgrade(engine)
    # Then each change carries its record's agency, classification and restriction
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT owner_agency, classification, restricted FROM change_log ORDER BY seq")
        ).all()
    assert [(r[0], r[1], bool(r[2])) for r in rows] == [
        ("WMP", "OFFICIAL-SENSITIVE", True),
        ("WMP", "OFFICIAL", False),
    ]


@pytest.fixture
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    shared = request.config.pluginmanager.get_plugin(
        str(Path(__file__).parent.parent / "conftest.py")
    )
    made: list[Any] = []

    def make() -> Engine:
        engine, _url, drop = shared.scratch_engine(tmp_path, "backfill")
        made.append(drop)
        return engine

    yield make
    for drop in made:
        drop()
