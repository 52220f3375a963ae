"""Bad input gets a precise error envelope and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.support.live import LiveServer, start_server

MAX_BODY = 2048


@pytest.fixture
def small_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A server that accepts request bodies of at most 2048 bytes."""
    with start_server(
        database_url=database_url, data_dir=tmp_path / "data", max_body_bytes=MAX_BODY
    ) as live:
        yield live


def error_of(answer: httpx2.Response, status: int, code: str) -> dict[str, Any]:
    """The error envelope of `answer`, after checking what every error promises."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {
        "code",
        "message",
        "param",
        "errors",
        "fix",
        "retryable",
        "request_id",
    }
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"].strip()
    assert isinstance(error["fix"], str)
    assert len(error["fix"].split()) >= 3
    assert error["retryable"] is False
    assert error["request_id"].startswith("req_")
    assert answer.headers["X-Request-Id"] == error["request_id"]
    return error


def handles(server: LiveServer) -> list[str]:
    with server.client() as api:
        answer = api.get("/v1/identities", params={"limit": 100})
    assert answer.status_code == 200
    return [item["handle"] for item in answer.json()["data"]]


@pytest.mark.parametrize(
    "raw",
    [b'{"handle": "ana"', b"{handle: 'ana'}", b"not json at all", b'{"handle": "ana"} extra'],
)
def test_malformed_json_is_refused(server: LiveServer, raw: bytes) -> None:
    """A body that does not parse as JSON is a 400 `invalid_json` about the body."""
    with server.client() as api:
        answer = api.post(
            "/v1/identities", content=raw, headers={"Content-Type": "application/json"}
        )
    error = error_of(answer, 400, "invalid_json")
    assert error["param"] == "body"
    assert handles(server) == []


def test_an_unknown_field_is_named(server: LiveServer) -> None:
    """Fields the API does not know are refused, not silently dropped."""
    with server.client() as api:
        answer = api.post("/v1/identities", json={"handle": "ana", "nickname": "A"})
    error = error_of(answer, 422, "validation_error")
    assert error["param"] == "nickname"
    assert error["errors"][0]["field"] == "nickname"
    assert error["errors"][0]["code"] == "unknown_field"
    assert error["errors"][0]["message"]
    assert handles(server) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"handle": 123}, "handle"),
        ({"handle": ["ana"]}, "handle"),
        ({"handle": "ana", "display_name": True}, "display_name"),
        ({"handle": "ana", "description": 7}, "description"),
    ],
)
def test_a_mistyped_field_is_not_coerced(
    server: LiveServer, body: dict[str, Any], field: str
) -> None:
    """A number or boolean where a string belongs is `invalid_type`, never turned into text."""
    with server.client() as api:
        answer = api.post("/v1/identities", json=body)
    error = error_of(answer, 422, "validation_error")
    assert error["param"] == field
    assert error["errors"][0] == {
        "field": field,
        "code": "invalid_type",
        "message": error["errors"][0]["message"],
    }
    assert handles(server) == []


def test_a_missing_required_field_is_named(server: LiveServer) -> None:
    with server.client() as api:
        answer = api.post("/v1/identities", json={"display_name": "Ana"})
    error = error_of(answer, 422, "validation_error")
    assert error["param"] == "handle"
    assert error["errors"][0]["field"] == "handle"
    assert error["errors"][0]["code"] == "missing_field"
    assert handles(server) == []


def test_every_problem_in_a_body_is_listed(server: LiveServer) -> None:
    """One answer lists all the fields to fix, so a caller fixes them in one go."""
    with server.client() as api:
        answer = api.post("/v1/identities", json={"display_name": 5, "colour": "red"})
    error = error_of(answer, 422, "validation_error")
    problems = {(item["field"], item["code"]) for item in error["errors"]}
    assert problems == {
        ("handle", "missing_field"),
        ("display_name", "invalid_type"),
        ("colour", "unknown_field"),
    }
    assert handles(server) == []


@pytest.mark.parametrize("raw", [b"[]", b'"ana"', b"42", b"null"])
def test_a_body_that_is_not_an_object_is_refused(server: LiveServer, raw: bytes) -> None:
    """Valid JSON that is not an object is an `invalid_type` about the body as a whole."""
    with server.client() as api:
        answer = api.post(
            "/v1/identities", content=raw, headers={"Content-Type": "application/json"}
        )
    error = error_of(answer, 422, "validation_error")
    assert error["param"] == "body"
    assert error["errors"][0]["code"] == "invalid_type"
    assert handles(server) == []


def test_an_empty_body_is_a_missing_body(server: LiveServer) -> None:
    with server.client() as api:
        answer = api.post("/v1/identities", headers={"Content-Type": "application/json"})
    error = error_of(answer, 422, "validation_error")
    assert error["param"] == "body"
    assert error["errors"][0]["code"] == "missing_field"
    assert handles(server) == []


def test_a_patch_with_bad_input_leaves_the_identity_as_it_was(server: LiveServer) -> None:
    with server.client() as api:
        created = api.post("/v1/identities", json={"handle": "ana", "display_name": "Ana"})
        assert created.status_code == 201
        answer = api.patch("/v1/identities/ana", json={"display_name": "Bob", "status": "gone"})
        after = api.get("/v1/identities/ana").json()
    error = error_of(answer, 422, "validation_error")
    assert error["param"] == "status"
    assert error["errors"][0]["code"] == "invalid_choice"
    assert after["display_name"] == "Ana"
    assert after["status"] == "active"


def test_a_body_that_is_not_json_is_unsupported(server: LiveServer) -> None:
    with server.client() as api:
        answer = api.post(
            "/v1/identities", content=b"handle=ana", headers={"Content-Type": "text/plain"}
        )
    error = error_of(answer, 415, "unsupported_media_type")
    assert error["param"] == "Content-Type"
    assert handles(server) == []


def too_big_body() -> bytes:
    body = json.dumps({"handle": "ana", "description": "x" * 1990, "display_name": "y" * 190})
    payload = body.encode()
    assert len(payload) > MAX_BODY
    return payload


def test_a_body_over_the_limit_is_refused(small_server: LiveServer) -> None:
    """A request whose Content-Length is over `max_body_bytes` gets 413 and changes nothing."""
    payload = too_big_body()
    with small_server.client() as api:
        answer = api.post(
            "/v1/identities", content=payload, headers={"Content-Type": "application/json"}
        )
    assert answer.request.headers["Content-Length"] == str(len(payload))
    error = error_of(answer, 413, "payload_too_large")
    assert error["param"] == "body"
    assert str(MAX_BODY) in error["fix"]
    assert handles(small_server) == []


def test_a_streamed_body_over_the_limit_is_refused(small_server: LiveServer) -> None:
    """A chunked body with no Content-Length is counted as it arrives and refused all the same."""
    payload = too_big_body()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(payload), 256):
            yield payload[start : start + 256]

    with small_server.client() as api:
        answer = api.post(
            "/v1/identities", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert "Content-Length" not in answer.request.headers
    assert answer.request.headers["Transfer-Encoding"] == "chunked"
    error = error_of(answer, 413, "payload_too_large")
    assert error["param"] == "body"
    assert handles(small_server) == []


def test_a_streamed_body_under_the_limit_is_accepted(small_server: LiveServer) -> None:
    """Chunked uploads themselves are fine: only the size is limited."""
    payload = json.dumps({"handle": "ana", "description": "x" * 1000}).encode()

    def chunks() -> Iterator[bytes]:
        yield payload[:500]
        yield payload[500:]

    with small_server.client() as api:
        answer = api.post(
            "/v1/identities", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert "Content-Length" not in answer.request.headers
    assert answer.status_code == 201, answer.text
    assert handles(small_server) == ["ana"]


@pytest.mark.parametrize("path", ["/v1/nothing-here", "/v2/identities", "/identities"])
def test_an_unknown_endpoint_is_named(server: LiveServer, path: str) -> None:
    with server.client() as api:
        answer = api.get(path)
    error = error_of(answer, 404, "endpoint_not_found")
    assert path in error["message"]


def test_an_unknown_endpoint_without_a_key_is_the_same_404(server: LiveServer) -> None:
    with server.anonymous() as api:
        answer = api.post("/v1/nothing-here", json={})
    error_of(answer, 404, "endpoint_not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/v1/identities"), ("DELETE", "/v1/identities"), ("POST", "/v1/identities/ana")],
)
def test_a_wrong_method_is_refused(server: LiveServer, method: str, path: str) -> None:
    """405 names the method and changes nothing."""
    with server.client() as api:
        assert api.post("/v1/identities", json={"handle": "ana"}).status_code == 201
        answer = api.request(method, path, json={"handle": "bob"})
    error = error_of(answer, 405, "method_not_allowed")
    assert method in error["message"]
    assert method not in {m.strip() for m in answer.headers["Allow"].split(",")}
    assert handles(server) == ["ana"]


@pytest.mark.parametrize(
    ("path", "methods"),
    [("/v1/identities", {"GET", "POST"}), ("/v1/identities/ana", {"GET", "PATCH", "DELETE"})],
)
def test_allow_lists_every_method_of_the_path(
    server: LiveServer, path: str, methods: set[str]
) -> None:
    """The 405 `fix` points at the Allow header, so it must list every method the path takes."""
    with server.client() as api:
        answer = api.put(path, json={})
    assert answer.status_code == 405
    allowed = {m.strip() for m in answer.headers["Allow"].split(",")}
    assert methods <= allowed
