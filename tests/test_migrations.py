"""The migrations build the schema the models describe, and go down and up again, on an empty
database and on one holding records, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select, text

from bluelight.audit import Justification, TreeSigner
from bluelight.db import Base, Database
from bluelight.identity import Actor, Role, permissions_of, system_actor
from bluelight.identity.errors import IdentityError
from bluelight.identity.models import Agency, Team, TeamMember, User
from bluelight.identity.schemas import AgencyCreate, UserCreate
from bluelight.identity.services import (
    IdentityPolicy,
    create_agency,
    create_user,
    finish_sign_in,
    start_sign_in,
)
from bluelight.kernel import new_id, utcnow
from bluelight.kernel.crypto import SecretBox, load_or_create_signing_key, totp_code
from bluelight.migrations import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    table_names,
    upgrade,
)
from bluelight.records import models  # noqa: F401  (the record tables join the metadata)
from bluelight.records.kinds import BY_NAME
from bluelight.records.restriction import change_access
from bluelight.records.schemas import AccessChange, ShareCreate
from bluelight.records.services import create_record
from bluelight.records.shares import share_record
from bluelight.sync import PushBatch, push
from bluelight.vocab import models as vocab_models  # noqa: F401  (so does the mapping table)
from bluelight.vocab.services import import_mapping

TABLES = {t.name for t in Base.metadata.sorted_tables}
RECORD_TABLES = {kind.model.__tablename__ for kind in BY_NAME.values()} | {"change_log"}
PASSWORD = "migrations test password"
WHY = Justification("DATA-QUALITY", "loading the test force")


@pytest.fixture
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A new, empty database of the kind the suite runs on (SQLite file or PostgreSQL schema)."""
    # tests/ is not a package, so its conftest is reached as the plugin pytest loaded.
    shared = request.config.pluginmanager.get_plugin(str(Path(__file__).with_name("conftest.py")))
    scratch_engine: Callable[[Path, str], tuple[Engine, str, Any]] = shared.scratch_engine
    engine, _url, drop = scratch_engine(tmp_path, "migrations")
    yield engine
    drop()


def _populate_identity(db: Database, keys: Path) -> None:
    """Two agencies, a user who signed in (device, session, recovery codes) and then got the
    password wrong, and a team: every identity table holds a row."""
    actor = system_actor("DEMO")
    policy = IdentityPolicy(secrets=SecretBox.load_or_create(keys / "secrets.key"))
    for code, kind in (("DEMO", "police"), ("FIRE", "fire")):
        agency = {"code": code, "name": f"{code} agency", "type": kind}
        create_agency(db, msgspec.convert(agency, AgencyCreate), actor=actor)
    user = create_user(
        db,
        policy,
        msgspec.convert(
            {
                "username": "pc.okafor",
                "display_name": "PC Okafor",
                "password": PASSWORD,
                "roles": ["officer"],
            },
            UserCreate,
        ),
        actor=actor,
    )
    device = {"device_id": new_id(), "device_name": "tablet"}
    due = start_sign_in(db, policy, username="pc.okafor", password=PASSWORD, **device)
    assert due.enrolment is not None
    finish_sign_in(
        db, policy, challenge=due.challenge, code=totp_code(due.enrolment.secret, utcnow())
    )
    with pytest.raises(IdentityError):
        start_sign_in(db, policy, username="pc.okafor", password="not the password", **device)
    with db.write() as session:
        agency_id = session.scalars(select(Agency.id).where(Agency.code == "DEMO")).one()
        team = Team(id=new_id(), agency_id=agency_id, name="burglary", created_at=utcnow())
        session.add(team)
        session.flush()
        session.add(TeamMember(team_id=team.id, user_id=user.id))


def _populate(engine: Engine, keys: Path) -> dict[str, int]:
    """Store one record of each kind, a force mapping and their history, through the services;
    users and their sign-in; a share, a restriction naming a user and a team; the audit trail
    these wrote, and a signed tree head."""
    db = Database(engine)
    actor = system_actor("DEMO")
    now = datetime.now(UTC)
    _populate_identity(db, keys)

    def create(kind_name: str, /, **content: Any) -> Any:
        data = msgspec.convert(content, BY_NAME[kind_name].create)
        return create_record(db, BY_NAME[kind_name], data, actor=actor, why=WHY)

    person = create("person", names=[{"family_name": "Okafor"}], sex="M")
    place = create("location", street="Mansfield Road", postcode="NG1 3FN")
    event = create(
        "event",
        kind="incident",
        incident_type="ASB-NUISANCE",
        occurred_from=(now - timedelta(hours=1)).isoformat(),
        location_id=str(place.id),
    )
    create("vehicle", vrm="AB12CDE", make="FORD")
    create("property", category="BICYCLE")
    create(
        "link",
        link_type="involved-in",
        role="witness",
        from_type="person",
        from_id=str(person.id),
        to_type="event",
        to_id=str(event.id),
    )
    create(
        "marker",
        subject_type="person",
        subject_id=str(person.id),
        marker="VI",
        review_date=(now + timedelta(days=90)).date().isoformat(),
    )
    import_mapping(db, force_code="WMP", list_name="sex", csv_text="1,Male,M\n", actor=actor)
    share_record(
        db,
        BY_NAME["event"],
        event.id,
        ShareCreate(agency="FIRE", level="location"),
        actor=actor,
        why=Justification("INVESTIGATION", "joint operation"),
    )
    change_access(
        db,
        BY_NAME["person"],
        person.id,
        AccessChange(
            version=person.version, restricted=True, users=["pc.okafor"], teams=["burglary"]
        ),
        actor=actor,
        why=WHY,
    )
    with db.read() as session:
        officer_id = session.scalars(select(User.id).where(User.username == "pc.okafor")).one()
    push(
        db,
        msgspec.convert(
            {
                "operations": [
                    {"id": str(new_id()), "kind": "property", "action": "create",
                     "record_id": str(new_id()), "content": {"category": "BICYCLE"}}
                ]
            },
            PushBatch,
        ),
        actor=Actor(
            str(officer_id),
            "pc.okafor",
            "DEMO",
            permissions_of({Role.OFFICER}),
            device_id=str(new_id()),
        ),
    )  # fmt: skip
    TreeSigner(db, load_or_create_signing_key(keys / "audit-signing.pem")).sign()
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables
        }


def test_upgrade_builds_every_table_and_downgrade_removes_them_on_an_empty_database(
    fresh: Engine,
) -> None:
    # Given an empty database, when it is upgraded
    upgrade(fresh)

    # Then it holds every table of the models, at the head revision
    assert table_names(fresh) >= TABLES
    assert current_revision(fresh) == head_revision(fresh)

    # When it is taken down to base, then every table is gone
    downgrade(fresh, "base")
    assert table_names(fresh) & TABLES == set()
    assert current_revision(fresh) is None

    # And it can be upgraded again
    upgrade(fresh)
    assert table_names(fresh) >= TABLES


def test_downgrade_and_upgrade_work_on_a_database_holding_records(
    fresh: Engine, tmp_path: Path
) -> None:
    # Given a database with records of every kind, a mapping, their history, users who signed
    # in, a share, a restriction and the audit trail of it all: every table holds rows
    upgrade(fresh)
    counts = _populate(fresh, tmp_path)
    assert {t for t in TABLES if counts[t] == 0} == set(), counts

    # When it is taken down to base, then the tables and their rows are gone
    downgrade(fresh, "base")
    assert table_names(fresh) & TABLES == set()

    # And upgrading again gives a working, empty schema
    upgrade(fresh)
    assert current_revision(fresh) == head_revision(fresh)
    with fresh.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM persons")).scalar_one() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM audit_entries")).scalar_one() == 0
    assert _populate(fresh, tmp_path) == counts


def test_taking_identity_and_audit_away_keeps_the_records(fresh: Engine, tmp_path: Path) -> None:
    # Given a populated database at the head revision
    upgrade(fresh)
    counts = _populate(fresh, tmp_path)

    # When it is taken down to the records-only revision
    downgrade(fresh, "0001")

    # Then identity and audit are gone, but every record and its history stays
    assert current_revision(fresh) == "0001"
    assert "users" not in table_names(fresh)
    assert "audit_entries" not in table_names(fresh)
    with fresh.connect() as conn:
        for table in RECORD_TABLES:
            count = conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            assert count == counts[table], table

    # And upgrading again brings the records back as OFFICIAL and unrestricted
    upgrade(fresh)
    with fresh.connect() as conn:
        access = conn.execute(text("SELECT classification, restricted FROM persons")).all()
    assert [(c, bool(r)) for c, r in access] == [("OFFICIAL", False)]


def test_upgrade_twice_changes_nothing(fresh: Engine, tmp_path: Path) -> None:
    upgrade(fresh)
    counts = _populate(fresh, tmp_path)
    upgrade(fresh)
    with fresh.connect() as conn:
        again = {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables
        }
    assert again == counts


def test_migrated_schema_matches_the_models(fresh: Engine) -> None:
    # Given a database built by the migrations alone
    upgrade(fresh)

    # When alembic compares it with the models (tables, columns, types, indexes, constraints)
    with fresh.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    # Then it finds nothing to change
    assert differences == []


def test_every_revision_says_what_it_does_and_can_be_undone(fresh: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config(fresh))
    revisions = list(script.walk_revisions())
    assert revisions
    for revision in revisions:
        assert revision.doc, f"revision {revision.revision} has no docstring"
        assert callable(getattr(revision.module, "downgrade", None))
