"""Authentication and the permission guard.

Every route declares what it needs in its ``opt``: ``permission=<Permission>`` or
``public=True``. ``AccessMiddleware`` refuses a route that declares neither, so a route added
without thought is closed, not open. A refusal is audited (``web.refusals``).

A route may declare ``authenticate=IN_ROUND``: it looks the token up itself, in its own
database round, where the permission is checked before anything is read (the record read by
id, the path of every check; ``records.reader``). The middleware then only checks that a
bearer token was sent, and hands it on as a ``Caller`` (``admit_in_round``, which the direct
path of a read by id, ``web.direct``, calls too).

Only the ``Authorization: Bearer`` header authenticates. No cookie ever does, so no request
a browser sends on its own (a cross-site form, an image) can act for anyone: there is
nothing for cross-site request forgery to ride on.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, Protocol

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import Connection

from bluelight.db import Database
from bluelight.identity import Actor, Permission
from bluelight.identity.errors import IdentityError, IdentityErrorCode
from bluelight.identity.services import MAX_TOKENS_PER_LOOKUP, IdentityPolicy, authenticate_many
from bluelight.kernel.batching import Batcher
from bluelight.kernel.permissions import IN_ROUND
from bluelight.records.reader import Caller
from bluelight.web.errors import WebError, WebErrorCode


class Authenticator(Protocol):
    """Turns a bearer token into the actor it stands for, or raises ``IdentityError``."""

    async def authenticate(self, token: str) -> Actor: ...

    def identify(
        self, tokens: Sequence[str], conn: Connection | None = None
    ) -> Sequence[Actor | Exception]:
        """For each token, its actor or the ``IdentityError`` that refuses it (on a worker
        thread, for a route that authenticates in its own round; on ``conn`` if given)."""
        ...


class TokenAuthenticator:
    """Sessions opened by sign-in: opaque tokens, looked up by their SHA-256.

    The lookup runs on a worker thread, never on the event loop: a database call on the loop
    stalls every request the loop serves (the loop gives up the interpreter lock for the call
    and waits its turn to take it back). Requests that arrive while a lookup is running wait
    for the next, which looks all of them up in one query (``kernel.batching``), so under load
    one query serves many requests. Every request's lookup starts after the request arrived,
    so a session ended before then is refused.
    """

    def __init__(self, db: Database, policy: IdentityPolicy) -> None:
        self._db = db
        self._policy = policy
        self._batcher: Batcher[str, Actor] = Batcher(self.identify, limit=MAX_TOKENS_PER_LOOKUP)

    async def authenticate(self, token: str) -> Actor:
        return await self._batcher.run(token)

    def identify(
        self, tokens: Sequence[str], conn: Connection | None = None
    ) -> list[Actor | IdentityError]:
        """Each token's actor, or its refusal (looked up on ``conn`` if given: a connection
        in autocommit, such as a ``KeptConnection`` of ``Database.kept_reader``)."""
        return authenticate_many(self._db, self._policy, tokens, conn=conn)


MAX_TOKEN = 200


def _bearer(scope: Scope) -> str:
    """The token of ``Authorization: Bearer <token>``.

    Raises:
        IdentityError: AUTH_REQUIRED (no bearer token), TOKEN_INVALID (one that cannot be).
    """
    header = ""
    for name, value in scope["headers"]:
        if name == b"authorization":
            header = value.decode("latin-1")
            break
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise IdentityError(IdentityErrorCode.AUTH_REQUIRED, "send Authorization: Bearer <token>")
    if len(token) > MAX_TOKEN or not token.isascii():
        raise IdentityError(IdentityErrorCode.TOKEN_INVALID, "the token is not valid")
    return token


def authorise(actor: Actor | None, opt: dict[str, Any]) -> None:
    """Allow the request only if ``actor`` holds the permission the route declares.

    Raises:
        WebError: PERMISSION_DENIED, or ROUTE_CLOSED for a route that declares nothing.
    """
    permission = opt.get("permission")
    if isinstance(permission, Permission) and actor is not None and actor.may(permission):
        return
    if not isinstance(permission, Permission):
        raise WebError(WebErrorCode.ROUTE_CLOSED, "this route declares no permission and is closed")
    raise WebError(
        WebErrorCode.PERMISSION_DENIED,
        f"this needs the {permission.value} permission",
        permission=permission.value,
    )


def admit_in_round(scope: Scope, opt: dict[str, Any]) -> None:
    """Let a request to a route that authenticates in its own round (``IN_ROUND``, with a
    permission) go on, its bearer token handed on as the scope's ``caller``, to be looked up
    and checked against the route's permission there.

    Raises:
        IdentityError: AUTH_REQUIRED, TOKEN_INVALID (as ``_bearer``).
    """
    scope["caller"] = Caller(_bearer(scope), partial(authorise, opt=opt))  # type: ignore[typeddict-unknown-key]


class AccessMiddleware:
    """Who is asking, and may they: on every route not marked public, the bearer token is
    looked up (``Authenticator``) and the actor must hold the permission the route declares.

    One middleware, not Litestar's authentication middleware and a guard: a guard costs a
    copy of the route handler on every request, and this is on every request. A refusal is
    audited by ``web.refusals`` before it is sent. OPTIONS carries no credentials (browsers
    send it on their own), so it is never authenticated and is refused unless public.
    """

    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            opt = scope["route_handler"].opt
            if not opt.get("public"):
                if scope["method"] == "OPTIONS":
                    authorise(None, opt)
                elif opt.get("authenticate") == IN_ROUND and isinstance(
                    opt.get("permission"), Permission
                ):
                    admit_in_round(scope, opt)
                else:
                    actor = await self.authenticator.authenticate(_bearer(scope))
                    scope["user"] = actor
                    authorise(actor, opt)
        await self.app(scope, receive, send)
