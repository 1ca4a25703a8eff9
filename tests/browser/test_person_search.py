"""Searching persons by date of birth, alone or with a name, in the back office page."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlparse

from accessibility import assert_accessible
from browser_session import SignIn
from playwright.sync_api import Page, Request, expect
from seeding import seed_person

from bluelight.db import Database


def test_a_date_of_birth_narrows_a_name_search_or_searches_alone(
    page: Page, db: Database, sign_in: SignIn
) -> None:
    # Given two Chidi Okafors born apart, and someone else born on the first one's birthday
    seed_person(db, "Okafor", "Chidi", date_of_birth=date(1988, 4, 2))
    seed_person(db, "Okafor", "Chidi", date_of_birth=date(1990, 1, 1))
    seed_person(db, "Adams", "Bo", date_of_birth=date(1988, 4, 2))
    sent: list[dict[str, list[str]]] = []

    def note(request: Request) -> None:
        if "/api/v1/persons?" in request.url:
            sent.append(parse_qs(urlparse(request.url).query))

    page.on("request", note)
    sign_in(page)
    results = page.locator("#results")
    dob = page.get_by_label("Date of birth")

    # When the user searches the name with a date of birth typed day/month/year
    page.get_by_label("Family name").fill("okafor")
    dob.fill("2/4/1988")
    page.get_by_role("button", name="Search persons").click()

    # Then only the Okafor born that day is found, and the date went as the API's filter
    expect(results).to_contain_text("1 person found.")
    expect(results.get_by_role("row", name=re.compile("OKAFOR, Chidi"))).to_contain_text(
        "2 Apr 1988"
    )
    expect(results).to_contain_text("date of birth 2 Apr 1988")
    assert_accessible(page, "person search by name and date of birth")
    assert sent[-1]["date_of_birth"] == ["1988-04-02"]
    assert sent[-1]["family_name"] == ["okafor"]

    # When they search by the date of birth alone, typed as eight digits
    page.get_by_label("Family name").fill("")
    dob.fill("02041988")
    dob.press("Enter")

    # Then everyone born that day is found, whatever their name
    expect(results).to_contain_text("2 persons found.")
    expect(results).to_contain_text("ADAMS, Bo")
    expect(results).to_contain_text("OKAFOR, Chidi")
    assert "family_name" not in sent[-1]
    assert sent[-1]["date_of_birth"] == ["1988-04-02"]

    # When the date is not a day that exists
    searches = len(sent)
    dob.fill("31/2/1988")
    page.get_by_role("button", name="Search persons").click()

    # Then the page says how to write it, on the field, and sends nothing
    expect(page.get_by_role("alert")).to_contain_text("Enter the date of birth as day, month")
    expect(dob).to_be_focused()
    expect(dob).to_have_attribute("aria-invalid", "true")
    assert len(sent) == searches

    # and with neither a family name nor a date of birth, it asks for one of them
    dob.fill("")
    page.get_by_label("Given names").fill("Chidi")
    page.get_by_role("button", name="Search persons").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter a family name or a date of birth")
    expect(page.get_by_label("Family name")).to_be_focused()
    assert len(sent) == searches
