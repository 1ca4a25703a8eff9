"""A reason read from a request's raw headers reads as the request's headers would."""

from __future__ import annotations

import pytest

from bluelight.audit import AuditError, Justification
from bluelight.audit.reasons import from_raw_headers

CODE = b"x-bluelight-reason"
TEXT = b"x-bluelight-reason-text"


def test_both_headers_give_the_reason_and_others_are_ignored() -> None:
    headers = [(b"accept", b"*/*"), (CODE, b"investigation"), (TEXT, b"stop%20at%20the%20A12")]
    assert from_raw_headers(headers) == Justification("INVESTIGATION", "stop at the A12")


def test_the_first_of_a_repeated_header_counts() -> None:
    headers = [(CODE, b"INVESTIGATION"), (TEXT, b"first"), (CODE, b"NOPE"), (TEXT, b"second")]
    assert from_raw_headers(headers) == Justification("INVESTIGATION", "first")


def test_no_reason_is_none_and_half_a_reason_is_refused() -> None:
    assert from_raw_headers([(b"accept", b"*/*")]) is None
    with pytest.raises(AuditError) as refused:
        from_raw_headers([(CODE, b"INVESTIGATION")])
    assert refused.value.code == "REASON_REQUIRED"
