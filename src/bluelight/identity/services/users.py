"""Accounts: adding users to an agency, changing their roles, clearance or name, disabling,
resetting and unlocking them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bluelight.audit import Action
from bluelight.db import Database
from bluelight.identity.errors import IdentityError, IdentityErrorCode
from bluelight.identity.models import Agency, RecoveryCode, SignInFailure, User
from bluelight.identity.passwords import password_problems
from bluelight.identity.policy import IdentityPolicy
from bluelight.identity.queries import agency_by_code, agency_code, user_read
from bluelight.identity.rules import (
    PARTNER_ROLES,
    Actor,
    AgencyType,
    Role,
    permissions_of,
    roles_of_agency,
)
from bluelight.identity.schemas import UserChange, UserCreate, UserRead
from bluelight.identity.services.accounts import audit_act, end_sessions, own_user
from bluelight.kernel import new_id, utcnow
from bluelight.kernel.crypto import hash_password

USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


def _check_password(password: str, username: str) -> None:
    problems = password_problems(password, username=username)
    if problems:
        raise IdentityError(IdentityErrorCode.WEAK_PASSWORD, "; ".join(problems), problems=problems)


def _check_roles(roles: list[Role], agency_type: str, actor: Any) -> None:
    foreign = sorted(str(r) for r in set(roles) - roles_of_agency(agency_type))
    if foreign:
        detail = (
            "partner_user and prosecutor are roles of a partner agency, not of a police force"
            if agency_type == AgencyType.POLICE
            else "a partner agency's users may hold only the partner_user and prosecutor roles"
        )
        raise IdentityError(IdentityErrorCode.ROLE_NOT_GRANTABLE, detail, roles=foreign)
    # An administrator cannot hand out what they could not do themselves, except the
    # ordinary police roles their job is to manage.
    if isinstance(actor, Actor) and actor.user_id != "system":
        grantable = permissions_of([Role.OFFICER, Role.CONTROLLER, Role.INVESTIGATOR])
        grantable |= actor.permissions | permissions_of(PARTNER_ROLES)
        wanted = permissions_of(roles)
        if not wanted <= grantable:
            raise IdentityError(
                IdentityErrorCode.ROLE_NOT_GRANTABLE,
                "you cannot grant permissions you do not hold",
                permissions=sorted(str(p) for p in wanted - grantable),
            )


def create_user(
    db: Database,
    policy: IdentityPolicy,
    data: UserCreate,
    *,
    actor: Any,
    demo: bool = False,
) -> UserRead:
    """Add a user to the actor's agency (or, for the platform itself, the named one).

    An administrator may name their own agency or none; naming another is refused rather
    than quietly replaced by their own, so no one believes they made an account elsewhere.

    Raises:
        IdentityError: INVALID_USERNAME, WEAK_PASSWORD, USERNAME_TAKEN, AGENCY_NOT_FOUND,
            ROLE_NOT_GRANTABLE, OTHER_AGENCY.
    """
    if actor.user_id != "system" and data.agency is not None and data.agency != actor.agency:
        raise IdentityError(
            IdentityErrorCode.OTHER_AGENCY,
            f"you may add users only to your own agency, {actor.agency}, not {data.agency}",
            agency=data.agency,
        )
    name = data.username.strip().lower()
    if len(name) < 3 or not set(name) <= USERNAME_CHARS:
        raise IdentityError(
            IdentityErrorCode.INVALID_USERNAME,
            "a username is 3 to 64 of a-z, 0-9, '.', '_' and '-'",
        )
    _check_password(data.password, name)
    password_hash = hash_password(data.password, cost=policy.password_cost)
    now = utcnow()
    code = data.agency if data.agency and actor.user_id == "system" else actor.agency
    try:
        with db.write() as session:
            agency = agency_by_code(session, code)
            _check_roles(data.roles, agency.type, actor)
            user = User(
                id=new_id(),
                agency_id=agency.id,
                username=name,
                display_name=data.display_name,
                password_hash=password_hash,
                roles=[str(r) for r in data.roles],
                clearance=str(data.clearance),
                demo=demo,
                must_change_password=False,
                created_at=now,
                updated_at=now,
                version=1,
            )
            session.add(user)
            session.flush()
            audit_act(
                session,
                actor,
                Action.ADMINISTRATION,
                "identity:user:created",
                subject_type="user",
                subject_ids=[str(user.id)],
                detail={"roles": user.roles, "clearance": user.clearance, "agency": code},
            )
            return user_read(user, agency.code)
    except IntegrityError as exc:
        raise IdentityError(
            IdentityErrorCode.USERNAME_TAKEN, f"the username {name} is taken"
        ) from exc


def _removes_administrator(user: User, data: UserChange) -> bool:
    """Whether ``data`` takes away an administrator: ``user`` is an enabled agency_admin, and
    would no longer be one (the role taken away, or the account disabled)."""
    if user.disabled_at is not None or Role.AGENCY_ADMIN not in user.roles:
        return False
    return bool(data.disabled) or (data.roles is not None and Role.AGENCY_ADMIN not in data.roles)


def _other_administrator(session: Session, user: User) -> bool:
    """Whether ``user``'s agency has another enabled administrator, counted under a lock.

    The agency's row is locked first, so two changes that would each remove one of the last
    two administrators run one after the other on PostgreSQL, and the second counts what the
    first committed (SQLite has one writer at a time already). Lock order: the user's row
    (taken by ``change_user``), then the agency's; nothing locks them the other way round.
    """
    session.execute(select(Agency.id).where(Agency.id == user.agency_id).with_for_update())
    others = session.scalars(
        select(User.roles).where(
            User.agency_id == user.agency_id, User.id != user.id, User.disabled_at.is_(None)
        )
    )
    return any(Role.AGENCY_ADMIN in roles for roles in others)


def change_user(db: Database, user_id: uuid.UUID, data: UserChange, *, actor: Any) -> UserRead:
    """Change a user's name, roles, clearance, or disable/enable them. Disabling ends every
    session at once.

    A change that would leave the user's agency with no enabled ``agency_admin`` (taking the
    role from the last one, or disabling them) is refused, so an agency can always manage its
    own accounts. The platform itself (``bluelight users disable``) may still do it, and the
    audit entry says so: the command line is what gives an agency an administrator back
    (``bluelight users add --role agency_admin``), so nothing is lost that it cannot restore,
    and it is the way to shut out at once a sole administrator who has left or whose account
    is compromised, without first having to make someone else an administrator.

    Raises:
        IdentityError: USER_NOT_FOUND, ROLE_NOT_GRANTABLE, VERSION_CONFLICT,
            LAST_ADMINISTRATOR.
    """
    now = utcnow()
    with db.write() as session:
        user = own_user(session, user_id, actor, lock=True)
        agency = agency_code(session, user.agency_id)
        if data.version != user.version:
            raise IdentityError(
                IdentityErrorCode.VERSION_CONFLICT,
                f"the user is at version {user.version}, not {data.version}",
                current_version=user.version,
            )
        detail: dict[str, Any] = {}
        if _removes_administrator(user, data) and not _other_administrator(session, user):
            if actor.user_id != "system":
                raise IdentityError(
                    IdentityErrorCode.LAST_ADMINISTRATOR,
                    f"{user.username} is the last administrator of {agency}: make another "
                    "user an agency_admin first",
                    agency=agency,
                )
            detail["no_administrator_left"] = True
        changes: dict[str, Any] = {}
        if data.display_name is not None and data.display_name != user.display_name:
            changes["display_name"] = [user.display_name, data.display_name]
            user.display_name = data.display_name
        if data.roles is not None and sorted(data.roles) != sorted(user.roles):
            agency_type = session.get(Agency, user.agency_id).type  # type: ignore[union-attr]  # FK
            _check_roles(data.roles, agency_type, actor)
            changes["roles"] = [list(user.roles), [str(r) for r in data.roles]]
            user.roles = [str(r) for r in data.roles]
        if data.clearance is not None and data.clearance != user.clearance:
            changes["clearance"] = [user.clearance, str(data.clearance)]
            user.clearance = str(data.clearance)
        if data.disabled is not None and data.disabled != (user.disabled_at is not None):
            changes["disabled"] = [not data.disabled, data.disabled]
            user.disabled_at = now if data.disabled else None
            if data.disabled:
                end_sessions(session, user.id, now, "user-disabled")
        if changes:
            user.version += 1
            user.updated_at = now
            tag = (
                "identity:user:permissions-changed"
                if ("roles" in changes or "clearance" in changes)
                else "identity:user:changed"
            )
            if "disabled" in changes:
                tag = "identity:user:disabled" if data.disabled else "identity:user:enabled"
            audit_act(
                session,
                actor,
                Action.ADMINISTRATION,
                tag,
                subject_type="user",
                subject_ids=[str(user.id)],
                detail={"changes": changes, **detail},
            )
        return user_read(user, agency)


def reset_user(
    db: Database,
    policy: IdentityPolicy,
    user_id: uuid.UUID,
    *,
    password: str,
    clear_second_factor: bool,
    actor: Any,
) -> UserRead:
    """Set a new password (the user must change it), optionally clear the second factor so
    they enrol again, release any lockout and end every session.

    Raises:
        IdentityError: USER_NOT_FOUND, WEAK_PASSWORD.
    """
    now = utcnow()
    with db.read() as session:
        username = own_user(session, user_id, actor).username
    _check_password(password, username)
    password_hash = hash_password(password, cost=policy.password_cost)
    with db.write() as session:
        user = own_user(session, user_id, actor, lock=True)
        user.password_hash = password_hash
        user.must_change_password = True
        user.locked_until = None
        if clear_second_factor:
            user.totp_sealed = None
            user.totp_enrolled_at = None
            user.totp_last_step = None
            session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        session.execute(delete(SignInFailure).where(SignInFailure.user_id == user.id))
        end_sessions(session, user.id, now, "password-reset")
        user.version += 1
        user.updated_at = now
        audit_act(
            session,
            actor,
            Action.ADMINISTRATION,
            "identity:user:reset",
            subject_type="user",
            subject_ids=[str(user.id)],
            detail={"second_factor_cleared": clear_second_factor},
        )
        return user_read(user, agency_code(session, user.agency_id))


def unlock_user(db: Database, user_id: uuid.UUID, *, actor: Any) -> UserRead:
    """Release a locked account.

    Raises:
        IdentityError: USER_NOT_FOUND.
    """
    with db.write() as session:
        user = own_user(session, user_id, actor, lock=True)
        user.locked_until = None
        session.execute(delete(SignInFailure).where(SignInFailure.user_id == user.id))
        audit_act(
            session,
            actor,
            Action.ADMINISTRATION,
            "identity:user:unlocked",
            subject_type="user",
            subject_ids=[str(user.id)],
        )
        return user_read(user, agency_code(session, user.agency_id))
