"""The operation ledger and the holdings of device sync.

Every operation a device pushes is remembered by the id the device made for it, with a digest
of its content and the answer it was given, so that a replayed operation is answered from here
and never applied twice, and the same id sent with other content is refused. Each user's
holdings name the records their devices are sent by sync pull: their own work and what it
refers to, not the whole force. Each device's last push and pull, checkpoint and reported
outbox backlog are kept for the administrators' sync panel.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_operations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "problem",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_operations")),
    )
    with op.batch_alter_table("sync_operations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_operations_user_id"), ["user_id"])
        batch_op.create_index("ix_sync_operations_device_received", ["device_id", "received_at"])
    op.create_table(
        "sync_holdings",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column(
            "added_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "entity_id", name=op.f("pk_sync_holdings")),
    )
    op.create_table(
        "sync_devices",
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("last_push_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_pull_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "checkpoint", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("outbox", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_sync_devices")),
    )


def downgrade() -> None:
    op.drop_table("sync_devices")
    op.drop_table("sync_holdings")
    op.drop_table("sync_operations")
