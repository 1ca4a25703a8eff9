"""A database that cannot be reached is 503 DATABASE_UNAVAILABLE with Retry-After, never a
500; health says the database is down; a programming error stays a 500; once the database is
back everything works again, and no write that was acknowledged is lost.

The outage is ``outages.DatabaseSwitch``: the driver's own errors where the driver raises them
(connecting, pool checkout, statements), on whatever database the suite runs. On PostgreSQL a
real outage too: the app's backends terminated, and an app pointed at a port nothing listens
on.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

import bluelight.db
from bluelight.app import create_app
from bluelight.audit.models import AuditEntry
from bluelight.db import Database, database_unavailable, lock_journal_then, make_engine
from bluelight.migrations import upgrade
from factories import (
    API,
    REASON,
    assert_problem,
    auth_headers,
    make_user,
    new_record,
    person_payload,
    settings_for_tests,
    sign_in,
)
from outages import DatabaseSwitch, TrailSwitch

needs_postgresql = pytest.mark.skipif(
    not os.environ.get("BLUELIGHT_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="a real PostgreSQL outage: set BLUELIGHT_TEST_DATABASE_URL to a PostgreSQL database",
)


@pytest.fixture
def outage(client: Any) -> Iterator[DatabaseSwitch]:
    switch = DatabaseSwitch(client.app.state.database)
    yield switch
    switch.close()


def assert_unavailable(response: Any) -> dict[str, Any]:
    body = assert_problem(response, 503, "DATABASE_UNAVAILABLE")
    assert response.headers["retry-after"] == "2"
    assert "Traceback" not in response.text
    return body


def assert_retry_later(response: Any) -> None:
    """A 503 the client retries after Retry-After: the database, or the audit trail written
    to it (a read's consultation, on the trail writer's own connection), unavailable."""
    assert response.status_code == 503, response.text
    assert response.json()["code"] in ("DATABASE_UNAVAILABLE", "AUDIT_UNAVAILABLE")
    assert response.headers["retry-after"] == "2"


def following_retry_after(send: Any) -> Any:
    """``send()`` again while it answers 503, as a client honouring Retry-After does."""
    for _ in range(3):
        response = send()
        if response.status_code != 503:
            return response
        assert_retry_later(response)
    return response


def sign_in_body() -> dict[str, Any]:
    return {
        "username": "test.supervisor",
        "password": "wrong",
        "device": {"id": str(uuid.uuid4()), "name": "a phone"},
    }


def test_every_kind_of_request_answers_503_while_the_database_is_down(
    client: Any, outage: DatabaseSwitch
) -> None:
    # Given a stored person, and the database going down
    person = new_record(client, "persons")
    outage.down = True

    # When a signed-in user reads, lists and writes, someone signs in and health is asked
    # Then each is told the database is unavailable, and when to try again
    assert_unavailable(client.get(f"{API}/persons/{person['id']}"))
    assert_unavailable(client.get(f"{API}/persons"))
    assert_unavailable(client.post(f"{API}/persons", json=person_payload(), headers=REASON))
    assert_unavailable(
        client.patch(
            f"{API}/persons/{person['id']}", json={"version": person["version"], "sex": "F"}
        )
    )
    assert_unavailable(
        client.post(f"{API}/auth/sign-in", json=sign_in_body(), headers={"Authorization": ""})
    )
    health = assert_unavailable(client.get(f"{API}/health", headers={"Authorization": ""}))
    assert health["database"] == "down"


def test_everything_works_again_once_the_database_is_back(
    client: Any, outage: DatabaseSwitch
) -> None:
    # Given a person stored before the database went down and came back
    person = new_record(client, "persons")
    outage.down = True
    refused = client.post(f"{API}/persons", json=person_payload(), headers=REASON)
    assert_unavailable(refused)
    outage.down = False

    # When health is asked, the person read, another written and someone signs in
    health = client.get(f"{API}/health")
    read = client.get(f"{API}/persons/{person['id']}")
    written = client.post(f"{API}/persons", json=person_payload(), headers=REASON)
    signed_in = client.post(
        f"{API}/auth/sign-in", json=sign_in_body(), headers={"Authorization": ""}
    )

    # Then all are answered as usual
    assert health.status_code == 200, health.text
    assert health.json()["status"] == "ok"
    assert read.status_code == 200, read.text
    assert written.status_code == 201, written.text
    assert_problem(signed_in, 401, "SIGN_IN_FAILED")
    # and the list holds the two acknowledged persons, not the refused one
    listed = client.get(f"{API}/persons").json()["items"]
    assert {p["id"] for p in listed} == {person["id"], written.json()["id"]}


def test_nothing_acknowledged_is_lost_when_the_database_fails_under_load(
    client: Any, outage: DatabaseSwitch
) -> None:
    # Given writers and readers at work while the database goes down and comes back
    answers: list[tuple[int, str | None]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            response = client.post(f"{API}/persons", json=person_payload(), headers=REASON)
            listed = client.get(f"{API}/persons?limit=5")
            with lock:
                answers.append(
                    (
                        response.status_code,
                        response.json().get("id") if response.status_code == 201 else None,
                    )
                )
                answers.append((listed.status_code, None))

    with ThreadPoolExecutor(4) as pool:
        workers = [pool.submit(work) for _ in range(4)]
        for down in (True, False, True, False):
            threading.Event().wait(0.3)
            outage.down = down
        threading.Event().wait(0.3)
        stop.set()
        for worker in workers:
            worker.result()

    # Then every answer was a success or a 503, never a 500
    statuses = {status for status, _ in answers}
    assert statuses <= {200, 201, 503}, statuses
    assert 503 in statuses
    # and every person acknowledged with a 201 is in the database
    acknowledged = {record_id for status, record_id in answers if status == 201}
    assert acknowledged
    for record_id in acknowledged:
        assert client.get(f"{API}/persons/{record_id}").status_code == 200


def test_a_read_refused_for_want_of_the_audit_trail_says_when_to_retry(client: Any) -> None:
    # Given a stored person, and the audit trail failing to take entries
    person = new_record(client, "persons")
    trail = TrailSwitch(client.app.state.database)
    trail.down = True
    try:
        # When the person is read
        response = client.get(f"{API}/persons/{person['id']}")
    finally:
        trail.close()

    # Then nothing is sent, and the client is told when to try again
    assert_problem(response, 503, "AUDIT_UNAVAILABLE")
    assert response.headers["retry-after"] == "2"
    assert person["id"] not in response.text


def test_a_programming_error_in_sql_stays_a_500(client: Any) -> None:
    # Given a statement the database refuses as wrong (a table that is not there)
    engine = client.app.state.database.engine
    dialect = client.app.state.database.dialect

    def wrong(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM persons" in statement:
            if dialect == "sqlite":
                error = sqlite3.OperationalError("no such table: persons")
                error.sqlite_errorcode = 1  # type: ignore[attr-defined]  # SQLITE_ERROR, as sqlite3 sets it
                raise error
            from psycopg import errors

            raise errors.UndefinedTable('relation "persons" does not exist')

    event.listen(engine, "before_cursor_execute", wrong)
    try:
        # When persons are listed
        response = client.get(f"{API}/persons")
    finally:
        event.remove(engine, "before_cursor_execute", wrong)

    # Then it is our fault, not the database's: a 500 that names nothing, with no Retry-After
    assert_problem(response, 500, "INTERNAL_ERROR")
    assert "retry-after" not in response.headers
    assert "persons" not in response.text


def _wrapped(
    driver_error: Exception, kind: type[DBAPIError] = OperationalError, **kw: Any
) -> DBAPIError:
    return kind("SELECT 1", {}, driver_error, **kw)


def _sqlite_error(code: int, message: str = "x") -> sqlite3.Error:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code  # type: ignore[attr-defined]  # as sqlite3 sets it
    return error


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        pytest.param(_wrapped(RuntimeError(), connection_invalidated=True), True, id="invalidated"),
        pytest.param(PoolTimeoutError("QueuePool limit reached"), True, id="pool exhausted"),
        pytest.param(_wrapped(_sqlite_error(5, "database is locked")), True, id="sqlite busy"),
        pytest.param(_wrapped(_sqlite_error(14)), True, id="sqlite cannot open"),
        pytest.param(_wrapped(_sqlite_error(10 | 3 << 8)), True, id="sqlite extended I/O error"),
        pytest.param(_wrapped(_sqlite_error(13)), True, id="sqlite disk full"),
        pytest.param(_wrapped(_sqlite_error(1, "no such table")), False, id="sqlite no table"),
        pytest.param(
            _wrapped(sqlite3.IntegrityError("UNIQUE"), IntegrityError), False, id="integrity"
        ),
        pytest.param(
            _wrapped(sqlite3.ProgrammingError("bad"), ProgrammingError), False, id="programming"
        ),
        pytest.param(_wrapped(RuntimeError("the trail is down")), False, id="not a driver's"),
        pytest.param(ValueError("x"), False, id="not a database error"),
    ],
)
def test_what_counts_as_an_unavailable_database(error: BaseException, unavailable: bool) -> None:
    assert database_unavailable(error) is unavailable


def test_what_counts_as_an_unavailable_postgresql() -> None:
    psycopg = pytest.importorskip("psycopg")
    from psycopg import errors

    assert database_unavailable(_wrapped(psycopg.OperationalError("connection refused")))
    assert database_unavailable(_wrapped(errors.AdminShutdown("terminating"), InterfaceError))
    assert database_unavailable(_wrapped(errors.ConnectionFailure("gone")))
    assert database_unavailable(_wrapped(errors.TooManyConnections("too many")))
    assert not database_unavailable(_wrapped(errors.QueryCanceled("timeout")))
    assert not database_unavailable(_wrapped(errors.UndefinedTable("no"), ProgrammingError))


def test_a_write_that_cannot_have_the_sqlite_write_lock_in_time_is_503_not_500(
    tmp_path: Path,
) -> None:
    # Given a server on its own SQLite file, whose wait for a busy file is cut short
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    engine = make_engine(url)
    upgrade(engine)

    @event.listens_for(engine, "connect")
    def impatient(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=50")

    engine.dispose()  # connections made from now on wait 50 ms, not 10 s
    app = create_app(settings_for_tests(url, tmp_path), database=Database(engine))
    with TestClient(app) as client:
        make_user(app, "busy.officer", ("officer",))
        headers = {"Authorization": f"Bearer {sign_in(client, 'busy.officer')['token']}"}
        # and another process holding the file's write lock
        holder = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            # When a write begins
            response = client.post(
                f"{API}/sync/push",
                json={"operations": [{"id": str(uuid.uuid4()), "kind": "property",
                                      "action": "create", "record_id": str(uuid.uuid4()),
                                      "content": {"category": "BICYCLE"}}]},
                headers=headers,
            )  # fmt: skip
        finally:
            holder.execute("ROLLBACK")
            holder.close()

    # Then the database is busy, to be tried again: 503 with Retry-After, not a server error
    assert_problem(response, 503, "DATABASE_UNAVAILABLE")
    assert response.headers["retry-after"] == "2"
    engine.dispose()


# --- a real PostgreSQL outage ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _terminate(admin_engine: Engine, where: str, **params: Any) -> None:
    with admin_engine.connect() as admin:
        admin.execute(
            text(f"SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE {where}"),
            params,
        )


@needs_postgresql
def test_postgresql_backends_terminated_under_the_app_answer_503_not_500(
    migrated: tuple[Engine, str], tmp_path: Path
) -> None:
    # Given an app of its own whose connections carry a name no other test's do
    admin_engine, url = migrated
    name = f"bluelight-outage-{uuid.uuid4().hex[:8]}"
    engine = make_engine(f"{url}&application_name={name}")
    db = Database(engine)
    app = create_app(settings_for_tests(url, tmp_path), database=db)
    with TestClient(app) as client:
        client.headers.update(auth_headers(client, "outage.supervisor"))
        person = new_record(client, "persons")
        listed = following_retry_after(lambda: client.get(f"{API}/persons?limit=100"))
        before = listed.json()["items"]

        # When PostgreSQL terminates the backend a request is using, in the middle of it
        armed = {"on": True}

        def terminate_mine(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if armed["on"] and "persons" in statement:
                armed["on"] = False
                pid = conn.connection.driver_connection.info.backend_pid
                _terminate(admin_engine, "pid = :pid", pid=pid)

        event.listen(engine, "before_cursor_execute", terminate_mine)
        try:
            read = client.get(f"{API}/persons/{person['id']}")
            armed["on"] = True
            written = client.post(f"{API}/persons", json=person_payload(), headers=REASON)
        finally:
            event.remove(engine, "before_cursor_execute", terminate_mine)

        # Then the request is told the database is unavailable, not that the server failed
        assert_unavailable(read)
        assert_unavailable(written)

        # When every backend of the app is terminated between requests, again and again
        statuses = []
        for _ in range(3):
            _terminate(admin_engine, "application_name = :name", name=name)
            for response in (
                client.get(f"{API}/persons/{person['id']}"),
                client.post(f"{API}/persons", json=person_payload(), headers=REASON),
                client.get(f"{API}/health"),
            ):
                statuses.append(response.status_code)
                if response.status_code == 503:
                    assert_retry_later(response)

        # Then no answer was a 500 (the pool's pre-ping finds the dead connections and opens
        # fresh ones), and the write refused mid-way was not stored
        assert set(statuses) <= {200, 201, 503}, statuses
        listed = following_retry_after(lambda: client.get(f"{API}/persons?limit=100"))
        after = listed.json()["items"]
        assert len(after) == len(before) + statuses.count(201)
    engine.dispose()


@needs_postgresql
def test_an_app_whose_postgresql_is_not_listening_answers_503(tmp_path: Path) -> None:
    # Given an app pointed at a port where no PostgreSQL listens
    url = f"postgresql://postgres@127.0.0.1:{_free_port()}/test?connect_timeout=2"
    engine = make_engine(url)
    app = create_app(settings_for_tests(url, tmp_path), database=Database(engine))
    with TestClient(app) as client:
        # When it is asked for health, a sign-in, and a record with some token
        health = client.get(f"{API}/health")
        sign_in = client.post(f"{API}/auth/sign-in", json=sign_in_body())
        read = client.get(
            f"{API}/persons/{uuid.uuid4()}",
            headers={"Authorization": "Bearer " + "x" * 40, **REASON},
        )

    # Then each says the database is unavailable
    assert assert_unavailable(health)["database"] == "down"
    assert_unavailable(sign_in)
    assert_unavailable(read)
    engine.dispose()


@needs_postgresql
def test_a_backend_gone_when_the_journal_is_locked_is_an_unavailable_database(
    migrated: tuple[Engine, str],
) -> None:
    # Given a connection whose backend PostgreSQL has terminated
    admin_engine, url = migrated
    name = f"bluelight-lock-{uuid.uuid4().hex[:8]}"
    engine = make_engine(f"{url}&application_name={name}")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
            conn.commit()
            _terminate(admin_engine, "application_name = :name", name=name)

            # When a transaction locks the journal and reads its next place (one trip, past
            # SQLAlchemy's own execution)
            with pytest.raises(DBAPIError) as raised, conn.begin():
                lock_journal_then(conn, select(func.count()).select_from(AuditEntry))

        # Then it is reported as SQLAlchemy reports a lost connection: an unavailable
        # database (a 503 to the client), the connection invalidated for the pool to replace
        assert raised.value.connection_invalidated
        assert database_unavailable(raised.value)
        with engine.connect() as fresh:
            assert fresh.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


def test_a_postgresql_server_that_never_answers_is_unavailable_within_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("psycopg")
    # Given a port that takes connections and never says a word (a server hung, or a
    # network that lets the handshake through and drops the rest)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        monkeypatch.setattr(bluelight.db, "CONNECT_TIMEOUT_SECONDS", 1)
        engine = make_engine(f"postgresql://postgres@127.0.0.1:{port}/test")
        failed: list[BaseException] = []

        def connect() -> None:
            try:
                engine.connect().close()
            except BaseException as exc:  # noqa: BLE001  (looked at below)
                failed.append(exc)

        # When a connection is opened (on a thread: without a timeout it would wait forever)
        started = time.monotonic()
        opener = threading.Thread(target=connect, daemon=True)
        opener.start()
        opener.join(10)
        waited = time.monotonic() - started
    engine.dispose()

    # Then it gave up after the timeout, as an unavailable database (a 503 to the client)
    assert engine.url.query["connect_timeout"] == "1"
    assert not opener.is_alive()
    assert waited < 10
    assert len(failed) == 1
    assert database_unavailable(failed[0])


def test_a_connect_timeout_given_in_the_url_is_kept() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/test?connect_timeout=2")
    assert engine.url.query["connect_timeout"] == "2"
    assert engine.url.drivername == "postgresql+psycopg"
    engine.dispose()
