"""Sessions: the actor a bearer token stands for (looked up for many tokens at once), signing
out, and renewing one's own recovery codes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, LargeBinary, select, update

from bluelight.audit import Action
from bluelight.db import Database, among, plain_rows
from bluelight.identity.errors import IdentityError, IdentityErrorCode
from bluelight.identity.models import AccessSession, Agency, Device, User
from bluelight.identity.policy import IdentityPolicy
from bluelight.identity.rules import Actor, Classification, Role
from bluelight.identity.schemas import RecoveryCodes
from bluelight.identity.services.accounts import audit_act, issue_recovery_codes, permissions_for
from bluelight.kernel import utcnow
from bluelight.kernel.crypto import token_digest

# last_used_at is written at most this often, so a busy session is not a write per request.
TOUCH_EVERY = timedelta(seconds=60)


@cache
def _session_query(dialect: str) -> Any:
    """The lookup of sessions by token digest, built once per database kind: on PostgreSQL the
    digests are one array parameter (the statement is the same however many are asked), else
    an expanding ``IN``."""
    digests = among(AccessSession.token_digest, "digests", LargeBinary(), dialect)
    return (
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
        .where(digests)
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
    db: Database,
    policy: IdentityPolicy,
    tokens: Sequence[str],
    *,
    conn: Connection | None = None,
) -> list[Actor | IdentityError]:
    """``authenticate`` for several tokens in one query: for each, its actor or the error
    that refuses it, in the order given.

    One statement run as its own transaction (on ``conn`` if given: a connection of ``db``
    in autocommit, as ``Database.autocommit`` lends); sessions idle for more than a minute
    get their ``last_used_at`` moved on (one update for all of them).
    """
    if len(tokens) > MAX_TOKENS_PER_LOOKUP:
        msg = f"at most {MAX_TOKENS_PER_LOOKUP} tokens per lookup"
        raise ValueError(msg)
    now = utcnow()
    digests = [token_digest(t) for t in tokens]
    with nullcontext(conn) if conn is not None else db.autocommit() as lookup:
        found = lookup.execute(
            _session_query(db.dialect), {"digests": list(dict.fromkeys(digests))}
        )
        rows = {row.token_digest: row for row in plain_rows(found)}
    results: list[Actor | IdentityError] = []
    stale: set[uuid.UUID] = set()
    # An app sends one token for all its requests: its actor is made once for all of them
    # (an actor is immutable; a refusal is made for each request, each raising its own).
    actors: dict[bytes, Actor] = {}
    for digest in digests:
        row = rows.get(digest)
        known = actors.get(digest)
        if known is not None:
            results.append(known)
            continue
        try:
            actor = actors[digest] = _session_actor(row, policy, now)
        except IdentityError as exc:
            results.append(exc)
            continue
        results.append(actor)
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
        permissions=permissions_for(roles),
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
        audit_act(session, actor, Action.AUTHENTICATION, "identity:session:signed-out")


def regenerate_recovery_codes(db: Database, *, actor: Actor) -> RecoveryCodes:
    """New recovery codes for the actor; the old ones stop working."""
    now = utcnow()
    with db.write() as session:
        user = session.get(User, uuid.UUID(actor.user_id))
        if user is None:
            raise IdentityError(IdentityErrorCode.USER_NOT_FOUND, "no such user")
        codes = issue_recovery_codes(session, user, now)
        audit_act(
            session,
            actor,
            Action.ADMINISTRATION,
            "identity:second-factor:recovery-codes-renewed",
            subject_type="user",
            subject_ids=[actor.user_id],
        )
    return RecoveryCodes(codes=codes)
