"""A read is answered only once its consultation is on disk, and while it waits for that
commit it holds no worker thread: readers waiting together share one commit, however few
threads the server has."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from litestar.concurrency import set_asyncio_executor
from litestar.testing import TestClient
from sqlalchemy import select

from bluelight.app import create_app
from bluelight.audit import AuditWriter, Draft
from bluelight.audit.models import AuditEntry
from bluelight.db import Database
from bluelight.settings import Settings
from factories import API, auth_headers, person_payload, stored

THREADS = 2
READERS = 8


class CommitsOnlyInGroups(AuditWriter):
    """Holds every entry until ``group`` of them wait, then writes them together.

    Gives up after ``patience`` seconds and writes what it holds, noting that it had to, so a
    server whose readers cannot all wait at once fails the test instead of hanging it.
    """

    def __init__(self, db: Database, group: int, patience: float = 10.0) -> None:
        super().__init__(db)
        self._group = group
        self._patience = patience
        self._held: list[tuple[Draft, Future[int]]] = []
        self._guard = threading.Lock()
        self._timer: threading.Timer | None = None
        self.gave_up = False

    def submit(self, draft: Draft) -> Future[int]:
        answer: Future[int] = Future()
        with self._guard:
            self._held.append((draft, answer))
            if len(self._held) < self._group:
                if self._timer is None:
                    self._timer = threading.Timer(self._patience, self._give_up)
                    self._timer.start()
                return answer
            batch, self._held = self._held, []
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self._release(batch)
        return answer

    def _give_up(self) -> None:
        with self._guard:
            batch, self._held, self._timer = self._held, [], None
            self.gave_up = bool(batch)
        self._release(batch)

    def _release(self, batch: list[tuple[Draft, Future[int]]]) -> None:
        for draft, answer in batch:
            written = super().submit(draft)
            written.add_done_callback(lambda done, a=answer: _copy(done, a))


def _copy(done: Future[int], answer: Future[int]) -> None:
    error = done.exception()
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(done.result())


@pytest.fixture
def few_threads() -> Iterator[None]:
    """The server's sync work runs on two worker threads."""
    pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="few")
    set_asyncio_executor(pool)
    yield
    set_asyncio_executor(None)
    pool.shutdown(wait=False, cancel_futures=True)


@pytest.mark.parametrize("route", ["record", "history", "list"])
def test_more_readers_than_threads_wait_together_for_one_commit(
    db: Database, settings: Settings, few_threads: None, route: str
) -> None:
    writer = CommitsOnlyInGroups(db, group=READERS)
    with TestClient(create_app(settings, database=db, audit_writer=writer)) as client:
        client.headers.update(auth_headers(client))
        person = stored(client, "persons", person_payload())
        path = {
            "record": f"{API}/persons/{person['id']}",
            "history": f"{API}/persons/{person['id']}/history",
            "list": f"{API}/persons?family_name=Okafor",
        }[route]

        # When more people read at once than the server has threads
        with ThreadPoolExecutor(max_workers=READERS) as readers:
            answers = list(readers.map(lambda _: client.get(path), range(READERS)))

    # Then all of them waited for the same commit, none holding a thread meanwhile, and each
    # was answered after it
    assert not writer.gave_up, "readers held threads while waiting: they could not all wait"
    assert [a.status_code for a in answers] == [200] * READERS, answers[0].text
    assert all(person["id"] in a.text for a in answers)
    with db.read() as session:
        tags = list(session.scalars(select(AuditEntry.tag).where(AuditEntry.tag.like("records:%"))))
    reads = [t for t in tags if t != "records:person:created"]
    assert len(reads) == READERS
