"""National code lists: data files, validation of every coded value, force mappings."""

from bluelight.vocab.catalogue import catalogue_etag, code_list, code_lists
from bluelight.vocab.errors import VocabError, VocabErrorCode
from bluelight.vocab.rules import Checker, CodeList, Entry, FieldIssue, InvalidInput

__all__ = [
    "Checker",
    "CodeList",
    "Entry",
    "FieldIssue",
    "InvalidInput",
    "VocabError",
    "VocabErrorCode",
    "catalogue_etag",
    "code_list",
    "code_lists",
]
