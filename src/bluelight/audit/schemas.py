"""Boundary types of the audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime

from msgspec import Struct


class EntryRead(Struct, kw_only=True):
    """One audit entry as an auditor reads it."""

    seq: int
    id: uuid.UUID
    at: datetime
    action: str
    tag: str
    outcome: str
    user_id: str
    username: str
    agency: str
    device_id: str | None
    subject_type: str | None
    subject_ids: list[str]
    reason_code: str | None
    reason_text: str | None
    recipients: list[str]
    detail: dict[str, object]
    leaf_hash: str


class EntryPage(Struct, kw_only=True):
    items: list[EntryRead]
    next_cursor: str | None = None


class TreeHeadRead(Struct, kw_only=True):
    """A signed tree head: the trail's size and Merkle root, signed with Ed25519 (hex)."""

    tree_size: int
    root_hash: str
    signed_at: datetime
    key_id: str
    signature: str


class SigningKeyRead(Struct, kw_only=True):
    """The public key tree heads are signed with (raw Ed25519, hex)."""

    key_id: str
    algorithm: str
    public_key: str


class InclusionProof(Struct, kw_only=True):
    """RFC 9162 inclusion proof of entry ``seq`` in the tree of ``tree_size`` (hashes hex)."""

    seq: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    proof: list[str]


class ConsistencyProof(Struct, kw_only=True):
    """RFC 9162 consistency proof that tree ``first`` is a prefix of tree ``second``."""

    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]
