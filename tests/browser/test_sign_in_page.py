"""Signing in to the back office in Chromium: password, a TOTP second factor (enrolled on the
first sign-in, with recovery codes), signing out, and what happens when the server ends a
session or revokes the device.
"""

from __future__ import annotations

import re
import uuid

import httpx
import msgspec
from accessibility import assert_accessible
from browser_session import CODE_FIELD, Account, Phone, SignIn
from playwright.sync_api import Page, expect

from bluelight.db import Database
from bluelight.identity import queries as identity_queries
from bluelight.identity import services as identity
from bluelight.identity import system_actor
from bluelight.identity.schemas import UserChange
from bluelight.identity.services import ISSUER
from bluelight.kernel.crypto import qr_svg, totp_uri

SMALL_PHONE = {"width": 360, "height": 740}
RECOVERY_CODE = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$")


def fits(page: Page) -> bool:
    """Whether the page fits its width (nothing to scroll sideways)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def qr_paths(svg_markup: str) -> list[str]:
    return re.findall(r'<path[^>]* d="([^"]+)"', svg_markup)


def test_first_sign_in_enrols_the_authenticator_and_later_ones_need_a_fresh_code(
    page: Page, db: Database, account: Account, phone: Phone, server: str
) -> None:
    # Given a new user, on a small phone, at the sign-in page
    page.set_viewport_size(SMALL_PHONE)
    page.goto("/")
    username = page.get_by_label("Username")
    password = page.get_by_label("Password")
    expect(username).to_have_attribute("autocomplete", "username")
    expect(password).to_have_attribute("autocomplete", "current-password")
    assert_accessible(page, "sign-in")

    # When they give username and password (from the keyboard)
    username.fill(account.username)
    password.fill(account.password)
    password.press("Enter")

    # Then they are asked to set up an authenticator: a QR code drawn by the server, for this
    # user's secret, and the same secret as text to type
    heading = page.get_by_role("heading", name="Set up your authenticator app")
    expect(heading).to_be_focused()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret)
    qr = page.get_by_role("img", name="QR code to scan with your authenticator app")
    expect(qr).to_be_visible()
    assert qr.evaluate("el => el.namespaceURI") == "http://www.w3.org/2000/svg"
    box = qr.bounding_box()
    assert box is not None
    assert box["width"] >= 150
    expected = qr_svg(totp_uri(secret, account=account.username, issuer=ISSUER))
    drawn = qr.locator("path").evaluate_all("ps => ps.map(p => p.getAttribute('d'))")
    assert drawn == qr_paths(expected)
    code = page.get_by_label(CODE_FIELD)
    expect(code).to_have_attribute("inputmode", "numeric")
    expect(code).to_have_attribute("autocomplete", "one-time-code")
    # (a recovery code cannot stand in for a factor being set up)
    expect(page.get_by_role("button", name="Use a recovery code instead")).to_be_hidden()
    assert fits(page)
    assert_accessible(page, "enrolment")

    # When they type the code their new authenticator shows
    phone.secrets[account.username] = secret
    first_code = phone.code(account.username)
    code.fill(first_code)
    page.get_by_role("button", name="Verify").click()

    # Then their ten recovery codes are shown, once, before the workspace opens
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_focused()
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    assert all(RECOVERY_CODE.match(c) for c in codes.all_inner_texts())
    assert fits(page)
    assert_accessible(page, "recovery codes")
    # and "Continue" needs the confirmation that they are saved
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("Confirm that you have saved")
    expect(page.get_by_label("I have saved these recovery codes")).to_be_focused()
    assert page.evaluate("sessionStorage.length") == 0
    assert_accessible(page, "recovery codes not confirmed")
    page.get_by_label("I have saved these recovery codes").check()
    page.get_by_role("button", name="Continue").click()

    # Then they are signed in, named in the header, and the codes are gone from the page
    expect(
        page.get_by_text(f"Signed in as {account.display_name} ({account.username}), DEMO")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Search records")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(0)
    assert fits(page)
    assert_accessible(page, "search")
    # and the token is kept for this tab only; the browser keeps nothing but its device id,
    # which the server registered as this user's device
    token = page.evaluate("sessionStorage.getItem('bluelight.token')")
    assert token
    assert page.evaluate("Object.keys(localStorage)") == ["bluelight.device"]
    assert page.evaluate("document.cookie") == ""
    device_id = page.evaluate("localStorage.getItem('bluelight.device')")
    devices = {str(d.id): d for d in identity_queries.list_devices(db, actor=system_actor("DEMO"))}
    assert devices[device_id].last_user == account.username
    assert devices[device_id].name.endswith("(back office)")

    # When they sign out
    with page.expect_response("**/api/v1/auth/sign-out") as signed_out:
        page.get_by_role("button", name="Sign out").click()
    assert signed_out.value.status == 204

    # Then the next user starts at an empty sign-in, and the old token no longer works
    expect(page.get_by_label("Username")).to_be_focused()
    expect(page.get_by_label("Username")).to_have_value("")
    assert page.evaluate("sessionStorage.length") == 0
    assert page.evaluate("localStorage.getItem('bluelight.device')") == device_id
    refused = httpx.get(f"{server}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert refused.json()["code"] == "TOKEN_REVOKED"

    # When they sign in again, typing the code they used before
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label(CODE_FIELD)).to_be_focused()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    expect(page.locator("#enrol")).to_be_hidden()
    page.get_by_label(CODE_FIELD).fill(first_code)
    page.get_by_label(CODE_FIELD).press("Enter")

    # Then the spent code is refused in words, and they may type the next one
    expect(page.get_by_role("alert")).to_contain_text("already used")
    expect(page.get_by_label(CODE_FIELD)).to_be_focused()
    expect(page.get_by_label(CODE_FIELD)).to_have_value("")
    page.get_by_label(CODE_FIELD).fill(phone.code(account.username))
    page.get_by_label(CODE_FIELD).press("Enter")

    # and they are signed in straight away, with no recovery codes this time
    expect(page.get_by_role("heading", name="Search records")).to_be_visible()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_hidden()
    expect(page.locator("#message")).to_be_empty()


def test_a_recovery_code_signs_in_once(page: Page, sign_in: SignIn, account: Account) -> None:
    # Given a user who enrolled and saved their recovery codes, then signed out
    sign_in(page, reason=False)
    saved = sign_in.phone.recovery_codes[account.username]
    page.get_by_role("button", name="Sign out").click()

    # When they have no phone and sign in with a recovery code instead
    sign_in.password_step(page)
    page.get_by_role("button", name="Use a recovery code instead").click()
    field = page.get_by_label("Recovery code", exact=True)
    expect(field).to_be_focused()
    field.fill(saved[3])
    page.get_by_role("button", name="Verify").click()

    # Then they are signed in
    expect(page.get_by_role("heading", name="Search records")).to_be_visible()

    # When they try the same recovery code again, another day
    page.get_by_role("button", name="Sign out").click()
    sign_in.password_step(page)
    page.get_by_role("button", name="Use a recovery code instead").click()
    page.get_by_label("Recovery code", exact=True).fill(saved[3])
    page.get_by_role("button", name="Verify").click()

    # Then it is refused: each code works once
    expect(page.get_by_role("alert")).to_contain_text("not right, or was already used")
    expect(page.get_by_label("Recovery code", exact=True)).to_be_focused()
    expect(page.get_by_role("heading", name="Search records")).to_be_hidden()


def test_a_wrong_password_is_refused_in_words_like_an_unknown_user(
    page: Page, account: Account
) -> None:
    # Given the sign-in page, when a user gives a wrong password
    page.goto("/")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()

    # Then the server's reason is announced as a sentence, not as JSON
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Sign-in failed: the username, password or code is not right.")
    wrong_password = alert.inner_text()
    assert "{" not in wrong_password
    assert "SIGN_IN_FAILED" not in wrong_password
    # and they stay at step one, with the password cleared for another try
    expect(page.get_by_label("Password")).to_be_focused()
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_label(CODE_FIELD)).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    assert_accessible(page, "sign-in refused")

    # When someone tries a username that does not exist, the answer is the same
    page.get_by_label("Username").fill("no.such.user")
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Password")).to_have_value("")
    expect(alert).to_have_text(wrong_password)


def test_a_revoked_device_is_wiped_at_its_next_request(
    page: Page, db: Database, sign_in: SignIn
) -> None:
    # Given a signed-in user with a reason on screen
    sign_in(page)
    device_id = page.evaluate("localStorage.getItem('bluelight.device')")

    # When a supervisor revokes this browser as a device
    identity.revoke_device(
        db, uuid.UUID(device_id), reason="reported lost", actor=system_actor("DEMO")
    )
    # and the user next searches
    page.get_by_label("Family name").fill("Nowak")
    page.get_by_role("button", name="Search persons").click()

    # Then the page says the device was revoked and wipes everything it kept
    expect(page.get_by_role("alert")).to_contain_text("This device has been revoked")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("heading", name="Search records")).to_be_hidden()
    assert page.evaluate("[localStorage.length, sessionStorage.length]") == [0, 0]
    expect(page.locator("#results")).to_be_empty()
    expect(page.get_by_label("Details")).to_have_value("")


def test_a_session_ended_by_the_server_returns_to_sign_in_with_the_reason(
    page: Page, db: Database, sign_in: SignIn, account: Account
) -> None:
    # Given a signed-in user with a search on screen
    sign_in(page)
    page.get_by_label("Family name").fill("Nowak")
    page.get_by_role("button", name="Search persons").click()
    expect(page.locator("#results")).to_contain_text("No persons match.")
    device_id = page.evaluate("localStorage.getItem('bluelight.device')")

    # When an administrator disables the user, which ends their sessions
    version = identity_queries.find_user(db, account.username).version
    identity.change_user(
        db,
        uuid.UUID(account.id),
        msgspec.convert({"version": version, "disabled": True}, UserChange),
        actor=system_actor("DEMO"),
    )
    page.get_by_role("button", name="Search persons").click()

    # Then the next request returns them to sign-in with the reason, and the results are gone
    expect(page.get_by_role("alert")).to_have_text(
        "Your session has ended. Sign in again to carry on."
    )
    expect(page.get_by_label("Username")).to_be_focused()
    expect(page.get_by_role("heading", name="Search records")).to_be_hidden()
    expect(page.locator("#results")).to_be_empty()
    # and only the session is forgotten: the device was not revoked, so it keeps its id
    assert page.evaluate("sessionStorage.length") == 0
    assert page.evaluate("localStorage.getItem('bluelight.device')") == device_id

    # When a tab holds a token the server never issued
    page.evaluate("sessionStorage.setItem('bluelight.token', 'blc_forged')")
    page.reload()

    # Then the page opens at sign-in and says why
    expect(page.get_by_role("alert")).to_have_text(
        "Your session is no longer valid. Sign in again to carry on."
    )
    expect(page.get_by_role("heading", name="Search records")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0
