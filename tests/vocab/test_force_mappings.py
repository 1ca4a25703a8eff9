"""A force loads its legacy code list: every line is either loaded or reported, never dropped."""

from __future__ import annotations

from typing import Any

import pytest

from bluelight.vocab.rules import MAX_MAPPING_ROWS
from factories import API, assert_problem, row_counts

CSV = {"Content-Type": "text/csv"}


def put_mapping(client: Any, list_name: str, force: str, text: str | bytes) -> Any:
    body = text.encode() if isinstance(text, str) else text
    return client.put(f"{API}/vocab/{list_name}/mappings/{force}", content=body, headers=CSV)


def get_mapping(client: Any, list_name: str, force: str) -> dict[str, Any]:
    response = client.get(f"{API}/vocab/{list_name}/mappings/{force}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_loaded_mapping_can_be_read_back(client) -> None:
    # Given a force's legacy hair colour list, with a header line
    text = "local_code,local_label,national_code\nBLK,Black,BLACK\nBLN,Blonde,BLONDE\n"

    # When it is loaded
    response = put_mapping(client, "hair-colour", "WMP", text)

    # Then every line is loaded
    assert response.status_code == 200, response.text
    assert response.json() == {
        "force_code": "WMP",
        "list_name": "hair-colour",
        "loaded": 2,
        "rejected": [],
    }
    # And the force's mapping reads back, by local code
    assert get_mapping(client, "hair-colour", "WMP") == {
        "force_code": "WMP",
        "list_name": "hair-colour",
        "rows": [
            {"local_code": "BLK", "local_label": "Black", "national_code": "BLACK"},
            {"local_code": "BLN", "local_label": "Blonde", "national_code": "BLONDE"},
        ],
    }


def test_lines_that_cannot_be_loaded_are_reported_with_their_reasons(client) -> None:
    # Given a file with good lines and each kind of bad one
    text = "\n".join(
        [
            "1,Male,M",  # line 1: good
            "2,Female,Q",  # line 2: no such national code
            "1,Man,M",  # line 3: local code given twice
            "3,Too,many,fields",  # line 4
            "4,Too few",  # line 5
            "5,Legacy female,FEMALE",  # line 6: no such national code
            ",No local code,F",  # line 7
            "6,Unknown,U",  # line 8: good
        ]
    )

    # When it is loaded
    report = put_mapping(client, "sex", "WMP", text).json()

    # Then the good lines load, and every other line is reported with why
    assert report["loaded"] == 2
    reasons = {r["line"]: r["reason"] for r in report["rejected"]}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7]
    assert "not a code of the sex list" in reasons[2]
    assert "more than once" in reasons[3]
    assert "3 fields" in reasons[4]
    assert "3 fields" in reasons[5]
    assert "required" in reasons[7]
    rejected_2 = next(r for r in report["rejected"] if r["line"] == 2)
    assert (rejected_2["local_code"], rejected_2["national_code"]) == ("2", "Q")
    # And only the good lines are in the mapping
    rows = get_mapping(client, "sex", "WMP")["rows"]
    assert [(r["local_code"], r["national_code"]) for r in rows] == [("1", "M"), ("6", "U")]


def test_mapping_to_a_retired_national_code_is_reported(client) -> None:
    report = put_mapping(client, "hair-colour", "WMP", "BRN,Brown,BROWN\n").json()
    assert report["loaded"] == 0
    assert "retired" in report["rejected"][0]["reason"]


def test_local_code_or_label_too_long_is_reported(client) -> None:
    text = f"{'X' * 41},Long code,M\nY,{'L' * 201},F\nZ,Fine,F\n"
    report = put_mapping(client, "sex", "WMP", text).json()
    assert report["loaded"] == 1
    assert [r["line"] for r in report["rejected"]] == [1, 2]


def test_reloading_replaces_the_previous_mapping(client) -> None:
    # Given a mapping already loaded
    put_mapping(client, "sex", "WMP", "1,Male,M\n2,Female,F\n")

    # When the force loads a new file for the same list
    report = put_mapping(client, "sex", "WMP", "M,Male,M\n").json()

    # Then only the new file's lines are in force
    assert report["loaded"] == 1
    rows = get_mapping(client, "sex", "WMP")["rows"]
    assert [r["local_code"] for r in rows] == ["M"]


def test_mappings_are_kept_per_force_and_per_list(client) -> None:
    put_mapping(client, "sex", "WMP", "1,Male,M\n")
    put_mapping(client, "sex", "NTH", "A,Male,M\nB,Female,F\n")
    put_mapping(client, "build", "WMP", "T,Thin,THIN\n")

    # Reloading one force's list leaves the others as they were
    put_mapping(client, "sex", "WMP", "9,Unknown,U\n")

    assert [r["local_code"] for r in get_mapping(client, "sex", "NTH")["rows"]] == ["A", "B"]
    assert [r["local_code"] for r in get_mapping(client, "build", "WMP")["rows"]] == ["T"]
    assert [r["local_code"] for r in get_mapping(client, "sex", "WMP")["rows"]] == ["9"]


def test_force_without_a_mapping_reads_back_empty(client) -> None:
    assert get_mapping(client, "sex", "NONE")["rows"] == []


def test_force_code_is_read_in_upper_case(client) -> None:
    put_mapping(client, "sex", "wmp", "1,Male,M\n")
    assert get_mapping(client, "sex", "WMP")["rows"][0]["local_code"] == "1"


def test_byte_order_mark_quotes_and_blank_lines_are_handled(client) -> None:
    text = '\ufefflocal_code,local_label,national_code\n\n"1","Male, adult",M\n\n  2 , Female ,F\n'
    report = put_mapping(client, "sex", "WMP", text).json()
    assert (report["loaded"], report["rejected"]) == (2, [])
    rows = get_mapping(client, "sex", "WMP")["rows"]
    assert [(r["local_code"], r["local_label"]) for r in rows] == [
        ("1", "Male, adult"),
        ("2", "Female"),
    ]


def test_mapping_for_an_unknown_list_is_refused(client, db) -> None:
    before = row_counts(db)
    assert_problem(put_mapping(client, "shoe-size", "WMP", "1,Big,XL\n"), 404, "UNKNOWN_LIST")
    assert_problem(client.get(f"{API}/vocab/shoe-size/mappings/WMP"), 404, "UNKNOWN_LIST")
    assert row_counts(db) == before


@pytest.mark.parametrize("force", ["W", "WEST-MIDS", "ABCDEFGHIJK"])
def test_force_code_that_is_not_one_is_refused(client, db, force: str) -> None:
    before = row_counts(db)
    assert_problem(put_mapping(client, "sex", force, "1,Male,M\n"), 422, "MAPPING_INVALID")
    assert_problem(client.get(f"{API}/vocab/sex/mappings/{force}"), 422, "MAPPING_INVALID")
    assert row_counts(db) == before


def test_file_that_is_not_utf8_is_refused_and_the_old_mapping_kept(client) -> None:
    put_mapping(client, "sex", "WMP", "1,Male,M\n")
    response = put_mapping(client, "sex", "WMP", "1,Mâle,M\n".encode("latin-1"))
    assert_problem(response, 422, "MAPPING_INVALID")
    assert [r["local_label"] for r in get_mapping(client, "sex", "WMP")["rows"]] == ["Male"]


def test_file_that_is_not_readable_csv_is_refused(client) -> None:
    # A quoted field longer than the CSV reader's field limit.
    text = '1,"' + "x" * 140_000 + '",M\n'
    assert_problem(put_mapping(client, "sex", "WMP", text), 422, "MAPPING_INVALID")


def test_file_with_too_many_lines_is_refused_whole(client, db) -> None:
    before = row_counts(db)
    text = "".join(f"L{i},Label,M\n" for i in range(MAX_MAPPING_ROWS + 2))
    body = assert_problem(put_mapping(client, "sex", "WMP", text), 422, "MAPPING_INVALID")
    assert str(MAX_MAPPING_ROWS) in body["detail"]
    assert row_counts(db) == before


def test_empty_file_clears_the_mapping(client) -> None:
    put_mapping(client, "sex", "WMP", "1,Male,M\n")
    report = put_mapping(client, "sex", "WMP", "").json()
    assert (report["loaded"], report["rejected"]) == (0, [])
    assert get_mapping(client, "sex", "WMP")["rows"] == []
