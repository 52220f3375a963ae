"""ETags through the SDK against a real server: read an object's tag, re-fetch only if it
changed (`NotModified`), and change or delete only the version you saw (412 otherwise)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import wait_for
from tests.support.live import LiveServer, start_server
from tidings import (
    AsyncTidings,
    Identity,
    NotModified,
    PreconditionFailedError,
    Tidings,
)


def test_an_identity_changes_only_from_the_version_you_saw(server: LiveServer) -> None:
    with Tidings(server.root_key, base_url=server.base_url) as td:
        created = td.identities.create("bot")
        assert created.etag is None  # a create's answer carries none
        seen = td.identities.get("bot")
        assert seen.etag is not None
        assert td.identities.get("bot", if_none_match=seen.etag) == NotModified(seen.etag)

        updated = td.identities.update("bot", description="v2", if_match=seen.etag)
        assert updated.etag == td.identities.get("bot").etag  # changes chain without a re-read
        with pytest.raises(PreconditionFailedError) as stale:
            td.identities.update("bot", description="v3", if_match=seen.etag)
        assert stale.value.status == 412
        assert stale.value.code == "precondition_failed"

        changed = td.identities.get("bot", if_none_match=seen.etag)
        assert isinstance(changed, Identity)
        assert changed.description == "v2"  # the stale update changed nothing
        assert changed.etag not in (None, seen.etag)
        with pytest.raises(PreconditionFailedError):
            td.identities.delete("bot", if_match=seen.etag)
        assert td.identities.delete("bot", if_match=changed.etag).deleted


def _stale_after(change: Callable[[], Any], fetch: Callable[..., Any]) -> None:
    """`fetch` tags the object; after `change`, the old tag is stale and a re-fetch is new."""
    seen = fetch()
    assert isinstance(fetch(if_none_match=seen.etag), NotModified)
    change()
    fresh = fetch(if_none_match=seen.etag)
    assert not isinstance(fresh, NotModified)
    assert fresh.etag != seen.etag


@pytest.fixture
def hooked(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A server whose webhooks may point at loopback (where nothing listens on port 9)."""
    with start_server(
        database_url=database_url, data_dir=tmp_path / "data", webhook_allow_hosts=("127.0.0.1",)
    ) as server:
        yield server


def test_every_resource_takes_the_conditional_headers(hooked: LiveServer) -> None:
    with Tidings(hooked.root_key, base_url=hooked.base_url) as td:
        ana = td.identities.create("ana").email_address
        bob = td.identities.create("bob").email_address
        td.messages.send(ana, to=[bob], subject="Hello", body_text="Hi")
        [summary] = wait_for(lambda: td.messages.list(bob, direction="inbound").data)

        _stale_after(
            lambda: td.mailboxes.update(bob, display_name="Bob"),
            lambda **tag: td.mailboxes.get(bob, **tag),
        )
        message = td.messages.get(bob, summary.id)
        _stale_after(
            lambda: td.messages.star(bob, summary.id),
            lambda **tag: td.messages.get(bob, summary.id, **tag),
        )
        with pytest.raises(PreconditionFailedError):
            td.messages.update_flags(bob, summary.id, is_read=True, if_match=message.etag)
        with pytest.raises(PreconditionFailedError):
            td.messages.delete(bob, summary.id, if_match=message.etag)
        thread = td.threads.get(bob, summary.thread_id)
        assert isinstance(td.threads.get(bob, thread.id, if_none_match=thread.etag), NotModified)
        with pytest.raises(PreconditionFailedError):
            td.threads.delete(bob, thread.id, if_match='"stale"')
        assert td.threads.delete(bob, thread.id, if_match=thread.etag).deleted

        key = td.api_keys.create("worker", identity_id="ana")
        seen_key = td.api_keys.get(key.id)
        assert isinstance(td.api_keys.get(key.id, if_none_match=seen_key.etag), NotModified)
        with pytest.raises(PreconditionFailedError):
            td.api_keys.delete(key.id, if_match='"stale"')
        assert td.api_keys.delete(key.id, if_match=seen_key.etag).deleted

        hook = td.webhooks.create("http://127.0.0.1:9/hook", ["message.received"])
        _stale_after(
            lambda: td.webhooks.update(hook.id, description="ops"),
            lambda **tag: td.webhooks.get(hook.id, **tag),
        )
        seen_hook = td.webhooks.get(hook.id)
        with pytest.raises(PreconditionFailedError):
            td.webhooks.delete(hook.id, if_match='"stale"')
        assert td.webhooks.delete(hook.id, if_match=seen_hook.etag).deleted
        # A delivery changes as it is tried, so only its tag is checked.
        tested = td.webhooks.create("http://127.0.0.1:9/hook", ["message.received"])
        assert td.webhooks.deliveries.get(td.webhooks.test(tested.id).id).etag is not None


async def test_the_async_client_reads_and_checks_tags_too(server: LiveServer) -> None:
    async with AsyncTidings(server.root_key, base_url=server.base_url) as td:
        await td.identities.create("bot")
        seen = await td.identities.get("bot")
        assert await td.identities.get("bot", if_none_match=seen.etag) == NotModified(seen.etag)
        await td.identities.update("bot", display_name="Bot", if_match=seen.etag)
        with pytest.raises(PreconditionFailedError):
            await td.identities.delete("bot", if_match=seen.etag)
