"""The batched reader answers every reader exactly as the careful read does, and reads many
requests' records in one round of statements."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import pytest
from sqlalchemy import event

from bluelight.audit import AuditWriter, Justification
from bluelight.audit.door import Door
from bluelight.db import Database
from bluelight.identity import ALL_PERMISSIONS, Actor, Classification, system_actor
from bluelight.identity.policy import IdentityPolicy
from bluelight.identity.schemas import AgencyCreate, UserCreate
from bluelight.identity.services import create_agency, create_user
from bluelight.kernel.crypto import SecretBox
from bluelight.records.kinds import BY_NAME
from bluelight.records.queries import find_record
from bluelight.records.reader import RecordReader
from bluelight.records.restriction import change_access
from bluelight.records.schemas import AccessChange, Deletion
from bluelight.records.services import create_record, delete_record
from factories import (
    event_payload,
    link_payload,
    location_payload,
    marker_payload,
    person_payload,
    property_payload,
    vehicle_payload,
)

T = TypeVar("T")
WHY = Justification("INVESTIGATION", "comparing the two reads")
SENSITIVE = Classification.OFFICIAL_SENSITIVE
OFFICIAL = Classification.OFFICIAL


def _run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(lambda: asyncio.run(main())).result()


@pytest.fixture
def reader(db: Database) -> Iterator[RecordReader]:
    door = Door(AuditWriter(db))
    reader = RecordReader(db, door)
    yield reader
    reader.close()
    door.close()
    door.writer.close()


def _make(db: Database, kind: str, actor: Actor, **payload: Any) -> Any:
    k = BY_NAME[kind]
    return create_record(db, k, msgspec.convert(payload, k.create), actor=actor, why=WHY)


def _restrict(db: Database, kind: str, record: Any, actor: Actor, users: list[str]) -> None:
    change_access(
        db,
        BY_NAME[kind],
        record.id,
        AccessChange(version=record.version, restricted=True, users=users),
        actor=actor,
        why=WHY,
    )


def _outcome(result: Any) -> Any:
    """What a reader is shown: the record read, or the refusal's code."""
    if isinstance(result, Exception):
        return ("refused", getattr(result, "code", type(result).__name__))
    return ("shown", msgspec.to_builtins(result.value), result.needs_reason, result.subject_ids)


@pytest.fixture
def force(db: Database, tmp_path: Path) -> dict[str, Any]:
    """Persons and places whose warnings and addresses are of every kind a reader may or may
    not see: another agency's, above a clearance, restricted, deleted; and the readers."""
    system = system_actor("DEMO")
    for code in ("DEMO", "OTHER"):
        create_agency(
            db, AgencyCreate(code=code, name=code, type="police"), actor=system_actor(code)
        )  # type: ignore[arg-type]
    policy = IdentityPolicy(secrets=SecretBox.load_or_create(tmp_path / "k"), password_cost="fast")
    named = create_user(
        db,
        policy,
        msgspec.convert(
            {"username": "dc.named", "display_name": "DC Named", "password": "a long pass phrase",
             "roles": ["investigator"], "agency": "DEMO"},
            UserCreate,
        ),
        actor=system,
    )  # fmt: skip
    other = system_actor("OTHER")
    people = [_make(db, "person", system, **person_payload()) for _ in range(4)]
    places = [_make(db, "location", system, **location_payload()) for _ in range(3)]
    for person, place in zip(people, itertools.cycle(places), strict=False):
        _make(db, "marker", system, **marker_payload(str(person.id), detail="plain"))
        _make(
            db, "link", system, **link_payload("person", str(person.id), "location", str(place.id))
        )
    # A sensitive warning, a restricted warning, a deleted warning, a restricted place
    _make(db, "marker", system, **marker_payload(str(people[1].id), classification=SENSITIVE))
    hidden = _make(db, "marker", system, **marker_payload(str(people[2].id), detail="covert"))
    _restrict(db, "marker", hidden, system, ["dc.named"])
    gone = _make(db, "marker", system, **marker_payload(str(people[3].id), detail="old"))
    delete_record(
        db, BY_NAME["marker"], gone.id, Deletion(version=1, reason="entered in error"),
        actor=system, why=WHY,
    )  # fmt: skip
    _restrict(db, "location", places[2], system, ["dc.named"])
    _make(db, "marker", system, **marker_payload(str(places[0].id), "location", detail="dog"))
    # A restricted person, a sensitive one, another agency's, a deleted one
    secret = _make(db, "person", system, **person_payload())
    _restrict(db, "person", secret, system, ["dc.named"])
    sensitive = _make(db, "person", system, **person_payload(classification=SENSITIVE))
    theirs = _make(db, "person", other, **person_payload())
    removed = _make(db, "person", system, **person_payload())
    delete_record(
        db, BY_NAME["person"], removed.id, Deletion(version=1, reason="entered in error"),
        actor=system, why=WHY,
    )  # fmt: skip
    readers = {
        "officer": Actor(
            "u1", "pc.one", "DEMO", ALL_PERMISSIONS, clearance=Classification.OFFICIAL
        ),
        "sensitive": Actor("u2", "pc.two", "DEMO", ALL_PERMISSIONS, clearance=SENSITIVE),
        "named": Actor(str(named.id), "dc.named", "DEMO", ALL_PERMISSIONS, clearance=SENSITIVE),
        "other": Actor("u3", "pc.other", "OTHER", ALL_PERMISSIONS, clearance=SENSITIVE),
    }
    asked = [("person", p.id) for p in [*people, secret, sensitive, theirs, removed]]
    asked += [("location", p.id) for p in places]
    return {"readers": readers, "asked": asked}


def test_the_batched_read_answers_each_reader_as_the_careful_read_does(
    db: Database, force: dict[str, Any], reader: RecordReader
) -> None:
    cases = [
        (who, actor, kind, record_id, why)
        for who, actor in force["readers"].items()
        for kind, record_id in force["asked"]
        for why in (WHY, None)
    ]

    async def all_at_once() -> list[Any]:
        return list(
            await asyncio.gather(
                *(
                    reader.find(BY_NAME[kind], record_id, actor=actor, why=why)
                    for _, actor, kind, record_id, why in cases
                ),
                return_exceptions=True,
            )
        )

    batched = _run(all_at_once)
    shown = 0
    for (who, actor, kind, record_id, why), got in zip(cases, batched, strict=True):
        try:
            careful: Any = find_record(db, BY_NAME[kind], record_id, actor=actor, why=why)
        except Exception as exc:  # noqa: BLE001  (compared below)
            careful = exc
        assert _outcome(got) == _outcome(careful), (who, kind, why)
        shown += not isinstance(got, Exception)
    # Both ways show some records and refuse others: the comparison covered both
    assert 0 < shown < len(cases)


def test_readers_arriving_together_share_one_round_of_statements(
    db: Database, force: dict[str, Any], reader: RecordReader
) -> None:
    officer = force["readers"]["sensitive"]
    # Persons with nothing restricted beside them (the one with a covert warning is read
    # the careful way, which needs the reader's grants)
    every = [record_id for kind, record_id in force["asked"] if kind == "person"]
    persons = [every[i] for i in (0, 1, 3, 5)]
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    async def together() -> list[Any]:
        return list(
            await asyncio.gather(
                *(reader.find(BY_NAME["person"], p, actor=officer, why=WHY) for p in persons * 5)
            )
        )

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        found = _run(together)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert [str(f.value.id) for f in found] == [str(p) for p in persons * 5]
    person_reads = [s for s in statements if "FROM persons" in s]
    assert len(person_reads) == 1, statements


@pytest.mark.parametrize("kind", ["person", "vehicle", "property", "location", "event"])
def test_every_kind_read_from_the_rounds_documents_is_the_careful_read(
    db: Database, kind: str, reader: RecordReader
) -> None:
    # The round decodes each row from one JSON array the database renders (db.json_rows):
    # every column type (ids, instants to the microsecond and on the second, dates, numbers
    # to the last digit, documents, booleans, nulls) must come back as the careful read,
    # through SQLAlchemy's own types, has it.
    system = system_actor("DEMO")
    create_agency(db, AgencyCreate(code="DEMO", name="DEMO", type="police"), actor=system)  # type: ignore[arg-type]
    payloads = {
        "person": person_payload(),
        "vehicle": vehicle_payload(),
        "property": property_payload(),
        # a double that needs all 17 significant digits to read back as itself
        "location": location_payload(latitude=52.95890000000001, longitude=-1 / 3),
        "event": event_payload(
            occurred_from="2026-01-01T10:00:00Z", occurred_to=None, qualifiers=[]
        ),
    }
    k = BY_NAME[kind]
    full = payloads[kind]
    record, bare = (
        create_record(db, k, msgspec.convert(p, k.create), actor=system, why=WHY)
        for p in (full, {f: v for f, v in full.items() if f not in OPTIONAL and f != "reference"})
    )
    for one in (record, bare):

        async def read(record_id: Any = one.id) -> Any:
            return await reader.find(BY_NAME[kind], record_id, actor=system, why=WHY)

        careful = find_record(db, BY_NAME[kind], one.id, actor=system, why=WHY)
        assert _outcome(_run(read)) == _outcome(careful)


# Fields a record may be made without, so that the read carries nulls and empty documents
OPTIONAL = {
    "date_of_birth", "height_cm", "build", "eye_colour", "marks", "colour",
    "year_of_manufacture", "serial_number", "description", "premises", "occurred_to",
    "narrative",
}  # fmt: skip
