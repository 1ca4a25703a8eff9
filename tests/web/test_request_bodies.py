"""A body that is not JSON as Bluelight takes it is refused with a stable code before any route
sees it, on every route that takes a body, signed in or not, and stores nothing.

The routes are read from the app, so a route added tomorrow is covered without touching this
file.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from litestar import Litestar

from bluelight.web.body import MAX_BODY_DEPTH
from factories import API, assert_problem, payload_for, row_counts

JSON = "application/json"
# Each bad body: (what it is, its bytes, its Content-Type, the status and code it must get).
BAD_BODIES = [
    ("nested arrays", b"[" * 2000 + b"]" * 2000, JSON, 400, "BODY_TOO_DEEP"),
    ("nested objects", b'{"a":' * 2000 + b"1" + b"}" * 2000, JSON, 400, "BODY_TOO_DEEP"),
    ("unclosed nesting", b"[" * 5000, JSON, 400, "BODY_TOO_DEEP"),
    (
        "nested past the limit",
        b'{"a":' + b"[" * MAX_BODY_DEPTH + b"]" * MAX_BODY_DEPTH + b"}",
        JSON,
        400,
        "BODY_TOO_DEEP",
    ),
    ("Latin-1 in a string", '{"username": "Zoë"}'.encode("latin-1"), JSON, 400, "BODY_NOT_UTF8"),
    ("a cut UTF-8 sequence", b'{"a": "\xc3"}', JSON, 400, "BODY_NOT_UTF8"),
    ("Windows-1252 quotes", b'{"a": "\x93quoted\x94"}', JSON, 400, "BODY_NOT_UTF8"),
    ("a byte outside a string", b'{"a": 1}\xff', JSON, 400, "BODY_NOT_UTF8"),
    ("text/plain", b'{"username": "x"}', "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
    (
        "a form",
        b"username=x&password=y",
        "application/x-www-form-urlencoded",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    ("no Content-Type", b'{"username": "x"}', None, 415, "UNSUPPORTED_MEDIA_TYPE"),
    (
        "JSON in Latin-1",
        b'{"username": "x"}',
        "application/json; charset=iso-8859-1",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
]


def body_routes(app: Litestar) -> list[tuple[str, str, bool]]:
    """Every (method, path, public) of a route that takes a body, path parameters filled in."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if "data" not in handler.parsed_fn_signature.parameters:
                continue
            path = re.sub(r"\{[^}:]+:uuid\}", str(uuid.uuid4()), route.path)
            path = re.sub(r"\{[^}:]+:str\}", "DEMO", path)
            path = re.sub(r"\{[^}:]+:int\}", "1", path)
            for method in sorted(handler.http_methods):
                found.append((method, path, bool(handler.opt.get("public"))))
    return sorted(found)


def test_every_write_route_is_found(app: Litestar) -> None:
    routes = body_routes(app)
    # The two sign-in steps take a body before anyone is signed in; records take theirs after.
    assert ("POST", f"{API}/auth/sign-in", True) in routes
    assert ("POST", f"{API}/auth/second-factor", True) in routes
    assert ("POST", f"{API}/persons", False) in routes
    assert len(routes) > 20


@pytest.mark.parametrize("case", [pytest.param(case[1:], id=case[0]) for case in BAD_BODIES])
def test_a_bad_body_is_refused_on_every_route(
    client: Any, db: Any, case: tuple[bytes, str | None, int, str]
) -> None:
    # Given every route that takes a body, and the database as it is
    body, content_type, status, code = case
    before = row_counts(db)
    headers = {"content-type": content_type} if content_type else {}
    for method, path, public in body_routes(client.app):
        # When the body is sent signed in
        signed_in = client.request(method, path, content=body, headers=headers)
        # Then it is refused for what it is
        assert_problem(signed_in, status, code)
        # And, signed out, refused for that or for the missing token: never a 500
        signed_out = client.request(
            method, path, content=body, headers={**headers, "Authorization": ""}
        )
        if public:
            assert_problem(signed_out, status, code)
        else:
            assert_problem(signed_out, 401, "AUTH_REQUIRED")
    # And nothing was stored
    assert row_counts(db) == before


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=UTF-8",
        "Application/JSON",
        "application/merge-patch+json",
    ],
)
def test_json_in_utf8_is_read(client: Any, content_type: str) -> None:
    # Given a well-formed sign-in whose password is wrong
    body = '{"username": "zoë", "password": "wrong", "device": {"id": "%s", "name": "x"}}'
    # When it is sent as JSON
    response = client.post(
        f"{API}/auth/sign-in",
        content=(body % uuid.uuid4()).encode(),
        headers={"content-type": content_type, "Authorization": ""},
    )
    # Then it reaches sign-in, which refuses the password
    assert_problem(response, 401, "SIGN_IN_FAILED")


def test_nesting_up_to_the_limit_is_read(client: Any) -> None:
    # Given a body nested exactly as deep as the limit allows
    body = b'{"username":' + b"[" * (MAX_BODY_DEPTH - 1) + b"]" * (MAX_BODY_DEPTH - 1) + b"}"
    # When it is sent
    response = client.post(
        f"{API}/auth/sign-in",
        content=body,
        headers={"content-type": JSON, "Authorization": ""},
    )
    # Then it is read, and refused for its fields, not its depth
    assert response.status_code == 400, response.text
    assert response.json()["code"] not in ("BODY_TOO_DEEP", "MALFORMED_JSON")


@pytest.mark.parametrize(
    ("path", "change", "field"),
    [
        ("persons", {"height_cm": "180"}, "height_cm"),
        ("events", {"occurred_from": 1764000000}, "occurred_from"),
        ("persons", {"names": [{"family_name": 7}]}, "names[0].family_name"),
    ],
)
def test_a_value_of_another_type_is_refused_not_converted(
    client: Any, db: Any, path: str, change: dict[str, Any], field: str
) -> None:
    # Given a record whose number is sent as text, or its instant as a number of seconds
    before = row_counts(db)
    body = {**payload_for(client, path), **change}

    # When it is sent
    response = client.post(f"{API}/{path}", json=body)

    # Then it is refused for its type, naming the field, and nothing is stored
    problem = assert_problem(response, 400, "WRONG_TYPE")
    assert problem["field"] == field
    assert row_counts(db) == before


def test_a_whole_number_written_with_a_point_is_a_number(client: Any) -> None:
    # JSON does not tell 180 from 180.0, and neither does the API document's "integer"
    response = client.post(
        f"{API}/persons", json={**payload_for(client, "persons"), "height_cm": 180.0}
    )

    assert response.status_code == 201, response.text
    assert response.json()["height_cm"] == 180
