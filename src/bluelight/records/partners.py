"""What partner agencies read: the events shared with them, each at its share's level.

Each read is a disclosure for the door (``audit.door``): released once its consultation is on
the trail, and only with a reason when it shows people (a share at the ``full`` level).
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bluelight.audit import Action
from bluelight.audit.door import Act, Disclosure
from bluelight.db import Database
from bluelight.identity import Actor, ShareLevel, classifications_up_to
from bluelight.kernel.paging import CursorError, decode_cursor, encode_cursor
from bluelight.records.access import beside_params, shown_beside
from bluelight.records.errors import RecordError, RecordErrorCode
from bluelight.records.models import Event, Link, Location, Person, RecordShare, WarningMarker
from bluelight.records.schemas import Hazard, SharedEvent, SharedPage, SharedPerson, SharedPlace
from bluelight.records.share_levels import project
from bluelight.vocab import code_list


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


SHARED_READ = Act(Action.CONSULTATION, "records:shared-event:read", "event")


def _shared(actor: Actor) -> Any:
    """The join of events to their live shares with the actor's agency."""
    return and_(
        RecordShare.entity_id == Event.id,
        RecordShare.entity_type == "event",
        RecordShare.agency_code == actor.agency,
        RecordShare.revoked_at.is_(None),
    )


def _subjects(view: SharedEvent) -> list[str]:
    """Every record a partner's view shows: the event, and the people it names."""
    return [str(view.id), *(str(p.id) for p in view.persons or [])]


def read_shared(db: Database, record_id: uuid.UUID, *, actor: Actor) -> Disclosure[SharedEvent]:
    """An event shared with the actor's agency, at the share's level, as a disclosure (which
    needs a reason when it names people).

    Raises:
        RecordError: RECORD_NOT_FOUND when it is not shared with the actor's agency (or is
            above the actor's clearance, restricted, or deleted).
    """
    allowed = {str(c) for c in classifications_up_to(actor.clearance)}
    with db.read() as session:
        found = session.execute(
            select(Event, RecordShare.level)
            .join(RecordShare, _shared(actor))
            .where(Event.id == record_id)
        ).first()
        if (
            found is None
            or found[0].deleted_at is not None
            or found[0].classification not in allowed
            or found[0].restricted
        ):
            raise _not_shared(record_id)
        event, level = found
        view = project(_full_view(session, event, actor), ShareLevel(level))
    return Disclosure(
        view,
        SHARED_READ,
        _subjects(view),
        needs_reason=bool(view.persons),
        detail={"level": level},
    )


def list_shared(
    db: Database, *, actor: Actor, cursor: str | None, limit: int
) -> Disclosure[SharedPage]:
    """The events shared with the actor's agency, each at its share's level, as a disclosure
    (which needs a reason when any of them names people).

    Raises:
        RecordError: INVALID_CURSOR.
    """
    allowed = [str(c) for c in classifications_up_to(actor.clearance)]
    stmt = (
        select(Event, RecordShare.level)
        .join(RecordShare, _shared(actor))
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
    page = SharedPage(
        items=items, next_cursor=encode_cursor(items[-1].id) if more and items else None
    )
    return Disclosure(
        page,
        SHARED_READ,
        [s for item in items for s in _subjects(item)],
        needs_reason=any(item.persons for item in items),
    )
