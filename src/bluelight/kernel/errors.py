"""The base of every domain error; ``web/errors.py`` turns them into problem+json."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Problem:
    """An RFC 9457 problem: a stable ``code``, a status and the facts a client can act on."""

    code: str
    status: int
    title: str
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        """The problem as its problem+json document: the RFC's members, then the facts."""
        return {
            "type": f"urn:bluelight:problem:{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            **self.extra,
        }


class BluelightError(Exception):
    """A refusal the client can understand and act on.

    Each feature subclasses it with its own ``<Feature>ErrorCode`` enum; the HTTP status comes
    from the code, so one code always means one status. The codes in ``refusals`` refuse
    access (a permission, a reason, a record kept from the reader): the web layer writes each
    such refusal to the audit trail as a denied attempt before sending it.
    """

    statuses: ClassVar[dict[str, int]] = {}
    default_status: ClassVar[int] = 400
    refusals: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code = str(code)
        self.detail = detail
        self.extra = extra

    @property
    def refused_access(self) -> bool:
        """Whether this error refuses access (and is audited as a denied attempt)."""
        return self.code in self.refusals

    def problem(self) -> Problem:
        status = self.statuses.get(self.code, self.default_status)
        title = self.code.replace("_", " ").capitalize()
        return Problem(self.code, status, title, self.detail, self.extra)
