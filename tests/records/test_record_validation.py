"""Bad input to the records API: each kind of mistake gets a clear 4xx with a stable code,
as application/problem+json, and nothing at all is written."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from bluelight.app import create_app
from bluelight.kernel.paging import MAX_PAGE_SIZE, encode_cursor
from bluelight.records.kinds import KINDS
from bluelight.vocab import code_lists
from factories import (
    A_CHANGE,
    API,
    KIND_PATHS,
    assert_problem,
    auth_headers,
    device_id,
    event_payload,
    link_payload,
    location_payload,
    marker_payload,
    new_record,
    payload_for,
    person_payload,
    row_counts,
    stored,
    today,
)

BY_PATH = {kind.path: kind for kind in KINDS}


class Refusals:
    """Requests that must be refused: each checks the problem+json answer, and that nothing at
    all was written."""

    def __init__(self, client: Any, db: Any) -> None:
        self.client = client
        self.db = db

    def request(self, method: str, url: str, status: int, code: str, **kwargs: Any) -> Any:
        before = row_counts(self.db)
        response = self.client.request(method, url, **kwargs)
        body = assert_problem(response, status, code)
        assert row_counts(self.db) == before, "a refused request changed the database"
        return body

    def create(self, path: str, payload: Any, status: int, code: str) -> Any:
        return self.request("POST", f"{API}/{path}", status, code, json=payload)

    def change(self, path: str, record: dict[str, Any], patch: Any, status: int, code: str) -> Any:
        url = f"{API}/{path}/{record['id']}"
        body = self.request("PATCH", url, status, code, json=patch)
        assert self.client.get(url).json() == record, "a refused change altered the record"
        return body


@pytest.fixture
def refuse(client: Any, db: Any) -> Refusals:
    return Refusals(client, db)


def field_errors(body: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in body["errors"]}


# --- the shape of the request --------------------------------------------------------------


@pytest.mark.parametrize("path", KIND_PATHS)
def test_unknown_field_is_refused(client, refuse, path: str) -> None:
    # Given a valid payload with one field the API does not know
    payload = payload_for(client, path, nickname="Chalky")

    # When it is sent, then UNKNOWN_FIELD names the field and nothing is stored
    body = refuse.create(path, payload, 400, "UNKNOWN_FIELD")
    assert body["field"] == "nickname"


def test_unknown_field_inside_a_list_item_is_named_by_its_path(client, refuse) -> None:
    payload = person_payload(names=[{"family_name": "Okafor", "nickname": "Chalky"}])
    body = refuse.create("persons", payload, 400, "UNKNOWN_FIELD")
    assert body["field"] == "names[0].nickname"


def test_unknown_field_in_a_change_is_refused_and_the_record_is_unchanged(client, refuse) -> None:
    person = new_record(client, "persons")
    body = refuse.change(
        "persons",
        person,
        {"version": 1, "sex": "F", "shoe_size": 9},
        400,
        "UNKNOWN_FIELD",
    )
    assert body["field"] == "shoe_size"


@pytest.mark.parametrize(
    "raw",
    [b'{"names": [{"family_name": "Okafor"}]', b"{names: []}", b"not json", b'{"names": [}'],
    ids=["truncated", "unquoted-key", "not-json", "broken-list"],
)
def test_malformed_json_is_refused(client, refuse, raw: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    refuse.request("POST", f"{API}/persons", 400, "MALFORMED_JSON", content=raw, headers=headers)


def test_malformed_json_in_a_change_is_refused(client, refuse) -> None:
    vehicle = new_record(client, "vehicles")
    refuse.request(
        "PATCH",
        f"{API}/vehicles/{vehicle['id']}",
        400,
        "MALFORMED_JSON",
        content=b'{"version": 1, "colour": "RED"',
        headers={"Content-Type": "application/json"},
    )
    assert client.get(f"{API}/vehicles/{vehicle['id']}").json() == vehicle


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("persons", "names", "Okafor"),
        ("persons", "height_cm", "tall"),
        ("persons", "date_of_birth", 19880412),
        ("vehicles", "year_of_manufacture", [2015]),
        ("locations", "latitude", "north"),
        ("events", "qualifiers", "ALCOHOL"),
        ("events", "kind", 1),
    ],
)
def test_wrong_type_is_refused(client, refuse, path: str, field: str, value: Any) -> None:
    body = refuse.create(path, payload_for(client, path, **{field: value}), 400, "WRONG_TYPE")
    assert body["field"] == field


@pytest.mark.parametrize(
    ("path", "field"), [("persons", "names"), ("events", "occurred_from"), ("property", "category")]
)
def test_required_field_cannot_be_cleared_with_null(client, refuse, path: str, field: str) -> None:
    record = new_record(client, path)
    body = refuse.change(path, record, {"version": 1, field: None}, 400, "WRONG_TYPE")
    assert body["field"] == field


def test_body_that_is_not_an_object_is_refused(client, refuse) -> None:
    refuse.create("persons", [person_payload()], 400, "WRONG_TYPE")


def _required_fields() -> list[tuple[str, str]]:
    return [
        (kind.path, f.name)
        for kind in KINDS
        for f in msgspec.structs.fields(kind.fields)
        if f.required
    ]


@pytest.mark.parametrize(("path", "field"), _required_fields())
def test_missing_required_field_is_refused(client, refuse, path: str, field: str) -> None:
    # Given a valid payload without one of the kind's required fields
    payload = payload_for(client, path)
    del payload[field]

    # Then MISSING_FIELD names it and nothing is stored
    body = refuse.create(path, payload, 400, "MISSING_FIELD")
    assert body["field"] == field


def test_change_without_the_version_it_is_based_on_is_refused(client, refuse) -> None:
    person = new_record(client, "persons")
    body = refuse.change("persons", person, {"sex": "F"}, 400, "MISSING_FIELD")
    assert body["field"] == "version"


@pytest.mark.parametrize(
    ("path", "overrides", "field"),
    [
        ("persons", {"names": [{"family_name": "x" * 101}]}, "names[0].family_name"),
        ("persons", {"names": [{"family_name": "Okafor"}] * 21}, "names"),
        ("persons", {"names": []}, "names"),
        ("persons", {"marks": [{"type": "SCAR"}] * 51}, "marks"),
        ("vehicles", {"description": "x" * 2001}, "description"),
        ("vehicles", {"vin": "SHORT"}, "vin"),
        ("events", {"narrative": "x" * 20_001}, "narrative"),
        ("events", {"qualifiers": ["ALCOHOL"] * 21}, "qualifiers"),
        ("events", {"reference": ""}, "reference"),
        ("locations", {"postcode": "N" * 11}, "postcode"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_string_or_list_out_of_length_is_refused(
    client, refuse, path: str, overrides: dict[str, Any], field: str
) -> None:
    body = refuse.create(path, payload_for(client, path, **overrides), 400, "LENGTH_OUT_OF_RANGE")
    assert body["field"] == field


@pytest.mark.parametrize(
    ("path", "overrides", "field"),
    [
        ("persons", {"height_cm": 10}, "height_cm"),
        ("persons", {"age_min": -1}, "age_min"),
        ("vehicles", {"year_of_manufacture": 1800}, "year_of_manufacture"),
    ],
)
def test_number_out_of_range_is_refused(
    client, refuse, path: str, overrides: dict[str, Any], field: str
) -> None:
    body = refuse.create(path, payload_for(client, path, **overrides), 400, "VALUE_OUT_OF_RANGE")
    assert body["field"] == field


def test_code_with_characters_no_code_has_is_refused(client, refuse) -> None:
    body = refuse.create("persons", person_payload(sex="M; DROP"), 400, "INVALID_FORMAT")
    assert body["field"] == "sex"


# --- code lists ----------------------------------------------------------------------------

LIST_ITEMS = {
    "names": {"family_name": "Okafor"},
    "marks": {"type": "SCAR"},
    "identifiers": {"type": "passport", "value": "123456789"},
}


def _coded_fields() -> list[tuple[str, str, str, str | None, bool]]:
    return [(kind.path, c.field, c.list_name, c.sub, c.many) for kind in KINDS for c in kind.coded]


def _with_code(
    payload: dict[str, Any], field: str, sub: str | None, many: bool, value: str
) -> tuple[dict[str, Any], str]:
    """The payload with ``value`` in the coded field, and the path the API names it by."""
    if sub is not None:
        payload[field] = [{**LIST_ITEMS[field], sub: value}]
        return payload, f"{field}[0].{sub}"
    if many:
        payload[field] = [value]
        return payload, f"{field}[0]"
    payload[field] = value
    return payload, field


@pytest.mark.parametrize(
    ("path", "field", "list_name", "sub", "many"),
    _coded_fields(),
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_unknown_code_is_refused_naming_field_value_and_list(
    client, refuse, *, path: str, field: str, list_name: str, sub: str | None, many: bool
) -> None:
    # Given a payload holding a code that is on no list, in one coded field
    payload, at = _with_code(payload_for(client, path), field, sub, many, "NOT-A-CODE")

    # Then 422 UNKNOWN_CODE names the field, the value and where the allowed values are
    body = refuse.create(path, payload, 422, "UNKNOWN_CODE")
    assert body["field"] == at
    assert body["value"] == "NOT-A-CODE"
    assert body["allowed"] == f"/api/v1/vocab/{list_name}"
    assert client.get(body["allowed"]).status_code == 200


def _retired_codes() -> list[tuple[str, str, str, str | None, bool, str]]:
    out = []
    for path, field, list_name, sub, many in _coded_fields():
        retired = [e.code for e in code_lists()[list_name].entries if not e.active]
        if retired:
            out.append((path, field, list_name, sub, many, retired[0]))
    return out


def test_most_coded_fields_have_a_retired_code_to_test_with() -> None:
    # The retired-code test below runs for every coded field whose list has a retired entry.
    assert len(_retired_codes()) >= len(_coded_fields()) - 2


@pytest.mark.parametrize(
    ("path", "field", "list_name", "sub", "many", "code"),
    _retired_codes(),
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_retired_code_is_refused(
    client,
    refuse,
    *,
    path: str,
    field: str,
    list_name: str,
    sub: str | None,
    many: bool,
    code: str,
) -> None:
    # Given a payload holding a code its list has retired
    payload, at = _with_code(payload_for(client, path), field, sub, many, code)

    # Then 422 RETIRED_CODE names the field, the value and the list
    body = refuse.create(path, payload, 422, "RETIRED_CODE")
    assert (body["field"], body["value"]) == (at, code)
    assert body["allowed"] == f"/api/v1/vocab/{list_name}"


def test_changing_a_field_to_an_unknown_code_is_refused_and_the_record_kept(client, refuse) -> None:
    vehicle = new_record(client, "vehicles")
    body = refuse.change(
        "vehicles", vehicle, {"version": 1, "colour": "TARTAN"}, 422, "UNKNOWN_CODE"
    )
    assert body["allowed"] == "/api/v1/vocab/vehicle-colour"


# --- dates ---------------------------------------------------------------------------------


def test_person_born_in_the_future_is_refused(client, refuse) -> None:
    tomorrow = (today() + timedelta(days=1)).isoformat()
    body = refuse.create("persons", person_payload(date_of_birth=tomorrow), 422, "FUTURE_DATE")
    assert (body["field"], body["value"]) == ("date_of_birth", tomorrow)


def test_person_born_today_is_accepted(client) -> None:
    stored(client, "persons", person_payload(date_of_birth=today().isoformat()))


def test_person_born_over_130_years_ago_is_refused(client, refuse) -> None:
    body = refuse.create(
        "persons", person_payload(date_of_birth="1850-01-01"), 422, "INVALID_RANGE"
    )
    assert body["field"] == "date_of_birth"


def test_age_range_upside_down_is_refused(client, refuse) -> None:
    body = refuse.create("persons", person_payload(age_min=40, age_max=30), 422, "INVALID_RANGE")
    assert body["field"] == "age_max"


def test_event_in_the_future_is_refused(client, refuse) -> None:
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    payload = event_payload(occurred_from=later, occurred_to=None, reported_at=None)
    body = refuse.create("events", payload, 422, "FUTURE_DATE")
    assert body["field"] == "occurred_from"


def test_changing_a_date_of_birth_into_the_future_is_refused(client, refuse) -> None:
    person = new_record(client, "persons")
    refuse.change(
        "persons",
        person,
        {"version": 1, "date_of_birth": "2999-01-01"},
        422,
        "FUTURE_DATE",
    )


def _years_ahead(years: int) -> str:
    return (datetime.now(UTC) + timedelta(days=366 * years)).isoformat()


def _days_ahead(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


# Every date and time a record takes, with values no record can hold: before 1900 (a date of
# birth: over 130 years ago), in the future where it cannot be, or absurdly far ahead.
IMPLAUSIBLE_DATES = {
    "event-in-year-one": ("events", "occurred_from", "0001-01-01T00:00:00Z", "INVALID_RANGE"),
    "event-before-1900": ("events", "occurred_from", "1899-12-31T23:59:59Z", "INVALID_RANGE"),
    "event-before-1900-in-utc": (
        "events", "occurred_from", "1900-01-01T00:30:00+01:00", "INVALID_RANGE"
    ),
    "event-in-future": ("events", "occurred_from", _days_ahead(2), "FUTURE_DATE"),
    "event-ends-before-1900": ("events", "occurred_to", "1899-06-01T12:00:00Z", "INVALID_RANGE"),
    "event-ends-in-future": ("events", "occurred_to", _days_ahead(2), "FUTURE_DATE"),
    "reported-in-year-one": ("events", "reported_at", "0001-01-01T00:00:00Z", "INVALID_RANGE"),
    "reported-in-future": ("events", "reported_at", _days_ahead(2), "FUTURE_DATE"),
    "born-in-year-one": ("persons", "date_of_birth", "0001-01-01", "INVALID_RANGE"),
    "born-over-130-years-ago": (
        "persons", "date_of_birth", (today() - timedelta(days=366 * 130 + 2)).isoformat(),
        "INVALID_RANGE",
    ),
    "born-tomorrow": (
        "persons", "date_of_birth", (today() + timedelta(days=1)).isoformat(), "FUTURE_DATE"
    ),
    "link-from-year-one": ("links", "valid_from", "0001-01-01T00:00:00Z", "INVALID_RANGE"),
    "link-from-before-1900": ("links", "valid_from", "1899-12-31T23:59:59Z", "INVALID_RANGE"),
    "link-from-11-years-ahead": ("links", "valid_from", _years_ahead(11), "INVALID_RANGE"),
    "link-to-before-1900": ("links", "valid_to", "1899-12-31T23:59:59Z", "INVALID_RANGE"),
    "link-to-11-years-ahead": ("links", "valid_to", _years_ahead(11), "INVALID_RANGE"),
    "link-to-year-9999": ("links", "valid_to", "9999-12-31T00:00:00Z", "INVALID_RANGE"),
    "review-in-year-one": ("markers", "review_date", "0001-01-01", "INVALID_RANGE"),
    "review-yesterday": (
        "markers", "review_date", (today() - timedelta(days=1)).isoformat(), "INVALID_RANGE"
    ),
    "review-11-years-ahead": (
        "markers", "review_date", (today() + timedelta(days=366 * 11)).isoformat(),
        "INVALID_RANGE",
    ),
    "made-the-year-after-next": (
        "vehicles", "year_of_manufacture", today().year + 2, "FUTURE_DATE"
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("path", "field", "value", "code"),
    list(IMPLAUSIBLE_DATES.values()),
    ids=list(IMPLAUSIBLE_DATES),
)
def test_date_no_record_can_hold_is_refused(
    client, refuse, *, path: str, field: str, value: Any, code: str
) -> None:
    body = refuse.create(path, payload_for(client, path, **{field: value}), 422, code)
    assert (field, code) in field_errors(body)


PLAUSIBLE_DATES = [
    ("events", {"occurred_from": "1900-01-01T00:00:00Z", "occurred_to": None,
                "reported_at": None}),
    ("events", {"occurred_from": "1900-01-01T01:00:00+01:00", "occurred_to": None,
                "reported_at": "1900-01-02T00:00:00Z"}),
    ("persons", {"date_of_birth": (today() - timedelta(days=365 * 129)).isoformat()}),
    ("links", {"valid_from": "1900-01-01T00:00:00Z", "valid_to": _years_ahead(9)}),
    ("markers", {"review_date": (today() + timedelta(days=365 * 9)).isoformat()}),
]  # fmt: skip


@pytest.mark.parametrize(("path", "overrides"), PLAUSIBLE_DATES)
def test_dates_at_the_edges_of_the_window_are_accepted(
    client, path: str, overrides: dict[str, Any]
) -> None:
    stored(client, path, payload_for(client, path, **overrides))


def test_changing_an_event_to_the_year_one_is_refused(client, refuse) -> None:
    event = new_record(client, "events")
    body = refuse.change(
        "events", event, {"version": 1, "occurred_from": "0001-01-01T00:00:00Z"}, 422,
        "INVALID_RANGE",
    )  # fmt: skip
    assert body["field"] == "occurred_from"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            {
                "occurred_from": "2026-01-10T22:00:00+00:00",
                "occurred_to": "2026-01-10T21:59:00+00:00",
            },
            "occurred_to",
        ),
        (
            # 22:30 in Paris is 21:30 UTC: before a start of 22:00 UTC.
            {"occurred_from": "2026-01-10T22:00:00Z", "occurred_to": "2026-01-10T22:30:00+01:00"},
            "occurred_to",
        ),
        (
            {
                "occurred_from": "2026-01-10T22:00:00+00:00",
                "occurred_to": None,
                "reported_at": "2026-01-09T08:00:00+00:00",
            },
            "reported_at",
        ),
    ],
    ids=["ends-before-start", "ends-before-start-across-zones", "reported-before-it-happened"],
)
def test_event_ending_before_it_starts_is_refused(
    client, refuse, overrides: dict[str, Any], field: str
) -> None:
    body = refuse.create("events", event_payload(**overrides), 422, "END_BEFORE_START")
    assert body["field"] == field


def test_link_ending_before_it_starts_is_refused(client, refuse) -> None:
    payload = payload_for(
        client, "links", valid_from="2025-06-01T00:00:00Z", valid_to="2025-05-01T00:00:00Z"
    )
    body = refuse.create("links", payload, 422, "END_BEFORE_START")
    assert body["field"] == "valid_to"


def test_changing_an_event_so_it_ends_before_it_starts_is_refused(client, refuse) -> None:
    event = new_record(client, "events")
    before_start = (
        datetime.fromisoformat(event["occurred_from"]) - timedelta(minutes=1)
    ).isoformat()
    refuse.change(
        "events",
        event,
        {"version": 1, "occurred_to": before_start},
        422,
        "END_BEFORE_START",
    )


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("events", "occurred_from"),
        ("events", "reported_at"),
        ("links", "valid_from"),
    ],
)
def test_datetime_without_a_timezone_is_refused(client, refuse, path: str, field: str) -> None:
    payload = payload_for(client, path, **{field: "2026-01-10T22:00:00"})
    body = refuse.create(path, payload, 400, "INVALID_FORMAT")
    assert body["field"] == field


def test_impossible_date_is_refused(client, refuse) -> None:
    body = refuse.create(
        "persons", person_payload(date_of_birth="1990-02-30"), 400, "INVALID_FORMAT"
    )
    assert body["field"] == "date_of_birth"


# --- places --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"latitude": 90.5}, "latitude"),
        ({"latitude": -91}, "latitude"),
        ({"longitude": 180.01}, "longitude"),
        ({"longitude": -400}, "longitude"),
    ],
)
def test_coordinates_out_of_range_are_refused(
    client, refuse, overrides: dict[str, Any], field: str
) -> None:
    body = refuse.create(
        "locations", location_payload(**overrides), 422, "COORDINATES_OUT_OF_RANGE"
    )
    assert body["field"] == field


@pytest.mark.parametrize("missing", ["latitude", "longitude"])
def test_one_coordinate_without_the_other_is_refused(client, refuse, missing: str) -> None:
    body = refuse.create(
        "locations", location_payload(**{missing: None}), 422, "INCOMPLETE_COORDINATES"
    )
    assert body["field"] == missing


def test_coordinates_at_the_limits_are_accepted(client) -> None:
    stored(client, "locations", location_payload(latitude=-90, longitude=180))


def test_location_with_nothing_to_find_it_by_is_refused(client, refuse) -> None:
    refuse.create("locations", {"town": "Nottingham"}, 422, "EMPTY_LOCATION")


def test_postcode_that_is_not_a_uk_postcode_is_refused(client, refuse) -> None:
    body = refuse.create("locations", location_payload(postcode="90210"), 422, "INVALID_FORMAT")
    assert body["field"] == "postcode"


# --- other rules of a kind -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "overrides", "field", "code"),
    [
        ("vehicles", {"vrm": "AB-12-CDE"}, "vrm", "INVALID_FORMAT"),
        ("vehicles", {"vin": "WVWZZZ1JZXW00000O"}, "vin", "INVALID_FORMAT"),
        (
            "persons",
            {"identifiers": [{"type": "passport", "value": "no spaces allowed"}]},
            "identifiers[0].value",
            "INVALID_FORMAT",
        ),
        (
            "persons",
            {"identifiers": [{"type": "passport", "value": "123456789"}] * 2},
            "identifiers[1]",
            "DUPLICATE_VALUE",
        ),
        ("persons", {"names": [{"family_name": "   "}]}, "names[0].family_name", "INVALID_FORMAT"),
        ("events", {"kind": "crime", "offence": None}, "offence", "OFFENCE_REQUIRED"),
        ("events", {"qualifiers": ["ALCOHOL", "ALCOHOL"]}, "qualifiers", "DUPLICATE_VALUE"),
        ("markers", {"review_date": "2020-01-01"}, "review_date", "INVALID_RANGE"),
        ("markers", {"review_date": "2099-01-01"}, "review_date", "INVALID_RANGE"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_rule_of_a_kind_is_enforced(
    client, refuse, *, path: str, overrides: dict[str, Any], field: str, code: str
) -> None:
    body = refuse.create(path, payload_for(client, path, **overrides), 422, code)
    assert body["field"] == field


def test_link_between_the_wrong_kinds_of_record_is_refused(client, refuse) -> None:
    # Given a person and a vehicle, and a link type that runs from a person to an event
    person = new_record(client, "persons")
    vehicle = new_record(client, "vehicles")
    payload = link_payload("person", person["id"], "vehicle", vehicle["id"], link_type="resides-at")

    body = refuse.create("links", payload, 422, "LINK_ENDPOINT_MISMATCH")
    assert body["field"] == "link_type"


def test_involved_in_link_without_a_role_is_refused(client, refuse) -> None:
    body = refuse.create("links", payload_for(client, "links", role=None), 422, "ROLE_REQUIRED")
    assert body["field"] == "role"


def test_role_on_a_link_that_carries_none_is_refused(client, refuse) -> None:
    person = new_record(client, "persons")
    vehicle = new_record(client, "vehicles")
    payload = link_payload("person", person["id"], "vehicle", vehicle["id"], role="suspect")
    refuse.create("links", payload, 422, "ROLE_NOT_ALLOWED")


def test_record_linked_to_itself_is_refused(client, refuse) -> None:
    person = new_record(client, "persons")
    payload = link_payload("person", person["id"], "person", person["id"])
    refuse.create("links", payload, 422, "SELF_LINK")


def test_marker_that_does_not_apply_to_the_subject_is_refused(client, refuse) -> None:
    # Given a person, and the dangerous-dog marker, which is for places
    person = new_record(client, "persons")
    payload = marker_payload(person["id"], marker="DD")

    body = refuse.create("markers", payload, 422, "MARKER_NOT_APPLICABLE")
    assert (body["field"], body["value"]) == ("marker", "DD")


def test_person_only_marker_on_a_place_is_refused(client, refuse) -> None:
    place = new_record(client, "locations")
    refuse.create(
        "markers",
        marker_payload(place["id"], "location", marker="MH"),
        422,
        "MARKER_NOT_APPLICABLE",
    )


@pytest.mark.parametrize(
    ("path", "make_payload", "field"),
    [
        ("events", lambda _client: event_payload(location_id=device_id()), "location_id"),
        (
            "links",
            lambda c: link_payload("person", device_id(), "event", new_record(c, "events")["id"]),
            "from_id",
        ),
        (
            "links",
            lambda c: link_payload("person", new_record(c, "persons")["id"], "event", device_id()),
            "to_id",
        ),
        ("markers", lambda _client: marker_payload(device_id()), "subject_id"),
        # The record exists, but as another kind than the link says.
        (
            "links",
            lambda c: link_payload(
                "person",
                new_record(c, "vehicles")["id"],
                "vehicle",
                new_record(c, "vehicles")["id"],
            ),
            "from_id",
        ),
    ],
    ids=["event-location", "link-from", "link-to", "marker-subject", "link-wrong-kind"],
)
def test_reference_to_a_record_that_does_not_exist_is_refused(
    client, refuse, path: str, make_payload: Any, field: str
) -> None:
    payload = make_payload(client)
    body = refuse.create(path, payload, 422, "REFERENCE_NOT_FOUND")
    assert body["field"] == field


def test_reference_to_a_deleted_record_is_refused(client, refuse) -> None:
    # Given a place that has been deleted
    place = new_record(client, "locations")
    client.request(
        "DELETE", f"{API}/locations/{place['id']}", json={"version": 1, "reason": "duplicate"}
    )

    # When an event is placed there, or a marker put on it, then both are refused
    refuse.create("events", event_payload(location_id=place["id"]), 422, "REFERENCE_NOT_FOUND")
    refuse.create("markers", marker_payload(place["id"], "location"), 422, "REFERENCE_NOT_FOUND")


def test_every_problem_in_a_request_is_reported_together(client, refuse) -> None:
    # Given a person with an unknown code, a retired code, a future birth date and an upside-down
    # age range
    payload = person_payload(
        sex="Q",
        hair_colour="BROWN",
        date_of_birth="2999-01-01",
        age_min=50,
        age_max=20,
        marks=[{"type": "SCAR", "location": "ELBOW-9"}],
    )

    # Then all of them come back at once, the first as the headline
    body = refuse.create("persons", payload, 422, "UNKNOWN_CODE")
    assert field_errors(body) == {
        ("sex", "UNKNOWN_CODE"),
        ("hair_colour", "RETIRED_CODE"),
        ("date_of_birth", "FUTURE_DATE"),
        ("age_max", "INVALID_RANGE"),
        ("marks[0].location", "UNKNOWN_CODE"),
    }
    assert all(e["detail"] for e in body["errors"])
    assert body["errors"][0]["field"] == body["field"]


def test_every_problem_of_a_link_is_reported_together(client, refuse) -> None:
    person = new_record(client, "persons")
    payload = link_payload(
        "person",
        person["id"],
        "event",
        device_id(),
        role=None,
        valid_from="2025-06-01T00:00:00Z",
        valid_to="2025-05-01T00:00:00Z",
    )
    body = refuse.create("links", payload, 422, "ROLE_REQUIRED")
    assert field_errors(body) == {
        ("role", "ROLE_REQUIRED"),
        ("valid_to", "END_BEFORE_START"),
        ("to_id", "REFERENCE_NOT_FOUND"),
    }


# --- identity and concurrency --------------------------------------------------------------


@pytest.mark.parametrize("path", KIND_PATHS)
def test_second_record_with_the_same_id_is_refused(client, refuse, path: str) -> None:
    # Given a record made with a device's id
    first = new_record(client, path, id=device_id())

    # When another record is sent with the same id (a device replaying, or a clash)
    body = refuse.create(path, payload_for(client, path, id=first["id"]), 409, "DUPLICATE_ID")

    # Then it is refused and the first record is untouched
    assert body["id"] == first["id"]
    assert client.get(f"{API}/{path}/{first['id']}").json() == first


def test_second_event_with_the_same_reference_is_refused(client, refuse) -> None:
    stored(client, "events", event_payload(reference="CR/123/26"))
    body = refuse.create("events", event_payload(reference="CR/123/26"), 409, "DUPLICATE_REFERENCE")
    assert body["reference"] == "CR/123/26"


def test_changing_an_event_to_another_events_reference_is_refused(client, refuse) -> None:
    stored(client, "events", event_payload(reference="CR/1/26"))
    second = stored(client, "events", event_payload(reference="CR/2/26"))
    refuse.change(
        "events",
        second,
        {"version": 1, "reference": "CR/1/26"},
        409,
        "DUPLICATE_REFERENCE",
    )


def test_reference_of_a_deleted_event_stays_taken(client, refuse) -> None:
    event = stored(client, "events", event_payload(reference="CR/9/26"))
    client.request(
        "DELETE", f"{API}/events/{event['id']}", json={"version": 1, "reason": "test entry"}
    )
    refuse.create("events", event_payload(reference="CR/9/26"), 409, "DUPLICATE_REFERENCE")


@pytest.mark.parametrize("path", KIND_PATHS)
def test_change_based_on_an_old_version_is_refused(client, refuse, path: str) -> None:
    # Given a record that someone else has changed since we read it (now at version 2)
    record = new_record(client, path)
    assert (
        client.patch(
            f"{API}/{path}/{record['id']}", json={"version": 1, **A_CHANGE[path]}
        ).status_code
        == 200
    )
    current = client.get(f"{API}/{path}/{record['id']}").json()

    # When we send our change based on version 1
    body = refuse.change(path, current, {"version": 1}, 409, "VERSION_CONFLICT")

    # Then we are told the version it is at, so we can read it again
    assert body["current_version"] == 2


def test_deletion_based_on_an_old_version_is_refused(client, refuse) -> None:
    person = new_record(client, "persons")
    client.patch(f"{API}/persons/{person['id']}", json={"version": 1, "sex": "F"})
    refuse.request(
        "DELETE",
        f"{API}/persons/{person['id']}",
        409,
        "VERSION_CONFLICT",
        json={"version": 1, "reason": "mistaken identity"},
    )
    assert client.get(f"{API}/persons/{person['id']}").status_code == 200


# --- paths and query parameters ------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_id_that_is_not_a_uuid_is_not_found(client, refuse, method: str) -> None:
    kwargs: dict[str, Any] = {} if method == "GET" else {"json": {"version": 1, "reason": "bad id"}}
    refuse.request(method, f"{API}/persons/12345", 404, "NOT_FOUND", **kwargs)


def test_id_in_a_body_that_is_not_a_uuid_is_refused(client, refuse) -> None:
    body = refuse.create("persons", person_payload(id="12345"), 400, "INVALID_FORMAT")
    assert body["field"] == "id"


def test_unknown_filter_is_refused_listing_the_allowed_ones(client) -> None:
    body = assert_problem(
        client.get(f"{API}/persons", params={"shoe_size": "9"}), 400, "INVALID_FILTER"
    )
    assert body["filter"] == "shoe_size"
    assert body["allowed"] == sorted(BY_PATH["persons"].filters)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("persons", {"date_of_birth": "12/04/1988"}),
        ("events", {"occurred_after": "2026-01-10T22:00:00"}),
        ("events", {"occurred_before": "yesterday"}),
        ("links", {"from_id": "12345"}),
        ("markers", {"review_before": "soon"}),
    ],
)
def test_filter_value_that_cannot_be_read_is_refused(
    client, path: str, params: dict[str, str]
) -> None:
    body = assert_problem(client.get(f"{API}/{path}", params=params), 400, "INVALID_FILTER")
    assert body["filter"] == next(iter(params))


def test_too_many_filters_are_refused(client) -> None:
    params = {"family_name": "O", **{f"x{i}": "1" for i in range(10)}}
    assert_problem(client.get(f"{API}/persons", params=params), 400, "INVALID_FILTER")


def test_filter_value_over_the_length_limit_is_refused(client) -> None:
    response = client.get(f"{API}/persons", params={"family_name": "O" * 201})
    assert assert_problem(response, 400, "INVALID_FILTER")["filter"] == "family_name"


@pytest.mark.parametrize(
    "cursor", ["not-a-cursor!", "AAAA", "x" * 64], ids=["garbage", "too-short", "long-garbage"]
)
def test_cursor_the_server_did_not_make_is_refused(client, cursor: str) -> None:
    assert_problem(client.get(f"{API}/persons", params={"cursor": cursor}), 400, "INVALID_CURSOR")


def test_cursor_longer_than_any_the_server_makes_is_refused(client) -> None:
    body = assert_problem(
        client.get(f"{API}/persons", params={"cursor": "A" * 65}), 400, "INVALID_PARAMETER"
    )
    assert body["field"] == "cursor"


def test_cursor_from_another_list_still_pages_safely(client) -> None:
    # A cursor is only a position: one made elsewhere moves past it, it never fails.
    cursor = encode_cursor(uuid.UUID(int=0))
    assert client.get(f"{API}/persons", params={"cursor": cursor}).status_code == 200


@pytest.mark.parametrize("limit", [str(MAX_PAGE_SIZE + 1), "0", "-5", "ten"])
def test_page_size_outside_the_bounds_is_refused(client, limit: str) -> None:
    body = assert_problem(
        client.get(f"{API}/persons", params={"limit": limit}), 400, "INVALID_PARAMETER"
    )
    assert body["field"] == "limit"


def test_page_size_at_the_maximum_is_accepted(client) -> None:
    assert client.get(f"{API}/persons", params={"limit": MAX_PAGE_SIZE}).status_code == 200


# --- size ----------------------------------------------------------------------------------


def test_body_over_the_size_limit_is_refused(db, settings) -> None:
    # Given a server that accepts bodies up to 2 KiB
    small = settings.model_copy(update={"max_body_bytes": 2048})
    with TestClient(create_app(small, database=db)) as client:
        client.headers.update(auth_headers(client))
        refuse = Refusals(client, db)
        payload = event_payload(narrative="x" * 2100)

        # When a bigger body is sent, then 413 BODY_TOO_LARGE and nothing is stored
        refuse.create("events", payload, 413, "BODY_TOO_LARGE")
        # And the same without a declared length (streamed) is refused too
        raw = json.dumps(payload).encode()
        refuse.request(
            "POST",
            f"{API}/events",
            413,
            "BODY_TOO_LARGE",
            content=iter([raw[:1000], raw[1000:]]),
            headers={"Content-Type": "application/json"},
        )
        # And a body under the limit is stored
        stored(client, "events", event_payload(narrative="x" * 100))


def test_body_just_under_the_default_limit_is_accepted(client, settings) -> None:
    # A long narrative (the schema allows 20,000 characters) fits in the default limit.
    assert settings.max_body_bytes >= 1_048_576
    stored(client, "events", event_payload(narrative="x" * 20_000))


def test_text_with_a_nul_character_is_refused(client, refuse) -> None:
    # PostgreSQL cannot store NUL in text; the API refuses it the same way on every database.
    payload = person_payload(names=[{"family_name": "Oka\u0000for"}])
    body = refuse.create("persons", payload, 400, "INVALID_FORMAT")
    assert body["source"] == "body"


def test_nul_character_in_a_deletion_reason_is_refused(client, refuse) -> None:
    vehicle = new_record(client, "vehicles")
    refuse.request(
        "DELETE",
        f"{API}/vehicles/{vehicle['id']}",
        400,
        "INVALID_FORMAT",
        json={"version": 1, "reason": "dup\u0000licate"},
    )


def test_text_that_spells_out_a_nul_escape_is_kept_as_written(client) -> None:
    # A backslash followed by "u0000" is six ordinary characters, not a NUL.
    person = stored(client, "persons", person_payload(names=[{"family_name": "Okafor\\u0000"}]))
    assert person["names"][0]["family_name"] == "Okafor\\u0000"


def test_filter_with_a_nul_character_is_refused(client) -> None:
    response = client.get(f"{API}/persons", params={"family_name": "O\u0000"})
    assert assert_problem(response, 400, "INVALID_FORMAT")["source"] == "query"


def test_date_too_far_back_to_convert_to_utc_is_refused(client, refuse) -> None:
    # 00:30 on 1 January of year 1, an hour east of UTC, is before the first UTC instant.
    payload = event_payload(
        occurred_from="0001-01-01T00:30:00+01:00", occurred_to=None, reported_at=None
    )
    body = refuse.create("events", payload, 422, "INVALID_RANGE")
    assert body["field"] == "occurred_from"


def test_filter_date_too_far_back_to_convert_is_refused(client) -> None:
    assert_problem(
        client.get(f"{API}/events", params={"occurred_after": "0001-01-01T00:00:00+05:00"}),
        400,
        "INVALID_FILTER",
    )
