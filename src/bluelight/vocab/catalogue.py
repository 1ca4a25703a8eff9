"""The national code lists shipped with Bluelight, loaded once from ``vocab/data/``, and the
list of reasons for access, which the audit trail owns (``audit.reasons``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from bluelight.audit.reasons import access_reason_list
from bluelight.vocab.errors import VocabError, VocabErrorCode
from bluelight.vocab.rules import CodeList, Entry


def _etag(document: Any) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return '"' + hashlib.sha256(canonical).hexdigest()[:32] + '"'


def _parse(document: dict[str, Any]) -> CodeList:
    entries = tuple(
        Entry(
            code=e["code"],
            label=e["label"],
            description=e["description"],
            status=e["status"],
            attributes=MappingProxyType(dict(e.get("attributes", {}))),
        )
        for e in document["entries"]
    )
    return CodeList(
        name=document["list"],
        title=document["title"],
        version=document["version"],
        description=document["description"],
        source=document.get("source", ""),
        attributes=MappingProxyType(dict(document.get("attributes", {}))),
        entries=entries,
        etag=_etag(document),
        by_code=MappingProxyType({e.code: e for e in entries}),
    )


@lru_cache(maxsize=1)
def code_lists() -> Mapping[str, CodeList]:
    """Every national code list by name (read once per process)."""
    folder = resources.files("bluelight.vocab") / "data"
    lists: dict[str, CodeList] = {}
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".json"):
            code_list = _parse(json.loads(item.read_text(encoding="utf-8")))
            lists[code_list.name] = code_list
    reasons = _parse(dict(access_reason_list()))
    lists[reasons.name] = reasons
    return MappingProxyType(dict(sorted(lists.items())))


def code_list(name: str) -> CodeList:
    """One list by name.

    Raises:
        VocabError: UNKNOWN_LIST.
    """
    found = code_lists().get(name)
    if found is None:
        raise VocabError(
            VocabErrorCode.UNKNOWN_LIST,
            f"there is no code list called {name!r}",
            list=name,
            allowed="/api/v1/vocab",
        )
    return found


@lru_cache(maxsize=1)
def catalogue_etag() -> str:
    """An ETag that changes whenever any list changes."""
    return _etag({name: cl.etag for name, cl in code_lists().items()})
