"""The browsable API documentation at ``/api/docs``: Swagger UI, from npm's swagger-ui-dist.

The files come from ``node_modules/swagger-ui-dist`` (``make setup`` runs ``npm ci`` at the
versions in package-lock.json) and are served by Bluelight itself, never by a CDN: forces run
closed networks. Without them the server still starts and serves everything else; the docs
answer ``503 DOCS_UNAVAILABLE`` saying how to install them.
"""

from __future__ import annotations

import html
import logging
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from litestar import Request, Router, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath
from litestar.response import File

from bluelight.kernel.errors import BluelightError
from bluelight.kernel.permissions import PUBLIC
from bluelight.web.openapi import api_document

log = logging.getLogger("bluelight.web")

# src/bluelight/web/docs.py → the repository, where package.json and node_modules live.
SWAGGER_UI = Path(__file__).resolve().parents[3] / "node_modules" / "swagger-ui-dist"
DOCS_ASSETS = "/api/docs-assets"
# The files the page loads; nothing else of the package (its demo index.html, which points
# at a public pet store, or its source maps) is served.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
INSTALL_HINT = "run `make setup` (or `npm ci`) in Bluelight's directory, then restart the server"


class DocsErrorCode(StrEnum):
    DOCS_UNAVAILABLE = "DOCS_UNAVAILABLE"


class DocsError(BluelightError):
    """The API documentation cannot be shown."""

    statuses: ClassVar[dict[str, int]] = {DocsErrorCode.DOCS_UNAVAILABLE: 503}


def missing_assets(directory: Path | None = None) -> list[str]:
    """The files of Swagger UI that are not installed (none: the docs can be served)."""
    where = directory or SWAGGER_UI
    return [name for name in ASSETS if not (where / name).is_file()]


def _unavailable(missing: list[str]) -> DocsError:
    return DocsError(
        DocsErrorCode.DOCS_UNAVAILABLE,
        f"the API documentation's files are not installed ({', '.join(missing)} missing "
        f"from {SWAGGER_UI}): {INSTALL_HINT}",
    )


def warn_if_missing() -> None:
    """Say at startup, in the server's log, that the docs will answer 503 and why."""
    missing = missing_assets()
    if missing:
        log.warning("API docs unavailable: %s", _unavailable(missing).detail)


@get(f"{DOCS_ASSETS}/{{name:str}}", opt=PUBLIC, include_in_schema=False, sync_to_thread=False)
def docs_asset(name: FromPath[str]) -> File:
    """One of Swagger UI's files, from node_modules.

    Raises:
        NotFoundException: ``name`` is not one of the files the page loads.
        DocsError: DOCS_UNAVAILABLE, the npm packages are not installed.
    """
    if name not in ASSETS:
        raise NotFoundException(f"no file {name!r} in the API documentation")
    missing = missing_assets()
    if missing:
        raise _unavailable(missing)
    return File(
        SWAGGER_UI / name,
        filename=name,
        media_type=ASSETS[name],
        content_disposition_type="inline",
    )


PAGE = """<!doctype html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} API documentation</title>
  <link rel="icon" href="{assets}/favicon-32x32.png" type="image/png">
  <link rel="stylesheet" href="{assets}/swagger-ui.css">
  <link rel="stylesheet" href="/static/css/api-docs.css">
  <script src="{assets}/swagger-ui-bundle.js"></script>
</head>
<body>
  <main id="swagger-ui"></main>
  <script id="openapi-document" type="application/json">{spec}</script>
  <script src="/static/js/api-docs.js"></script>
</body>
</html>
"""


class DocsRenderPlugin(SwaggerRenderPlugin):
    """Swagger UI from Bluelight's own copy, in a page with a language and a main landmark."""

    def __init__(self) -> None:
        super().__init__(path="/")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """The documentation page.

        Raises:
            DocsError: DOCS_UNAVAILABLE, the npm packages are not installed.
        """
        missing = missing_assets()
        if missing:
            raise _unavailable(missing)
        openapi_schema = api_document(request.app)
        # The spec sits inside a script element (a data block, which the page's script reads:
        # the Content-Security-Policy runs no inline script): "</" must not end it early.
        # The one server, "/", is this page's own origin: Swagger UI would offer it in a
        # drop-down with no label, which helps no one.
        if openapi_schema.get("servers") == [{"url": "/"}]:
            openapi_schema = {k: v for k, v in openapi_schema.items() if k != "servers"}
        spec = self.render_json(request, openapi_schema).decode().replace("</", "<\\/")
        title = html.escape(str(openapi_schema.get("info", {}).get("title", "API")))
        return PAGE.format(title=title, assets=DOCS_ASSETS, spec=spec).encode()

    def receive_router(self, router: Router) -> None:
        """Add nothing: the page uses no OAuth2 redirect (tokens come from sign-in)."""
