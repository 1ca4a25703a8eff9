"""A query parameter typed as a number, an instant or one of a few words, given as the text
``null``, is refused as the API document says (the framework would read it as left out);
``null`` stays a value where a parameter is text."""

from __future__ import annotations

from typing import Any

import pytest

from factories import API, REASON, assert_problem


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/audit/entries", "cursor"),
        ("/audit/entries", "since"),
        ("/audit/entries", "outcome"),
        ("/audit/proofs/inclusion?seq=0", "tree_size"),
        ("/audit/proofs/consistency?first=1", "second"),
    ],
)
def test_null_for_a_parameter_that_is_not_text_is_refused(
    client: Any, path: str, name: str
) -> None:
    joiner = "&" if "?" in path else "?"
    response = client.get(f"{API}{path}{joiner}{name}=null", headers=REASON)
    body = assert_problem(response, 400, "INVALID_FORMAT")
    assert body["field"] == name


def test_null_is_a_value_where_a_parameter_is_text(client: Any) -> None:
    # A username "null" is looked for (and none is found), not refused
    response = client.get(f"{API}/audit/entries?user=null", headers=REASON)
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
