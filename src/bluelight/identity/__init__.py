"""Identity: agencies, users and roles, sign-in, devices, and what each may see."""

from bluelight.identity.rules import (
    Actor,
    AgencyType,
    Classification,
    Role,
    ShareLevel,
    classifications_up_to,
    permissions_of,
    system_actor,
)
from bluelight.kernel.permissions import ALL_PERMISSIONS, PUBLIC, Permission, needs

__all__ = [
    "ALL_PERMISSIONS",
    "PUBLIC",
    "Actor",
    "AgencyType",
    "Classification",
    "Permission",
    "Role",
    "ShareLevel",
    "classifications_up_to",
    "needs",
    "permissions_of",
    "system_actor",
]
