"""/v1/identities: an agent's name, provisioned with the mailbox `handle@domain`."""

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


def agent_key(api: httpx2.Client, identity: str, name: str = "agent") -> str:
    answer = api.post("/v1/api-keys", json={"name": name, "kind": "agent", "identity_id": identity})
    assert answer.status_code == 201, answer.text
    return answer.json()["key"]


def handles(api: httpx2.Client) -> list[str]:
    answer = api.get("/v1/identities", params={"limit": 100})
    assert answer.status_code == 200
    return sorted(item["handle"] for item in answer.json()["data"])


# --- create, get, list ---------------------------------------------------------------------


def test_create_provisions_a_mailbox_at_handle_at_domain(server: LiveServer) -> None:
    with server.client() as api:
        answer = api.post(
            "/v1/identities",
            json={"handle": "support-bot", "display_name": "Support", "description": "Helps."},
        )
    assert answer.status_code == 201
    body = answer.json()
    assert answer.headers["Location"] == "/v1/identities/support-bot"
    assert body["id"].startswith("idn_")
    assert body["handle"] == "support-bot"
    assert body["display_name"] == "Support"
    assert body["description"] == "Helps."
    assert body["status"] == "active"
    assert body["email_address"] == f"support-bot@{DOMAIN}"
    assert body["mailbox_id"].startswith("mbx_")
    assert body["created_at"] == body["updated_at"]


def test_optional_fields_default_to_null(server: LiveServer) -> None:
    with server.client() as api:
        body = create(api, "ana")
    assert body["display_name"] is None
    assert body["description"] is None


def test_an_identity_is_found_by_handle_and_by_id(server: LiveServer) -> None:
    with server.client() as api:
        created = create(api, "ana", display_name="Ana")
        by_handle = api.get("/v1/identities/ana")
        by_id = api.get(f"/v1/identities/{created['id']}")
        location = api.get(api.post("/v1/identities", json={"handle": "bob"}).headers["Location"])
    assert by_handle.status_code == by_id.status_code == 200
    assert by_handle.json() == by_id.json() == created
    assert by_handle.headers["ETag"]
    assert location.json()["handle"] == "bob"


def test_an_unknown_identity_is_404(server: LiveServer) -> None:
    with server.client() as api:
        by_handle = api.get("/v1/identities/nobody-here")
        by_id = api.get("/v1/identities/idn_0000000000000000000000000")
    assert_error(by_handle, 404, "not_found")
    assert_error(by_id, 404, "not_found")


def test_list_shows_every_identity_newest_first(server: LiveServer) -> None:
    with server.client() as api:
        assert api.get("/v1/identities").json()["data"] == []
        for handle in ("ana", "bob", "cy"):
            create(api, handle)
        answer = api.get("/v1/identities")
    assert answer.status_code == 200
    body = answer.json()
    assert [item["handle"] for item in body["data"]] == ["cy", "bob", "ana"]
    assert body["pagination"] == {"has_more": False, "next_cursor": None}


def test_list_pages_with_a_cursor(server: LiveServer) -> None:
    with server.client() as api:
        for handle in ("ana", "bob", "cy"):
            create(api, handle)
        first = api.get("/v1/identities", params={"limit": 2}).json()
        second = api.get(
            "/v1/identities", params={"limit": 2, "cursor": first["pagination"]["next_cursor"]}
        ).json()
    assert [item["handle"] for item in first["data"]] == ["cy", "bob"]
    assert first["pagination"]["has_more"] is True
    assert [item["handle"] for item in second["data"]] == ["ana"]
    assert second["pagination"] == {"has_more": False, "next_cursor": None}


# --- handle validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "handle", ["Ana", "has space", "a..b", ".ana", "ana.", "a" * 65, "", "ana@example.com"]
)
def test_a_malformed_handle_is_422_and_creates_nothing(server: LiveServer, handle: str) -> None:
    with server.client() as api:
        answer = api.post("/v1/identities", json={"handle": handle})
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] in ("validation_error", "invalid_handle")
        assert error["param"] == "handle"
        assert handles(api) == []


@pytest.mark.parametrize("handle", ["postmaster", "abuse", "hostmaster", "webmaster"])
def test_rfc_2142_names_are_reserved(server: LiveServer, handle: str) -> None:
    with server.client() as api:
        answer = api.post("/v1/identities", json={"handle": handle})
        assert_error(answer, 422, "reserved_handle", "handle")
        assert handles(api) == []


def test_a_missing_handle_is_422(server: LiveServer) -> None:
    with server.client() as api:
        answer = api.post("/v1/identities", json={"display_name": "Ana"})
        assert_error(answer, 422, "validation_error", "handle")
        assert answer.json()["error"]["errors"][0]["code"] == "missing_field"
        assert handles(api) == []


def test_a_handle_that_is_not_a_string_is_422(server: LiveServer) -> None:
    with server.client() as api:
        answer = api.post("/v1/identities", json={"handle": 42})
        assert_error(answer, 422, "validation_error", "handle")
        assert handles(api) == []


def test_unknown_fields_are_refused(server: LiveServer) -> None:
    with server.client() as api:
        answer = api.post("/v1/identities", json={"handle": "ana", "status": "paused"})
        assert_error(answer, 422, "validation_error", "status")
        assert answer.json()["error"]["errors"][0]["code"] == "unknown_field"
        assert handles(api) == []


def test_a_taken_handle_is_409_conflict(server: LiveServer) -> None:
    with server.client() as api:
        first = create(api, "ana", display_name="First")
        answer = api.post("/v1/identities", json={"handle": "ana", "display_name": "Second"})
        assert_error(answer, 409, "conflict", "handle")
        assert handles(api) == ["ana"]
        assert api.get("/v1/identities/ana").json()["display_name"] == first["display_name"]


@pytest.mark.parametrize(
    "display_name", ["Ana\r\nBcc: victim@example.com", "Ana\nX-Evil: 1", "Ana\rB", "Ana\0B"]
)
def test_display_name_with_line_breaks_or_nul_is_refused(
    server: LiveServer, display_name: str
) -> None:
    """A display name ends up in a From header, so it must never carry CR, LF or NUL."""
    with server.client() as api:
        answer = api.post("/v1/identities", json={"handle": "ana", "display_name": display_name})
        assert_error(answer, 422, "validation_error", "display_name")
        assert handles(api) == []


def test_a_display_name_over_200_characters_is_refused(server: LiveServer) -> None:
    with server.client() as api:
        answer = api.post("/v1/identities", json={"handle": "ana", "display_name": "x" * 201})
        assert_error(answer, 422, "validation_error", "display_name")
        assert handles(api) == []


# --- update ----------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(server: LiveServer) -> None:
    with server.client() as api:
        created = create(api, "ana", display_name="Ana", description="Answers mail.")
        answer = api.patch("/v1/identities/ana", json={"display_name": "Ana B."})
        fetched = api.get("/v1/identities/ana").json()
    assert answer.status_code == 200
    body = answer.json()
    assert body["display_name"] == "Ana B."
    assert body["description"] == "Answers mail."
    assert body["status"] == "active"
    assert body["handle"] == "ana"
    assert body["id"] == created["id"]
    assert fetched == body


def test_patch_by_id_updates_description(server: LiveServer) -> None:
    with server.client() as api:
        created = create(api, "ana")
        answer = api.patch(f"/v1/identities/{created['id']}", json={"description": "New."})
        assert answer.status_code == 200
        assert api.get("/v1/identities/ana").json()["description"] == "New."


def test_null_clears_a_field(server: LiveServer) -> None:
    with server.client() as api:
        create(api, "ana", display_name="Ana", description="Answers mail.")
        answer = api.patch("/v1/identities/ana", json={"display_name": None})
        fetched = api.get("/v1/identities/ana").json()
    assert answer.status_code == 200
    assert fetched["display_name"] is None
    assert fetched["description"] == "Answers mail."


def test_an_identity_can_be_paused_and_resumed(server: LiveServer) -> None:
    with server.client() as api:
        create(api, "ana")
        paused = api.patch("/v1/identities/ana", json={"status": "paused"})
        assert paused.status_code == 200
        assert paused.json()["status"] == "paused"
        assert api.get("/v1/identities/ana").json()["status"] == "paused"
        resumed = api.patch("/v1/identities/ana", json={"status": "active"})
        assert resumed.json()["status"] == "active"


@pytest.mark.parametrize("status", ["deleted", "ACTIVE", "", 1])
def test_an_invalid_status_is_422_and_changes_nothing(server: LiveServer, status: Any) -> None:
    with server.client() as api:
        before = create(api, "ana")
        answer = api.patch("/v1/identities/ana", json={"status": status})
        assert_error(answer, 422, "validation_error", "status")
        assert api.get("/v1/identities/ana").json() == before


def test_status_cannot_be_cleared_with_null(server: LiveServer) -> None:
    """Status is always active or paused; null is bad input, not a server error."""
    with server.client() as api:
        before = create(api, "ana")
        answer = api.patch("/v1/identities/ana", json={"status": None})
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["param"] == "status"
        assert api.get("/v1/identities/ana").json() == before


def test_patch_cannot_change_the_handle(server: LiveServer) -> None:
    with server.client() as api:
        before = create(api, "ana")
        answer = api.patch("/v1/identities/ana", json={"handle": "bob"})
        assert_error(answer, 422, "validation_error", "handle")
        assert api.get("/v1/identities/ana").json() == before
        assert api.get("/v1/identities/bob").status_code == 404


def test_patch_refuses_a_display_name_with_line_breaks(server: LiveServer) -> None:
    with server.client() as api:
        before = create(api, "ana", display_name="Ana")
        answer = api.patch("/v1/identities/ana", json={"display_name": "Ana\r\nBcc: x@y.z"})
        assert_error(answer, 422, "validation_error", "display_name")
        assert api.get("/v1/identities/ana").json() == before


def test_patch_of_an_unknown_identity_is_404(server: LiveServer) -> None:
    with server.client() as api:
        answer = api.patch("/v1/identities/ghost", json={"display_name": "Boo"})
    assert_error(answer, 404, "not_found")


def test_patch_with_a_stale_etag_is_412(server: LiveServer) -> None:
    with server.client() as api:
        create(api, "ana")
        etag = api.get("/v1/identities/ana").headers["ETag"]
        assert api.patch("/v1/identities/ana", json={"description": "one"}).status_code == 200
        stale = api.patch(
            "/v1/identities/ana", json={"description": "two"}, headers={"If-Match": etag}
        )
        assert_error(stale, 412, "precondition_failed")
        assert api.get("/v1/identities/ana").json()["description"] == "one"


# --- delete ----------------------------------------------------------------------------------


def test_delete_removes_the_identity_and_its_mailbox(server: LiveServer) -> None:
    with server.client() as api:
        created = create(api, "ana")
        create(api, "bob")
        answer = api.delete("/v1/identities/ana")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"id": created["id"], "deleted": True}
        assert_error(api.get("/v1/identities/ana"), 404, "not_found")
        assert_error(api.get(f"/v1/identities/{created['id']}"), 404, "not_found")
        assert_error(api.get(f"/v1/mailboxes/ana@{DOMAIN}"), 404, "not_found")
        assert_error(api.get(f"/v1/mailboxes/{created['mailbox_id']}"), 404, "not_found")
        assert handles(api) == ["bob"]
        mailboxes = api.get("/v1/mailboxes").json()["data"]
        assert [m["address"] for m in mailboxes] == [f"bob@{DOMAIN}"]


def test_delete_by_id(server: LiveServer) -> None:
    with server.client() as api:
        created = create(api, "ana")
        answer = api.delete(f"/v1/identities/{created['id']}")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"id": created["id"], "deleted": True}
        assert handles(api) == []


def test_delete_revokes_the_identitys_agent_keys(server: LiveServer) -> None:
    with server.client() as api:
        create(api, "ana")
        key = agent_key(api, "ana")
        with server.client(key) as agent:
            assert agent.get("/v1/session").status_code == 200
        assert api.delete("/v1/identities/ana").status_code == 200
        listed = api.get("/v1/api-keys").json()["data"]
    assert [k["kind"] for k in listed] == ["root"]
    with server.client(key) as agent:
        answer = agent.get("/v1/session")
    assert_error(answer, 401, "api_key_revoked")


def test_a_deleted_handle_can_be_used_again(server: LiveServer) -> None:
    with server.client() as api:
        first = create(api, "ana")
        old_key = agent_key(api, "ana")
        assert api.delete("/v1/identities/ana").status_code == 200
        again = api.post("/v1/identities", json={"handle": "ana"})
        assert again.status_code == 201, again.text
        second = again.json()
        assert second["id"] != first["id"]
        assert second["mailbox_id"] != first["mailbox_id"]
        assert second["email_address"] == f"ana@{DOMAIN}"
        assert api.get(f"/v1/mailboxes/ana@{DOMAIN}").json()["id"] == second["mailbox_id"]
    # The old identity's key does not come back to life with the handle.
    with server.client(old_key) as agent:
        assert_error(agent.get("/v1/identities/ana"), 401, "api_key_revoked")


def test_delete_of_an_unknown_identity_is_404(server: LiveServer) -> None:
    with server.client() as api:
        create(api, "ana")
        answer = api.delete("/v1/identities/ghost")
        assert_error(answer, 404, "not_found")
        assert handles(api) == ["ana"]


def test_delete_twice_is_404_the_second_time(server: LiveServer) -> None:
    with server.client() as api:
        create(api, "ana")
        assert api.delete("/v1/identities/ana").status_code == 200
        assert_error(api.delete("/v1/identities/ana"), 404, "not_found")


# --- agent keys see only their own identity --------------------------------------------------


def test_an_agent_lists_only_its_own_identity(server: LiveServer) -> None:
    with server.client() as api:
        ana = create(api, "ana")
        create(api, "bob")
        key = agent_key(api, "ana")
    with server.client(key) as agent:
        answer = agent.get("/v1/identities")
    assert answer.status_code == 200
    assert [item["id"] for item in answer.json()["data"]] == [ana["id"]]


def test_an_agent_reads_its_own_identity_by_handle_and_id(server: LiveServer) -> None:
    with server.client() as api:
        ana = create(api, "ana")
        key = agent_key(api, ana["id"])
    with server.client(key) as agent:
        assert agent.get("/v1/identities/ana").json() == ana
        assert agent.get(f"/v1/identities/{ana['id']}").json() == ana


def test_another_identity_looks_missing_to_an_agent(server: LiveServer) -> None:
    """Outside its scope an agent gets 404, exactly as for something that does not exist."""
    with server.client() as api:
        create(api, "ana")
        bob = create(api, "bob", display_name="Bob")
        key = agent_key(api, "ana")
    with server.client(key) as agent:
        answers = [
            agent.get("/v1/identities/bob"),
            agent.get(f"/v1/identities/{bob['id']}"),
            agent.patch("/v1/identities/bob", json={"display_name": "Hacked"}),
            agent.patch(f"/v1/identities/{bob['id']}", json={"status": "paused"}),
            agent.delete("/v1/identities/bob"),
            agent.delete(f"/v1/identities/{bob['id']}"),
        ]
        missing = agent.get("/v1/identities/nobody")
    assert_error(missing, 404, "not_found")
    for answer in answers:
        assert_error(answer, 404, "not_found")
        assert answer.json()["error"]["param"] == missing.json()["error"]["param"]
        assert answer.json()["error"]["fix"] == missing.json()["error"]["fix"]
    with server.client() as api:
        assert api.get("/v1/identities/bob").json() == bob


def test_an_agent_can_update_its_own_identity(server: LiveServer) -> None:
    with server.client() as api:
        create(api, "ana")
        key = agent_key(api, "ana")
    with server.client(key) as agent:
        answer = agent.patch(
            "/v1/identities/ana", json={"display_name": "Ana Agent", "status": "paused"}
        )
    assert answer.status_code == 200, answer.text
    with server.client() as api:
        fetched = api.get("/v1/identities/ana").json()
    assert fetched["display_name"] == "Ana Agent"
    assert fetched["status"] == "paused"


def test_an_agent_cannot_create_identities(server: LiveServer) -> None:
    with server.client() as api:
        create(api, "ana")
        key = agent_key(api, "ana")
    with server.client(key) as agent:
        answer = agent.post("/v1/identities", json={"handle": "sneaky"})
    assert_error(answer, 403, "forbidden")
    with server.client() as api:
        assert handles(api) == ["ana"]


def test_an_agent_cannot_delete_its_own_identity(server: LiveServer) -> None:
    with server.client() as api:
        create(api, "ana")
        key = agent_key(api, "ana")
    with server.client(key) as agent:
        answer = agent.delete("/v1/identities/ana")
    assert_error(answer, 403, "forbidden")
    with server.client() as api:
        assert handles(api) == ["ana"]


def test_identities_need_a_key(server: LiveServer) -> None:
    with server.anonymous() as anonymous:
        answer = anonymous.post("/v1/identities", json={"handle": "ana"})
        assert_error(answer, 401, "missing_api_key")
        assert_error(anonymous.get("/v1/identities"), 401, "missing_api_key")
    with server.client() as api:
        assert handles(api) == []
