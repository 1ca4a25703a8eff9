"""Every error becomes one RFC 9457 problem+json response with a stable ``code``.

Domain errors carry their own code; framework refusals (a malformed body, an unknown field, a
body too large, an unknown route) are given codes here; anything unexpected becomes a 500
``INTERNAL_ERROR`` that names no internals. No traceback ever reaches a client.
"""

from __future__ import annotations

import logging
import re
from enum import StrEnum
from typing import Any, ClassVar

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import SQLAlchemyError

from bluelight.audit.errors import AuditErrorCode
from bluelight.db import database_unavailable
from bluelight.kernel.errors import BluelightError, Problem

log = logging.getLogger("bluelight.web")

PROBLEM_JSON = "application/problem+json"
# A client told the database or the trail is unavailable waits this long before trying again
# (RFC 9110 Retry-After, in seconds; the officer app's outbox backs off by it).
RETRY_AFTER_SECONDS = 2


class WebErrorCode(StrEnum):
    """The codes of refusals made by the web layer itself, before a feature sees a request."""

    BAD_REQUEST = "BAD_REQUEST"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    BODY_TOO_LARGE = "BODY_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    # The guard.
    PERMISSION_DENIED = "PERMISSION_DENIED"
    ROUTE_CLOSED = "ROUTE_CLOSED"
    # A request's content.
    INVALID_REQUEST = "INVALID_REQUEST"
    INVALID_PARAMETER = "INVALID_PARAMETER"
    MALFORMED_JSON = "MALFORMED_JSON"
    BODY_NOT_UTF8 = "BODY_NOT_UTF8"
    BODY_TOO_DEEP = "BODY_TOO_DEEP"
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    MISSING_FIELD = "MISSING_FIELD"
    MISSING_BODY = "MISSING_BODY"
    WRONG_TYPE = "WRONG_TYPE"
    LENGTH_OUT_OF_RANGE = "LENGTH_OUT_OF_RANGE"
    VALUE_OUT_OF_RANGE = "VALUE_OUT_OF_RANGE"
    INVALID_FORMAT = "INVALID_FORMAT"
    INVALID_VALUE = "INVALID_VALUE"


RETRY_LATER = frozenset(
    {str(WebErrorCode.DATABASE_UNAVAILABLE), str(AuditErrorCode.AUDIT_UNAVAILABLE)}
)


class WebError(BluelightError):
    """A request refused by the web layer: its permission, or its form."""

    statuses: ClassVar[dict[str, int]] = {
        WebErrorCode.PERMISSION_DENIED: 403,
        WebErrorCode.ROUTE_CLOSED: 403,
        WebErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
        WebErrorCode.DATABASE_UNAVAILABLE: 503,
    }
    refusals: ClassVar[frozenset[str]] = frozenset(
        {WebErrorCode.PERMISSION_DENIED, WebErrorCode.ROUTE_CLOSED}
    )


HTTP_CODES = {
    400: WebErrorCode.BAD_REQUEST,
    401: WebErrorCode.UNAUTHENTICATED,
    403: WebErrorCode.FORBIDDEN,
    404: WebErrorCode.NOT_FOUND,
    405: WebErrorCode.METHOD_NOT_ALLOWED,
    406: WebErrorCode.NOT_ACCEPTABLE,
    413: WebErrorCode.BODY_TOO_LARGE,
    415: WebErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: WebErrorCode.TOO_MANY_REQUESTS,
}

# msgspec's messages, in the order they are tried, and the code each one means.
VALIDATION_CODES = (
    (re.compile(r"unknown field `([^`]*)`"), WebErrorCode.UNKNOWN_FIELD),
    (re.compile(r"missing required field `([^`]*)`"), WebErrorCode.MISSING_FIELD),
    (re.compile(r"^Expected `[^`]*`, got `"), WebErrorCode.WRONG_TYPE),
    (re.compile(r"of length|length [<>]=|must have"), WebErrorCode.LENGTH_OUT_OF_RANGE),
    (re.compile(r"[<>]=? ?-?\d|multiple of"), WebErrorCode.VALUE_OUT_OF_RANGE),
    (re.compile(r"must match pattern|matching regex"), WebErrorCode.INVALID_FORMAT),
    (re.compile(r"Invalid enum value|Invalid value"), WebErrorCode.INVALID_VALUE),
    (
        re.compile(r"[Ii]nvalid (RFC ?3339|ISO 8601|date|datetime|UUID|uuid)|timezone|tz"),
        WebErrorCode.INVALID_FORMAT,
    ),
    (re.compile(r"JSON is malformed|Input data was truncated"), WebErrorCode.MALFORMED_JSON),
)
AT_PATH = re.compile(r" - at `\$\.?([^`]*)`")


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response[Any]:
    if problem.code in RETRY_LATER:
        headers = {**(headers or {}), "Retry-After": str(RETRY_AFTER_SECONDS)}
    return Response(
        problem.document(), status_code=problem.status, media_type=PROBLEM_JSON, headers=headers
    )


def _validation_problem(message: str, source: str | None, key: str | None) -> Problem:
    if source == "body" and key and message == repr(key):
        # Litestar found no body at all to parse, and says so with the repr of a KeyError on
        # its own parameter's name ("'data'"): tell the client what is missing instead.
        return Problem(
            WebErrorCode.MISSING_BODY,
            400,
            "Missing body",
            "the request has no body: send a JSON object with the fields this route takes",
            {"source": source},
        )
    code: str = WebErrorCode.INVALID_REQUEST
    for pattern, name in VALIDATION_CODES:
        if pattern.search(message):
            code = name
            break
    at = AT_PATH.search(message)
    # Litestar cuts the "- at `$.path`" off the message and hands the path over as the key.
    field = at.group(1) if at else (key if key and key != "data" else None)
    named = re.search(r"field `([^`]*)`", message)
    if named and code in (WebErrorCode.UNKNOWN_FIELD, WebErrorCode.MISSING_FIELD):
        field = f"{field}.{named.group(1)}" if field else named.group(1)
    if source in ("path", "query", "header", "cookie") and code != WebErrorCode.MALFORMED_JSON:
        code = WebErrorCode.INVALID_PARAMETER
    detail = AT_PATH.sub("", message)
    extra: dict[str, Any] = {}
    if field:
        extra["field"] = field
    if source:
        extra["source"] = source
    return Problem(code, 400, code.replace("_", " ").capitalize(), detail, extra)


def handle_bluelight_error(_request: Request[Any, Any, Any], exc: BluelightError) -> Response[Any]:
    problem = exc.problem()
    # RFC 9110: a 401 says how to authenticate.
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    return problem_response(problem, headers)


def handle_http_exception(_request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException):
        errors = exc.extra if isinstance(exc.extra, list) else []
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        message = str(first.get("message", exc.detail))
        return problem_response(
            _validation_problem(message, first.get("source"), first.get("key")), headers
        )
    status = exc.status_code
    detail = str(exc.detail)
    if status == 400 and detail.startswith(("JSON is malformed", "Input data was truncated")):
        return problem_response(
            Problem(WebErrorCode.MALFORMED_JSON, 400, "Malformed JSON", detail), headers
        )
    code: str = HTTP_CODES.get(status, f"HTTP_{status}")
    facts: dict[str, Any] = dict(exc.extra) if isinstance(exc.extra, dict) else {}
    if status >= 500:
        log.error("server error %s: %s", status, detail)
        detail = "the server could not complete the request"
        facts = {}
    title = code.replace("_", " ").capitalize()
    return problem_response(Problem(facts.pop("code", code), status, title, detail, facts), headers)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        Problem(
            WebErrorCode.INTERNAL_ERROR,
            500,
            "Internal error",
            "the server could not complete the request; it has been logged",
        )
    )


def handle_database_error(request: Request[Any, Any, Any], exc: SQLAlchemyError) -> Response[Any]:
    """A database that cannot be reached is 503 DATABASE_UNAVAILABLE with Retry-After: the
    request may succeed later. Any other database error is a fault of ours: 500, logged."""
    if not database_unavailable(exc):
        return handle_unexpected(request, exc)
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.args[0])
    return problem_response(
        Problem(
            WebErrorCode.DATABASE_UNAVAILABLE,
            503,
            "Database unavailable",
            "the database cannot be reached right now: try again after "
            f"{RETRY_AFTER_SECONDS} seconds (Retry-After)",
        )
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    BluelightError: handle_bluelight_error,
    HTTPException: handle_http_exception,
    SQLAlchemyError: handle_database_error,
    Exception: handle_unexpected,
}
