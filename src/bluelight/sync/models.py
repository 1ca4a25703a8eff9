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


class SyncHolding(Base):
    """A record a user's devices hold: their own work, and what it refers to.

    A device is not sent the whole force: only the records its user made or changed from a
    device, and the records those refer to (an event's place, a link's two ends, a marker's
    subject), with the warning markers on any of them. ``added_seq`` is the change-log place
    at which the record was taken into the user's holding, so a pull that began before it
    sends nothing of it, and the first pull after it sends the record whole, however old.
    """

    __tablename__ = "sync_holdings"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(20))
    added_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    added_at: Mapped[datetime]


class SyncDevice(Base):
    """How a device stands with sync, for the administrators' sync panel: when it last pushed
    and pulled, the checkpoint it pulled to, and the backlog its outbox last reported."""

    __tablename__ = "sync_devices"

    device_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID]
    last_push_at: Mapped[datetime | None]
    last_pull_at: Mapped[datetime | None]
    checkpoint: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    outbox: Mapped[int | None]
