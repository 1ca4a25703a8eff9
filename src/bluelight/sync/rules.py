"""What makes a pushed operation well formed, and how a replay is told from a reuse."""

from __future__ import annotations

import hashlib

import msgspec

from bluelight.sync.errors import SyncError, SyncErrorCode
from bluelight.sync.schemas import Operation

_ENCODER = msgspec.json.Encoder(order="sorted")


def operation_digest(op: Operation) -> str:
    """The SHA-256 (hex) of ``op`` in a canonical form (keys sorted at every level): equal
    for a replay of the operation, different for any other content under the same id."""
    return hashlib.sha256(_ENCODER.encode(op)).hexdigest()


def _invalid(op: Operation, detail: str) -> SyncError:
    return SyncError(SyncErrorCode.INVALID_OPERATION, detail, op=str(op.id))


def check_shape(op: Operation) -> None:
    """Refuse an operation whose parts do not fit its action: a create carries content and no
    base version; an update carries the changes and the version they were made on; a delete
    carries the version and ``{"reason": …}``.

    Raises:
        SyncError: INVALID_OPERATION.
    """
    if op.action == "create":
        if op.base_version is not None:
            raise _invalid(op, "a create is based on no version: leave base_version out")
        if op.content is None:
            raise _invalid(op, "a create carries the new record's fields as content")
        if "id" in op.content and op.content["id"] != str(op.record_id):
            raise _invalid(op, "the record's id is record_id: leave id out of the content")
        return
    if op.base_version is None:
        raise _invalid(op, f"an {op.action} names the version it was made on: base_version")
    if op.content is None:
        what = "the changed fields" if op.action == "update" else '{"reason": …}'
        raise _invalid(op, f"an {op.action} carries {what} as content")
    if "version" in op.content:
        raise _invalid(op, "the version an operation is based on is base_version, not content")
