"""SMTP connections kept open between messages to the same server, as Postfix's connection
cache keeps them: the next message skips the TCP handshake, greeting, EHLO and STARTTLS.
A connection let go while it still works ends with QUIT, as RFC 5321 asks of a client."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import aiosmtplib

from tidings_server.delivery.transport import Outcome, Result

Destination = tuple[str, int]  # (host or address, port)
NewClient = Callable[[], aiosmtplib.SMTP]  # not yet connected; login, if any, is in its settings
# How long a goodbye may take before the connection is simply closed.
QUIT_TIMEOUT_SECONDS = 2.0


def outcome_for_code(code: int, detail: str) -> Outcome:
    if 200 <= code < 300:
        return Outcome(Result.SENT, code, detail)
    if 400 <= code < 500:
        return Outcome(Result.TEMPORARY, code, detail)
    return Outcome(Result.PERMANENT, code, detail)


class _Dropped(Exception):
    """A kept connection turned out closed at MAIL: nothing of the message reached the server."""


@dataclass
class _Finished:
    outcomes: dict[str, Outcome]
    open_transaction: bool  # MAIL was accepted but no DATA completed: RSET before reuse


async def _transaction(
    client: aiosmtplib.SMTP, sender: str, recipients: Sequence[str], raw: bytes, *, kept: bool
) -> _Finished:
    try:
        await client.mail(sender)
    except aiosmtplib.SMTPServerDisconnected as exc:
        if kept:
            raise _Dropped from exc
        raise
    except aiosmtplib.SMTPResponseException as exc:
        if kept and exc.code == 421:  # the server's goodbye to an idle connection, read late
            raise _Dropped from exc
        return _Finished({r: outcome_for_code(exc.code, exc.message) for r in recipients}, False)
    outcomes: dict[str, Outcome] = {}
    accepted = []
    for recipient in recipients:
        try:
            await client.rcpt(recipient)
            accepted.append(recipient)
        except aiosmtplib.SMTPResponseException as exc:
            outcomes[recipient] = outcome_for_code(exc.code, exc.message)
    if not accepted:
        return _Finished(outcomes, True)
    try:
        reply = await client.data(raw)
    except aiosmtplib.SMTPResponseException as exc:
        # Refused at DATA or after the content: RSET is harmless either way.
        refused = outcome_for_code(exc.code, exc.message)
        return _Finished(outcomes | dict.fromkeys(accepted, refused), True)
    answer = outcome_for_code(reply.code, reply.message)
    return _Finished(outcomes | dict.fromkeys(accepted, answer), False)


async def _goodbye(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit(timeout=QUIT_TIMEOUT_SECONDS)  # closes the connection once answered
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        pass  # the server went first, or is slow to answer: nothing is owed to it
    finally:
        client.close()


async def _reset(client: aiosmtplib.SMTP) -> bool:
    try:
        await client.rset()
    except (aiosmtplib.SMTPException, OSError):
        return False
    return True


@dataclass(eq=False)
class _Session:
    client: aiosmtplib.SMTP
    opened: float
    expiry: asyncio.TimerHandle | None = field(default=None, repr=False)


class SmtpSessions:
    """Idle connections by destination, the most recently used taken first.

    A connection goes back only between transactions. It is closed after `idle_seconds`
    unused (Postfix's `smtp_connection_cache_time_limit` is 2 s: a remote server drops idle
    clients after a while, and open sockets are its resource) or once it is `max_age_seconds`
    old. `idle_seconds=0` turns keeping off: one connection per message.
    """

    def __init__(
        self,
        *,
        idle_seconds: float = 2.0,
        max_age_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_seconds = idle_seconds
        self.max_age_seconds = max_age_seconds
        self._clock = clock
        self._idle: defaultdict[Destination, list[_Session]] = defaultdict(list)
        self._goodbyes: set[asyncio.Task[None]] = set()

    async def transact(
        self,
        destination: Destination,
        new_client: NewClient,
        sender: str,
        recipients: Sequence[str],
        raw: bytes,
    ) -> dict[str, Outcome]:
        """One transaction on a kept connection to `destination`, else on a new one made
        from `new_client`. A kept connection the server has closed meanwhile is replaced at
        once.

        Errors in connecting and in a new connection's transaction are the caller's to judge
        (try the next MX host, say); the connection is closed before they propagate.
        """
        session = self._take(destination)
        if session is not None:
            try:
                return await self._run(destination, session, sender, recipients, raw, kept=True)
            except _Dropped:
                pass  # closed by _run; nothing was sent, so a new connection is safe
        client = new_client()
        await client.connect()  # closes the client itself if it fails
        session = _Session(client, self._clock())
        return await self._run(destination, session, sender, recipients, raw, kept=False)

    async def _run(
        self,
        destination: Destination,
        session: _Session,
        sender: str,
        recipients: Sequence[str],
        raw: bytes,
        *,
        kept: bool,
    ) -> dict[str, Outcome]:
        try:
            finished = await _transaction(session.client, sender, recipients, raw, kept=kept)
            keep = self._usable(session) and (
                not finished.open_transaction or await _reset(session.client)
            )
        except BaseException:
            session.client.close()
            raise
        if keep:
            self._keep(destination, session)
        else:
            self._retire(session)
        return finished.outcomes

    def _take(self, destination: Destination) -> _Session | None:
        idle = self._idle.get(destination)
        while idle:
            session = idle.pop()
            if session.expiry is not None:
                session.expiry.cancel()
            if self._usable(session):
                return session
            self._retire(session)
        return None

    def _usable(self, session: _Session) -> bool:
        return (
            self.idle_seconds > 0
            and session.client.is_connected
            and self._clock() - session.opened < self.max_age_seconds
        )

    def _keep(self, destination: Destination, session: _Session) -> None:
        loop = asyncio.get_running_loop()
        session.expiry = loop.call_later(self.idle_seconds, self._expire, destination, session)
        self._idle[destination].append(session)

    def _expire(self, destination: Destination, session: _Session) -> None:
        idle = self._idle.get(destination)
        if idle and session in idle:
            idle.remove(session)
        self._retire(session)

    def _retire(self, session: _Session) -> None:
        """Let go of a connection no longer wanted: QUIT if it still works, else just close."""
        if not session.client.is_connected:
            session.client.close()
            return
        task = asyncio.get_running_loop().create_task(_goodbye(session.client))
        self._goodbyes.add(task)
        task.add_done_callback(self._goodbyes.discard)

    async def close(self) -> None:
        """Say goodbye on every kept connection (at shutdown), and wait for goodbyes already
        under way."""
        for idle in self._idle.values():
            for session in idle:
                if session.expiry is not None:
                    session.expiry.cancel()
                self._retire(session)
        self._idle.clear()
        if self._goodbyes:
            await asyncio.gather(*self._goodbyes)
