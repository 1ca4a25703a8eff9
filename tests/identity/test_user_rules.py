"""The rules of user administration a hostile reviewer found loose: requests without a body,
users added to another agency, roles that do not belong to the agency's kind, and the last
administrator of an agency removing themselves."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from bluelight.db import Database
from bluelight.identity import Actor, Role, permissions_of, queries, system_actor
from bluelight.identity.errors import IdentityError
from bluelight.identity.schemas import UserChange
from bluelight.identity.services import users
from factories import API, assert_problem, make_user, row_counts

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


# --- the agency a new user joins -------------------------------------------------------------


def _new_user(username: str, roles: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "username": username,
        "display_name": username.title(),
        "password": NEW_PASSWORD,
        "roles": roles,
        **extra,
    }


@pytest.mark.parametrize("other", ["NFRS", "XPOL", "NOWHERE"])
def test_an_administrator_cannot_add_a_user_to_another_agency(
    door: Door, anonymous: TestClient[Any], db: Database, trail: Trail, other: str
) -> None:
    # Given an administrator of DEMO, and other agencies (a partner, a force, and a code no
    # agency has)
    make_user(anonymous.app, "ff.one", ["partner_user"], agency="NFRS", agency_type="fire")
    make_user(anonymous.app, "pc.xpol", ["officer"], agency="XPOL")
    admin = door.headers("admin.here", ["agency_admin"])
    before = row_counts(db)
    start = trail.size()

    # When they add a user naming another agency
    response = anonymous.post(
        f"{API}/users", json=_new_user("pc.elsewhere", ["officer"], agency=other), headers=admin
    )

    # Then they are refused, no user is made anywhere, and the attempt is on the trail
    body = assert_problem(response, 403, "OTHER_AGENCY")
    assert body["agency"] == other
    assert "DEMO" in body["detail"]
    denied = trail.since(start)
    assert [(e.outcome, e.actor_username) for e in denied] == [("denied", "admin.here")]
    after = row_counts(db)
    assert after["users"] == before["users"]
    assert {k: v for k, v in after.items() if not k.startswith("audit_")} == {
        k: v for k, v in before.items() if not k.startswith("audit_")
    }


@pytest.mark.parametrize("agency", [{"agency": "DEMO"}, {}], ids=["own-agency", "no-agency"])
def test_an_administrator_adds_a_user_to_their_own_agency(
    door: Door, anonymous: TestClient[Any], agency: dict[str, str]
) -> None:
    admin = door.headers("admin.home", ["agency_admin"])

    response = anonymous.post(
        f"{API}/users", json=_new_user("pc.home", ["officer"], **agency), headers=admin
    )

    assert response.status_code == 201, response.text
    assert response.json()["agency"] == "DEMO"
    assert _users(anonymous, admin)["pc.home"]["agency"] == "DEMO"


# --- roles belong to the kind of agency ----------------------------------------------------


@pytest.mark.parametrize("role", ["partner_user", "prosecutor"])
def test_a_police_user_cannot_be_made_with_a_partner_role(
    door: Door, anonymous: TestClient[Any], db: Database, trail: Trail, role: str
) -> None:
    # Given an administrator of a police force
    admin = door.headers("admin.kinds", ["agency_admin"])
    before = row_counts(db)
    start = trail.size()

    # When they add a user holding a partner role, alone or beside a police one
    alone = anonymous.post(f"{API}/users", json=_new_user("pc.partner", [role]), headers=admin)
    mixed = anonymous.post(
        f"{API}/users", json=_new_user("pc.mixed", ["officer", role]), headers=admin
    )

    # Then both are refused, naming the role, and no one is made
    for response in (alone, mixed):
        body = assert_problem(response, 403, "ROLE_NOT_GRANTABLE")
        assert body["roles"] == [role]
        assert "partner agency" in body["detail"]
    assert row_counts(db)["users"] == before["users"]
    # and both attempts are on the trail as refused
    denied = trail.since(start)
    assert [(e.outcome, e.actor_username, e.detail["code"]) for e in denied] == [
        ("denied", "admin.kinds", "ROLE_NOT_GRANTABLE")
    ] * 2


@pytest.mark.parametrize("role", ["partner_user", "prosecutor"])
def test_a_police_user_cannot_be_given_a_partner_role(
    door: Door, anonymous: TestClient[Any], role: str
) -> None:
    # Given a police officer and their administrator
    door.headers("pc.kept", ["officer"])
    admin = door.headers("admin.keeps", ["agency_admin"])
    officer = _users(anonymous, admin)["pc.kept"]

    # When the administrator gives the officer a partner role
    changed = anonymous.patch(
        f"{API}/users/{officer['id']}",
        json={"version": officer["version"], "roles": ["officer", role]},
        headers=admin,
    )

    # Then it is refused and the officer keeps the roles they had
    assert_problem(changed, 403, "ROLE_NOT_GRANTABLE")
    assert _users(anonymous, admin)["pc.kept"]["roles"] == ["officer"]


@pytest.mark.parametrize("change", [["prosecutor"], ["partner_user"], ["officer"]])
@pytest.mark.parametrize(("agency", "agency_type", "role"), [
    ("DEMO", "police", "officer"),
    ("NFRS", "fire", "partner_user"),
    ("CPS", "prosecutor", "prosecutor"),
])  # fmt: skip
def test_the_platform_changes_roles_only_within_the_agency_kind(
    anonymous: TestClient[Any],
    *,
    agency: str,
    agency_type: str,
    role: str,
    change: list[str],
) -> None:
    # Given a user of a force or of a partner agency
    user = make_user(anonymous.app, "u.kind", [role], agency=agency, agency_type=agency_type)
    police = agency_type == "police"
    allowed = police == (change == ["officer"])

    # When the platform itself changes their roles
    def apply() -> Any:
        return users.change_user(
            anonymous.app.state.database,
            user.id,
            UserChange(version=user.version, roles=[Role(r) for r in change]),
            actor=system_actor(agency),
        )

    # Then a role of the agency's kind is given, and one of the other kind refused
    if allowed:
        assert apply().roles == change
    else:
        with pytest.raises(IdentityError) as refused:
            apply()
        assert refused.value.code == "ROLE_NOT_GRANTABLE"
        assert refused.value.extra["roles"] == change


# --- the last administrator --------------------------------------------------------------------

LOSE_ADMIN = {"demoted": {"roles": ["officer"]}, "disabled": {"disabled": True}}


def _patch(
    client: TestClient[Any], admin: dict[str, str], user: dict[str, Any], change: dict[str, Any]
) -> Any:
    return client.patch(
        f"{API}/users/{user['id']}", json={"version": user["version"], **change}, headers=admin
    )


@pytest.mark.parametrize("change", list(LOSE_ADMIN))
def test_the_last_administrator_cannot_remove_themselves(
    door: Door, anonymous: TestClient[Any], db: Database, trail: Trail, change: str
) -> None:
    # Given an agency whose only administrator is signed in (beside an officer)
    door.headers("pc.bystander", ["officer"])
    admin = door.headers("admin.only", ["agency_admin"])
    me = _users(anonymous, admin)["admin.only"]
    before = row_counts(db)
    start = trail.size()

    # When they demote or disable themselves
    response = _patch(anonymous, admin, me, LOSE_ADMIN[change])

    # Then it is refused, and they remain an enabled administrator with their session
    body = assert_problem(response, 409, "LAST_ADMINISTRATOR")
    assert body["agency"] == "DEMO"
    assert "admin.only" in body["detail"]
    after = _users(anonymous, admin)["admin.only"]
    assert (after["roles"], after["disabled_at"], after["version"]) == (
        ["agency_admin"],
        None,
        me["version"],
    )
    assert row_counts(db) == before
    assert trail.since(start) == []


@pytest.mark.parametrize("change", list(LOSE_ADMIN))
def test_an_administrator_cannot_remove_the_other_when_one_of_two_is_disabled(
    door: Door, anonymous: TestClient[Any], change: str
) -> None:
    # Given two administrators, one of whom the other has disabled
    admin = door.headers("admin.first", ["agency_admin"])
    door.headers("admin.second", ["agency_admin"])
    second = _users(anonymous, admin)["admin.second"]
    assert _patch(anonymous, admin, second, {"disabled": True}).status_code == 200

    # When the one still enabled removes themselves
    me = _users(anonymous, admin)["admin.first"]
    response = _patch(anonymous, admin, me, LOSE_ADMIN[change])

    # Then it is refused: a disabled administrator manages nothing
    assert_problem(response, 409, "LAST_ADMINISTRATOR")


def test_an_administrator_may_step_down_once_another_is_in_place(
    door: Door, anonymous: TestClient[Any]
) -> None:
    # Given an administrator, who makes a signed-in officer an administrator too
    admin = door.headers("admin.leaving", ["agency_admin"])
    rising = door.headers("pc.rising", ["officer"])
    promoted = _patch(
        anonymous, admin, _users(anonymous, admin)["pc.rising"], {"roles": ["agency_admin"]}
    )
    assert promoted.status_code == 200, promoted.text

    # When the first steps down, keeping a police role
    me = _users(anonymous, admin)["admin.leaving"]
    stepped = _patch(anonymous, admin, me, {"roles": ["officer"]})

    # Then it is allowed, and the newcomer, now the last administrator, may disable them
    assert stepped.status_code == 200, stepped.text
    assert stepped.json()["roles"] == ["officer"]
    assert _patch(anonymous, rising, stepped.json(), {"disabled": True}).status_code == 200
    # But may not step down in turn
    assert_problem(
        _patch(anonymous, rising, promoted.json(), {"roles": ["officer"]}),
        409,
        "LAST_ADMINISTRATOR",
    )


def test_changes_that_keep_an_administrator_are_not_refused(
    door: Door, anonymous: TestClient[Any]
) -> None:
    # Given the only administrator of an agency
    admin = door.headers("admin.sole", ["agency_admin"])
    me = _users(anonymous, admin)["admin.sole"]

    # When they change their name, or add a role, keeping agency_admin
    renamed = _patch(anonymous, admin, me, {"display_name": "Sole Administrator"})
    more = _patch(anonymous, admin, renamed.json(), {"roles": ["agency_admin", "officer"]})

    # Then both are applied
    assert renamed.status_code == 200, renamed.text
    assert more.status_code == 200, more.text
    assert more.json()["roles"] == ["agency_admin", "officer"]


def _meet_before(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make two writers meet just before ``users.<name>``, if the database lets both in.

    A writer the database holds back never arrives; the other waits a second, then goes on.
    """
    both_there = threading.Barrier(2, timeout=1)
    original: Callable[..., Any] = getattr(users, name)

    def meet_then(*args: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            both_there.wait()
        return original(*args)

    monkeypatch.setattr(users, name, meet_then)


@pytest.mark.parametrize("who", ["themselves", "each-other"])
@pytest.mark.parametrize("change", list(LOSE_ADMIN))
def test_two_administrators_removed_at_once_leave_one(
    anonymous: TestClient[Any],
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    *,
    change: str,
    who: str,
) -> None:
    # Given the two administrators of an agency, each of whom would find the other still
    # there if the database let them both look at once
    pair = [make_user(anonymous.app, f"admin.{n}", ["agency_admin"]) for n in ("a", "b")]
    actors = [
        Actor(str(u.id), u.username, "DEMO", permissions_of([Role.AGENCY_ADMIN])) for u in pair
    ]
    targets = pair if who == "themselves" else pair[::-1]
    _meet_before(monkeypatch, "_other_administrator")

    def remove(i: int) -> str:
        data = msgspec.convert({"version": 1, **LOSE_ADMIN[change]}, UserChange)
        try:
            users.change_user(db, targets[i].id, data, actor=actors[i])
        except IdentityError as exc:
            return exc.code
        return "applied"

    # When both changes are made at the same moment
    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(remove, range(2)))

    # Then one is applied and the other refused: the agency keeps an administrator
    assert outcomes == ["LAST_ADMINISTRATOR", "applied"]
    left = [
        u
        for u in queries.list_users(db, actor=system_actor("DEMO"))
        if "agency_admin" in u.roles and u.disabled_at is None
    ]
    assert len(left) == 1


# --- names people read -----------------------------------------------------------------------

# Text that would display in another order than it is stored, or look like other text
UNREADABLE = {
    "right-to-left override": "PC \u202eafakO",
    "pop directional": "PC Okafor\u202c",
    "zero-width space": "PC O\u200bkafor",
    "line break": "PC\nOkafor",
    "last line break": "PC Okafor\n",
    "control": "PC \x07Okafor",
    "byte order mark": "\ufeffPC Okafor",
}


@pytest.mark.parametrize("name", list(UNREADABLE.values()), ids=list(UNREADABLE))
def test_a_display_name_that_reads_otherwise_than_stored_is_refused(
    door: Door, anonymous: TestClient[Any], db: Database, name: str
) -> None:
    # Given an administrator and an officer
    admin = door.headers("admin.names", ["agency_admin"])
    door.headers("pc.named", ["officer"])
    officer = _users(anonymous, admin)["pc.named"]
    before = row_counts(db)

    # When a user is added, or renamed, with such a name
    added = anonymous.post(
        f"{API}/users",
        json={**_new_user("pc.hidden", ["officer"]), "display_name": name},
        headers=admin,
    )
    renamed = _patch(anonymous, admin, officer, {"display_name": name})

    # Then both are refused as badly formed, naming the field, and nothing changes
    for response in (added, renamed):
        assert assert_problem(response, 400, "INVALID_FORMAT")["field"] == "display_name"
    assert row_counts(db)["users"] == before["users"]
    assert _users(anonymous, admin)["pc.named"]["display_name"] == officer["display_name"]


def test_names_in_any_script_with_their_joiners_are_kept(
    door: Door, anonymous: TestClient[Any]
) -> None:
    admin = door.headers("admin.scripts", ["agency_admin"])
    # A Persian name with its zero-width non-joiner (U+200C), and Latin with diacritics
    farsi = "\u0634\u0647\u0631\u0647\u200c\u0627\u06cc"
    for username, name in [("pc.farsi", farsi), ("pc.zoe", "Zoë O'Brien-Łukasz")]:
        added = anonymous.post(
            f"{API}/users",
            json={**_new_user(username, ["officer"]), "display_name": name},
            headers=admin,
        )
        assert added.status_code == 201, added.text
        assert added.json()["display_name"] == name


@pytest.mark.parametrize("name", ["phone\u202e", "phone\n", "pho\x00ne"])
def test_a_device_name_that_reads_otherwise_than_stored_is_refused(
    anonymous: TestClient[Any], name: str
) -> None:
    response = anonymous.post(
        f"{API}/auth/sign-in",
        json={
            "username": "nobody.here",
            "password": "whatever it is",
            "device": {"id": "01a23cfb-9b5f-712e-b54c-d6bcab25b2d4", "name": name},
        },
    )
    assert_problem(response, 400, "INVALID_FORMAT")
