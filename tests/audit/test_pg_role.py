"""On PostgreSQL, the application's role (set up by ``grant_statements``) runs Bluelight, and
may add to the audit trail but never change or remove what it holds.

The tables belong to the role that ran the migrations; the tests connect as that role and act
as the application's with ``role`` set for the session, as a server logging in as it would.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient
from psycopg.errors import InsufficientPrivilege
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError

from bluelight.app import create_app
from bluelight.audit import Action, Justification, TreeSigner, append, draft, record
from bluelight.audit.pgrole import AUDIT_TABLES, grant_statements
from bluelight.audit.verification import verify
from bluelight.db import Database, make_engine
from bluelight.identity import system_actor
from bluelight.kernel import new_id, utcnow
from bluelight.kernel.crypto import SigningKey, load_or_create_signing_key
from bluelight.records.kinds import BY_NAME
from bluelight.records.schemas import Deletion
from bluelight.records.services import create_record, delete_record, update_record
from bluelight.settings import Settings
from factories import API, auth_headers, person_payload, settings_for_tests

needs_postgresql = pytest.mark.skipif(
    not os.environ.get("BLUELIGHT_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="database roles are PostgreSQL's: set BLUELIGHT_TEST_DATABASE_URL to a PostgreSQL "
    "database to run these (CI's PostgreSQL leg does)",
)

ACTOR = system_actor("DEMO")
WHY = Justification("DATA-QUALITY", "loading the test force")


def test_grants_leave_the_audit_tables_select_and_insert_only() -> None:
    statements = grant_statements("app", "bl")
    audit = '"bl"."audit_entries", "bl"."audit_subjects", "bl"."audit_tree_heads"'
    assert statements == [
        'GRANT USAGE ON SCHEMA "bl" TO "app"',
        'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "bl" TO "app"',
        f'REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {audit} FROM "app"',
        f'GRANT SELECT, INSERT ON {audit} TO "app"',
        'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "bl" TO "app"',
    ]


def test_names_that_are_not_plain_identifiers_are_refused() -> None:
    for bad in ('app"; DROP TABLE audit_entries; --', "App", "1app", "", "a" * 64, "app\n"):
        with pytest.raises(ValueError, match="not a plain identifier"):
            grant_statements(bad)
        with pytest.raises(ValueError, match="not a plain identifier"):
            grant_statements("bluelight_app", bad)
    assert (
        grant_statements("a" * 63, "_schema_1")[0]
        == f'GRANT USAGE ON SCHEMA "_schema_1" TO "{"a" * 63}"'
    )


@pytest.fixture(scope="module")
def app_role(migrated: tuple[Engine, str]) -> Iterator[str]:
    """A role made for this run (roles are the server's, not one database's), granted what
    ``grant_statements`` says on the test schema, and dropped at the end."""
    engine, _ = migrated
    role = f"bluelight_app_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        conn.execute(text(f'CREATE ROLE "{role}" NOLOGIN'))
        for statement in grant_statements(role, schema):
            conn.execute(text(statement))
    yield role
    with engine.begin() as conn:
        conn.execute(text(f'DROP OWNED BY "{role}"'))
        conn.execute(text(f'DROP ROLE "{role}"'))


@pytest.fixture(scope="module")
def as_app(migrated: tuple[Engine, str], app_role: str) -> Iterator[Database]:
    """The test database, every connection acting as the application's role."""
    _, url = migrated
    assert "options=" in url
    engine = make_engine(url.replace("options=", f"options=-crole%3D{app_role}%20", 1))
    yield Database(engine)
    engine.dispose()


@pytest.fixture
def key(tmp_path: Path) -> SigningKey:
    return load_or_create_signing_key(tmp_path / "audit-signing.pem")


def a_draft(n: int = 0) -> Any:
    return draft(
        ACTOR,
        Action.CONSULTATION,
        "records:person:read",
        at=utcnow(),
        id=new_id(),
        subject_type="person",
        subject_ids=[f"person-{n}"],
    )


@needs_postgresql
def test_connections_act_as_the_application_role(as_app: Database, app_role: str) -> None:
    with as_app.read() as session:
        assert session.execute(text("SELECT current_user")).scalar_one() == app_role
        owns = session.execute(
            text(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
                "AND tableowner = current_user"
            )
        ).scalar_one()
    assert owns == 0, "the application's role must not own the tables it is kept out of"


@needs_postgresql
def test_application_role_adds_to_the_trail_and_signs_heads(
    db: Database, as_app: Database, key: SigningKey
) -> None:
    # In the caller's transaction, in one of its own, and a signed head over them
    with as_app.write() as session:
        assert append(session, [a_draft(0), a_draft(1)]) == [0, 1]
    assert record(as_app, a_draft(2)) == [2]
    head = TreeSigner(as_app, key).sign()
    assert head.tree_size == 3

    report = verify(as_app, key.public_bytes())
    assert report.intact, report.problems
    assert report.heads_checked == 1


# A change to each audit table that would matter if the database allowed it.
REWRITES = {
    "audit_entries": "UPDATE audit_entries SET reason_text = 'nothing to see here'",
    "audit_subjects": "UPDATE audit_subjects SET subject_id = 'someone-else'",
    "audit_tree_heads": "UPDATE audit_tree_heads SET tree_size = tree_size + 1",
}


@needs_postgresql
@pytest.mark.parametrize("table", AUDIT_TABLES)
@pytest.mark.parametrize(
    "statement",
    ["{rewrite}", "DELETE FROM {table}", "TRUNCATE {table}"],
    ids=["update", "delete", "truncate"],
)
def test_application_role_cannot_change_or_remove_the_trail(
    db: Database, as_app: Database, key: SigningKey, table: str, statement: str
) -> None:
    # Given a trail with entries, their subjects and a signed head (so there is something)
    record(as_app, *(a_draft(n) for n in range(3)))
    TreeSigner(as_app, key).sign()

    # When the application's role tries to rewrite it, it is refused by the database
    with pytest.raises(ProgrammingError) as refused, as_app.write() as session:
        session.execute(text(statement.format(table=table, rewrite=REWRITES[table])))
    assert isinstance(refused.value.orig, InsufficientPrivilege)
    assert "permission denied" in str(refused.value.orig)

    # And the trail is as it was
    report = verify(as_app, key.public_bytes())
    assert report.intact, report.problems
    assert report.entries == 3


@needs_postgresql
def test_application_role_keeps_records_with_their_audit(db: Database, as_app: Database) -> None:
    # Records are created, changed and deleted by the services, each with its entry
    kind = BY_NAME["person"]
    created = create_record(
        as_app, kind, msgspec.convert(person_payload(), kind.create), actor=ACTOR, why=WHY
    )
    changed = update_record(
        as_app,
        kind,
        created.id,
        msgspec.convert({"version": created.version, "sex": "F"}, kind.update),
        actor=ACTOR,
        why=WHY,
    )
    delete_record(
        as_app,
        kind,
        created.id,
        Deletion(version=changed.version, reason="entered in error"),
        actor=ACTOR,
        why=WHY,
    )
    with as_app.read() as session:
        tags = list(session.scalars(text("SELECT tag FROM audit_entries ORDER BY seq")))
        # And the other tables are the application's to change, as a raw statement shows
        session.execute(text("DELETE FROM sign_in_failures"))
    assert tags == ["records:person:created", "records:person:updated", "records:person:deleted"]


@needs_postgresql
def test_server_runs_as_the_application_role(
    db: Database, as_app: Database, tmp_path: Path, migrated: tuple[Engine, str]
) -> None:
    # Given the whole server connected as the application's role
    settings: Settings = settings_for_tests(migrated[1], tmp_path)
    with TestClient(create_app(settings, database=as_app)) as client:
        # When a user signs in, records a person, reads them, and an auditor signs and asks
        client.headers.update(auth_headers(client))
        person = client.post(f"{API}/persons", json=person_payload())
        read = client.get(f"{API}/persons/{person.json()['id']}")
        head = client.post(f"{API}/audit/tree-heads")
        looked = client.get(f"{API}/audit/entries", params={"subject": person.json()["id"]})
        key = bytes.fromhex(client.get(f"{API}/audit/key").json()["public_key"])

    # Then everything works
    assert [r.status_code for r in (person, read, head, looked)] == [201, 200, 200, 200]
    assert [i["tag"] for i in looked.json()["items"]] == [
        "records:person:read",
        "records:person:created",
    ]
    report = verify(as_app, key)
    assert report.intact, report.problems
    assert report.heads_checked == 1
