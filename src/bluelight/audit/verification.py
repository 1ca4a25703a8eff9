"""``bluelight audit verify``: recompute the whole trail and compare it with what was signed.

Each entry is re-encoded from its columns and hashed: an edited entry no longer matches its
stored leaf hash, or, if the hash was recomputed to hide the edit, no longer matches the
root of every signed tree head that covers it. Places must run 0, 1, 2 … without a gap or a
repeat, so a deleted or inserted entry shows; a reordered one changes the roots. Each signed
head's Ed25519 signature is checked against the server's public key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from bluelight.audit.merkle import leaf_hash
from bluelight.audit.models import AuditEntry, AuditSubject, TreeHead
from bluelight.audit.rules import canonical_entry, tree_head_message
from bluelight.audit.services import Frontier
from bluelight.db import Database
from bluelight.kernel.crypto import verify_signature

PAGE = 20_000
MAX_PROBLEMS = 1_000


@dataclass(slots=True)
class Report:
    """What verification found."""

    entries: int = 0
    heads_checked: int = 0
    unsigned_tail: int = 0
    root_hash: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)


def _check_signatures(heads: list[TreeHead], public_key: bytes | None, report: Report) -> None:
    if public_key is None and heads:
        report.problem("no public key given: tree-head signatures were not checked")
        return
    for h in heads:
        message = tree_head_message(h.tree_size, h.root_hash, h.signed_at)
        if public_key is not None and not verify_signature(public_key, message, h.signature):
            report.problem(f"tree head at size {h.tree_size}: the signature does not verify")


class _Walk:
    """The state of one pass over the entries, in order."""

    def __init__(self, heads: list[TreeHead], indexed: set[tuple[str, int]] | None) -> None:
        self.frontier = Frontier()
        self.expected = 0
        self.indexed = indexed
        self.heads = iter(heads)
        self.next_head = next(self.heads, None)

    def entry(self, e: AuditEntry, report: Report) -> None:
        if e.seq != self.expected:
            if e.seq > self.expected:
                report.problem(f"entries {self.expected} to {e.seq - 1} are missing (deleted?)")
            else:
                report.problem(f"entry {e.seq} appears out of place")
            self.expected = e.seq
        computed = leaf_hash(canonical_entry(e.seq, e))
        if computed != e.leaf_hash:
            report.problem(f"entry {e.seq} was altered: its content no longer matches its hash")
        if self.indexed is not None:
            for subject in dict.fromkeys(e.subject_ids):
                if (str(subject), e.seq) not in self.indexed:
                    report.problem(f"entry {e.seq}: the subject index lacks {subject}")
        self.frontier.extend([computed])
        self.expected += 1
        report.entries += 1
        self.heads_reached(report)

    def heads_reached(self, report: Report) -> None:
        while self.next_head is not None and self.next_head.tree_size == self.frontier.size:
            if self.frontier.root() != self.next_head.root_hash:
                report.problem(
                    f"tree head at size {self.next_head.tree_size}: the entries no longer give "
                    "its root (an entry was edited, removed, inserted or moved)"
                )
            report.heads_checked += 1
            self.next_head = next(self.heads, None)

    def finish(self, report: Report) -> None:
        while self.next_head is not None:
            report.problem(
                f"tree head at size {self.next_head.tree_size} covers more entries than the "
                f"trail holds ({self.frontier.size}): entries were removed"
            )
            self.next_head = next(self.heads, None)


MAX_INDEX_CHECK = 2_000_000


def verify(
    db: Database,
    public_key: bytes | None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Check every entry and every signed tree head.

    ``public_key`` is the raw Ed25519 key heads were signed with (None skips signatures, and
    says so). ``progress(done, total)`` is called after each page.
    """
    report = Report()
    with db.read() as session:
        total = int(session.execute(select(func.count()).select_from(AuditEntry)).scalar_one())
        heads = list(session.scalars(select(TreeHead).order_by(TreeHead.tree_size)))
        indexed = (
            {
                (str(s), int(q))
                for s, q in session.execute(select(AuditSubject.subject_id, AuditSubject.seq))
            }
            if total <= MAX_INDEX_CHECK
            else None
        )
        # Keep what was read: the read session's rollback would otherwise expire it.
        session.expunge_all()
    _check_signatures(heads, public_key, report)
    walk = _Walk(heads, indexed)
    walk.heads_reached(report)
    after = -1
    while True:
        with db.read() as session:
            rows = list(
                session.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.seq > after)
                    .order_by(AuditEntry.seq)
                    .limit(PAGE)
                )
            )
            session.expunge_all()
        if not rows:
            break
        for e in rows:
            walk.entry(e, report)
        after = rows[-1].seq
        if progress is not None:
            progress(report.entries, total)
    walk.finish(report)
    signed = max((h.tree_size for h in heads), default=0)
    report.unsigned_tail = max(0, walk.frontier.size - signed)
    report.root_hash = walk.frontier.root().hex()
    return report
