"""Reading records by id for many requests at once: the path every officer's check takes.

A read by id waits with the others that arrive while a read is running (``kernel.batching``);
the next round reads all of them with one statement per table (the records, their warning
markers, a person's addresses) on one worker thread, however many officers asked. Each answer
is then decided for its own reader, in Python, by the same rules as ``queries.find_record``:
the reader's agency, their clearance, and a reason where one is needed.

Only the common case is decided here: a live record of the reader's agency, within their
clearance, not restricted, carrying nothing restricted beside it. Anything else (a restricted
record or a restricted warning, which need the reader's grants; another agency's record; a
deleted one; a link or marker, whose ends are checked as records of their own) is read again
by ``queries.find_record`` on the same thread, so there is one set of rules, and the batch
only makes the common case cheap.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import Select, Uuid, select

from bluelight.audit import Justification
from bluelight.audit.door import Disclosure, Door
from bluelight.db import Database, among, plain_rows
from bluelight.identity import Actor, Classification, classifications_up_to
from bluelight.kernel.batching import Batcher
from bluelight.records.access import ENDPOINTS, needs_reason, reason_needed
from bluelight.records.kinds import BY_NAME, Kind
from bluelight.records.models import Link, Location, WarningMarker
from bluelight.records.queries import (
    ADDRESS_COLUMNS,
    LIVE_ADDRESS,
    MARKER_COLUMNS,
    address_line,
    find_record,
    read_act,
)
from bluelight.records.schemas import AddressSummary, MarkerSummary

MAX_BATCH = 256


@dataclass(frozen=True, slots=True)
class Asked:
    """One reader's request: a record of a kind, by id, with the reader's reason."""

    kind: Kind
    record_id: uuid.UUID
    actor: Actor
    why: Justification | None


@dataclass(frozen=True, slots=True)
class _Statements:
    rows: Select[Any]
    markers: Select[Any]
    addresses: Select[Any]


def _among(column: Any, dialect: str) -> Any:
    return among(column, "ids", Uuid(), dialect)


@cache
def _statements(kind_name: str, dialect: str) -> _Statements:
    model: Any = BY_NAME[kind_name].model
    markers: Any = (
        select(
            *MARKER_COLUMNS,
            WarningMarker.owner_agency,
            WarningMarker.classification,
            WarningMarker.restricted,
        )
        .where(_among(WarningMarker.subject_id, dialect), WarningMarker.deleted_at.is_(None))
        .order_by(WarningMarker.id)
    )
    addresses: Any = (
        select(
            *ADDRESS_COLUMNS,
            Link.owner_agency,
            Link.classification,
            Link.restricted,
            Location.owner_agency.label("location_agency"),
            Location.classification.label("location_classification"),
            Location.restricted.label("location_restricted"),
        )
        .join(Location, Location.id == Link.to_id)
        .where(_among(Link.from_id, dialect), LIVE_ADDRESS)
        .order_by(Link.id)
    )
    rows = select(model.__table__).where(_among(model.id, dialect))
    return _Statements(rows, markers, addresses)


@cache
def _cleared(clearance: Classification) -> frozenset[str]:
    return frozenset(str(c) for c in classifications_up_to(clearance))


class _Slow(Exception):  # noqa: N818  (a signal inside this module, never raised out of it)
    """This request is not the common case: read it the careful way."""


def _own(row: Any, actor: Actor, cleared: frozenset[str]) -> bool:
    """Whether a record shown beside another is one ``actor`` sees outright; raises ``_Slow``
    when that depends on their grants (it is restricted)."""
    if row.owner_agency != actor.agency or row.classification not in cleared:
        return False
    if row.restricted:
        raise _Slow
    return True


class RecordReader:
    """Reads records by id, many requests per round (see the module's docstring)."""

    def __init__(self, db: Database, door: Door) -> None:
        self._db = db
        self._door = door
        self._batcher: Batcher[Asked, Disclosure[Any]] = Batcher(self._read, limit=MAX_BATCH)
        self._releaser: Batcher[Asked, Any] = Batcher(self._read_and_release, limit=MAX_BATCH)

    async def release(
        self, kind: Kind, record_id: uuid.UUID, *, actor: Actor, why: Justification | None
    ) -> Any:
        """One record by id, released through the door: read with the others that wait with
        it, and handed back only once the consultations of the whole round are committed, in
        one transaction on the same worker thread (no hand-off to the audit writer).

        Raises:
            as ``queries.find_record``; AuditError: AUDIT_UNAVAILABLE.
        """
        return await self._releaser.run(Asked(kind, record_id, actor, why))

    def _read_and_release(self, batch: Sequence[Asked]) -> list[Any]:
        found = self._read(batch)
        return self._door.release_batch(
            self._db, [(f, a.actor, a.why) for f, a in zip(found, batch, strict=True)]
        )

    async def find(
        self, kind: Kind, record_id: uuid.UUID, *, actor: Actor, why: Justification | None
    ) -> Disclosure[Any]:
        """One record by id, as ``queries.find_record`` finds it, read with the others that
        wait with it.

        Raises:
            as ``queries.find_record``.
        """
        return await self._batcher.run(Asked(kind, record_id, actor, why))

    def _read(self, batch: Sequence[Asked]) -> list[Disclosure[Any] | Exception]:
        answers: list[Disclosure[Any] | Exception | None] = [None] * len(batch)
        by_kind: dict[str, list[int]] = {}
        for i, asked in enumerate(batch):
            try:
                reason_needed(asked.kind, asked.why)
            except Exception as exc:  # noqa: BLE001  (this request's answer)
                answers[i] = exc
                continue
            if asked.kind.name in ENDPOINTS:
                answers[i] = self._careful(asked)
            else:
                by_kind.setdefault(asked.kind.name, []).append(i)
        for kind_name, indices in by_kind.items():
            self._read_kind(kind_name, [batch[i] for i in indices], indices, answers)
        return [a if a is not None else RuntimeError("unanswered") for a in answers]

    def _careful(self, asked: Asked) -> Disclosure[Any] | Exception:
        try:
            return find_record(
                self._db, asked.kind, asked.record_id, actor=asked.actor, why=asked.why
            )
        except Exception as exc:  # noqa: BLE001  (this request's answer)
            return exc

    def _read_kind(
        self,
        kind_name: str,
        asked: list[Asked],
        indices: list[int],
        answers: list[Disclosure[Any] | Exception | None],
    ) -> None:
        kind = BY_NAME[kind_name]
        statements = _statements(kind_name, self._db.dialect)
        ids = list(dict.fromkeys(a.record_id for a in asked))
        with self._db.connect() as conn:
            found = conn.execute(statements.rows, {"ids": ids})
            keys = tuple(found.keys())
            rows = {r.id: dict(zip(keys, r, strict=True)) for r in found}
            markers: dict[uuid.UUID, list[Any]] = {}
            addresses: dict[uuid.UUID, list[Any]] = {}
            if kind_name in ("person", "location"):
                for m in plain_rows(conn.execute(statements.markers, {"ids": ids})):
                    markers.setdefault(m.subject_id, []).append(m)
            if kind_name == "person":
                for a in plain_rows(conn.execute(statements.addresses, {"ids": ids})):
                    addresses.setdefault(a.from_id, []).append(a)
        for i, one in zip(indices, asked, strict=True):
            try:
                answers[i] = self._decide(kind, one, rows.get(one.record_id), markers, addresses)
            except _Slow:
                answers[i] = self._careful(one)

    @staticmethod
    def _decide(
        kind: Kind,
        asked: Asked,
        row: Any,
        markers: dict[uuid.UUID, list[Any]],
        addresses: dict[uuid.UUID, list[Any]],
    ) -> Disclosure[Any]:
        actor = asked.actor
        cleared = _cleared(actor.clearance)
        if (
            row is None
            or row["owner_agency"] != actor.agency
            or row["classification"] not in cleared
            or row["restricted"]
            or row["deleted_at"] is not None
        ):
            raise _Slow
        record_id = row["id"]
        read = msgspec.convert(row, kind.read)
        extras: dict[str, Any] = {}
        if kind.name in ("person", "location"):
            extras["markers"] = [
                MarkerSummary(id=m.id, marker=m.marker, detail=m.detail, review_date=m.review_date)
                for m in markers.get(record_id, ())
                if _own(m, actor, cleared)
            ]
        if kind.name == "person":
            extras["addresses"] = [
                AddressSummary(
                    link_id=a.id,
                    link_type=a.link_type,
                    location_id=a.location_id,
                    summary=address_line(a),
                    valid_from=a.valid_from,
                    valid_to=a.valid_to,
                )
                for a in addresses.get(record_id, ())
                if _own(a, actor, cleared)
                and _own(
                    _Beside(a.location_agency, a.location_classification, a.location_restricted),
                    actor,
                    cleared,
                )
            ]
        if extras:
            read = msgspec.structs.replace(read, **extras)
        return Disclosure(
            read,
            read_act(kind),
            [str(record_id)],
            needs_reason=needs_reason(kind, restricted=False),
        )


@dataclass(frozen=True, slots=True)
class _Beside:
    owner_agency: str
    classification: str
    restricted: bool
