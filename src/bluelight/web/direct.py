"""The record read by id, dispatched straight to its route handler: the path of every check.

Litestar answers a request through its router, two exception layers, the access middleware,
the before-request hook, the handler's signature model and its response pipeline. A read by
id needs none of that generality, and it is the request officers make most. With the read
itself answered from memory, the direct way costs the event loop about 60 % of the CPU the
long way does, and less than a bare Litestar hello-world (``benchmarks/read_cost.py``, 32
requests at a time; its figures in ``benchmarks/RESULTS.md``).

``DirectReads`` sits where Litestar's exception layer and router sit (``Litestar.asgi_handler``,
inside ``Litestar.__call__``, so the app's ``before_send`` hooks, the security headers among
them, still see every response). It takes an ordinary read by id (``GET``, no query string,
the path of a read route whose handler authenticates in its own round, an id spelt 8-4-4-4-12,
a plain ``Host``) and does for it what the long way does, with the same parts:

- the access check of an in-round route (``web.auth.admit_in_round``);
- the route handler's own function, and its own ``to_response`` (the route's headers, its
  response class);
- on an error, the app's ``after_exception`` hooks (the refusal's audit entry) and the
  exception handler the app's exception layer would pick (problem+json).

The long way's other layers have nothing to do for such a request: the before-request hook
(``web.text``) looks only at a query string and a body, which it has not. A route that
declares a guard, a cache, an after-response hook, a before-request hook of its own, or a
middleware other than the access check is left to Litestar (``_direct``), as is every other
request. ``tests/web/test_direct_reads.py`` holds the two ways to the same answer, byte for
byte, and to the same audit entries, request by request.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.middleware.base import DefineMiddleware
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Receive, Scope, Send

from bluelight.kernel.permissions import IN_ROUND, Permission
from bluelight.web.auth import AccessMiddleware, admit_in_round
from bluelight.web.text import refuse_misread_text

# The id as the path carries it when an app builds the address: 8-4-4-4-12 hexadecimal digits.
# Litestar's converter takes other spellings too (braces, no hyphens, a urn: prefix); those
# go the long way.
CANONICAL_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
# A Host header of plain name characters; Litestar refuses some others (400), and an
# unusual one goes the long way to be judged there.
PLAIN_HOST = re.compile(rb"[0-9A-Za-z.:\-\[\]]*")


@dataclass(frozen=True, slots=True)
class _Route:
    """A read route the direct path serves, and what it needs of it, resolved once."""

    handler: Any
    template: str
    parameter: str
    opt: dict[str, Any]
    exception_handlers: Mapping[Any, Any]
    type_encoders: Any


def _direct(route: HTTPRoute) -> _Route | None:
    """``route``'s read by id, if the direct path can serve it exactly as Litestar would."""
    found = route.route_handler_map.get("GET")
    if found is None:
        return None
    handler = found[0]
    opt = handler.opt
    parts = route.path.rsplit("/", 1)
    last = parts[-1]
    if (
        opt.get("authenticate") != IN_ROUND
        or not isinstance(opt.get("permission"), Permission)
        or len(parts) != 2
        or not (last.startswith("{") and last.endswith(":uuid}"))
        or "{" in parts[0]
        or set(handler.parsed_fn_signature.parameters) != {"request"}
        or handler.resolve_guards()
        or handler.resolve_before_request() not in (None, refuse_misread_text)
        or handler.resolve_after_response() is not None
        or handler.cache
        or not all(
            isinstance(m, DefineMiddleware) and m.middleware is AccessMiddleware
            for m in handler.resolve_middleware()
        )
    ):
        return None
    return _Route(
        handler=handler,
        template=route.path,
        parameter=last[1:].split(":", 1)[0],
        opt=opt,
        exception_handlers=handler.resolve_exception_handlers(),
        type_encoders=handler.resolve_type_encoders(),
    )


def _exception_handler(handlers: Mapping[Any, Any], exc: Exception) -> Any:
    """The handler the app's exception layer would pick for ``exc``: its class's nearest."""
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


class DirectReads:
    """Serves ordinary reads by id itself, and hands everything else to ``fallback``."""

    def __init__(self, app: Litestar, fallback: ASGIApp) -> None:
        self._app = app
        self.fallback = fallback
        self._routes: dict[str, _Route] = {}
        if app.debug or app.pdb_on_exception:
            return  # the long way shows a debug page or stops in the debugger
        for route in app.routes:
            if isinstance(route, HTTPRoute) and (direct := _direct(route)):
                self._routes[route.path.rsplit("/", 1)[0]] = direct

    @property
    def paths(self) -> list[str]:
        """The route templates served directly."""
        return sorted(r.template for r in self._routes.values())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._route(scope)
        if route is None:
            await self.fallback(scope, receive, send)
            return
        scope["route_handler"] = route.handler
        scope["path_template"] = route.template
        app = self._app
        request = app.request_class(scope, receive, send)
        try:
            admit_in_round(scope, route.opt)
            data = await route.handler.fn(request=request)
            response = await route.handler.to_response(app=app, data=data, request=request)
        except Exception as exc:
            for hook in app.after_exception:
                await hook(exc, scope)
            handle = _exception_handler(route.exception_handlers, exc)
            if handle is None:
                raise
            refused = handle(request, exc)
            response = refused.to_asgi_response(
                app=None, request=request, type_encoders=route.type_encoders
            )
        await response(scope, receive, send)

    def _route(self, scope: Scope) -> _Route | None:
        """The route an ordinary read by id is for (its id put in the scope), or ``None``."""
        if (
            scope["type"] != ScopeType.HTTP
            or scope.get("method") != "GET"
            or scope.get("query_string")
            or scope.get("root_path")
        ):
            return None
        prefix, _, last = scope["path"].rpartition("/")
        route = self._routes.get(prefix)
        if route is None or len(last) != 36 or not CANONICAL_ID.fullmatch(last):
            return None
        for name, value in scope["headers"]:
            if name == b"host" and not PLAIN_HOST.fullmatch(value):
                return None
        params: dict[str, Any] = {route.parameter: uuid.UUID(last)}
        scope["path_params"] = params
        return route
