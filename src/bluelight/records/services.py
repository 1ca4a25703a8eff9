"""Write use cases of the POLE records: create, update, soft-delete, import with local codes.

Each function is one transaction. It checks the content against the kind's rules and the
national code lists, writes the row, and appends the new version to the change log in the
same transaction, so a record and its history never disagree.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bluelight.audit import Action, Justification, append, draft
from bluelight.changes import RecordChanged, publish
from bluelight.changes import log_change as append_change
from bluelight.db import Database
from bluelight.identity import Actor
from bluelight.kernel import new_id, utcnow
from bluelight.records.access import check_classification, may_reference, reason_needed
from bluelight.records.errors import RecordError, RecordErrorCode
from bluelight.records.kinds import Kind
from bluelight.records.models import RecordColumns
from bluelight.records.queries import fetch_row, record_exists, to_reads
from bluelight.records.rules import Context, check_codes, check_text
from bluelight.records.schemas import (
    Deletion,
    ImportBatch,
    ImportRejection,
    ImportReport,
    UnmappedCode,
)
from bluelight.vocab import Checker, InvalidInput, code_lists
from bluelight.vocab.queries import LocalMapping, force_mappings

DERIVED_EXTRAS = ("markers", "addresses")


def _columns(kind: Kind, content: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in content.__struct_fields__:
        value = getattr(content, name)
        if isinstance(value, list):
            value = msgspec.to_builtins(value)
        elif isinstance(value, datetime):
            # Stored as UTC: so the answer to a write shows the instant as every later read
            # will (0001-01-02T00:00+14:00 comes back as 0001-01-01T10:00Z either way).
            value = value.astimezone(UTC)
        values[name] = value
    values.update(kind.derived(content))
    return values


def _check_references(
    session: Session,
    kind: Kind,
    content: Any,
    checker: Checker,
    changed: frozenset[str],
    *,
    actor: Actor,
) -> None:
    """Each reference the change sets must name a live record of the actor's agency that the
    actor may see (a restricted one only if named on it): no one attaches a link or a warning
    to a record kept from them, nor learns through the answer that it exists.

    A reference the change leaves alone is not checked again, so a link to a record deleted
    since can still have its notes or dates corrected.
    """
    refs: list[tuple[str, str | None, str, uuid.UUID | None]] = []
    if kind.name == "event":
        refs.append(("location_id", None, "location", content.location_id))
    elif kind.name == "link":
        refs += [
            ("from_id", "from_type", content.from_type, content.from_id),
            ("to_id", "to_type", content.to_type, content.to_id),
        ]
    elif kind.name == "marker":
        refs.append(("subject_id", "subject_type", content.subject_type, content.subject_id))
    for field_name, type_field, entity_type, ref in refs:
        if field_name not in changed and type_field not in changed:
            continue
        if ref is not None and not (
            record_exists(session, entity_type, ref, actor.agency)
            and may_reference(session, entity_type, ref, actor)
        ):
            checker.fail(
                field_name,
                RecordErrorCode.REFERENCE_NOT_FOUND,
                f"no {entity_type} with id {ref}",
                str(ref),
            )


def _validated(
    session: Session, kind: Kind, content: Any, changed: frozenset[str], *, now: Any, actor: Actor
) -> Any:
    checker = Checker(code_lists())
    check_text(content, checker, changed)
    check_codes(content, kind.coded, checker)
    content = kind.check(content, checker, Context(now=now, changed=changed))
    _check_references(session, kind, content, checker, changed, actor=actor)
    checker.raise_if_any()
    return content


def _log(
    session: Session,
    kind: Kind,
    row: RecordColumns,
    *,
    action: str,
    actor: Actor,
    reason: str | None,
) -> Any:
    read = to_reads(session, kind, [row], actor=actor)[0]
    snapshot = msgspec.to_builtins(read)
    for extra in DERIVED_EXTRAS:
        snapshot.pop(extra, None)
    session.flush()
    seq = append_change(
        session,
        entity_type=kind.name,
        entity_id=row.id,
        version=row.version,
        action=action,
        changed_at=row.updated_at,
        changed_by=actor.username,
        reason=reason,
        snapshot=snapshot,
        owner_agency=row.owner_agency,
        classification=row.classification,
        restricted=row.restricted,
    )
    publish(
        session,
        RecordChanged(
            kind=kind.name,
            id=row.id,
            version=row.version,
            action=action,
            seq=seq,
            owner_agency=row.owner_agency,
            classification=row.classification,
            restricted=row.restricted,
        ),
    )
    return read


def log_change(
    session: Session, kind: Kind, row: RecordColumns, *, action: str, actor: Actor
) -> None:
    """Append ``row`` as it now stands to the change log, in the caller's transaction: for a
    change made outside this module (who may see a record), so history and sync see it too.
    Its ``RecordChanged`` event is published once the transaction commits."""
    _log(session, kind, row, action=action, actor=actor, reason=None)


def _flush(session: Session, kind: Kind, record_id: uuid.UUID) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        # Another writer took the id (or a unique reference) between our check and insert.
        raise RecordError(
            RecordErrorCode.DUPLICATE_ID,
            f"a {kind.name} with id {record_id} or the same reference already exists",
            id=str(record_id),
        ) from exc


def insert_record(
    session: Session,
    kind: Kind,
    data: Any,
    *,
    actor: Actor,
    original_codes: dict[str, Any] | None = None,
) -> Any:
    """Create a record inside the caller's transaction (for batches); see ``create_record``."""
    record_id = data.id or new_id()
    model: Any = kind.model
    # A lean look (one column, no autoflush, no object built): every record this session
    # added is flushed as it is added, so the database holds them all.
    taken = session.connection().execute(select(model.id).where(model.id == record_id)).first()
    if taken is not None:
        raise RecordError(
            RecordErrorCode.DUPLICATE_ID,
            f"a {kind.name} with id {record_id} already exists",
            id=str(record_id),
        )
    now = utcnow()
    fields = msgspec.convert(
        {k: getattr(data, k) for k in data.__struct_fields__ if k not in ("id", "classification")},
        kind.fields,
        from_attributes=True,
    )
    content = _validated(
        session, kind, fields, frozenset(fields.__struct_fields__), now=now, actor=actor
    )
    _unique_reference(session, kind, content, record_id)
    classification = getattr(data, "classification", "OFFICIAL")
    check_classification(actor, classification)
    row = model(
        id=record_id,
        version=1,
        owner_agency=actor.agency,
        classification=classification,
        restricted=False,
        created_at=now,
        created_by=actor.username,
        updated_at=now,
        updated_by=actor.username,
        original_codes=original_codes or None,
        **_columns(kind, content),
    )
    session.add(row)
    _flush(session, kind, record_id)
    return _log(session, kind, row, action="created", actor=actor, reason=None)


def _unique_reference(session: Session, kind: Kind, content: Any, record_id: uuid.UUID) -> None:
    if kind.name != "event" or content.reference is None:
        return
    model: Any = kind.model
    clash = session.execute(
        select(model.id).where(model.reference == content.reference, model.id != record_id)
    ).first()
    if clash is not None:
        raise RecordError(
            RecordErrorCode.DUPLICATE_REFERENCE,
            f"reference {content.reference!r} is already used by event {clash[0]}",
            reference=content.reference,
        )


def create_record(
    db: Database, kind: Kind, data: Any, *, actor: Actor, why: Justification | None = None
) -> Any:
    """Create a record of ``kind`` from its create type; the id may come from the device.

    Raises:
        InvalidInput: a field breaks a rule or holds an unknown or retired code (422).
        RecordError: DUPLICATE_ID, DUPLICATE_REFERENCE.
        AuditError: REASON_REQUIRED for a person, vehicle, link or marker without a reason.
    """
    with db.write() as session:
        return create_record_in(session, kind, data, actor=actor, why=why)


def create_record_in(
    session: Session, kind: Kind, data: Any, *, actor: Actor, why: Justification | None = None
) -> Any:
    """``create_record`` inside the caller's transaction (sync applies a batch in one)."""
    reason_needed(kind, why, writing=True)
    read = insert_record(session, kind, data, actor=actor)
    _audit_change(session, kind, read, actor, "created", why=why)
    return read


# A link joins what is known about two records: "combination" in the law's terms.
_ACTIONS = {
    "created": Action.COLLECTION,
    "updated": Action.ALTERATION,
    "deleted": Action.ERASURE,
    "imported": Action.COLLECTION,
    "unchanged": Action.CONSULTATION,
    "conflict": Action.CONSULTATION,
}


def _audit_change(
    session: Session,
    kind: Kind,
    read: Any,
    actor: Actor,
    what: str,
    *,
    ids: list[str] | None = None,
    detail: dict[str, Any] | None = None,
    why: Justification | None = None,
) -> None:
    action = _ACTIONS[what]
    subjects = ids if ids is not None else [str(read.id)]
    if kind.name == "link" and what in ("created", "updated") and read is not None:
        action = Action.COMBINATION
        subjects = [str(read.id), str(read.from_id), str(read.to_id)]
    append(
        session,
        [
            draft(
                actor,
                action,
                f"records:{kind.name}:{what}",
                at=utcnow(),
                id=new_id(),
                subject_type=kind.name,
                subject_ids=subjects,
                why=why,
                detail=detail or {},
            )
        ],
    )


def _check_version(kind: Kind, row: RecordColumns, version: int) -> None:
    if row.version != version:
        raise RecordError(
            RecordErrorCode.VERSION_CONFLICT,
            f"{kind.name} {row.id} is at version {row.version}, not {version}: "
            "read it again and reapply the change",
            id=str(row.id),
            current_version=row.version,
        )


def update_record(
    db: Database,
    kind: Kind,
    record_id: uuid.UUID,
    patch: Any,
    *,
    actor: Actor,
    why: Justification | None = None,
) -> Any:
    """Change some fields of a record, based on the version the client last read.

    A field left out is unchanged; a field given as null is cleared. A change that alters
    nothing leaves the version as it was, and is audited as a consultation: its answer shows
    the record all the same.

    Raises:
        InvalidInput: the changed record would break a rule (422).
        RecordError: RECORD_NOT_FOUND, RECORD_DELETED, VERSION_CONFLICT, DUPLICATE_REFERENCE,
            CLASSIFICATION_ABOVE_CLEARANCE, RECORD_RESTRICTED.
        AuditError: REASON_REQUIRED for a person, vehicle, link or marker without a reason.
    """
    with db.write() as session:
        return update_record_in(session, kind, record_id, patch, actor=actor, why=why)


def update_record_in(
    session: Session,
    kind: Kind,
    record_id: uuid.UUID,
    patch: Any,
    *,
    actor: Actor,
    why: Justification | None = None,
) -> Any:
    """``update_record`` inside the caller's transaction (sync applies a batch in one)."""
    reason_needed(kind, why, writing=True)
    changes = {
        k: getattr(patch, k)
        for k in patch.__struct_fields__
        if k != "version" and getattr(patch, k) is not msgspec.UNSET
    }
    row: Any = fetch_row(session, kind, record_id, actor=actor, for_update=True)
    _check_version(kind, row, patch.version)
    current = msgspec.convert(row, kind.fields, from_attributes=True)
    merged = msgspec.structs.replace(current, **changes)
    now = utcnow()
    content = _validated(session, kind, merged, frozenset(changes), now=now, actor=actor)
    _unique_reference(session, kind, content, record_id)
    new_columns = _columns(kind, content)
    if all(getattr(row, k) == v for k, v in new_columns.items()):
        read = to_reads(session, kind, [row], actor=actor)[0]
        _audit_change(session, kind, read, actor, "unchanged", why=why)
        return read
    for k, v in new_columns.items():
        setattr(row, k, v)
    row.version += 1
    row.updated_at = now
    row.updated_by = actor.username
    try:
        session.flush()
    except IntegrityError as exc:
        # The only unique value a change can clash on: another writer took the same event
        # reference between our check and this write.
        raise RecordError(
            RecordErrorCode.DUPLICATE_REFERENCE,
            f"reference {content.reference!r} was just taken by another event",
            reference=content.reference,
        ) from exc
    read = _log(session, kind, row, action="updated", actor=actor, reason=None)
    _audit_change(
        session, kind, read, actor, "updated", why=why, detail={"fields": sorted(changes)}
    )
    return read


def conflicting_record_in(
    session: Session,
    kind: Kind,
    record_id: uuid.UUID,
    *,
    actor: Actor,
    why: Justification | None = None,
) -> Any:
    """The record as it now stands, for a change that found it changed since the version it
    was based on (sync's ``conflict``, resolved on the device): read in the caller's
    transaction and audited there as a consultation, before the answer exists.

    Raises:
        RecordError: as ``fetch_row``.
    """
    row: Any = fetch_row(session, kind, record_id, actor=actor)
    read = to_reads(session, kind, [row], actor=actor, with_restricted=why is not None)[0]
    _audit_change(session, kind, read, actor, "conflict", why=why)
    return read


def delete_record(
    db: Database,
    kind: Kind,
    record_id: uuid.UUID,
    deletion: Deletion,
    *,
    actor: Actor,
    why: Justification | None = None,
) -> Any:
    """Soft-delete a record: it leaves lists and reads, and keeps its history and the reason.

    Raises:
        RecordError: RECORD_NOT_FOUND, RECORD_DELETED, VERSION_CONFLICT.
        AuditError: REASON_REQUIRED for a person, vehicle, link or marker without a reason.
    """
    with db.write() as session:
        return delete_record_in(session, kind, record_id, deletion, actor=actor, why=why)


def delete_record_in(
    session: Session,
    kind: Kind,
    record_id: uuid.UUID,
    deletion: Deletion,
    *,
    actor: Actor,
    why: Justification | None = None,
) -> Any:
    """``delete_record`` inside the caller's transaction (sync applies a batch in one)."""
    reason_needed(kind, why, writing=True)
    row: Any = fetch_row(session, kind, record_id, actor=actor, for_update=True)
    _check_version(kind, row, deletion.version)
    now = utcnow()
    row.version += 1
    row.updated_at = now
    row.updated_by = actor.username
    row.deleted_at = now
    row.deleted_by = actor.username
    row.deletion_reason = deletion.reason
    session.flush()
    read = _log(session, kind, row, action="deleted", actor=actor, reason=deletion.reason)
    _audit_change(
        session, kind, read, actor, "deleted", why=why, detail={"reason": deletion.reason}
    )
    return read


UNMAPPED_CODE = "UNMAPPED_CODE"
INVALID_RECORD = "INVALID_RECORD"


def _nullable(kind: Kind, field_name: str) -> bool:
    info = next(f for f in msgspec.structs.fields(kind.fields) if f.name == field_name)
    return not info.required and info.default is None


def _translate(
    kind: Kind, record: dict[str, Any], mapping: LocalMapping, source_force: str
) -> tuple[dict[str, Any], list[tuple[str, str, str, bool]]]:
    """Replace each local code by its national code, for the lists the force has mapped.

    Returns the original codes (to keep with the record) and the unmapped ones, each with
    whether the record can still be stored (only a nullable single-valued field can be left
    empty; anywhere else the record is refused, and reported).
    """
    originals: dict[str, Any] = {}
    unmapped: list[tuple[str, str, str, bool]] = []
    for c in kind.coded:
        table = mapping.get(c.list_name)
        value = record.get(c.field)
        if table is None or value is None or not isinstance(value, (str, list)):
            continue
        slots: list[tuple[str, Any, Any]] = []
        if c.sub is not None and isinstance(value, list):
            slots = [
                (f"{c.field}[{i}].{c.sub}", item, c.sub)
                for i, item in enumerate(value)
                if isinstance(item, dict) and isinstance(item.get(c.sub), str)
            ]
        elif c.many and isinstance(value, list):
            slots = [
                (f"{c.field}[{i}]", value, i) for i, v in enumerate(value) if isinstance(v, str)
            ]
        elif isinstance(value, str):
            slots = [(c.field, record, c.field)]
        for path, holder, key in slots:
            local = holder[key]
            row = table.get(local)
            originals[path] = {
                "list": c.list_name,
                "local_code": local,
                "local_label": row.local_label if row else None,
                "national_code": row.national_code if row else None,
                "source_force": source_force,
            }
            if row is not None:
                holder[key] = row.national_code
                continue
            storable = holder is record and _nullable(kind, c.field)
            unmapped.append((path, c.list_name, local, storable))
            if storable:
                holder[key] = None
    return originals, unmapped


def import_records(
    db: Database,
    kind: Kind,
    batch: ImportBatch,
    *,
    actor: Actor,
    why: Justification | None = None,
) -> ImportReport:
    """Store records from a force's own system, translating its local codes.

    Every local code of a list the force has mapped is stored as its national code, and the
    original is kept in ``original_codes``. An unmapped code is reported; in a nullable field
    the record is stored with the field empty, elsewhere the record is refused and reported.
    Each record stands alone: a bad one is reported and the rest are stored.

    Raises:
        RecordError: never for one record; only if the batch itself is unusable.
        AuditError: REASON_REQUIRED for persons, vehicles, links or markers without a reason.
    """
    reason_needed(kind, why, writing=True)
    report = ImportReport(created=[], unmapped=[], rejected=[])
    seen: set[str] = set()
    with db.write() as session:
        mapping = force_mappings(session, batch.source_force, {c.list_name for c in kind.coded})
        for index, raw in enumerate(batch.records):
            record = msgspec.json.decode(msgspec.json.encode(raw))
            originals, unmapped = _translate(kind, record, mapping, batch.source_force)
            report.unmapped.extend(
                UnmappedCode(index=index, field=p, list=ln, local_code=code)
                for p, ln, code, _ in unmapped
            )
            refused = [p for p, _, _, storable in unmapped if not storable]
            if refused:
                report.rejected.append(
                    ImportRejection(
                        index=index,
                        code=UNMAPPED_CODE,
                        detail=f"no national code for {', '.join(refused)}",
                    )
                )
                continue
            try:
                data = msgspec.convert(record, kind.create)
            except msgspec.ValidationError as exc:
                report.rejected.append(
                    ImportRejection(index=index, code=INVALID_RECORD, detail=str(exc))
                )
                continue
            record_id = str(getattr(data, "id", None) or "") or None
            if record_id is not None and record_id in seen:
                report.rejected.append(
                    ImportRejection(
                        index=index,
                        code=RecordErrorCode.DUPLICATE_ID,
                        detail=f"id {record_id} appears earlier in the batch",
                    )
                )
                continue
            try:
                with session.begin_nested():
                    read = insert_record(session, kind, data, actor=actor, original_codes=originals)
            except InvalidInput as exc:
                report.rejected.append(
                    ImportRejection(
                        index=index, code=exc.code, detail=exc.detail, errors=exc.extra["errors"]
                    )
                )
                continue
            except RecordError as exc:
                report.rejected.append(
                    ImportRejection(index=index, code=exc.code, detail=exc.detail)
                )
                continue
            if record_id is not None:
                seen.add(record_id)
            report.created.append(read.id)
        if report.created:
            _audit_change(
                session,
                kind,
                None,
                actor,
                "imported",
                why=why,
                ids=[str(i) for i in report.created],
                detail={"source_force": batch.source_force, "rejected": len(report.rejected)},
            )
    return report


__all__ = [
    "InvalidInput",
    "conflicting_record_in",
    "create_record",
    "create_record_in",
    "delete_record",
    "delete_record_in",
    "import_records",
    "insert_record",
    "log_change",
    "update_record",
    "update_record_in",
]
