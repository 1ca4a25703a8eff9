"""The ceiling peer of the HTTP read benchmark: a person read in bare Litestar and raw SQL.

One async route, ``GET /api/v1/persons/{person_id}``, doing per request the work a Bluelight
person read does, with nothing between the route and the database driver (no middleware, no
dependency injection, no OpenAPI, no ORM, no SQLAlchemy):

1. ``Authorization: Bearer <token>``: the token's SHA-256 (as ``kernel.crypto.token_digest``)
   looked up with its session, device, user and agency in one statement (as
   ``identity.services.sessions._session_query``); a missing, revoked or expired session, a disabled
   user or a revoked device is refused (401), a user without the person-read permission
   (403). A session last used more than a minute ago is touched, as Bluelight does.
2. ``X-Bluelight-Reason`` (a code of the national access-reason list) and its text: a person
   check without one is refused (400).
3. Three selects: the person row (refused when missing, deleted, another agency's, above the
   user's clearance, or restricted and the user not named on it); its live warning markers;
   its live addresses (resides-at, previously-resided-at and works-at links joined to their
   locations). Markers and addresses carry the conditions of ``records.access.shown_beside``:
   same agency, within the clearance, not restricted unless the user is named on it.
4. The answer, the same JSON as Bluelight's ``PersonRead``, encoded with msgspec.
5. One audit row (the consultation, with a SHA-256 leaf hash computed here) inserted and
   committed durably before the answer is sent: SQLite in WAL mode with ``synchronous=FULL``,
   PostgreSQL with ``synchronous_commit`` on. The row goes to ``bench_ceiling_audit``, a
   table of the benchmark's own (``create_audit_table``), so the scratch database's real
   audit trail stays consistent. Refusals after sign-in are audited too, as denied.

It reads ``BLUELIGHT_DATABASE_URL`` as Bluelight does: ``sqlite:///<file>`` (through
``sqlite3``) or ``postgresql://…`` (through psycopg 3; ``+psycopg`` is accepted and dropped).

**How the database is driven: a small pool of threads, each with its own connection**
(``sqlite3``, or a sync ``psycopg.Connection`` in autocommit mode); each request's whole
database work is one hop from the event loop to a thread and back. Two threads on SQLite
(writers take a lock, so they queue in Python and not in SQLite's busy handler, which
sleeps); sixteen on PostgreSQL. The candidates were measured side by side on this machine
(granian, one worker, wrk with 64 connections, 10 s rounds rotating the order, the dataset
of ``http_read.py``; median req/s of 3 or 5 rounds; load average 4 to 15, so compare within
a run only). Commit 4962643 holds them (``BENCH_CEILING_MODE``, ``BENCH_CEILING_POOL``), all
but the pipelined one:

    SQLite                                          run 1   run 2   run 3
    one connection on the event loop                  390       -     298
    reads on the loop, each commit on one writer      593     935     371
    threads: 2                                        717     969     633
    threads: 4                                        759     943     558
    threads: 8                                          -     871     526

    PostgreSQL                                      run 1   run 2   run 3   run 4
    AsyncConnections, a pool of 4                     517       -       -       -
    AsyncConnections, a pool of 8                     551       -       -       -
    AsyncConnections, a pool of 16                    695     528       -     527
    AsyncConnections, a pool of 32                      -     541       -       -
    threads: 4                                        681       -       -       -
    threads: 8                                        849     656     524     847
    threads: 16                                         -     869     650     842
    threads: 32                                         -       -       -     800
    threads: 8, the three selects pipelined             -       -     593       -
    threads: 16, the three selects pipelined            -       -     616       -

Why: on SQLite every request's commit waits for an fsync of the WAL (``synchronous=FULL``,
and no request may share another's commit), so the work that counts is what runs while one
request waits for the disk; on the event loop nothing does, and with a writer thread only
the loop's own share. On PostgreSQL, psycopg's async connections cost more CPU per request
in this process than its sync ones on threads (about 1,350 against 980 µs in run 4): each
of the five statements waits through asyncio's reader callbacks and futures. Pipelining the
three selects saves two round trips but not CPU, and CPU is what runs out.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import msgspec
from litestar import Litestar, Request, Response, get

DATABASE_URL_ENV = "BLUELIGHT_DATABASE_URL"
AUDIT_TABLE = "bench_ceiling_audit"
IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("BLUELIGHT_IDLE_TIMEOUT_MINUTES", "30")))
TOUCH_EVERY = timedelta(seconds=60)
MAX_TOKEN = 200
MAX_REASON_TEXT = 500


def _rules() -> tuple[frozenset[str], dict[str, dict[str, str | None]], frozenset[str]]:
    """Bluelight's rules as plain values, read once at start-up: the roles that may read a
    person, the classifications each clearance sees (padded with NULL, which matches none, so
    every statement has the same parameters), and the active access-reason codes."""
    from bluelight.audit.reasons import access_reason_list
    from bluelight.identity.rules import (
        CLASSIFICATION_ORDER,
        ROLE_PERMISSIONS,
        classifications_up_to,
    )
    from bluelight.kernel.permissions import Permission

    roles = frozenset(str(r) for r, p in ROLE_PERMISSIONS.items() if Permission.PERSON_READ in p)
    cleared: dict[str, dict[str, str | None]] = {}
    for c in CLASSIFICATION_ORDER:
        seen = {str(x) for x in classifications_up_to(c)}
        cleared[str(c)] = {
            f"c{i}": str(x) if x in seen else None for i, x in enumerate(CLASSIFICATION_ORDER)
        }
    entries = access_reason_list()["entries"]
    return roles, cleared, frozenset(e["code"] for e in entries if e["status"] == "active")


READ_ROLES, CLEARANCES, REASONS = _rules()
_CLASSES = ", ".join(f":{name}" for name in next(iter(CLEARANCES.values())))

# --- SQL, written once with :name parameters (PostgreSQL's %(name)s made from them) ---------

SESSION_SQL = """
SELECT s.id, s.expires_at, s.last_used_at, s.revoked_at, s.device_id, d.revoked_at,
       u.id, u.username, u.roles, u.clearance, u.disabled_at, a.code
FROM access_sessions s
JOIN users u ON u.id = s.user_id
JOIN devices d ON d.id = s.device_id
JOIN agencies a ON a.id = u.agency_id
WHERE s.token_digest = :digest
"""
TOUCH_SQL = "UPDATE access_sessions SET last_used_at = :now WHERE id = :sid"
PERSON_SQL = """
SELECT id, version, owner_agency, classification, restricted, created_at, created_by,
       updated_at, updated_by, deleted_at, deleted_by, deletion_reason, original_codes,
       names, date_of_birth, age_min, age_max, sex, ethnicity_officer, ethnicity_self,
       height_cm, build, hair_colour, hair_length, hair_style, eye_colour, facial_hair,
       marks, identifiers
FROM persons WHERE id = :pid
"""


def _granted(alias: str) -> str:
    return (
        f"EXISTS (SELECT 1 FROM record_grants g WHERE g.entity_id = {alias}.id AND "
        "(g.user_id = :uid OR g.team_id IN "
        "(SELECT t.team_id FROM team_members t WHERE t.user_id = :uid)))"
    )


def _shown(alias: str) -> str:
    """``records.access.shown_beside`` for the reader of this request."""
    return (
        f"{alias}.owner_agency = :agency AND {alias}.classification IN ({_CLASSES}) "
        f"AND (NOT {alias}.restricted OR {_granted(alias)})"
    )


GRANT_SQL = (
    "SELECT 1 FROM record_grants g WHERE g.entity_id = :pid AND (g.user_id = :uid OR "
    "g.team_id IN (SELECT t.team_id FROM team_members t WHERE t.user_id = :uid))"
)
MARKERS_SQL = f"""
SELECT m.id, m.marker, m.detail, m.review_date FROM warning_markers m
WHERE m.subject_id = :pid AND m.deleted_at IS NULL AND {_shown("m")}
"""
ADDRESSES_SQL = f"""
SELECT l.id, l.link_type, l.valid_from, l.valid_to, c.id, c.name, c.premises, c.street,
       c.town, c.postcode, c.latitude, c.longitude
FROM links l JOIN locations c ON c.id = l.to_id
WHERE l.from_id = :pid
  AND (l.link_type = 'resides-at' OR l.link_type = 'previously-resided-at'
       OR l.link_type = 'works-at')
  AND l.deleted_at IS NULL AND c.deleted_at IS NULL AND {_shown("l")} AND {_shown("c")}
"""
AUDIT_COLUMNS = (
    "id, at, action, tag, outcome, actor_user_id, actor_username, agency, device_id, "
    "subject_type, subject_ids, reason_code, reason_text, detail, leaf_hash"
)
AUDIT_SQL = (
    f"INSERT INTO {AUDIT_TABLE} ({AUDIT_COLUMNS}) VALUES (:id, :at, :action, :tag, :outcome, "
    ":user_id, :username, :agency, :device_id, :subject_type, :subject_ids, :reason_code, "
    ":reason_text, :detail, :leaf_hash)"
)
_AUDIT_DDL = """
CREATE TABLE IF NOT EXISTS {table} (
    seq {seq},
    id {uuid} NOT NULL UNIQUE,
    at {ts} NOT NULL,
    action VARCHAR(20) NOT NULL,
    tag VARCHAR(60) NOT NULL,
    outcome VARCHAR(10) NOT NULL,
    actor_user_id VARCHAR(40) NOT NULL,
    actor_username VARCHAR(64) NOT NULL,
    agency VARCHAR(10) NOT NULL,
    device_id VARCHAR(40),
    subject_type VARCHAR(20),
    subject_ids {json} NOT NULL,
    reason_code VARCHAR(40),
    reason_text VARCHAR(500),
    detail {json} NOT NULL,
    leaf_hash {blob} NOT NULL
)
"""
# The same indexes as audit_entries: the insert pays for the same index upkeep.
_AUDIT_INDEXES = (
    f"CREATE INDEX IF NOT EXISTS ix_{AUDIT_TABLE}_actor_at ON {AUDIT_TABLE} (actor_user_id, at)",
    f"CREATE INDEX IF NOT EXISTS ix_{AUDIT_TABLE}_at ON {AUDIT_TABLE} (at)",
)


def _pg(sql: str) -> str:
    return re.sub(r":(\w+)", r"%(\1)s", sql)


# --- the database URL ----------------------------------------------------------------------


def _target(url: str) -> tuple[str, str]:
    """``("sqlite", path)`` or ``("postgresql", libpq URL)`` for a Bluelight database URL."""
    if url.startswith("sqlite:///"):
        return "sqlite", url.removeprefix("sqlite:///")
    for prefix in ("postgresql+psycopg://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql", "postgresql://" + url.removeprefix(prefix)
    msg = f"{DATABASE_URL_ENV} must be sqlite:///… or postgresql://…, not {url!r}"
    raise ValueError(msg)


def _sqlite_connect(path: str) -> sqlite3.Connection:
    # Autocommit (isolation_level None): a lone INSERT is its own durable transaction.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def create_audit_table(url: str) -> None:
    """Create ``bench_ceiling_audit`` (and its indexes) in the database of ``url``, if missing."""
    dialect, target = _target(url)
    if dialect == "sqlite":
        conn = _sqlite_connect(target)
        try:
            conn.execute(
                _AUDIT_DDL.format(
                    table=AUDIT_TABLE,
                    seq="INTEGER PRIMARY KEY",
                    uuid="CHAR(32)",
                    ts="DATETIME",
                    json="JSON",
                    blob="BLOB",
                )
            )
            for ddl in _AUDIT_INDEXES:
                conn.execute(ddl)
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(target, autocommit=True) as pg:
        pg.execute(
            _AUDIT_DDL.format(
                table=AUDIT_TABLE,
                seq="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                uuid="UUID",
                ts="TIMESTAMPTZ",
                json="JSONB",
                blob="BYTEA",
            )
        )
        for ddl in _AUDIT_INDEXES:
            pg.execute(ddl)


# --- the work of one request, apart from the driver -----------------------------------------


class Refused(Exception):  # noqa: N818  (a refusal, not a failure)
    """A request refused with ``status`` and a problem code."""

    def __init__(self, status: int, code: str, *, audited: bool = False) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.audited = audited


@dataclass(frozen=True, slots=True)
class Reader:
    """The signed-in user a request acts for."""

    user_id: Any  # as the driver gives it: hex text on SQLite, a UUID on PostgreSQL
    username: str
    agency: str
    device_id: Any
    cleared: dict[str, str | None]  # the classification parameters :c0, :c1, …
    stale_session: Any  # the session's id when its last use should be moved on, else None


@dataclass(frozen=True, slots=True)
class Dialect:
    """How values travel through one driver."""

    name: str
    uid_param: Callable[[uuid.UUID], Any]
    uid_text: Callable[[Any], str]
    instant: Callable[[Any], datetime | None]
    document: Callable[[Any], Any]
    at_param: Callable[[datetime], Any]
    json_param: Callable[[Any], Any]
    sql: dict[str, str] = field(default_factory=dict)


def _sqlite_instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _sqlite_document(value: str | None) -> Any:
    return None if value is None else msgspec.json.decode(value)


_STATEMENTS = {
    "session": SESSION_SQL,
    "touch": TOUCH_SQL,
    "person": PERSON_SQL,
    "grant": GRANT_SQL,
    "markers": MARKERS_SQL,
    "addresses": ADDRESSES_SQL,
    "audit": AUDIT_SQL,
}
SQLITE = Dialect(
    "sqlite",
    uid_param=lambda u: u.hex,
    uid_text=lambda v: str(uuid.UUID(v)),
    instant=_sqlite_instant,
    document=_sqlite_document,
    at_param=lambda at: at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds"),
    json_param=lambda v: msgspec.json.encode(v).decode(),
    sql=_STATEMENTS,
)
POSTGRESQL = Dialect(
    "postgresql",
    uid_param=lambda u: u,
    uid_text=str,
    instant=lambda v: v,
    document=lambda v: v,
    at_param=lambda at: at,
    json_param=lambda v: msgspec.json.encode(v).decode(),
    sql={k: _pg(v) for k, v in _STATEMENTS.items()},
)


def _reader(d: Dialect, row: Sequence[Any] | None, now: datetime) -> Reader:
    """The user a looked-up session stands for (``identity.services._session_actor``).

    Raises:
        Refused: 401 for no session, a revoked device, an ended or timed-out session or a
            disabled user; 403 without the person-read permission.
    """
    if row is None:
        raise Refused(401, "TOKEN_INVALID")
    sid, expires, last_used, revoked, device, device_revoked = row[:6]
    user_id, username, roles, clearance, disabled, agency = row[6:]
    if device_revoked is not None:
        raise Refused(401, "DEVICE_REVOKED")
    if revoked is not None or disabled is not None:
        raise Refused(401, "TOKEN_REVOKED")
    last = d.instant(last_used)
    assert last is not None  # noqa: S101  (NOT NULL column)
    if d.instant(expires) <= now or now - last > IDLE_TIMEOUT:  # type: ignore[operator]
        raise Refused(401, "TOKEN_EXPIRED")
    if READ_ROLES.isdisjoint(d.document(roles)):
        raise Refused(403, "PERMISSION_DENIED")
    return Reader(
        user_id=user_id,
        username=username,
        agency=agency,
        device_id=device,
        cleared=CLEARANCES[clearance],
        stale_session=sid if now - last > TOUCH_EVERY else None,
    )


def _reason(request: Request[Any, Any, Any]) -> tuple[str, str | None]:
    """The request's reason code and text (``web.justification``).

    Raises:
        Refused: 400 without a code (a person check needs one), or with an unknown code or
            text that is too long or holds NUL.
    """
    headers = request.headers
    code = headers.get("x-bluelight-reason", "").strip().upper()
    raw = headers.get("x-bluelight-reason-text", "").strip()
    if not code:
        raise Refused(400, "REASON_REQUIRED")
    if code not in REASONS:
        raise Refused(400, "UNKNOWN_REASON")
    text = unquote(raw, errors="replace") if raw else None
    if text is not None and (len(text) > MAX_REASON_TEXT or "\x00" in text):
        raise Refused(400, "UNKNOWN_REASON")
    return code, text or None


def _check_person(row: Sequence[Any] | None, reader: Reader) -> bool:
    """Whether the person row is restricted (the caller then checks the grant).

    Raises:
        Refused: 404 (missing, or another agency's), 410 (deleted), 403 (above clearance).
    """
    if row is None:
        raise Refused(404, "RECORD_NOT_FOUND")
    if row[9] is not None:
        raise Refused(410, "RECORD_DELETED")
    if row[2] != reader.agency:
        raise Refused(404, "RECORD_NOT_FOUND")
    if row[3] not in reader.cleared.values():
        raise Refused(403, "CLASSIFICATION_ABOVE_CLEARANCE")
    return bool(row[4])


def _address_line(name: Any, premises: Any, street: Any, town: Any, postcode: Any) -> str:
    """``records.queries.address_line`` on columns."""
    parts = [name, " ".join(p for p in (premises, street) if p), town, postcode]
    return ", ".join(p for p in parts if p)


def _answer(
    d: Dialect, row: Sequence[Any], markers: Sequence[Any], addresses: Sequence[Any]
) -> bytes:
    """The person as Bluelight's ``PersonRead`` encodes it."""
    doc = {
        "id": d.uid_text(row[0]),
        "version": row[1],
        "owner_agency": row[2],
        "classification": row[3],
        "restricted": bool(row[4]),
        "created_at": d.instant(row[5]),
        "created_by": row[6],
        "updated_at": d.instant(row[7]),
        "updated_by": row[8],
        "deleted_at": d.instant(row[9]),
        "deleted_by": row[10],
        "deletion_reason": row[11],
        "original_codes": d.document(row[12]),
        "names": d.document(row[13]),
        "date_of_birth": row[14],
        "age_min": row[15],
        "age_max": row[16],
        "sex": row[17],
        "ethnicity_officer": row[18],
        "ethnicity_self": row[19],
        "height_cm": row[20],
        "build": row[21],
        "hair_colour": row[22],
        "hair_length": row[23],
        "hair_style": row[24],
        "eye_colour": row[25],
        "facial_hair": row[26],
        "marks": d.document(row[27]),
        "identifiers": d.document(row[28]),
        "markers": [
            {"id": d.uid_text(m[0]), "marker": m[1], "detail": m[2], "review_date": m[3]}
            for m in markers
        ],
        "addresses": [
            {
                "link_id": d.uid_text(a[0]),
                "link_type": a[1],
                "location_id": d.uid_text(a[4]),
                "summary": _address_line(*a[5:10]) or f"{a[10]}, {a[11]}",
                "valid_from": d.instant(a[2]),
                "valid_to": d.instant(a[3]),
            }
            for a in addresses
        ],
    }
    return msgspec.json.encode(doc)


_canonical = msgspec.json.Encoder(order="sorted")


def _audit_params(
    d: Dialect,
    reader: Reader,
    person_id: uuid.UUID,
    why: tuple[str, str | None] | None,
    now: datetime,
    *,
    outcome: str = "allowed",
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The consultation's row, with its leaf hash: SHA-256(0x00 ‖ sorted-key JSON of the entry).

    Bluelight's leaf also covers the entry's place in the trail (``seq``, taken under a lock
    before hashing); this table numbers its rows as they are inserted, so the hash leaves it
    out.
    """
    entry_id = uuid.uuid4()
    user_id, device_id = d.uid_text(reader.user_id), d.uid_text(reader.device_id)
    subject_ids = [str(person_id)]
    code, text = why if why is not None else (None, None)
    detail = detail or {}
    canonical = _canonical.encode(
        {
            "id": str(entry_id),
            "at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "action": "consultation",
            "tag": "records:person:read",
            "outcome": outcome,
            "actor": {
                "user_id": user_id,
                "username": reader.username,
                "agency": reader.agency,
                "device_id": device_id,
            },
            "subject_type": "person",
            "subject_ids": subject_ids,
            "reason_code": code,
            "reason_text": text,
            "recipients": [],
            "detail": detail,
        }
    )
    return {
        "id": d.uid_param(entry_id),
        "at": d.at_param(now),
        "action": "consultation",
        "tag": "records:person:read",
        "outcome": outcome,
        "user_id": user_id,
        "username": reader.username,
        "agency": reader.agency,
        "device_id": device_id,
        "subject_type": "person",
        "subject_ids": d.json_param(subject_ids),
        "reason_code": code,
        "reason_text": text,
        "detail": d.json_param(detail),
        "leaf_hash": hashlib.sha256(b"\x00" + canonical).digest(),
    }


def _scope(d: Dialect, reader: Reader, person_id: uuid.UUID) -> dict[str, Any]:
    return {
        "pid": d.uid_param(person_id),
        "uid": reader.user_id,
        "agency": reader.agency,
        **reader.cleared,
    }


@dataclass(slots=True)
class Outcome:
    """What a request's reads decided: the answer, and the row to commit before sending it."""

    status: int
    body: bytes
    audit: dict[str, Any] | None = None
    touch: Any = None  # a session id whose last use is moved on in the same commit
    now: datetime | None = None


def _refusal(exc: Refused) -> Outcome:
    return Outcome(exc.status, b'{"code":"' + exc.code.encode() + b'"}')


def _denied(
    d: Dialect, reader: Reader, person_id: uuid.UUID, exc: Refused, *, why: Any, now: datetime
) -> Outcome:
    out = _refusal(exc)
    out.audit = _audit_params(
        d, reader, person_id, why, now, outcome="denied", detail={"code": exc.code}
    )
    return out


# --- the synchronous drivers: sqlite3, and psycopg on threads ------------------------------


def read_sync(
    d: Dialect, conn: Any, digest: bytes, person_id: uuid.UUID, request_why: Any
) -> Outcome:
    """Steps 1 to 4 on a synchronous connection; the audit row is left to ``write_sync``.

    ``request_why`` is the parsed reason, or the ``Refused`` its parsing raised.
    """
    sql = d.sql
    now = datetime.now(UTC)
    try:
        reader = _reader(d, conn.execute(sql["session"], {"digest": digest}).fetchone(), now)
    except Refused as exc:
        return _refusal(exc)
    if isinstance(request_why, Refused):
        return _denied(d, reader, person_id, request_why, why=None, now=now)
    scope = _scope(d, reader, person_id)
    row = conn.execute(sql["person"], scope).fetchone()
    try:
        if _check_person(row, reader) and (conn.execute(sql["grant"], scope).fetchone() is None):
            raise Refused(403, "RECORD_RESTRICTED")
    except Refused as exc:
        return _denied(d, reader, person_id, exc, why=request_why, now=now)
    markers = conn.execute(sql["markers"], scope).fetchall()
    addresses = conn.execute(sql["addresses"], scope).fetchall()
    body = _answer(d, row, markers, addresses)  # type: ignore[arg-type]  # checked above
    audit = _audit_params(d, reader, person_id, request_why, now)
    return Outcome(200, body, audit, reader.stale_session, now)


def write_sync(d: Dialect, conn: Any, out: Outcome) -> None:
    """Commit ``out``'s audit row (and the session touch) durably, on a synchronous connection."""
    if out.audit is None:
        return
    if out.touch is None:
        # sqlite3 in autocommit mode and psycopg with autocommit: one durable transaction.
        conn.execute(d.sql["audit"], out.audit)
        return
    if d.name == "sqlite":
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(d.sql["touch"], {"now": d.at_param(out.now), "sid": out.touch})  # type: ignore[arg-type]
            conn.execute(d.sql["audit"], out.audit)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return
    with conn.transaction():
        conn.execute(d.sql["touch"], {"now": out.now, "sid": out.touch})
        conn.execute(d.sql["audit"], out.audit)


# --- the driver: a small pool of threads, each with its own connection ----------------------

# Threads per server process, the fastest of those measured (see the module's docstring).
THREADS = {"sqlite": 2, "postgresql": 16}


def _pg_connect(target: str) -> Any:
    import psycopg
    from psycopg.types.json import set_json_loads

    conn = psycopg.connect(target, autocommit=True)
    conn.execute("SET TIME ZONE 'UTC'")  # instants come back in UTC, encoded with a Z
    set_json_loads(msgspec.json.decode, conn)
    return conn


class OnThreads:
    """Each request's whole database work in one hop to a small pool of threads, each thread
    with a connection of its own (opened on its first request)."""

    def __init__(self, url: str) -> None:
        name, target = _target(url)
        self.dialect = SQLITE if name == "sqlite" else POSTGRESQL
        self.connect: Callable[[], Any] = (
            (lambda: _sqlite_connect(target)) if name == "sqlite" else (lambda: _pg_connect(target))
        )
        self.local = threading.local()
        # SQLite lets one writer in at a time; a lock queues the others here rather than in
        # SQLite's busy handler, which sleeps for milliseconds between tries.
        self.write_lock = threading.Lock() if name == "sqlite" else None
        self.pool = ThreadPoolExecutor(THREADS[name], thread_name_prefix="ceiling-db")

    def close(self) -> None:
        self.pool.shutdown()

    def _work(self, digest: bytes, person_id: uuid.UUID, why: Any) -> Outcome:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = self.connect()
        out = read_sync(self.dialect, conn, digest, person_id, why)
        if self.write_lock is None:
            write_sync(self.dialect, conn, out)
        elif out.audit is not None:
            with self.write_lock:
                write_sync(self.dialect, conn, out)
        return out

    async def read(self, digest: bytes, person_id: uuid.UUID, why: Any) -> Outcome:
        return await asyncio.get_running_loop().run_in_executor(
            self.pool, self._work, digest, person_id, why
        )


# --- the app -------------------------------------------------------------------------------

_backends: list[OnThreads] = []
_NO_STORE = {"cache-control": "no-store"}


@get("/api/v1/persons/{person_id:uuid}")
async def read_person(request: Request[Any, Any, Any], person_id: uuid.UUID) -> Response[bytes]:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN or not token.isascii():
        return Response(b'{"code":"AUTH_REQUIRED"}', status_code=401, media_type="application/json")
    why: Any
    try:
        why = _reason(request)
    except Refused as exc:
        why = exc
    digest = hashlib.sha256(token.encode()).digest()
    out = await _backends[0].read(digest, person_id, why)
    return Response(
        out.body, status_code=out.status, media_type="application/json", headers=_NO_STORE
    )


def _start() -> None:
    _backends.append(OnThreads(os.environ[DATABASE_URL_ENV]))


def _stop() -> None:
    while _backends:
        _backends.pop().close()


def app_factory() -> Litestar:
    """Entry point for ``granian --factory ceiling_app:app_factory``."""
    create_audit_table(os.environ[DATABASE_URL_ENV])
    return Litestar(
        route_handlers=[read_person],
        on_startup=[_start],
        on_shutdown=[_stop],
        openapi_config=None,
        debug=False,
    )
