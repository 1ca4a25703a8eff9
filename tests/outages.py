"""Outages a test can switch on: parts of the database that stop answering as a lost
connection would, whatever code path reaches them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

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
        if (
            self.down
            and "audit_entries" in statement
            and statement.lstrip().upper().startswith(("INSERT", "COPY"))
        ):
            raise OperationalError(statement[:40], {}, RuntimeError("the audit trail is down"))
