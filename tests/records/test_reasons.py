"""A reason is asked wherever personal data is read or changed, and a reason is a code and its
words, as the trail can keep them (the holes a review found, each closed here)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bluelight.audit.models import AuditEntry
from factories import (
    API,
    REASON,
    assert_problem,
    auth_headers,
    link_payload,
    marker_payload,
    new_record,
    person_payload,
    stored,
)

NO_REASON = {"X-Bluelight-Reason": "", "X-Bluelight-Reason-Text": ""}
EPILEPSY = "Epileptic: risk of seizure in custody"


def _text(text: str) -> dict[str, str]:
    return {"X-Bluelight-Reason": "INVESTIGATION", "X-Bluelight-Reason-Text": text}


def entries(client: Any, tag: str) -> list[Any]:
    with client.app.state.database.read() as session:
        return list(
            session.execute(
                select(
                    AuditEntry.action,
                    AuditEntry.outcome,
                    AuditEntry.subject_ids,
                    AuditEntry.reason_code,
                    AuditEntry.reason_text,
                    AuditEntry.detail,
                )
                .where(AuditEntry.tag == tag)
                .order_by(AuditEntry.seq)
            )
        )


def test_a_change_that_changes_nothing_still_needs_a_reason_and_is_audited(client) -> None:
    # Given a person, and a version learnt the way an attacker would: from a 409
    person = stored(client, "persons", person_payload())
    conflict = client.patch(
        f"{API}/persons/{person['id']}", json={"version": 99, "sex": "F"}, headers=REASON
    )
    version = conflict.json()["current_version"]

    # When that version is sent back with no change and no reason
    url = f"{API}/persons/{person['id']}"
    bare = client.patch(url, json={"version": version}, headers=NO_REASON)

    # Then nothing of the person comes back, and the attempt is on the trail
    assert_problem(bare, 400, "REASON_REQUIRED")
    assert "Okafor" not in bare.text
    assert [(e.outcome, e.detail["code"]) for e in entries(client, "records:person:updated")] == [
        ("denied", "REASON_REQUIRED")
    ]

    # And with a reason the unchanged person is shown, audited as looked at, not changed
    shown = client.patch(url, json={"version": version}, headers=REASON)
    assert shown.status_code == 200, shown.text
    assert shown.json()["version"] == version
    (looked,) = entries(client, "records:person:unchanged")
    assert (looked.action, looked.outcome, looked.subject_ids) == (
        "consultation",
        "allowed",
        [person["id"]],
    )
    assert (looked.reason_code, looked.reason_text) == ("INVESTIGATION", "test enquiry")


@pytest.mark.parametrize("path", ["persons", "vehicles", "links", "markers"])
def test_changing_what_is_said_about_people_needs_a_reason(client, path: str) -> None:
    record = new_record(client, path)
    url = f"{API}/{path}/{record['id']}"

    for response in (
        client.post(f"{API}/{path}", json=_payload(client, path), headers=NO_REASON),
        client.patch(url, json={"version": 1}, headers=NO_REASON),
        client.request(
            "DELETE", url, json={"version": 1, "reason": "entered in error"}, headers=NO_REASON
        ),
        client.post(
            f"{API}/{path}/import",
            json={"source_force": "DEMO", "records": [{}]},
            headers=NO_REASON,
        ),
    ):
        assert_problem(response, 400, "REASON_REQUIRED")
    assert client.get(url).json()["deleted_at"] is None


def _payload(client: Any, path: str) -> dict[str, Any]:
    if path == "markers":
        return marker_payload(new_record(client, "persons")["id"])
    if path == "links":
        person, event = new_record(client, "persons"), new_record(client, "events")
        return link_payload("person", person["id"], "event", event["id"])
    return {"persons": person_payload, "vehicles": lambda: {"vrm": "AB12CDE"}}[path]()


def test_warnings_and_links_about_a_person_are_read_only_with_a_reason(client) -> None:
    # Given a person with a health warning and an address
    person = stored(client, "persons", person_payload())
    warning = stored(client, "markers", marker_payload(person["id"], detail=EPILEPSY))
    place = new_record(client, "locations")
    link = stored(client, "links", link_payload("person", person["id"], "location", place["id"]))

    # When they are read or listed without a reason, they are refused and shown nowhere
    for url in (
        f"{API}/markers",
        f"{API}/markers/{warning['id']}",
        f"{API}/markers/{warning['id']}/history",
        f"{API}/links",
        f"{API}/links/{link['id']}",
        f"{API}/links?from_id={person['id']}",
    ):
        response = client.get(url, headers=NO_REASON)
        assert_problem(response, 400, "REASON_REQUIRED")
        assert "Epileptic" not in response.text
        assert place["id"] not in response.text

    # And with a reason, the read is audited with it
    assert client.get(f"{API}/markers", headers=REASON).status_code == 200
    (listed,) = [e for e in entries(client, "records:marker:listed") if e.outcome == "allowed"]
    assert listed.subject_ids == [warning["id"]]
    assert listed.reason_code == "INVESTIGATION"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"X-Bluelight-Reason": "INVESTIGATION"}, "REASON_REQUIRED"),
        (_text("   "), "REASON_REQUIRED"),
        (_text("ok"), "INVALID_REASON_TEXT"),
        ({"X-Bluelight-Reason-Text": "looking"}, "REASON_REQUIRED"),
        (_text("%ZZ%"), "INVALID_REASON_TEXT"),
        (_text("a%ff%fe b"), "INVALID_REASON_TEXT"),
        (_text("50%"), "INVALID_REASON_TEXT"),
        (_text("ab%E2%80%AEcd"), "INVALID_REASON_TEXT"),
        (_text("line%0Abreak"), "INVALID_REASON_TEXT"),
        (_text("x" * 501), "INVALID_REASON_TEXT"),
        ({**_text("just looking"), "X-Bluelight-Reason": "NOSY"}, "UNKNOWN_REASON"),
    ],
    ids=["code-only", "blank-text", "too-short", "text-only", "broken-escape", "not-utf8",
         "lone-percent", "bidi-override", "line-break", "too-long", "unknown-code"],
)  # fmt: skip
def test_a_reason_is_a_code_and_words_the_trail_can_keep(
    client, headers: dict[str, str], code: str
) -> None:
    person = stored(client, "persons", person_payload())
    sent = {**NO_REASON, **headers}

    response = client.get(f"{API}/persons/{person['id']}", headers=sent)

    assert_problem(response, 400, code)
    assert "Okafor" not in response.text
    refused = entries(client, "records:person:read")
    assert [(e.outcome, e.detail["code"]) for e in refused] == [("denied", code)]
    assert all(e.reason_text is None for e in refused)


def test_a_reason_in_any_script_is_kept_exactly(client) -> None:
    person = stored(client, "persons", person_payload())
    text = "Ymholiad lladrad - 盗窃调查 👩\u200d👩\u200d👧"
    encoded = "".join(f"%{b:02X}" for b in text.encode())

    response = client.get(
        f"{API}/persons/{person['id']}",
        headers={"X-Bluelight-Reason": "investigation", "X-Bluelight-Reason-Text": encoded},
    )

    assert response.status_code == 200, response.text
    (read,) = entries(client, "records:person:read")
    assert (read.reason_code, read.reason_text) == ("INVESTIGATION", text)


def test_whether_another_agencys_record_was_deleted_is_not_theirs_to_know(client) -> None:
    # Given a person of this force, deleted with a reason that says something
    person = stored(client, "persons", person_payload())
    deleted = client.request(
        "DELETE",
        f"{API}/persons/{person['id']}",
        json={"version": 1, "reason": "informant: record moved to the covert index"},
    )
    assert deleted.status_code == 200, deleted.text
    other = auth_headers(client, "other.sergeant", agency="OTHER")

    # When an officer of another force asks for it, or tries to change it
    url = f"{API}/persons/{person['id']}"
    for response in (
        client.get(url, headers=other),
        client.patch(url, json={"version": 2, "sex": "F"}, headers=other),
    ):
        # Then it is simply not found: neither the deletion nor its reason is told
        assert_problem(response, 404, "RECORD_NOT_FOUND")
        assert "informant" not in response.text
    # While its own force is told it was deleted, when and why
    own = client.get(url)
    assert_problem(own, 410, "RECORD_DELETED")
    assert own.json()["reason"].startswith("informant")
