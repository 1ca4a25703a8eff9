"""POLE records: persons, objects (vehicles, property), locations, events, links, markers."""

from bluelight.records.access import REASON_KINDS, needs_reason
from bluelight.records.errors import RecordError, RecordErrorCode
from bluelight.records.kinds import BY_NAME, KINDS, Kind
from bluelight.records.queries import visible_ids
from bluelight.records.schemas import Deletion
from bluelight.records.services import (
    conflicting_record_in,
    create_record_in,
    delete_record_in,
    update_record_in,
)

__all__ = [
    "BY_NAME",
    "KINDS",
    "REASON_KINDS",
    "Deletion",
    "Kind",
    "RecordError",
    "RecordErrorCode",
    "conflicting_record_in",
    "create_record_in",
    "delete_record_in",
    "needs_reason",
    "update_record_in",
    "visible_ids",
]
