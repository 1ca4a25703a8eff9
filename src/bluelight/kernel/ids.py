"""Identifiers are UUIDs, made by whoever creates the record (device or server).

Server-made identifiers are UUID version 7 (RFC 9562): time-ordered, so that keyset pages
over ``id`` come out roughly in creation order and B-tree inserts stay local.
"""

from __future__ import annotations

import os
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


def new_id() -> uuid.UUID:
    """A fresh UUIDv7 for now, with 74 random bits."""
    millis = time.time_ns() // 1_000_000
    return uuid.UUID(int=uuid7_int(millis, int.from_bytes(os.urandom(10), "big")))
