"""The PostgreSQL privileges of Bluelight's application role: all it needs to run, and no way
to change or remove what the audit trail holds.

The tables belong to an owner role that runs the migrations; the server connects as another
role that may read and write the records but may only add to the audit tables. So the
application's own credentials, if stolen, cannot rewrite history; anyone who can (the owner, a
superuser, a DBA) is caught by ``bluelight audit verify`` against the signed tree heads. See
docs/postgresql-audit-role.md.
"""

from __future__ import annotations

import re

# Rows here are only ever inserted: the trail's entries, its subject index and signed heads.
AUDIT_TABLES = ("audit_entries", "audit_subjects", "audit_tree_heads")

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _quoted(name: str, what: str) -> str:
    """``name`` as a quoted SQL identifier, once it is known to be a plain lower-case one.

    Raises:
        ValueError: ``name`` is not 1 to 63 characters of a-z, 0-9 and _ (not starting with a
            digit).
    """
    if not _IDENTIFIER.fullmatch(name):
        msg = (
            f"{what} {name!r} is not a plain identifier: use 1 to 63 characters of a-z, 0-9 "
            "and _, not starting with a digit"
        )
        raise ValueError(msg)
    return f'"{name}"'


def grant_statements(role: str, schema: str = "public") -> list[str]:
    """The SQL that gives ``role`` what the Bluelight server needs in ``schema``, run by the
    tables' owner (or a superuser) after the migrations.

    The role may use the schema; select, insert, update and delete rows of every table; use
    the sequences; but on the audit tables only select and insert: update, delete, truncate
    (and triggers and references, which could be used to the same end) are revoked. The
    statements grant on the tables that exist, so run them again after a migration adds one.

    Args:
        role: the application's role (it must exist; create it with ``CREATE ROLE``).
        schema: the schema the migrations built the tables in.

    Returns:
        The statements, in the order to run them.

    Raises:
        ValueError: ``role`` or ``schema`` is not a plain lower-case identifier.
    """
    who = _quoted(role, "role")
    where = _quoted(schema, "schema")
    audit = ", ".join(f"{where}.{_quoted(table, 'table')}" for table in AUDIT_TABLES)
    return [
        f"GRANT USAGE ON SCHEMA {where} TO {who}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {where} TO {who}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {audit} FROM {who}",
        f"GRANT SELECT, INSERT ON {audit} TO {who}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {where} TO {who}",
    ]
