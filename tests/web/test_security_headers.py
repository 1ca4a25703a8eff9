"""Every response carries the security headers, whatever made it: an API answer, a page, a
static file, the API docs, an error, a 404."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from factories import API

# One request of each kind of response: (what it is, method, path, status it gets).
RESPONSES = [
    ("an API answer", "GET", f"{API}/health", 200),
    ("the back office page", "GET", "/", 200),
    ("a static file", "GET", "/static/css/site.css", 200),
    ("the API docs page", "GET", "/api/docs", 200),
    ("a file of the API docs", "GET", "/api/docs-assets/swagger-ui.css", 200),
    ("the OpenAPI document", "GET", f"{API}/openapi.json", 200),
    ("an unknown route", "GET", f"{API}/no-such-thing", 404),
    ("an unknown static file", "GET", "/static/no-such-file.js", 404),
    ("a request without a token", "GET", f"{API}/persons", 401),
    ("a method the route lacks", "DELETE", f"{API}/health", 405),
    ("a malformed body", "POST", f"{API}/auth/sign-in", 400),
]
IDS = [case[0] for case in RESPONSES]


@pytest.fixture
def anonymous(app: Litestar) -> Iterator[TestClient[Any]]:
    with TestClient(app) as client:
        yield client


def _send(client: TestClient[Any], method: str, path: str, status: int) -> Any:
    response = client.request(
        method, path, content=b"{", headers={"content-type": "application/json"}
    )
    assert response.status_code == status, response.text
    return response


@pytest.mark.parametrize(("what", "method", "path", "status"), RESPONSES, ids=IDS)
def test_every_response_forbids_sniffing(
    anonymous: TestClient[Any], what: str, method: str, path: str, status: int
) -> None:
    response = _send(anonymous, method, path, status)
    assert response.headers["x-content-type-options"] == "nosniff", what


@pytest.mark.parametrize(("what", "method", "path", "status"), RESPONSES, ids=IDS)
def test_every_response_forbids_framing_and_foreign_content(
    anonymous: TestClient[Any], what: str, method: str, path: str, status: int
) -> None:
    response = _send(anonymous, method, path, status)
    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in response.headers["content-security-policy"].split(";")
    }
    assert policy["frame-ancestors"] == ["'none'"], what
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    # Swagger UI's stylesheet draws its icons as data: images; nothing else needs them.
    assert policy["img-src"] == (["'self'", "data:"] if path == "/api/docs" else ["'self'"])


def test_the_page_holds_no_policy_of_its_own(anonymous: TestClient[Any]) -> None:
    # The header is the one policy: a <meta> copy could drift from it and cannot say
    # frame-ancestors.
    page = anonymous.get("/").text
    assert "Content-Security-Policy" not in page
    assert "<script>" not in anonymous.get("/api/docs").text


@pytest.mark.parametrize(("what", "method", "path", "status"), RESPONSES, ids=IDS)
def test_every_response_sends_no_referrer(
    anonymous: TestClient[Any], what: str, method: str, path: str, status: int
) -> None:
    response = _send(anonymous, method, path, status)
    assert response.headers["referrer-policy"] == "no-referrer", what


@pytest.mark.parametrize(("what", "method", "path", "status"), RESPONSES, ids=IDS)
def test_every_response_limits_powerful_features(
    anonymous: TestClient[Any], what: str, method: str, path: str, status: int
) -> None:
    response = _send(anonymous, method, path, status)
    policy = dict(
        item.strip().split("=", 1) for item in response.headers["permissions-policy"].split(",")
    )
    # The officer app takes photographs, records statements and notes where: for Bluelight only.
    assert policy["camera"] == "(self)", what
    assert policy["microphone"] == "(self)"
    assert policy["geolocation"] == "(self)"
    for feature in ("payment", "usb", "serial", "hid", "display-capture", "midi"):
        assert policy[feature] == "()", feature


@pytest.mark.parametrize(("what", "method", "path", "status"), RESPONSES, ids=IDS)
def test_plain_http_is_not_told_to_use_tls(
    anonymous: TestClient[Any], what: str, method: str, path: str, status: int
) -> None:
    response = _send(anonymous, method, path, status)
    assert "strict-transport-security" not in response.headers, what


@pytest.mark.parametrize(("what", "method", "path", "status"), RESPONSES, ids=IDS)
def test_a_request_over_tls_is_told_to_stay_on_it(
    app: Litestar, what: str, method: str, path: str, status: int
) -> None:
    with TestClient(app, base_url="https://bluelight.test") as client:
        response = _send(client, method, path, status)
    assert response.headers["strict-transport-security"] == "max-age=31536000", what


@pytest.mark.parametrize(
    "path", ["/", "/static/css/site.css", "/static/js/app.js", "/api/docs-assets/swagger-ui.css"]
)
def test_files_are_shown_inline_under_their_own_name(anonymous: TestClient[Any], path: str) -> None:
    response = anonymous.get(path)
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("inline; filename=")
    assert 'filename=""' not in disposition
