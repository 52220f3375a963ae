"""Identity objects: what `td.identities` answers, with the identity's mail one call away."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.api import wait_for
from tests.support.live import LiveServer
from tidings import (
    AsyncBoundIdentity,
    AsyncTidings,
    BoundIdentity,
    Identity,
    NotFoundError,
    Tidings,
    TidingsError,
)


def test_an_identity_object_sends_reads_replies_and_manages_itself(server: LiveServer) -> None:
    with Tidings(server.root_key, base_url=server.base_url) as td:
        bot = td.identities.create("support-bot", display_name="Support Bot")
        ana = td.identities.create("ana")
        assert isinstance(bot, BoundIdentity)
        assert set(bot.model_dump()) == set(Identity.model_fields)  # the binding is not data

        sent = ana.send_email(
            to=[bot.email_address], subject="Refund?", body_text="Order 42, please.",
            idempotency_key="ticket-42", correlation_id="ticket-42",
        )  # fmt: skip
        assert (sent.status, sent.correlation_id) == ("queued", "ticket-42")
        [unread] = wait_for(lambda: list(bot.iter_unread_emails()))
        assert unread.subject == "Refund?"
        assert bot.get_email(unread.id).body_text == "Order 42, please.\n"

        reply = bot.reply(unread.id, body_text="Done.")
        assert reply.subject == "Re: Refund?"
        [read] = bot.mark_emails_read([unread.id])
        assert read.is_read
        assert list(bot.iter_unread_emails()) == []
        assert [m.id for m in bot.iter_emails(direction="outbound")] == [reply.id]
        thread = bot.get_thread(unread.thread_id)
        assert [m.id for m in thread.messages] == [unread.id, reply.id]
        [answer] = wait_for(lambda: list(ana.iter_emails(direction="inbound")))
        follow_up = ana.send_email(
            to=[bot.email_address], subject="Re: Refund?", body_text="Thanks!",
            in_reply_to_message_id=answer.id,
        )  # fmt: skip
        assert follow_up.thread_id == sent.thread_id

        assert bot.update(description="Answers refunds") is bot
        assert bot.description == "Answers refunds"
        td.identities.update("support-bot", display_name="Refund Bot")  # changed elsewhere
        assert bot.refresh().display_name == "Refund Bot"
        assert bot.etag is not None
        assert bot.refresh().display_name == "Refund Bot"  # unchanged: a 304, kept as is

        assert [i.handle for i in td.identities.list()] == ["ana", "support-bot"]
        assert all(isinstance(i, BoundIdentity) for i in td.identities.list())
        assert bot.delete().deleted
        with pytest.raises(NotFoundError):
            td.identities.get("support-bot")

    unbound = BoundIdentity.model_validate(ana.model_dump())
    assert unbound == ana  # the same data
    with pytest.raises(TidingsError, match="not bound"):
        unbound.send_email(to=["x@example.com"], subject="s")


async def test_async_identity_objects_await_and_iterate_asynchronously(
    server: LiveServer,
) -> None:
    async with AsyncTidings(server.root_key, base_url=server.base_url) as td:
        bot = await td.identities.create("bot")
        ana = await td.identities.create("ana")
        assert isinstance(bot, AsyncBoundIdentity)
        await ana.send_email(to=[bot.email_address], subject="Hello", body_text="Hi")

        async def unread() -> list[str]:
            return [m.id async for m in bot.iter_unread_emails()]

        for _ in range(300):  # delivery is asynchronous
            if ids := await unread():
                break
            await asyncio.sleep(0.05)
        [message_id] = ids
        reply = await bot.reply(message_id, body_text="Hello back")
        assert (await bot.mark_emails_read([message_id]))[0].is_read
        assert await unread() == []
        assert [m.id async for m in bot.iter_emails(direction="outbound")] == [reply.id]
        thread = await bot.get_thread(reply.thread_id)
        assert len(thread.messages) == 2
        await bot.update(display_name="Bot")
        assert (await bot.refresh()).display_name == "Bot"
        [listed] = [i async for i in await td.identities.list() if i.handle == "bot"]
        assert isinstance(listed, AsyncBoundIdentity)
        assert (await listed.delete()).deleted


def test_one_address_may_be_given_as_a_plain_string(server: LiveServer) -> None:
    """`to="ana@x"` is one recipient, not a list of its characters (a str is a Sequence)."""
    with Tidings(server.root_key, base_url=server.base_url) as td:
        bot = td.identities.create("bot")
        sent = bot.send_email(to="ana@example.com", subject="One", cc="bo@example.com")
        direct = td.messages.send(bot.email_address, to="cy@example.com", subject="Two")
    assert [a.address for a in sent.to] == ["ana@example.com"]
    assert [a.address for a in sent.cc] == ["bo@example.com"]
    assert [a.address for a in direct.to] == ["cy@example.com"]
