"""How a request's JSON body is read: one request class for every route that takes one.

Litestar reads a route's ``data`` through ``Request.json()``; ``JSONRequest`` is that method
with the refusals a body needs before any route sees it:

- a body that does not say it is JSON (``Content-Type: application/json``, or a
  ``application/<name>+json`` type, in UTF-8) is ``415 UNSUPPORTED_MEDIA_TYPE``, so a
  ``text/plain`` form post or a body sent with no type at all is never taken for JSON;
- a body that is not UTF-8 is ``400 BODY_NOT_UTF8``;
- a body nested deeper than ``MAX_BODY_DEPTH`` arrays and objects is ``400 BODY_TOO_DEEP``:
  no body Bluelight takes comes near it, and deeper ones would otherwise reach the decoder's
  recursion limit (a 500);
- a body that is not of the route's body type as JSON spells it is refused (400, with the
  code of what is wrong: ``WRONG_TYPE`` …), as the API document says. Litestar converts a body
  leniently, as it must a query string: a number given as the text ``"180"``, or an instant as
  a number of seconds, would be taken; a client that sends them has a bug to hear about.

Only a route that takes a body calls ``json()``, so a GET pays nothing for this.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException, ValidationException

from bluelight.web.errors import WebError, WebErrorCode

# The deepest a body of any route goes is a batch of imported records whose lists hold
# objects (five levels); 32 leaves room for any legitimate body and refuses a bomb.
MAX_BODY_DEPTH = 32
JSON_TYPE = re.compile(r"application/(?:[a-z0-9!#$&^_.-]+\+)?json")


def _media_type_refusal(media_type: str, options: dict[str, str]) -> WebError | None:
    charset = options.get("charset", "utf-8").lower()
    if JSON_TYPE.fullmatch(media_type.lower()) and charset in ("utf-8", "utf8"):
        return None
    said = f"{media_type}; charset={options['charset']}" if "charset" in options else media_type
    return WebError(
        WebErrorCode.UNSUPPORTED_MEDIA_TYPE,
        "the body must be JSON, sent with Content-Type: application/json (UTF-8); this one "
        f"came {f'as {said}' if said else 'with no Content-Type'}",
        content_type=said,
        accepted=["application/json"],
    )


def _too_deep() -> WebError:
    return WebError(
        WebErrorCode.BODY_TOO_DEEP,
        f"the body nests arrays and objects more than {MAX_BODY_DEPTH} deep",
        limit=MAX_BODY_DEPTH,
    )


def _not_utf8() -> WebError:
    return WebError(WebErrorCode.BODY_NOT_UTF8, "the body is not UTF-8 text")


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` holds arrays or objects more than ``limit`` levels deep."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        inner: list[Any] = []
        for container in level:
            items = container.values() if isinstance(container, dict) else container
            inner.extend(item for item in items if isinstance(item, dict | list))
        level = inner
    return False


def _json_numbers(value: Any) -> Any:
    """``value`` with each float that is a whole number made an int: JSON (and the API
    document's ``integer``) does not tell ``2`` from ``2.0``, and neither does Bluelight."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_numbers(v) for v in value]
    return value


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class JSONRequest(Request[Any, Any, Any]):
    """Litestar's request, whose ``json()`` refuses what is not a JSON body (module doc)."""

    async def json(self) -> Any:
        """The body decoded as JSON.

        Raises:
            WebError: UNSUPPORTED_MEDIA_TYPE (415), BODY_NOT_UTF8, BODY_TOO_DEEP (400).
        """
        media_type, options = self.content_type
        refusal = _media_type_refusal(media_type, options)
        if refusal is not None:
            raise refusal
        try:
            value = await super().json()
        except RecursionError as exc:
            raise _too_deep() from exc
        except UnicodeDecodeError as exc:
            raise _not_utf8() from exc
        except SerializationException as exc:
            # Invalid bytes outside a string are "malformed JSON" to the decoder: say what
            # is wrong with them (only on this path, so a good body is decoded once).
            if not _is_utf8(await self.body()):
                raise _not_utf8() from exc
            raise
        if nested_deeper_than(value, MAX_BODY_DEPTH):
            raise _too_deep()
        body = self.route_handler.parsed_data_field
        if body is not None:
            try:
                msgspec.convert(_json_numbers(value), body.annotation, strict=True)
            except msgspec.ValidationError as exc:
                raise ValidationException(
                    detail="the body is not what this route takes",
                    extra=[{"message": str(exc), "source": "body"}],
                ) from exc
        return value
