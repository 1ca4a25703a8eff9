"""Errors of the POLE records."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from bluelight.kernel.errors import BluelightError


class RecordErrorCode(StrEnum):
    RECORD_NOT_FOUND = "RECORD_NOT_FOUND"
    RECORD_DELETED = "RECORD_DELETED"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    DUPLICATE_ID = "DUPLICATE_ID"
    DUPLICATE_REFERENCE = "DUPLICATE_REFERENCE"
    INVALID_CURSOR = "INVALID_CURSOR"
    INVALID_FILTER = "INVALID_FILTER"
    CLASSIFICATION_ABOVE_CLEARANCE = "CLASSIFICATION_ABOVE_CLEARANCE"
    RECORD_RESTRICTED = "RECORD_RESTRICTED"
    SHARE_NOT_ALLOWED = "SHARE_NOT_ALLOWED"
    SHARE_NOT_FOUND = "SHARE_NOT_FOUND"
    AGENCY_NOT_FOUND = "AGENCY_NOT_FOUND"
    GRANTEE_NOT_FOUND = "GRANTEE_NOT_FOUND"
    # Field rules; raised together through vocab.InvalidInput (422).
    FUTURE_DATE = "FUTURE_DATE"
    END_BEFORE_START = "END_BEFORE_START"
    INVALID_RANGE = "INVALID_RANGE"
    COORDINATES_OUT_OF_RANGE = "COORDINATES_OUT_OF_RANGE"
    INCOMPLETE_COORDINATES = "INCOMPLETE_COORDINATES"
    INVALID_FORMAT = "INVALID_FORMAT"
    EMPTY_LOCATION = "EMPTY_LOCATION"
    OFFENCE_REQUIRED = "OFFENCE_REQUIRED"
    LINK_ENDPOINT_MISMATCH = "LINK_ENDPOINT_MISMATCH"
    ROLE_REQUIRED = "ROLE_REQUIRED"
    ROLE_NOT_ALLOWED = "ROLE_NOT_ALLOWED"
    SELF_LINK = "SELF_LINK"
    MARKER_NOT_APPLICABLE = "MARKER_NOT_APPLICABLE"
    REFERENCE_NOT_FOUND = "REFERENCE_NOT_FOUND"
    DUPLICATE_VALUE = "DUPLICATE_VALUE"
    CONTROL_CHARACTER = "CONTROL_CHARACTER"


class RecordError(BluelightError):
    """A record that cannot be found, changed or stored as asked."""

    statuses: ClassVar[dict[str, int]] = {
        RecordErrorCode.RECORD_NOT_FOUND: 404,
        RecordErrorCode.RECORD_DELETED: 410,
        RecordErrorCode.VERSION_CONFLICT: 409,
        RecordErrorCode.DUPLICATE_ID: 409,
        RecordErrorCode.DUPLICATE_REFERENCE: 409,
        RecordErrorCode.INVALID_CURSOR: 400,
        RecordErrorCode.INVALID_FILTER: 400,
        RecordErrorCode.CLASSIFICATION_ABOVE_CLEARANCE: 403,
        RecordErrorCode.RECORD_RESTRICTED: 403,
        RecordErrorCode.SHARE_NOT_ALLOWED: 422,
        RecordErrorCode.SHARE_NOT_FOUND: 404,
        RecordErrorCode.AGENCY_NOT_FOUND: 404,
        RecordErrorCode.GRANTEE_NOT_FOUND: 422,
    }
    # Asking for a record one may not see is a denied attempt, whichever way it is refused.
    refusals: ClassVar[frozenset[str]] = frozenset(
        {
            RecordErrorCode.RECORD_NOT_FOUND,
            RecordErrorCode.RECORD_DELETED,
            RecordErrorCode.CLASSIFICATION_ABOVE_CLEARANCE,
            RecordErrorCode.RECORD_RESTRICTED,
        }
    )
