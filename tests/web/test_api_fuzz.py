"""No request, however odd, gets a 500 or leaves half a record behind, and every answer is
one the OpenAPI document declares.

Two bounded fuzzers: schemathesis drives every operation of our own OpenAPI document with
valid and invalid input and checks each answer against the document; a Hypothesis fuzzer
sends near-valid records (valid fields mixed with random JSON, dates at the ends of the
calendar) and random list filters, nearer the edges than a generator working from the
document gets, and checks that a refused write stores nothing.
"""

from __future__ import annotations

import contextlib
import itertools
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi import checks as openapi_checks

from bluelight.records.kinds import KINDS
from factories import (
    API,
    KIND_PATHS,
    REASON,
    auth_headers,
    ensure_agency,
    make_user,
    new_record,
    payload_for,
    row_counts,
    sign_in,
)

BY_PATH = {kind.path: kind for kind in KINDS}
FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# --- schemathesis over the OpenAPI document ------------------------------------------------

# Where a path names a parameter the fuzzer cannot guess (a record, a user, a device, an audit
# entry), a real one is put there half the time, so the operation reaches past "not found".
# Routes that take an agency code get a partner the event is shared with.
PARTNER = "FIRE"


def _targets(client: Any) -> dict[str, Any]:
    """Something real behind every kind of id a path names: a record of each kind (the event
    shared with a partner), another user of the force with a device, an audit entry."""
    records = {path: new_record(client, path)["id"] for path in KIND_PATHS}
    ensure_agency(client.app, PARTNER, "fire")
    shared = client.post(
        f"{API}/events/{records['events']}/shares", json={"agency": PARTNER, "level": "location"}
    )
    assert shared.status_code in (200, 201), shared.text
    other = make_user(client.app, "fuzz.target", ("officer",))
    device = uuid.uuid4()
    sign_in(client, "fuzz.target", device_id=device)
    return {
        "records": records,
        "user_id": str(other.id),
        "device_id": str(device),
        "agency": PARTNER,
        "seq": 0,
    }


def _aim(case: Any, targets: dict[str, Any]) -> None:
    """Point ``case``'s path parameters at the real things in ``targets``."""
    params = case.path_parameters or {}
    for name in params:
        if name == "record_id":
            kind = case.path.removeprefix(f"{API}/shared").removeprefix(f"{API}/").split("/")[0]
            if kind in targets["records"]:
                params[name] = targets["records"][kind]
        elif name in targets:
            params[name] = targets[name]


# These two refuse wrong credentials with a 401 by design: anyone may call them.
SIGN_IN = {f"POST {API}/auth/sign-in", f"POST {API}/auth/second-factor"}
SESSION_ENDED = {"TOKEN_REVOKED", "TOKEN_EXPIRED", "DEVICE_REVOKED"}
REASON_HEADERS = {"x-bluelight-reason", "x-bluelight-reason-text"}

# Every answer conforms to the document: its status is declared, its media type, headers and
# body are as declared. No answer is a server error.
CONFORMANCE = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]
# Requests the document calls valid are taken, and requests it calls invalid are refused.
DATA_CHECKS = [openapi_checks.positive_data_acceptance, openapi_checks.negative_data_rejection]
# A valid request may still be refused 422: a code not on its national list, dates out of
# order, control characters in text: rules no JSON Schema in the document states. 410: a
# record deleted; 404: an id that names nothing. These are answers about the data, not the
# request's form, so they do not count against the document.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "410", "422"]
# Where the document cannot say what the server checks, valid requests may be refused 400:
# a proof of more of the trail than there is, a period that ends before it starts.
DATA_DEPENDENT: dict[str, Any] = {
    f"GET {API}/audit/proofs/inclusion": lambda _query: True,
    f"GET {API}/audit/proofs/consistency": lambda _query: True,
    f"GET {API}/audit/entries": lambda query: {"since", "until"} <= set(query),
    f"GET {API}/audit/export": lambda query: {"since", "until"} <= set(query),
}
SCHEMATHESIS_CONFIG = {
    # No NUL in generated text: PostgreSQL cannot store it, so every request carrying one is
    # refused 400 before its route (web.text), which no schema in the document can say of
    # every string.
    "generation": {"allow-x00": False, "with-security-parameters": False},
    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
}


def _negated(case: Any) -> set[str]:
    """The names of the parameters a negative case made invalid."""
    data = case.meta.phase.data if case.meta is not None else None
    if data is None:
        return set()
    names = {getattr(data, "parameter", None)}
    names |= {m.parameter for m in getattr(data, "mutations", ())}
    return {n.lower() for n in names if n}


def test_every_answer_of_every_operation_conforms_to_the_openapi_document(client) -> None:
    """Schemathesis drives every operation of our own document with valid and invalid
    requests, signed in as a user holding every role of the force, and checks each answer: no
    500; its status, media type, headers and body as the document declares; a valid request
    taken (or refused only for what it asks of the data: ``ACCEPTED``); an invalid one refused.
    Half the valid requests name real records, users and devices in their paths (an invalid
    request keeps the invalid value it was made to send).

    Two refusals the document cannot state are not held against it:

    - the reason headers are one value in two parts (a code and its text, each required with
      the other, both empty meaning no reason), which no schema of one parameter can say: a
      case that made either of them invalid is not checked for rejection (their refusals are
      tested in tests/audit);
    - a proof asked of more of the trail than there is (``DATA_DEPENDENT``) is refused 400,
      whatever the document says of the numbers.
    """
    # Given our own OpenAPI document, loaded from the running app, a user holding every role
    # of the force signed in, and real records, users and devices to aim at
    config = schemathesis.Config.from_dict(SCHEMATHESIS_CONFIG)
    schema = schemathesis.openapi.from_asgi(f"{API}/openapi.json", client.app, config=config)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 80
    targets = _targets(client)
    failures: dict[str, str] = {}
    answered: dict[str, set[int]] = defaultdict(set)
    fresh = itertools.count(1)
    cases = itertools.count()

    def fuzz(operation: Any, mode: GenerationMode) -> None:
        @settings(FUZZ, max_examples=6, phases=[Phase.explicit, Phase.generate])
        @given(case=operation.as_strategy(generation_mode=mode), aim=st.booleans())
        def call(case: Any, aim: bool) -> None:
            next(cases)
            name = f"{case.method} {case.path}"
            run = list(CONFORMANCE)
            if mode == GenerationMode.POSITIVE:
                if aim:
                    _aim(case, targets)
                # A reason is given where the document leaves it out (some reads need one).
                case.headers = {**REASON, **(case.headers or {})}
                if not DATA_DEPENDENT.get(name, lambda _query: False)(case.query or {}):
                    run.append(openapi_checks.positive_data_acceptance)
            elif not _negated(case) & REASON_HEADERS:
                run.append(openapi_checks.negative_data_rejection)
            headers = {"Authorization": client.headers["Authorization"]}
            try:
                response = case.call_and_validate(headers=headers, checks=run)
            except FailureGroup as group:
                failures.setdefault(f"{name} ({mode.value})", str(group)[:2000])
                return
            answered[name].add(response.status_code)
            ended = response.status_code == 401 and _code(response) in SESSION_ENDED
            if ended or (name == f"POST {API}/auth/sign-out" and response.status_code < 300):
                # The fuzzer signed itself out: carry on as another user with every role.
                client.headers.update(auth_headers(client, f"fuzz.{next(fresh)}"))

        # An operation without inputs has no invalid request to make.
        with contextlib.suppress(Unsatisfiable):
            call()

    # When every operation gets a few valid and a few invalid requests
    started = time.perf_counter()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode)
    took = time.perf_counter() - started

    # Then every answer conforms
    assert failures == {}, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    # And every operation that needs a signed-in user was reached by one, not only refused
    assert len(answered) == len(operations)
    refused = {name for name, statuses in answered.items() if statuses == {401}}
    assert refused <= SIGN_IN, refused
    print(f"{len(operations)} operations, {next(cases)} cases, {took:.0f} s")  # noqa: T201  (figures for the log)


def _code(response: Any) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


# --- near-valid records --------------------------------------------------------------------

ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12)), timezone(timedelta(0))]
)
any_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
times = st.datetimes(timezones=ZONES).map(lambda d: d.isoformat())
# The ends of the calendar, where converting to UTC can overflow.
calendar_ends = st.one_of(
    st.datetimes(max_value=datetime(1, 1, 2), timezones=ZONES),  # noqa: DTZ001  (Hypothesis bounds are naive)
    st.datetimes(min_value=datetime(9999, 12, 30), timezones=ZONES),  # noqa: DTZ001  (same)
).map(lambda d: d.isoformat())
odd_values = st.one_of(
    any_json,
    times,
    st.dates().map(lambda d: d.isoformat()),
    st.floats(min_value=-1000, max_value=1000),
    st.text(min_size=1, max_size=200),
    st.uuids().map(str),
)
odd_times = st.one_of(times, calendar_ends, odd_values)


def _fields(struct: Any) -> dict[str, st.SearchStrategy[Any]]:
    """Each field of a record type, with the odd values most likely to trouble it."""
    return {
        f.name: odd_times if "datetime" in repr(f.type) else odd_values
        for f in msgspec.structs.fields(struct)
    }


@st.composite
def near_valid(
    draw: st.DrawFn, base: dict[str, Any], fields: dict[str, st.SearchStrategy[Any]]
) -> dict[str, Any]:
    """``base`` with up to three fields replaced by odd values or left out, rarely a stray one."""
    payload = dict(base)
    for name in draw(st.lists(st.sampled_from(sorted(fields)), max_size=3, unique=True)):
        if name in payload and draw(st.integers(0, 3)) == 0:
            del payload[name]
        else:
            payload[name] = draw(fields[name])
    if draw(st.integers(0, 9)) == 0:
        payload["stray"] = draw(any_json)
    return payload


@pytest.mark.parametrize("path", KIND_PATHS)
def test_near_valid_records_are_stored_whole_or_refused_with_a_4xx(client, db, path: str) -> None:
    # Given a valid record of the kind (whatever it points at stored first), without an event
    # reference, which may be used only once
    base = payload_for(client, path)
    base.pop("reference", None)
    fields = _fields(BY_PATH[path].create)

    @settings(FUZZ, max_examples=60)
    @given(payload=near_valid(base, fields))
    def create(payload: dict[str, Any]) -> None:
        before = row_counts(db)

        # When a mangled version of it is sent
        response = client.post(f"{API}/{path}", json=payload)

        # Then it is either stored whole (the record and its history) or refused with a 4xx,
        # writing nothing
        assert response.status_code < 500, response.text
        after = row_counts(db)
        if response.status_code == 201:
            table = BY_PATH[path].model.__tablename__
            assert after[table] == before[table] + 1
            assert after["change_log"] == before["change_log"] + 1
        else:
            assert 400 <= response.status_code < 500
            assert after == before

    create()


TIME_FIELDS = {
    "events": ("occurred_from", "occurred_to", "reported_at"),
    "links": ("valid_from", "valid_to"),
}


@pytest.mark.parametrize("path", sorted(TIME_FIELDS))
def test_any_time_in_any_zone_is_stored_or_refused(client, db, path: str) -> None:
    # Given a valid record with times
    base = payload_for(client, path)
    base.pop("reference", None)

    @settings(FUZZ, max_examples=80)
    @given(
        times=st.dictionaries(
            st.sampled_from(TIME_FIELDS[path]),
            st.datetimes(timezones=ZONES).map(lambda d: d.isoformat()) | calendar_ends,
            min_size=1,
        )
    )
    def create(times: dict[str, str]) -> None:
        before = row_counts(db)

        # When any times, in any zone, are put in it
        response = client.post(f"{API}/{path}", json=base | times)

        # Then it is stored, or refused with a 4xx that writes nothing
        assert response.status_code < 500, response.text
        if response.status_code != 201:
            assert row_counts(db) == before

    create()


@pytest.mark.parametrize("path", KIND_PATHS)
def test_odd_changes_to_a_record_are_applied_whole_or_refused(client, db, path: str) -> None:
    # Given a stored record
    base = payload_for(client, path)
    created = client.post(f"{API}/{path}", json=base).json()
    fields = _fields(BY_PATH[path].fields)

    @settings(FUZZ, max_examples=30)
    @given(patch=near_valid(base, fields), version=st.sampled_from([None, 0, 1, 99, "1"]))
    def change(patch: dict[str, Any], version: Any) -> None:
        current = client.get(f"{API}/{path}/{created['id']}").json()
        body = patch | (
            {} if version is None else {"version": current["version"] if version == 1 else version}
        )

        # When an odd change is sent
        response = client.patch(f"{API}/{path}/{created['id']}", json=body)

        # Then it is applied (as the next version, or as no change at all) or refused with a 4xx
        # leaving the record exactly as it was
        assert response.status_code < 500, response.text
        after = client.get(f"{API}/{path}/{created['id']}").json()
        if response.status_code == 200:
            assert after["version"] in {current["version"], current["version"] + 1}
            assert after == response.json()
        else:
            assert after == current

    change()


filter_names = st.sampled_from(
    sorted({name for kind in KINDS for name in kind.filters} | {"cursor", "limit", "x"})
)


@pytest.mark.parametrize("path", KIND_PATHS)
def test_any_list_query_gets_a_page_or_a_4xx(client, path: str) -> None:
    client.post(f"{API}/{path}", json=payload_for(client, path))

    @settings(FUZZ, max_examples=40)
    @given(
        params=st.dictionaries(
            filter_names,
            st.one_of(
                st.text(max_size=40),
                odd_times,
                st.integers().map(str),
                st.uuids().map(str),
            ),
            max_size=3,
        )
    )
    def query(params: dict[str, str]) -> None:
        response = client.get(f"{API}/{path}", params=params)
        assert response.status_code < 500, response.text
        if response.status_code == 200:
            assert set(response.json()) == {"items", "next_cursor"}

    query()
