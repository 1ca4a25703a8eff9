"""The API documentation's files: Swagger UI from npm (node_modules/swagger-ui-dist, at the
version package-lock.json pins), served by Bluelight; a clear 503 when they are not installed."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from bluelight.web import docs
from factories import API, assert_problem

REPO = Path(__file__).resolve().parents[2]


def test_the_docs_load_swagger_ui_from_the_pinned_npm_package(client: TestClient[Any]) -> None:
    # Given the version of swagger-ui-dist that package-lock.json pins
    lock = json.loads((REPO / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/swagger-ui-dist"]["version"]
    installed = json.loads((docs.SWAGGER_UI / "package.json").read_text())["version"]
    assert installed == pinned

    # When the docs page and the files it names are fetched
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert 'lang="en-GB"' in page.text
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        assert f"/api/docs-assets/{name}" in page.text
        asset = client.get(f"/api/docs-assets/{name}")

        # Then each is npm's file, byte for byte
        assert asset.status_code == 200, name
        assert asset.content == (docs.SWAGGER_UI / name).read_bytes()
    # and nothing else of the package is served (its demo page points at a public pet store)
    assert_problem(client.get("/api/docs-assets/index.html"), 404, "NOT_FOUND")
    assert_problem(client.get("/api/docs-assets/swagger-initializer.js"), 404, "NOT_FOUND")


def test_without_npms_files_the_docs_say_how_to_install_them_and_the_rest_runs(
    client: TestClient[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a checkout where npm ci never ran
    monkeypatch.setattr(docs, "SWAGGER_UI", tmp_path / "node_modules" / "swagger-ui-dist")

    # When the docs or their files are asked for
    for path in ("/api/docs", "/api/docs-assets/swagger-ui-bundle.js"):
        body = assert_problem(client.get(path), 503, "DOCS_UNAVAILABLE")

        # Then the answer is a problem that says what is missing and how to install it
        assert "swagger-ui-bundle.js" in body["detail"]
        assert "npm ci" in body["detail"]
    # and the rest of Bluelight answers as before
    assert client.get(f"{API}/health").status_code == 200
    assert client.get("/").status_code == 200


def test_the_server_says_at_startup_that_the_docs_are_missing(
    client: TestClient[Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(docs, "SWAGGER_UI", tmp_path / "swagger-ui-dist")

    with caplog.at_level(logging.WARNING, logger="bluelight.web"):
        docs.warn_if_missing()

    assert "API docs unavailable" in caplog.text
    assert "make setup" in caplog.text
