"""Every piece of cryptography Bluelight does, in one place.

Passwords (Argon2id), opaque tokens (256 random bits, stored as SHA-256), TOTP second factors
(RFC 6238), recovery codes, Ed25519 signatures for audit tree heads, and AES-GCM sealing of
secrets kept in the database. Functions take plain values; they never read settings.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import argon2
import pyotp
import segno
from argon2.exceptions import VerificationError
from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "PASSWORD_COSTS",
    "TOKEN_MAX_LENGTH",
    "TOTP_DIGITS",
    "TOTP_STEP_SECONDS",
    "KeyFileError",
    "SealError",
    "SecretBox",
    "SigningKey",
    "burn_password_check",
    "hash_password",
    "load_or_create_signing_key",
    "mint_token",
    "new_recovery_codes",
    "new_totp_secret",
    "normalise_recovery_code",
    "password_needs_rehash",
    "qr_svg",
    "recovery_code_digest",
    "token_digest",
    "totp_code",
    "totp_match",
    "totp_uri",
    "verify_password",
    "verify_signature",
]

# --- passwords ----------------------------------------------------------------------------

PASSWORD_COSTS = ("standard", "fast")


@cache
def _hasher(cost: str) -> argon2.PasswordHasher:
    if cost == "standard":
        return argon2.PasswordHasher.from_parameters(argon2.profiles.RFC_9106_LOW_MEMORY)
    if cost == "fast":
        # Tests hash thousands of passwords; settings refuse this cost outside them.
        return argon2.PasswordHasher(
            time_cost=1, memory_cost=1024, parallelism=1, type=argon2.Type.ID
        )
    msg = f"unknown password hash cost {cost!r}: expected one of {', '.join(PASSWORD_COSTS)}"
    raise ValueError(msg)


def hash_password(password: str, *, cost: str = "standard") -> str:
    """An Argon2id hash of ``password`` in the PHC string format (``$argon2id$…``).

    Args:
        password: the password, already accepted by the password policy.
        cost: ``"standard"`` (RFC 9106's low-memory profile: 64 MiB, 3 passes, 4 lanes) or
            ``"fast"`` (tests only).

    Raises:
        ValueError: ``cost`` is not one of ``PASSWORD_COSTS``, or ``password`` holds lone
            surrogates and so cannot be encoded as UTF-8.
    """
    return _hasher(cost).hash(password)


def verify_password(stored_hash: str, password: str, *, cost: str = "standard") -> bool:
    """Whether ``password`` matches ``stored_hash``.

    A wrong password, a malformed or foreign hash and a password that cannot be encoded all
    give False; the hash's own parameters decide the work done, whatever ``cost`` says.

    Raises:
        ValueError: ``cost`` is not one of ``PASSWORD_COSTS``.
    """
    hasher = _hasher(cost)
    try:
        return hasher.verify(stored_hash, password)
    # InvalidHashError and UnicodeEncodeError are ValueErrors; mismatches VerificationErrors.
    except (VerificationError, ValueError):
        return False


def password_needs_rehash(stored_hash: str, *, cost: str = "standard") -> bool:
    """Whether ``stored_hash`` was made with other parameters than ``cost`` now uses.

    Call it after a successful sign-in, when the password is at hand to hash again. A hash
    that cannot be parsed needs replacing too, so it gives True.

    Raises:
        ValueError: ``cost`` is not one of ``PASSWORD_COSTS``.
    """
    hasher = _hasher(cost)
    try:
        return hasher.check_needs_rehash(stored_hash)
    except ValueError:
        return True


@cache
def _dummy_hash(cost: str) -> str:
    return hash_password(secrets.token_urlsafe(16), cost=cost)


def burn_password_check(password: str, *, cost: str = "standard") -> None:
    """Spend what checking ``password`` against a real account costs, and learn nothing.

    Sign-in calls it for an unknown username, so that answering "no such user" takes as long
    as "wrong password" and the timing does not reveal which usernames exist.

    Raises:
        ValueError: ``cost`` is not one of ``PASSWORD_COSTS``.
    """
    verify_password(_dummy_hash(cost), password, cost=cost)


# --- tokens -------------------------------------------------------------------------------

TOKEN_MAX_LENGTH = 200


def mint_token(prefix: str) -> str:
    """A new opaque token: ``prefix``, an underscore and 256 random bits in base64url.

    The prefix says what the token is for and lets secret scanners recognise a leaked one.
    """
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> bytes:
    """The SHA-256 digest of ``token``, the form in which the server stores it.

    256 random bits cannot be guessed, so no slow hash is needed, and an exact digest lets the
    server find a token with one index lookup.
    """
    return hashlib.sha256(token.encode("utf-8")).digest()


# --- TOTP (RFC 6238) ----------------------------------------------------------------------

# Six digits, 30 seconds and HMAC-SHA-1: the only parameters every authenticator app honours.
TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS)


def _step(at: datetime) -> int:
    if at.tzinfo is None:
        # A naive time would be read as the server's local time and shift every code.
        msg = "TOTP needs a timezone-aware time"
        raise ValueError(msg)
    return int(at.timestamp()) // TOTP_STEP_SECONDS


def new_totp_secret() -> str:
    """A fresh TOTP secret: 160 random bits (RFC 4226's recommendation) in base32."""
    return pyotp.random_base32(32)


def totp_code(secret: str, at: datetime) -> str:
    """The six-digit code an authenticator app shows for ``secret`` at time ``at``.

    Raises:
        ValueError: ``at`` is naive, or ``secret`` is not base32.
    """
    return _totp(secret).generate_otp(_step(at))


def totp_match(
    secret: str, code: str, at: datetime, *, last_step: int | None, window: int = 1
) -> int | None:
    """The time step whose code ``code`` is, if it may be accepted at ``at``.

    A code is accepted for a step within ``window`` steps either side of ``at`` (clock drift,
    slow typing) and only after ``last_step``, the step of the last code accepted: a code
    therefore works once, and an older one cannot be replayed after a newer one. Store the
    returned step as the new ``last_step``.

    Args:
        secret: the user's base32 TOTP secret.
        code: what the user typed; spaces are ignored, anything but six ASCII digits fails.
        at: the time of the attempt, timezone-aware.
        last_step: the step of the last accepted code, or None if none was ever accepted.
        window: how many steps either side of ``at`` to accept.

    Returns:
        The matching step (Unix time // 30), or None when the code does not match.

    Raises:
        ValueError: ``at`` is naive, ``window`` is negative, or ``secret`` is not base32.
    """
    if window < 0:
        msg = "the TOTP window cannot be negative"
        raise ValueError(msg)
    now = _step(at)
    typed = "".join(code.split())
    if len(typed) != TOTP_DIGITS or not typed.isascii() or not typed.isdigit():
        return None
    totp = _totp(secret)
    found: int | None = None
    for step in range(now - window, now + window + 1):
        # Every candidate is computed and compared in constant time, so the time taken does
        # not tell an attacker which step (if any) was close.
        matches = hmac.compare_digest(totp.generate_otp(step), typed)
        if matches and (last_step is None or step > last_step):
            found = step
    return found


def totp_uri(secret: str, *, account: str, issuer: str) -> str:
    """The ``otpauth://totp/…`` URI an authenticator app reads to enrol ``secret``."""
    return _totp(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(data: str) -> str:
    """``data`` as a QR code in inline SVG (``<svg …>``, no XML declaration).

    The server draws it, so the TOTP secret inside never reaches a third-party QR service.
    """
    # A full QR symbol (authenticator apps do not read Micro QR), level M, and the four-module
    # quiet zone ISO/IEC 18004 asks for.
    qr = segno.make_qr(data, error="m", boost_error=False)
    return qr.svg_inline(scale=5, border=4, dark="#000", light="#fff", title="QR code")


# --- recovery codes -----------------------------------------------------------------------

_BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
_RECOVERY_LENGTH = 16
# 0, 1 and 8 are not base32, so reading them as O, I and B accepts a misread code without
# making any two real codes equal.
_RECOVERY_CONFUSIONS = str.maketrans({"0": "O", "1": "I", "8": "B"})


def new_recovery_codes(count: int = 10) -> list[str]:
    """``count`` fresh one-time codes of 80 random bits, shown as ``XXXX-XXXX-XXXX-XXXX``."""
    codes = []
    for _ in range(count):
        raw = base64.b32encode(secrets.token_bytes(10)).decode("ascii")
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    return codes


def normalise_recovery_code(text: str) -> str | None:
    """A typed recovery code in canonical form (16 upper-case base32 characters).

    Case, spaces and hyphens are ignored, and 0, 1 and 8 are read as O, I and B.

    Returns:
        The canonical code, or None if ``text`` cannot be a recovery code.
    """
    if len(text) > 4 * _RECOVERY_LENGTH:
        return None
    raw = "".join(text.split()).replace("-", "").upper().translate(_RECOVERY_CONFUSIONS)
    if len(raw) != _RECOVERY_LENGTH or not _BASE32.issuperset(raw):
        return None
    return raw


def recovery_code_digest(code: str) -> bytes:
    """The SHA-256 digest of a recovery code's canonical form, the form the server stores.

    80 random bits are beyond guessing at any rate a server allows, so a fast hash is enough,
    and an exact digest can be found with one index lookup.

    Raises:
        ValueError: ``code`` is not a recovery code.
    """
    canonical = normalise_recovery_code(code)
    if canonical is None:
        msg = "not a recovery code"
        raise ValueError(msg)
    return hashlib.sha256(canonical.encode("ascii")).digest()


# --- keys on disk -------------------------------------------------------------------------


class KeyFileError(ValueError):
    """A key file that exists but does not hold the key it should."""


def _write_new(path: Path, data: bytes) -> None:
    """Write a key file durably, readable by its owner only, never over an existing one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # link(), unlike replace(), refuses to overwrite: if another worker made the key in the
        # meantime, theirs is kept and loaded, so the two never use different keys.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An Ed25519 private key, which signs the audit trail's tree heads."""

    private: Ed25519PrivateKey

    def public_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def key_id(self) -> str:
        """A short name for the key: the first 16 hex digits of SHA-256(public key)."""
        return hashlib.sha256(self.public_bytes()).hexdigest()[:16]

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return self.private.sign(message)


def load_or_create_signing_key(path: Path) -> SigningKey:
    """The Ed25519 key in ``path`` (unencrypted PKCS#8 PEM), made there on first use.

    A new key file is written atomically with mode 0600; an existing one is never replaced.

    Raises:
        KeyFileError: the file exists but does not hold an unencrypted Ed25519 private key.
        OSError: the file or its folder cannot be read or written.
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
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        msg = f"{path} does not hold an unencrypted PEM private key"
        raise KeyFileError(msg) from exc
    if not isinstance(key, Ed25519PrivateKey):
        msg = f"{path} holds a {type(key).__name__}, not an Ed25519 private key"
        raise KeyFileError(msg)
    return SigningKey(key)


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the Ed25519 signature of ``message`` by ``public_key`` (raw 32
    bytes); False, never an exception, for a malformed key or signature."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# --- secrets at rest ----------------------------------------------------------------------


class SealError(ValueError):
    """A sealed value that was tampered with, is malformed, or belongs elsewhere."""


_SEAL_VERSION = "v1."
_SEAL_BODY = re.compile(r"[A-Za-z0-9_-]+")
_SECRET_KEY_BYTES = 32
_NONCE_BYTES = 12


class SecretBox:
    """AES-256-GCM under a key kept in a file, for secrets the database holds (TOTP secrets).

    A stolen database alone does not give the secrets away, and each sealed value is bound to
    a context (the row and field it belongs to), so it cannot be copied to another one.
    """

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        """A box that seals with ``key``.

        Raises:
            ValueError: ``key`` is not 32 bytes.
        """
        if len(key) != _SECRET_KEY_BYTES:
            msg = f"a SecretBox key is {_SECRET_KEY_BYTES} bytes"
            raise ValueError(msg)
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    @classmethod
    def load_or_create(cls, path: Path) -> SecretBox:
        """The box whose 32-byte key is in ``path``, the key made there on first use.

        A new key file is written atomically with mode 0600; an existing one is never replaced.

        Raises:
            KeyFileError: the file exists but is not 32 bytes long.
            OSError: the file or its folder cannot be read or written.
        """
        if not path.exists():
            _write_new(path, AESGCM.generate_key(bit_length=8 * _SECRET_KEY_BYTES))
        key = path.read_bytes()
        if len(key) != _SECRET_KEY_BYTES:
            msg = f"{path} holds {len(key)} bytes, not a {_SECRET_KEY_BYTES}-byte key"
            raise KeyFileError(msg)
        return cls(key)

    def seal(self, plaintext: str, *, context: str) -> str:
        """``plaintext`` encrypted and bound to ``context``, as ``v1.`` + base64url.

        The same ``context`` must be given to open it: use one naming the row and field it is
        stored in (``totp:<user id>``).
        """
        # 96 random bits per nonce: safe for far more values than one key will ever seal.
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        return _SEAL_VERSION + body

    def open(self, sealed: str, *, context: str) -> str:
        """The plaintext that ``sealed`` holds.

        Raises:
            SealError: ``sealed`` is malformed, was changed, was sealed under another key or
                for another context.
        """
        body = sealed.removeprefix(_SEAL_VERSION)
        if body == sealed or not _SEAL_BODY.fullmatch(body):
            msg = "not a sealed value"
            raise SealError(msg)
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plaintext = self._aead.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode("utf-8")
            )
            return plaintext.decode("utf-8")
        except (binascii.Error, InvalidTag, ValueError) as exc:
            msg = "the sealed value does not open: changed, or sealed elsewhere"
            raise SealError(msg) from exc
