"""Push: applying a device's batch of operations, each at most once.

A batch is one transaction. Its operations' ids are first claimed in the ledger
(``SyncOperation``) in one statement, then each operation is applied in a savepoint of its own
through the records' own write use cases (the same validation, permission checks and audit as
the records API: there is no second write path), and its answer is written into its ledger
entry. So:

- an operation is applied at most once: its id is claimed before it is applied, and an id
  found taken (by an earlier push, or by a push committing at the same moment, which the claim
  waits for) is answered ``duplicate`` with the answer its entry kept; so is an operation sent
  twice in one batch, at its second place;
- a crash anywhere in the batch leaves every operation wholly applied with its ledger entry,
  or neither: the device, which had no answer, sends the batch again;
- one operation refused (``rejected`` or ``conflict``) is rolled back to its savepoint, with
  the events it published, and the rest of the batch goes on.

Answers are sent only once the transaction has committed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Insert, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bluelight.audit import (
    Action,
    Draft,
    Justification,
    Outcome,
    append,
    deferred_entries,
    draft,
)
from bluelight.audit.reasons import justification
from bluelight.changes import RecordChanged, pending
from bluelight.db import Database, lock_journal
from bluelight.identity import Actor
from bluelight.kernel import new_id, utcnow
from bluelight.kernel.errors import BluelightError
from bluelight.kernel.paging import encode_position
from bluelight.kernel.permissions import Permission
from bluelight.records import (
    BY_NAME,
    Deletion,
    Kind,
    RecordError,
    RecordErrorCode,
    conflicting_record_in,
    create_record_in,
    delete_record_in,
    needs_reason,
    update_record_in,
)
from bluelight.sync.errors import SyncError, SyncErrorCode
from bluelight.sync.models import SyncDevice, SyncHolding, SyncOperation
from bluelight.sync.rules import check_shape, held_with, operation_digest
from bluelight.sync.schemas import Operation, OperationResult, PushAnswer, PushBatch

# How each action is named on the audit trail (as the records API names it).
_TRAIL = {
    "create": (Action.COLLECTION, "created"),
    "update": (Action.ALTERATION, "updated"),
    "delete": (Action.ERASURE, "deleted"),
}
_PENDING = "pending"


def _device_ids(actor: Actor) -> tuple[uuid.UUID, uuid.UUID]:
    try:
        return uuid.UUID(actor.user_id), uuid.UUID(actor.device_id or "")
    except ValueError as exc:
        raise SyncError(
            SyncErrorCode.NOT_A_DEVICE,
            "operations are pushed by a signed-in user from a registered device",
        ) from exc


def _reason(op: Operation, why: Justification | None) -> Justification | None:
    if op.reason is None:
        return why
    return justification(op.reason.code, op.reason.text)


def _permitted(actor: Actor, kind: Kind, op: Operation) -> None:
    needed = Permission.RECORD_DELETE if op.action == "delete" else kind.write_permission
    if not actor.may(needed):
        raise SyncError(
            SyncErrorCode.PERMISSION_DENIED,
            f"you may not {op.action} a {kind.name}",
            permission=str(needed),
        )


def _content(target: type[Any], values: dict[str, Any]) -> Any:
    try:
        return msgspec.convert(values, target)
    except msgspec.ValidationError as exc:
        raise SyncError(SyncErrorCode.INVALID_CONTENT, f"content: {exc}") from exc


def _apply(session: Session, kind: Kind, op: Operation, *, actor: Actor, why: Any) -> Any:
    content = op.content or {}
    if op.action == "create":
        data = _content(kind.create, {**content, "id": str(op.record_id)})
        return create_record_in(session, kind, data, actor=actor, why=why)
    if op.action == "update":
        patch = _content(kind.update, {**content, "version": op.base_version})
        return update_record_in(session, kind, op.record_id, patch, actor=actor, why=why)
    deletion = _content(Deletion, {**content, "version": op.base_version})
    return delete_record_in(session, kind, op.record_id, deletion, actor=actor, why=why)


@dataclass(slots=True)
class _Entry:
    """An operation's ledger entry as this push knows it: claimed by it (``fresh``), or left
    by an earlier push (or an earlier place in this batch)."""

    user_id: uuid.UUID
    digest: str
    fresh: bool
    outcome: str = _PENDING
    version: int | None = None
    seq: int | None = None
    problem: dict[str, Any] | None = None


def _claim(
    session: Session,
    batch: PushBatch,
    *,
    user_id: uuid.UUID,
    device_id: uuid.UUID,
) -> dict[uuid.UUID, _Entry]:
    """The ledger entry of each operation of ``batch``, by id: the ids no push had taken are
    claimed for this one in one statement (an insert that leaves a row already there, waiting
    for a push that holds it to commit or roll back); the others are read as they were left."""
    now = utcnow()
    entries: dict[uuid.UUID, _Entry] = {}
    rows = []
    for op in batch.operations:
        if op.id in entries:
            continue  # a second place of one operation: its first place's entry answers it
        digest = operation_digest(op)
        entries[op.id] = _Entry(user_id=user_id, digest=digest, fresh=True)
        rows.append(
            {"id": op.id, "user_id": user_id, "device_id": device_id, "kind": op.kind,
             "action": op.action, "record_id": op.record_id, "base_version": op.base_version,
             "digest": digest, "made_at": op.made_at, "received_at": now, "outcome": _PENDING}
        )  # fmt: skip
    stmt = _insert(session, SyncOperation).on_conflict_do_nothing().returning(SyncOperation.id)
    claimed = {row[0] for row in session.connection().execute(stmt, rows)}
    taken = [op_id for op_id in entries if op_id not in claimed]
    if taken:
        o = SyncOperation
        for row in session.connection().execute(
            select(o.id, o.user_id, o.digest, o.outcome, o.version, o.seq, o.problem).where(
                o.id.in_(taken)
            )
        ):
            entries[row.id] = _Entry(
                user_id=row.user_id,
                digest=row.digest,
                fresh=False,
                outcome=row.outcome,
                version=row.version,
                seq=row.seq,
                problem=row.problem,
            )
    return entries


def _record_answers(session: Session, entries: dict[uuid.UUID, _Entry]) -> None:
    """Write the answer of each operation this push applied or refused into its entry."""
    answered = [
        {"entry_id": op_id, "outcome": e.outcome, "version": e.version, "seq": e.seq,
         "problem": e.problem}
        for op_id, e in entries.items()
        if e.fresh
    ]  # fmt: skip
    if answered:
        o = SyncOperation
        session.connection().execute(
            update(o)
            .where(o.id == bindparam("entry_id"))
            .values(
                outcome=bindparam("outcome"),
                version=bindparam("version"),
                seq=bindparam("seq"),
                problem=bindparam("problem"),
            ),
            answered,
        )


def _conflict(
    session: Session, kind: Kind, op: Operation, *, actor: Actor, why: Justification | None
) -> dict[str, Any] | None:
    """The server's copy of the record a change conflicts with (its read audited)."""
    try:
        with session.begin_nested():
            read = conflicting_record_in(session, kind, op.record_id, actor=actor, why=why)
    except BluelightError:
        return None  # gone from the actor's sight since: the pull tells the device
    return msgspec.to_builtins(read)  # type: ignore[no-any-return]  # a read is a JSON object


def _refused(
    session: Session, op: Operation, exc: BluelightError, *, actor: Actor, why: Any
) -> None:
    """Put a refusal of access on the trail, in the batch's transaction."""
    action, what = _TRAIL[op.action]
    if op.kind == "link" and op.action != "delete":
        action = Action.COMBINATION
    append(
        session,
        [
            draft(
                actor,
                action,
                f"records:{op.kind}:{what}",
                at=utcnow(),
                id=new_id(),
                outcome=Outcome.DENIED,
                subject_type=op.kind,
                subject_ids=[str(op.record_id)],
                why=why if isinstance(why, Justification) else None,
                detail={"code": exc.code, "operation": str(op.id)},
            )
        ],
    )


def _replay(
    session: Session,
    op: Operation,
    entry: _Entry,
    digest: str,
    *,
    actor: Actor,
    user_id: uuid.UUID,
    why: Justification | None,
) -> OperationResult:
    if entry.user_id != user_id:
        # Another user's operation: say nothing of what became of it.
        problem = SyncError(
            SyncErrorCode.OPERATION_ID_TAKEN,
            f"operation id {op.id} is taken: make a new id for a new operation",
        ).problem()
        return OperationResult(id=op.id, status="rejected", problem=problem.document())
    if entry.digest != digest:
        problem = SyncError(
            SyncErrorCode.OPERATION_ID_REUSED,
            f"operation {op.id} was received before with other content, and was not applied "
            "again: a changed operation needs a new id",
        ).problem()
        return OperationResult(id=op.id, status="rejected", problem=problem.document())
    record = None
    if entry.outcome == "conflict":
        # The server's copy again, read and audited again; what is said about a person only
        # with a reason, as at first.
        kind = BY_NAME[op.kind]
        try:
            op_why = _reason(op, why)
        except BluelightError:
            op_why = None
        if op_why is not None or not needs_reason(kind):
            record = _conflict(session, kind, op, actor=actor, why=op_why)
    return OperationResult(
        id=op.id,
        status="duplicate",
        outcome=entry.outcome,  # type: ignore[arg-type]  # stored as one of Outcome's values
        version=entry.version,
        record=record,
        problem=entry.problem,
    )


def _settle(
    session: Session,
    op: Operation,
    entry: _Entry,
    holdings: dict[uuid.UUID, tuple[str, int]],
    deferred: list[Draft],
    *,
    actor: Actor,
    user_id: uuid.UUID,
    why: Justification | None,
) -> tuple[OperationResult, int | None]:
    """Apply one operation, or answer it from its ledger entry; returns its answer and the
    feed place of the change it made (or made before). The records an applied operation
    puts in the user's holdings are added to ``holdings``."""
    if not entry.fresh or entry.outcome != _PENDING:
        # Done before (or earlier in this batch): answer as it was answered then
        replayed = _replay(
            session, op, entry, operation_digest(op), actor=actor, user_id=user_id, why=why
        )
        return replayed, entry.seq if replayed.status == "duplicate" else None
    kind = BY_NAME[op.kind]
    op_why: Any = None
    events = pending(session)
    mark, entries_mark = len(events), len(deferred)
    try:
        check_shape(op)
        op_why = _reason(op, why)
        _permitted(actor, kind, op)
        with session.begin_nested():
            read = _apply(session, kind, op, actor=actor, why=op_why)
    except BluelightError as exc:
        # What the operation published and put on the trail is gone with what it wrote.
        del events[mark:]
        del deferred[entries_mark:]
        if isinstance(exc, RecordError) and exc.code == RecordErrorCode.VERSION_CONFLICT:
            entry.outcome = "conflict"
            entry.version = exc.extra.get("current_version")
            record = _conflict(session, kind, op, actor=actor, why=op_why)
            answer = OperationResult(
                id=op.id, status="conflict", version=entry.version, record=record
            )
            return answer, None
        return _rejected(session, op, entry, exc, actor=actor, why=op_why), None
    entry.outcome = "applied"
    entry.version = read.version
    entry.seq = next(
        (e.seq for e in events[mark:] if isinstance(e, RecordChanged) and e.id == op.record_id),
        None,
    )
    if op.action != "delete" and entry.seq is not None:
        for held_kind, held_id in held_with(kind.name, read):
            holdings.setdefault(held_id, (held_kind, entry.seq))
    return OperationResult(id=op.id, status="applied", version=read.version), entry.seq


def _insert(session: Session, model: Any) -> Any:
    """An insert of ``model`` that can leave or update a row already there (``ON CONFLICT``),
    in this session's dialect."""
    dialect = sqlite if session.connection().dialect.name == "sqlite" else postgresql
    return dialect.insert(model)


def _device_seen(session: Session, device_id: uuid.UUID, user_id: uuid.UUID, **values: Any) -> None:
    """Set ``values`` on the device's sync status, adding it the first time."""
    stmt = _insert(session, SyncDevice).values(device_id=device_id, user_id=user_id, **values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[SyncDevice.device_id], set_={"user_id": user_id, **values}
        )
    )


def note_pulled(db: Database, *, actor: Actor, checkpoint: int) -> None:
    """Keep, for the sync panel, that ``actor``'s device has pulled to ``checkpoint``."""
    user_id, device_id = _device_ids(actor)
    with db.write() as session:
        _device_seen(session, device_id, user_id, last_pull_at=utcnow(), checkpoint=checkpoint)


def _hold(session: Session, user_id: uuid.UUID, holdings: dict[uuid.UUID, tuple[str, int]]) -> None:
    """Take records into the user's holdings, each with the feed place of the change that
    brought it (those held already stay as they were): an insert that leaves a row already
    there, so two devices of one user pushing at once never clash on it."""
    if not holdings:
        return
    now = utcnow()
    rows = [
        {"user_id": user_id, "entity_id": rid, "entity_type": kind, "added_seq": seq,
         "added_at": now}
        for rid, (kind, seq) in holdings.items()
    ]  # fmt: skip
    stmt: Insert = _insert(session, SyncHolding).on_conflict_do_nothing()
    session.connection().execute(stmt, rows)


def _rejected(
    session: Session,
    op: Operation,
    entry: _Entry,
    exc: BluelightError,
    *,
    actor: Actor,
    why: Any,
) -> OperationResult:
    problem = exc.problem().document()
    problem["op"] = str(op.id)
    entry.outcome = "rejected"
    entry.problem = problem
    if exc.refused_access:
        _refused(session, op, exc, actor=actor, why=why)
    return OperationResult(id=op.id, status="rejected", problem=problem)


def push(
    db: Database, batch: PushBatch, *, actor: Actor, why: Justification | None = None
) -> PushAnswer:
    """Apply a device's batch of operations, in order, each at most once.

    ``why`` (the request's reason) stands for each operation that gives none of its own.

    Raises:
        SyncError: NOT_A_DEVICE (the actor is not a user on a device). Nothing about one
            operation raises: each is answered in the result.
        AuditError: AUDIT_UNAVAILABLE (nothing was applied).
    """
    user_id, device_id = _device_ids(actor)
    results: list[OperationResult] = []
    places: list[int] = []
    with db.write() as session:
        # The journals' lock first, before any row: a batch takes it at its first change
        # anyway, and two batches that changed the same records in other orders would
        # otherwise each hold a row the other waits for while one waits for the lock (a
        # deadlock on PostgreSQL; SQLite's one writer has none).
        lock_journal(session.connection())
        entries = _claim(session, batch, user_id=user_id, device_id=device_id)
        holdings: dict[uuid.UUID, tuple[str, int]] = {}
        # Every entry of the batch (changes, refusals, conflicts' copies) goes on the trail in
        # one append at the end of the batch, in the order they were made.
        with deferred_entries(session) as deferred:
            for op in batch.operations:
                result, seq = _settle(
                    session,
                    op,
                    entries[op.id],
                    holdings,
                    deferred,
                    actor=actor,
                    user_id=user_id,
                    why=why,
                )
                results.append(result)
                if seq is not None:
                    places.append(seq)
        _record_answers(session, entries)
        _hold(session, user_id, holdings)
        _device_seen(session, device_id, user_id, last_push_at=utcnow(), outbox=batch.outbox)
    checkpoint = encode_position(max(places)) if places else None
    return PushAnswer(results=results, checkpoint=checkpoint)


__all__ = ["note_pulled", "push"]
