"""Devices syncing through faults: each operation applied exactly once, none acknowledged lost,
every device's reads moving only forward and holding its own writes, and nothing kept from
its officer ever reaching it.

A Hypothesis state machine plays several devices of two officers against the real database
(SQLite, or PostgreSQL in CI's second leg). Devices capture records and changes offline and
push their outboxes, while the network and the server misbehave: answers are lost on the way
back (the device sends the same batch again), batches go out reordered, old batches are
replayed long after, and the server dies part way through a batch. Two devices of one officer
change the same records, so some changes meet a version the device did not know.

Devices also pull, a few records a page, while a supervisor restricts some of the records they
hold to no one of them. After every pull, a device's checkpoint and each record it holds have
only moved forward; it holds every change it was told was applied (unless restricted since);
and no pull ever carried anything of a restricted record.

After every step:

- every operation the server applied is applied once: one ledger entry, one change, one
  audit entry, whatever was replayed;
- every answer a device was given stands: an operation acknowledged as applied is still there,
  at the version it was given, and a replay is answered with it;
- nothing of a batch the server died in is kept.

At the end every device drains its outbox over a clean network, and each converges on the
server: the versions it holds are the server's.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import msgspec
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from bluelight.audit.models import AuditEntry
from bluelight.changes.models import ChangeLogEntry
from bluelight.db import Database
from bluelight.identity import Actor, Role, permissions_of, system_actor
from bluelight.identity.schemas import AgencyCreate
from bluelight.identity.services import create_agency
from bluelight.kernel import new_id
from bluelight.kernel.paging import decode_position
from bluelight.records import BY_NAME
from bluelight.records.restriction import change_access
from bluelight.records.schemas import AccessChange
from bluelight.sync import PushBatch, push
from bluelight.sync import services as sync_services
from bluelight.sync.models import SyncOperation
from bluelight.sync.queries import pull as pull_page


class ServerDiedError(Exception):
    """The server process dying part way through a batch (its transaction never commits)."""


@dataclass
class Device:
    actor: Actor
    outbox: list[dict[str, Any]] = field(default_factory=list)
    # The version of each record as this device last learnt it.
    known: dict[str, int] = field(default_factory=dict)
    sent: list[list[dict[str, Any]]] = field(default_factory=list)
    # What its pulls gave it: each record's version, and the checkpoint it pulled to.
    view: dict[str, int] = field(default_factory=dict)
    checkpoint: str | None = None
    # The versions its pushes were told were applied.
    acknowledged: dict[str, int] = field(default_factory=dict)


def _officer(name: str, user_id: str) -> Actor:
    return Actor(user_id, name, "DEMO", permissions_of({Role.OFFICER}), device_id=str(uuid.uuid4()))


class Devices(RuleBasedStateMachine):
    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db
        first, second = str(uuid.uuid4()), str(uuid.uuid4())
        self.devices = [
            Device(_officer("prop.first", first)),
            Device(_officer("prop.first", first)),  # the same officer's second device
            Device(_officer("prop.second", second)),
        ]
        self.made: dict[str, dict[str, Any]] = {}  # every operation made, by id
        self.answers: dict[str, dict[str, Any]] = {}  # the first answer each was given
        self.records: dict[str, None] = {}  # in the order made (replays pick the same)
        self.hidden: set[str] = set()  # restricted to no one of the devices' officers

    # --- capturing, offline ------------------------------------------------------------

    def _operation(self, device: Device, **parts: Any) -> None:
        made = {**parts, "id": str(new_id()), "kind": "property"}
        self.made[made["id"]] = made
        device.outbox.append(made)

    @rule(d=st.integers(0, 2))
    def capture_a_record(self, d: int) -> None:
        record = str(uuid.uuid4())
        self.records[record] = None
        content = {"category": "BICYCLE", "description": f"made on device {d}"}
        self._operation(self.devices[d], action="create", record_id=record, content=content)

    @precondition(lambda self: any(dev.known for dev in self.devices))
    @rule(d=st.integers(0, 2), pick=st.randoms(use_true_random=False))
    def change_a_record(self, d: int, pick: random.Random) -> None:
        device = self.devices[d]
        if not device.known:
            return
        record = pick.choice(list(device.known))
        # A description no other change uses, so every applied change makes a version.
        self._operation(
            device,
            action="update",
            record_id=record,
            base_version=device.known[record],
            content={"description": f"change {len(self.made)}"},
        )

    @precondition(lambda self: self.devices[0].known)
    @rule(pick=st.randoms(use_true_random=False))
    def hand_a_record_to_the_officers_other_device(self, pick: random.Random) -> None:
        first, second = self.devices[0], self.devices[1]
        record = pick.choice(list(first.known))
        second.known.setdefault(record, first.known[record])

    # --- pushing, through faults ---------------------------------------------------------

    def _push(self, device: Device, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        answer = push(
            self.db, msgspec.convert({"operations": batch}, PushBatch), actor=device.actor
        )
        return [msgspec.to_builtins(r) for r in answer.results]

    def _learn(self, device: Device, results: list[dict[str, Any]]) -> None:
        for result in results:
            made = self.made[result["id"]]
            first = self.answers.setdefault(result["id"], result)
            if result["status"] == "duplicate":
                assert result["outcome"] == first.get("outcome", first["status"]), result
                assert result.get("version") == first.get("version"), result
            status = result.get("outcome", result["status"])
            if status == "applied":
                version = result["version"]
                device.known[made["record_id"]] = max(
                    version, device.known.get(made["record_id"], 0)
                )
                device.acknowledged[made["record_id"]] = max(
                    version, device.acknowledged.get(made["record_id"], 0)
                )
            elif status == "conflict":
                # Resolved on the device: it takes the server's version, and the officer's
                # change is made again on it, as a new operation (the conflict screen's work).
                device.known[made["record_id"]] = result["version"]
                if result["status"] == "conflict":
                    self._operation(
                        device, **{**made, "id": None, "base_version": result["version"]}
                    )
            device.outbox = [op for op in device.outbox if op["id"] != result["id"]]

    @precondition(lambda self: any(dev.outbox for dev in self.devices))
    @rule(
        d=st.integers(0, 2),
        lose_answer=st.booleans(),
        order=st.randoms(use_true_random=False),
        reorder=st.booleans(),
    )
    def push_the_outbox(
        self, d: int, lose_answer: bool, order: random.Random, reorder: bool
    ) -> None:
        device = self.devices[d]
        if not device.outbox:
            return
        batch = list(device.outbox)
        if reorder:
            # Creates stay before changes to what they create; the rest goes in any order.
            order.shuffle(batch)
            batch.sort(key=lambda op: op["action"] != "create")
        results = self._push(device, batch)
        device.sent.append(batch)
        if not lose_answer:
            self._learn(device, results)

    @precondition(lambda self: any(dev.outbox for dev in self.devices))
    @rule(d=st.integers(0, 2), at=st.integers(0, 20))
    def the_server_dies_mid_batch(self, d: int, at: int) -> None:
        device = self.devices[d]
        if not device.outbox:
            return
        before = self._ledger_size()
        real = sync_services._apply
        calls = []

        def dying(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            if len(calls) > at % len(device.outbox):
                raise ServerDiedError
            return real(*args, **kwargs)

        sync_services._apply = dying  # type: ignore[assignment]
        try:
            self._push(device, list(device.outbox))
        except ServerDiedError:
            # No answer reached the device, and nothing of the batch was kept
            assert self._ledger_size() == before
        else:
            pass  # it died after answering (too few operations to apply): the answer is lost
        finally:
            sync_services._apply = real  # type: ignore[assignment]

    @precondition(lambda self: any(dev.sent for dev in self.devices))
    @rule(d=st.integers(0, 2), pick=st.randoms(use_true_random=False))
    def replay_an_old_batch(self, d: int, pick: random.Random) -> None:
        device = self.devices[d]
        if not device.sent:
            return
        batch = pick.choice(device.sent)
        results = self._push(device, batch)
        for result in results:
            first = self.answers.get(result["id"])
            if first is None:
                continue  # its first answer was lost: this one is its first
            assert result["status"] == "duplicate", result
            assert result["outcome"] == first.get("outcome", first["status"]), result
        self._learn(device, results)

    # --- pulling, and records taken out of the officers' sight ---------------------------

    def _pull(self, device: Device, limit: int) -> None:
        """One pull, page by page, applied at its checkpoint as the app applies it."""
        cursor, staged = device.checkpoint, []
        while True:
            page = msgspec.to_builtins(
                pull_page(self.db, actor=device.actor, cursor=cursor, limit=limit).value
            )
            for item in page["records"]:
                # Nothing of a record kept from the officer ever reaches the device
                assert not (item["id"] in self.hidden and "record" in item), item
            staged += page["records"]
            if page["checkpoint"] is not None:
                break
            cursor = page["cursor"]
        if device.checkpoint is not None:
            assert decode_position(page["checkpoint"]) >= decode_position(device.checkpoint)
        for item in staged:
            if item.get("removed"):
                device.view.pop(item["id"], None)
                continue
            version = item["record"]["version"]
            # Reads move only forward
            assert version >= device.view.get(item["id"], 0), item
            device.view[item["id"]] = version
        device.checkpoint = page["checkpoint"]
        # A device holds what it was told it wrote, unless it was taken out of its sight
        for record, version in device.acknowledged.items():
            if record not in self.hidden:
                assert device.view.get(record, 0) >= version, (record, version, device.view)
        for record in self.hidden:
            assert record not in device.view

    @rule(d=st.integers(0, 2), limit=st.integers(1, 4))
    def pull_what_the_device_holds(self, d: int, limit: int) -> None:
        self._pull(self.devices[d], limit)

    @precondition(lambda self: set(self.records) - self.hidden)
    @rule(pick=st.randoms(use_true_random=False))
    def restrict_a_record_to_no_one_of_them(self, pick: random.Random) -> None:
        record = pick.choice([r for r in self.records if r not in self.hidden])
        with self.db.read() as session:
            version = session.execute(
                select(func.max(ChangeLogEntry.version)).where(
                    ChangeLogEntry.entity_id == uuid.UUID(record)
                )
            ).scalar()
        if version is None:
            return  # not on the server yet
        change_access(
            self.db,
            BY_NAME["property"],
            uuid.UUID(record),
            AccessChange(version=version, restricted=True),
            actor=system_actor("DEMO"),
        )
        self.hidden.add(record)

    # --- what must always hold --------------------------------------------------------

    def _ledger_size(self) -> int:
        with self.db.read() as session:
            return int(
                session.execute(
                    select(func.count())
                    .select_from(SyncOperation)
                    .where(SyncOperation.id.in_([uuid.UUID(i) for i in self.made]))
                ).scalar_one()
            )

    @invariant()
    def each_operation_is_applied_once(self) -> None:
        ids = [uuid.UUID(r) for r in self.records]
        with self.db.read() as session:
            applied = session.execute(
                select(SyncOperation.record_id, SyncOperation.version).where(
                    SyncOperation.id.in_([uuid.UUID(i) for i in self.made]),
                    SyncOperation.outcome == "applied",
                )
            ).all()
            changes = session.execute(
                select(ChangeLogEntry.entity_id, ChangeLogEntry.version).where(
                    ChangeLogEntry.entity_id.in_(ids), ChangeLogEntry.action != "access"
                )
            ).all()
            entries = session.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.tag.in_(["records:property:created", "records:property:updated"]),
                    AuditEntry.outcome == "allowed",
                    AuditEntry.actor_user_id.in_([d.actor.user_id for d in self.devices]),
                )
            ).scalar_one()
        # One change per applied operation, and the same (record, version) pairs
        assert sorted(applied) == sorted(changes)
        assert len(set(changes)) == len(changes)
        assert entries == len(applied)

    @invariant()
    def no_acknowledged_answer_is_lost(self) -> None:
        acknowledged = {
            uuid.UUID(i): a for i, a in self.answers.items() if a["status"] != "rejected"
        }
        if not acknowledged:
            return
        with self.db.read() as session:
            kept = dict(
                session.execute(
                    select(SyncOperation.id, SyncOperation.version).where(
                        SyncOperation.id.in_(list(acknowledged))
                    )
                ).all()
            )
        for op_id, answer in acknowledged.items():
            assert kept.get(op_id) == answer.get("version"), (op_id, answer)

    def teardown(self) -> None:
        # Over a clean network every device drains its outbox, and converges on the server.
        for device in self.devices:
            for _ in range(5):
                if device.outbox:
                    self._learn(device, self._push(device, list(device.outbox)))
            assert device.outbox == []
        with self.db.read() as session:
            server = {
                str(record_id): version
                for record_id, version in session.execute(
                    select(ChangeLogEntry.entity_id, func.max(ChangeLogEntry.version))
                    .where(
                        ChangeLogEntry.entity_id.in_([uuid.UUID(r) for r in self.records]),
                        ChangeLogEntry.action != "access",
                    )
                    .group_by(ChangeLogEntry.entity_id)
                )
            }
            newest = {
                str(record_id): version
                for record_id, version in session.execute(
                    select(ChangeLogEntry.entity_id, func.max(ChangeLogEntry.version))
                    .where(ChangeLogEntry.entity_id.in_([uuid.UUID(r) for r in self.records]))
                    .group_by(ChangeLogEntry.entity_id)
                )
            }
        for device in self.devices:
            for record, version in device.known.items():
                assert version <= server[record]
        # Every version on the server was acknowledged to the device that made it
        latest: dict[str, int] = {}
        for op_id, answer in self.answers.items():
            if answer.get("outcome", answer["status"]) == "applied":
                record = self.made[op_id]["record_id"]
                latest[record] = max(latest.get(record, 0), answer["version"])
        assert latest == server
        # and a last pull brings each device to the server: every record it holds, as it is
        for device in self.devices:
            self._pull(device, 50)
            held = {r for r, _ in device.acknowledged.items()} - self.hidden
            assert held <= set(device.view)
            for record, version in device.view.items():
                assert version == newest[record], (record, version, newest[record])


def test_devices_syncing_through_faults_apply_each_operation_once_and_converge(
    db: Database,
) -> None:
    # The officers' force, which a restriction names
    create_agency(
        db,
        AgencyCreate(code="DEMO", name="Demo force", type="police"),  # type: ignore[arg-type]
        actor=system_actor("DEMO"),
    )
    run_state_machine_as_test(
        lambda: Devices(db),
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
