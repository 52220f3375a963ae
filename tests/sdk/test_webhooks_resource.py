"""`td.webhooks` against a live server delivering to a real loopback receiver: subscriptions,
secrets and their rotation, tests, and deliveries listed, read and replayed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import standardwebhooks

from tests.support.api import wait_for
from tests.support.live import LiveServer, start_server
from tests.support.receiver import Receiver, Step, webhook_receiver
from tidings import (
    AsyncTidings,
    ConflictError,
    MessageReceivedEvent,
    NotFoundError,
    Tidings,
    Webhook,
    WebhookTestEvent,
    WebhookWithSecret,
    verify_webhook,
)

ANA, BOB = "ana@agents.localhost", "bob@agents.localhost"


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with start_server(
        database_url=database_url,
        data_dir=tmp_path / "data",
        webhook_allow_hosts=("127.0.0.1",),  # the receiver is on loopback
        webhook_timeout_seconds=2,
        webhook_poll_seconds=0.05,
    ) as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver(Step()) as hook:
        yield hook


def test_subscribe_receive_verify_replay_rotate_and_delete(
    live: LiveServer, receiver: Receiver
) -> None:
    with Tidings(live.root_key, base_url=live.base_url) as td:
        td.identities.create("ana")
        td.identities.create("bob")
        created = td.webhooks.create(
            receiver.url, ["message.received"], mailbox=BOB, headers={"X-Team": "ops"},
            description="bob's inbox",
        )  # fmt: skip
        assert isinstance(created, WebhookWithSecret)
        assert created.secret is not None
        assert created.secret.startswith("whsec_")
        assert (created.owner, created.header_names, created.enabled) == (
            "mailbox",
            ["X-Team"],
            True,
        )
        shown = td.webhooks.get(created.id)
        assert type(shown) is Webhook
        assert getattr(shown, "secret", None) is None  # shown once; get_secret reads it again
        assert td.webhooks.get_secret(created.id).secret == created.secret
        assert [w.id for w in td.webhooks.list()] == [created.id]
        changed = td.webhooks.update(created.id, description="inbox")
        assert (changed.description, changed.event_types) == ("inbox", ["message.received"])

        td.messages.send(ANA, to=[BOB], subject="Hooked", body_text="hi")
        [request] = wait_for(lambda: receiver.succeeded)
        event = verify_webhook(request.body, request.headers, created.secret)
        assert isinstance(event, MessageReceivedEvent)
        assert event.data.message.subject == "Hooked"
        independent = standardwebhooks.Webhook(created.secret).verify(request.body, request.headers)
        assert independent["id"] == event.id
        assert request.headers["x-team"] == "ops"

        [delivery] = wait_for(
            lambda: td.webhooks.deliveries.list(webhook_id=created.id, status="succeeded").data
        )
        assert delivery.event_id == event.id
        read = td.webhooks.deliveries.get(delivery.id)
        assert [a.status_code for a in read.attempts] == [200]
        assert read.attempts[0].response_excerpt == "ok"
        assert [d.id for d in td.webhooks.deliveries.list(event_id=event.id)] == [delivery.id]
        replayed = td.webhooks.deliveries.replay(delivery.id)
        assert (replayed.replay_of, replayed.event_id) == (delivery.id, event.id)
        wait_for(lambda: len(receiver.succeeded) == 2)
        assert receiver.event_ids() == [event.id, event.id]  # the same webhook-id again

        rotated = td.webhooks.rotate_secret(created.id, grace_period_seconds=3600)
        assert rotated.secret not in (None, created.secret)
        assert rotated.previous_secret_expires_at is not None
        tested = td.webhooks.test(created.id)
        assert tested.webhook_id == created.id
        wait_for(lambda: len(receiver.succeeded) == 3)
        body, headers = receiver.succeeded[-1].body, receiver.succeeded[-1].headers
        # Signed with both secrets while the old one is in its grace period.
        for secret in (rotated.secret, created.secret):
            assert isinstance(verify_webhook(body, headers, secret or ""), WebhookTestEvent)
            assert standardwebhooks.Webhook(secret).verify(body, headers)["type"] == "webhook.test"

        paused = td.webhooks.update(created.id, enabled=False)
        assert paused.disabled_reason
        with pytest.raises(ConflictError) as disabled:
            td.webhooks.test(created.id)
        assert disabled.value.code == "webhook_disabled"
        assert td.webhooks.delete(created.id).deleted
        with pytest.raises(NotFoundError):
            td.webhooks.get(created.id)


def test_an_idempotent_create_answers_again_without_the_secret(
    live: LiveServer, receiver: Receiver
) -> None:
    with Tidings(live.root_key, base_url=live.base_url) as td:
        first = td.webhooks.create(receiver.url, ["message.sent"], idempotency_key="hook-1")
        again = td.webhooks.create(receiver.url, ["message.sent"], idempotency_key="hook-1")
        assert again.id == first.id
        assert first.secret is not None
        assert again.secret is None  # secrets are shown once, even to a retry
        assert td.webhooks.get_secret(first.id).secret == first.secret


async def test_async_webhooks_match_the_sync_ones(live: LiveServer, receiver: Receiver) -> None:
    async with AsyncTidings(live.root_key, base_url=live.base_url) as td:
        created = await td.webhooks.create(receiver.url, ["message.received"], enabled=True)
        page = await td.webhooks.list()
        assert [w.id async for w in page] == [created.id]
        secret = (await td.webhooks.get_secret(created.id)).secret
        assert secret == created.secret
        tested = await td.webhooks.test(created.id)
        [request] = wait_for(lambda: receiver.succeeded)
        assert isinstance(
            verify_webhook(request.body, request.headers, secret or ""), WebhookTestEvent
        )

        async with asyncio.timeout(30):
            while (await td.webhooks.deliveries.get(tested.id)).status != "succeeded":
                await asyncio.sleep(0.05)
        found = await td.webhooks.deliveries.list(webhook_id=created.id)
        assert [d.id for d in found.data] == [tested.id]
        replayed = await td.webhooks.deliveries.replay(tested.id)
        assert replayed.replay_of == tested.id
        changed = await td.webhooks.update(created.id, event_types=["message.sent"])
        assert changed.event_types == ["message.sent"]
        assert (await td.webhooks.rotate_secret(created.id)).secret != secret
        assert (await td.webhooks.delete(created.id)).deleted
        assert [w async for w in await td.webhooks.list()] == []
