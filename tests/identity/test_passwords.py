"""The password rule: length, the username, trivial patterns and common passwords in disguise."""

from __future__ import annotations

import pytest

from bluelight.identity.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    common_passwords,
    password_problems,
)

USERNAME = "jo.bloggs"


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def _only_problem(password: str, *, username: str = USERNAME) -> str:
    problems = password_problems(password, username=username)
    assert len(problems) == 1, problems
    return problems[0]


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "wonderful-otter-kite",
        "Gentle-Badger-Rides-7",
        "vqk-plum-zed",  # exactly the minimum length
        "Tr0ub4dor&3xyz",
        "bob likes green tea",  # a username under four characters is not looked for
        "zq" + "x7-lamp-" * 15 + "kite98",  # exactly the maximum length
    ],
)
def test_a_strong_password_is_accepted(password: str) -> None:
    assert MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH

    assert password_problems(password, username="bob") == []


def test_a_password_shorter_than_twelve_characters_is_refused() -> None:
    problem = _only_problem("plum-zed-kx")

    assert "at least 12 characters" in problem


def test_a_password_longer_than_128_characters_is_refused_before_any_other_check() -> None:
    # Every other check would fail too; the length is the only reason given.
    problems = password_problems("password" * 17, username="password")

    assert problems == ["A password can be at most 128 characters long."]


@pytest.mark.parametrize(
    "password", ["my-name-is-jo.bloggs", "JO.BLOGGS-rides-again", "j0.bl0ggs-rides-again"]
)
def test_a_password_containing_the_username_is_refused(password: str) -> None:
    assert "username" in _only_problem(password)


def test_several_problems_are_all_reported() -> None:
    problems = password_problems("jo.bloggs1", username=USERNAME)

    assert len(problems) == 2
    assert any("at least 12" in p for p in problems)
    assert any("username" in p for p in problems)


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaaaaaaaa",
        "abababababab",
        "abcabcabcabc",
        "abcdefghijklmnop",
        "zyxwvutsrqponm",
        "123456789012345",
        "9876543210987",
        "qwertyuiopasdf",
        "1qaz2wsx3edc4rfv",
    ],
)
def test_a_repeated_character_or_simple_sequence_is_refused(password: str) -> None:
    assert "simple sequence" in _only_problem(password)


def test_every_listed_password_long_enough_to_pass_the_length_rule_is_refused() -> None:
    listed = sorted(p for p in common_passwords() if len(p) >= MIN_PASSWORD_LENGTH)
    assert len(listed) > 100  # the list really holds long entries to test against

    accepted = [p for p in listed if not password_problems(p, username=USERNAME)]

    assert accepted == []


@pytest.mark.parametrize(
    "password",
    [
        "Password2024!",
        "P@ssw0rd12345",
        "!!Monkey!!2024",
        "$unshine12345",
        "Il0v3y0u2020!!",
        "12345Football!",
        "Dr@g0n-1234567",
        "secretsecret",
        _full_width("Password12345"),
    ],
)
def test_a_common_password_in_disguise_is_refused(password: str) -> None:
    assert "commonly used" in _only_problem(password)


def test_the_common_password_list_is_loaded_once() -> None:
    assert common_passwords() is common_passwords()
    assert "password" in common_passwords()
    assert len(common_passwords()) > 19_000


def test_a_password_with_unpaired_surrogates_is_refused() -> None:
    assert "surrogate" in _only_problem("correct horse \ud800 staple")
