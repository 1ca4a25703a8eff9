"""The read side of the POLE records: one record, pages of records, a record's history."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bluelight.db import ChangeLogEntry, Database
from bluelight.kernel.paging import CursorError, decode_cursor, encode_cursor
from bluelight.records.errors import RecordError, RecordErrorCode
from bluelight.records.kinds import BY_NAME, Kind
from bluelight.records.models import Link, Location, RecordColumns, WarningMarker
from bluelight.records.schemas import AddressSummary, ChangeRead, MarkerSummary, Page

ADDRESS_LINKS = ("resides-at", "previously-resided-at", "works-at")


def address_line(loc: Location) -> str:
    """A location as one line, the way an officer reads it out."""
    parts = [loc.name, " ".join(p for p in (loc.premises, loc.street) if p), loc.town, loc.postcode]
    return ", ".join(p for p in parts if p) or f"{loc.latitude}, {loc.longitude}"


def _markers(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[MarkerSummary]]:
    out: dict[uuid.UUID, list[MarkerSummary]] = {}
    rows = session.execute(
        select(
            WarningMarker.subject_id,
            WarningMarker.id,
            WarningMarker.marker,
            WarningMarker.detail,
            WarningMarker.review_date,
        ).where(WarningMarker.subject_id.in_(ids), WarningMarker.deleted_at.is_(None))
    )
    for subject_id, marker_id, marker, detail, review in rows:
        out.setdefault(subject_id, []).append(
            MarkerSummary(id=marker_id, marker=marker, detail=detail, review_date=review)
        )
    return out


def _addresses(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[AddressSummary]]:
    out: dict[uuid.UUID, list[AddressSummary]] = {}
    rows = session.execute(
        select(Link, Location)
        .join(Location, Location.id == Link.to_id)
        .where(
            Link.from_id.in_(ids),
            Link.link_type.in_(ADDRESS_LINKS),
            Link.deleted_at.is_(None),
            Location.deleted_at.is_(None),
        )
    )
    for link, loc in rows:
        out.setdefault(link.from_id, []).append(
            AddressSummary(
                link_id=link.id,
                link_type=link.link_type,
                location_id=loc.id,
                summary=address_line(loc),
                valid_from=link.valid_from,
                valid_to=link.valid_to,
            )
        )
    return out


def to_reads(session: Session, kind: Kind, rows: Sequence[RecordColumns]) -> list[Any]:
    """Rows as their read type, with the related facts an officer needs beside them."""
    reads = [msgspec.convert(row, kind.read, from_attributes=True) for row in rows]
    if not rows or kind.name not in ("person", "location"):
        return reads
    ids = [row.id for row in rows]
    markers = _markers(session, ids)
    addresses = _addresses(session, ids) if kind.name == "person" else {}
    extra: dict[str, Mapping[uuid.UUID, list[Any]]] = {"markers": markers}
    if kind.name == "person":
        extra["addresses"] = addresses
    return [
        msgspec.structs.replace(read, **{k: v.get(read.id, []) for k, v in extra.items()})  # type: ignore[attr-defined]
        for read in reads
    ]


def fetch_row(
    session: Session, kind: Kind, record_id: uuid.UUID, *, for_update: bool = False
) -> RecordColumns:
    """The live row of a record; ``for_update`` locks it until the transaction ends, so that
    two writers based on the same version cannot both pass the version check.

    Raises:
        RecordError: RECORD_NOT_FOUND, or RECORD_DELETED (with when and why).
    """
    row = session.get(kind.model, record_id, with_for_update=for_update or None)
    if row is None:
        raise RecordError(
            RecordErrorCode.RECORD_NOT_FOUND,
            f"no {kind.name} with id {record_id}",
            id=str(record_id),
        )
    if row.deleted_at is not None:
        raise RecordError(
            RecordErrorCode.RECORD_DELETED,
            f"{kind.name} {record_id} was deleted",
            id=str(record_id),
            deleted_at=row.deleted_at.isoformat(),
            reason=row.deletion_reason,
        )
    return row


def get_record(db: Database, kind: Kind, record_id: uuid.UUID) -> Any:
    """One record by id.

    Raises:
        RecordError: RECORD_NOT_FOUND, RECORD_DELETED.
    """
    with db.read() as session:
        row = fetch_row(session, kind, record_id)
        return to_reads(session, kind, [row])[0]


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


def list_records(
    db: Database,
    kind: Kind,
    *,
    filters: Mapping[str, str],
    cursor: str | None,
    limit: int,
    include_deleted: bool = False,
) -> Page:
    """A page of records in id order (creation order for server-made ids).

    Raises:
        RecordError: INVALID_FILTER, INVALID_CURSOR.
    """
    model: Any = kind.model
    stmt = _filtered(kind, select(model), filters, db.dialect)
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
        items = to_reads(session, kind, rows)
        # Read the last id before the session ends: its rollback expires every loaded row.
        next_cursor = encode_cursor(rows[-1].id) if more else None
    return Page(items=items, next_cursor=next_cursor)


def record_history(db: Database, kind: Kind, record_id: uuid.UUID) -> list[ChangeRead]:
    """Every version of a record, oldest first, deleted or not.

    Raises:
        RecordError: RECORD_NOT_FOUND.
    """
    with db.read() as session:
        if session.get(kind.model, record_id) is None:
            raise RecordError(
                RecordErrorCode.RECORD_NOT_FOUND, f"no {kind.name} with id {record_id}"
            )
        rows = session.scalars(
            select(ChangeLogEntry)
            .where(ChangeLogEntry.entity_type == kind.name, ChangeLogEntry.entity_id == record_id)
            .order_by(ChangeLogEntry.seq)
        )
        return [msgspec.convert(r, ChangeRead, from_attributes=True) for r in rows]


def record_exists(session: Session, entity_type: str, record_id: uuid.UUID) -> bool:
    """Whether a live (not deleted) record of that type has that id."""
    model: Any = BY_NAME[entity_type].model
    found = session.execute(
        select(model.id).where(model.id == record_id, model.deleted_at.is_(None))
    ).first()
    return found is not None
