"""Sharing events with partner agencies, and who may see a record.

What a partner sees is decided here and nowhere else: ``LEVEL_FIELDS`` names the fields of
a ``SharedEvent`` each level shows, and ``project`` drops every other field before anything
leaves the server.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bluelight.audit import Action, AuditWriter, Justification, Outcome, append, draft
from bluelight.db import Database
from bluelight.identity import Actor, Classification, ShareLevel, classifications_up_to
from bluelight.identity.models import Agency, Team, User
from bluelight.kernel import new_id, utcnow
from bluelight.kernel.paging import CursorError, decode_cursor, encode_cursor
from bluelight.records.access import beside_params, check_row, is_granted, shown_beside
from bluelight.records.errors import RecordError, RecordErrorCode
from bluelight.records.kinds import BY_NAME, Kind
from bluelight.records.models import (
    Event,
    Link,
    Location,
    Person,
    RecordGrant,
    RecordShare,
    WarningMarker,
)
from bluelight.records.schemas import (
    AccessChange,
    AccessRead,
    Hazard,
    ShareCreate,
    SharedEvent,
    SharedPage,
    SharedPerson,
    SharedPlace,
    ShareRead,
)
from bluelight.records.services import log_change
from bluelight.vocab import code_list

SHAREABLE = frozenset({"event"})

_ALWAYS = frozenset({"id", "owner_agency", "share_level", "version"})
_LOCATION = _ALWAYS | {"location", "hazards"}
_OPERATIONAL = _LOCATION | {
    "kind",
    "reference",
    "incident_type",
    "qualifiers",
    "offence",
    "occurred_from",
    "occurred_to",
    "reported_at",
    "narrative",
    "updated_at",
}
LEVEL_FIELDS: dict[ShareLevel, frozenset[str]] = {
    ShareLevel.LOCATION: _LOCATION,
    ShareLevel.OPERATIONAL: _OPERATIONAL,
    ShareLevel.FULL: _OPERATIONAL | {"persons", "created_by"},
}
# Below full, a person's warning shows as a hazard at the place, never with its free text
# (which may name or describe them).
_PERSON_DETAIL_LEVEL = ShareLevel.FULL


def project(full: SharedEvent, level: ShareLevel) -> SharedEvent:
    """``full`` with every field above ``level`` removed."""
    keep = LEVEL_FIELDS[level]
    cleared = {
        f: getattr(full, f) for f in full.__struct_fields__ if f in keep and f != "share_level"
    }
    hazards = [
        h
        if h.source == "location" or level is _PERSON_DETAIL_LEVEL
        else msgspec.structs.replace(h, detail=None)
        for h in cleared.pop("hazards", [])
    ]
    return SharedEvent(share_level=str(level), hazards=hazards, **cleared)


def _label(list_name: str, code: str) -> str:
    entry = code_list(list_name).by_code.get(code)
    return entry.label if entry else code


def _full_view(session: Session, event: Event, actor: Actor) -> SharedEvent:
    """Everything a full share shows of ``event`` to ``actor`` (a partner's user), before
    ``project`` cuts it to the share's level.

    The place, the people and the warnings are records of their own: each is shown only if
    the partner could be shown it at all (``access.shown_beside``: not restricted, within the
    partner's clearance, the event owner's own record). Sharing an event is not sharing a
    restricted person linked to it.
    """
    beside = beside_params(actor, with_restricted=False, owner=event.owner_agency)
    place: SharedPlace | None = None
    hazards: list[Hazard] = []
    if event.location_id is not None:
        loc = session.scalars(
            select(Location).where(
                Location.id == event.location_id,
                Location.deleted_at.is_(None),
                shown_beside(Location),
            ),
            beside,
        ).first()
        if loc is not None:
            place = msgspec.convert(loc, SharedPlace, from_attributes=True)
            hazards += [
                Hazard(
                    marker=m.marker,
                    label=_label("warning-marker", m.marker),
                    source="location",
                    detail=m.detail,
                )
                for m in session.scalars(
                    select(WarningMarker)
                    .where(
                        WarningMarker.subject_id == loc.id,
                        WarningMarker.deleted_at.is_(None),
                        shown_beside(WarningMarker),
                    )
                    .order_by(WarningMarker.id),
                    beside,
                )
            ]
    people = session.execute(
        select(Person, Link.role)
        .join(Link, or_(Link.from_id == Person.id, Link.to_id == Person.id))
        .where(
            or_(Link.to_id == event.id, Link.from_id == event.id),
            Link.deleted_at.is_(None),
            Person.deleted_at.is_(None),
            shown_beside(Link),
            shown_beside(Person),
        )
        .order_by(Person.id),
        beside,
    ).all()
    persons = [
        SharedPerson(
            id=p.id,
            role=role,
            family_name=p.family_name,
            given_names=p.given_names,
            date_of_birth=p.date_of_birth,
        )
        for p, role in people
    ]
    if persons:
        hazards += [
            Hazard(
                marker=m.marker,
                label=_label("warning-marker", m.marker),
                source="person",
                detail=m.detail,
            )
            for m in session.scalars(
                select(WarningMarker)
                .where(
                    WarningMarker.subject_id.in_([p.id for p in persons]),
                    WarningMarker.deleted_at.is_(None),
                    shown_beside(WarningMarker),
                )
                .order_by(WarningMarker.id),
                beside,
            )
        ]
    return SharedEvent(
        id=event.id,
        owner_agency=event.owner_agency,
        share_level=str(ShareLevel.FULL),
        version=event.version,
        location=place,
        hazards=hazards,
        kind=event.kind,
        reference=event.reference,
        incident_type=event.incident_type,
        qualifiers=list(event.qualifiers),
        offence=event.offence,
        occurred_from=event.occurred_from,
        occurred_to=event.occurred_to,
        reported_at=event.reported_at,
        narrative=event.narrative,
        persons=persons,
        created_by=event.created_by,
        updated_at=event.updated_at,
    )


def _not_shared(record_id: uuid.UUID) -> RecordError:
    return RecordError(
        RecordErrorCode.RECORD_NOT_FOUND, f"no event with id {record_id}", id=str(record_id)
    )


def _consulted(actor: Actor, ids: list[str], why: Justification | None, **kw: Any) -> Any:
    return draft(
        actor,
        Action.CONSULTATION,
        "records:shared-event:read",
        at=utcnow(),
        id=new_id(),
        subject_type="event",
        subject_ids=ids,
        why=why,
        **kw,
    )


def read_shared(
    db: Database,
    audit: AuditWriter,
    record_id: uuid.UUID,
    *,
    actor: Actor,
    why: Justification | None,
) -> SharedEvent:
    """An event shared with the actor's agency, at the share's level.

    Raises:
        RecordError: RECORD_NOT_FOUND when it is not shared with the actor's agency (or is
            above the actor's clearance, or deleted).
    """
    allowed = {str(c) for c in classifications_up_to(actor.clearance)}
    with db.read() as session:
        found = session.execute(
            select(Event, RecordShare.level)
            .join(
                RecordShare,
                and_(
                    RecordShare.entity_id == Event.id,
                    RecordShare.entity_type == "event",
                    RecordShare.agency_code == actor.agency,
                    RecordShare.revoked_at.is_(None),
                ),
            )
            .where(Event.id == record_id)
        ).first()
        if (
            found is None
            or found[0].deleted_at is not None
            or found[0].classification not in allowed
            or found[0].restricted
        ):
            audit.write(_consulted(actor, [str(record_id)], why, outcome=Outcome.DENIED))
            raise _not_shared(record_id)
        event, level = found
        view = project(_full_view(session, event, actor), ShareLevel(level))
    audit.write(_consulted(actor, [str(record_id)], why, detail={"level": level}))
    return view


def list_shared(
    db: Database,
    audit: AuditWriter,
    *,
    actor: Actor,
    why: Justification | None,
    cursor: str | None,
    limit: int,
) -> SharedPage:
    """The events shared with the actor's agency, newest share level applied to each.

    Raises:
        RecordError: INVALID_CURSOR.
    """
    allowed = [str(c) for c in classifications_up_to(actor.clearance)]
    stmt = (
        select(Event, RecordShare.level)
        .join(
            RecordShare,
            and_(
                RecordShare.entity_id == Event.id,
                RecordShare.entity_type == "event",
                RecordShare.agency_code == actor.agency,
                RecordShare.revoked_at.is_(None),
            ),
        )
        .where(
            Event.deleted_at.is_(None),
            Event.restricted.is_(False),
            or_(*(Event.classification == c for c in allowed)),
        )
    )
    if cursor:
        try:
            stmt = stmt.where(Event.id > decode_cursor(cursor))
        except CursorError as exc:
            raise RecordError(RecordErrorCode.INVALID_CURSOR, str(exc)) from exc
    with db.read() as session:
        rows = session.execute(stmt.order_by(Event.id).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        items = [project(_full_view(session, e, actor), ShareLevel(level)) for e, level in rows]
    if items:
        audit.write(_consulted(actor, [str(i.id) for i in items], why))
    return SharedPage(
        items=items, next_cursor=encode_cursor(items[-1].id) if more and items else None
    )


def _share_read(s: RecordShare) -> ShareRead:
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


def _own_record(session: Session, kind: Kind, record_id: uuid.UUID, actor: Actor) -> Any:
    row: Any = session.get(kind.model, record_id, with_for_update=True)
    if row is None or row.deleted_at is not None:
        raise RecordError(RecordErrorCode.RECORD_NOT_FOUND, f"no {kind.name} with id {record_id}")
    check_row(session, kind, row, actor, None, reading=False)
    return row


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
        row = _own_record(session, kind, record_id, actor)
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
        return _share_read(share)


def revoke_share(
    db: Database, kind: Kind, record_id: uuid.UUID, agency: str, *, actor: Actor
) -> ShareRead:
    """Stop sharing a record with an agency.

    Raises:
        RecordError: SHARE_NOT_FOUND, RECORD_NOT_FOUND.
    """
    now = utcnow()
    with db.write() as session:
        _own_record(session, kind, record_id, actor)
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
        return _share_read(share)


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
        return [_share_read(s) for s in shares]


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


def _end_shares(
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
    db: Database, kind: Kind, record_id: uuid.UUID, data: AccessChange, *, actor: Actor
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
    """
    now = utcnow()
    with db.write() as session:
        row = _own_record(session, kind, record_id, actor)
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
                    detail={"changes": changes},
                )
            ]
            ended = _end_shares(session, kind, record_id, actor, now) if narrowed else []
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


__all__ = [
    "BY_NAME",
    "LEVEL_FIELDS",
    "change_access",
    "list_shared",
    "list_shares",
    "project",
    "read_shared",
    "revoke_share",
    "share_record",
]
