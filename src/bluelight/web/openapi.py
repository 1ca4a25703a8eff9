"""The OpenAPI document, with every answer each route can give.

Litestar describes what a route takes and its success answer; this adds the rest, derived
from what the route declares, so a route added later is described with no one writing it out:

- every refusal is problem+json, one ``Problem`` schema referenced by every 4xx and 5xx answer;
- every route: 400 (a malformed request: a parameter, a NUL character, a refused reason) and
  503 (the audit trail or the database is unavailable; ``Retry-After`` when known);
- a route not ``PUBLIC``: 401 (with ``WWW-Authenticate``) and 403, and the bearer token;
  a ``PUBLIC`` route names no security requirement;
- a route with path parameters: 404, and 410 when one of them names a record
  (``record_id``: a record deleted softly answers 410);
- a route that takes a body: 413, 415 and 422 (the rules past what JSON Schema can say:
  codes from the lists, dates in order, control characters in text); 409 when the body
  carries a ``version`` (a versioned write) or an ``id`` (made by the device, so it may be
  taken);
- the reason headers (``X-Bluelight-Reason`` and ``X-Bluelight-Reason-Text``) on the routes
  that read them: whose handler takes ``why`` or ``disclosure_reason``, or says
  ``reason=...`` in its ``opt``; required where the route says ``reason="required"`` or takes
  ``disclosure_reason``;
- bodies and answers as msgspec reads and writes them: their schemas are msgspec's own (every
  bound, pattern and refusal of unknown fields), not Litestar's rendering of them, which drops
  some (a bound of 0, the bounds of a list's items);
- query parameters as the server checks them: without the ``null`` Litestar gives an optional
  one (an absent parameter is the null), with the bounds of its ``Parameter``.

A route may add to this in its ``opt`` (plain data: the features do not import the web layer):
``answers`` (further statuses), ``params`` (name to JSON schema: what the server checks of a
parameter past its type, or a query parameter the route reads itself), ``body`` (the media
type of a body it reads itself), ``produces`` (the media types of its success answer, when it
chooses one), ``reason`` (``"required"`` or ``"accepted"``: it reads the reason headers
itself).

The document is completed once per app, the first time it is asked for (building it costs a
quarter of a second, which an app that is never asked need not pay), and every place that
serves it (``/api/v1/openapi.json``, the docs page) serves this one.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any, get_args, get_origin

import msgspec
from litestar import Litestar, Request, Response
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.params import KwargDefinition
from litestar.routes import HTTPRoute

from bluelight.audit.reasons import (
    MIN_TEXT,
    REASON_HEADER,
    REASONS,
    TEXT_HEADER,
    access_reason_list,
)
from bluelight.audit.rules import MAX_REASON_TEXT
from bluelight.web.errors import PROBLEM_JSON

PROBLEM = "Problem"
PROBLEM_REF = {"$ref": f"#/components/schemas/{PROBLEM}"}
BEARER = "BearerToken"
METHODS = ("get", "put", "post", "delete", "patch")
BODY_METHODS = frozenset({"post", "put", "patch", "delete"})
STATE_KEY = "openapi_document"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem. `code` is stable: act on it, not on the wording. Some "
    "problems carry further members (`field`, `source`, `errors`, `current_version`, "
    "`allowed`, `permission` …).",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "description": "urn:bluelight:problem:<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 100, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"},
        "errors": {"type": "array", "items": {"type": "object"}},
        "current_version": {"type": "integer"},
    },
    "additionalProperties": True,
}

WHY = {
    304: "Not modified: the copy named by If-None-Match is current.",
    400: "Malformed: a parameter, the body, a NUL character, or a refused reason "
    "(REASON_REQUIRED, UNKNOWN_REASON, INVALID_REASON_TEXT).",
    401: "Not signed in: no token, or one that is invalid, expired or revoked.",
    403: "Not allowed: a permission the user lacks, or a record kept from them.",
    404: "Not found: what the path names does not exist, or is not the user's to see.",
    409: "Conflict: the version sent is not the current one, or the id or name is taken.",
    410: "Gone: the record was deleted.",
    413: "The body is too large.",
    415: "The body is not of a media type this route takes.",
    422: "Refused by a rule JSON Schema cannot state: a code not on its list, dates out of "
    "order, control characters in text, and the like. `errors` names each field.",
    503: "Unavailable: the audit trail or the database cannot be written or reached now, so "
    "nothing was done or sent. Try again (after Retry-After seconds, when given).",
}


# A character of reason text that is not a space: printable ASCII, or a percent escape of one
# or of a Latin-1 letter (U+00C0 to U+00FF). The server takes any percent-encoded UTF-8 without
# control or formatting characters; this is the part of it a regular expression can say
# plainly, so that text matching it is always taken.
_NOT_SPACE = (
    r"(?:[!-$&-~]|%2[1-9A-Fa-f]|%[3-6][0-9A-Fa-f]|%7[0-9A-Ea-e]|%[Cc]3%[89ABab][0-9A-Fa-f])"
)
# At least three such characters (the shortest reason), spaces only between them.
REASON_TEXT = rf"^{_NOT_SPACE}(?: *{_NOT_SPACE}){{{MIN_TEXT - 1},}}$"


def _reason_parameters(required: bool) -> list[dict[str, Any]]:
    codes = sorted(e["code"] for e in access_reason_list()["entries"] if e["status"] == "active")
    return [
        {
            "name": REASON_HEADER.title(),
            "in": "header",
            "required": required,
            "description": f"Why personal data is looked at or disclosed: a code from {REASONS}.",
            "schema": {"type": "string", "enum": codes},
        },
        {
            "name": TEXT_HEADER.title(),
            "in": "header",
            "required": required,
            "description": "The reason in words, percent-encoded UTF-8, without control or "
            "formatting characters; sent with X-Bluelight-Reason.",
            "schema": {"type": "string", "maxLength": MAX_REASON_TEXT, "pattern": REASON_TEXT},
        },
    ]


def _answer(status: int, *, headers: dict[str, Any] | None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": WHY.get(status, HTTPStatus(status).phrase),
        "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def _handlers(app: Litestar) -> Iterator[tuple[str, str, HTTPRoute, HTTPRouteHandler]]:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                yield route.path_format, method.lower(), route, handler


def _body_schema(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    for media in operation.get("requestBody", {}).get("content", {}).values():
        schema = media.get("schema", {})
        ref = schema.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            found: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
            return found
        return dict(schema)
    return {}


def _hook(kind: type[Any]) -> dict[str, Any]:
    """The schema of a type msgspec does not know: ``object`` is any JSON value."""
    if kind is object:
        return {"description": "Any JSON value."}
    raise NotImplementedError


def _described(annotation: Any) -> Any:
    """The type whose schema describes ``annotation`` (a ``Response[T]`` is a ``T``), or
    ``None`` for what has none (nothing, a stream, a file)."""
    if get_origin(annotation) is Response:
        annotation = get_args(annotation)[0]
    if annotation in (None, type(None)):
        return None
    try:
        msgspec.json.schema(annotation, schema_hook=_hook)
    except (TypeError, NotImplementedError):
        return None
    return annotation


def _handler_types(handler: HTTPRouteHandler) -> tuple[Any, Any]:
    """The types of a route's body and of its success answer (``None`` where it has none)."""
    data = handler.parsed_fn_signature.parameters.get("data")
    body = _described(data.annotation) if data is not None else None
    return body, _described(handler.parsed_fn_signature.return_type.annotation)


def _set_schema(content: dict[str, Any] | None, schema: dict[str, Any]) -> None:
    for media in (content or {}).values():
        media["schema"] = schema


def _reads_reason(handler: HTTPRouteHandler) -> str | None:
    """``"required"``, ``"accepted"`` or ``None``: whether the route reads the reason headers."""
    declared = handler.opt.get("reason")
    if declared in ("required", "accepted"):
        return str(declared)
    names = handler.parsed_fn_signature.parameters
    if "disclosure_reason" in names:
        return "required"
    if "why" in names:
        return "accepted"
    return None


def _bounds(kwarg: KwargDefinition | None) -> dict[str, Any]:
    if kwarg is None:
        return {}
    bounds = {
        "minimum": kwarg.ge,
        "maximum": kwarg.le,
        "exclusiveMinimum": kwarg.gt,
        "exclusiveMaximum": kwarg.lt,
        "minLength": kwarg.min_length,
        "maxLength": kwarg.max_length,
        "pattern": kwarg.pattern,
    }
    return {k: v for k, v in bounds.items() if v is not None}


def _query_schema(schema: dict[str, Any], kwarg: KwargDefinition | None) -> dict[str, Any]:
    """A query parameter's schema without ``null`` (absent is null), with its bounds."""
    schema = dict(schema)
    choices = schema.pop("oneOf", None)
    if choices:
        kept = [c for c in choices if c.get("type") != "null"]
        if len(kept) == 1:
            schema = {**kept[0], **schema}
        else:
            schema["oneOf"] = kept
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        schema["type"] = kinds[0] if len(kinds) == 1 else kinds
    if "enum" in schema:
        schema["enum"] = [v for v in schema["enum"] if v is not None]
    for key, value in _bounds(kwarg).items():
        schema[key] = int(value) if isinstance(value, float) and value.is_integer() else value
    for key in ("minimum", "maximum"):
        if isinstance(schema.get(key), float) and schema[key].is_integer():
            schema[key] = int(schema[key])
    return schema


def _parameters(operation: dict[str, Any], handler: HTTPRouteHandler) -> list[dict[str, Any]]:
    fields = handler.parsed_fn_signature.parameters
    parameters: list[dict[str, Any]] = []
    for given in operation.get("parameters", []):
        parameter = dict(given)
        if parameter.get("in") == "query":
            field = fields.get(parameter["name"])
            kwarg = field.kwarg_definition if field is not None else None
            bounds = kwarg if isinstance(kwarg, KwargDefinition) else None
            parameter["schema"] = _query_schema(parameter.get("schema", {}), bounds)
        parameters.append(parameter)
    declared = dict(handler.opt.get("params") or {})
    for parameter in parameters:
        if parameter["name"] in declared:
            parameter["schema"] = {**parameter["schema"], **declared.pop(parameter["name"])}
    for name, schema in declared.items():
        parameters.append({"name": name, "in": "query", "required": False, "schema": schema})
    reason = _reads_reason(handler)
    if reason is not None:
        parameters += _reason_parameters(reason == "required")
    return parameters


def statuses(
    handler: HTTPRouteHandler,
    path_parameters: set[str],
    *,
    takes_body: bool,
    versioned: bool,
) -> set[int]:
    """Every refusal a route can answer with, from what it declares."""
    found = {400, 503}
    if not handler.opt.get("public"):
        found |= {401, 403}
    if path_parameters:
        found.add(404)
    if "record_id" in path_parameters:
        found.add(410)
    if takes_body:
        found |= {413, 415, 422}
    if versioned:
        found.add(409)
    found |= set(handler.opt.get("answers") or ())
    return found


HEADERS = {
    "WWW-Authenticate": {
        "description": "How to authenticate: Bearer.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": False,
        "schema": {"type": "integer", "minimum": 0},
    },
}
ANSWER_HEADERS = {401: "WWW-Authenticate", 503: "Retry-After"}


def _declare_types(
    document: dict[str, Any], operations: list[tuple[dict[str, Any], HTTPRouteHandler]]
) -> None:
    """Put msgspec's schemas of every body and answer in the document, in place of Litestar's."""
    types = {handler: _handler_types(handler) for _, handler in operations}
    described = sorted({t for pair in types.values() for t in pair if t is not None}, key=repr)
    tops, schemas = msgspec.json.schema_components(
        described, schema_hook=_hook, ref_template="#/components/schemas/{name}"
    )
    top = dict(zip(described, tops, strict=True))
    document["components"]["schemas"] = {**schemas, PROBLEM: PROBLEM_SCHEMA}
    for operation, handler in operations:
        body_type, answer_type = types[handler]
        if body_type is not None:
            _set_schema(operation.get("requestBody", {}).get("content"), top[body_type])
        for status, answer in operation.get("responses", {}).items():
            if answer_type is not None and status.startswith("2"):
                _set_schema(answer.get("content"), top[answer_type])


def _declare_media(operation: dict[str, Any], handler: HTTPRouteHandler) -> None:
    """The media types of a body or an answer the route handles itself."""
    body_type = handler.opt.get("body")
    if body_type and "requestBody" not in operation:
        operation["requestBody"] = {
            "required": True,
            "content": {str(body_type): {"schema": {"type": "string"}}},
        }
    produces = handler.opt.get("produces")
    for status, answer in operation.get("responses", {}).items():
        if produces and status.startswith("2"):
            answer["content"] = {str(m): {"schema": {"type": "string"}} for m in produces}


def _declare_answers(
    document: dict[str, Any],
    operation: dict[str, Any],
    route: HTTPRoute,
    handler: HTTPRouteHandler,
) -> None:
    body = _body_schema(document, operation)
    found = statuses(
        handler,
        set(route.path_parameters),
        takes_body="requestBody" in operation,
        versioned=bool({"version", "id"} & set(body.get("properties", {}))),
    )
    answers = operation.setdefault("responses", {})
    for status in sorted(found):
        if status < 400:
            answers[str(status)] = {"description": WHY.get(status, HTTPStatus(status).phrase)}
            continue
        header = ANSWER_HEADERS.get(status)
        refs = {header: {"$ref": f"#/components/headers/{header}"}} if header else None
        answers[str(status)] = _answer(status, headers=refs)


def complete(document: dict[str, Any], app: Litestar) -> dict[str, Any]:
    """``document`` (Litestar's, as a dict) with every answer of every route declared."""
    document = copy.deepcopy(document)
    document.setdefault("components", {}).setdefault("headers", {}).update(HEADERS)
    found = [
        (document["paths"][path][method], route, handler)
        for path, method, route, handler in _handlers(app)
        if method in document.get("paths", {}).get(path, {})
    ]
    _declare_types(document, [(operation, handler) for operation, _, handler in found])
    for operation, route, handler in found:
        _declare_media(operation, handler)
        _declare_answers(document, operation, route, handler)
        parameters = _parameters(operation, handler)
        if parameters:
            operation["parameters"] = parameters
        if handler.opt.get("public"):
            operation["security"] = []
    return document


def api_document(app: Litestar) -> dict[str, Any]:
    """The app's OpenAPI document, completed (once per app)."""
    found: dict[str, Any] | None = app.state.get(STATE_KEY)
    if found is None:
        found = complete(app.openapi_schema.to_schema(), app)
        app.state[STATE_KEY] = found
    return found


class DocumentJsonPlugin(JsonRenderPlugin):
    """``/api/docs/openapi.json``: the completed document, as ``/api/v1/openapi.json``."""

    def render(self, request: Request[Any, Any, Any], _openapi_schema: dict[str, Any]) -> bytes:
        return self.render_json(request, api_document(request.app))
