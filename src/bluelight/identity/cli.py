"""``bluelight agencies|users|devices``: run accounts from the server's shell.

Every command acts as the platform itself (``system_actor``), so each change lands in the
audit trail like one an administrator makes through the API. A refusal prints a red line and
exits 1; an unreachable or unmigrated database exits 2.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import msgspec
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from bluelight.db import Database, DurabilityError
from bluelight.identity import queries, services
from bluelight.identity.errors import IdentityError, IdentityErrorCode
from bluelight.identity.rules import AgencyType, Classification, Role, system_actor
from bluelight.identity.schemas import AgencyCreate, DeviceRead, UserChange, UserCreate, UserRead
from bluelight.kernel import utcnow
from bluelight.kernel.crypto import KeyFileError
from bluelight.settings import Settings, get_settings

agencies_app = typer.Typer(help="Police forces and their partner agencies.", no_args_is_help=True)
users_app = typer.Typer(help="Who may sign in, and as what.", no_args_is_help=True)
devices_app = typer.Typer(help="Registered phones, tablets and computers.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

PASSWORD_STDIN_HELP = "Read the password from the first line of standard input."  # noqa: S105  (help text)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` in red (as plain text, never markup) and stop with exit ``code``."""
    err.print(Text(message, style="red"))
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    """The configured settings, or a red line naming the setting that is wrong."""
    try:
        return get_settings()
    except ValidationError as exc:
        fail(f"the settings are not valid: {exc}", 2)


def row(*values: object) -> list[Text]:
    """Table cells shown as typed: a name with brackets in it is not Rich markup."""
    return [Text("" if v is None else str(v)) for v in values]


@contextmanager
def opened() -> Iterator[tuple[Settings, Database]]:
    """The configured settings and database; a refusal becomes a red line and an exit code."""
    from bluelight.runtime import open_database

    settings = settings_or_exit()
    try:
        db = open_database(settings)
    except DurabilityError as exc:
        fail(str(exc), 2)
    try:
        yield settings, db
    except IdentityError as exc:
        problems = exc.extra.get("problems") or []
        if exc.code == IdentityErrorCode.WEAK_PASSWORD and problems:
            fail("the password was refused:\n" + "\n".join(f"  - {p}" for p in problems))
        fail(exc.detail)
    except msgspec.ValidationError as exc:
        fail(f"not accepted: {exc}")
    except (KeyFileError, OSError) as exc:
        fail(str(exc), 2)
    except SQLAlchemyError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        fail(
            f"the database refused the request ({first}). Is it reachable, and is its schema "
            "up to date (bluelight db upgrade)?",
            2,
        )
    finally:
        db.dispose()


def read_password(*, from_stdin: bool) -> str:
    """The new password: the first line of standard input, or typed twice without echo."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            fail("no password on standard input")
        return password
    first = str(typer.prompt("Password", hide_input=True))
    second = str(typer.prompt("Password again", hide_input=True))
    if first != second:
        fail("the two passwords differ: nothing was changed")
    return first


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def _user_table(users: list[UserRead], title: str | None = None) -> Table:
    table = Table("username", "name", "agency", "roles", "clearance", "2FA", "status", title=title)
    now = utcnow()
    for u in users:
        locked = u.locked_until is not None and u.locked_until > now
        status = "disabled" if u.disabled_at else ("locked" if locked else "active")
        table.add_row(
            *row(
                u.username,
                u.display_name,
                u.agency,
                ", ".join(u.roles),
                u.clearance,
                "yes" if u.second_factor else "no",
                status,
            )
        )
    return table


def _device_table(devices: list[DeviceRead]) -> Table:
    table = Table("id", "agency", "name", "last user", "last seen", "revoked")
    for d in devices:
        revoked = (
            f"{_when(d.revoked_at)} by {d.revoked_by}: {d.revocation_reason}"
            if d.revoked_at
            else ""
        )
        table.add_row(*row(d.id, d.agency, d.name, d.last_user, _when(d.last_seen_at), revoked))
    return table


# --- agencies ---------------------------------------------------------------------------


@agencies_app.command("add")
def add_agency(
    code: str = typer.Argument(help="Short code, 2-10 of A-Z and 0-9, e.g. NFRS."),
    name: str = typer.Argument(help="The agency's full name."),
    agency_type: AgencyType = typer.Option(..., "--type", help="What kind of agency it is."),
) -> None:
    """Register a police force or a partner agency."""
    with opened() as (settings, db):
        data = msgspec.convert(
            {"code": code.upper(), "name": name, "type": agency_type}, AgencyCreate
        )
        agency = services.create_agency(db, data, actor=system_actor(settings.force_code))
    out.print(f"[green]agency {agency.code} added[/] ({escape(agency.name)}, {agency.type})")


@agencies_app.command("list")
def list_agencies() -> None:
    """Every agency, by code."""
    with opened() as (_, db):
        agencies = queries.list_agencies(db)
    table = Table("code", "name", "type")
    for a in agencies:
        table.add_row(*row(a.code, a.name, a.type))
    out.print(table)


# --- users ------------------------------------------------------------------------------


def _user_id(db: Database, username: str) -> uuid.UUID:
    return queries.find_user(db, username).id


@users_app.command("add")
def add_user(
    *,
    username: str = typer.Argument(help="3-64 of a-z, 0-9, '.', '_' and '-'."),
    agency: str = typer.Option(..., "--agency", help="The code of the user's agency."),
    roles: list[Role] = typer.Option(..., "--role", help="A role; repeat for more than one."),
    name: str | None = typer.Option(None, "--name", help="Display name (default: username)."),
    clearance: Classification = typer.Option(
        Classification.OFFICIAL_SENSITIVE, help="The highest classification they may see."
    ),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=PASSWORD_STDIN_HELP),
) -> None:
    """Add a user; they enrol a second factor at their first sign-in."""
    password = read_password(from_stdin=password_stdin)
    with opened() as (settings, db):
        data = msgspec.convert(
            {
                "username": username,
                "display_name": name or username,
                "password": password,
                "roles": [str(r) for r in roles],
                "clearance": str(clearance),
                "agency": agency.upper(),
            },
            UserCreate,
        )
        from bluelight.identity.policy import identity_policy

        user = services.create_user(
            db, identity_policy(settings), data, actor=system_actor(settings.force_code)
        )
    out.print(
        f"[green]user {user.username} added[/] to {user.agency} as {', '.join(user.roles)}; "
        "they enrol an authenticator app at their first sign-in"
    )


@users_app.command("list")
def list_users(
    agency: str | None = typer.Option(None, "--agency", help="Only this agency's users."),
) -> None:
    """The users of one agency, or of all."""
    with opened() as (_, db):
        codes = [agency.upper()] if agency else [a.code for a in queries.list_agencies(db)]
        users = [u for code in codes for u in queries.list_users(db, actor=system_actor(code))]
    out.print(_user_table(users))


def _set_disabled(username: str, *, disabled: bool) -> tuple[UserRead, bool]:
    """Disable or enable a user; also whether their agency is left with an administrator."""
    with opened() as (settings, db):
        current = queries.find_user(db, username)
        user = services.change_user(
            db,
            current.id,
            UserChange(version=current.version, disabled=disabled),
            actor=system_actor(settings.force_code),
        )
        administered = any(
            Role.AGENCY_ADMIN in u.roles and u.disabled_at is None
            for u in queries.list_users(db, actor=system_actor(user.agency))
        )
        return user, administered


@users_app.command("disable")
def disable_user(username: str = typer.Argument(help="Whose account.")) -> None:
    """Stop a user signing in; every session they hold ends at once.

    Unlike an administrator through the API, this may disable an agency's last administrator
    (one who has left, or whose account is compromised); it then says how to add another.
    """
    user, administered = _set_disabled(username, disabled=True)
    out.print(f"[green]user {user.username} disabled[/]: their sessions have ended")
    if Role.AGENCY_ADMIN in user.roles and not administered:
        err.print(
            Text(
                f"{user.agency} has no enabled administrator now: no one can manage its "
                f"accounts through the API until you add one (bluelight users add <username> "
                f"--agency {user.agency} --role agency_admin) or enable one again",
                style="yellow",
            )
        )


@users_app.command("enable")
def enable_user(username: str = typer.Argument(help="Whose account.")) -> None:
    """Let a disabled user sign in again."""
    user, _ = _set_disabled(username, disabled=False)
    out.print(f"[green]user {user.username} enabled[/]")


@users_app.command("reset")
def reset_user(
    username: str = typer.Argument(help="Whose account."),
    keep_second_factor: bool = typer.Option(
        False, "--keep-second-factor", help="Keep their authenticator (default: enrol again)."
    ),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=PASSWORD_STDIN_HELP),
) -> None:
    """Set a new password, release any lockout and end their sessions; by default the second
    factor is cleared so they enrol again."""
    password = read_password(from_stdin=password_stdin)
    with opened() as (settings, db):
        from bluelight.identity.policy import identity_policy

        user = services.reset_user(
            db,
            identity_policy(settings),
            _user_id(db, username),
            password=password,
            clear_second_factor=not keep_second_factor,
            actor=system_actor(settings.force_code),
        )
    then = "" if keep_second_factor else "; they enrol an authenticator app at their next sign-in"
    out.print(f"[green]user {user.username} reset[/]: sessions ended, lockout released{then}")


@users_app.command("unlock")
def unlock_user(username: str = typer.Argument(help="Whose account.")) -> None:
    """Release an account locked after repeated failed sign-ins."""
    with opened() as (settings, db):
        user = services.unlock_user(
            db, _user_id(db, username), actor=system_actor(settings.force_code)
        )
    out.print(f"[green]user {user.username} unlocked[/]")


# --- devices ----------------------------------------------------------------------------


@devices_app.command("list")
def list_devices(
    agency: str | None = typer.Option(None, "--agency", help="Only this agency's devices."),
) -> None:
    """Registered devices, oldest first, with who used each last."""
    with opened() as (settings, db):
        devices = queries.list_devices(db, actor=system_actor(settings.force_code))
    if agency:
        devices = [d for d in devices if d.agency == agency.upper()]
    out.print(_device_table(devices))


@devices_app.command("revoke")
def revoke_device(
    device_id: str = typer.Argument(help="The device's id (bluelight devices list)."),
    reason: str = typer.Option(..., "--reason", help="Why, for the audit trail (3-500 chars)."),
) -> None:
    """Revoke a device: its sessions end and its next request tells it to wipe its data."""
    try:
        parsed = uuid.UUID(device_id)
    except ValueError:
        fail(f"{device_id!r} is not a device id (a UUID)")
    if not 3 <= len(reason.strip()) <= 500:
        fail("give a reason of 3 to 500 characters")
    with opened() as (settings, db):
        device = services.revoke_device(
            db, parsed, reason=reason.strip(), actor=system_actor(settings.force_code)
        )
    out.print(
        f"[green]device {device.id} ({escape(device.name)}) revoked[/]: "
        f"{escape(device.revocation_reason or '')}"
    )
