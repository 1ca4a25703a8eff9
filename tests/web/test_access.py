"""Who may call the API: no token, a bad token, a cookie instead of the header, a user short of
a permission, public routes; and personal data never left in a cache."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from bluelight.identity import Permission
from bluelight.web.auth import MAX_TOKEN
from factories import (
    API,
    REASON,
    assert_problem,
    auth_headers,
    new_record,
    person_payload,
    row_counts,
    stored,
)

AUDIT_TABLES = {"audit_entries", "audit_subjects", "audit_tree_heads"}


def _records(counts: dict[str, int]) -> dict[str, int]:
    """The row counts of everything but the audit trail, which records refusals too."""
    return {table: n for table, n in counts.items() if table not in AUDIT_TABLES}


@pytest.fixture
def anonymous(client) -> TestClient[Any]:
    """The shared app, with no credentials (the reason headers stay)."""
    del client.headers["Authorization"]
    return client


def _as(client: TestClient[Any], username: str, *roles: str, **kw: Any) -> dict[str, str]:
    """Headers of a newly made user with ``roles``, signed in for real, giving a reason."""
    return auth_headers(client, username, roles, **kw)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "AUTH_REQUIRED"),
        ({"Authorization": ""}, "AUTH_REQUIRED"),
        ({"Authorization": "Bearer"}, "AUTH_REQUIRED"),
        ({"Authorization": "Bearer "}, "AUTH_REQUIRED"),
        ({"Authorization": "Basic ZGV2OmRldg=="}, "AUTH_REQUIRED"),
        ({"Authorization": "records-test-token"}, "AUTH_REQUIRED"),
        ({"Authorization": "Bearer blc_not-a-token-anyone-was-given"}, "TOKEN_INVALID"),
        ({"Authorization": "Bearer " + "x" * (MAX_TOKEN + 1)}, "TOKEN_INVALID"),
    ],
    ids=["none", "empty", "no-token", "blank-token", "basic", "no-scheme", "unknown", "too-long"],
)
def test_request_without_a_valid_token_is_unauthenticated(
    anonymous, db, headers: dict[str, str], code: str
) -> None:
    # When someone without a valid bearer token tries to read or to write
    before = row_counts(db)
    read = anonymous.get(f"{API}/persons", headers=headers)
    write = anonymous.post(f"{API}/persons", json=person_payload(), headers=headers)

    # Then both are refused as unauthenticated, saying how to authenticate
    for response in (read, write):
        assert_problem(response, 401, code)
        assert response.headers["www-authenticate"] == "Bearer"
    # And nothing is written
    assert _records(row_counts(db)) == _records(before)


def test_a_cookie_holding_a_valid_token_does_not_authenticate(anonymous, client, db) -> None:
    # Given a valid token, sent as a cookie (as a browser would send it on its own with a
    # cross-site form or image), not in the Authorization header
    token = auth_headers(client, "pc.cookie", ("officer",))["Authorization"].split(" ", 1)[1]
    before = _records(row_counts(db))
    for name in ("token", "access_token", "bluelight_token", "session", "Authorization"):
        anonymous.cookies.set(name, token)

    # When it tries to write and to read, then it is refused as unauthenticated
    write = anonymous.post(f"{API}/persons", json=person_payload())
    read = anonymous.get(f"{API}/persons")
    for response in (write, read):
        assert_problem(response, 401, "AUTH_REQUIRED")
        assert response.headers["www-authenticate"] == "Bearer"
    assert _records(row_counts(db)) == before

    # While the same token in the header works
    assert anonymous.get(f"{API}/persons", headers={"Authorization": f"Bearer {token}"}).is_success


def test_the_scheme_is_case_insensitive(anonymous, client) -> None:
    token = auth_headers(client, "pc.scheme", ("officer",))["Authorization"].split(" ", 1)[1]
    response = anonymous.get(f"{API}/persons", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200, response.text


def test_public_routes_need_no_token(anonymous) -> None:
    health = anonymous.get(f"{API}/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["database"] in {"sqlite", "postgresql"}
    openapi = anonymous.get(f"{API}/openapi.json")
    assert openapi.status_code == 200
    assert "/api/v1/persons" in openapi.json()["paths"]
    assert anonymous.get("/api/docs").status_code == 200
    assert anonymous.get("/").status_code == 200


def test_user_without_the_permission_is_forbidden_and_nothing_is_written(client, db) -> None:
    # Given a controller, who may read persons but not write them
    controller = _as(client, "controller.one", "controller")
    before = row_counts(db)

    # When they try to create one
    response = client.post(f"{API}/persons", json=person_payload(), headers=controller)

    # Then 403 names the permission they lack, and no record is stored
    body = assert_problem(response, 403, "PERMISSION_DENIED")
    assert body["permission"] == Permission.PERSON_WRITE.value
    after = row_counts(db)
    assert _records(after) == _records(before)
    # But the refused attempt is in the audit trail
    assert after["audit_entries"] == before["audit_entries"] + 1
    trail = client.get(
        f"{API}/audit/entries", params={"user": "controller.one", "outcome": "denied"}
    )
    assert trail.status_code == 200, trail.text
    assert [(e["tag"], e["action"]) for e in trail.json()["items"]] == [
        ("records:person:created", "collection")
    ]
    # And they may still read
    assert client.get(f"{API}/persons", headers=controller).status_code == 200


def test_administrator_of_accounts_may_not_read_personal_data(client) -> None:
    # Given an agency administrator, who runs accounts and devices
    admin = _as(client, "admin.one", "agency_admin")

    # When they try to read persons, then 403 names the permission they lack
    persons = client.get(f"{API}/persons", headers=admin)
    assert assert_problem(persons, 403, "PERMISSION_DENIED")["permission"] == (
        Permission.PERSON_READ.value
    )
    # While they may list their agency's users
    assert client.get(f"{API}/users", headers=admin).status_code == 200


def test_record_carries_the_acting_users_name_and_agency(client) -> None:
    # Given an officer of Northamptonshire, signed in on their own device
    client.headers.update(_as(client, "pc.1234", "officer", agency="NTH"))

    # When they create a record, then it is theirs and their force's
    person = stored(client, "persons", person_payload())
    assert (person["created_by"], person["owner_agency"]) == ("pc.1234", "NTH")
    history = client.get(f"{API}/persons/{person['id']}/history")
    assert history.json()[0]["changed_by"] == "pc.1234"


def test_personal_data_is_never_stored_in_a_cache(client) -> None:
    # Given a person and a vehicle
    person = new_record(client, "persons")
    vehicle = new_record(client, "vehicles")

    # When they are read, listed and their history fetched, then no cache may keep them
    for url in (
        f"{API}/persons/{person['id']}",
        f"{API}/persons",
        f"{API}/persons/{person['id']}/history",
        f"{API}/vehicles/{vehicle['id']}",
        f"{API}/vehicles",
    ):
        response = client.get(url, headers=REASON)
        assert response.status_code == 200, (url, response.text)
        assert "no-store" in response.headers["cache-control"], url


def test_unknown_route_is_a_problem_not_a_page(client) -> None:
    assert_problem(client.get(f"{API}/suspects"), 404, "NOT_FOUND")


def test_wrong_method_is_refused(client) -> None:
    assert_problem(client.put(f"{API}/persons", json={}), 405, "METHOD_NOT_ALLOWED")
