"""Identifiers are UUIDs, made by whoever creates the record (device or server).

Server-made identifiers are UUID version 7 (RFC 9562): time-ordered, so that keyset pages
over ``id`` come out roughly in creation order and B-tree inserts stay local.
"""

from __future__ import annotations

import os
import threading
import time
import uuid


def uuid7_int(millis: int, rand: int) -> int:
    """The 128 bits of a UUIDv7: 48 bits of Unix ``millis``, the version, 12 bits of ``rand``,
    the variant, then 62 more bits of ``rand`` (74 random bits in all)."""
    value = (millis & (2**48 - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & (2**62 - 1)
    return value


# Random bytes from the operating system, drawn a page at a time: ids are made on every audited
# request, and each ``os.urandom`` call is a system call that also lets go of the interpreter
# lock (on the event loop, that is a wait for the lock to come back). A forked worker process
# starts with an empty pool, so no two processes hand out the same bytes.
_POOL_BYTES = 4096
_ID_BYTES = 10
_pool = bytearray()
_pool_lock = threading.Lock()
os.register_at_fork(after_in_child=_pool.clear)


def _random_bits() -> int:
    with _pool_lock:
        if len(_pool) < _ID_BYTES:
            _pool[:] = os.urandom(_POOL_BYTES)
        chunk = bytes(_pool[-_ID_BYTES:])
        del _pool[-_ID_BYTES:]
    return int.from_bytes(chunk, "big")


def new_id() -> uuid.UUID:
    """A fresh UUIDv7 for now, with 74 random bits from the operating system's generator."""
    millis = time.time_ns() // 1_000_000
    return uuid.UUID(int=uuid7_int(millis, _random_bits()))
