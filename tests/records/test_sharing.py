"""Sharing events with partner agencies: what each share level shows, and nothing more.

A fire service that an event is shared with sees it through ``/api/v1/shared/events``, with
only the fields the share's level allows. Every test here goes through the HTTP API.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from bluelight.audit.models import AuditEntry
from bluelight.identity import ShareLevel
from bluelight.records.share_levels import LEVEL_FIELDS
from factories import (
    API,
    FORCE,
    assert_problem,
    auth_headers,
    ensure_agency,
    event_payload,
    link_payload,
    location_payload,
    marker_payload,
    person_payload,
    stored,
)

FIRE = "FIRE1"
NO_REASON = {"X-Bluelight-Reason": "", "X-Bluelight-Reason-Text": ""}
ATTENDING = {"X-Bluelight-Reason": "INCIDENT-RESPONSE", "X-Bluelight-Reason-Text": "crew attending"}

# Written out by hand, not derived: a change to LEVEL_FIELDS that shows a partner one more
# field must fail here.
LOCATION_KEYS = {"id", "owner_agency", "share_level", "version", "location", "hazards"}
OPERATIONAL_KEYS = LOCATION_KEYS | {
    "kind",
    "reference",
    "incident_type",
    "qualifiers",
    "offence",
    "occurred_from",
    "occurred_to",
    "reported_at",
    "narrative",
    "updated_at",
}
FULL_KEYS = OPERATIONAL_KEYS | {"persons", "created_by"}
KEYS = {"location": LOCATION_KEYS, "operational": OPERATIONAL_KEYS, "full": FULL_KEYS}

PLACE_WARNING = "gas cylinders stored in the rear garage"
PERSON_WARNING = "carried a knife when arrested"


def partner(
    client: Any,
    username: str = "fire.watch",
    *,
    agency: str = FIRE,
    clearance: str = "OFFICIAL-SENSITIVE",
) -> dict[str, str]:
    """Headers of a fire service user, who holds only the partner role, giving a reason (a
    view that names people needs one)."""
    return {
        **auth_headers(
            client,
            username,
            ("partner_user",),
            agency=agency,
            agency_type="fire",
            clearance=clearance,
            reason=False,
        ),
        **ATTENDING,
    }


def scene(client: Any, **event: Any) -> dict[str, Any]:
    """An event at a place with a warning on it, a suspect with a warning linked to it."""
    place = stored(client, "locations", location_payload())
    stored(client, "markers", marker_payload(place["id"], "location", detail=PLACE_WARNING))
    created = stored(client, "events", event_payload(location_id=place["id"], **event))
    person = stored(client, "persons", person_payload())
    stored(client, "markers", marker_payload(person["id"], detail=PERSON_WARNING))
    stored(client, "links", link_payload("person", person["id"], "event", created["id"]))
    return {"event": created, "place": place, "person": person}


def share(client: Any, event_id: str, level: str, agency: str = FIRE, **kw: Any) -> Any:
    return client.post(
        f"{API}/events/{event_id}/shares", json={"agency": agency, "level": level}, **kw
    )


def shared(client: Any, event_id: str, level: str, agency: str = FIRE) -> None:
    ensure_agency(client.app, agency, "fire")
    response = share(client, event_id, level, agency)
    assert response.status_code == 200, response.text


def audit(client: Any, tag: str) -> list[SimpleNamespace]:
    """The audit entries with ``tag``, in the order they were written."""
    columns = AuditEntry.__table__.columns
    with client.app.state.database.read() as session:
        rows = session.execute(
            select(*columns).where(AuditEntry.tag == tag).order_by(AuditEntry.seq)
        )
        return [SimpleNamespace(**row._asdict()) for row in rows]


# --- what each level shows ------------------------------------------------------------------


def test_level_fields_are_exactly_the_documented_ones() -> None:
    assert LEVEL_FIELDS[ShareLevel.LOCATION] == LOCATION_KEYS
    assert LEVEL_FIELDS[ShareLevel.OPERATIONAL] == OPERATIONAL_KEYS
    assert LEVEL_FIELDS[ShareLevel.FULL] == FULL_KEYS


def test_location_share_shows_where_and_the_hazards_only(client) -> None:
    # Given an event shared with the fire service at the location level
    s = scene(client)
    shared(client, s["event"]["id"], "location")

    # When a fire service user reads it
    response = client.get(f"{API}/shared/events/{s['event']['id']}", headers=partner(client))

    # Then they see where it is and what to beware of, and nothing about what happened or who
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == LOCATION_KEYS == set(LEVEL_FIELDS[ShareLevel.LOCATION])
    assert body["share_level"] == "location"
    assert body["owner_agency"] == FORCE
    assert body["version"] == s["event"]["version"]
    assert body["location"]["id"] == s["place"]["id"]
    assert body["location"]["postcode"] == "NG1 3FN"
    hazards = sorted(body["hazards"], key=lambda h: h["source"])
    assert hazards == [
        {
            "marker": "WE",
            "label": hazards[0]["label"],
            "source": "location",
            "detail": PLACE_WARNING,
        },
        {"marker": "VI", "label": hazards[1]["label"], "source": "person", "detail": None},
    ]
    for secret in (
        s["person"]["id"],
        "Okafor",
        "Chidi",
        "1988-04-12",
        PERSON_WARNING,
        s["event"]["narrative"],
        s["event"]["reference"],
        "test.supervisor",
    ):
        assert secret not in response.text


def test_operational_share_adds_what_happened_without_personal_data(client) -> None:
    s = scene(client)
    shared(client, s["event"]["id"], "operational")

    response = client.get(f"{API}/shared/events/{s['event']['id']}", headers=partner(client))

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == OPERATIONAL_KEYS == set(LEVEL_FIELDS[ShareLevel.OPERATIONAL])
    assert body["share_level"] == "operational"
    event = s["event"]
    for field in ("kind", "reference", "incident_type", "qualifiers", "offence", "narrative"):
        assert body[field] == event[field], field
    assert {h["source"]: h["detail"] for h in body["hazards"]} == {
        "location": PLACE_WARNING,
        "person": None,
    }
    for secret in (s["person"]["id"], "Okafor", "Chidi", "1988-04-12", PERSON_WARNING):
        assert secret not in response.text
    assert "test.supervisor" not in response.text


def test_full_share_adds_the_people_and_who_recorded_it(client) -> None:
    s = scene(client)
    shared(client, s["event"]["id"], "full")

    response = client.get(f"{API}/shared/events/{s['event']['id']}", headers=partner(client))

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == FULL_KEYS == set(LEVEL_FIELDS[ShareLevel.FULL])
    assert body["created_by"] == "test.supervisor"
    assert body["persons"] == [
        {
            "id": s["person"]["id"],
            "role": "suspect",
            "family_name": "Okafor",
            "given_names": "Chidi James",
            "date_of_birth": "1988-04-12",
        }
    ]
    assert {h["source"]: h["detail"] for h in body["hazards"]} == {
        "location": PLACE_WARNING,
        "person": PERSON_WARNING,
    }


def test_shared_list_shows_each_event_at_its_own_level(client) -> None:
    # Given three events shared with the fire service, one at each level, and one not shared
    events = {level: scene(client)["event"]["id"] for level in KEYS}
    for level, event_id in events.items():
        shared(client, event_id, level)
    unshared = scene(client)["event"]["id"]
    headers = partner(client)

    # When the fire service lists what is shared with it
    response = client.get(f"{API}/shared/events", headers=headers)

    # Then each event appears once, projected exactly as its own read is
    assert response.status_code == 200, response.text
    items = {item["id"]: item for item in response.json()["items"]}
    assert set(items) == set(events.values())
    assert unshared not in items
    for level, event_id in events.items():
        assert set(items[event_id]) == KEYS[level], level
        one = client.get(f"{API}/shared/events/{event_id}", headers=headers).json()
        assert items[event_id] == one


def test_sharing_again_changes_the_level(client) -> None:
    s = scene(client)
    event_id = s["event"]["id"]
    shared(client, event_id, "full")
    headers = partner(client)
    assert set(client.get(f"{API}/shared/events/{event_id}", headers=headers).json()) == FULL_KEYS

    shared(client, event_id, "location")

    body = client.get(f"{API}/shared/events/{event_id}", headers=headers).json()
    assert set(body) == LOCATION_KEYS
    shares = client.get(f"{API}/events/{event_id}/shares").json()
    assert [(x["agency"], x["level"], x["revoked_at"]) for x in shares] == [
        (FIRE, "location", None)
    ]


def test_stopping_a_share_hides_the_event_from_the_partner(client) -> None:
    s = scene(client)
    event_id = s["event"]["id"]
    shared(client, event_id, "operational")
    headers = partner(client)
    assert client.get(f"{API}/shared/events/{event_id}", headers=headers).status_code == 200

    stopped = client.delete(f"{API}/events/{event_id}/shares/{FIRE}")

    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["revoked_by"] == "test.supervisor"
    assert_problem(
        client.get(f"{API}/shared/events/{event_id}", headers=headers), 404, "RECORD_NOT_FOUND"
    )
    assert client.get(f"{API}/shared/events", headers=headers).json()["items"] == []
    revoked = audit(client, "records:event:share-revoked")
    assert [(e.action, e.recipients, e.subject_ids) for e in revoked] == [
        ("disclosure", [FIRE], [event_id])
    ]
    # Stopping a share that is not live is refused
    assert_problem(client.delete(f"{API}/events/{event_id}/shares/{FIRE}"), 404, "SHARE_NOT_FOUND")


# --- what a partner never sees --------------------------------------------------------------


def test_partner_cannot_see_an_event_not_shared_with_it(client) -> None:
    # Given two events, one shared with another fire service only
    mine = scene(client)["event"]["id"]
    theirs = scene(client)["event"]["id"]
    shared(client, theirs, "full", agency="FIRE2")
    partner(client, "other.fire", agency="FIRE2")
    headers = partner(client)

    for event_id in (mine, theirs):
        assert_problem(
            client.get(f"{API}/shared/events/{event_id}", headers=headers),
            404,
            "RECORD_NOT_FOUND",
        )
    assert client.get(f"{API}/shared/events", headers=headers).json()["items"] == []
    denied = [e for e in audit(client, "records:shared-event:read") if e.outcome == "denied"]
    assert sorted(e.subject_ids[0] for e in denied) == sorted([mine, theirs])


def test_partner_cannot_use_the_force_routes_even_for_a_shared_event(client) -> None:
    s = scene(client)
    event_id = s["event"]["id"]
    shared(client, event_id, "full")
    headers = partner(client)

    for path in (
        f"events/{event_id}",
        "events",
        f"events/{event_id}/history",
        f"persons/{s['person']['id']}",
        f"locations/{s['place']['id']}",
        f"events/{event_id}/shares",
    ):
        assert_problem(client.get(f"{API}/{path}", headers=headers), 403, "PERMISSION_DENIED")


def test_partner_below_the_events_classification_cannot_see_it(client) -> None:
    s = scene(client, classification="OFFICIAL-SENSITIVE")
    shared(client, s["event"]["id"], "full")
    headers = partner(client, "fire.trainee", clearance="OFFICIAL")

    assert_problem(
        client.get(f"{API}/shared/events/{s['event']['id']}", headers=headers),
        404,
        "RECORD_NOT_FOUND",
    )
    assert client.get(f"{API}/shared/events", headers=headers).json()["items"] == []


# --- sharing itself -------------------------------------------------------------------------


def test_sharing_is_a_disclosure_audited_with_its_reason_and_recipient(client) -> None:
    s = scene(client)
    event_id = s["event"]["id"]
    partner(client)

    shared(client, event_id, "operational")

    [entry] = audit(client, "records:event:shared")
    assert entry.action == "disclosure"
    assert entry.outcome == "allowed"
    assert entry.recipients == [FIRE]
    assert entry.subject_type == "event"
    assert entry.subject_ids == [event_id]
    assert entry.reason_code == "INVESTIGATION"
    assert entry.reason_text == "test enquiry"
    assert entry.actor_username == "test.supervisor"
    assert entry.detail["level"] == "operational"


def test_sharing_needs_a_reason(client) -> None:
    s = scene(client)
    partner(client)

    response = share(client, s["event"]["id"], "full", headers=NO_REASON)

    assert_problem(response, 400, "REASON_REQUIRED")
    assert client.get(f"{API}/events/{s['event']['id']}/shares").json() == []
    # Nothing was disclosed; the attempt is on the trail as refused.
    entries = audit(client, "records:event:shared")
    assert [(e.outcome, e.detail["code"]) for e in entries] == [("denied", "REASON_REQUIRED")]


@pytest.mark.parametrize(
    ("level", "needs_reason"), [("location", False), ("operational", False), ("full", True)]
)
def test_a_partner_needs_a_reason_only_for_a_view_that_names_people(
    client, level: str, needs_reason: bool
) -> None:
    # Given an event with a suspect linked to it, shared at a level
    s = scene(client)
    headers = {**partner(client), **NO_REASON}
    shared(client, s["event"]["id"], level)

    # When the partner reads it, and lists what is shared, without a reason
    one = client.get(f"{API}/shared/events/{s['event']['id']}", headers=headers)
    many = client.get(f"{API}/shared/events", headers=headers)

    # Then a view naming people is refused, and shows nothing of them
    for response in (one, many):
        if needs_reason:
            assert_problem(response, 400, "REASON_REQUIRED")
            assert "Okafor" not in response.text
        else:
            assert response.status_code == 200, response.text
    # And each read is on the trail: refused, or allowed naming the event it showed
    reads = audit(client, "records:shared-event:read")
    assert [e.outcome for e in reads] == ["denied" if needs_reason else "allowed"] * 2
    if not needs_reason:
        assert all(e.subject_ids == [s["event"]["id"]] for e in reads)


def test_a_partner_read_naming_people_is_audited_naming_them_and_why(client) -> None:
    s = scene(client)
    shared(client, s["event"]["id"], "full")

    response = client.get(f"{API}/shared/events/{s['event']['id']}", headers=partner(client))

    assert response.status_code == 200, response.text
    (entry,) = audit(client, "records:shared-event:read")
    assert entry.subject_ids == [s["event"]["id"], s["person"]["id"]]
    assert (entry.reason_code, entry.reason_text) == ("INCIDENT-RESPONSE", "crew attending")


def test_sharing_with_an_unknown_agency_is_refused(client) -> None:
    s = scene(client)
    assert_problem(share(client, s["event"]["id"], "full", "NOSUCH"), 404, "AGENCY_NOT_FOUND")


def test_sharing_with_ones_own_agency_is_refused(client) -> None:
    s = scene(client)
    assert_problem(share(client, s["event"]["id"], "full", FORCE), 422, "SHARE_NOT_ALLOWED")


def test_a_restricted_event_cannot_be_shared(client) -> None:
    s = scene(client)
    event = s["event"]
    partner(client)
    put = client.put(f"{API}/events/{event['id']}/access", json={"version": 1, "restricted": True})
    assert put.status_code == 200, put.text

    assert_problem(share(client, event["id"], "location"), 422, "SHARE_NOT_ALLOWED")
    assert client.get(f"{API}/events/{event['id']}/shares").json() == []


def test_a_person_cannot_be_shared(client) -> None:
    person = stored(client, "persons", person_payload())
    partner(client)

    response = share_path(client, f"persons/{person['id']}")

    assert response.status_code in (404, 405), response.text


def share_path(client: Any, path: str) -> Any:
    return client.post(f"{API}/{path}/shares", json={"agency": FIRE, "level": "full"})


def test_officer_cannot_share(client) -> None:
    s = scene(client)
    partner(client)
    officer = auth_headers(client, "pc.share", ("officer",))

    assert_problem(
        share(client, s["event"]["id"], "full", headers=officer), 403, "PERMISSION_DENIED"
    )


# --- shares that must end (holes closed) ----------------------------------------------------


def test_a_deleted_shared_event_disappears_for_the_partner(client) -> None:
    s = scene(client)
    event_id = s["event"]["id"]
    shared(client, event_id, "full")
    headers = partner(client)

    deleted = client.request(
        "DELETE", f"{API}/events/{event_id}", json={"version": 1, "reason": "raised in error"}
    )

    assert deleted.status_code == 200, deleted.text
    assert_problem(
        client.get(f"{API}/shared/events/{event_id}", headers=headers), 404, "RECORD_NOT_FOUND"
    )
    assert client.get(f"{API}/shared/events", headers=headers).json()["items"] == []


@pytest.mark.parametrize(
    "change",
    [{"restricted": True}, {"classification": "OFFICIAL-SENSITIVE"}],
    ids=["restricted", "classified-higher"],
)
def test_restricting_or_raising_a_shared_event_ends_its_shares(client, change) -> None:
    # Given an OFFICIAL event shared with a fire service whose user is cleared higher
    s = scene(client)
    event_id = s["event"]["id"]
    shared(client, event_id, "full")
    headers = partner(client)

    # When its owner restricts it, or classifies it higher
    put = client.put(f"{API}/events/{event_id}/access", json={"version": 1, **change})
    assert put.status_code == 200, put.text

    # Then the share has ended (audited), and undoing the change does not bring it back:
    # the owner must decide to share again
    assert_problem(
        client.get(f"{API}/shared/events/{event_id}", headers=headers), 404, "RECORD_NOT_FOUND"
    )
    [share_row] = client.get(f"{API}/events/{event_id}/shares").json()
    assert share_row["revoked_at"] is not None
    [ended] = audit(client, "records:event:share-revoked")
    assert ended.recipients == [FIRE]
    undo = {"restricted": False} if "restricted" in change else {"classification": "OFFICIAL"}
    put = client.put(f"{API}/events/{event_id}/access", json={"version": 2, **undo})
    assert put.status_code == 200, put.text
    assert_problem(
        client.get(f"{API}/shared/events/{event_id}", headers=headers), 404, "RECORD_NOT_FOUND"
    )


def test_lowering_a_shared_events_classification_keeps_the_share(client) -> None:
    s = scene(client, classification="OFFICIAL-SENSITIVE")
    event_id = s["event"]["id"]
    shared(client, event_id, "location")
    headers = partner(client)

    put = client.put(
        f"{API}/events/{event_id}/access", json={"version": 1, "classification": "OFFICIAL"}
    )

    assert put.status_code == 200, put.text
    assert client.get(f"{API}/shared/events/{event_id}", headers=headers).status_code == 200


def _restrict(client: Any, path: str, record: dict[str, Any]) -> None:
    put = client.put(
        f"{API}/{path}/{record['id']}/access",
        json={"version": record["version"], "restricted": True},
    )
    assert put.status_code == 200, put.text


def test_a_restricted_person_linked_to_a_shared_event_is_not_shown(client) -> None:
    # Given a fully shared event with two people linked, one of them restricted
    s = scene(client)
    event_id = s["event"]["id"]
    hidden = stored(
        client, "persons", person_payload(names=[{"family_name": "Quill", "given_names": "Ada"}])
    )
    stored(client, "markers", marker_payload(hidden["id"], marker="FI", detail="informant"))
    stored(client, "links", link_payload("person", hidden["id"], "event", event_id))
    _restrict(client, "persons", hidden)
    shared(client, event_id, "full")

    # When the partner reads it, at every level
    headers = partner(client)
    body = client.get(f"{API}/shared/events/{event_id}", headers=headers)

    # Then the restricted person, their name and their warnings are nowhere
    assert body.status_code == 200, body.text
    assert [p["id"] for p in body.json()["persons"]] == [s["person"]["id"]]
    assert {h["source"]: h["detail"] for h in body.json()["hazards"]} == {
        "location": PLACE_WARNING,
        "person": PERSON_WARNING,
    }
    for secret in (hidden["id"], "Quill", "informant"):
        assert secret not in body.text
    shared(client, event_id, "location")
    low = client.get(f"{API}/shared/events/{event_id}", headers=headers).json()
    assert sorted(h["marker"] for h in low["hazards"]) == ["VI", "WE"]


def test_a_restricted_place_and_restricted_warnings_are_not_shown(client) -> None:
    # Given a shared event at a restricted place, with a restricted warning on its suspect
    s = scene(client)
    event_id = s["event"]["id"]
    place = client.get(f"{API}/locations/{s['place']['id']}").json()
    _restrict(client, "locations", place)
    covert = stored(
        client, "markers", marker_payload(s["person"]["id"], marker="FI", detail="covert source")
    )
    _restrict(client, "markers", covert)
    shared(client, event_id, "full")

    body = client.get(f"{API}/shared/events/{event_id}", headers=partner(client))

    assert body.status_code == 200, body.text
    assert "location" not in body.json()
    assert [(h["source"], h["marker"]) for h in body.json()["hazards"]] == [("person", "VI")]
    for secret in (place["id"], "Mansfield", "NG1 3FN", PLACE_WARNING, "covert source"):
        assert secret not in body.text


def test_people_and_warnings_above_the_partners_clearance_are_not_shown(client) -> None:
    s = scene(client)
    event_id = s["event"]["id"]
    secret_person = stored(
        client,
        "persons",
        person_payload(
            names=[{"family_name": "Vance", "given_names": "Lee"}],
            classification="OFFICIAL-SENSITIVE",
        ),
    )
    stored(client, "links", link_payload("person", secret_person["id"], "event", event_id))
    stored(
        client,
        "markers",
        marker_payload(
            s["person"]["id"], marker="FI", detail="sensitive", classification="OFFICIAL-SENSITIVE"
        ),
    )
    shared(client, event_id, "full")

    low = client.get(
        f"{API}/shared/events/{event_id}", headers=partner(client, clearance="OFFICIAL")
    )
    high = client.get(f"{API}/shared/events/{event_id}", headers=partner(client, "fire.officer"))

    assert low.status_code == high.status_code == 200
    assert [p["id"] for p in low.json()["persons"]] == [s["person"]["id"]]
    assert "Vance" not in low.text
    assert "sensitive" not in low.text
    assert {p["id"] for p in high.json()["persons"]} == {s["person"]["id"], secret_person["id"]}
    assert "sensitive" in {h["detail"] for h in high.json()["hazards"]}
