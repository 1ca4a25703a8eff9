"""The administrators' sync panel: how each device stands, and what was refused from it."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient
from test_pull import device_of, pull_all
from test_push import op, statuses

from factories import API, assert_problem, auth_headers, property_payload


def test_the_panel_shows_each_devices_last_sync_backlog_and_refusals(
    client: TestClient[Any],
) -> None:
    # Given a device that pushed three operations (one refused), reported a backlog, and pulled
    headers, device = device_of(client, "panel.officer")
    refused = op("property", "delete", content={"reason": "entered in error"}, base=1)
    ops = [op("property", "create", content=property_payload()) for _ in range(2)]
    answer = client.post(
        f"{API}/sync/push", json={"operations": [*ops, refused], "outbox": 7}, headers=headers
    )
    assert statuses(answer) == ["applied", "applied", "rejected"]
    pull_all(client, headers)
    # and a device that never synced
    _, idle_device = device_of(client, "panel.idle")

    # When an administrator opens the panel
    admin = auth_headers(client, "panel.admin", ("agency_admin",))
    panel = client.get(f"{API}/sync/devices", headers=admin)

    # Then it shows the device's sync, and the idle one as never synced
    assert panel.status_code == 200, panel.text
    shown = {row["id"]: row for row in panel.json()}
    mine = shown[str(device)]
    assert (mine["operations"], mine["rejected"], mine["outbox"], mine["behind"]) == (3, 1, 7, 0)
    assert mine["last_push_at"] is not None
    assert mine["last_pull_at"] is not None
    assert mine["last_user"] == "panel.officer"
    never = shown[str(idle_device)]
    assert (never["operations"], never["last_push_at"], never["behind"]) == (0, None, None)
    # and the refused operation, with its code and none of its content
    rejected = client.get(f"{API}/sync/rejected", params={"device": str(device)}, headers=admin)
    assert rejected.status_code == 200
    (row,) = rejected.json()
    assert (row["id"], row["code"], row["kind"], row["action"]) == (
        refused["id"],
        "PERMISSION_DENIED",
        "property",
        "delete",
    )
    assert "entered in error" not in rejected.text


def test_the_panel_is_for_those_who_look_after_devices(client: TestClient[Any]) -> None:
    headers, _ = device_of(client, "panel.nosy")

    assert_problem(client.get(f"{API}/sync/devices", headers=headers), 403, "PERMISSION_DENIED")
    assert_problem(client.get(f"{API}/sync/rejected", headers=headers), 403, "PERMISSION_DENIED")


def test_the_panel_shows_only_the_agencys_own_devices(client: TestClient[Any]) -> None:
    _, ours = device_of(client, "panel.ours")
    other = auth_headers(client, "panel.other", ("agency_admin",), agency="XPOL")

    panel = client.get(f"{API}/sync/devices", headers=other)

    assert panel.status_code == 200
    assert str(ours) not in {row["id"] for row in panel.json()}
