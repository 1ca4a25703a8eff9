"""What makes a pushed operation well formed, and how a replay is told from a reuse."""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from typing import Any

import msgspec

from bluelight.kernel.paging import CursorError, decode_position
from bluelight.sync.errors import SyncError, SyncErrorCode
from bluelight.sync.schemas import Operation

_ENCODER = msgspec.json.Encoder(order="sorted")


def operation_digest(op: Operation) -> str:
    """The SHA-256 (hex) of ``op`` in a canonical form (keys sorted at every level): equal
    for a replay of the operation, different for any other content under the same id."""
    return hashlib.sha256(_ENCODER.encode(op)).hexdigest()


def _invalid(op: Operation, detail: str) -> SyncError:
    return SyncError(SyncErrorCode.INVALID_OPERATION, detail, op=str(op.id))


def check_shape(op: Operation) -> None:
    """Refuse an operation whose parts do not fit its action: a create carries content and no
    base version; an update carries the changes and the version they were made on; a delete
    carries the version and ``{"reason": …}``.

    Raises:
        SyncError: INVALID_OPERATION.
    """
    if op.action == "create":
        if op.base_version is not None:
            raise _invalid(op, "a create is based on no version: leave base_version out")
        if op.content is None:
            raise _invalid(op, "a create carries the new record's fields as content")
        if "id" in op.content and op.content["id"] != str(op.record_id):
            raise _invalid(op, "the record's id is record_id: leave id out of the content")
        return
    if op.base_version is None:
        raise _invalid(op, f"an {op.action} names the version it was made on: base_version")
    if op.content is None:
        what = "the changed fields" if op.action == "update" else '{"reason": …}'
        raise _invalid(op, f"an {op.action} carries {what} as content")
    if "version" in op.content:
        raise _invalid(op, "the version an operation is based on is base_version, not content")


def held_with(kind_name: str, read: Any) -> list[tuple[str, uuid.UUID]]:
    """The records a device holds once it holds ``read`` (a record of ``kind_name``): the
    record, and the records it refers to (an event's place, a link's ends, a marker's
    subject), as (kind, id)."""
    held = [(kind_name, read.id)]
    if kind_name == "event" and read.location_id is not None:
        held.append(("location", read.location_id))
    elif kind_name == "link":
        held += [(read.from_type, read.from_id), (read.to_type, read.to_id)]
    elif kind_name == "marker":
        held.append((read.subject_type, read.subject_id))
    return held


# A pull's cursor: where the device's last checkpoint left it (``after``), the place this pull
# reads up to (``upto``, fixed by its first page, so that every page of one pull shows the
# same committed state), and how many of that pull's records were sent already.
_SPAN = b"s"
_SPAN_BYTES = 1 + 8 + 8 + 4
# Every cursor a pull takes, exactly: a checkpoint ("p" and 8 bytes, 12 characters of
# URL-safe base64) or a span ("s" and 20 bytes, 28 characters). Whatever matches decodes.
PULL_CURSOR_PATTERN = r"^c(?:[A-P][A-Za-z0-9_-]{10}|[w-z0-9_-][A-Za-z0-9_-]{26})$"


def encode_span(after: int, upto: int, sent: int) -> str:
    """The cursor that continues a pull from ``after`` to ``upto`` past ``sent`` records."""
    raw = _SPAN + after.to_bytes(8, "big") + upto.to_bytes(8, "big") + sent.to_bytes(4, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[int, int | None, int]:
    """``(after, upto, sent)`` of a pull's cursor: a checkpoint (a feed place) starts a pull,
    with ``upto`` yet to fix; a span continues one; none starts from the beginning.

    Raises:
        CursorError: the cursor is not one this server made.
    """
    if not cursor:
        return 0, None, 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:
        raise CursorError(_NOT_OURS) from exc
    if len(raw) == _SPAN_BYTES and raw[:1] == _SPAN:
        after = min(int.from_bytes(raw[1:9], "big"), MAX_PLACE)
        # This server never makes a span that ends before it starts; read one as empty.
        upto = max(after, min(int.from_bytes(raw[9:17], "big"), MAX_PLACE))
        return after, upto, int.from_bytes(raw[17:], "big")
    return min(decode_position(cursor), MAX_PLACE), None, 0


# The last place the change log can number (a signed 64-bit integer): a cursor past it is
# past the log, as any cursor past the log's end is.
MAX_PLACE = 2**63 - 1


_NOT_OURS = "the cursor is not one this server made"
