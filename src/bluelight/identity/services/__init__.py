"""Identity's write use cases, one module per job: sign-in, sessions, users, devices and
agencies. Each function is one transaction with its audit entry inside."""

from bluelight.identity.policy import IdentityPolicy, identity_policy
from bluelight.identity.services.agencies import create_agency
from bluelight.identity.services.devices import revoke_device
from bluelight.identity.services.sessions import (
    MAX_TOKENS_PER_LOOKUP,
    authenticate,
    authenticate_many,
    regenerate_recovery_codes,
    sign_out,
)
from bluelight.identity.services.sign_in import ISSUER, finish_sign_in, start_sign_in
from bluelight.identity.services.users import change_user, create_user, reset_user, unlock_user

__all__ = [
    "ISSUER",
    "MAX_TOKENS_PER_LOOKUP",
    "IdentityPolicy",
    "authenticate",
    "authenticate_many",
    "change_user",
    "create_agency",
    "create_user",
    "finish_sign_in",
    "identity_policy",
    "regenerate_recovery_codes",
    "reset_user",
    "revoke_device",
    "sign_out",
    "start_sign_in",
    "unlock_user",
]
