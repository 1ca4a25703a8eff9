"""The password rule: long enough, not too long, and not a common password in disguise.

Length over complexity (NCSC guidance, NIST SP 800-63B): at least 12 characters, at most 128
(a longer one is refused before hashing, so Argon2 is never asked to hash megabytes), not
containing the username, not one character repeated or a run along the keyboard, and not on
the bundled list of common passwords, even with digits or symbols around it or letters swapped
for look-alikes ("P@ssw0rd2024!"). No rules about character classes: they make passwords
harder to remember, not to guess.
"""

from __future__ import annotations

import gzip
import string
import unicodedata
from functools import cache
from importlib import resources

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128

# Shorter fragments ("abc", "12") are everywhere in good passphrases; refusing them would
# refuse almost everything.
_MIN_CORE = 4
_EDGE = string.digits + string.punctuation + string.whitespace
# "1" stands for "l" as often as for "i", so both readings are tried.
_LOOKALIKES = (
    str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s", "7": "t"}),
    str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s", "7": "t"}),
)
# Runs people type as a "long" password; each is doubled so a run may wrap (…7890123…).
_RUNS = tuple(
    run * 2
    for run in (
        string.ascii_lowercase,
        string.digits,
        "1234567890",
        "qwertyuiop",
        "asdfghjkl",
        "zxcvbnm",
        "qwertyuiopasdfghjklzxcvbnm",
        "1234567890qwertyuiop",
        "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    )
)
# A password that repeats a unit this short ("abcabcabcabc") is as weak as one character.
_MAX_TRIVIAL_UNIT = 4


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, case-folded (read once, on first use)."""
    data = resources.files("bluelight.identity").joinpath("data", "common-passwords.txt.gz")
    text = gzip.decompress(data.read_bytes()).decode("utf-8")
    return frozenset(
        stripped.casefold() for line in text.splitlines() if (stripped := line.strip())
    )


def _fold(text: str) -> str:
    # NFKC makes full-width and other compatibility forms compare as the plain letters they show.
    return unicodedata.normalize("NFKC", text).casefold()


def _cores(folded: str) -> set[str]:
    """What ``folded`` may be hiding: itself, without its decoration, with look-alikes undone."""
    # Decoration and look-alikes overlap ("$" is an "s" in "$unshine1", "1" an "l" in "1ove"),
    # so the core is tried with the edges cut before undoing the look-alikes, and after.
    starts = {
        0,
        len(folded) - len(folded.lstrip(string.digits)),
        len(folded) - len(folded.lstrip(_EDGE)),
    }
    ends = {len(folded), len(folded.rstrip(string.digits)), len(folded.rstrip(_EDGE))}
    cores = {folded, folded.strip(_EDGE)}
    for start in starts:
        for end in ends:
            piece = folded[start:end]
            cores.update(piece.translate(table).strip(_EDGE) for table in _LOOKALIKES)
    return {core for core in cores if len(core) >= _MIN_CORE}


def _is_run(folded: str) -> bool:
    return any(folded in run or folded in run[::-1] for run in _RUNS)


def _unit(folded: str) -> str:
    """The shortest piece that ``folded`` repeats at least twice ("secretsecret" → "secret"),
    or ``folded`` itself."""
    for size in range(1, len(folded) // 2 + 1):
        unit = folded[:size]
        if (unit * (len(folded) // size + 1))[: len(folded)] == folded:
            return unit
    return folded


def password_problems(password: str, *, username: str) -> list[str]:
    """Why ``password`` may not be used, in words to show the user; empty when it may.

    Args:
        password: the new password, exactly as typed.
        username: the account's username, which the password must not contain.

    Returns:
        One sentence per problem. An over-long password gets only that problem: it is refused
        before any other check looks at it.
    """
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"A password can be at most {MAX_PASSWORD_LENGTH} characters long."]
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters; "
            "three or four random words make a good one."
        )
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        problems.append("A password cannot contain unpaired surrogate characters.")
        return problems
    folded = _fold(password)
    unit = _unit(folded)
    cores = _cores(folded) | _cores(unit)
    name = _fold(username.strip())
    if len(name) >= _MIN_CORE and any(name in core for core in cores):
        problems.append("A password must not contain the username.")
    if (unit != folded and len(unit) <= _MAX_TRIVIAL_UNIT) or _is_run(unit):
        problems.append("A password must not be one character repeated or a simple sequence.")
    elif cores & common_passwords():
        problems.append(
            "This is a commonly used password, or one with only a few changes; "
            "choose something less predictable."
        )
    return problems
