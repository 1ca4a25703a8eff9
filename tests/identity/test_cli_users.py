"""``bluelight agencies|users|devices``, run as an administrator runs them, against the test
database; what they change is checked through the HTTP API, as a user would meet it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import Engine
from typer.testing import CliRunner

from bluelight.cli import app as cli
from bluelight.db import Database
from bluelight.identity import cli as identity_cli
from bluelight.identity import queries as identity_queries
from bluelight.identity.errors import IdentityError
from bluelight.settings import get_settings
from factories import API, TEST_PASSWORD, make_user

runner = CliRunner()
NEW_PASSWORD = "a quieter river at dawn"


@pytest.fixture
def cli_env(
    migrated: tuple[Engine, str], db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The command line's settings point at the test database (emptied after the test)."""
    _, url = migrated
    monkeypatch.setenv("BLUELIGHT_DATABASE_URL", url)
    monkeypatch.setenv("BLUELIGHT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BLUELIGHT_ENV", "test")
    monkeypatch.setenv("BLUELIGHT_PASSWORD_HASH_COST", "fast")
    # Wide enough for a table row per line. The consoles are made at import, when a pytest-xdist
    # worker's COLUMNS=80 fixes their width, so the width is set on them, not in the env.
    for console in (identity_cli.out, identity_cli.err):
        monkeypatch.setattr(console, "_width", 200)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str, stdin: str | None = None) -> Result:
    result = runner.invoke(cli, list(args), input=stdin)
    # A refusal is a message and an exit code, never a traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def text(result: Result) -> str:
    """The output with Rich's table borders and line breaks folded into single spaces."""
    return " ".join(result.output.replace("│", " ").split())


def me(door: Any, token: str) -> Any:
    return door.client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"})


def test_agencies_add_registers_an_agency_that_list_shows(cli_env: None) -> None:
    added = run("agencies", "add", "nfrs", "Nottinghamshire Fire and Rescue", "--type", "fire")
    again = run("agencies", "add", "NFRS", "Another name", "--type", "fire")
    listed = run("agencies", "list")

    assert added.exit_code == 0, added.output
    assert "agency NFRS added" in added.output
    assert again.exit_code == 1
    assert "an agency with code NFRS exists" in again.output
    assert listed.exit_code == 0
    assert "NFRS Nottinghamshire Fire and Rescue fire" in text(listed)


def test_agencies_add_refuses_a_bad_code_or_type(cli_env: None, db: Database) -> None:
    bad_code = run("agencies", "add", "N-F", "Fire", "--type", "fire")
    bad_type = run("agencies", "add", "NFRS", "Fire", "--type", "navy")

    assert bad_code.exit_code == 1
    assert "not accepted" in bad_code.output
    assert bad_type.exit_code == 2
    assert "navy" in bad_type.output
    assert identity_queries.list_agencies(db) == []


def test_users_add_refuses_a_weak_password_and_says_why(cli_env: None, db: Database) -> None:
    run("agencies", "add", "DEMO", "Demo", "--type", "police")

    result = run(
        "users", "add", "pc.weak", "--agency", "DEMO", "--role", "officer", "--password-stdin",
        stdin="Password2024!\n",
    )  # fmt: skip

    assert result.exit_code == 1
    assert "the password was refused" in result.output
    assert "commonly used password" in text(result)
    with pytest.raises(IdentityError):
        identity_queries.find_user(db, "pc.weak")


def test_users_add_refuses_two_different_passwords(cli_env: None, db: Database) -> None:
    run("agencies", "add", "DEMO", "Demo", "--type", "police")

    result = run(
        "users", "add", "pc.typo", "--agency", "DEMO", "--role", "officer",
        stdin=f"{NEW_PASSWORD}\n{NEW_PASSWORD}x\n",
    )  # fmt: skip

    assert result.exit_code == 1
    assert "the two passwords differ" in result.output
    assert NEW_PASSWORD not in result.output  # typed without echo
    with pytest.raises(IdentityError):
        identity_queries.find_user(db, "pc.typo")


def test_users_add_makes_a_user_who_signs_in_with_the_typed_password(
    cli_env: None, door: Any
) -> None:
    run("agencies", "add", "DEMO", "Demo", "--type", "police")

    result = run(
        "users", "add", "pc.new", "--agency", "demo", "--role", "officer", "--role",
        "controller", "--name", "PC New", "--clearance", "OFFICIAL",
        stdin=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )  # fmt: skip
    granted = door.sign_in("pc.new", password=NEW_PASSWORD)
    listed = run("users", "list", "--agency", "DEMO")

    assert result.exit_code == 0, result.output
    assert granted["user"]["roles"] == ["officer", "controller"]
    assert granted["user"]["clearance"] == "OFFICIAL"
    assert granted["user"]["display_name"] == "PC New"
    assert "pc.new PC New DEMO officer, controller OFFICIAL yes active" in text(listed)


@pytest.mark.parametrize(
    ("agency", "agency_type", "role"),
    [("DEMO", "police", "partner_user"), ("DEMO", "police", "prosecutor"),
     ("NFRS", "fire", "officer"), ("CPS", "prosecutor", "agency_admin")],
)  # fmt: skip
def test_users_add_refuses_a_role_of_the_other_kind_of_agency(
    cli_env: None, db: Database, agency: str, agency_type: str, role: str
) -> None:
    run("agencies", "add", agency, f"{agency} agency", "--type", agency_type)

    result = run(
        "users", "add", "u.wrong", "--agency", agency, "--role", role,
        stdin=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )  # fmt: skip

    assert result.exit_code == 1
    assert "partner" in result.output
    with pytest.raises(IdentityError):
        identity_queries.find_user(db, "u.wrong")


def test_users_list_covers_every_agency_unless_one_is_named(cli_env: None, door: Any) -> None:
    make_user(door.client.app, "pc.police", ["officer"])
    make_user(door.client.app, "ff.fire", ["partner_user"], agency="NFRS", agency_type="fire")

    everyone = text(run("users", "list"))
    fire_only = text(run("users", "list", "--agency", "NFRS"))
    unknown = run("users", "list", "--agency", "NOPE")

    assert "pc.police" in everyone
    assert "ff.fire" in everyone
    assert "ff.fire" in fire_only
    assert "pc.police" not in fire_only
    assert unknown.exit_code == 1
    assert "no agency with code NOPE" in unknown.output


def test_users_disable_ends_sessions_at_once_and_enable_lets_them_back(
    cli_env: None, door: Any
) -> None:
    make_user(door.client.app, "pc.leaver", ["officer"])
    token = door.sign_in("pc.leaver")["token"]
    assert me(door, token).status_code == 200

    disabled = run("users", "disable", "pc.leaver")

    assert disabled.exit_code == 0, disabled.output
    refused = me(door, token)
    assert refused.status_code == 401
    assert refused.json()["code"] == "TOKEN_REVOKED"
    assert door.start("pc.leaver").status_code == 401
    listed = text(run("users", "list", "--agency", "DEMO"))
    assert "pc.leaver Pc.Leaver DEMO officer OFFICIAL-SENSITIVE yes disabled" in listed

    enabled = run("users", "enable", "pc.leaver")

    assert enabled.exit_code == 0, enabled.output
    assert door.sign_in("pc.leaver")["token"]


def test_users_disable_may_disable_the_last_administrator_and_says_how_to_add_one(
    cli_env: None, door: Any, trail: Any
) -> None:
    # Given an agency with two administrators
    make_user(door.client.app, "admin.one", ["agency_admin"])
    make_user(door.client.app, "admin.two", ["agency_admin"])

    # When the platform disables one, then the other (who has left, or been compromised)
    first = run("users", "disable", "admin.one")
    last = run("users", "disable", "admin.two")

    # Then both are disabled; only the second warns that no administrator is left, and how
    # to add one, and the audit trail records it
    assert first.exit_code == 0, first.output
    assert "no enabled administrator" not in first.output
    assert last.exit_code == 0, last.output
    assert "DEMO has no enabled administrator now" in text(last)
    assert "--role agency_admin" in last.output
    assert door.start("admin.two").status_code == 401
    entries = trail.tagged("identity:user:disabled")
    assert [e.detail.get("no_administrator_left") for e in entries] == [None, True]


def test_users_reset_sets_the_password_clears_the_second_factor_and_ends_sessions(
    cli_env: None, door: Any
) -> None:
    make_user(door.client.app, "pc.forgetful", ["officer"])
    token = door.sign_in("pc.forgetful")["token"]

    result = run("users", "reset", "pc.forgetful", "--password-stdin", stdin=f"{NEW_PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert me(door, token).json()["code"] == "TOKEN_REVOKED"
    assert door.start("pc.forgetful", TEST_PASSWORD).status_code == 401
    fresh = door.start("pc.forgetful", NEW_PASSWORD)
    assert fresh.status_code == 200
    assert fresh.json()["enrolment"] is not None  # they set up their authenticator again


def test_users_reset_can_keep_the_second_factor(cli_env: None, door: Any) -> None:
    make_user(door.client.app, "pc.keeper", ["officer"])
    door.sign_in("pc.keeper")

    result = run(
        "users", "reset", "pc.keeper", "--keep-second-factor", "--password-stdin",
        stdin=f"{NEW_PASSWORD}\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    again = door.start("pc.keeper", NEW_PASSWORD)
    assert again.status_code == 200
    assert again.json()["enrolment"] is None
    assert door.finish(again.json()["challenge"], door.fresh_code("pc.keeper")).status_code == 200


def test_users_reset_refuses_a_weak_password_and_changes_nothing(cli_env: None, door: Any) -> None:
    make_user(door.client.app, "pc.steady", ["officer"])
    token = door.sign_in("pc.steady")["token"]

    result = run("users", "reset", "pc.steady", "--password-stdin", stdin="qwertyuiop\n")

    assert result.exit_code == 1
    assert "at least 12 characters" in text(result)
    assert me(door, token).status_code == 200
    assert door.start("pc.steady", TEST_PASSWORD).status_code == 200


def test_users_unlock_releases_a_locked_account(cli_env: None, door: Any) -> None:
    make_user(door.client.app, "pc.locked", ["officer"])
    for _ in range(5):
        assert door.start("pc.locked", "not the password at all").status_code == 401
    assert door.start("pc.locked").status_code == 401  # locked: even the right one fails
    listed = text(run("users", "list", "--agency", "DEMO"))
    assert "pc.locked Pc.Locked DEMO officer OFFICIAL-SENSITIVE no locked" in listed

    result = run("users", "unlock", "pc.locked")

    assert result.exit_code == 0, result.output
    assert door.start("pc.locked").status_code == 200


def test_users_commands_name_an_unknown_user(cli_env: None) -> None:
    for command in ("disable", "enable", "unlock"):
        result = run("users", command, "nobody.here")
        assert result.exit_code == 1
        assert "no user nobody.here" in result.output


def test_devices_list_shows_registered_devices_and_revoke_cuts_them_off(
    cli_env: None, door: Any
) -> None:
    make_user(door.client.app, "pc.phone", ["officer"])
    make_user(door.client.app, "ff.phone", ["partner_user"], agency="NFRS", agency_type="fire")
    handset, fire_handset = uuid.uuid4(), uuid.uuid4()
    token = door.sign_in("pc.phone", device=handset)["token"]
    door.sign_in("ff.phone", device=fire_handset)

    every = text(run("devices", "list"))
    police = text(run("devices", "list", "--agency", "DEMO"))
    revoked = run("devices", "revoke", str(handset), "--reason", "lost on patrol")

    assert str(handset) in every
    assert str(fire_handset) in every
    assert f"{handset} DEMO test handset pc.phone" in police
    assert str(fire_handset) not in police
    assert revoked.exit_code == 0, revoked.output
    assert me(door, token).json()["code"] == "DEVICE_REVOKED"
    assert "lost on patrol" in text(run("devices", "list", "--agency", "DEMO"))


def test_devices_revoke_refuses_a_bad_id_an_unknown_device_or_no_reason(cli_env: None) -> None:
    not_an_id = run("devices", "revoke", "phone-7", "--reason", "lost")
    unknown = run("devices", "revoke", str(uuid.uuid4()), "--reason", "lost")
    no_reason = run("devices", "revoke", str(uuid.uuid4()), "--reason", " ")

    assert not_an_id.exit_code == 1
    assert "not a device id" in not_an_id.output
    assert unknown.exit_code == 1
    assert "no device with id" in unknown.output
    assert no_reason.exit_code == 1
    assert "give a reason" in no_reason.output


def test_a_database_without_the_schema_is_named_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLUELIGHT_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("BLUELIGHT_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = run("agencies", "list")
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 2
    assert "bluelight db upgrade" in text(result)
