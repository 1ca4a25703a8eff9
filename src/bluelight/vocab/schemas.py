"""Boundary types of the code lists."""

from __future__ import annotations

from typing import Any

import msgspec


class EntryRead(msgspec.Struct):
    code: str
    label: str
    description: str
    status: str
    attributes: dict[str, Any] = {}


class CodeListSummary(msgspec.Struct):
    name: str
    title: str
    version: str
    etag: str
    href: str
    active: int
    retired: int


class CodeListRead(msgspec.Struct):
    name: str
    title: str
    version: str
    description: str
    source: str
    attributes: dict[str, str]
    entries: list[EntryRead]


class CatalogueRead(msgspec.Struct):
    etag: str
    lists: list[CodeListSummary]


class MappingRowRead(msgspec.Struct):
    local_code: str
    local_label: str
    national_code: str


class MappingRejectionRead(msgspec.Struct):
    line: int
    local_code: str
    national_code: str
    reason: str


class MappingReport(msgspec.Struct):
    """What loading a force's mapping file did: every line is either loaded or rejected."""

    force_code: str
    list_name: str
    loaded: int
    rejected: list[MappingRejectionRead]


class MappingRead(msgspec.Struct):
    force_code: str
    list_name: str
    rows: list[MappingRowRead]
