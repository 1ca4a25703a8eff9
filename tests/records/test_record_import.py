"""Importing records from a force's own system: local codes become national codes, the
originals are kept, and nothing is silently dropped."""

from __future__ import annotations

import csv
import io
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bluelight.vocab import code_lists
from factories import (
    API,
    assert_problem,
    device_id,
    event_payload,
    person_payload,
    property_payload,
    row_counts,
    vehicle_payload,
)


def load_mapping(client: Any, force: str, list_name: str, rows: list[tuple[str, str, str]]) -> Any:
    """PUT a force's mapping file for ``list_name``: (local code, local label, national code)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["local_code", "local_label", "national_code"])
    writer.writerows(rows)
    response = client.put(
        f"{API}/vocab/{list_name}/mappings/{force}",
        content=out.getvalue().encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def import_batch(client: Any, path: str, force: str, records: list[dict[str, Any]]) -> Any:
    response = client.post(f"{API}/{path}/import", json={"source_force": force, "records": records})
    assert response.status_code == 200, response.text
    return response.json()


def read(client: Any, path: str, record_id: str) -> dict[str, Any]:
    response = client.get(f"{API}/{path}/{record_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def wmp_mappings(client) -> None:
    """West Midlands' legacy codes for sex, hair colour and the type of a mark."""
    load_mapping(client, "WMP", "sex", [("1", "Male", "M"), ("2", "Female", "F")])
    load_mapping(client, "WMP", "hair-colour", [("BLK", "Black hair", "BLACK")])
    load_mapping(client, "WMP", "mark-type", [("TAT", "Tattoo", "TATTOO")])
    load_mapping(client, "WMP", "property-category", [("PHONE", "Mobile", "MOBILE-PHONE")])
    load_mapping(client, "WMP", "incident-qualifier", [("DRINK", "Alcohol related", "ALCOHOL")])


def wmp_person(**overrides: Any) -> dict[str, Any]:
    """A person as West Midlands' system exports one: local codes in the lists it has mapped."""
    local = {"sex": "1", "hair_colour": "BLK", "marks": [{"type": "TAT", "location": "FACE"}]}
    return person_payload(**(local | overrides))


def wmp_property(**overrides: Any) -> dict[str, Any]:
    return property_payload(**({"category": "PHONE"} | overrides))


def wmp_event(**overrides: Any) -> dict[str, Any]:
    return event_payload(**({"qualifiers": ["DRINK"]} | overrides))


def test_mapped_local_codes_are_stored_as_national_codes_keeping_the_originals(
    client, wmp_mappings
) -> None:
    # Given a person from West Midlands' system, with its local codes
    record = wmp_person()

    # When imported
    report = import_batch(client, "persons", "WMP", [record])

    # Then it is stored under the national codes
    assert report["rejected"] == []
    assert report["unmapped"] == []
    [record_id] = report["created"]
    stored = read(client, "persons", record_id)
    assert (stored["sex"], stored["hair_colour"]) == ("M", "BLACK")
    assert stored["marks"][0]["type"] == "TATTOO"
    # And the original local code and label are kept beside each
    assert stored["original_codes"]["sex"] == {
        "list": "sex",
        "local_code": "1",
        "local_label": "Male",
        "national_code": "M",
        "source_force": "WMP",
    }
    assert stored["original_codes"]["marks[0].type"]["local_code"] == "TAT"
    # And a field the force did not map keeps its national code, with nothing to keep
    assert stored["eye_colour"] == "BROWN"
    assert "eye_colour" not in stored["original_codes"]
    # And its history starts with its creation
    history = client.get(f"{API}/persons/{record_id}/history").json()
    assert [h["action"] for h in history] == ["created"]


def test_mapped_codes_in_a_list_of_codes_are_translated(client, wmp_mappings) -> None:
    report = import_batch(client, "events", "WMP", [wmp_event()])
    [record_id] = report["created"]
    stored = read(client, "events", record_id)
    assert stored["qualifiers"] == ["ALCOHOL"]
    assert stored["original_codes"]["qualifiers[0]"]["local_code"] == "DRINK"


def test_unmapped_code_in_an_optional_field_is_reported_and_the_record_kept(
    client, wmp_mappings
) -> None:
    # Given a person whose hair colour has no national mapping
    record = wmp_person(sex="2", hair_colour="PURPLE")

    # When imported
    report = import_batch(client, "persons", "WMP", [record])

    # Then the record is stored with that field empty, and the code is reported, not dropped
    assert report["rejected"] == []
    assert report["unmapped"] == [
        {"index": 0, "field": "hair_colour", "list": "hair-colour", "local_code": "PURPLE"}
    ]
    [record_id] = report["created"]
    stored = read(client, "persons", record_id)
    assert stored["hair_colour"] is None
    assert stored["sex"] == "F"
    # And the local code is kept with the record, marked as having no national code
    assert stored["original_codes"]["hair_colour"]["local_code"] == "PURPLE"
    assert stored["original_codes"]["hair_colour"]["national_code"] is None


@pytest.mark.parametrize(
    ("path", "record", "field"),
    [
        ("property", wmp_property(category="WIDGET"), "category"),
        ("persons", wmp_person(marks=[{"type": "BRAND"}]), "marks[0].type"),
        ("events", wmp_event(qualifiers=["DRINK", "FOG"]), "qualifiers[1]"),
    ],
    ids=["required-field", "code-in-a-list-item", "code-in-a-list"],
)
def test_unmapped_code_that_cannot_be_left_empty_rejects_only_that_record(
    client, db, wmp_mappings, *, path: str, record: dict[str, Any], field: str
) -> None:
    # Given a batch whose second record holds an unmapped code where one is required
    good = {"persons": wmp_person, "property": wmp_property, "events": wmp_event}[path]
    batch = [good(), record, good()]
    before = row_counts(db)

    # When imported
    report = import_batch(client, path, "WMP", batch)

    # Then that record is rejected and reported, and the others are stored
    assert [(r["index"], r["code"]) for r in report["rejected"]] == [(1, "UNMAPPED_CODE")]
    assert field in report["rejected"][0]["detail"]
    assert [(u["index"], u["field"]) for u in report["unmapped"]] == [(1, field)]
    assert len(report["created"]) == 2
    table = {"persons": "persons", "property": "property_items", "events": "events"}[path]
    assert row_counts(db)[table] == before[table] + 2


def test_records_breaking_a_rule_are_rejected_with_their_problems_and_the_rest_stored(
    client, db, wmp_mappings
) -> None:
    # Given a batch with a good person, one born in the future, one with an unknown field
    # and one using a national code that does not exist
    batch = [
        wmp_person(sex="1"),
        wmp_person(date_of_birth="2999-01-01"),
        wmp_person(shoe_size=9),
        wmp_person(build="ENORMOUS"),
        wmp_person(sex="2"),
    ]

    # When imported
    report = import_batch(client, "persons", "WMP", batch)

    # Then each bad record is reported with why, and the good ones are stored
    rejected = {r["index"]: r for r in report["rejected"]}
    assert rejected[1]["code"] == "FUTURE_DATE"
    assert rejected[1]["errors"][0]["field"] == "date_of_birth"
    assert rejected[2]["code"] == "INVALID_RECORD"
    assert "shoe_size" in rejected[2]["detail"]
    assert rejected[3]["code"] == "UNKNOWN_CODE"
    assert len(report["created"]) == 2
    assert sorted(read(client, "persons", i)["sex"] for i in report["created"]) == ["F", "M"]
    # And nothing of the rejected records was written: two records, two history entries
    counts = row_counts(db)
    assert (counts["persons"], counts["change_log"]) == (2, 2)


def test_duplicate_ids_within_a_batch_store_the_first_and_reject_the_rest(client, db) -> None:
    # Given a batch where the same device id appears twice
    record_id = device_id()
    batch = [
        vehicle_payload(id=record_id, vrm="AA11AAA"),
        vehicle_payload(id=record_id, vrm="BB22BBB"),
        vehicle_payload(vrm="CC33CCC"),
    ]

    # When imported
    report = import_batch(client, "vehicles", "WMP", batch)

    # Then the first is stored, the repeat rejected as a duplicate, the others stored
    assert [(r["index"], r["code"]) for r in report["rejected"]] == [(1, "DUPLICATE_ID")]
    assert record_id in report["created"]
    assert len(report["created"]) == 2
    assert read(client, "vehicles", record_id)["vrm"] == "AA11AAA"


def test_importing_an_id_already_stored_rejects_that_record(client) -> None:
    # Given a vehicle already stored
    first = import_batch(client, "vehicles", "WMP", [vehicle_payload(id=device_id())])
    [record_id] = first["created"]

    # When a batch carries it again (a re-run of the same export)
    again = import_batch(client, "vehicles", "WMP", [vehicle_payload(id=record_id)])

    # Then it is rejected as a duplicate and the stored one is untouched
    assert [(r["index"], r["code"]) for r in again["rejected"]] == [(0, "DUPLICATE_ID")]
    assert read(client, "vehicles", record_id)["version"] == 1


def test_duplicate_event_reference_in_a_batch_rejects_the_second(client) -> None:
    batch = [event_payload(reference="CR/5/26"), event_payload(reference="CR/5/26")]
    report = import_batch(client, "events", "WMP", batch)
    assert [(r["index"], r["code"]) for r in report["rejected"]] == [(1, "DUPLICATE_REFERENCE")]
    assert len(report["created"]) == 1


def test_codes_of_a_force_without_mappings_are_checked_as_national_codes(client) -> None:
    # Given a force that has loaded no mappings
    batch = [person_payload(sex="F"), person_payload(sex="2")]

    # When its records are imported, then national codes are stored as they are
    report = import_batch(client, "persons", "NOMAP", batch)
    assert len(report["created"]) == 1
    assert read(client, "persons", report["created"][0])["original_codes"] is None
    # And an unknown code is refused as any unknown code is
    assert [(r["index"], r["code"]) for r in report["rejected"]] == [(1, "UNKNOWN_CODE")]


def test_mappings_of_one_force_do_not_apply_to_another(client, wmp_mappings) -> None:
    report = import_batch(client, "persons", "NTH", [person_payload(sex="1")])
    assert report["created"] == []
    assert report["rejected"][0]["code"] == "UNKNOWN_CODE"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"source_force": "wm p", "records": [{}]}, "INVALID_FORMAT"),
        ({"source_force": "WMP", "records": []}, "LENGTH_OUT_OF_RANGE"),
        ({"source_force": "WMP", "records": [{}] * 501}, "LENGTH_OUT_OF_RANGE"),
        ({"source_force": "WMP", "records": ["a person"]}, "WRONG_TYPE"),
        ({"source_force": "WMP"}, "MISSING_FIELD"),
        ({"source_force": "WMP", "records": [{}], "dry_run": True}, "UNKNOWN_FIELD"),
    ],
    ids=["bad-force", "empty", "too-many", "not-objects", "no-records", "unknown-field"],
)
def test_unusable_batch_is_refused_whole(client, db, body: dict[str, Any], code: str) -> None:
    before = row_counts(db)
    assert_problem(client.post(f"{API}/persons/import", json=body), 400, code)
    assert row_counts(db) == before


# --- property: any mapped local code is stored as its national code ------------------------

MAPPED_FIELDS = {
    # list → (records path, field, a valid record to put the code in)
    "sex": ("persons", "sex", person_payload),
    "hair-colour": ("persons", "hair_colour", person_payload),
    "eye-colour": ("persons", "eye_colour", person_payload),
    "vehicle-colour": ("vehicles", "colour", vehicle_payload),
    "vehicle-make": ("vehicles", "make", vehicle_payload),
}
_forces = (f"P{n:06d}" for n in itertools.count())

local_codes = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
        min_size=1,
        max_size=20,
    )
    .map(str.strip)
    .filter(bool)
)
labels = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=60
).map(str.strip)


@st.composite
def mappings(draw: st.DrawFn) -> tuple[str, dict[str, tuple[str, str]]]:
    """A national list and a force's mapping of its local codes to active codes of it."""
    list_name = draw(st.sampled_from(sorted(MAPPED_FIELDS)))
    national = st.sampled_from(code_lists()[list_name].active_codes())
    table = draw(st.dictionaries(local_codes, st.tuples(labels, national), min_size=1, max_size=8))
    return list_name, table


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mapping=mappings(), data=st.data())
def test_any_mapped_local_code_is_stored_as_its_national_code_and_keeps_its_original(
    client, mapping: tuple[str, dict[str, tuple[str, str]]], data: st.DataObject
) -> None:
    # Given a force (new for each example) that has loaded a mapping for a list
    list_name, table = mapping
    force = next(_forces)
    rows = [(local, label, national) for local, (label, national) in table.items()]
    report = load_mapping(client, force, list_name, rows)
    assert (report["loaded"], report["rejected"]) == (len(rows), [])

    # When a record using one of its local codes is imported
    local = data.draw(st.sampled_from(sorted(table)), label="local code")
    label, national = table[local]
    path, field, payload = MAPPED_FIELDS[list_name]
    result = import_batch(client, path, force, [payload(**{field: local})])

    # Then the record holds the national code, and keeps the local code and label
    assert result["rejected"] == []
    assert result["unmapped"] == []
    stored = read(client, path, result["created"][0])
    assert stored[field] == national
    assert stored["original_codes"][field] == {
        "list": list_name,
        "local_code": local,
        "local_label": label,
        "national_code": national,
        "source_force": force,
    }
