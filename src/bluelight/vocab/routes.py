"""HTTP routes of the code lists; lists carry ETags so devices refresh them cheaply."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import anyio
from litestar import Request, Response, Router, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath

from bluelight.audit import Who
from bluelight.db import Database
from bluelight.kernel.permissions import Permission, needs
from bluelight.vocab import queries, services
from bluelight.vocab.catalogue import catalogue_etag, code_list
from bluelight.vocab.errors import VocabError, VocabErrorCode
from bluelight.vocab.schemas import CatalogueRead, CodeListRead, MappingRead, MappingReport

FORCE = r"^[A-Z0-9]{2,10}$"
# For the API document: a force code in either case (refused 422 MAPPING_INVALID otherwise).
FORCE_PARAM = {"force": {"type": "string", "pattern": "^[A-Za-z0-9]{2,10}$"}}


def _cached(request: Request[Any, Any, Any], etag: str, body: Any) -> Response[Any]:
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    match = request.headers.get("if-none-match", "")
    if etag in (t.strip() for t in match.split(",")) or match.strip() == "*":
        return Response(None, status_code=304, headers=headers)
    return Response(body, headers=headers)


@get(
    "/",
    opt=needs(Permission.VOCAB_READ, answers=(304,)),
    summary="Every code list, with ETags",
)
async def list_lists(request: Request[Any, Any, Any]) -> Response[CatalogueRead]:
    etag = catalogue_etag()
    return _cached(request, etag, queries.catalogue(etag))


@get(
    "/{name:str}",
    opt=needs(Permission.VOCAB_READ, answers=(304,)),
    summary="One code list, with its ETag",
)
async def read_list(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[CodeListRead]:
    cl = code_list(name)
    return _cached(request, cl.etag, queries.read_list(cl))


@get(
    "/{name:str}/mappings/{force:str}",
    opt=needs(Permission.VOCAB_READ, answers=(422,), params=FORCE_PARAM),
    summary="A force's mapping of its local codes to one national list",
    sync_to_thread=True,
)
def read_mapping(
    name: FromPath[str], force: FromPath[str], db: NamedDependency[Database]
) -> MappingRead:
    return queries.read_mapping(db, _force(force), name)


@put(
    "/{name:str}/mappings/{force:str}",
    opt=needs(Permission.VOCAB_MAP, body="text/csv", params=FORCE_PARAM),
    summary="Load a force's legacy list: CSV of local code, local label, national code",
    description="Send the file as the body with Content-Type text/csv (UTF-8).",
)
async def load_mapping(
    request: Request[Any, Any, Any],
    name: FromPath[str],
    force: FromPath[str],
    db: NamedDependency[Database],
    actor: NamedDependency[Who],
) -> MappingReport:
    force_code = _force(force)
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VocabError(VocabErrorCode.MAPPING_INVALID, "the file is not UTF-8 text") from exc
    return await anyio.to_thread.run_sync(
        partial(
            services.import_mapping,
            db,
            force_code=force_code,
            list_name=name,
            csv_text=text,
            actor=actor,
        )
    )


def _force(force: str) -> str:
    if not re.fullmatch(FORCE, force.upper()):
        raise VocabError(
            VocabErrorCode.MAPPING_INVALID, "a force code is 2-10 letters and digits", force=force
        )
    return force.upper()


vocab_router = Router(
    path="/vocab",
    route_handlers=[list_lists, read_list, read_mapping, load_mapping],
    tags=["Code lists"],
)
