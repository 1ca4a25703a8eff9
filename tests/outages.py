"""Outages a test can switch on: parts of the database that stop answering as a lost
connection would, whatever code path reaches them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError, OperationalError

from bluelight.db import Database


class TrailSwitch:
    """Takes the audit trail down: while ``down``, every insert of an audit entry fails as an
    unreachable database would, whichever path writes it (a read's group commit, a batch of
    reads, a write's own transaction)."""

    def __init__(self, db: Database) -> None:
        self.down = False
        self._engine = db.engine
        event.listen(self._engine, "before_cursor_execute", self._check)

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._check)

    def _check(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self.down and "INSERT INTO audit_entries" in statement:
            raise OperationalError(statement[:40], {}, RuntimeError("the audit trail is down"))


def _driver_error(
    dialect: str, message: str, *, sqlite_code: int, sqlstate: str | None
) -> Exception:
    """The exception the database driver itself raises when the database is gone."""
    if dialect == "sqlite":
        import sqlite3

        error = sqlite3.OperationalError(message)
        error.sqlite_errorcode = sqlite_code  # type: ignore[attr-defined]  # set by sqlite3 itself on a real failure
        return error
    import psycopg
    from psycopg import errors

    if sqlstate is None:
        return psycopg.OperationalError(message)
    return errors.lookup(sqlstate)(message)  # type: ignore[no-any-return]


class DatabaseSwitch:
    """Takes the whole database down, as a server that died or a network that dropped does:
    while ``down``, opening a connection is refused, a pooled connection is found dead when it
    is checked out (as the pool's pre-ping finds it), and a statement on a connection already
    out fails as the connection drops. The errors are the driver's own (SQLite: the file
    cannot be opened, an I/O error; PostgreSQL: connection refused, the server terminating
    the connection), raised where the driver raises them, so SQLAlchemy wraps them as it
    wraps real ones. Up again, the pool opens fresh connections and everything works."""

    def __init__(self, db: Database) -> None:
        self.down = False
        self._engine = db.engine
        self._dialect = db.dialect
        self._listeners = (
            ("do_connect", self._connect),
            ("checkout", self._checkout),
            ("before_cursor_execute", self._execute),
        )
        for name, fn in self._listeners:
            event.listen(self._engine, name, fn)

    def close(self) -> None:
        for name, fn in self._listeners:
            event.remove(self._engine, name, fn)

    def _connect(self, *_: Any) -> None:
        if self.down:
            raise _driver_error(
                self._dialect,
                "connection refused: is the server running and accepting connections?",
                sqlite_code=14,  # SQLITE_CANTOPEN
                sqlstate=None,
            )

    def _checkout(self, *_: Any) -> None:
        if self.down:
            raise DisconnectionError("the connection was lost while it sat in the pool")

    def _execute(self, *_: Any) -> None:
        if self.down:
            raise _driver_error(
                self._dialect,
                "terminating connection due to administrator command",
                sqlite_code=10,  # SQLITE_IOERR
                sqlstate="57P01",  # admin_shutdown
            )
