"""Boundary types of device sync: a pushed batch of operations and the answer to each."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

# A device sends what it has captured since it was last connected, in batches of at most
# this many operations (the app sends fewer; a bigger backlog goes in several batches).
MAX_OPERATIONS = 500

KindName = Literal["person", "vehicle", "property", "location", "event", "link", "marker"]
ActionName = Literal["create", "update", "delete"]
Outcome = Literal["applied", "conflict", "rejected"]
Status = Literal["applied", "duplicate", "conflict", "rejected"]
Version = Annotated[int, Meta(ge=1, le=2_147_483_647)]


class OperationReason(Struct, kw_only=True, forbid_unknown_fields=True):
    """Why the officer made this change (the reason the audit trail keeps with it)."""

    code: Annotated[str, Meta(min_length=1, max_length=40)]
    text: Annotated[str, Meta(min_length=1, max_length=500)]


class Operation(Struct, kw_only=True, forbid_unknown_fields=True):
    """One change made on a device, to be applied on the server at most once.

    ``id`` is made on the device (a UUIDv7) when the change is made, and sent unchanged with
    every retry. ``content`` is what the records API takes for the action: a create's fields
    (the record's ``id`` is ``record_id``), an update's changed fields (``null`` clears one),
    a delete's ``{"reason": …}``. ``base_version`` is the version the change was made on (an
    update's or a delete's; none for a create). ``made_at`` is the device's clock, kept as
    reported. ``reason`` is this change's reason; without one, the request's reason headers
    stand for every operation of the batch.
    """

    id: uuid.UUID
    kind: KindName
    action: ActionName
    record_id: uuid.UUID
    base_version: Version | None = None
    content: dict[str, Any] | None = None
    made_at: Annotated[datetime, Meta(tz=True)] | None = None
    reason: OperationReason | None = None


class PushBatch(Struct, kw_only=True, forbid_unknown_fields=True):
    """Operations a device pushes, in the order it made them."""

    operations: Annotated[list[Operation], Meta(min_length=1, max_length=MAX_OPERATIONS)]
    # How many operations are still waiting on the device after these (for the sync panel).
    outbox: Annotated[int, Meta(ge=0, le=1_000_000)] | None = None


class OperationResult(Struct, kw_only=True, omit_defaults=True):
    """The answer to one operation.

    ``applied``: done now, ``version`` is the record's new version. ``duplicate``: done
    before, and ``outcome`` (with ``version`` or ``problem``) is the answer it had then.
    ``conflict``: the record changed on the server since ``base_version``; ``record`` is the
    server's copy, to resolve on the device. ``rejected``: ``problem`` says why (problem+json,
    with its stable ``code``), and nothing was applied.
    """

    id: uuid.UUID
    status: Status
    outcome: Outcome | None = None
    version: int | None = None
    record: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None


class PushAnswer(Struct, kw_only=True):
    """The answers, in the order of the operations, and the write checkpoint.

    ``checkpoint`` is the place in the change feed that holds every change this batch's
    operations made (new or earlier): a device applies a pull only once the pull has reached
    it, so it always sees its own writes. ``null`` when no operation changed anything.
    """

    results: list[OperationResult]
    checkpoint: str | None


# Records in one page of a pull; a device asks for the next page until the checkpoint.
MAX_PULL = 500
DEFAULT_PULL = 200


class PulledRecord(Struct, kw_only=True, omit_defaults=True):
    """A record as the device must now hold it: ``record`` (its state at the pull's
    checkpoint), or ``removed`` (deleted, or no longer the user's to see: the device drops
    it, and is told nothing more of it)."""

    kind: str
    id: uuid.UUID
    record: dict[str, Any] | None = None
    removed: bool = False


class PullPage(Struct, kw_only=True):
    """One page of a pull.

    A device keeps the pages of a pull aside until the one that carries ``checkpoint``, then
    applies them all at once and keeps the checkpoint as the cursor of its next pull: so it
    never shows part of a server transaction. ``cursor`` asks for the next page of the same
    pull (every page shows the same committed state); ``checkpoint`` is ``null`` until the last.
    """

    records: list[PulledRecord]
    cursor: str
    checkpoint: str | None


class SyncDeviceRead(Struct, kw_only=True):
    """A device of the agency as the sync panel shows it.

    ``behind``: changes in the server's log since the checkpoint it last pulled to (not all of
    them its to hold). ``outbox``: operations waiting on it, as it last reported.
    ``operations`` and ``rejected``: what it has pushed, and how many were refused.
    """

    id: uuid.UUID
    name: str
    last_user: str
    last_seen_at: datetime
    revoked_at: datetime | None
    last_push_at: datetime | None
    last_pull_at: datetime | None
    behind: int | None
    outbox: int | None
    operations: int
    rejected: int


class RejectedOperation(Struct, kw_only=True):
    """An operation the server refused, as the sync panel lists it: what it was and why,
    without its content."""

    id: uuid.UUID
    device_id: uuid.UUID | None
    user_id: uuid.UUID
    kind: str
    action: str
    record_id: uuid.UUID
    made_at: datetime | None
    received_at: datetime
    code: str
    title: str
