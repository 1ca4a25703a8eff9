"""Boundary types of the POLE records.

Each kind has a ``<Kind>Fields`` struct with its content, ``<Kind>Create`` (the fields plus an
optional device-made id), ``<Kind>Update`` (every field optional, plus the version the change
is based on, derived from the fields so the two never drift) and ``<Kind>Read``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

# Text is one line, unless its type says it is prose: free text that may run over several
# lines (``rules.check_text`` reads the mark, and refuses control characters in either kind).
PROSE = {"prose": True}
Code = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_./-]+$")]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
Short = Annotated[str, Meta(min_length=1, max_length=150)]
Text = Annotated[str, Meta(max_length=2000, extra=PROSE)]
Note = Annotated[str, Meta(max_length=1000, extra=PROSE)]
Narrative = Annotated[str, Meta(max_length=20_000, extra=PROSE)]
Reason = Annotated[str, Meta(min_length=3, max_length=500)]
Version = Annotated[int, Meta(ge=1)]
Instant = Annotated[datetime, Meta(tz=True)]
EntityType = Literal["person", "vehicle", "property", "location", "event"]
ClassificationCode = Literal["OFFICIAL", "OFFICIAL-SENSITIVE"]


class Fields(Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every kind's content fields."""


def patch_of(fields: type[Struct], name: str) -> type[Struct]:
    """The update type of a kind: every content field optional, plus the base ``version``."""
    return msgspec.defstruct(
        name,
        [(f.name, f.type | UnsetType, UNSET) for f in msgspec.structs.fields(fields)]
        + [("version", Version)],
        kw_only=True,
        forbid_unknown_fields=True,
    )


def _field_spec(f: msgspec.structs.FieldInfo) -> tuple[str, Any] | tuple[str, Any, Any]:
    if f.required:
        return (f.name, f.type)
    if f.default is not msgspec.NODEFAULT:
        return (f.name, f.type, f.default)
    return (f.name, f.type, msgspec.field(default_factory=f.default_factory))


def read_of(fields: type[Struct], name: str, *extra: tuple[str, Any, Any]) -> type[Struct]:
    """The read type of a kind: the record's metadata, its content, then derived extras."""
    specs = [_field_spec(f) for f in msgspec.structs.fields(RecordMeta)]
    specs += [_field_spec(f) for f in msgspec.structs.fields(fields)]
    return msgspec.defstruct(name, [*specs, *extra], kw_only=True)


class RecordMeta(Struct, kw_only=True):
    """What every record read carries besides its content."""

    id: uuid.UUID
    version: int
    owner_agency: str
    classification: str = "OFFICIAL"
    restricted: bool = False
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    deleted_at: datetime | None = None
    deleted_by: str | None = None
    deletion_reason: str | None = None
    original_codes: dict[str, Any] | None = None


# --- persons -----------------------------------------------------------------------------


class PersonName(Struct, kw_only=True, forbid_unknown_fields=True):
    type: Code = "primary"
    family_name: Name
    given_names: Annotated[str, Meta(max_length=150)] = ""
    title: Annotated[str, Meta(max_length=20)] | None = None


class Mark(Struct, kw_only=True, forbid_unknown_fields=True):
    type: Code
    location: Code | None = None
    description: Annotated[str, Meta(max_length=500, extra=PROSE)] | None = None


class Identifier(Struct, kw_only=True, forbid_unknown_fields=True):
    type: Code
    value: Annotated[str, Meta(min_length=1, max_length=40)]
    issuer: Annotated[str, Meta(max_length=60)] | None = None


Age = Annotated[int, Meta(ge=0, le=130)]


class PersonFields(Fields, kw_only=True):
    names: Annotated[list[PersonName], Meta(min_length=1, max_length=20)]
    date_of_birth: date | None = None
    age_min: Age | None = None
    age_max: Age | None = None
    sex: Code | None = None
    ethnicity_officer: Code | None = None
    ethnicity_self: Code | None = None
    height_cm: Annotated[int, Meta(ge=30, le=275)] | None = None
    build: Code | None = None
    hair_colour: Code | None = None
    hair_length: Code | None = None
    hair_style: Code | None = None
    eye_colour: Code | None = None
    facial_hair: Code | None = None
    marks: Annotated[list[Mark], Meta(max_length=50)] = []
    identifiers: Annotated[list[Identifier], Meta(max_length=20)] = []


class PersonCreate(PersonFields, kw_only=True):
    id: uuid.UUID | None = None
    classification: ClassificationCode = "OFFICIAL"


PersonUpdate = patch_of(PersonFields, "PersonUpdate")


class MarkerSummary(Struct, kw_only=True):
    id: uuid.UUID
    marker: str
    detail: str | None
    review_date: date


class AddressSummary(Struct, kw_only=True):
    link_id: uuid.UUID
    link_type: str
    location_id: uuid.UUID
    summary: str
    valid_from: Instant | None
    valid_to: Instant | None


PersonRead = read_of(
    PersonFields,
    "PersonRead",
    ("markers", list[MarkerSummary], msgspec.field(default_factory=list)),
    ("addresses", list[AddressSummary], msgspec.field(default_factory=list)),
)


# --- vehicles and other property ---------------------------------------------------------


class VehicleFields(Fields, kw_only=True):
    vrm: Annotated[str, Meta(min_length=1, max_length=12)] | None = None
    make: Code | None = None
    model: Annotated[str, Meta(max_length=60)] | None = None
    colour: Code | None = None
    body_type: Code | None = None
    vin: Annotated[str, Meta(min_length=17, max_length=17)] | None = None
    year_of_manufacture: Annotated[int, Meta(ge=1885, le=2100)] | None = None
    description: Text | None = None


class VehicleCreate(VehicleFields, kw_only=True):
    id: uuid.UUID | None = None
    classification: ClassificationCode = "OFFICIAL"


VehicleUpdate = patch_of(VehicleFields, "VehicleUpdate")


VehicleRead = read_of(VehicleFields, "VehicleRead")


class PropertyFields(Fields, kw_only=True):
    category: Code
    make: Annotated[str, Meta(max_length=60)] | None = None
    model: Annotated[str, Meta(max_length=60)] | None = None
    serial_number: Annotated[str, Meta(min_length=1, max_length=60)] | None = None
    colour: Annotated[str, Meta(max_length=40)] | None = None
    description: Text | None = None


class PropertyCreate(PropertyFields, kw_only=True):
    id: uuid.UUID | None = None
    classification: ClassificationCode = "OFFICIAL"


PropertyUpdate = patch_of(PropertyFields, "PropertyUpdate")


PropertyRead = read_of(PropertyFields, "PropertyRead")


# --- locations ---------------------------------------------------------------------------


class LocationFields(Fields, kw_only=True):
    name: Short | None = None
    location_type: Code | None = None
    premises: Annotated[str, Meta(min_length=1, max_length=100)] | None = None
    street: Short | None = None
    locality: Annotated[str, Meta(max_length=100)] | None = None
    town: Annotated[str, Meta(max_length=100)] | None = None
    postcode: Annotated[str, Meta(min_length=2, max_length=10)] | None = None
    uprn: Annotated[str, Meta(pattern=r"^[0-9]{1,12}$")] | None = None
    latitude: float | None = None
    longitude: float | None = None


class LocationCreate(LocationFields, kw_only=True):
    id: uuid.UUID | None = None
    classification: ClassificationCode = "OFFICIAL"


LocationUpdate = patch_of(LocationFields, "LocationUpdate")


LocationRead = read_of(
    LocationFields,
    "LocationRead",
    ("h3_cell", str | None, None),
    ("markers", list[MarkerSummary], msgspec.field(default_factory=list)),
)


# --- events ------------------------------------------------------------------------------


class EventFields(Fields, kw_only=True):
    kind: Literal["crime", "incident"]
    reference: Annotated[str, Meta(min_length=1, max_length=30)] | None = None
    occurred_from: Instant
    occurred_to: Instant | None = None
    reported_at: Instant | None = None
    location_id: uuid.UUID | None = None
    incident_type: Code
    qualifiers: Annotated[list[Code], Meta(max_length=20)] = []
    offence: Code | None = None
    narrative: Narrative | None = None


class EventCreate(EventFields, kw_only=True):
    id: uuid.UUID | None = None
    classification: ClassificationCode = "OFFICIAL"


EventUpdate = patch_of(EventFields, "EventUpdate")


EventRead = read_of(EventFields, "EventRead")


# --- links and markers -------------------------------------------------------------------


class LinkFields(Fields, kw_only=True):
    link_type: Code
    role: Code | None = None
    from_type: EntityType
    from_id: uuid.UUID
    to_type: EntityType
    to_id: uuid.UUID
    valid_from: Instant | None = None
    valid_to: Instant | None = None
    notes: Note | None = None


class LinkCreate(LinkFields, kw_only=True):
    id: uuid.UUID | None = None
    classification: ClassificationCode = "OFFICIAL"


LinkUpdate = patch_of(LinkFields, "LinkUpdate")


LinkRead = read_of(LinkFields, "LinkRead")


class MarkerFields(Fields, kw_only=True):
    subject_type: Literal["person", "location"]
    subject_id: uuid.UUID
    marker: Code
    detail: Note | None = None
    review_date: date


class MarkerCreate(MarkerFields, kw_only=True):
    id: uuid.UUID | None = None
    classification: ClassificationCode = "OFFICIAL"


MarkerUpdate = patch_of(MarkerFields, "MarkerUpdate")


MarkerRead = read_of(MarkerFields, "MarkerRead")


# --- shared --------------------------------------------------------------------------------


class Deletion(Struct, kw_only=True, forbid_unknown_fields=True):
    """A soft deletion: the version it is based on and why (kept with the record)."""

    version: Version
    reason: Reason


class Page(Struct, kw_only=True):
    items: list[Any]
    next_cursor: str | None


class ChangeRead(Struct, kw_only=True):
    seq: int
    version: int
    action: str
    changed_at: datetime
    changed_by: str
    reason: str | None
    snapshot: dict[str, Any]


class ImportBatch(Struct, kw_only=True, forbid_unknown_fields=True):
    """Records from a force's own system, carrying that force's local codes."""

    source_force: Annotated[str, Meta(pattern=r"^[A-Z0-9]{2,10}$")]
    records: Annotated[list[dict[str, Any]], Meta(min_length=1, max_length=500)]


class UnmappedCode(Struct, kw_only=True):
    index: int
    field: str
    list: str
    local_code: str


class ImportRejection(Struct, kw_only=True):
    index: int
    code: str
    detail: str
    errors: list[dict[str, Any]] = []


class ImportReport(Struct, kw_only=True):
    created: list[uuid.UUID]
    unmapped: list[UnmappedCode]
    rejected: list[ImportRejection]


# --- access and sharing ----------------------------------------------------------------------

AgencyCode = Annotated[str, Meta(pattern=r"^[A-Z0-9]{2,10}$")]
ShareLevelName = Literal["location", "operational", "full"]
Username = Annotated[str, Meta(min_length=3, max_length=64)]
TeamName = Annotated[str, Meta(min_length=1, max_length=100)]


class AccessChange(Struct, kw_only=True, forbid_unknown_fields=True):
    """Who may see a record: its classification, and whether it is restricted to the named
    users and teams (the lists replace the ones before)."""

    version: Version
    classification: ClassificationCode | UnsetType = UNSET
    restricted: bool | UnsetType = UNSET
    users: Annotated[list[Username], Meta(max_length=100)] | UnsetType = UNSET
    teams: Annotated[list[TeamName], Meta(max_length=50)] | UnsetType = UNSET


class AccessRead(Struct, kw_only=True):
    id: uuid.UUID
    version: int
    classification: str
    restricted: bool
    users: list[str]
    teams: list[str]


class ShareCreate(Struct, kw_only=True, forbid_unknown_fields=True):
    """Share an event with another agency at a level (sharing again changes the level)."""

    agency: AgencyCode
    level: ShareLevelName


class ShareRead(Struct, kw_only=True):
    id: uuid.UUID
    entity_type: str
    entity_id: uuid.UUID
    agency: str
    level: str
    shared_at: datetime
    shared_by: str
    revoked_at: datetime | None = None
    revoked_by: str | None = None


class SharedPlace(Struct, kw_only=True):
    id: uuid.UUID
    name: str | None = None
    location_type: str | None = None
    premises: str | None = None
    street: str | None = None
    locality: str | None = None
    town: str | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    h3_cell: str | None = None


class Hazard(Struct, kw_only=True):
    """A warning that matters to whoever attends: on the place, or on someone linked to the
    event (then only the warning, never who)."""

    marker: str
    label: str
    source: Literal["location", "person"]
    detail: str | None = None


class SharedPerson(Struct, kw_only=True):
    id: uuid.UUID
    role: str | None
    family_name: str
    given_names: str
    date_of_birth: date | None = None


class SharedEvent(Struct, kw_only=True, omit_defaults=True):
    """An event as the agency it is shared with sees it: only the fields its level allows.

    ``location``: where, and the hazards. ``operational``: adds what happened and when,
    without personal data. ``full``: adds the people linked to it.
    """

    id: uuid.UUID
    owner_agency: str
    share_level: str
    version: int
    location: SharedPlace | None = None
    hazards: list[Hazard] = []
    kind: str | None = None
    reference: str | None = None
    incident_type: str | None = None
    qualifiers: list[str] | None = None
    offence: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    reported_at: datetime | None = None
    narrative: str | None = None
    persons: list[SharedPerson] | None = None
    created_by: str | None = None
    updated_at: datetime | None = None


class SharedPage(Struct, kw_only=True):
    items: list[SharedEvent]
    next_cursor: str | None
