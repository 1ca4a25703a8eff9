"""What counts as a reason for access: a code from the national list, and words saying why.

The list (``data/access-reason.json``) belongs to the audit trail, which records a reason with
every consultation and disclosure; the national code lists serve it with the others at
``/api/v1/vocab/access-reason``. A reason is a code and its text, both: a code alone says too
little for an auditor to judge, and text alone names no lawful purpose.

Text the trail cannot keep as given is refused, never altered: broken percent escapes, bytes
that are not UTF-8, control characters (NUL, line breaks), format characters such as the
bidirectional overrides that make stored text display in another order, and text that is
blank or too long.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote_to_bytes

from bluelight.audit.errors import AuditError, AuditErrorCode
from bluelight.audit.rules import MAX_REASON_TEXT, Justification

REASONS = "/api/v1/vocab/access-reason"
# The two HTTP headers a request gives its reason in (the text percent-encoded UTF-8, since
# headers are ASCII). Headers, not query parameters, so reasons stay out of URLs and logs.
REASON_HEADER = "x-bluelight-reason"
TEXT_HEADER = "x-bluelight-reason-text"
MIN_TEXT = 3
# Every character of the longest text as four UTF-8 bytes, each escaped as %XX.
MAX_ENCODED_TEXT = MAX_REASON_TEXT * 12
_BROKEN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Joins the parts of an emoji; a format character, but harmless.
_ZERO_WIDTH_JOINER = "\u200d"


@lru_cache(maxsize=1)
def access_reason_list() -> Mapping[str, Any]:
    """The national list of reasons for access, as shipped (read once per process)."""
    document = resources.files("bluelight.audit") / "data" / "access-reason.json"
    return MappingProxyType(json.loads(document.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def _active_codes() -> frozenset[str]:
    return frozenset(e["code"] for e in access_reason_list()["entries"] if e["status"] == "active")


def _text_problem(detail: str) -> AuditError:
    return AuditError(AuditErrorCode.INVALID_REASON_TEXT, detail)


def reason_text(text: str) -> str:
    """``text`` as the trail keeps it (trimmed), if it may be kept.

    Raises:
        AuditError: INVALID_REASON_TEXT.
    """
    for character in text:
        # Cc: control characters; Cf: format characters, among them the bidirectional
        # overrides and isolates.
        if unicodedata.category(character) in ("Cc", "Cf") and character != _ZERO_WIDTH_JOINER:
            raise _text_problem(
                f"the reason text holds a control or formatting character (U+{ord(character):04X})"
            )
    text = text.strip()
    if len(text) < MIN_TEXT:
        raise _text_problem(f"say why in the reason text, in at least {MIN_TEXT} characters")
    if len(text) > MAX_REASON_TEXT:
        raise _text_problem(f"the reason text is longer than {MAX_REASON_TEXT} characters")
    return text


def decode_reason_text(encoded: str) -> str:
    """Reason text sent percent-encoded (as an HTTP header carries it), decoded and checked.

    Raises:
        AuditError: INVALID_REASON_TEXT.
    """
    if len(encoded) > MAX_ENCODED_TEXT:
        raise _text_problem(f"the reason text is longer than {MAX_REASON_TEXT} characters")
    if _BROKEN_ESCAPE.search(encoded):
        raise _text_problem("the reason text has a broken percent escape: encode it as UTF-8")
    try:
        text = unquote_to_bytes(encoded).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _text_problem("the reason text is not percent-encoded UTF-8") from exc
    return reason_text(text)


def justification(code: str, text: str) -> Justification | None:
    """The reason a code and its (decoded) text give; ``None`` when both are blank.

    Raises:
        AuditError: REASON_REQUIRED (one without the other), UNKNOWN_REASON (a code not on
            the list, or retired), INVALID_REASON_TEXT.
    """
    code = code.strip()
    if not code and not text.strip():
        return None
    if not code:
        raise AuditError(
            AuditErrorCode.REASON_REQUIRED, "give a reason code with the text", allowed=REASONS
        )
    if code.upper() not in _active_codes():
        raise AuditError(
            AuditErrorCode.UNKNOWN_REASON,
            f"{code[:40]!r} is not a reason for access",
            allowed=REASONS,
        )
    if not text.strip():
        raise AuditError(
            AuditErrorCode.REASON_REQUIRED,
            "say why in words as well as the code",
            allowed=REASONS,
        )
    return Justification(code=code.upper(), text=reason_text(text))


def from_headers(header: Callable[[str, str], str]) -> Justification | None:
    """The reason a request's headers give (``header(name, default)`` reads one), or ``None``.

    Raises:
        AuditError: REASON_REQUIRED, UNKNOWN_REASON, INVALID_REASON_TEXT.
    """
    return _given(header(REASON_HEADER, ""), header(TEXT_HEADER, ""))


_RAW_NAMES = (REASON_HEADER.encode(), TEXT_HEADER.encode())


def from_raw_headers(headers: Iterable[tuple[bytes, bytes]]) -> Justification | None:
    """``from_headers`` over an ASGI scope's raw header pairs (lower-case names), the first of
    each as a request's headers would read: no header object built on the path of every
    audited read.

    Raises:
        AuditError: as ``from_headers``.
    """
    given: dict[str, str] = {}
    for name, value in headers:
        if name in _RAW_NAMES:
            given.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return from_headers(given.get)


# An officer gives one reason for a run of checks: the same two headers, parsed once.
@lru_cache(maxsize=1024)
def _given(code: str, encoded: str) -> Justification | None:
    text = decode_reason_text(encoded) if encoded.strip() else ""
    return justification(code, text)
