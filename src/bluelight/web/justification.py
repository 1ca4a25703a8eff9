"""The reason a request gives for looking at personal data, from two headers.

``X-Bluelight-Reason`` carries a code from the national ``access-reason`` list and
``X-Bluelight-Reason-Text`` says why in words, percent-encoded UTF-8 (headers are ASCII). Both
are required together, and text the trail cannot keep as given is refused
(``audit.reasons``). Headers, not query parameters, so reasons stay out of URLs and the logs
that keep them. A refused reason is a denied attempt, audited by ``web.refusals``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from bluelight.audit import AuditError, AuditErrorCode, Justification
from bluelight.audit.reasons import REASONS, from_raw_headers


def justification(request: Request[Any, Any, Any]) -> Justification | None:
    """The request's reason, or None if it gave none.

    Raises:
        AuditError: REASON_REQUIRED (one header without the other), UNKNOWN_REASON,
            INVALID_REASON_TEXT.
    """
    return from_raw_headers(request.scope["headers"])


async def provide_justification(request: Request[Any, Any, Any]) -> Justification | None:
    """The dependency ``why``: the request's reason, or None if it gave none.

    Raises:
        AuditError: as ``justification``.
    """
    return justification(request)


async def provide_disclosure_reason(request: Request[Any, Any, Any]) -> Justification:
    """The dependency ``disclosure_reason``: a disclosure (a share) must give a reason.

    Raises:
        AuditError: REASON_REQUIRED, UNKNOWN_REASON, INVALID_REASON_TEXT.
    """
    why = justification(request)
    if why is None:
        raise AuditError(
            AuditErrorCode.REASON_REQUIRED,
            "a disclosure needs a reason: send X-Bluelight-Reason and X-Bluelight-Reason-Text",
            allowed=REASONS,
        )
    return why
