"""Fill the change log's visibility columns for the rows written before 0003.

Each row's snapshot holds the record as the change left it, owning agency, classification
and restricted flag included (a snapshot from before 0002, which had neither of the last two,
counts as OFFICIAL and unrestricted, as 0002 made every record then). Data only; the
downgrade empties the columns again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE = """
UPDATE change_log SET
    owner_agency = json_extract(snapshot, '$.owner_agency'),
    classification = coalesce(json_extract(snapshot, '$.classification'), 'OFFICIAL'),
    restricted = coalesce(json_extract(snapshot, '$.restricted'), 0)
WHERE owner_agency IS NULL
"""
POSTGRESQL = """
UPDATE change_log SET
    owner_agency = snapshot->>'owner_agency',
    classification = coalesce(snapshot->>'classification', 'OFFICIAL'),
    restricted = coalesce((snapshot->>'restricted')::boolean, false)
WHERE owner_agency IS NULL
"""


def upgrade() -> None:
    bind = op.get_bind()
    op.execute(SQLITE if bind.dialect.name == "sqlite" else POSTGRESQL)


def downgrade() -> None:
    op.execute(
        "UPDATE change_log SET owner_agency = NULL, classification = NULL, restricted = NULL"
    )
