"""Errors of identity: sign-in, tokens, users, agencies and devices."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from bluelight.kernel.errors import BluelightError


class IdentityErrorCode(StrEnum):
    # Sign-in. One code for every password-stage failure, so an answer never tells an
    # unknown username from a wrong password or a locked account.
    SIGN_IN_FAILED = "SIGN_IN_FAILED"
    SECOND_FACTOR_FAILED = "SECOND_FACTOR_FAILED"
    CHALLENGE_INVALID = "CHALLENGE_INVALID"
    # Tokens, on every request.
    AUTH_REQUIRED = "AUTH_REQUIRED"
    TOKEN_INVALID = "TOKEN_INVALID"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_REVOKED = "TOKEN_REVOKED"
    DEVICE_REVOKED = "DEVICE_REVOKED"
    # Administration.
    DEVICE_NOT_ALLOWED = "DEVICE_NOT_ALLOWED"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    INVALID_USERNAME = "INVALID_USERNAME"
    AGENCY_EXISTS = "AGENCY_EXISTS"
    AGENCY_NOT_FOUND = "AGENCY_NOT_FOUND"
    USER_NOT_FOUND = "USER_NOT_FOUND"
    DEVICE_NOT_FOUND = "DEVICE_NOT_FOUND"
    ROLE_NOT_GRANTABLE = "ROLE_NOT_GRANTABLE"
    OTHER_AGENCY = "OTHER_AGENCY"
    LAST_ADMINISTRATOR = "LAST_ADMINISTRATOR"
    VERSION_CONFLICT = "VERSION_CONFLICT"


class IdentityError(BluelightError):
    """A sign-in, a token or an administrative change that is refused."""

    statuses: ClassVar[dict[str, int]] = {
        IdentityErrorCode.SIGN_IN_FAILED: 401,
        IdentityErrorCode.SECOND_FACTOR_FAILED: 401,
        IdentityErrorCode.CHALLENGE_INVALID: 401,
        IdentityErrorCode.AUTH_REQUIRED: 401,
        IdentityErrorCode.TOKEN_INVALID: 401,
        IdentityErrorCode.TOKEN_EXPIRED: 401,
        IdentityErrorCode.TOKEN_REVOKED: 401,
        IdentityErrorCode.DEVICE_REVOKED: 401,
        IdentityErrorCode.DEVICE_NOT_ALLOWED: 403,
        IdentityErrorCode.WEAK_PASSWORD: 422,
        IdentityErrorCode.USERNAME_TAKEN: 409,
        IdentityErrorCode.INVALID_USERNAME: 422,
        IdentityErrorCode.AGENCY_EXISTS: 409,
        IdentityErrorCode.AGENCY_NOT_FOUND: 404,
        IdentityErrorCode.USER_NOT_FOUND: 404,
        IdentityErrorCode.DEVICE_NOT_FOUND: 404,
        IdentityErrorCode.ROLE_NOT_GRANTABLE: 403,
        IdentityErrorCode.OTHER_AGENCY: 403,
        IdentityErrorCode.LAST_ADMINISTRATOR: 409,
        IdentityErrorCode.VERSION_CONFLICT: 409,
    }
    # Refusals of access, audited as denied attempts: acting on another agency's accounts,
    # and handing out a role or a permission beyond what the giver may give.
    refusals: ClassVar[frozenset[str]] = frozenset(
        {IdentityErrorCode.OTHER_AGENCY, IdentityErrorCode.ROLE_NOT_GRANTABLE}
    )
