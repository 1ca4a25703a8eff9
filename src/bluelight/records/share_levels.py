"""What a partner agency sees of a shared event at each level: decided here and nowhere else.

``LEVEL_FIELDS`` names the fields of a ``SharedEvent`` each level shows, and ``project`` drops
every other field before anything leaves the server. Pure: no database, no I/O.
"""

from __future__ import annotations

import msgspec

from bluelight.identity import ShareLevel
from bluelight.records.schemas import SharedEvent

SHAREABLE = frozenset({"event"})

_ALWAYS = frozenset({"id", "owner_agency", "share_level", "version"})
_LOCATION = _ALWAYS | {"location", "hazards"}
_OPERATIONAL = _LOCATION | {
    "kind",
    "reference",
    "incident_type",
    "qualifiers",
    "offence",
    "occurred_from",
    "occurred_to",
    "reported_at",
    "narrative",
    "updated_at",
}


LEVEL_FIELDS: dict[ShareLevel, frozenset[str]] = {
    ShareLevel.LOCATION: _LOCATION,
    ShareLevel.OPERATIONAL: _OPERATIONAL,
    ShareLevel.FULL: _OPERATIONAL | {"persons", "created_by"},
}


# Below full, a person's warning shows as a hazard at the place, never with its free text
# (which may name or describe them).
_PERSON_DETAIL_LEVEL = ShareLevel.FULL


def project(full: SharedEvent, level: ShareLevel) -> SharedEvent:
    """``full`` with every field above ``level`` removed."""
    keep = LEVEL_FIELDS[level]
    cleared = {
        f: getattr(full, f) for f in full.__struct_fields__ if f in keep and f != "share_level"
    }
    hazards = [
        h
        if h.source == "location" or level is _PERSON_DETAIL_LEVEL
        else msgspec.structs.replace(h, detail=None)
        for h in cleared.pop("hazards", [])
    ]
    return SharedEvent(share_level=str(level), hazards=hazards, **cleared)
