"""HTTP routes of device sync."""

from __future__ import annotations

from litestar import Router, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import JSONBody

from bluelight.audit import Action, Justification
from bluelight.audit.door import Act
from bluelight.db import Database
from bluelight.identity import Actor
from bluelight.kernel.permissions import Permission, needs
from bluelight.sync import services
from bluelight.sync.schemas import MAX_OPERATIONS, PushAnswer, PushBatch


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


# What a push answers (a conflict's server copy) must not linger in a cache.
sync_router = Router(
    path="/sync",
    route_handlers=[push_batch],
    tags=["Sync"],
    cache_control=CacheControlHeader(no_store=True),
)
