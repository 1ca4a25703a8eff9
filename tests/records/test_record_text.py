"""Characters no record's text may hold: bidirectional controls anywhere (they make a name
display in another order than it is stored and searched: a spoofing tool), and in a line of
text that identifies something (a name, an identifier, a reference, a VRM, an address) any
other control or invisible format character or line break. Prose (a narrative, notes, a
description) keeps its tabs and line breaks. Each refusal is 422 CONTROL_CHARACTER naming
the field and the character, and writes nothing."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

from bluelight.records.kinds import KINDS
from factories import (
    API,
    REASON,
    assert_problem,
    new_record,
    payload_for,
    row_counts,
    stored,
)

# Every free-text field of every kind, by the path a refusal names, and whether it is prose.
# (Codes, UUIDs, dates and UPRNs are not free text: their own formats already refuse these.)
LINES = {
    "persons": [
        "names[0].family_name",
        "names[0].given_names",
        "names[0].title",
        "identifiers[0].value",
        "identifiers[0].issuer",
    ],
    "vehicles": ["vrm", "vin", "model"],
    "property": ["make", "model", "serial_number", "colour"],
    "locations": ["name", "premises", "street", "locality", "town", "postcode"],
    "events": ["reference"],
}
PROSE = {
    "persons": ["marks[0].description"],
    "vehicles": ["description"],
    "property": ["description"],
    "events": ["narrative"],
    "links": ["notes"],
    "markers": ["detail"],
}
LINE_FIELDS = [(path, field) for path, fields in LINES.items() for field in fields]
PROSE_FIELDS = [(path, field) for path, fields in PROSE.items() for field in fields]
ALL_FIELDS = LINE_FIELDS + PROSE_FIELDS

BIDI_CONTROLS = [
    "\u061c",  # ARABIC LETTER MARK
    "\u200e",  # LEFT-TO-RIGHT MARK
    "\u200f",  # RIGHT-TO-LEFT MARK
    "\u202a",  # LEFT-TO-RIGHT EMBEDDING
    "\u202b",  # RIGHT-TO-LEFT EMBEDDING
    "\u202c",  # POP DIRECTIONAL FORMATTING
    "\u202d",  # LEFT-TO-RIGHT OVERRIDE
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u2067",  # RIGHT-TO-LEFT ISOLATE
    "\u2068",  # FIRST STRONG ISOLATE
    "\u2069",  # POP DIRECTIONAL ISOLATE
]
# Not in one line of text: line breaks and tabs, other controls (C0, DEL, C1), separators
# and invisible format characters.
LINE_ONLY = ["\n", "\r", "\t", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\u200b", "\ufeff",
             "\u00ad", "\u2060"]  # fmt: skip
# Not even in prose: controls other than tab and line breaks.
PROSE_REFUSED = ["\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f"]

_STEP = re.compile(r"([a-z_]+)(?:\[(\d+)\])?")


def _point(char: str) -> str:
    return f"U+{ord(char):04X}"


def _payload(client: Any, path: str, field: str, char: str) -> dict[str, Any]:
    """A valid payload of ``path`` whose ``field`` holds ``char`` (inside what was there, its
    length kept where it has one; or inside a new value)."""
    payload = payload_for(client, path)
    if path == "persons":
        payload["identifiers"] = [{"type": "passport", "value": "123456789", "issuer": "HMPO"}]
    if path == "vehicles":
        payload.update(vin="WVWZZZ1JZXW000001", description="dented wing")
    holder: Any = payload
    steps = _STEP.findall(field)
    for name, index in steps[:-1]:
        holder = holder[name][int(index)] if index else holder[name]
    last = steps[-1][0]
    was = holder.get(last) or "Abcd"
    holder[last] = was[:2] + char + was[3:]
    return payload


def _refused(client: Any, db: Any, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    before = row_counts(db)
    body = assert_problem(client.post(f"{API}/{path}", json=payload), 422, "CONTROL_CHARACTER")
    assert row_counts(db) == before, "a refused request changed the database"
    return body


def _problems(body: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(e["field"], e["code"], e.get("value")) for e in body["errors"]}


@pytest.mark.parametrize(("path", "field"), ALL_FIELDS, ids=[f"{p}.{f}" for p, f in ALL_FIELDS])
def test_a_right_to_left_override_is_refused_in_every_text_field(
    client, db, path: str, field: str
) -> None:
    body = _refused(client, db, path, _payload(client, path, field, "\u202e"))
    assert (field, "CONTROL_CHARACTER", "U+202E") in _problems(body)
    assert "RIGHT-TO-LEFT OVERRIDE" in next(
        e["detail"] for e in body["errors"] if e["field"] == field
    )


@pytest.mark.parametrize(
    ("path", "field"), [("persons", "names[0].family_name"), ("events", "narrative")]
)
def test_every_bidirectional_control_is_refused_in_names_and_prose(
    client, db, path: str, field: str
) -> None:
    for char in BIDI_CONTROLS:
        body = _refused(client, db, path, _payload(client, path, field, char))
        assert (field, "CONTROL_CHARACTER", _point(char)) in _problems(body), _point(char)


@pytest.mark.parametrize(("path", "field"), LINE_FIELDS, ids=[f"{p}.{f}" for p, f in LINE_FIELDS])
def test_a_line_break_is_refused_in_every_line_of_text(client, db, path: str, field: str) -> None:
    body = _refused(client, db, path, _payload(client, path, field, "\n"))
    assert (field, "CONTROL_CHARACTER", "U+000A") in _problems(body)


def test_controls_separators_and_invisible_characters_are_refused_in_a_name(client, db) -> None:
    for char in LINE_ONLY:
        payload = _payload(client, "persons", "names[0].family_name", char)
        body = _refused(client, db, "persons", payload)
        problem = ("names[0].family_name", "CONTROL_CHARACTER", _point(char))
        assert problem in _problems(body), _point(char)


@pytest.mark.parametrize(("path", "field"), PROSE_FIELDS, ids=[f"{p}.{f}" for p, f in PROSE_FIELDS])
def test_prose_refuses_controls_other_than_tabs_and_line_breaks(
    client, db, path: str, field: str
) -> None:
    for char in PROSE_REFUSED:
        body = _refused(client, db, path, _payload(client, path, field, char))
        assert (field, "CONTROL_CHARACTER", _point(char)) in _problems(body), _point(char)


@pytest.mark.parametrize(("path", "field"), PROSE_FIELDS, ids=[f"{p}.{f}" for p, f in PROSE_FIELDS])
def test_prose_keeps_its_tabs_and_line_breaks(client, path: str, field: str) -> None:
    text = "First line.\r\nSecond line,\tafter a tab.\n\nA new paragraph."
    payload = _payload(client, path, field, "x")
    holder: Any = payload
    steps = _STEP.findall(field)
    for name, index in steps[:-1]:
        holder = holder[name][int(index)] if index else holder[name]
    holder[steps[-1][0]] = text

    record = stored(client, path, payload)

    kept: Any = record
    for name, index in steps:
        kept = kept[name][int(index)] if index else kept[name]
    assert kept == text


@pytest.mark.parametrize(
    "family_name",
    [
        "O'Brien-Núñez",
        "Zoë Åström",
        "\u0646\u06cc\u06a9\u200c\u0646\u0627\u0645",  # Persian, with a zero-width non-joiner
        "\u05db\u05d4\u05df",  # Hebrew, right to left by its own letters
        "\u0639\u0628\u062f \u0627\u0644\u0644\u0647",  # Arabic
        "\u0936\u094d\u200d\u0930\u0940",  # Devanagari, with a zero-width joiner
        "Wang\u00a0Xiu",  # a no-break space
    ],
    ids=["latin", "diacritics", "persian-zwnj", "hebrew", "arabic", "devanagari-zwj", "nbsp"],
)
def test_names_in_any_script_are_accepted(client, family_name: str) -> None:
    person = stored(
        client, "persons", payload_for(client, "persons", names=[{"family_name": family_name}])
    )
    # Stored as written (runs of white space, the no-break space among them, become one space)
    assert person["names"][0]["family_name"] == " ".join(family_name.split())


def test_a_change_holding_a_bidirectional_control_is_refused_and_the_record_kept(
    client, db
) -> None:
    person = new_record(client, "persons")
    before = row_counts(db)
    change = {"version": 1, "names": [{"family_name": "Smith\u202enoj"}]}

    response = client.patch(f"{API}/persons/{person['id']}", json=change, headers=REASON)

    body = assert_problem(response, 422, "CONTROL_CHARACTER")
    assert body["field"] == "names[0].family_name"
    assert row_counts(db) == before
    assert client.get(f"{API}/persons/{person['id']}").json() == person


def test_an_imported_record_holding_a_bidirectional_control_is_rejected(client) -> None:
    records = [
        payload_for(client, "persons", names=[{"family_name": "Smith\u2067"}]),
        payload_for(client, "persons"),
    ]

    response = client.post(
        f"{API}/persons/import", json={"source_force": "WMP", "records": records}
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert len(report["created"]) == 1
    [rejected] = report["rejected"]
    assert (rejected["index"], rejected["code"]) == (0, "CONTROL_CHARACTER")
    assert rejected["errors"][0]["field"] == "names[0].family_name"


def _text_fields(struct: Any, prefix: str = "") -> set[str]:
    """Every str field of a struct (and of the structs in its lists), by path."""
    found: set[str] = set()
    for f in msgspec.structs.fields(struct):
        info = msgspec.inspect.type_info(f.type)
        kinds = info.types if isinstance(info, msgspec.inspect.UnionType) else (info,)
        for kind in kinds:
            inner = kind.type if isinstance(kind, msgspec.inspect.Metadata) else kind
            if isinstance(inner, msgspec.inspect.StrType) and inner.pattern is None:
                found.add(prefix + f.name)
            if isinstance(inner, msgspec.inspect.ListType) and isinstance(
                inner.item_type, msgspec.inspect.StructType
            ):
                found |= _text_fields(inner.item_type.cls, f"{prefix}{f.name}[0].")
    return found


def test_every_free_text_field_of_every_kind_is_tested_above() -> None:
    for kind in KINDS:
        tested = set(LINES.get(kind.path, [])) | set(PROSE.get(kind.path, []))
        assert _text_fields(kind.fields) == tested, kind.path
