"""Identity: agencies, users and roles, sign-in, devices, and what each may see."""

from bluelight.identity.rules import (
    ALL_PERMISSIONS,
    Actor,
    AgencyType,
    Classification,
    Permission,
    Role,
    ShareLevel,
    classifications_up_to,
    permissions_of,
    system_actor,
)

__all__ = [
    "ALL_PERMISSIONS",
    "Actor",
    "AgencyType",
    "Classification",
    "Permission",
    "Role",
    "ShareLevel",
    "classifications_up_to",
    "permissions_of",
    "system_actor",
]
