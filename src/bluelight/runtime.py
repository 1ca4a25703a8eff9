"""What the server and every command line need to start: settings, the database and keys.

The web app (``bluelight.app``) and the commands (``bluelight users …``, ``bluelight audit …``)
open the platform the same way through this module, so a command needs the database, never
the web app. It sits below the features: a feature builds its own objects (an identity
policy, a tree signer) from what this module opens.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from bluelight.db import Database, DurabilityError, durability_problems, make_engine
from bluelight.kernel.crypto import SecretBox, SigningKey, load_or_create_signing_key
from bluelight.settings import Settings

log = logging.getLogger("bluelight")

SECRETS_KEY_FILE = "secrets.key"
SIGNING_KEY_FILE = "audit-signing.pem"


def open_database(settings: Settings) -> Database:
    """The database of ``settings``, refusing, in production, one that can lose writes.

    Raises:
        DurabilityError: in production, when a setting could lose an acknowledged write.
    """
    db = Database(
        make_engine(
            settings.database_url,
            sqlite_synchronous=settings.sqlite_synchronous,
            echo=settings.sql_echo,
        )
    )
    problems = durability_problems(db.engine)
    if problems and settings.is_production:
        db.dispose()
        raise DurabilityError(
            "refusing to start: acknowledged writes could be lost.\n  " + "\n  ".join(problems)
        )
    for problem in problems:
        log.warning("durability: %s", problem)
    return db


def secrets_key_path(settings: Settings) -> Path:
    """The key that seals every user's TOTP secret (made on first use, mode 0600)."""
    return settings.keys_dir / SECRETS_KEY_FILE


def signing_key_path(settings: Settings) -> Path:
    """The Ed25519 key that signs the audit trail's tree heads (made on first use)."""
    return settings.keys_dir / SIGNING_KEY_FILE


@dataclass
class Runtime:
    """The opened platform: its settings, its database, and its keys (loaded when asked for)."""

    settings: Settings
    database: Database
    _secrets: SecretBox | None = field(default=None, repr=False)
    _signing_key: SigningKey | None = field(default=None, repr=False)

    @classmethod
    def open(cls, settings: Settings, database: Database | None = None) -> Runtime:
        """Open the database of ``settings`` (or use ``database``).

        Raises:
            DurabilityError: as ``open_database``.
        """
        return cls(settings, database or open_database(settings))

    @property
    def secrets(self) -> SecretBox:
        """The box that seals TOTP secrets.

        Raises:
            KeyFileError: the key file exists but cannot be read as a key.
        """
        if self._secrets is None:
            self._secrets = SecretBox.load_or_create(secrets_key_path(self.settings))
        return self._secrets

    @property
    def signing_key(self) -> SigningKey:
        """The key that signs audit tree heads.

        Raises:
            KeyFileError: the key file exists but cannot be read as a key.
        """
        if self._signing_key is None:
            self._signing_key = load_or_create_signing_key(signing_key_path(self.settings))
        return self._signing_key

    def close(self) -> None:
        self.database.dispose()


__all__ = [
    "DurabilityError",
    "Runtime",
    "open_database",
    "secrets_key_path",
    "signing_key_path",
]
