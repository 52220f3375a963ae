"""/v1/api-keys and authentication: keys are shown once, stored hashed, scoped and revocable."""

from __future__ import annotations

import string
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa

from tests.support.api import assert_error
from tests.support.live import LiveServer, start_server
from tidings_server.clock import FakeClock
from tidings_server.store.engine import create_sync_engine
from tidings_server.store.models import ApiKey, Base

ALPHANUMERIC = string.ascii_letters + string.digits


def create_identity(api: httpx2.Client, handle: str) -> dict[str, Any]:
    answer = api.post("/v1/identities", json={"handle": handle})
    assert answer.status_code == 201, answer.text
    return answer.json()


def create_key(api: httpx2.Client, **body: Any) -> dict[str, Any]:
    answer = api.post("/v1/api-keys", json={"name": "a key", **body})
    assert answer.status_code == 201, answer.text
    return answer.json()


def listed_ids(api: httpx2.Client) -> list[str]:
    answer = api.get("/v1/api-keys", params={"limit": 100})
    assert answer.status_code == 200
    return sorted(item["id"] for item in answer.json()["data"])


def stored_values(server: LiveServer) -> Iterator[tuple[str, str, Any]]:
    """Every value in every table of the server's database, as (table, column, value)."""
    engine = create_sync_engine(server.settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                for row in connection.execute(sa.select(table)).mappings():
                    for column, value in row.items():
                        yield table.name, column, value
    finally:
        engine.dispose()


# --- creating keys ---------------------------------------------------------------------------


def test_an_agent_key_is_shown_once_with_its_secret(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        answer = api.post(
            "/v1/api-keys", json={"name": "ana's key", "kind": "agent", "identity_id": "ana"}
        )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert answer.headers["Location"] == f"/v1/api-keys/{body['id']}"
    assert body["id"].startswith("key_")
    assert body["name"] == "ana's key"
    assert body["kind"] == "agent"
    assert body["identity_id"] == ana["id"]
    assert body["key"].startswith("td_agent_")
    assert body["prefix"].startswith("td_agent_")
    assert body["key"].startswith(body["prefix"])
    assert len(body["prefix"]) < len(body["key"])
    assert body["expires_at"] is None
    assert body["last_used_at"] is None
    assert body["created_at"]


def test_an_agent_key_can_name_its_identity_by_id(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        body = create_key(api, kind="agent", identity_id=ana["id"])
    assert body["identity_id"] == ana["id"]


def test_a_root_key_starts_with_td_root(server: LiveServer) -> None:
    with server.client() as api:
        body = create_key(api, kind="root")
    assert body["kind"] == "root"
    assert body["identity_id"] is None
    assert body["key"].startswith("td_root_")
    assert body["prefix"].startswith("td_root_")
    assert body["key"].startswith(body["prefix"])


def test_the_secret_never_appears_again(server: LiveServer) -> None:
    with server.client() as api:
        create_identity(api, "ana")
        created = create_key(api, kind="agent", identity_id="ana")
        fetched = api.get(f"/v1/api-keys/{created['id']}")
        listed = api.get("/v1/api-keys")
    assert fetched.status_code == 200
    assert "key" not in fetched.json()
    assert created["key"] not in fetched.text
    assert fetched.json()["prefix"] == created["prefix"]
    assert listed.status_code == 200
    assert created["key"] not in listed.text
    assert all("key" not in item for item in listed.json()["data"])
    shown = next(item for item in listed.json()["data"] if item["id"] == created["id"])
    assert shown["prefix"] == created["prefix"]
    assert {k: v for k, v in created.items() if k != "key"} == fetched.json()


def test_a_new_key_works_at_once(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        created = create_key(api, kind="agent", identity_id="ana")
    with server.client(created["key"]) as agent:
        session = agent.get("/v1/session")
    assert session.status_code == 200, session.text
    assert session.json()["key"]["id"] == created["id"]
    assert session.json()["key"]["kind"] == "agent"
    assert session.json()["identity"]["id"] == ana["id"]
    with server.client() as api:
        assert api.get(f"/v1/api-keys/{created['id']}").json()["last_used_at"] is not None


def test_a_new_root_key_can_do_what_the_first_can(server: LiveServer) -> None:
    with server.client() as api:
        second = create_key(api, kind="root")
    with server.client(second["key"]) as api:
        assert api.post("/v1/identities", json={"handle": "ana"}).status_code == 201


def test_the_secret_is_stored_only_as_a_hash(server: LiveServer) -> None:
    with server.client() as api:
        create_identity(api, "ana")
        agent = create_key(api, kind="agent", identity_id="ana")
        root = create_key(api, kind="root")
    secrets = (agent["key"], root["key"], server.root_key)
    values = list(stored_values(server))
    assert any(table == "api_keys" for table, _, _ in values)
    for table, column, value in values:
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            for secret in secrets:
                assert secret not in value, f"{table}.{column} holds a key in plaintext"
                assert secret.split("_", 2)[2] not in value, f"{table}.{column} holds a secret"


# --- refusals on create ----------------------------------------------------------------------


def test_an_agent_key_needs_an_identity(server: LiveServer) -> None:
    with server.client() as api:
        before = listed_ids(api)
        explicit = api.post("/v1/api-keys", json={"name": "k", "kind": "agent"})
        default_kind = api.post("/v1/api-keys", json={"name": "k"})
        assert listed_ids(api) == before
    assert explicit.status_code == default_kind.status_code == 422
    assert explicit.json()["error"]["param"] == "identity_id"
    assert default_kind.json()["error"]["param"] == "identity_id"


def test_a_root_key_takes_no_identity(server: LiveServer) -> None:
    with server.client() as api:
        create_identity(api, "ana")
        before = listed_ids(api)
        answer = api.post("/v1/api-keys", json={"name": "k", "kind": "root", "identity_id": "ana"})
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["param"] == "identity_id"
        assert listed_ids(api) == before


@pytest.mark.parametrize("identity", ["ghost", "idn_0000000000000000000000000"])
def test_an_agent_key_for_an_unknown_identity_is_404(server: LiveServer, identity: str) -> None:
    with server.client() as api:
        before = listed_ids(api)
        answer = api.post(
            "/v1/api-keys", json={"name": "k", "kind": "agent", "identity_id": identity}
        )
        assert_error(answer, 404, "not_found", "identity_id")
        assert listed_ids(api) == before


def test_an_expiry_in_the_past_is_refused(server: LiveServer) -> None:
    with server.client() as api:
        create_identity(api, "ana")
        before = listed_ids(api)
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        answer = api.post(
            "/v1/api-keys",
            json={"name": "k", "kind": "agent", "identity_id": "ana", "expires_at": past},
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["param"] == "expires_at"
        assert listed_ids(api) == before


def test_an_expiry_without_a_timezone_is_refused(server: LiveServer) -> None:
    with server.client() as api:
        before = listed_ids(api)
        answer = api.post(
            "/v1/api-keys", json={"name": "k", "kind": "root", "expires_at": "2099-01-01T00:00:00"}
        )
        assert_error(answer, 422, "validation_error", "expires_at")
        assert listed_ids(api) == before


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"kind": "root"}, "name"),
        ({"name": "", "kind": "root"}, "name"),
        ({"name": "k\r\nX: y", "kind": "root"}, "name"),
        ({"name": "k", "kind": "admin"}, "kind"),
        ({"name": "k", "kind": "root", "scopes": ["all"]}, "scopes"),
    ],
)
def test_malformed_create_bodies_are_422(
    server: LiveServer, body: dict[str, Any], param: str
) -> None:
    with server.client() as api:
        before = listed_ids(api)
        answer = api.post("/v1/api-keys", json=body)
        assert_error(answer, 422, "validation_error", param)
        assert listed_ids(api) == before


# --- expiry ----------------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked_server(database_url: str, tmp_path, clock: FakeClock) -> Iterator[LiveServer]:
    """A server whose time moves only when the test advances `clock`."""
    with start_server(database_url=database_url, data_dir=tmp_path / "data", clock=clock) as live:
        yield live


def test_a_key_stops_working_when_it_expires(clocked_server: LiveServer, clock: FakeClock) -> None:
    expires_at = clock.now() + timedelta(hours=1)
    with clocked_server.client() as api:
        created = create_key(api, kind="root", expires_at=expires_at.isoformat())
    assert datetime.fromisoformat(created["expires_at"]) == expires_at
    with clocked_server.client(created["key"]) as holder:
        assert holder.get("/v1/session").status_code == 200
        clock.advance(3599)
        assert holder.get("/v1/session").status_code == 200
        clock.advance(3601)
        answer = holder.get("/v1/session")
    assert_error(answer, 401, "api_key_expired")
    with clocked_server.client() as api:
        assert api.get("/v1/session").status_code == 200


# --- listing and scope -----------------------------------------------------------------------


def test_root_lists_every_active_key(server: LiveServer) -> None:
    with server.client() as api:
        create_identity(api, "ana")
        create_identity(api, "bob")
        first_root = api.get("/v1/session").json()["key"]["id"]
        ana = create_key(api, kind="agent", identity_id="ana")
        bob = create_key(api, kind="agent", identity_id="bob")
        answer = api.get("/v1/api-keys")
    assert answer.status_code == 200
    body = answer.json()
    assert [item["id"] for item in body["data"]] == [bob["id"], ana["id"], first_root]
    assert body["pagination"] == {"has_more": False, "next_cursor": None}


def test_an_agent_sees_only_its_own_identitys_keys(server: LiveServer) -> None:
    with server.client() as api:
        create_identity(api, "ana")
        create_identity(api, "bob")
        ana_one = create_key(api, kind="agent", identity_id="ana")
        ana_two = create_key(api, kind="agent", identity_id="ana")
        bob = create_key(api, kind="agent", identity_id="bob")
        root = api.get("/v1/session").json()["key"]["id"]
    with server.client(ana_one["key"]) as agent:
        listed = agent.get("/v1/api-keys")
        own = agent.get(f"/v1/api-keys/{ana_two['id']}")
        others = [
            agent.get(f"/v1/api-keys/{bob['id']}"),
            agent.get(f"/v1/api-keys/{root}"),
            agent.delete(f"/v1/api-keys/{bob['id']}"),
            agent.delete(f"/v1/api-keys/{root}"),
        ]
    assert listed.status_code == 200
    assert sorted(item["id"] for item in listed.json()["data"]) == sorted(
        [ana_one["id"], ana_two["id"]]
    )
    assert own.status_code == 200
    for answer in others:
        assert_error(answer, 404, "not_found")
    with server.client(bob["key"]) as other:
        assert other.get("/v1/session").status_code == 200


def test_an_agent_cannot_mint_keys(server: LiveServer) -> None:
    with server.client() as api:
        create_identity(api, "ana")
        key = create_key(api, kind="agent", identity_id="ana")["key"]
        before = listed_ids(api)
    with server.client(key) as agent:
        for body in (
            {"name": "more", "kind": "agent", "identity_id": "ana"},
            {"name": "escalate", "kind": "root"},
        ):
            assert_error(agent.post("/v1/api-keys", json=body), 403, "forbidden")
    with server.client() as api:
        assert listed_ids(api) == before


def test_an_unknown_key_id_is_404(server: LiveServer) -> None:
    with server.client() as api:
        assert_error(api.get("/v1/api-keys/key_0000000000000000000000000"), 404, "not_found")
        assert_error(api.delete("/v1/api-keys/key_0000000000000000000000000"), 404, "not_found")


# --- revoking --------------------------------------------------------------------------------


def test_a_revoked_key_is_refused_and_leaves_the_list(server: LiveServer) -> None:
    with server.client() as api:
        create_identity(api, "ana")
        created = create_key(api, kind="agent", identity_id="ana")
        with server.client(created["key"]) as agent:
            assert agent.get("/v1/session").status_code == 200
        answer = api.delete(f"/v1/api-keys/{created['id']}")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"id": created["id"], "deleted": True}
        assert created["id"] not in listed_ids(api)
        assert_error(api.get(f"/v1/api-keys/{created['id']}"), 404, "not_found")
        assert_error(api.delete(f"/v1/api-keys/{created['id']}"), 404, "not_found")
    with server.client(created["key"]) as agent:
        refused = agent.get("/v1/session")
    assert_error(refused, 401, "api_key_revoked")


def test_a_key_revoked_by_another_process_is_refused_within_the_auth_cache_time(
    database_url: str, tmp_path: Any
) -> None:
    """The CLI (or a second server) revokes in the database; this server trusts its cached
    answer for at most `auth_cache_seconds`, then looks the key up again."""
    with start_server(
        database_url=database_url, data_dir=tmp_path / "data", auth_cache_seconds=0.5
    ) as live:
        with live.client() as api:
            create_identity(api, "ana")
            created = create_key(api, kind="agent", identity_id="ana")
        with live.client(created["key"]) as agent:
            assert agent.get("/v1/session").status_code == 200
            engine = create_sync_engine(live.settings.resolved_database_url)
            with engine.begin() as connection:
                connection.execute(
                    sa.update(ApiKey)
                    .where(ApiKey.id == created["id"])
                    .values(revoked_at=datetime.now(UTC))
                )
            engine.dispose()
            deadline = time.monotonic() + 0.5 + 2
            while agent.get("/v1/session").status_code == 200:
                assert time.monotonic() < deadline, "the revoked key is still accepted"
                time.sleep(0.05)
            assert_error(agent.get("/v1/session"), 401, "api_key_revoked")


def test_the_last_root_key_cannot_be_revoked(server: LiveServer) -> None:
    with server.client() as api:
        root = api.get("/v1/session").json()["key"]["id"]
        answer = api.delete(f"/v1/api-keys/{root}")
        assert_error(answer, 409, "last_root_key")
        assert api.get("/v1/session").status_code == 200
        assert root in listed_ids(api)


def test_a_root_key_can_be_revoked_once_another_exists(server: LiveServer) -> None:
    with server.client() as api:
        first = api.get("/v1/session").json()["key"]["id"]
        second = create_key(api, kind="root")
    with server.client(second["key"]) as api:
        assert api.delete(f"/v1/api-keys/{first}").status_code == 200
        assert listed_ids(api) == [second["id"]]
        assert_error(api.delete(f"/v1/api-keys/{second['id']}"), 409, "last_root_key")
    with server.client() as first_holder:
        assert_error(first_holder.get("/v1/session"), 401, "api_key_revoked")


def test_agent_keys_do_not_count_as_root_keys(server: LiveServer) -> None:
    with server.client() as api:
        create_identity(api, "ana")
        create_key(api, kind="agent", identity_id="ana")
        root = api.get("/v1/session").json()["key"]["id"]
        assert_error(api.delete(f"/v1/api-keys/{root}"), 409, "last_root_key")


# --- authentication --------------------------------------------------------------------------


def test_a_request_without_a_key_is_401_missing(server: LiveServer) -> None:
    with server.anonymous() as anonymous:
        answer = anonymous.get("/v1/api-keys")
    assert_error(answer, 401, "missing_api_key")
    assert answer.headers["X-Request-Id"]


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer garbage",
        "Basic xyz",
        "Basic dXNlcjpwYXNz",
        "td_root_" + "a" * 40,
        "Bearer td_root_" + "a" * 39,
        "Bearer td_root_" + "a" * 41,
        "Bearer td_admin_" + "a" * 40,
        "Bearer td_root_" + "a" * 39 + "!",
    ],
)
def test_a_malformed_authorization_is_401_malformed(server: LiveServer, authorization: str) -> None:
    with server.anonymous() as anonymous:
        answer = anonymous.get("/v1/session", headers={"Authorization": authorization})
    assert_error(answer, 401, "malformed_api_key")


@pytest.mark.parametrize("prefix", ["td_root_", "td_agent_"])
def test_a_well_formed_but_unknown_key_is_401_invalid(server: LiveServer, prefix: str) -> None:
    with server.client(prefix + "A1" * 20) as stranger:
        answer = stranger.get("/v1/session")
    assert_error(answer, 401, "invalid_api_key")


def test_a_key_with_one_character_changed_is_401_invalid(server: LiveServer) -> None:
    """The public lookup part matches a real key, the secret does not."""
    last = server.root_key[-1]
    tampered = server.root_key[:-1] + ("b" if last == "a" else "a")
    with server.client(tampered) as stranger:
        answer = stranger.get("/v1/api-keys")
    assert_error(answer, 401, "invalid_api_key")


def test_a_root_secret_presented_as_an_agent_key_is_401_invalid(server: LiveServer) -> None:
    token = server.root_key.removeprefix("td_root_")
    assert all(c in ALPHANUMERIC for c in token)
    with server.client("td_agent_" + token) as stranger:
        answer = stranger.get("/v1/session")
    assert_error(answer, 401, "invalid_api_key")


def test_the_bearer_scheme_is_case_insensitive(server: LiveServer) -> None:
    with server.anonymous() as anonymous:
        answer = anonymous.get(
            "/v1/session", headers={"Authorization": f"bearer {server.root_key}"}
        )
    assert answer.status_code == 200
