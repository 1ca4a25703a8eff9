"""The reason a request gives for looking at personal data, from two headers.

``X-Bluelight-Reason`` carries a code from the national ``access-reason`` list and
``X-Bluelight-Reason-Text`` free text (percent-encoded UTF-8, as headers are ASCII). Headers,
not query parameters, so reasons stay out of URLs and the logs that keep them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from litestar import Request

from bluelight.audit import (
    Action,
    AuditError,
    AuditErrorCode,
    AuditWriter,
    Justification,
    Outcome,
    draft,
)
from bluelight.identity import Actor, Permission
from bluelight.kernel import new_id, utcnow
from bluelight.vocab import code_list
from bluelight.web.auth import path_subject

REASON_HEADER = "x-bluelight-reason"
TEXT_HEADER = "x-bluelight-reason-text"
MAX_TEXT = 500
REASONS = "/api/v1/vocab/access-reason"


def justification(request: Request[Any, Any, Any]) -> Justification | None:
    """The request's reason, or None if it gave none.

    Raises:
        AuditError: UNKNOWN_REASON for a code not on the list or text that is too long.
    """
    code = request.headers.get(REASON_HEADER, "").strip()
    raw_text = request.headers.get(TEXT_HEADER, "").strip()
    if not code and not raw_text:
        return None
    if not code:
        raise AuditError(
            AuditErrorCode.REASON_REQUIRED,
            f"give a reason code in {REASON_HEADER} with the text",
            allowed=REASONS,
        )
    entry = code_list("access-reason").by_code.get(code.upper())
    if entry is None or not entry.active:
        raise AuditError(
            AuditErrorCode.UNKNOWN_REASON,
            f"{code[:40]!r} is not a reason for access",
            allowed=REASONS,
        )
    text = unquote(raw_text, errors="replace") if raw_text else None
    if text is not None and len(text) > MAX_TEXT:
        raise AuditError(
            AuditErrorCode.UNKNOWN_REASON, f"the reason text is longer than {MAX_TEXT} characters"
        )
    if text is not None and "\x00" in text:
        # PostgreSQL cannot store it: the audit write would fail, and with it every entry
        # committed alongside (group commit), so it is refused here as the client's mistake.
        raise AuditError(
            AuditErrorCode.UNKNOWN_REASON, "the reason text holds a NUL character (U+0000)"
        )
    return Justification(code=entry.code, text=text or None)


async def provide_justification(request: Request[Any, Any, Any]) -> Justification | None:
    """The dependency ``why``: the request's reason, or None if it gave none.

    A reason refused here is a denied attempt at what the route does, so it is written to
    the audit trail before the refusal is sent.

    Raises:
        AuditError: UNKNOWN_REASON, or REASON_REQUIRED for text without a code.
    """
    try:
        return justification(request)
    except AuditError as exc:
        await _audit_refusal(request, exc)
        raise


async def provide_disclosure_reason(request: Request[Any, Any, Any]) -> Justification:
    """The dependency ``disclosure_reason``: a disclosure (a share) must give a reason.

    Raises:
        AuditError: REASON_REQUIRED, UNKNOWN_REASON (each audited as a denied attempt).
    """
    why = await provide_justification(request)
    if why is None:
        exc = AuditError(
            AuditErrorCode.REASON_REQUIRED,
            "a disclosure needs a reason: send X-Bluelight-Reason",
            allowed=REASONS,
        )
        await _audit_refusal(request, exc)
        raise exc
    return why


async def _audit_refusal(request: Request[Any, Any, Any], exc: AuditError) -> None:
    actor = request.scope.get("user")
    if not isinstance(actor, Actor):
        return
    handler = request.route_handler
    permission = handler.opt.get("permission")
    method = request.method
    writer: AuditWriter = request.app.state.audit_writer
    await writer.write_async(
        draft(
            actor,
            # Reads and disclosures (shares) are the acts that take a reason.
            Action.CONSULTATION if method == "GET" else Action.DISCLOSURE,
            permission.value if isinstance(permission, Permission) else "web:reason:refused",
            at=utcnow(),
            id=new_id(),
            outcome=Outcome.DENIED,
            subject_type=handler.opt.get("subject_type"),
            subject_ids=path_subject(request),
            detail={"code": exc.code, "method": method, "path": request.url.path[:200]},
        )
    )
