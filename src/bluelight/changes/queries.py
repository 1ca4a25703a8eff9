"""Reading the change log as a feed: the changes after a cursor that a reader may see."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, or_, select

from bluelight.changes.models import ChangeLogEntry
from bluelight.kernel.paging import CursorError, decode_position, encode_position

MAX_FEED_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Change:
    """One change as the feed hands it out."""

    seq: int
    entity_type: str
    entity_id: uuid.UUID
    version: int
    action: str
    changed_at: datetime
    changed_by: str
    snapshot: dict[str, Any]
    owner_agency: str
    classification: str
    restricted: bool


@dataclass(frozen=True, slots=True)
class FeedPage:
    """A page of the feed and the cursor to continue from.

    ``cursor`` continues after the last change the reader was shown (it is the cursor given
    when there was nothing new for them). ``more`` says another page is waiting.
    """

    changes: list[Change]
    cursor: str
    more: bool


@dataclass(frozen=True, slots=True)
class Visibility:
    """What a reader may see of the feed: their agency's changes, classified within their
    clearance; restricted ones only where ``restricted_shown`` holds (a condition on
    ``ChangeLogEntry`` the records feature builds from its grants), else none at all."""

    agency: str
    classifications: Collection[str]
    restricted_shown: ColumnElement[bool] | None = None
    kinds: Collection[str] | None = None


def _columns() -> tuple[Any, ...]:
    c = ChangeLogEntry
    return (
        c.seq,
        c.entity_type,
        c.entity_id,
        c.version,
        c.action,
        c.changed_at,
        c.changed_by,
        c.snapshot,
        c.owner_agency,
        c.classification,
        c.restricted,
    )


def read_feed(
    conn: Connection, *, cursor: str | None, limit: int, visibility: Visibility
) -> FeedPage:
    """The changes after ``cursor`` (from the beginning without one) that ``visibility``
    lets its reader see, oldest first, at most ``limit``.

    A change that takes a record out of the reader's sight (restricting it, or classifying it
    above their clearance) is not in their feed, since the change itself is then kept from
    them. Sync must still tell a device holding the record to drop it: the visibility columns
    of each change are what it decides that from.

    Raises:
        CursorError: the cursor is not one this server made.
        ValueError: ``limit`` outside 1 to ``MAX_FEED_PAGE``.
    """
    if not 1 <= limit <= MAX_FEED_PAGE:
        msg = f"a feed page holds 1 to {MAX_FEED_PAGE} changes"
        raise ValueError(msg)
    after = decode_position(cursor) if cursor else 0
    c = ChangeLogEntry
    restricted: ColumnElement[bool] = c.restricted.is_(False)
    if visibility.restricted_shown is not None:
        restricted = or_(restricted, visibility.restricted_shown)
    stmt = (
        select(*_columns())
        .where(
            c.seq > after,
            c.owner_agency == visibility.agency,
            c.classification.in_(list(visibility.classifications)),
            restricted,
        )
        .order_by(c.seq)
        .limit(limit + 1)
    )
    if visibility.kinds is not None:
        stmt = stmt.where(c.entity_type.in_(list(visibility.kinds)))
    rows = conn.execute(stmt).all()
    more = len(rows) > limit
    changes = [Change(*row) for row in rows[:limit]]
    last = changes[-1].seq if changes else after
    return FeedPage(changes=changes, cursor=encode_position(last), more=more)


__all__ = ["MAX_FEED_PAGE", "Change", "CursorError", "FeedPage", "Visibility", "read_feed"]
