"""The API documentation page, opened in a real browser on a closed network."""

from __future__ import annotations

from accessibility import assert_accessible
from playwright.sync_api import Page, Request, expect


def test_api_docs_render_from_bluelights_own_files(page: Page, server: str) -> None:
    # Given a browser that notes every request the page makes
    requested: list[str] = []

    def note(request: Request) -> None:
        requested.append(request.url)

    page.on("request", note)

    # When the API documentation is opened
    # (Swagger UI's bundle is megabytes: on a busy machine its load outlasts the 5 s default)
    page.goto("/api/docs", timeout=20_000)

    # Then Swagger UI renders the Bluelight API, with the records operations listed
    expect(page.locator(".swagger-ui .title")).to_contain_text("Bluelight")
    expect(page.get_by_text("/api/v1/persons/{record_id}").first).to_be_visible()
    # and nothing was fetched from anywhere but Bluelight itself (forces run closed networks)
    assert requested
    assert all(url.startswith(server) for url in requested), [
        u for u in requested if not u.startswith(server)
    ]
    assert_accessible(page, "API docs")

    # When an operation is opened from the keyboard
    summary = page.locator("#operations-Persons-list_persons .opblock-summary-control")
    summary.focus()
    page.keyboard.press("Enter")

    # Then its parameters show, and the page is still accessible
    expect(page.get_by_text("family_name").first).to_be_visible()
    assert_accessible(page, "API docs, an operation open")
