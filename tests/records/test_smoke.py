from __future__ import annotations


def test_created_person_can_be_read_back(client) -> None:  # type: ignore[no-untyped-def]
    created = client.post("/api/v1/persons", json={"names": [{"family_name": "Okafor"}]})
    assert created.status_code == 201
    read = client.get(f"/api/v1/persons/{created.json()['id']}")
    assert read.json()["names"][0]["family_name"] == "Okafor"
