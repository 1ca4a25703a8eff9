"""The ``bluelight`` command: serve, demo, db, vocab, agencies, users, devices, audit."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console
from rich.markup import escape

from bluelight.audit.cli import audit_app, grant_app_role
from bluelight.db import DurabilityError
from bluelight.identity.cli import agencies_app, devices_app, users_app
from bluelight.settings import Settings, get_settings
from bluelight.vocab.cli import vocab_app

app = typer.Typer(
    help="Bluelight: the connected platform for frontline policing.", no_args_is_help=True
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(vocab_app, name="vocab")
app.add_typer(agencies_app, name="agencies")
app.add_typer(users_app, name="users")
app.add_typer(devices_app, name="devices")
app.add_typer(audit_app, name="audit")
db_app.command("grant-app-role")(grant_app_role)
console = Console(stderr=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Revision to reach.")) -> None:
    """Bring the database schema up to date."""
    from bluelight.db import make_engine
    from bluelight.migrations import current_revision, upgrade

    settings = get_settings()
    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    upgrade(engine, revision)
    console.print(
        f"[green]schema at revision {current_revision(engine)}[/] ({engine.url.render_as_string()})"
    )
    engine.dispose()


def where(settings: Settings) -> str:
    """The server's address as the server will use it, for people to open (as Rich markup: an
    IPv6 address in brackets must not read as a style)."""
    everywhere = f" (listening on {settings.host}, every interface)"
    return escape(settings.url + (everywhere if settings.every_interface else ""))


def serve_app() -> None:
    """Serve the application with granian, refusing settings that could lose writes."""
    from granian.constants import Interfaces
    from granian.server import Server
    from pydantic import ValidationError

    from bluelight.runtime import open_database

    try:
        settings = get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            console.print(f"[red]{escape(str(error['msg']).removeprefix('Value error, '))}[/]")
        raise typer.Exit(2) from exc
    try:
        open_database(settings).dispose()
    except DurabilityError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    console.print(f"[bold]Bluelight[/] at {where(settings)}  (API docs: /api/docs)")
    Server(
        "bluelight.app:app_factory",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        factory=True,
        ssl_cert=settings.tls_cert,
        ssl_key=settings.tls_key,
    ).serve()


@app.command()
def serve() -> None:
    """Run the server (BLUELIGHT_HOST, BLUELIGHT_PORT, BLUELIGHT_WORKERS; TLS with
    BLUELIGHT_TLS_CERT and BLUELIGHT_TLS_KEY)."""
    serve_app()


@app.command()
def demo(
    size: str = typer.Option(
        "small", help="small (seconds), force (a mid-size force) or large (benchmarks)."
    ),
    seed: int = typer.Option(2026, help="The same seed gives the same force."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Only load the data."),
    reset: bool = typer.Option(True, help="Empty the records first."),
) -> None:
    """Load a synthetic force and its users into the database, print their sign-ins, then
    serve it (development only: refused in production)."""
    from bluelight.demo.cli import load_demo, sign_in_table
    from bluelight.kernel import utcnow

    loaded = load_demo(size=size, seed=seed, reset=reset, console=console)
    settings = get_settings()
    console.print()
    console.print(sign_in_table(loaded.sign_ins, utcnow()))
    start = (
        "Start the server with [bold]bluelight serve[/], then sign in" if no_serve else "Sign in"
    )
    console.print(
        f"{start} at [cyan]{where(settings)}[/] with a username, its password and the code "
        "from the authenticator app (or the code shown above)."
    )
    if not no_serve:
        serve_app()


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    try:
        app()
    except DurabilityError as exc:
        console.print(f"[red]{exc}[/]")
        sys.exit(2)
