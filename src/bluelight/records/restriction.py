"""Who may see a record: its classification, and restricting it to named users and teams."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bluelight.audit import Action, Justification, append, draft
from bluelight.db import Database
from bluelight.identity import Actor, Classification
from bluelight.identity.models import Agency, Team, User
from bluelight.kernel import new_id, utcnow
from bluelight.records.access import is_granted, reason_needed
from bluelight.records.errors import RecordError, RecordErrorCode
from bluelight.records.kinds import Kind
from bluelight.records.models import RecordGrant
from bluelight.records.queries import fetch_row
from bluelight.records.schemas import AccessChange, AccessRead
from bluelight.records.services import log_change
from bluelight.records.shares import end_shares


def _grants(session: Session, record_id: uuid.UUID) -> tuple[list[str], list[str]]:
    users = session.scalars(
        select(User.username)
        .join(RecordGrant, RecordGrant.user_id == User.id)
        .where(RecordGrant.entity_id == record_id)
        .order_by(User.username)
    )
    teams = session.scalars(
        select(Team.name)
        .join(RecordGrant, RecordGrant.team_id == Team.id)
        .where(RecordGrant.entity_id == record_id)
        .order_by(Team.name)
    )
    return list(users), list(teams)


def _name_grantees(
    session: Session,
    kind: Kind,
    row: Any,
    users: list[str] | None,
    teams: list[str] | None,
    *,
    actor: Actor,
    now: Any,
) -> dict[str, list[str]] | None:
    """Replace the users and teams named on a record (None: leave a list as it is); the new
    lists if they changed. A restricted record always names the actor.

    Raises:
        RecordError: GRANTEE_NOT_FOUND (not a user or team of the actor's agency).
    """
    agency_id = session.execute(select(Agency.id).where(Agency.code == actor.agency)).scalar_one()
    if (
        row.restricted
        and users is None
        and teams is None
        and not is_granted(session, row.id, actor)
    ):
        # Restricting without naming anyone: keep whoever is named (a restriction lifted
        # earlier keeps its list) and add the actor below.
        users = _grants(session, row.id)[0]
    if users is not None or teams is not None:
        before = _grants(session, row.id)
        wanted_users = sorted({u.lower() for u in (users if users is not None else before[0])})
        if row.restricted and actor.username not in wanted_users and actor.user_id != "system":
            wanted_users.append(actor.username)
        wanted_teams = sorted(set(teams if teams is not None else before[1]))
        user_ids = dict(
            session.execute(
                select(User.username, User.id).where(
                    User.username.in_(wanted_users), User.agency_id == agency_id
                )
            ).all()
        )
        team_ids = dict(
            session.execute(
                select(Team.name, Team.id).where(
                    Team.name.in_(wanted_teams), Team.agency_id == agency_id
                )
            ).all()
        )
        missing = [u for u in wanted_users if u not in user_ids] + [
            t for t in wanted_teams if t not in team_ids
        ]
        if missing:
            raise RecordError(
                RecordErrorCode.GRANTEE_NOT_FOUND,
                f"not users or teams of your agency: {', '.join(missing)}",
                missing=missing,
            )
        session.execute(delete(RecordGrant).where(RecordGrant.entity_id == row.id))
        session.add_all(
            RecordGrant(
                id=new_id(),
                entity_type=kind.name,
                entity_id=row.id,
                user_id=uid,
                team_id=None,
                granted_at=now,
                granted_by=actor.username,
            )
            for uid in user_ids.values()
        )
        session.add_all(
            RecordGrant(
                id=new_id(),
                entity_type=kind.name,
                entity_id=row.id,
                user_id=None,
                team_id=tid,
                granted_at=now,
                granted_by=actor.username,
            )
            for tid in team_ids.values()
        )
        after = (sorted(user_ids), sorted(team_ids))
        if after != (sorted(before[0]), sorted(before[1])):
            return {"users": after[0], "teams": after[1]}
    return None


def change_access(
    db: Database,
    kind: Kind,
    record_id: uuid.UUID,
    data: AccessChange,
    *,
    actor: Actor,
    why: Justification | None = None,
) -> AccessRead:
    """Change a record's classification, restriction and named users and teams.

    The actor stays named on a record they restrict, so no one locks themselves out. A
    record restricted, or classified higher, stops being shared: its partners were shown it
    as it was, and its owner must decide again whether to share it (the shares end in a
    disclosure entry of their own). The change is a new version of the record, in the change
    log, so its history and devices that sync it see who may now see it.

    Raises:
        RecordError: RECORD_NOT_FOUND, VERSION_CONFLICT, CLASSIFICATION_ABOVE_CLEARANCE,
            RECORD_RESTRICTED, GRANTEE_NOT_FOUND.
        AuditError: REASON_REQUIRED for a person, vehicle, link or marker without a reason.
    """
    reason_needed(kind, why, writing=True)
    now = utcnow()
    with db.write() as session:
        row: Any = fetch_row(session, kind, record_id, actor=actor, for_update=True)
        if row.version != data.version:
            raise RecordError(
                RecordErrorCode.VERSION_CONFLICT,
                f"{kind.name} {record_id} is at version {row.version}, not {data.version}",
                id=str(record_id),
                current_version=row.version,
            )
        changes: dict[str, Any] = {}
        narrowed = False
        if data.classification is not msgspec.UNSET and data.classification != row.classification:
            if not actor.cleared_for(data.classification):
                raise RecordError(
                    RecordErrorCode.CLASSIFICATION_ABOVE_CLEARANCE,
                    f"you cannot mark a record {data.classification}",
                )
            changes["classification"] = [row.classification, data.classification]
            narrowed |= (
                Classification(data.classification).rank > Classification(row.classification).rank
            )
            row.classification = data.classification
        if data.restricted is not msgspec.UNSET and data.restricted != row.restricted:
            changes["restricted"] = [row.restricted, data.restricted]
            narrowed |= data.restricted
            row.restricted = data.restricted
        users = data.users if data.users is not msgspec.UNSET else None
        teams = data.teams if data.teams is not msgspec.UNSET else None
        grants = _name_grantees(session, kind, row, users, teams, actor=actor, now=now)
        if grants is not None:
            changes["grants"] = grants
        if changes:
            row.version += 1
            row.updated_at = now
            row.updated_by = actor.username
            session.flush()
            log_change(session, kind, row, action="access", actor=actor)
            drafts = [
                draft(
                    actor,
                    Action.ALTERATION,
                    f"records:{kind.name}:access-changed",
                    at=now,
                    id=new_id(),
                    subject_type=kind.name,
                    subject_ids=[str(record_id)],
                    why=why,
                    detail={"changes": changes},
                )
            ]
            ended = end_shares(session, kind, record_id, actor, now) if narrowed else []
            if ended:
                drafts.append(
                    draft(
                        actor,
                        Action.DISCLOSURE,
                        f"records:{kind.name}:share-revoked",
                        at=now,
                        id=new_id(),
                        subject_type=kind.name,
                        subject_ids=[str(record_id)],
                        recipients=ended,
                        detail={"because": sorted(k for k in changes if k != "grants")},
                    )
                )
            append(session, drafts)
        users_now, teams_now = _grants(session, record_id)
        return AccessRead(
            id=row.id,
            version=row.version,
            classification=row.classification,
            restricted=row.restricted,
            users=users_now,
            teams=teams_now,
        )
