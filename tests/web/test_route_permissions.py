"""Every route declares the permission it needs (or that it is public), and refuses an actor
holding every permission but that one. The routes are read from the app itself, so a route
added tomorrow is covered without touching this file."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import create_engine

from bluelight.app import create_app
from bluelight.db import Database
from bluelight.identity import ALL_PERMISSIONS, Actor, Permission
from bluelight.records.kinds import KINDS
from bluelight.settings import Settings
from bluelight.web.auth import StaticTokens
from factories import A_CHANGE, API, assert_problem, payload_for, row_counts

BY_PATH = {kind.path: kind for kind in KINDS}
# Litestar adds an OPTIONS handler to every path; it declares nothing, so the guard keeps it
# closed (it is checked below as closed, not as exempt).
GENERATED = "options_handler"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    opt: dict[str, Any]
    generated: bool

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


def endpoints(app: Litestar) -> list[Endpoint]:
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(getattr(handler, "http_methods", ())):
                generated = handler.handler_name == GENERATED
                found.append(Endpoint(method, route.path, dict(handler.opt), generated))
    # Sorted, so that every test worker collects the same tests in the same order.
    return sorted(found, key=lambda e: (e.path, e.method))


# The routes are collected once, from an app whose database is never opened.
_APP = create_app(
    Settings(database_url="sqlite://", dev_token="collect", env="test"),
    database=Database(create_engine("sqlite://")),
)
ENDPOINTS = endpoints(_APP)
DECLARED = [e for e in ENDPOINTS if not e.generated]
GUARDED = [e for e in DECLARED if not e.opt.get("public")]
PUBLIC = [e for e in DECLARED if e.opt.get("public")]


def test_the_app_has_the_routes_we_expect_to_check() -> None:
    # A sanity check on the collection itself: 7 routes for each of 7 kinds, 4 for code lists.
    assert len([e for e in GUARDED if e.path.startswith(API)]) == 7 * 7 + 4
    assert {e.path for e in PUBLIC} >= {f"{API}/health", f"{API}/openapi.json", "/"}


@pytest.mark.parametrize("endpoint", DECLARED, ids=lambda e: e.name)
def test_route_declares_a_permission_or_that_it_is_public(endpoint: Endpoint) -> None:
    if endpoint.opt.get("public"):
        assert "permission" not in endpoint.opt
        # Nothing under the API that touches records may be public.
        assert not endpoint.path.startswith(tuple(f"{API}/{k}" for k in [*BY_PATH, "vocab"]))
    else:
        assert isinstance(endpoint.opt.get("permission"), Permission), endpoint.opt


def test_every_permission_guards_some_route() -> None:
    assert {e.opt["permission"] for e in GUARDED} == set(Permission)


@pytest.mark.parametrize("endpoint", GUARDED, ids=lambda e: e.name)
def test_kind_routes_need_the_kinds_own_permissions(endpoint: Endpoint) -> None:
    # Reads need the kind's read permission, writes its write permission; deleting and
    # importing need the permissions of their own.
    segment = endpoint.path.removeprefix(f"{API}/").split("/")[0]
    if segment not in BY_PATH:
        return
    kind = BY_PATH[segment]
    if endpoint.method == "GET":
        wanted = kind.read_permission
    elif endpoint.method == "DELETE":
        wanted = Permission.RECORD_DELETE
    elif endpoint.path.endswith("/import"):
        wanted = Permission.RECORD_IMPORT
    else:
        wanted = kind.write_permission
    assert endpoint.opt["permission"] is wanted


# --- every guarded route refuses an actor short of its permission ---------------------------


def _without(permission: Permission) -> Actor:
    return Actor(
        "u-" + permission.name, "short." + permission.name, "DEMO", ALL_PERMISSIONS - {permission}
    )


TOKENS = {f"without-{p.name}": _without(p) for p in Permission} | {
    "everything": Actor("u-all", "all.permitted", "DEMO", ALL_PERMISSIONS)
}


@pytest.fixture(scope="module")
def matrix_app(migrated: tuple[Any, str]) -> Litestar:
    engine, url = migrated
    settings = Settings(database_url=url, dev_token="unused", env="test")
    return create_app(settings, database=Database(engine), authenticator=StaticTokens(TOKENS))


@pytest.fixture
def everything(matrix_app: Litestar, db: Database) -> Iterator[TestClient[Any]]:
    with TestClient(matrix_app) as c:
        c.headers["Authorization"] = "Bearer everything"
        yield c


def _request(client: TestClient[Any], endpoint: Endpoint) -> tuple[str, dict[str, Any], int]:
    """A request to ``endpoint`` that an actor with every permission would see succeed
    (writing, where the route writes), and the status it would get."""
    segments = endpoint.path.removeprefix(f"{API}/").split("/")
    kwargs: dict[str, Any] = {}
    if segments[0] == "vocab":
        url = endpoint.path.replace("{name:str}", "sex").replace("{force:str}", "WMP")
        if endpoint.method == "PUT":
            kwargs = {"content": b"1,Male,M\n", "headers": {"Content-Type": "text/csv"}}
        return url, kwargs, 200
    path = segments[0]
    if "{record_id:uuid}" in endpoint.path:
        created = client.post(f"{API}/{path}", json=payload_for(client, path))
        assert created.status_code == 201, created.text
        url = endpoint.path.replace("{record_id:uuid}", created.json()["id"])
    else:
        url = endpoint.path
    if endpoint.method == "POST" and url.endswith("/import"):
        kwargs = {"json": {"source_force": "WMP", "records": [payload_for(client, path)]}}
        return url, kwargs, 200
    if endpoint.method == "POST":
        return url, {"json": payload_for(client, path)}, 201
    if endpoint.method == "PATCH":
        return url, {"json": {"version": 1, **A_CHANGE[path]}}, 200
    if endpoint.method == "DELETE":
        return url, {"json": {"version": 1, "reason": "permission test"}}, 200
    return url, kwargs, 200


@pytest.mark.parametrize("endpoint", GUARDED, ids=lambda e: e.name)
def test_route_refuses_an_actor_lacking_its_permission(
    everything: TestClient[Any], db: Database, endpoint: Endpoint
) -> None:
    # Given a request that would succeed for an actor holding every permission
    permission = endpoint.opt["permission"]
    url, kwargs, ok = _request(everything, endpoint)
    before = row_counts(db)

    # When an actor holding every permission except the route's own sends it
    denied = everything.request(
        endpoint.method, url, **_with_token(kwargs, f"without-{permission.name}")
    )

    # Then it is refused, naming the permission, and nothing is written
    body = assert_problem(denied, 403, "FORBIDDEN")
    assert body["permission"] == permission.value
    assert row_counts(db) == before

    # And the very same request succeeds for an actor who holds it
    allowed = everything.request(endpoint.method, url, **kwargs)
    assert allowed.status_code == ok, allowed.text


def _with_token(kwargs: dict[str, Any], token: str) -> dict[str, Any]:
    headers = {**kwargs.get("headers", {}), "Authorization": f"Bearer {token}"}
    return {**kwargs, "headers": headers}


@pytest.mark.parametrize(
    "endpoint",
    [e for e in ENDPOINTS if e.generated and not e.opt.get("public")],
    ids=lambda e: e.name,
)
def test_route_that_declares_nothing_is_closed_even_to_an_actor_with_every_permission(
    everything: TestClient[Any], endpoint: Endpoint
) -> None:
    url = re.sub(
        r"\{[^}]+\}", lambda m: str(uuid.uuid4()) if "uuid" in m[0] else "sex", endpoint.path
    )
    # OPTIONS skips authentication in Litestar; the permission guard still closes it.
    assert_problem(everything.request(endpoint.method, url), 403, "FORBIDDEN")
