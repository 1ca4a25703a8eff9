"""Sharing a record with a partner agency at a level, listing its shares, and ending them.

Each share, level change and revocation is a disclosure on the audit trail, with the agency it
went to and (for a share) the reason.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bluelight.audit import Action, Justification, append, draft
from bluelight.db import Database
from bluelight.identity import Actor
from bluelight.identity.models import Agency
from bluelight.kernel import new_id, utcnow
from bluelight.records.access import check_row
from bluelight.records.errors import RecordError, RecordErrorCode
from bluelight.records.kinds import Kind
from bluelight.records.models import RecordShare
from bluelight.records.queries import fetch_row
from bluelight.records.schemas import ShareCreate, ShareRead
from bluelight.records.share_levels import SHAREABLE


def share_read(s: RecordShare) -> ShareRead:
    return ShareRead(
        id=s.id,
        entity_type=s.entity_type,
        entity_id=s.entity_id,
        agency=s.agency_code,
        level=s.level,
        shared_at=s.shared_at,
        shared_by=s.shared_by,
        revoked_at=s.revoked_at,
        revoked_by=s.revoked_by,
    )


def share_record(
    db: Database,
    kind: Kind,
    record_id: uuid.UUID,
    data: ShareCreate,
    *,
    actor: Actor,
    why: Justification,
) -> ShareRead:
    """Share a record with another agency at a level (again: change the level). A disclosure,
    audited with its recipients and reason.

    Raises:
        RecordError: SHARE_NOT_ALLOWED (not an event, restricted, or one's own agency),
            AGENCY_NOT_FOUND, RECORD_NOT_FOUND, CLASSIFICATION_ABOVE_CLEARANCE.
    """
    if kind.name not in SHAREABLE:
        raise RecordError(RecordErrorCode.SHARE_NOT_ALLOWED, f"a {kind.name} cannot be shared")
    if data.agency == actor.agency:
        raise RecordError(
            RecordErrorCode.SHARE_NOT_ALLOWED, "a record is already visible to its own agency"
        )
    now = utcnow()
    with db.write() as session:
        row: Any = fetch_row(session, kind, record_id, actor=actor, for_update=True)
        if row.restricted:
            raise RecordError(
                RecordErrorCode.SHARE_NOT_ALLOWED,
                "a restricted record cannot be shared: lift the restriction first",
            )
        if session.execute(select(Agency.id).where(Agency.code == data.agency)).first() is None:
            raise RecordError(
                RecordErrorCode.AGENCY_NOT_FOUND, f"no agency with code {data.agency}"
            )
        share = session.execute(
            select(RecordShare).where(
                RecordShare.entity_type == kind.name,
                RecordShare.entity_id == record_id,
                RecordShare.agency_code == data.agency,
            )
        ).scalar_one_or_none()
        before = None if share is None or share.revoked_at else share.level
        reason = f"{why.code}: {why.text}"[:500] if why.text else why.code
        if share is None:
            share = RecordShare(
                id=new_id(),
                entity_type=kind.name,
                entity_id=record_id,
                agency_code=data.agency,
                level=data.level,
                shared_at=now,
                shared_by=actor.username,
                reason=reason,
            )
            session.add(share)
        else:
            share.level = data.level
            share.shared_at = now
            share.shared_by = actor.username
            share.reason = reason
            share.revoked_at = None
            share.revoked_by = None
        try:
            session.flush()
        except IntegrityError as exc:
            raise RecordError(
                RecordErrorCode.SHARE_NOT_ALLOWED, "the record was shared at the same moment"
            ) from exc
        append(
            session,
            [
                draft(
                    actor,
                    Action.DISCLOSURE,
                    f"records:{kind.name}:shared",
                    at=now,
                    id=new_id(),
                    subject_type=kind.name,
                    subject_ids=[str(record_id)],
                    why=why,
                    recipients=[data.agency],
                    detail={"level": data.level, "previous_level": before},
                )
            ],
        )
        return share_read(share)


def revoke_share(
    db: Database, kind: Kind, record_id: uuid.UUID, agency: str, *, actor: Actor
) -> ShareRead:
    """Stop sharing a record with an agency.

    Raises:
        RecordError: SHARE_NOT_FOUND, RECORD_NOT_FOUND.
    """
    now = utcnow()
    with db.write() as session:
        fetch_row(session, kind, record_id, actor=actor, for_update=True)
        share = session.execute(
            select(RecordShare).where(
                RecordShare.entity_type == kind.name,
                RecordShare.entity_id == record_id,
                RecordShare.agency_code == agency,
                RecordShare.revoked_at.is_(None),
            )
        ).scalar_one_or_none()
        if share is None:
            raise RecordError(
                RecordErrorCode.SHARE_NOT_FOUND, f"this {kind.name} is not shared with {agency}"
            )
        share.revoked_at = now
        share.revoked_by = actor.username
        append(
            session,
            [
                draft(
                    actor,
                    Action.DISCLOSURE,
                    f"records:{kind.name}:share-revoked",
                    at=now,
                    id=new_id(),
                    subject_type=kind.name,
                    subject_ids=[str(record_id)],
                    recipients=[agency],
                )
            ],
        )
        return share_read(share)


def list_shares(db: Database, kind: Kind, record_id: uuid.UUID, *, actor: Actor) -> list[ShareRead]:
    """Every share of a record, live and revoked.

    Raises:
        RecordError: RECORD_NOT_FOUND.
    """
    with db.read() as session:
        row: Any = session.get(kind.model, record_id)
        if row is None:
            raise RecordError(RecordErrorCode.RECORD_NOT_FOUND, f"no {kind.name} {record_id}")
        check_row(session, kind, row, actor, None, reading=False)
        shares = session.scalars(
            select(RecordShare)
            .where(RecordShare.entity_type == kind.name, RecordShare.entity_id == record_id)
            .order_by(RecordShare.shared_at)
        )
        return [share_read(s) for s in shares]


def end_shares(
    session: Session, kind: Kind, record_id: uuid.UUID, actor: Actor, now: Any
) -> list[str]:
    """Revoke every live share of a record; the agencies it was shared with."""
    live = list(
        session.scalars(
            select(RecordShare).where(
                RecordShare.entity_type == kind.name,
                RecordShare.entity_id == record_id,
                RecordShare.revoked_at.is_(None),
            )
        )
    )
    for share in live:
        share.revoked_at = now
        share.revoked_by = actor.username
    return sorted(share.agency_code for share in live)
