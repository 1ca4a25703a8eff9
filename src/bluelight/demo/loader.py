"""Loads a generated force into the database in batches, each record with its change-log entry.

The record service checks and writes one record per transaction, which is right for users and
far too slow for millions of rows. The loader writes the generator's rows straight into the
tables instead: on SQLite with the driver's ``executemany`` on values already in SQLAlchemy's
storage format, on PostgreSQL with ``COPY``, and on any other database with SQLAlchemy Core's
``insert()``. Every record gets the change-log row the service would have written, so history
and sync treat demo data like any other.

Making the rows costs more than writing them, so a big force is made by two producer processes
(places, people and vehicles in one, events in the other) while this process writes. The
writer takes their batches in a fixed order, so the database ends up the same either way.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any, Protocol

import msgspec
from sqlalchemy import JSON, Connection, Date, Dialect, Table, Uuid, insert, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from bluelight.changes import ChangeLogEntry
from bluelight.db import Database, UTCDateTime, lock_journal
from bluelight.demo.generator import (
    DEFAULT_BATCH,
    STAGES,
    Plan,
    Row,
    SizeSpec,
    change_entry,
    stage_batches,
)
from bluelight.records.kinds import BY_NAME
from bluelight.records.models import RecordGrant, RecordShare
from bluelight.vocab.models import ForceCodeMapping

CHANGE_LOG: Table = ChangeLogEntry.__table__  # type: ignore[assignment]  # a declarative table
MAPPINGS: Table = ForceCodeMapping.__table__  # type: ignore[assignment]  # same
TABLES: dict[str, Table] = {
    name: kind.model.__table__  # type: ignore[attr-defined]  # every kind's model is mapped
    for name, kind in BY_NAME.items()
}
BY_TABLE: dict[str, Table] = {t.name: t for t in [*TABLES.values(), CHANGE_LOG]}
# Emptied by a reset, children before parents (events refer to locations). Shares and grants
# name records by id without a foreign key, so they go too, or they would outlive their record.
SHARES: Table = RecordShare.__table__  # type: ignore[assignment]  # a declarative table
GRANTS: Table = RecordGrant.__table__  # type: ignore[assignment]  # same
RESET_ORDER: tuple[Table, ...] = (
    SHARES,
    GRANTS,
    CHANGE_LOG,
    TABLES["link"],
    TABLES["marker"],
    TABLES["event"],
    TABLES["location"],
    TABLES["person"],
    TABLES["vehicle"],
    TABLES["property"],
    MAPPINGS,
)
# Records per transaction: few enough commits to stay fast, small enough that SQLite's
# write-ahead log stays a few hundred megabytes even for the largest force.
COMMIT_EVERY = 200_000
# The producers' shares of the work, and a force big enough for them to pay for their start.
PRODUCER_STAGES = (("locations", "persons", "vehicles"), ("events",))
PARALLEL_FROM = 50_000
# Batches a producer may run ahead of the writer: bounds the memory of a large force.
QUEUE_DEPTH = 6

Progress = Callable[[str, int], None]
# A batch ready to write: the kind, how many records, and each table's encoded rows.
Encoded = tuple[str, int, list[tuple[str, Any]]]


class DemoLoadError(RuntimeError):
    """The force could not be loaded (most often: the records are already there)."""


@dataclass(slots=True)
class LoadStats:
    """What a load wrote: rows per table and how long it took."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds > 0 else 0.0

    def add(self, table: str, count: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + count


class Writer(Protocol):
    """Turns rows into what a database takes, and writes them inside the caller's transaction.

    ``encode`` needs no connection, so a producer process can do it; ``execute`` runs where
    the connection is.
    """

    target: str

    def encode(self, table: Table, rows: Sequence[Row]) -> Any: ...

    def execute(self, conn: Connection, table: Table, encoded: Any) -> None: ...


def _columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if not (c.primary_key and c.autoincrement is True)]


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


class CoreWriter:
    """SQLAlchemy Core ``insert()`` with ``executemany``: slower, but for every database."""

    target = "core"

    def encode(self, table: Table, rows: Sequence[Row]) -> list[Row]:
        if table is CHANGE_LOG:
            return [{**r, "snapshot": msgspec.to_builtins(r["snapshot"])} for r in rows]
        return list(rows)

    def execute(self, conn: Connection, table: Table, encoded: list[Row]) -> None:
        conn.execute(insert(table), encoded)


def _sqlite_datetime(value: datetime) -> str:
    # The text SQLAlchemy's SQLite DATETIME stores (UTC, no offset), so range filters compare
    # demo rows and service-written rows alike.
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(sep=" ", timespec="microseconds")[:26]


def _uuid_hex(value: uuid.UUID) -> str:
    return value.hex


def _row_encoder(
    names: list[str], converters: dict[str, Callable[[Any], Any]], json_null: set[str]
) -> Callable[[Row], tuple[Any, ...]]:
    """A function from a row to its values in ``names`` order, each converted as given.

    None stays None (SQL NULL), except in the ``json_null`` columns, where it is JSON null.
    """
    fetch = itemgetter(*names)
    converted = [(i, converters[n], n in json_null) for i, n in enumerate(names) if n in converters]
    last: list[Any] = [None, None]

    def encode(row: Row) -> tuple[Any, ...]:
        values = list(fetch(row))
        for i, convert, is_json in converted:
            value = values[i]
            if value is None:
                if is_json:
                    values[i] = "null"
            elif value is last[0]:
                # created_at and updated_at are one object: convert it once.
                values[i] = last[1]
            else:
                values[i] = convert(value)
                if isinstance(value, datetime):
                    last[0], last[1] = value, values[i]
        return tuple(values)

    return encode


class _TupleWriter:
    """Rows as tuples in column order, converted by column type."""

    target = ""

    def __init__(self) -> None:
        self._plans: dict[str, tuple[str, Callable[[Row], tuple[Any, ...]]]] = {}

    def _converter(self, column: Any) -> Callable[[Any], Any] | None:
        raise NotImplementedError

    def _statement(self, table: Table, names: list[str]) -> str:
        raise NotImplementedError

    def _plan(self, table: Table) -> tuple[str, Callable[[Row], tuple[Any, ...]]]:
        found = self._plans.get(table.name)
        if found is None:
            names = _columns(table)
            converters = {
                n: convert
                for n in names
                if (convert := self._converter(table.columns[n])) is not None
            }
            # A JSON column stores None as SQL NULL or as JSON null, as its type says.
            json_null = {
                n
                for n in names
                if isinstance(kind := table.columns[n].type, JSON) and not kind.none_as_null
            }
            encoder = _row_encoder(names, converters, json_null)
            found = (self._statement(table, names), encoder)
            self._plans[table.name] = found
        return found

    def encode(self, table: Table, rows: Sequence[Row]) -> list[tuple[Any, ...]]:
        _, encode = self._plan(table)
        return [encode(row) for row in rows]


class SQLiteWriter(_TupleWriter):
    """The driver's ``executemany`` on values already in the form SQLAlchemy stores them."""

    target = "sqlite"

    def __init__(self, dialect: Dialect | None = None) -> None:
        super().__init__()
        self._dialect = dialect or sqlite.dialect()

    def _converter(self, column: Any) -> Callable[[Any], Any] | None:
        kind = column.type
        if isinstance(kind, Uuid):
            return _uuid_hex
        if isinstance(kind, UTCDateTime):
            return _sqlite_datetime
        if isinstance(kind, Date):
            return date.isoformat
        if isinstance(kind, JSON):
            return _json
        processor: Callable[[Any], Any] | None = kind.dialect_impl(self._dialect).bind_processor(
            self._dialect
        )
        return processor

    def _statement(self, table: Table, names: list[str]) -> str:
        marks = ", ".join("?" for _ in names)
        return f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"

    def execute(self, conn: Connection, table: Table, encoded: list[tuple[Any, ...]]) -> None:
        sql, _ = self._plan(table)
        conn.exec_driver_sql(sql, encoded)


def _text(value: Any) -> str:
    return str(value)


class PostgresCopyWriter(_TupleWriter):
    """PostgreSQL's ``COPY … FROM STDIN`` through psycopg: the fastest way in.

    Values go as text, which the server parses by column type: cheap to make, and cheap to
    send from a producer process.
    """

    target = "postgresql"

    def _converter(self, column: Any) -> Callable[[Any], Any] | None:
        kind = column.type
        if isinstance(kind, JSON):
            return _json
        if isinstance(kind, (Uuid, UTCDateTime, Date)):
            return _text
        return None

    def _statement(self, table: Table, names: list[str]) -> str:
        return f"COPY {table.name} ({', '.join(names)}) FROM STDIN"

    def execute(self, conn: Connection, table: Table, encoded: list[tuple[Any, ...]]) -> None:
        sql, _ = self._plan(table)
        raw: Any = conn.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            for values in encoded:
                copy.write_row(values)


def writer_for(target: str) -> Writer:
    """A writer for ``target``: ``sqlite``, ``postgresql`` (COPY) or ``core``."""
    if target == "sqlite":
        return SQLiteWriter()
    if target == "postgresql":
        return PostgresCopyWriter()
    return CoreWriter()


def target_of(conn: Connection) -> str:
    """The fastest way this connection's database takes rows."""
    if conn.dialect.name == "sqlite":
        return "sqlite"
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        return "postgresql"
    return "core"


def reset_records(conn: Connection) -> None:
    """Empty the record tables, the change log and the force code mappings."""
    if conn.dialect.name == "postgresql":
        names = ", ".join(t.name for t in RESET_ORDER)
        conn.execute(text(f"TRUNCATE TABLE {names}"))
        return
    for table in RESET_ORDER:
        conn.execute(table.delete())


def encode_batch(writer: Writer, kind: str, batch: Sequence[Row]) -> Encoded:
    """A batch of records and their change-log rows, encoded for ``writer``."""
    table = TABLES[kind]
    entries = [change_entry(kind, row) for row in batch]
    return (
        kind,
        len(batch),
        [
            (table.name, writer.encode(table, batch)),
            (CHANGE_LOG.name, writer.encode(CHANGE_LOG, entries)),
        ],
    )


def encoded_batches(
    plan: Plan, writer: Writer, stages: Iterable[str], batch_size: int
) -> Iterator[Encoded]:
    """The encoded batches of some stages, made in this process."""
    for stage in stages:
        for kind, batch in stage_batches(plan, stage, batch_size):
            yield encode_batch(writer, kind, batch)


@dataclass(frozen=True, slots=True)
class Job:
    """What a producer process needs to make its share of the force (it pickles)."""

    spec: SizeSpec
    seed: int
    as_of: date
    force_code: str
    batch_size: int
    target: str
    stages: tuple[str, ...]


def _produce(job: Job, out: Any) -> None:
    """A producer process: make and encode a share of the force, batch by batch."""
    try:
        plan = Plan(job.spec, job.seed, job.as_of, job.force_code)
        writer = writer_for(job.target)
        for stage in job.stages:
            for item in encoded_batches(plan, writer, (stage,), job.batch_size):
                out.put(("batch", item))
            out.put(("stage", stage))
        out.put(("done", None))
    except BaseException:  # noqa: BLE001  (whatever it was, the writer must hear of it)
        out.put(("error", traceback.format_exc()))


class _Producer:
    """One producer process and its queue, read one message at a time."""

    def __init__(self, context: Any, job: Job) -> None:
        self.queue = context.Queue(maxsize=QUEUE_DEPTH)
        self.process = context.Process(target=_produce, args=(job, self.queue), daemon=True)
        self.process.start()
        self.done = False

    def next(self) -> tuple[str, Any]:
        while True:
            try:
                message: tuple[str, Any] = self.queue.get(timeout=1.0)
            except queue.Empty:
                if not self.process.is_alive():
                    msg = f"a demo producer stopped (exit code {self.process.exitcode})"
                    raise DemoLoadError(msg) from None
                continue
            if message[0] == "error":
                msg = f"a demo producer failed:\n{message[1]}"
                raise DemoLoadError(msg)
            if message[0] == "done":
                self.done = True
            return message

    def until_stage(self, stage: str) -> Iterator[Encoded]:
        while not self.done:
            kind, body = self.next()
            if kind == "batch":
                yield body
            elif kind == "stage" and body == stage:
                return

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout=5)
        self.queue.close()


def parallel_batches(plan: Plan, target: str, batch_size: int) -> Iterator[Encoded]:
    """Encoded batches from two producer processes, in an order fixed by the plan alone.

    Places come first (events refer to them); after that the writer takes one batch from each
    producer in turn, so every run writes the same rows in the same order.
    """
    # Fork where there is one: a spawned producer would re-run the caller's main script,
    # which breaks any benchmark script without a __main__ guard. The producers never touch
    # the parent's connections, locks or console, so forking them is safe.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    producers = [
        _Producer(
            context,
            Job(plan.spec, plan.seed, plan.as_of, plan.force_code, batch_size, target, stages),
        )
        for stages in PRODUCER_STAGES
    ]
    try:
        yield from producers[0].until_stage("locations")
        while not all(p.done for p in producers):
            for producer in producers:
                while not producer.done:
                    kind, body = producer.next()
                    if kind == "batch":
                        yield body
                        break
    finally:
        for producer in producers:
            producer.stop()


def write_batches(
    conn: Connection,
    batches: Iterable[Encoded],
    writer: Writer,
    *,
    progress: Progress | None = None,
    commit_every: int = COMMIT_EVERY,
) -> LoadStats:
    """Write encoded batches, committing now and then.

    Raises:
        DemoLoadError: a row clashes with one already stored.
    """
    stats = LoadStats()
    pending = 0
    transaction = conn.begin()
    lock_journal(conn)
    try:
        for _, count, tables in batches:
            for name, encoded in tables:
                writer.execute(conn, BY_TABLE[name], encoded)
                stats.add(name, count)
                if progress is not None:
                    progress(name, count)
            pending += count
            if pending >= commit_every:
                transaction.commit()
                transaction = conn.begin()
                lock_journal(conn)
                pending = 0
        transaction.commit()
    except (IntegrityError, conn.dialect.loaded_dbapi.IntegrityError) as exc:
        # COPY runs on the driver's cursor, so its errors arrive unwrapped by SQLAlchemy.
        transaction.rollback()
        cause = exc.orig if isinstance(exc, IntegrityError) else exc
        msg = (
            "the demo records clash with records already stored (load the force with a reset, "
            f"or with another seed): {cause}"
        )
        raise DemoLoadError(msg) from exc
    except BaseException:
        transaction.rollback()
        raise
    return stats


def load_force(
    db: Database,
    spec: SizeSpec,
    seed: int,
    *,
    as_of: date | None = None,
    force_code: str = "DEMO",
    reset: bool = False,
    progress: Progress | None = None,
    batch_size: int = DEFAULT_BATCH,
    writer: Writer | None = None,
    parallel: bool | None = None,
) -> LoadStats:
    """Generate a synthetic force and load it into ``db``.

    Args:
        db: the database, its schema already migrated.
        spec: how big a force (see ``SIZES``).
        seed: the same seed, spec and ``as_of`` give the same force, ids included.
        as_of: the force's "today" (default: today, UTC); its history ends the day before.
        force_code: the owning agency of every record.
        reset: empty the record tables, the change log and the force mappings first.
        progress: called with a table name and a row count after each batch.
        batch_size: rows per ``executemany`` or ``COPY``.
        writer: how rows are written (default: the fastest for the database).
        parallel: make the rows in two producer processes (default: for a big force on a
            machine with more than one core).

    Returns:
        Rows written per table and the wall time, reset included.

    Raises:
        DemoLoadError: the records clash with records already stored, or a producer failed.
    """
    started = time.perf_counter()
    plan = Plan(spec, seed, as_of or datetime.now(UTC).date(), force_code)
    if parallel is None:
        parallel = (os.cpu_count() or 1) > 1 and spec.persons + spec.events >= PARALLEL_FROM
    engine = db.engine.execution_options(bluelight_begin="IMMEDIATE")
    with engine.connect() as conn:
        writer = writer or writer_for(target_of(conn))
        if reset:
            with conn.begin():
                reset_records(conn)
        made = (
            parallel_batches(plan, writer.target, batch_size)
            if parallel
            else encoded_batches(plan, writer, STAGES, batch_size)
        )
        stats = write_batches(conn, made, writer, progress=progress)
    stats.seconds = time.perf_counter() - started
    return stats
