"""HTTP routes of the POLE records: the same seven routes for every kind of record."""

# Annotations are set from each kind's types when the routes are built, so they must stay
# real objects rather than strings.

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response, Router, delete, get, patch, post, put
from litestar.concurrency import sync_to_thread
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK
from litestar.types import ASGIApp, Receive, Scope, Send

from bluelight.audit import Action, AuditError, Justification
from bluelight.audit.door import Act, Disclosure, Door
from bluelight.audit.reasons import from_raw_headers
from bluelight.db import Database
from bluelight.identity import Actor, Permission
from bluelight.kernel.paging import CURSOR_PATTERN, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from bluelight.kernel.permissions import IN_ROUND, needs
from bluelight.records import partners, queries, restriction, services, shares
from bluelight.records.access import REASON_KINDS
from bluelight.records.kinds import KINDS, Filter, Kind
from bluelight.records.reader import RecordReader
from bluelight.records.schemas import (
    AccessChange,
    AccessRead,
    ChangeRead,
    Deletion,
    ImportBatch,
    ImportReport,
    Page,
    ShareCreate,
    SharedEvent,
    SharedPage,
    ShareRead,
)
from bluelight.records.share_levels import SHAREABLE

RESERVED_QUERY = {"cursor", "limit", "include_deleted"}
T = TypeVar("T")
# For the API document: what the server checks of a cursor past its length.
CURSOR = {"cursor": {"type": "string", "pattern": CURSOR_PATTERN}}


class _ReadAnswer(Response[Any]):
    """A record read's answer: its JSON, sent with the route's headers in the two messages of
    a response. Litestar's general response builds a header object and checks what its
    content is on every request; a read's content is always a record, on the path of every
    check. It sends no cookies and runs no background task, and refuses to be given either
    rather than drop them."""

    def __init__(self, content: Any, *, status_code: int | None = None, **_: Any) -> None:
        self.content = content
        self.status_code = status_code or HTTP_200_OK

    def to_asgi_response(  # type: ignore[override]  # the keywords Litestar passes, by name
        self,
        app: Any,  # noqa: ARG002  (Litestar's signature)
        request: Any,  # noqa: ARG002  (same)
        *,
        headers: dict[str, str] | None = None,
        cookies: Any = None,
        background: Any = None,
        **_: Any,
    ) -> ASGIApp:
        if cookies or background:
            msg = "a record read's answer carries no cookies and runs no background task"
            raise TypeError(msg)
        return _Sent(
            self.status_code or HTTP_200_OK, msgspec.json.encode(self.content), headers or {}
        )


class _Sent:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.status = status
        self.body = body
        self.headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: ARG002  (ASGI's signature)
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


def _filter_schema(spec: Filter) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": queries.MAX_FILTER_LENGTH}
    if spec.format:
        schema["format"] = spec.format
    return schema


def _json_body(struct: type[Any]) -> Any:
    return JSONBody[struct]  # type: ignore[valid-type,misc]  # the body type is each kind's, chosen at run time


def _typed(fn: Any, **annotations: Any) -> Any:
    fn.__annotations__ = {**fn.__annotations__, **annotations}
    return fn


async def _through_door(
    door: Door,
    actor: Actor,
    why: Justification | None,
    find: Callable[..., Disclosure[T]],
    /,
    *args: Any,
    **kwargs: Any,
) -> T:
    """Run the read ``find`` on a worker thread, then release what it found through the door,
    waiting on the event loop until its consultation is on disk. The thread is free for other
    requests while the entry is committed, so readers waiting together share one commit
    (group commit) instead of each holding a thread.

    Raises:
        AuditError: REASON_REQUIRED; AUDIT_UNAVAILABLE (the entry could not be written:
            nothing is sent).
    """
    found = await sync_to_thread(find, *args, **kwargs)
    return await door.release(found, who=actor, why=why)


def kind_router(kind: Kind) -> Router:
    """The create, list, read, update, delete, history and import routes of one kind."""
    tag = [kind.title]

    def create_one(
        data: Any,
        db: NamedDependency[Database],
        actor: NamedDependency[Actor],
        why: NamedDependency[Justification | None],
    ) -> Any:
        return services.create_record(db, kind, data, actor=actor, why=why)

    async def list_page(
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        door: NamedDependency[Door],
        actor: NamedDependency[Actor],
        why: NamedDependency[Justification | None],
        cursor: str | None = Parameter(default=None, max_length=64),
        limit: int = Parameter(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
        include_deleted: FromQuery[bool] = False,
    ) -> Page:
        filters = {k: v for k, v in request.query_params.items() if k not in RESERVED_QUERY}
        return await _through_door(
            door,
            actor,
            why,
            queries.find_records,
            db,
            kind,
            actor=actor,
            why=why,
            filters=filters,
            cursor=cursor,
            limit=limit,
            include_deleted=include_deleted,
        )

    async def read_one(request: Request[Actor, Any, Any]) -> Any:
        # The token is looked up in the read's own round (``authenticate=IN_ROUND``); a
        # reason refused is the answer only once the caller is known to be let in. The id is
        # the path's, made a UUID by its converter (``{record_id:uuid}``): no parameter is
        # parsed again on the path of every check.
        params: dict[str, Any] = request.scope["path_params"]
        record_id: uuid.UUID = params["record_id"]
        reader: RecordReader = request.app.state.reader
        why: Justification | Exception | None
        try:
            why = from_raw_headers(request.scope["headers"])
        except AuditError as exc:
            why = exc
        actor, answer = await reader.release_to(request.scope["caller"], kind, record_id, why=why)  # type: ignore[typeddict-item]
        if actor is not None:
            request.scope["user"] = actor
        if isinstance(answer, Exception):
            raise answer
        return answer

    def update_one(
        record_id: FromPath[uuid.UUID],
        data: Any,
        db: NamedDependency[Database],
        actor: NamedDependency[Actor],
        why: NamedDependency[Justification | None],
    ) -> Any:
        return services.update_record(db, kind, record_id, data, actor=actor, why=why)

    def delete_one(
        record_id: FromPath[uuid.UUID],
        data: JSONBody[Deletion],
        db: NamedDependency[Database],
        actor: NamedDependency[Actor],
        why: NamedDependency[Justification | None],
    ) -> Any:
        return services.delete_record(db, kind, record_id, data, actor=actor, why=why)

    async def history(
        record_id: FromPath[uuid.UUID],
        db: NamedDependency[Database],
        door: NamedDependency[Door],
        actor: NamedDependency[Actor],
        why: NamedDependency[Justification | None],
    ) -> list[ChangeRead]:
        return await _through_door(
            door, actor, why, queries.find_history, db, kind, record_id, actor=actor, why=why
        )

    def change_access(
        record_id: FromPath[uuid.UUID],
        data: JSONBody[AccessChange],
        db: NamedDependency[Database],
        actor: NamedDependency[Actor],
        why: NamedDependency[Justification | None],
    ) -> AccessRead:
        return restriction.change_access(db, kind, record_id, data, actor=actor, why=why)

    def import_batch(
        data: JSONBody[ImportBatch],
        db: NamedDependency[Database],
        actor: NamedDependency[Actor],
        why: NamedDependency[Justification | None],
    ) -> ImportReport:
        return services.import_records(db, kind, data, actor=actor, why=why)

    filters = ", ".join(sorted(kind.filters))
    reason_note = (
        " A check: send X-Bluelight-Reason (a code from /api/v1/vocab/access-reason) and "
        "X-Bluelight-Reason-Text, or get 400 REASON_REQUIRED."
        if kind.name in REASON_KINDS
        else " A restricted record also needs X-Bluelight-Reason and X-Bluelight-Reason-Text."
    )
    write_note = (
        " Send X-Bluelight-Reason and X-Bluelight-Reason-Text: the change is audited with them."
        if kind.name in REASON_KINDS
        else ""
    )
    # A link joins what is known about two records: "combination" in the law's terms.
    made = Action.COMBINATION if kind.name == "link" else Action.COLLECTION
    changed = Action.COMBINATION if kind.name == "link" else Action.ALTERATION
    handlers = [
        post(
            "/",
            opt=needs(kind.write_permission, act=_act(kind, made, "created")),
            summary=f"Create a {kind.name}",
            description="The id may be made by the device; a second create with it is "
            f"refused.{write_note}",
            operation_id=f"create_{kind.name}",
            sync_to_thread=True,
        )(_typed(create_one, data=_json_body(kind.create), **{"return": kind.read})),
        get(
            "/",
            opt=needs(
                kind.read_permission,
                act=queries.list_act(kind),
                params={
                    **CURSOR,
                    **{name: _filter_schema(spec) for name, spec in kind.filters.items()},
                },
            ),
            summary=f"List {kind.path}",
            description=f"Keyset pages in id order. Filters: {filters}.{reason_note}",
            operation_id=f"list_{kind.path}",
        )(list_page),
        get(
            "/{record_id:uuid}",
            # It reads the reason headers itself (no dependency injection on this path).
            opt=needs(
                kind.read_permission,
                act=queries.read_act(kind),
                reason="accepted",
                authenticate=IN_ROUND,
            ),
            summary=f"Read a {kind.name}",
            response_class=_ReadAnswer,
            description=f"The read is audited before the record is sent.{reason_note}",
            operation_id=f"read_{kind.name}",
        )(_typed(read_one, **{"return": kind.read})),
        patch(
            "/{record_id:uuid}",
            opt=needs(
                kind.write_permission,
                act=_act(kind, changed, "updated"),
            ),
            summary=f"Change a {kind.name}",
            description=f"Send the version you read; fields left out stay as they are.{write_note}",
            operation_id=f"update_{kind.name}",
            sync_to_thread=True,
        )(_typed(update_one, data=_json_body(kind.update), **{"return": kind.read})),
        delete(
            "/{record_id:uuid}",
            opt=needs(Permission.RECORD_DELETE, act=_act(kind, Action.ERASURE, "deleted")),
            summary=f"Delete a {kind.name} (softly, with a reason)",
            description=write_note.strip(),
            operation_id=f"delete_{kind.name}",
            status_code=200,
            sync_to_thread=True,
        )(_typed(delete_one, **{"return": kind.read})),
        get(
            "/{record_id:uuid}/history",
            opt=needs(kind.read_permission, act=queries.history_act(kind)),
            summary=f"Every version of a {kind.name}",
            description=reason_note.strip(),
            operation_id=f"history_{kind.name}",
        )(history),
        put(
            "/{record_id:uuid}/access",
            opt=needs(
                Permission.RECORD_RESTRICT, act=_act(kind, Action.ALTERATION, "access-changed")
            ),
            summary=f"Classify or restrict a {kind.name}",
            description="Set the classification, and restrict it to named users and teams."
            + write_note,
            operation_id=f"access_{kind.name}",
            sync_to_thread=True,
        )(change_access),
        post(
            "/import",
            opt=needs(Permission.RECORD_IMPORT, act=_act(kind, Action.COLLECTION, "imported")),
            summary=f"Import {kind.path} carrying a force's local codes",
            description=write_note.strip(),
            operation_id=f"import_{kind.path}",
            status_code=200,
            sync_to_thread=True,
        )(import_batch),
    ]
    if kind.name in SHAREABLE:
        handlers += share_handlers(kind)
    # Personal data must not linger in a browser's or a proxy's cache.
    return Router(
        path=f"/{kind.path}",
        route_handlers=handlers,
        tags=tag,
        cache_control=CacheControlHeader(no_store=True),
        opt={"subject_type": kind.name},
    )


def _act(kind: Kind, action: Action, what: str) -> Act:
    return Act(action, f"records:{kind.name}:{what}", kind.name)


def share_handlers(kind: Kind) -> list[Any]:
    """Share a record with a partner agency, list its shares, stop sharing."""

    def share(
        record_id: FromPath[uuid.UUID],
        data: JSONBody[ShareCreate],
        db: NamedDependency[Database],
        actor: NamedDependency[Actor],
        disclosure_reason: NamedDependency[Justification],
    ) -> ShareRead:
        return shares.share_record(db, kind, record_id, data, actor=actor, why=disclosure_reason)

    def list_shares(
        record_id: FromPath[uuid.UUID], db: NamedDependency[Database], actor: NamedDependency[Actor]
    ) -> list[ShareRead]:
        return shares.list_shares(db, kind, record_id, actor=actor)

    def unshare(
        record_id: FromPath[uuid.UUID],
        agency: FromPath[str],
        db: NamedDependency[Database],
        actor: NamedDependency[Actor],
    ) -> ShareRead:
        return shares.revoke_share(db, kind, record_id, agency[:10], actor=actor)

    return [
        post(
            "/{record_id:uuid}/shares",
            opt=needs(Permission.RECORD_SHARE, act=_act(kind, Action.DISCLOSURE, "shared")),
            summary=f"Share a {kind.name} with a partner agency",
            description="Levels: location (where, and the hazards), operational (adds what "
            "happened, without personal data), full. A disclosure: send X-Bluelight-Reason "
            "and X-Bluelight-Reason-Text.",
            operation_id=f"share_{kind.name}",
            status_code=200,
            sync_to_thread=True,
        )(share),
        get(
            "/{record_id:uuid}/shares",
            opt=needs(Permission.RECORD_SHARE, act=_act(kind, Action.CONSULTATION, "shares-read")),
            summary=f"Who a {kind.name} is shared with",
            operation_id=f"shares_{kind.name}",
            sync_to_thread=True,
        )(list_shares),
        delete(
            "/{record_id:uuid}/shares/{agency:str}",
            opt=needs(Permission.RECORD_SHARE, act=_act(kind, Action.DISCLOSURE, "share-revoked")),
            summary=f"Stop sharing a {kind.name} with an agency",
            operation_id=f"unshare_{kind.name}",
            status_code=200,
            sync_to_thread=True,
        )(unshare),
    ]


def shared_router() -> Router:
    """What partner agencies see: the events shared with them, at each share's level."""

    @get(
        "/events",
        opt=needs(Permission.SHARED_READ, act=partners.SHARED_READ, params=CURSOR),
        summary="Events shared with my agency",
        description="A page that names people (a share at the full level) needs "
        "X-Bluelight-Reason and X-Bluelight-Reason-Text.",
        operation_id="list_shared_events",
    )
    async def list_shared(
        db: NamedDependency[Database],
        door: NamedDependency[Door],
        actor: NamedDependency[Actor],
        why: NamedDependency[Justification | None],
        cursor: str | None = Parameter(default=None, max_length=64),
        limit: int = Parameter(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    ) -> SharedPage:
        return await _through_door(
            door, actor, why, partners.list_shared, db, actor=actor, cursor=cursor, limit=limit
        )

    @get(
        "/events/{record_id:uuid}",
        opt=needs(Permission.SHARED_READ, act=partners.SHARED_READ),
        summary="An event shared with my agency, at its share level",
        description="An event that names people (shared at the full level) needs "
        "X-Bluelight-Reason and X-Bluelight-Reason-Text.",
        operation_id="read_shared_event",
    )
    async def read_shared(
        record_id: FromPath[uuid.UUID],
        db: NamedDependency[Database],
        door: NamedDependency[Door],
        actor: NamedDependency[Actor],
        why: NamedDependency[Justification | None],
    ) -> SharedEvent:
        return await _through_door(
            door, actor, why, partners.read_shared, db, record_id, actor=actor
        )

    return Router(
        path="/shared",
        route_handlers=[list_shared, read_shared],
        tags=["Shared with my agency"],
        cache_control=CacheControlHeader(no_store=True),
        opt={"subject_type": "event"},
    )


def record_routers() -> list[Router]:
    return [*(kind_router(kind) for kind in KINDS), shared_router()]
