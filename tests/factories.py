"""Valid payloads for every kind of POLE record, helpers that store them through the API, and
the checks and fixtures the API tests share.

Each ``<kind>_payload`` returns a fresh dict that the API accepts as it is; keyword arguments
override or add fields (``None`` included, so a test can send an explicit null). Links and
markers point at other records, so their payload functions take the ids to point at, and
``new_record`` makes whatever a kind needs before storing it.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from bluelight.app import create_app
from bluelight.db import Base, Database
from bluelight.settings import Settings

API = "/api/v1"
KIND_PATHS = ("persons", "vehicles", "property", "locations", "events", "links", "markers")
_serial = itertools.count(1)


def _with(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    return {**base, **overrides}


def an_hour_ago() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat()


def in_days(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def person_payload(**overrides: Any) -> dict[str, Any]:
    base = {
        "names": [{"family_name": "Okafor", "given_names": "Chidi James", "title": "Mr"}],
        "date_of_birth": "1988-04-12",
        "sex": "M",
        "ethnicity_officer": "IC3",
        "height_cm": 180,
        "build": "MEDIUM",
        "hair_colour": "BLACK",
        "eye_colour": "BROWN",
        "marks": [{"type": "TATTOO", "location": "FACE", "description": "small star"}],
        "identifiers": [],
    }
    return _with(base, overrides)


def vehicle_payload(**overrides: Any) -> dict[str, Any]:
    base = {
        "vrm": "AB12 CDE",
        "make": "FORD",
        "model": "Focus",
        "colour": "BLUE",
        "body_type": "HATCHBACK",
        "year_of_manufacture": 2015,
    }
    return _with(base, overrides)


def property_payload(**overrides: Any) -> dict[str, Any]:
    base = {
        "category": "MOBILE-PHONE",
        "make": "Samsung",
        "model": "Galaxy S21",
        "serial_number": "r58n123abc",
        "colour": "black",
        "description": "cracked screen",
    }
    return _with(base, overrides)


def location_payload(**overrides: Any) -> dict[str, Any]:
    base = {
        "location_type": "dwelling",
        "premises": "14",
        "street": "Mansfield Road",
        "town": "Nottingham",
        "postcode": "NG1 3FN",
        "latitude": 52.9589,
        "longitude": -1.1505,
    }
    return _with(base, overrides)


def event_payload(**overrides: Any) -> dict[str, Any]:
    base = {
        "kind": "crime",
        "reference": f"CR/{next(_serial):06d}/26",
        "occurred_from": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
        "occurred_to": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "reported_at": an_hour_ago(),
        "incident_type": "CRIME",
        "qualifiers": ["ALCOHOL"],
        "offence": "5D-01",
        "narrative": "Victim approached outside the venue and threatened.",
    }
    return _with(base, overrides)


def link_payload(
    from_type: str, from_id: str, to_type: str, to_id: str, **overrides: Any
) -> dict[str, Any]:
    link_type = {
        ("person", "event"): "involved-in",
        ("person", "vehicle"): "registered-keeper",
        ("person", "location"): "resides-at",
        ("person", "person"): "associate-of",
        ("vehicle", "event"): "vehicle-involved",
        ("event", "location"): "occurred-at",
    }[(from_type, to_type)]
    base: dict[str, Any] = {
        "link_type": link_type,
        "from_type": from_type,
        "from_id": from_id,
        "to_type": to_type,
        "to_id": to_id,
        "valid_from": (datetime.now(UTC) - timedelta(days=30)).isoformat(),
        "valid_to": an_hour_ago(),
        "notes": "seen together",
    }
    if link_type == "involved-in":
        base["role"] = "suspect"
    return _with(base, overrides)


def marker_payload(
    subject_id: str, subject_type: str = "person", **overrides: Any
) -> dict[str, Any]:
    base = {
        "subject_type": subject_type,
        "subject_id": subject_id,
        "marker": "WE" if subject_type == "location" else "VI",
        "detail": "carried a knife when arrested",
        "review_date": in_days(365),
    }
    return _with(base, overrides)


def stored(client: Any, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POST ``payload`` to ``/api/v1/<path>`` and return the stored record (it must be 201).

    It gives a reason: a person, a vehicle, a link or a marker is written with one."""
    response = client.post(f"{API}/{path}", json=payload, headers=REASON)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def _link_payload(client: Any, **overrides: Any) -> dict[str, Any]:
    person = stored(client, "persons", person_payload())
    event = stored(client, "events", event_payload())
    return link_payload("person", person["id"], "event", event["id"], **overrides)


def _marker_payload(client: Any, **overrides: Any) -> dict[str, Any]:
    person = stored(client, "persons", person_payload())
    return marker_payload(person["id"], **overrides)


PAYLOADS = {
    "persons": lambda _client, **kw: person_payload(**kw),
    "vehicles": lambda _client, **kw: vehicle_payload(**kw),
    "property": lambda _client, **kw: property_payload(**kw),
    "locations": lambda _client, **kw: location_payload(**kw),
    "events": lambda _client, **kw: event_payload(**kw),
    "links": _link_payload,
    "markers": _marker_payload,
}


def payload_for(client: Any, path: str, **overrides: Any) -> dict[str, Any]:
    """A valid payload for ``path``, storing first any record a link or marker points at."""
    payload: dict[str, Any] = PAYLOADS[path](client, **overrides)
    return payload


def new_record(client: Any, path: str, **overrides: Any) -> dict[str, Any]:
    """Store a valid record of ``path`` (and whatever it points at) and return it."""
    return stored(client, path, payload_for(client, path, **overrides))


def device_id() -> str:
    """An id as a device makes it (a random UUID, not the server's time-ordered kind)."""
    return str(uuid.uuid4())


def today() -> date:
    return datetime.now(UTC).date()


# --- checks shared by the API tests --------------------------------------------------------


def row_counts(db: Any) -> dict[str, int]:
    """How many rows each table holds: a refused write must leave this exactly as it was."""
    with db.read() as session:
        return {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem+json response with ``status`` and stable ``code``; return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["type"] == f"urn:bluelight:problem:{code}"
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


# --- the app under test --------------------------------------------------------------------
# Building the app costs far more than a request (Litestar registers ~150 route handlers), so
# the API tests share one per session; each test still gets its own client and empty tables.
# --- signing in ---------------------------------------------------------------------------

TEST_PASSWORD = "correct horse battery staple"
FORCE = "DEMO"
# Between them these roles hold every permission a force user can have.
EVERY_ROLE = ("supervisor", "agency_admin", "auditor")
REASON = {"X-Bluelight-Reason": "INVESTIGATION", "X-Bluelight-Reason-Text": "test enquiry"}


def settings_for_tests(url: str, data_dir: Any, **overrides: Any) -> Settings:
    """Settings for a test app: cheap password hashing, no background signing."""
    return Settings(
        database_url=url,
        data_dir=data_dir,
        env="test",
        password_hash_cost="fast",
        audit_sign_interval_seconds=0,
        **overrides,
    )


def ensure_agency(app: Litestar, code: str = FORCE, agency_type: str = "police") -> None:
    from bluelight.identity import services as identity
    from bluelight.identity import system_actor
    from bluelight.identity.errors import IdentityError
    from bluelight.identity.schemas import AgencyCreate

    try:
        identity.create_agency(
            app.state.database,
            AgencyCreate(code=code, name=f"{code} agency", type=agency_type),  # type: ignore[arg-type]
            actor=system_actor(code),
        )
    except IdentityError as exc:
        if exc.code != "AGENCY_EXISTS":
            raise


def make_user(
    app: Litestar,
    username: str,
    roles: tuple[str, ...] | list[str] = EVERY_ROLE,
    *,
    agency: str = FORCE,
    agency_type: str = "police",
    clearance: str = "OFFICIAL-SENSITIVE",
    password: str = TEST_PASSWORD,
) -> Any:
    """A user made the way an administrator makes one (no second factor yet)."""
    from bluelight.identity import services as identity
    from bluelight.identity import system_actor
    from bluelight.identity.schemas import UserCreate

    ensure_agency(app, agency, agency_type)
    return identity.create_user(
        app.state.database,
        app.state.identity_policy,
        msgspec.convert(
            {
                "username": username,
                "display_name": username.title(),
                "password": password,
                "roles": list(roles),
                "clearance": clearance,
                "agency": agency,
            },
            UserCreate,
        ),
        actor=system_actor(agency),
    )


TOTP_SECRETS: dict[str, str] = {}


def sign_in(
    client: TestClient[Any],
    username: str,
    *,
    password: str = TEST_PASSWORD,
    device_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Sign in through the API with password and TOTP (enrolling on the first sign-in).

    Returns the second step's JSON (``token``, ``user``, ``recovery_codes`` …).
    """
    from bluelight.kernel.crypto import totp_code

    device = {"id": str(device_id or uuid.uuid4()), "name": f"{username}'s test device"}
    first = client.post(
        f"{API}/auth/sign-in",
        json={"username": username, "password": password, "device": device},
        headers={"Authorization": ""},
    )
    assert first.status_code == 200, first.text
    body = first.json()
    if body.get("enrolment"):
        TOTP_SECRETS[username] = body["enrolment"]["secret"]
    secret = TOTP_SECRETS[username]
    at = datetime.now(UTC)
    second = client.post(
        f"{API}/auth/second-factor",
        json={"challenge": body["challenge"], "code": totp_code(secret, at)},
        headers={"Authorization": ""},
    )
    if second.status_code == 401 and second.json()["code"] == "SECOND_FACTOR_FAILED":
        # The code of this 30-second step was spent by an earlier sign-in: take the next.
        again = client.post(
            f"{API}/auth/sign-in",
            json={"username": username, "password": password, "device": device},
            headers={"Authorization": ""},
        ).json()
        second = client.post(
            f"{API}/auth/second-factor",
            json={
                "challenge": again["challenge"],
                "code": totp_code(secret, at + timedelta(seconds=30)),
            },
            headers={"Authorization": ""},
        )
    assert second.status_code == 200, second.text
    return second.json()  # type: ignore[no-any-return]


def auth_headers(
    client: TestClient[Any],
    username: str = "test.supervisor",
    roles: tuple[str, ...] | list[str] = EVERY_ROLE,
    *,
    agency: str = FORCE,
    agency_type: str = "police",
    clearance: str = "OFFICIAL-SENSITIVE",
    reason: bool = True,
) -> dict[str, str]:
    """Make a user, sign them in, and return the headers their requests carry."""
    make_user(
        client.app, username, roles, agency=agency, agency_type=agency_type, clearance=clearance
    )
    token = sign_in(client, username)["token"]
    return {"Authorization": f"Bearer {token}", **(REASON if reason else {})}


# Conftests re-export these two fixtures to override the per-test app of tests/conftest.py.


@pytest.fixture(scope="session")
def app(migrated: tuple[Any, str], tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    engine, url = migrated
    return create_app(
        settings_for_tests(url, tmp_path_factory.mktemp("data")), database=Database(engine)
    )


@pytest.fixture
def client(app: Litestar, db: Database) -> Iterator[TestClient[Any]]:
    """An API client signed in as a user holding every role of the force, giving a reason."""
    with TestClient(app) as c:
        c.headers.update(auth_headers(c))
        yield c


# A small, valid change for each kind's PATCH, by path.
A_CHANGE: dict[str, dict[str, Any]] = {
    "persons": {"sex": "F"},
    "vehicles": {"colour": "RED"},
    "property": {"description": "changed"},
    "locations": {"name": "changed"},
    "events": {"narrative": "changed"},
    "links": {"notes": "changed"},
    "markers": {"detail": "changed"},
}
