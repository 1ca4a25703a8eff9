"""The password rule: long enough, not too long, and not a common password in disguise.

Length over complexity (NCSC and NIST SP 800-63B): at least 12 characters, at most 128 (a
longer one is refused before hashing, so Argon2 is never asked to hash megabytes), not the
username, and not on the bundled list of common passwords, even with digits or symbols
around it or letters swapped for look-alikes ("P@ssw0rd2024!").
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
_MIN_CORE = 4
_LOOKALIKES = str.maketrans(
    {"0": "o", "1": "l", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s", "7": "t", "!": "i"}
)
_EDGE = "0123456789!@#$%^&*()-_=+[]{};:'\",.<>/?\\|`~ "
_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm")


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list, lower-cased."""
    data = resources.files("bluelight.identity").joinpath("data/common-passwords.txt.gz")
    text = gzip.decompress(data.read_bytes()).decode("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def _cores(password: str) -> set[str]:
    lowered = password.lower()
    stripped = lowered.strip(_EDGE)
    cores = {lowered, stripped, lowered.translate(_LOOKALIKES), stripped.translate(_LOOKALIKES)}
    cores.add(lowered.translate(_LOOKALIKES).strip(_EDGE))
    return {c for c in cores if len(c) >= _MIN_CORE}


def _trivial(password: str) -> bool:
    lowered = password.lower()
    if len(set(lowered)) <= 2:  # noqa: PLR2004  (aaaa…, abab…)
        return True
    return any(lowered in seq or lowered in seq[::-1] for seq in _SEQUENCES)


def password_problems(password: str, *, username: str) -> list[str]:
    """Why ``password`` is refused; empty when it is acceptable."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"a password is at most {MAX_PASSWORD_LENGTH} characters"]
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters: try three or four "
            "random words"
        )
    name = username.strip().lower()
    if len(name) >= _MIN_CORE and name in password.lower():
        problems.append("a password must not contain the username")
    if _trivial(password):
        problems.append("a password must not be one repeated character or a simple sequence")
    elif _cores(password) & common_passwords():
        problems.append("this is a commonly used password (or one with a few changes)")
    return problems
