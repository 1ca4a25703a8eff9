"""Alembic environment: runs on the engine handed over by ``bluelight.migrations``."""

from __future__ import annotations

from alembic import context

from bluelight.audit import models as _audit  # noqa: F401  (tables register on import)
from bluelight.db import Base
from bluelight.identity import models as _identity  # noqa: F401
from bluelight.records import models as _records  # noqa: F401  (tables register on import)
from bluelight.vocab import models as _vocab  # noqa: F401

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
