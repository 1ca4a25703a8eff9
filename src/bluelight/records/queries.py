"""The read side of the POLE records: one record, pages of records, a record's history."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

import msgspec
from sqlalchemy import Connection, Row, Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from bluelight.audit import Action, Justification
from bluelight.audit.door import Act, Disclosure, Door
from bluelight.changes import ChangeLogEntry
from bluelight.db import Database
from bluelight.identity import Actor
from bluelight.kernel.paging import CursorError, decode_cursor, encode_cursor
from bluelight.records.access import (
    beside_params,
    check_row,
    needs_reason,
    reason_needed,
    shown_beside,
    version_shown,
    visible,
)
from bluelight.records.errors import RecordError, RecordErrorCode
from bluelight.records.kinds import BY_NAME, Kind
from bluelight.records.models import Link, Location, RecordColumns, WarningMarker
from bluelight.records.schemas import AddressSummary, ChangeRead, MarkerSummary, Page

ADDRESS_LINKS = ("resides-at", "previously-resided-at", "works-at")
T = TypeVar("T")


# What a record's read shows of its warning markers and of a person's addresses; the batched
# reader (``records.reader``) selects the same, with what it needs to decide visibility.
MARKER_COLUMNS = (
    WarningMarker.subject_id,
    WarningMarker.id,
    WarningMarker.marker,
    WarningMarker.detail,
    WarningMarker.review_date,
)
ADDRESS_COLUMNS = (
    Link.from_id,
    Link.id,
    Link.link_type,
    Link.valid_from,
    Link.valid_to,
    Location.id.label("location_id"),
    Location.name,
    Location.premises,
    Location.street,
    Location.town,
    Location.postcode,
    Location.latitude,
    Location.longitude,
)
# A live address link to a live location (equalities rather than IN: a constant IN list is
# re-rendered on every execution).
LIVE_ADDRESS = and_(
    or_(*(Link.link_type == t for t in ADDRESS_LINKS)),
    Link.deleted_at.is_(None),
    Location.deleted_at.is_(None),
)


@dataclass(frozen=True, slots=True)
class _Statements:
    """The statements of the read side of one kind, built once: building a statement and its
    cache key costs more than running it, on the path every officer's check takes."""

    one: Select[Any]
    markers: Select[Any]
    addresses: Select[Any]


def _extras_for(where_marker: Any, where_link: Any) -> tuple[Select[Any], Select[Any]]:
    markers: Any = select(*MARKER_COLUMNS).where(
        where_marker, WarningMarker.deleted_at.is_(None), shown_beside(WarningMarker)
    )
    # In the order ``reader`` shows them too, so every path shows the same read.
    markers = markers.order_by(WarningMarker.id)
    addresses: Any = (
        select(*ADDRESS_COLUMNS)
        .join(Location, Location.id == Link.to_id)
        .where(
            where_link,
            LIVE_ADDRESS,
            shown_beside(Link),
            shown_beside(Location),
        )
        .order_by(Link.id)
    )
    return markers, addresses


@cache
def _single(kind_name: str) -> _Statements:
    model: Any = BY_NAME[kind_name].model
    rid: Any = bindparam("rid")
    markers, addresses = _extras_for(WarningMarker.subject_id == rid, Link.from_id == rid)
    return _Statements(select(model.__table__).where(model.id == rid), markers, addresses)


@cache
def _many(kind_name: str) -> _Statements:
    model: Any = BY_NAME[kind_name].model
    ids: Any = bindparam("ids", expanding=True)
    markers, addresses = _extras_for(WarningMarker.subject_id.in_(ids), Link.from_id.in_(ids))
    return _Statements(select(model.__table__).where(model.id.in_(ids)), markers, addresses)


def address_line(loc: Any) -> str:
    """A location as one line, the way an officer reads it out."""
    parts = [loc.name, " ".join(p for p in (loc.premises, loc.street) if p), loc.town, loc.postcode]
    return ", ".join(p for p in parts if p) or f"{loc.latitude}, {loc.longitude}"


def _extras(
    conn: Connection, kind: Kind, ids: Sequence[uuid.UUID], beside: Mapping[str, Any]
) -> dict[str, dict[uuid.UUID, list[Any]]]:
    params: dict[str, Any]
    if len(ids) == 1:
        statements, params = _single(kind.name), {"rid": ids[0], **beside}
    else:
        statements, params = _many(kind.name), {"ids": list(ids), **beside}
    markers: dict[uuid.UUID, list[Any]] = {}
    for m in conn.execute(statements.markers, params):
        markers.setdefault(m.subject_id, []).append(
            MarkerSummary(id=m.id, marker=m.marker, detail=m.detail, review_date=m.review_date)
        )
    if kind.name != "person":
        return {"markers": markers}
    addresses: dict[uuid.UUID, list[Any]] = {}
    for a in conn.execute(statements.addresses, params):
        addresses.setdefault(a.from_id, []).append(
            AddressSummary(
                link_id=a.id,
                link_type=a.link_type,
                location_id=a.location_id,
                summary=address_line(a),
                valid_from=a.valid_from,
                valid_to=a.valid_to,
            )
        )
    return {"markers": markers, "addresses": addresses}


def to_reads(
    conn: Connection | Session,
    kind: Kind,
    rows: Sequence[Any],
    *,
    actor: Actor,
    with_restricted: bool = False,
) -> list[Any]:
    """Rows (ORM objects or Core rows) as their read type, with the related facts an officer
    needs beside them: a person's or a place's warning markers, a person's addresses.

    Only the markers and addresses ``actor`` could read directly are shown (restricted ones
    only ``with_restricted``, when the request gave a reason): see ``access.shown_beside``.
    """
    reads = [_as_read(row, kind.read) for row in rows]
    if not rows or kind.name not in ("person", "location"):
        return reads
    connection = conn.connection() if isinstance(conn, Session) else conn
    beside = beside_params(actor, with_restricted=with_restricted)
    extras = _extras(connection, kind, [row.id for row in rows], beside)
    return [
        msgspec.structs.replace(read, **{k: v.get(row.id, []) for k, v in extras.items()})
        for read, row in zip(reads, rows, strict=True)
    ]


def _as_read(row: Any, read: type[T]) -> T:
    """One row (an ORM object or a Core row) as ``read``.

    A Core row converts from its mapping of column names: it is a sequence as well, and msgspec
    (from 0.23) looks a field the row lacks (``markers``, ``addresses``) up by item, which on a
    row means by position, and fails rather than taking the field's default.
    """
    if isinstance(row, Row):
        return msgspec.convert(row._mapping, read)
    return msgspec.convert(row, read, from_attributes=True)


def _not_found(kind: Kind, record_id: uuid.UUID) -> RecordError:
    return RecordError(
        RecordErrorCode.RECORD_NOT_FOUND, f"no {kind.name} with id {record_id}", id=str(record_id)
    )


def refuse_unseen(
    conn: Connection | Session,
    kind: Kind,
    record_id: uuid.UUID,
    row: Any,
    *,
    actor: Actor,
    why: Justification | None,
    reading: bool = True,
) -> None:
    """Refuse ``actor`` a record they may not see (or change), then one that was deleted.

    In that order: whether a record of another agency, or one kept from the actor, was
    deleted (and why) is as much theirs to know as the record itself.

    Raises:
        RecordError: RECORD_NOT_FOUND (also another agency's record),
            CLASSIFICATION_ABOVE_CLEARANCE, RECORD_RESTRICTED, then RECORD_DELETED (with when
            and why).
        AuditError: REASON_REQUIRED for a restricted record read without a reason.
    """
    if row is None:
        raise _not_found(kind, record_id)
    check_row(conn, kind, row, actor, why, reading=reading)
    if row.deleted_at is not None:
        raise RecordError(
            RecordErrorCode.RECORD_DELETED,
            f"{kind.name} {record_id} was deleted",
            id=str(record_id),
            deleted_at=row.deleted_at.isoformat(),
            reason=row.deletion_reason,
        )


def fetch_row(
    session: Session,
    kind: Kind,
    record_id: uuid.UUID,
    *,
    actor: Actor,
    for_update: bool = False,
) -> RecordColumns:
    """The live row of a record ``actor`` may change; ``for_update`` locks it until the
    transaction ends, so that two writers based on the same version cannot both pass the
    version check.

    Raises:
        RecordError: as ``refuse_unseen``.
    """
    row = session.get(kind.model, record_id, with_for_update=for_update or None)
    refuse_unseen(session, kind, record_id, row, actor=actor, why=None, reading=False)
    return row  # type: ignore[return-value]  # refuse_unseen raised on None


def _act(kind: Kind, what: str) -> Act:
    return Act(Action.CONSULTATION, f"records:{kind.name}:{what}", kind.name)


def read_act(kind: Kind) -> Act:
    """The act of reading one record of ``kind``."""
    return _act(kind, "read")


def list_act(kind: Kind) -> Act:
    """The act of listing records of ``kind``."""
    return _act(kind, "listed")


def history_act(kind: Kind) -> Act:
    """The act of reading a record's history."""
    return _act(kind, "history-read")


def get_record(
    door: Door,
    db: Database,
    kind: Kind,
    record_id: uuid.UUID,
    *,
    actor: Actor,
    why: Justification | None,
) -> Any:
    """One record by id, released through ``door`` on the calling thread (the consultation
    is on disk before the record is returned).

    Raises:
        as ``find_record``; AuditError: AUDIT_UNAVAILABLE.
    """
    return door.release_now(
        find_record(db, kind, record_id, actor=actor, why=why), who=actor, why=why
    )


def find_record(
    db: Database,
    kind: Kind,
    record_id: uuid.UUID,
    *,
    actor: Actor,
    why: Justification | None,
) -> Disclosure[Any]:
    """One record by id, as a disclosure for the door.

    Raises:
        RecordError: RECORD_NOT_FOUND (also for another agency's record),
            CLASSIFICATION_ABOVE_CLEARANCE, RECORD_RESTRICTED, RECORD_DELETED.
        AuditError: REASON_REQUIRED for a person or vehicle check, a link or a marker, or a
            restricted record, without a reason.
    """
    reason_needed(kind, why)
    with db.connect() as conn:
        row = conn.execute(_single(kind.name).one, {"rid": record_id}).first()
        refuse_unseen(conn, kind, record_id, row, actor=actor, why=why)
        read = to_reads(conn, kind, [row], actor=actor, with_restricted=why is not None)[0]
    return Disclosure(
        read,
        read_act(kind),
        [str(record_id)],
        needs_reason=needs_reason(kind, restricted=read.restricted),
    )


MAX_FILTERS = 10
MAX_FILTER_LENGTH = 200
LAST_CHARACTER = "\U0010ffff"


def _filtered(
    kind: Kind, stmt: Select[Any], filters: Mapping[str, str], dialect: str
) -> Select[Any]:
    if len(filters) > MAX_FILTERS:
        raise RecordError(
            RecordErrorCode.INVALID_FILTER, f"at most {MAX_FILTERS} filters in one request"
        )
    for name, raw in filters.items():
        if len(raw) > MAX_FILTER_LENGTH:
            raise RecordError(
                RecordErrorCode.INVALID_FILTER,
                f"{name}: at most {MAX_FILTER_LENGTH} characters",
                filter=name,
            )
        spec = kind.filters.get(name)
        if spec is None:
            raise RecordError(
                RecordErrorCode.INVALID_FILTER,
                f"{kind.path} cannot be filtered by {name!r}",
                filter=name,
                allowed=sorted(kind.filters),
            )
        try:
            value = spec.parse(raw)
        except ValueError as exc:
            raise RecordError(
                RecordErrorCode.INVALID_FILTER, f"{name}: {exc}", filter=name, value=raw
            ) from exc
        column = getattr(kind.model, spec.column)
        if spec.op == "prefix" and dialect == "sqlite":
            # SQLite compares bytes, so a range is an exact prefix test that uses the index
            # (its LIKE cannot, with an ESCAPE clause).
            stmt = stmt.where(column >= value, column < value + LAST_CHARACTER)
        elif spec.op == "prefix":
            escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(column.like(escaped + "%", escape="\\"))
        elif spec.op == "gte":
            stmt = stmt.where(column >= value)
        elif spec.op == "lte":
            stmt = stmt.where(column <= value)
        else:
            stmt = stmt.where(column == value)
    return stmt


def find_records(
    db: Database,
    kind: Kind,
    *,
    actor: Actor,
    why: Justification | None,
    filters: Mapping[str, str],
    cursor: str | None,
    limit: int,
    include_deleted: bool = False,
) -> Disclosure[Page]:
    """A page of the records ``actor`` may see, in id order (creation order for server-made
    ids), as a disclosure naming every record on it. Restricted records the actor is named on
    are listed only when a reason is given.

    Raises:
        RecordError: INVALID_FILTER, INVALID_CURSOR.
        AuditError: REASON_REQUIRED for a list of persons, vehicles, links or markers without
            a reason.
    """
    reason_needed(kind, why)
    model: Any = kind.model
    stmt = _filtered(kind, select(model), filters, db.dialect)
    stmt = stmt.where(visible(model, actor, with_restricted=why is not None))
    if not include_deleted:
        stmt = stmt.where(model.deleted_at.is_(None))
    if cursor:
        try:
            stmt = stmt.where(model.id > decode_cursor(cursor))
        except CursorError as exc:
            raise RecordError(RecordErrorCode.INVALID_CURSOR, str(exc)) from exc
    stmt = stmt.order_by(model.id).limit(limit + 1)
    with db.read() as session:
        rows = list(session.scalars(stmt))
        more = len(rows) > limit
        rows = rows[:limit]
        items = to_reads(session, kind, rows, actor=actor, with_restricted=why is not None)
        # Read the last id before the session ends: its rollback expires every loaded row.
        next_cursor = encode_cursor(rows[-1].id) if more else None
    return Disclosure(
        Page(items=items, next_cursor=next_cursor),
        list_act(kind),
        [str(i.id) for i in items],
        needs_reason=needs_reason(kind, restricted=any(i.restricted for i in items)),
        detail={"filters": dict(filters)},
    )


def find_history(
    db: Database,
    kind: Kind,
    record_id: uuid.UUID,
    *,
    actor: Actor,
    why: Justification | None,
) -> Disclosure[list[ChangeRead]]:
    """Every version of a record, oldest first, deleted or not, as a disclosure.

    Raises:
        RecordError: RECORD_NOT_FOUND, CLASSIFICATION_ABOVE_CLEARANCE, RECORD_RESTRICTED.
        AuditError: REASON_REQUIRED.
    """
    reason_needed(kind, why)
    with db.read() as session:
        row = session.get(kind.model, record_id)
        if row is None:
            raise _not_found(kind, record_id)
        check_row(session, kind, row, actor, why)
        restricted = row.restricted
        rows = session.scalars(
            select(ChangeLogEntry)
            .where(ChangeLogEntry.entity_type == kind.name, ChangeLogEntry.entity_id == record_id)
            .order_by(ChangeLogEntry.seq)
        )
        # Versions from before the record was classified lower or unrestricted may hold what
        # was taken out of it: access.version_shown withholds them from who may not see them.
        history = [
            msgspec.convert(r, ChangeRead, from_attributes=True)
            for r in rows
            if version_shown(session, record_id, r.snapshot, actor, why)
        ]
    return Disclosure(
        history,
        history_act(kind),
        [str(record_id)],
        needs_reason=needs_reason(kind, restricted=restricted)
        or any(v.snapshot.get("restricted") for v in history),
    )


def record_exists(
    session: Session, entity_type: str, record_id: uuid.UUID, agency: str | None = None
) -> bool:
    """Whether a live (not deleted) record of that type has that id (owned by ``agency``)."""
    model: Any = BY_NAME[entity_type].model
    stmt = select(model.id).where(model.id == record_id, model.deleted_at.is_(None))
    if agency is not None:
        stmt = stmt.where(model.owner_agency == agency)
    return session.execute(stmt).first() is not None


def visible_ids(
    conn: Connection | Session, kind: Kind, ids: Sequence[uuid.UUID], *, actor: Actor
) -> set[uuid.UUID]:
    """Which of ``ids`` (records of ``kind``) ``actor`` may see now and are not deleted: of
    their agency, within their clearance, restricted ones only where they are named, and a
    link or marker only if they may see what it is about (``access.visible``)."""
    if not ids:
        return set()
    model: Any = kind.model
    rows = conn.execute(
        select(model.id).where(
            model.id.in_(list(ids)),
            model.deleted_at.is_(None),
            visible(model, actor, with_restricted=True),
        )
    )
    return {row[0] for row in rows}
