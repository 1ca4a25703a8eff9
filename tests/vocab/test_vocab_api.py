"""The code lists over HTTP: devices fetch them once and refresh them cheaply with ETags."""

from __future__ import annotations

import pytest

from bluelight.vocab import code_lists
from factories import API, assert_problem


def test_catalogue_lists_every_code_list_with_its_etag(client) -> None:
    # When a device asks for the catalogue
    response = client.get(f"{API}/vocab")

    # Then it gets every list, with its version, size, ETag and where to fetch it
    assert response.status_code == 200
    assert response.headers["etag"]
    body = response.json()
    assert body["etag"] == response.headers["etag"]
    lists = {item["name"]: item for item in body["lists"]}
    assert set(lists) == set(code_lists())
    for name, item in lists.items():
        cl = code_lists()[name]
        assert item["href"] == f"/api/v1/vocab/{name}"
        assert item["etag"] == cl.etag
        assert item["version"] == cl.version
        assert item["active"] + item["retired"] == len(cl.entries)
        assert item["retired"] == sum(1 for e in cl.entries if e.status == "retired")


def test_catalogue_is_not_sent_again_while_unchanged(client) -> None:
    # Given a device holding the catalogue and its ETag
    etag = client.get(f"{API}/vocab").headers["etag"]

    # When it asks again with If-None-Match
    response = client.get(f"{API}/vocab", headers={"If-None-Match": etag})

    # Then 304 Not Modified, without a body
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag


@pytest.mark.parametrize("name", sorted(code_lists()))
def test_each_list_is_served_with_its_etag(client, name: str) -> None:
    # When a device fetches one list from the catalogue's href
    response = client.get(f"{API}/vocab/{name}")

    # Then it gets every entry, active and retired, under the list's ETag
    assert response.status_code == 200
    assert response.headers["etag"] == code_lists()[name].etag
    assert "no-cache" in response.headers["cache-control"]
    body = response.json()
    assert body["name"] == name
    assert [e["code"] for e in body["entries"]] == [e.code for e in code_lists()[name].entries]
    assert {e["status"] for e in body["entries"]} <= {"active", "retired"}


def test_list_is_not_sent_again_while_unchanged(client) -> None:
    # Given a device holding the sex list
    etag = client.get(f"{API}/vocab/sex").headers["etag"]

    # When it asks with that ETag, alone, among others, or with a wildcard
    same = client.get(f"{API}/vocab/sex", headers={"If-None-Match": etag})
    among = client.get(f"{API}/vocab/sex", headers={"If-None-Match": f'"stale", {etag}'})
    star = client.get(f"{API}/vocab/sex", headers={"If-None-Match": "*"})

    # Then nothing is sent again
    assert [r.status_code for r in (same, among, star)] == [304, 304, 304]
    assert same.content == b""


def test_list_is_sent_when_the_device_holds_an_old_copy(client) -> None:
    response = client.get(f"{API}/vocab/sex", headers={"If-None-Match": '"an-old-version"'})
    assert response.status_code == 200
    assert response.json()["name"] == "sex"


def test_each_list_has_its_own_etag(client) -> None:
    etags = [cl.etag for cl in code_lists().values()]
    assert len(set(etags)) == len(etags)
    catalogue = client.get(f"{API}/vocab").headers["etag"]
    assert catalogue not in etags
    # The ETag of one list does not stand for another.
    sex = code_lists()["sex"].etag
    assert client.get(f"{API}/vocab/build", headers={"If-None-Match": sex}).status_code == 200


def test_unknown_list_is_not_found(client) -> None:
    body = assert_problem(client.get(f"{API}/vocab/shoe-size"), 404, "UNKNOWN_LIST")
    assert body["list"] == "shoe-size"
    assert body["allowed"] == "/api/v1/vocab"


def test_entry_attributes_are_served(client) -> None:
    # A device needs the attributes: which kinds a link joins, where a marker applies.
    links = client.get(f"{API}/vocab/link-type").json()
    keeper = next(e for e in links["entries"] if e["code"] == "registered-keeper")
    assert keeper["attributes"] == {"from": "person", "to": "vehicle"}
    assert set(links["attributes"]) == {"from", "to"}
