"""The change log: one row per change to a record, in commit order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from bluelight.db import Base


class ChangeLogEntry(Base):
    """One change to one record, in commit order.

    The sequence is each record's history, the feed device sync pulls from (changes since a
    cursor) and the source of real-time push. ``snapshot`` is the record as it stood after the
    change, so history never depends on the live row. ``owner_agency``, ``classification`` and
    ``restricted`` are the record's as the change left it, so the feed is filtered by who may
    see each change without reading the record.
    """

    __tablename__ = "change_log"
    __table_args__ = (
        Index("ix_change_log_entity", "entity_type", "entity_id", "version"),
        Index("ix_change_log_owner_agency_seq", "owner_agency", "seq"),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[uuid.UUID]
    version: Mapped[int]
    action: Mapped[str] = mapped_column(String(10))
    changed_at: Mapped[datetime]
    changed_by: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(String(500))
    snapshot: Mapped[dict[str, Any]]
    owner_agency: Mapped[str] = mapped_column(String(10))
    classification: Mapped[str] = mapped_column(String(30), server_default="OFFICIAL")
    restricted: Mapped[bool] = mapped_column(server_default=false())
