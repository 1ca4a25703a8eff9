"""Record-level access through the HTTP API: classification, restricted records, and records
that belong to another agency.

A record is seen by its own agency's users cleared for its classification; a restricted one
only by the users and teams named on it, and only with a reason; another agency's records do
not exist as far as the API admits.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from bluelight.audit.models import AuditEntry
from bluelight.identity.models import Agency, Team, TeamMember, User
from bluelight.kernel import new_id, utcnow
from factories import (
    A_CHANGE,
    API,
    FORCE,
    KIND_PATHS,
    assert_problem,
    auth_headers,
    event_payload,
    link_payload,
    location_payload,
    marker_payload,
    new_record,
    person_payload,
    row_counts,
    stored,
)

NO_REASON = {"X-Bluelight-Reason": "", "X-Bluelight-Reason-Text": ""}
SENSITIVE = "OFFICIAL-SENSITIVE"
KIND_OF = {
    "persons": "person",
    "vehicles": "vehicle",
    "property": "property",
    "locations": "location",
    "events": "event",
    "links": "link",
    "markers": "marker",
}


def officer(client: Any, username: str = "pc.plain", clearance: str = "OFFICIAL") -> dict[str, str]:
    """Headers of a same-force officer (who may not change who sees a record), with a reason."""
    return auth_headers(client, username, ("officer",), clearance=clearance)


def investigator(
    client: Any, username: str = "dc.lead", clearance: str = SENSITIVE
) -> dict[str, str]:
    return auth_headers(client, username, ("investigator",), clearance=clearance)


def stranger(client: Any) -> dict[str, str]:
    """Headers of a supervisor of another police force: every permission, another agency."""
    return auth_headers(client, "other.sergeant", agency="OTHER")


def audit(client: Any, **where: Any) -> list[SimpleNamespace]:
    """Audit entries matching ``where`` (column=value), in the order they were written."""
    columns = AuditEntry.__table__.columns
    stmt = select(*columns).order_by(AuditEntry.seq)
    for name, value in where.items():
        stmt = stmt.where(columns[name] == value)
    with client.app.state.database.read() as session:
        return [SimpleNamespace(**row._asdict()) for row in session.execute(stmt)]


def access(client: Any, path: str, record: dict[str, Any], headers: Any = None, **body: Any) -> Any:
    return client.put(
        f"{API}/{path}/{record['id']}/access",
        json={"version": record["version"], **body},
        headers=headers,
    )


def restricted(client: Any, path: str, record: dict[str, Any], headers: Any, **body: Any) -> Any:
    """Restrict ``record`` as the user of ``headers``; the access it now has."""
    response = access(client, path, record, headers, restricted=True, **body)
    assert response.status_code == 200, response.text
    return response.json()


def listed(client: Any, path: str, headers: dict[str, str]) -> set[str]:
    response = client.get(f"{API}/{path}", headers=headers, params={"limit": 200})
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


# --- classification -------------------------------------------------------------------------


@pytest.mark.parametrize("path", KIND_PATHS)
def test_a_record_above_the_readers_clearance_is_refused_and_unlisted(client, path) -> None:
    # Given one record of the kind classified OFFICIAL-SENSITIVE and one OFFICIAL
    secret = new_record(client, path, classification=SENSITIVE)
    plain = new_record(client, path)
    headers = officer(client)

    # When an officer cleared only to OFFICIAL reads, lists and asks for the history
    read = client.get(f"{API}/{path}/{secret['id']}", headers=headers)
    history = client.get(f"{API}/{path}/{secret['id']}/history", headers=headers)

    # Then the sensitive one is refused (and the refusal audited) and missing from the list
    assert_problem(read, 403, "CLASSIFICATION_ABOVE_CLEARANCE")
    assert_problem(history, 403, "CLASSIFICATION_ABOVE_CLEARANCE")
    assert plain["id"] in listed(client, path, headers)
    assert secret["id"] not in listed(client, path, headers)
    denied = audit(client, outcome="denied", actor_username="pc.plain")
    assert [(e.action, e.tag, e.subject_ids, e.detail["code"]) for e in denied] == [
        (
            "consultation",
            f"records:{KIND_OF[path]}:read",
            [secret["id"]],
            "CLASSIFICATION_ABOVE_CLEARANCE",
        ),
        (
            "consultation",
            f"records:{KIND_OF[path]}:history-read",
            [secret["id"]],
            "CLASSIFICATION_ABOVE_CLEARANCE",
        ),
    ]
    assert client.get(f"{API}/{path}/{secret['id']}").status_code == 200


def test_a_record_above_the_authors_clearance_cannot_be_created(client) -> None:
    before = row_counts(client.app.state.database)

    refused = client.post(
        f"{API}/events", json=event_payload(classification=SENSITIVE), headers=officer(client)
    )

    assert_problem(refused, 403, "CLASSIFICATION_ABOVE_CLEARANCE")
    assert row_counts(client.app.state.database)["events"] == before["events"]
    cleared = officer(client, "pc.cleared", clearance=SENSITIVE)
    created = client.post(
        f"{API}/events", json=event_payload(classification=SENSITIVE), headers=cleared
    )
    assert created.status_code == 201, created.text
    assert created.json()["classification"] == SENSITIVE
    assert client.get(f"{API}/events/{created.json()['id']}", headers=cleared).status_code == 200


def test_reclassifying_is_a_versioned_audited_change_in_the_history(client) -> None:
    # Given an OFFICIAL event an OFFICIAL officer can read
    event = new_record(client, "events")
    headers = officer(client)
    assert client.get(f"{API}/events/{event['id']}", headers=headers).status_code == 200

    # When a supervisor classifies it OFFICIAL-SENSITIVE
    changed = access(client, "events", event, classification=SENSITIVE)

    # Then it is a new version, audited as an alteration and kept in its history ...
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        "id": event["id"],
        "version": 2,
        "classification": SENSITIVE,
        "restricted": False,
        "users": [],
        "teams": [],
    }
    [entry] = audit(client, tag="records:event:access-changed")
    assert entry.action == "alteration"
    assert entry.outcome == "allowed"
    assert entry.subject_ids == [event["id"]]
    assert entry.detail == {"changes": {"classification": ["OFFICIAL", SENSITIVE]}}
    history = client.get(f"{API}/events/{event['id']}/history").json()
    assert [(h["version"], h["action"]) for h in history] == [(1, "created"), (2, "access")]
    assert history[-1]["snapshot"]["classification"] == SENSITIVE
    assert client.get(f"{API}/events/{event['id']}").json()["version"] == 2
    # ... the officer can no longer read it, and a change based on the old version is refused
    assert_problem(
        client.get(f"{API}/events/{event['id']}", headers=headers),
        403,
        "CLASSIFICATION_ABOVE_CLEARANCE",
    )
    stale = access(client, "events", event, classification="OFFICIAL")
    assert_problem(stale, 409, "VERSION_CONFLICT")


def test_officers_cannot_change_who_sees_a_record(client) -> None:
    event = new_record(client, "events")

    refused = access(
        client, "events", event, officer(client, clearance=SENSITIVE), classification=SENSITIVE
    )

    assert_problem(refused, 403, "PERMISSION_DENIED")
    assert client.get(f"{API}/events/{event['id']}").json()["classification"] == "OFFICIAL"


def test_no_one_classifies_a_record_above_their_own_clearance(client) -> None:
    event = new_record(client, "events")

    refused = access(
        client,
        "events",
        event,
        investigator(client, clearance="OFFICIAL"),
        classification=SENSITIVE,
    )

    assert_problem(refused, 403, "CLASSIFICATION_ABOVE_CLEARANCE")
    assert client.get(f"{API}/events/{event['id']}").json()["version"] == 1


# --- restricted records ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["events", "persons"])
def test_a_restricted_record_is_seen_only_by_the_named_with_a_reason(client, path) -> None:
    # Given a record an investigator restricts to one named officer
    record = new_record(client, path)
    lead = investigator(client)
    named = officer(client, "pc.named")
    unnamed = officer(client, "pc.unnamed")
    unnamed_supervisor = auth_headers(client, "sgt.unnamed")

    grants = restricted(client, path, record, lead, users=["pc.named"])

    # Then the investigator stays named beside the officer
    assert grants["users"] == ["dc.lead", "pc.named"]
    assert grants["restricted"] is True
    assert grants["version"] == 2
    url = f"{API}/{path}/{record['id']}"
    # An officer of the force who is not named is refused it, and does not see it listed
    assert_problem(client.get(url, headers=unnamed), 403, "RECORD_RESTRICTED")
    assert_problem(client.get(f"{url}/history", headers=unnamed), 403, "RECORD_RESTRICTED")
    assert record["id"] not in listed(client, path, unnamed)
    change = {"version": 2, **A_CHANGE[path]}
    assert_problem(client.patch(url, json=change, headers=unnamed), 403, "RECORD_RESTRICTED")
    deletion = {"version": 2, "reason": "not needed"}
    assert_problem(
        client.request("DELETE", url, json=deletion, headers=unnamed_supervisor),
        403,
        "RECORD_RESTRICTED",
    )
    assert_problem(
        access(
            client, path, {"id": record["id"], "version": 2}, unnamed_supervisor, restricted=False
        ),
        403,
        "RECORD_RESTRICTED",
    )
    # The named officer reads it only with a reason
    assert_problem(client.get(url, headers={**named, **NO_REASON}), 400, "REASON_REQUIRED")
    read = client.get(url, headers=named)
    assert read.status_code == 200, read.text
    assert read.json()["restricted"] is True
    assert record["id"] in listed(client, path, named)
    # Another agency does not learn that it exists
    assert_problem(client.get(url, headers=stranger(client)), 404, "RECORD_NOT_FOUND")
    denied = audit(client, outcome="denied", actor_username="pc.unnamed")
    assert {e.detail.get("code") for e in denied} == {"RECORD_RESTRICTED"}


def test_a_named_user_lists_a_restricted_record_only_when_giving_a_reason(client) -> None:
    event = new_record(client, "events")
    other = new_record(client, "events")
    named = officer(client, "pc.named")
    restricted(client, "events", event, investigator(client), users=["pc.named"])

    without = listed(client, "events", {**named, **NO_REASON})
    with_reason = listed(client, "events", named)

    assert without == {other["id"]}
    assert with_reason == {event["id"], other["id"]}


@pytest.mark.parametrize("path", KIND_PATHS)
def test_a_restricted_record_of_any_kind_needs_a_reason(client, path) -> None:
    record = new_record(client, path)
    lead = investigator(client)
    restricted(client, path, record, lead)
    url = f"{API}/{path}/{record['id']}"

    for route in (url, f"{url}/history"):
        assert_problem(client.get(route, headers={**lead, **NO_REASON}), 400, "REASON_REQUIRED")
        assert client.get(route, headers=lead).status_code == 200


def test_team_membership_grants_access_to_a_restricted_record(client) -> None:
    # Given a team with one member (made in the database: there is no team API yet)
    event = new_record(client, "events")
    member = officer(client, "pc.member")
    outsider = officer(client, "pc.outsider")
    database = client.app.state.database
    with database.write() as session:
        agency_id = session.execute(select(Agency.id).where(Agency.code == FORCE)).scalar_one()
        user_id = session.execute(select(User.id).where(User.username == "pc.member")).scalar_one()
        team = Team(id=new_id(), agency_id=agency_id, name="Op Kestrel", created_at=utcnow())
        session.add(team)
        session.flush()
        session.add(TeamMember(team_id=team.id, user_id=user_id))

    # When an investigator restricts an event to the team
    grants = restricted(client, "events", event, investigator(client), teams=["Op Kestrel"])

    # Then the team's member reads it with a reason, and someone outside the team cannot
    assert grants["teams"] == ["Op Kestrel"]
    assert grants["users"] == ["dc.lead"]
    url = f"{API}/events/{event['id']}"
    assert client.get(url, headers=member).status_code == 200
    assert_problem(client.get(url, headers={**member, **NO_REASON}), 400, "REASON_REQUIRED")
    assert_problem(client.get(url, headers=outsider), 403, "RECORD_RESTRICTED")
    assert event["id"] in listed(client, "events", member)
    assert event["id"] not in listed(client, "events", outsider)


@pytest.mark.parametrize(
    "grantees",
    [{"users": ["no.such.user"]}, {"users": ["other.sergeant"]}, {"teams": ["No Such Team"]}],
    ids=["unknown-user", "other-agencys-user", "unknown-team"],
)
def test_restricting_to_someone_not_in_the_agency_is_refused(client, grantees) -> None:
    event = new_record(client, "events")
    stranger(client)

    refused = access(client, "events", event, investigator(client), restricted=True, **grantees)

    body = assert_problem(refused, 422, "GRANTEE_NOT_FOUND")
    assert set(body["missing"]) == set(grantees.popitem()[1])
    after = client.get(f"{API}/events/{event['id']}").json()
    assert (after["version"], after["restricted"]) == (1, False)


def test_restricting_again_names_whoever_restricts(client) -> None:
    # Given an event restricted to one investigator, then opened up again
    event = new_record(client, "events")
    first = investigator(client, "dc.first")
    restricted(client, "events", event, first)
    lifted = access(client, "events", {"id": event["id"], "version": 2}, first, restricted=False)
    assert lifted.status_code == 200, lifted.text

    # When another investigator restricts it, naming no one
    second = investigator(client, "dc.second")
    grants = restricted(client, "events", {"id": event["id"], "version": 3}, second)

    # Then they are named on it, and can still read it
    assert "dc.second" in grants["users"]
    assert client.get(f"{API}/events/{event['id']}", headers=second).status_code == 200


def test_restricting_writes_a_new_version_to_the_history(client) -> None:
    event = new_record(client, "events")
    lead = investigator(client)

    restricted(client, "events", event, lead)

    history = client.get(f"{API}/events/{event['id']}/history", headers=lead).json()
    assert [(h["version"], h["action"], h["changed_by"]) for h in history] == [
        (1, "created", "test.supervisor"),
        (2, "access", "dc.lead"),
    ]
    assert history[-1]["snapshot"]["restricted"] is True
    [entry] = audit(client, tag="records:event:access-changed")
    assert entry.detail["changes"] == {
        "restricted": [False, True],
        "grants": {"users": ["dc.lead"], "teams": []},
    }


# --- what a record carries beside it ---------------------------------------------------------


def test_warnings_and_addresses_the_reader_may_not_see_are_left_out_of_a_persons_read(
    client,
) -> None:
    # Given a person with three warnings and three addresses: one of each plain, one
    # restricted to an investigator, one classified above an officer's clearance
    lead = investigator(client)
    person = stored(client, "persons", person_payload())
    plain = stored(client, "markers", marker_payload(person["id"], detail="plain warning"))
    covert = stored(client, "markers", marker_payload(person["id"], marker="FI", detail="covert"))
    restricted(client, "markers", covert, lead)
    secret = stored(
        client,
        "markers",
        marker_payload(person["id"], marker="DR", detail="secret", classification=SENSITIVE),
    )
    home = stored(client, "locations", location_payload(street="Home Street"))
    safe_house = stored(client, "locations", location_payload(street="Safe House Lane"))
    hidden_link_place = stored(client, "locations", location_payload(street="Hidden Link Road"))
    sensitive_place = stored(
        client, "locations", location_payload(street="Sensitive Row", classification=SENSITIVE)
    )
    for place in (home, safe_house, sensitive_place):
        stored(client, "links", link_payload("person", person["id"], "location", place["id"]))
    hidden_link = stored(
        client, "links", link_payload("person", person["id"], "location", hidden_link_place["id"])
    )
    restricted(client, "locations", safe_house, lead)
    restricted(client, "links", hidden_link, lead)
    url = f"{API}/persons/{person['id']}"

    # When an OFFICIAL officer reads or lists the person
    headers = officer(client)
    read = client.get(url, headers=headers)
    page = client.get(f"{API}/persons", headers=headers)

    # Then only the plain warning and the plain address are there
    assert read.status_code == 200, read.text
    assert [m["id"] for m in read.json()["markers"]] == [plain["id"]]
    assert [a["location_id"] for a in read.json()["addresses"]] == [home["id"]]
    for text in ("covert", "secret", "Safe House", "Sensitive Row", "Hidden Link"):
        assert text not in read.text
        assert text not in page.text
    # The named investigator, cleared higher and giving a reason, sees all of them
    full = client.get(url, headers=lead).json()
    assert {m["id"] for m in full["markers"]} == {plain["id"], covert["id"], secret["id"]}
    assert {a["location_id"] for a in full["addresses"]} == {
        home["id"],
        safe_house["id"],
        sensitive_place["id"],
        hidden_link_place["id"],
    }


def test_a_restricted_warning_on_a_place_needs_the_readers_reason(client) -> None:
    lead = investigator(client)
    place = stored(client, "locations", location_payload())
    warning = stored(client, "markers", marker_payload(place["id"], "location", detail="dogs"))
    restricted(client, "markers", warning, lead)
    url = f"{API}/locations/{place['id']}"

    without = client.get(url, headers={**lead, **NO_REASON})
    with_reason = client.get(url, headers=lead)

    assert without.status_code == with_reason.status_code == 200
    assert without.json()["markers"] == []
    assert [m["detail"] for m in with_reason.json()["markers"]] == ["dogs"]


def test_a_warning_or_link_about_a_restricted_record_is_kept_like_it(client) -> None:
    # Given a restricted person, with a warning on them and a link to an event
    lead = investigator(client)
    person = stored(client, "persons", person_payload())
    event = new_record(client, "events")
    warning = stored(client, "markers", marker_payload(person["id"], detail="covert source"))
    link = stored(client, "links", link_payload("person", person["id"], "event", event["id"]))
    restricted(client, "persons", person, lead)
    unnamed = officer(client)

    # Then someone not named on the person can read neither, nor find them in lists
    for path, record in (("markers", warning), ("links", link)):
        url = f"{API}/{path}/{record['id']}"
        assert_problem(client.get(url, headers=unnamed), 403, "RECORD_RESTRICTED")
        assert_problem(client.get(f"{url}/history", headers=unnamed), 403, "RECORD_RESTRICTED")
        change = {"version": 1, **A_CHANGE[path]}
        assert_problem(client.patch(url, json=change, headers=unnamed), 403, "RECORD_RESTRICTED")
        assert record["id"] not in listed(client, path, unnamed)
        # and the investigator named on the person reads them with a reason
        assert_problem(client.get(url, headers={**lead, **NO_REASON}), 400, "REASON_REQUIRED")
        assert client.get(url, headers=lead).status_code == 200
        assert record["id"] in listed(client, path, lead)
        # and warnings and links, being about people, are never listed without a reason
        assert_problem(
            client.get(f"{API}/{path}", headers={**lead, **NO_REASON}), 400, "REASON_REQUIRED"
        )
    assert "covert source" not in client.get(f"{API}/markers", headers=unnamed).text


def test_a_warning_about_a_record_above_the_readers_clearance_is_refused(client) -> None:
    person = stored(client, "persons", person_payload(classification=SENSITIVE))
    warning = stored(client, "markers", marker_payload(person["id"]))
    headers = officer(client)

    read = client.get(f"{API}/markers/{warning['id']}", headers=headers)

    assert_problem(read, 403, "CLASSIFICATION_ABOVE_CLEARANCE")
    assert warning["id"] not in listed(client, "markers", headers)


def test_no_one_points_a_record_at_one_kept_from_them(client) -> None:
    # Given a restricted person, event and place, and a person above an officer's clearance
    lead = investigator(client)
    person = new_record(client, "persons")
    event = new_record(client, "events")
    place = new_record(client, "locations")
    for path, record in (("persons", person), ("events", event), ("locations", place)):
        restricted(client, path, record, lead)
    secret = new_record(client, "persons", classification=SENSITIVE)
    mine = new_record(client, "persons")
    headers = officer(client)
    before = row_counts(client.app.state.database)

    # When an officer not named on them points new records at them
    attempts = {
        "subject_id": [
            client.post(f"{API}/markers", json=marker_payload(p["id"]), headers=headers)
            for p in (person, secret)
        ],
        "to_id": [
            client.post(
                f"{API}/links",
                json=link_payload("person", mine["id"], "event", event["id"]),
                headers=headers,
            )
        ],
        "location_id": [
            client.post(
                f"{API}/events", json=event_payload(location_id=place["id"]), headers=headers
            )
        ],
    }

    # Then each is refused as if the record were not there, and nothing is stored
    for field, responses in attempts.items():
        for response in responses:
            body = assert_problem(response, 422, "REFERENCE_NOT_FOUND")
            assert body["field"] == field
    after = row_counts(client.app.state.database)
    assert {t: after[t] for t in ("events", "links", "warning_markers")} == {
        t: before[t] for t in ("events", "links", "warning_markers")
    }
    # while the investigator named on them may
    named = client.post(f"{API}/markers", json=marker_payload(person["id"]), headers=lead)
    assert named.status_code == 201, named.text


# --- history after a record is opened up ----------------------------------------------------


def test_history_withholds_versions_classified_above_the_reader(client) -> None:
    # Given a sensitive event whose sensitive detail was edited out before it was downgraded
    event = stored(
        client,
        "events",
        event_payload(classification=SENSITIVE, narrative="Informant JONES saw it"),
    )
    edited = client.patch(
        f"{API}/events/{event['id']}", json={"version": 1, "narrative": "A witness saw it"}
    )
    assert edited.status_code == 200, edited.text
    lowered = access(client, "events", {"id": event["id"], "version": 2}, classification="OFFICIAL")
    assert lowered.status_code == 200, lowered.text

    # When an OFFICIAL officer reads its history
    history = client.get(f"{API}/events/{event['id']}/history", headers=officer(client))

    # Then only the version classified OFFICIAL is there, and not the informant's name
    assert history.status_code == 200, history.text
    assert [h["version"] for h in history.json()] == [3]
    assert "JONES" not in history.text
    everything = client.get(f"{API}/events/{event['id']}/history").json()
    assert [h["version"] for h in everything] == [1, 2, 3]


def test_history_withholds_restricted_versions_from_whoever_was_not_named(client) -> None:
    # Given an event restricted, edited while restricted (a detail added, then taken out),
    # then opened up
    event = new_record(client, "events")
    lead = investigator(client)
    restricted(client, "events", event, lead)
    url = f"{API}/events/{event['id']}"
    for version, narrative in ((2, "Undercover officer DS KNIGHT deployed"), (3, "Cleared")):
        edited = client.patch(url, json={"version": version, "narrative": narrative}, headers=lead)
        assert edited.status_code == 200, edited.text
    lifted = access(client, "events", {"id": event["id"], "version": 4}, lead, restricted=False)
    assert lifted.status_code == 200, lifted.text

    # When its history is read by an officer never named on it, and by the investigator
    unnamed = client.get(f"{url}/history", headers=officer(client))
    named_without_reason = client.get(f"{url}/history", headers={**lead, **NO_REASON})
    named = client.get(f"{url}/history", headers=lead)

    # Then the versions made while it was restricted go only to the named, with a reason
    assert [h["version"] for h in unnamed.json()] == [1, 5]
    assert "KNIGHT" not in unnamed.text
    assert [h["version"] for h in named_without_reason.json()] == [1, 5]
    assert [h["version"] for h in named.json()] == [1, 2, 3, 4, 5]
    assert "KNIGHT" in named.text


# --- another agency's records ---------------------------------------------------------------


@pytest.mark.parametrize("path", KIND_PATHS)
def test_another_agencys_record_is_not_found(client, path) -> None:
    record = new_record(client, path)
    headers = stranger(client)
    url = f"{API}/{path}/{record['id']}"

    responses = {
        "read": client.get(url, headers=headers),
        "history": client.get(f"{url}/history", headers=headers),
        "update": client.patch(url, json={"version": 1, **A_CHANGE[path]}, headers=headers),
        "delete": client.request(
            "DELETE", url, json={"version": 1, "reason": "not ours"}, headers=headers
        ),
        "access": access(client, path, record, headers, restricted=True),
    }
    if path == "events":
        responses["share"] = client.post(
            f"{url}/shares", json={"agency": "FIRE1", "level": "full"}, headers=headers
        )
        responses["shares"] = client.get(f"{url}/shares", headers=headers)
        responses["unshare"] = client.delete(f"{url}/shares/{FORCE}", headers=headers)

    for what, response in responses.items():
        assert response.status_code == 404, (what, response.text)
        assert response.json()["code"] == "RECORD_NOT_FOUND", what
    assert record["id"] not in listed(client, path, headers)
    after = client.get(url).json()
    assert (after["version"], after["restricted"], after["deleted_at"]) == (1, False, None)


def test_references_to_another_agencys_records_are_refused(client) -> None:
    # Given a place, an event and a person of this force
    place = new_record(client, "locations")
    event = new_record(client, "events")
    person = new_record(client, "persons")
    # and an officer of another force with a person of its own
    headers = stranger(client)
    theirs = client.post(f"{API}/persons", json=person_payload(), headers=headers)
    assert theirs.status_code == 201, theirs.text
    their_person = theirs.json()["id"]

    attempts = {
        "location_id": client.post(
            f"{API}/events", json=event_payload(location_id=place["id"]), headers=headers
        ),
        "to_id": client.post(
            f"{API}/links",
            json=link_payload("person", their_person, "event", event["id"]),
            headers=headers,
        ),
        "from_id": client.post(
            f"{API}/links",
            json=link_payload("person", person["id"], "person", their_person),
            headers=headers,
        ),
        "subject_id": client.post(
            f"{API}/markers", json=marker_payload(person["id"]), headers=headers
        ),
    }

    for field, response in attempts.items():
        body = assert_problem(response, 422, "REFERENCE_NOT_FOUND")
        assert body["field"] == field
    for path in ("events", "links", "markers"):
        assert listed(client, path, headers) == set()
