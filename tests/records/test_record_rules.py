"""The record rules as pure functions, at dates the calendar makes awkward."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bluelight.records.rules import Context, check_person
from bluelight.records.schemas import PersonFields, PersonName
from bluelight.vocab import Checker, code_lists


def _check_dob(born: date, on: datetime) -> list[tuple[str, str]]:
    checker = Checker(code_lists())
    person = PersonFields(names=[PersonName(family_name="Okafor")], date_of_birth=born)
    check_person(person, checker, Context(now=on, changed=frozenset({"date_of_birth"})))
    return [(i.field, i.code) for i in checker.issues]


@pytest.mark.parametrize(
    "leap_day", [datetime(2028, 2, 29, 12, tzinfo=UTC), datetime(2024, 2, 29, tzinfo=UTC)]
)
def test_date_of_birth_is_checked_on_a_leap_day(leap_day: datetime) -> None:
    # Given today is 29 February (130 years earlier was not a leap year)
    # When a date of birth is checked, then the rule holds instead of failing
    assert _check_dob(date(1990, 6, 1), leap_day) == []
    assert _check_dob(date(leap_day.year - 131, 1, 1), leap_day) == [
        ("date_of_birth", "INVALID_RANGE")
    ]


def test_oldest_accepted_birth_date_is_130_years_back() -> None:
    today = datetime(2026, 11, 21, tzinfo=UTC)
    assert _check_dob(date(1896, 11, 21), today) == []
    assert _check_dob(date(1896, 11, 20), today) == [("date_of_birth", "INVALID_RANGE")]
