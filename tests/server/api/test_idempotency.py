"""Idempotency-Key on POST: a retried request gets the first answer and runs once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from tests.support.database import Databases
from tests.support.live import LiveServer
from tests.support.process import serve_process
from tidings_server.api.idempotency import fingerprint
from tidings_server.store.engine import create_sync_engine
from tidings_server.store.models import ApiKey, IdempotencyRecord


def identity_count(server: LiveServer) -> int:
    with server.client() as api:
        return len(api.get("/v1/identities", params={"limit": 100}).json()["data"])


def test_a_retry_replays_the_first_answer_and_creates_once(server: LiveServer) -> None:
    """Same key, same body: the stored answer comes back, marked as replayed."""
    with server.client(headers={"Idempotency-Key": "create-ana-1"}) as api:
        first = api.post("/v1/identities", json={"handle": "ana"})
        second = api.post("/v1/identities", json={"handle": "ana"})
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert identity_count(server) == 1


def test_the_same_json_in_another_key_order_is_the_same_request(server: LiveServer) -> None:
    with server.client(headers={"Idempotency-Key": "k"}) as api:
        first = api.post("/v1/identities", content=b'{"handle":"ana","display_name":"Ana"}')
        again = api.post("/v1/identities", content=b'{ "display_name": "Ana", "handle": "ana" }')
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]


def test_reusing_a_key_for_a_different_request_is_a_conflict(server: LiveServer) -> None:
    with server.client(headers={"Idempotency-Key": "k1"}) as api:
        assert api.post("/v1/identities", json={"handle": "ana"}).status_code == 201
        clash = api.post("/v1/identities", json={"handle": "bob"})
    assert clash.status_code == 409
    error = clash.json()["error"]
    assert error["code"] == "idempotency_conflict"
    assert error["retryable"] is False
    assert error["param"] == "Idempotency-Key"
    assert identity_count(server) == 1


def test_a_failed_request_releases_its_key(server: LiveServer) -> None:
    """Errors are not stored: the same key can carry the corrected request."""
    with server.client(headers={"Idempotency-Key": "k2"}) as api:
        bad = api.post("/v1/identities", json={"handle": "Not Valid"})
        assert bad.status_code == 422
        good = api.post("/v1/identities", json={"handle": "valid"})
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good.headers


def test_keys_belong_to_the_api_key_that_used_them(server: LiveServer) -> None:
    with server.client() as api:
        other_root = api.post("/v1/api-keys", json={"name": "second", "kind": "root"}).json()
    with server.client(headers={"Idempotency-Key": "shared"}) as api:
        assert api.post("/v1/identities", json={"handle": "ana"}).status_code == 201
    with server.client(other_root["key"], headers={"Idempotency-Key": "shared"}) as api:
        answer = api.post("/v1/identities", json={"handle": "bob"})
    assert answer.status_code == 201
    assert identity_count(server) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_a_malformed_key_is_refused(server: LiveServer, key: str) -> None:
    with server.client(headers={"Idempotency-Key": key}) as api:
        answer = api.post("/v1/identities", json={"handle": "ana"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_idempotency_key"
    assert identity_count(server) == 0


def _hold_key(server: LiveServer, key: str, *, locked_for: timedelta, body: bytes) -> None:
    """Claim `key` as another process would while running a request (or after dying in one)."""
    engine = create_sync_engine(server.settings.resolved_database_url)
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        root = session.query(ApiKey).filter(ApiKey.kind == "root").one()
        session.add(
            IdempotencyRecord(
                org_id=root.org_id,
                api_key_id=root.id,
                key=key,
                fingerprint=fingerprint("POST", "/v1/identities", "", body),
                locked_until=now + locked_for,
                created_at=now,
                expires_at=now + timedelta(hours=24),
            )
        )
    engine.dispose()


def test_a_key_still_in_flight_answers_retry_later(server: LiveServer) -> None:
    body = b'{"handle":"ana"}'
    _hold_key(server, "busy", locked_for=timedelta(minutes=1), body=body)
    with server.client(headers={"Idempotency-Key": "busy"}) as api:
        answer = api.post("/v1/identities", content=body)
    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "idempotency_conflict"
    assert error["retryable"] is True
    assert int(answer.headers["Retry-After"]) >= 1
    assert identity_count(server) == 0


def test_a_key_whose_holder_died_is_taken_over(server: LiveServer) -> None:
    """A lease that ran out means the first attempt never finished: the retry runs."""
    body = b'{"handle":"ana"}'
    _hold_key(server, "orphan", locked_for=timedelta(seconds=-1), body=body)
    with server.client(headers={"Idempotency-Key": "orphan"}) as api:
        answer = api.post("/v1/identities", content=body)
    assert answer.status_code == 201
    assert identity_count(server) == 1


def test_two_processes_racing_one_key_on_postgresql_create_once(
    databases: Databases, tmp_path
) -> None:
    """Two `tidings serve` on one PostgreSQL database; 16 concurrent retries of one request."""
    with (
        databases.fresh_postgres() as url,
        serve_process(tmp_path / "a", database_url=url) as first,
        serve_process(tmp_path / "b", database_url=url) as second,
    ):
        key = first.root_key
        answers: list[tuple[int, dict, dict]] = []
        barrier = threading.Barrier(16)

        def attempt(index: int) -> None:
            target = first if index % 2 else second
            with target.client(key) as api:
                barrier.wait()
                response = api.post(
                    "/v1/identities",
                    json={"handle": "raced"},
                    headers={"Idempotency-Key": "race-1"},
                )
                answers.append((response.status_code, dict(response.headers), response.json()))

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        created = [body for status, _, body in answers if status == 201]
        busy = [body for status, _, body in answers if status == 409]
        assert len(created) + len(busy) == 16
        assert all(b["error"]["retryable"] for b in busy)
        assert len({body["id"] for body in created}) == 1
        ran = [h for status, h, _ in answers if status == 201 and "idempotent-replayed" not in h]
        assert len(ran) <= 1
        with second.client(key) as api:
            listed = api.get("/v1/identities").json()["data"]
            retried = api.post(
                "/v1/identities",
                json={"handle": "raced"},
                headers={"Idempotency-Key": "race-1"},
            )
        assert [i["handle"] for i in listed] == ["raced"]
        assert retried.status_code == 201
        assert retried.headers["Idempotent-Replayed"] == "true"


def test_a_replayed_key_creation_does_not_store_or_repeat_the_secret(server: LiveServer) -> None:
    """Secrets are shown once: the stored answer, and so the replay, holds `key: null`."""
    with server.client(headers={"Idempotency-Key": "mint-1"}) as api:
        first = api.post("/v1/api-keys", json={"name": "ci", "kind": "root"})
        replay = api.post("/v1/api-keys", json={"name": "ci", "kind": "root"})
    secret = first.json()["key"]
    assert secret.startswith("td_root_")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    assert replay.json()["key"] is None
    engine = create_sync_engine(server.settings.resolved_database_url)
    with Session(engine) as session:
        stored = [r.response_body for r in session.query(IdempotencyRecord).all()]
    engine.dispose()
    assert stored
    assert all(secret.encode() not in body for body in stored)
