"""The peer of the HTTP read benchmark: a bare Litestar hello-world.

One async route returning a small JSON dict, no middleware, no database, no OpenAPI
rendering: the best the framework can do on this server. ``http_read.py`` serves it with the
same granian command line (interface, workers, event loop) as Bluelight itself.
"""

from __future__ import annotations

from litestar import Litestar, get


@get("/hello")
async def hello() -> dict[str, str]:
    return {"message": "Hello, world!"}


def app_factory() -> Litestar:
    """Entry point for ``granian --factory hello_app:app_factory``."""
    return Litestar(route_handlers=[hello], openapi_config=None, debug=False)
