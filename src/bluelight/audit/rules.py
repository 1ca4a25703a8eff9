"""What an audit entry holds, and its one canonical encoding (the Merkle tree's leaf).

Pure: the kinds of processing audited (after the Data Protection Act 2018 Part 3 logging
duty, s.62: collection, alteration, consultation, disclosure, combination, erasure), plus
sign-in and administration; the draft of an entry; and the bytes an entry is hashed as.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import msgspec

MAX_REASON_TEXT = 500
MAX_SUBJECTS = 500
MAX_RECIPIENTS = 50


class Action(StrEnum):
    """The kind of processing an entry records."""

    COLLECTION = "collection"
    ALTERATION = "alteration"
    CONSULTATION = "consultation"
    DISCLOSURE = "disclosure"
    COMBINATION = "combination"
    ERASURE = "erasure"
    AUTHENTICATION = "authentication"
    ADMINISTRATION = "administration"


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


@runtime_checkable
class Who(Protocol):
    """Whoever acted: an ``identity.Actor`` fits, as does anything with these attributes."""

    @property
    def user_id(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def agency(self) -> str: ...
    @property
    def device_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Platform:
    """The platform acting on its own: a command run on the server's shell, as ``who``."""

    agency: str
    user_id: str = "system"
    username: str = "system"
    device_id: str | None = "cli"


@dataclass(frozen=True, slots=True)
class Justification:
    """Why personal data is looked at or disclosed: a code from the national list and text."""

    code: str
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Draft:
    """An audit entry before it has its place (``seq``) in the trail."""

    action: Action
    tag: str
    outcome: Outcome
    user_id: str
    username: str
    agency: str
    device_id: str | None
    at: datetime
    id: uuid.UUID
    subject_type: str | None = None
    subject_ids: tuple[str, ...] = ()
    reason_code: str | None = None
    reason_text: str | None = None
    recipients: tuple[str, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)


def draft(
    who: Who,
    action: Action,
    tag: str,
    *,
    at: datetime,
    id: uuid.UUID,
    outcome: Outcome = Outcome.ALLOWED,
    subject_type: str | None = None,
    subject_ids: tuple[str, ...] | list[str] = (),
    why: Justification | None = None,
    recipients: tuple[str, ...] | list[str] = (),
    detail: dict[str, Any] | None = None,
) -> Draft:
    """A draft entry for ``who`` doing ``action``, bounded so one entry stays small."""
    return Draft(
        action=action,
        tag=tag,
        outcome=outcome,
        user_id=who.user_id,
        username=who.username[:64],
        agency=who.agency,
        device_id=who.device_id,
        at=at,
        id=id,
        subject_type=subject_type,
        subject_ids=tuple(str(s) for s in subject_ids[:MAX_SUBJECTS]),
        reason_code=why.code if why else None,
        reason_text=why.text[:MAX_REASON_TEXT] if why and why.text else None,
        recipients=tuple(recipients[:MAX_RECIPIENTS]),
        detail=detail or {},
    )


def timestamp(at: datetime) -> str:
    """An instant as RFC 3339 UTC to the millisecond: the one form entries are hashed with."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_encoder = msgspec.json.Encoder(order="sorted")


def canonical_entry(seq: int, e: Any) -> bytes:
    """The bytes of entry ``seq``: sorted-key compact JSON of every field.

    ``e`` is a ``Draft`` or a stored row (same attribute names). The leaf is
    SHA-256(0x00 ‖ these bytes); any change to any field, or to its place, changes it.
    """
    return _encoder.encode(
        {
            "seq": seq,
            "id": str(e.id),
            "at": timestamp(e.at),
            "action": str(e.action),
            "tag": e.tag,
            "outcome": str(e.outcome),
            "actor": {
                "user_id": e.user_id if isinstance(e, Draft) else e.actor_user_id,
                "username": e.username if isinstance(e, Draft) else e.actor_username,
                "agency": e.agency,
                "device_id": e.device_id,
            },
            "subject_type": e.subject_type,
            "subject_ids": list(e.subject_ids),
            "reason_code": e.reason_code,
            "reason_text": e.reason_text,
            "recipients": list(e.recipients),
            "detail": e.detail,
        }
    )


def tree_head_message(tree_size: int, root_hash: bytes, signed_at: datetime) -> bytes:
    """The bytes an Ed25519 tree-head signature covers."""
    return (
        f"bluelight-audit-tree-head:v1\n{tree_size}\n{root_hash.hex()}\n{timestamp(signed_at)}\n"
    ).encode()
