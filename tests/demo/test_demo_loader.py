"""A loaded demo force is real data to the API: lists, reads, history, filters and changes."""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, Engine, func, select

from bluelight.changes import ChangeLogEntry
from bluelight.db import Database
from bluelight.demo import loader
from bluelight.demo.generator import SIZES, SizeSpec
from bluelight.demo.loader import (
    CHANGE_LOG,
    TABLES,
    CoreWriter,
    DemoLoadError,
    load_force,
)
from bluelight.demo.vehicles import display_mark
from bluelight.migrations import upgrade
from bluelight.records.models import Link, Person, WarningMarker
from bluelight.vocab.models import ForceCodeMapping

TINY = SizeSpec("tiny", persons=400, vehicles=200, events=600, officers=8, years=1)


def _count(db: Database, model: Any) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_loaded_small_force_is_served_by_the_api(db: Database, client: Any) -> None:
    # given the small demo force
    stats = load_force(db, SIZES["small"], 2026)
    assert stats.rows["persons"] == 2_000
    assert stats.rows["events"] == 3_000
    assert stats.rows["change_log"] == stats.total - stats.rows["change_log"]

    # then persons list, and a marked person shows addresses and markers
    page = client.get("/api/v1/persons", params={"limit": 5}).json()
    assert len(page["items"]) == 5
    assert page["next_cursor"]
    with db.read() as session:
        marked = session.scalar(
            select(WarningMarker.subject_id).where(WarningMarker.subject_type == "person").limit(1)
        )
    person = client.get(f"/api/v1/persons/{marked}").json()
    assert person["markers"]
    assert person["addresses"][0]["link_type"] == "resides-at"
    assert "Nottingham" in person["addresses"][0]["summary"]

    # and an event has a place, with its H3 cell
    event = client.get("/api/v1/events", params={"limit": 1}).json()["items"][0]
    place = client.get(f"/api/v1/locations/{event['location_id']}")
    assert place.status_code == 200
    assert place.json()["h3_cell"]

    # and history shows the record as it was created
    history = client.get(f"/api/v1/persons/{marked}/history").json()
    assert [h["action"] for h in history] == ["created"]
    assert history[0]["snapshot"]["names"] == person["names"]
    assert history[0]["snapshot"]["id"] == person["id"]

    # and the filters find demo data stored the way the service stores it
    vehicle = client.get("/api/v1/vehicles", params={"limit": 1}).json()["items"][0]
    found = client.get("/api/v1/vehicles", params={"vrm": display_mark(vehicle["vrm"])}).json()
    assert [v["id"] for v in found["items"]] == [vehicle["id"]]
    after = client.get(
        "/api/v1/events",
        params={"occurred_after": event["occurred_from"], "limit": 3},
    ).json()
    assert after["items"]
    assert all(e["occurred_from"] >= event["occurred_from"] for e in after["items"])

    # when an officer changes a demo record, then its history carries on from version 1
    changed = client.patch(f"/api/v1/persons/{marked}", json={"version": 1, "height_cm": 181})
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    history = client.get(f"/api/v1/persons/{marked}/history").json()
    assert [h["action"] for h in history] == ["created", "updated"]


def test_repeat_offenders_and_markers_survive_the_load(db: Database) -> None:
    load_force(db, TINY, 5)
    with db.read() as session:
        busiest = session.scalar(
            select(func.count())
            .select_from(Link)
            .where(Link.link_type == "involved-in")
            .group_by(Link.from_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        marked = session.scalar(
            select(func.count(func.distinct(WarningMarker.subject_id))).where(
                WarningMarker.subject_type == "person"
            )
        )
    assert (busiest or 0) >= 5
    assert 0.01 <= (marked or 0) / TINY.persons <= 0.10


def test_a_reset_load_replaces_the_records_and_the_mappings(db: Database) -> None:
    # given a loaded force and a force mapping
    load_force(db, TINY, 5)
    with db.write() as session:
        session.add(
            ForceCodeMapping(
                id=uuid.uuid4(),
                force_code="XX",
                list_name="sex",
                local_code="1",
                local_label="Male",
                national_code="M",
                loaded_at=datetime(2026, 1, 1, tzinfo=UTC),
                loaded_by="admin",
            )
        )
    first = _count(db, ChangeLogEntry)
    # when the force is loaded again with a reset
    load_force(db, TINY, 5, reset=True)
    # then it holds the one force, and no mapping
    assert _count(db, ChangeLogEntry) == first
    assert _count(db, Person) == TINY.persons
    assert _count(db, ForceCodeMapping) == 0


def test_loading_twice_without_a_reset_is_refused(db: Database) -> None:
    load_force(db, TINY, 5)
    with pytest.raises(DemoLoadError, match="reset"):
        load_force(db, TINY, 5)
    assert _count(db, Person) == TINY.persons


@pytest.fixture
def second_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Another empty, migrated database of the kind the suite runs on."""
    # tests/ is not a package, so its conftest is reached as the plugin pytest loaded.
    conftest = Path(__file__).parent.parent / "conftest.py"
    shared = request.config.pluginmanager.get_plugin(str(conftest))
    scratch: Callable[[Path, str], tuple[Engine, str, Any]] = shared.scratch_engine
    engine, _url, drop = scratch(tmp_path, "demo")
    upgrade(engine)
    yield Database(engine)
    drop()


def _dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as conn:
        for table in [*TABLES.values(), CHANGE_LOG]:
            columns: list[Any] = [c for c in table.columns if c.name != "seq"]
            # Read back, JSON null and SQL NULL are both None: compare how each is stored too.
            columns += [c.is_(None) for c in table.columns if isinstance(c.type, JSON)]
            order = [table.c.entity_id] if table is CHANGE_LOG else [table.c.id]
            out[table.name] = [tuple(r) for r in conn.execute(select(*columns).order_by(*order))]
    return out


def test_the_fast_writer_stores_what_sqlalchemy_would(db: Database, second_db: Database) -> None:
    # given the same force, written by the database's fast path and by SQLAlchemy Core
    as_of = date(2026, 6, 30)
    load_force(db, TINY, 9, as_of=as_of)
    load_force(second_db, TINY, 9, as_of=as_of, writer=CoreWriter())
    # then both read back the same, value for value
    fast, core = _dump(db), _dump(second_db)
    assert fast.keys() == core.keys()
    for name in fast:
        assert fast[name] == core[name], name


def test_two_producer_processes_make_the_same_force(db: Database, second_db: Database) -> None:
    as_of = date(2026, 6, 30)
    stats = load_force(db, TINY, 4, as_of=as_of, parallel=True)
    load_force(second_db, TINY, 4, as_of=as_of, parallel=False)
    assert stats.rows["events"] == TINY.events
    assert _dump(db) == _dump(second_db)


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(),
    reason="the failure is planted in this process, and only a forked producer inherits it",
)
def test_a_failing_producer_stops_the_load_and_leaves_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = loader.stage_batches

    def failing(plan: Any, stage: str, batch_size: int = 5_000) -> Any:
        if stage == "events":
            msg = "the events producer broke"
            raise RuntimeError(msg)
        return real(plan, stage, batch_size)

    monkeypatch.setattr(loader, "stage_batches", failing)
    with pytest.raises(DemoLoadError, match="the events producer broke"):
        load_force(db, TINY, 4, parallel=True)
    assert _count(db, Person) == 0
