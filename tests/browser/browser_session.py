"""Accounts and signing in through the back office page, as a person does it.

A user made through the services has no second factor: their first sign-in in the page
enrols one (the test reads the key the page shows, as a person types it into an app), and
later sign-ins take the next code of that "phone".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec
from playwright.sync_api import Page, expect

from bluelight.db import Database
from bluelight.identity import queries as identity_queries
from bluelight.identity import services as identity
from bluelight.identity import system_actor
from bluelight.identity.schemas import AgencyCreate, UserCreate
from bluelight.identity.services import IdentityPolicy
from bluelight.kernel.crypto import totp_code
from factories import EVERY_ROLE, FORCE, TEST_PASSWORD

CODE_FIELD = "6-digit code from your authenticator app"


@dataclass(frozen=True)
class Account:
    """A user as an administrator made them: no second factor until the first sign-in."""

    id: str
    username: str
    password: str
    display_name: str


def make_account(
    db: Database,
    policy: IdentityPolicy,
    username: str = "test.supervisor",
    roles: tuple[str, ...] = EVERY_ROLE,
    *,
    agency: str = FORCE,
) -> Account:
    """Add ``username`` to ``agency`` (made if need be) through the services."""
    actor = system_actor(agency)
    if agency not in {a.code for a in identity_queries.list_agencies(db)}:
        identity.create_agency(
            db,
            msgspec.convert(
                {"code": agency, "name": f"{agency} agency", "type": "police"}, AgencyCreate
            ),
            actor=actor,
        )
    display_name = username.replace(".", " ").title()
    user = identity.create_user(
        db,
        policy,
        msgspec.convert(
            {
                "username": username,
                "display_name": display_name,
                "password": TEST_PASSWORD,
                "roles": list(roles),
                "agency": agency,
            },
            UserCreate,
        ),
        actor=actor,
    )
    return Account(str(user.id), username, TEST_PASSWORD, display_name)


@dataclass
class Phone:
    """The user's authenticator app: it keeps each enrolled secret and never shows one code
    twice (the server refuses a code it has accepted before)."""

    secrets: dict[str, str] = field(default_factory=dict)
    last_step: dict[str, int] = field(default_factory=dict)
    recovery_codes: dict[str, list[str]] = field(default_factory=dict)

    def code(self, username: str) -> str:
        """The next code the app would show that the server has not yet accepted."""
        step = max(int(time.time()) // 30, self.last_step.get(username, -1) + 1)
        # The server accepts one step either side of now; wait if two were spent already.
        while step - int(time.time()) // 30 > 1:
            time.sleep(0.2)
        self.last_step[username] = step
        return totp_code(self.secrets[username], datetime.fromtimestamp(step * 30, UTC))


def give_reason(page: Page, reason: str = "Investigation of an offence", text: str = "") -> None:
    """Choose the reason for the checks that follow, with its free text."""
    page.get_by_label("Reason", exact=True).select_option(label=reason)
    page.get_by_label("Details").fill(text or "Crime ref 26/1234")


class SignIn:
    """Signs an account in through the page, fast: password, then (enrolling on the first
    sign-in, and confirming the recovery codes) a code from the phone."""

    def __init__(self, phone: Phone, account: Account) -> None:
        self.phone = phone
        self.account = account

    def password_step(self, page: Page, account: Account | None = None) -> bool:
        """Open the page and send username and password; return whether it asks to enrol."""
        who = account or self.account
        page.goto("/")
        page.get_by_label("Username").fill(who.username)
        page.get_by_label("Password").fill(who.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_label(CODE_FIELD)).to_be_visible()
        secret = page.locator("#totp-secret")
        if not secret.is_visible():
            return False
        self.phone.secrets[who.username] = secret.inner_text().replace(" ", "")
        return True

    def save_recovery_codes(self, page: Page, account: Account | None = None) -> list[str]:
        """Note the recovery codes shown once, confirm they are saved, and carry on."""
        who = account or self.account
        codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
        expect(codes).to_have_count(10)
        self.phone.recovery_codes[who.username] = codes.all_inner_texts()
        page.get_by_label("I have saved these recovery codes").check()
        page.get_by_role("button", name="Continue").click()
        return self.phone.recovery_codes[who.username]

    def __call__(self, page: Page, account: Account | None = None, *, reason: bool = True) -> None:
        """Sign in and wait for the workspace; with ``reason``, give one for checks."""
        who = account or self.account
        enrolling = self.password_step(page, who)
        page.get_by_label(CODE_FIELD).fill(self.phone.code(who.username))
        page.get_by_role("button", name="Verify").click()
        if enrolling:
            self.save_recovery_codes(page, who)
        expect(page.get_by_role("heading", name="Search records")).to_be_visible()
        expect(page.get_by_label("Reason", exact=True)).to_be_focused()
        # The page has said who is signed in, and filled the sync panel if it shows one: the
        # requests of signing in are over, so none of them meets what the test does next.
        expect(page.locator("#who")).to_contain_text(who.username)
        if page.locator("#devices").is_visible():
            expect(page.locator("#devices-list")).not_to_be_empty()
        if reason:
            give_reason(page)
