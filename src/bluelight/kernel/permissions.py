"""The permissions every HTTP route declares, and how a route declares them.

Each feature's routes name the permission they need here; identity's roles decide who holds
which (``identity.rules``), and the web layer's guard refuses whoever lacks it. A route that
declares neither a permission nor ``PUBLIC`` is closed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Permission(StrEnum):
    """A named permission. Every route declares one; roles grant sets of them."""

    PERSON_READ = "records:person:read"
    PERSON_WRITE = "records:person:write"
    OBJECT_READ = "records:object:read"
    OBJECT_WRITE = "records:object:write"
    LOCATION_READ = "records:location:read"
    LOCATION_WRITE = "records:location:write"
    EVENT_READ = "records:event:read"
    EVENT_WRITE = "records:event:write"
    LINK_READ = "records:link:read"
    LINK_WRITE = "records:link:write"
    MARKER_READ = "records:marker:read"
    MARKER_WRITE = "records:marker:write"
    RECORD_DELETE = "records:any:delete"
    RECORD_IMPORT = "records:any:import"
    RECORD_SHARE = "records:share:write"
    RECORD_RESTRICT = "records:access:write"
    SHARED_READ = "records:shared:read"
    VOCAB_READ = "vocab:list:read"
    VOCAB_MAP = "vocab:mapping:write"
    USER_READ = "identity:user:read"
    USER_ADMIN = "identity:user:write"
    DEVICE_READ = "identity:device:read"
    DEVICE_REVOKE = "identity:device:revoke"
    AGENCY_READ = "identity:agency:read"
    AUDIT_READ = "audit:trail:read"
    AUDIT_SIGN = "audit:head:sign"
    SYNC = "sync:device:use"
    SELF = "identity:self:use"


ALL_PERMISSIONS: frozenset[Permission] = frozenset(Permission)

PUBLIC: dict[str, Any] = {"public": True}
"""The ``opt`` of a route open to anyone, signed in or not."""


IN_ROUND = "in-round"
"""``opt["authenticate"]`` of a route that looks its caller's bearer token up itself, in its own
database round, checking the permission there before it reads anything (``web.auth``)."""


def needs(permission: Permission, **opt: Any) -> dict[str, Any]:
    """The ``opt`` of a route that needs ``permission`` (with any further options)."""
    return {"permission": permission, **opt}
