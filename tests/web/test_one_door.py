"""No route hands out a person's data except through the one audited door.

Generated from the app's own routes: every route (a new one included, which fails here until
this file knows how to call it) is called against a force holding a *sentinel*: a person,
their warning marker, a link about them, a vehicle, an event shared with a partner at the full
level, and audit entries whose reason names them, each carrying a string found nowhere else.

For every route:

1. without a reason, no answer carries any sentinel string;
2. with a reason while the audit trail cannot be written, no answer carries one;
3. with a reason and the trail up, an answer that carries one has its entry on the trail,
   with this reason, before the client has it.

So the sync pull, the checks and the briefings still to come inherit the rule by being routes.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import create_engine, select

from bluelight.app import create_app
from bluelight.audit import Justification
from bluelight.audit.models import AuditEntry
from bluelight.db import Database
from bluelight.identity import system_actor
from bluelight.records.kinds import BY_NAME
from bluelight.records.schemas import ShareCreate
from bluelight.records.services import create_record
from bluelight.records.shares import share_record
from factories import (
    API,
    FORCE,
    event_payload,
    link_payload,
    location_payload,
    make_user,
    marker_payload,
    person_payload,
    property_payload,
    settings_for_tests,
    sign_in,
    vehicle_payload,
)
from outages import TrailSwitch

PARTNER = "FIRE9"
SURNAME = "Zzyzxsentinel"
WARNING = "sentinel-warning: seizures in custody"
NOTE = "sentinel-note: seen at the address"
MODEL = "Sentinelmodel"
REASON_TEXT = "sentinel-reason"
SENTINELS = (SURNAME, WARNING, NOTE, MODEL, REASON_TEXT)
SEED_WHY = Justification("INVESTIGATION", "seeding the sentinel force")
NO_REASON = {"X-Bluelight-Reason": "", "X-Bluelight-Reason-Text": ""}
KIND_OF = {k.path: k.name for k in BY_NAME.values()} | {"shared": "event"}


@dataclass
class Sentinel:
    """The force, its sentinel records and the clients that reach them."""

    app: Litestar
    client: TestClient[Any]
    trail: TrailSwitch
    ids: dict[str, str]
    versions: dict[str, int]
    police: dict[str, str]
    partner: dict[str, str]
    user_id: str
    device_id: str
    seq: int
    disclosed: list[str] = field(default_factory=list)


def _record(db: Database, kind: str, payload: dict[str, Any]) -> Any:
    k = BY_NAME[kind]
    return create_record(db, k, msgspec.convert(payload, k.create), actor=ACTOR, why=SEED_WHY)


ACTOR = system_actor(FORCE)


@pytest.fixture
def sentinel(db: Database, settings: Any, tmp_path: Path) -> Iterator[Sentinel]:
    trail = TrailSwitch(db)
    app = create_app(settings, database=db)
    with TestClient(app) as client:
        make_user(app, "door.supervisor", ("supervisor", "agency_admin", "auditor"))
        make_user(app, "door.officer", ("officer",))
        partner_user = make_user(
            app, "door.fire", ("partner_user",), agency=PARTNER, agency_type="fire"
        )
        police = {"Authorization": f"Bearer {sign_in(client, 'door.supervisor')['token']}"}
        device = uuid.uuid4()
        fire = sign_in(client, "door.fire", device_id=device)
        partner = {"Authorization": f"Bearer {fire['token']}"}

        person = _record(db, "person", person_payload(names=[{"family_name": SURNAME}]))
        place = _record(db, "location", location_payload())
        event = _record(db, "event", event_payload(location_id=str(place.id)))
        marker = _record(db, "marker", marker_payload(str(person.id), detail=WARNING))
        link = _record(
            db, "link", link_payload("person", str(person.id), "event", str(event.id), notes=NOTE)
        )
        vehicle = _record(db, "vehicle", vehicle_payload(model=MODEL))
        item = _record(db, "property", property_payload())
        share_record(
            db,
            BY_NAME["event"],
            event.id,
            ShareCreate(agency=PARTNER, level="full"),
            actor=ACTOR,
            why=SEED_WHY,
        )
        # The supervisor's device holds the person through a link it made (sync pull sends it).
        held = client.post(
            f"{API}/sync/push",
            json={"operations": [{
                "id": str(uuid.uuid4()), "kind": "link", "action": "create",
                "record_id": str(uuid.uuid4()),
                "content": link_payload("person", str(person.id), "event", str(event.id),
                                        notes="made on a device"),
            }]},
            headers={**police, "X-Bluelight-Reason": "INVESTIGATION",
                     "X-Bluelight-Reason-Text": "seeding"},
        )  # fmt: skip
        assert held.json()["results"][0]["status"] == "applied", held.text
        # An auditor's search names the person, with a reason that names them too.
        read = client.get(
            f"{API}/persons/{person.id}",
            headers={**police, "X-Bluelight-Reason": "INVESTIGATION",
                     "X-Bluelight-Reason-Text": REASON_TEXT},
        )  # fmt: skip
        assert read.status_code == 200, read.text
        with db.read() as session:
            seq = session.execute(
                select(AuditEntry.seq).where(AuditEntry.reason_text == REASON_TEXT)
            ).scalar_one()
        records = {
            "person": person,
            "location": place,
            "event": event,
            "marker": marker,
            "link": link,
            "vehicle": vehicle,
            "property": item,
        }
        try:
            yield Sentinel(
                app=app,
                client=client,
                trail=trail,
                ids={k: str(r.id) for k, r in records.items()},
                versions={k: r.version for k, r in records.items()},
                police=police,
                partner=partner,
                user_id=str(partner_user.id),
                device_id=str(device),
                seq=seq,
            )
        finally:
            trail.close()


# --- how each route is called ------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    partner: bool = False
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None


def _kind(template: str) -> str:
    segment = template.removeprefix(f"{API}/").split("/")[0]
    return KIND_OF.get(segment, "")


def _url(template: str, s: Sentinel) -> str:
    kind = _kind(template)
    values = {
        "record_id": s.ids.get(kind, ""),
        "agency": PARTNER,
        "user_id": s.user_id,
        "device_id": s.device_id,
        "seq": str(s.seq),
        "name": "sex",
        "force": FORCE,
        "file_path": "css/site.css" if template.startswith("/static") else "favicon-32x32.png",
        "path": "index.html",
    }

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            msg = f"no value for path parameter {name!r} of {template}: add one"
            raise LookupError(msg)
        return values[name]

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, template)


def _body(method: str, template: str, s: Sentinel) -> dict[str, Any] | None:
    """The body of a request the route would carry out (None: it takes none)."""
    kind = _kind(template)
    tail = template.removeprefix(f"{API}/")
    version = s.versions.get(kind, 1)
    record = re.fullmatch(r"[a-z]+/\{record_id:uuid\}", tail)
    bodies: list[tuple[bool, Callable[[], dict[str, Any] | None]]] = [
        # The attack of the review: a change that changes nothing answers with the record.
        (method == "PATCH" and record is not None, lambda: {"version": version}),
        (method == "DELETE" and record is not None,
         lambda: {"version": version, "reason": "entered in error"}),
        (method == "PUT" and tail.endswith("/access"), lambda: {"version": version}),
        (method == "POST" and tail.endswith("/import"),
         lambda: {"source_force": FORCE, "records": [{}]}),
        (method == "POST" and tail.endswith("/shares"),
         lambda: {"agency": PARTNER, "level": "full"}),
        (method == "POST" and tail == "persons", person_payload),
        (method == "POST" and tail == "vehicles", vehicle_payload),
        (method == "POST" and tail == "property", property_payload),
        (method == "POST" and tail == "locations", location_payload),
        (method == "POST" and tail == "events", event_payload),
        (method == "POST" and tail == "markers",
         lambda: marker_payload(s.ids["person"], detail="another warning")),
        (method == "POST" and tail == "links",
         lambda: link_payload("person", s.ids["person"], "event", s.ids["event"])),
        (method == "POST" and tail == "users",
         lambda: {"username": "door.new", "display_name": "New", "roles": ["officer"],
                  "password": "a perfectly long pass phrase"}),
        (method == "PATCH" and tail.startswith("users/"), lambda: {"version": 1}),
        (method == "POST" and tail.endswith("/reset"),
         lambda: {"password": "another long pass phrase"}),
        (method == "POST" and tail.endswith("/revoke"), lambda: {"reason": "lost on patrol"}),
        (method == "POST" and tail == "auth/sign-in",
         lambda: {"username": "door.supervisor", "password": "wrong password!",
                  "device": {"id": str(uuid.uuid4()), "name": "x"}}),
        # A change to the person on a version it is not at: a conflict, answered with the
        # server's copy of the person.
        (method == "POST" and tail == "sync/push",
         lambda: {"operations": [{"id": str(uuid.uuid4()), "kind": "person", "action": "update",
                                  "record_id": s.ids["person"], "base_version": version + 1,
                                  "content": {"sex": "F"}}]}),
        (method == "POST" and tail == "auth/second-factor",
         lambda: {"challenge": "not-a-challenge", "code": "000000"}),
    ]  # fmt: skip
    for applies, make in bodies:
        if applies:
            return make()
    if (
        method in ("GET", "HEAD", "DELETE")
        or tail
        in (
            "auth/sign-out",
            "auth/recovery-codes",
            "audit/tree-heads",
        )
        or tail.endswith("/unlock")
    ):
        return None
    msg = f"no request body for {method} {template}: add one to _body"
    raise LookupError(msg)


def call_for(method: str, template: str, s: Sentinel) -> Call:
    url = _url(template, s)
    partner = template.startswith(f"{API}/shared")
    if method == "PUT" and "/mappings/" in template:
        return Call(method, url, content=b"X,Unknown,U\n", content_type="text/csv")
    return Call(method, url, partner=partner, json=_body(method, template, s))


def routes() -> list[tuple[str, str]]:
    """Every route of the app, by method (an app whose database is never opened)."""
    with tempfile.TemporaryDirectory() as scratch:
        with_app = create_app(
            settings_for_tests("sqlite://", Path(scratch)),
            database=Database(create_engine("sqlite://")),
        )
    found = {
        (method, route.path)
        for route in with_app.routes
        for handler in getattr(route, "route_handlers", [])
        for method in getattr(handler, "http_methods", ())
        if method != "OPTIONS"
    }
    return sorted(found, key=lambda r: (r[1], r[0]))


def _send(s: Sentinel, call: Call, reason: dict[str, str]) -> Any:
    headers = {**(s.partner if call.partner else s.police), **reason}
    if call.content_type:
        headers["Content-Type"] = call.content_type
    return s.client.request(
        call.method, call.url, json=call.json, content=call.content, headers=headers
    )


def _leaked(response: Any) -> list[str]:
    text = response.text
    return [s for s in SENTINELS if s in text]


def _entry_with(s: Sentinel, text: str) -> list[Any]:
    with s.app.state.database.read() as session:
        return list(
            session.execute(
                select(AuditEntry.tag, AuditEntry.outcome, AuditEntry.reason_code).where(
                    AuditEntry.reason_text == text
                )
            )
        )


def _reason(text: str) -> dict[str, str]:
    return {"X-Bluelight-Reason": "INVESTIGATION", "X-Bluelight-Reason-Text": text}


ROUTES = routes()


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_no_route_discloses_personal_data_but_through_the_door(
    sentinel: Sentinel, method: str, template: str
) -> None:
    call = call_for(method, template, sentinel)

    # 1. Without a reason, nothing of the sentinel comes back
    bare = _send(sentinel, call, NO_REASON)
    assert _leaked(bare) == [], f"{method} {template} answered {bare.status_code} without a reason"

    # 2. With a reason while the trail cannot be written: nothing of the sentinel comes back
    sentinel.trail.down = True
    try:
        down = _send(sentinel, call, _reason("trail down"))
    finally:
        sentinel.trail.down = False
    assert _leaked(down) == [], f"{method} {template} disclosed while the trail was down"
    assert _entry_with(sentinel, "trail down") == []

    # 3. With a reason: whatever discloses has its entry, with this reason, on the trail
    answered = _send(sentinel, call, _reason("door check"))
    if _leaked(answered):
        entries = _entry_with(sentinel, "door check")
        assert [e.outcome for e in entries] == ["allowed"], f"{method} {template}: {entries}"
        assert entries[0].reason_code == "INVESTIGATION"


# The routes that must show the sentinel given a reason: if none of them did, the test above
# would pass without testing anything.
DISCLOSING = [
    ("GET", f"{API}/persons/{{record_id:uuid}}"),
    ("GET", f"{API}/persons"),
    ("GET", f"{API}/persons/{{record_id:uuid}}/history"),
    ("PATCH", f"{API}/persons/{{record_id:uuid}}"),
    ("GET", f"{API}/markers/{{record_id:uuid}}"),
    ("GET", f"{API}/markers"),
    ("GET", f"{API}/links/{{record_id:uuid}}"),
    ("GET", f"{API}/vehicles/{{record_id:uuid}}"),
    ("GET", f"{API}/shared/events/{{record_id:uuid}}"),
    ("GET", f"{API}/shared/events"),
    ("GET", f"{API}/audit/entries"),
    ("GET", f"{API}/audit/entries/{{seq:int}}"),
    ("GET", f"{API}/audit/export"),
    ("POST", f"{API}/sync/push"),
    ("GET", f"{API}/sync/pull"),
]


def test_the_sentinel_is_there_to_be_found(sentinel: Sentinel) -> None:
    assert set(DISCLOSING) <= set(ROUTES)
    for method, template in DISCLOSING:
        response = _send(sentinel, call_for(method, template, sentinel), _reason("finding it"))
        assert response.status_code == 200, (method, template, response.text)
        assert _leaked(response), (method, template, response.text[:300])
