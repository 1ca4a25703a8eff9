"""Audit: the tamper-evident record of who did what with personal data."""

from bluelight.audit.errors import AuditError, AuditErrorCode
from bluelight.audit.rules import Action, Draft, Justification, Outcome, Platform, Who, draft
from bluelight.audit.services import AuditWriter, TreeSigner, append, deferred_entries, record

__all__ = [
    "Action",
    "AuditError",
    "AuditErrorCode",
    "AuditWriter",
    "Draft",
    "Justification",
    "Outcome",
    "Platform",
    "TreeSigner",
    "Who",
    "append",
    "deferred_entries",
    "draft",
    "record",
]
