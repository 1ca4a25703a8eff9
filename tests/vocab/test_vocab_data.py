"""The national code lists shipped in ``vocab/data/`` are well formed and complete."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from bluelight.records.kinds import KINDS
from bluelight.vocab import CodeList, code_lists
from bluelight.vocab.rules import CODE_PATTERN

LISTS = sorted(code_lists())
ENTITY_TYPES = {"person", "vehicle", "property", "location", "event"}


def _list(name: str) -> CodeList:
    return code_lists()[name]


def test_every_data_file_is_loaded_under_its_own_name() -> None:
    folder = resources.files("bluelight.vocab") / "data"
    files = sorted(p.name for p in folder.iterdir() if p.name.endswith(".json"))
    # The reasons for access are the audit trail's own list, served with the others.
    assert sorted([*(f.removesuffix(".json") for f in files), "access-reason"]) == LISTS
    for f in files:
        document = json.loads((folder / f).read_text(encoding="utf-8"))
        assert document["list"] == f.removesuffix(".json")


@pytest.mark.parametrize("name", LISTS)
def test_list_is_well_formed(name: str) -> None:
    cl = _list(name)
    assert cl.title
    assert cl.description
    assert re.fullmatch(r"\d{4}\.\d+", cl.version), cl.version
    codes = [e.code for e in cl.entries]
    # Codes are unique, and each could be sent in a record (the API's code pattern).
    assert len(codes) == len(set(codes)), "duplicate codes"
    assert all(CODE_PATTERN.fullmatch(c) for c in codes), codes
    assert cl.active_codes(), "a list with no active code"
    for e in cl.entries:
        assert e.status in {"active", "retired"}, (e.code, e.status)
        assert e.label.strip() == e.label
        assert e.label
        assert e.description
        # Every attribute an entry carries is declared (and described) by its list.
        assert set(e.attributes) <= set(cl.attributes), (e.code, set(e.attributes))
    assert all(cl.attributes.values()), "an attribute without a description"


@pytest.mark.parametrize("name", LISTS)
def test_labels_are_unique_among_active_entries(name: str) -> None:
    labels = [e.label.casefold() for e in _list(name).entries if e.active]
    assert len(labels) == len(set(labels))


def test_every_coded_field_names_a_list_that_exists() -> None:
    used = {c.list_name for kind in KINDS for c in kind.coded}
    assert used <= set(code_lists())


def test_link_types_join_kinds_of_record_that_exist() -> None:
    for e in _list("link-type").entries:
        assert e.attributes["from"] in ENTITY_TYPES, e.code
        assert e.attributes["to"] in ENTITY_TYPES, e.code
    assert _list("link-type").by_code["involved-in"].attributes == {"from": "person", "to": "event"}


def test_warning_markers_say_where_they_apply() -> None:
    for e in _list("warning-marker").entries:
        applies = e.attributes["applies_to"]
        assert applies, e.code
        assert set(applies) <= {"person", "location"}, e.code
    labels = {e.label.casefold() for e in _list("warning-marker").entries if e.active}
    for wanted in ("firearms", "weapons", "violent", "drugs", "escaper", "mental health"):
        assert wanted in labels
    for wanted in ("self-harm", "suicidal", "contagion", "ailment"):
        assert wanted in labels


def test_identifier_patterns_are_valid_regular_expressions() -> None:
    for e in _list("identifier-type").entries:
        pattern = e.attributes.get("pattern")
        if pattern is not None:
            re.compile(pattern)


def test_officer_defined_ethnicity_has_the_ic_codes() -> None:
    assert set(_list("ethnicity-officer").active_codes()) == {
        "IC1",
        "IC2",
        "IC3",
        "IC4",
        "IC5",
        "IC6",
        "IC9",
    }


def test_self_defined_ethnicity_has_the_census_categories_and_not_stated() -> None:
    active = _list("ethnicity-self").active_codes()
    assert len(active) == 20  # 19 census categories and "not stated"
    assert "NS" in active
    assert {e.attributes["group"] for e in _list("ethnicity-self").entries} <= {
        "White",
        "Mixed",
        "Asian",
        "Black",
        "Other",
        "Not stated",
    }


def test_incident_grades_carry_attendance_targets_in_order_of_urgency() -> None:
    grades = _list("incident-grade").entries
    assert [g.code for g in grades] == ["IMMEDIATE", "PRIORITY", "SCHEDULED", "RWD"]
    assert [g.attributes["rank"] for g in grades] == [1, 2, 3, 4]
    targets = [g.attributes["attendance_target_minutes"] for g in grades]
    assert targets[:3] == sorted(targets[:3])
    assert targets[3] is None


def test_offences_cover_the_common_notifiable_offences_with_home_office_codes() -> None:
    active = [e for e in _list("offence").entries if e.active]
    notifiable = [e for e in active if e.attributes["notifiable"]]
    assert len(notifiable) >= 40
    for e in active:
        assert e.attributes["ho_code"], e.code
        assert e.attributes["ho_class"], e.code


def test_roles_of_a_person_in_an_event_include_the_usual_ones() -> None:
    roles = set(_list("person-event-role").active_codes())
    assert {"suspect", "victim", "witness", "offender", "reporting-person"} <= roles
