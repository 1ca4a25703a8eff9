"""Authentication and the permission guard.

Every route declares what it needs in its ``opt``: ``permission=<Permission>`` or
``public=True``. The guard refuses a route that declares neither, so a route added without
thought is closed, not open. A refusal by the guard is audited (``web.refusals``).

Only the ``Authorization: Bearer`` header authenticates. No cookie ever does, so no request
a browser sends on its own (a cross-site form, an image) can act for anyone: there is
nothing for cross-site request forgery to ride on.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Any, Protocol

from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from bluelight.db import Database
from bluelight.identity import Actor, Permission
from bluelight.identity.errors import IdentityError, IdentityErrorCode
from bluelight.identity.services import MAX_TOKENS_PER_LOOKUP, IdentityPolicy, authenticate_many
from bluelight.web.errors import WebError, WebErrorCode


class Authenticator(Protocol):
    """Turns a bearer token into the actor it stands for, or raises ``IdentityError``."""

    async def authenticate(self, token: str) -> Actor: ...


class _Lookups:
    """One event loop's tokens waiting to be looked up, and whether a lookup is running."""

    def __init__(self) -> None:
        self.waiting: list[tuple[str, asyncio.Future[Actor]]] = []
        self.task: asyncio.Task[None] | None = None


class TokenAuthenticator:
    """Sessions opened by sign-in: opaque tokens, looked up by their SHA-256.

    The lookup runs on a worker thread, never on the event loop: a database call on the loop
    stalls every request the loop serves (the loop gives up the interpreter lock for the call
    and waits its turn to take it back). Requests that arrive while a lookup is running wait
    for the next, which looks all of them up in one query, so under load one query serves
    many requests. Every request's lookup starts after the request arrived, so a session
    ended before then is refused.
    """

    def __init__(self, db: Database, policy: IdentityPolicy) -> None:
        self._db = db
        self._policy = policy
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lookups] = (
            weakref.WeakKeyDictionary()
        )

    async def authenticate(self, token: str) -> Actor:
        loop = asyncio.get_running_loop()
        lookups = self._loops.get(loop)
        if lookups is None:
            lookups = self._loops[loop] = _Lookups()
        future: asyncio.Future[Actor] = loop.create_future()
        lookups.waiting.append((token, future))
        if lookups.task is None:
            lookups.task = loop.create_task(self._drain(lookups))
        return await future

    async def _drain(self, lookups: _Lookups) -> None:
        try:
            while lookups.waiting:
                batch = lookups.waiting[:MAX_TOKENS_PER_LOOKUP]
                del lookups.waiting[:MAX_TOKENS_PER_LOOKUP]
                found: Sequence[Actor | Exception]
                try:
                    found = await sync_to_thread(
                        authenticate_many, self._db, self._policy, [t for t, _ in batch]
                    )
                except asyncio.CancelledError:
                    for _, future in batch:
                        future.cancel()
                    raise
                except Exception as exc:  # noqa: BLE001  (handed to every request that waited)
                    found = [exc] * len(batch)
                for (_, future), result in zip(batch, found, strict=True):
                    if future.done():  # the request went away meanwhile
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            lookups.task = None
            for _, future in lookups.waiting:  # only left when the loop is shutting down
                future.cancel()
            lookups.waiting.clear()


MAX_TOKEN = 200


class BearerAuthentication(AbstractAuthenticationMiddleware):
    """Reads ``Authorization: Bearer <token>`` on every route not marked public."""

    def __init__(self, app: Any, authenticator: Authenticator, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.authenticator = authenticator

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise IdentityError(
                IdentityErrorCode.AUTH_REQUIRED, "send Authorization: Bearer <token>"
            )
        if len(token) > MAX_TOKEN or not token.isascii():
            raise IdentityError(IdentityErrorCode.TOKEN_INVALID, "the token is not valid")
        actor = await self.authenticator.authenticate(token)
        return AuthenticationResult(user=actor, auth=token)


async def permission_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Allow the request only if the actor holds the permission the route declares.

    A coroutine, so the framework runs it on the event loop instead of handing every request
    to a worker thread and back. A refusal is audited by ``web.refusals`` before it is sent.

    Raises:
        WebError: PERMISSION_DENIED, or ROUTE_CLOSED for a route that declares nothing.
    """
    if handler.opt.get("public"):
        return
    permission = handler.opt.get("permission")
    # Litestar skips authentication for OPTIONS, leaving no user in the scope: read it from
    # the scope, since ``connection.user`` raises there (a 500 instead of the closed route).
    actor = connection.scope.get("user")
    if isinstance(permission, Permission) and isinstance(actor, Actor) and actor.may(permission):
        return
    if not isinstance(permission, Permission):
        raise WebError(WebErrorCode.ROUTE_CLOSED, "this route declares no permission and is closed")
    raise WebError(
        WebErrorCode.PERMISSION_DENIED,
        f"this needs the {permission.value} permission",
        permission=permission.value,
    )
