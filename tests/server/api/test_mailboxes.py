"""/v1/mailboxes: the hosted addresses, addressed by address or by `mbx_` id."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from tests.support.api import assert_error
from tests.support.live import LiveServer

DOMAIN = "agents.localhost"


def create(api: httpx2.Client, handle: str, **fields: Any) -> dict[str, Any]:
    answer = api.post("/v1/identities", json={"handle": handle, **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()


def agent_key(api: httpx2.Client, identity: str) -> str:
    answer = api.post(
        "/v1/api-keys", json={"name": "agent", "kind": "agent", "identity_id": identity}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["key"]


def test_each_identity_has_one_mailbox(server: LiveServer) -> None:
    with server.client() as api:
        ana = create(api, "ana")
        bob = create(api, "bob")
        answer = api.get("/v1/mailboxes")
    assert answer.status_code == 200
    body = answer.json()
    assert [(m["address"], m["identity_id"], m["id"]) for m in body["data"]] == [
        (f"bob@{DOMAIN}", bob["id"], bob["mailbox_id"]),
        (f"ana@{DOMAIN}", ana["id"], ana["mailbox_id"]),
    ]
    assert body["pagination"] == {"has_more": False, "next_cursor": None}


def test_no_identities_means_no_mailboxes(server: LiveServer) -> None:
    with server.client() as api:
        answer = api.get("/v1/mailboxes")
    assert answer.status_code == 200
    assert answer.json()["data"] == []


def test_a_mailbox_is_found_by_address_and_by_id(server: LiveServer) -> None:
    with server.client() as api:
        ana = create(api, "ana")
        by_address = api.get(f"/v1/mailboxes/ana@{DOMAIN}")
        by_id = api.get(f"/v1/mailboxes/{ana['mailbox_id']}")
    assert by_address.status_code == by_id.status_code == 200
    body = by_address.json()
    assert by_id.json() == body
    assert body["id"] == ana["mailbox_id"]
    assert body["address"] == f"ana@{DOMAIN}"
    assert body["identity_id"] == ana["id"]
    assert body["display_name"] is None
    assert body["created_at"]
    assert body["updated_at"]
    assert by_address.headers["ETag"]


def test_addresses_are_matched_without_regard_to_case(server: LiveServer) -> None:
    with server.client() as api:
        ana = create(api, "ana")
        answer = api.get("/v1/mailboxes/Ana@Agents.LocalHost")
    assert answer.status_code == 200
    assert answer.json()["id"] == ana["mailbox_id"]


@pytest.mark.parametrize(
    "address",
    ["nobody@agents.localhost", "ana@elsewhere.example", "ana", "mbx_0000000000000000000000000"],
)
def test_an_unknown_mailbox_is_404(server: LiveServer, address: str) -> None:
    with server.client() as api:
        create(api, "ana")
        answer = api.get(f"/v1/mailboxes/{address}")
    assert_error(answer, 404, "not_found", "address")


def test_patch_sets_and_clears_the_display_name(server: LiveServer) -> None:
    with server.client() as api:
        ana = create(api, "ana")
        named = api.patch(f"/v1/mailboxes/ana@{DOMAIN}", json={"display_name": "Ana Desk"})
        assert named.status_code == 200, named.text
        assert named.json()["display_name"] == "Ana Desk"
        assert named.json()["id"] == ana["mailbox_id"]
        assert api.get(f"/v1/mailboxes/ana@{DOMAIN}").json()["display_name"] == "Ana Desk"
        cleared = api.patch(f"/v1/mailboxes/{ana['mailbox_id']}", json={"display_name": None})
        assert cleared.status_code == 200
        assert api.get(f"/v1/mailboxes/ana@{DOMAIN}").json()["display_name"] is None


def test_an_empty_patch_changes_nothing(server: LiveServer) -> None:
    """PATCH changes only the fields sent: `{}` keeps the display name."""
    with server.client() as api:
        create(api, "ana")
        api.patch(f"/v1/mailboxes/ana@{DOMAIN}", json={"display_name": "Ana Desk"})
        answer = api.patch(f"/v1/mailboxes/ana@{DOMAIN}", json={})
        assert answer.status_code == 200
        assert api.get(f"/v1/mailboxes/ana@{DOMAIN}").json()["display_name"] == "Ana Desk"


@pytest.mark.parametrize("display_name", ["Ana\r\nBcc: victim@example.com", "Ana\nB", "Ana\0B"])
def test_patch_refuses_a_display_name_with_line_breaks(
    server: LiveServer, display_name: str
) -> None:
    with server.client() as api:
        create(api, "ana")
        before = api.get(f"/v1/mailboxes/ana@{DOMAIN}").json()
        answer = api.patch(f"/v1/mailboxes/ana@{DOMAIN}", json={"display_name": display_name})
        assert_error(answer, 422, "validation_error", "display_name")
        assert api.get(f"/v1/mailboxes/ana@{DOMAIN}").json() == before


def test_patch_refuses_fields_that_cannot_change(server: LiveServer) -> None:
    with server.client() as api:
        create(api, "ana")
        before = api.get(f"/v1/mailboxes/ana@{DOMAIN}").json()
        answer = api.patch(f"/v1/mailboxes/ana@{DOMAIN}", json={"address": "bob@agents.localhost"})
        assert_error(answer, 422, "validation_error", "address")
        assert api.get(f"/v1/mailboxes/ana@{DOMAIN}").json() == before


def test_patch_of_an_unknown_mailbox_is_404(server: LiveServer) -> None:
    with server.client() as api:
        answer = api.patch(f"/v1/mailboxes/ghost@{DOMAIN}", json={"display_name": "Boo"})
    assert_error(answer, 404, "not_found")


def test_patch_with_a_stale_etag_is_412(server: LiveServer) -> None:
    with server.client() as api:
        create(api, "ana")
        etag = api.get(f"/v1/mailboxes/ana@{DOMAIN}").headers["ETag"]
        api.patch(f"/v1/mailboxes/ana@{DOMAIN}", json={"display_name": "One"})
        stale = api.patch(
            f"/v1/mailboxes/ana@{DOMAIN}", json={"display_name": "Two"}, headers={"If-Match": etag}
        )
        assert_error(stale, 412, "precondition_failed")
        assert api.get(f"/v1/mailboxes/ana@{DOMAIN}").json()["display_name"] == "One"


def test_an_agent_sees_only_its_own_mailbox(server: LiveServer) -> None:
    with server.client() as api:
        ana = create(api, "ana")
        create(api, "bob")
        key = agent_key(api, "ana")
    with server.client(key) as agent:
        listed = agent.get("/v1/mailboxes")
        own = agent.get(f"/v1/mailboxes/ana@{DOMAIN}")
    assert listed.status_code == 200
    assert [m["id"] for m in listed.json()["data"]] == [ana["mailbox_id"]]
    assert own.status_code == 200
    assert own.json()["id"] == ana["mailbox_id"]


def test_another_identitys_mailbox_looks_missing_to_an_agent(server: LiveServer) -> None:
    with server.client() as api:
        create(api, "ana")
        bob = create(api, "bob")
        key = agent_key(api, "ana")
    with server.client(key) as agent:
        answers = [
            agent.get(f"/v1/mailboxes/bob@{DOMAIN}"),
            agent.get(f"/v1/mailboxes/{bob['mailbox_id']}"),
            agent.patch(f"/v1/mailboxes/bob@{DOMAIN}", json={"display_name": "Hacked"}),
            agent.patch(f"/v1/mailboxes/{bob['mailbox_id']}", json={"display_name": "Hacked"}),
        ]
    for answer in answers:
        assert_error(answer, 404, "not_found")
    with server.client() as api:
        assert api.get(f"/v1/mailboxes/bob@{DOMAIN}").json()["display_name"] is None


def test_an_agent_can_name_its_own_mailbox(server: LiveServer) -> None:
    with server.client() as api:
        create(api, "ana")
        key = agent_key(api, "ana")
    with server.client(key) as agent:
        answer = agent.patch(f"/v1/mailboxes/ana@{DOMAIN}", json={"display_name": "Ana"})
    assert answer.status_code == 200, answer.text
    with server.client() as api:
        assert api.get(f"/v1/mailboxes/ana@{DOMAIN}").json()["display_name"] == "Ana"


def test_mailboxes_need_a_key(server: LiveServer) -> None:
    with server.client() as api:
        create(api, "ana")
    with server.anonymous() as anonymous:
        assert_error(anonymous.get("/v1/mailboxes"), 401, "missing_api_key")
        assert_error(anonymous.get(f"/v1/mailboxes/ana@{DOMAIN}"), 401, "missing_api_key")
