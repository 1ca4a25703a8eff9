from __future__ import annotations

import multiprocessing
import time
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bluelight.kernel.clock import utcnow
from bluelight.kernel.ids import new_id
from bluelight.kernel.paging import CursorError, decode_cursor, encode_cursor


def test_new_ids_are_version_7_and_ordered_by_creation_time() -> None:
    first = new_id()
    time.sleep(0.002)
    second = new_id()

    assert first.version == 7
    assert first.variant == uuid.RFC_4122
    assert first < second
    assert abs((first.int >> 80) - time.time_ns() // 1_000_000) < 10_000


def test_new_ids_do_not_repeat() -> None:
    ids = {new_id() for _ in range(10_000)}

    assert len(ids) == 10_000


RANDOM_BITS = (1 << 62) - 1 | ((1 << 12) - 1) << 64


def _child_ids(queue: Any) -> None:
    queue.put([new_id().int & RANDOM_BITS for _ in range(50)])


def test_a_forked_worker_never_repeats_its_parents_random_bits() -> None:
    # Given a parent that has drawn ids (so it holds random bytes not yet used)
    new_id()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()

    # When a worker forked from it draws ids, and so does the parent
    worker = context.Process(target=_child_ids, args=(queue,))
    worker.start()
    child = queue.get(timeout=30)
    worker.join(timeout=30)
    parent = [new_id().int & RANDOM_BITS for _ in range(50)]

    # Then no random part is shared: the worker drew bytes of its own
    assert not set(child) & set(parent)


@given(st.uuids())
def test_a_cursor_gives_back_the_id_it_was_made_from(value: uuid.UUID) -> None:
    assert decode_cursor(encode_cursor(value)) == value


@pytest.mark.parametrize("cursor", ["", "not a cursor!", "AAAA", "x" * 64])
def test_a_cursor_the_server_did_not_make_is_refused(cursor: str) -> None:
    with pytest.raises(CursorError):
        decode_cursor(cursor)


def test_the_clock_is_utc_to_the_millisecond() -> None:
    now = utcnow()

    assert now.utcoffset() is not None
    assert now.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert now.microsecond % 1000 == 0
