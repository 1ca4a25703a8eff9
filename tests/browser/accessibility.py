"""Accessibility checks of a page state with axe-core (from npm, at package-lock.json's version),
at a desktop width and on a 360 px phone, with a screenshot of each for a person to look at.

axe-core is injected through the DevTools protocol, which the page's Content-Security-Policy
(script-src 'self') does not govern, so the page under test runs with its real policy.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 800}
SMALL_PHONE = {"width": 360, "height": 640}
# Where the screenshots go: look at them (make test leaves them here) as a user would.
SCREENSHOTS = Path(os.environ.get("BLUELIGHT_SCREENSHOTS", REPO / "var" / "screenshots"))
BLOCKING = {"serious", "critical"}


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    nodes: list[str]

    def __str__(self) -> str:
        where = "\n      ".join(self.nodes[:5])
        return f"{self.impact}: {self.rule} ({self.help})\n      {where}"


def _axe_source() -> str:
    if not AXE.is_file():
        msg = f"{AXE} is missing: run make setup (npm ci) first"
        raise AssertionError(msg)
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[Violation]:
    """Every serious or critical axe-core violation in the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_source() + "\n;undefined")
    results: dict[str, Any] = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map((v) => ({
                rule: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary || ""}`),
            }));
        }"""
    )
    return [
        Violation(v["rule"], v["impact"], v["help"], v["nodes"])
        for v in results
        if v["impact"] in BLOCKING
    ]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def assert_accessible(page: Page, state: str) -> None:
    """Check the page state ``state`` at desktop width and at 360 px: no serious or critical
    axe-core violation at either, and screenshots of each under SCREENSHOTS.
    The viewport is put back as it was."""
    before = page.viewport_size
    found: list[str] = []
    try:
        for size in (DESKTOP, SMALL_PHONE):
            page.set_viewport_size(size)
            # Let layout settle at the new width before checking it.
            page.evaluate("() => new Promise((r) => requestAnimationFrame(() => r(null)))")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shot = SCREENSHOTS / f"{_slug(state)}-{size['width']}"
            # What shows at once, and (unless it is very long) the whole page.
            page.screenshot(path=f"{shot}.png")
            if page.evaluate("document.documentElement.scrollHeight") <= 4000:
                page.screenshot(path=f"{shot}-full.png", full_page=True)
            found += [f"at {size['width']} px, {v}" for v in axe_violations(page)]
    finally:
        if before:
            page.set_viewport_size(before)
    assert not found, f"accessibility problems in {state!r}:\n  " + "\n  ".join(found)
