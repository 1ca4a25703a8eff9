"""Audit: the tamper-evident record of who did what with personal data."""

from bluelight.audit.errors import AuditError, AuditErrorCode
from bluelight.audit.rules import Action, Draft, Justification, Outcome, Platform, Who, draft
from bluelight.audit.services import AuditWriter, TreeSigner, append, record

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
    "draft",
    "record",
]
