"""Device sync: operations pushed from the officer app, applied at most once."""

from bluelight.sync.errors import SyncError, SyncErrorCode
from bluelight.sync.schemas import MAX_OPERATIONS, Operation, PushAnswer, PushBatch
from bluelight.sync.services import push

__all__ = [
    "MAX_OPERATIONS",
    "Operation",
    "PushAnswer",
    "PushBatch",
    "SyncError",
    "SyncErrorCode",
    "push",
]
