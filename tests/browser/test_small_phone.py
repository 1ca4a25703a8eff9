"""The back office on a small phone (360 by 640 px), as an officer uses it at the roadside: what
matters most (warning markers, the date of birth that tells two people apart) shows first."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from accessibility import assert_accessible
from browser_session import SignIn, make_account
from playwright.sync_api import Page, expect
from seeding import seed, seed_person

from bluelight.db import Database
from bluelight.identity.services import IdentityPolicy

SMALL_PHONE = {"width": 360, "height": 640}


def in_view(page: Page, selector: str) -> bool:
    """Whether the whole of ``selector`` lies inside the viewport as it stands (no scrolling)."""
    return bool(
        page.locator(selector).evaluate(
            """el => {
                const r = el.getBoundingClientRect();
                return r.top >= 0 && r.bottom <= window.innerHeight && window.scrollY === 0;
            }"""
        )
    )


def test_on_a_small_phone_the_reason_folds_away_and_the_warning_markers_show_at_once(
    page: Page, db: Database, sign_in: SignIn, policy: IdentityPolicy
) -> None:
    # Given a person with two warning markers and two addresses
    person = seed_person(db, "Brennan", "Siobhan Marie", date_of_birth=date(1979, 11, 30))
    review = datetime.now(UTC).date() + timedelta(days=90)
    for marker, detail in (("FI", "Believed to keep a shotgun at home"), ("VI", "")):
        seed(
            db,
            "marker",
            subject_type="person",
            subject_id=person.id,
            marker=marker,
            detail=detail or None,
            review_date=review,
        )
    for number in ("12", "14"):
        home = seed(db, "location", premises=number, street="Elm Street", town="Nottingham")
        seed(
            db,
            "link",
            link_type="resides-at",
            from_type="person",
            from_id=person.id,
            to_type="location",
            to_id=home.id,
        )
    officer = make_account(db, policy, "test.officer", ("officer",))

    # When an officer on a small phone gives a reason, finds the person and opens the record
    page.set_viewport_size(SMALL_PHONE)
    sign_in(page, officer)
    page.get_by_label("Family name").fill("Brennan")
    page.get_by_role("button", name="Search persons").click()
    page.get_by_role("link", name="BRENNAN, Siobhan Marie").click()
    title = page.locator("#record").get_by_role("heading", level=2)
    expect(title).to_be_focused()

    # Then the reason folds to one line that says what it is, with a way to change it
    expect(page.locator("#reason-form")).to_be_hidden()
    summary = page.locator("#reason-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text(
        re.compile(r"Reason: Investigation of an offence.*Crime ref 26/1234")
    )
    change = summary.get_by_role("button", name="Change reason")
    expect(change).to_have_attribute("aria-expanded", "false")
    # and the warning markers, both of them, show without scrolling
    markers = page.get_by_role("region", name=re.compile("Warning markers"))
    expect(markers).to_contain_text("Firearms")
    expect(markers).to_contain_text("Violent")
    assert in_view(page, ".markers"), "the warning markers are below the fold"
    assert_accessible(page, "person record, reason folded")

    # When the officer changes the reason
    change.click()

    # Then the reason opens again, as they left it, with focus on its choice
    expect(page.locator("#reason-form")).to_be_visible()
    expect(page.get_by_label("Reason", exact=True)).to_be_focused()
    expect(page.get_by_label("Details")).to_have_value("Crime ref 26/1234")
    expect(summary).to_be_hidden()


def test_on_a_small_phone_two_people_of_one_name_are_told_apart_in_the_results(
    page: Page, db: Database, sign_in: SignIn
) -> None:
    # Given two men called John Smith, born apart and living apart, one of them marked
    older = seed_person(db, "Smith", "John", date_of_birth=date(1961, 7, 14))
    younger = seed_person(db, "Smith", "John", date_of_birth=date(1994, 2, 3))
    seed(
        db,
        "marker",
        subject_type="person",
        subject_id=younger.id,
        marker="DA",
        review_date=datetime.now(UTC).date() + timedelta(days=30),
    )
    for person, street in ((older, "Abbey Road"), (younger, "Mansfield Road")):
        home = seed(db, "location", premises="3", street=street, town="Nottingham")
        seed(
            db,
            "link",
            link_type="resides-at",
            from_type="person",
            from_id=person.id,
            to_type="location",
            to_id=home.id,
        )

    # When an officer on a small phone searches the name
    page.set_viewport_size(SMALL_PHONE)
    sign_in(page)
    page.get_by_label("Family name").fill("Smith")
    page.get_by_label("Given names").fill("John")
    page.get_by_role("button", name="Search persons").click()
    expect(page.locator("#results")).to_contain_text("2 persons found.")

    # Then each result shows, on screen and labelled, what tells the two apart: the date of
    # birth, the warnings and the address
    for born, warning, street in (
        ("14 Jul 1961", "None", "3 Abbey Road"),
        ("3 Feb 1994", "Domestic abuse", "3 Mansfield Road"),
    ):
        result = page.get_by_role("row", name=re.compile(re.escape(born)))
        expect(result.get_by_role("link", name="SMITH, John")).to_be_visible()
        for label, value in (("Born", born), ("Warnings", warning), ("Address", street)):
            cell = result.get_by_role("cell", name=re.compile(re.escape(value)))
            expect(cell).to_be_visible()
            expect(cell.get_by_text(label, exact=True)).to_be_visible()
            box = cell.bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= SMALL_PHONE["width"], (label, box)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page, "person results, two of one name")


def test_on_a_small_phone_the_results_come_into_view_after_a_search(
    page: Page, db: Database, sign_in: SignIn, policy: IdentityPolicy
) -> None:
    # Given a person on record, and an officer on a small phone
    seed_person(db, "Nowak", "Anna", date_of_birth=date(1990, 5, 17))
    officer = make_account(db, policy, "test.officer", ("officer",))
    page.set_viewport_size(SMALL_PHONE)
    sign_in(page, officer)

    # When they type the name and press Enter (Go, on a phone's keyboard) in the field, at the
    # top of the form that fills the screen, so the results start below it
    page.get_by_label("Family name").fill("Nowak")
    page.get_by_label("Family name").press("Enter")

    # Then the reason, used, folds to one line, and the results are brought into view, with
    # focus on how many were found (so a phone's keyboard closes and a screen reader says it)
    summary = page.locator("#results .results__summary")
    expect(summary).to_have_text("1 person found.")
    expect(page.locator("#reason-summary")).to_be_visible()
    expect(summary).to_be_focused()
    first = page.get_by_role("row", name=re.compile("NOWAK, Anna"))
    for shown in (summary, first):
        assert shown.evaluate(
            "el => { const r = el.getBoundingClientRect();"
            " return r.top >= 0 && r.bottom <= window.innerHeight; }"
        ), "the results are off screen"
