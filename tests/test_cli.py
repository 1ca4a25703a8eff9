"""The command line, run as a user runs it, against a real database file; and ``bluelight
demo``'s users, signed in through the API with the password and code it prints."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, func, select, update
from typer.testing import CliRunner

from bluelight.app import DemoSecretsError, create_app
from bluelight.cli import app
from bluelight.cli import console as cli_console
from bluelight.db import Database, make_engine
from bluelight.demo import generator
from bluelight.demo.generator import SizeSpec
from bluelight.identity.models import Agency, User
from bluelight.kernel.crypto import totp_code
from bluelight.migrations import current_revision, head_revision
from bluelight.settings import Settings, get_settings
from bluelight.vocab.queries import read_mapping
from factories import API, REASON, settings_for_tests

runner = CliRunner()


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("BLUELIGHT_DATABASE_URL", url)
    monkeypatch.setenv("BLUELIGHT_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_db_upgrade_brings_the_schema_to_head(sqlite_env: str) -> None:
    result = runner.invoke(app, ["db", "upgrade"])

    assert result.exit_code == 0, result.output
    engine = make_engine(sqlite_env)
    assert current_revision(engine) == head_revision(engine)
    engine.dispose()


def test_vocab_list_shows_every_national_list() -> None:
    result = runner.invoke(app, ["vocab", "list"])

    assert result.exit_code == 0
    for name in ("warning-marker", "offence", "ethnicity-officer", "incident-grade"):
        assert name in result.output


def test_vocab_show_prints_codes_and_refuses_an_unknown_list() -> None:
    shown = runner.invoke(app, ["vocab", "show", "ethnicity-officer"])
    unknown = runner.invoke(app, ["vocab", "show", "no-such-list"])

    assert shown.exit_code == 0
    assert "IC1" in shown.output
    assert unknown.exit_code == 1
    assert "no code list called" in unknown.output


def test_import_mapping_loads_good_lines_and_lists_the_rest(
    sqlite_env: str, tmp_path: Path
) -> None:
    runner.invoke(app, ["db", "upgrade"])
    mapping = tmp_path / "sex.csv"
    mapping.write_text(
        "local_code,local_label,national_code\n1,Male,M\n2,Female,F\n9,Unknown,NOT-A-CODE\n",
        encoding="utf-8",
    )

    result = runner.invoke(app, ["vocab", "import-mapping", "wmp", "sex", str(mapping)])

    assert result.exit_code == 1  # a line was refused, so the command says so
    assert "2 codes loaded" in result.output
    assert "NOT-A-CODE" in result.output
    db = Database(make_engine(sqlite_env))
    stored = read_mapping(db, "WMP", "sex")
    db.dispose()
    assert {(r.local_code, r.national_code) for r in stored.rows} == {("1", "M"), ("2", "F")}


# --- bluelight demo: its users ------------------------------------------------------------

TINY = SizeSpec("tiny", persons=300, vehicles=100, events=400, officers=5, years=1)
# A row of the sign-in table: username, role, agency, password, TOTP secret, current code.
SIGN_IN_ROW = re.compile(
    r"│ (demo\.[a-z]+) +│ ([a-z_]+) +│ ([A-Z]+) +│ (bluelight demo 2026 [a-z]+) +│ "
    r"([A-Z2-7]{32}) +│ (\d{6}) +│"
)


@pytest.fixture
def demo_env(
    migrated: tuple[Engine, str], db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """``bluelight demo`` on the test database; the settings an app on the same data uses."""
    _, url = migrated
    monkeypatch.setenv("BLUELIGHT_DATABASE_URL", url)
    monkeypatch.setenv("BLUELIGHT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BLUELIGHT_ENV", "test")
    monkeypatch.setenv("BLUELIGHT_PASSWORD_HASH_COST", "fast")
    # One table row per user, as on a wide terminal. The console is made at import, when a
    # pytest-xdist worker's COLUMNS=80 fixes its width, so the width is set on it.
    monkeypatch.setattr(cli_console, "_width", 200)
    monkeypatch.setitem(generator.SIZES, "tiny", TINY)
    get_settings.cache_clear()
    yield settings_for_tests(url, tmp_path)
    get_settings.cache_clear()


def printed_sign_ins(output: str) -> dict[str, dict[str, str]]:
    return {
        m[1]: {"role": m[2], "agency": m[3], "password": m[4], "secret": m[5], "code": m[6]}
        for m in SIGN_IN_ROW.finditer(output)
    }


def api_sign_in(client: TestClient[Any], username: str, password: str, secret: str) -> Any:
    """Password, then the code an authenticator set up with ``secret`` shows; the response of
    the second step (the first must not ask to enrol: the demo's users are enrolled)."""
    first = client.post(
        f"{API}/auth/sign-in",
        json={
            "username": username,
            "password": password,
            "device": {"id": str(uuid.uuid4()), "name": "demo laptop"},
        },
    )
    assert first.status_code == 200, first.text
    assert first.json().get("enrolment") is None
    now = datetime.now(UTC)
    second = client.post(
        f"{API}/auth/second-factor",
        json={"challenge": first.json()["challenge"], "code": totp_code(secret, now)},
    )
    if second.status_code == 401:  # this 30-second code was spent by an earlier sign-in
        again = client.post(
            f"{API}/auth/sign-in",
            json={
                "username": username,
                "password": password,
                "device": {"id": str(uuid.uuid4()), "name": "demo laptop"},
            },
        ).json()
        second = client.post(
            f"{API}/auth/second-factor",
            json={
                "challenge": again["challenge"],
                "code": totp_code(secret, now + timedelta(seconds=30)),
            },
        )
    return second


def test_demo_prints_sign_ins_that_work_through_the_api(demo_env: Settings, db: Database) -> None:
    result = runner.invoke(app, ["demo", "--size", "small", "--no-serve"])

    assert result.exit_code == 0, result.output
    sign_ins = printed_sign_ins(result.output)
    roles = {u: s["role"] for u, s in sign_ins.items()}
    assert roles == {
        "demo.officer": "officer",
        "demo.controller": "controller",
        "demo.investigator": "investigator",
        "demo.supervisor": "supervisor",
        "demo.admin": "agency_admin",
        "demo.auditor": "auditor",
        "demo.fire": "partner_user",
        "demo.ambulance": "partner_user",
        "demo.council": "partner_user",
        "demo.prosecutor": "prosecutor",
    }
    assert {s["agency"] for s in sign_ins.values()} == {"DEMO", "NFRS", "EMAS", "NCC", "CPS"}
    with db.read() as session:
        agencies = dict(session.execute(select(Agency.code, Agency.type)).all())
        assert session.scalar(select(func.count()).where(User.demo.is_(False))) == 0
    assert agencies == {
        "DEMO": "police",
        "NFRS": "fire",
        "EMAS": "ambulance",
        "NCC": "local_authority",
        "CPS": "prosecutor",
    }
    with TestClient(create_app(demo_env, database=db)) as client:
        for username, s in sign_ins.items():
            granted = api_sign_in(client, username, s["password"], s["secret"])
            assert granted.status_code == 200, (username, granted.text)
            assert granted.json()["user"]["roles"] == [s["role"]]
        # The partners' views hold the events the demo shared with them, at their levels.
        levels = {}
        for partner in ("demo.fire", "demo.ambulance", "demo.council", "demo.prosecutor"):
            s = sign_ins[partner]
            token = api_sign_in(client, partner, s["password"], s["secret"]).json()["token"]
            page = client.get(
                f"{API}/shared/events", headers={"Authorization": f"Bearer {token}", **REASON}
            )
            assert page.status_code == 200, page.text
            levels[partner] = sorted(e["share_level"] for e in page.json()["items"])
    assert levels == {
        "demo.fire": ["location", "operational"],
        "demo.ambulance": ["location", "operational"],
        "demo.council": ["location", "operational"],
        "demo.prosecutor": ["full", "full"],
    }


def test_the_printed_code_is_the_authenticators_code_now(demo_env: Settings) -> None:
    before = datetime.now(UTC)
    result = runner.invoke(app, ["demo", "--size", "tiny", "--no-serve"])
    after = datetime.now(UTC)

    assert result.exit_code == 0, result.output
    for s in printed_sign_ins(result.output).values():
        assert s["code"] in {totp_code(s["secret"], before), totp_code(s["secret"], after)}


def test_demo_again_gives_the_same_sign_ins_and_restores_changed_users(
    demo_env: Settings, db: Database
) -> None:
    first = runner.invoke(app, ["demo", "--size", "tiny", "--no-serve", "--seed", "5"])
    with db.write() as session:
        session.execute(
            update(User)
            .where(User.username == "demo.officer")
            .values(disabled_at=datetime.now(UTC), totp_sealed=None, totp_enrolled_at=None)
        )

    again = runner.invoke(app, ["demo", "--size", "tiny", "--no-serve", "--seed", "5"])
    other_seed = runner.invoke(app, ["demo", "--size", "tiny", "--no-serve", "--seed", "6"])

    assert again.exit_code == 0, again.output
    sign_ins = printed_sign_ins(again.output)
    assert len(sign_ins) == 10
    assert {u: s["secret"] for u, s in sign_ins.items()} == {
        u: s["secret"] for u, s in printed_sign_ins(first.output).items()
    }
    new_secrets = {u: s["secret"] for u, s in printed_sign_ins(other_seed.output).items()}
    assert new_secrets["demo.officer"] != sign_ins["demo.officer"]["secret"]
    officer = printed_sign_ins(other_seed.output)["demo.officer"]
    with TestClient(create_app(demo_env, database=db)) as client:
        granted = api_sign_in(client, "demo.officer", officer["password"], officer["secret"])
    assert granted.status_code == 200, granted.text


def test_demo_refuses_to_run_in_production(
    demo_env: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLUELIGHT_ENV", "production")
    monkeypatch.setenv("BLUELIGHT_PASSWORD_HASH_COST", "standard")
    get_settings.cache_clear()

    result = runner.invoke(app, ["demo", "--size", "tiny", "--no-serve"])

    assert result.exit_code == 2
    assert "refusing to load the demo in production" in " ".join(result.output.split())
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_the_server_refuses_production_while_demo_users_exist(
    demo_env: Settings, db: Database, tmp_path: Path
) -> None:
    assert runner.invoke(app, ["demo", "--size", "tiny", "--no-serve"]).exit_code == 0
    production = Settings(
        env="production",
        password_hash_cost="standard",
        database_url=demo_env.database_url,
        data_dir=tmp_path,
    )

    with pytest.raises(DemoSecretsError):
        create_app(production, database=db)


# --- where the server is, as the command line says it ---------------------------------------


class FakeServer:
    """granian's Server, noting where it was asked to listen instead of serving."""

    started: ClassVar[list[tuple[str, int]]] = []

    def __init__(self, *_target: str, address: str, port: int, **_options: Any) -> None:
        self.where = (address, port)

    def serve(self) -> None:
        FakeServer.started.append(self.where)


@pytest.fixture
def fake_server(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    import granian.server

    FakeServer.started = []
    monkeypatch.setattr(granian.server, "Server", FakeServer)
    return FakeServer.started


def last_line(output: str) -> str:
    """The last thing said, on one line (Rich wraps at the terminal's width)."""
    paragraphs = [p for p in output.split("\n\n") if p.strip()]
    return " ".join(paragraphs[-1].split())


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:9123/"),
        ("::1", "http://[::1]:9123/"),
        ("fd00::5", "http://[fd00::5]:9123/"),
        ("0.0.0.0", "http://127.0.0.1:9123/"),  # noqa: S104  (the wildcard is the case under test)
        ("::", "http://[::1]:9123/"),
        ("bluelight.internal", "http://bluelight.internal:9123/"),
    ],
)
def test_serve_names_the_address_it_listens_on(
    sqlite_env: str,
    fake_server: list[tuple[str, int]],
    monkeypatch: pytest.MonkeyPatch,
    host: str,
    url: str,
) -> None:
    monkeypatch.setenv("BLUELIGHT_HOST", host)
    monkeypatch.setenv("BLUELIGHT_PORT", "9123")
    get_settings.cache_clear()

    result = runner.invoke(app, ["serve"])

    assert result.exit_code == 0, result.output
    assert fake_server == [(host, 9123)]
    said = " ".join(result.output.split())
    assert url in said
    if host in {"0.0.0.0", "::"}:  # noqa: S104  (same)
        assert f"listening on {host}, every interface" in said


def test_demo_ends_by_naming_the_address_the_server_uses(
    demo_env: Settings, fake_server: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLUELIGHT_HOST", "::1")
    monkeypatch.setenv("BLUELIGHT_PORT", "9124")
    get_settings.cache_clear()

    served = runner.invoke(app, ["demo", "--size", "tiny"])
    loaded = runner.invoke(app, ["demo", "--size", "tiny", "--no-serve"])

    assert served.exit_code == 0, served.output
    assert fake_server == [("::1", 9124)]
    said = " ".join(served.output.split())
    assert re.findall(r"Sign in at (\S+)", said) == ["http://[::1]:9124/"]
    assert re.findall(r"Bluelight at (\S+)", said) == ["http://[::1]:9124/"]
    # and without serving, the last line says the same address, and how to start the server
    assert loaded.exit_code == 0, loaded.output
    assert "http://[::1]:9124/" in last_line(loaded.output)
    assert "bluelight serve" in last_line(loaded.output)
