"""Reading records by id for many requests at once: the path every officer's check takes.

A read by id waits with the others that arrive while a read is running (``kernel.batching``);
the next round reads all of them with one statement per table (the records, their warning
markers, a person's addresses) on one worker thread, however many officers asked. Each
statement answers one JSON array (``db.json_rows``), which msgspec decodes into structs in
one call: no row is fetched, nor any value converted, one at a time in Python. Each answer
is then decided for its own reader, in Python, by the same rules as ``queries.find_record``:
the reader's agency, their clearance, and a reason where one is needed.

A route may also hand the reader the request's bearer token instead of an actor (``Caller``):
the round then looks up every such token in one query, checks each actor against the route's
permission, and only then reads, so a request's authentication and its read share one trip
to a worker thread instead of taking one each.

Only the common case is decided here: a live record of the reader's agency, within their
clearance, not restricted, carrying nothing restricted beside it. Anything else (a restricted
record or a restricted warning, which need the reader's grants; another agency's record; a
deleted one; a link or marker, whose ends are checked as records of their own) is read again
by ``queries.find_record`` on the same thread, so there is one set of rules, and the batch
only makes the common case cheap.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

import msgspec
from sqlalchemy import Connection, Select, String, Uuid, literal_column, select

from bluelight.audit import Justification
from bluelight.audit.door import Disclosure, Door
from bluelight.db import Database, among, json_rows
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
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Asked:
    """One reader's request: a record of a kind, by id, with the reader's reason."""

    kind: Kind
    record_id: uuid.UUID
    actor: Actor
    why: Justification | None


@dataclass(frozen=True, slots=True)
class Caller:
    """A request not yet authenticated: its bearer token, and ``admit``, which raises the
    refusal of an actor the route does not let in (its permission)."""

    token: str
    admit: Callable[[Actor], None]


@dataclass(frozen=True, slots=True)
class _Release:
    """One request for the releasing round: by an actor already known, or by a ``Caller``
    whose token the round looks up; ``why`` is the refusal of the reason it gave, if it
    was refused."""

    kind: Kind
    record_id: uuid.UUID
    who: Actor | Caller
    why: Justification | Exception | None


Identify = Callable[[Sequence[str], Connection], Sequence[Actor | Exception]]
"""Looks up bearer tokens, many at once, on the connection given (in autocommit): for each,
its actor or the refusal of it."""


def _no_tokens(tokens: Sequence[str], _conn: Connection) -> Sequence[Actor | Exception]:
    msg = f"this reader looks up no tokens ({len(tokens)} asked)"
    raise RuntimeError(msg)


@dataclass(frozen=True, slots=True)
class _Statements:
    """The round's one statement: three arrays, the records, their warning markers and a
    person's addresses (an empty array where a kind has none), in one trip to the database."""

    read: Select[Any]


class _MarkerRow(msgspec.Struct, frozen=True):
    """A warning marker as the round reads it: what a reader is shown, and who may see it."""

    subject_id: uuid.UUID
    id: uuid.UUID
    marker: str
    detail: str | None
    review_date: date
    owner_agency: str
    classification: str
    restricted: bool


class _AddressRow(msgspec.Struct, frozen=True):
    """An address as the round reads it: the link and its place, and who may see each."""

    from_id: uuid.UUID
    id: uuid.UUID
    link_type: str
    valid_from: datetime | None
    valid_to: datetime | None
    location_id: uuid.UUID
    name: str | None
    premises: str | None
    street: str | None
    town: str | None
    postcode: str | None
    latitude: float | None
    longitude: float | None
    owner_agency: str
    classification: str
    restricted: bool
    location_agency: str
    location_classification: str
    location_restricted: bool


def _among(column: Any, dialect: str) -> Any:
    return among(column, "ids", Uuid(), dialect)


@cache
def _statements(kind_name: str, dialect: str) -> _Statements:
    """Each statement's rows as one JSON array (``db.json_rows``), decoded by msgspec into
    reads and the rows above."""
    kind = BY_NAME[kind_name]
    model: Any = kind.model
    fields = {f.name for f in msgspec.structs.fields(kind.read)}
    shown = [c for c in model.__table__.columns if c.name in fields]
    rows = select(json_rows(shown, dialect)).where(_among(model.id, dialect))
    markers: Any = select(
        json_rows(
            [
                *MARKER_COLUMNS,
                WarningMarker.owner_agency,
                WarningMarker.classification,
                WarningMarker.restricted,
            ],
            dialect,
        )
    ).where(_among(WarningMarker.subject_id, dialect), WarningMarker.deleted_at.is_(None))
    addresses: Any = (
        select(
            json_rows(
                [
                    *ADDRESS_COLUMNS,
                    Link.owner_agency,
                    Link.classification,
                    Link.restricted,
                    Location.owner_agency.label("location_agency"),
                    Location.classification.label("location_classification"),
                    Location.restricted.label("location_restricted"),
                ],
                dialect,
            )
        )
        .join(Location, Location.id == Link.to_id)
        .where(_among(Link.from_id, dialect), LIVE_ADDRESS)
    )
    none = literal_column("'[]'", String)
    return _Statements(
        select(
            rows.scalar_subquery(),
            markers.scalar_subquery() if kind_name in ("person", "location") else none,
            addresses.scalar_subquery() if kind_name == "person" else none,
        )
    )


@cache
def _decoder(into: type[T]) -> Callable[[str], list[T]]:
    return msgspec.json.Decoder(list[into]).decode  # type: ignore[valid-type]  # a type chosen at run time


def _by_id(row: _MarkerRow | _AddressRow) -> int:
    return row.id.int


@cache
def _cleared(clearance: Classification) -> frozenset[str]:
    return frozenset(str(c) for c in classifications_up_to(clearance))


class _Slow(Exception):  # noqa: N818  (a signal inside this module, never raised out of it)
    """This request is not the common case: read it the careful way."""


def _sees(
    agency: str, classification: str, restricted: bool, actor: Actor, cleared: frozenset[str]
) -> bool:
    """Whether a record shown beside another (of ``agency``, ``classification``) is one
    ``actor`` sees outright; raises ``_Slow`` when that depends on their grants (it is
    restricted)."""
    if agency != actor.agency or classification not in cleared:
        return False
    if restricted:
        raise _Slow
    return True


class RecordReader:
    """Reads records by id, many requests per round (see the module's docstring)."""

    def __init__(self, db: Database, door: Door, identify: Identify = _no_tokens) -> None:
        self._db = db
        self._door = door
        self._identify = identify
        # The rounds' own connection: a round's token look-up and read take no trip to the
        # pool (its consultations are committed on the door's)
        self._kept = db.kept_reader()
        self._batcher: Batcher[Asked, Disclosure[Any]] = Batcher(self._find, limit=MAX_BATCH)
        self._releaser: Batcher[_Release, tuple[Actor | None, Any]] = Batcher(
            self._read_and_release, limit=MAX_BATCH
        )

    async def release(
        self, kind: Kind, record_id: uuid.UUID, *, actor: Actor, why: Justification | None
    ) -> Any:
        """One record by id, released through the door: read with the others that wait with
        it, and handed back only once the consultations of the whole round are committed, in
        one transaction on the same worker thread (no hand-off to the audit writer).

        Raises:
            as ``queries.find_record``; AuditError: AUDIT_UNAVAILABLE.
        """
        _, answer = await self._releaser.run(_Release(kind, record_id, actor, why))
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def release_to(
        self,
        caller: Caller,
        kind: Kind,
        record_id: uuid.UUID,
        *,
        why: Justification | Exception | None,
    ) -> tuple[Actor | None, Any]:
        """``release`` for a request whose token is looked up in the same round: the actor it
        stands for (``None`` if the token was refused) and the record, or the exception that
        refuses it (the token's refusal, the route's, ``why`` if it is one, or the read's).

        Raises:
            whatever the round itself could not do (the database unreachable).
        """
        return await self._releaser.run(_Release(kind, record_id, caller, why))

    def close(self) -> None:
        """Give back the rounds' connection (a later round takes another)."""
        self._kept.close()

    def _read_and_release(self, batch: Sequence[_Release]) -> list[tuple[Actor | None, Any]]:
        with self._kept.use() as conn:
            actors, refusals = self._admit(batch, conn)
            admitted: list[int] = []
            asked: list[Asked] = []
            for i, (r, actor, refusal) in enumerate(zip(batch, actors, refusals, strict=True)):
                if refusal is None and actor is not None and not isinstance(r.why, Exception):
                    admitted.append(i)
                    asked.append(Asked(r.kind, r.record_id, actor, r.why))
            found = self._read(asked, conn)
        released = self._door.release_batch(
            [(f, a.actor, a.why) for f, a in zip(found, asked, strict=True)]
        )
        answers: list[Any] = list(refusals)
        for i, answer in zip(admitted, released, strict=True):
            answers[i] = answer
        return list(zip(actors, answers, strict=True))

    def _admit(
        self, batch: Sequence[_Release], conn: Connection
    ) -> tuple[list[Actor | None], list[Exception | None]]:
        """Each request's actor (its token looked up, all in one query) and its refusal, if
        it has one: the token's, the route's, or that of the reason it gave."""
        callers = [r.who.token for r in batch if isinstance(r.who, Caller)]
        looked_up = iter(self._identify(callers, conn) if callers else ())
        actors: list[Actor | None] = []
        refusals: list[Exception | None] = []
        for r in batch:
            found = next(looked_up) if isinstance(r.who, Caller) else r.who
            refusal: Exception | None = None
            if isinstance(found, Exception):
                actors.append(None)
                refusals.append(found)
                continue
            if isinstance(r.who, Caller):
                try:
                    r.who.admit(found)
                except Exception as exc:  # noqa: BLE001  (this request's answer)
                    refusal = exc
            if refusal is None and isinstance(r.why, Exception):
                refusal = r.why
            actors.append(found)
            refusals.append(refusal)
        return actors, refusals

    async def find(
        self, kind: Kind, record_id: uuid.UUID, *, actor: Actor, why: Justification | None
    ) -> Disclosure[Any]:
        """One record by id, as ``queries.find_record`` finds it, read with the others that
        wait with it.

        Raises:
            as ``queries.find_record``.
        """
        return await self._batcher.run(Asked(kind, record_id, actor, why))

    def _find(self, batch: Sequence[Asked]) -> list[Disclosure[Any] | Exception]:
        with self._kept.use() as conn:
            return self._read(batch, conn)

    def _read(self, batch: Sequence[Asked], conn: Connection) -> list[Disclosure[Any] | Exception]:
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
            self._read_kind(conn, kind_name, [batch[i] for i in indices], indices, answers)
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
        conn: Connection,
        kind_name: str,
        asked: list[Asked],
        indices: list[int],
        answers: list[Disclosure[Any] | Exception | None],
    ) -> None:
        kind = BY_NAME[kind_name]
        statements = _statements(kind_name, self._db.dialect)
        ids = list(dict.fromkeys(a.record_id for a in asked))
        found = conn.execute(statements.read, {"ids": ids}).one()
        reads = _decoder(kind.read)(found[0])
        found_markers = _decoder(_MarkerRow)(found[1])
        found_addresses = _decoder(_AddressRow)(found[2])
        # Keyed by the ids' numbers: a uuid.UUID hashes and compares in Python, an int in C
        rows = {r.id.int: r for r in reads}
        # In id order, as queries.find_record shows them
        markers: dict[int, list[_MarkerRow]] = {}
        for m in sorted(found_markers, key=_by_id):
            markers.setdefault(m.subject_id.int, []).append(m)
        addresses: dict[int, list[_AddressRow]] = {}
        for a in sorted(found_addresses, key=_by_id):
            addresses.setdefault(a.from_id.int, []).append(a)
        for i, one in zip(indices, asked, strict=True):
            try:
                answers[i] = self._decide(
                    kind, one, rows.get(one.record_id.int), markers, addresses
                )
            except _Slow:
                answers[i] = self._careful(one)

    @staticmethod
    def _decide(
        kind: Kind,
        asked: Asked,
        read: Any,
        markers: dict[int, list[_MarkerRow]],
        addresses: dict[int, list[_AddressRow]],
    ) -> Disclosure[Any]:
        actor = asked.actor
        cleared = _cleared(actor.clearance)
        if (
            read is None
            or read.owner_agency != actor.agency
            or read.classification not in cleared
            or read.restricted
            or read.deleted_at is not None
        ):
            raise _Slow
        record_id = read.id
        extras: dict[str, Any] = {}
        if kind.name in ("person", "location"):
            extras["markers"] = [
                MarkerSummary(id=m.id, marker=m.marker, detail=m.detail, review_date=m.review_date)
                for m in markers.get(record_id.int, ())
                if _sees(m.owner_agency, m.classification, m.restricted, actor, cleared)
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
                for a in addresses.get(record_id.int, ())
                if _sees(a.owner_agency, a.classification, a.restricted, actor, cleared)
                and _sees(
                    a.location_agency,
                    a.location_classification,
                    a.location_restricted,
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
