"""The audit API as an auditor uses it: signed tree heads, the signing key, inclusion and
consistency proofs that check out against what was signed, and exports as CSV and JSON lines.

A test that signs heads builds its own app (the ``client`` fixture of ``tests/conftest.py``),
so the tree signer, which remembers the tree between signings, starts from the empty trail the
test starts with; the others share the session's app (``auditor``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from bluelight.audit.merkle import (
    MerkleError,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from bluelight.audit.models import AuditEntry
from bluelight.audit.queries import entry_read
from bluelight.audit.rules import canonical_entry, tree_head_message
from bluelight.audit.schemas import EntryRead
from bluelight.db import Database
from bluelight.kernel.crypto import verify_signature
from factories import API, app, assert_problem, auth_headers, new_record

__all__ = ["app"]  # the session's app (see factories), used by ``auditor``
AUDIT = f"{API}/audit"


@pytest.fixture
def auditor(app: Litestar, db: Database) -> Iterator[TestClient[Any]]:
    """A client of the session's app, signed in with every role of the force (auditor too)."""
    with TestClient(app) as c:
        c.headers.update(auth_headers(c))
        yield c


def stored_entries(db: Database) -> list[AuditEntry]:
    with db.read() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        session.expunge_all()
    return rows


def some_activity(client: TestClient[Any], people: int = 3) -> None:
    """Entries of several kinds: collections, consultations, a refused read."""
    for _ in range(people):
        person = new_record(client, "persons")
        client.get(f"{API}/persons/{person['id']}")
    client.get(f"{API}/persons", headers={"X-Bluelight-Reason": "", "X-Bluelight-Reason-Text": ""})


def sign(client: TestClient[Any]) -> dict[str, Any]:
    response = client.post(f"{AUDIT}/tree-heads")
    assert response.status_code == 200, response.text
    head: dict[str, Any] = response.json()
    return head


def public_key(client: TestClient[Any]) -> bytes:
    response = client.get(f"{AUDIT}/key")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["algorithm"] == "Ed25519"
    key = bytes.fromhex(body["public_key"])
    assert body["key_id"] == client.app.state.tree_signer.key.key_id
    return key


def signature_holds(head: dict[str, Any], key: bytes) -> bool:
    message = tree_head_message(
        head["tree_size"],
        bytes.fromhex(head["root_hash"]),
        datetime.fromisoformat(head["signed_at"]),
    )
    return verify_signature(key, message, bytes.fromhex(head["signature"]))


def test_signed_head_covers_the_trail_and_its_signature_verifies(
    client: TestClient[Any], db: Database
) -> None:
    # Given some audited activity and no head yet
    some_activity(client)
    assert_problem(client.get(f"{AUDIT}/tree-heads/latest"), 404, "ENTRY_NOT_FOUND")
    leaves = [e.leaf_hash for e in stored_entries(db)]

    # When an auditor signs the tree
    head = sign(client)

    # Then the head states the trail's size and root, signed with the server's key
    assert head["tree_size"] == len(leaves)
    assert head["root_hash"] == root_from_leaf_hashes(leaves).hex()
    key = public_key(client)
    assert key == client.app.state.tree_signer.key.public_bytes()
    assert head["key_id"] == client.app.state.tree_signer.key.key_id
    assert signature_holds(head, key)
    # And it is the latest head, and the only one
    assert client.get(f"{AUDIT}/tree-heads/latest").json() == head
    assert client.get(f"{AUDIT}/tree-heads").json() == [head]
    # And a head whose root was changed no longer verifies
    forged = {**head, "root_hash": "00" * 32}
    assert not signature_holds(forged, key)


def test_signing_again_without_new_entries_gives_the_same_head(client: TestClient[Any]) -> None:
    some_activity(client, people=1)
    first = sign(client)
    again = sign(client)
    assert again == first
    assert client.get(f"{AUDIT}/tree-heads").json() == [first]


def test_inclusion_proofs_verify_against_the_signed_root(
    client: TestClient[Any], db: Database
) -> None:
    # Given a signed head over some activity, and more activity after it
    some_activity(client)
    head = sign(client)
    key = public_key(client)
    assert signature_holds(head, key)
    some_activity(client, people=1)
    size, root = head["tree_size"], bytes.fromhex(head["root_hash"])

    for seq in sorted({0, 1, size // 2, size - 2, size - 1}):
        # When an auditor asks for the proof that entry seq is in the signed tree
        response = client.get(f"{AUDIT}/proofs/inclusion", params={"seq": seq, "tree_size": size})
        assert response.status_code == 200, response.text
        proof = response.json()

        # Then the entry, as the API serves it, hashes to the proven leaf
        entry = client.get(f"{AUDIT}/entries/{seq}").json()
        assert proof["leaf_hash"] == entry["leaf_hash"]
        assert leaf_hash(canonical_entry(seq, as_row(entry))).hex() == entry["leaf_hash"]
        # And the proof leads from that leaf to the root the server signed
        assert (proof["seq"], proof["tree_size"], proof["root_hash"]) == (
            seq,
            size,
            head["root_hash"],
        )
        path = [bytes.fromhex(h) for h in proof["proof"]]
        verify_inclusion(seq, size, bytes.fromhex(entry["leaf_hash"]), path, root)
        # And not to the root from any other leaf
        with pytest.raises(MerkleError):
            verify_inclusion(seq, size, bytes.fromhex("ab" * 32), path, root)

    # And a proof without a size is against the whole trail as it stands
    latest = client.get(f"{AUDIT}/proofs/inclusion", params={"seq": 0}).json()
    leaves = [e.leaf_hash for e in stored_entries(db)]
    assert latest["tree_size"] == len(leaves)
    assert latest["root_hash"] == root_from_leaf_hashes(leaves).hex()


def as_row(entry: dict[str, Any]) -> SimpleNamespace:
    """An entry as served, with the names a stored row has (what ``canonical_entry`` reads)."""
    return SimpleNamespace(
        **{**entry, "at": datetime.fromisoformat(entry["at"])},
        actor_user_id=entry["user_id"],
        actor_username=entry["username"],
    )


def test_consistency_proof_links_two_signed_heads(client: TestClient[Any]) -> None:
    # Given a head, more activity, and a later head
    some_activity(client, people=2)
    first = sign(client)
    some_activity(client, people=3)
    second = sign(client)
    key = public_key(client)
    assert signature_holds(first, key)
    assert signature_holds(second, key)
    assert first["tree_size"] < second["tree_size"]

    # When an auditor asks for the proof that the first tree is a prefix of the second
    response = client.get(
        f"{AUDIT}/proofs/consistency",
        params={"first": first["tree_size"], "second": second["tree_size"]},
    )

    # Then it verifies between the two signed roots: nothing signed before was rewritten
    assert response.status_code == 200, response.text
    proof = response.json()
    assert (proof["first_root"], proof["second_root"]) == (first["root_hash"], second["root_hash"])
    path = [bytes.fromhex(h) for h in proof["proof"]]
    verify_consistency(
        first["tree_size"],
        second["tree_size"],
        bytes.fromhex(first["root_hash"]),
        bytes.fromhex(second["root_hash"]),
        path,
    )
    # And it would not link the second head to a different history
    with pytest.raises(MerkleError):
        verify_consistency(
            first["tree_size"],
            second["tree_size"],
            bytes.fromhex("cd" * 32),
            bytes.fromhex(second["root_hash"]),
            path,
        )


def test_proof_for_a_size_the_trail_has_not_reached_is_refused(
    auditor: TestClient[Any],
) -> None:
    some_activity(auditor, people=2)
    size = auditor.get(f"{AUDIT}/proofs/inclusion", params={"seq": 0}).json()["tree_size"]
    refused = [
        ("inclusion", {"seq": 0, "tree_size": size + 1}),
        ("consistency", {"first": 1, "second": size + 1}),
        ("consistency", {"first": 5, "second": 3}),
        ("consistency", {"first": size + 1}),
    ]
    for path, params in refused:
        response = auditor.get(f"{AUDIT}/proofs/{path}", params=params)
        body = assert_problem(response, 400, "TREE_SIZE_OUT_OF_RANGE")
        assert body["tree_size"] in (size, 3), body
    # And the largest size there is, is answered
    whole = auditor.get(f"{AUDIT}/proofs/consistency", params={"first": 1, "second": size})
    assert whole.status_code == 200, whole.text


def test_inclusion_of_an_entry_beyond_the_tree_is_not_found(auditor: TestClient[Any]) -> None:
    some_activity(auditor, people=2)
    assert_problem(
        auditor.get(f"{AUDIT}/proofs/inclusion", params={"seq": 5, "tree_size": 5}),
        404,
        "ENTRY_NOT_FOUND",
    )


def expected_exports(db: Database) -> list[dict[str, Any]]:
    with db.read() as session:
        return [
            msgspec.to_builtins(entry_read(e))
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        ]


def test_export_as_csv_matches_the_trail(auditor: TestClient[Any], db: Database) -> None:
    some_activity(auditor)

    response = auditor.get(f"{AUDIT}/export", params={"format": "csv"})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "audit.csv" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    header, body = rows[0], rows[1:]
    assert header == list(EntryRead.__struct_fields__)
    # The export is itself a disclosure, on the trail before the first byte is sent
    expected = expected_exports(db)
    assert expected[-1]["tag"] == "audit:trail:exported"
    assert len(body) == len(expected)
    for row, entry in zip(body, expected, strict=True):
        as_text = [
            json.dumps(entry[k], separators=(",", ":"))
            if isinstance(entry[k], (list, dict))
            else ("" if entry[k] is None else str(entry[k]))
            for k in header
        ]
        assert row == as_text
        # Lists and documents are JSON in their cells, so they read back exactly
        assert json.loads(row[header.index("subject_ids")]) == entry["subject_ids"]
        assert json.loads(row[header.index("detail")]) == entry["detail"]


FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", FORMULAS, ids=["equals", "plus", "minus", "at", "tab", "cr"])
def test_a_csv_export_never_hands_a_spreadsheet_a_formula(
    auditor: TestClient[Any], db: Database, text: str
) -> None:
    # Given a read whose reason text a spreadsheet would run as a formula
    person = new_record(auditor, "persons")
    encoded = "".join(f"%{b:02X}" for b in f"{text} formula-check".encode())
    read = auditor.get(
        f"{API}/persons/{person['id']}",
        headers={"X-Bluelight-Reason": "INVESTIGATION", "X-Bluelight-Reason-Text": encoded},
    )
    if text[0] in "\t\r":
        # Control characters are refused at the door: they never reach the trail at all.
        assert_problem(read, 400, "INVALID_REASON_TEXT")
        return
    assert read.status_code == 200, read.text

    # When the trail is exported as CSV
    response = auditor.get(f"{AUDIT}/export", params={"format": "csv"})

    # Then the cell starts with an apostrophe (shown as text, never run); JSON keeps it exact
    rows = list(csv.DictReader(io.StringIO(response.text)))
    cells = [r["reason_text"] for r in rows if r["reason_text"].endswith(" formula-check")]
    assert cells == [f"'{text} formula-check"]
    assert not any(c.startswith(("=", "+", "-", "@")) for r in rows for c in r.values())
    lines = auditor.get(f"{AUDIT}/export", params={"format": "json"}).text.splitlines()
    assert f"{text} formula-check" in [json.loads(line)["reason_text"] for line in lines]


def test_export_as_json_lines_matches_the_trail(auditor: TestClient[Any], db: Database) -> None:
    some_activity(auditor)

    response = auditor.get(f"{AUDIT}/export", params={"format": "json"})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines == expected_exports(db)
    assert [e["seq"] for e in lines] == list(range(len(lines)))


def test_export_takes_the_search_filters(auditor: TestClient[Any], db: Database) -> None:
    some_activity(auditor)

    response = auditor.get(
        f"{AUDIT}/export", params={"format": "json", "action": "consultation", "outcome": "denied"}
    )

    lines = [json.loads(line) for line in response.text.splitlines()]
    expected = [
        e for e in expected_exports(db) if (e["action"], e["outcome"]) == ("consultation", "denied")
    ]
    assert lines == expected
    assert len(lines) == 1


def test_search_subject_is_as_long_as_an_id_can_be(auditor: TestClient[Any]) -> None:
    # The search is audited naming its subject: a subject too long for the trail's subject
    # index is refused as a bad query, never left to fail the audit write (503).
    longest = auditor.get(f"{AUDIT}/entries", params={"subject": "x" * 40})
    assert longest.status_code == 200, longest.text
    too_long = auditor.get(f"{AUDIT}/entries", params={"subject": "x" * 41})
    assert too_long.status_code == 400, too_long.text
    exported = auditor.get(f"{AUDIT}/export", params={"subject": "x" * 40})
    assert exported.status_code == 200, exported.text


def test_places_beyond_any_trail_are_refused_not_failed(auditor: TestClient[Any]) -> None:
    # A place is at most 2^53 - 1 (what JSON carries exactly); a larger one, even one the
    # database's 64-bit column could hold, must be a 400, never a 500
    for huge in (2**53, 2**63 - 1, 2**64):
        assert auditor.get(f"{AUDIT}/entries/{huge}").status_code == 400
        assert auditor.get(f"{AUDIT}/entries", params={"cursor": huge}).status_code == 400
    assert_problem(auditor.get(f"{AUDIT}/entries/{2**53 - 1}"), 404, "ENTRY_NOT_FOUND")


AUDIT_ROUTES = [
    ("GET", "/entries"),
    ("GET", "/entries/0"),
    ("GET", "/export"),
    ("GET", "/tree-heads"),
    ("GET", "/tree-heads/latest"),
    ("POST", "/tree-heads"),
    ("GET", "/key"),
    ("GET", "/proofs/inclusion?seq=0"),
    ("GET", "/proofs/consistency?first=0"),
]


@pytest.mark.parametrize(
    ("roles", "agency"),
    [
        (("officer",), "police"),
        (("supervisor", "agency_admin"), "police"),
        (("prosecutor",), "CPS"),
    ],
)
def test_the_audit_api_refuses_anyone_but_an_auditor(
    auditor: TestClient[Any], db: Database, roles: tuple[str, ...], agency: str
) -> None:
    # Given a user who is not an auditor (a prosecutor works in a partner agency)
    where = {} if agency == "police" else {"agency": agency, "agency_type": "prosecutor"}
    headers = auth_headers(auditor, "not.an.auditor", roles, **where)
    before = len(stored_entries(db))

    # When they call each audit route, they are refused and shown nothing
    for method, path in AUDIT_ROUTES:
        response = auditor.request(method, f"{AUDIT}{path}", headers=headers)
        body = assert_problem(response, 403, "PERMISSION_DENIED")
        assert set(body) <= {"type", "title", "status", "detail", "code", "permission"}

    # And each refusal is on the trail
    denied = stored_entries(db)[before:]
    assert len(denied) == len(AUDIT_ROUTES)
    assert {e.outcome for e in denied} == {"denied"}
    assert {e.actor_username for e in denied} == {"not.an.auditor"}
