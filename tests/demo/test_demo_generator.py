"""The synthetic force, as rows in memory: reproducible, valid under the record rules, realistic."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest

from bluelight.demo import crime
from bluelight.demo.generator import (
    LOCATION_MARKERS,
    PERSON_MARKERS,
    SIZES,
    SizeSpec,
    change_entry,
    generate,
)
from bluelight.demo.geography import EAST, HOT_SPOTS, NORTH, SOUTH, WEST
from bluelight.records import rules
from bluelight.records.kinds import BY_NAME
from bluelight.vocab import Checker, code_lists

TINY = SizeSpec("tiny", persons=600, vehicles=300, events=900, officers=12, years=1)
TODAY = datetime.now(UTC).date()
Rows = dict[str, list[dict[str, Any]]]


def force(spec: SizeSpec = TINY, seed: int = 7, as_of: date = TODAY) -> Rows:
    rows: Rows = {}
    for kind, batch in generate(spec, seed, as_of=as_of, batch_size=250):
        rows.setdefault(kind, []).extend(batch)
    return rows


@pytest.fixture(scope="module")
def tiny() -> Rows:
    return force()


def test_same_seed_gives_the_same_force() -> None:
    first = force(seed=11, as_of=date(2026, 3, 1))
    second = force(seed=11, as_of=date(2026, 3, 1))
    assert first == second
    assert first["person"][0]["id"] == second["person"][0]["id"]


def test_another_seed_gives_another_force() -> None:
    one = force(seed=1, as_of=date(2026, 3, 1))
    two = force(seed=2, as_of=date(2026, 3, 1))
    assert {r["id"] for r in one["person"]}.isdisjoint({r["id"] for r in two["person"]})
    assert [r["family_name"] for r in one["person"]] != [r["family_name"] for r in two["person"]]


def _validate(kind_name: str, row: dict[str, Any]) -> tuple[list[Any], Any]:
    kind = BY_NAME[kind_name]
    # As the service does: the id is the row's, the classification an access column, not content.
    names = [f for f in kind.create.__struct_fields__ if f not in ("id", "classification")]
    data = msgspec.convert({f: row[f] for f in names}, kind.create)
    fields = msgspec.convert(
        {f: getattr(data, f) for f in names}, kind.fields, from_attributes=True
    )
    checker = Checker(code_lists())
    rules.check_text(fields, checker, frozenset(names))
    rules.check_codes(fields, kind.coded, checker)
    now = datetime.now(UTC)
    content = kind.check(fields, checker, rules.Context(now=now, changed=frozenset(names)))
    return checker.issues, content


def test_every_generated_record_passes_the_rules_the_api_applies(tiny: Rows) -> None:
    for kind_name, rows in tiny.items():
        for row in rows:
            issues, content = _validate(kind_name, row)
            assert issues == [], (kind_name, row, issues)
            # Stored as the service would store it: already normalised, derived columns right.
            stored = {f: row[f] for f in content.__struct_fields__}
            assert msgspec.to_builtins(content) == msgspec.to_builtins(stored), kind_name
            for column, value in BY_NAME[kind_name].derived(content).items():
                assert row[column] == value, (kind_name, column)


def test_every_catalogue_code_is_an_active_national_code() -> None:
    lists = code_lists()

    def active(list_name: str, code: str) -> bool:
        entry = lists[list_name].by_code.get(code)
        return entry is not None and entry.active

    for t in crime.EVENT_TYPES:
        assert active("incident-type", t.incident_type), t.key
        assert t.offence is None or active("offence", t.offence), t.key
        assert all(active("incident-qualifier", q) for q, _ in t.qualifiers), t.key
        roles = [p.role for p in t.parts] + ([t.keeper_role] if t.keeper_role else [])
        assert all(active("person-event-role", r) for r in roles), t.key
        assert (t.kind == "crime") == (t.offence is not None), t.key
    for table, subject in ((PERSON_MARKERS, "person"), (LOCATION_MARKERS, "location")):
        for code, _, _ in table:
            assert active("warning-marker", code)
            assert subject in lists["warning-marker"].by_code[code].attributes["applies_to"]


def test_links_and_markers_point_at_generated_records(tiny: Rows) -> None:
    ids = {kind: {r["id"] for r in rows} for kind, rows in tiny.items()}
    for link in tiny["link"]:
        assert link["from_id"] in ids[link["from_type"]], link["link_type"]
        assert link["to_id"] in ids[link["to_type"]], link["link_type"]
    for marker in tiny["marker"]:
        assert marker["subject_id"] in ids[marker["subject_type"]]
    assert all(e["location_id"] in ids["location"] for e in tiny["event"])


def test_ids_and_references_are_unique(tiny: Rows) -> None:
    every = [r["id"] for rows in tiny.values() for r in rows]
    assert len(every) == len(set(every))
    references = [e["reference"] for e in tiny["event"]]
    assert len(references) == len(set(references))
    assert all(re.fullmatch(r"DEMO/20\d\d/\d{6}", r) for r in references)


def test_vehicles_carry_current_format_marks_and_a_keeper(tiny: Rows) -> None:
    marks = [v["vrm"] for v in tiny["vehicle"]]
    assert all(re.fullmatch(r"[A-HJ-PR-Y]{2}(0[2-9]|[1-7]\d)[A-HJ-PR-Z]{3}", m) for m in marks)
    assert len(marks) == len(set(marks))
    kept = {lk["to_id"] for lk in tiny["link"] if lk["link_type"] == "registered-keeper"}
    assert kept == {v["id"] for v in tiny["vehicle"]}


def test_no_one_lives_anywhere_or_keeps_a_car_before_they_could(tiny: Rows) -> None:
    born = {p["id"]: p["date_of_birth"] for p in tiny["person"] if p["date_of_birth"]}
    for link in tiny["link"]:
        birth = born.get(link["from_id"])
        if birth is None or link["valid_from"] is None:
            continue
        start = link["valid_from"].date()
        if link["link_type"] == "registered-keeper":
            assert start >= birth.replace(year=birth.year + 17, day=min(birth.day, 28))
        else:
            assert start >= birth, link["link_type"]
        assert link["valid_to"] is None or link["valid_to"] >= link["valid_from"]


def test_every_person_lives_somewhere_in_the_city(tiny: Rows) -> None:
    homes = Counter(lk["from_id"] for lk in tiny["link"] if lk["link_type"] == "resides-at")
    assert set(homes) == {p["id"] for p in tiny["person"]}
    for loc in tiny["location"]:
        assert SOUTH <= loc["latitude"] <= NORTH
        assert WEST <= loc["longitude"] <= EAST
        assert loc["postcode"] is None or loc["postcode"].startswith("NG")


def test_a_few_offenders_and_victims_come_back_again_and_again(tiny: Rows) -> None:
    per_person = Counter(lk["from_id"] for lk in tiny["link"] if lk["link_type"] == "involved-in")
    repeat = [n for n in per_person.values() if n >= 5]
    assert repeat
    # A skewed distribution: the busiest tenth of the people involved hold well over a tenth
    # of the involvements (witnesses and passers-by, drawn evenly, dilute it).
    counts = sorted(per_person.values(), reverse=True)
    top = counts[: max(1, len(counts) // 10)]
    assert sum(top) > 0.25 * sum(counts)


def test_warning_markers_are_on_a_few_percent_of_people_and_due_for_review(tiny: Rows) -> None:
    marked = {m["subject_id"] for m in tiny["marker"] if m["subject_type"] == "person"}
    assert 0.01 <= len(marked) / len(tiny["person"]) <= 0.10
    assert all(m["review_date"] > TODAY for m in tiny["marker"])


def test_crimes_name_their_offence_and_follow_the_clock() -> None:
    rows = force(SizeSpec("clock", persons=800, vehicles=200, events=4_000, officers=10))
    crimes = [e for e in rows["event"] if e["kind"] == "crime"]
    assert crimes
    assert all(e["offence"] for e in crimes)
    assert {e["kind"] for e in rows["event"]} == {"crime", "incident"}

    def hours(offence: str) -> list[int]:
        return [
            (e["occurred_to"] or e["occurred_from"]).hour for e in crimes if e["offence"] == offence
        ]

    nte = [h for o in ("105A-01", "8N-01", "9A-03") for h in hours(o)]
    assert sum(h >= 20 or h < 4 for h in nte) / len(nte) > 0.5
    shop = hours("46-01")
    assert sum(8 <= h < 20 for h in shop) / len(shop) > 0.85


def test_night_time_violence_clusters_in_hot_spots(tiny: Rows) -> None:
    places = {loc["id"]: loc for loc in tiny["location"]}
    nte = {s.name for s in HOT_SPOTS if s.kind == "nte"}

    def near_nte(loc: dict[str, Any]) -> bool:
        return any(
            abs(loc["latitude"] - s.latitude) < 0.006 and abs(loc["longitude"] - s.longitude) < 0.01
            for s in HOT_SPOTS
            if s.name in nte
        )

    night = [e for e in tiny["event"] if "NIGHT-TIME-ECONOMY" in e["qualifiers"]]
    homes = [loc for loc in tiny["location"] if loc["location_type"] in ("dwelling", "flat")]
    share_events = sum(near_nte(places[e["location_id"]]) for e in night) / len(night)
    share_homes = sum(near_nte(loc) for loc in homes) / len(homes)
    assert share_events > 0.5 > share_homes


def test_the_change_entry_is_the_records_first_version(tiny: Rows) -> None:
    person = tiny["person"][0]
    entry = change_entry("person", person)
    assert (entry["entity_type"], entry["version"], entry["action"]) == ("person", 1, "created")
    assert entry["changed_by"] == person["created_by"]
    assert entry["snapshot"]["names"] == person["names"]
    assert "family_name_key" not in entry["snapshot"]


def test_sizes_grow_from_small_to_large() -> None:
    small, mid, large = SIZES["small"], SIZES["force"], SIZES["large"]
    assert small.persons < mid.persons < large.persons
    assert (mid.persons, mid.vehicles, mid.events) == (200_000, 100_000, 300_000)
