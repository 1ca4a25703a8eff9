"""Pushing a device's operations: each applied at most once, each answered, none lost."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from bluelight.audit.models import AuditEntry
from bluelight.changes.models import ChangeLogEntry
from bluelight.db import Database
from bluelight.kernel import new_id
from bluelight.sync import MAX_OPERATIONS
from bluelight.sync import services as sync_services
from bluelight.sync.models import SyncOperation
from factories import (
    API,
    REASON,
    assert_problem,
    auth_headers,
    event_payload,
    location_payload,
    person_payload,
    property_payload,
    stored,
)

PUSH = f"{API}/sync/push"


def op(
    kind: str,
    action: str,
    record_id: str | uuid.UUID | None = None,
    content: dict[str, Any] | None = None,
    base: int | None = None,
    **more: Any,
) -> dict[str, Any]:
    """One operation as the officer app makes it: a fresh UUIDv7 of its own."""
    made: dict[str, Any] = {
        "id": str(new_id()),
        "kind": kind,
        "action": action,
        "record_id": str(record_id or new_id()),
        "made_at": datetime.now(UTC).isoformat(),
        **more,
    }
    if content is not None:
        made["content"] = content
    if base is not None:
        made["base_version"] = base
    return made


def officer(client: TestClient[Any], name: str = "sync.officer", **kw: Any) -> dict[str, str]:
    return auth_headers(client, name, ("officer",), **kw)


def push(client: TestClient[Any], headers: dict[str, str], *ops: dict[str, Any]) -> Any:
    return client.post(PUSH, json={"operations": list(ops)}, headers=headers)


def statuses(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [r["status"] for r in answer.json()["results"]]


def count(db: Database, what: Any, *where: Any) -> int:
    with db.read() as session:
        return int(session.execute(select(func.count()).select_from(what).where(*where)).scalar())


def test_a_batch_is_applied_in_order_and_each_operation_answered_with_its_version(
    client: TestClient[Any], db: Database
) -> None:
    # Given an officer who captured a place, an event there and a person, offline
    headers = officer(client)
    place = op("location", "create", content=location_payload())
    event = op(
        "event", "create", content=event_payload(location_id=place["record_id"])
    )  # refers to the place made just before it in the batch
    person = op("person", "create", content=person_payload())

    # When the device pushes them
    answer = push(client, headers, place, event, person)

    # Then each is applied, at version 1, and readable through the records API
    assert statuses(answer) == ["applied"] * 3
    assert [r["version"] for r in answer.json()["results"]] == [1, 1, 1]
    assert [r["id"] for r in answer.json()["results"]] == [place["id"], event["id"], person["id"]]
    read = client.get(f"{API}/events/{event['record_id']}", headers=headers)
    assert read.status_code == 200
    assert read.json()["location_id"] == place["record_id"]
    # and the write checkpoint is the feed place of the last change
    with db.read() as session:
        last = session.execute(select(func.max(ChangeLogEntry.seq))).scalar_one()
    from bluelight.kernel.paging import decode_position

    assert decode_position(answer.json()["checkpoint"]) == last


def test_a_replayed_batch_is_answered_duplicate_and_applied_once(
    client: TestClient[Any], db: Database
) -> None:
    # Given a batch that was applied, whose answer the device never received
    headers = officer(client)
    ops = [op("property", "create", content=property_payload()) for _ in range(3)]
    first = push(client, headers, *ops)
    assert statuses(first) == ["applied"] * 3
    changes = count(db, ChangeLogEntry)
    entries = count(db, AuditEntry)

    # When the device sends it again, and then once more in another order
    again = push(client, headers, *ops)
    reordered = push(client, headers, *reversed(ops))

    # Then every operation is a duplicate carrying its first answer, and nothing is applied
    assert statuses(again) == ["duplicate"] * 3
    assert statuses(reordered) == ["duplicate"] * 3
    for result in again.json()["results"]:
        assert result["outcome"] == "applied"
        assert result["version"] == 1
    assert count(db, ChangeLogEntry) == changes
    assert count(db, AuditEntry) == entries
    # and the replay's checkpoint still holds the writes it reports
    assert again.json()["checkpoint"] == first.json()["checkpoint"]


def test_an_operation_twice_in_one_batch_is_applied_once(
    client: TestClient[Any], db: Database
) -> None:
    headers = officer(client)
    once = op("property", "create", content=property_payload())

    answer = push(client, headers, once, once)

    assert statuses(answer) == ["applied", "duplicate"]
    assert count(db, ChangeLogEntry, ChangeLogEntry.entity_id == uuid.UUID(once["record_id"])) == 1


def test_an_operation_id_sent_again_with_other_content_is_refused_and_not_applied(
    client: TestClient[Any], db: Database
) -> None:
    # Given an applied create
    headers = officer(client)
    first = op("property", "create", content=property_payload(description="a red bicycle"))
    assert statuses(push(client, headers, first)) == ["applied"]

    # When the same operation id comes back with other content
    altered = {**first, "content": property_payload(description="a blue bicycle")}
    answer = push(client, headers, altered)

    # Then it is refused, and the record is as first sent
    (result,) = answer.json()["results"]
    assert result["status"] == "rejected"
    assert result["problem"]["code"] == "OPERATION_ID_REUSED"
    read = client.get(f"{API}/property/{first['record_id']}", headers=headers).json()
    assert read["description"] == "a red bicycle"
    assert read["version"] == 1


def test_another_users_operation_id_is_refused_without_saying_what_became_of_it(
    client: TestClient[Any],
) -> None:
    mine = officer(client, "sync.first")
    theirs = officer(client, "sync.second")
    taken = op("property", "create", content=property_payload())
    assert statuses(push(client, mine, taken)) == ["applied"]

    answer = push(client, theirs, taken)

    (result,) = answer.json()["results"]
    assert result == {
        "id": taken["id"],
        "status": "rejected",
        "problem": result["problem"],
    }
    assert result["problem"]["code"] == "OPERATION_ID_TAKEN"


def test_a_change_based_on_a_stale_version_is_a_conflict_with_the_servers_copy(
    client: TestClient[Any], db: Database
) -> None:
    # Given a person the device holds at version 1, changed since on the server
    headers = officer(client)
    person = stored(client, "persons", person_payload())
    changed = client.patch(
        f"{API}/persons/{person['id']}", json={"version": 1, "sex": "F"}, headers=headers
    )
    assert changed.status_code == 200

    # When the device pushes its own change made on version 1
    stale = op("person", "update", person["id"], {"hair_colour": "GREY"}, base=1)
    answer = push(client, headers, stale)

    # Then it is a conflict carrying the server's copy, and nothing is applied
    (result,) = answer.json()["results"]
    assert result["status"] == "conflict"
    assert result["version"] == 2
    assert result["record"]["sex"] == "F"
    assert result["record"]["hair_colour"] == "BLACK"
    # and the copy's disclosure is on the trail with the reason
    with db.read() as session:
        reason = session.execute(
            select(AuditEntry.reason_code).where(AuditEntry.tag == "records:person:conflict")
        ).scalar_one()
    assert reason == REASON["X-Bluelight-Reason"]
    # A replay of the conflict answers it again (with the copy), and still applies nothing
    replay = push(client, headers, stale).json()["results"][0]
    assert (replay["status"], replay["outcome"], replay["record"]["version"]) == (
        "duplicate",
        "conflict",
        2,
    )


def test_an_operation_the_user_may_not_make_is_rejected_and_audited_and_the_rest_applied(
    client: TestClient[Any], db: Database
) -> None:
    # Given an officer (who may not delete records) and a record of theirs
    headers = officer(client)
    item = stored(client, "property", property_payload())

    # When a batch holds a delete among two creates
    before = op("property", "create", content=property_payload())
    delete = op("property", "delete", item["id"], {"reason": "entered in error"}, base=1)
    after = op("property", "create", content=property_payload())
    answer = push(client, headers, before, delete, after)

    # Then the delete alone is refused, with its reason, and the refusal is on the trail
    assert statuses(answer) == ["applied", "rejected", "applied"]
    problem = answer.json()["results"][1]["problem"]
    assert problem["code"] == "PERMISSION_DENIED"
    assert problem["status"] == 403
    assert problem["op"] == delete["id"]
    assert client.get(f"{API}/property/{item['id']}", headers=headers).status_code == 200
    denied = count(
        db,
        AuditEntry,
        AuditEntry.tag == "records:property:deleted",
        AuditEntry.outcome == "denied",
    )
    assert denied == 1


def test_a_person_changed_without_a_reason_is_rejected_and_one_with_its_own_reason_applied(
    client: TestClient[Any], db: Database
) -> None:
    headers = {**officer(client), "X-Bluelight-Reason": "", "X-Bluelight-Reason-Text": ""}
    bare = op("person", "create", content=person_payload())
    own = op(
        "person",
        "create",
        content=person_payload(),
        reason={"code": "INVESTIGATION", "text": "witness at the scene"},
    )

    answer = push(client, headers, bare, own)

    assert statuses(answer) == ["rejected", "applied"]
    assert answer.json()["results"][0]["problem"]["code"] == "REASON_REQUIRED"
    with db.read() as session:
        entries = session.execute(
            select(AuditEntry.outcome, AuditEntry.reason_code, AuditEntry.reason_text)
            .where(AuditEntry.tag == "records:person:created")
            .order_by(AuditEntry.seq)
        ).all()
    # The refusal is on the trail too, as a denied attempt
    assert [tuple(e) for e in entries] == [
        ("denied", None, None),
        ("allowed", "INVESTIGATION", "witness at the scene"),
    ]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ({"category": "BICYCLE", "colour": 7}, "INVALID_CONTENT"),
        ({"category": "BICYCLE", "unknown": "x"}, "INVALID_CONTENT"),
        ({"category": "NOT-A-CATEGORY"}, "UNKNOWN_CODE"),
    ],
)
def test_content_the_records_api_would_refuse_is_rejected_with_its_problem(
    client: TestClient[Any], db: Database, content: dict[str, Any], code: str
) -> None:
    headers = officer(client)
    bad = op("property", "create", content=content)

    answer = push(client, headers, bad, op("property", "create", content=property_payload()))

    assert statuses(answer) == ["rejected", "applied"]
    assert answer.json()["results"][0]["problem"]["code"] == code
    assert count(db, ChangeLogEntry, ChangeLogEntry.entity_id == uuid.UUID(bad["record_id"])) == 0


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"action": "create", "base_version": 1}, "base_version"),
        ({"action": "update"}, "base_version"),
        ({"action": "update", "base_version": 1, "content": {"version": 2}}, "base_version"),
        ({"action": "delete", "base_version": 1, "content": None}, "reason"),
    ],
)
def test_an_operation_whose_parts_do_not_fit_its_action_is_rejected(
    client: TestClient[Any], change: dict[str, Any], detail: str
) -> None:
    headers = officer(client)
    shaped = {**op("property", "create", content=property_payload()), **change}
    shaped = {k: v for k, v in shaped.items() if v is not None}

    (result,) = push(client, headers, shaped).json()["results"]

    assert result["status"] == "rejected"
    assert result["problem"]["code"] == "INVALID_OPERATION"
    assert detail in result["problem"]["detail"]


def test_a_batch_over_the_limit_is_refused_whole(client: TestClient[Any], db: Database) -> None:
    headers = officer(client)
    ops = [op("property", "create", content=property_payload()) for _ in range(MAX_OPERATIONS + 1)]

    answer = push(client, headers, *ops)

    assert_problem(answer, 400, "LENGTH_OUT_OF_RANGE")
    assert count(db, SyncOperation) == 0


def test_a_crash_mid_batch_applies_none_of_it_and_the_retry_applies_each_once(
    client: TestClient[Any], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a server that fails on the third operation of a batch, past the first two
    headers = officer(client)
    ops = [op("property", "create", content=property_payload()) for _ in range(4)]
    real_apply = sync_services._apply
    calls = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the process dies here")
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(sync_services, "_apply", failing)
    crashed = push(client, headers, *ops)

    # Then the device has no answer, and nothing of the batch is kept
    assert crashed.status_code == 500
    assert count(db, SyncOperation) == 0
    assert count(db, ChangeLogEntry) == 0

    # When it sends the batch again to a server that works
    monkeypatch.setattr(sync_services, "_apply", real_apply)
    retried = push(client, headers, *ops)

    # Then each operation is applied, once
    assert statuses(retried) == ["applied"] * 4
    assert count(db, ChangeLogEntry) == 4


def test_the_devices_clock_is_kept_as_reported_and_the_servers_order_decides(
    client: TestClient[Any], db: Database
) -> None:
    # Given a device whose clock is six hours behind
    headers = officer(client)
    item = stored(client, "property", property_payload())
    late = datetime.now(UTC) - timedelta(hours=6)
    first = op("property", "update", item["id"], {"description": "first"}, base=1)
    second = op("property", "update", item["id"], {"description": "second"}, base=2)
    first["made_at"] = (late + timedelta(minutes=1)).isoformat()
    second["made_at"] = late.isoformat()  # its clock even went backwards

    answer = push(client, headers, first, second)

    # Then both apply in the order sent, and the reported times are kept as they were
    assert statuses(answer) == ["applied", "applied"]
    read = client.get(f"{API}/property/{item['id']}", headers=headers).json()
    assert (read["description"], read["version"]) == ("second", 3)
    with db.read() as session:
        made = session.execute(
            select(SyncOperation.made_at).where(SyncOperation.id == uuid.UUID(second["id"]))
        ).scalar_one()
    assert made == late


@pytest.mark.parametrize(
    ("roles", "agency_type"),
    [(("agency_admin",), "police"), (("controller",), "police"), (("partner_user",), "fire")],
)
def test_only_users_who_work_on_a_device_may_push(
    client: TestClient[Any], db: Database, roles: tuple[str, ...], agency_type: str
) -> None:
    agency = "FIRE1" if agency_type == "fire" else "TEST"
    headers = auth_headers(client, "sync.other", roles, agency=agency, agency_type=agency_type)

    answer = push(client, headers, op("property", "create", content=property_payload()))

    assert_problem(answer, 403, "PERMISSION_DENIED")
    assert count(db, SyncOperation) == 0
