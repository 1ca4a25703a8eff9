"""Opaque cursors for keyset pagination."""

from __future__ import annotations

import base64
import binascii
import re
import uuid

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
# A cursor is the 16 bytes of an id in URL-safe base64 without padding; empty is the first page.
CURSOR_PATTERN = r"^(?:[A-Za-z0-9_-]{21}[AQgw])?$"
_CURSOR = re.compile(CURSOR_PATTERN)


class CursorError(ValueError):
    """A cursor that this server did not make."""


def encode_cursor(last_id: uuid.UUID) -> str:
    """The cursor that continues after ``last_id``."""
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str) -> uuid.UUID:
    """The id a cursor continues after.

    Raises:
        CursorError: the cursor is not one this server made.
    """
    if not cursor or not _CURSOR.fullmatch(cursor):
        # Decoding alone would pass over characters outside the alphabet.
        msg = "the cursor is not one this server made"
        raise CursorError(msg)
    try:
        raw = base64.urlsafe_b64decode(cursor + "==")
        return uuid.UUID(bytes=raw)
    except (binascii.Error, ValueError) as exc:
        msg = "the cursor is not one this server made"
        raise CursorError(msg) from exc


_POSITION = b"p"


def encode_position(seq: int) -> str:
    """The cursor that continues after place ``seq`` of a journal (the change log)."""
    return base64.urlsafe_b64encode(_POSITION + seq.to_bytes(8, "big")).decode().rstrip("=")


def decode_position(cursor: str) -> int:
    """The place a journal cursor continues after.

    Raises:
        CursorError: the cursor is not one this server made.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:
        msg = "the cursor is not one this server made"
        raise CursorError(msg) from exc
    if len(raw) != 9 or raw[:1] != _POSITION:
        msg = "the cursor is not one this server made"
        raise CursorError(msg)
    return int.from_bytes(raw[1:], "big")
