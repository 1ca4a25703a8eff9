"""The OpenAPI document is valid OpenAPI 3.1 and declares every answer each route can give.

The answers are derived from what each route declares (``web.openapi``): these tests check the
derivation on the whole app, and on a route made here, as a route added later would be.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from litestar import Litestar, get, post
from litestar.openapi import OpenAPIConfig
from litestar.params import FromPath, JSONBody
from litestar.testing import TestClient
from msgspec import Struct
from openapi_spec_validator import validate

from bluelight.audit import Action
from bluelight.kernel.paging import CURSOR_PATTERN, encode_cursor
from bluelight.kernel.permissions import PUBLIC, Permission, needs
from bluelight.web.openapi import PROBLEM_REF, api_document
from factories import API, assert_problem

METHODS = ("get", "put", "post", "delete", "patch")
PROBLEM_JSON = "application/problem+json"


@pytest.fixture(scope="module")
def document(app: Litestar) -> dict[str, Any]:
    with TestClient(app) as client:
        response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    found: dict[str, Any] = response.json()
    return found


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _problem_answers(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s: a for s, a in operation["responses"].items() if s[0] in "45"}


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_operation_declares_its_refusals_as_problems(document: dict[str, Any]) -> None:
    operations = _operations(document)
    assert len(operations) > 80
    for path, method, operation in operations:
        answers = _problem_answers(operation)
        where = f"{method.upper()} {path}"
        # Any request may be malformed, and any may meet a trail or database that is down.
        assert {"400", "503"} <= set(answers), where
        assert "Retry-After" in answers["503"]["headers"], where
        if operation.get("security") != []:
            assert {"401", "403"} <= set(answers), where
            assert "WWW-Authenticate" in answers["401"]["headers"], where
        if "{" in path:
            assert "404" in answers, where
        if "{record_id}" in path:
            assert "410" in answers, where
        if "requestBody" in operation:
            assert {"413", "415", "422"} <= set(answers), where
        # Each refusal is one problem+json schema.
        for status, answer in answers.items():
            assert answer["content"] == {PROBLEM_JSON: {"schema": PROBLEM_REF}}, (where, status)
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}


def test_versioned_writes_declare_409(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for path, method, operation in _operations(document):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is None:
            continue
        properties = schemas[body["schema"]["$ref"].rsplit("/", 1)[1]].get("properties", {})
        if "version" in properties:
            assert "409" in operation["responses"], f"{method.upper()} {path}"


def test_only_the_public_routes_name_no_security(document: dict[str, Any]) -> None:
    public = {
        f"{method.upper()} {path}"
        for path, method, operation in _operations(document)
        if operation.get("security") == []
    }
    assert public == {
        f"GET {API}/health",
        f"POST {API}/auth/sign-in",
        f"POST {API}/auth/second-factor",
    }
    # The sign-in steps refuse wrong credentials with 401 all the same.
    for step in ("sign-in", "second-factor"):
        assert "401" in document["paths"][f"{API}/auth/{step}"]["post"]["responses"]
    assert document["security"] == [{"BearerToken": []}]
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"


def _header(operation: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next(
        (p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"] == name),
        None,
    )


def test_routes_that_read_a_reason_declare_its_headers(document: dict[str, Any]) -> None:
    paths = document["paths"]
    # A check of a person reads it; a disclosure needs it; the trail's search reads it.
    read = paths[f"{API}/persons/{{record_id}}"]["get"]
    share = paths[f"{API}/events/{{record_id}}/shares"]["post"]
    search = paths[f"{API}/audit/entries"]["get"]
    for operation in (read, share, search):
        code = _header(operation, "X-Bluelight-Reason")
        text = _header(operation, "X-Bluelight-Reason-Text")
        assert code is not None
        assert text is not None
        assert "INVESTIGATION" in code["schema"]["enum"]
        assert re.fullmatch(text["schema"]["pattern"], "test enquiry")
        assert re.fullmatch(text["schema"]["pattern"], "caf%C3%A9 visit")
        assert not re.fullmatch(text["schema"]["pattern"], "  ab")
        assert not re.fullmatch(text["schema"]["pattern"], "line%0Abreak")
    assert _header(share, "X-Bluelight-Reason")["required"] is True  # type: ignore[index]
    assert _header(read, "X-Bluelight-Reason")["required"] is False  # type: ignore[index]
    # Sign-in reads no reason.
    assert _header(paths[f"{API}/auth/sign-in"]["post"], "X-Bluelight-Reason") is None


def _query(operation: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        p["schema"] for p in operation["parameters"] if p["in"] == "query" and p["name"] == name
    )
    return found


def test_query_parameters_say_what_the_server_checks(document: dict[str, Any]) -> None:
    persons = document["paths"][f"{API}/persons"]["get"]
    cursor = _query(persons, "cursor")
    assert cursor["pattern"] == CURSOR_PATTERN
    assert re.fullmatch(cursor["pattern"], encode_cursor(uuid.uuid4()))
    assert _query(persons, "limit").items() >= {"minimum": 1, "maximum": 200}.items()
    assert _query(persons, "date_of_birth")["format"] == "date"
    entries = document["paths"][f"{API}/audit/entries"]["get"]
    # A bound of 0 is kept, and an absent parameter is not offered as null.
    assert _query(entries, "cursor")["minimum"] == 0
    assert _query(entries, "cursor")["type"] == "integer"
    assert _query(entries, "action")["enum"] == sorted(str(a) for a in Action)
    export = document["paths"][f"{API}/audit/export"]["get"]
    assert set(export["responses"]["200"]["content"]) == {"application/x-ndjson", "text/csv"}


def test_bodies_are_described_with_every_bound_the_server_checks(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    person = schemas["PersonCreate"]
    # Unknown fields are refused, and a bound of 0 is stated.
    assert person["additionalProperties"] is False
    assert person["properties"]["age_min"]["anyOf"][0]["minimum"] == 0
    access = schemas["AccessChange"]["properties"]
    # The bounds of a list's items are stated.
    assert "minLength" in str(access)


def test_a_cursor_the_server_did_not_make_is_refused(client) -> None:
    # Given a cursor that differs from a real one only in bits the id does not use
    forged = "AAAAAAAAAAAAAAAAAAAAAB"

    # When a page is asked for after it
    response = client.get(f"{API}/persons", params={"cursor": forged})

    # Then it is refused, as the document's pattern for cursors says
    assert_problem(response, 400, "INVALID_CURSOR")
    assert not re.fullmatch(CURSOR_PATTERN, forged)


class Thing(Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    version: int


@get("/things/{thing_id:uuid}", opt=needs(Permission.PERSON_READ), sync_to_thread=False)
def read_thing(thing_id: FromPath[uuid.UUID]) -> Thing:
    return Thing(name=str(thing_id), version=1)


@post("/things", opt=needs(Permission.PERSON_WRITE), sync_to_thread=False)
def make_thing(data: JSONBody[Thing]) -> Thing:
    return data


@get("/open", opt=PUBLIC, sync_to_thread=False)
def open_route() -> Thing:
    return Thing(name="open", version=1)


def test_a_new_route_is_described_from_what_it_declares() -> None:
    # Given an app with routes that declare only their permission, path and body
    app = Litestar(
        [read_thing, make_thing, open_route], openapi_config=OpenAPIConfig("t", "1"), debug=False
    )

    # When its document is asked for
    document = api_document(app)

    # Then each route declares the refusals its declarations imply
    paths = document["paths"]
    assert set(paths["/things/{thing_id}"]["get"]["responses"]) == {
        "200",
        "400",
        "401",
        "403",
        "404",
        "503",
    }
    assert set(paths["/things"]["post"]["responses"]) == {
        "201",
        "400",
        "401",
        "403",
        "409",
        "413",
        "415",
        "422",
        "503",
    }
    assert set(paths["/open"]["get"]["responses"]) == {"200", "400", "503"}
    assert paths["/open"]["get"]["security"] == []
    validate(document)


def test_every_place_that_serves_the_document_serves_the_whole_of_it(client) -> None:
    # Given the document at its API address
    served = client.get(f"{API}/openapi.json").json()
    assert "Problem" in served["components"]["schemas"]

    # When the docs' own copy and the docs page are fetched
    copy = client.get("/api/docs/openapi.json")
    page = client.get("/api/docs")

    # Then they hold the same document, answers and all
    assert copy.status_code == 200
    assert copy.json() == served
    assert page.status_code == 200
    assert '"#/components/schemas/Problem"' in page.text


def test_every_operation_is_filed_under_a_tag(document: dict[str, Any]) -> None:
    # /api/docs groups operations by tag: one without is shown under "default"
    untagged = [
        f"{method.upper()} {path}"
        for path, method, operation in _operations(document)
        if not operation.get("tags")
    ]
    assert untagged == []
