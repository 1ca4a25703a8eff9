"""The POLE model: persons, objects (vehicles and other property), locations, events,
the typed links between them, and warning markers.

Every table shares the record columns: a version bumped by every change, who made and last
changed the record and when, a soft deletion with its reason, the owning agency, its security
classification and whether it is restricted to named users and teams, and the original local
codes a record was imported with.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from bluelight.db import Base


class RecordColumns:
    """The columns every POLE record carries."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    version: Mapped[int]
    owner_agency: Mapped[str] = mapped_column(String(10))
    classification: Mapped[str] = mapped_column(String(30), server_default="OFFICIAL")
    restricted: Mapped[bool] = mapped_column(server_default=false())
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(80))
    deleted_at: Mapped[datetime | None]
    deleted_by: Mapped[str | None] = mapped_column(String(80))
    deletion_reason: Mapped[str | None] = mapped_column(String(500))
    original_codes: Mapped[dict[str, Any] | None]


class Person(RecordColumns, Base):
    """A person known to the force: names and aliases, description, identifiers.

    ``names`` holds every name (the first is the primary one); the primary name is copied into
    ``family_name``/``given_names`` with upper-cased keys so lists filter on an index.
    """

    __tablename__ = "persons"
    __table_args__ = (
        Index(
            "ix_persons_name_key",
            "family_name_key",
            "given_names_key",
            postgresql_ops={
                "family_name_key": "varchar_pattern_ops",
                "given_names_key": "varchar_pattern_ops",
            },
        ),
        Index("ix_persons_date_of_birth", "date_of_birth"),
    )

    family_name: Mapped[str] = mapped_column(String(100))
    given_names: Mapped[str] = mapped_column(String(150))
    family_name_key: Mapped[str] = mapped_column(String(100))
    given_names_key: Mapped[str] = mapped_column(String(150))
    names: Mapped[list[Any]]
    date_of_birth: Mapped[date | None]
    age_min: Mapped[int | None]
    age_max: Mapped[int | None]
    sex: Mapped[str | None] = mapped_column(String(40))
    ethnicity_officer: Mapped[str | None] = mapped_column(String(40))
    ethnicity_self: Mapped[str | None] = mapped_column(String(40))
    height_cm: Mapped[int | None]
    build: Mapped[str | None] = mapped_column(String(40))
    hair_colour: Mapped[str | None] = mapped_column(String(40))
    hair_length: Mapped[str | None] = mapped_column(String(40))
    hair_style: Mapped[str | None] = mapped_column(String(40))
    eye_colour: Mapped[str | None] = mapped_column(String(40))
    facial_hair: Mapped[str | None] = mapped_column(String(40))
    marks: Mapped[list[Any]]
    identifiers: Mapped[list[Any]]


class Vehicle(RecordColumns, Base):
    """A vehicle, found by its registration mark (stored upper-case without spaces)."""

    __tablename__ = "vehicles"
    __table_args__ = (Index("ix_vehicles_vrm", "vrm"), Index("ix_vehicles_vin", "vin"))

    vrm: Mapped[str | None] = mapped_column(String(10))
    make: Mapped[str | None] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(60))
    colour: Mapped[str | None] = mapped_column(String(40))
    body_type: Mapped[str | None] = mapped_column(String(40))
    vin: Mapped[str | None] = mapped_column(String(17))
    year_of_manufacture: Mapped[int | None]
    description: Mapped[str | None] = mapped_column(String(2000))


class PropertyItem(RecordColumns, Base):
    """An object other than a vehicle: a phone, a bicycle, a knife, jewellery."""

    __tablename__ = "property_items"
    __table_args__ = (Index("ix_property_items_serial_number", "serial_number"),)

    category: Mapped[str] = mapped_column(String(40))
    make: Mapped[str | None] = mapped_column(String(60))
    model: Mapped[str | None] = mapped_column(String(60))
    serial_number: Mapped[str | None] = mapped_column(String(60))
    colour: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(String(2000))


class Location(RecordColumns, Base):
    """A place: an address, a point with its H3 cell, or a named place."""

    __tablename__ = "locations"
    __table_args__ = (
        Index("ix_locations_h3_cell", "h3_cell"),
        Index("ix_locations_postcode", "postcode"),
    )

    name: Mapped[str | None] = mapped_column(String(150))
    location_type: Mapped[str | None] = mapped_column(String(40))
    premises: Mapped[str | None] = mapped_column(String(100))
    street: Mapped[str | None] = mapped_column(String(150))
    locality: Mapped[str | None] = mapped_column(String(100))
    town: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str | None] = mapped_column(String(8))
    uprn: Mapped[str | None] = mapped_column(String(12))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    h3_cell: Mapped[str | None] = mapped_column(String(16))


class Event(RecordColumns, Base):
    """A crime report or an incident record: what happened, when, where, and the account."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_occurred_from", "occurred_from"),
        Index("ix_events_location_id", "location_id"),
        Index("ix_events_reference", "reference", unique=True),
    )

    kind: Mapped[str] = mapped_column(String(10))
    reference: Mapped[str | None] = mapped_column(String(30))
    occurred_from: Mapped[datetime]
    occurred_to: Mapped[datetime | None]
    reported_at: Mapped[datetime | None]
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("locations.id"))
    incident_type: Mapped[str] = mapped_column(String(40))
    qualifiers: Mapped[list[Any]]
    offence: Mapped[str | None] = mapped_column(String(40))
    narrative: Mapped[str | None] = mapped_column(Text)


class Link(RecordColumns, Base):
    """A typed, dated relation between two records: a suspect in a crime, a vehicle's keeper."""

    __tablename__ = "links"
    __table_args__ = (
        Index("ix_links_from", "from_id", "link_type"),
        Index("ix_links_to", "to_id", "link_type"),
    )

    link_type: Mapped[str] = mapped_column(String(40))
    role: Mapped[str | None] = mapped_column(String(40))
    from_type: Mapped[str] = mapped_column(String(10))
    from_id: Mapped[uuid.UUID]
    to_type: Mapped[str] = mapped_column(String(10))
    to_id: Mapped[uuid.UUID]
    valid_from: Mapped[datetime | None]
    valid_to: Mapped[datetime | None]
    notes: Mapped[str | None] = mapped_column(String(1000))


class WarningMarker(RecordColumns, Base):
    """A warning for officer and public safety on a person or a location, due for review."""

    __tablename__ = "warning_markers"
    __table_args__ = (Index("ix_warning_markers_subject", "subject_id", "marker"),)

    subject_type: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[uuid.UUID]
    marker: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(String(1000))
    review_date: Mapped[date]


class RecordShare(Base):
    """A record shared with another agency, at a level that decides which fields it sees.

    One row per record and agency; sharing again changes the level, revoking keeps the row
    with ``revoked_at`` set so the history of who could see what stays answerable.
    """

    __tablename__ = "record_shares"
    __table_args__ = (
        UniqueConstraint("entity_type", "entity_id", "agency_code"),
        Index("ix_record_shares_agency", "agency_code", "entity_type"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(10))
    entity_id: Mapped[uuid.UUID]
    agency_code: Mapped[str] = mapped_column(String(10))
    level: Mapped[str] = mapped_column(String(12))
    shared_at: Mapped[datetime]
    shared_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(64))


class RecordGrant(Base):
    """A named user or team allowed to see a restricted record."""

    __tablename__ = "record_grants"
    __table_args__ = (Index("ix_record_grants_entity", "entity_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(10))
    entity_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id"))
    granted_at: Mapped[datetime]
    granted_by: Mapped[str] = mapped_column(String(64))
