"""Two devices of one officer pushing at the same moment, changing the same records in
opposite orders: every batch is answered (none fails on a deadlock), and each change is
applied once or answered as a conflict."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import msgspec

from bluelight.db import Database
from bluelight.identity import Actor, Role, permissions_of
from bluelight.kernel import new_id
from bluelight.sync import PushBatch, push

ROUNDS = 15


def _push(db: Database, actor: Actor, ops: list[dict[str, Any]]) -> list[str]:
    answer = push(db, msgspec.convert({"operations": ops}, PushBatch), actor=actor)
    return [r.status for r in answer.results]


def _send(
    db: Database,
    device: Actor,
    records: list[str],
    *,
    d: int,
    round_no: int,
    answers: dict[int, Any],
) -> None:
    order = records if d == 0 else list(reversed(records))
    ops = [
        {"id": str(new_id()), "kind": "property", "action": "update", "record_id": r,
         "base_version": 1 + round_no, "content": {"description": f"{d}/{round_no}"}}
        for r in order
    ]  # fmt: skip
    try:
        answers[d] = _push(db, device, ops)
    except Exception as exc:  # noqa: BLE001  (any failure is the finding)
        answers[d] = exc


def test_devices_changing_the_same_records_in_opposite_orders_at_once_are_all_answered(
    db: Database,
) -> None:
    # Given an officer with two devices, and two records of theirs
    user = str(uuid.uuid4())
    devices = [
        Actor(
            user, "both.ways", "DEMO", permissions_of({Role.OFFICER}), device_id=str(uuid.uuid4())
        )
        for _ in range(2)
    ]
    records = [str(uuid.uuid4()), str(uuid.uuid4())]
    made = [
        {"id": str(new_id()), "kind": "property", "action": "create", "record_id": r,
         "content": {"category": "BICYCLE"}}
        for r in records
    ]  # fmt: skip
    assert _push(db, devices[0], made) == ["applied", "applied"]

    for round_no in range(ROUNDS):
        # When both devices push, at the same moment, a change to each record on version
        # 1 + round, one device in one order and the other in the other
        answers: dict[int, Any] = {}
        threads = [
            threading.Thread(
                target=_send,
                args=(db, devices[d], records),
                kwargs={"d": d, "round_no": round_no, "answers": answers},
            )
            for d in (0, 1)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        # Then both batches are answered: one applied both changes, the other conflicts
        assert all(isinstance(a, list) for a in answers.values()), answers
        assert sorted(answers.values()) == [["applied", "applied"], ["conflict", "conflict"]]
