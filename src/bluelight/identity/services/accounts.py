"""What the identity use cases share: the actor a user acts as, the audit entry of an act,
a user of the actor's own agency, ending a user's sessions, and issuing recovery codes."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from bluelight.audit import Action, append, draft
from bluelight.changes import SessionsEnded, publish
from bluelight.identity.errors import IdentityError, IdentityErrorCode
from bluelight.identity.models import AccessSession, RecoveryCode, User
from bluelight.identity.queries import agency_code
from bluelight.identity.rules import Actor, Classification, Role, permissions_of
from bluelight.kernel import new_id, utcnow
from bluelight.kernel.crypto import (
    new_recovery_codes,
    normalise_recovery_code,
    recovery_code_digest,
)
from bluelight.kernel.permissions import Permission


def actor_of(user: User, agency: str, device_id: uuid.UUID | str | None) -> Actor:
    roles = frozenset(Role(r) for r in user.roles)
    return Actor(
        user_id=str(user.id),
        username=user.username,
        agency=agency,
        permissions=permissions_for(roles),
        device_id=str(device_id) if device_id else None,
        clearance=Classification(user.clearance),
        roles=roles,
    )


@lru_cache(maxsize=256)
def permissions_for(roles: frozenset[Role]) -> frozenset[Permission]:
    return permissions_of(roles)


def audit_act(session: Session, who: Any, action: Action, tag: str, **kw: Any) -> None:
    append(session, [draft(who, action, tag, at=utcnow(), id=new_id(), **kw)])


def own_user(session: Session, user_id: uuid.UUID, actor: Any, *, lock: bool = False) -> User:
    user = session.get(User, user_id, with_for_update=lock or None)
    if user is None or (
        actor.user_id != "system" and agency_code(session, user.agency_id) != actor.agency
    ):
        raise IdentityError(IdentityErrorCode.USER_NOT_FOUND, f"no user with id {user_id}")
    return user


def end_sessions(session: Session, user_id: uuid.UUID, now: datetime, reason: str) -> None:
    """End every session of a user; once committed, ``SessionsEnded`` tells whoever listens
    (the push channel closes the user's connections)."""
    session.execute(
        update(AccessSession)
        .where(AccessSession.user_id == user_id, AccessSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    publish(session, SessionsEnded(reason=reason, user_id=user_id))


def issue_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = new_recovery_codes()
    session.add_all(
        RecoveryCode(
            id=new_id(),
            user_id=user.id,
            code_digest=recovery_code_digest(normalise_recovery_code(c) or c),
            created_at=now,
            used_at=None,
        )
        for c in codes
    )
    return codes
