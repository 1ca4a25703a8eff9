"""The rules of user administration a hostile reviewer found loose: requests without a body,
users added to another agency, roles that do not belong to the agency's kind, and the last
administrator of an agency removing themselves."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from bluelight.db import Database
from factories import API, assert_problem, row_counts

# The fixtures of this folder (tests/identity/conftest.py) are typed Any here: a conftest is
# not a module to import from.
Clock = Door = Trail = Any

NEW_PASSWORD = "marmalade quietly orbits the viaduct"


def _users(client: TestClient[Any], admin: dict[str, str]) -> dict[str, dict[str, Any]]:
    listed = client.get(f"{API}/users", headers=admin)
    assert listed.status_code == 200, listed.text
    return {u["username"]: u for u in listed.json()}


# --- a request without a body ----------------------------------------------------------------

BODY_ROUTES = [
    ("POST", "/auth/sign-in", "username"),
    ("POST", "/auth/second-factor", "challenge"),
    ("POST", "/users", "username"),
    ("PATCH", "/users/{user}", "version"),
    ("POST", "/users/{user}/reset", "password"),
    ("POST", "/devices/{device}/revoke", "reason"),
]


@pytest.fixture
def body_route_world(door: Door, anonymous: TestClient[Any]) -> tuple[dict[str, str], str, str]:
    """An administrator's headers, another user's id and a registered device's id."""
    admin = door.headers("admin.body", ["agency_admin"])
    user = _users(anonymous, admin)["admin.body"]["id"]
    device = anonymous.get(f"{API}/devices", headers=admin).json()[0]["id"]
    return admin, user, device


@pytest.mark.parametrize(
    ("method", "path", "first_field"), BODY_ROUTES, ids=[f"{m} {p}" for m, p, _ in BODY_ROUTES]
)
def test_a_request_without_a_body_is_told_what_is_missing(
    anonymous: TestClient[Any],
    *,
    db: Database,
    body_route_world: tuple[dict[str, str], str, str],
    method: str,
    path: str,
    first_field: str,
) -> None:
    # Given a route that takes a JSON body
    admin, user, device = body_route_world
    url = API + path.format(user=user, device=device)
    before = row_counts(db)

    # When it is sent no body at all, or an empty one
    for content in (None, b""):
        response = anonymous.request(
            method, url, content=content, headers={**admin, "Content-Type": "application/json"}
        )

        # Then the answer says a body is missing, not the name of an internal parameter
        body = assert_problem(response, 400, "MISSING_BODY")
        assert "'data'" not in body["detail"]
        assert "body" in body["detail"]

    # And an empty object names the first field it lacks
    empty = anonymous.request(method, url, json={}, headers=admin)
    body = assert_problem(empty, 400, "MISSING_FIELD")
    assert body["field"] == first_field
    assert row_counts(db) == before
