"""``verify`` on a real trail: intact when nobody touched it, and each kind of tampering, done
with SQL straight on the tables as a database administrator could, is caught.

Also the group commit that reads use: concurrent writers get dense places, each its own, and a
trail that cannot be written refuses the read instead of releasing the data.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from litestar.testing import TestClient
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from bluelight.app import create_app
from bluelight.audit import Action, AuditError, AuditWriter, Justification, TreeSigner, record
from bluelight.audit.merkle import leaf_hash, root_from_leaf_hashes
from bluelight.audit.models import AuditEntry, AuditSubject, TreeHead
from bluelight.audit.rules import Draft, Outcome, canonical_entry, draft, tree_head_message
from bluelight.audit.verification import verify
from bluelight.db import ROWS_PER_INSERT, Database
from bluelight.kernel import new_id, utcnow
from bluelight.kernel.crypto import SigningKey, load_or_create_signing_key, verify_signature
from bluelight.migrations import upgrade
from bluelight.settings import Settings
from factories import API, assert_problem, auth_headers, person_payload, stored
from outages import TrailSwitch

ENTRIES = AuditEntry.__table__
SUBJECTS = AuditSubject.__table__
HEADS = TreeHead.__table__


@dataclass(frozen=True)
class Someone:
    user_id: str = "01a1ff9c-0000-7000-8000-000000000001"
    username: str = "pc.1234"
    agency: str = "DEMO"
    device_id: str | None = "tablet-7"


def a_draft(n: int = 0, *, at: datetime | None = None, text: str | None = None) -> Draft:
    """A consultation of two people, with a reason: every field of an entry filled."""
    return draft(
        Someone(),
        Action.CONSULTATION,
        "records:person:read",
        at=at or utcnow(),
        id=new_id(),
        subject_type="person",
        subject_ids=[f"person-{n}", f"person-{n + 1}"],
        why=Justification("INVESTIGATION", text if text is not None else f"enquiry {n}"),
        recipients=["FIRE1"] if n % 3 == 0 else [],
        detail={"n": n, "filters": {"family_name": "okafor"}},
    )


def empty_trail(db: Database) -> None:
    with db.engine.begin() as conn:
        for table in (SUBJECTS, ENTRIES, HEADS):
            conn.execute(delete(table))


def stored_rows(conn: Connection) -> list[SimpleNamespace]:
    """Every entry as its columns say, oldest first."""
    return [
        SimpleNamespace(**row)
        for row in conn.execute(select(ENTRIES).order_by(ENTRIES.c.seq)).mappings()
    ]


def stored_leaves(db: Database) -> list[bytes]:
    with db.engine.connect() as conn:
        return list(conn.scalars(select(ENTRIES.c.leaf_hash).order_by(ENTRIES.c.seq)))


def rehash(conn: Connection, seq: int) -> None:
    """Give entry ``seq`` the leaf hash its present content has (hiding an edit from itself)."""
    row = SimpleNamespace(
        **conn.execute(select(ENTRIES).where(ENTRIES.c.seq == seq)).mappings().one()
    )
    conn.execute(
        update(ENTRIES)
        .where(ENTRIES.c.seq == seq)
        .values(leaf_hash=leaf_hash(canonical_entry(seq, row)))
    )


def move(conn: Connection, seq: int, to: int) -> None:
    """Give entry ``seq`` (and its subject index rows) the place ``to``."""
    conn.execute(update(ENTRIES).where(ENTRIES.c.seq == seq).values(seq=to))
    conn.execute(update(SUBJECTS).where(SUBJECTS.c.seq == seq).values(seq=to))


def swap(conn: Connection, i: int, j: int, *, hide: bool) -> None:
    """Swap two entries' places; ``hide`` recomputes their leaf hashes to match."""
    move(conn, i, -1)
    move(conn, j, i)
    move(conn, -1, j)
    if hide:
        rehash(conn, i)
        rehash(conn, j)


def forge_inside(conn: Connection, at_seq: int) -> None:
    """Insert a made-up entry at ``at_seq``, moving the later ones up and rehashing all of
    them, so that every stored leaf hash matches its entry."""
    later = list(
        conn.scalars(
            select(ENTRIES.c.seq).where(ENTRIES.c.seq >= at_seq).order_by(ENTRIES.c.seq.desc())
        )
    )
    for seq in later:
        move(conn, seq, seq + 1)
        rehash(conn, seq + 1)
    forged = a_draft(999, text="an enquiry that never happened")
    values = {
        "seq": at_seq,
        "id": forged.id,
        "at": forged.at,
        "action": str(forged.action),
        "tag": forged.tag,
        "outcome": str(forged.outcome),
        "actor_user_id": forged.user_id,
        "actor_username": forged.username,
        "agency": forged.agency,
        "device_id": forged.device_id,
        "subject_type": forged.subject_type,
        "subject_ids": list(forged.subject_ids),
        "reason_code": forged.reason_code,
        "reason_text": forged.reason_text,
        "recipients": list(forged.recipients),
        "detail": forged.detail,
        "leaf_hash": leaf_hash(canonical_entry(at_seq, forged)),
    }
    conn.execute(insert(ENTRIES).values(values))
    conn.execute(insert(SUBJECTS), [{"subject_id": s, "seq": at_seq} for s in forged.subject_ids])


def delete_entries(conn: Connection, *seqs: int) -> None:
    conn.execute(delete(SUBJECTS).where(SUBJECTS.c.seq.in_(seqs)))
    conn.execute(delete(ENTRIES).where(ENTRIES.c.seq.in_(seqs)))


def edit(conn: Connection, seq: int, column: str, value: Any, *, hide: bool) -> None:
    conn.execute(update(ENTRIES).where(ENTRIES.c.seq == seq).values({column: value}))
    if hide:
        rehash(conn, seq)


def change_root(conn: Connection, size: int, root: bytes) -> None:
    conn.execute(update(HEADS).where(HEADS.c.tree_size == size).values(root_hash=root))


def unindex(conn: Connection, seq: int, subject: str) -> None:
    """Remove one row of the subject index, so "who looked at X" would miss an entry."""
    conn.execute(delete(SUBJECTS).where(SUBJECTS.c.seq == seq, SUBJECTS.c.subject_id == subject))


def resign_heads(conn: Connection, key: SigningKey) -> None:
    """Recompute every head's root from the (tampered) entries and sign it with ``key``."""
    leaves = list(conn.scalars(select(ENTRIES.c.leaf_hash).order_by(ENTRIES.c.seq)))
    for size, signed_at in conn.execute(select(HEADS.c.tree_size, HEADS.c.signed_at)).all():
        root = root_from_leaf_hashes(leaves[:size])
        conn.execute(
            update(HEADS)
            .where(HEADS.c.tree_size == size)
            .values(
                root_hash=root,
                key_id=key.key_id,
                signature=key.sign(tree_head_message(size, root, signed_at)),
            )
        )


# --- a real trail, and each kind of tampering ------------------------------------------------

SIGNED_AT = (10, 25, 40)
UNSIGNED = 5


@pytest.fixture
def key(tmp_path: Path) -> SigningKey:
    return load_or_create_signing_key(tmp_path / "keys" / "audit-signing.pem")


@pytest.fixture
def trail(db: Database, key: SigningKey) -> Database:
    """45 entries appended in many transactions, with heads signed at 10, 25 and 40."""
    signer = TreeSigner(db, key)
    n = 0
    for size in (*SIGNED_AT, SIGNED_AT[-1] + UNSIGNED):
        while n < size:
            batch = min(size - n, 1 + n % 4)
            record(db, *(a_draft(n + i) for i in range(batch)))
            n += batch
        if size in SIGNED_AT:
            assert signer.sign().tree_size == size
    return db


def test_untouched_trail_verifies(trail: Database, key: SigningKey) -> None:
    report = verify(trail, key.public_bytes())

    assert report.intact, report.problems
    assert report.entries == 45
    assert report.heads_checked == len(SIGNED_AT)
    assert report.unsigned_tail == UNSIGNED
    assert report.root_hash == root_from_leaf_hashes(stored_leaves(trail)).hex()


def test_a_batch_larger_than_one_insert_statement_is_stored_whole_and_verifies(
    db: Database, key: SigningKey
) -> None:
    # More entries at once than one statement inserts on SQLite (db.ROWS_PER_INSERT), as a
    # group commit may hand over
    drafts = [a_draft(n) for n in range(ROWS_PER_INSERT * 2 + 3)]

    places = record(db, *drafts)

    assert places == list(range(len(drafts)))
    with db.read() as session:
        stored = session.execute(select(AuditEntry.id, AuditEntry.detail).order_by(AuditEntry.seq))
        assert [tuple(e) for e in stored] == [(d.id, d.detail) for d in drafts]
        subjects = session.scalar(select(func.count()).select_from(AuditSubject))
    assert subjects == 2 * len(drafts)
    TreeSigner(db, key).sign()
    report = verify(db, key.public_bytes())
    assert report.intact, report.problems
    assert report.entries == len(drafts)


def test_progress_is_reported_to_the_end(trail: Database, key: SigningKey) -> None:
    seen: list[tuple[int, int]] = []
    verify(trail, key.public_bytes(), progress=lambda done, total: seen.append((done, total)))
    assert seen
    assert seen[-1] == (45, 45)


def test_verify_without_a_key_says_signatures_went_unchecked(trail: Database) -> None:
    report = verify(trail, None)
    assert not report.intact
    assert report.problems == ["no public key given: tree-head signatures were not checked"]


def test_heads_signed_with_another_key_fail(trail: Database, tmp_path: Path) -> None:
    other = load_or_create_signing_key(tmp_path / "someone-else.pem")

    report = verify(trail, other.public_bytes())

    assert not report.intact
    assert report.problems == [
        f"tree head at size {size}: the signature does not verify" for size in SIGNED_AT
    ]


# (name, tampering, a problem verify must report). Entry 12 lies under the heads at 25 and 40.
Tampering = Callable[[Connection, SigningKey], None]
TAMPERINGS: list[tuple[str, Tampering, str]] = [
    (
        "field-edited",
        lambda c, _k: edit(c, 12, "reason_text", "nothing to see here", hide=False),
        "entry 12 was altered",
    ),
    (
        "field-edited-and-rehashed",
        lambda c, _k: edit(c, 12, "reason_text", "nothing to see here", hide=True),
        "tree head at size 25: the entries no longer give its root",
    ),
    (
        "actor-edited-and-rehashed",
        lambda c, _k: edit(c, 12, "actor_username", "someone.else", hide=True),
        "tree head at size 25: the entries no longer give its root",
    ),
    (
        "time-edited-and-rehashed",
        lambda c, _k: edit(c, 12, "at", datetime(2020, 1, 1, tzinfo=UTC), hide=True),
        "tree head at size 25: the entries no longer give its root",
    ),
    ("middle-deleted", lambda c, _k: delete_entries(c, 12), "entries 12 to 12 are missing"),
    (
        "last-signed-deleted",
        lambda c, _k: delete_entries(c, *range(38, 45)),
        "tree head at size 40 covers more entries than the trail holds (38)",
    ),
    (
        "swapped",
        lambda c, _k: swap(c, 12, 13, hide=False),
        "entry 12 was altered",
    ),
    (
        "swapped-and-rehashed",
        lambda c, _k: swap(c, 12, 30, hide=True),
        "tree head at size 25: the entries no longer give its root",
    ),
    (
        "forged-inserted-with-correct-hash",
        lambda c, _k: forge_inside(c, 12),
        "tree head at size 25: the entries no longer give its root",
    ),
    (
        "head-root-changed",
        lambda c, _k: change_root(c, 25, hashlib.sha256(b"another history").digest()),
        "tree head at size 25: the signature does not verify",
    ),
    (
        "subject-index-row-deleted",
        lambda c, _k: unindex(c, 12, "person-12"),
        "entry 12: the subject index lacks person-12",
    ),
]


@pytest.mark.parametrize(
    ("tampering", "problem"), [t[1:] for t in TAMPERINGS], ids=[t[0] for t in TAMPERINGS]
)
def test_tampering_is_detected(
    trail: Database, key: SigningKey, tampering: Tampering, problem: str
) -> None:
    # Given an intact trail
    assert verify(trail, key.public_bytes()).intact

    # When someone with the database's keys changes it behind the application's back
    with trail.engine.begin() as conn:
        tampering(conn, key)

    # Then verify says so, naming what it found
    report = verify(trail, key.public_bytes())
    assert not report.intact
    assert any(p.startswith(problem) for p in report.problems), report.problems


def test_rewritten_history_resigned_with_the_tamperers_key_is_detected(
    trail: Database, key: SigningKey, tmp_path: Path
) -> None:
    # Given someone who edits an entry, recomputes every hash and root, and re-signs every head
    # with a key of their own (they cannot sign with the server's: it is not in the database)
    theirs = load_or_create_signing_key(tmp_path / "tamperer.pem")
    with trail.engine.begin() as conn:
        edit(conn, 12, "reason_text", "nothing to see here", hide=True)
        resign_heads(conn, theirs)

    # Then the trail is consistent with itself, but not with the server's public key
    assert verify(trail, theirs.public_bytes()).intact
    report = verify(trail, key.public_bytes())
    assert report.problems == [
        f"tree head at size {size}: the signature does not verify" for size in SIGNED_AT
    ]


def test_unsigned_tail_is_counted_so_an_auditor_knows_what_no_head_covers(
    trail: Database, key: SigningKey
) -> None:
    # Entries after the last head are protected only from the next signing on: verify cannot
    # tell a removed unsigned entry from one never written, so it says how many there are.
    with trail.engine.begin() as conn:
        delete_entries(conn, 44)
    report = verify(trail, key.public_bytes())
    assert report.intact
    assert report.unsigned_tail == UNSIGNED - 1


# --- properties: random append / sign / verify, and random tampering --------------------------

reason_texts = st.one_of(
    st.none(),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30),
)
# Hypothesis takes naive bounds and puts the instants in the zones it is given.
instants = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001  (a naive bound, as Hypothesis wants)
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001  (as above)
    timezones=st.just(UTC),
).map(lambda t: t.replace(microsecond=t.microsecond - t.microsecond % 1000))
drafts = st.builds(
    lambda n, at, text, outcome: draft(
        Someone(),
        Action.CONSULTATION,
        "records:person:read",
        at=at,
        id=new_id(),
        outcome=outcome,
        subject_type="person",
        subject_ids=[f"person-{n}"],
        why=Justification("INVESTIGATION", text) if text is not None else None,
        detail={"n": n},
    ),
    st.integers(0, 10**6),
    instants,
    reason_texts,
    st.sampled_from(list(Outcome)),
)


class TrailMachine(RuleBasedStateMachine):
    """Appends, signs and verifies in any order; the model is the leaf hashes of what was
    appended, computed from the drafts without the database."""

    def __init__(self, db: Database, key: SigningKey) -> None:
        super().__init__()
        empty_trail(db)
        self.db = db
        self.key = key
        self.signer = TreeSigner(db, key)
        self.leaves: list[bytes] = []
        self.signed: list[int] = []

    @rule(batch=st.lists(drafts, min_size=1, max_size=6))
    def append(self, batch: list[Draft]) -> None:
        seqs = record(self.db, *batch)
        assert seqs == list(range(len(self.leaves), len(self.leaves) + len(batch)))
        self.leaves += [leaf_hash(canonical_entry(s, d)) for s, d in zip(seqs, batch, strict=True)]

    @rule()
    def sign(self) -> None:
        head = self.signer.sign()
        assert head.tree_size == len(self.leaves)
        assert head.root_hash == root_from_leaf_hashes(self.leaves).hex()
        message = tree_head_message(head.tree_size, bytes.fromhex(head.root_hash), head.signed_at)
        assert verify_signature(self.key.public_bytes(), message, bytes.fromhex(head.signature))
        if not self.signed or self.signed[-1] != head.tree_size:
            self.signed.append(head.tree_size)

    @invariant()
    def verifies(self) -> None:
        report = verify(self.db, self.key.public_bytes())
        assert report.intact, report.problems
        assert report.entries == len(self.leaves)
        assert report.root_hash == root_from_leaf_hashes(self.leaves).hex()
        assert report.heads_checked == len(self.signed)
        assert report.unsigned_tail == len(self.leaves) - (self.signed[-1] if self.signed else 0)


def test_random_appends_and_signings_always_verify(db: Database, key: SigningKey) -> None:
    run_state_machine_as_test(
        lambda: TrailMachine(db, key),
        settings=settings(max_examples=20, stateful_step_count=10, deadline=None),
    )


EDITS: dict[str, Callable[[Any], Any]] = {
    "tag": lambda row: row.tag + "x",
    "outcome": lambda row: "denied" if row.outcome == "allowed" else "allowed",
    "actor_username": lambda row: row.actor_username + "x",
    "agency": lambda _row: "OTHER",
    "device_id": lambda row: None if row.device_id else "tablet-9",
    "subject_ids": lambda row: [*row.subject_ids, "someone-else"],
    "reason_text": lambda row: (row.reason_text or "") + "x",
    "recipients": lambda row: [*row.recipients, "PRESS"],
    "detail": lambda row: {**row.detail, "forged": True},
    "at": lambda row: row.at + timedelta(milliseconds=1),
}


@st.composite
def tamperings(draw: st.DrawFn, covered: int) -> Callable[[Connection], None]:
    """One tampering of an entry a signed head covers (``covered`` entries)."""
    kind = draw(
        st.sampled_from(["edit", "edit-hidden", "delete", "truncate", "swap", "forge", "head"])
    )
    i = draw(st.integers(0, covered - 1))
    if kind in ("edit", "edit-hidden"):
        column = draw(st.sampled_from(sorted(EDITS)))

        def tamper(conn: Connection) -> None:
            row = SimpleNamespace(
                **conn.execute(select(ENTRIES).where(ENTRIES.c.seq == i)).mappings().one()
            )
            edit(conn, i, column, EDITS[column](row), hide=kind == "edit-hidden")

        return tamper
    if kind == "delete":
        return lambda conn: delete_entries(conn, i)
    if kind == "truncate":
        return lambda conn: delete_entries(conn, *range(i, covered))
    if kind == "swap":
        j = draw(st.integers(0, covered - 1).filter(lambda j: j != i))
        hide = draw(st.booleans())
        return lambda conn: swap(conn, i, j, hide=hide)
    if kind == "forge":
        return lambda conn: forge_inside(conn, i)
    root = draw(st.binary(min_size=32, max_size=32))
    return lambda conn: change_root(conn, covered, root)


def test_any_single_tampering_under_a_signed_head_is_caught(db: Database, key: SigningKey) -> None:
    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        covered=st.integers(2, 12),
        tail=st.integers(0, 3),
        data=st.data(),
    )
    def check(covered: int, tail: int, data: st.DataObject) -> None:
        # Given a trail with a signed head over the first ``covered`` entries
        empty_trail(db)
        record(db, *(a_draft(n) for n in range(covered)))
        TreeSigner(db, key).sign()
        if tail:
            record(db, *(a_draft(covered + n) for n in range(tail)))
        assert verify(db, key.public_bytes()).intact

        # When one of those entries (or the head) is tampered with
        tamper = data.draw(tamperings(covered))
        with db.engine.begin() as conn:
            tamper(conn)

        # Then verify catches it
        assert not verify(db, key.public_bytes()).intact

    check()


# --- group commit ----------------------------------------------------------------------------


def test_concurrent_writers_get_dense_places_each_their_own(db: Database) -> None:
    # Given many threads writing at once, some through the group commit, some directly
    writer = AuditWriter(db)
    batch = [a_draft(n) for n in range(240)]

    def write(n: int) -> int:
        if n % 4 == 0:
            return record(db, batch[n])[0]
        return writer.write(batch[n])

    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            seqs = list(pool.map(write, range(len(batch))))
    finally:
        writer.close()

    # Then the places are 0 … n-1, and each writer was told the place of its own entry
    assert sorted(seqs) == list(range(len(batch)))
    with db.engine.connect() as conn:
        ids = dict(conn.execute(select(ENTRIES.c.seq, ENTRIES.c.id)).all())
    assert [ids[s] for s in seqs] == [d.id for d in batch]
    assert verify(db, None).entries == len(batch)


def test_writers_on_the_event_loop_get_their_own_places(db: Database) -> None:
    writer = AuditWriter(db)
    batch = [a_draft(n) for n in range(50)]

    async def write_all() -> list[int]:
        return list(await asyncio.gather(*(writer.write_async(d) for d in batch)))

    try:
        seqs = asyncio.run(write_all())
    finally:
        writer.close()
    assert sorted(seqs) == list(range(len(batch)))
    with db.engine.connect() as conn:
        ids = dict(conn.execute(select(ENTRIES.c.seq, ENTRIES.c.id)).all())
    assert [ids[s] for s in seqs] == [d.id for d in batch]


@pytest.fixture
def unmigrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the kind the suite runs on, with no tables: no trail to write."""
    # tests/ is not a package, so its conftest is reached as the plugin pytest loaded.
    conftest = Path(__file__).parent.parent / "conftest.py"
    shared = request.config.pluginmanager.get_plugin(str(conftest))
    engine, _url, drop = shared.scratch_engine(tmp_path, "broken")
    yield engine
    drop()


def test_writer_that_cannot_commit_raises_audit_unavailable(unmigrated: Engine) -> None:
    writer = AuditWriter(Database(unmigrated))
    try:
        # When the trail cannot be written, the waiting reader is told so, sync or async
        with pytest.raises(AuditError) as sync_failure:
            writer.write(a_draft())
        with pytest.raises(AuditError) as async_failure:
            asyncio.run(writer.write_async(a_draft()))
        assert sync_failure.value.code == async_failure.value.code == "AUDIT_UNAVAILABLE"

        # And once the trail can be written again, the same writer carries on
        upgrade(unmigrated)
        assert writer.write(a_draft()) == 0
    finally:
        writer.close()


def test_read_whose_consultation_cannot_be_written_gets_503_not_the_data(
    db: Database, settings: Settings
) -> None:
    # Given an app whose audit trail cannot be written once the person is stored
    trail = TrailSwitch(db)
    try:
        with TestClient(create_app(settings, database=db)) as client:
            client.headers.update(auth_headers(client))
            person = stored(client, "persons", person_payload())
            trail.down = True

            # When a person is read (with a reason)
            response = client.get(f"{API}/persons/{person['id']}")
    finally:
        trail.close()

    # Then the read is refused as the trail is unavailable, and the person is not sent
    assert_problem(response, 503, "AUDIT_UNAVAILABLE")
    assert "Okafor" not in response.text
    assert person["id"] not in response.text
