"""Alembic environment: runs on the engine handed over by ``bluelight.migrations``."""

from __future__ import annotations

from alembic import context

from bluelight.audit import models as _audit  # noqa: F401  (tables register on import)
from bluelight.changes import models as _changes  # noqa: F401
from bluelight.db import Base
from bluelight.identity import models as _identity  # noqa: F401
from bluelight.records import models as _records  # noqa: F401  (tables register on import)
from bluelight.sync import models as _sync  # noqa: F401
from bluelight.vocab import models as _vocab  # noqa: F401

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite alters a table by rebuilding it (copy, drop, rename), and dropping a table
        # that other rows point at fails while foreign keys are on. They are turned off for
        # the migration (outside any transaction, where SQLite accepts it), and every key is
        # checked before they are turned on again.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    msg = f"the migration left rows pointing at nothing: {broken[:5]}"
                    raise RuntimeError(msg)
        connection.commit()
    finally:
        if sqlite:
            connection.rollback()
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
