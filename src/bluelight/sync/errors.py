"""Errors of device sync."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from bluelight.kernel.errors import BluelightError


class SyncErrorCode(StrEnum):
    # An operation's own answer (``rejected``); the rest of its batch is unaffected.
    INVALID_OPERATION = "INVALID_OPERATION"
    INVALID_CONTENT = "INVALID_CONTENT"
    OPERATION_ID_REUSED = "OPERATION_ID_REUSED"
    OPERATION_ID_TAKEN = "OPERATION_ID_TAKEN"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    # A whole request's.
    NOT_A_DEVICE = "NOT_A_DEVICE"
    INVALID_CURSOR = "INVALID_CURSOR"
    CURSOR_AHEAD = "CURSOR_AHEAD"


class SyncError(BluelightError):
    """An operation, or a push, that cannot be taken as sent."""

    statuses: ClassVar[dict[str, int]] = {
        SyncErrorCode.INVALID_OPERATION: 422,
        SyncErrorCode.INVALID_CONTENT: 422,
        SyncErrorCode.OPERATION_ID_REUSED: 409,
        SyncErrorCode.OPERATION_ID_TAKEN: 409,
        SyncErrorCode.PERMISSION_DENIED: 403,
        SyncErrorCode.NOT_A_DEVICE: 403,
        SyncErrorCode.INVALID_CURSOR: 400,
        SyncErrorCode.CURSOR_AHEAD: 409,
    }
    refusals: ClassVar[frozenset[str]] = frozenset({SyncErrorCode.PERMISSION_DENIED})
