"""Every resource namespace, used the way an agent builder would."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import wait_for
from tests.support.live import LiveServer
from tidings import AsyncTidings, AuthenticationError, MessageSummary, Tidings


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


def test_message_filters_and_the_event_catalogue(server: LiveServer) -> None:
    with Tidings(server.root_key, base_url=server.base_url) as td:
        ana, bob, cy = (td.identities.create(h).email_address for h in ("ana", "bob", "cy"))
        td.messages.send(ana, to=[bob], subject="One", body_text="1")
        td.messages.send(cy, to=[bob], subject="Two", body_text="2")

        def both_arrived() -> list[MessageSummary] | None:
            found = td.messages.list(bob, direction="inbound").data
            return found if len(found) == 2 else None

        one, two = sorted(wait_for(both_arrived), key=lambda m: m.subject)
        td.messages.update_flags(bob, one.id, is_starred=True, labels=["finance", "q3"])
        td.messages.update_flags(bob, two.id, labels=["q3"])

        def subjects(**filters: Any) -> list[str]:
            return sorted(m.subject for m in td.messages.list(bob, **filters))

        assert subjects(starred=True) == ["One"]
        assert subjects(starred=False) == ["Two"]
        assert subjects(label="q3") == ["One", "Two"]
        assert subjects(label=["q3", "finance"]) == ["One"]  # every label given
        assert subjects(from_=cy) == ["Two"]
        assert subjects(thread_id=two.thread_id) == ["Two"]
        assert subjects(after=one.created_at) == ["Two"]
        assert subjects(before=two.created_at) == ["One"]
        catalogue = {t.type: t.description for t in td.events.types()}
        assert {"message.received", "message.bounced", "webhook.test"} <= set(catalogue)
        assert all(catalogue.values())
