"""Pull: the records a user's device must hold, as they stood at a checkpoint.

A pull reads the change log up to a place fixed by its first page (``upto``: every change up
to it is committed, since places are handed out in commit order), so all its pages show one
committed state of the server, and the device applies them together at the last page's
checkpoint. It sends, for each record in the user's holdings (``SyncHolding``, and the warning
markers on them) that changed since the device's last checkpoint or was taken into the holdings
since, the record's latest state up to ``upto``: only the latest, since the device needs what
is, not the history.

Whether the user may see each record is decided now, against the live record (its agency,
classification, restriction and, for a link or a marker, what it is about), not by the state
the change left it in: a record restricted or deleted since is sent as ``removed``, with none of
its content. What is sent goes out through the one audited door: its consultation is on the
trail, with the reason, before the page leaves.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Integer,
    String,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from bluelight.audit import Action
from bluelight.audit.door import Act, Disclosure
from bluelight.changes.models import ChangeLogEntry
from bluelight.db import Database
from bluelight.identity import Actor
from bluelight.identity.queries import list_devices
from bluelight.kernel.paging import CursorError, encode_position
from bluelight.records import BY_NAME, REASON_KINDS, visible_ids
from bluelight.sync.errors import SyncError, SyncErrorCode
from bluelight.sync.models import SyncDevice, SyncHolding, SyncOperation
from bluelight.sync.rules import decode_cursor, encode_span
from bluelight.sync.schemas import (
    PulledRecord,
    PullPage,
    RejectedOperation,
    SyncDeviceRead,
)

PULL_ACT = Act(Action.CONSULTATION, "sync:records:pulled")


def _user(actor: Actor) -> uuid.UUID:
    try:
        return uuid.UUID(actor.user_id)
    except ValueError as exc:
        raise SyncError(
            SyncErrorCode.NOT_A_DEVICE, "records are pulled by a signed-in user's device"
        ) from exc


def _wanted(user_id: uuid.UUID, after: int, upto: int) -> CompoundSelect[str, uuid.UUID]:
    """(kind, id) of every record this pull sends: held records and the markers on them that
    changed in (after, upto], and those taken into the holdings in (after, upto]."""
    c = ChangeLogEntry
    marker: Any = BY_NAME["marker"].model
    held = select(SyncHolding.entity_type, SyncHolding.entity_id).where(
        SyncHolding.user_id == user_id
    )
    newly = held.where(SyncHolding.added_seq > after, SyncHolding.added_seq <= upto)
    newly_marked = select(literal("marker", String()), marker.id).where(
        marker.subject_id.in_(newly.with_only_columns(SyncHolding.entity_id))
    )
    if after == 0:
        # A first pull: everything held is newly held, so the change log need not be read
        # from its beginning to find what changed (at national scale, most of it is others').
        return newly.union(newly_marked)
    changed = select(c.entity_type, c.entity_id).where(
        c.seq > after,
        c.seq <= upto,
        or_(
            tuple_(c.entity_type, c.entity_id).in_(held),
            and_(
                c.entity_type == "marker",
                c.entity_id.in_(
                    select(marker.id).where(
                        marker.subject_id.in_(held.with_only_columns(SyncHolding.entity_id))
                    )
                ),
            ),
        ),
    )
    return changed.union(newly, newly_marked)


def _latest(session: Session, user_id: uuid.UUID, after: int, upto: int) -> list[tuple[int, str]]:
    """The place of each wanted record's latest change up to ``upto``, with its kind, in the
    order of those places (the order of a pull's pages)."""
    c = ChangeLogEntry
    wanted = _wanted(user_id, after, upto).subquery()
    rows = session.execute(
        select(func.max(c.seq), c.entity_type)
        .where(
            tuple_(c.entity_type, c.entity_id).in_(select(wanted.c[0], wanted.c[1])),
            c.seq <= upto,
        )
        .group_by(c.entity_type, c.entity_id)
        .order_by(func.max(c.seq))
    ).all()
    return [(int(seq), kind) for seq, kind in rows]


def pull(db: Database, *, actor: Actor, cursor: str | None, limit: int) -> Disclosure[PullPage]:
    """A page of what ``actor``'s device must hold since ``cursor`` (a checkpoint, or the
    cursor of a pull's previous page; none: everything held).

    Raises:
        SyncError: NOT_A_DEVICE, INVALID_CURSOR (not one this server made), CURSOR_AHEAD
            (a checkpoint past the end of the change log).
    """
    user_id = _user(actor)
    try:
        after, upto, sent = decode_cursor(cursor)
    except CursorError as exc:
        raise SyncError(SyncErrorCode.INVALID_CURSOR, str(exc)) from exc
    with db.read() as session:
        if upto is None:
            upto = int(
                session.execute(select(func.coalesce(func.max(ChangeLogEntry.seq), 0))).scalar_one()
            )
            if after > upto:
                # A checkpoint of another database (a restored backup, another server): what
                # the device holds cannot be brought up to date from here.
                raise SyncError(
                    SyncErrorCode.CURSOR_AHEAD,
                    "the cursor is past the end of this server's change log: discard what the "
                    "device holds and pull again from the beginning",
                )
        latest = _latest(session, user_id, after, upto)
        page = latest[sent : sent + limit]
        c = ChangeLogEntry
        changes = session.execute(
            select(c.seq, c.entity_type, c.entity_id, c.action, c.snapshot, c.restricted).where(
                c.seq.in_([seq for seq, _ in page])
            )
        ).all()
        by_kind: dict[str, list[uuid.UUID]] = defaultdict(list)
        for change in changes:
            by_kind[change.entity_type].append(change.entity_id)
        shown: set[uuid.UUID] = set()
        for kind_name, ids in by_kind.items():
            shown |= visible_ids(session, BY_NAME[kind_name], ids, actor=actor)
    records: list[PulledRecord] = []
    disclosed: list[str] = []
    needs_reason = False
    for change in sorted(changes, key=lambda ch: ch.seq):
        if change.entity_id in shown and change.action != "deleted":
            records.append(
                PulledRecord(kind=change.entity_type, id=change.entity_id, record=change.snapshot)
            )
            disclosed.append(str(change.entity_id))
            needs_reason |= change.entity_type in REASON_KINDS or bool(change.restricted)
        else:
            records.append(PulledRecord(kind=change.entity_type, id=change.entity_id, removed=True))
    done = sent + len(page) >= len(latest)
    answer = PullPage(
        records=records,
        cursor=encode_span(after, upto, sent + len(page)),
        checkpoint=encode_position(upto) if done else None,
    )
    return Disclosure(
        answer,
        PULL_ACT,
        subject_ids=disclosed,
        needs_reason=needs_reason,
        detail={"records": len(records), "removed": len(records) - len(disclosed)},
    )


def sync_devices(db: Database, *, actor: Actor) -> list[SyncDeviceRead]:
    """Every device of the actor's agency, with how it stands with sync (the sync panel)."""
    devices = list_devices(db, actor=actor)
    ids = [d.id for d in devices]
    o = SyncOperation
    with db.read() as session:
        d = SyncDevice
        status = {
            row.device_id: row
            for row in session.execute(
                select(d.device_id, d.last_push_at, d.last_pull_at, d.checkpoint, d.outbox).where(
                    d.device_id.in_(ids)
                )
            )
        }
        counts = {
            device_id: (int(total), int(rejected or 0))
            for device_id, total, rejected in session.execute(
                select(
                    o.device_id,
                    func.count(),
                    func.sum(case((o.outcome == "rejected", 1), else_=0), type_=Integer),
                )
                .where(o.device_id.in_(ids))
                .group_by(o.device_id)
            )
        }
        last = int(
            session.execute(select(func.coalesce(func.max(ChangeLogEntry.seq), 0))).scalar_one()
        )
    answer = []
    for device in devices:
        seen = status.get(device.id)
        total, rejected = counts.get(device.id, (0, 0))
        answer.append(
            SyncDeviceRead(
                id=device.id,
                name=device.name,
                last_user=device.last_user,
                last_seen_at=device.last_seen_at,
                revoked_at=device.revoked_at,
                last_push_at=seen.last_push_at if seen else None,
                last_pull_at=seen.last_pull_at if seen else None,
                behind=last - seen.checkpoint if seen and seen.checkpoint is not None else None,
                outbox=seen.outbox if seen else None,
                operations=total,
                rejected=rejected,
            )
        )
    return answer


def rejected_operations(
    db: Database, *, actor: Actor, device_id: uuid.UUID | None, limit: int
) -> list[RejectedOperation]:
    """The operations refused from the agency's devices (or one of them), newest first: what
    each was and the code it was refused with, none of its content."""
    ids = [d.id for d in list_devices(db, actor=actor)]
    if device_id is not None:
        ids = [i for i in ids if i == device_id]
    o = SyncOperation
    with db.read() as session:
        rows = session.execute(
            select(o.id, o.device_id, o.user_id, o.kind, o.action, o.record_id, o.made_at,
                   o.received_at, o.problem)
            .where(o.device_id.in_(ids), o.outcome == "rejected")
            .order_by(o.received_at.desc(), o.id)
            .limit(limit)
        ).all()  # fmt: skip
    return [
        RejectedOperation(
            id=row.id,
            device_id=row.device_id,
            user_id=row.user_id,
            kind=row.kind,
            action=row.action,
            record_id=row.record_id,
            made_at=row.made_at,
            received_at=row.received_at,
            code=(row.problem or {}).get("code", ""),
            title=(row.problem or {}).get("title", ""),
        )
        for row in rows
    ]


__all__ = ["PULL_ACT", "pull", "rejected_operations", "sync_devices"]
