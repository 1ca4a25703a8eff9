"""create_app(): settings, database, routers, error handling and the static pages."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Router, get
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import File
from litestar.static_files import create_static_files_router

from bluelight import __version__
from bluelight.audit import AuditWriter, TreeSigner
from bluelight.audit.routes import audit_router
from bluelight.db import Database, DurabilityError, durability_problems, make_engine
from bluelight.identity import Actor
from bluelight.identity.routes import identity_routers
from bluelight.identity.services import IdentityPolicy, demo_users_present
from bluelight.kernel.crypto import SecretBox, load_or_create_signing_key
from bluelight.records.routes import record_routers
from bluelight.settings import Settings, get_settings
from bluelight.vocab.routes import vocab_router
from bluelight.web.auth import (
    PUBLIC,
    Authenticator,
    BearerAuthentication,
    TokenAuthenticator,
    permission_guard,
)
from bluelight.web.docs import DocsRenderPlugin, docs_asset, warn_if_missing
from bluelight.web.errors import EXCEPTION_HANDLERS
from bluelight.web.justification import provide_disclosure_reason, provide_justification
from bluelight.web.schemas import Health
from bluelight.web.text import refuse_nul

log = logging.getLogger("bluelight")
STATIC = Path(__file__).parent / "web" / "static"


def open_database(settings: Settings) -> Database:
    """The database of ``settings``, refusing, in production, one that can lose writes.

    Raises:
        DurabilityError: in production, when a setting could lose an acknowledged write.
    """
    db = Database(
        make_engine(
            settings.database_url,
            sqlite_synchronous=settings.sqlite_synchronous,
            echo=settings.sql_echo,
        )
    )
    problems = durability_problems(db.engine)
    if problems and settings.is_production:
        db.dispose()
        raise DurabilityError(
            "refusing to start: acknowledged writes could be lost.\n  " + "\n  ".join(problems)
        )
    for problem in problems:
        log.warning("durability: %s", problem)
    return db


def identity_policy(settings: Settings) -> IdentityPolicy:
    """Sign-in and session rules from the settings, with the key that seals TOTP secrets."""
    return IdentityPolicy(
        secrets=SecretBox.load_or_create(settings.keys_dir / "secrets.key"),
        password_cost=settings.password_hash_cost,
        idle_timeout=timedelta(minutes=settings.idle_timeout_minutes),
        session_lifetime=timedelta(hours=settings.session_lifetime_hours),
        lockout_threshold=settings.lockout_threshold,
        lockout_window=timedelta(minutes=settings.lockout_window_minutes),
        lockout_duration=timedelta(minutes=settings.lockout_minutes),
    )


def tree_signer(settings: Settings, db: Database) -> TreeSigner:
    """The signer of audit tree heads, with the server's Ed25519 key (made on first use)."""
    return TreeSigner(db, load_or_create_signing_key(settings.keys_dir / "audit-signing.pem"))


class DemoSecretsError(RuntimeError):
    """Production was asked to run with the demo's published sign-ins."""


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
    db = database or open_database(settings)
    policy = identity_policy(settings)
    signer = tree_signer(settings, db)
    writer = audit_writer or AuditWriter(db)
    auth = authenticator or TokenAuthenticator(db, policy)
    if settings.is_production and demo_users_present(db):
        raise DemoSecretsError(
            "refusing to start: the database holds the demo's users, whose passwords and "
            "second factors are published. Remove them (bluelight users disable) first."
        )

    def provide_db() -> Database:
        return db

    def provide_writer() -> AuditWriter:
        return writer

    def provide_policy() -> IdentityPolicy:
        return policy

    def provide_signer() -> TreeSigner:
        return signer

    def provide_actor(request: Request[Actor, Any, Any]) -> Actor:
        return request.user

    @get("/health", opt=PUBLIC, summary="Liveness and database reachability", sync_to_thread=True)
    def health() -> Health:
        with db.read() as session:
            session.connection().exec_driver_sql("SELECT 1")
        return Health(
            status="ok", version=__version__, database=db.dialect, force=settings.force_code
        )

    @get("/openapi.json", opt=PUBLIC, include_in_schema=False)
    async def openapi(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return request.app.openapi_schema.to_schema()

    @get("/", opt=PUBLIC, include_in_schema=False)
    async def index() -> File:
        return File(
            STATIC / "index.html", content_disposition_type="inline", media_type="text/html"
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
        writer.close()
        if database is None:
            db.dispose()

    app = Litestar(
        route_handlers=[api, index, static, docs_asset],
        dependencies={
            "db": Provide(provide_db, sync_to_thread=False),
            "actor": Provide(provide_actor, sync_to_thread=False),
            "audit": Provide(provide_writer, sync_to_thread=False),
            "policy": Provide(provide_policy, sync_to_thread=False),
            "signer": Provide(provide_signer, sync_to_thread=False),
            "why": Provide(provide_justification),
            "disclosure_reason": Provide(provide_disclosure_reason),
        },
        guards=[permission_guard],
        before_request=refuse_nul,
        middleware=[
            lambda app: BearerAuthentication(
                app, authenticator=auth, exclude_from_auth_key="exclude_from_auth"
            )
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
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
            render_plugins=[DocsRenderPlugin()],
            openapi_router=Router(
                path="/api/docs", route_handlers=[], opt=PUBLIC, include_in_schema=False
            ),
        ),
        on_startup=[warn_if_missing, start],
        on_shutdown=[close],
        debug=False,
    )
    app.state.audit_writer = writer
    app.state.identity_policy = policy
    app.state.database = db
    app.state.tree_signer = signer
    return app


def app_factory() -> Litestar:
    """Entry point for the ASGI server (``granian --factory bluelight.app:app_factory``)."""
    return create_app()
