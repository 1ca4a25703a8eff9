"""``bluelight audit verify|head|export`` and ``bluelight db grant-app-role``, run as an
operator runs them against the test database."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy import text as sql
from typer.testing import CliRunner

from bluelight.audit import Action, record
from bluelight.audit import cli as audit_cli
from bluelight.audit.models import AuditEntry, TreeHead
from bluelight.audit.rules import draft
from bluelight.audit.schemas import EntryRead
from bluelight.cli import app as cli
from bluelight.db import Database
from bluelight.kernel import new_id
from bluelight.kernel.crypto import load_or_create_signing_key
from bluelight.settings import get_settings

runner = CliRunner()


@dataclass(frozen=True)
class Someone:
    user_id: str
    username: str
    agency: str = "DEMO"
    device_id: str | None = "tablet-7"


ALICE = Someone("01a1ff9c-0000-7000-8000-00000000000a", "pc.alice")
BOB = Someone("01a1ff9c-0000-7000-8000-00000000000b", "pc.bob")
PERSON = "01a1ff9c-0000-7000-8000-0000000000f1"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def keys(
    migrated: tuple[Engine, str], db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """The command line's settings point at the test database; returns the keys folder."""
    _, url = migrated
    monkeypatch.setenv("BLUELIGHT_DATABASE_URL", url)
    monkeypatch.setenv("BLUELIGHT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BLUELIGHT_ENV", "test")
    # Wide enough for a hash on one line. The consoles are made at import, when a pytest-xdist
    # worker's COLUMNS=80 fixes their width, so the width is set on them, not in the env.
    for console in (audit_cli.out, audit_cli.err):
        monkeypatch.setattr(console, "_width", 200)
    get_settings.cache_clear()
    yield tmp_path / "keys"
    get_settings.cache_clear()


def run(*args: str) -> Result:
    result = runner.invoke(cli, list(args))
    # A refusal is a message and an exit code, never a traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def text(result: Result) -> str:
    return " ".join(result.output.replace("│", " ").split())


def a_trail(db: Database) -> None:
    """Six entries: Alice reads a person three times an hour apart, Bob twice, one creation."""
    for hour, who in enumerate((ALICE, BOB, ALICE, BOB, ALICE)):
        record(
            db,
            draft(
                who,
                Action.CONSULTATION,
                "records:person:read",
                at=START + timedelta(hours=hour),
                id=new_id(),
                subject_type="person",
                subject_ids=[PERSON],
            ),
        )
    record(
        db,
        draft(
            ALICE,
            Action.COLLECTION,
            "records:event:created",
            at=START + timedelta(hours=6),
            id=new_id(),
            subject_type="event",
            subject_ids=["01a1ff9c-0000-7000-8000-0000000000e1"],
            detail={"note": 'a, "quoted" value'},
        ),
    )


def entries(db: Database) -> list[AuditEntry]:
    with db.read() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        session.expunge_all()
        return rows


def test_head_signs_the_tree_as_it_stands_with_the_server_key(keys: Path, db: Database) -> None:
    a_trail(db)

    result = run("audit", "head")

    assert result.exit_code == 0, result.output
    key = load_or_create_signing_key(keys / "audit-signing.pem")
    with db.read() as session:
        head = session.scalars(select(TreeHead)).one()
        session.expunge_all()
    assert head.tree_size == 6
    assert head.key_id == key.key_id
    shown = text(result)
    assert "tree size 6" in shown
    assert f"root hash {head.root_hash.hex()}" in shown
    assert f"key id {key.key_id}" in shown
    assert f"signature {head.signature.hex()}" in shown


def test_verify_an_untouched_trail_exits_0_with_its_counts(keys: Path, db: Database) -> None:
    a_trail(db)
    run("audit", "head")
    record(db, draft(BOB, Action.CONSULTATION, "records:person:read", at=START, id=new_id()))

    result = run("audit", "verify")

    assert result.exit_code == 0, result.output
    shown = text(result)
    assert "entries 7" in shown
    assert "signed tree heads checked 1" in shown
    assert "entries after the last signed head 1" in shown
    assert "intact" in shown


def test_verify_after_an_edit_in_the_database_exits_1_naming_the_entry(
    keys: Path, db: Database
) -> None:
    a_trail(db)
    run("audit", "head")
    with db.write() as session:
        session.execute(
            update(AuditEntry).where(AuditEntry.seq == 2).values(actor_username="pc.nobody")
        )

    result = run("audit", "verify")

    assert result.exit_code == 1
    shown = text(result)
    assert "NOT INTACT" in shown
    assert "entry 2 was altered" in shown
    assert "tree head at size 6" in shown


def test_verify_after_a_deletion_exits_1(keys: Path, db: Database) -> None:
    a_trail(db)
    run("audit", "head")
    with db.write() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 5))

    result = run("audit", "verify")

    assert result.exit_code == 1
    assert "covers more entries than the trail holds" in text(result)


def test_verify_checks_heads_against_the_public_key_given(keys: Path, db: Database) -> None:
    a_trail(db)
    run("audit", "head")
    own = load_or_create_signing_key(keys / "audit-signing.pem").public_bytes().hex()
    other = load_or_create_signing_key(keys / "someone-else.pem").public_bytes().hex()

    with_own = run("audit", "verify", "--public-key", own)
    with_other = run("audit", "verify", "--public-key", other)
    malformed = run("audit", "verify", "--public-key", "abc")

    assert with_own.exit_code == 0, with_own.output
    assert with_other.exit_code == 1
    assert "the signature does not verify" in text(with_other)
    assert malformed.exit_code == 1
    assert "64 hex digits" in text(malformed)


WHY = ("--reason", "AUDIT-REVIEW", "--reason-text", "complaint 2026/114")


def _exported_entry(db: Database) -> AuditEntry:
    last = entries(db)[-1]
    assert last.tag == "audit:trail:exported"
    return last


def test_export_json_writes_every_entry_oldest_first_and_is_audited(
    keys: Path, db: Database
) -> None:
    a_trail(db)

    result = run("audit", "export", *WHY, "--format", "json")

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    stored = entries(db)
    # The export's own disclosure is written before the entries are read, so it is included.
    assert [line["seq"] for line in lines] == [e.seq for e in stored] == list(range(7))
    assert lines[5]["detail"] == {"note": 'a, "quoted" value'}
    assert set(lines[0]) == set(EntryRead.__struct_fields__)
    audited = _exported_entry(db)
    assert audited.action == Action.DISCLOSURE
    assert audited.actor_username == "system"
    assert audited.detail["format"] == "json"
    assert audited.detail["to"] == "standard output"
    assert (audited.reason_code, audited.reason_text) == ("AUDIT-REVIEW", "complaint 2026/114")


@pytest.mark.parametrize(
    ("why", "says"),
    [
        ((), "Missing option '--reason'"),
        (("--reason", "AUDIT-REVIEW"), "Missing option '--reason-text'"),
        (("--reason", "NOSY", "--reason-text", "just looking"), "not a reason for access"),
        (("--reason", "AUDIT-REVIEW", "--reason-text", "  "), "say why in words"),
        (("--reason", "AUDIT-REVIEW", "--reason-text", "a\u202eb c"), "formatting character"),
    ],
    ids=["no-reason", "no-text", "unknown-code", "blank-text", "bidi-override"],
)
def test_export_without_a_good_reason_is_refused_and_exports_nothing(
    keys: Path, db: Database, why: tuple[str, ...], says: str
) -> None:
    a_trail(db)
    result = run("audit", "export", *why)
    assert result.exit_code in (1, 2)
    assert says in text(result)
    assert result.stdout == ""
    assert len(entries(db)) == 6


def test_export_csv_filters_by_user_and_time_into_a_file(
    keys: Path, db: Database, tmp_path: Path
) -> None:
    a_trail(db)
    target = tmp_path / "alice.csv"

    result = run(
        "audit", "export", *WHY, "--format", "csv", "--user", "pc.alice",
        "--since", "2026-03-01T10:00:00+00:00", "--until", "2026-03-01T16:00",
        "--output", str(target),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [(r["username"], r["at"][:16]) for r in rows] == [
        ("pc.alice", "2026-03-01T11:00"),
        ("pc.alice", "2026-03-01T13:00"),
        ("pc.alice", "2026-03-01T15:00"),
    ]
    assert json.loads(rows[0]["subject_ids"]) == [PERSON]
    assert "3 entries exported" in text(result)
    audited = _exported_entry(db)
    assert audited.detail["user"] == "pc.alice"
    assert audited.detail["to"] == str(target)


def test_export_by_subject_answers_who_looked_at_this_person(keys: Path, db: Database) -> None:
    a_trail(db)

    result = run("audit", "export", *WHY, "--subject", PERSON)

    usernames = [json.loads(line)["username"] for line in result.stdout.splitlines()]
    # The export is a disclosure about this person too, so it answers for itself last.
    assert usernames == ["pc.alice", "pc.bob", "pc.alice", "pc.bob", "pc.alice", "system"]
    assert _exported_entry(db).subject_ids == [PERSON]


def test_export_refuses_bad_times_or_an_unwritable_file_and_writes_nothing(
    keys: Path, db: Database
) -> None:
    a_trail(db)

    unreadable = run("audit", "export", *WHY, "--since", "last tuesday")
    backwards = run("audit", "export", *WHY, "--since", "2026-03-02", "--until", "2026-03-01")
    nowhere = run("audit", "export", *WHY, "--output", str(keys / "no-such-folder" / "out.json"))

    assert unreadable.exit_code == 1
    assert "--since takes a date or time" in text(unreadable)
    assert backwards.exit_code == 1
    assert "--until must be after --since" in text(backwards)
    assert nowhere.exit_code == 2
    assert "no-such-folder" in text(nowhere)
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 6


def test_grant_app_role_print_only_prints_the_grants_and_revokes(keys: Path) -> None:
    result = run("db", "grant-app-role", "bluelight_app", "--print-only")

    assert result.exit_code == 0, result.output
    statements = [s for s in result.stdout.splitlines() if s.strip()]
    assert any(s.upper().startswith("GRANT") for s in statements)
    assert any(s.upper().startswith("REVOKE") for s in statements)
    assert all("bluelight_app" in s for s in statements if s.upper().startswith("GRANT"))
    assert any("audit_entries" in s for s in statements)


def test_grant_app_role_refuses_a_name_that_is_not_a_plain_identifier(keys: Path) -> None:
    result = run("db", "grant-app-role", 'app"; DROP TABLE audit_entries; --', "--print-only")

    assert result.exit_code == 1
    assert "is not a plain identifier" in text(result)
    assert "GRANT" not in result.stdout


def test_grant_app_role_leaves_the_role_unable_to_change_the_trail(
    keys: Path, db: Database
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    role = f"t_app_{uuid.uuid4().hex[:10]}"
    with db.engine.begin() as conn:
        schema = conn.execute(sql("SELECT current_schema()")).scalar_one()
        conn.execute(sql(f'CREATE ROLE "{role}" NOLOGIN'))
    try:
        result = run("db", "grant-app-role", role, "--schema", schema)
        with db.engine.connect() as conn:
            may = {
                (table, privilege): conn.execute(
                    sql("SELECT has_table_privilege(:role, :table, :privilege)"),
                    {"role": role, "table": f"{schema}.{table}", "privilege": privilege},
                ).scalar_one()
                for table in ("audit_entries", "persons")
                for privilege in ("INSERT", "UPDATE", "DELETE")
            }
    finally:
        with db.engine.begin() as conn:
            conn.execute(sql(f'DROP OWNED BY "{role}"'))
            conn.execute(sql(f'DROP ROLE "{role}"'))

    assert result.exit_code == 0, result.output
    assert may == {
        ("audit_entries", "INSERT"): True,
        ("audit_entries", "UPDATE"): False,
        ("audit_entries", "DELETE"): False,
        ("persons", "INSERT"): True,
        ("persons", "UPDATE"): True,
        ("persons", "DELETE"): True,
    }


def test_grant_app_role_refuses_sqlite(
    keys: Path, db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BLUELIGHT_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    get_settings.cache_clear()

    result = run("db", "grant-app-role", "bluelight_app")

    assert result.exit_code == 2
    assert "PostgreSQL" in result.output
