"""``bluelight demo``: load a synthetic force, with a progress bar per table and a summary,
then the demo's agencies and users, and print how to sign in as each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import typer
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import make_url

from bluelight.demo.generator import SIZES, SizeSpec
from bluelight.demo.loader import DemoLoadError, LoadStats, load_force
from bluelight.demo.users import DemoSignIn, DemoUsersError, load_demo_users, share_demo_events
from bluelight.identity.policy import identity_policy
from bluelight.kernel.errors import BluelightError
from bluelight.migrations import upgrade
from bluelight.runtime import open_database
from bluelight.settings import get_settings

# The tables in the order a load fills them, with what the spec says each will hold.
TABLE_ORDER = (
    "locations",
    "persons",
    "vehicles",
    "events",
    "links",
    "warning_markers",
    "change_log",
)


def expected_rows(spec: SizeSpec) -> dict[str, int | None]:
    """Rows each table will get, where the spec fixes it (links and markers are drawn)."""
    return {
        "locations": spec.locations,
        "persons": spec.persons,
        "vehicles": spec.vehicles,
        "events": spec.events,
    }


def size_spec(size: str) -> SizeSpec:
    """The spec of a size name.

    Raises:
        typer.BadParameter: the size is not one of ``SIZES``.
    """
    spec = SIZES.get(size)
    if spec is None:
        msg = f"unknown size {size!r}: choose one of {', '.join(SIZES)}"
        raise typer.BadParameter(msg, param_hint="'--size'")
    return spec


def summary(stats: LoadStats, spec: SizeSpec, seed: int) -> Table:
    """Rows per table, wall time and rate, as a Rich table."""
    table = Table(title=f"{spec.name} force, seed {seed}", title_justify="left", min_width=36)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name in TABLE_ORDER:
        if name in stats.rows:
            table.add_row(name, f"{stats.rows[name]:,}")
    table.add_section()
    table.add_row("total", f"{stats.total:,}")
    table.add_row("wall time", f"{stats.seconds:.1f} s")
    table.add_row("rows/s", f"{stats.rows_per_second:,.0f}")
    return table


@dataclass(frozen=True, slots=True)
class DemoLoad:
    """What ``load_demo`` loaded: the records, and the sign-ins of the demo's users."""

    stats: LoadStats
    sign_ins: list[DemoSignIn]
    shared: int


SIGN_IN_TITLE = "Demo sign-ins (development only: these passwords and secrets are published)"
SIGN_IN_CAPTION = (
    "Add the TOTP secret to an authenticator app (time-based, 6 digits, 30 s), "
    "or type the code shown, which changes every 30 seconds."
)


class SignInTable:
    """The demo's sign-ins with each user's current code: one row a user where the terminal is
    wide enough for all six columns, else each user on two lines (username over role and
    agency, password over TOTP secret), which fits 80 columns with every value whole."""

    def __init__(self, sign_ins: list[DemoSignIn], at: datetime) -> None:
        self.sign_ins = sign_ins
        self.at = at

    def wide(self) -> Table:
        table = Table(
            title=SIGN_IN_TITLE,
            title_justify="left",
            caption=SIGN_IN_CAPTION,
            caption_justify="left",
        )
        for name in ("username", "role", "agency", "password", "TOTP secret", "code now"):
            table.add_column(name, no_wrap=True)
        for s in self.sign_ins:
            table.add_row(
                *(
                    Text(v)
                    for v in (
                        s.username,
                        s.role,
                        s.agency,
                        s.password,
                        s.totp_secret,
                        s.code(self.at),
                    )
                )
            )
        return table

    def stacked(self) -> Table:
        table = Table(
            title=SIGN_IN_TITLE,
            title_justify="left",
            caption=SIGN_IN_CAPTION,
            caption_justify="left",
            show_lines=True,
        )
        # Below ~68 columns the secret folds rather than being cut short.
        table.add_column("username\nrole, agency", no_wrap=True)
        table.add_column("password\nTOTP secret", overflow="fold")
        table.add_column("code\nnow", no_wrap=True)
        for s in self.sign_ins:
            table.add_row(
                Text(f"{s.username}\n{s.role}, {s.agency}"),
                Text(f"{s.password}\n{s.totp_secret}"),
                Text(s.code(self.at)),
            )
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        wide = self.wide()
        needed = Measurement.get(console, options.update(width=10_000), wide).maximum
        yield wide if needed <= options.max_width else self.stacked()


def sign_in_table(sign_ins: list[DemoSignIn], at: datetime) -> SignInTable:
    """The demo's sign-ins with each user's current code, laid out for the terminal's width."""
    return SignInTable(sign_ins, at)


def load_demo(
    *, size: str, seed: int, reset: bool, console: Console, as_of: date | None = None
) -> DemoLoad:
    """Open the configured database, bring its schema up to date, load a synthetic force, then
    the demo's agencies and users (second factors enrolled) and a few events shared with the
    partner agencies.

    Args:
        size: ``small``, ``force`` or ``large`` (see ``SIZES``).
        seed: the same seed and size (on the same ``as_of``) give the same force.
        reset: empty the records, the change log and the force mappings first.
        console: where progress and the summary go.
        as_of: the force's "today" (default: today, UTC).

    Raises:
        typer.BadParameter: the size is unknown (exit code 2).
        typer.Exit: in production (the demo's sign-ins are published), or the records or
            users could not be loaded (code 2).
        DurabilityError: in production, the database could lose acknowledged writes.
    """
    settings = get_settings()
    if settings.is_production:
        console.print(
            "[red]refusing to load the demo in production: its users' passwords and second "
            "factors are published, and its records would mix with real ones.[/]"
        )
        raise typer.Exit(2)
    spec = size_spec(size)
    db = open_database(settings)
    try:
        upgrade(db.engine)
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        console.print(f"Loading the [bold]{spec.name}[/] demo force (seed {seed}) into {where}")
        expected = expected_rows(spec)
        with Progress(
            TextColumn("{task.description:<16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            tasks: dict[str, TaskID] = {
                name: progress.add_task(name, total=expected.get(name)) for name in TABLE_ORDER
            }

            def advance(table: str, count: int) -> None:
                progress.advance(tasks[table], count)

            try:
                stats = load_force(
                    db,
                    spec,
                    seed,
                    as_of=as_of,
                    force_code=settings.force_code,
                    reset=reset,
                    progress=advance,
                )
            except DemoLoadError as exc:
                console.print(f"[red]{exc}[/]")
                raise typer.Exit(2) from exc
            for name, task in tasks.items():
                done = stats.rows.get(name, 0)
                progress.update(task, total=done, completed=done)
        console.print(summary(stats, spec, seed))
        with console.status("Making the demo's agencies and users"):
            try:
                sign_ins = load_demo_users(
                    db, identity_policy(settings), seed=seed, force_code=settings.force_code
                )
                shared = share_demo_events(db, force_code=settings.force_code)
            except (DemoUsersError, BluelightError) as exc:
                console.print(Text(str(exc), style="red"))
                raise typer.Exit(2) from exc
        console.print(
            f"{len(sign_ins)} demo users in {len({s.agency for s in sign_ins})} agencies; "
            f"{len(shared)} shares of events with partner agencies"
        )
        return DemoLoad(stats=stats, sign_ins=sign_ins, shared=len(shared))
    finally:
        db.dispose()
