"""Create, read, update, list and soft-delete each of the seven kinds of POLE record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from bluelight.records.kinds import KINDS
from factories import (
    API,
    KIND_PATHS,
    device_id,
    event_payload,
    in_days,
    link_payload,
    location_payload,
    marker_payload,
    new_record,
    payload_for,
    person_payload,
    property_payload,
    stored,
    vehicle_payload,
)

BY_PATH = {kind.path: kind for kind in KINDS}


@dataclass(frozen=True)
class Change:
    """For one kind: a field to change (and its new value), one to leave, one to clear."""

    path: str
    field: str
    new_value: Any
    kept: str
    cleared: str


CHANGES = [
    Change("persons", "sex", "F", kept="names", cleared="height_cm"),
    Change("vehicles", "colour", "RED", kept="vrm", cleared="model"),
    Change("property", "description", "screen replaced", kept="category", cleared="serial_number"),
    Change("locations", "name", "The Old Bell", kept="postcode", cleared="town"),
    Change(
        "events", "narrative", "Victim now says two men.", kept="offence", cleared="occurred_to"
    ),
    Change("links", "notes", "seen at the scene", kept="link_type", cleared="valid_to"),
    Change("markers", "review_date", in_days(200), kept="marker", cleared="detail"),
]


def test_changes_cover_every_kind() -> None:
    # Given the kinds the API serves, then every one is exercised by the tests below.
    assert sorted(c.path for c in CHANGES) == sorted(KIND_PATHS) == sorted(BY_PATH)


def _url(path: str, record_id: str | None = None, suffix: str = "") -> str:
    return f"{API}/{path}" + (f"/{record_id}" if record_id else "") + suffix


def _list_ids(client: Any, path: str, **params: Any) -> list[str]:
    response = client.get(_url(path), params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.parametrize("path", KIND_PATHS)
def test_created_record_gets_a_server_id_and_can_be_read_back(client, path: str) -> None:
    # Given a valid payload without an id
    payload = payload_for(client, path)

    # When it is created
    response = client.post(_url(path), json=payload)

    # Then it is stored at version 1 with a server-made id, who made it and when
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["version"] == 1
    assert created["created_by"] == created["updated_by"] == "test.supervisor"
    assert created["owner_agency"] == "DEMO"
    assert created["deleted_at"] is None
    # And reading it by id gives back the same record
    read = client.get(_url(path, created["id"]))
    assert read.status_code == 200
    assert read.json() == created


@pytest.mark.parametrize("path", KIND_PATHS)
def test_record_created_with_a_device_made_id_keeps_that_id(client, path: str) -> None:
    # Given an id made on an officer's device while offline
    record_id = device_id()

    # When the record is created with it
    created = stored(client, path, payload_for(client, path, id=record_id))

    # Then the server keeps the device's id
    assert created["id"] == record_id
    assert client.get(_url(path, record_id)).json()["id"] == record_id


def test_created_record_holds_each_given_value_normalised(client) -> None:
    # Given a person, a vehicle, property and a location typed the way officers type them
    person = stored(
        client,
        "persons",
        person_payload(
            names=[{"family_name": "  Van  der Berg ", "given_names": "Anna   Marie"}],
            identifiers=[{"type": "passport", "value": "123456789"}],
        ),
    )
    vehicle = stored(client, "vehicles", vehicle_payload(vrm="ab12 cde", vin="wvwzzz1jzxw000001"))
    item = stored(client, "property", property_payload(serial_number="  r58n 123abc "))
    place = stored(client, "locations", location_payload(postcode="ng13fn"))

    # Then each is stored in its standard form
    assert person["names"][0]["family_name"] == "Van der Berg"
    assert person["names"][0]["given_names"] == "Anna Marie"
    assert person["names"][0]["type"] == "primary"
    assert vehicle["vrm"] == "AB12CDE"
    assert vehicle["vin"] == "WVWZZZ1JZXW000001"
    assert item["serial_number"] == "R58N 123ABC"
    assert place["postcode"] == "NG1 3FN"
    # And a place with a point carries the H3 cell "near" queries ring out from
    assert place["h3_cell"]


def test_name_filters_match_accented_names_in_any_case(client) -> None:
    # Given a person with an Irish name, accents and all
    person = stored(
        client,
        "persons",
        person_payload(names=[{"family_name": "Ó Súilleabháin", "given_names": "Éanna"}]),
    )
    stored(client, "persons", person_payload(names=[{"family_name": "Osullivan"}]))

    # When searched by the start of the name, in lower case, then it is found, and only it
    assert _list_ids(client, "persons", family_name="ó s") == [person["id"]]
    assert _list_ids(client, "persons", given_names="éa") == [person["id"]]


@pytest.mark.parametrize("path", KIND_PATHS)
def test_records_are_never_cached_by_browsers_or_proxies(client, path: str) -> None:
    # Personal data must not linger in a cache on a shared or lost device.
    record = new_record(client, path)
    for response in (
        client.get(_url(path, record["id"])),
        client.get(_url(path)),
        client.get(_url(path, record["id"], "/history")),
    ):
        assert "no-store" in response.headers["cache-control"]


def test_person_read_shows_their_warning_markers_and_addresses(client) -> None:
    # Given a person who lives at a place and carries a warning marker
    person = new_record(client, "persons")
    home = new_record(client, "locations")
    stored(client, "links", link_payload("person", person["id"], "location", home["id"]))
    marker = stored(client, "markers", marker_payload(person["id"], marker="FI"))

    # When the person is read
    read = client.get(_url("persons", person["id"])).json()

    # Then the officer sees the marker and the address beside the record
    assert [m["id"] for m in read["markers"]] == [marker["id"]]
    assert read["markers"][0]["marker"] == "FI"
    assert [a["location_id"] for a in read["addresses"]] == [home["id"]]
    assert "Mansfield Road" in read["addresses"][0]["summary"]


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c.path)
def test_update_bumps_the_version_and_keeps_fields_left_out(client, change: Change) -> None:
    # Given a stored record at version 1
    record = new_record(client, change.path)

    # When one field is changed, based on version 1
    response = client.patch(
        _url(change.path, record["id"]), json={"version": 1, change.field: change.new_value}
    )

    # Then the change is stored as version 2, by whom, and fields left out are as they were
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["version"] == 2
    assert updated[change.field] == change.new_value
    assert updated[change.kept] == record[change.kept]
    assert updated["created_at"] == record["created_at"]
    assert updated["updated_at"] >= record["updated_at"]
    assert client.get(_url(change.path, record["id"])).json() == updated


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c.path)
def test_update_with_null_clears_the_field(client, change: Change) -> None:
    # Given a stored record whose field holds a value
    record = new_record(client, change.path)
    assert record[change.cleared] is not None

    # When the field is sent as null
    response = client.patch(
        _url(change.path, record["id"]), json={"version": 1, change.cleared: None}
    )

    # Then the field is empty in a new version
    assert response.status_code == 200, response.text
    assert response.json()[change.cleared] is None
    assert response.json()["version"] == 2
    assert client.get(_url(change.path, record["id"])).json()[change.cleared] is None


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c.path)
def test_update_that_changes_nothing_keeps_the_version(client, change: Change) -> None:
    # Given a stored record
    record = new_record(client, change.path)

    # When a field is "changed" to the value it already holds
    response = client.patch(
        _url(change.path, record["id"]), json={"version": 1, change.kept: record[change.kept]}
    )

    # Then nothing is written: same version, and history holds only the creation
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 1
    assert response.json()["updated_at"] == record["updated_at"]
    history = client.get(_url(change.path, record["id"], "/history")).json()
    assert [h["action"] for h in history] == ["created"]


def test_registration_mark_typed_differently_is_not_a_change(client) -> None:
    # Given a vehicle stored as AB12CDE
    vehicle = stored(client, "vehicles", vehicle_payload(vrm="AB12 CDE"))

    # When it is "changed" to the same mark in lower case with a space
    response = client.patch(_url("vehicles", vehicle["id"]), json={"version": 1, "vrm": "ab12 cde"})

    # Then the version does not move
    assert response.status_code == 200
    assert response.json()["version"] == 1


def test_a_time_written_with_an_offset_is_answered_as_every_later_read_shows_it(client) -> None:
    # Given an event, and a time given with a +14:00 offset
    event = stored(client, "events", event_payload())
    local = (datetime.now(UTC) - timedelta(hours=4)).astimezone(timezone(timedelta(hours=14)))

    # When the event is created and changed with it
    created = client.post(f"{API}/events", json=event_payload(occurred_from=local.isoformat()))
    changed = client.patch(
        _url("events", event["id"]), json={"version": 1, "occurred_from": local.isoformat()}
    )

    # Then each answer shows the instant in UTC, exactly as reading the record back does
    for response in (created, changed):
        assert response.status_code in {200, 201}, response.text
        read_back = client.get(_url("events", response.json()["id"])).json()
        assert response.json() == read_back
        assert datetime.fromisoformat(read_back["occurred_from"]) == local
        assert read_back["occurred_from"].endswith("Z")


@pytest.mark.parametrize("path", KIND_PATHS)
def test_list_walks_every_page_without_gaps_or_repeats(client, path: str) -> None:
    # Given seven records of a kind, some with device-made ids
    made = {
        new_record(client, path, **({"id": device_id()} if i % 2 else {}))["id"] for i in range(7)
    }

    # When the list is walked three at a time
    seen: list[str] = []
    pages = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        response = client.get(_url(path), params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(len(page["items"]))
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 10, "the cursor never ended"

    # Then every record comes exactly once, in pages of at most three, and the last says so
    assert len(seen) == len(set(seen))
    assert set(seen) == made
    assert pages == [3, 3, 1]
    assert seen == sorted(seen)


def test_list_limit_bounds_the_page_and_defaults_to_fifty(client) -> None:
    # Given 52 persons
    for i in range(52):
        stored(client, "persons", person_payload(names=[{"family_name": f"Person{i}"}]))

    # When listed without a limit, then 50 come back with a cursor for the rest
    first = client.get(_url("persons")).json()
    assert len(first["items"]) == 50
    assert first["next_cursor"] is not None
    rest = client.get(_url("persons"), params={"cursor": first["next_cursor"]}).json()
    assert len(rest["items"]) == 2
    assert rest["next_cursor"] is None

    # When asked for exactly all of them, then one page without a further cursor
    everything = client.get(_url("persons"), params={"limit": 52}).json()
    assert len(everything["items"]) == 52
    assert everything["next_cursor"] is None

    # When asked for one, then one
    assert len(client.get(_url("persons"), params={"limit": 1}).json()["items"]) == 1


def test_empty_list_has_no_cursor(client) -> None:
    # Given no records, when listed, then an empty page that says there is no more
    assert client.get(_url("events")).json() == {"items": [], "next_cursor": None}


# --- filters -------------------------------------------------------------------------------

Cases = list[tuple[dict[str, str], list[dict[str, Any]]]]


def _person_filters(client: Any) -> Cases:
    siobhan = stored(
        client,
        "persons",
        person_payload(
            names=[{"family_name": "O'Brien", "given_names": "Siobhan Mary"}],
            date_of_birth="1990-01-02",
            sex="F",
        ),
    )
    ade = stored(
        client,
        "persons",
        person_payload(
            names=[{"family_name": "Obi", "given_names": "Ade"}],
            date_of_birth="1975-06-30",
            sex="M",
        ),
    )
    # A literal underscore or percent in a name filter matches only itself.
    odd = stored(client, "persons", person_payload(names=[{"family_name": "O_Neil%"}], sex="U"))
    return [
        ({"family_name": "o'b"}, [siobhan]),
        ({"family_name": "OB"}, [ade]),
        ({"family_name": "o"}, [siobhan, ade, odd]),
        ({"family_name": "O_"}, [odd]),
        ({"family_name": "O_NEIL%"}, [odd]),
        ({"given_names": "siobhan m"}, [siobhan]),
        ({"date_of_birth": "1990-01-02"}, [siobhan]),
        ({"sex": "M"}, [ade]),
        ({"family_name": "o", "sex": "F"}, [siobhan]),
        ({"family_name": "Smith"}, []),
    ]


def _vehicle_filters(client: Any) -> Cases:
    ford = stored(client, "vehicles", vehicle_payload(vrm="AB12 CDE", vin="WVWZZZ1JZXW000001"))
    audi = stored(
        client, "vehicles", vehicle_payload(vrm="XY99ZZZ", make="AUDI", colour="BLACK", vin=None)
    )
    return [
        ({"vrm": "ab12cde"}, [ford]),
        ({"vrm": "XY99 ZZZ"}, [audi]),
        ({"vin": "wvwzzz1jzxw000001"}, [ford]),
        ({"make": "AUDI"}, [audi]),
        ({"colour": "BLUE"}, [ford]),
    ]


def _property_filters(client: Any) -> Cases:
    phone = stored(client, "property", property_payload(serial_number="SN-1"))
    bike = stored(client, "property", property_payload(category="BICYCLE", serial_number="F123"))
    return [
        ({"category": "BICYCLE"}, [bike]),
        ({"serial_number": "sn-1"}, [phone]),
    ]


def _location_filters(client: Any) -> Cases:
    home = stored(client, "locations", location_payload())
    pub = stored(
        client,
        "locations",
        location_payload(
            name="The Bell Inn",
            location_type="licensed-premises",
            postcode="NG1 6HL",
            latitude=52.9530,
            longitude=-1.1496,
        ),
    )
    return [
        ({"postcode": "ng13fn"}, [home]),
        ({"postcode": "NG1 6HL"}, [pub]),
        ({"location_type": "licensed-premises"}, [pub]),
        ({"h3_cell": home["h3_cell"]}, [home]),
    ]


def _event_filters(client: Any) -> Cases:
    place = new_record(client, "locations")
    assault = stored(
        client,
        "events",
        event_payload(
            occurred_from="2026-01-10T22:00:00+00:00",
            occurred_to="2026-01-10T22:30:00+00:00",
            reported_at="2026-01-10T23:00:00+00:00",
            location_id=place["id"],
            reference="CR/1/26",
        ),
    )
    incident = stored(
        client,
        "events",
        event_payload(
            kind="incident",
            incident_type="ASB-NUISANCE",
            offence=None,
            occurred_from="2026-03-01T12:00:00+01:00",
            occurred_to=None,
            reported_at=None,
            reference="INC/2/26",
        ),
    )
    return [
        ({"kind": "incident"}, [incident]),
        ({"incident_type": "CRIME"}, [assault]),
        ({"offence": "5D-01"}, [assault]),
        ({"reference": "INC/2/26"}, [incident]),
        ({"location_id": place["id"]}, [assault]),
        ({"occurred_after": "2026-02-01T00:00:00+00:00"}, [incident]),
        ({"occurred_before": "2026-02-01T00:00:00Z"}, [assault]),
        ({"occurred_after": "2026-01-10T22:00:00+00:00"}, [assault, incident]),
        (
            {
                "occurred_after": "2026-01-01T00:00:00+00:00",
                "occurred_before": "2026-03-01T11:00:00+00:00",
            },
            [assault, incident],
        ),
    ]


def _link_filters(client: Any) -> Cases:
    person = new_record(client, "persons")
    event = new_record(client, "events")
    vehicle = new_record(client, "vehicles")
    suspect = stored(client, "links", link_payload("person", person["id"], "event", event["id"]))
    keeper = stored(client, "links", link_payload("person", person["id"], "vehicle", vehicle["id"]))
    return [
        ({"from_id": person["id"]}, [suspect, keeper]),
        ({"to_id": vehicle["id"]}, [keeper]),
        ({"link_type": "involved-in"}, [suspect]),
        ({"role": "suspect"}, [suspect]),
    ]


def _marker_filters(client: Any) -> Cases:
    person = new_record(client, "persons")
    place = new_record(client, "locations")
    violent = stored(client, "markers", marker_payload(person["id"], review_date=in_days(30)))
    dog = stored(client, "markers", marker_payload(place["id"], "location", marker="DD"))
    return [
        ({"subject_id": place["id"]}, [dog]),
        ({"marker": "VI"}, [violent]),
        ({"review_before": in_days(60)}, [violent]),
        ({"review_before": in_days(30)}, [violent]),
        ({"review_before": in_days(29)}, []),
    ]


FILTER_CASES = {
    "persons": _person_filters,
    "vehicles": _vehicle_filters,
    "property": _property_filters,
    "locations": _location_filters,
    "events": _event_filters,
    "links": _link_filters,
    "markers": _marker_filters,
}


@pytest.mark.parametrize("path", KIND_PATHS)
def test_each_filter_of_a_kind_selects_the_matching_records(client, path: str) -> None:
    # Given records that differ in each filtered field
    cases = FILTER_CASES[path](client)

    # Then every filter the kind offers is exercised here
    assert {name for params, _ in cases for name in params} == set(BY_PATH[path].filters)
    # And each query returns exactly the records that match
    for params, expected in cases:
        got = _list_ids(client, path, **params)
        assert sorted(got) == sorted(r["id"] for r in expected), params


# --- soft deletion and history -------------------------------------------------------------


def _delete(client: Any, path: str, record_id: str, version: int, reason: str) -> Any:
    return client.request(
        "DELETE", _url(path, record_id), json={"version": version, "reason": reason}
    )


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c.path)
def test_deleted_record_leaves_reads_and_lists_but_keeps_its_history(
    client, change: Change
) -> None:
    # Given a record created, then changed
    record = new_record(client, change.path)
    client.patch(
        _url(change.path, record["id"]), json={"version": 1, change.field: change.new_value}
    )
    others = set(_list_ids(client, change.path)) - {record["id"]}

    # When it is deleted with a reason
    response = _delete(client, change.path, record["id"], 2, "entered against the wrong person")

    # Then the deletion is a new version that says who, when and why
    assert response.status_code == 200, response.text
    deleted = response.json()
    assert deleted["version"] == 3
    assert deleted["deleted_at"] is not None
    assert deleted["deleted_by"] == "test.supervisor"
    assert deleted["deletion_reason"] == "entered against the wrong person"

    # And reading it says it is gone, when and why
    gone = client.get(_url(change.path, record["id"]))
    assert gone.status_code == 410
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert gone.json()["code"] == "RECORD_DELETED"
    assert gone.json()["reason"] == "entered against the wrong person"

    # And it leaves the list, but comes back when deleted records are asked for
    assert record["id"] not in _list_ids(client, change.path)
    assert set(_list_ids(client, change.path)) == others
    assert record["id"] in _list_ids(client, change.path, include_deleted="true")

    # And its history holds every version with the record as it stood, and the reason
    history = client.get(_url(change.path, record["id"], "/history"))
    assert history.status_code == 200
    entries = history.json()
    assert [(h["action"], h["version"]) for h in entries] == [
        ("created", 1),
        ("updated", 2),
        ("deleted", 3),
    ]
    assert entries[0]["snapshot"][change.field] == record[change.field]
    assert entries[1]["snapshot"][change.field] == change.new_value
    assert entries[2]["snapshot"]["deletion_reason"] == "entered against the wrong person"
    assert entries[2]["reason"] == "entered against the wrong person"
    assert entries[0]["reason"] is None
    assert all(h["changed_by"] == "test.supervisor" for h in entries)
    assert [h["seq"] for h in entries] == sorted(h["seq"] for h in entries)


def test_deleted_record_cannot_be_changed_or_deleted_again(client) -> None:
    # Given a deleted vehicle
    vehicle = new_record(client, "vehicles")
    assert _delete(client, "vehicles", vehicle["id"], 1, "duplicate record").status_code == 200

    # When it is changed or deleted again, then both are refused as gone
    change = client.patch(_url("vehicles", vehicle["id"]), json={"version": 2, "colour": "RED"})
    again = _delete(client, "vehicles", vehicle["id"], 2, "duplicate record")
    assert (change.status_code, change.json()["code"]) == (410, "RECORD_DELETED")
    assert (again.status_code, again.json()["code"]) == (410, "RECORD_DELETED")
    # And the history is unchanged
    history = client.get(_url("vehicles", vehicle["id"], "/history")).json()
    assert [h["action"] for h in history] == ["created", "deleted"]


def test_deleting_needs_a_reason(client) -> None:
    # Given a person
    person = new_record(client, "persons")

    # When deleted without a reason, or with one too short to mean anything
    missing = client.request("DELETE", _url("persons", person["id"]), json={"version": 1})
    short = _delete(client, "persons", person["id"], 1, "x")

    # Then both are refused and the person is still there
    assert (missing.status_code, missing.json()["code"]) == (400, "MISSING_FIELD")
    assert (short.status_code, short.json()["code"]) == (400, "LENGTH_OUT_OF_RANGE")
    assert client.get(_url("persons", person["id"])).json()["version"] == 1


def test_deleted_marker_leaves_the_persons_record(client) -> None:
    # Given a person with a marker
    person = new_record(client, "persons")
    marker = stored(client, "markers", marker_payload(person["id"]))

    # When the marker is deleted
    assert (
        _delete(client, "markers", marker["id"], 1, "reviewed: no longer applies").status_code
        == 200
    )

    # Then the person's record no longer shows it
    assert client.get(_url("persons", person["id"])).json()["markers"] == []


@pytest.mark.parametrize("path", KIND_PATHS)
def test_unknown_record_is_not_found(client, path: str) -> None:
    # Given an id nothing has
    missing = device_id()

    # When it is read, changed, deleted or its history asked for
    responses = [
        client.get(_url(path, missing)),
        client.patch(_url(path, missing), json={"version": 1}),
        _delete(client, path, missing, 1, "no such thing"),
        client.get(_url(path, missing, "/history")),
    ]

    # Then each says 404 RECORD_NOT_FOUND
    assert [(r.status_code, r.json()["code"]) for r in responses] == [(404, "RECORD_NOT_FOUND")] * 4


def test_a_link_to_a_since_deleted_record_can_still_have_its_notes_corrected(
    client: Any,
) -> None:
    # Given a person linked to a location, and the location deleted since
    person = client.post("/api/v1/persons", json={"names": [{"family_name": "Hale"}]}).json()
    place = client.post("/api/v1/locations", json={"name": "Old Mill"}).json()
    link = client.post(
        "/api/v1/links",
        json={
            "link_type": "frequents",
            "from_type": "person",
            "from_id": person["id"],
            "to_type": "location",
            "to_id": place["id"],
        },
    ).json()
    client.request(
        "DELETE",
        f"/api/v1/locations/{place['id']}",
        json={"version": 1, "reason": "duplicate of another record"},
    )

    # When the link's notes are corrected
    fixed = client.patch(f"/api/v1/links/{link['id']}", json={"version": 1, "notes": "seen weekly"})
    # and someone tries to point a link at the deleted location
    moved = client.patch(f"/api/v1/links/{link['id']}", json={"version": 2, "to_id": place["id"]})

    # Then the correction is kept, and the new reference to a deleted record is refused
    assert fixed.status_code == 200
    assert fixed.json()["notes"] == "seen weekly"
    assert moved.status_code == 422
    assert moved.json()["code"] == "REFERENCE_NOT_FOUND"
