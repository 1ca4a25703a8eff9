"""Every refusal of access is audited here, in one place, before it is sent.

Whatever refuses a signed-in user (the permission guard, a missing or unknown reason, a record
kept from them, a record of another agency), it raises an error whose code is one of its
feature's ``refusals``; the framework hands every error to ``audit_refusal`` before the
problem+json answer goes out, and this writes the denied attempt through the door: the act
the route declares, who, from which device, the record the path names, the reason if one
was given, and the refusal's code.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar.enums import ScopeType
from litestar.types import Scope

from bluelight.audit import Action, AuditError, Justification
from bluelight.audit.door import Act, Door
from bluelight.identity import Actor
from bluelight.kernel.errors import BluelightError
from bluelight.kernel.permissions import Permission
from bluelight.web.justification import justification

log = logging.getLogger("bluelight.web")

MAX_PATH = 200


def route_act(handler: Any, method: str) -> Act:
    """The act a route declares (``opt["act"]``), or one named after its permission."""
    declared = handler.opt.get("act") if handler is not None else None
    if isinstance(declared, Act):
        return declared
    permission = handler.opt.get("permission") if handler is not None else None
    tag = permission.value if isinstance(permission, Permission) else "web:route:closed"
    action = Action.CONSULTATION if method in ("GET", "HEAD") else Action.ALTERATION
    subject_type = handler.opt.get("subject_type") if handler is not None else None
    return Act(action, tag, subject_type)


def path_subjects(scope: Scope) -> list[str]:
    """The record a request's path names (its first ``…_id`` parameter), for audit entries."""
    params = scope.get("path_params") or {}
    return [str(v) for k, v in params.items() if k.endswith("_id")][:1]


def _reason(scope: Scope) -> Justification | None:
    """The reason the refused request gave, if it gave a valid one (a refused reason is the
    refusal itself, and is named by its code)."""
    request = scope["litestar_app"].request_class(scope)
    try:
        return justification(request)
    except AuditError:
        return None


async def audit_refusal(exc: Exception, scope: Scope) -> None:
    """``after_exception`` hook: put a refusal of access on the trail.

    A refusal is sent even if its entry cannot be written (it discloses nothing), and the
    failure is logged.
    """
    if not isinstance(exc, BluelightError) or not exc.refused_access:
        return
    actor = scope.get("user")
    if not isinstance(actor, Actor) or scope["type"] != ScopeType.HTTP:
        return
    door: Door = scope["litestar_app"].state.door
    method = str(scope.get("method", "GET"))
    path = str(scope.get("path", ""))
    try:
        await door.refuse(
            route_act(scope.get("route_handler"), method),
            who=actor,
            why=_reason(scope),
            code=exc.code,
            subject_ids=path_subjects(scope),
            detail={"method": method, "path": path[:MAX_PATH]},
        )
    except AuditError:
        log.exception("a refusal could not be audited (%s %s)", method, path[:MAX_PATH])
