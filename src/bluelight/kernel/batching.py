"""Many requests' blocking work done in one go on a worker thread.

A request that must wait on the database hands its item to a ``Batcher`` and awaits the
answer. While one batch runs on a worker thread, the items that arrive queue for the next,
which takes all of them at once: under load one database round (one statement, one thread
hand-off, one wake-up of the event loop) serves many requests, and with a single request it
is simply that request's round. Every item's batch starts after the item arrived, so nothing
is answered from a read that began before it was asked (a token revoked a moment ago is
refused; a record changed a moment ago is read as changed).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


def settle(future: asyncio.Future[Out], answer: Out | BaseException) -> None:
    """Hand ``answer`` (a result, or the exception to raise) to whoever awaits ``future``,
    unless they went away meanwhile (the request was cancelled)."""
    if future.done():
        return
    if isinstance(answer, BaseException):
        future.set_exception(answer)
    else:
        future.set_result(answer)


class _Pending(Generic[In, Out]):
    """One event loop's items waiting for the next batch, and whether a batch is running."""

    def __init__(self) -> None:
        self.items: list[tuple[In, asyncio.Future[Out]]] = []
        self.task: asyncio.Task[None] | None = None


class Batcher(Generic[In, Out]):
    """Runs ``work`` on a worker thread for the items that wait together, at most ``limit`` at
    a time. ``work`` answers each item, in order, with its result or the exception to raise
    for it; an exception ``work`` itself raises is raised for every item of the batch."""

    def __init__(
        self, work: Callable[[Sequence[In]], Sequence[Out | BaseException]], *, limit: int = 256
    ) -> None:
        self._work = work
        self._limit = limit
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Pending[In, Out]] = (
            weakref.WeakKeyDictionary()
        )

    async def run(self, item: In) -> Out:
        """``item``'s answer, from the next batch."""
        loop = asyncio.get_running_loop()
        pending = self._loops.get(loop)
        if pending is None:
            pending = self._loops[loop] = _Pending()
        future: asyncio.Future[Out] = loop.create_future()
        pending.items.append((item, future))
        if pending.task is None:
            pending.task = loop.create_task(self._drain(loop, pending))
        return await future

    async def _drain(self, loop: asyncio.AbstractEventLoop, pending: _Pending[In, Out]) -> None:
        try:
            while pending.items:
                batch = pending.items[: self._limit]
                del pending.items[: self._limit]
                answers: Sequence[Out | BaseException]
                try:
                    answers = await loop.run_in_executor(None, self._work, [i for i, _ in batch])
                except asyncio.CancelledError:
                    for _, future in batch:
                        future.cancel()
                    raise
                except Exception as exc:  # noqa: BLE001  (handed to every item that waited)
                    answers = [exc] * len(batch)
                for (_, future), answer in zip(batch, answers, strict=True):
                    settle(future, answer)
        finally:
            pending.task = None
            for _, future in pending.items:  # only left when the loop is shutting down
                future.cancel()
            pending.items.clear()
