"""Boundary types of identity: sign-in, sessions, users, agencies, devices."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

from bluelight.identity.rules import AgencyType, Classification, Role

# Oversized credentials are refused before any hashing (Argon2 on megabytes is a DoS).
Username = Annotated[str, Meta(min_length=1, max_length=64)]
Password = Annotated[str, Meta(min_length=1, max_length=128)]
Code = Annotated[str, Meta(min_length=1, max_length=32)]
ChallengeToken = Annotated[str, Meta(min_length=1, max_length=200)]
# One line that people read (a user's display name, a device's name): no control character,
# line break, or the invisible characters that make text display in another order than it is
# stored (the bidirectional controls) or look like other text (zero-width spaces, the byte
# order mark). The joiners (U+200C, U+200D), which shape letters in Persian, Arabic and Indic
# names, are kept. (The look-ahead before the end: in Python, whose patterns check these,
# "$" also matches before a last line break.)
ONE_LINE = (
    r"^[^\x00-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064"
    r"\u2066-\u2069\ufeff]*(?!\n)$"
)
DeviceName = Annotated[str, Meta(min_length=1, max_length=100, pattern=ONE_LINE)]
DisplayName = Annotated[str, Meta(min_length=1, max_length=200, pattern=ONE_LINE)]
AgencyCode = Annotated[str, Meta(pattern=r"^[A-Z0-9]{2,10}$")]
ReasonText = Annotated[str, Meta(min_length=3, max_length=500)]


class DeviceInfo(Struct, kw_only=True, forbid_unknown_fields=True):
    """The device signing in: an id it made for itself once, and a name people recognise."""

    id: uuid.UUID
    name: DeviceName


class SignIn(Struct, kw_only=True, forbid_unknown_fields=True):
    username: Username
    password: Password
    device: DeviceInfo


class Enrolment(Struct, kw_only=True):
    """A new second factor to add to an authenticator app: scan the QR code, or type the
    secret."""

    secret: str
    otpauth_uri: str
    qr_svg: str


class SecondFactorDue(Struct, kw_only=True):
    """The password was right: send a code from the authenticator with this challenge."""

    challenge: str
    expires_at: datetime
    enrolment: Enrolment | None = None


class SecondFactor(Struct, kw_only=True, forbid_unknown_fields=True):
    challenge: ChallengeToken
    code: Code


class UserRead(Struct, kw_only=True):
    id: uuid.UUID
    username: str
    display_name: str
    agency: str
    roles: list[str]
    clearance: str
    second_factor: bool
    locked_until: datetime | None = None
    disabled_at: datetime | None = None
    must_change_password: bool = False
    version: int = 1


class Me(Struct, kw_only=True):
    """Who the token acts for, and what they may do."""

    user: UserRead
    permissions: list[str]
    device_id: str | None
    session_expires_at: datetime
    idle_timeout_seconds: int


class SessionGranted(Struct, kw_only=True):
    """A signed-in session. ``recovery_codes`` appear once, at enrolment: keep them safe."""

    token: str
    token_type: str
    expires_at: datetime
    idle_timeout_seconds: int
    user: UserRead
    recovery_codes: list[str] | None = None


class RecoveryCodes(Struct, kw_only=True):
    codes: list[str]


class UserCreate(Struct, kw_only=True, forbid_unknown_fields=True):
    username: Username
    display_name: DisplayName
    password: Password
    roles: Annotated[list[Role], Meta(min_length=1, max_length=8)]
    clearance: Classification = Classification.OFFICIAL_SENSITIVE
    agency: AgencyCode | None = None


class UserChange(Struct, kw_only=True, forbid_unknown_fields=True):
    version: Annotated[int, Meta(ge=1)]
    display_name: DisplayName | None = None
    roles: Annotated[list[Role], Meta(min_length=1, max_length=8)] | None = None
    clearance: Classification | None = None
    disabled: bool | None = None


class PasswordReset(Struct, kw_only=True, forbid_unknown_fields=True):
    """Set a new password; the second factor is cleared, so the user enrols again."""

    password: Password
    clear_second_factor: bool = True


class AgencyCreate(Struct, kw_only=True, forbid_unknown_fields=True):
    code: AgencyCode
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    type: AgencyType


class AgencyRead(Struct, kw_only=True):
    id: uuid.UUID
    code: str
    name: str
    type: str


class DeviceRead(Struct, kw_only=True):
    id: uuid.UUID
    agency: str
    name: str
    registered_at: datetime
    registered_by: str
    last_user: str
    last_seen_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revocation_reason: str | None = None


class DeviceRevocation(Struct, kw_only=True, forbid_unknown_fields=True):
    reason: ReasonText
