"""Text that a Bluelight database cannot store, or that the server would read otherwise than
the API document says, is refused where it enters.

PostgreSQL holds no NUL character (U+0000) in text or JSON, while SQLite does. So that a
request means the same on both engines, and never reaches the database to fail there as a
500, a request carrying NUL in its query string or body is refused before its handler runs.

A query parameter the document types as a number, an instant or one of a few words is read
by the framework as "not given" when its text is ``null``; such a request is refused as the
document says it is, rather than answered as if the parameter had been left out.
"""

from __future__ import annotations

import re
import weakref
from typing import Any
from urllib.parse import unquote_to_bytes

from litestar import Request
from litestar.params import DependencyKwarg

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


# The query parameters of each route handler whose type has no place for the text "null"
_NOT_NULL: weakref.WeakKeyDictionary[Any, frozenset[str]] = weakref.WeakKeyDictionary()


def _not_null(handler: Any) -> frozenset[str]:
    """The query parameters ``handler`` takes that may be left out but are not text: a
    number, an instant, one of a few words."""
    known = _NOT_NULL.get(handler)
    if known is not None:
        return known
    provided = set(handler.resolve_dependencies())
    names: set[str] = set()
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        if name in provided or isinstance(kwarg, DependencyKwarg) or not field.is_optional:
            continue
        if getattr(kwarg, "header", None) or getattr(kwarg, "cookie", None):
            continue
        if str in {t.annotation for t in field.inner_types}:
            continue
        names.add(getattr(kwarg, "query", None) or name)
    _NOT_NULL[handler] = known = frozenset(names)
    return known


def _null_parameter(request: Request[Any, Any, Any], query: bytes) -> str | None:
    """The first query parameter given as ``null`` that is not text, if any."""
    if b"null" not in query:  # the common case, without parsing the query
        return None
    typed = _not_null(request.scope["route_handler"])
    return next(
        (n for n, v in request.query_params.multi_items() if v == "null" and n in typed), None
    )


async def refuse_misread_text(request: Request[Any, Any, Any]) -> None:
    """``before_request`` hook: refuse a request whose query or body holds NUL, or whose
    query gives ``null`` for a parameter that is not text (400 INVALID_FORMAT)."""
    query = request.scope.get("query_string", b"")
    if b"\x00" in unquote_to_bytes(query):
        raise _refuse("query")
    null = _null_parameter(request, query)
    if null is not None:
        raise WebError(
            WebErrorCode.INVALID_FORMAT,
            f"{null} cannot be null: leave it out to mean none",
            source="query",
            field=null,
        )
    if request.method in BODY_METHODS:
        body = await request.body()
        if b"\x00" in body or NUL_IN_JSON.search(body):
            raise _refuse("body")
