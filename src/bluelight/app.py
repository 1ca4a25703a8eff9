"""create_app(): settings, database, routers, error handling and the static pages."""

from __future__ import annotations

import asyncio
import gc
import logging
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Router, get
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import File
from litestar.static_files import create_static_files_router
from sqlalchemy.exc import SQLAlchemyError

from bluelight import __version__
from bluelight.audit import AuditWriter, TreeSigner
from bluelight.audit.door import Door
from bluelight.audit.routes import audit_router
from bluelight.changes import EventBus
from bluelight.db import Database
from bluelight.identity import Actor
from bluelight.identity.policy import identity_policy
from bluelight.identity.queries import demo_users_present
from bluelight.identity.routes import identity_routers
from bluelight.kernel.permissions import PUBLIC
from bluelight.records.reader import RecordReader
from bluelight.records.routes import record_routers
from bluelight.runtime import Runtime
from bluelight.settings import Settings, get_settings
from bluelight.sync.routes import sync_router
from bluelight.vocab.routes import vocab_router
from bluelight.web.auth import AccessMiddleware, Authenticator, TokenAuthenticator
from bluelight.web.body import JSONRequest
from bluelight.web.direct import DirectReads
from bluelight.web.docs import DocsRenderPlugin, docs_asset, warn_if_missing
from bluelight.web.errors import EXCEPTION_HANDLERS, WebError, WebErrorCode
from bluelight.web.headers import add_security_headers
from bluelight.web.justification import provide_disclosure_reason, provide_justification
from bluelight.web.openapi import DocumentJsonPlugin, api_document
from bluelight.web.refusals import audit_refusal
from bluelight.web.schemas import Health
from bluelight.web.text import refuse_misread_text

log = logging.getLogger("bluelight")
STATIC = Path(__file__).parent / "web" / "static"


def _always(value: object) -> Provide:
    """A dependency that is always ``value`` (one object for the app's life)."""
    return Provide(lambda: value, sync_to_thread=False)


def provide_actor(request: Request[Actor, Any, Any]) -> Actor:
    """The dependency ``actor``: who the request's token acts for."""
    return request.user


def check_database(db: Database) -> None:
    """Ask the database a trivial question.

    Raises:
        WebError: DATABASE_UNAVAILABLE (503, ``"database": "down"``) when it does not answer,
            whatever the reason: health says so rather than claim to be well.
    """
    try:
        with db.read() as session:
            session.connection().exec_driver_sql("SELECT 1")
    except SQLAlchemyError as exc:
        log.warning("health: the database does not answer: %s", exc.args[0])
        raise WebError(
            WebErrorCode.DATABASE_UNAVAILABLE,
            f"the database ({db.dialect}) is down: it does not answer",
            database="down",
        ) from exc


class DemoSecretsError(RuntimeError):
    """Production was asked to run with the demo's published sign-ins."""


def openapi_config() -> OpenAPIConfig:
    """The OpenAPI document's settings, and its browsable docs served from Bluelight's own files."""
    return OpenAPIConfig(
        title="Bluelight",
        version=__version__,
        path="/api/docs",
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="The token POST /api/v1/auth/second-factor returns.",
                )
            }
        ),
        security=[{"BearerToken": []}],
        # Swagger UI from node_modules, served by Bluelight (forces run closed networks).
        render_plugins=[DocsRenderPlugin(), DocumentJsonPlugin()],
        openapi_router=Router(
            path="/api/docs", route_handlers=[], opt=PUBLIC, include_in_schema=False
        ),
    )


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    authenticator: Authenticator | None = None,
    audit_writer: AuditWriter | None = None,
) -> Litestar:
    """The Bluelight ASGI application.

    Raises:
        DemoSecretsError: in production, when the database holds the demo's users.
    """
    settings = settings or get_settings()
    runtime = Runtime.open(settings, database)
    db = runtime.database
    policy = identity_policy(settings, runtime.secrets)
    signer = TreeSigner(db, runtime.signing_key)
    events = EventBus()
    events.attach(db)
    writer = audit_writer or AuditWriter(db)
    auth = authenticator or TokenAuthenticator(db, policy)
    if settings.is_production and demo_users_present(db):
        raise DemoSecretsError(
            "refusing to start: the database holds the demo's users, whose passwords and "
            "second factors are published. Remove them (bluelight users disable) first."
        )

    door = Door(writer)
    reader = RecordReader(db, door, auth.identify)

    @get(
        "/health",
        opt=PUBLIC,
        summary="Liveness and database reachability",
        tags=["Health"],
        sync_to_thread=True,
    )
    def health() -> Health:
        check_database(db)
        return Health(
            status="ok", version=__version__, database=db.dialect, force=settings.force_code
        )

    @get("/openapi.json", opt=PUBLIC, include_in_schema=False)
    async def openapi(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return api_document(request.app)

    @get("/", opt=PUBLIC, include_in_schema=False)
    async def index() -> File:
        return File(
            STATIC / "index.html",
            filename="index.html",
            content_disposition_type="inline",
            media_type="text/html",
        )

    api = Router(
        path="/api/v1",
        route_handlers=[
            health,
            openapi,
            vocab_router,
            *identity_routers,
            audit_router,
            *record_routers(),
            sync_router,
        ],
    )
    static = create_static_files_router(
        path="/static", directories=[STATIC], opt=PUBLIC, include_in_schema=False
    )

    signing: dict[str, asyncio.Task[None]] = {}

    async def sign_periodically() -> None:
        while True:
            await asyncio.sleep(settings.audit_sign_interval_seconds)
            try:
                await asyncio.to_thread(signer.sign_if_grown)
            except Exception:
                log.exception("signing the audit tree head failed")

    def start() -> None:
        if settings.audit_sign_interval_seconds > 0:
            signing["task"] = asyncio.get_running_loop().create_task(sign_periodically())

    async def close() -> None:
        task = signing.pop("task", None)
        if task is not None:
            task.cancel()
        reader.close()
        door.close()
        writer.close()
        if database is None:
            runtime.close()

    app = Litestar(
        route_handlers=[api, index, static, docs_asset],
        dependencies={
            "db": _always(db),
            "actor": Provide(provide_actor, sync_to_thread=False),
            "door": _always(door),
            "policy": _always(policy),
            "signer": _always(signer),
            "why": Provide(provide_justification),
            "disclosure_reason": Provide(provide_disclosure_reason),
        },
        after_exception=[audit_refusal],
        before_request=refuse_misread_text,
        before_send=[add_security_headers],
        middleware=[DefineMiddleware(AccessMiddleware, authenticator=auth)],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        request_class=JSONRequest,
        openapi_config=openapi_config(),
        on_startup=[warn_if_missing, start],
        on_shutdown=[close],
        debug=False,
    )
    # A record read by id, the path of every check, goes straight to its handler (web.direct)
    app.asgi_handler = DirectReads(app, app.asgi_handler)
    app.state.audit_writer = writer
    app.state.door = door
    app.state.reader = reader
    app.state.identity_policy = policy
    app.state.database = db
    app.state.tree_signer = signer
    app.state.events = events
    return app


# The cycle collector of a server process. By default it runs a young-generation pass every 700
# objects allocated and not yet freed, and every so often a pass over every object the process
# holds: under load that is tens of microseconds a request, and a full pass stalls every
# request in flight for tens of milliseconds. A server's objects are mostly made at start-up
# and live as long as it does, and a request's die with it (reference counting frees them);
# so what start-up made is set aside for good and the passes run 30 times less often.
COLLECTOR_THRESHOLDS = (20_000, 20, 100)


def tune_collector() -> None:
    """Set the cycle collector up for a long-running server (``COLLECTOR_THRESHOLDS``)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def app_factory() -> Litestar:
    """Entry point for the ASGI server (``granian --factory bluelight.app:app_factory``)."""
    app = create_app()
    tune_collector()
    return app
