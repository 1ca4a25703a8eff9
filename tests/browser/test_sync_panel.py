"""The sync panel of the back office: those who look after the force's devices see how each
stands with sync and what was refused from it; officers do not see it at all."""

from __future__ import annotations

import uuid

import msgspec
from accessibility import assert_accessible
from browser_session import Phone, SignIn, make_account
from playwright.sync_api import Page, expect
from test_keyboard import tab_to

from bluelight.db import Database
from bluelight.identity import Actor, Role, permissions_of
from bluelight.identity.services import IdentityPolicy, finish_sign_in, start_sign_in
from bluelight.kernel import new_id, utcnow
from bluelight.kernel.crypto import totp_code
from bluelight.sync import PushBatch, push
from factories import FORCE, TEST_PASSWORD


def _officer_on_a_tablet(db: Database, policy: IdentityPolicy) -> Actor:
    """An officer signed in on a tablet of their own (which registers it)."""
    officer = make_account(db, policy, "panel.officer", ("officer",))
    tablet = uuid.uuid4()
    due = start_sign_in(
        db,
        policy,
        username=officer.username,
        password=TEST_PASSWORD,
        device_id=tablet,
        device_name="Response car 14 tablet",
    )
    assert due.enrolment is not None
    finish_sign_in(
        db, policy, challenge=due.challenge, code=totp_code(due.enrolment.secret, utcnow())
    )
    return Actor(
        officer.id,
        officer.username,
        FORCE,
        permissions_of({Role.OFFICER}),
        device_id=str(tablet),
    )


def _pushed(db: Database, actor: Actor) -> None:
    """Two operations from the tablet: a record made, and a deletion an officer may not make."""
    item = str(uuid.uuid4())
    batch = {
        "operations": [
            {"id": str(new_id()), "kind": "property", "action": "create", "record_id": item,
             "content": {"category": "BICYCLE", "description": "Red Raleigh, serial RX1"}},
            {"id": str(new_id()), "kind": "property", "action": "delete", "record_id": item,
             "base_version": 1, "content": {"reason": "entered in error"}},
        ],
        "outbox": 3,
    }  # fmt: skip
    answer = push(db, msgspec.convert(batch, PushBatch), actor=actor)
    assert [r.status for r in answer.results] == ["applied", "rejected"]


def test_an_administrator_sees_each_device_and_what_was_refused_from_it(
    page: Page, db: Database, policy: IdentityPolicy, phone: Phone
) -> None:
    # Given a tablet that pushed an officer's work, one operation of it refused
    tablet_user = _officer_on_a_tablet(db, policy)
    _pushed(db, tablet_user)
    admin = make_account(db, policy, "panel.admin", ("agency_admin",))

    # When the force's administrator signs in
    SignIn(phone, admin)(page, reason=False)

    # Then the panel shows the tablet: who used it, what is waiting on it, what was refused
    panel = page.get_by_role("region", name="Devices and sync")
    expect(panel).to_be_visible()
    devices = panel.get_by_role("table", name="devices of your force")
    tablet = devices.get_by_role("row").filter(has_text="Response car 14 tablet")
    expect(tablet).to_contain_text("panel.officer")
    expect(tablet).to_contain_text("1 operation refused")
    expect(tablet).to_contain_text("Not yet fetched")
    refused = panel.get_by_role("table", name="Refused operations, newest first")
    expect(refused).to_contain_text("delete property")
    expect(refused).to_contain_text("PERMISSION_DENIED")
    # and nothing the officer wrote
    expect(panel).not_to_contain_text("Raleigh")
    assert_accessible(page, "sync panel")

    # When the tablet syncs again and the panel is refreshed with the keyboard
    _pushed(db, tablet_user)
    tab_to(page, panel.get_by_role("button", name="Refresh"))
    page.keyboard.press("Enter")

    # Then it shows the new figures
    expect(tablet).to_contain_text("2 operations refused")


def test_an_officer_does_not_see_the_sync_panel(
    page: Page, db: Database, policy: IdentityPolicy, phone: Phone
) -> None:
    officer = make_account(db, policy, "panel.plain", ("officer",))

    SignIn(phone, officer)(page)

    expect(page.get_by_role("heading", name="Search records")).to_be_visible()
    expect(page.get_by_role("region", name="Devices and sync")).to_be_hidden()
