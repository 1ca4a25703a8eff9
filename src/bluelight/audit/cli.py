"""``bluelight audit verify|head|export`` and ``bluelight db grant-app-role``.

``verify`` recomputes the whole trail and exits 1 when anything was edited, deleted, reordered
or inserted; ``head`` signs the tree as it stands; ``export`` writes entries as CSV or JSON
lines and is itself audited as a disclosure, as the API's export is. A refusal prints a red
line and exits non-zero, never a traceback.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, NoReturn

import click
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from bluelight.audit import AuditError, AuditWriter, TreeSigner
from bluelight.audit.door import Door
from bluelight.audit.export import csv_lines, exported, json_lines
from bluelight.audit.queries import EntryFilter, export
from bluelight.audit.reasons import justification
from bluelight.audit.rules import Platform
from bluelight.audit.schemas import EntryRead
from bluelight.db import Database, DurabilityError
from bluelight.kernel.crypto import KeyFileError, load_or_create_signing_key
from bluelight.runtime import open_database, signing_key_path
from bluelight.settings import Settings, get_settings

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

PUBLIC_KEY_BYTES = 32


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` in red (as plain text, never markup) and stop with exit ``code``."""
    err.print(Text(message, style="red"))
    raise typer.Exit(code)


@contextmanager
def opened() -> Iterator[tuple[Settings, Database]]:
    """The configured settings and database; a refusal becomes a red line and an exit code."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        fail(f"the settings are not valid: {exc}", 2)
    try:
        db = open_database(settings)
    except DurabilityError as exc:
        fail(str(exc), 2)
    try:
        yield settings, db
    except AuditError as exc:
        fail(exc.detail)
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


def _public_key(settings: Settings, given: str | None) -> bytes | None:
    """The raw Ed25519 key heads are checked against: the one given, else the server's own."""
    if given is not None:
        try:
            key = bytes.fromhex(given.strip())
        except ValueError:
            fail("--public-key takes the raw Ed25519 public key in hex (64 hex digits)")
        if len(key) != PUBLIC_KEY_BYTES:
            fail(f"--public-key must be {PUBLIC_KEY_BYTES} bytes (64 hex digits), not {len(key)}")
        return key
    path = signing_key_path(settings)
    if not path.exists():
        err.print(
            Text(
                f"no signing key at {path}: tree-head signatures cannot be checked "
                "(give --public-key)",
                style="yellow",
            )
        )
        return None
    return load_or_create_signing_key(path).public_bytes()


def _facts(title: str) -> Table:
    """A two-column table whose values (hashes, signatures) fold rather than get cut short."""
    table = Table(show_header=False, title=title, title_justify="left")
    table.add_column("fact", no_wrap=True)
    table.add_column("value", overflow="fold")
    return table


@audit_app.command("verify")
def verify(
    public_key: str | None = typer.Option(
        None,
        "--public-key",
        help="Raw Ed25519 public key (hex) heads were signed with; default: the server's key "
        "in BLUELIGHT_DATA_DIR/keys/audit-signing.pem.",
    ),
) -> None:
    """Recompute every entry and signed tree head; exit 1 if anything was tampered with."""
    from bluelight.audit.verification import verify as check

    with opened() as (settings, db):
        key = _public_key(settings, public_key)
        with Progress(
            SpinnerColumn(),
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task("verify", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = check(db, key, progress=advance)
    table = _facts("Audit trail")
    table.add_row("entries", f"{report.entries:,}")
    table.add_row("signed tree heads checked", f"{report.heads_checked:,}")
    table.add_row("entries after the last signed head", f"{report.unsigned_tail:,}")
    table.add_row("root hash", report.root_hash)
    out.print(table)
    if report.intact:
        out.print("[green]intact[/]: every entry and every signed head checks out")
        return
    err.print(Text(f"NOT INTACT: {len(report.problems)} problem(s)", style="bold red"))
    for problem in report.problems:
        err.print(Text(f"  - {problem}", style="red"))
    raise typer.Exit(1)


@audit_app.command("head")
def head() -> None:
    """Sign a tree head now, with the server's key, and print it."""
    with opened() as (settings, db):
        signed = TreeSigner(db, load_or_create_signing_key(signing_key_path(settings))).sign()
    table = _facts("Signed tree head")
    table.add_row("tree size", f"{signed.tree_size:,}")
    table.add_row("root hash", signed.root_hash)
    table.add_row("signed at", signed.signed_at.isoformat())
    table.add_row("key id", signed.key_id)
    table.add_row("signature", signed.signature)
    out.print(table)


def _instant(value: str | None, name: str) -> datetime | None:
    """An RFC 3339 time or a date; without a timezone it is read as UTC."""
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{name} takes a date or time such as 2026-03-01 or 2026-03-01T09:30:00Z")
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _who_runs_this() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _write(
    entries: Iterator[EntryRead], fmt: ExportFormat, sink: IO[bytes], step: Callable[[], None]
) -> None:
    def counted() -> Iterator[EntryRead]:
        for e in entries:
            step()
            yield e

    if fmt is ExportFormat.CSV:
        for text in csv_lines(counted()):
            sink.write(text.encode("utf-8"))
    else:
        for line in json_lines(counted()):
            sink.write(line)


@audit_app.command("export")
def export_entries(
    *,
    reason: str = typer.Option(
        ...,
        "--reason",
        help="Why: a code from the access-reason list (bluelight vocab show access-reason).",
    ),
    reason_text: str = typer.Option(..., "--reason-text", help="Why, in words."),
    fmt: ExportFormat = typer.Option(ExportFormat.JSON, "--format", help="csv or json lines."),
    user: str | None = typer.Option(None, "--user", help="Entries by this user (id or name)."),
    subject: str | None = typer.Option(
        None, "--subject", help="Entries that touched this record or user (its id)."
    ),
    since: str | None = typer.Option(None, "--since", help="From this time (UTC if no zone)."),
    until: str | None = typer.Option(None, "--until", help="Before this time."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write here instead of standard output.", dir_okay=False
    ),
) -> None:
    """Export entries oldest first; the export is itself audited as a disclosure, with the
    reason given, before the first entry is written."""
    start, end = _instant(since, "--since"), _instant(until, "--until")
    if start and end and end <= start:
        fail("--until must be after --since")
    try:
        why = justification(reason, reason_text)
    except AuditError as exc:
        fail(exc.detail)
    f = EntryFilter(subject=subject, user=user, since=start, until=end)
    destination = str(output) if output else "standard output"
    with opened() as (settings, db), ExitStack() as files:
        # Opened first: a file that cannot be written stops the export before it is audited.
        sink = files.enter_context(output.open("wb")) if output else sys.stdout.buffer
        writer = files.enter_context(closing(AuditWriter(db)))
        entries = Door(writer).release_now(
            exported(
                f,
                export(db, f),
                recipient=f"cli:{_who_runs_this()}",
                detail={"format": str(fmt), "to": destination},
            ),
            who=Platform(settings.force_code),
            why=why,
        )
        with Progress(
            SpinnerColumn(),
            TextColumn("exporting"),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task("export", total=None)

            def step() -> None:
                progress.advance(task)

            _write(entries, fmt, sink, step)
            count = int(progress.tasks[0].completed)
    err.print(Text(f"{count:,} entries exported to {destination} (this export is in the trail)"))


def grant_app_role(
    role: str = typer.Argument(help="The PostgreSQL role the server connects as."),
    schema: str = typer.Option("public", "--schema", help="The schema Bluelight's tables are in."),
    print_only: bool = typer.Option(
        False, "--print-only", help="Print the statements instead of running them."
    ),
) -> None:
    """Give the server's role what it needs, and no more: on the audit tables, insert and read
    only, so not even the application can edit or delete the trail (PostgreSQL)."""
    from bluelight.audit.pgrole import grant_statements

    try:
        statements = grant_statements(role, schema)
    except ValueError as exc:
        fail(str(exc))
    if print_only:
        for statement in statements:
            click.echo(statement if statement.rstrip().endswith(";") else f"{statement};")
        return
    with opened() as (_, db):
        if db.dialect != "postgresql":
            fail("grant-app-role is for PostgreSQL; SQLite has no roles", 2)
        with db.engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    out.print(
        f"[green]{len(statements)} statements run[/]: role {escape(role)} may add to the audit "
        "trail but not change or remove it"
    )
