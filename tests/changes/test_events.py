"""Domain events reach their subscribers once the change is committed, and never otherwise."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from sqlalchemy import select

from bluelight.audit import Justification
from bluelight.changes import EventBus, RecordChanged, SessionsEnded, publish
from bluelight.db import Database
from bluelight.identity import system_actor
from bluelight.identity.models import Agency, Device
from bluelight.identity.schemas import AgencyCreate, UserCreate
from bluelight.identity.services import (
    IdentityPolicy,
    create_agency,
    create_user,
    revoke_device,
)
from bluelight.kernel import new_id, utcnow
from bluelight.kernel.crypto import SecretBox
from bluelight.records.kinds import BY_NAME
from bluelight.records.models import Person
from bluelight.records.services import create_record
from bluelight.vocab import InvalidInput
from factories import person_payload

PERSON = BY_NAME["person"]
WHY = Justification("DATA-QUALITY", "loading the test force")


@pytest.fixture
def bus(db: Database) -> EventBus:
    events = EventBus()
    events.attach(db)
    return events


def _create(db: Database, **fields: Any) -> Any:
    data = msgspec.convert(person_payload(**fields), PERSON.create)
    return create_record(db, PERSON, data, actor=system_actor("DEMO"), why=WHY)


def test_a_subscriber_hears_of_a_record_once_it_is_committed(db: Database, bus: EventBus) -> None:
    heard: list[tuple[RecordChanged, bool]] = []

    def on_change(event: RecordChanged) -> None:
        # Another connection already sees the record: the event comes after the commit.
        with db.read() as session:
            visible = session.execute(select(Person.id).where(Person.id == event.id)).first()
        heard.append((event, visible is not None))

    bus.subscribe(RecordChanged, on_change)
    created = _create(db)

    assert len(heard) == 1
    event, visible = heard[0]
    assert visible
    assert (event.kind, event.id, event.version, event.action) == (
        "person",
        created.id,
        1,
        "created",
    )
    assert (event.owner_agency, event.classification, event.restricted) == (
        "DEMO",
        "OFFICIAL",
        False,
    )
    assert event.seq > 0


def test_a_refused_change_publishes_nothing(db: Database, bus: EventBus) -> None:
    heard: list[object] = []
    bus.subscribe(RecordChanged, heard.append)
    with pytest.raises(InvalidInput):
        _create(db, sex="NOT-A-SEX")
    assert heard == []


def test_events_of_a_rolled_back_transaction_are_dropped(db: Database, bus: EventBus) -> None:
    heard: list[object] = []
    bus.subscribe(str, heard.append)

    def fail_after_publishing() -> None:
        with db.write() as session:
            publish(session, "never")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_after_publishing()
    with db.write() as session:
        publish(session, "once")
    assert heard == ["once"]


def test_a_failing_subscriber_neither_undoes_the_write_nor_silences_the_others(
    db: Database, bus: EventBus
) -> None:
    heard: list[RecordChanged] = []

    def broken(_: RecordChanged) -> None:
        raise ValueError

    bus.subscribe(RecordChanged, broken)
    bus.subscribe(RecordChanged, heard.append)
    created = _create(db)
    assert [e.id for e in heard] == [created.id]
    with db.read() as session:
        assert session.get(Person, created.id) is not None


def test_an_unsubscribed_handler_hears_no_more(db: Database, bus: EventBus) -> None:
    heard: list[object] = []
    stop = bus.subscribe(RecordChanged, heard.append)
    _create(db)
    stop()
    _create(db)
    assert len(heard) == 1


def test_revoking_a_device_tells_the_listeners_its_sessions_ended(
    db: Database, bus: EventBus, tmp_path: Any
) -> None:

    actor = system_actor("DEMO")
    create_agency(
        db,
        msgspec.convert({"code": "DEMO", "name": "Demo", "type": "police"}, AgencyCreate),
        actor=actor,
    )
    policy = IdentityPolicy(secrets=SecretBox.load_or_create(tmp_path / "k"), password_cost="fast")
    user = create_user(
        db,
        policy,
        msgspec.convert(
            {
                "username": "pc.one",
                "display_name": "PC One",
                "password": "a long pass phrase",
                "roles": ["officer"],
                "agency": "DEMO",
            },
            UserCreate,
        ),
        actor=actor,
    )
    device_id = new_id()
    with db.write() as session:
        agency = session.execute(select(Agency).where(Agency.code == "DEMO")).scalar_one()
        session.add(
            Device(
                id=device_id,
                agency_id=agency.id,
                name="phone",
                registered_by=user.id,
                registered_at=utcnow(),
                last_user_id=user.id,
                last_seen_at=utcnow(),
            )
        )
    heard: list[SessionsEnded] = []
    bus.subscribe(SessionsEnded, heard.append)
    revoke_device(db, device_id, reason="lost on patrol", actor=actor)
    revoke_device(db, device_id, reason="again", actor=actor)
    assert heard == [SessionsEnded(reason="device-revoked", device_id=device_id)]
