"""Errors of the audit trail."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from bluelight.kernel.errors import BluelightError


class AuditErrorCode(StrEnum):
    AUDIT_UNAVAILABLE = "AUDIT_UNAVAILABLE"
    REASON_REQUIRED = "REASON_REQUIRED"
    UNKNOWN_REASON = "UNKNOWN_REASON"
    INVALID_REASON_TEXT = "INVALID_REASON_TEXT"
    ENTRY_NOT_FOUND = "ENTRY_NOT_FOUND"
    TREE_SIZE_OUT_OF_RANGE = "TREE_SIZE_OUT_OF_RANGE"
    INVALID_QUERY = "INVALID_QUERY"


class AuditError(BluelightError):
    """The trail could not be written, or an audit question cannot be answered as asked."""

    statuses: ClassVar[dict[str, int]] = {
        AuditErrorCode.AUDIT_UNAVAILABLE: 503,
        AuditErrorCode.REASON_REQUIRED: 400,
        AuditErrorCode.UNKNOWN_REASON: 400,
        AuditErrorCode.INVALID_REASON_TEXT: 400,
        AuditErrorCode.ENTRY_NOT_FOUND: 404,
        AuditErrorCode.TREE_SIZE_OUT_OF_RANGE: 400,
        AuditErrorCode.INVALID_QUERY: 400,
    }
    refusals: ClassVar[frozenset[str]] = frozenset(
        {
            AuditErrorCode.REASON_REQUIRED,
            AuditErrorCode.UNKNOWN_REASON,
            AuditErrorCode.INVALID_REASON_TEXT,
        }
    )
