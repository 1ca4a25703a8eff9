"""POLE records, force code mappings and the change log.

The first schema: persons, vehicles, property, locations, events, links and warning markers,
each versioned and softly deleted; the force mappings of local codes to national ones; and the
change log that holds every version of every record.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column(
            "snapshot",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_change_log")),
    )
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_change_log_entity",
            ["entity_type", "entity_id", "version"],
            unique=False,
        )

    op.create_table(
        "force_code_mappings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("force_code", sa.String(length=10), nullable=False),
        sa.Column("list_name", sa.String(length=40), nullable=False),
        sa.Column("local_code", sa.String(length=40), nullable=False),
        sa.Column("local_label", sa.String(length=200), nullable=False),
        sa.Column("national_code", sa.String(length=40), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_force_code_mappings")),
        sa.UniqueConstraint(
            "force_code",
            "list_name",
            "local_code",
            name=op.f("uq_force_code_mappings_force_code_list_name_local_code"),
        ),
    )
    op.create_table(
        "links",
        sa.Column("link_type", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=True),
        sa.Column("from_type", sa.String(length=10), nullable=False),
        sa.Column("from_id", sa.Uuid(), nullable=False),
        sa.Column("to_type", sa.String(length=10), nullable=False),
        sa.Column("to_id", sa.Uuid(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.String(length=1000), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner_agency", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.String(length=80), nullable=True),
        sa.Column("deletion_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "original_codes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_links")),
    )
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.create_index("ix_links_from", ["from_id", "link_type"], unique=False)
        batch_op.create_index("ix_links_to", ["to_id", "link_type"], unique=False)

    op.create_table(
        "locations",
        sa.Column("name", sa.String(length=150), nullable=True),
        sa.Column("location_type", sa.String(length=40), nullable=True),
        sa.Column("premises", sa.String(length=100), nullable=True),
        sa.Column("street", sa.String(length=150), nullable=True),
        sa.Column("locality", sa.String(length=100), nullable=True),
        sa.Column("town", sa.String(length=100), nullable=True),
        sa.Column("postcode", sa.String(length=8), nullable=True),
        sa.Column("uprn", sa.String(length=12), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("h3_cell", sa.String(length=16), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner_agency", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.String(length=80), nullable=True),
        sa.Column("deletion_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "original_codes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
    )
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.create_index("ix_locations_h3_cell", ["h3_cell"], unique=False)
        batch_op.create_index("ix_locations_postcode", ["postcode"], unique=False)

    op.create_table(
        "persons",
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("given_names", sa.String(length=150), nullable=False),
        sa.Column("family_name_key", sa.String(length=100), nullable=False),
        sa.Column("given_names_key", sa.String(length=150), nullable=False),
        sa.Column(
            "names",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("age_min", sa.Integer(), nullable=True),
        sa.Column("age_max", sa.Integer(), nullable=True),
        sa.Column("sex", sa.String(length=40), nullable=True),
        sa.Column("ethnicity_officer", sa.String(length=40), nullable=True),
        sa.Column("ethnicity_self", sa.String(length=40), nullable=True),
        sa.Column("height_cm", sa.Integer(), nullable=True),
        sa.Column("build", sa.String(length=40), nullable=True),
        sa.Column("hair_colour", sa.String(length=40), nullable=True),
        sa.Column("hair_length", sa.String(length=40), nullable=True),
        sa.Column("hair_style", sa.String(length=40), nullable=True),
        sa.Column("eye_colour", sa.String(length=40), nullable=True),
        sa.Column("facial_hair", sa.String(length=40), nullable=True),
        sa.Column(
            "marks",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "identifiers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner_agency", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.String(length=80), nullable=True),
        sa.Column("deletion_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "original_codes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index("ix_persons_date_of_birth", ["date_of_birth"], unique=False)
        # Pattern ops let PostgreSQL answer name-prefix filters (LIKE 'SMI%') from the index
        # whatever the database's collation.
        batch_op.create_index(
            "ix_persons_name_key",
            ["family_name_key", "given_names_key"],
            unique=False,
            postgresql_ops={
                "family_name_key": "varchar_pattern_ops",
                "given_names_key": "varchar_pattern_ops",
            },
        )

    op.create_table(
        "property_items",
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("make", sa.String(length=60), nullable=True),
        sa.Column("model", sa.String(length=60), nullable=True),
        sa.Column("serial_number", sa.String(length=60), nullable=True),
        sa.Column("colour", sa.String(length=40), nullable=True),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner_agency", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.String(length=80), nullable=True),
        sa.Column("deletion_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "original_codes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_items")),
    )
    with op.batch_alter_table("property_items", schema=None) as batch_op:
        batch_op.create_index("ix_property_items_serial_number", ["serial_number"], unique=False)

    op.create_table(
        "vehicles",
        sa.Column("vrm", sa.String(length=10), nullable=True),
        sa.Column("make", sa.String(length=40), nullable=True),
        sa.Column("model", sa.String(length=60), nullable=True),
        sa.Column("colour", sa.String(length=40), nullable=True),
        sa.Column("body_type", sa.String(length=40), nullable=True),
        sa.Column("vin", sa.String(length=17), nullable=True),
        sa.Column("year_of_manufacture", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner_agency", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.String(length=80), nullable=True),
        sa.Column("deletion_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "original_codes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicles")),
    )
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.create_index("ix_vehicles_vin", ["vin"], unique=False)
        batch_op.create_index("ix_vehicles_vrm", ["vrm"], unique=False)

    op.create_table(
        "warning_markers",
        sa.Column("subject_type", sa.String(length=10), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("marker", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=1000), nullable=True),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner_agency", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.String(length=80), nullable=True),
        sa.Column("deletion_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "original_codes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warning_markers")),
    )
    with op.batch_alter_table("warning_markers", schema=None) as batch_op:
        batch_op.create_index("ix_warning_markers_subject", ["subject_id", "marker"], unique=False)

    op.create_table(
        "events",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("reference", sa.String(length=30), nullable=True),
        sa.Column("occurred_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurred_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("incident_type", sa.String(length=40), nullable=False),
        sa.Column(
            "qualifiers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("offence", sa.String(length=40), nullable=True),
        sa.Column("narrative", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner_agency", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.String(length=80), nullable=True),
        sa.Column("deletion_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "original_codes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_events_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_location_id", ["location_id"], unique=False)
        batch_op.create_index("ix_events_occurred_from", ["occurred_from"], unique=False)
        batch_op.create_index("ix_events_reference", ["reference"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_reference")
        batch_op.drop_index("ix_events_occurred_from")
        batch_op.drop_index("ix_events_location_id")

    op.drop_table("events")
    with op.batch_alter_table("warning_markers", schema=None) as batch_op:
        batch_op.drop_index("ix_warning_markers_subject")

    op.drop_table("warning_markers")
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.drop_index("ix_vehicles_vrm")
        batch_op.drop_index("ix_vehicles_vin")

    op.drop_table("vehicles")
    with op.batch_alter_table("property_items", schema=None) as batch_op:
        batch_op.drop_index("ix_property_items_serial_number")

    op.drop_table("property_items")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index("ix_persons_name_key")
        batch_op.drop_index("ix_persons_date_of_birth")

    op.drop_table("persons")
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_index("ix_locations_postcode")
        batch_op.drop_index("ix_locations_h3_cell")

    op.drop_table("locations")
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_index("ix_links_to")
        batch_op.drop_index("ix_links_from")

    op.drop_table("links")
    op.drop_table("force_code_mappings")
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.drop_index("ix_change_log_entity")

    op.drop_table("change_log")
