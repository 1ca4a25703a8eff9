"""Who is acting, what each role may do, and what each record lets them see.

Pure: the roles that grant the permissions routes declare (``kernel.permissions``), the
agency types, security classifications and the levels at which a record is shared with a
partner.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bluelight.kernel.permissions import ALL_PERMISSIONS, Permission


class Role(StrEnum):
    """A job a user does; each grants a fixed set of permissions."""

    OFFICER = "officer"
    CONTROLLER = "controller"
    INVESTIGATOR = "investigator"
    SUPERVISOR = "supervisor"
    AGENCY_ADMIN = "agency_admin"
    PARTNER_USER = "partner_user"
    AUDITOR = "auditor"
    PROSECUTOR = "prosecutor"


P = Permission
_READ_POLE = {
    P.PERSON_READ,
    P.OBJECT_READ,
    P.LOCATION_READ,
    P.EVENT_READ,
    P.LINK_READ,
    P.MARKER_READ,
}
_WRITE_POLE = {
    P.PERSON_WRITE,
    P.OBJECT_WRITE,
    P.LOCATION_WRITE,
    P.EVENT_WRITE,
    P.LINK_WRITE,
    P.MARKER_WRITE,
}
_EVERYONE = {P.VOCAB_READ, P.AGENCY_READ, P.SELF}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OFFICER: frozenset(_EVERYONE | _READ_POLE | _WRITE_POLE | {P.SYNC}),
    # Control rooms grade and share incidents; they read everything but change only events
    # and places, the parts of a record an incident owns.
    Role.CONTROLLER: frozenset(
        _EVERYONE | _READ_POLE | {P.EVENT_WRITE, P.LOCATION_WRITE, P.RECORD_SHARE}
    ),
    Role.INVESTIGATOR: frozenset(
        _EVERYONE | _READ_POLE | _WRITE_POLE | {P.RECORD_SHARE, P.RECORD_RESTRICT, P.SYNC}
    ),
    Role.SUPERVISOR: frozenset(
        _EVERYONE
        | _READ_POLE
        | _WRITE_POLE
        | {
            P.RECORD_DELETE,
            P.RECORD_SHARE,
            P.RECORD_RESTRICT,
            P.USER_READ,
            P.DEVICE_READ,
            P.DEVICE_REVOKE,
            P.SYNC,
        }
    ),
    # Administrators run accounts, devices and code mappings; they do not read personal data.
    Role.AGENCY_ADMIN: frozenset(
        _EVERYONE
        | {
            P.USER_READ,
            P.USER_ADMIN,
            P.DEVICE_READ,
            P.DEVICE_REVOKE,
            P.VOCAB_MAP,
            P.RECORD_IMPORT,
        }
    ),
    Role.PARTNER_USER: frozenset(_EVERYONE | {P.SHARED_READ}),
    Role.AUDITOR: frozenset(_EVERYONE | {P.AUDIT_READ, P.AUDIT_SIGN, P.USER_READ}),
    Role.PROSECUTOR: frozenset(_EVERYONE | {P.SHARED_READ}),
}


def permissions_of(roles: frozenset[Role] | set[Role] | list[Role]) -> frozenset[Permission]:
    """The union of what ``roles`` grant."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


class AgencyType(StrEnum):
    """What an agency is: a police force, or one of its partners."""

    POLICE = "police"
    FIRE = "fire"
    AMBULANCE = "ambulance"
    LOCAL_AUTHORITY = "local_authority"
    PROSECUTOR = "prosecutor"


PARTNER_ROLES: frozenset[Role] = frozenset({Role.PARTNER_USER, Role.PROSECUTOR})
"""The roles of a partner agency's users, who see only what a force shares with them."""


def roles_of_agency(agency_type: str) -> frozenset[Role]:
    """The roles a user of an agency of ``agency_type`` may hold: the partner roles in a
    partner agency, every other role in a police force (a force's user holding a partner role
    would read shares meant for a partner)."""
    if agency_type == AgencyType.POLICE:
        return frozenset(Role) - PARTNER_ROLES
    return PARTNER_ROLES


class Classification(StrEnum):
    """Government Security Classifications, in rising order, as far as Bluelight holds them."""

    OFFICIAL = "OFFICIAL"
    OFFICIAL_SENSITIVE = "OFFICIAL-SENSITIVE"

    @property
    def rank(self) -> int:
        return CLASSIFICATION_ORDER.index(self)


CLASSIFICATION_ORDER = (Classification.OFFICIAL, Classification.OFFICIAL_SENSITIVE)


def classifications_up_to(clearance: Classification) -> tuple[Classification, ...]:
    """The classifications a user cleared to ``clearance`` may see."""
    return CLASSIFICATION_ORDER[: clearance.rank + 1]


class ShareLevel(StrEnum):
    """How much of a shared record a partner agency sees, in rising order."""

    LOCATION = "location"
    OPERATIONAL = "operational"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class Actor:
    """The person (and device) a request acts for."""

    user_id: str
    username: str
    agency: str
    permissions: frozenset[Permission]
    device_id: str | None = None
    clearance: Classification = Classification.OFFICIAL_SENSITIVE
    session_id: str | None = None
    roles: frozenset[Role] = frozenset()

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions

    def cleared_for(self, classification: str) -> bool:
        return Classification(classification).rank <= self.clearance.rank


def system_actor(agency: str) -> Actor:
    """The actor for work the platform does itself (migrations, demo loads, imports by CLI)."""
    return Actor("system", "system", agency, ALL_PERMISSIONS, device_id="cli")
