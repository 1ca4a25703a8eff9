"""The rules sign-in and sessions run by, taken from the platform's settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bluelight.kernel.crypto import SecretBox
from bluelight.runtime import secrets_key_path
from bluelight.settings import Settings


@dataclass(frozen=True, slots=True)
class IdentityPolicy:
    """The settings sign-in and sessions run by, and the key that seals TOTP secrets."""

    secrets: SecretBox
    password_cost: str = "standard"  # noqa: S105  (a cost, not a secret)
    idle_timeout: timedelta = timedelta(minutes=30)
    session_lifetime: timedelta = timedelta(hours=12)
    lockout_threshold: int = 5
    lockout_window: timedelta = timedelta(minutes=15)
    lockout_duration: timedelta = timedelta(minutes=15)


def identity_policy(settings: Settings, secrets: SecretBox | None = None) -> IdentityPolicy:
    """Sign-in and session rules from ``settings``, sealing TOTP secrets with ``secrets`` (by
    default the key in the data folder, made on first use).

    Raises:
        KeyFileError: the key file exists but cannot be read as a key.
    """
    return IdentityPolicy(
        secrets=secrets or SecretBox.load_or_create(secrets_key_path(settings)),
        password_cost=settings.password_hash_cost,
        idle_timeout=timedelta(minutes=settings.idle_timeout_minutes),
        session_lifetime=timedelta(hours=settings.session_lifetime_hours),
        lockout_threshold=settings.lockout_threshold,
        lockout_window=timedelta(minutes=settings.lockout_window_minutes),
        lockout_duration=timedelta(minutes=settings.lockout_minutes),
    )
