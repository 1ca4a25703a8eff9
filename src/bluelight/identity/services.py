"""Identity use cases: sign-in in two steps, tokens, sign-out, users, agencies and devices.

Sign-in: the password first (Argon2id), then a TOTP code (or a one-time recovery code) with
the short-lived challenge the first step returned. A user without a second factor enrols at
that point. Five failures in the lockout window lock the account. Every outcome, success or
failure, is audited, and an unknown username costs the same time and gets the same answer as
a wrong password.

Passwords are checked outside any write transaction: Argon2 takes tens of milliseconds, and
SQLite has one writer.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bluelight.audit import Action, Outcome, append, draft
from bluelight.db import Database
from bluelight.identity.errors import IdentityError, IdentityErrorCode
from bluelight.identity.models import (
    AccessSession,
    Agency,
    Device,
    RecoveryCode,
    SignInChallenge,
    SignInFailure,
    User,
)
from bluelight.identity.passwords import password_problems
from bluelight.identity.rules import (
    Actor,
    AgencyType,
    Classification,
    Permission,
    Role,
    permissions_of,
)
from bluelight.identity.schemas import (
    AgencyCreate,
    AgencyRead,
    DeviceRead,
    Enrolment,
    Me,
    RecoveryCodes,
    SecondFactorDue,
    SessionGranted,
    UserChange,
    UserCreate,
    UserRead,
)
from bluelight.kernel import new_id, utcnow
from bluelight.kernel.crypto import (
    SealError,
    SecretBox,
    burn_password_check,
    hash_password,
    mint_token,
    new_recovery_codes,
    new_totp_secret,
    normalise_recovery_code,
    qr_svg,
    recovery_code_digest,
    token_digest,
    totp_match,
    totp_uri,
    verify_password,
)

ISSUER = "Bluelight"
CHALLENGE_LIFETIME = timedelta(minutes=5)
MAX_CHALLENGE_FAILURES = 5
# last_used_at is written at most this often, so a busy session is not a write per request.
TOUCH_EVERY = timedelta(seconds=60)
USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


@dataclass(frozen=True, slots=True)
class IdentityPolicy:
    """The settings sign-in and sessions run by."""

    secrets: SecretBox
    password_cost: str = "standard"  # noqa: S105  (a cost, not a secret)
    idle_timeout: timedelta = timedelta(minutes=30)
    session_lifetime: timedelta = timedelta(hours=12)
    lockout_threshold: int = 5
    lockout_window: timedelta = timedelta(minutes=15)
    lockout_duration: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class _Anonymous:
    """Who a sign-in attempt acts as before anyone is known."""

    user_id: str = "anonymous"
    username: str = "(unknown user)"
    agency: str = "-"
    device_id: str | None = None


def _who(user: User, agency: str, device_id: uuid.UUID | str | None) -> Actor:
    roles = frozenset(Role(r) for r in user.roles)
    return Actor(
        user_id=str(user.id),
        username=user.username,
        agency=agency,
        permissions=_permissions(roles),
        device_id=str(device_id) if device_id else None,
        clearance=Classification(user.clearance),
        roles=roles,
    )


@lru_cache(maxsize=256)
def _permissions(roles: frozenset[Role]) -> frozenset[Permission]:
    return permissions_of(roles)


def _audit(session: Session, who: Any, action: Action, tag: str, **kw: Any) -> None:
    append(session, [draft(who, action, tag, at=utcnow(), id=new_id(), **kw)])


def _agency_code(session: Session, agency_id: uuid.UUID) -> str:
    return str(session.execute(select(Agency.code).where(Agency.id == agency_id)).scalar_one())


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


def _failed(detail: str = "the username, password or code is not right") -> IdentityError:
    return IdentityError(
        IdentityErrorCode.SIGN_IN_FAILED,
        f"sign-in failed: {detail}. After repeated failures an account is locked for a "
        "while; an administrator can release it.",
    )


def _locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def _record_failure(
    session: Session, policy: IdentityPolicy, user: User, now: datetime, stage: str
) -> None:
    """Count a failure; the one that reaches the threshold locks the account."""
    session.add(SignInFailure(id=new_id(), user_id=user.id, at=now))
    session.flush()
    recent = session.execute(
        select(func.count())
        .select_from(SignInFailure)
        .where(SignInFailure.user_id == user.id, SignInFailure.at > now - policy.lockout_window)
    ).scalar_one()
    agency = _agency_code(session, user.agency_id)
    who = _who(user, agency, None)
    _audit(
        session,
        who,
        Action.AUTHENTICATION,
        "identity:sign-in:failed",
        outcome=Outcome.DENIED,
        subject_type="user",
        subject_ids=[str(user.id)],
        detail={"stage": stage},
    )
    if recent >= policy.lockout_threshold and not _locked(user, now):
        session.execute(
            update(User)
            .where(User.id == user.id)
            .values(locked_until=now + policy.lockout_duration, updated_at=now)
        )
        _audit(
            session,
            who,
            Action.AUTHENTICATION,
            "identity:user:locked",
            outcome=Outcome.DENIED,
            subject_type="user",
            subject_ids=[str(user.id)],
            detail={"failures": int(recent), "until": (now + policy.lockout_duration).isoformat()},
        )


def start_sign_in(
    db: Database,
    policy: IdentityPolicy,
    *,
    username: str,
    password: str,
    device_id: uuid.UUID,
    device_name: str,
) -> SecondFactorDue:
    """Check the password; on success return a challenge for the second factor.

    Raises:
        IdentityError: SIGN_IN_FAILED (unknown user, wrong password, locked or disabled
            account: one answer for all), DEVICE_REVOKED, DEVICE_NOT_ALLOWED.
    """
    now = utcnow()
    name = username.strip().lower()
    with db.read() as session:
        user = session.execute(select(User).where(User.username == name)).scalar_one_or_none()
        device = session.get(Device, device_id)
        # Keep what was read: the read session's rollback would otherwise expire it.
        session.expunge_all()
    if user is None:
        burn_password_check(password, cost=policy.password_cost)
        with db.write() as session:
            _audit(
                session,
                _Anonymous(),
                Action.AUTHENTICATION,
                "identity:sign-in:failed",
                outcome=Outcome.DENIED,
                detail={"stage": "password", "why": "unknown-user"},
            )
        raise _failed()
    if user.disabled_at is not None or _locked(user, now):
        burn_password_check(password, cost=policy.password_cost)
        with db.write() as session:
            _audit(
                session,
                _who(user, _agency_code(session, user.agency_id), None),
                Action.AUTHENTICATION,
                "identity:sign-in:failed",
                outcome=Outcome.DENIED,
                subject_type="user",
                subject_ids=[str(user.id)],
                detail={"stage": "password", "why": "disabled" if user.disabled_at else "locked"},
            )
        raise _failed()
    if not verify_password(user.password_hash, password, cost=policy.password_cost):
        with db.write() as session:
            _record_failure(session, policy, user, now, "password")
        raise _failed()
    if device is not None and device.revoked_at is not None:
        raise IdentityError(
            IdentityErrorCode.DEVICE_REVOKED,
            "this device has been revoked: its data must be wiped before it is used again",
        )
    if device is not None and device.agency_id != user.agency_id:
        raise IdentityError(
            IdentityErrorCode.DEVICE_NOT_ALLOWED, "this device is registered to another agency"
        )
    token = mint_token("blc")
    challenge_id = new_id()
    enrolment: Enrolment | None = None
    sealed: str | None = None
    if user.totp_enrolled_at is None:
        secret = new_totp_secret()
        sealed = policy.secrets.seal(secret, context=f"enrol:{challenge_id}")
        uri = totp_uri(secret, account=user.username, issuer=ISSUER)
        enrolment = Enrolment(secret=secret, otpauth_uri=uri, qr_svg=qr_svg(uri))
    expires = now + CHALLENGE_LIFETIME
    with db.write() as session:
        session.add(
            SignInChallenge(
                id=challenge_id,
                token_digest=token_digest(token),
                user_id=user.id,
                device_id=device_id,
                device_name=device_name,
                enrol_sealed=sealed,
                created_at=now,
                expires_at=expires,
                used_at=None,
                failures=0,
            )
        )
    return SecondFactorDue(challenge=token, expires_at=expires, enrolment=enrolment)


def _recovery_code_used(session: Session, user: User, code: str, now: datetime) -> bool:
    normal = normalise_recovery_code(code)
    if normal is None:
        return False
    used = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_digest == recovery_code_digest(normal),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return bool(used.rowcount)  # type: ignore[attr-defined]  # a CursorResult for UPDATE


def _issue_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
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


def _totp_step(
    policy: IdentityPolicy, ch: SignInChallenge, user: User, code: str, now: datetime
) -> int | None:
    """The time step ``code`` matches for this challenge's user (or enrolment), if any."""
    try:
        if ch.enrol_sealed is not None:
            secret = policy.secrets.open(ch.enrol_sealed, context=f"enrol:{ch.id}")
            return totp_match(secret, code, now, last_step=None)
        if user.totp_sealed:
            secret = policy.secrets.open(user.totp_sealed, context=f"totp:{user.id}")
            return totp_match(secret, code, now, last_step=user.totp_last_step)
    except SealError:
        return None
    return None


def finish_sign_in(
    db: Database, policy: IdentityPolicy, *, challenge: str, code: str
) -> SessionGranted:
    """Check the second factor and open a session on the challenge's device.

    Raises:
        IdentityError: CHALLENGE_INVALID (unknown, used or expired challenge),
            SECOND_FACTOR_FAILED, SIGN_IN_FAILED (account locked or disabled meanwhile),
            DEVICE_REVOKED.
    """
    now = utcnow()
    digest = token_digest(challenge)
    with db.write() as session:
        ch = session.execute(
            select(SignInChallenge).where(SignInChallenge.token_digest == digest)
        ).scalar_one_or_none()
        if ch is None or ch.used_at is not None or ch.expires_at <= now:
            raise IdentityError(
                IdentityErrorCode.CHALLENGE_INVALID,
                "this sign-in has expired or was already used: start again with the password",
            )
        user = session.get(User, ch.user_id)
        assert user is not None  # noqa: S101  (a foreign key guarantees it)
        agency = _agency_code(session, user.agency_id)
        if user.disabled_at is not None or _locked(user, now):
            ch.used_at = now
            failure: IdentityError | None = _failed()
        else:
            failure = None
    if failure is not None:
        raise failure

    enrolling = ch.enrol_sealed is not None
    step = _totp_step(policy, ch, user, code, now)

    with db.write() as session:
        user = session.get(User, ch.user_id, with_for_update=True)
        assert user is not None  # noqa: S101  (as above)
        ok = False
        via = "totp"
        if step is not None:
            # Conditional, so two requests racing with one code cannot both succeed.
            moved = session.execute(
                update(User)
                .where(
                    User.id == user.id,
                    (User.totp_last_step.is_(None)) | (User.totp_last_step < step),
                )
                .values(totp_last_step=step)
            )
            ok = bool(moved.rowcount)  # type: ignore[attr-defined]  # CursorResult
        elif not enrolling and _recovery_code_used(session, user, code, now):
            ok, via = True, "recovery-code"
        claimed = session.execute(
            update(SignInChallenge)
            .where(SignInChallenge.id == ch.id, SignInChallenge.used_at.is_(None))
            .values(
                used_at=now if ok or ch.failures + 1 >= MAX_CHALLENGE_FAILURES else None,
                failures=SignInChallenge.failures + (0 if ok else 1),
            )
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]  # CursorResult
            ok = False
        if not ok:
            _record_failure(session, policy, user, now, "second-factor")
            failure = IdentityError(
                IdentityErrorCode.SECOND_FACTOR_FAILED,
                "that code is not right, or was already used: try the next code",
            )
        else:
            failure = None
            granted = _open_session(
                session, policy, user, agency=agency, ch=ch, now=now, enrolling=enrolling, via=via
            )
    if failure is not None:
        raise failure
    return granted


def _open_session(
    session: Session,
    policy: IdentityPolicy,
    user: User,
    *,
    agency: str,
    ch: SignInChallenge,
    now: datetime,
    enrolling: bool,
    via: str,
) -> SessionGranted:
    device = session.get(Device, ch.device_id, with_for_update=True)
    if device is not None and device.revoked_at is not None:
        raise IdentityError(IdentityErrorCode.DEVICE_REVOKED, "this device has been revoked")
    who = _who(user, agency, ch.device_id)
    if device is None:
        session.add(
            Device(
                id=ch.device_id,
                agency_id=user.agency_id,
                name=ch.device_name,
                registered_by=user.id,
                registered_at=now,
                last_user_id=user.id,
                last_seen_at=now,
            )
        )
        _audit(
            session,
            who,
            Action.ADMINISTRATION,
            "identity:device:registered",
            subject_type="device",
            subject_ids=[str(ch.device_id)],
            detail={"name": ch.device_name},
        )
    else:
        device.last_user_id = user.id
        device.last_seen_at = now
    codes: list[str] | None = None
    if enrolling:
        secret = policy.secrets.open(ch.enrol_sealed or "", context=f"enrol:{ch.id}")
        user.totp_sealed = policy.secrets.seal(secret, context=f"totp:{user.id}")
        user.totp_enrolled_at = now
        codes = _issue_recovery_codes(session, user, now)
        _audit(
            session,
            who,
            Action.ADMINISTRATION,
            "identity:second-factor:enrolled",
            subject_type="user",
            subject_ids=[str(user.id)],
        )
    session.execute(delete(SignInFailure).where(SignInFailure.user_id == user.id))
    token = mint_token("blt")
    expires = now + policy.session_lifetime
    session.flush()
    session.add(
        AccessSession(
            id=new_id(),
            token_digest=token_digest(token),
            user_id=user.id,
            device_id=ch.device_id,
            created_at=now,
            last_used_at=now,
            expires_at=expires,
        )
    )
    _audit(
        session,
        who,
        Action.AUTHENTICATION,
        "identity:sign-in:succeeded",
        subject_type="user",
        subject_ids=[str(user.id)],
        detail={"second_factor": via},
    )
    return SessionGranted(
        token=token,
        token_type="Bearer",  # noqa: S106  (the scheme's name, not a secret)
        expires_at=expires,
        idle_timeout_seconds=int(policy.idle_timeout.total_seconds()),
        user=user_read(user, agency),
        recovery_codes=codes,
    )


_SESSION_QUERY: Any = (
    select(
        AccessSession.token_digest,
        AccessSession.id,
        AccessSession.expires_at,
        AccessSession.last_used_at,
        AccessSession.revoked_at,
        AccessSession.revoked_reason,
        AccessSession.device_id,
        Device.revoked_at.label("device_revoked_at"),
        User.id.label("user_id"),
        User.username,
        User.roles,
        User.clearance,
        User.disabled_at,
        Agency.code.label("agency"),
    )
    .join(User, User.id == AccessSession.user_id)
    .join(Device, Device.id == AccessSession.device_id)
    .join(Agency, Agency.id == User.agency_id)
    .where(AccessSession.token_digest.in_(bindparam("digests", expanding=True)))
)
# Tokens looked up in one query at most; the web layer gathers the requests that arrive
# together (see ``web.auth.TokenAuthenticator``) and never asks for more.
MAX_TOKENS_PER_LOOKUP = 256


def authenticate(db: Database, policy: IdentityPolicy, token: str) -> Actor:
    """The actor a bearer token stands for.

    Raises:
        IdentityError: TOKEN_INVALID, TOKEN_EXPIRED (idle or past its lifetime),
            TOKEN_REVOKED (signed out, or the user disabled), DEVICE_REVOKED.
    """
    found = authenticate_many(db, policy, [token])[0]
    if isinstance(found, IdentityError):
        raise found
    return found


def authenticate_many(
    db: Database, policy: IdentityPolicy, tokens: Sequence[str]
) -> list[Actor | IdentityError]:
    """``authenticate`` for several tokens in one query: for each, its actor or the error
    that refuses it, in the order given.

    One statement run as its own transaction; sessions idle for more than a minute get their
    ``last_used_at`` moved on (one update for all of them).
    """
    if len(tokens) > MAX_TOKENS_PER_LOOKUP:
        msg = f"at most {MAX_TOKENS_PER_LOOKUP} tokens per lookup"
        raise ValueError(msg)
    now = utcnow()
    digests = [token_digest(t) for t in tokens]
    with db.autocommit() as conn:
        rows = {
            row.token_digest: row
            for row in conn.execute(_SESSION_QUERY, {"digests": list(dict.fromkeys(digests))})
        }
    results: list[Actor | IdentityError] = []
    stale: set[uuid.UUID] = set()
    for digest in digests:
        row = rows.get(digest)
        try:
            results.append(_session_actor(row, policy, now))
        except IdentityError as exc:
            results.append(exc)
            continue
        if row is not None and now - row.last_used_at > TOUCH_EVERY:
            stale.add(row.id)
    if stale:
        with db.write() as session:
            session.execute(
                update(AccessSession).where(AccessSession.id.in_(stale)).values(last_used_at=now)
            )
    return results


def _session_actor(row: Any, policy: IdentityPolicy, now: datetime) -> Actor:
    """The actor of a looked-up session, if the session still stands.

    Raises:
        IdentityError: TOKEN_INVALID (no such session), DEVICE_REVOKED, TOKEN_REVOKED,
            TOKEN_EXPIRED.
    """
    if row is None:
        raise IdentityError(IdentityErrorCode.TOKEN_INVALID, "the token is not valid")
    if row.device_revoked_at is not None:
        raise IdentityError(
            IdentityErrorCode.DEVICE_REVOKED,
            "this device has been revoked: wipe its data and sign in on a registered device",
        )
    if row.revoked_at is not None or row.disabled_at is not None:
        raise IdentityError(
            IdentityErrorCode.TOKEN_REVOKED,
            "this session has ended: sign in again",
            reason=row.revoked_reason or "user-disabled",
        )
    if row.expires_at <= now or now - row.last_used_at > policy.idle_timeout:
        raise IdentityError(IdentityErrorCode.TOKEN_EXPIRED, "this session has timed out")
    roles = frozenset(Role(r) for r in row.roles)
    return Actor(
        user_id=str(row.user_id),
        username=row.username,
        agency=row.agency,
        permissions=_permissions(roles),
        device_id=str(row.device_id),
        clearance=Classification(row.clearance),
        session_id=str(row.id),
        roles=roles,
    )


def sign_out(db: Database, *, actor: Actor) -> None:
    """End the actor's session at once."""
    now = utcnow()
    with db.write() as session:
        session.execute(
            update(AccessSession)
            .where(AccessSession.id == uuid.UUID(str(actor.session_id)))
            .values(revoked_at=now, revoked_reason="signed-out")
        )
        _audit(session, actor, Action.AUTHENTICATION, "identity:session:signed-out")


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


def regenerate_recovery_codes(db: Database, *, actor: Actor) -> RecoveryCodes:
    """New recovery codes for the actor; the old ones stop working."""
    now = utcnow()
    with db.write() as session:
        user = session.get(User, uuid.UUID(actor.user_id))
        if user is None:
            raise IdentityError(IdentityErrorCode.USER_NOT_FOUND, "no such user")
        codes = _issue_recovery_codes(session, user, now)
        _audit(
            session,
            actor,
            Action.ADMINISTRATION,
            "identity:second-factor:recovery-codes-renewed",
            subject_type="user",
            subject_ids=[actor.user_id],
        )
    return RecoveryCodes(codes=codes)


# --- agencies and users -----------------------------------------------------------------


def create_agency(db: Database, data: AgencyCreate, *, actor: Any) -> AgencyRead:
    """Register an agency (a force or a partner).

    Raises:
        IdentityError: AGENCY_EXISTS.
    """
    agency = Agency(
        id=new_id(), code=data.code, name=data.name, type=str(data.type), created_at=utcnow()
    )
    try:
        with db.write() as session:
            session.add(agency)
            session.flush()
            _audit(
                session,
                actor,
                Action.ADMINISTRATION,
                "identity:agency:created",
                subject_type="agency",
                subject_ids=[data.code],
                detail={"type": str(data.type), "name": data.name},
            )
    except IntegrityError as exc:
        raise IdentityError(
            IdentityErrorCode.AGENCY_EXISTS, f"an agency with code {data.code} exists"
        ) from exc
    return AgencyRead(id=agency.id, code=agency.code, name=agency.name, type=agency.type)


def list_agencies(db: Database) -> list[AgencyRead]:
    with db.read() as session:
        rows = session.scalars(select(Agency).order_by(Agency.code))
        return [AgencyRead(id=a.id, code=a.code, name=a.name, type=a.type) for a in rows]


def _agency_by_code(session: Session, code: str) -> Agency:
    agency = session.execute(select(Agency).where(Agency.code == code)).scalar_one_or_none()
    if agency is None:
        raise IdentityError(IdentityErrorCode.AGENCY_NOT_FOUND, f"no agency with code {code}")
    return agency


def _check_password(password: str, username: str) -> None:
    problems = password_problems(password, username=username)
    if problems:
        raise IdentityError(IdentityErrorCode.WEAK_PASSWORD, "; ".join(problems), problems=problems)


def _check_roles(roles: list[Role], agency_type: str, actor: Any) -> None:
    partner_roles = {Role.PARTNER_USER, Role.PROSECUTOR}
    if agency_type != AgencyType.POLICE and any(r not in partner_roles for r in roles):
        raise IdentityError(
            IdentityErrorCode.ROLE_NOT_GRANTABLE,
            "a partner agency's users may hold only the partner_user and prosecutor roles",
        )
    # An administrator cannot hand out what they could not do themselves, except the
    # ordinary police roles their job is to manage.
    if isinstance(actor, Actor) and actor.user_id != "system":
        grantable = permissions_of([Role.OFFICER, Role.CONTROLLER, Role.INVESTIGATOR])
        grantable |= actor.permissions | permissions_of([Role.PARTNER_USER, Role.PROSECUTOR])
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

    Raises:
        IdentityError: INVALID_USERNAME, WEAK_PASSWORD, USERNAME_TAKEN, AGENCY_NOT_FOUND,
            ROLE_NOT_GRANTABLE.
    """
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
            agency = _agency_by_code(session, code)
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
            _audit(
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


def _own_user(session: Session, user_id: uuid.UUID, actor: Any, *, lock: bool = False) -> User:
    user = session.get(User, user_id, with_for_update=lock or None)
    if user is None or (
        actor.user_id != "system" and _agency_code(session, user.agency_id) != actor.agency
    ):
        raise IdentityError(IdentityErrorCode.USER_NOT_FOUND, f"no user with id {user_id}")
    return user


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
        return user_read(user, _agency_code(session, user.agency_id))


def list_users(db: Database, *, actor: Actor) -> list[UserRead]:
    with db.read() as session:
        agency = _agency_by_code(session, actor.agency)
        rows = session.scalars(
            select(User).where(User.agency_id == agency.id).order_by(User.username)
        )
        return [user_read(u, agency.code) for u in rows]


def _end_sessions(session: Session, user_id: uuid.UUID, now: datetime, reason: str) -> None:
    session.execute(
        update(AccessSession)
        .where(AccessSession.user_id == user_id, AccessSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )


def change_user(db: Database, user_id: uuid.UUID, data: UserChange, *, actor: Any) -> UserRead:
    """Change a user's name, roles, clearance, or disable/enable them. Disabling ends every
    session at once.

    Raises:
        IdentityError: USER_NOT_FOUND, ROLE_NOT_GRANTABLE, VERSION_CONFLICT.
    """
    now = utcnow()
    with db.write() as session:
        user = _own_user(session, user_id, actor, lock=True)
        agency = _agency_code(session, user.agency_id)
        if data.version != user.version:
            raise IdentityError(
                IdentityErrorCode.VERSION_CONFLICT,
                f"the user is at version {user.version}, not {data.version}",
                current_version=user.version,
            )
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
                _end_sessions(session, user.id, now, "user-disabled")
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
            _audit(
                session,
                actor,
                Action.ADMINISTRATION,
                tag,
                subject_type="user",
                subject_ids=[str(user.id)],
                detail={"changes": changes},
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
        username = _own_user(session, user_id, actor).username
    _check_password(password, username)
    password_hash = hash_password(password, cost=policy.password_cost)
    with db.write() as session:
        user = _own_user(session, user_id, actor, lock=True)
        user.password_hash = password_hash
        user.must_change_password = True
        user.locked_until = None
        if clear_second_factor:
            user.totp_sealed = None
            user.totp_enrolled_at = None
            user.totp_last_step = None
            session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        session.execute(delete(SignInFailure).where(SignInFailure.user_id == user.id))
        _end_sessions(session, user.id, now, "password-reset")
        user.version += 1
        user.updated_at = now
        _audit(
            session,
            actor,
            Action.ADMINISTRATION,
            "identity:user:reset",
            subject_type="user",
            subject_ids=[str(user.id)],
            detail={"second_factor_cleared": clear_second_factor},
        )
        return user_read(user, _agency_code(session, user.agency_id))


def unlock_user(db: Database, user_id: uuid.UUID, *, actor: Any) -> UserRead:
    """Release a locked account.

    Raises:
        IdentityError: USER_NOT_FOUND.
    """
    with db.write() as session:
        user = _own_user(session, user_id, actor, lock=True)
        user.locked_until = None
        session.execute(delete(SignInFailure).where(SignInFailure.user_id == user.id))
        _audit(
            session,
            actor,
            Action.ADMINISTRATION,
            "identity:user:unlocked",
            subject_type="user",
            subject_ids=[str(user.id)],
        )
        return user_read(user, _agency_code(session, user.agency_id))


# --- devices ----------------------------------------------------------------------------


def _device_read(session: Session, d: Device) -> DeviceRead:
    names = dict(
        session.execute(
            select(User.id, User.username).where(User.id.in_([d.registered_by, d.last_user_id]))
        ).all()
    )
    return DeviceRead(
        id=d.id,
        agency=_agency_code(session, d.agency_id),
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
            stmt = stmt.where(Device.agency_id == _agency_by_code(session, actor.agency).id)
        return [_device_read(session, d) for d in session.scalars(stmt)]


def revoke_device(db: Database, device_id: uuid.UUID, *, reason: str, actor: Any) -> DeviceRead:
    """Revoke a device: its sessions end and its next request is told to wipe its data.

    Raises:
        IdentityError: DEVICE_NOT_FOUND.
    """
    now = utcnow()
    with db.write() as session:
        device = session.get(Device, device_id, with_for_update=True)
        if device is None or (
            actor.user_id != "system" and _agency_code(session, device.agency_id) != actor.agency
        ):
            raise IdentityError(
                IdentityErrorCode.DEVICE_NOT_FOUND, f"no device with id {device_id}"
            )
        if device.revoked_at is None:
            device.revoked_at = now
            device.revoked_by = actor.username
            device.revocation_reason = reason
            session.execute(
                update(AccessSession)
                .where(AccessSession.device_id == device.id, AccessSession.revoked_at.is_(None))
                .values(revoked_at=now, revoked_reason="device-revoked")
            )
            _audit(
                session,
                actor,
                Action.ADMINISTRATION,
                "identity:device:revoked",
                subject_type="device",
                subject_ids=[str(device.id)],
                why=None,
                detail={"reason": reason},
            )
        return _device_read(session, device)


def demo_users_present(db: Database) -> bool:
    """Whether the demo's users (whose secrets are published) are in this database."""
    with db.read() as session:
        return (
            session.execute(select(User.id).where(User.demo.is_(True)).limit(1)).first() is not None
        )
