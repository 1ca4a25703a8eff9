"""Writing the audit trail: entries in the caller's transaction, by group commit, tree heads.

Entries take their place (``seq``, the leaf index) under a lock held to the end of the
transaction that writes them (``db.lock_journal``): on SQLite every writer already holds the
database's write lock, on PostgreSQL a transaction-scoped advisory lock is taken. So leaf
order is commit order, the indices have no gaps, and an entry is never visible before the ones
before it.

A read of personal data must not reach the reader before its consultation is on disk. Doing
that one commit per read would cap the server at the disk's commit rate, so reads hand their
entries to an ``AuditWriter`` that commits whatever is waiting in one transaction (group
commit) and releases each reader once its entry is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bluelight.audit.errors import AuditError, AuditErrorCode
from bluelight.audit.merkle import EMPTY_ROOT, leaf_hash, node_hash
from bluelight.audit.models import AuditEntry, AuditSubject, TreeHead
from bluelight.audit.rules import Draft, canonical_entry, tree_head_message
from bluelight.audit.schemas import TreeHeadRead
from bluelight.db import Database, insert_rows, lock_journal_then
from bluelight.kernel import utcnow
from bluelight.kernel.batching import settle
from bluelight.kernel.crypto import SigningKey

log = logging.getLogger("bluelight.audit")

MAX_BATCH = 512


# Built once: entries are appended on every audited read, and building a statement costs more
# than running it. Core, not the ORM session: the rows are plain inserts.
_NEXT_SEQ = select(func.coalesce(func.max(AuditEntry.seq) + 1, 0))
_ENTRIES: Table = AuditEntry.__table__  # type: ignore[assignment]
_SUBJECTS: Table = AuditSubject.__table__  # type: ignore[assignment]


def _next_seq(conn: Connection) -> int:
    return int(lock_journal_then(conn, _NEXT_SEQ))


def append(session: Session | Connection, drafts: Sequence[Draft]) -> list[int]:
    """Append ``drafts`` to the trail inside the caller's write transaction.

    Call it last in the transaction, just before commit: the lock it takes is held until then.
    Returns the entries' places (``seq``) in the trail; none yet on a session whose entries
    are deferred (``deferred_entries``), where they wait to be appended together.
    """
    if not drafts:
        return []
    if isinstance(session, Session):
        waiting: list[Draft] | None = session.info.get(_DEFERRED)
        if waiting is not None:
            waiting.extend(drafts)
            return []
    conn = session.connection() if isinstance(session, Session) else session
    first = _next_seq(conn)
    entries: list[dict[str, Any]] = []
    subjects: list[dict[str, Any]] = []
    for offset, d in enumerate(drafts):
        seq = first + offset
        entries.append(
            {
                "seq": seq,
                "id": d.id,
                "at": d.at,
                "action": str(d.action),
                "tag": d.tag,
                "outcome": str(d.outcome),
                "actor_user_id": d.user_id,
                "actor_username": d.username,
                "agency": d.agency,
                "device_id": d.device_id,
                "subject_type": d.subject_type,
                "subject_ids": list(d.subject_ids),
                "reason_code": d.reason_code,
                "reason_text": d.reason_text,
                "recipients": list(d.recipients),
                "detail": d.detail,
                "leaf_hash": leaf_hash(canonical_entry(seq, d)),
            }
        )
        subjects.extend({"subject_id": s, "seq": seq} for s in dict.fromkeys(d.subject_ids))
    insert_rows(conn, (_ENTRIES, entries), (_SUBJECTS, subjects))
    return list(range(first, first + len(drafts)))


_DEFERRED = "bluelight_audit_deferred"


@contextlib.contextmanager
def deferred_entries(session: Session) -> Iterator[list[Draft]]:
    """Within the block, the entries appended on ``session`` wait in the list it yields, and
    are appended together, in order, when the block ends without an error: for a use case
    that makes many changes in one transaction (a sync batch), one trip to the trail instead
    of one a change. Entries of a part rolled back to a savepoint are taken out of the list
    by whoever rolled it back. Raised out of the block, nothing is appended (the transaction
    is rolled back with it)."""
    waiting: list[Draft] = []
    session.info[_DEFERRED] = waiting
    try:
        yield waiting
    finally:
        session.info.pop(_DEFERRED, None)
    append(session, waiting)


def record(db: Database, *drafts: Draft) -> list[int]:
    """Append ``drafts`` in a transaction of their own (for acts that change nothing else)."""
    with db.write_connection() as conn:
        return append(conn, drafts)


class _Waiting:
    """Readers on one event loop waiting for entries of a batch: told together, with one
    wake-up of their loop, once the batch is committed (or has failed)."""

    __slots__ = ("futures", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.futures: list[tuple[asyncio.Future[int], int | BaseException]] = []

    def settle(self) -> None:
        for future, outcome in self.futures:
            settle(future, outcome)


# Who waits for an entry: a thread (a concurrent future) or a coroutine on an event loop.
_Waiter = Future[int] | tuple[asyncio.AbstractEventLoop, "asyncio.Future[int]"]


class AuditWriter:
    """Group commit for entries that accompany reads: one transaction for all that wait.

    ``write`` blocks its caller until the entry is committed; if the commit fails, the caller
    gets ``AuditError(AUDIT_UNAVAILABLE)`` and must not release the data. ``write_async``
    waits on the event loop instead; the coroutines of one loop waiting on one batch are woken
    together, once.
    """

    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Draft, _Waiter] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._kept = db.kept_writer()  # the writer thread's own

    @property
    def db(self) -> Database:
        return self._db

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="bluelight-audit-writer", daemon=True
                )
                self._thread.start()

    def _put(self, draft: Draft, waiter: _Waiter) -> None:
        if self._thread is None:
            self._start()
        self._queue.put((draft, waiter))

    def submit(self, draft: Draft) -> Future[int]:
        """Queue ``draft``; the future resolves to its ``seq`` once it is committed."""
        future: Future[int] = Future()
        self._put(draft, future)
        return future

    def write(self, draft: Draft) -> int:
        """Append ``draft`` and wait until it is durable.

        Raises:
            AuditError: AUDIT_UNAVAILABLE when it could not be committed.
        """
        try:
            return int(self.submit(draft).result())
        except AuditError:
            raise
        except Exception as exc:
            raise _unavailable() from exc

    async def write_async(self, draft: Draft) -> int:
        """``write`` for code on the event loop.

        Raises:
            AuditError: AUDIT_UNAVAILABLE when it could not be committed.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._put(draft, (loop, future))
        try:
            return await future
        except AuditError:
            raise
        except Exception as exc:
            raise _unavailable() from exc

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                break
            batch = [item]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._settle(batch, self._commit(batch))
            if stop:
                break
        self._kept.close()

    def _commit(self, batch: list[tuple[Draft, _Waiter]]) -> list[int | BaseException]:
        """Each entry's place in the trail, or why it could not be written."""
        try:
            return list(self._append([d for d, _ in batch]))
        except Exception:
            if len(batch) == 1:
                log.exception("an audit entry could not be written")
                return [AuditError(AuditErrorCode.AUDIT_UNAVAILABLE, "the entry was not written")]
            # One bad entry must not fail the readers it happened to share a batch with:
            # write each on its own, so only the bad one's reader is refused.
            log.warning("an audit batch of %d failed; writing its entries one by one", len(batch))
            return [self._commit([item])[0] for item in batch]

    @staticmethod
    def _settle(batch: list[tuple[Draft, _Waiter]], outcomes: list[int | BaseException]) -> None:
        loops: dict[asyncio.AbstractEventLoop, _Waiting] = {}
        for (_, waiter), outcome in zip(batch, outcomes, strict=True):
            if isinstance(waiter, Future):
                if isinstance(outcome, BaseException):
                    waiter.set_exception(outcome)
                else:
                    waiter.set_result(outcome)
                continue
            loop, future = waiter
            waiting = loops.get(loop)
            if waiting is None:
                waiting = loops[loop] = _Waiting(loop)
            waiting.futures.append((future, outcome))
        for waiting in loops.values():
            with contextlib.suppress(RuntimeError):  # a loop closed meanwhile
                waiting.loop.call_soon_threadsafe(waiting.settle)

    def _append(self, drafts: list[Draft]) -> list[int]:
        """One transaction on the writer's own connection, kept between batches."""
        with self._kept.use() as conn:
            return append(conn, drafts)

    def close(self) -> None:
        """Commit what is queued, then stop the thread (a later write starts it again)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join(timeout=30)


def _unavailable() -> AuditError:
    return AuditError(
        AuditErrorCode.AUDIT_UNAVAILABLE,
        "the audit trail could not be written, so the request was not carried out",
    )


class Frontier:
    """The roots of the complete subtrees of a growing tree: enough to extend it and find its
    root without reading any earlier leaf again."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[bytes] = []

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        for h in leaf_hashes:
            self._stack.append(h)
            self.size += 1
            merged = self.size
            while merged & 1 == 0:
                right = self._stack.pop()
                self._stack[-1] = node_hash(self._stack[-1], right)
                merged >>= 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        root = self._stack[-1]
        for h in reversed(self._stack[:-1]):
            root = node_hash(h, root)
        return root


PAGE = 50_000


def extend_frontier(session: Session, frontier: Frontier, up_to: int | None = None) -> None:
    """Read the leaf hashes after ``frontier.size`` (to ``up_to``) and fold them in."""
    while True:
        stmt = (
            select(AuditEntry.leaf_hash)
            .where(AuditEntry.seq >= frontier.size)
            .order_by(AuditEntry.seq)
            .limit(PAGE if up_to is None else min(PAGE, up_to - frontier.size))
        )
        if up_to is not None and frontier.size >= up_to:
            return
        hashes = list(session.scalars(stmt))
        if not hashes:
            return
        frontier.extend(hashes)


class TreeSigner:
    """Signs tree heads, keeping the tree's frontier between signings so each signing reads
    only the entries added since the last."""

    def __init__(self, db: Database, key: SigningKey) -> None:
        self._db = db
        self._key = key
        self._frontier = Frontier()
        self._lock = threading.Lock()

    @property
    def key(self) -> SigningKey:
        return self._key

    def sign_if_grown(self) -> TreeHeadRead | None:
        """Sign a new head only if entries were added since the last one."""
        with self._db.read() as session:
            last = session.execute(select(func.max(TreeHead.tree_size))).scalar()
            size = session.execute(
                select(func.coalesce(func.max(AuditEntry.seq) + 1, 0))
            ).scalar_one()
        if last is not None and size <= last:
            return None
        return self.sign()

    def sign(self) -> TreeHeadRead:
        """Sign the tree as it stands now (or return the head already signed at this size)."""
        with self._lock, self._db.read() as session:
            extend_frontier(session, self._frontier)
            size, root = self._frontier.size, self._frontier.root()
        signed_at = utcnow()
        signature = self._key.sign(tree_head_message(size, root, signed_at))
        head = TreeHead(
            tree_size=size,
            root_hash=root,
            signed_at=signed_at,
            key_id=self._key.key_id,
            signature=signature,
        )
        try:
            with self._db.write() as session:
                session.add(head)
        except IntegrityError:
            # Another process signed this size first; its head says the same thing.
            with self._db.read() as session:
                existing = session.get(TreeHead, size)
                if existing is None:
                    raise
                return tree_head_read(existing)
        return tree_head_read(head)


def tree_head_read(head: TreeHead) -> TreeHeadRead:
    return TreeHeadRead(
        tree_size=head.tree_size,
        root_hash=head.root_hash.hex(),
        signed_at=head.signed_at,
        key_id=head.key_id,
        signature=head.signature.hex(),
    )
