"""Domain events: what happened, told to in-process subscribers once it is committed.

A write use case publishes its events on the session it writes with (``publish``); they wait
there and are handed to the subscribers of the database's ``EventBus`` only after the
transaction commits, never if it rolls back. So a subscriber (the push channel that wakes a
device, a cache, a lead finder) never acts on a change that did not happen, and a change is
never committed without its events being offered.

Subscribers run in the committing thread, one after the other, after the commit: a
subscriber is quick (it queues work elsewhere), and one that fails is logged without
touching the write or the other subscribers. An event published with no bus attached (a
command line run) is dropped.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from bluelight.db import Database

log = logging.getLogger("bluelight.events")

_PENDING = "bluelight_events"
E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class RecordChanged:
    """A record was created, changed, deleted, or had who may see it changed."""

    kind: str
    id: uuid.UUID
    version: int
    action: str
    seq: int
    owner_agency: str
    classification: str
    restricted: bool


@dataclass(frozen=True, slots=True)
class SessionsEnded:
    """Sessions were ended by someone else: a user disabled or reset, a device revoked."""

    reason: str
    user_id: uuid.UUID | None = None
    device_id: uuid.UUID | None = None


def publish(session: Session, *events: object) -> None:
    """Offer ``events`` to the subscribers once ``session``'s transaction commits."""
    pending(session).extend(events)


def pending(session: Session) -> list[object]:
    """The events published on ``session`` since its transaction began, in order: to read what
    a use case published, or to take back what a savepoint rolled back published."""
    events: list[object] = session.info.setdefault(_PENDING, [])
    return events


class EventBus:
    """The subscribers of one database's events."""

    def __init__(self) -> None:
        self._subscribers: dict[type, list[Callable[[Any], None]]] = defaultdict(list)
        self._lock = threading.Lock()

    def subscribe(self, kind: type[E], handler: Callable[[E], None]) -> Callable[[], None]:
        """Call ``handler`` with every committed event of type ``kind``; returns the function
        that unsubscribes it."""
        with self._lock:
            self._subscribers[kind].append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._subscribers[kind]:
                    self._subscribers[kind].remove(handler)

        return unsubscribe

    def dispatch(self, events: list[object]) -> None:
        """Hand each event to its subscribers, in order; a failing subscriber is logged."""
        for item in events:
            with self._lock:
                handlers = list(self._subscribers.get(type(item), ()))
            for handler in handlers:
                try:
                    handler(item)
                except Exception:
                    log.exception("a subscriber of %s failed", type(item).__name__)

    def attach(self, db: Database) -> None:
        """Dispatch the events of ``db``'s write sessions after each commit."""

        def committed(session: Session) -> None:
            pending = session.info.pop(_PENDING, None)
            if pending:
                self.dispatch(pending)

        def rolled_back(session: Session) -> None:
            session.info.pop(_PENDING, None)

        for factory in db.session_factories:
            event.listen(factory, "after_commit", committed)
            event.listen(factory, "after_rollback", rolled_back)
