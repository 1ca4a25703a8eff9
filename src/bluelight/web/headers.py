"""The security headers every response carries: API answers, pages, static files, errors, 404s.

They are added as the response starts (``add_security_headers``, a Litestar ``before_send``
hook, which sees every response the app sends, whichever layer made it), from header lists
built once at import: a response pays for one list extension.

- ``Content-Security-Policy``: scripts, styles, images and connections from Bluelight
  itself only, no plugins, no ``<base>``, and no framing (``frame-ancestors 'none'``, which
  only a header can say, against click-jacking). The API documentation page alone also takes
  ``data:`` images: Swagger UI's stylesheet draws its icons as ``data:`` SVGs.
- ``X-Content-Type-Options: nosniff``: a browser takes each file as the type it is sent as.
- ``Referrer-Policy: no-referrer``: no record's address leaves in a ``Referer``.
- ``Permissions-Policy``: the camera, microphone and location for Bluelight's own pages (the
  officer app records evidence and where it was taken), and every other powerful feature the
  pages do not use denied.
- ``Strict-Transport-Security``, only on a response to a request that came over TLS (see
  README: serving TLS, and behind a reverse proxy).
"""

from __future__ import annotations

from litestar.types import Message, Scope

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
DOCS_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "img-src 'self';", "img-src 'self' data:;"
)
DOCS_PATH = "/api/docs"
ALLOWED_FEATURES = ("camera", "microphone", "geolocation")
DENIED_FEATURES = (
    "accelerometer",
    "autoplay",
    "display-capture",
    "encrypted-media",
    "fullscreen",
    "gyroscope",
    "hid",
    "idle-detection",
    "magnetometer",
    "midi",
    "payment",
    "picture-in-picture",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)
PERMISSIONS_POLICY = ", ".join(
    [f"{feature}=(self)" for feature in ALLOWED_FEATURES]
    + [f"{feature}=()" for feature in DENIED_FEATURES]
)
# A year, as browsers' preload lists ask; not includeSubDomains: a force's other hosts are
# not Bluelight's to commit to TLS.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def _encoded(pairs: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs.items()
    ]


COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": PERMISSIONS_POLICY,
}
PAGE_HEADERS = _encoded({**COMMON, "Content-Security-Policy": CONTENT_SECURITY_POLICY})
DOCS_HEADERS = _encoded({**COMMON, "Content-Security-Policy": DOCS_CONTENT_SECURITY_POLICY})
HSTS_HEADER = _encoded({"Strict-Transport-Security": STRICT_TRANSPORT_SECURITY})


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Add the security headers to a response as it starts (a ``before_send`` hook)."""
    if message["type"] != "http.response.start":
        return
    extra = DOCS_HEADERS if scope["path"] == DOCS_PATH else PAGE_HEADERS
    if scope["scheme"] == "https":
        extra = extra + HSTS_HEADER
    message["headers"] = [*message.get("headers", ()), *extra]
