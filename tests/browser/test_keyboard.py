"""The back office with the keyboard alone: no click, no fill, no focus() from the test; only
keys, as someone who cannot use a mouse (or a pointer on a wet screen) works."""

from __future__ import annotations

import re
from datetime import date

from browser_session import Account, Phone, SignIn
from playwright.sync_api import Locator, Page, expect
from seeding import seed_person

from bluelight.db import Database

MAX_TABS = 40


def focused_is(page: Page, target: Locator) -> bool:
    return bool(target.evaluate("el => el === document.activeElement"))


def tab_to(page: Page, target: Locator, *, back: bool = False) -> None:
    """Press Tab (or Shift+Tab) until ``target`` has focus, failing if it never does; then
    check that the focus can be seen."""
    key = "Shift+Tab" if back else "Tab"
    for _ in range(MAX_TABS):
        if focused_is(page, target):
            break
        page.keyboard.press(key)
    else:
        raise AssertionError(f"{key} never reached {target}")
    assert_focus_visible(page)


def assert_focus_visible(page: Page) -> None:
    """The focused element draws a focus indicator (an outline or a ring)."""
    style = page.evaluate(
        """() => {
            const s = getComputedStyle(document.activeElement);
            return {outline: s.outlineStyle, width: s.outlineWidth, ring: s.boxShadow};
        }"""
    )
    visible = (style["outline"] != "none" and style["width"] != "0px") or style["ring"] != "none"
    assert visible, f"no visible focus on {page.evaluate('document.activeElement.outerHTML')}"


def type_text(page: Page, text: str) -> None:
    page.keyboard.type(text)


def test_sign_in_search_open_a_record_go_back_and_sign_out_with_the_keyboard_alone(
    page: Page, db: Database, account: Account, phone: Phone
) -> None:
    # Given a person on record, and a new user at the sign-in page
    seed_person(db, "Okafor", "Chidi", date_of_birth=date(1988, 4, 2))
    page.goto("/")

    # When they sign in with keys alone: username, password, Enter
    tab_to(page, page.get_by_label("Username"))
    type_text(page, account.username)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    type_text(page, account.password)
    page.keyboard.press("Enter")

    # and set up their authenticator (focus lands on the step's title) and type its code
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_focused()
    phone.secrets[account.username] = page.locator("#totp-secret").inner_text().replace(" ", "")
    tab_to(page, page.get_by_label("6-digit code from your authenticator app"))
    type_text(page, phone.code(account.username))
    page.keyboard.press("Enter")

    # and confirm the recovery codes are saved: Space ticks the box, Enter continues
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_focused()
    tab_to(page, page.get_by_label("I have saved these recovery codes"))
    page.keyboard.press("Space")
    expect(page.get_by_label("I have saved these recovery codes")).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Continue"))
    page.keyboard.press("Enter")

    # Then the workspace opens with focus on the reason for checks
    reason = page.get_by_label("Reason", exact=True)
    expect(reason).to_be_focused()
    assert_focus_visible(page)

    # When they choose a reason with the arrow keys, describe it, and search a family name
    page.keyboard.press("ArrowDown")
    expect(reason).not_to_have_value("")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Details")).to_be_focused()
    type_text(page, "Crime ref 26/1234")
    tab_to(page, page.get_by_label("Family name"))
    type_text(page, "okafor")
    page.keyboard.press("Enter")

    # Then the person is found, and Tab reaches the result
    result = page.get_by_role("link", name="OKAFOR, Chidi")
    expect(result).to_be_visible()
    tab_to(page, result)

    # When they open it with Enter
    page.keyboard.press("Enter")

    # Then the record shows with focus on its title
    title = page.locator("#record").get_by_role("heading", level=2)
    expect(title).to_have_text("OKAFOR, Chidi")
    expect(title).to_be_focused()

    # When they go back to the search from the keyboard
    tab_to(page, page.get_by_role("link", name="Back to search"), back=True)
    page.keyboard.press("Enter")

    # Then the results are there again with focus on the person they had opened
    expect(result).to_be_focused()
    expect(page.locator("#record")).to_be_hidden()

    # When they sign out from the keyboard
    tab_to(page, page.get_by_role("button", name="Sign out"), back=True)
    page.keyboard.press("Enter")

    # Then they are at an empty sign-in, with focus on the username
    expect(page.get_by_label("Username")).to_be_focused()
    expect(page.get_by_role("heading", name="Search records")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0


def test_the_kind_of_search_is_chosen_with_the_arrow_keys(
    page: Page, db: Database, account: Account, phone: Phone
) -> None:
    # Given a signed-in user
    SignIn(phone, account)(page)

    # When they move from the family name back into the kinds and press the right arrow
    tab_to(page, page.get_by_role("radio", name="Persons"), back=True)
    page.keyboard.press("ArrowRight")

    # Then vehicles are chosen and their form shows, reachable by Tab
    expect(page.get_by_role("radio", name="Vehicles")).to_be_checked()
    mark = page.get_by_label("Registration mark")
    tab_to(page, mark)
    expect(page.get_by_label("Family name")).to_be_hidden()
    expect(page.get_by_role("button", name=re.compile("Search vehicles"))).to_be_visible()
