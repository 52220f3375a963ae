"""Kept SMTP connections, against an aiosmtpd server on the test's own loop: reused between
messages, replaced when the server has let them go, closed with QUIT when idle or old."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from tidings_server.delivery.smtp_sessions import SmtpSessions
from tidings_server.delivery.transport import Result

RAW = b"From: bot@agents.localhost\r\nSubject: hi\r\n\r\nhello\r\n"


class Peer:
    """Records which connection (the client's port) carried each message."""

    def __init__(self) -> None:
        self.connections: list[SMTP] = []
        self.carried_by: list[int] = []  # the client's port, per message
        self.goodbye_at_mail = False  # answer MAIL on a used connection with 421, then close
        self.refuse: set[str] = set()
        self.goodbyes = 0  # QUITs received

    def protocol(self) -> SMTP:
        server = SMTP(self, hostname="peer.test")
        self.connections.append(server)
        return server

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:  # fmt: skip
        if self.goodbye_at_mail and session.peer[1] in self.carried_by:
            server.loop.call_soon(server.transport.close)
            return "421 4.4.2 peer.test closing idle connection"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:  # fmt: skip
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.carried_by.append(session.peer[1])
        return "250 OK queued"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.goodbyes += 1
        return "221 Bye"

    def open_connections(self) -> int:
        return sum(1 for c in self.connections if c.transport and not c.transport.is_closing())


@pytest.fixture
async def peer() -> AsyncIterator[tuple[Peer, int]]:
    peer = Peer()
    server = await asyncio.get_running_loop().create_server(peer.protocol, "127.0.0.1", 0)
    try:
        yield peer, server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for connection in peer.connections:
            if connection.transport is not None:
                connection.transport.close()


async def send(sessions: SmtpSessions, port: int, *recipients: str) -> dict[str, Result]:
    def new_client() -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=5)

    outcomes = await sessions.transact(
        ("127.0.0.1", port), new_client, "bot@agents.localhost", recipients or ["ana@x.test"], RAW
    )
    return {recipient: outcome.result for recipient, outcome in outcomes.items()}


async def test_messages_to_one_server_go_over_one_connection(peer) -> None:
    server, port = peer
    sessions = SmtpSessions()
    for _ in range(3):
        assert await send(sessions, port) == {"ana@x.test": Result.SENT}
    assert len(server.carried_by) == 3
    assert len(set(server.carried_by)) == 1
    await sessions.close()


async def test_messages_at_the_same_time_each_take_their_own_connection(peer) -> None:
    server, port = peer
    sessions = SmtpSessions()
    await asyncio.gather(*(send(sessions, port) for _ in range(3)))
    await asyncio.gather(*(send(sessions, port) for _ in range(3)))
    assert len(server.carried_by) == 6
    assert len(set(server.carried_by)) == 3  # the second three reused the first three's
    await sessions.close()


async def test_an_idle_connection_is_closed_after_its_time(peer) -> None:
    server, port = peer
    sessions = SmtpSessions(idle_seconds=0.2)
    await send(sessions, port)
    assert server.open_connections() == 1
    await asyncio.sleep(0.5)
    assert server.open_connections() == 0
    assert server.goodbyes == 1
    await send(sessions, port)
    assert len(set(server.carried_by)) == 2
    await sessions.close()


async def test_without_an_idle_time_every_message_has_its_own_connection(peer) -> None:
    server, port = peer
    sessions = SmtpSessions(idle_seconds=0)
    await send(sessions, port)
    await send(sessions, port)
    assert len(set(server.carried_by)) == 2
    await sessions.close()  # waits for the goodbyes under way
    assert server.goodbyes == 2
    await asyncio.sleep(0.05)
    assert server.open_connections() == 0


async def test_a_connection_is_not_reused_past_its_age(peer) -> None:
    server, port = peer
    now = [0.0]
    sessions = SmtpSessions(max_age_seconds=60, clock=lambda: now[0])
    await send(sessions, port)
    now[0] = 59
    await send(sessions, port)
    now[0] = 61
    await send(sessions, port)
    first, second, third = server.carried_by
    assert first == second != third
    await asyncio.sleep(0.05)
    assert server.goodbyes == 1  # the first connection, let go for its age
    await sessions.close()


async def test_a_connection_the_server_closed_while_idle_is_replaced(peer) -> None:
    server, port = peer
    sessions = SmtpSessions()
    await send(sessions, port)
    server.connections[0].transport.close()
    await asyncio.sleep(0.05)  # the client reads the server's EOF
    assert await send(sessions, port) == {"ana@x.test": Result.SENT}
    assert len(set(server.carried_by)) == 2
    await sessions.close()


async def test_a_goodbye_read_only_at_the_next_message_sends_it_on_a_new_connection(peer) -> None:
    # The server's 421 and close can cross the client's MAIL: nothing of the message was taken,
    # so it goes at once over a new connection instead of being deferred for a minute.
    server, port = peer
    sessions = SmtpSessions()
    await send(sessions, port)
    server.goodbye_at_mail = True
    assert await send(sessions, port) == {"ana@x.test": Result.SENT}
    assert len(set(server.carried_by)) == 2
    await sessions.close()


async def test_a_connection_whose_recipients_were_all_refused_is_reset_and_reused(peer) -> None:
    server, port = peer
    server.refuse = {"gone@x.test"}
    sessions = SmtpSessions()
    assert await send(sessions, port, "gone@x.test") == {"gone@x.test": Result.PERMANENT}
    assert await send(sessions, port, "ana@x.test") == {"ana@x.test": Result.SENT}
    assert len(server.connections) == 1
    await sessions.close()


async def test_closing_lets_go_of_every_kept_connection(peer) -> None:
    server, port = peer
    sessions = SmtpSessions()
    await asyncio.gather(send(sessions, port), send(sessions, port))
    assert server.open_connections() == 2
    await sessions.close()
    assert server.goodbyes == 2
    await asyncio.sleep(0.05)
    assert server.open_connections() == 0
