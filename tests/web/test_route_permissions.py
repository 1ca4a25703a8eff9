"""The matrix of roles, routes and agencies.

Every route declares the permission it needs (or that it is public). The routes are read from
the app itself, so a route added tomorrow is in the matrix without touching this file (a route
outside the known families fails it until ``CALLS`` learns a plausible request for it). Then,
with a signed-in user for every role:

- every role lacking a route's permission is refused with 403 PERMISSION_DENIED, the refusal
  is audited, and nothing else is written;
- every role holding it is served: the same request succeeds;
- a user of another police force holding every role finds none of our records: each read,
  change, deletion, history, access change and share of them is 404 RECORD_NOT_FOUND, and
  lists leave them out;
- a partner agency sees an event only through the shared view, once it is shared with it.

The matrix runs against a database of its own, built once for the module, with its users
signed in once: the tests only add records to it, so they can share it.
"""

from __future__ import annotations

import itertools
import re
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import create_engine, func, select

from bluelight.app import create_app
from bluelight.audit.door import Act
from bluelight.audit.models import AuditEntry
from bluelight.db import Base, Database
from bluelight.identity import Permission, Role
from bluelight.identity.rules import ROLE_PERMISSIONS
from bluelight.migrations import upgrade
from bluelight.records.kinds import KINDS
from bluelight.web.refusals import route_act
from factories import (
    A_CHANGE,
    API,
    EVERY_ROLE,
    KIND_PATHS,
    REASON,
    assert_problem,
    make_user,
    new_record,
    payload_for,
    settings_for_tests,
    sign_in,
)

BY_PATH = {kind.path: kind for kind in KINDS}
# Litestar adds an OPTIONS handler to every path; it declares nothing, so the guard keeps it
# closed (it is checked below as closed, not as exempt).
GENERATED = "options_handler"
PARTNER_ROLES = frozenset({Role.PARTNER_USER, Role.PROSECUTOR})
FORCE, PARTNER, OTHER_PARTNER, OTHER_FORCE = "DEMO", "FIRE", "AMBO", "XPOL"
# The audit trail grows by one entry for each refusal; every other table must stand still.
AUDIT_TABLES = frozenset({"audit_entries", "audit_subjects"})
COUNT_ROWS = select(
    *(
        select(func.count()).select_from(table).scalar_subquery().label(table.name)
        for table in Base.metadata.sorted_tables
        if table.name not in AUDIT_TABLES
    )
)
NEW_PASSWORD = "a long new passphrase for the matrix"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    opt: dict[str, Any]
    generated: bool

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def permission(self) -> Permission:
        permission: Permission = self.opt["permission"]
        return permission

    @property
    def act(self) -> Act:
        """What the trail calls this route's act, allowed or refused."""
        return route_act(self, self.method)


def endpoints(app: Litestar) -> list[Endpoint]:
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(getattr(handler, "http_methods", ())):
                generated = handler.handler_name == GENERATED
                found.append(Endpoint(method, route.path, dict(handler.opt), generated))
    # Sorted, so that every test worker collects the same tests in the same order.
    return sorted(found, key=lambda e: (e.path, e.method))


def _collect() -> list[Endpoint]:
    """The routes of an app whose database is never opened (its keys go to a scratch folder)."""
    with tempfile.TemporaryDirectory() as scratch:
        app = create_app(
            settings_for_tests("sqlite://", Path(scratch)),
            database=Database(create_engine("sqlite://")),
        )
        return endpoints(app)


ENDPOINTS = _collect()
DECLARED = [e for e in ENDPOINTS if not e.generated]
GUARDED = [e for e in DECLARED if not e.opt.get("public")]
PUBLIC = [e for e in DECLARED if e.opt.get("public")]
REFUSED = [(e, r) for e in GUARDED for r in Role if e.permission not in ROLE_PERMISSIONS[r]]
PERMITTED = [(e, r) for e in GUARDED for r in Role if e.permission in ROLE_PERMISSIONS[r]]


def _case_id(case: Any) -> str:
    if isinstance(case, Endpoint):
        return case.name
    return str(case)


# --- what the routes declare -----------------------------------------------------------------


def test_the_app_has_the_routes_we_expect_to_check() -> None:
    # A sanity check on the collection itself: eight routes for each of seven kinds, three
    # for sharing events and two for the shared view; four for code lists; eleven for sign-in,
    # users, devices and agencies; nine for the audit trail; four for sync.
    api = [e for e in GUARDED if e.path.startswith(API)]
    assert len(api) == 7 * 8 + 3 + 2 + 4 + 11 + 9 + 4
    # The matrix below is not empty either way.
    assert len(REFUSED) > 300
    assert len(PERMITTED) > 200


def test_only_health_the_api_document_and_the_sign_in_steps_are_public_in_the_api() -> None:
    public_api = {e.path for e in PUBLIC if e.path.startswith(API)}
    assert public_api == {
        f"{API}/health",
        f"{API}/openapi.json",
        f"{API}/auth/sign-in",
        f"{API}/auth/second-factor",
    }
    # Outside the API only pages and assets are public, never data.
    assert {e.path for e in PUBLIC if not e.path.startswith(API)} <= {
        "/",
        "/static/{file_path:path}",
        "/api/docs-assets/{name:str}",
        "/api/docs",
        "/api/docs/{path:str}",
        "/api/docs/openapi.json",
        "/api/docs/oauth2-redirect.html",
    }


@pytest.mark.parametrize("endpoint", DECLARED, ids=_case_id)
def test_route_declares_a_permission_or_that_it_is_public(endpoint: Endpoint) -> None:
    if endpoint.opt.get("public"):
        assert "permission" not in endpoint.opt
        # Nothing that touches records, people or the audit trail may be public.
        personal = [*BY_PATH, "vocab", "shared", "users", "devices", "agencies", "audit"]
        assert not endpoint.path.startswith(tuple(f"{API}/{k}" for k in personal))
    else:
        assert isinstance(endpoint.opt.get("permission"), Permission), endpoint.opt


def test_every_permission_guards_some_route_and_some_role_grants_it() -> None:
    assert {e.permission for e in GUARDED} == set(Permission)
    granted = set().union(*ROLE_PERMISSIONS.values())
    assert granted == set(Permission)
    assert set(ROLE_PERMISSIONS) == set(Role)


@pytest.mark.parametrize("endpoint", GUARDED, ids=_case_id)
def test_kind_routes_need_the_kinds_own_permissions(endpoint: Endpoint) -> None:
    # Reads need the kind's read permission, writes its write permission; deleting,
    # importing, restricting and sharing need permissions of their own.
    segment = endpoint.path.removeprefix(f"{API}/").split("/")[0]
    if segment not in BY_PATH:
        return
    kind = BY_PATH[segment]
    if "/shares" in endpoint.path:
        wanted = Permission.RECORD_SHARE
    elif endpoint.path.endswith("/access"):
        wanted = Permission.RECORD_RESTRICT
    elif endpoint.method == "GET":
        wanted = kind.read_permission
    elif endpoint.method == "DELETE":
        wanted = Permission.RECORD_DELETE
    elif endpoint.path.endswith("/import"):
        wanted = Permission.RECORD_IMPORT
    else:
        wanted = kind.write_permission
    assert endpoint.permission is wanted


# --- the world the matrix runs in --------------------------------------------------------------


@dataclass
class World:
    """One app on a database of its own, with a signed-in user for every role."""

    client: TestClient[Any]
    db: Database
    headers: dict[Role, dict[str, str]]
    outsider: dict[str, str]
    owner: dict[str, str]
    records: dict[str, dict[str, Any]]
    target_user: str
    target_device: str
    serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def signed_in(self, roles: list[str], *, agency: str = FORCE, **kw: Any) -> dict[str, str]:
        """A new user with ``roles``, signed in; the headers their requests carry."""
        username = f"m.{next(self.serial)}.{agency.lower()}"
        agency_type = "fire" if agency in (PARTNER, OTHER_PARTNER) else "police"
        make_user(self.client.app, username, roles, agency=agency, agency_type=agency_type)
        granted = sign_in(self.client, username, **kw)
        return {"Authorization": f"Bearer {granted['token']}", **REASON}

    def new_user(self) -> str:
        user = make_user(self.client.app, f"m.{next(self.serial)}.target", ["officer"])
        return str(user.id)

    def new_device(self) -> str:
        device = uuid.uuid4()
        self.signed_in(["officer"], device_id=device)
        return str(device)

    def new_record(self, path: str) -> dict[str, Any]:
        return new_record(self.client, path)

    def audit_size(self) -> int:
        with self.db.read() as session:
            return int(session.execute(select(func.count()).select_from(AuditEntry)).scalar_one())

    def audit_since(self, seq: int) -> list[AuditEntry]:
        with self.db.read() as session:
            rows = list(session.scalars(select(AuditEntry).where(AuditEntry.seq >= seq)))
            session.expunge_all()
            return rows

    def counts(self) -> dict[str, int]:
        """``row_counts`` but the audit trail's, in one query (the matrix asks ~1,000 times)."""
        with self.db.read() as session:
            return dict(session.execute(COUNT_ROWS).one()._asdict())


def _scratch_engine(config: pytest.Config) -> Any:
    """``scratch_engine`` of tests/conftest.py (a conftest is a plugin, not a module to import)."""
    root = config.pluginmanager.get_plugin(str(Path(__file__).parents[1] / "conftest.py"))
    return root.scratch_engine


@pytest.fixture(scope="module")
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    scratch_engine = _scratch_engine(request.config)
    engine, url, drop = scratch_engine(tmp_path_factory.mktemp("matrix"), "matrix")
    upgrade(engine)
    database = Database(engine)
    app = create_app(
        settings_for_tests(url, tmp_path_factory.mktemp("matrix-data")), database=database
    )
    with TestClient(app) as client:
        # The owner of every record: a supervisor of the force, who shares with partners.
        make_user(app, "m.owner", EVERY_ROLE)
        owner = {"Authorization": f"Bearer {sign_in(client, 'm.owner')['token']}", **REASON}
        client.headers.update(owner)
        world = World(
            client=client,
            db=database,
            headers={},
            outsider={},
            owner=owner,
            records={},
            target_user="",
            target_device="",
        )
        for role in Role:
            agency = PARTNER if role in PARTNER_ROLES else FORCE
            world.headers[role] = world.signed_in([str(role)], agency=agency)
        world.outsider = world.signed_in(
            [str(r) for r in Role if r not in PARTNER_ROLES], agency=OTHER_FORCE
        )
        # A second partner agency, so that a share can name one that exists.
        world.signed_in(["partner_user"], agency=OTHER_PARTNER)
        world.records = {path: world.new_record(path) for path in KIND_PATHS}
        shared = client.post(
            f"{API}/events/{world.records['events']['id']}/shares",
            json={"agency": PARTNER, "level": "location"},
        )
        assert shared.status_code == 200, shared.text
        world.target_user = world.new_user()
        world.target_device = world.new_device()
        signed = client.post(f"{API}/audit/tree-heads")
        assert signed.status_code == 200, signed.text
        yield world
    engine.dispose()
    drop()


# --- a plausible request for each route ----------------------------------------------------------

# Requests that change what they name: a role allowed to send them gets a target of its own,
# so the shared records, users and devices stay as they are for the rest of the matrix.
CHANGES_ITS_TARGET = ("PATCH", "PUT", "DELETE")


@dataclass
class Call:
    method: str
    url: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    # Send as this session instead of the role's own (signing out ends the session it uses).
    headers: dict[str, str] | None = None


def _fill(url: str, **values: str) -> str:
    for name, value in values.items():
        url = re.sub(r"\{" + name + r":[a-z]+\}", value, url)
    return url


def call_for(world: World, endpoint: Endpoint, role: Role, *, own_target: bool) -> Call:
    """A request to ``endpoint`` that a user holding its permission would see succeed.

    With ``own_target``, whatever the request changes is made for it alone.
    """
    head = endpoint.path.removeprefix(f"{API}/").split("/")[0]
    build = CALLS.get(head, _record_call)
    return build(world, endpoint, role, own_target)


def _vocab_call(world: World, endpoint: Endpoint, role: Role, own_target: bool) -> Call:
    url = _fill(endpoint.path, name="sex", force="WMP")
    csv = {"content": b"1,Male,M\n", "headers": {"Content-Type": "text/csv"}}
    return Call(endpoint.method, url, csv if endpoint.method == "PUT" else {})


def _auth_call(world: World, endpoint: Endpoint, role: Role, own_target: bool) -> Call:
    session = None
    if endpoint.path.endswith("sign-out") and own_target:
        # Signing out ends the session it is sent with: send it with a session of its own.
        agency = PARTNER if role in PARTNER_ROLES else FORCE
        session = world.signed_in([str(role)], agency=agency)
    return Call(endpoint.method, endpoint.path, headers=session)


def _users_call(world: World, endpoint: Endpoint, role: Role, own_target: bool) -> Call:
    method, path = endpoint.method, endpoint.path
    changes = own_target and method != "GET" and "{user_id" in path
    url = _fill(path, user_id=world.new_user() if changes else world.target_user)
    body: dict[str, Any] | None = None
    if method == "POST" and path.endswith("/users"):
        body = {
            "username": f"m.{next(world.serial)}.made",
            "display_name": "Made In The Matrix",
            "password": NEW_PASSWORD,
            "roles": ["officer"],
        }
    elif method == "PATCH":
        body = {"version": 1, "display_name": "Changed"}
    elif path.endswith("/reset"):
        body = {"password": NEW_PASSWORD}
    return Call(method, url, {"json": body} if body else {})


def _devices_call(world: World, endpoint: Endpoint, role: Role, own_target: bool) -> Call:
    revoking = endpoint.method == "POST"
    device = world.new_device() if own_target and revoking else world.target_device
    url = _fill(endpoint.path, device_id=device)
    return Call(endpoint.method, url, {"json": {"reason": "matrix test"}} if revoking else {})


def _audit_call(world: World, endpoint: Endpoint, role: Role, own_target: bool) -> Call:
    query = {
        f"{API}/audit/export": "?format=json",
        f"{API}/audit/proofs/inclusion": "?seq=0",
        f"{API}/audit/proofs/consistency": "?first=1&second=2",
    }.get(endpoint.path, "")
    return Call(endpoint.method, _fill(endpoint.path, seq="0") + query)


def _shared_call(world: World, endpoint: Endpoint, role: Role, own_target: bool) -> Call:
    return Call(endpoint.method, _fill(endpoint.path, record_id=world.records["events"]["id"]))


def _sync_call(world: World, endpoint: Endpoint, role: Role, own_target: bool) -> Call:
    if endpoint.method == "GET":
        return Call(endpoint.method, endpoint.path)
    operation = {
        "id": str(uuid.uuid4()),
        "kind": "property",
        "action": "create",
        "record_id": str(uuid.uuid4()),
        "content": payload_for(world.client, "property"),
    }
    return Call(endpoint.method, endpoint.path, {"json": {"operations": [operation]}})


def _plain_call(world: World, endpoint: Endpoint, role: Role, own_target: bool) -> Call:
    return Call(endpoint.method, endpoint.path)


def _record_call(world: World, endpoint: Endpoint, role: Role, own_target: bool) -> Call:
    method, path = endpoint.method, endpoint.path
    kind_path = path.removeprefix(f"{API}/").split("/")[0]
    assert kind_path in BY_PATH, f"no plausible request is known for {endpoint.name}"
    changes = own_target and (method in CHANGES_ITS_TARGET or path.endswith("/shares"))
    record = world.new_record(kind_path) if changes else world.records[kind_path]
    url = _fill(path, record_id=record["id"], agency=PARTNER)
    version = record["version"]
    if "/shares/" in path and changes:
        shared = world.client.post(
            f"{API}/{kind_path}/{record['id']}/shares", json={"agency": PARTNER, "level": "full"}
        )
        assert shared.status_code == 200, shared.text
    body: dict[str, Any] | None = None
    if path.endswith("/import"):
        body = {"source_force": "WMP", "records": [payload_for(world.client, kind_path)]}
    elif path.endswith("/shares"):
        body = {"agency": PARTNER, "level": "location"} if method == "POST" else None
    elif path.endswith("/access"):
        body = {"version": version, "classification": "OFFICIAL"}
    elif method == "POST":
        body = payload_for(world.client, kind_path)
    elif method == "PATCH":
        body = {"version": version, **A_CHANGE[kind_path]}
    elif method == "DELETE" and "/shares/" not in path:
        body = {"version": version, "reason": "matrix test"}
    return Call(method, url, {"json": body} if body else {})


CALLS = {
    "vocab": _vocab_call,
    "auth": _auth_call,
    "users": _users_call,
    "devices": _devices_call,
    "audit": _audit_call,
    "shared": _shared_call,
    "agencies": _plain_call,
    "sync": _sync_call,
}


def send(world: World, call: Call, headers: dict[str, str]) -> Any:
    sent = {**call.kwargs.get("headers", {}), **(call.headers or headers)}
    return world.client.request(call.method, call.url, **{**call.kwargs, "headers": sent})


# --- role by route -----------------------------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "role"), REFUSED, ids=_case_id)
def test_route_refuses_every_role_lacking_its_permission(
    world: World, endpoint: Endpoint, role: Role
) -> None:
    # Given a request that a user holding the route's permission would see succeed
    call = call_for(world, endpoint, role, own_target=False)
    before, audited = world.counts(), world.audit_size()

    # When a user whose role lacks the permission sends it
    response = send(world, call, world.headers[role])

    # Then it is refused, naming the permission, and nothing is written
    body = assert_problem(response, 403, "PERMISSION_DENIED")
    assert body["permission"] == endpoint.permission.value
    assert world.counts() == before
    # but the refusal itself, once, in the audit trail
    entries = world.audit_since(audited)
    assert [(e.tag, e.outcome, e.action) for e in entries] == [
        (endpoint.act.tag, "denied", endpoint.act.action)
    ]
    assert entries[0].agency == (PARTNER if role in PARTNER_ROLES else FORCE)


@pytest.mark.parametrize(("endpoint", "role"), PERMITTED, ids=_case_id)
def test_route_serves_every_role_holding_its_permission(
    world: World, endpoint: Endpoint, role: Role
) -> None:
    # Given the same kind of request (with a target of its own, where it changes one)
    call = call_for(world, endpoint, role, own_target=True)
    audited = world.audit_size()

    # When a user whose role holds the permission sends it
    response = send(world, call, world.headers[role])

    # Then the guard lets it through, and it succeeds: so the request each refusal above was
    # tested with is one that would have worked
    assert 200 <= response.status_code < 300, response.text
    denied = [(e.tag, e.outcome) for e in world.audit_since(audited)]
    assert (endpoint.act.tag, "denied") not in denied


def _placeholder(match: re.Match[str]) -> str:
    kind = match[0].strip("{}").split(":")[-1]
    return {"uuid": str(uuid.uuid4()), "int": "0"}.get(kind, "sex")


@pytest.mark.parametrize(
    "endpoint",
    [e for e in ENDPOINTS if e.generated and not e.opt.get("public")],
    ids=_case_id,
)
def test_route_that_declares_nothing_is_closed_even_to_a_user_with_every_role(
    world: World, endpoint: Endpoint
) -> None:
    url = re.sub(r"\{[^}]+\}", _placeholder, endpoint.path)
    # OPTIONS skips authentication in Litestar; the permission guard still closes it.
    response = world.client.request(endpoint.method, url, headers=world.outsider)
    assert_problem(response, 403, "ROUTE_CLOSED")


# --- another force ---------------------------------------------------------------------------


def _reach(path: str, record: dict[str, Any]) -> list[Call]:
    """Every way of reaching one record by its id."""
    url = f"{API}/{path}/{record['id']}"
    version = {"version": record["version"]}
    calls = [
        Call("GET", url),
        Call("GET", f"{url}/history"),
        Call("PATCH", url, {"json": {**version, **A_CHANGE[path]}}),
        Call("DELETE", url, {"json": {**version, "reason": "not ours"}}),
        Call("PUT", f"{url}/access", {"json": {**version, "restricted": True}}),
    ]
    if path == "events":
        calls += [
            Call("GET", f"{url}/shares"),
            Call("POST", f"{url}/shares", {"json": {"agency": OTHER_PARTNER, "level": "full"}}),
            Call("DELETE", f"{url}/shares/{PARTNER}"),
        ]
    return calls


def _listed(world: World, path: str, headers: dict[str, str]) -> dict[str, str]:
    """Every record a user's list of ``path`` shows, page by page: id to owning agency."""
    found: dict[str, str] = {}
    cursor = None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = world.client.get(f"{API}/{path}", params=params, headers=headers)
        assert page.status_code == 200, page.text
        found.update({r["id"]: r["owner_agency"] for r in page.json()["items"]})
        cursor = page.json()["next_cursor"]
        if not cursor:
            return found


@pytest.mark.parametrize("path", KIND_PATHS)
def test_another_force_finds_none_of_our_records(world: World, path: str) -> None:
    # Given a record of ours (an event shared with a partner, too)
    record = world.new_record(path)
    if path == "events":
        shared = world.client.post(
            f"{API}/events/{record['id']}/shares", json={"agency": PARTNER, "level": "full"}
        )
        assert shared.status_code == 200, shared.text
    before = world.counts()

    # When a user of another force, holding every role a force's user may, reaches for it in
    # every way
    for call in _reach(path, record):
        response = send(world, call, world.outsider)

        # Then it does not exist for them
        assert_problem(response, 404, "RECORD_NOT_FOUND")

    # And nothing changed
    assert world.counts() == before
    # And their lists hold none of our records, though ours hold this one
    theirs = _listed(world, path, world.outsider)
    assert record["id"] not in theirs
    assert set(theirs.values()) <= {OTHER_FORCE}
    assert _listed(world, path, world.owner)[record["id"]] == FORCE
    # And the partners' shared view is closed to them: a force's users hold no partner role
    assert_problem(
        world.client.get(f"{API}/shared/events/{record['id']}", headers=world.outsider),
        403,
        "PERMISSION_DENIED",
    )


def test_our_records_are_not_visible_the_other_way_either(world: World) -> None:
    theirs = world.client.post(
        f"{API}/persons", json=payload_for(world.client, "persons"), headers=world.outsider
    )
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["owner_agency"] == OTHER_FORCE

    assert_problem(
        world.client.get(f"{API}/persons/{theirs.json()['id']}"), 404, "RECORD_NOT_FOUND"
    )


@pytest.mark.parametrize("path", ["links", "markers"])
def test_another_force_cannot_point_its_records_at_ours(world: World, path: str) -> None:
    person = world.new_record("persons")
    event = world.new_record("events")
    payload = payload_for(world.client, path)
    if path == "links":
        payload.update(from_id=person["id"], to_id=event["id"])
    else:
        payload["subject_id"] = person["id"]
    before = world.counts()

    response = world.client.post(f"{API}/{path}", json=payload, headers=world.outsider)

    assert response.status_code == 422, response.text
    assert "REFERENCE_NOT_FOUND" in response.text
    assert world.counts() == before


def test_another_force_cannot_administer_our_users_or_devices(world: World) -> None:
    user, device = world.new_user(), world.new_device()
    before = world.counts()

    changed = world.client.patch(
        f"{API}/users/{user}", json={"version": 1, "disabled": True}, headers=world.outsider
    )
    reset = world.client.post(
        f"{API}/users/{user}/reset", json={"password": NEW_PASSWORD}, headers=world.outsider
    )
    unlocked = world.client.post(f"{API}/users/{user}/unlock", headers=world.outsider)
    revoked = world.client.post(
        f"{API}/devices/{device}/revoke", json={"reason": "not ours"}, headers=world.outsider
    )
    users = world.client.get(f"{API}/users", headers=world.outsider).json()
    devices = world.client.get(f"{API}/devices", headers=world.outsider).json()

    for response in (changed, reset, unlocked):
        assert_problem(response, 404, "USER_NOT_FOUND")
    assert_problem(revoked, 404, "DEVICE_NOT_FOUND")
    assert {u["agency"] for u in users} == {OTHER_FORCE}
    assert {d["agency"] for d in devices} == {OTHER_FORCE}
    assert world.counts() == before


# --- partners ---------------------------------------------------------------------------------


def test_a_partner_sees_an_event_only_through_the_shared_view_once_shared(world: World) -> None:
    # Given an event of ours, not shared, and a fire service user
    event = world.new_record("events")
    partner = world.headers[Role.PARTNER_USER]
    prosecutor = world.headers[Role.PROSECUTOR]
    other_partner = world.signed_in(["partner_user"], agency=OTHER_PARTNER)

    def shared_ids(headers: dict[str, str]) -> set[str]:
        page = world.client.get(f"{API}/shared/events", params={"limit": 200}, headers=headers)
        assert page.status_code == 200, page.text
        return {e["id"] for e in page.json()["items"]}

    # Then they cannot see it, neither shared nor directly
    assert event["id"] not in shared_ids(partner)
    read = f"{API}/shared/events/{event['id']}"
    assert_problem(world.client.get(read, headers=partner), 404, "RECORD_NOT_FOUND")
    assert_problem(
        world.client.get(f"{API}/events/{event['id']}", headers=partner), 403, "PERMISSION_DENIED"
    )

    # When we share it with the fire service at the operational level
    shared = world.client.post(
        f"{API}/events/{event['id']}/shares", json={"agency": PARTNER, "level": "operational"}
    )
    assert shared.status_code == 200, shared.text

    # Then its users see it, at that level, in the shared view only
    assert event["id"] in shared_ids(partner)
    assert event["id"] in shared_ids(prosecutor)
    seen = world.client.get(read, headers=partner)
    assert seen.status_code == 200, seen.text
    assert seen.json()["share_level"] == "operational"
    assert seen.json()["narrative"] == event["narrative"]
    assert seen.json().get("persons") is None
    assert_problem(
        world.client.get(f"{API}/events/{event['id']}", headers=partner), 403, "PERMISSION_DENIED"
    )
    # But another partner agency still cannot
    assert event["id"] not in shared_ids(other_partner)
    assert_problem(world.client.get(read, headers=other_partner), 404, "RECORD_NOT_FOUND")

    # When we stop sharing it, it is gone from their view again
    stopped = world.client.delete(f"{API}/events/{event['id']}/shares/{PARTNER}")
    assert stopped.status_code == 200, stopped.text
    assert event["id"] not in shared_ids(partner)
    assert_problem(world.client.get(read, headers=partner), 404, "RECORD_NOT_FOUND")
