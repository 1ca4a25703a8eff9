"""A record read by id looks its caller's token up in the read's own round (``authenticate=
"in-round"``): it refuses exactly as every other route does, audits what it refuses, and many
callers' token look-ups and reads share one round of statements."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from uuid import UUID

import pytest
from litestar.testing import TestClient
from sqlalchemy import event

from bluelight.audit import Justification
from bluelight.identity import Actor, Permission
from bluelight.identity.errors import IdentityError
from bluelight.records.kinds import BY_NAME
from bluelight.records.reader import Caller, RecordReader
from bluelight.web.errors import WebError, WebErrorCode
from factories import API, REASON, assert_problem, auth_headers, new_record, row_counts

T = TypeVar("T")
WHY = Justification("INVESTIGATION", "a check")


def _run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(lambda: asyncio.run(main())).result()


def _denied(client: TestClient[Any], username: str) -> list[dict[str, Any]]:
    trail = client.get(f"{API}/audit/entries", params={"user": username, "outcome": "denied"})
    assert trail.status_code == 200, trail.text
    items: list[dict[str, Any]] = trail.json()["items"]
    return items


def _signed_out(client: TestClient[Any]) -> str:
    headers = auth_headers(client, "pc.gone", ["officer"])
    out = client.post(f"{API}/auth/sign-out", headers=headers)
    assert out.status_code == 204, out.text
    return headers["Authorization"]


@pytest.mark.parametrize(
    ("authorization", "reason", "code"),
    [
        (None, REASON, "AUTH_REQUIRED"),
        ("Basic ZGV2OmRldg==", REASON, "AUTH_REQUIRED"),
        ("Bearer blt_not-a-token-anyone-was-given", REASON, "TOKEN_INVALID"),
        ("signed-out", REASON, "TOKEN_REVOKED"),
        # A caller not let in hears that first, whatever else is wrong with the request
        (None, {"X-Bluelight-Reason": "NOT-A-REASON"}, "AUTH_REQUIRED"),
        ("Bearer blt_not-a-token-anyone-was-given", {"X-Bluelight-Reason": "??"}, "TOKEN_INVALID"),
    ],
    ids=["none", "basic", "unknown", "signed-out", "none-bad-reason", "unknown-bad-reason"],
)
def test_a_read_by_id_without_a_valid_token_is_unauthenticated_and_reads_nothing(
    client: TestClient[Any], db: Any, authorization: str | None, reason: dict[str, str], code: str
) -> None:
    person = new_record(client, "persons")
    if authorization == "signed-out":
        authorization = _signed_out(client)
    headers = {**reason, "Authorization": authorization or ""}
    before = row_counts(db)

    response = client.get(f"{API}/persons/{person['id']}", headers=headers)

    assert_problem(response, 401, code)
    assert response.headers["www-authenticate"] == "Bearer"
    # Nothing was read for anyone: no consultation is on the trail
    assert row_counts(db)["audit_entries"] == before["audit_entries"]


def test_a_read_by_id_without_the_permission_is_forbidden_and_the_refusal_audited(
    client: TestClient[Any],
) -> None:
    person = new_record(client, "persons")
    # An agency administrator runs accounts, and may not read persons
    admin = auth_headers(client, "admin.reader", ["agency_admin"])

    response = client.get(f"{API}/persons/{person['id']}", headers=admin)

    body = assert_problem(response, 403, "PERMISSION_DENIED")
    assert body["permission"] == Permission.PERSON_READ.value
    assert [(e["tag"], e["subject_ids"]) for e in _denied(client, "admin.reader")] == [
        ("records:person:read", [person["id"]])
    ]


def test_a_refused_reason_is_answered_once_the_caller_is_let_in_and_audited(
    client: TestClient[Any],
) -> None:
    person = new_record(client, "persons")
    officer = auth_headers(client, "pc.reason", ["officer"], reason=False)

    response = client.get(
        f"{API}/persons/{person['id']}", headers={**officer, "X-Bluelight-Reason": "NOT-A-CODE"}
    )

    assert_problem(response, 400, "UNKNOWN_REASON")
    assert [e["tag"] for e in _denied(client, "pc.reason")] == ["records:person:read"]


def test_callers_token_look_ups_and_reads_share_one_round_of_statements(
    client: TestClient[Any], db: Any
) -> None:
    persons = [new_record(client, "persons")["id"] for _ in range(3)]
    officer = auth_headers(client, "pc.round", ["officer"])["Authorization"].split()[1]
    admin = auth_headers(client, "admin.round", ["agency_admin"])["Authorization"].split()[1]
    reader: RecordReader = client.app.state.reader

    def admit(actor: Actor) -> None:
        if not actor.may(Permission.PERSON_READ):
            raise WebError(WebErrorCode.PERMISSION_DENIED, "no")

    asked = [(officer, p) for p in persons] * 4 + [(admin, persons[0]), ("blt_unknown", persons[1])]
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    async def together() -> list[tuple[Actor | None, Any]]:
        return list(
            await asyncio.gather(
                *(
                    reader.release_to(Caller(token, admit), BY_NAME["person"], UUID(p), why=WHY)
                    for token, p in asked
                )
            )
        )

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        answered = _run(together)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)

    # Each caller gets their own answer: the officer the person, the administrator the
    # refusal (with who they are, for the trail), the unknown token its refusal
    for (actor, answer), (_, p) in zip(answered[:12], asked, strict=False):
        assert actor is not None
        assert actor.username == "pc.round"
        assert str(answer.id) == p
    admin_actor, refusal = answered[12]
    assert admin_actor is not None
    assert admin_actor.username == "admin.round"
    assert isinstance(refusal, WebError)
    assert refusal.code == "PERMISSION_DENIED"
    unknown_actor, unknown = answered[13]
    assert unknown_actor is None
    assert isinstance(unknown, IdentityError)
    assert unknown.code == "TOKEN_INVALID"
    # From one look-up of every token and one read of every person
    assert len([s for s in statements if "access_sessions.token_digest" in s]) == 1
    assert len([s for s in statements if "FROM persons" in s]) == 1


def test_reads_one_after_another_take_nothing_from_the_pool(
    client: TestClient[Any], db: Any
) -> None:
    # Given a person, read once (the round's connections are taken on first use)
    person = new_record(client, "persons")["id"]
    headers = {**auth_headers(client, "pc.kept", ["officer"]), **REASON}
    assert client.get(f"{API}/persons/{person}", headers=headers).status_code == 200
    checkouts: list[Any] = []

    def seen(*args: Any) -> None:
        checkouts.append(args)

    # When it is read again and again, each read its own round
    event.listen(db.engine, "checkout", seen)
    try:
        answers = [client.get(f"{API}/persons/{person}", headers=headers) for _ in range(5)]
    finally:
        event.remove(db.engine, "checkout", seen)

    # Then every read was answered (and audited) on the connections the rounds keep: no
    # checkout, and so no pre-ping trip to the database, on the way
    assert [a.status_code for a in answers] == [200] * 5
    assert checkouts == []
    trail = client.get(f"{API}/audit/entries", params={"user": "pc.kept"}).json()["items"]
    assert len([e for e in trail if e["tag"] == "records:person:read"]) == 6


def test_a_read_answer_given_cookies_refuses_rather_than_drop_them() -> None:
    # The lean answer of a read by id sends what the route declares and nothing else: a
    # cookie set on the route later must fail loudly, not vanish on its way to the browser
    from litestar.datastructures import Cookie

    from bluelight.records.routes import _ReadAnswer

    answer = _ReadAnswer({"id": "x"})
    with pytest.raises(TypeError, match="no cookies"):
        answer.to_asgi_response(None, None, cookies=[Cookie(key="k", value="v")])
    sent = answer.to_asgi_response(None, None, headers={"Cache-Control": "no-store"})
    assert (b"cache-control", b"no-store") in sent.headers  # type: ignore[attr-defined]
