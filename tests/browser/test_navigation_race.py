"""Navigating while parts of a record are still loading.

``test_vehicle_search_finds_a_mark_typed_with_spaces_and_lower_case`` once failed in CI: after
"Back to search" was clicked, the record stayed on screen. The click had landed, but not on
the link: the record's linked records were still loading, so the header showed its progress
spinner, which on a phone took a row of its own; the answer came between the mouse's press
and its release, the spinner went, everything below the header moved up 24 px, and the
release fell below the link. A click whose press and release land on different elements
follows no link. An officer tapping a moving page misses the same way. These tests press
and release around the moment loading ends, and check that a late answer never moves or
replaces the screen the user is on.
"""

from __future__ import annotations

from browser_session import SignIn
from playwright.sync_api import Page, Route, expect
from seeding import seed

from bluelight.db import Database


def open_vehicle_holding(page: Page, sign_in: SignIn, db: Database, pattern: str) -> list[Route]:
    """Sign in, find AB12 CDE and open it, holding every request matching ``pattern``."""
    seed(db, "vehicle", vrm="AB12CDE", make="FORD", model="Focus")
    sign_in(page)
    page.get_by_role("radio", name="Vehicles").check()
    page.get_by_label("Registration mark").fill("AB12CDE")
    page.get_by_role("button", name="Search vehicles").click()
    expect(page.get_by_role("link", name="AB12 CDE")).to_be_visible()
    held: list[Route] = []

    def hold(route: Route) -> None:  # Playwright routes to a function, not a bound builtin
        held.append(route)

    page.route(pattern, hold)
    page.get_by_role("link", name="AB12 CDE").click()
    return held


def idle(page: Page) -> None:
    """Wait until no request is running."""
    expect(page.locator("main")).to_have_attribute("aria-busy", "false")


def test_back_to_search_works_when_loading_ends_mid_click(
    page: Page, db: Database, sign_in: SignIn
) -> None:
    # Given a vehicle's record on screen whose linked records are still on their way
    held = open_vehicle_holding(page, sign_in, db, "**/api/v1/links?*")
    title = page.locator("#record").get_by_role("heading", level=2)
    expect(title).to_have_text("AB12 CDE")
    expect(page.locator("#progress")).to_be_visible()
    back = page.get_by_role("link", name="Back to search")
    box = back.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    # When the user presses on "Back to search", the linked records arrive, and they let go
    page.mouse.move(x, y)
    page.mouse.down()
    assert len(held) == 2
    for route in held:
        route.continue_()
    idle(page)
    page.mouse.up()

    # Then the link was followed: the search is back, with focus on the vehicle opened
    expect(page.locator("#record")).to_be_hidden()
    expect(page.get_by_role("link", name="AB12 CDE")).to_be_focused()


def test_nothing_moves_when_background_loading_ends(
    page: Page, db: Database, sign_in: SignIn
) -> None:
    # Given a record on screen while its linked records load, the spinner showing
    held = open_vehicle_holding(page, sign_in, db, "**/api/v1/links?*")
    expect(page.locator("#record").get_by_role("heading", level=2)).to_have_text("AB12 CDE")
    expect(page.locator("#progress")).to_be_visible()
    before = page.locator("#record").bounding_box()

    # When the loading ends
    for route in held:
        route.continue_()
    idle(page)

    # Then the spinner is gone and the record has not moved
    expect(page.locator("#progress")).to_be_hidden()
    assert page.locator("#record").bounding_box() == before


def test_going_back_before_a_record_arrives_keeps_the_search_on_screen(
    page: Page, db: Database, sign_in: SignIn
) -> None:
    # Given a vehicle found by a search, whose record the server is slow to send
    held = open_vehicle_holding(page, sign_in, db, "**/api/v1/vehicles/*")
    expect(page.locator("#record")).to_contain_text("Loading vehicle")

    # When the user goes back to the search before it arrives
    page.get_by_role("link", name="Back to search").click()
    result = page.get_by_role("link", name="AB12 CDE")
    expect(result).to_be_focused()
    # and only then does the record arrive
    assert len(held) == 1
    with page.expect_response("**/api/v1/vehicles/*"):
        held[0].continue_()
    idle(page)

    # Then the search stays on screen, with focus where the user left it
    expect(page.locator("#record")).to_be_hidden()
    expect(page.locator("#search")).to_be_visible()
    expect(result).to_be_focused()
    expect(page.locator("#record")).to_be_empty()
