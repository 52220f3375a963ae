"""Small steps many tests take through the API: create an identity, wait, check an error."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx2


def create_identity(api: httpx2.Client, handle: str, **fields: Any) -> str:
    """Create an identity and return its mailbox address."""
    answer = api.post("/v1/identities", json={"handle": handle, **fields})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["email_address"])


def list_messages(api: httpx2.Client, address: str, **params: Any) -> list[dict[str, Any]]:
    answer = api.get(f"/v1/mailboxes/{address}/messages", params=params)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["data"])


def wait_for(check: Callable[[], Any], timeout: float = 30) -> Any:
    """Poll `check` until it returns something truthy (delivery is asynchronous)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def assert_error(
    answer: httpx2.Response, status: int, code: str, param: str | None = None
) -> dict[str, Any]:
    """The answer is the error envelope with this status, code (and param)."""
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == code
    if param is not None:
        assert error["param"] == param
    assert error["message"]
    assert error["fix"]
    assert error["request_id"] == answer.headers["X-Request-Id"]
    return error


def create_agent_key(api: httpx2.Client, identity: str) -> str:
    """A new agent key for `identity` (handle or id); returns the secret."""
    answer = api.post(
        "/v1/api-keys", json={"name": identity, "kind": "agent", "identity_id": identity}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["key"])


def send_mail(api: httpx2.Client, sender: str, to: list[str], subject: str, **fields: Any) -> dict:
    """Queue a message from the hosted mailbox `sender`; returns the outbound message."""
    answer = api.post(
        f"/v1/mailboxes/{sender}/messages",
        json={"to": to, "subject": subject, "body_text": fields.pop("body_text", "Hi"), **fields},
    )
    assert answer.status_code == 202, answer.text
    return dict(answer.json())
