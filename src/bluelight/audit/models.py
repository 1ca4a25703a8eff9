"""The audit trail: one row per audited act, the subjects it touched, and signed tree heads.

Rows are only ever inserted. ``seq`` is the entry's leaf index in the Merkle tree (dense, from
0, assigned under a lock so commit order and leaf order agree); ``leaf_hash`` is
SHA-256(0x00 ‖ canonical entry), kept so proofs are served without re-encoding every entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from bluelight.db import Base

SEQ = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntry(Base):
    """One audited act: who (user, agency, device), what, to whom, when, why, and the outcome."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_actor_at", "actor_user_id", "at"),
        Index("ix_audit_entries_at", "at"),
    )

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    id: Mapped[uuid.UUID] = mapped_column(unique=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(20))
    tag: Mapped[str] = mapped_column(String(60))
    outcome: Mapped[str] = mapped_column(String(10))
    actor_user_id: Mapped[str] = mapped_column(String(40))
    actor_username: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str] = mapped_column(String(10))
    device_id: Mapped[str | None] = mapped_column(String(40))
    subject_type: Mapped[str | None] = mapped_column(String(20))
    subject_ids: Mapped[list[Any]]
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason_text: Mapped[str | None] = mapped_column(String(500))
    recipients: Mapped[list[Any]]
    detail: Mapped[dict[str, Any]]
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditSubject(Base):
    """An index row: this entry touched this subject (so "who looked at X" is one lookup)."""

    __tablename__ = "audit_subjects"

    subject_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)


class TreeHead(Base):
    """A signed statement of the tree's size and root at a moment (Ed25519)."""

    __tablename__ = "audit_tree_heads"

    tree_size: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signed_at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
