"""The SDK against a real server on loopback, sync and async alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.live import LiveServer
from tidings import (
    AsyncTidings,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    RetryOptions,
    Tidings,
    ValidationError,
    iter_cursor_pages,
)
from tidings._config import resolve
from tidings_server.clock import FakeClock


def test_whoami_identities_and_mail_with_the_sync_client(server: LiveServer) -> None:
    with Tidings(server.root_key, base_url=server.base_url) as td:
        assert td.whoami().key.kind == "root"
        bot = td.identities.create("support-bot", display_name="Support Bot")
        assert bot.email_address == "support-bot@agents.localhost"
        assert td.identities.get("support-bot").id == bot.id
        updated = td.identities.update("support-bot", description="Answers tickets")
        assert updated.description == "Answers tickets"
        sent = td.messages.send(
            bot.email_address, to=["ana@example.com"], subject="Hi", body_text="Hello",
            idempotency_key="job-42",
        )  # fmt: skip
        again = td.messages.send(
            bot.email_address, to=["ana@example.com"], subject="Hi", body_text="Hello",
            idempotency_key="job-42",
        )  # fmt: skip
        assert sent.status == "queued"
        assert again.id == sent.id
        [listed] = td.messages.list(bot.email_address).data
        assert listed.id == sent.id
        assert td.messages.get(bot.email_address, sent.id).body_text == "Hello\n"
        assert td.identities.delete("support-bot").deleted


def test_iterating_a_list_walks_every_page(server: LiveServer) -> None:
    with Tidings(server.root_key, base_url=server.base_url) as td:
        for n in range(5):
            td.identities.create(f"bot-{n}")
        first = td.identities.list(limit=2)
        assert len(first.data) == 2
        assert first.has_more
        assert sorted(i.handle for i in first) == [f"bot-{n}" for n in range(5)]

        def fetch(cursor: str | None) -> tuple[list[str], str | None]:
            page = td.identities.list(limit=2, cursor=cursor)
            return [i.handle for i in page.data], page.next_cursor

        assert len(list(iter_cursor_pages(fetch))) == 5


def test_errors_are_typed_and_carry_the_envelope(server: LiveServer) -> None:
    with Tidings(server.root_key, base_url=server.base_url) as td:
        with pytest.raises(NotFoundError) as missing:
            td.identities.get("nobody")
        assert missing.value.status == 404
        assert missing.value.code == "not_found"
        assert missing.value.request_id.startswith("req_")
        with pytest.raises(ValidationError) as invalid:
            td.identities.create("Not Valid")
        assert invalid.value.param == "handle"
        assert invalid.value.fix
        td.identities.create("taken")
        with pytest.raises(ConflictError):
            td.identities.create("taken")
    with Tidings("td_root_" + "x" * 40, base_url=server.base_url) as stranger:
        with pytest.raises(AuthenticationError) as unknown:
            stranger.whoami()
        assert unknown.value.code == "invalid_api_key"


def test_a_real_429_is_retried_after_retry_after(limited: tuple[LiveServer, FakeClock]) -> None:
    server, clock = limited
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # instead of sleeping, move the server's clock
        waits.append(seconds)
        clock.advance(seconds)

    with Tidings(server.root_key, base_url=server.base_url, retry=RetryOptions(sleep=sleep)) as td:
        for _ in range(3):
            td.whoami()
        assert td.whoami().key.kind == "root"  # the 4th was refused, waited for, retried
    assert len(waits) == 1
    assert 1 <= waits[0] <= 60
    clock.advance(60)  # a fresh window
    with Tidings(server.root_key, base_url=server.base_url, max_retries=0) as td:
        for _ in range(3):
            td.whoami()
        with pytest.raises(RateLimitError) as refused:
            td.whoami()
    assert refused.value.retryable
    assert int(refused.value.headers["retry-after"]) >= 1


async def test_the_async_client_has_the_same_surface(server: LiveServer) -> None:
    async with AsyncTidings(server.root_key, base_url=server.base_url) as td:
        assert (await td.whoami()).key.kind == "root"
        for n in range(3):
            await td.identities.create(f"bot-{n}")
        page = await td.identities.list(limit=2)
        handles = [identity.handle async for identity in page]
        assert sorted(handles) == ["bot-0", "bot-1", "bot-2"]
        sent = await td.messages.send(
            "bot-0@agents.localhost", to=["x@example.com"], subject="s", body_text="b"
        )
        assert sent.status == "queued"
        with pytest.raises(NotFoundError):
            await td.identities.get("nobody")


def test_settings_come_from_arguments_then_environment_then_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('api_key = "td_root_from_file"\nbase_url = "http://file:1"\n')
    env = {"TIDINGS_BASE_URL": "http://env:2"}
    settings = resolve(None, None, environ=env, config_file=config)
    assert (settings.api_key, settings.base_url) == ("td_root_from_file", "http://env:2")
    settings = resolve("td_root_arg", "http://arg:3/", environ=env, config_file=config)
    assert (settings.api_key, settings.base_url) == ("td_root_arg", "http://arg:3")


def test_focused_clients_check_the_key_kind_before_any_request(server: LiveServer) -> None:
    from tidings import (
        InvalidKeyKindError,
        create_mailbox_client,
        create_management_client,
        create_sending_client,
    )

    with create_management_client(server.root_key, base_url=server.base_url) as admin:
        admin.identities.create("ana")
        agent_key = admin.api_keys.create("ana's key", identity_id="ana").key
    assert agent_key is not None
    with create_sending_client(agent_key, base_url=server.base_url) as ana:
        assert ana.messages.send("ana@agents.localhost", to=["x@example.com"], subject="s",
                                 body_text="b").status == "queued"  # fmt: skip
    with create_mailbox_client(agent_key, base_url=server.base_url) as ana:
        assert len(ana.messages.list("ana@agents.localhost").data) == 1
    with pytest.raises(InvalidKeyKindError, match="td_agent_"):
        create_sending_client(server.root_key, base_url="http://127.0.0.1:9")
    with pytest.raises(InvalidKeyKindError, match="td_root_"):
        create_management_client(agent_key, base_url="http://127.0.0.1:9")
