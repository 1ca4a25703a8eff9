"""A read by id taken straight to its handler (``web.direct``) answers exactly as the long way
through Litestar does: the same status, headers and body, and the same audit entries, request
by request; and whatever the direct path is not made for goes the long way."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar import Litestar, Request, get
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.testing import TestClient
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import select

from bluelight.audit.models import AuditEntry
from bluelight.records.kinds import BY_NAME, KINDS
from bluelight.records.routes import kind_router
from bluelight.web.auth import AccessMiddleware
from bluelight.web.direct import DirectReads
from bluelight.web.text import refuse_misread_text
from factories import (
    API,
    KIND_PATHS,
    REASON,
    auth_headers,
    link_payload,
    marker_payload,
    new_record,
    stored,
)

Way = Callable[[str, dict[str, str]], tuple[Any, list[dict[str, Any]]]]
# What an audit entry says, without what makes each entry its own (place, id, time, hash)
SAID = [c for c in AuditEntry.__table__.columns if c.name not in {"seq", "id", "at", "leaf_hash"}]


class _Counted:
    """An ASGI app that counts the requests it is handed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.calls += 1
        await self.app(scope, receive, send)


@pytest.fixture
def direct(client: TestClient[Any]) -> Iterator[DirectReads]:
    """The app's direct path, its long way counted."""
    handler = client.app.asgi_handler
    assert isinstance(handler, DirectReads)
    long_way = handler.fallback
    handler.fallback = _Counted(long_way)
    yield handler
    handler.fallback = long_way


def _entries_after(client: TestClient[Any], seq: int) -> list[dict[str, Any]]:
    with client.app.state.database.read() as session:
        rows = session.execute(
            select(*SAID).where(AuditEntry.seq > seq).order_by(AuditEntry.seq)
        ).all()
    return [row._asdict() for row in rows]


def _last_seq(client: TestClient[Any]) -> int:
    with client.app.state.database.read() as session:
        return session.execute(select(AuditEntry.seq).order_by(AuditEntry.seq.desc())).scalar() or 0


@pytest.fixture
def both_ways(client: TestClient[Any], direct: DirectReads) -> Way:
    """Ask the same request the long way, then the direct way (which must not hand it on);
    assert the two answers and the two sets of audit entries are the same; return the answer
    and the entries."""
    app: Litestar = client.app
    long_way: _Counted = direct.fallback  # type: ignore[assignment]

    def ask(url: str, headers: dict[str, str]) -> tuple[Any, list[dict[str, Any]]]:
        answers = []
        for way in (long_way, direct):
            seq = _last_seq(client)
            app.asgi_handler = way
            handed_on = long_way.calls
            try:
                response = client.get(url, headers=headers)
            finally:
                app.asgi_handler = direct
            answers.append((response, _entries_after(client, seq)))
        assert long_way.calls == handed_on, "the direct way handed the read on"
        (long_answer, long_trail), (direct_answer, direct_trail) = answers
        assert direct_answer.status_code == long_answer.status_code
        assert direct_answer.headers.multi_items() == long_answer.headers.multi_items()
        assert direct_answer.content == long_answer.content
        assert direct_trail == long_trail
        return direct_answer, direct_trail

    return ask


def test_the_direct_path_serves_each_kinds_read_by_id_and_nothing_else(
    direct: DirectReads,
) -> None:
    assert direct.paths == sorted(f"{API}/{path}/{{record_id:uuid}}" for path in KIND_PATHS)


@pytest.mark.parametrize("path", KIND_PATHS)
def test_a_read_of_each_kind_is_answered_and_audited_as_the_long_way_does(
    client: TestClient[Any], both_ways: Way, path: str
) -> None:
    record = new_record(client, path)
    officer = auth_headers(client, f"pc.{path}", ["officer"])

    response, trail = both_ways(f"{API}/{path}/{record['id']}", officer)

    assert response.status_code == 200, response.text
    assert response.json()["id"] == record["id"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    kind = next(k for k in KINDS if k.path == path)
    assert [(e["tag"], e["outcome"]) for e in trail] == [(f"records:{kind.name}:read", "allowed")]
    assert record["id"] in trail[0]["subject_ids"]


def test_a_person_with_a_marker_and_an_address_reads_the_same_both_ways(
    client: TestClient[Any], both_ways: Way
) -> None:
    person = new_record(client, "persons")
    stored(client, "markers", marker_payload(person["id"]))
    home = new_record(client, "locations")
    stored(client, "links", link_payload("person", person["id"], "location", home["id"]))

    response, trail = both_ways(f"{API}/persons/{person['id']}", {})

    body = response.json()
    assert len(body["markers"]) == 1
    assert [a["location_id"] for a in body["addresses"]] == [home["id"]]
    assert len(trail) == 1


REFUSED = {
    "no token": ({"Authorization": ""}, 401, "AUTH_REQUIRED"),
    "not bearer": ({"Authorization": "Basic ZGV2OmRldg=="}, 401, "AUTH_REQUIRED"),
    "unknown token": ({"Authorization": "Bearer blt_nobody"}, 401, "TOKEN_INVALID"),
    "no reason": (
        {"X-Bluelight-Reason": "", "X-Bluelight-Reason-Text": ""},
        400,
        "REASON_REQUIRED",
    ),
    "unknown reason": ({"X-Bluelight-Reason": "NOT-A-CODE"}, 400, "UNKNOWN_REASON"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_read_is_refused_and_audited_as_the_long_way_does(
    client: TestClient[Any], both_ways: Way, case: str
) -> None:
    person = new_record(client, "persons")
    headers, status, code = REFUSED[case]

    response, trail = both_ways(f"{API}/persons/{person['id']}", headers)

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    # A caller not let in has nothing on the trail; one let in has their refusal there
    assert [e["outcome"] for e in trail] == ([] if status == 401 else ["denied"])


def test_a_caller_without_the_permission_is_refused_and_audited_as_the_long_way_does(
    client: TestClient[Any], both_ways: Way
) -> None:
    person = new_record(client, "persons")
    admin = auth_headers(client, "admin.direct", ["agency_admin"])

    response, trail = both_ways(f"{API}/persons/{person['id']}", admin)

    assert response.status_code == 403
    assert response.json()["code"] == "PERMISSION_DENIED"
    assert [(e["actor_username"], e["outcome"], e["subject_ids"]) for e in trail] == [
        ("admin.direct", "denied", [person["id"]])
    ]


def test_records_not_there_or_not_theirs_are_answered_as_the_long_way_does(
    client: TestClient[Any], both_ways: Way
) -> None:
    person = new_record(client, "persons")
    gone = new_record(client, "persons")
    deleted = client.request(
        "DELETE", f"{API}/persons/{gone['id']}", json={"version": 1, "reason": "entered twice"}
    )
    assert deleted.status_code == 200, deleted.text
    kept = new_record(client, "persons")
    restricted = client.put(
        f"{API}/persons/{kept['id']}/access",
        json={"version": kept["version"], "restricted": True, "users": ["test.supervisor"]},
    )
    assert restricted.status_code == 200, restricted.text
    officer = auth_headers(client, "pc.unnamed", ["officer"])
    stranger = auth_headers(client, "other.sergeant", agency="OTHER")

    answers = {
        "unknown id": both_ways(f"{API}/persons/{'0' * 8}-0000-4000-8000-{'0' * 12}", officer),
        "deleted": both_ways(f"{API}/persons/{gone['id']}", officer),
        "restricted": both_ways(f"{API}/persons/{kept['id']}", officer),
        "another agency's": both_ways(f"{API}/persons/{person['id']}", stranger),
        "named on it": both_ways(f"{API}/persons/{kept['id']}", {}),
    }

    statuses = {case: response.status_code for case, (response, _) in answers.items()}
    assert statuses == {
        "unknown id": 404,
        "deleted": 410,
        "restricted": 403,
        "another agency's": 404,
        "named on it": 200,
    }


@pytest.mark.parametrize(
    ("method", "suffix", "headers"),
    [
        ("GET", "?x=1", {}),
        ("GET", "/", {}),
        ("HEAD", "", {}),
        ("OPTIONS", "", {}),
        ("GET", "", {"Host": "bad host"}),
        ("GET", "<hex>", {}),
    ],
    ids=["query", "trailing-slash", "head", "options", "odd-host", "id-without-hyphens"],
)
def test_what_the_direct_path_is_not_made_for_goes_the_long_way(
    client: TestClient[Any], direct: DirectReads, method: str, suffix: str, headers: dict[str, str]
) -> None:
    person = new_record(client, "persons")
    url = f"{API}/persons/{person['id']}{suffix}"
    if suffix == "<hex>":
        url = f"{API}/persons/{person['id'].replace('-', '')}"
    direct.fallback.calls = 0  # type: ignore[attr-defined]

    client.request(method, url, headers=headers)

    assert direct.fallback.calls == 1  # type: ignore[attr-defined]


def test_an_ordinary_read_does_not_go_the_long_way(
    client: TestClient[Any], direct: DirectReads
) -> None:
    person = new_record(client, "persons")
    direct.fallback.calls = 0  # type: ignore[attr-defined]

    answer = client.get(f"{API}/persons/{person['id']}", headers=REASON)

    assert answer.status_code == 200, answer.text
    assert direct.fallback.calls == 0  # type: ignore[attr-defined]


# --- which routes it serves ----------------------------------------------------------------


class _Other:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def _served(**config: Any) -> list[str]:
    """The paths ``DirectReads`` serves of an app of the person routes built with ``config``."""
    config.setdefault("before_request", refuse_misread_text)
    # The dependencies the other person routes name (none is used here)
    config["dependencies"] = {
        name: Provide(lambda: None, sync_to_thread=False) for name in ("db", "door", "actor", "why")
    }
    app = Litestar(route_handlers=[kind_router(BY_NAME["person"])], openapi_config=None, **config)
    return DirectReads(app, app.asgi_handler).paths


ACCESS = DefineMiddleware(AccessMiddleware, authenticator=None)


def _guard(*_: Any) -> None:
    return None


async def _hook(*_: Any) -> None:
    return None


def test_a_route_served_directly_is_one_the_direct_path_does_all_of() -> None:
    # The person routes as Bluelight builds them: their read by id is served directly
    assert _served(middleware=[ACCESS]) == ["/persons/{record_id:uuid}"]
    # A middleware, guard or hook it does not know of leaves the route to Litestar
    assert _served(middleware=[ACCESS, DefineMiddleware(_Other)]) == []
    assert _served(middleware=[ACCESS], guards=[_guard]) == []
    assert _served(middleware=[ACCESS], after_response=_hook) == []
    assert _served(middleware=[ACCESS], before_request=_hook) == []
    # And so does debug mode, whose error pages the direct path does not draw
    assert _served(middleware=[ACCESS], debug=True) == []


def test_a_route_of_another_shape_is_not_served_directly() -> None:
    @get("/things/{thing_id:uuid}", opt={"permission": "x", "authenticate": "in-round"})
    async def thing(request: Request[Any, Any, Any]) -> None:
        return None

    app = Litestar(route_handlers=[thing], before_request=refuse_misread_text, openapi_config=None)
    # Its permission is not a Permission: the access check would close it, so Litestar does
    assert DirectReads(app, app.asgi_handler).paths == []
