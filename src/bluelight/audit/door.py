"""The one door personal data leaves the server by.

Whatever asks for personal data (a record read, a list, a record's history, a partner's view
of a shared event, the audit trail itself, and later sync pull, checks and briefings), its
answer is a ``Disclosure``: the value, and what its audit entry will say. The ``Door``
releases the value only when

1. a reason was given, if the disclosure needs one (a person or vehicle check, anything about
   a person such as their links and warnings, a restricted record): else ``REASON_REQUIRED``,
   and nothing is released; and
2. the disclosure's entry, naming who, from which device, what, about whom and why, is
   committed to the trail (``AuditWriter``: group commit): else ``AUDIT_UNAVAILABLE``, and
   nothing is released.

A write's answer needs no trip through the door: the write's own entry, reason included, is
committed in the write's transaction before the answer exists.

A refused attempt is audited through the door too (``refuse``): the web layer hands it every
refusal of access (a missing permission, a missing or unknown reason, a record kept from the
reader), so what was refused is on the trail before the refusal is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bluelight.audit.errors import AuditError, AuditErrorCode
from bluelight.audit.reasons import REASONS
from bluelight.audit.rules import Action, Draft, Justification, Outcome, Who, draft
from bluelight.audit.services import AuditWriter, append
from bluelight.kernel import new_id, utcnow

T = TypeVar("T")
log = logging.getLogger("bluelight.audit")


@dataclass(frozen=True, slots=True)
class Act:
    """What a route does, as the trail names it: for its entries, and for a refusal of it."""

    action: Action
    tag: str
    subject_type: str | None = None


@dataclass(frozen=True, slots=True)
class Disclosure(Generic[T]):
    """What a read is about to hand out, and what its audit entry says.

    ``needs_reason``: the value holds what the law asks a reason for (decided by the feature
    that read it). ``subject_ids``: every record whose data is in the value. An empty
    disclosure that needs no reason (a list that found nothing) writes no entry.
    """

    value: T
    act: Act
    subject_ids: Sequence[str] = ()
    needs_reason: bool = False
    recipients: Sequence[str] = ()
    detail: dict[str, Any] = field(default_factory=dict)


def reason_required(what: str) -> AuditError:
    """The refusal of ``what`` asked without a reason."""
    return AuditError(
        AuditErrorCode.REASON_REQUIRED,
        f"{what} needs a reason: send X-Bluelight-Reason with a code from {REASONS} and "
        "X-Bluelight-Reason-Text saying why",
        allowed=REASONS,
    )


class Door:
    """Releases disclosures once their entries are durable; audits refusals."""

    def __init__(self, writer: AuditWriter) -> None:
        self._writer = writer
        self._batches = writer.db.kept_writer()  # release_batch's, kept between batches

    def close(self) -> None:
        """Give back the connection batches are written on (a later batch takes another)."""
        self._batches.close()

    @property
    def writer(self) -> AuditWriter:
        return self._writer

    @staticmethod
    def entry(disclosure: Disclosure[Any], *, who: Who, why: Justification | None) -> Draft | None:
        """The entry ``disclosure`` must have on the trail before it is released (``None``:
        it discloses nothing).

        Raises:
            AuditError: REASON_REQUIRED, when it needs a reason and ``why`` is ``None``.
        """
        if disclosure.needs_reason and why is None:
            raise reason_required(f"{disclosure.act.tag} (personal data)")
        if not disclosure.subject_ids and not disclosure.needs_reason:
            return None
        return draft(
            who,
            disclosure.act.action,
            disclosure.act.tag,
            at=utcnow(),
            id=new_id(),
            subject_type=disclosure.act.subject_type,
            subject_ids=list(disclosure.subject_ids),
            why=why,
            recipients=list(disclosure.recipients),
            detail=disclosure.detail,
        )

    async def release(self, disclosure: Disclosure[T], *, who: Who, why: Justification | None) -> T:
        """``disclosure.value``, once its entry is on disk (waiting on the event loop).

        Raises:
            AuditError: REASON_REQUIRED; AUDIT_UNAVAILABLE (the entry could not be written).
        """
        entry = self.entry(disclosure, who=who, why=why)
        if entry is not None:
            await self._writer.write_async(entry)
        return disclosure.value

    def release_now(self, disclosure: Disclosure[T], *, who: Who, why: Justification | None) -> T:
        """``release`` for a caller off the event loop (a command line, a worker thread).

        Raises:
            AuditError: REASON_REQUIRED; AUDIT_UNAVAILABLE.
        """
        entry = self.entry(disclosure, who=who, why=why)
        if entry is not None:
            self._writer.write(entry)
        return disclosure.value

    def release_batch(
        self, items: Sequence[tuple[Disclosure[Any] | Exception, Who, Justification | None]]
    ) -> list[Any]:
        """``release_now`` for many disclosures at once, on the calling (worker) thread: every
        entry in one transaction (on a connection the door keeps for them), committed before
        any value is handed back. Each item's answer is its value, or the exception to raise
        for it (its own refusal, the reason it lacks, or AUDIT_UNAVAILABLE for all when the
        transaction fails). An exception given in place of a disclosure is handed back as it
        is.
        """
        answers: list[Any] = []
        drafts: list[Draft] = []
        for found, who, why in items:
            if isinstance(found, Exception):
                answers.append(found)
                continue
            try:
                entry = self.entry(found, who=who, why=why)
            except AuditError as exc:
                answers.append(exc)
                continue
            if entry is not None:
                drafts.append(entry)
            answers.append(found.value)
        if drafts:
            try:
                with self._batches.use() as conn:
                    append(conn, drafts)
            except Exception as exc:
                log.exception("audit entries of a batch of reads could not be written")
                failed = AuditError(
                    AuditErrorCode.AUDIT_UNAVAILABLE,
                    "the audit trail could not be written, so nothing was sent",
                )
                failed.__cause__ = exc
                return [a if isinstance(a, Exception) else failed for a in answers]
        return answers

    async def refuse(
        self,
        act: Act,
        *,
        who: Who,
        why: Justification | None,
        code: str,
        subject_ids: Sequence[str] = (),
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Put a refused attempt at ``act`` on the trail (before the refusal is sent).

        Raises:
            AuditError: AUDIT_UNAVAILABLE.
        """
        await self._writer.write_async(
            draft(
                who,
                act.action,
                act.tag,
                at=utcnow(),
                id=new_id(),
                outcome=Outcome.DENIED,
                subject_type=act.subject_type,
                subject_ids=list(subject_ids),
                why=why,
                detail={"code": code, **(detail or {})},
            )
        )
