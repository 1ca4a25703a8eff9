"""Errors of the code lists."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from bluelight.kernel.errors import BluelightError


class VocabErrorCode(StrEnum):
    UNKNOWN_LIST = "UNKNOWN_LIST"
    UNKNOWN_CODE = "UNKNOWN_CODE"
    RETIRED_CODE = "RETIRED_CODE"
    MAPPING_INVALID = "MAPPING_INVALID"


class VocabError(BluelightError):
    """A code list, code or mapping that cannot be used."""

    statuses: ClassVar[dict[str, int]] = {
        VocabErrorCode.UNKNOWN_LIST: 404,
        VocabErrorCode.UNKNOWN_CODE: 422,
        VocabErrorCode.RETIRED_CODE: 422,
        VocabErrorCode.MAPPING_INVALID: 422,
    }
