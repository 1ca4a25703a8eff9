"""Who may call the API: no token, a bad token, a token short of a permission, public routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from bluelight.app import create_app
from bluelight.identity import ALL_PERMISSIONS, Actor, Permission
from bluelight.web.auth import MAX_TOKEN, StaticTokens
from factories import API, assert_problem, person_payload, row_counts, stored

READER = Actor(
    "u-reader",
    "reader",
    "NTH",
    frozenset({Permission.PERSON_READ, Permission.VOCAB_READ}),
)
WRITER = Actor("u-writer", "pc.1234", "NTH", ALL_PERMISSIONS, device_id="tablet-7")


@pytest.fixture
def anonymous(client) -> TestClient[Any]:
    """The shared app, with no credentials."""
    del client.headers["Authorization"]
    return client


@pytest.fixture
def tokens(db, settings) -> Iterator[TestClient[Any]]:
    """An app whose tokens stand for a reader and a writer of Northamptonshire."""
    authenticator = StaticTokens({"reader-token": READER, "writer-token": WRITER})
    with TestClient(create_app(settings, database=db, authenticator=authenticator)) as c:
        yield c


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic ZGV2OmRldg=="},
        {"Authorization": "Bearer not-the-token"},
        {"Authorization": "Bearer " + "x" * (MAX_TOKEN + 1)},
        {"Authorization": "records-test-token"},
    ],
    ids=["none", "empty", "no-token", "blank-token", "basic", "wrong", "too-long", "no-scheme"],
)
def test_request_without_a_valid_token_is_unauthenticated(
    anonymous, db, headers: dict[str, str]
) -> None:
    # When someone without a valid bearer token tries to read or to write
    before = row_counts(db)
    read = anonymous.get(f"{API}/persons", headers=headers)
    write = anonymous.post(f"{API}/persons", json=person_payload(), headers=headers)

    # Then both are refused as unauthenticated, saying how to authenticate
    for response in (read, write):
        assert_problem(response, 401, "UNAUTHENTICATED")
        assert response.headers["www-authenticate"] == "Bearer"
    # And nothing is written
    assert row_counts(db) == before


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


def test_token_without_the_permission_is_forbidden_and_nothing_is_written(tokens, db) -> None:
    # Given a token that may read persons but not write them
    before = row_counts(db)

    # When it tries to create one
    response = tokens.post(f"{API}/persons", json=person_payload(), headers=_as("reader-token"))

    # Then 403 names the permission it lacks, and nothing is stored
    body = assert_problem(response, 403, "FORBIDDEN")
    assert body["permission"] == Permission.PERSON_WRITE.value
    assert row_counts(db) == before
    # But it may still read
    assert tokens.get(f"{API}/persons", headers=_as("reader-token")).status_code == 200
    # And it may not read other kinds
    events = tokens.get(f"{API}/events", headers=_as("reader-token"))
    assert assert_problem(events, 403, "FORBIDDEN")["permission"] == Permission.EVENT_READ.value


def test_record_carries_the_acting_users_name_and_agency(tokens) -> None:
    # Given an officer of Northamptonshire, signed in on their tablet
    tokens.headers.update(_as("writer-token"))

    # When they create a record, then it is theirs and their force's
    person = stored(tokens, "persons", person_payload())
    assert (person["created_by"], person["owner_agency"]) == ("pc.1234", "NTH")
    history = tokens.get(f"{API}/persons/{person['id']}/history")
    assert history.json()[0]["changed_by"] == "pc.1234"


def test_unknown_route_is_a_problem_not_a_page(client) -> None:
    assert_problem(client.get(f"{API}/suspects"), 404, "NOT_FOUND")


def test_wrong_method_is_refused(client) -> None:
    assert_problem(client.put(f"{API}/persons", json={}), 405, "METHOD_NOT_ALLOWED")
