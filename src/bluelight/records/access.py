"""Who may see a record: the one place record-level access is decided.

A record belongs to one agency. Its own agency's users see it if they are cleared for its
classification and, when it is restricted, are named on it themselves or through a team.
Other agencies see a record only when it is shared with them, through the shared view, at
the share's level (``sharing.py`` shapes what each level shows).

A person or vehicle check, and any read of a restricted record, must give a reason.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from bluelight.audit import AuditError, AuditErrorCode, Justification
from bluelight.identity import Actor, classifications_up_to
from bluelight.identity.models import TeamMember
from bluelight.records.errors import RecordError, RecordErrorCode
from bluelight.records.kinds import Kind
from bluelight.records.models import RecordGrant

# Looking up a person or a vehicle is a "check": the law asks why, every time.
CHECK_KINDS = frozenset({"person", "vehicle"})


def reason_needed(kind: Kind, why: Justification | None, *, restricted: bool = False) -> None:
    """Refuse a check, or a read of a restricted record, that gives no reason.

    Raises:
        AuditError: REASON_REQUIRED.
    """
    if why is None and (kind.name in CHECK_KINDS or restricted):
        what = "a restricted record" if restricted else f"a {kind.name} check"
        raise AuditError(
            AuditErrorCode.REASON_REQUIRED,
            f"{what} needs a reason: send X-Bluelight-Reason with a code from "
            "/api/v1/vocab/access-reason (and X-Bluelight-Reason-Text)",
            allowed="/api/v1/vocab/access-reason",
        )


def _granted_clause(entity_id: Any, actor: Actor) -> ColumnElement[bool]:
    user = uuid.UUID(actor.user_id) if actor.user_id not in ("system",) else None
    teams = select(TeamMember.team_id).where(TeamMember.user_id == user)
    return exists(
        select(RecordGrant.id).where(
            RecordGrant.entity_id == entity_id,
            or_(RecordGrant.user_id == user, RecordGrant.team_id.in_(teams)),
        )
    )


def visible(model: Any, actor: Actor, *, with_restricted: bool) -> ColumnElement[bool]:
    """The condition that keeps, in a list, only the records ``actor`` may see.

    Restricted records the actor is named on are kept only when the request gave a reason.
    """
    allowed = [str(c) for c in classifications_up_to(actor.clearance)]
    restricted: ColumnElement[bool]
    if with_restricted:
        restricted = or_(model.restricted.is_(False), _granted_clause(model.id, actor))
    else:
        restricted = model.restricted.is_(False)
    return and_(
        model.owner_agency == actor.agency,
        or_(*(model.classification == c for c in allowed)),
        restricted,
    )


def is_granted(session: Session, entity_id: uuid.UUID, actor: Actor) -> bool:
    """Whether ``actor`` is named on a restricted record, directly or through a team."""
    if actor.user_id == "system":
        return True
    return bool(session.execute(select(_granted_clause(entity_id, actor))).scalar())


def check_row(
    session: Session | Any,
    kind: Kind,
    row: Any,
    actor: Actor,
    why: Justification | None,
    *,
    reading: bool = True,
) -> None:
    """Refuse ``actor`` a record it may not see (or change).

    Raises:
        RecordError: RECORD_NOT_FOUND (another agency's record: its existence is not
            disclosed), CLASSIFICATION_ABOVE_CLEARANCE, RECORD_RESTRICTED.
        AuditError: REASON_REQUIRED for a restricted record read without a reason.
    """
    if row.owner_agency != actor.agency:
        raise RecordError(
            RecordErrorCode.RECORD_NOT_FOUND, f"no {kind.name} with id {row.id}", id=str(row.id)
        )
    if not actor.cleared_for(row.classification):
        raise RecordError(
            RecordErrorCode.CLASSIFICATION_ABOVE_CLEARANCE,
            f"this {kind.name} is {row.classification}, above your clearance",
            id=str(row.id),
        )
    if row.restricted:
        if not is_granted(session, row.id, actor):
            raise RecordError(
                RecordErrorCode.RECORD_RESTRICTED,
                f"this {kind.name} is restricted to named officers: ask its owner for access",
                id=str(row.id),
            )
        if reading:
            reason_needed(kind, why, restricted=True)


def check_classification(actor: Actor, classification: str) -> None:
    """Refuse a record classified above what its author may see.

    Raises:
        RecordError: CLASSIFICATION_ABOVE_CLEARANCE.
    """
    if not actor.cleared_for(classification):
        raise RecordError(
            RecordErrorCode.CLASSIFICATION_ABOVE_CLEARANCE,
            f"you cannot mark a record {classification}: it is above your clearance",
        )
