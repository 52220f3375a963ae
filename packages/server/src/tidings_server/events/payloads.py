"""What events say about a message: the message itself, its thread, and who is who in it.

The payload is built when the event is written and stored with it, so a webhook, the stream
and a later poll all carry the same snapshot even if the message changes or goes away.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.api.schemas.messages import MessageView, ThreadView
from tidings_server.store.models import Message, Thread
from tidings_server.store.repositories.events import EventWriting

# Characters per body an event carries; `body_truncated` says when a body was longer and the
# whole message is one GET away. Keeps webhook requests well under receivers' body limits.
BODY_CAP = 64 * 1024
_BODIES = ("body_text", "body_html", "extracted_text")


async def message_data(
    session: AsyncSession, message: Message, thread: Thread | None = None
) -> dict[str, Any]:
    """`{message, thread, contacts, agent_identities}` for an event about `message`.

    `message.attachments` must be loaded; `thread`, when the caller holds it, spares a query.
    `agent_identities` names the addresses in the message that belong to identities of this
    organisation; `contacts` are everyone else.
    """
    store = EventWriting(session, message.org_id)
    mailbox = await store.mailbox(message.mailbox_id)
    if thread is None:
        thread = await store.thread(message.thread_id)
    if mailbox is None or thread is None:
        raise LookupError(f"message {message.id} has no mailbox or thread")
    view = MessageView.full(message, mailbox).model_dump(mode="json", by_alias=True)
    truncated = False
    for field in _BODIES:
        body = view.get(field)
        if isinstance(body, str) and len(body) > BODY_CAP:
            view[field] = body[:BODY_CAP]
            truncated = True
    view["body_truncated"] = truncated

    people: dict[str, str] = {}
    for group in (message.from_, message.to, message.cc, message.bcc, message.reply_to):
        for person in group:
            address = person.get("address", "").lower()
            if address and address not in people:
                people[address] = person.get("name", "")
    known = await store.identities_at(set(people))
    agents = {box.address for box, _identity in known}
    return {
        "message": view,
        "thread": ThreadView.of(thread, mailbox).model_dump(mode="json"),
        "contacts": [
            {"address": address, "name": name}
            for address, name in people.items()
            if address not in agents
        ],
        "agent_identities": [
            {"identity_id": identity.id, "handle": identity.handle, "address": box.address}
            for box, identity in known
        ],
    }
