"""The change log's visibility columns are required from now on (0004 filled them).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.alter_column("owner_agency", existing_type=sa.String(length=10), nullable=False)
        batch_op.alter_column(
            "classification",
            existing_type=sa.String(length=30),
            existing_server_default="OFFICIAL",
            nullable=False,
        )
        batch_op.alter_column(
            "restricted",
            existing_type=sa.Boolean(),
            existing_server_default=sa.false(),
            nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.alter_column("restricted", existing_type=sa.Boolean(), nullable=True)
        batch_op.alter_column("classification", existing_type=sa.String(length=30), nullable=True)
        batch_op.alter_column("owner_agency", existing_type=sa.String(length=10), nullable=True)
