"""Pulling what a device must hold: the officer's own work, at a checkpoint, and no more."""

from __future__ import annotations

import re
import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import TestClient
from sqlalchemy import select
from test_push import op, push, statuses

from bluelight.audit.models import AuditEntry
from bluelight.db import Database
from bluelight.kernel.paging import decode_position, encode_position
from bluelight.sync.rules import MAX_PLACE, PULL_CURSOR_PATTERN, decode_cursor, encode_span
from factories import (
    API,
    REASON,
    assert_problem,
    location_payload,
    make_user,
    marker_payload,
    person_payload,
    property_payload,
    sign_in,
    stored,
)

PULL = f"{API}/sync/pull"


def device_of(client: TestClient[Any], name: str) -> tuple[dict[str, str], uuid.UUID]:
    """An officer signed in on a device of their own: their headers, and the device."""
    make_user(client.app, name, ("officer",))
    device = uuid.uuid4()
    token = sign_in(client, name, device_id=device)["token"]
    return {"Authorization": f"Bearer {token}", **REASON}, device


def pull_all(
    client: TestClient[Any], headers: dict[str, str], cursor: str | None = None, limit: int = 200
) -> tuple[dict[str, dict[str, Any]], str, int]:
    """Every page of one pull, as a device applies them: the records by id (``None`` for a
    removal), the checkpoint, and how many pages it took."""
    held: dict[str, dict[str, Any]] = {}
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        answer = client.get(PULL, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        pages += 1
        for item in page["records"]:
            held[item["id"]] = None if item.get("removed") else item["record"]
        if page["checkpoint"] is not None:
            return held, page["checkpoint"], pages
        cursor = page["cursor"]


def test_a_device_is_sent_the_officers_own_work_and_what_it_refers_to_not_the_force(
    client: TestClient[Any],
) -> None:
    # Given a force holding a place with a warning, and a person the officer never touched
    place = stored(client, "locations", location_payload())
    warning = stored(client, "markers", marker_payload(place["id"], "location"))
    stranger = stored(client, "persons", person_payload())
    headers, _ = device_of(client, "pull.officer")

    # When the officer's device pushes an event at that place, and a property record
    event = op(
        "event",
        "create",
        content={
            "kind": "incident",
            "incident_type": "ASB-NUISANCE",
            "occurred_from": "2026-11-30T10:00:00+00:00",
            "location_id": place["id"],
        },
    )
    item = op("property", "create", content=property_payload())
    assert statuses(push(client, headers, event, item)) == ["applied", "applied"]

    # Then a pull sends the event, the place it is at, the warning on the place and the property
    held, _, _ = pull_all(client, headers)
    assert set(held) == {event["record_id"], place["id"], warning["id"], item["record_id"]}
    assert held[place["id"]]["street"] == place["street"]
    # and nothing else of the force
    assert stranger["id"] not in held


def test_another_officers_work_never_reaches_this_device(client: TestClient[Any]) -> None:
    mine, _ = device_of(client, "pull.mine")
    theirs, _ = device_of(client, "pull.theirs")
    their_item = op("property", "create", content=property_payload())
    assert statuses(push(client, theirs, their_item)) == ["applied"]

    held, _, _ = pull_all(client, mine)

    assert held == {}


def test_the_pages_of_one_pull_show_one_state_and_the_last_carries_the_checkpoint(
    client: TestClient[Any],
) -> None:
    # Given five records of the officer's
    headers, _ = device_of(client, "pull.pages")
    items = [op("property", "create", content=property_payload()) for _ in range(5)]
    assert statuses(push(client, headers, *items)) == ["applied"] * 5

    # When a pull is read two at a time, and a record changes between its pages
    first = client.get(PULL, params={"limit": 2}, headers=headers).json()
    assert first["checkpoint"] is None
    change = op("property", "update", items[4]["record_id"], {"description": "later"}, base=1)
    assert statuses(push(client, headers, change)) == ["applied"]
    held, checkpoint, pages = pull_all(client, headers, first["cursor"], limit=2)

    # Then the pull's pages hold the state it began with, and only the last has a checkpoint
    assert pages == 2
    assert {r["id"] for r in first["records"]} | set(held) == {i["record_id"] for i in items}
    assert held[items[4]["record_id"]]["version"] == 1
    # and the next pull, from that checkpoint, brings the change (and nothing else)
    again, _, _ = pull_all(client, headers, checkpoint)
    assert set(again) == {items[4]["record_id"]}
    assert again[items[4]["record_id"]]["description"] == "later"


def test_a_record_changed_twice_is_sent_once_as_it_now_stands(client: TestClient[Any]) -> None:
    headers, _ = device_of(client, "pull.twice")
    item = op("property", "create", content=property_payload())
    assert statuses(push(client, headers, item)) == ["applied"]
    _, checkpoint, _ = pull_all(client, headers)
    for version, words in ((1, "once"), (2, "twice")):
        change = op("property", "update", item["record_id"], {"description": words}, base=version)
        assert statuses(push(client, headers, change)) == ["applied"]

    answer = client.get(PULL, params={"cursor": checkpoint}, headers=headers).json()

    assert [(r["id"], r["record"]["version"]) for r in answer["records"]] == [
        (item["record_id"], 3)
    ]


def test_a_device_reads_its_own_writes_at_the_next_pull(client: TestClient[Any]) -> None:
    headers, _ = device_of(client, "pull.own")
    _, checkpoint, _ = pull_all(client, headers)
    item = op("property", "create", content=property_payload())
    pushed = push(client, headers, item).json()

    held, after, _ = pull_all(client, headers, checkpoint)

    assert decode_position(after) >= decode_position(pushed["checkpoint"])
    assert held[item["record_id"]]["version"] == 1


def test_a_record_restricted_or_deleted_since_is_sent_as_removed_with_nothing_of_it(
    client: TestClient[Any],
) -> None:
    # Given a device holding two records of its officer's
    headers, _ = device_of(client, "pull.removed")
    kept = op("person", "create", content=person_payload(names=[{"family_name": "Hidden"}]))
    gone = op("property", "create", content=property_payload())
    assert statuses(push(client, headers, kept, gone)) == ["applied", "applied"]
    _, checkpoint, _ = pull_all(client, headers)

    # When a supervisor restricts the person to others, and deletes the property
    restricted = client.put(
        f"{API}/persons/{kept['record_id']}/access",
        json={"version": 1, "restricted": True, "users": ["test.supervisor"]},
    )
    assert restricted.status_code == 200, restricted.text
    deleted = client.request(
        "DELETE",
        f"{API}/property/{gone['record_id']}",
        json={"version": 1, "reason": "entered in error"},
    )
    assert deleted.status_code == 200, deleted.text

    # Then the device's next pull tells it to drop both, and carries nothing of them
    answer = client.get(PULL, params={"cursor": checkpoint}, headers=headers)
    assert answer.status_code == 200
    assert sorted(answer.json()["records"], key=lambda r: r["kind"]) == [
        {"kind": "person", "id": kept["record_id"], "removed": True},
        {"kind": "property", "id": gone["record_id"], "removed": True},
    ]
    assert "Hidden" not in answer.text


def test_a_warning_put_on_a_held_person_reaches_the_device(client: TestClient[Any]) -> None:
    headers, _ = device_of(client, "pull.warned")
    person = op("person", "create", content=person_payload())
    assert statuses(push(client, headers, person)) == ["applied"]
    _, checkpoint, _ = pull_all(client, headers)

    warning = stored(client, "markers", marker_payload(person["record_id"], detail="violent"))

    held, _, _ = pull_all(client, headers, checkpoint)
    assert held[warning["id"]]["detail"] == "violent"


def test_a_pull_holding_what_is_said_about_a_person_needs_a_reason_and_is_audited(
    client: TestClient[Any], db: Database
) -> None:
    headers, _ = device_of(client, "pull.reason")
    person = op("person", "create", content=person_payload())
    assert statuses(push(client, headers, person)) == ["applied"]
    bare = {**headers, "X-Bluelight-Reason": "", "X-Bluelight-Reason-Text": ""}

    refused = client.get(PULL, headers=bare)

    assert_problem(refused, 400, "REASON_REQUIRED")
    answered = client.get(PULL, headers=headers)
    assert answered.status_code == 200
    with db.read() as session:
        entry = session.execute(
            select(AuditEntry.outcome, AuditEntry.subject_ids, AuditEntry.reason_code).where(
                AuditEntry.tag == "sync:records:pulled"
            )
        ).all()
    assert [tuple(e) for e in entry] == [
        ("denied", [], None),
        ("allowed", [person["record_id"]], "INVESTIGATION"),
    ]


def test_a_revoked_device_is_refused_at_once(client: TestClient[Any]) -> None:
    headers, device = device_of(client, "pull.revoked")
    revoked = client.post(f"{API}/devices/{device}/revoke", json={"reason": "lost on patrol"})
    assert revoked.status_code == 200, revoked.text

    assert_problem(client.get(PULL, headers=headers), 401, "DEVICE_REVOKED")


def test_a_cursor_not_made_here_is_refused(client: TestClient[Any]) -> None:
    headers, _ = device_of(client, "pull.cursor")

    for cursor in ("bm90LW91cnM", encode_position(3) + "A", "cQAAAAAAAAA"):
        answer = client.get(PULL, params={"cursor": cursor}, headers=headers)
        assert assert_problem(answer, 400, "INVALID_PARAMETER")["field"] == "cursor"


@given(
    after=st.integers(0, MAX_PLACE),
    more=st.integers(0, MAX_PLACE),
    sent=st.integers(0, 2**32 - 1),
)
def test_every_cursor_a_pull_makes_is_one_its_route_takes_and_reads_back(
    after: int, more: int, sent: int
) -> None:
    upto = min(after + more, MAX_PLACE)
    for cursor, read in (
        (encode_span(after, upto, sent), (after, upto, sent)),
        (encode_position(after), (after, None, 0)),
    ):
        assert re.fullmatch(PULL_CURSOR_PATTERN, cursor)
        assert decode_cursor(cursor) == read


def test_a_place_taken_into_the_officers_work_later_comes_whole_with_its_old_warnings(
    client: TestClient[Any],
) -> None:
    # Given a device that has pulled, and a place with a warning put on it long before
    headers, _ = device_of(client, "pull.later")
    place = stored(client, "locations", location_payload())
    warning = stored(client, "markers", marker_payload(place["id"], "location"))
    _, checkpoint, _ = pull_all(client, headers)

    # When the officer records an event at that place
    event = op(
        "event",
        "create",
        content={
            "kind": "incident",
            "incident_type": "ASB-NUISANCE",
            "occurred_from": "2026-11-30T10:00:00+00:00",
            "location_id": place["id"],
        },
    )
    assert statuses(push(client, headers, event)) == ["applied"]

    # Then the next pull brings the place and its warning, though neither changed since
    held, _, _ = pull_all(client, headers, checkpoint)
    assert set(held) == {event["record_id"], place["id"], warning["id"]}


def test_a_checkpoint_past_the_end_of_the_log_is_refused_so_the_device_starts_again(
    client: TestClient[Any],
) -> None:
    headers, _ = device_of(client, "pull.ahead")
    _, checkpoint, _ = pull_all(client, headers)
    ahead = encode_position(decode_position(checkpoint) + 1000)

    assert_problem(client.get(PULL, params={"cursor": ahead}, headers=headers), 409, "CURSOR_AHEAD")


def test_a_cursor_past_the_last_place_the_log_can_number_reads_as_that_place() -> None:
    # (The route then refuses it as past the end of the log: CURSOR_AHEAD.)
    assert decode_cursor(encode_position(2**64 - 1)) == (MAX_PLACE, None, 0)
    assert decode_cursor(encode_span(2**64 - 1, 2**64 - 1, 1)) == (MAX_PLACE, MAX_PLACE, 1)
