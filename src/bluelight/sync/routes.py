"""HTTP routes of device sync."""

from __future__ import annotations

import uuid

from litestar import Router, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, Parameter

from bluelight.audit import Action, Justification
from bluelight.audit.door import Act, Door
from bluelight.db import Database
from bluelight.identity import Actor
from bluelight.kernel.paging import decode_position
from bluelight.kernel.permissions import Permission, needs
from bluelight.sync import queries, services
from bluelight.sync.rules import PULL_CURSOR_PATTERN
from bluelight.sync.schemas import (
    DEFAULT_PULL,
    MAX_OPERATIONS,
    MAX_PULL,
    PullPage,
    PushAnswer,
    PushBatch,
    RejectedOperation,
    SyncDeviceRead,
)


@post(
    "/push",
    opt=needs(Permission.SYNC, act=Act(Action.COLLECTION, "sync:batch:pushed")),
    summary="Push a device's operations",
    description=(
        f"Up to {MAX_OPERATIONS} operations, applied in order, each at most once: an operation "
        "id seen before is answered `duplicate` with the answer it had, and never applied "
        "again. Each operation is answered `applied`, `duplicate`, `conflict` (with the "
        "server's copy) or `rejected` (with its problem); one refused does not stop the rest. "
        "The answer is sent once the whole batch is committed: a device with no answer sends "
        "the same batch again. Send X-Bluelight-Reason and X-Bluelight-Reason-Text for the "
        "operations that carry no reason of their own."
    ),
    operation_id="sync_push",
    status_code=200,
    sync_to_thread=True,
)
def push_batch(
    data: JSONBody[PushBatch],
    db: NamedDependency[Database],
    actor: NamedDependency[Actor],
    why: NamedDependency[Justification | None],
) -> PushAnswer:
    return services.push(db, data, actor=actor, why=why)


@get(
    "/pull",
    opt=needs(Permission.SYNC, act=queries.PULL_ACT, answers=(409,)),
    summary="Pull what this device must hold",
    description=(
        "The records of your own work (what you created or changed from a device, what it "
        "refers to, and the warning markers on them) that changed since `cursor` (the "
        "checkpoint of your last pull; none: all of them), each as it stood at this pull's "
        "checkpoint, or `removed` when it was deleted or is no longer yours to see. Ask again "
        "with the answer's `cursor` until an answer carries a `checkpoint`, then apply every "
        "page at once. Send X-Bluelight-Reason and X-Bluelight-Reason-Text: a page holding "
        "what is said about a person is sent only with a reason, once it is audited."
    ),
    operation_id="sync_pull",
)
async def pull_page(
    db: NamedDependency[Database],
    door: NamedDependency[Door],
    actor: NamedDependency[Actor],
    why: NamedDependency[Justification | None],
    cursor: str | None = Parameter(default=None, pattern=PULL_CURSOR_PATTERN),
    limit: int = Parameter(default=DEFAULT_PULL, ge=1, le=MAX_PULL),
) -> PullPage:
    found = await sync_to_thread(queries.pull, db, actor=actor, cursor=cursor, limit=limit)
    page = await door.release(found, who=actor, why=why)
    if page.checkpoint is not None:
        upto = decode_position(page.checkpoint)
        await sync_to_thread(services.note_pulled, db, actor=actor, checkpoint=upto)
    return page


@get(
    "/devices",
    opt=needs(Permission.DEVICE_READ),
    summary="The sync panel: how each device of the agency stands",
    description=(
        "For each registered device: when it last pushed and pulled, how far the server's "
        "change log has moved since its last checkpoint, the backlog its outbox last "
        "reported, and how many of its operations were applied or refused."
    ),
    operation_id="sync_devices",
    sync_to_thread=True,
)
def list_sync_devices(
    db: NamedDependency[Database], actor: NamedDependency[Actor]
) -> list[SyncDeviceRead]:
    return queries.sync_devices(db, actor=actor)


@get(
    "/rejected",
    opt=needs(Permission.DEVICE_READ),
    summary="Operations refused from the agency's devices",
    description="Newest first, with the code each was refused with; none of their content.",
    operation_id="sync_rejected",
    sync_to_thread=True,
)
def list_rejected(
    db: NamedDependency[Database],
    actor: NamedDependency[Actor],
    device: FromQuery[uuid.UUID | None] = None,
    limit: int = Parameter(default=DEFAULT_PULL, ge=1, le=MAX_PULL),
) -> list[RejectedOperation]:
    return queries.rejected_operations(db, actor=actor, device_id=device, limit=limit)


# What sync answers (a conflict's server copy, a pull) must not linger in a cache.
sync_router = Router(
    path="/sync",
    route_handlers=[push_batch, pull_page, list_sync_devices, list_rejected],
    tags=["Sync"],
    cache_control=CacheControlHeader(no_store=True),
)
