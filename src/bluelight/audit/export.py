"""The two forms the trail is exported in, the same from the API and the command line.

JSON lines carry each entry exactly. CSV is for spreadsheets, which run a cell that begins
with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) as a formula: a
reason text typed by anyone could then run in an auditor's spreadsheet (CSV injection,
OWASP). Such a cell is exported with a leading apostrophe, which spreadsheets show as text
and never run; JSON lines keep the text as it was.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TypeVar

import msgspec

from bluelight.audit.door import Act, Disclosure
from bluelight.audit.queries import EntryFilter
from bluelight.audit.rules import Action
from bluelight.audit.schemas import EntryRead

CSV_FIELDS = list(EntryRead.__struct_fields__)
# An export hands the trail, which says who looked at whom and why, to someone: a disclosure
# of personal data, audited with its recipient and reason like any other.
EXPORTED = Act(Action.DISCLOSURE, "audit:trail:exported", "audit")
T = TypeVar("T")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell a spreadsheet will not run: lists and maps as JSON, and text
    that would start a formula behind an apostrophe."""
    if isinstance(value, (list, dict)):
        value = msgspec.json.encode(value).decode()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(entries: Iterator[EntryRead]) -> Iterator[str]:
    """A header row, then one CSV row per entry."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    for e in entries:
        values = msgspec.to_builtins(e)
        writer.writerow([csv_cell(values[k]) for k in CSV_FIELDS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def json_lines(entries: Iterator[EntryRead]) -> Iterator[bytes]:
    """One JSON document per entry, each on its own line."""
    for e in entries:
        yield msgspec.json.encode(e) + b"\n"


def filter_detail(f: EntryFilter) -> dict[str, Any]:
    """What an auditor asked for, as the entry of their search or export records it."""
    asked = {
        "subject": f.subject,
        "user": f.user,
        "action": f.action,
        "outcome": f.outcome,
        "tag": f.tag,
        "since": f.since,
        "until": f.until,
    }
    return {
        k: (v.isoformat() if isinstance(v, datetime) else v)
        for k, v in asked.items()
        if v is not None
    }


def exported(
    f: EntryFilter, value: T, *, recipient: str, detail: dict[str, Any] | None = None
) -> Disclosure[T]:
    """The disclosure of an export of the entries ``f`` finds, to ``recipient``."""
    return Disclosure(
        value,
        EXPORTED,
        [f.subject] if f.subject else [],
        needs_reason=True,
        recipients=[recipient],
        detail={**filter_detail(f), **(detail or {})},
    )
