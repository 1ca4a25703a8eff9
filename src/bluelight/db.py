"""Engine, sessions, SQLite pragmas, durability checks, shared column types, the journal lock.

The same schema runs on SQLite (the embedded default) and PostgreSQL. Both are configured so
that a write acknowledged to a client survives a crash: SQLite in WAL mode with
``synchronous=FULL``, PostgreSQL with ``fsync`` and ``synchronous_commit`` on.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import uuid
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    DateTime,
    Dialect,
    Engine,
    Float,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    TypeDecorator,
    Uuid,
    any_,
    bindparam,
    case,
    create_engine,
    event,
    func,
    literal_column,
    null,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_SYNCHRONOUS = {"OFF": 0, "NORMAL": 1, "FULL": 2, "EXTRA": 3}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002  (SQLAlchemy's signature)
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetimes are not stored: give a timezone"
            raise ValueError(msg)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002  (same)
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# A missing document is SQL NULL, not the JSON text null, so "IS NULL" finds it.
JSONDocument = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class Base(DeclarativeBase):
    """The declarative base of every table, with constraint names Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSONDocument,
        list[Any]: JSONDocument,
    }


# pg_advisory_xact_lock key: "BLAUDIT" read as a number; any constant the app owns will do.
JOURNAL_LOCK_KEY = 0x424C4155444954
_LOCK_JOURNAL = text("SELECT pg_advisory_xact_lock(:key)")


def lock_journal(conn: Connection) -> None:
    """Hold the journals (the audit trail and the change log) until this transaction ends.

    A journal's sequence must be its commit order: a reader that has seen entry N must never
    later find an entry below N committed after it (sync pull would skip it for good). SQLite
    has one writer, which holds the database from its ``BEGIN IMMEDIATE``; on PostgreSQL every
    transaction that writes a journal takes this lock before it does, so they number and commit
    their entries one after the other. Taking it again in the same transaction is free.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_JOURNAL, {"key": JOURNAL_LOCK_KEY})


def lock_journal_then(conn: Connection, query: Select[Any]) -> Any:
    """``lock_journal``, then ``query``'s one value (read once the lock is held).

    On PostgreSQL the two go to the database as one message of two statements (the simple
    query protocol, ``query``'s values written into it): one trip instead of two, and one
    driver call, on the path of every audited read. The database runs them in order, each
    under a snapshot taken when it starts, so the query sees everything committed by
    whoever held the lock before.
    """
    if conn.dialect.name != "postgresql":
        lock_journal(conn)
        return conn.execute(query).scalar_one()
    sql = f"SELECT pg_advisory_xact_lock({JOURNAL_LOCK_KEY}); {_literal_sql(query, conn.dialect)}"
    raw: Any = conn.connection.driver_connection
    try:
        with raw.cursor() as cursor:
            cursor.execute(sql)
            cursor.nextset()
            row = cursor.fetchone()
    except raw.Error as exc:
        # As SQLAlchemy reports a driver's error: wrapped, the connection invalidated if the
        # error says it is gone (so the outage is a 503, and the pool opens a fresh one)
        gone = conn.dialect.is_disconnect(exc, raw, None)
        if gone:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            sql, None, exc, type(exc), connection_invalidated=gone, dialect=conn.dialect
        ) from exc
    return row[0]


@cache
def _literal_sql(query: Select[Any], dialect: Dialect) -> str:
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


# SQLite's primary result codes for a database that cannot be used right now, as opposed to a
# statement that is wrong (SQLITE_ERROR, 1, which also reports "no such table"): busy past
# the busy timeout, an I/O error, a full disk, a file that cannot be opened.
SQLITE_UNAVAILABLE = frozenset({5, 10, 13, 14})
# PostgreSQL's SQLSTATEs for a connection refused, lost or shut down: class 08 (connection
# exception), too many connections, and the server shutting down or starting up (57P01 is
# what pg_terminate_backend sends).
POSTGRESQL_UNAVAILABLE = frozenset({"53300", "57P01", "57P02", "57P03"})


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached or used right now (the request may
    succeed if tried again later), rather than that the statement or the code is wrong.

    Reached: a connection lost (SQLAlchemy invalidated it), refused or never made; no
    connection free in the pool in time; on SQLite, the file busy, unreadable or full.
    """
    if isinstance(exc, PoolTimeoutError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    driver_error = exc.orig
    sqlite_code = getattr(driver_error, "sqlite_errorcode", None)
    if not isinstance(exc, OperationalError | InterfaceError):
        unavailable = False
    elif isinstance(sqlite_code, int):
        unavailable = sqlite_code & 0xFF in SQLITE_UNAVAILABLE
    elif hasattr(driver_error, "sqlstate"):
        # psycopg: no SQLSTATE at all is an error of the client's connection itself (refused,
        # closed, lost); the server's own say so by their state.
        state = getattr(driver_error, "sqlstate", None)
        unavailable = (
            state is None or str(state).startswith("08") or state in POSTGRESQL_UNAVAILABLE
        )
    else:
        unavailable = False
    return unavailable


class DurabilityError(RuntimeError):
    """The database is configured so that an acknowledged write could be lost."""


def _install_sqlite_hooks(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook emit BEGIN itself, so writers can ask for IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the write lock when it begins, not half way through, so two writers
        # never deadlock on a lock upgrade. An autocommit connection begins nothing: each
        # statement is its own transaction.
        mode = connection.get_execution_options().get("bluelight_begin", "DEFERRED")
        if mode is not None:
            statement = f"BEGIN {mode}"
            try:
                connection.connection.driver_connection.execute(statement)
            except sqlite3.OperationalError as exc:
                # Raised here, the driver's error would reach no handler of SQLAlchemy's: wrap
                # it as SQLAlchemy would, so a write lock not had in time (the file busy) is
                # an unavailable database (503 with Retry-After), not a server error.
                raise OperationalError(statement, None, exc) from exc


def _decode_json(text: str | bytes) -> Any:
    """JSON columns read back with msgspec: every record read decodes several (names, marks,
    identifiers), and msgspec does it several times faster than the standard library."""
    return msgspec.json.decode(text)


def _encode_json(value: Any) -> str:
    """JSON columns written with msgspec, for the same reason: every audited read writes an
    entry with three (its subjects, recipients and detail)."""
    return msgspec.json.encode(value).decode()


class _UuidList(TypeDecorator[list[uuid.UUID]]):
    """Ids bound as one JSON array of the text SQLite holds them as (``Uuid``: 32 hex digits)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str:  # noqa: ARG002  (SQLAlchemy's signature)
        return msgspec.json.encode([v.hex for v in value]).decode()


def among(column: Any, name: str, item_type: Any, dialect: str) -> Any:
    """``column`` is one of the values bound as ``name`` (a list of ``item_type``), with a
    statement that is the same however many values are asked: on PostgreSQL one array
    parameter (``= ANY``); on SQLite, ids as one JSON array (``IN json_each``), and other
    values as an expanding ``IN`` (re-rendered, and each value bound, on every execution)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(item_type)))
    if isinstance(item_type, Uuid):
        ids = func.json_each(bindparam(name, type_=_UuidList())).table_valued("value")
        return column.in_(select(ids.c.value))
    return column.in_(bindparam(name, expanding=True))


# json_build_object takes at most 100 arguments on PostgreSQL: 50 names and values.
MAX_DOCUMENT_COLUMNS = 50


def _json_ready(column: Any, dialect: str) -> Any:
    """``column`` in the form ``json_rows`` puts it in each object."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        if dialect == "postgresql":
            return func.to_char(
                func.timezone(_sql("'UTC'"), column), _sql("""'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'""")
            )
        # SQLite holds an instant as UTC text, "YYYY-MM-DD HH:MM:SS.ffffff"
        return func.replace(column, _sql("' '"), _sql("'T'")).concat(_sql("'Z'"))
    if dialect == "sqlite" and isinstance(kind, JSON):
        return func.json(column)
    if dialect == "sqlite" and isinstance(kind, Float):
        # SQLite's JSON writes a real to 15 significant digits, which loses the last of a
        # double's: 17 (printf's "!" lifts its own cap of 16) read back as the same double.
        return case(
            (column.is_(None), null()), else_=func.json(func.printf(_sql("'%!.17g'"), column))
        )
    if dialect == "sqlite" and isinstance(kind, Boolean):
        return func.json(
            case((column.is_(True), _sql("'true'")), (column.is_(False), _sql("'false'")))
        )
    return column


def _sql(constant: str) -> Any:
    return literal_column(constant, String)


def json_rows(columns: Sequence[Any], dialect: str) -> Any:
    """An aggregate holding every row a statement finds as one JSON array of objects, each
    object ``columns`` by name, in the forms msgspec decodes straight into a struct: ids and
    dates as text, instants as RFC 3339 UTC, documents as JSON, booleans as booleans. In no
    particular order (an aggregate's order is not SQL's to promise).

    For the reads on the path of every check: the database builds the array in one step,
    and msgspec decodes it into structs in one call, where fetching rows one by one costs a
    round of the driver each (and a hand-over of the interpreter lock, on a worker thread)
    and SQLAlchemy's result processing calls Python for every id, instant and document.
    """
    if len(columns) > MAX_DOCUMENT_COLUMNS:
        msg = f"{len(columns)} columns in one document: at most {MAX_DOCUMENT_COLUMNS}"
        raise ValueError(msg)
    pairs: list[Any] = []
    for column in columns:
        if not column.name.isidentifier():
            msg = f"a document's names are identifiers, not {column.name!r}"
            raise ValueError(msg)
        pairs += [literal_column(f"'{column.name}'"), _json_ready(column, dialect)]
    if dialect == "postgresql":
        rows = func.json_agg(func.json_build_object(*pairs))
        return func.coalesce(rows, _sql("'[]'::json")).cast(String)
    return func.json_group_array(func.json_object(*pairs), type_=String)


@cache
def _plain_row(keys: tuple[str, ...]) -> Any:
    return namedtuple("PlainRow", keys)


def plain_rows(result: Any) -> Iterable[Any]:
    """``result``'s rows as plain named tuples: the same fields by name, read at the cost of a
    tuple's (a SQLAlchemy row finds a field by name only after ordinary attribute lookup has
    failed, which costs more than the rest of the work a hot path does with the field)."""
    make = _plain_row(tuple(result.keys()))._make
    return map(make, result)


# Rows of one INSERT on SQLite (its statements take at most 32,766 parameters).
ROWS_PER_INSERT = 128


@dataclass(frozen=True, slots=True)
class _InsertPlan:
    head: str
    row: str
    columns: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]

    def sql(self, rows: int) -> str:
        return f"{self.head} VALUES {', '.join([self.row] * rows)}"


@cache
def _insert_plan(table: Table, dialect: Dialect) -> _InsertPlan:
    quote = dialect.identifier_preparer.quote
    columns = tuple(c.name for c in table.columns)
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    head = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(c) for c in columns)})"
    )
    processors = tuple(c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.columns)
    return _InsertPlan(head, f"({', '.join([marker] * len(columns))})", columns, processors)


Rows = Sequence[Mapping[str, Any]]


def insert_rows(conn: Connection, *batches: tuple[Table, Rows]) -> None:
    """Insert each batch's rows (a value for every column of its table, by name) through the
    driver, in the order given:

    - on PostgreSQL, every batch in one statement (one trip to the database): each table's
      rows as one JSON array, which the database turns back into rows
      (``json_populate_recordset``), encoded by msgspec in one call;
    - on SQLite, up to ``ROWS_PER_INSERT`` rows in one statement, each value made ready for
      the database by its column's own type as SQLAlchemy does it.

    What is stored is what ``insert(table)`` stores; what is left out is SQLAlchemy's handling
    of each row's parameters, which costs more than the insert on the path that writes an
    audit entry for every read. Instants must be timezone-aware (as ``UTCDateTime`` asks).
    """
    batches = tuple((table, rows) for table, rows in batches if rows)
    if not batches:
        return
    if conn.dialect.name == "postgresql":
        sql = _json_insert(tuple(table for table, _ in batches), conn.dialect)
        conn.exec_driver_sql(sql, tuple(_json_array(table, rows) for table, rows in batches))
        return
    for table, rows in batches:
        _insert_sqlite(conn, table, rows)


def _insert_sqlite(conn: Connection, table: Table, rows: Rows) -> None:
    plan = _insert_plan(table, conn.dialect)
    # Column by column: one pass of a C loop for each, not a Python step for each value
    columns = [
        [row[c] for row in rows] if p is None else list(map(p, [row[c] for row in rows]))
        for c, p in zip(plan.columns, plan.processors, strict=True)
    ]
    values = list(zip(*columns, strict=True))
    for start in range(0, len(values), ROWS_PER_INSERT):
        chunk = values[start : start + ROWS_PER_INSERT]
        conn.exec_driver_sql(plan.sql(len(chunk)), tuple(v for row in chunk for v in row))


@cache
def _json_insert(tables: tuple[Table, ...], dialect: Dialect) -> str:
    """One statement inserting each table's rows from a JSON array parameter: the last an
    INSERT, the others data-modifying ``WITH`` parts of it (run in the same statement)."""
    parts = []
    for table in tables:
        name = dialect.identifier_preparer.format_table(table)
        columns = ", ".join(dialect.identifier_preparer.quote(c.name) for c in table.columns)
        parts.append(
            f"INSERT INTO {name} ({columns}) SELECT {columns} "
            f"FROM json_populate_recordset(NULL::{name}, %s::json)"
        )
    *first, last = parts
    head = ", ".join(f"w{i} AS ({part})" for i, part in enumerate(first))
    return f"WITH {head} {last}" if head else last


@cache
def _columns_of(table: Table, kind: type) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns if isinstance(c.type, kind))


def _json_array(table: Table, rows: Rows) -> str:
    """``rows`` as the JSON ``json_populate_recordset`` reads: bytes as bytea's hex text (JSON
    has no bytes, and msgspec's base64 is not bytea's input); ids, instants and documents as
    msgspec writes them.

    Raises:
        ValueError: a naive instant (as ``UTCDateTime`` refuses it).
    """
    for c in _columns_of(table, UTCDateTime):
        if any(row[c] is not None and row[c].tzinfo is None for row in rows):
            msg = "naive datetimes are not stored: give a timezone"
            raise ValueError(msg)
    binary = _columns_of(table, LargeBinary)
    if binary:
        rows = [
            {**row, **{c: None if row[c] is None else "\\x" + row[c].hex() for c in binary}}
            for row in rows
        ]
    return msgspec.json.encode(rows).decode()


# Seconds a new PostgreSQL connection may take, unless the URL says (libpq's connect_timeout).
CONNECT_TIMEOUT_SECONDS = 5


def make_engine(url: str, *, sqlite_synchronous: str = "FULL", echo: bool = False) -> Engine:
    """An engine for ``url`` with Bluelight's connection settings.

    A SQLite file's folder is created if missing.
    """
    parsed = make_url(url)
    common: dict[str, Any] = {
        "echo": echo,
        "pool_size": 20,
        "max_overflow": 20,
        "json_serializer": _encode_json,
        "json_deserializer": _decode_json,
    }
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # The connection used last comes back first: SQLite resets a connection's page cache
        # when another has written, and the one that wrote last has the warm one.
        engine = create_engine(url, pool_use_lifo=True, **common)
        _install_sqlite_hooks(engine, sqlite_synchronous)
        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # A server that does not answer (a host gone, a network dropping packets) is then a
        # 503 within seconds, not a request hanging for the system's TCP timeout
        parsed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_SECONDS)})
    url = parsed.render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, **common)


def durability_problems(engine: Engine) -> list[str]:
    """What, in the running database's settings, could lose an acknowledged write."""
    problems: list[str] = []
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            level = conn.exec_driver_sql("PRAGMA synchronous").scalar()
            if level is not None and int(level) < SQLITE_SYNCHRONOUS["FULL"]:
                problems.append(
                    f"SQLite synchronous is {level} (below FULL): set "
                    "BLUELIGHT_SQLITE_SYNCHRONOUS=FULL"
                )
        elif engine.dialect.name == "postgresql":
            for name in ("fsync", "synchronous_commit"):
                value = conn.execute(text(f"SHOW {name}")).scalar()
                if str(value).lower() == "off":
                    problems.append(
                        f"PostgreSQL {name} is off: set {name} = on in postgresql.conf "
                        "(and remove any per-role, per-database or connection override)"
                    )
    return problems


# A kept connection idle for longer than this is checked again (the pool's pre-ping) before
# it is used: one that works back to back is used as it is.
KEPT_IDLE_SECONDS = 1.0


class KeptConnection:
    """One connection a worker keeps between its rounds, for the work on the path of every
    request (a round of reads, a batch of audit entries): checking a connection out of the
    pool costs a round trip to the database (the pre-ping that finds dead ones) and more
    Python than the statements it is for.

    ``use`` lends it to one caller at a time; a caller that finds it lent out gets a
    connection from the pool instead. One idle for more than ``KEPT_IDLE_SECONDS`` goes back
    to the pool and another is checked out (and so pinged) in its place; one whose use
    failed goes back to the pool too (one found dead is discarded there), and the next use
    checks one out, so a database that went away costs the rounds in flight, not the ones
    after it came back. ``close`` gives it back for good.
    """

    def __init__(self, engine: Engine, *, transaction: bool) -> None:
        self._engine = engine
        self._transaction = transaction
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._used = 0.0

    @contextmanager
    def use(self) -> Iterator[Connection]:
        """The connection: in a transaction committed at the end of the block if this keeps
        one for transactions (rolled back if the block raises), else as its engine gives it."""
        if not self._lock.acquire(blocking=False):
            with self._fresh() as conn:
                yield conn
            return
        try:
            if self._conn is not None and time.monotonic() - self._used > KEPT_IDLE_SECONDS:
                self._give_back()
            conn = self._conn if self._conn is not None else self._engine.connect()
            self._conn = conn
            try:
                if self._transaction:
                    with conn.begin():
                        yield conn
                else:
                    yield conn
                    conn.rollback()  # ends what the block began; none on an autocommit engine
            except BaseException:
                self._give_back()
                raise
            finally:
                self._used = time.monotonic()
        finally:
            self._lock.release()

    def _give_back(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    @contextmanager
    def _fresh(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            if self._transaction:
                with conn.begin():
                    yield conn
            else:
                yield conn

    def close(self) -> None:
        """Give the connection back to the pool (waiting for a caller using it to finish)."""
        with self._lock:
            self._give_back()


class Database:
    """The engine plus the two ways in: a read session and a write transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader = sessionmaker(engine, expire_on_commit=False, autoflush=False)
        # SQLite's driver already runs in autocommit mode (BEGIN is ours to send, see the
        # "begin" hook); PostgreSQL's is switched to it (an attribute, not a round trip).
        self._autocommit_engine = (
            engine.execution_options(bluelight_begin=None)
            if engine.dialect.name == "sqlite"
            else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        # The engine for write transactions: on SQLite they take the write lock at BEGIN.
        self.write_engine = engine.execution_options(bluelight_begin="IMMEDIATE")
        self._writer = sessionmaker(self.write_engine, expire_on_commit=False, autoflush=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def session_factories(self) -> tuple[sessionmaker[Session], ...]:
        """The factories of this database's read and write sessions (to listen to them)."""
        return (self._reader, self._writer)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; whatever it holds is rolled back at the end."""
        with self._reader() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A Core connection for one read statement, run as its own transaction: no BEGIN
        and no ROLLBACK around it (one database call instead of three, one round trip on
        PostgreSQL). For lookups on every request, such as a token's session."""
        with self._autocommit_engine.connect() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A Core connection for lean reads; whatever it began is rolled back at the end."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed if the block succeeds, rolled back if it raises."""
        with self._writer() as session, session.begin():
            yield session

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """``write`` for Core statements: one transaction on a plain connection, without the
        ORM session's bookkeeping (for hot paths that only insert)."""
        with self.write_engine.begin() as conn:
            yield conn

    def kept_reader(self) -> KeptConnection:
        """A ``KeptConnection`` for lean reads, each statement its own transaction (as
        ``autocommit``)."""
        return KeptConnection(self._autocommit_engine, transaction=False)

    def kept_writer(self) -> KeptConnection:
        """A ``KeptConnection`` for write transactions (as ``write_connection``)."""
        return KeptConnection(self.write_engine, transaction=True)

    def dispose(self) -> None:
        self.engine.dispose()
