"""Boundary types of the web layer itself."""

from __future__ import annotations

import msgspec


class Health(msgspec.Struct):
    status: str
    version: str
    database: str
    force: str
