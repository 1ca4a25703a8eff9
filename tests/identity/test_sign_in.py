"""Signing in through the API: password, then a TOTP code or a recovery code.

Enrolment on the first sign-in, codes that work once, lockout after repeated failures (and
its release), one answer for every password failure, and credentials too large or malformed
to be worth hashing.
"""

from __future__ import annotations

import re
import statistics
import time
import uuid
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from litestar.testing import TestClient

from bluelight.db import Database
from bluelight.identity.services import sign_in
from factories import API, TEST_PASSWORD, assert_problem, make_user, row_counts

# The fixtures of this folder (tests/identity/conftest.py) are typed Any here: a conftest is
# not a module to import from.
Clock = Door = Trail = Any

RECOVERY_CODE = re.compile(r"^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$")
WRONG_PASSWORD = "not the password at all"
SECRET = re.compile(r"^[A-Z2-7]{16,}$")


def test_first_sign_in_enrols_a_second_factor_and_shows_recovery_codes_once(
    door: Door, anonymous: TestClient[Any]
) -> None:
    # Given a user an administrator has just made, with no second factor yet
    make_user(anonymous.app, "pc.enrol", ["officer"])

    # When they sign in with their password
    first = door.start("pc.enrol")

    # Then they are asked to enrol: a secret, its otpauth URI and a QR code drawn as SVG
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["challenge"]
    enrolment = body["enrolment"]
    assert SECRET.match(enrolment["secret"])
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={enrolment['secret']}" in enrolment["otpauth_uri"]
    assert "issuer=Bluelight" in enrolment["otpauth_uri"]
    assert "<svg" in enrolment["qr_svg"]
    assert "<script" not in enrolment["qr_svg"].lower()

    # When they send the code their authenticator shows
    second = door.finish(body["challenge"], door.fresh_code("pc.enrol"))

    # Then a session opens, and ten recovery codes are shown, this once
    assert second.status_code == 200, second.text
    granted = second.json()
    assert granted["token_type"] == "Bearer"
    assert granted["user"]["second_factor"] is True
    codes = granted["recovery_codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(RECOVERY_CODE.match(c) for c in codes), codes
    me = anonymous.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {granted['token']}"})
    assert me.status_code == 200

    # When they sign in again with a code from their authenticator
    again = door.start("pc.enrol")
    assert again.status_code == 200, again.text
    assert again.json().get("enrolment") is None
    later = door.finish(again.json()["challenge"], door.fresh_code("pc.enrol"))

    # Then it works, and no recovery codes are shown again
    assert later.status_code == 200, later.text
    assert later.json().get("recovery_codes") is None

    # And a recovery code stands in for the authenticator, once
    with_code = door.finish(door.start("pc.enrol").json()["challenge"], codes[3])
    assert with_code.status_code == 200, with_code.text
    reused = door.finish(door.start("pc.enrol").json()["challenge"], codes[3])
    assert_problem(reused, 401, "SECOND_FACTOR_FAILED")
    # (typed in lower case and without hyphens, another one is still accepted)
    typed = codes[4].replace("-", "").lower()
    assert door.finish(door.start("pc.enrol").json()["challenge"], typed).status_code == 200


def test_a_totp_code_works_once(door: Door, clock: Clock, anonymous: TestClient[Any]) -> None:
    # Given a user who enrolled with the code of the current 30-second step
    make_user(anonymous.app, "pc.replay", ["officer"])
    door.sign_in("pc.replay")
    spent = door.code("pc.replay")

    # When the same code is sent again, with a new password step
    replay = door.finish(door.start("pc.replay").json()["challenge"], spent)

    # Then it is refused
    assert_problem(replay, 401, "SECOND_FACTOR_FAILED")

    # And the next step's code is accepted, after which the older one is refused too
    clock.advance(seconds=30)
    newer = door.code("pc.replay")
    assert door.finish(door.start("pc.replay").json()["challenge"], newer).status_code == 200
    older = door.code("pc.replay", clock.now - timedelta(seconds=30))
    assert_problem(
        door.finish(door.start("pc.replay").json()["challenge"], older),
        401,
        "SECOND_FACTOR_FAILED",
    )


def test_a_wrong_code_is_refused_and_counted(
    door: Door, anonymous: TestClient[Any], trail: Trail
) -> None:
    make_user(anonymous.app, "pc.typo", ["officer"])
    door.sign_in("pc.typo")
    start = trail.size()

    wrong = door.finish(door.start("pc.typo").json()["challenge"], "000000")

    assert_problem(wrong, 401, "SECOND_FACTOR_FAILED")
    failed = [e for e in trail.since(start) if e.tag == "identity:sign-in:failed"]
    assert len(failed) == 1
    assert failed[0].outcome == "denied"
    assert failed[0].detail == {"stage": "second-factor"}


# --- one answer for every password failure ------------------------------------------------


def _comparable(response: Any) -> tuple[int, dict[str, str], bytes]:
    headers = {k.lower(): v for k, v in response.headers.items() if k.lower() != "date"}
    return response.status_code, headers, response.content


def test_unknown_user_wrong_password_and_disabled_account_get_the_same_answer(
    door: Door, anonymous: TestClient[Any]
) -> None:
    # Given a user, and a disabled one
    make_user(anonymous.app, "pc.known", ["officer"])
    make_user(anonymous.app, "pc.gone", ["officer"])
    admin = door.headers("admin.one", ["agency_admin"])
    gone = next(
        u for u in anonymous.get(f"{API}/users", headers=admin).json() if u["username"] == "pc.gone"
    )
    disabled = anonymous.patch(
        f"{API}/users/{gone['id']}",
        json={"version": gone["version"], "disabled": True},
        headers=admin,
    )
    assert disabled.status_code == 200, disabled.text

    # When someone signs in as nobody, with a wrong password, and as the disabled user
    unknown = door.start("pc.nobody", WRONG_PASSWORD)
    wrong = door.start("pc.known", WRONG_PASSWORD)
    off = door.start("pc.gone", TEST_PASSWORD)

    # Then the three answers are the same, to the byte: status, headers and body
    assert_problem(unknown, 401, "SIGN_IN_FAILED")
    assert _comparable(unknown) == _comparable(wrong) == _comparable(off)


def test_an_unknown_user_costs_as_long_as_a_wrong_password(app_with: Any, door_on: Any) -> None:
    # Given an app that hashes passwords at the production cost (and never locks, here)
    client = app_with(password_hash_cost="standard", lockout_threshold=100)
    make_user(client.app, "pc.timed", ["officer"])
    door = door_on(client)

    def elapsed(username: str) -> float:
        began = time.perf_counter()
        response = door.start(username, WRONG_PASSWORD)
        spent = time.perf_counter() - began
        assert_problem(response, 401, "SIGN_IN_FAILED")
        return spent

    # (one of each first, so that neither pays for a first use)
    elapsed("pc.timed")
    elapsed("pc.nobody")

    # When an unknown username and a known one with a wrong password are tried in turn
    known: list[float] = []
    unknown: list[float] = []
    for _ in range(7):
        known.append(elapsed("pc.timed"))
        unknown.append(elapsed("pc.nobody"))

    # Then the two take about as long: timing does not tell which usernames exist
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2.0, (known, unknown)
    # And the time is spent hashing, not skipped (Argon2 at the standard cost is slow)
    assert statistics.median(unknown) > 0.02


# --- lockout ------------------------------------------------------------------------------


def test_five_failures_lock_the_account_until_an_administrator_releases_it(
    door: Door, anonymous: TestClient[Any], trail: Trail
) -> None:
    # Given a user and their agency's administrator
    user = make_user(anonymous.app, "pc.locked", ["officer"])
    admin = door.headers("admin.two", ["agency_admin"])
    start = trail.size()

    # When the password is wrong five times
    for _ in range(5):
        assert_problem(door.start("pc.locked", WRONG_PASSWORD), 401, "SIGN_IN_FAILED")

    # Then the account is locked, and the lock is audited once
    locks = [e for e in trail.since(start) if e.tag == "identity:user:locked"]
    assert len(locks) == 1
    assert locks[0].subject_ids == [str(user.id)]
    assert locks[0].outcome == "denied"
    assert locks[0].detail["failures"] == 5
    listed = {u["username"]: u for u in anonymous.get(f"{API}/users", headers=admin).json()}
    assert listed["pc.locked"]["locked_until"] is not None

    # And even the right password is refused, with the same answer, without checking it
    with (
        mock.patch.object(sign_in, "verify_password", wraps=sign_in.verify_password) as check,
        mock.patch.object(
            sign_in, "burn_password_check", wraps=sign_in.burn_password_check
        ) as burn,
    ):
        refused = door.start("pc.locked", TEST_PASSWORD)
    assert_problem(refused, 401, "SIGN_IN_FAILED")
    assert refused.json() == door.start("pc.nobody", WRONG_PASSWORD).json()
    check.assert_not_called()
    burn.assert_called_once()

    # When the administrator releases it
    released = anonymous.post(f"{API}/users/{user.id}/unlock", headers=admin)

    # Then the right password works again, and the release is audited
    assert released.status_code == 200, released.text
    assert released.json()["locked_until"] is None
    assert len(trail.tagged("identity:user:unlocked")) == 1
    assert door.start("pc.locked").status_code == 200


def test_failures_spread_beyond_the_window_do_not_lock(
    door: Door, clock: Clock, anonymous: TestClient[Any], trail: Trail
) -> None:
    make_user(anonymous.app, "pc.slow", ["officer"])

    # Four failures, then a fifth sixteen minutes later (the window is fifteen)
    for _ in range(4):
        door.start("pc.slow", WRONG_PASSWORD)
    clock.advance(minutes=16)
    door.start("pc.slow", WRONG_PASSWORD)

    assert trail.tagged("identity:user:locked") == []
    assert door.start("pc.slow").status_code == 200


def test_success_clears_the_failures_before_it(
    door: Door, anonymous: TestClient[Any], trail: Trail
) -> None:
    make_user(anonymous.app, "pc.forgetful", ["officer"])
    for _ in range(4):
        door.start("pc.forgetful", WRONG_PASSWORD)
    door.sign_in("pc.forgetful")

    for _ in range(4):
        door.start("pc.forgetful", WRONG_PASSWORD)

    assert trail.tagged("identity:user:locked") == []


def test_a_lock_expires_after_the_configured_time(
    app_with: Any, door_on: Any, clock: Clock
) -> None:
    # Given an app whose locks last one minute, and a user locked out
    client = app_with(lockout_minutes=1)
    make_user(client.app, "pc.patient", ["officer"])
    door = door_on(client)
    for _ in range(5):
        door.start("pc.patient", WRONG_PASSWORD)
    assert_problem(door.start("pc.patient"), 401, "SIGN_IN_FAILED")

    # When 59 seconds pass, the lock holds
    clock.advance(seconds=59)
    assert_problem(door.start("pc.patient"), 401, "SIGN_IN_FAILED")

    # When the minute is up, the right password works and the sign-in completes
    clock.advance(seconds=2)
    first = door.start("pc.patient")
    assert first.status_code == 200, first.text
    finished = door.finish(first.json()["challenge"], door.fresh_code("pc.patient"))
    assert finished.status_code == 200, finished.text


# --- credentials too big, or not credentials at all -----------------------------------------


def _sign_in_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": "pc.known",
        "password": TEST_PASSWORD,
        "device": {"id": str(uuid.uuid4()), "name": "handset"},
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"username": "u" * 65}, "LENGTH_OUT_OF_RANGE", "username"),
        ({"password": "p" * 129}, "LENGTH_OUT_OF_RANGE", "password"),
        ({"password": "p" * 900_000}, "LENGTH_OUT_OF_RANGE", "password"),
        ({"username": ""}, "LENGTH_OUT_OF_RANGE", "username"),
        ({"device": {"id": "not-a-uuid", "name": "handset"}}, "INVALID_FORMAT", "device.id"),
        ({"device": {"id": str(uuid.uuid4()), "name": "h" * 101}}, "LENGTH_OUT_OF_RANGE", None),
        ({"password": 1234567890123}, "WRONG_TYPE", "password"),
        ({"extra": "field"}, "UNKNOWN_FIELD", "extra"),
    ],
    ids=[
        "username-65",
        "password-129",
        "password-900k",
        "username-empty",
        "device-id",
        "device-name-101",
        "password-number",
        "unknown-field",
    ],
)
def test_oversized_or_malformed_credentials_are_refused_before_any_hashing(
    anonymous: TestClient[Any], db: Database, changes: dict[str, Any], code: str, field: str | None
) -> None:
    make_user(anonymous.app, "pc.known", ["officer"])
    before = row_counts(db)

    with (
        mock.patch.object(sign_in, "verify_password") as check,
        mock.patch.object(sign_in, "burn_password_check") as burn,
    ):
        response = anonymous.post(f"{API}/auth/sign-in", json=_sign_in_body(**changes))

    body = assert_problem(response, 400, code)
    if field:
        assert body["field"] == field
    check.assert_not_called()
    burn.assert_not_called()
    assert row_counts(db) == before


def test_credentials_at_the_limits_are_checked_as_usual(anonymous: TestClient[Any]) -> None:
    longest = anonymous.post(
        f"{API}/auth/sign-in", json=_sign_in_body(username="u" * 64, password="p" * 128)
    )
    assert_problem(longest, 401, "SIGN_IN_FAILED")


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b'{"username": "pc.known", "password": ', "MALFORMED_JSON"),
        (b"not json at all", "MALFORMED_JSON"),
        (b"[]", "WRONG_TYPE"),
        (b'{"username": "pc.known", "password": "correct horse battery staple"}', "MISSING_FIELD"),
        (b"", "MISSING_BODY"),
    ],
    ids=["truncated", "not-json", "array", "no-device", "empty"],
)
def test_a_malformed_sign_in_is_a_bad_request(
    anonymous: TestClient[Any], content: bytes, code: str
) -> None:
    response = anonymous.post(
        f"{API}/auth/sign-in", content=content, headers={"Content-Type": "application/json"}
    )
    body = assert_problem(response, 400, code)
    if code == "MISSING_FIELD":
        assert body["field"] == "device"


def test_a_body_larger_than_the_server_takes_is_refused_whole(
    anonymous: TestClient[Any], db: Database
) -> None:
    before = row_counts(db)
    huge = b'{"username": "pc.known", "password": "' + b"p" * 2_000_000 + b'"}'

    response = anonymous.post(
        f"{API}/auth/sign-in", content=huge, headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 413, "BODY_TOO_LARGE")
    assert row_counts(db) == before


@pytest.mark.parametrize(
    "body",
    [
        {"challenge": "c", "code": "1" * 33},
        {"challenge": "c" * 201, "code": "123456"},
        {"challenge": "", "code": "123456"},
        {"challenge": "c"},
        {"challenge": "c", "code": 123456},
    ],
    ids=["code-33", "challenge-201", "challenge-empty", "no-code", "code-number"],
)
def test_an_oversized_or_malformed_second_step_is_a_bad_request(
    anonymous: TestClient[Any], body: dict[str, Any]
) -> None:
    response = anonymous.post(f"{API}/auth/second-factor", json=body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


# --- the challenge between the steps --------------------------------------------------------


def test_an_expired_or_spent_challenge_is_refused(
    door: Door, clock: Clock, anonymous: TestClient[Any]
) -> None:
    make_user(anonymous.app, "pc.late", ["officer"])
    door.sign_in("pc.late")

    # A challenge answered after its five minutes
    late = door.start("pc.late").json()["challenge"]
    clock.advance(minutes=5, seconds=1)
    assert_problem(door.finish(late, door.fresh_code("pc.late")), 401, "CHALLENGE_INVALID")

    # A challenge answered twice (the second time with a new, valid code)
    once = door.start("pc.late").json()["challenge"]
    assert door.finish(once, door.fresh_code("pc.late")).status_code == 200
    assert_problem(door.finish(once, door.fresh_code("pc.late")), 401, "CHALLENGE_INVALID")

    # A challenge nobody was given
    assert_problem(door.finish("blc_made-up", door.fresh_code("pc.late")), 401, "CHALLENGE_INVALID")


def test_a_challenge_is_spent_by_five_wrong_codes(door: Door, anonymous: TestClient[Any]) -> None:
    make_user(anonymous.app, "pc.guesser", ["officer"])
    door.sign_in("pc.guesser")
    challenge = door.start("pc.guesser").json()["challenge"]

    for guess in ("111111", "222222", "333333", "444444", "555555"):
        assert_problem(door.finish(challenge, guess), 401, "SECOND_FACTOR_FAILED")

    assert_problem(door.finish(challenge, door.fresh_code("pc.guesser")), 401, "CHALLENGE_INVALID")


# --- the password rule, when an administrator makes a user ----------------------------------


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("eleven char", "at least 12 characters"),
        ("Password2024!", "commonly used"),
        ("P@ssw0rd2024!", "commonly used"),
        ("pc.okafor rides again", "must not contain the username"),
        ("aaaaaaaaaaaaaaaa", "one character repeated"),
    ],
    ids=["short", "common", "common-disguised", "has-username", "repeated"],
)
def test_a_weak_password_is_refused_when_a_user_is_made(
    door: Door, anonymous: TestClient[Any], db: Database, password: str, problem: str
) -> None:
    admin = door.headers("admin.three", ["agency_admin"])
    before = row_counts(db)

    response = anonymous.post(
        f"{API}/users",
        json={
            "username": "pc.okafor",
            "display_name": "PC Okafor",
            "password": password,
            "roles": ["officer"],
        },
        headers=admin,
    )

    body = assert_problem(response, 422, "WEAK_PASSWORD")
    assert any(problem in p for p in body["problems"]), body
    assert row_counts(db) == before


def test_a_good_password_makes_the_user(door: Door, anonymous: TestClient[Any]) -> None:
    admin = door.headers("admin.four", ["agency_admin"])

    response = anonymous.post(
        f"{API}/users",
        json={
            "username": "pc.okafor",
            "display_name": "PC Okafor",
            "password": "marmalade quietly orbits the viaduct",
            "roles": ["officer"],
        },
        headers=admin,
    )

    assert response.status_code == 201, response.text
    made = response.json()
    assert made["agency"] == "DEMO"
    assert made["second_factor"] is False
    assert "marmalade" not in response.text
    assert "argon2" not in response.text
    assert door.start("pc.okafor", "marmalade quietly orbits the viaduct").status_code == 200
