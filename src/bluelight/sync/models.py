"""The operation ledger: every operation a device pushed, and the answer it was given."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bluelight.db import Base


class SyncOperation(Base):
    """One operation a device pushed, remembered for good by the id the device made for it.

    The ledger is what makes a push safe to repeat: an operation whose id is here is never
    applied again, and its replay is answered with the outcome kept here (``outcome``,
    ``version``, ``problem``). ``digest`` is the SHA-256 of the operation as first sent, so
    the same id sent with other content is told apart from a replay and refused. It is
    written in the transaction that applies the operation, so the ledger and the records
    never disagree: a crash leaves both, or neither.

    ``made_at`` is the device's clock as reported (kept, never trusted for order);
    ``received_at`` and ``seq`` (the change-log place of an applied change) are the server's.
    No personal data is kept here: a conflict's server copy is read again when asked.
    """

    __tablename__ = "sync_operations"
    __table_args__ = (Index("ix_sync_operations_device_received", "device_id", "received_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(index=True)
    device_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(10))
    record_id: Mapped[uuid.UUID]
    base_version: Mapped[int | None]
    digest: Mapped[str] = mapped_column(String(64))
    made_at: Mapped[datetime | None]
    received_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(10))
    version: Mapped[int | None]
    seq: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    problem: Mapped[dict[str, Any] | None]
