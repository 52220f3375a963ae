"""Every resource namespace, used the way an agent builder would."""

from __future__ import annotations

import pytest

from tests.support.api import wait_for
from tests.support.live import LiveServer
from tidings import AsyncTidings, AuthenticationError, Tidings


def test_mailboxes_messages_threads_and_search(server: LiveServer) -> None:
    with Tidings(server.root_key, base_url=server.base_url) as td:
        ana = td.identities.create("ana").email_address
        bob = td.identities.create("bob").email_address
        assert {m.address for m in td.mailboxes.list()} == {ana, bob}
        assert td.mailboxes.update(ana, display_name="Ana A.").display_name == "Ana A."
        sent = td.messages.send(ana, to=[bob], subject="Quarterly numbers", body_text="All up")
        [arrived] = wait_for(lambda: td.messages.list(bob, direction="inbound").data)
        assert td.messages.mark_read(bob, arrived.id).is_read
        assert td.messages.star(bob, arrived.id).is_starred
        labelled = td.messages.update_flags(bob, arrived.id, labels=["finance", "q3"])
        assert labelled.labels == ["finance", "q3"]
        assert b"Quarterly numbers" in td.messages.get_raw(bob, arrived.id)
        reply = td.messages.reply(bob, arrived.id, body_text="Great")
        assert reply.subject == "Re: Quarterly numbers"
        assert reply.in_reply_to == sent.rfc_message_id
        hits = td.mailboxes.search(bob, "quarterly").data
        assert {h.id for h in hits} == {arrived.id, reply.id}  # the reply's subject matches too
        assert all("[" in h.snippet for h in hits)
        [thread] = td.threads.list(bob).data
        assert [m.id for m in td.threads.get(bob, thread.id).messages] == [arrived.id, reply.id]
        forwarded = td.messages.forward(bob, arrived.id, to=[ana], body_text="FYI")
        assert forwarded.subject == "Fwd: Quarterly numbers"
        assert td.messages.delete(bob, forwarded.id).deleted


def test_api_keys_are_shown_once_and_can_be_revoked(server: LiveServer) -> None:
    with Tidings(server.root_key, base_url=server.base_url) as td:
        td.identities.create("ana")
        created = td.api_keys.create("worker", identity_id="ana")
        assert created.key is not None
        assert created.key.startswith("td_agent_")
        listed = {k.id: k for k in td.api_keys.list()}
        assert getattr(listed[created.id], "key", None) is None
        with Tidings(created.key, base_url=server.base_url) as agent:
            assert agent.whoami().identity is not None
        td.api_keys.delete(created.id)
        with (
            Tidings(created.key, base_url=server.base_url) as agent,
            pytest.raises(AuthenticationError) as revoked,
        ):
            agent.whoami()
        assert revoked.value.code == "api_key_revoked"


async def test_async_resources_match_the_sync_ones(server: LiveServer) -> None:
    async with AsyncTidings(server.root_key, base_url=server.base_url) as td:
        ana = (await td.identities.create("ana")).email_address
        sent = await td.messages.send(ana, to=[ana], subject="Note to self", body_text="x")
        assert (await td.messages.star(ana, sent.id)).is_starred
        page = await td.mailboxes.list()
        assert [m.address async for m in page] == [ana]
        key = await td.api_keys.create("robot", identity_id="ana")
        assert key.kind == "agent"
