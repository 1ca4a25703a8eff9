"""The read side of identity: who a token acts for, users, agencies and devices as the API shows
them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bluelight.db import Database
from bluelight.identity.errors import IdentityError, IdentityErrorCode
from bluelight.identity.models import AccessSession, Agency, Device, User
from bluelight.identity.policy import IdentityPolicy
from bluelight.identity.rules import Actor
from bluelight.identity.schemas import AgencyRead, DeviceRead, Me, UserRead


def agency_code(session: Session, agency_id: uuid.UUID) -> str:
    return str(session.execute(select(Agency.code).where(Agency.id == agency_id)).scalar_one())


def agency_by_code(session: Session, code: str) -> Agency:
    agency = session.execute(select(Agency).where(Agency.code == code)).scalar_one_or_none()
    if agency is None:
        raise IdentityError(IdentityErrorCode.AGENCY_NOT_FOUND, f"no agency with code {code}")
    return agency


def user_read(user: User, agency: str) -> UserRead:
    return UserRead(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        agency=agency,
        roles=list(user.roles),
        clearance=user.clearance,
        second_factor=user.totp_enrolled_at is not None,
        locked_until=user.locked_until,
        disabled_at=user.disabled_at,
        must_change_password=user.must_change_password,
        version=user.version,
    )


def me(db: Database, policy: IdentityPolicy, *, actor: Actor) -> Me:
    """Who the token acts for."""
    with db.read() as session:
        user = session.get(User, uuid.UUID(actor.user_id))
        if user is None:
            raise IdentityError(IdentityErrorCode.USER_NOT_FOUND, "no such user")
        expires = session.execute(
            select(AccessSession.expires_at).where(
                AccessSession.id == uuid.UUID(str(actor.session_id))
            )
        ).scalar_one()
        return Me(
            user=user_read(user, actor.agency),
            permissions=sorted(str(p) for p in actor.permissions),
            device_id=actor.device_id,
            session_expires_at=expires,
            idle_timeout_seconds=int(policy.idle_timeout.total_seconds()),
        )


def list_agencies(db: Database) -> list[AgencyRead]:
    with db.read() as session:
        rows = session.scalars(select(Agency).order_by(Agency.code))
        return [AgencyRead(id=a.id, code=a.code, name=a.name, type=a.type) for a in rows]


def find_user(db: Database, username: str) -> UserRead:
    """A user by username (for the command line).

    Raises:
        IdentityError: USER_NOT_FOUND.
    """
    with db.read() as session:
        user = session.execute(
            select(User).where(User.username == username.strip().lower())
        ).scalar_one_or_none()
        if user is None:
            raise IdentityError(IdentityErrorCode.USER_NOT_FOUND, f"no user {username}")
        return user_read(user, agency_code(session, user.agency_id))


def list_users(db: Database, *, actor: Actor) -> list[UserRead]:
    with db.read() as session:
        agency = agency_by_code(session, actor.agency)
        rows = session.scalars(
            select(User).where(User.agency_id == agency.id).order_by(User.username)
        )
        return [user_read(u, agency.code) for u in rows]


def device_read(session: Session, d: Device) -> DeviceRead:
    names = dict(
        session.execute(
            select(User.id, User.username).where(User.id.in_([d.registered_by, d.last_user_id]))
        ).all()
    )
    return DeviceRead(
        id=d.id,
        agency=agency_code(session, d.agency_id),
        name=d.name,
        registered_at=d.registered_at,
        registered_by=names.get(d.registered_by, "?"),
        last_user=names.get(d.last_user_id, "?"),
        last_seen_at=d.last_seen_at,
        revoked_at=d.revoked_at,
        revoked_by=d.revoked_by,
        revocation_reason=d.revocation_reason,
    )


def list_devices(db: Database, *, actor: Any) -> list[DeviceRead]:
    """The devices of the actor's agency (every agency's, for the platform itself)."""
    with db.read() as session:
        stmt = select(Device).order_by(Device.registered_at)
        if actor.user_id != "system":
            stmt = stmt.where(Device.agency_id == agency_by_code(session, actor.agency).id)
        return [device_read(session, d) for d in session.scalars(stmt)]


def demo_users_present(db: Database) -> bool:
    """Whether the demo's users (whose secrets are published) are in this database."""
    with db.read() as session:
        return (
            session.execute(select(User.id).where(User.demo.is_(True)).limit(1)).first() is not None
        )
