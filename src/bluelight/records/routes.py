"""HTTP routes of the POLE records: the same seven routes for every kind of record."""

# Annotations are set from each kind's types when the routes are built, so they must stay
# real objects rather than strings.

import uuid
from typing import Any

from litestar import Request, Router, delete, get, patch, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from bluelight.db import Database
from bluelight.identity import Actor, Permission
from bluelight.kernel.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from bluelight.records import queries, services
from bluelight.records.kinds import KINDS, Kind
from bluelight.records.schemas import ChangeRead, Deletion, ImportBatch, ImportReport, Page
from bluelight.web.auth import needs

RESERVED_QUERY = {"cursor", "limit", "include_deleted"}


def _json_body(struct: type[Any]) -> Any:
    return JSONBody[struct]  # type: ignore[valid-type,misc]  # the body type is each kind's, chosen at run time


def _typed(fn: Any, **annotations: Any) -> Any:
    fn.__annotations__ = {**fn.__annotations__, **annotations}
    return fn


def kind_router(kind: Kind) -> Router:
    """The create, list, read, update, delete, history and import routes of one kind."""
    tag = [kind.title]

    def create_one(data: Any, db: NamedDependency[Database], actor: NamedDependency[Actor]) -> Any:
        return services.create_record(db, kind, data, actor=actor)

    def list_page(
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        cursor: str | None = Parameter(default=None, max_length=64),
        limit: int = Parameter(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
        include_deleted: FromQuery[bool] = False,
    ) -> Page:
        filters = {k: v for k, v in request.query_params.items() if k not in RESERVED_QUERY}
        return queries.list_records(
            db, kind, filters=filters, cursor=cursor, limit=limit, include_deleted=include_deleted
        )

    def read_one(record_id: FromPath[uuid.UUID], db: NamedDependency[Database]) -> Any:
        return queries.get_record(db, kind, record_id)

    def update_one(
        record_id: FromPath[uuid.UUID],
        data: Any,
        db: NamedDependency[Database],
        actor: NamedDependency[Actor],
    ) -> Any:
        return services.update_record(db, kind, record_id, data, actor=actor)

    def delete_one(
        record_id: FromPath[uuid.UUID],
        data: JSONBody[Deletion],
        db: NamedDependency[Database],
        actor: NamedDependency[Actor],
    ) -> Any:
        return services.delete_record(db, kind, record_id, data, actor=actor)

    def history(record_id: FromPath[uuid.UUID], db: NamedDependency[Database]) -> list[ChangeRead]:
        return queries.record_history(db, kind, record_id)

    def import_batch(
        data: JSONBody[ImportBatch], db: NamedDependency[Database], actor: NamedDependency[Actor]
    ) -> ImportReport:
        return services.import_records(db, kind, data, actor=actor)

    filters = ", ".join(sorted(kind.filters))
    handlers = [
        post(
            "/",
            opt=needs(kind.write_permission),
            summary=f"Create a {kind.name}",
            description="The id may be made by the device; a second create with it is refused.",
            operation_id=f"create_{kind.name}",
            sync_to_thread=True,
        )(_typed(create_one, data=_json_body(kind.create), **{"return": kind.read})),
        get(
            "/",
            opt=needs(kind.read_permission),
            summary=f"List {kind.path}",
            description=f"Keyset pages in id order. Filters: {filters}.",
            operation_id=f"list_{kind.path}",
            sync_to_thread=True,
        )(list_page),
        get(
            "/{record_id:uuid}",
            opt=needs(kind.read_permission),
            summary=f"Read a {kind.name}",
            operation_id=f"read_{kind.name}",
            sync_to_thread=True,
        )(_typed(read_one, **{"return": kind.read})),
        patch(
            "/{record_id:uuid}",
            opt=needs(kind.write_permission),
            summary=f"Change a {kind.name}",
            description="Send the version you read; fields left out stay as they are.",
            operation_id=f"update_{kind.name}",
            sync_to_thread=True,
        )(_typed(update_one, data=_json_body(kind.update), **{"return": kind.read})),
        delete(
            "/{record_id:uuid}",
            opt=needs(Permission.RECORD_DELETE),
            summary=f"Delete a {kind.name} (softly, with a reason)",
            operation_id=f"delete_{kind.name}",
            status_code=200,
            sync_to_thread=True,
        )(_typed(delete_one, **{"return": kind.read})),
        get(
            "/{record_id:uuid}/history",
            opt=needs(kind.read_permission),
            summary=f"Every version of a {kind.name}",
            operation_id=f"history_{kind.name}",
            sync_to_thread=True,
        )(history),
        post(
            "/import",
            opt=needs(Permission.RECORD_IMPORT),
            summary=f"Import {kind.path} carrying a force's local codes",
            operation_id=f"import_{kind.path}",
            status_code=200,
            sync_to_thread=True,
        )(import_batch),
    ]
    # Personal data must not linger in a browser's or a proxy's cache.
    return Router(
        path=f"/{kind.path}",
        route_handlers=handlers,
        tags=tag,
        cache_control=CacheControlHeader(no_store=True),
    )


def record_routers() -> list[Router]:
    return [kind_router(kind) for kind in KINDS]
