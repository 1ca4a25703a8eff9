"""A real server killed (SIGKILL) part way through a pushed batch: none of the batch is kept,
or all of it, and the device's retry to the restarted server applies each operation once."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text

from bluelight.app import create_app
from bluelight.changes.models import ChangeLogEntry
from bluelight.db import Database
from bluelight.kernel import new_id
from bluelight.settings import Settings
from bluelight.sync import MAX_OPERATIONS
from bluelight.sync.models import SyncOperation
from factories import REASON, make_user, property_payload, sign_in
from servers import serving

PUSH = "/api/v1/sync/push"


def _batch() -> list[dict[str, Any]]:
    return [
        {
            "id": str(new_id()),
            "kind": "property",
            "action": "create",
            "record_id": str(uuid.uuid4()),
            "content": property_payload(description=f"item {n}"),
        }
        for n in range(MAX_OPERATIONS)
    ]


def _kept(db: Database, ops: list[dict[str, Any]]) -> tuple[int, int]:
    """How many of ``ops`` the ledger holds, and how many records they created."""
    ids = [uuid.UUID(op["id"]) for op in ops]
    records = [uuid.UUID(op["record_id"]) for op in ops]
    with db.read() as session:
        ledger = session.execute(
            select(func.count()).select_from(SyncOperation).where(SyncOperation.id.in_(ids))
        ).scalar_one()
        created = session.execute(
            select(func.count())
            .select_from(ChangeLogEntry)
            .where(ChangeLogEntry.entity_id.in_(records))
        ).scalar_one()
    return int(ledger), int(created)


def _batch_under_way(db: Database) -> bool:
    """Whether a push's transaction is open (PostgreSQL shows it; on SQLite nothing is seen
    of a transaction before it commits, so the kill is timed instead)."""
    if db.dialect != "postgresql":
        return True
    with db.read() as session:
        open_transactions = session.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                "AND datname = current_database() AND backend_xid IS NOT NULL"
            )
        ).scalar_one()
    return bool(open_transactions)


def test_a_server_killed_mid_batch_keeps_none_or_all_and_the_retry_applies_each_once(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    # Given an officer, and a server holding a batch of theirs as it dies
    make_user(create_app(settings, database=db), "killed.officer", ("officer",))
    ops = _batch()
    with (
        serving(settings.database_url, tmp_path) as server,
        httpx.Client(base_url=server.base, timeout=60) as http,
    ):
        token = sign_in(http, "killed.officer")["token"]  # type: ignore[arg-type]
        headers = {"Authorization": f"Bearer {token}", **REASON}
        answers: list[Any] = []

        def send() -> None:
            try:
                answers.append(http.post(PUSH, json={"operations": ops}, headers=headers))
            except httpx.TransportError as exc:
                answers.append(exc)

        sender = threading.Thread(target=send)
        sender.start()
        deadline = time.monotonic() + 30
        time.sleep(0.15)
        while not _batch_under_way(db) and time.monotonic() < deadline:
            time.sleep(0.005)
        server.kill()
        sender.join()

    # Then the device had no answer, and the batch is kept whole or not at all
    assert isinstance(answers[0], httpx.TransportError), answers[0]
    ledger, created = _kept(db, ops)
    assert (ledger, created) in ((0, 0), (MAX_OPERATIONS, MAX_OPERATIONS))
    if db.dialect == "postgresql":
        assert (ledger, created) == (0, 0)  # the kill was seen to land mid-batch

    # When the device sends the batch again to the server restarted
    with (
        serving(settings.database_url, tmp_path) as server,
        httpx.Client(base_url=server.base, timeout=60) as http,
    ):
        again = http.post(PUSH, json={"operations": ops}, headers=headers)

    # Then each operation is applied once: new, or a duplicate of what was kept
    assert again.status_code == 200, again.text
    expected = "duplicate" if ledger else "applied"
    assert {r["status"] for r in again.json()["results"]} == {expected}
    assert _kept(db, ops) == (MAX_OPERATIONS, MAX_OPERATIONS)
