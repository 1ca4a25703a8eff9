"""Records for the browser tests, made through the services as the demo loader makes them
(the server reads the same database)."""

from __future__ import annotations

from typing import Any

import msgspec

from bluelight.audit import Justification
from bluelight.db import Database
from bluelight.identity import system_actor
from bluelight.records.kinds import BY_NAME
from bluelight.records.services import create_record

ACTOR = system_actor("DEMO")
WHY = Justification("DATA-QUALITY", "loading the test force")


def seed(db: Database, kind: str, /, **fields: Any) -> Any:
    """Create one record of ``kind`` through the service, as the demo loader does."""
    k = BY_NAME[kind]
    return create_record(db, k, msgspec.convert(fields, k.create), actor=ACTOR, why=WHY)


def seed_person(db: Database, family: str, given: str = "", **fields: Any) -> Any:
    return seed(db, "person", names=[{"family_name": family, "given_names": given}], **fields)
