"""Who may see a record: the one place record-level access is decided.

A record belongs to one agency. Its own agency's users see it if they are cleared for its
classification and, when it is restricted, are named on it themselves or through a team.
Other agencies see a record only when it is shared with them, through the shared view, at
the share's level (``sharing.py`` shapes what each level shows).

A person or vehicle check, a read of what is said about people (their links and warning
markers), any change to those, and any read of a restricted record must give a reason.

The same rules reach what a record carries with it: a link or a warning marker is kept from
whoever may not see a record it is about; the warnings and addresses shown inside another
record's read (and the people and warnings on an event shared with a partner) are each
checked as records of their own; and an old version in a record's history is withheld if it
was classified above the reader, or restricted and the reader is not named on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, false, not_, or_, select
from sqlalchemy.orm import Session

from bluelight.audit import Justification
from bluelight.audit.door import reason_required
from bluelight.identity import Actor, Classification, classifications_up_to
from bluelight.identity.models import TeamMember
from bluelight.records.errors import RecordError, RecordErrorCode
from bluelight.records.kinds import BY_NAME, Kind
from bluelight.records.models import Link, RecordGrant, WarningMarker

# Looking up a person or a vehicle is a "check": the law asks why, every time.
CHECK_KINDS = frozenset({"person", "vehicle"})
# Links and warning markers say things about people ("associate of", "violent", "epileptic"):
# reading or changing them asks why too, as does changing a person or a vehicle.
REASON_KINDS = CHECK_KINDS | {"link", "marker"}

# A link joins two records and a warning marker is about one: what they say is about those
# records, so whoever may not see one of them may not see the link or the marker either.
ENDPOINTS: dict[str, tuple[tuple[str, str], ...]] = {
    "link": (("from_type", "from_id"), ("to_type", "to_id")),
    "marker": (("subject_type", "subject_id"),),
}
_ENDPOINT_MODELS = {Link: "link", WarningMarker: "marker"}


def needs_reason(kind: Kind, *, restricted: bool = False) -> bool:
    """Whether reading or changing a record of ``kind`` (restricted or not) asks why."""
    return kind.name in REASON_KINDS or restricted


def reason_needed(
    kind: Kind, why: Justification | None, *, restricted: bool = False, writing: bool = False
) -> None:
    """Refuse a check, a read or change of what is said about people, or a read of a
    restricted record, that gives no reason.

    Raises:
        AuditError: REASON_REQUIRED.
    """
    if why is None and needs_reason(kind, restricted=restricted):
        if writing:
            what = f"changing a {kind.name}"
        elif restricted:
            what = "reading a restricted record"
        elif kind.name in CHECK_KINDS:
            what = f"a {kind.name} check"
        else:
            what = f"reading what is said about a person (a {kind.name})"
        raise reason_required(what)


def _user_id(actor: Actor) -> uuid.UUID | None:
    try:
        return uuid.UUID(actor.user_id)
    except ValueError:
        return None  # the platform itself ("system") is named on nothing


def _granted_clause(entity_id: Any, user: Any) -> ColumnElement[bool]:
    if user is None:
        # Not ``== None``: that would be IS NULL, which every team's grant matches.
        return false()
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
        restricted = or_(model.restricted.is_(False), _granted_clause(model.id, _user_id(actor)))
    else:
        restricted = model.restricted.is_(False)
    conditions = [
        model.owner_agency == actor.agency,
        or_(*(model.classification == c for c in allowed)),
        restricted,
    ]
    endpoint_kind = _ENDPOINT_MODELS.get(model)
    if endpoint_kind is not None:
        conditions.append(not_(_endpoint_concealed(model, endpoint_kind, actor, with_restricted)))
    return and_(*conditions)


def _concealed(target: Any, actor: Actor, *, with_restricted: bool) -> ColumnElement[bool]:
    """The condition that ``target``'s row is one ``actor`` may not see (its agency aside)."""
    allowed = [str(c) for c in classifications_up_to(actor.clearance)]
    above = and_(*(target.classification != c for c in allowed))
    if actor.user_id == "system":
        return above
    user = _user_id(actor) if with_restricted else None
    return or_(above, and_(target.restricted.is_(True), not_(_granted_clause(target.id, user))))


def _endpoint_concealed(
    model: Any, kind_name: str, actor: Actor, with_restricted: bool
) -> ColumnElement[bool]:
    """The condition that a link or marker is about a record ``actor`` may not see."""
    concealed = []
    for type_column, id_column in ENDPOINTS[kind_name]:
        for name in ("person", "vehicle", "property", "location", "event"):
            target: Any = BY_NAME[name].model
            concealed.append(
                and_(
                    getattr(model, type_column) == name,
                    exists(
                        select(target.id).where(
                            target.id == getattr(model, id_column),
                            _concealed(target, actor, with_restricted=with_restricted),
                        )
                    ),
                )
            )
    return or_(*concealed)


def is_granted(session: Session, entity_id: uuid.UUID, actor: Actor) -> bool:
    """Whether ``actor`` is named on a restricted record, directly or through a team."""
    if actor.user_id == "system":
        return True
    user = _user_id(actor)
    return bool(session.execute(select(_granted_clause(entity_id, user))).scalar())


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
    if kind.name in ENDPOINTS:
        _check_endpoints(session, kind, row, actor, why, reading=reading)


def _check_endpoints(
    session: Session | Any,
    kind: Kind,
    row: Any,
    actor: Actor,
    why: Justification | None,
    *,
    reading: bool,
) -> None:
    """Refuse a link or marker about a record ``actor`` may not see, as that record would be."""
    for type_column, id_column in ENDPOINTS[kind.name]:
        target = BY_NAME[getattr(row, type_column)]
        model: Any = target.model
        record_id = getattr(row, id_column)
        found = session.execute(
            select(model.classification, model.restricted).where(model.id == record_id)
        ).first()
        if found is None:
            continue
        if not actor.cleared_for(found.classification):
            raise RecordError(
                RecordErrorCode.CLASSIFICATION_ABOVE_CLEARANCE,
                f"this {kind.name} is about a {target.name} above your clearance",
                id=str(row.id),
            )
        if found.restricted:
            if not is_granted(session, record_id, actor):
                raise RecordError(
                    RecordErrorCode.RECORD_RESTRICTED,
                    f"this {kind.name} is about a restricted {target.name}: ask its owner",
                    id=str(row.id),
                )
            if reading:
                reason_needed(kind, why, restricted=True)


def may_reference(session: Session, entity_type: str, record_id: Any, actor: Actor) -> bool:
    """Whether ``actor`` may point a new link, marker or event at a record: one they could
    read (restricted ones only when named on them). Its agency and deletion aside."""
    model: Any = BY_NAME[entity_type].model
    hidden = session.execute(
        select(model.id).where(
            model.id == record_id, _concealed(model, actor, with_restricted=True)
        )
    ).first()
    return hidden is None


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


# --- records shown inside another record ----------------------------------------------------
# A person's read carries their warnings and addresses, a place's its warnings, and an event
# shared with a partner the people linked to it and their warnings. Each of those is a record
# of its own, with its own classification and restriction, and must not reach a reader who
# could not read it directly. The statements are built once (they are on every officer's
# check), so the condition reads its values from bind parameters that ``beside_params`` fills.

_CLEARED = tuple((c, f"beside_{i}") for i, c in enumerate(Classification))


def shown_beside(model: Any) -> ColumnElement[bool]:
    """The condition on a record shown inside another one's read: owned by the same agency,
    classified within the reader's clearance, and not restricted unless the reader is named
    on it and gave a reason. Execute it with ``beside_params``."""
    return and_(
        model.owner_agency == bindparam("beside_agency"),
        or_(*(model.classification == bindparam(name) for _, name in _CLEARED)),
        or_(model.restricted.is_(False), _granted_clause(model.id, bindparam("beside_user"))),
    )


def beside_params(
    actor: Actor, *, with_restricted: bool, owner: str | None = None
) -> Mapping[str, Any]:
    """The values of ``shown_beside`` for ``actor`` reading records owned by ``owner`` (by
    default the actor's own agency: a partner reads another agency's shared event).

    ``with_restricted``: the request gave a reason, so restricted records the actor is named
    on may be shown. A partner is never named on another agency's record.
    """
    cleared = set(classifications_up_to(actor.clearance))
    params: dict[str, Any] = {
        "beside_agency": owner or actor.agency,
        # A NULL never equals a grant's user: nothing restricted is shown.
        "beside_user": _user_id(actor)
        if with_restricted and owner in (None, actor.agency)
        else None,
    }
    for classification, name in _CLEARED:
        # NULL matches no classification: one above the clearance is never shown.
        params[name] = str(classification) if classification in cleared else None
    return params


def version_shown(
    session: Session | Any,
    record_id: uuid.UUID,
    snapshot: Mapping[str, Any],
    actor: Actor,
    why: Justification | None,
) -> bool:
    """Whether an old version of a record, that ``actor`` may read as it is now, may be shown.

    A record classified lower, or unrestricted, after sensitive details were taken out of it
    must not hand them back through its history: a version classified above the reader's
    clearance is withheld, and so is one that was restricted, unless the reader is named on
    the record now and gave a reason.
    """
    if not actor.cleared_for(str(snapshot.get("classification", Classification.OFFICIAL))):
        return False
    if snapshot.get("restricted"):
        return why is not None and is_granted(session, record_id, actor)
    return True
