"""Writing the change log: one row per change to a record, numbered in commit order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from bluelight.changes.models import ChangeLogEntry
from bluelight.db import lock_journal

_INSERT = insert(ChangeLogEntry).returning(ChangeLogEntry.seq)


def log_change(
    session: Session | Connection,
    *,
    entity_type: str,
    entity_id: uuid.UUID,
    version: int,
    action: str,
    changed_at: datetime,
    changed_by: str,
    snapshot: dict[str, Any],
    owner_agency: str,
    classification: str,
    restricted: bool,
    reason: str | None = None,
) -> int:
    """Append one change inside the caller's write transaction; returns its place (``seq``).

    The journal lock (``db.lock_journal``) is taken first and held to the end of the
    transaction, so places are handed out in commit order: a feed reader that has seen a
    place never finds a lower one appear after it.
    """
    conn = session.connection() if isinstance(session, Session) else session
    lock_journal(conn)
    seq = conn.execute(
        _INSERT,
        {
            "entity_type": entity_type,
            "entity_id": entity_id,
            "version": version,
            "action": action,
            "changed_at": changed_at,
            "changed_by": changed_by,
            "reason": reason,
            "snapshot": snapshot,
            "owner_agency": owner_agency,
            "classification": classification,
            "restricted": restricted,
        },
    ).scalar_one()
    return int(seq)
