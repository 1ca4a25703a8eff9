"""The HTTP benchmark's own data: persons, each with a home address and a warning marker.

Records go in through the records service layer (``insert_record``, the function behind
``POST /api/v1/<kind>``), so they pass the same validation and land in the change log exactly
as records made through the API do; batches of ``BATCH`` persons share one transaction to keep
set-up short. The same seed gives the same records.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, select

from _common import OUT, RUN_ID, schema_url, scratch_database, sqlite_url, timed
from bluelight.db import Database, make_engine
from bluelight.identity import system_actor
from bluelight.migrations import upgrade
from bluelight.records import schemas as s
from bluelight.records.kinds import LINK, LOCATION, MARKER, PERSON
from bluelight.records.models import Person
from bluelight.records.services import insert_record

BATCH = 250
KEPT_SQLITE = OUT / "http_read.db"
KEPT_SCHEMA = "bench_http"
FAMILY = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Wright",
    "Robinson",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Thomas",
    "Clarke",
    "Jackson",
    "Wood",
    "Harris",
    "Edwards",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Hughes",
    "Moore",
    "Clark",
    "King",
    "Harrison",
    "Lewis",
    "Baker",
    "Lee",
    "Allen",
    "Morris",
    "Khan",
)
GIVEN = (
    "Oliver",
    "George",
    "Harry",
    "Jack",
    "Jacob",
    "Noah",
    "Charlie",
    "Muhammad",
    "Thomas",
    "Oscar",
    "William",
    "James",
    "Amelia",
    "Olivia",
    "Isla",
    "Emily",
    "Poppy",
    "Ava",
    "Isabella",
    "Jessica",
    "Lily",
    "Sophie",
    "Grace",
    "Sophia",
    "Mia",
    "Evie",
    "Ruby",
    "Ella",
)
STREETS = (
    "High Street",
    "Station Road",
    "Main Street",
    "Park Road",
    "Church Road",
    "Church Street",
    "London Road",
    "Victoria Road",
    "Green Lane",
    "Manor Road",
    "Church Lane",
    "Park Avenue",
    "The Avenue",
    "Queens Road",
)
SEX = ("M", "F")
ETHNICITY = ("IC1", "IC2", "IC3", "IC4", "IC5", "IC6", "IC9")
BUILD = ("THIN", "SLIM", "MEDIUM", "ATHLETIC", "STOCKY", "HEAVY")
HAIR = ("BLACK", "DARK-BROWN", "LIGHT-BROWN", "BLONDE", "GINGER", "GREY")
EYES = ("BLUE", "GREY", "GREEN", "HAZEL", "BROWN")
MARKERS = ("FI", "WE", "VI", "DR", "MH", "SH")
CITY_LAT, CITY_LON = 53.4808, -2.2426  # Manchester


def _postcode(rng: random.Random) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"M{rng.randint(1, 40)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def _one_person(
    rng: random.Random, today: date
) -> tuple[s.LocationCreate, s.PersonCreate, s.LinkCreate, s.MarkerCreate]:
    location_id, person_id = (
        uuid.UUID(int=rng.getrandbits(128), version=4),
        uuid.UUID(int=rng.getrandbits(128), version=4),
    )
    location = s.LocationCreate(
        id=location_id,
        location_type="dwelling",
        premises=str(rng.randint(1, 240)),
        street=rng.choice(STREETS),
        town="Manchester",
        postcode=_postcode(rng),
        latitude=round(CITY_LAT + rng.uniform(-0.08, 0.08), 6),
        longitude=round(CITY_LON + rng.uniform(-0.12, 0.12), 6),
    )
    person = s.PersonCreate(
        id=person_id,
        names=[
            s.PersonName(
                family_name=rng.choice(FAMILY),
                given_names=f"{rng.choice(GIVEN)} {rng.choice(GIVEN)}",
            )
        ],
        date_of_birth=today - timedelta(days=rng.randint(16 * 365, 80 * 365)),
        sex=rng.choice(SEX),
        ethnicity_officer=rng.choice(ETHNICITY),
        height_cm=rng.randint(150, 200),
        build=rng.choice(BUILD),
        hair_colour=rng.choice(HAIR),
        eye_colour=rng.choice(EYES),
    )
    link = s.LinkCreate(
        link_type="resides-at",
        from_type="person",
        from_id=person_id,
        to_type="location",
        to_id=location_id,
        valid_from=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 1500)),
    )
    marker = s.MarkerCreate(
        subject_type="person",
        subject_id=person_id,
        marker=rng.choice(MARKERS),
        detail="Recorded for the benchmark",
        review_date=today + timedelta(days=rng.randint(30, 700)),
    )
    return location, person, link, marker


def seed_persons(
    db: Database,
    count: int,
    *,
    seed: int = 2026,
    agency: str = "DEMO",
    progress: Callable[[int], None] | None = None,
) -> list[uuid.UUID]:
    """Create ``count`` persons, each with one address (location + resides-at link) and one
    warning marker; return the person ids."""
    rng = random.Random(seed)  # noqa: S311  (reproducible test data, not secrets)
    actor = system_actor(agency)
    today = datetime.now(UTC).date()
    ids: list[uuid.UUID] = []
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        with db.write() as session:
            for _ in range(size):
                location, person, link, marker = _one_person(rng, today)
                insert_record(session, LOCATION, location, actor=actor)
                insert_record(session, PERSON, person, actor=actor)
                insert_record(session, LINK, link, actor=actor)
                insert_record(session, MARKER, marker, actor=actor)
                assert person.id is not None  # noqa: S101  (set above; narrows the type)
                ids.append(person.id)
        if progress is not None:
            progress(size)
    return ids


@dataclass
class PreparedDatabase:
    """A migrated database holding the benchmark's persons."""

    url: str
    ids: list[str]
    label: str
    seed_seconds: float
    drop: Callable[[], None]


def prepare_database(
    database_url: str | None,
    persons: int,
    *,
    workdir: Path,
    seed: int = 2026,
    reuse: bool = False,
    keep: bool = False,
    console: Console | None = None,
) -> PreparedDatabase:
    """A migrated database holding ``persons`` persons.

    - By default a fresh one private to this run (SQLite ``<workdir>/http_read.db``, or the
      PostgreSQL schema ``bench_http_<run id>``), removed by ``drop()``.
    - With ``keep``, a fresh one at the shared place (``benchmarks/out/http_read.db``, or the
      schema ``bench_http``), replacing what is there, and left after the run.
    - With ``reuse``, the one a ``keep`` run left; ``drop()`` leaves it too.

    Raises:
        RuntimeError: ``reuse`` and no kept database with enough persons.
    """
    on_sqlite = database_url is None or database_url.startswith("sqlite")
    if reuse:
        if on_sqlite:
            if not KEPT_SQLITE.exists():
                msg = f"no kept database at {KEPT_SQLITE} (make one with --keep-db)"
                raise RuntimeError(msg)
            url, label = sqlite_url(KEPT_SQLITE), f"SQLite {KEPT_SQLITE.name} (reused)"
        else:
            assert database_url is not None  # noqa: S101  (not on_sqlite)
            url, label = schema_url(database_url, KEPT_SCHEMA), f"schema {KEPT_SCHEMA} (reused)"
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                ids = [str(i) for (i,) in conn.execute(select(Person.id).order_by(Person.id))]
        finally:
            engine.dispose()
        if len(ids) < persons:
            msg = f"the kept database holds {len(ids)} persons, not {persons}"
            raise RuntimeError(msg)
        return PreparedDatabase(url, ids[:persons], label, 0.0, lambda: None)

    if keep:
        name, directory = ("http_read", OUT) if on_sqlite else (KEPT_SCHEMA, OUT)
    else:
        name, directory = ("http_read", workdir) if on_sqlite else (f"bench_http_{RUN_ID}", OUT)
    scratch = scratch_database(database_url, name, directory=directory, keep=keep)
    engine = make_engine(scratch.url)
    try:
        upgrade(engine)
        db = Database(engine)
        with timed() as seconds, Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"creating {persons} persons", total=persons)
            uuids = seed_persons(db, persons, seed=seed, progress=lambda n: bar.advance(task, n))
        with db.read() as session:
            count = session.scalar(select(func.count()).select_from(Person))
        if db.dialect == "postgresql":
            # The planner's statistics, as autovacuum gathers them on a live database within a
            # minute of a load this size (a machine may run with autovacuum off): without them
            # PostgreSQL guesses every table nearly empty and scans the warnings and links
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
    except BaseException:
        engine.dispose()
        scratch.drop()
        raise
    engine.dispose()
    if console is not None:
        console.print(
            f"database: {scratch.label}: {count} persons (each with an address and a marker) "
            f"created in {seconds[0]:.1f} s"
        )
    return PreparedDatabase(
        scratch.url, [str(u) for u in uuids], scratch.label, round(seconds[0], 1), scratch.drop
    )
