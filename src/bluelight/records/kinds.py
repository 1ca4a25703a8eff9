"""The seven kinds of POLE record, each bound to its table, types, rules and permissions.

One table of kinds lets a single, well-tested service and router serve every kind the same
way (versioning, soft deletion, history, pagination, imports), while each kind's own rules
stay in ``rules.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from msgspec import Struct

from bluelight.identity import Permission
from bluelight.records import rules
from bluelight.records import schemas as s
from bluelight.records.models import (
    Event,
    Link,
    Location,
    Person,
    PropertyItem,
    RecordColumns,
    Vehicle,
    WarningMarker,
)
from bluelight.vocab import Checker


@dataclass(frozen=True, slots=True)
class Filter:
    """A list filter: the query parameter, the column, how it compares, how its text parses,
    and the format the API document gives it (the JSON Schema format that parse accepts)."""

    column: str
    op: str = "eq"
    parse: Callable[[str], Any] = str
    format: str | None = None


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of record and everything the generic service needs to know about it."""

    name: str
    path: str
    title: str
    model: type[RecordColumns]
    fields: type[Struct]
    create: type[Struct]
    update: type[Struct]
    read: type[Struct]
    coded: tuple[rules.Coded, ...]
    check: Callable[[Any, Checker, rules.Context], Any]
    read_permission: Permission
    write_permission: Permission
    filters: dict[str, Filter] = field(default_factory=dict)
    derived: Callable[[Any], dict[str, Any]] = lambda _content: {}


def _person_derived(p: s.PersonFields) -> dict[str, Any]:
    primary = p.names[0]
    return {
        "family_name": primary.family_name,
        "given_names": primary.given_names,
        "family_name_key": rules.name_key(primary.family_name),
        "given_names_key": rules.name_key(primary.given_names),
    }


def _upper(value: str) -> str:
    return rules.name_key(value)


def _postcode(value: str) -> str:
    return rules.normalise_postcode(value) or value.upper()


def _datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        msg = "give a timezone"
        raise ValueError(msg)
    try:
        parsed.astimezone(UTC)
    except OverflowError as exc:
        msg = "outside the dates that can be stored"
        raise ValueError(msg) from exc
    return parsed


PERSON = Kind(
    name="person",
    path="persons",
    title="Persons",
    model=Person,
    fields=s.PersonFields,
    create=s.PersonCreate,
    update=s.PersonUpdate,
    read=s.PersonRead,
    coded=rules.PERSON_CODED,
    check=rules.check_person,
    read_permission=Permission.PERSON_READ,
    write_permission=Permission.PERSON_WRITE,
    filters={
        "family_name": Filter("family_name_key", "prefix", _upper),
        "given_names": Filter("given_names_key", "prefix", _upper),
        "date_of_birth": Filter("date_of_birth", "eq", date.fromisoformat, "date"),
        "sex": Filter("sex"),
    },
    derived=_person_derived,
)

VEHICLE = Kind(
    name="vehicle",
    path="vehicles",
    title="Vehicles",
    model=Vehicle,
    fields=s.VehicleFields,
    create=s.VehicleCreate,
    update=s.VehicleUpdate,
    read=s.VehicleRead,
    coded=rules.VEHICLE_CODED,
    check=rules.check_vehicle,
    read_permission=Permission.OBJECT_READ,
    write_permission=Permission.OBJECT_WRITE,
    filters={
        "vrm": Filter("vrm", "eq", rules.normalise_vrm),
        "vin": Filter("vin", "eq", str.upper),
        "make": Filter("make"),
        "colour": Filter("colour"),
    },
)

PROPERTY = Kind(
    name="property",
    path="property",
    title="Property",
    model=PropertyItem,
    fields=s.PropertyFields,
    create=s.PropertyCreate,
    update=s.PropertyUpdate,
    read=s.PropertyRead,
    coded=rules.PROPERTY_CODED,
    check=rules.check_property,
    read_permission=Permission.OBJECT_READ,
    write_permission=Permission.OBJECT_WRITE,
    filters={
        "category": Filter("category"),
        "serial_number": Filter("serial_number", "eq", str.upper),
    },
)

LOCATION = Kind(
    name="location",
    path="locations",
    title="Locations",
    model=Location,
    fields=s.LocationFields,
    create=s.LocationCreate,
    update=s.LocationUpdate,
    read=s.LocationRead,
    coded=rules.LOCATION_CODED,
    check=rules.check_location,
    read_permission=Permission.LOCATION_READ,
    write_permission=Permission.LOCATION_WRITE,
    filters={
        "postcode": Filter("postcode", "eq", _postcode),
        "h3_cell": Filter("h3_cell"),
        "location_type": Filter("location_type"),
    },
    derived=lambda loc: {"h3_cell": rules.location_cell(loc)},
)

EVENT = Kind(
    name="event",
    path="events",
    title="Events",
    model=Event,
    fields=s.EventFields,
    create=s.EventCreate,
    update=s.EventUpdate,
    read=s.EventRead,
    coded=rules.EVENT_CODED,
    check=rules.check_event,
    read_permission=Permission.EVENT_READ,
    write_permission=Permission.EVENT_WRITE,
    filters={
        "kind": Filter("kind"),
        "incident_type": Filter("incident_type"),
        "offence": Filter("offence"),
        "reference": Filter("reference"),
        "location_id": Filter("location_id", "eq", uuid.UUID, "uuid"),
        "occurred_after": Filter("occurred_from", "gte", _datetime, "date-time"),
        "occurred_before": Filter("occurred_from", "lte", _datetime, "date-time"),
    },
)

LINK = Kind(
    name="link",
    path="links",
    title="Links",
    model=Link,
    fields=s.LinkFields,
    create=s.LinkCreate,
    update=s.LinkUpdate,
    read=s.LinkRead,
    coded=rules.LINK_CODED,
    check=rules.check_link,
    read_permission=Permission.LINK_READ,
    write_permission=Permission.LINK_WRITE,
    filters={
        "from_id": Filter("from_id", "eq", uuid.UUID, "uuid"),
        "to_id": Filter("to_id", "eq", uuid.UUID, "uuid"),
        "link_type": Filter("link_type"),
        "role": Filter("role"),
    },
)

MARKER = Kind(
    name="marker",
    path="markers",
    title="Warning markers",
    model=WarningMarker,
    fields=s.MarkerFields,
    create=s.MarkerCreate,
    update=s.MarkerUpdate,
    read=s.MarkerRead,
    coded=rules.MARKER_CODED,
    check=rules.check_marker,
    read_permission=Permission.MARKER_READ,
    write_permission=Permission.MARKER_WRITE,
    filters={
        "subject_id": Filter("subject_id", "eq", uuid.UUID, "uuid"),
        "marker": Filter("marker"),
        "review_before": Filter("review_date", "lte", date.fromisoformat, "date"),
    },
)

KINDS: tuple[Kind, ...] = (PERSON, VEHICLE, PROPERTY, LOCATION, EVENT, LINK, MARKER)
BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
