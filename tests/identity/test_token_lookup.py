"""How bearer tokens are looked up: several in one statement, off the event loop, each
request still refused at once when its session has ended."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from litestar.testing import TestClient
from sqlalchemy import event, text

from bluelight.db import Database
from bluelight.identity import Actor
from bluelight.identity.errors import IdentityError
from bluelight.identity.services import MAX_TOKENS_PER_LOOKUP, authenticate_many
from bluelight.web.auth import TokenAuthenticator
from factories import API, make_user

Door = Any  # tests/identity/conftest.py
T = TypeVar("T")


class Statements:
    """The statements the database is sent, and the threads that send them."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.threads: set[int] = set()

    def __call__(self, *args: Any) -> None:
        self.sql.append(args[2])
        self.threads.add(threading.get_ident())

    def session_lookups(self) -> list[str]:
        return [s for s in self.sql if "access_sessions.token_digest" in s]


@pytest.fixture
def statements(db: Database) -> Iterator[Statements]:
    seen = Statements()
    event.listen(db.engine, "before_cursor_execute", seen)
    yield seen
    event.remove(db.engine, "before_cursor_execute", seen)


def _sign_out(client: TestClient[Any], token: str) -> None:
    out = client.post(f"{API}/auth/sign-out", headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 204, out.text


@pytest.fixture
def tokens(door: Door, anonymous: TestClient[Any]) -> dict[str, str]:
    """Two officers' live tokens, one signed out, and one that never existed."""
    names = ("pc.alpha", "pc.bravo", "pc.gone")
    for name in names:
        make_user(anonymous.app, name, ["officer"])
    tokens = {name: door.sign_in(name)["token"] for name in names}
    _sign_out(anonymous, tokens["pc.gone"])
    tokens["unknown"] = "blt_" + "Z" * 43
    return tokens


def _run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(main())`` on a thread of its own: the thread running the tests may
    already have a loop running (the browser tests' driver leaves one)."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(lambda: asyncio.run(main())).result()


def _who(result: Actor | IdentityError) -> str:
    return result.username if isinstance(result, Actor) else result.code


def test_many_tokens_are_looked_up_in_one_statement_each_answered_in_turn(
    anonymous: TestClient[Any], db: Database, tokens: dict[str, str], statements: Statements
) -> None:
    policy = anonymous.app.state.identity_policy
    asked = ["pc.alpha", "unknown", "pc.bravo", "pc.gone", "pc.alpha"]

    found = authenticate_many(db, policy, [tokens[name] for name in asked])

    # Each token gets its own answer, in the order asked, from a single statement
    assert [_who(r) for r in found] == [
        "pc.alpha",
        "TOKEN_INVALID",
        "pc.bravo",
        "TOKEN_REVOKED",
        "pc.alpha",
    ]
    assert len(statements.session_lookups()) == 1
    assert len(statements.sql) == 1  # and nothing else: no touch for sessions just opened


def test_a_lookup_of_more_tokens_than_it_may_take_is_refused(
    anonymous: TestClient[Any], db: Database
) -> None:
    policy = anonymous.app.state.identity_policy
    with pytest.raises(ValueError, match="at most"):
        authenticate_many(db, policy, ["blt_x"] * (MAX_TOKENS_PER_LOOKUP + 1))


def test_requests_arriving_together_share_one_lookup_run_off_the_event_loop(
    anonymous: TestClient[Any], db: Database, tokens: dict[str, str], statements: Statements
) -> None:
    authenticator = TokenAuthenticator(db, anonymous.app.state.identity_policy)
    asked = ["pc.alpha", "pc.bravo", "unknown", "pc.gone"] * 10
    loop_thread: list[int] = []

    async def arrive_together() -> list[Actor | BaseException]:
        loop_thread.append(threading.get_ident())
        calls = (authenticator.authenticate(tokens[name]) for name in asked)
        return list(await asyncio.gather(*calls, return_exceptions=True))

    found = _run(arrive_together)

    # Every request gets its own answer
    assert all(isinstance(r, Actor | IdentityError) for r in found)
    assert [_who(r) for r in found] == [  # type: ignore[arg-type]  # checked just above
        "pc.alpha",
        "pc.bravo",
        "TOKEN_INVALID",
        "TOKEN_REVOKED",
    ] * 10
    # From one statement, sent from a worker thread, not the thread running the event loop
    assert len(statements.session_lookups()) == 1
    assert loop_thread[0] not in statements.threads


def test_a_request_after_sign_out_is_refused_though_lookups_are_shared(
    anonymous: TestClient[Any], db: Database, tokens: dict[str, str]
) -> None:
    authenticator = TokenAuthenticator(db, anonymous.app.state.identity_policy)
    token = tokens["pc.alpha"]

    async def before_and_after() -> tuple[Actor, Actor | BaseException]:
        before = await authenticator.authenticate(token)
        _sign_out(anonymous, token)
        after = await asyncio.gather(authenticator.authenticate(token), return_exceptions=True)
        return before, after[0]

    before, after = _run(before_and_after)

    assert before.username == "pc.alpha"
    assert isinstance(after, IdentityError)
    assert after.code == "TOKEN_REVOKED"


def test_an_autocommit_read_leaves_no_transaction_open(db: Database) -> None:
    # The token lookup runs as a statement of its own: no BEGIN before it, no ROLLBACK after
    with db.autocommit() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
        driver = conn.connection.driver_connection
        if db.dialect == "sqlite":
            assert driver.in_transaction is False  # type: ignore[union-attr]
        else:
            assert driver.info.transaction_status.name == "IDLE"  # type: ignore[union-attr]
