"""Every audited act writes exactly one audit entry, holding all its fields; and auditors can
ask "who looked at this person, when and why" in one request, and search by user and time.

Each act goes through the HTTP API as a user would make it. The rows are read straight from
``audit_entries`` (not through the audit API, whose searches are themselves audited), counted
before and after the act.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from bluelight.audit import merkle
from bluelight.audit.models import AuditEntry
from bluelight.audit.rules import canonical_entry
from bluelight.db import Database
from bluelight.identity.models import User
from bluelight.kernel.crypto import totp_code
from bluelight.records.kinds import KINDS
from factories import (
    A_CHANGE,
    API,
    EVERY_ROLE,
    FORCE,
    KIND_PATHS,
    TEST_PASSWORD,
    TOTP_SECRETS,
    app,
    assert_problem,
    ensure_agency,
    make_user,
    new_record,
    payload_for,
    sign_in,
)

__all__ = ["app"]  # the session's app (see factories), used by the ``world`` fixture

KIND_NAME = {k.path: k.name for k in KINDS}
ANONYMOUS = ("anonymous", "(unknown user)", "-", None)


def reason(code: str = "INVESTIGATION", text: str = "robbery enquiry") -> dict[str, str]:
    return {"X-Bluelight-Reason": code, "X-Bluelight-Reason-Text": text}


AUDIT_REVIEW = reason("AUDIT-REVIEW", "quarterly%20review")


@dataclass(frozen=True)
class Who:
    """An actor as the trail should name them."""

    user_id: str
    username: str
    agency: str
    device_id: str | None


@dataclass
class World:
    """The app, its database, and a client signed in as a supervisor (who is also an
    administrator and an auditor) on a device whose id the test knows."""

    app: Litestar
    db: Database
    client: TestClient[Any]
    me: Who

    def audited(self, act: Callable[[], httpx.Response]) -> tuple[httpx.Response, list[Any]]:
        """Do ``act``; return its response and the audit entries it added."""
        before = entry_count(self.db)
        response = act()
        after = entry_count(self.db)
        added = entries_from(self.db, before)
        assert len(added) == after - before
        return response, added

    def another_user(self, username: str, roles: tuple[str, ...]) -> tuple[Who, str]:
        """Make and sign in another user of the force; their identity and token."""
        user = make_user(self.app, username, roles)
        device = uuid.uuid4()
        token = sign_in(self.client, username, device_id=device)["token"]
        return Who(str(user.id), username, FORCE, str(device)), token


def entry_count(db: Database) -> int:
    with db.read() as session:
        return int(session.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def entries_from(db: Database, seq: int) -> list[Any]:
    """The rows of entries ``seq`` onwards, detached so they outlive the session."""
    with db.read() as session:
        rows = list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.seq >= seq).order_by(AuditEntry.seq)
            )
        )
        session.expunge_all()
    return rows


@pytest.fixture
def world(app: Litestar, db: Database) -> Iterator[World]:
    with TestClient(app) as client:
        user = make_user(app, "audit.supervisor", EVERY_ROLE)
        device = uuid.uuid4()
        token = sign_in(client, "audit.supervisor", device_id=device)["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield World(app, db, client, Who(str(user.id), "audit.supervisor", FORCE, str(device)))


@dataclass(frozen=True)
class Expected:
    """What one entry must hold."""

    action: str
    tag: str
    actor: Who
    subject_type: str | None
    subject_ids: list[str]
    outcome: str = "allowed"
    reason: tuple[str, str | None] | None = None
    recipients: list[str] = field(default_factory=list)


def check_entry(e: Any, want: Expected) -> None:
    """Every field of ``e`` is what ``want`` says, and its leaf hash is its content's."""
    now = datetime.now(UTC)
    assert e.at.tzinfo is not None
    assert e.at.utcoffset() == timedelta(0)
    assert e.at.microsecond % 1000 == 0, "time is kept to the millisecond"
    assert now - timedelta(minutes=1) < e.at <= now
    assert isinstance(e.id, uuid.UUID)
    assert (e.action, e.tag, e.outcome) == (want.action, want.tag, want.outcome)
    assert len(e.tag.split(":")) == 3, "tags read feature:subject:action"
    assert (e.actor_user_id, e.actor_username, e.agency, e.device_id) == (
        want.actor.user_id,
        want.actor.username,
        want.actor.agency,
        want.actor.device_id,
    )
    assert e.subject_type == want.subject_type
    assert list(e.subject_ids) == want.subject_ids
    assert (e.reason_code, e.reason_text) == (want.reason or (None, None))
    assert list(e.recipients) == want.recipients
    assert e.leaf_hash == merkle.leaf_hash(canonical_entry(e.seq, e))


def only(entries: list[Any]) -> Any:
    assert len(entries) == 1, [e.tag for e in entries]
    return entries[0]


def url(path: str, record_id: str | None = None) -> str:
    return f"{API}/{path}" + (f"/{record_id}" if record_id else "")


# --- writes to records ------------------------------------------------------------------------

RECORD_WRITES = [
    pytest.param(
        path,
        what,
        (
            "combination"
            if path == "links" and what != "deleted"
            else {"created": "collection", "updated": "alteration", "deleted": "erasure"}[what]
        ),
        f"records:{KIND_NAME[path]}:{what}",
        id=f"{path}-{what}",
    )
    for path in KIND_PATHS
    for what in ("created", "updated", "deleted")
]


@pytest.mark.parametrize(("path", "what", "action", "tag"), RECORD_WRITES)
def test_record_write_writes_one_entry(
    world: World, path: str, what: str, action: str, tag: str
) -> None:
    # Given a record (or, to create one, a valid payload and whatever it points at)
    client = world.client
    why = reason("DATA-QUALITY", "correcting the record")
    if what == "created":
        payload = payload_for(client, path)
        response, added = world.audited(lambda: client.post(url(path), json=payload, headers=why))
        assert response.status_code == 201, response.text
    else:
        record = new_record(client, path)
        if what == "updated":
            change = {"version": record["version"], **A_CHANGE[path]}
            act = lambda: client.patch(url(path, record["id"]), json=change, headers=why)  # noqa: E731  (one call)
        else:
            deletion = {"version": record["version"], "reason": "entered in error"}
            act = lambda: client.request(  # noqa: E731  (one call)
                "DELETE", url(path, record["id"]), json=deletion, headers=why
            )
        response, added = world.audited(act)
        assert response.status_code == 200, response.text

    # Then exactly one entry records it, naming the record (a link: both ends too), and why
    body = response.json()
    subjects = [body["id"]]
    if path == "links" and what != "deleted":
        subjects += [body["from_id"], body["to_id"]]
    want = Expected(
        action,
        tag,
        world.me,
        KIND_NAME[path],
        subjects,
        reason=("DATA-QUALITY", "correcting the record"),
    )
    check_entry(only(added), want)


# --- reads, disclosures, refusals, sign-in and administration ---------------------------------


def _person_read(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    person = new_record(w.client, "persons")
    response, added = w.audited(
        lambda: w.client.get(url("persons", person["id"]), headers=reason())
    )
    assert response.status_code == 200, response.text
    want = Expected(
        "consultation",
        "records:person:read",
        w.me,
        "person",
        [person["id"]],
        reason=("INVESTIGATION", "robbery enquiry"),
    )
    return response, added, want


def _person_list(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    for _ in range(3):
        new_record(w.client, "persons")
    response, added = w.audited(
        lambda: w.client.get(
            url("persons"), params={"limit": 2}, headers=reason("SAFEGUARDING", "child at risk")
        )
    )
    assert response.status_code == 200, response.text
    returned = [p["id"] for p in response.json()["items"]]
    assert len(returned) == 2
    want = Expected(
        "consultation",
        "records:person:listed",
        w.me,
        "person",
        returned,
        reason=("SAFEGUARDING", "child at risk"),
    )
    return response, added, want


def _vehicle_read(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    vehicle = new_record(w.client, "vehicles")
    response, added = w.audited(
        lambda: w.client.get(
            url("vehicles", vehicle["id"]), headers=reason("ROAD-TRAFFIC", "collision%20on%20A52")
        )
    )
    assert response.status_code == 200, response.text
    want = Expected(
        "consultation",
        "records:vehicle:read",
        w.me,
        "vehicle",
        [vehicle["id"]],
        reason=("ROAD-TRAFFIC", "collision on A52"),
    )
    return response, added, want


def _event_shared(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    ensure_agency(w.app, "FIRE1", "fire")
    event = new_record(w.client, "events")
    response, added = w.audited(
        lambda: w.client.post(
            f"{url('events', event['id'])}/shares",
            json={"agency": "FIRE1", "level": "operational"},
            headers=reason("INCIDENT-RESPONSE", "fire crews attending"),
        )
    )
    assert response.status_code == 200, response.text
    want = Expected(
        "disclosure",
        "records:event:shared",
        w.me,
        "event",
        [event["id"]],
        reason=("INCIDENT-RESPONSE", "fire crews attending"),
        recipients=["FIRE1"],
    )
    return response, added, want


def _read_without_permission(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    person = new_record(w.client, "persons")
    admin, token = w.another_user("audit.admin", ("agency_admin",))
    response, added = w.audited(
        lambda: w.client.get(
            url("persons", person["id"]),
            headers={"Authorization": f"Bearer {token}", **reason()},
        )
    )
    assert_problem(response, 403, "PERMISSION_DENIED")
    assert "names" not in response.text
    # The refused attempt names the reason it gave: who tried to look, and why they said.
    want = Expected(
        "consultation",
        "records:person:read",
        admin,
        "person",
        [person["id"]],
        outcome="denied",
        reason=("INVESTIGATION", "robbery enquiry"),
    )
    return response, added, want


def _read_without_reason(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    person = new_record(w.client, "persons")
    response, added = w.audited(lambda: w.client.get(url("persons", person["id"])))
    assert_problem(response, 400, "REASON_REQUIRED")
    want = Expected(
        "consultation", "records:person:read", w.me, "person", [person["id"]], outcome="denied"
    )
    return response, added, want


def _list_without_reason(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    new_record(w.client, "persons")
    response, added = w.audited(lambda: w.client.get(url("persons")))
    assert_problem(response, 400, "REASON_REQUIRED")
    want = Expected("consultation", "records:person:listed", w.me, "person", [], outcome="denied")
    return response, added, want


def _read_with_unknown_reason(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    person = new_record(w.client, "persons")
    response, added = w.audited(
        lambda: w.client.get(url("persons", person["id"]), headers=reason("NOT-A-REASON"))
    )
    assert_problem(response, 400, "UNKNOWN_REASON")
    assert "Okafor" not in response.text
    want = Expected(
        "consultation", "records:person:read", w.me, "person", [person["id"]], outcome="denied"
    )
    return response, added, want


def _read_with_text_but_no_code(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    person = new_record(w.client, "persons")
    response, added = w.audited(
        lambda: w.client.get(
            f"{url('persons', person['id'])}/history",
            headers={"X-Bluelight-Reason-Text": "just looking"},
        )
    )
    assert_problem(response, 400, "REASON_REQUIRED")
    want = Expected(
        "consultation",
        "records:person:history-read",
        w.me,
        "person",
        [person["id"]],
        outcome="denied",
    )
    return response, added, want


def _share_without_reason(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    ensure_agency(w.app, "FIRE1", "fire")
    event = new_record(w.client, "events")
    response, added = w.audited(
        lambda: w.client.post(
            f"{url('events', event['id'])}/shares", json={"agency": "FIRE1", "level": "full"}
        )
    )
    assert_problem(response, 400, "REASON_REQUIRED")
    want = Expected(
        "disclosure", "records:event:shared", w.me, "event", [event["id"]], outcome="denied"
    )
    return response, added, want


def _second_factor_code(w: World, username: str) -> str:
    """A code for the step after the last one this user spent (each code works once)."""
    with w.db.read() as session:
        last = session.execute(
            select(User.totp_last_step).where(User.username == username)
        ).scalar_one()
    step = max(int(last or 0) + 1, int(time.time()) // 30)
    return totp_code(TOTP_SECRETS[username], datetime.fromtimestamp(step * 30, UTC))


def _sign_in_password(w: World, username: str, password: str, device: str) -> httpx.Response:
    return w.client.post(
        f"{API}/auth/sign-in",
        json={"username": username, "password": password, "device": {"id": device, "name": "t"}},
        headers={"Authorization": ""},
    )


def _sign_in_succeeds(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    # The supervisor, enrolled already, signs in again on the same device.
    def both_steps() -> httpx.Response:
        first = _sign_in_password(w, w.me.username, TEST_PASSWORD, str(w.me.device_id))
        assert first.status_code == 200, first.text
        return w.client.post(
            f"{API}/auth/second-factor",
            json={
                "challenge": first.json()["challenge"],
                "code": _second_factor_code(w, w.me.username),
            },
            headers={"Authorization": ""},
        )

    response, added = w.audited(both_steps)
    assert response.status_code == 200, response.text
    want = Expected("authentication", "identity:sign-in:succeeded", w.me, "user", [w.me.user_id])
    return response, added, want


def _sign_in_fails(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    device = str(uuid.uuid4())
    response, added = w.audited(
        lambda: _sign_in_password(w, w.me.username, "not the password at all", device)
    )
    assert_problem(response, 401, "SIGN_IN_FAILED")
    # Nobody is signed in yet, so no device is named: the attempt's device is not trusted.
    me = Who(w.me.user_id, w.me.username, w.me.agency, None)
    want = Expected(
        "authentication", "identity:sign-in:failed", me, "user", [w.me.user_id], outcome="denied"
    )
    return response, added, want


def _sign_in_unknown_user(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    response, added = w.audited(
        lambda: _sign_in_password(w, "no.such.user", TEST_PASSWORD, str(uuid.uuid4()))
    )
    assert_problem(response, 401, "SIGN_IN_FAILED")
    want = Expected(
        "authentication", "identity:sign-in:failed", Who(*ANONYMOUS), None, [], outcome="denied"
    )
    return response, added, want


def _locked_out(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    device = str(uuid.uuid4())
    for _ in range(4):
        _sign_in_password(w, w.me.username, "not the password at all", device)
    response, added = w.audited(
        lambda: _sign_in_password(w, w.me.username, "not the password at all", device)
    )
    assert_problem(response, 401, "SIGN_IN_FAILED")
    # The fifth failure is logged as a failure, and the lockout it causes as one more entry.
    assert Counter(e.tag for e in added) == {
        "identity:sign-in:failed": 1,
        "identity:user:locked": 1,
    }
    added = [e for e in added if e.tag == "identity:user:locked"]
    me = Who(w.me.user_id, w.me.username, w.me.agency, None)
    want = Expected(
        "authentication", "identity:user:locked", me, "user", [w.me.user_id], outcome="denied"
    )
    return response, added, want


def _second_factor_enrolled(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    user = make_user(w.app, "audit.newcomer", ("officer",))
    device = str(uuid.uuid4())
    first = _sign_in_password(w, "audit.newcomer", TEST_PASSWORD, device)
    assert first.status_code == 200, first.text
    secret = first.json()["enrolment"]["secret"]
    response, added = w.audited(
        lambda: w.client.post(
            f"{API}/auth/second-factor",
            json={
                "challenge": first.json()["challenge"],
                "code": totp_code(secret, datetime.now(UTC)),
            },
            headers={"Authorization": ""},
        )
    )
    assert response.status_code == 200, response.text
    # The first sign-in also registers the device and opens the session: one entry each.
    assert Counter(e.tag for e in added) == {
        "identity:device:registered": 1,
        "identity:second-factor:enrolled": 1,
        "identity:sign-in:succeeded": 1,
    }
    added = [e for e in added if e.tag == "identity:second-factor:enrolled"]
    newcomer = Who(str(user.id), "audit.newcomer", FORCE, device)
    want = Expected(
        "administration", "identity:second-factor:enrolled", newcomer, "user", [str(user.id)]
    )
    return response, added, want


def _roles_changed(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    user = make_user(w.app, "audit.promoted", ("officer",))
    response, added = w.audited(
        lambda: w.client.patch(
            f"{API}/users/{user.id}",
            json={"version": user.version, "roles": ["officer", "investigator"]},
        )
    )
    assert response.status_code == 200, response.text
    want = Expected(
        "administration", "identity:user:permissions-changed", w.me, "user", [str(user.id)]
    )
    return response, added, want


def _device_revoked(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    officer, _ = w.another_user("audit.officer", ("officer",))
    response, added = w.audited(
        lambda: w.client.post(
            f"{API}/devices/{officer.device_id}/revoke", json={"reason": "lost on patrol"}
        )
    )
    assert response.status_code == 200, response.text
    want = Expected(
        "administration", "identity:device:revoked", w.me, "device", [str(officer.device_id)]
    )
    return response, added, want


def _audit_exported(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    new_record(w.client, "persons")
    response, added = w.audited(
        lambda: w.client.get(f"{API}/audit/export", params={"format": "json"}, headers=AUDIT_REVIEW)
    )
    assert response.status_code == 200, response.text
    want = Expected(
        "disclosure",
        "audit:trail:exported",
        w.me,
        "audit",
        [],
        reason=("AUDIT-REVIEW", "quarterly review"),
        recipients=[w.me.username],
    )
    return response, added, want


def _audit_searched(w: World) -> tuple[httpx.Response, list[Any], Expected]:
    person = new_record(w.client, "persons")
    response, added = w.audited(
        lambda: w.client.get(
            f"{API}/audit/entries", params={"subject": person["id"]}, headers=AUDIT_REVIEW
        )
    )
    assert response.status_code == 200, response.text
    want = Expected(
        "consultation",
        "audit:trail:searched",
        w.me,
        "audit",
        [person["id"]],
        reason=("AUDIT-REVIEW", "quarterly review"),
    )
    return response, added, want


ACTS = [
    pytest.param(_person_read, id="person-read"),
    pytest.param(_person_list, id="person-list"),
    pytest.param(_vehicle_read, id="vehicle-read"),
    pytest.param(_event_shared, id="event-shared"),
    pytest.param(_read_without_permission, id="read-refused-permission"),
    pytest.param(_read_without_reason, id="read-refused-no-reason"),
    pytest.param(_list_without_reason, id="list-refused-no-reason"),
    pytest.param(_read_with_unknown_reason, id="read-refused-unknown-reason"),
    pytest.param(_read_with_text_but_no_code, id="history-refused-text-without-code"),
    pytest.param(_share_without_reason, id="share-refused-no-reason"),
    pytest.param(_sign_in_succeeds, id="sign-in-succeeded"),
    pytest.param(_sign_in_fails, id="sign-in-failed"),
    pytest.param(_sign_in_unknown_user, id="sign-in-unknown-user"),
    pytest.param(_locked_out, id="locked-out"),
    pytest.param(_second_factor_enrolled, id="second-factor-enrolled"),
    pytest.param(_roles_changed, id="roles-changed"),
    pytest.param(_device_revoked, id="device-revoked"),
    pytest.param(_audit_exported, id="audit-exported"),
    pytest.param(_audit_searched, id="audit-searched"),
]


@pytest.mark.parametrize("act", ACTS)
def test_audited_act_writes_one_entry_with_every_field(
    world: World, act: Callable[[World], tuple[httpx.Response, list[Any], Expected]]
) -> None:
    # When the act is done through the API
    _, added, want = act(world)

    # Then exactly one entry records it, and every field says what happened
    check_entry(only(added), want)


def test_entries_take_dense_places_from_zero(world: World) -> None:
    # Given a mix of writes, reads, refusals and sign-ins
    person = new_record(world.client, "persons")
    world.client.get(url("persons", person["id"]), headers=reason())
    world.client.get(url("persons", person["id"]))
    _sign_in_password(world, "no.such.user", TEST_PASSWORD, str(uuid.uuid4()))
    world.another_user("audit.officer", ("officer",))

    # Then the trail's places run 0, 1, 2 … with no gap or repeat
    seqs = [e.seq for e in entries_from(world.db, 0)]
    assert len(seqs) > 8
    assert seqs == list(range(len(seqs)))


# --- the questions auditors ask ---------------------------------------------------------------


def test_who_looked_at_this_person_when_and_why_is_one_request(world: World) -> None:
    # Given a person, read by an officer and then by the supervisor, for different reasons
    person = new_record(world.client, "persons")
    officer, token = world.another_user("audit.officer", ("officer",))
    first = world.client.get(
        url("persons", person["id"]),
        headers={"Authorization": f"Bearer {token}", **reason("INVESTIGATION", "burglary")},
    )
    second = world.client.get(
        url("persons", person["id"]), headers=reason("SAFEGUARDING", "welfare check")
    )
    assert (first.status_code, second.status_code) == (200, 200)
    # And someone else's record read in between, which is not this person's business
    other = new_record(world.client, "persons")
    world.client.get(url("persons", other["id"]), headers=reason())

    # When an auditor asks about the person
    page = world.client.get(
        f"{API}/audit/entries",
        params={"subject": person["id"], "action": "consultation"},
        headers=AUDIT_REVIEW,
    )

    # Then the reads come back newest first, with who, when and why
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    assert [(i["username"], i["reason_code"], i["reason_text"]) for i in items] == [
        ("audit.supervisor", "SAFEGUARDING", "welfare check"),
        ("audit.officer", "INVESTIGATION", "burglary"),
    ]
    assert items[1]["user_id"] == officer.user_id
    assert items[1]["device_id"] == officer.device_id
    # (compared as instants: a time on the second is written without a fraction)
    assert datetime.fromisoformat(items[0]["at"]) >= datetime.fromisoformat(items[1]["at"])
    assert all(i["subject_ids"] == [person["id"]] for i in items)
    # And without the action filter the person's creation is there too, oldest last, and the
    # auditor's own search above, which looked at the person's trail
    everything = world.client.get(
        f"{API}/audit/entries", params={"subject": person["id"]}, headers=AUDIT_REVIEW
    )
    assert [i["tag"] for i in everything.json()["items"]] == [
        "audit:trail:searched",
        "records:person:read",
        "records:person:read",
        "records:person:created",
    ]


def test_auditor_searches_by_user_by_id_or_username(world: World) -> None:
    # Given an officer who reads two people, among other people's acts
    officer, token = world.another_user("audit.officer", ("officer",))
    people = [new_record(world.client, "persons") for _ in range(2)]
    for p in people:
        world.client.get(
            url("persons", p["id"]), headers={"Authorization": f"Bearer {token}", **reason()}
        )
    officer_entries = [
        e.seq for e in entries_from(world.db, 0) if e.actor_user_id == officer.user_id
    ]
    assert len(officer_entries) >= 4  # device, enrolment, sign-in, two reads

    # When an auditor searches by the officer's username, and by their id
    by_name = world.client.get(
        f"{API}/audit/entries", params={"user": "Audit.Officer"}, headers=AUDIT_REVIEW
    )
    by_id = world.client.get(
        f"{API}/audit/entries", params={"user": officer.user_id}, headers=AUDIT_REVIEW
    )

    # Then both give exactly the officer's entries, newest first
    for response in (by_name, by_id):
        assert response.status_code == 200, response.text
        assert [i["seq"] for i in response.json()["items"]] == officer_entries[::-1]


def test_auditor_searches_a_time_window(world: World) -> None:
    # Given entries made before, during and after a window
    def a_read() -> int:
        person = new_record(world.client, "persons")
        world.client.get(url("persons", person["id"]), headers=reason())
        time.sleep(0.01)  # so the window's edges fall between entries' milliseconds
        return entry_count(world.db)

    a_read()
    since = datetime.now(UTC)
    time.sleep(0.01)
    a_read()
    a_read()
    until = datetime.now(UTC)
    time.sleep(0.01)
    a_read()
    inside = [e for e in entries_from(world.db, 0) if since <= e.at < until]
    assert len(inside) == 4  # two creations and two reads

    # When an auditor asks for the window
    page = world.client.get(
        f"{API}/audit/entries",
        params={"since": since.isoformat(), "until": until.isoformat(), "limit": 200},
        headers=AUDIT_REVIEW,
    )

    # Then exactly the entries inside it come back, newest first
    assert page.status_code == 200, page.text
    assert [i["seq"] for i in page.json()["items"]] == [e.seq for e in reversed(inside)]
    # And a window given without a timezone is refused rather than guessed
    naive = world.client.get(
        f"{API}/audit/entries",
        params={"since": since.replace(tzinfo=None).isoformat()},
        headers=AUDIT_REVIEW,
    )
    assert_problem(naive, 400, "INVALID_QUERY")


def test_reason_text_the_trail_cannot_hold_is_refused_as_a_bad_reason(world: World) -> None:
    # Given a reason whose text decodes to a NUL character, which PostgreSQL cannot store
    person = new_record(world.client, "persons")

    # When a person is read with it
    response = world.client.get(
        url("persons", person["id"]), headers=reason("INVESTIGATION", "a%00b")
    )

    # Then the reason is refused as the client's mistake (not a 503 from a failed audit write,
    # which would also fail every other reader whose entry shared its commit)
    assert_problem(response, 400, "INVALID_REASON_TEXT")
    assert "Okafor" not in response.text
