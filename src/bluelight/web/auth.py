"""Authentication and the permission guard.

Every route declares what it needs in its ``opt``: ``permission=<Permission>`` or
``public=True``. The guard refuses a route that declares neither, so a route added without
thought is closed, not open.
"""

from __future__ import annotations

import hmac
from typing import Any, Protocol

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from bluelight.identity import ALL_PERMISSIONS, Actor, Permission


class Authenticator(Protocol):
    """Turns a bearer token into the actor it stands for, or None."""

    def authenticate(self, token: str) -> Actor | None: ...


class DevTokenAuthenticator:
    """Until identity lands: one development token acting for one all-permitted user."""

    def __init__(self, token: str, agency: str) -> None:
        self._token = token.encode()
        self._actor = Actor("dev", "dev.officer", agency, ALL_PERMISSIONS, device_id="dev")

    def authenticate(self, token: str) -> Actor | None:
        if hmac.compare_digest(token.encode(), self._token):
            return self._actor
        return None


class StaticTokens:
    """A fixed token→actor table (tests use it to act with chosen permissions)."""

    def __init__(self, tokens: dict[str, Actor]) -> None:
        self._tokens = tokens

    def authenticate(self, token: str) -> Actor | None:
        for known, actor in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return actor
        return None


MAX_TOKEN = 512


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
        if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN:
            raise NotAuthorizedException(
                "send Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"}
            )
        actor = self.authenticator.authenticate(token.strip())
        if actor is None:
            raise NotAuthorizedException(
                "the token is not valid", headers={"WWW-Authenticate": "Bearer"}
            )
        return AuthenticationResult(user=actor, auth=token)


async def permission_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Allow the request only if the actor holds the permission the route declares.

    A coroutine, so the framework runs it on the event loop instead of handing every request
    to a worker thread and back.
    """
    if handler.opt.get("public"):
        return
    permission = handler.opt.get("permission")
    if not isinstance(permission, Permission):
        raise PermissionDeniedException("this route declares no permission and is closed")
    actor = connection.user
    if not isinstance(actor, Actor) or not actor.may(permission):
        raise PermissionDeniedException(
            f"this needs the {permission.value} permission",
            extra={"permission": permission.value},
        )


def needs(permission: Permission) -> dict[str, Any]:
    """The ``opt`` of a route that needs ``permission``."""
    return {"permission": permission}


PUBLIC: dict[str, Any] = {"public": True, "exclude_from_auth": True}
