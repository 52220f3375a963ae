"""Running the SMTP server on the process's event loop, and stopping it cleanly."""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path

from tidings_server.mail.receiving import MailReceiver
from tidings_server.smtp.handler import HostedMailHandler
from tidings_server.smtp.protocol import SmtpProtocol


class SmtpListener:
    def __init__(
        self,
        receiver: MailReceiver,
        *,
        host: str,
        port: int,
        hostname: str,
        max_message_bytes: int,
        max_recipients: int,
        tls_cert: Path | None = None,
        tls_key: Path | None = None,
        sock: socket.socket | None = None,
    ) -> None:
        """`sock`, a socket already listening (shared by several processes), overrides
        `host` and `port`."""
        self.handler = HostedMailHandler(receiver, max_recipients=max_recipients)
        self.host = host
        self.port = port
        self.hostname = hostname
        self.max_message_bytes = max_message_bytes
        self.sock = sock
        self.tls_context = None
        if tls_cert is not None:
            self.tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls_context.load_cert_chain(tls_cert, tls_key)
        self._server: asyncio.Server | None = None

    def _protocol(self) -> SmtpProtocol:
        return SmtpProtocol(
            self.handler,
            hostname=self.hostname,
            data_size_limit=self.max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            tls_context=self.tls_context,
            timeout=300,
        )

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self.sock is not None:
            # A socket shared by several processes: one connection per wakeup, so that a copy
            # that is waiting takes the next one (see cli.sockets, which keeps the queue).
            self._server = await loop.create_server(self._protocol, sock=self.sock, backlog=1)
        else:
            self._server = await loop.create_server(self._protocol, self.host, self.port)

    @property
    def bound_port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
