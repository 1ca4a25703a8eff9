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
        head_rows = list(session.scalars(select(TreeHead).order_by(TreeHead.tree_size)))
        indexed = {
            (str(s), int(q))
            for s, q in session.execute(select(AuditSubject.subject_id, AuditSubject.seq))
        } if total <= 2_000_000 else None
    if public_key is None and head_rows:
        report.problem("no public key given: tree-head signatures were not checked")
    for h in head_rows:
        message = tree_head_message(h.tree_size, h.root_hash, h.signed_at)
        if public_key is not None and not verify_signature(public_key, message, h.signature):
            report.problem(f"tree head at size {h.tree_size}: the signature does not verify")
    pending = [h for h in head_rows if h.tree_size == 0]
    for h in pending:
        if h.root_hash != Frontier().root():
            report.problem("tree head at size 0: the root is not the empty tree's")
        report.heads_checked += 1
    heads = iter([h for h in head_rows if h.tree_size > 0])
    next_head = next(heads, None)
    frontier = Frontier()
    expected = 0
    after = -1
    while True:
        with db.read() as session:
            rows = list(
                session.scalars(
                    select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq)
                    .limit(PAGE)
                )
            )
        if not rows:
            break
        for e in rows:
            if e.seq != expected:
                if e.seq > expected:
                    report.problem(f"entries {expected}–{e.seq - 1} are missing (deleted?)")
                else:
                    report.problem(f"entry {e.seq} appears out of place")
                expected = e.seq
            computed = leaf_hash(canonical_entry(e.seq, e))
            if computed != e.leaf_hash:
                report.problem(f"entry {e.seq} was altered: its content no longer matches its hash")
            if indexed is not None:
                for subject in dict.fromkeys(e.subject_ids):
                    if (str(subject), e.seq) not in indexed:
                        report.problem(f"entry {e.seq}: subject index lacks {subject}")
            frontier.extend([computed])
            expected += 1
            report.entries += 1
            while next_head is not None and next_head.tree_size == frontier.size:
                if frontier.root() != next_head.root_hash:
                    report.problem(
                        f"tree head at size {next_head.tree_size}: the entries no longer give "
                        "its root (an entry was edited, removed, inserted or moved)"
                    )
                report.heads_checked += 1
                next_head = next(heads, None)
        after = rows[-1].seq
        if progress is not None:
            progress(report.entries, total)
    while next_head is not None:
        report.problem(
            f"tree head at size {next_head.tree_size} covers more entries than the trail "
            f"holds ({frontier.size}): entries were removed"
        )
        next_head = next(heads, None)
    signed = max((h.tree_size for h in head_rows), default=0)
    report.unsigned_tail = max(0, frontier.size - signed)
    report.root_hash = frontier.root().hex()
    return report
