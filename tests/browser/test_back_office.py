"""The back office page at ``/``, driven in Chromium against the real server.

Records are seeded through the services (the server reads the same database); each test signs
in through the page with password and second factor, and gives a reason for its checks.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import msgspec
from accessibility import assert_accessible
from browser_session import SignIn, give_reason, make_account
from playwright.sync_api import Page, Route, expect
from seeding import ACTOR, WHY, seed, seed_person
from sqlalchemy import select

from bluelight.audit.models import AuditEntry
from bluelight.db import Database
from bluelight.identity.services import IdentityPolicy
from bluelight.records.kinds import BY_NAME
from bluelight.records.services import update_record
from bluelight.vocab import code_list


def search_persons(page: Page, family: str, given: str = "") -> None:
    page.get_by_label("Family name").fill(family)
    page.get_by_label("Given names").fill(given)
    page.get_by_role("button", name="Search persons").click()


def test_signing_in_and_searching_a_family_name_shows_the_person(
    page: Page, db: Database, sign_in: SignIn
) -> None:
    # Given two persons of one family and one of another
    seed_person(db, "Okafor", "Chidi", date_of_birth=date(1988, 4, 2))
    seed_person(db, "Okafor", "Adaeze")
    seed_person(db, "Smith", "John")

    # When a user signs in and searches the start of the family name and a given name
    sign_in(page)
    search_persons(page, "oka", "chi")

    # Then the one matching person is listed, with the date of birth
    results = page.locator("#results")
    expect(results).to_contain_text("1 person found.")
    row = results.get_by_role("row", name=re.compile("OKAFOR, Chidi"))
    expect(row).to_contain_text("2 Apr 1988")
    expect(results).not_to_contain_text("Adaeze")
    assert_accessible(page, "person results")
    # and the session token is held for this tab only, in no cookie, and nothing else of the
    # session is kept in the browser beyond the device id
    stored = page.evaluate(
        "[sessionStorage.length, Object.keys(localStorage), document.cookie,"
        " sessionStorage.getItem('bluelight.token')]"
    )
    assert stored[:3] == [1, ["bluelight.device"], ""]
    assert stored[3]


def test_person_view_shows_labels_warning_markers_and_addresses(
    page: Page, db: Database, sign_in: SignIn
) -> None:
    # Given a described person with a firearms marker and a home address
    person = seed_person(
        db,
        "Brennan",
        "Siobhan Marie",
        date_of_birth=date(1979, 11, 30),
        sex="F",
        build="ATHLETIC",
        eye_colour="GREEN",
        height_cm=168,
        marks=[{"type": "TATTOO", "location": "FOREHEAD", "description": "small star"}],
    )
    review = datetime.now(UTC).date() + timedelta(days=90)
    seed(
        db,
        "marker",
        subject_type="person",
        subject_id=person.id,
        marker="FI",
        detail="Believed to keep a shotgun at home",
        review_date=review,
    )
    home = seed(
        db, "location", premises="12", street="Elm Street", town="Nottingham", postcode="ng15dt"
    )
    seed(
        db,
        "link",
        link_type="resides-at",
        from_type="person",
        from_id=person.id,
        to_type="location",
        to_id=home.id,
    )

    # When the user finds the person and opens the record
    sign_in(page)
    search_persons(page, "Brennan")
    page.get_by_role("link", name="BRENNAN, Siobhan Marie").click()

    # Then the warning marker is shown by its label, with its detail and review date
    expect(page.locator("#record").get_by_role("heading", level=2)).to_have_text(
        "BRENNAN, Siobhan Marie"
    )
    markers = page.get_by_role("region", name=re.compile("Warning markers"))
    expect(markers).to_contain_text("Firearms")
    expect(markers).to_contain_text("Believed to keep a shotgun at home")
    expect(markers).to_contain_text("Review by")
    expect(markers.locator(f'time[datetime="{review.isoformat()}"]')).to_be_visible()
    # and descriptions read as code-list labels, not codes
    record = page.locator("#record")
    expect(record).to_contain_text("30 Nov 1979")
    for text in ("Female", "Athletic", "Green", "168 cm", "Tattoo — Forehead: small star"):
        expect(record).to_contain_text(text)
    # and the address, which leads to the location record
    address = record.get_by_role("link", name="12 Elm Street, Nottingham, NG1 5DT")
    expect(address).to_be_visible()
    expect(record).to_contain_text("Resides at")
    expect(record.get_by_text("No other linked records.")).to_be_visible()
    expect(page.locator("#record").get_by_role("heading", level=2)).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page, "person record")

    address.click()
    expect(page.locator("#record").get_by_role("heading", level=2)).to_have_text(
        "12 Elm Street, Nottingham, NG1 5DT"
    )
    expect(page.locator("#record")).to_contain_text("BRENNAN, Siobhan Marie")


def test_progress_shows_while_a_search_runs(page: Page, db: Database, sign_in: SignIn) -> None:
    # Given a signed-in user and a server that has not yet answered the search
    seed_person(db, "Nowak", "Anna")
    sign_in(page)
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route("**/api/v1/persons?*", hold)

    # When the search is sent
    search_persons(page, "Nowak")

    # Then the spinner shows and the page says it is busy until the answer arrives
    progress = page.locator("#progress")
    expect(progress).to_be_visible()
    expect(page.locator("main")).to_have_attribute("aria-busy", "true")
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator("#results")).to_contain_text("NOWAK, Anna")
    expect(progress).to_be_hidden()
    expect(page.locator("main")).to_have_attribute("aria-busy", "false")


def test_vehicle_search_finds_a_mark_typed_with_spaces_and_lower_case(
    page: Page, db: Database, sign_in: SignIn
) -> None:
    # Given a vehicle stored as AB12CDE
    seed(
        db,
        "vehicle",
        vrm="AB12CDE",
        make="FORD",
        model="Focus",
        colour="BLUE",
        body_type="HATCHBACK",
    )
    seed(db, "vehicle", vrm="XY99ZZZ", make="KIA")

    # When the user searches vehicles for "ab12 cde"
    sign_in(page)
    page.get_by_role("radio", name="Vehicles").check()
    mark = page.get_by_label("Registration mark")
    mark.fill(" ab12 cde ")
    mark.press("Enter")

    # Then the vehicle is found and shown with labels
    results = page.locator("#results")
    expect(results).to_contain_text("1 vehicle found.")
    expect(results).to_contain_text("Ford Focus")
    page.get_by_role("link", name="AB12 CDE").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#record").get_by_role("heading", level=2)).to_be_focused()
    record = page.locator("#record")
    for text in ("Ford", "Focus", "Blue", "Hatchback"):
        expect(record).to_contain_text(text)
    assert_accessible(page, "vehicle record")

    # and going back returns focus to the result that was opened
    page.get_by_role("link", name="Back to search").click()
    expect(page.get_by_role("link", name="AB12 CDE")).to_be_focused()


def test_event_view_shows_type_offence_narrative_and_location(
    page: Page, db: Database, sign_in: SignIn
) -> None:
    # Given a crime report at a location
    scene = seed(db, "location", name="The Old Bell", street="High Street", town="Nottingham")
    seed(
        db,
        "event",
        kind="crime",
        reference="DEMO/2026/000042",
        occurred_from=datetime(2026, 1, 9, 22, 15, tzinfo=UTC),
        incident_type="CRIME",
        qualifiers=["ALCOHOL"],
        offence="8N-01",
        narrative="Victim struck outside the pub.\nSuspect left on foot.",
        location_id=scene.id,
    )

    # When the user searches events by reference and opens it
    sign_in(page)
    page.get_by_role("radio", name="Events").check()
    page.get_by_label("Event reference").fill("DEMO/2026/000042")
    page.get_by_role("button", name="Search events").click()
    page.get_by_role("link", name="DEMO/2026/000042").click()

    # Then the type, qualifier and offence read as labels, with times, narrative and place
    record = page.locator("#record")
    for text in (
        "Crime report",
        "Crimed incident",
        "Alcohol",
        "Assault occasioning actual bodily harm",
        "Home Office code 8N",
        "9 Jan 2026, 22:15 GMT",
        "Suspect left on foot.",
    ):
        expect(record).to_contain_text(text)
    expect(record.get_by_role("link", name="The Old Bell, High Street, Nottingham")).to_be_visible()
    assert_accessible(page, "event record")


def test_history_shows_each_version_after_an_update(
    page: Page, db: Database, sign_in: SignIn
) -> None:
    # Given a person whose height was added after they were first recorded
    person = seed_person(db, "Kowalski", "Piotr")
    update_record(
        db,
        BY_NAME["person"],
        person.id,
        msgspec.convert({"version": 1, "height_cm": 181}, BY_NAME["person"].update),
        actor=ACTOR,
        why=WHY,
    )

    # When the user opens the person and asks for the history
    sign_in(page)
    search_persons(page, "Kowalski")
    page.get_by_role("link", name="KOWALSKI, Piotr").click()
    page.get_by_role("button", name="Show history").click()

    # Then both versions are listed, newest first, with what changed
    versions = page.locator(".history > li")
    expect(versions).to_have_count(2)
    expect(versions.nth(0)).to_contain_text("Version 2")
    expect(versions.nth(0)).to_contain_text("Height cm")
    expect(versions.nth(0)).to_contain_text("— → 181")
    expect(versions.nth(1)).to_contain_text("Version 1")
    expect(versions.nth(1)).to_contain_text("First recorded.")
    expect(page.get_by_role("button", name="Hide history")).to_have_attribute(
        "aria-expanded", "true"
    )
    assert_accessible(page, "record history")


def test_load_more_continues_the_search_from_the_next_cursor(
    page: Page, db: Database, sign_in: SignIn
) -> None:
    # Given more persons of one family than a page holds
    for i in range(30):
        seed_person(db, "Patel", f"Given{i:02d}")

    # When the user searches the family and asks for more
    sign_in(page)
    search_persons(page, "Patel")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(25)
    expect(page.locator("#results")).to_contain_text("25 persons shown; more match.")
    page.get_by_role("button", name="Load more").click()

    # Then the rest follow, focus moves to the first new one, and there is no more to load
    expect(rows).to_have_count(30)
    expect(page.locator("#results")).to_contain_text("30 persons found.")
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    expect(rows.nth(25).get_by_role("link")).to_be_focused()
    names = rows.locator("th").all_inner_texts()
    assert len(set(names)) == 30


def test_markup_in_a_record_is_shown_as_text(page: Page, db: Database, sign_in: SignIn) -> None:
    # Given a person whose recorded name and marker detail hold markup
    hostile = "<img src=x onerror=alert(1)>"
    person = seed_person(db, hostile, "<b>bold</b>")
    seed(
        db,
        "marker",
        subject_type="person",
        subject_id=person.id,
        marker="VI",
        detail="<script>alert(2)</script>",
        review_date=datetime.now(UTC).date() + timedelta(days=30),
    )

    # When the user finds and opens the person
    sign_in(page)
    search_persons(page, "<img")
    link = page.get_by_role("link", name=f"{hostile.upper()}, <b>bold</b>")
    expect(link).to_be_visible()
    link.click()

    # Then the markup is shown as text and no element was made from it (no dialog opened)
    expect(page.locator("#record").get_by_role("heading", level=2)).to_have_text(
        f"{hostile.upper()}, <b>bold</b>"
    )
    expect(page.locator("#record")).to_contain_text("<script>alert(2)</script>")
    expect(page.locator("#record")).to_contain_text(hostile)
    assert page.locator("main img, main b, main script").count() == 0


def test_page_names_the_force_and_shows_the_public_no_developer_links(page: Page) -> None:
    # Given the page before sign-in, as anyone who finds it sees it
    page.goto("/")

    # Then it names itself and the force, and links nothing that does not exist
    expect(page.get_by_role("heading", level=1)).to_have_text("Bluelight — back office")
    hrefs = page.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert not [h for h in hrefs if h.startswith(("/officer", "/control", "/public"))]
    expect(page.get_by_role("contentinfo")).to_contain_text("Bluelight")
    expect(page.locator("#force")).to_have_text("Force: DEMO")
    assert page.evaluate("document.documentElement.dataset.ready") == "true"
    # and no developer links: the sign-in screen is for the force's people, not integrators
    expect(page.get_by_role("link", name="API docs")).to_have_count(0)
    expect(page.get_by_role("link", name="OpenAPI")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Developer links")).to_be_hidden()
    # and every static file it uses is served by Bluelight itself
    for path in ("/static/js/app.js", "/static/css/site.css", "/static/favicon.svg"):
        response = page.request.get(path)
        assert response.ok, path
    assert "javascript" in page.request.get("/static/js/api.js").headers["content-type"]


def test_developer_links_show_only_to_users_whose_work_is_done_through_the_api(
    page: Page, db: Database, sign_in: SignIn, policy: IdentityPolicy
) -> None:
    # Given an officer and an agency administrator
    officer = make_account(db, policy, "test.officer", ("officer",))
    admin = make_account(db, policy, "test.admin", ("agency_admin",))
    docs = page.get_by_role("link", name="API docs")
    openapi = page.get_by_role("link", name="OpenAPI")

    # When the officer signs in
    sign_in(page, officer)

    # Then the header shows them no developer links
    expect(page.get_by_text("Signed in as Test Officer")).to_be_visible()
    expect(docs).to_have_count(0)
    expect(openapi).to_have_count(0)

    # When the administrator signs in instead (they manage accounts, code mappings and imports
    # through the API)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, admin, reason=False)

    # Then the API documentation and the OpenAPI document are linked from the header
    expect(docs).to_have_attribute("href", "/api/docs")
    expect(openapi).to_have_attribute("href", "/api/v1/openapi.json")
    expect(docs).to_be_visible()

    # and gone again once they sign out
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_focused()
    expect(docs).to_have_count(0)


def test_a_person_check_asks_for_a_reason_and_sends_it_to_the_audit_trail(
    page: Page, db: Database, sign_in: SignIn
) -> None:
    # Given a person on record and a signed-in user who has not yet given a reason
    person = seed_person(db, "Nowak", "Anna")
    sign_in(page, reason=False)
    sent: list[dict[str, str]] = []
    page.on(
        "request",
        lambda r: sent.append(r.headers) if "/api/v1/persons?" in r.url else None,
    )
    # (the choices are the active entries of the national access-reason list)
    reasons = code_list("access-reason")
    active = [e.label for e in reasons.entries if e.active]
    choices = page.get_by_label("Reason", exact=True).locator("option").all_inner_texts()
    assert choices == ["Choose a reason", *active]

    # When they search persons without one
    search_persons(page, "Nowak")

    # Then the page asks for the reason first and sends nothing
    expect(page.get_by_role("alert")).to_contain_text("Choose the reason for this check")
    expect(page.get_by_label("Reason", exact=True)).to_be_focused()
    expect(page.get_by_label("Reason", exact=True)).to_have_attribute("aria-invalid", "true")
    # and a reason without its details is not enough
    page.get_by_label("Reason", exact=True).select_option(label="Stop, search or street encounter")
    page.get_by_role("button", name="Search persons").click()
    expect(page.get_by_role("alert")).to_contain_text("Describe the reason")
    expect(page.get_by_label("Details")).to_be_focused()
    assert sent == []

    # When they describe it (in words no header can carry as they are) and search
    text = "Stop at Café Nero — ref 26/77"
    page.get_by_label("Details").fill(text)
    page.get_by_role("button", name="Search persons").click()

    # Then the person is found, and the reason travelled with the check
    expect(page.locator("#results")).to_contain_text("NOWAK, Anna")
    expect(page.locator("#message")).to_be_empty()
    assert len(sent) == 1
    assert sent[0]["x-bluelight-reason"] == "STOP-SEARCH"
    assert sent[0]["x-bluelight-reason-text"] == quote(text, safe="-_.!~*'()")
    # and the audit trail holds it, decoded, against this person
    with db.read() as session:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.tag == "records:person:listed")
        ).scalar_one()
        assert (entry.reason_code, entry.reason_text) == ("STOP-SEARCH", text)
        assert entry.subject_ids == [str(person.id)]


def test_a_record_opened_without_a_reason_says_why_and_opens_once_one_is_given(
    page: Page, db: Database, sign_in: SignIn
) -> None:
    # Given a signed-in user with no reason given, and a link to a person's record
    person = seed_person(db, "Kowalski", "Piotr")
    sign_in(page, reason=False)

    # When they open the link
    page.goto(f"/#/persons/{person.id}")

    # Then the server's refusal is explained and they are taken to the reason
    record = page.locator("#record")
    expect(record.get_by_role("heading", level=2)).to_have_text("Record not shown")
    expect(page.get_by_role("alert")).to_contain_text("This check needs a reason")
    expect(page.get_by_label("Reason", exact=True)).to_be_focused()
    expect(record).not_to_contain_text("Piotr")
    assert_accessible(page, "record refused without a reason")

    # When they give one and try again
    give_reason(page)
    record.get_by_role("button", name="Try again").click()

    # Then the record opens
    expect(record.get_by_role("heading", level=2)).to_have_text("KOWALSKI, Piotr")
    expect(record.get_by_role("heading", level=2)).to_be_focused()
    expect(page.locator("#message")).to_be_empty()
