"""``bluelight vocab``: list, show and load force mappings."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bluelight.vocab.catalogue import code_list, code_lists
from bluelight.vocab.errors import VocabError

vocab_app = typer.Typer(help="National code lists and force mappings.", no_args_is_help=True)
out = Console()


@vocab_app.command("list")
def list_lists() -> None:
    """Every national code list, with its version and size."""
    table = Table("list", "title", "version", "active", "retired")
    for cl in code_lists().values():
        active = sum(1 for e in cl.entries if e.active)
        table.add_row(cl.name, cl.title, cl.version, str(active), str(len(cl.entries) - active))
    out.print(table)


@vocab_app.command("show")
def show(name: str = typer.Argument(help="List name, e.g. warning-marker.")) -> None:
    """The codes of one list."""
    try:
        cl = code_list(name)
    except VocabError as exc:
        out.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from exc
    table = Table("code", "label", "status", "description", title=f"{cl.title} ({cl.version})")
    for e in cl.entries:
        table.add_row(e.code, e.label, e.status, e.description)
    out.print(table)


@vocab_app.command("import-mapping")
def import_mapping(
    force: str = typer.Argument(help="The force's code, e.g. WMP."),
    name: str = typer.Argument(help="The national list the file maps to."),
    path: Path = typer.Argument(
        help="CSV: local code, local label, national code.", exists=True, dir_okay=False
    ),
) -> None:
    """Load a force's legacy list; lines that cannot be loaded are listed, not dropped."""
    from bluelight.audit.rules import Platform
    from bluelight.runtime import open_database
    from bluelight.settings import get_settings
    from bluelight.vocab.services import import_mapping as load

    settings = get_settings()
    db = open_database(settings)
    try:
        report = load(
            db,
            force_code=force.upper(),
            list_name=name,
            csv_text=path.read_text(encoding="utf-8"),
            actor=Platform(settings.force_code),
        )
    except VocabError as exc:
        out.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    out.print(f"[green]{report.loaded} codes loaded[/] for {report.force_code} {report.list_name}")
    if report.rejected:
        table = Table("line", "local code", "national code", "reason", title="Not loaded")
        for r in report.rejected:
            table.add_row(str(r.line), r.local_code, r.national_code, r.reason)
        out.print(table)
        raise typer.Exit(1)
