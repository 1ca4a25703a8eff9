"""The demo's agencies and users: every role in the demo force, four partner agencies, sign-ins
with their second factor already enrolled, and a handful of events shared with the partners.

Development only. The passwords are printed in the README and on every ``bluelight demo``, and
the TOTP secrets follow from the seed, so anyone can sign in as these users: every one is made
with ``demo=True``, and ``create_app`` refuses to start in production while one exists.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select

from bluelight.audit import Action, Justification, append, draft
from bluelight.db import Database
from bluelight.identity import AgencyType, Classification, Role, system_actor
from bluelight.identity import queries as identity_queries
from bluelight.identity import services as identity
from bluelight.identity.models import User
from bluelight.identity.schemas import AgencyCreate, UserCreate
from bluelight.identity.services import IdentityPolicy
from bluelight.kernel import new_id, utcnow
from bluelight.kernel.crypto import SealError, hash_password, totp_code, verify_password
from bluelight.records.kinds import BY_NAME
from bluelight.records.models import Event
from bluelight.records.schemas import ShareCreate, ShareLevelName, ShareRead
from bluelight.records.shares import share_record

# The year in the published passwords: a fixed string, not the date, so the README stays true.
PASSWORD_STEM = "bluelight demo 2026"  # noqa: S105  (a published demo password, not a secret)
# The passwords are published, so a costly hash protects nothing here, and the standard cost
# (about a second a hash) would add ten seconds to every ``make run``. Sign-in verifies with
# the parameters stored in the hash, so these work on a server set to the standard cost.
DEMO_PASSWORD_COST = "fast"  # noqa: S105  (a cost, not a secret)


class DemoUsersError(RuntimeError):
    """The demo's users cannot be made (a real account holds one of their usernames)."""


@dataclass(frozen=True, slots=True)
class DemoAgency:
    code: str
    name: str
    type: AgencyType


PARTNERS = (
    DemoAgency("NFRS", "Nottinghamshire Fire and Rescue Service", AgencyType.FIRE),
    DemoAgency("EMAS", "East Midlands Ambulance Service", AgencyType.AMBULANCE),
    DemoAgency("NCC", "Nottingham City Council", AgencyType.LOCAL_AUTHORITY),
    DemoAgency("CPS", "Crown Prosecution Service", AgencyType.PROSECUTOR),
)


def force_agency(force_code: str) -> DemoAgency:
    """The demo force itself, under the code the server is configured with."""
    name = "Demo Constabulary" if force_code == "DEMO" else f"{force_code} (demo force)"
    return DemoAgency(force_code, name, AgencyType.POLICE)


@dataclass(frozen=True, slots=True)
class DemoUser:
    """One of the demo's users; ``agency`` None means the demo force."""

    username: str
    display_name: str
    role: Role
    agency: str | None = None
    clearance: Classification = Classification.OFFICIAL_SENSITIVE

    @property
    def password(self) -> str:
        """The published password: long enough and uncommon enough for the password rule."""
        return f"{PASSWORD_STEM} {self.username.removeprefix('demo.')}"


DEMO_USERS = (
    DemoUser("demo.officer", "PC Demo Officer", Role.OFFICER),
    DemoUser("demo.controller", "Demo Controller", Role.CONTROLLER),
    DemoUser("demo.investigator", "DC Demo Investigator", Role.INVESTIGATOR),
    DemoUser("demo.supervisor", "Sgt Demo Supervisor", Role.SUPERVISOR),
    DemoUser("demo.admin", "Demo Administrator", Role.AGENCY_ADMIN),
    DemoUser("demo.auditor", "Demo Auditor", Role.AUDITOR),
    DemoUser("demo.fire", "Demo Fire Officer", Role.PARTNER_USER, "NFRS", Classification.OFFICIAL),
    DemoUser(
        "demo.ambulance", "Demo Paramedic", Role.PARTNER_USER, "EMAS", Classification.OFFICIAL
    ),
    DemoUser(
        "demo.council", "Demo Council Officer", Role.PARTNER_USER, "NCC", Classification.OFFICIAL
    ),
    DemoUser("demo.prosecutor", "Demo Prosecutor", Role.PROSECUTOR, "CPS"),
)


@dataclass(frozen=True, slots=True)
class DemoSignIn:
    """What a person needs to sign in as a demo user."""

    username: str
    role: str
    agency: str
    password: str
    totp_secret: str

    def code(self, at: datetime) -> str:
        """The code an authenticator app set up with ``totp_secret`` shows at ``at``."""
        return totp_code(self.totp_secret, at)


def demo_totp_secret(seed: int, username: str) -> str:
    """The demo user's TOTP secret: 160 bits from the seed and username, in base32, so the
    same seed gives the same secrets and a phone set up once keeps working."""
    digest = hashlib.sha256(f"bluelight-demo-totp:{seed}:{username}".encode()).digest()
    return base64.b32encode(digest[:20]).decode("ascii")


def _ensure_agencies(db: Database, force_code: str) -> None:
    present = {a.code for a in identity_queries.list_agencies(db)}
    for agency in (force_agency(force_code), *PARTNERS):
        if agency.code not in present:
            identity.create_agency(
                db,
                AgencyCreate(code=agency.code, name=agency.name, type=agency.type),
                actor=system_actor(force_code),
            )


def _find(db: Database, username: str) -> User | None:
    with db.read() as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        # Keep what was read: the read session's rollback would otherwise expire it.
        session.expunge_all()
    return user


def _totp_matches(policy: IdentityPolicy, user: User, secret: str) -> bool:
    if not user.totp_sealed or user.totp_enrolled_at is None:
        return False
    try:
        return policy.secrets.open(user.totp_sealed, context=f"totp:{user.id}") == secret
    except SealError:
        return False


def _ensure_user(
    db: Database, policy: IdentityPolicy, u: DemoUser, *, agency: str, secret: str, force_code: str
) -> None:
    """Make ``u`` (or put an earlier demo's copy back as published) with its second factor."""
    actor = system_actor(force_code)
    found = _find(db, u.username)
    if found is None:
        made = identity.create_user(
            db,
            replace(policy, password_cost=DEMO_PASSWORD_COST),
            UserCreate(
                username=u.username,
                display_name=u.display_name,
                password=u.password,
                roles=[u.role],
                clearance=u.clearance,
                agency=agency,
            ),
            actor=actor,
            demo=True,
        )
        user_id, restored, fresh = made.id, ["second_factor"], True
    else:
        if not found.demo:
            msg = (
                f"a real account is called {u.username}: the demo's users were not made "
                "(rename or remove that account first)"
            )
            raise DemoUsersError(msg)
        user_id, restored, fresh = found.id, [], False
        if not verify_password(found.password_hash, u.password, cost=DEMO_PASSWORD_COST):
            restored.append("password")
        if not _totp_matches(policy, found, secret):
            restored.append("second_factor")
        wanted = {
            "display_name": u.display_name,
            "roles": [str(u.role)],
            "clearance": str(u.clearance),
            "disabled_at": None,
            "locked_until": None,
            "must_change_password": False,
        }
        restored += [name for name, value in wanted.items() if getattr(found, name) != value]
    if not restored:
        return
    # Hashing takes tens of milliseconds: outside the write transaction, as the services do.
    password_hash = (
        hash_password(u.password, cost=DEMO_PASSWORD_COST) if "password" in restored else None
    )
    _restore(
        db,
        policy,
        user_id,
        u,
        secret=secret,
        password_hash=password_hash,
        restored=restored,
        fresh=fresh,
        force_code=force_code,
    )


def _restore(
    db: Database,
    policy: IdentityPolicy,
    user_id: uuid.UUID,
    u: DemoUser,
    *,
    secret: str,
    password_hash: str | None,
    restored: list[str],
    fresh: bool,
    force_code: str,
) -> None:
    """Enrol a just-made user's second factor, or put back what differs from the published
    demo user, in one audited transaction."""
    now = utcnow()
    with db.write() as session:
        user = session.get(User, user_id, with_for_update=True)
        assert user is not None  # noqa: S101  (found or made just before; demo users stay)
        if password_hash is not None:
            user.password_hash = password_hash
        if "second_factor" in restored:
            user.totp_sealed = policy.secrets.seal(secret, context=f"totp:{user.id}")
            user.totp_enrolled_at = now
            user.totp_last_step = None
        user.display_name = u.display_name
        user.roles = [str(u.role)]
        user.clearance = str(u.clearance)
        user.disabled_at = None
        user.locked_until = None
        user.must_change_password = False
        user.updated_at = now
        if not fresh:
            user.version += 1
        append(
            session,
            [
                draft(
                    system_actor(force_code),
                    Action.ADMINISTRATION,
                    "identity:second-factor:enrolled" if fresh else "identity:user:reset",
                    at=now,
                    id=new_id(),
                    subject_type="user",
                    subject_ids=[str(user.id)],
                    detail={"demo": True, "restored": restored},
                )
            ],
        )


def load_demo_users(
    db: Database, policy: IdentityPolicy, *, seed: int, force_code: str
) -> list[DemoSignIn]:
    """Make the demo's agencies and users (again, as published, if an earlier demo left them
    changed), each with a second factor enrolled, and return their sign-ins.

    Raises:
        DemoUsersError: a real (non-demo) account holds one of the demo's usernames.
    """
    _ensure_agencies(db, force_code)
    sign_ins = []
    for u in DEMO_USERS:
        agency = u.agency or force_code
        secret = demo_totp_secret(seed, u.username)
        _ensure_user(db, policy, u, agency=agency, secret=secret, force_code=force_code)
        sign_ins.append(DemoSignIn(u.username, str(u.role), agency, u.password, secret))
    return sign_ins


# (event, partner, level, reason code, reason text): the place of the event among the most
# recent ones, so each partner sees something at each level it is given.
SHARE_PLAN: tuple[tuple[int, str, ShareLevelName, str, str], ...] = (
    (0, "NFRS", "location", "INCIDENT-RESPONSE", "fire crews attending"),
    (0, "EMAS", "operational", "INCIDENT-RESPONSE", "casualty at the scene"),
    (1, "NFRS", "operational", "INCIDENT-RESPONSE", "joint response"),
    (2, "EMAS", "location", "INCIDENT-RESPONSE", "ambulance requested"),
    (3, "NCC", "operational", "SAFEGUARDING", "vulnerable adult referral"),
    (4, "NCC", "location", "SAFEGUARDING", "housing officer visit"),
    (5, "CPS", "full", "CASE-PREPARATION", "charging decision"),
    (6, "CPS", "full", "CASE-PREPARATION", "file for first hearing"),
)


def share_demo_events(db: Database, *, force_code: str) -> list[ShareRead]:
    """Share a handful of the force's most recent events with the partners, at every level,
    so each partner's view has something in it. Audited as disclosures, like any share."""
    wanted = max(index for index, *_ in SHARE_PLAN) + 1
    with db.read() as session:
        ids = list(
            session.scalars(
                select(Event.id)
                .where(
                    Event.owner_agency == force_code,
                    Event.deleted_at.is_(None),
                    Event.restricted.is_(False),
                    Event.classification == Classification.OFFICIAL,
                    Event.location_id.is_not(None),
                )
                .order_by(Event.occurred_from.desc(), Event.id)
                .limit(wanted)
            )
        )
    actor = system_actor(force_code)
    return [
        share_record(
            db,
            BY_NAME["event"],
            ids[index],
            ShareCreate(agency=agency, level=level),
            actor=actor,
            why=Justification(code, f"demo: {text}"),
        )
        for index, agency, level, code, text in SHARE_PLAN
        if index < len(ids)
    ]
