"""The read side of the code lists."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bluelight.db import Database
from bluelight.vocab.catalogue import code_list, code_lists
from bluelight.vocab.models import ForceCodeMapping
from bluelight.vocab.rules import VOCAB_PATH, CodeList
from bluelight.vocab.schemas import (
    CatalogueRead,
    CodeListRead,
    CodeListSummary,
    EntryRead,
    MappingRead,
    MappingRowRead,
)

LocalMapping = dict[str, dict[str, MappingRowRead]]


def catalogue(etag: str) -> CatalogueRead:
    """A summary of every list, with the ETag of each so a device refreshes only what changed."""
    return CatalogueRead(
        etag=etag,
        lists=[
            CodeListSummary(
                name=cl.name,
                title=cl.title,
                version=cl.version,
                etag=cl.etag,
                href=VOCAB_PATH + cl.name,
                active=sum(1 for e in cl.entries if e.active),
                retired=sum(1 for e in cl.entries if not e.active),
            )
            for cl in code_lists().values()
        ],
    )


def read_list(cl: CodeList) -> CodeListRead:
    return CodeListRead(
        name=cl.name,
        title=cl.title,
        version=cl.version,
        description=cl.description,
        source=cl.source,
        attributes=dict(cl.attributes),
        entries=[
            EntryRead(e.code, e.label, e.description, e.status, dict(e.attributes))
            for e in cl.entries
        ],
    )


def force_mappings(session: Session, force_code: str, list_names: Iterable[str]) -> LocalMapping:
    """The loaded mappings of ``force_code`` for the given lists, by list then local code."""
    names = list(list_names)
    out: LocalMapping = {}
    rows = session.scalars(
        select(ForceCodeMapping).where(
            ForceCodeMapping.force_code == force_code, ForceCodeMapping.list_name.in_(names)
        )
    )
    for row in rows:
        out.setdefault(row.list_name, {})[row.local_code] = MappingRowRead(
            row.local_code, row.local_label, row.national_code
        )
    return out


def read_mapping(db: Database, force_code: str, list_name: str) -> MappingRead:
    """A force's loaded mapping for one list (empty when none is loaded).

    Raises:
        VocabError: UNKNOWN_LIST.
    """
    code_list(list_name)
    with db.read() as session:
        rows = force_mappings(session, force_code, [list_name]).get(list_name, {})
    return MappingRead(force_code, list_name, sorted(rows.values(), key=lambda r: r.local_code))
