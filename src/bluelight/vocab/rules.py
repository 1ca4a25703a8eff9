"""Code lists as values, and the checks every write makes against them. No I/O here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bluelight.kernel.errors import BluelightError
from bluelight.vocab.errors import VocabErrorCode

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_./-]{1,40}$")
VOCAB_PATH = "/api/v1/vocab/"


@dataclass(frozen=True, slots=True)
class Entry:
    """One code of a list."""

    code: str
    label: str
    description: str
    status: str
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class CodeList:
    """A versioned national code list."""

    name: str
    title: str
    version: str
    description: str
    source: str
    attributes: Mapping[str, str]
    entries: tuple[Entry, ...]
    etag: str
    by_code: Mapping[str, Entry]

    def active_codes(self) -> list[str]:
        return [e.code for e in self.entries if e.active]


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """One thing wrong with one field of a request."""

    field: str
    code: str
    detail: str
    value: Any = None
    allowed: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "code": self.code, "detail": self.detail}
        if self.value is not None:
            out["value"] = self.value
        if self.allowed is not None:
            out["allowed"] = self.allowed
        return out


class InvalidInput(BluelightError):
    """A request whose values break the rules; ``errors`` lists every problem found."""

    default_status = 422

    def __init__(self, issues: list[FieldIssue]) -> None:
        first = issues[0].as_dict()
        super().__init__(
            first.pop("code"), first.pop("detail"), **first, errors=[i.as_dict() for i in issues]
        )
        self.issues = issues


class Checker:
    """Collects every problem in one request before refusing it, so a form shows them all."""

    def __init__(self, lists: Mapping[str, CodeList]) -> None:
        self._lists = lists
        self.issues: list[FieldIssue] = []

    def fail(self, field_name: str, code: str, detail: str, value: Any = None) -> None:
        self.issues.append(FieldIssue(field_name, code, detail, value))

    def code(self, list_name: str, value: str | None, field_name: str) -> None:
        """Record a problem unless ``value`` is None or an active code of ``list_name``."""
        if value is None:
            return
        code_list = self._lists[list_name]
        entry = code_list.by_code.get(value)
        allowed = VOCAB_PATH + list_name
        if entry is None:
            self.issues.append(
                FieldIssue(
                    field_name,
                    VocabErrorCode.UNKNOWN_CODE,
                    f"{value!r} is not a code of the {list_name} list",
                    value,
                    allowed,
                )
            )
        elif not entry.active:
            self.issues.append(
                FieldIssue(
                    field_name,
                    VocabErrorCode.RETIRED_CODE,
                    f"{value!r} is a retired code of the {list_name} list",
                    value,
                    allowed,
                )
            )

    def entry(self, list_name: str, value: str) -> Entry | None:
        return self._lists[list_name].by_code.get(value)

    def raise_if_any(self) -> None:
        """Raises InvalidInput listing every problem found, if there was any."""
        if self.issues:
            raise InvalidInput(self.issues)


MAX_MAPPING_ROWS = 20_000
MAX_LOCAL_CODE = 40
MAX_LOCAL_LABEL = 200


@dataclass(frozen=True, slots=True)
class MappingRow:
    """One line of a force's mapping file."""

    local_code: str
    local_label: str
    national_code: str


@dataclass(frozen=True, slots=True)
class MappingRejection:
    """A line of a mapping file that was not loaded, and why."""

    line: int
    local_code: str
    national_code: str
    reason: str


def check_mapping_rows(
    rows: list[tuple[int, list[str]]], code_list: CodeList
) -> tuple[list[MappingRow], list[MappingRejection]]:
    """Split parsed CSV lines into loadable rows and reported rejections.

    A line is rejected if it does not have three fields, if a field is empty or too long, if its
    local code appeared earlier in the file, or if its national code is not an active code of
    ``code_list``. Nothing is silently dropped: every line ends up in one of the two lists.
    """
    accepted: list[MappingRow] = []
    rejected: list[MappingRejection] = []
    seen: set[str] = set()
    for line, fields in rows:
        if len(fields) != 3:
            local = fields[0].strip() if fields else ""
            rejected.append(
                MappingRejection(line, local, "", "expected 3 fields: local code, label, national")
            )
            continue
        local, label, national = (f.strip() for f in fields)
        reason = None
        if not local or not national:
            reason = "local code and national code are required"
        elif len(local) > MAX_LOCAL_CODE or len(label) > MAX_LOCAL_LABEL:
            reason = f"local code over {MAX_LOCAL_CODE} or label over {MAX_LOCAL_LABEL} characters"
        elif local in seen:
            reason = "local code appears more than once"
        elif national not in code_list.by_code:
            reason = f"{national!r} is not a code of the {code_list.name} list"
        elif not code_list.by_code[national].active:
            reason = f"{national!r} is a retired code of the {code_list.name} list"
        if reason:
            rejected.append(MappingRejection(line, local, national, reason))
            continue
        seen.add(local)
        accepted.append(MappingRow(local, label, national))
    return accepted, rejected
