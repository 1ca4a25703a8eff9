"""Sessions after sign-in: timeouts, sign-out, disabled users, revoked devices, bad tokens,
and the administration of users (who may grant what), each act audited once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from bluelight.db import Database
from bluelight.identity import Role
from bluelight.identity.errors import IdentityError
from bluelight.identity.rules import ROLE_PERMISSIONS, permissions_of
from factories import API, assert_problem, make_user, row_counts

# The fixtures of this folder (tests/identity/conftest.py) are typed Any here: a conftest is
# not a module to import from.
Clock = Door = Trail = Any


def _me(client: TestClient[Any], headers: dict[str, str]) -> Any:
    return client.get(f"{API}/auth/me", headers=headers)


def _user(client: TestClient[Any], admin: dict[str, str], username: str) -> dict[str, Any]:
    users = client.get(f"{API}/users", headers=admin)
    assert users.status_code == 200, users.text
    found: dict[str, Any] = next(u for u in users.json() if u["username"] == username)
    return found


# --- how long a session lasts ---------------------------------------------------------------


def test_a_session_left_idle_expires(app_with: Any, door_on: Any, clock: Clock) -> None:
    # Given an app whose sessions time out after a minute idle, and a user signed in
    client = app_with(idle_timeout_minutes=1)
    door = door_on(client)
    headers = door.headers("pc.idle", ["officer"])
    assert _me(client, headers).status_code == 200

    # When a minute and a second pass without a request
    clock.advance(seconds=61)

    # Then the token has expired
    assert_problem(_me(client, headers), 401, "TOKEN_EXPIRED")


def test_use_keeps_a_session_alive_until_its_absolute_lifetime(
    app_with: Any, door_on: Any, clock: Clock
) -> None:
    # Given sessions that time out after 30 minutes idle and last an hour at most
    client = app_with(idle_timeout_minutes=30, session_lifetime_hours=1)
    door = door_on(client)
    headers = door.headers("pc.busy", ["officer"])

    # When the user makes a request every 25 minutes, the session lives on
    for _ in range(2):
        clock.advance(minutes=25)
        assert _me(client, headers).status_code == 200

    # But past an hour from sign-in it ends, though it was used 11 minutes ago
    clock.advance(minutes=11)
    assert_problem(_me(client, headers), 401, "TOKEN_EXPIRED")


def test_the_granted_session_states_its_limits(door: Door, clock: Clock) -> None:
    make_user(door.client.app, "pc.limits", ["officer"])

    granted = door.sign_in("pc.limits")

    assert granted["idle_timeout_seconds"] == 30 * 60
    expires = datetime.fromisoformat(granted["expires_at"])
    assert abs((expires - clock.now).total_seconds() - 12 * 3600) < 60


# --- ending sessions ----------------------------------------------------------------------


def test_signing_out_ends_only_that_session(
    door: Door, anonymous: TestClient[Any], trail: Trail
) -> None:
    # Given a user signed in on two devices
    make_user(anonymous.app, "pc.twice", ["officer"])
    phone = {"Authorization": f"Bearer {door.sign_in('pc.twice')['token']}"}
    tablet = {"Authorization": f"Bearer {door.sign_in('pc.twice')['token']}"}
    start = trail.size()

    # When they sign out on the phone
    out = anonymous.post(f"{API}/auth/sign-out", headers=phone)

    # Then the phone's token is revoked at once, the tablet's still works
    assert out.status_code == 204
    assert_problem(_me(anonymous, phone), 401, "TOKEN_REVOKED")
    assert _me(anonymous, tablet).status_code == 200
    # And the sign-out is audited once
    assert [e.tag for e in trail.since(start)] == ["identity:session:signed-out"]


def test_disabling_a_user_ends_their_sessions_at_once(
    door: Door, anonymous: TestClient[Any]
) -> None:
    # Given a signed-in officer and their administrator
    officer = door.headers("pc.leaver", ["officer"])
    admin = door.headers("admin.leaver", ["agency_admin"])
    assert _me(anonymous, officer).status_code == 200
    user = _user(anonymous, admin, "pc.leaver")

    # When the administrator disables them
    disabled = anonymous.patch(
        f"{API}/users/{user['id']}",
        json={"version": user["version"], "disabled": True},
        headers=admin,
    )

    # Then their token stops working on the next request, and they cannot sign in
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled_at"] is not None
    assert_problem(_me(anonymous, officer), 401, "TOKEN_REVOKED")
    assert_problem(door.start("pc.leaver"), 401, "SIGN_IN_FAILED")

    # And enabling them again lets them sign in, but does not revive the old token
    enabled = anonymous.patch(
        f"{API}/users/{user['id']}",
        json={"version": disabled.json()["version"], "disabled": False},
        headers=admin,
    )
    assert enabled.status_code == 200, enabled.text
    assert door.start("pc.leaver").status_code == 200
    assert_problem(_me(anonymous, officer), 401, "TOKEN_REVOKED")


def test_a_revoked_device_is_told_to_wipe_and_cannot_sign_in_again(
    door: Door, anonymous: TestClient[Any], trail: Trail
) -> None:
    # Given an officer signed in on a phone and a tablet, and their supervisor
    phone_id, tablet_id = uuid.uuid4(), uuid.uuid4()
    phone = door.headers("pc.lost", ["officer"], device=phone_id)
    tablet = {"Authorization": f"Bearer {door.sign_in('pc.lost', device=tablet_id)['token']}"}
    supervisor = door.headers("sgt.lost", ["supervisor"])

    # When the supervisor lists the agency's devices
    listed = anonymous.get(f"{API}/devices", headers=supervisor)

    # Then both of the officer's devices are there, named and attributed
    assert listed.status_code == 200, listed.text
    devices = {d["id"]: d for d in listed.json()}
    assert {str(phone_id), str(tablet_id)} <= set(devices)
    assert devices[str(phone_id)]["last_user"] == "pc.lost"
    assert devices[str(phone_id)]["agency"] == "DEMO"
    assert devices[str(phone_id)]["revoked_at"] is None

    # When the supervisor revokes the phone
    start = trail.size()
    revoked = anonymous.post(
        f"{API}/devices/{phone_id}/revoke", json={"reason": "reported lost"}, headers=supervisor
    )

    # Then it is revoked, once in the audit trail
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_by"] == "sgt.lost"
    assert revoked.json()["revocation_reason"] == "reported lost"
    entries = trail.since(start)
    assert [e.tag for e in entries] == ["identity:device:revoked"]
    assert entries[0].subject_ids == [str(phone_id)]
    # And the phone's next request is told to wipe, the tablet carries on
    assert_problem(_me(anonymous, phone), 401, "DEVICE_REVOKED")
    assert _me(anonymous, tablet).status_code == 200
    # And signing in again from the phone, even with the right password, is refused
    assert_problem(door.start("pc.lost", device=phone_id), 401, "DEVICE_REVOKED")


def test_a_device_of_another_agency_is_neither_listed_nor_revocable(
    door: Door, anonymous: TestClient[Any], db: Database
) -> None:
    elsewhere = uuid.uuid4()
    make_user(anonymous.app, "pc.xpol", ["officer"], agency="XPOL")
    door.sign_in("pc.xpol", device=elsewhere)
    supervisor = door.headers("sgt.demo", ["supervisor"])

    listed = anonymous.get(f"{API}/devices", headers=supervisor).json()
    before = row_counts(db)
    revoke = anonymous.post(
        f"{API}/devices/{elsewhere}/revoke", json={"reason": "not ours"}, headers=supervisor
    )

    assert str(elsewhere) not in {d["id"] for d in listed}
    assert_problem(revoke, 404, "DEVICE_NOT_FOUND")
    assert row_counts(db) == before


# --- tokens that are not tokens -------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "AUTH_REQUIRED"),
        (b"", "AUTH_REQUIRED"),
        (b"Bearer", "AUTH_REQUIRED"),
        (b"Bearer   ", "AUTH_REQUIRED"),
        (b"Basic cGMuMTpwYXNzd29yZA==", "AUTH_REQUIRED"),
        (b"blt_no-scheme", "AUTH_REQUIRED"),
        ("Bearer t\u00f6k\u00e9n-\u2603".encode(), "TOKEN_INVALID"),
        ("Bearer t\u00f6k\u00e9n".encode("latin-1"), "TOKEN_INVALID"),
        (b"Bearer " + b"a" * 500, "TOKEN_INVALID"),
        (b"Bearer blt_" + b"A" * 43, "TOKEN_INVALID"),
        (b"Bearer a b c", "TOKEN_INVALID"),
    ],
    ids=[
        "none",
        "empty",
        "scheme-alone",
        "scheme-and-spaces",
        "basic",
        "no-scheme",
        "utf8",
        "latin1",
        "500-chars",
        "unknown",
        "spaces",
    ],
)
def test_a_malformed_or_unknown_token_is_refused(
    anonymous: TestClient[Any], db: Database, authorization: bytes | None, code: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    before = row_counts(db)

    response = anonymous.get(f"{API}/auth/me", headers=headers)  # type: ignore[arg-type]
    write = anonymous.post(f"{API}/auth/sign-out", headers=headers)  # type: ignore[arg-type]

    assert_problem(response, 401, code)
    assert_problem(write, 401, code)
    assert row_counts(db) == before


def test_a_sign_in_challenge_is_not_a_token(door: Door, anonymous: TestClient[Any]) -> None:
    make_user(anonymous.app, "pc.confused", ["officer"])
    door.sign_in("pc.confused")
    challenge = door.start("pc.confused").json()["challenge"]

    assert_problem(_me(anonymous, {"Authorization": f"Bearer {challenge}"}), 401, "TOKEN_INVALID")


def test_me_says_who_the_token_acts_for(door: Door, anonymous: TestClient[Any]) -> None:
    device = uuid.uuid4()
    headers = door.headers("pc.self", ["officer", "controller"], device=device)

    me = _me(anonymous, headers)

    assert me.status_code == 200, me.text
    body = me.json()
    assert body["user"]["username"] == "pc.self"
    assert body["user"]["agency"] == "DEMO"
    assert sorted(body["user"]["roles"]) == ["controller", "officer"]
    assert body["user"]["second_factor"] is True
    assert set(body["permissions"]) == {
        str(p) for p in permissions_of([Role.OFFICER, Role.CONTROLLER])
    }
    assert body["device_id"] == str(device)
    assert body["idle_timeout_seconds"] == 30 * 60
    assert body["session_expires_at"]


# --- who may grant what ---------------------------------------------------------------------


def _new_user(roles: list[str], username: str = "pc.new") -> dict[str, Any]:
    return {
        "username": username,
        "display_name": "New Officer",
        "password": "marmalade quietly orbits the viaduct",
        "roles": roles,
    }


@pytest.mark.parametrize(
    "roles",
    [["auditor"], ["supervisor"], ["officer", "auditor"]],
    ids=["auditor", "supervisor", "officer+auditor"],
)
def test_an_administrator_cannot_grant_what_they_do_not_hold(
    door: Door, anonymous: TestClient[Any], db: Database, trail: Any, roles: list[str]
) -> None:
    admin = door.headers("admin.grant", ["agency_admin"])
    before = row_counts(db)
    start = trail.size()

    made = anonymous.post(f"{API}/users", json=_new_user(roles), headers=admin)

    body = assert_problem(made, 403, "ROLE_NOT_GRANTABLE")
    beyond = permissions_of([Role(r) for r in roles]) - ROLE_PERMISSIONS[Role.AGENCY_ADMIN]
    assert body["permissions"]
    assert set(body["permissions"]) <= {str(p) for p in beyond}
    # Nothing is made, and the attempt to hand out more than one holds is on the trail
    after = row_counts(db)
    assert {t: n for t, n in after.items() if not t.startswith("audit_")} == {
        t: n for t, n in before.items() if not t.startswith("audit_")
    }
    denied = trail.since(start)
    assert [(e.outcome, e.actor_username, e.detail["code"]) for e in denied] == [
        ("denied", "admin.grant", "ROLE_NOT_GRANTABLE")
    ]


def test_an_administrator_can_grant_the_police_roles_and_may_not_promote_past_them(
    door: Door, anonymous: TestClient[Any]
) -> None:
    admin = door.headers("admin.police", ["agency_admin"])

    made = anonymous.post(
        f"{API}/users", json=_new_user(["officer", "controller", "investigator"]), headers=admin
    )
    assert made.status_code == 201, made.text
    promoted = anonymous.patch(
        f"{API}/users/{made.json()['id']}",
        json={"version": made.json()["version"], "roles": ["auditor"]},
        headers=admin,
    )

    assert_problem(promoted, 403, "ROLE_NOT_GRANTABLE")
    assert _user(anonymous, admin, "pc.new")["roles"] == ["officer", "controller", "investigator"]


def test_an_administrator_holding_a_role_may_grant_it(
    door: Door, anonymous: TestClient[Any]
) -> None:
    admin = door.headers("admin.senior", ["agency_admin", "supervisor"])

    made = anonymous.post(f"{API}/users", json=_new_user(["supervisor"]), headers=admin)

    assert made.status_code == 201, made.text


@pytest.mark.parametrize("role", [r for r in Role if r not in (Role.PARTNER_USER, Role.PROSECUTOR)])
def test_a_partner_agency_user_holds_only_partner_roles(
    anonymous: TestClient[Any], role: Role
) -> None:
    with pytest.raises(IdentityError) as refused:
        make_user(anonymous.app, "ff.wrong", [str(role)], agency="FIRE", agency_type="fire")
    assert refused.value.code == "ROLE_NOT_GRANTABLE"

    for allowed in ("partner_user", "prosecutor"):
        user = make_user(
            anonymous.app, f"ff.{allowed}", [allowed], agency="FIRE", agency_type="fire"
        )
        assert user.roles == [allowed]


# --- every administrative act writes exactly one audit entry --------------------------------

Act = Callable[[TestClient[Any], dict[str, str], dict[str, Any], Any], Any]


def _change(fields: dict[str, Any]) -> Act:
    def act(client: TestClient[Any], admin: dict[str, str], user: dict[str, Any], _: Any) -> Any:
        return client.patch(
            f"{API}/users/{user['id']}", json={"version": user["version"], **fields}, headers=admin
        )

    return act


def _made(client: TestClient[Any], admin: dict[str, str], _user: dict[str, Any], _d: Any) -> Any:
    return client.post(f"{API}/users", json=_new_user(["officer"], "pc.made"), headers=admin)


def _reset(client: TestClient[Any], admin: dict[str, str], user: dict[str, Any], _: Any) -> Any:
    return client.post(
        f"{API}/users/{user['id']}/reset",
        json={"password": "a brand new long passphrase"},
        headers=admin,
    )


def _unlock(client: TestClient[Any], admin: dict[str, str], user: dict[str, Any], _: Any) -> Any:
    return client.post(f"{API}/users/{user['id']}/unlock", headers=admin)


def _revoke(client: TestClient[Any], admin: dict[str, str], _u: dict[str, Any], dev: Any) -> Any:
    return client.post(f"{API}/devices/{dev}/revoke", json={"reason": "stolen"}, headers=admin)


ACTS: dict[str, tuple[Act, str, str]] = {
    "create": (_made, "identity:user:created", "user"),
    "roles": (
        _change({"roles": ["officer", "investigator"]}),
        "identity:user:permissions-changed",
        "user",
    ),
    "clearance": (_change({"clearance": "OFFICIAL"}), "identity:user:permissions-changed", "user"),
    "rename": (_change({"display_name": "PC Renamed"}), "identity:user:changed", "user"),
    "disable": (_change({"disabled": True}), "identity:user:disabled", "user"),
    "reset": (_reset, "identity:user:reset", "user"),
    "unlock": (_unlock, "identity:user:unlocked", "user"),
    "revoke-device": (_revoke, "identity:device:revoked", "device"),
}


@pytest.mark.parametrize("act", list(ACTS))
def test_each_administrative_act_writes_one_audit_entry(
    door: Door, anonymous: TestClient[Any], trail: Trail, act: str
) -> None:
    # Given an administrator, and an officer signed in on a device
    device = uuid.uuid4()
    admin_device = uuid.uuid4()
    door.headers("pc.subject", ["officer"], device=device)
    admin = door.headers("admin.acts", ["agency_admin"], device=admin_device)
    user = _user(anonymous, admin, "pc.subject")
    perform, tag, subject_type = ACTS[act]
    start = trail.size()

    # When the administrator acts
    response = perform(anonymous, admin, user, device)

    # Then exactly one entry is written, naming the act, the actor and the subject
    assert response.status_code in (200, 201), response.text
    entries = trail.since(start)
    assert [e.tag for e in entries] == [tag]
    entry = entries[0]
    assert entry.action == "administration"
    assert entry.outcome == "allowed"
    assert entry.actor_username == "admin.acts"
    assert entry.agency == "DEMO"
    assert entry.device_id == str(admin_device)
    assert entry.subject_type == subject_type
    subject = response.json()["id"]
    assert entry.subject_ids == [subject]


def test_a_change_that_changes_nothing_writes_nothing(
    door: Door, anonymous: TestClient[Any], trail: Trail
) -> None:
    door.headers("pc.same", ["officer"])
    admin = door.headers("admin.same", ["agency_admin"])
    user = _user(anonymous, admin, "pc.same")
    start = trail.size()

    same = anonymous.patch(
        f"{API}/users/{user['id']}",
        json={"version": user["version"], "roles": ["officer"]},
        headers=admin,
    )

    assert same.status_code == 200, same.text
    assert same.json()["version"] == user["version"]
    assert trail.since(start) == []


def test_new_recovery_codes_replace_the_old_and_are_audited(
    door: Door, anonymous: TestClient[Any], trail: Trail
) -> None:
    make_user(anonymous.app, "pc.codes", ["officer"])
    granted = door.sign_in("pc.codes")
    old = granted["recovery_codes"]
    headers = {"Authorization": f"Bearer {granted['token']}"}
    start = trail.size()

    renewed = anonymous.post(f"{API}/auth/recovery-codes", headers=headers)

    assert renewed.status_code == 200, renewed.text
    new = renewed.json()["codes"]
    assert len(new) == 10
    assert not set(new) & set(old)
    assert [e.tag for e in trail.since(start)] == ["identity:second-factor:recovery-codes-renewed"]
    assert_problem(
        door.finish(door.start("pc.codes").json()["challenge"], old[0]), 401, "SECOND_FACTOR_FAILED"
    )
    assert door.finish(door.start("pc.codes").json()["challenge"], new[0]).status_code == 200
