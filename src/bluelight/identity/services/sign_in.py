"""Sign-in in two steps: the password first (Argon2id), then a TOTP code (or a one-time
recovery code) with the short-lived challenge the first step returned.

A user without a second factor enrols at that point. Five failures in the lockout window lock
the account. Every outcome, success or failure, is audited, and an unknown username costs the
same time and gets the same answer as a wrong password.

Passwords are checked outside any write transaction: Argon2 takes tens of milliseconds, and
SQLite has one writer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bluelight.audit import Action, Outcome
from bluelight.db import Database
from bluelight.identity.errors import IdentityError, IdentityErrorCode
from bluelight.identity.models import (
    AccessSession,
    Device,
    RecoveryCode,
    SignInChallenge,
    SignInFailure,
    User,
)
from bluelight.identity.policy import IdentityPolicy
from bluelight.identity.queries import agency_code, user_read
from bluelight.identity.schemas import Enrolment, SecondFactorDue, SessionGranted
from bluelight.identity.services.accounts import actor_of, audit_act, issue_recovery_codes
from bluelight.kernel import new_id, utcnow
from bluelight.kernel.crypto import (
    SealError,
    burn_password_check,
    mint_token,
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


@dataclass(frozen=True, slots=True)
class _Anonymous:
    """Who a sign-in attempt acts as before anyone is known."""

    user_id: str = "anonymous"
    username: str = "(unknown user)"
    agency: str = "-"
    device_id: str | None = None


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
    agency = agency_code(session, user.agency_id)
    who = actor_of(user, agency, None)
    audit_act(
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
        audit_act(
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
            audit_act(
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
            audit_act(
                session,
                actor_of(user, agency_code(session, user.agency_id), None),
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
        agency = agency_code(session, user.agency_id)
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
    who = actor_of(user, agency, ch.device_id)
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
        audit_act(
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
        codes = issue_recovery_codes(session, user, now)
        audit_act(
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
    audit_act(
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
