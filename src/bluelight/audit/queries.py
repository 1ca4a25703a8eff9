"""The questions auditors ask, and the proofs the trail gives.

"Who looked at this person, when and why" is one request: entries by subject, newest first.
Entries can also be searched by user, action, outcome and time, and exported whole.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from bluelight.audit.errors import AuditError, AuditErrorCode
from bluelight.audit.merkle import consistency_proof, inclusion_proof, root_from_leaf_hashes
from bluelight.audit.models import AuditEntry, AuditSubject, TreeHead
from bluelight.audit.schemas import (
    ConsistencyProof,
    EntryPage,
    EntryRead,
    InclusionProof,
    TreeHeadRead,
)
from bluelight.audit.services import tree_head_read
from bluelight.db import Database

MAX_PROOF_TREE = 5_000_000


@dataclass(frozen=True, slots=True)
class EntryFilter:
    """What to look for; every field is optional and they combine with AND."""

    subject: str | None = None
    user: str | None = None
    action: str | None = None
    outcome: str | None = None
    tag: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # An agency's auditors see their own agency's entries; the platform's CLI sees all.
    agency: str | None = None


def entry_read(e: AuditEntry) -> EntryRead:
    return EntryRead(
        seq=e.seq,
        id=e.id,
        at=e.at,
        action=e.action,
        tag=e.tag,
        outcome=e.outcome,
        user_id=e.actor_user_id,
        username=e.actor_username,
        agency=e.agency,
        device_id=e.device_id,
        subject_type=e.subject_type,
        subject_ids=list(e.subject_ids),
        reason_code=e.reason_code,
        reason_text=e.reason_text,
        recipients=list(e.recipients),
        detail=dict(e.detail),
        leaf_hash=e.leaf_hash.hex(),
    )


def _filtered(f: EntryFilter) -> Select[Any]:
    stmt: Any = select(AuditEntry)
    if f.subject:
        stmt = stmt.join(AuditSubject, AuditSubject.seq == AuditEntry.seq).where(
            AuditSubject.subject_id == f.subject
        )
    if f.user:
        # A user is found by id or by username, whichever the auditor has.
        try:
            stmt = stmt.where(AuditEntry.actor_user_id == str(uuid.UUID(f.user)))
        except ValueError:
            stmt = stmt.where(AuditEntry.actor_username == f.user.lower())
    if f.action:
        stmt = stmt.where(AuditEntry.action == f.action)
    if f.outcome:
        stmt = stmt.where(AuditEntry.outcome == f.outcome)
    if f.tag:
        stmt = stmt.where(AuditEntry.tag == f.tag)
    if f.since:
        stmt = stmt.where(AuditEntry.at >= f.since)
    if f.until:
        stmt = stmt.where(AuditEntry.at < f.until)
    if f.agency:
        stmt = stmt.where(AuditEntry.agency == f.agency)
    if f.since and f.until and f.until <= f.since:
        raise AuditError(AuditErrorCode.INVALID_QUERY, "until must be after since")
    return stmt  # type: ignore[no-any-return]  # a Select of AuditEntry


def search(db: Database, f: EntryFilter, *, before: int | None, limit: int) -> EntryPage:
    """Entries matching ``f``, newest first; ``before`` is the cursor (a ``seq``).

    Raises:
        AuditError: INVALID_QUERY.
    """
    stmt = _filtered(f)
    if before is not None:
        stmt = stmt.where(AuditEntry.seq < before)
    stmt = stmt.order_by(AuditEntry.seq.desc()).limit(limit + 1)
    with db.read() as session:
        rows = list(session.scalars(stmt))
        # Convert inside the session: its rollback at the end expires every loaded row.
        items = [entry_read(e) for e in rows[:limit]]
    more = len(rows) > limit
    return EntryPage(items=items, next_cursor=str(items[-1].seq) if more and items else None)


EXPORT_PAGE = 5_000


def export(db: Database, f: EntryFilter) -> Iterator[EntryRead]:
    """Every entry matching ``f``, oldest first, read a page at a time.

    Raises:
        AuditError: INVALID_QUERY.
    """
    # The filter is checked now: a generator would raise only after the response had begun.
    return _pages(db, _filtered(f))


def _pages(db: Database, base: Select[Any]) -> Iterator[EntryRead]:
    after = -1
    while True:
        with db.read() as session:
            rows = list(
                session.scalars(
                    base.where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(EXPORT_PAGE)
                )
            )
            reads = [entry_read(e) for e in rows]
        if not reads:
            return
        yield from reads
        after = reads[-1].seq


def get_entry(db: Database, seq: int, *, agency: str | None = None) -> EntryRead:
    """One entry by its place in the trail (of ``agency``, when given).

    Raises:
        AuditError: ENTRY_NOT_FOUND.
    """
    with db.read() as session:
        entry = session.get(AuditEntry, seq)
        if entry is None or (agency is not None and entry.agency != agency):
            raise AuditError(AuditErrorCode.ENTRY_NOT_FOUND, f"no audit entry {seq}")
        return entry_read(entry)


def tree_size(db: Database) -> int:
    with db.read() as session:
        last = session.execute(select(AuditEntry.seq).order_by(AuditEntry.seq.desc())).first()
    return 0 if last is None else int(last[0]) + 1


def latest_head(db: Database) -> TreeHeadRead | None:
    """The most recent signed tree head, if any was signed."""
    with db.read() as session:
        head = session.scalars(select(TreeHead).order_by(TreeHead.tree_size.desc())).first()
        return tree_head_read(head) if head else None


def heads(db: Database) -> list[TreeHeadRead]:
    """Every signed tree head, smallest first."""
    with db.read() as session:
        return [
            tree_head_read(h)
            for h in session.scalars(select(TreeHead).order_by(TreeHead.tree_size))
        ]


def _leaf_hashes(db: Database, size: int) -> list[bytes]:
    if size > MAX_PROOF_TREE:
        raise AuditError(
            AuditErrorCode.TREE_SIZE_OUT_OF_RANGE,
            f"proofs are served for trees of at most {MAX_PROOF_TREE}",
        )
    with db.read() as session:
        hashes = list(
            session.scalars(
                select(AuditEntry.leaf_hash).where(AuditEntry.seq < size).order_by(AuditEntry.seq)
            )
        )
    if len(hashes) != size:
        raise AuditError(
            AuditErrorCode.TREE_SIZE_OUT_OF_RANGE, f"the trail holds fewer than {size} entries"
        )
    return hashes


def _size_in_range(size: int, current: int, name: str) -> None:
    if size < 0 or size > current:
        raise AuditError(
            AuditErrorCode.TREE_SIZE_OUT_OF_RANGE,
            f"{name} must be between 0 and the trail's size, {current}",
            tree_size=current,
        )


def prove_inclusion(db: Database, seq: int, size: int | None) -> InclusionProof:
    """An RFC 9162 inclusion proof of entry ``seq`` in the tree of ``size`` entries.

    Raises:
        AuditError: ENTRY_NOT_FOUND, TREE_SIZE_OUT_OF_RANGE.
    """
    current = tree_size(db)
    size = current if size is None else size
    _size_in_range(size, current, "tree_size")
    if seq < 0 or seq >= size:
        raise AuditError(AuditErrorCode.ENTRY_NOT_FOUND, f"no entry {seq} in a tree of {size}")
    hashes = _leaf_hashes(db, size)
    return InclusionProof(
        seq=seq,
        tree_size=size,
        leaf_hash=hashes[seq].hex(),
        root_hash=root_from_leaf_hashes(hashes).hex(),
        proof=[h.hex() for h in inclusion_proof(seq, hashes)],
    )


def prove_consistency(db: Database, first: int, second: int | None) -> ConsistencyProof:
    """An RFC 9162 proof that the tree of ``first`` entries is a prefix of ``second``'s.

    Raises:
        AuditError: TREE_SIZE_OUT_OF_RANGE.
    """
    current = tree_size(db)
    second = current if second is None else second
    _size_in_range(second, current, "second")
    _size_in_range(first, second, "first")
    hashes = _leaf_hashes(db, second)
    return ConsistencyProof(
        first=first,
        second=second,
        first_root=root_from_leaf_hashes(hashes[:first]).hex(),
        second_root=root_from_leaf_hashes(hashes).hex(),
        proof=[h.hex() for h in consistency_proof(first, hashes)],
    )
