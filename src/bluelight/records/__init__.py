"""POLE records: persons, objects (vehicles, property), locations, events, links, markers."""

from bluelight.records.errors import RecordError, RecordErrorCode
from bluelight.records.kinds import BY_NAME, KINDS, Kind

__all__ = ["BY_NAME", "KINDS", "Kind", "RecordError", "RecordErrorCode"]
