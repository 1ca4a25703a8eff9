"""The change log as a feed: who may see each change.

Adds to every change-log row the owning agency, the classification and the restricted flag
the change left its record with, so sync pull can filter the feed by what a user may see
without reading the records; and an index to read one agency's changes in order. The columns
are nullable here: 0004 fills them for the rows already there, 0005 makes them required.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_agency", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column(
                "classification", sa.String(length=30), server_default="OFFICIAL", nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("restricted", sa.Boolean(), server_default=sa.false(), nullable=True)
        )
        batch_op.create_index("ix_change_log_owner_agency_seq", ["owner_agency", "seq"])


def downgrade() -> None:
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.drop_index("ix_change_log_owner_agency_seq")
        batch_op.drop_column("restricted")
        batch_op.drop_column("classification")
        batch_op.drop_column("owner_agency")
