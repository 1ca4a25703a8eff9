"""HTTP routes of the audit trail: search, export, signed tree heads and proofs.

Auditors are audited too: a search, a read and an export each leave an entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, TypeVar

from litestar import Router, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter, QueryParameter
from litestar.response import Stream

from bluelight.audit import queries
from bluelight.audit.door import Act, Disclosure, Door
from bluelight.audit.errors import AuditError, AuditErrorCode
from bluelight.audit.export import EXPORTED, csv_lines, exported, filter_detail, json_lines
from bluelight.audit.rules import Action, Justification, Who
from bluelight.audit.schemas import (
    ConsistencyProof,
    EntryPage,
    EntryRead,
    InclusionProof,
    SigningKeyRead,
    TreeHeadRead,
)
from bluelight.audit.services import TreeSigner
from bluelight.db import Database
from bluelight.kernel.permissions import Permission, needs

NO_STORE = CacheControlHeader(no_store=True)
Text64 = Annotated[str | None, QueryParameter(max_length=64)]
# A search names its subject in its own audit entry, whose subject index holds 40 characters.
Subject = Annotated[str | None, QueryParameter(max_length=40)]
# A place in the trail: at most the largest integer JSON carries exactly (2^53 - 1, well within
# the database's 64-bit column). A bound of 2^63 - 1 reads as a float in the API document, where
# numbers just above it compare equal to it.
MAX_PLACE = 2**53 - 1
ACTIONS = {str(a) for a in Action}
# For the API document: what the server checks of a query past its type.
CHECKED = {"action": {"type": "string", "enum": sorted(ACTIONS)}}
T = TypeVar("T")


def _filter(
    subject: str | None,
    user: str | None,
    action: str | None,
    outcome: str | None,
    tag: str | None,
    since: datetime | None,
    until: datetime | None,
    *,
    agency: str,
) -> queries.EntryFilter:
    if action is not None and action not in ACTIONS:
        raise AuditError(
            AuditErrorCode.INVALID_QUERY,
            f"action is one of {', '.join(sorted(ACTIONS))}",
            allowed=sorted(ACTIONS),
        )
    for instant in (since, until):
        if instant is not None and instant.tzinfo is None:
            raise AuditError(AuditErrorCode.INVALID_QUERY, "give times with a timezone")
    return queries.EntryFilter(subject, user, action, outcome, tag, since, until, agency)


# The trail holds who looked at whom and why: reading it is a consultation of personal data
# like any other, and asks a reason (AUDIT-REVIEW, most often).
SEARCHED = Act(Action.CONSULTATION, "audit:trail:searched", "audit")
ENTRY_READ = Act(Action.CONSULTATION, "audit:entry:read", "audit")
REASON_NOTE = " Send X-Bluelight-Reason and X-Bluelight-Reason-Text (AUDIT-REVIEW, most often)."


def searched(f: queries.EntryFilter, page: EntryPage) -> Disclosure[EntryPage]:
    return Disclosure(
        page,
        SEARCHED,
        [f.subject] if f.subject else [],
        needs_reason=True,
        detail=filter_detail(f),
    )


@get(
    "/entries",
    opt=needs(Permission.AUDIT_READ, act=SEARCHED, params=CHECKED),
    summary="Search the audit trail (who looked at this person, when and why)",
    description="Newest first. `subject` finds every entry that touched a record or user; "
    "`user` takes a user id or username; times are RFC 3339 with a timezone." + REASON_NOTE,
)
async def search_entries(
    db: NamedDependency[Database],
    door: NamedDependency[Door],
    actor: NamedDependency[Who],
    why: NamedDependency[Justification | None],
    subject: Subject = None,
    user: Text64 = None,
    action: Text64 = None,
    outcome: FromQuery[Literal["allowed", "denied"] | None] = None,
    tag: Text64 = None,
    since: FromQuery[datetime | None] = None,
    until: FromQuery[datetime | None] = None,
    cursor: int | None = Parameter(default=None, ge=0, le=MAX_PLACE),
    limit: int = Parameter(default=50, ge=1, le=200),
) -> EntryPage:
    f = _filter(subject, user, action, outcome, tag, since, until, agency=actor.agency)
    page = await sync_to_thread(queries.search, db, f, before=cursor, limit=limit)
    return await door.release(searched(f, page), who=actor, why=why)


@get(
    "/entries/{seq:int}",
    opt=needs(Permission.AUDIT_READ, act=ENTRY_READ),
    summary="One audit entry",
    description=REASON_NOTE.strip(),
)
async def read_entry(
    seq: Annotated[int, Parameter(ge=0, le=MAX_PLACE)],
    db: NamedDependency[Database],
    door: NamedDependency[Door],
    actor: NamedDependency[Who],
    why: NamedDependency[Justification | None],
) -> EntryRead:
    entry = await sync_to_thread(queries.get_entry, db, seq, agency=actor.agency)
    found = Disclosure(entry, ENTRY_READ, needs_reason=True, detail={"seq": seq})
    return await door.release(found, who=actor, why=why)


@get(
    "/export",
    opt=needs(
        Permission.AUDIT_READ,
        act=EXPORTED,
        params=CHECKED,
        produces=("application/x-ndjson", "text/csv"),
    ),
    summary="Export entries as CSV or JSON lines",
    description="Oldest first, streamed. The export is itself audited as a disclosure."
    + REASON_NOTE,
)
async def export_entries(
    db: NamedDependency[Database],
    door: NamedDependency[Door],
    actor: NamedDependency[Who],
    why: NamedDependency[Justification | None],
    format: FromQuery[Literal["csv", "json"]] = "json",
    subject: Subject = None,
    user: Text64 = None,
    action: Text64 = None,
    outcome: FromQuery[Literal["allowed", "denied"] | None] = None,
    tag: Text64 = None,
    since: FromQuery[datetime | None] = None,
    until: FromQuery[datetime | None] = None,
) -> Stream:
    f = _filter(subject, user, action, outcome, tag, since, until, agency=actor.agency)
    entries = queries.export(db, f)
    if format == "csv":
        stream = Stream(
            csv_lines(entries),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
    else:
        stream = Stream(
            json_lines(entries),
            media_type="application/x-ndjson",
            headers={"Content-Disposition": 'attachment; filename="audit.jsonl"'},
        )
    return await door.release(
        exported(f, stream, recipient=actor.username, detail={"format": format}),
        who=actor,
        why=why,
    )


@get(
    "/tree-heads",
    opt=needs(Permission.AUDIT_READ),
    summary="Every signed tree head",
    sync_to_thread=True,
)
def list_heads(db: NamedDependency[Database]) -> list[TreeHeadRead]:
    return queries.heads(db)


@get(
    "/tree-heads/latest",
    opt=needs(Permission.AUDIT_READ, answers=(404,)),
    summary="The latest signed tree head",
    sync_to_thread=True,
)
def latest_head(db: NamedDependency[Database]) -> TreeHeadRead:
    head = queries.latest_head(db)
    if head is None:
        raise AuditError(AuditErrorCode.ENTRY_NOT_FOUND, "no tree head has been signed yet")
    return head


@post(
    "/tree-heads",
    opt=needs(Permission.AUDIT_SIGN),
    summary="Sign the tree as it stands now",
    status_code=200,
    sync_to_thread=True,
)
def sign_head(signer: NamedDependency[TreeSigner]) -> TreeHeadRead:
    return signer.sign()


@get(
    "/key",
    opt=needs(Permission.AUDIT_READ),
    summary="The public key tree heads are signed with",
    sync_to_thread=False,
)
def signing_key(signer: NamedDependency[TreeSigner]) -> SigningKeyRead:
    return SigningKeyRead(
        key_id=signer.key.key_id, algorithm="Ed25519", public_key=signer.key.public_bytes().hex()
    )


@get(
    "/proofs/inclusion",
    opt=needs(Permission.AUDIT_READ, answers=(404,)),
    summary="RFC 9162 inclusion proof of an entry",
    sync_to_thread=True,
)
def inclusion(
    db: NamedDependency[Database],
    seq: int = Parameter(ge=0),
    tree_size: int | None = Parameter(default=None, ge=1),
) -> InclusionProof:
    return queries.prove_inclusion(db, seq, tree_size)


@get(
    "/proofs/consistency",
    opt=needs(Permission.AUDIT_READ),
    summary="RFC 9162 consistency proof between two tree sizes",
    sync_to_thread=True,
)
def consistency(
    db: NamedDependency[Database],
    # RFC 9162 has no proof from the empty tree: there is nothing to be consistent with.
    first: int = Parameter(ge=1),
    second: int | None = Parameter(default=None, ge=1),
) -> ConsistencyProof:
    return queries.prove_consistency(db, first, second)


audit_router = Router(
    path="/audit",
    route_handlers=[
        search_entries,
        read_entry,
        export_entries,
        list_heads,
        latest_head,
        sign_head,
        signing_key,
        inclusion,
        consistency,
    ],
    tags=["Audit"],
    cache_control=NO_STORE,
)
