"""Who is acting, and the named permissions every route declares.

The identity feature will fill in agencies, users, roles and the policy; until then a
development token stands for one all-permitted actor of the configured force.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Permission(StrEnum):
    """A named permission. Routes declare one each; roles will grant sets of them."""

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
    VOCAB_READ = "vocab:list:read"
    VOCAB_MAP = "vocab:mapping:write"


ALL_PERMISSIONS: frozenset[Permission] = frozenset(Permission)


@dataclass(frozen=True, slots=True)
class Actor:
    """The person (and device) a request acts for."""

    user_id: str
    username: str
    agency: str
    permissions: frozenset[Permission]
    device_id: str | None = None

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions


def system_actor(agency: str) -> Actor:
    """The actor for work the platform does itself (migrations, demo loads, imports by CLI)."""
    return Actor("system", "system", agency, ALL_PERMISSIONS)
