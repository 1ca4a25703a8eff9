"""Text that a Bluelight database cannot store is refused where it enters.

PostgreSQL holds no NUL character (U+0000) in text or JSON, while SQLite does. So that a
request means the same on both engines, and never reaches the database to fail there as a
500, a request carrying NUL in its query string or body is refused before its handler runs.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

from litestar import Request

from bluelight.web.errors import WebError, WebErrorCode

# JSON can only carry NUL as the escape \u0000; an escaped backslash before it ("\\u0000") is
# the six characters themselves, which are harmless.
NUL_IN_JSON = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _refuse(where: str) -> WebError:
    return WebError(
        WebErrorCode.INVALID_FORMAT,
        f"the {where} holds a NUL character (U+0000), which cannot be stored",
        source=where,
    )


async def refuse_nul(request: Request[Any, Any, Any]) -> None:
    """Refuse a request whose query or body holds NUL (400 INVALID_FORMAT)."""
    if b"\x00" in unquote_to_bytes(request.scope.get("query_string", b"")):
        raise _refuse("query")
    if request.method in BODY_METHODS:
        body = await request.body()
        if b"\x00" in body or NUL_IN_JSON.search(body):
            raise _refuse("body")
