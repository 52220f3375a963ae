"""`with_raw_response` and the client's options (`with_options`, default headers, your own
httpx client, the debug logger), against a real server on loopback."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import httpx2
import pytest

from tests.support.live import LiveServer
from tidings import (
    AsyncTidings,
    BoundIdentity,
    NotFoundError,
    NotModified,
    RateLimitError,
    RetryOptions,
    Tidings,
)
from tidings.resources._shared import AsyncResource, SyncResource
from tidings_server.clock import FakeClock


def test_raw_responses_show_status_and_headers_and_parse_to_the_model(
    server: LiveServer,
) -> None:
    with Tidings(server.root_key, base_url=server.base_url) as td:
        created = td.with_raw_response.identities.create("bot", idempotency_key="bot-1")
        assert created.status_code == 201
        assert created.headers["location"] == "/v1/identities/bot"
        assert created.request_id is not None
        assert created.request_id.startswith("req_")
        bot = created.parse()
        assert isinstance(bot, BoundIdentity)
        assert bot.handle == "bot"
        replayed = td.with_raw_response.identities.create("bot", idempotency_key="bot-1")
        assert replayed.headers["idempotent-replayed"] == "true"

        got = td.with_raw_response.identities.get("bot")
        assert got.status_code == 200
        assert got.parse().etag == got.headers["etag"]
        unchanged = td.with_raw_response.identities.get("bot", if_none_match=got.headers["etag"])
        assert unchanged.status_code == 304
        assert unchanged.parse() == NotModified(got.headers["etag"])

        sent = td.with_raw_response.messages.send(
            bot.email_address, to=["ana@example.com"], subject="Hi", body_text="Hello"
        )
        assert sent.status_code == 202
        assert sent.headers["location"].endswith(sent.parse().id)
        raw_mail = td.with_raw_response.messages.get_raw(bot.email_address, sent.parse().id)
        assert raw_mail.headers["content-type"] == "message/rfc822"
        assert b"Subject: Hi" in raw_mail.parse()
        page = td.with_raw_response.identities.list(limit=1)
        assert int(page.headers["x-ratelimit-limit"]) > 0
        assert [i.handle for i in page.parse()] == ["bot"]
        assert td.with_raw_response.whoami().parse().key.kind == "root"
        with pytest.raises(NotFoundError):
            td.with_raw_response.identities.get("nobody")


async def test_async_raw_responses(server: LiveServer) -> None:
    async with AsyncTidings(server.root_key, base_url=server.base_url) as td:
        created = await td.with_raw_response.identities.create("bot")
        assert created.status_code == 201
        bot = created.parse()
        sent = await bot.send_email(to=["ana@example.com"], subject="Hi", body_text="x")
        listed = await td.with_raw_response.messages.list(bot.email_address)
        assert listed.status_code == 200
        assert [m.id for m in listed.parse().data] == [sent.id]
        types = await td.with_raw_response.events.types()
        assert "message.received" in {t.type for t in types.parse()}


def test_with_options_changes_the_retry_policy_for_some_calls(
    limited: tuple[LiveServer, FakeClock],
) -> None:
    server, clock = limited
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds)

    with Tidings(server.root_key, base_url=server.base_url, retry=RetryOptions(sleep=sleep)) as td:
        for _ in range(3):
            td.whoami()
        with pytest.raises(RateLimitError):
            td.with_options(max_retries=0).whoami()  # this call only: no retry
        assert waits == []
        assert td.whoami().key.kind == "root"  # the client itself still waits and retries
        assert len(waits) == 1


def test_default_headers_and_a_caller_supplied_http_client(server: LiveServer) -> None:
    sent: list[httpx2.Request] = []
    http = httpx2.Client(event_hooks={"request": [sent.append]})
    td = Tidings(
        server.root_key, base_url=server.base_url, http_client=http,
        default_headers={"User-Agent": "support-bot/1.0", "X-Team": "ops"},
    )  # fmt: skip
    with td:
        td.whoami()
        td.with_options(default_headers={"X-Team": "billing"}).whoami()
    assert [r.headers["x-team"] for r in sent] == ["ops", "billing"]
    assert {r.headers["user-agent"] for r in sent} == {"support-bot/1.0"}
    assert not http.is_closed  # the caller's client is the caller's to close
    assert http.get(server.base_url + "/healthz").status_code == 200
    http.close()


def test_the_debug_logger_tells_each_attempt_and_never_the_key(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("test.tidings")
    with caplog.at_level(logging.DEBUG), Tidings(
        server.root_key, base_url=server.base_url, logger=logger
    ) as td:  # fmt: skip
        td.identities.create("bot")
        with pytest.raises(NotFoundError):
            td.identities.get("nobody")
    lines = [r.getMessage() for r in caplog.records if r.name == "test.tidings"]
    assert lines[0].startswith(f"POST {server.base_url}/v1/identities -> 201 req_")
    assert lines[1].startswith(f"GET {server.base_url}/v1/identities/nobody -> 404 req_")
    assert server.root_key not in caplog.text
    assert server.root_key[len("td_root_") :] not in caplog.text


def test_tidings_debug_1_prints_requests_to_stderr_without_the_key(server: LiveServer) -> None:
    env = {
        **os.environ, "TIDINGS_DEBUG": "1", "TIDINGS_API_KEY": server.root_key,
        "TIDINGS_BASE_URL": server.base_url,
    }  # fmt: skip
    code = "import tidings; print(tidings.Tidings().whoami().key.kind)"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "root", done.stderr
    assert f"tidings: GET {server.base_url}/v1/session -> 200 req_" in done.stderr
    assert server.root_key[len("td_root_") :] not in done.stderr + done.stdout


def _calls(namespace: object) -> set[str]:
    return {n for n in dir(namespace) if not n.startswith("_") and callable(getattr(namespace, n))}


# Their answer is a body read as it comes (events, a ledger export), not one response.
STREAMED = {"stream", "export"}


def _assert_raw_twins(td: Tidings | AsyncTidings) -> None:
    """Every call of every namespace (nested ones too) has its raw twin; streams excepted."""
    namespaces = [n for n in vars(td) if not n.startswith("_")]
    pending = [(n, getattr(td, n), getattr(td.with_raw_response, n)) for n in namespaces]
    while pending:
        where, namespace, twin = pending.pop()
        if not isinstance(namespace, SyncResource | AsyncResource):
            continue
        assert _calls(namespace) - STREAMED == _calls(twin), where
        pending += [(f"{where}.{n}", v, getattr(twin, n)) for n, v in vars(namespace).items()
                    if not n.startswith("_")]  # fmt: skip
    assert "whoami" in _calls(td.with_raw_response)


def test_every_call_has_a_raw_twin() -> None:
    with Tidings("td_root_" + "x" * 40, base_url="http://127.0.0.1:9") as td:
        _assert_raw_twins(td)


async def test_every_async_call_has_a_raw_twin() -> None:
    async with AsyncTidings("td_root_" + "x" * 40, base_url="http://127.0.0.1:9") as td:
        _assert_raw_twins(td)
