"""Every piece of cryptography Bluelight does, in one place.

Passwords (Argon2id), opaque tokens (256 random bits, stored as SHA-256), TOTP second factors
(RFC 6238), recovery codes, Ed25519 signatures for audit tree heads, and AES-GCM sealing of
secrets kept in the database. Functions take plain values; they never read settings.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import argon2
import pyotp
import segno
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# --- passwords ----------------------------------------------------------------------------


@cache
def _hasher(cost: str) -> argon2.PasswordHasher:
    if cost == "fast":
        # For tests only: settings refuse it in production.
        return argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return argon2.PasswordHasher.from_parameters(argon2.profiles.RFC_9106_LOW_MEMORY)


def hash_password(password: str, *, cost: str = "standard") -> str:
    """An Argon2id hash of ``password``."""
    return _hasher(cost).hash(password)


def verify_password(stored_hash: str, password: str, *, cost: str = "standard") -> bool:
    """Whether ``password`` matches ``stored_hash``; False, never an exception, otherwise."""
    try:
        return _hasher(cost).verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored_hash: str, *, cost: str = "standard") -> bool:
    return _hasher(cost).check_needs_rehash(stored_hash)


@cache
def _dummy_hash(cost: str) -> str:
    return hash_password(secrets.token_urlsafe(16), cost=cost)


def burn_password_check(password: str, *, cost: str = "standard") -> None:
    """Spend what a real check costs, so an unknown username answers as slowly as a wrong
    password and the timing tells nothing."""
    verify_password(_dummy_hash(cost), password, cost=cost)


# --- tokens -------------------------------------------------------------------------------

TOKEN_MAX_LENGTH = 200


def mint_token(prefix: str) -> str:
    """A new opaque token: ``prefix_`` and 256 random bits (the prefix lets scanners spot a
    leaked one)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> bytes:
    """SHA-256 of a token: 256 random bits need no slow hash, and the digest is an index key."""
    return hashlib.sha256(token.encode()).digest()


# --- TOTP (RFC 6238) ----------------------------------------------------------------------

TOTP_STEP = 30
TOTP_DIGITS = 6


def new_totp_secret() -> str:
    """A base32 secret of 160 bits, as RFC 4226 recommends."""
    return pyotp.random_base32(32)


def totp_code(secret: str, at: datetime) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP).at(at)


def totp_match(
    secret: str, code: str, at: datetime, *, last_step: int | None, window: int = 1
) -> int | None:
    """The time step ``code`` belongs to, within ``window`` steps of ``at`` and after
    ``last_step`` (so a code works once); None if there is none."""
    code = code.replace(" ", "")
    if len(code) != TOTP_DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP)
    now_step = int(at.timestamp()) // TOTP_STEP
    found: int | None = None
    for step in range(now_step - window, now_step + window + 1):
        # Compare every candidate, so the time taken does not depend on which one matched.
        if hmac.compare_digest(totp.generate_otp(step), code) and (
            last_step is None or step > last_step
        ):
            found = step
    return found


def totp_uri(secret: str, *, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP).provisioning_uri(
        name=account, issuer_name=issuer
    )


def qr_svg(data: str) -> str:
    """``data`` as an inline SVG QR code, drawn by the server (no third party sees it)."""
    return str(
        segno.make(data, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")
    )


# --- recovery codes -----------------------------------------------------------------------

_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_RECOVERY_LENGTH = 16


def new_recovery_codes(count: int = 10) -> list[str]:
    """One-time codes of 80 random bits, shown as ``XXXX-XXXX-XXXX-XXXX``."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_BASE32) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    return codes


def normalise_recovery_code(text: str) -> str | None:
    """A typed recovery code without spaces or hyphens, upper-cased; None if it cannot be one."""
    raw = text.replace("-", "").replace(" ", "").upper()
    if len(raw) != _RECOVERY_LENGTH or any(c not in _BASE32 for c in raw):
        return None
    return raw


def recovery_code_digest(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()


# --- keys on disk -------------------------------------------------------------------------


class KeyFileError(ValueError):
    """A key file that exists but does not hold the key it should."""


def _write_new(path: Path, data: bytes) -> None:
    """Write a key file atomically, readable by its owner only, never over an existing one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # link() fails if the key appeared meanwhile (another worker made it): keep theirs.
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        Path(tmp).unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An Ed25519 private key."""

    private: Ed25519PrivateKey

    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.public_bytes()).hexdigest()[:16]

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def load_or_create_signing_key(path: Path) -> SigningKey:
    """The Ed25519 key at ``path`` (PEM), made on first use.

    Raises:
        KeyFileError: the file exists but is not an Ed25519 private key.
    """
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_new(path, pem)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        msg = f"{path} is not a PEM private key"
        raise KeyFileError(msg) from exc
    if not isinstance(key, Ed25519PrivateKey):
        msg = f"{path} holds a key that is not Ed25519"
        raise KeyFileError(msg)
    return SigningKey(key)


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# --- secrets at rest ----------------------------------------------------------------------


class SealError(ValueError):
    """A sealed value that was tampered with, is malformed, or belongs elsewhere."""


_SEAL_PREFIX = "v1."
_NONCE = 12


class SecretBox:
    """AES-256-GCM with a key file, for secrets the database keeps (TOTP secrets)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def load_or_create(cls, path: Path) -> SecretBox:
        """The key at ``path``, made on first use.

        Raises:
            KeyFileError: the file is not a 32-byte key.
        """
        if not path.exists():
            _write_new(path, AESGCM.generate_key(bit_length=256))
        key = path.read_bytes()
        if len(key) != 32:  # noqa: PLR2004  (AES-256)
            msg = f"{path} is not a 32-byte key"
            raise KeyFileError(msg)
        return cls(key)

    def seal(self, plaintext: str, *, context: str) -> str:
        """Encrypt ``plaintext``, bound to ``context`` so it cannot be moved elsewhere."""
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return _SEAL_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open(self, sealed: str, *, context: str) -> str:
        """The plaintext of ``sealed``.

        Raises:
            SealError: tampered, malformed, or sealed for another context.
        """
        if not sealed.startswith(_SEAL_PREFIX):
            msg = "not a sealed value"
            raise SealError(msg)
        body = sealed[len(_SEAL_PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], context.encode()).decode()
        except (ValueError, InvalidTag) as exc:
            msg = "the sealed value does not open"
            raise SealError(msg) from exc
