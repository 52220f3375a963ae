"""aiosmtpd's SMTP protocol with two faster paths: DATA read in blocks (`smtp.data`), and plain
`<local@domain>` paths read without the email package (`smtp.paths`).

Both override aiosmtpd internals (`smtp_DATA` with its reader, writer and handler hook call;
`_getaddr`), so the dependency is pinned to the 1.4 series; the tests drive both over real
sockets and compare each with aiosmtpd's own reading.
"""

from __future__ import annotations

import asyncio
import logging

from aiosmtpd.smtp import MISSING, SMTP

from tidings_server.smtp.data import read_data
from tidings_server.smtp.paths import plain_path

log = logging.getLogger("tidings.smtp")


class SmtpProtocol(SMTP):
    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        found = plain_path(arg)
        if found is None:
            return super()._getaddr(arg)
        address, rest = found
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None  # as aiosmtpd answers a local part over its limit
        return address, rest

    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed():
            return
        if await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            data = await read_data(
                self._reader, size_limit=self.data_size_limit, line_limit=self.line_length_limit
            )
        except (asyncio.CancelledError, asyncio.IncompleteReadError) as exc:
            # The connection went away in the middle: aiosmtpd cancels the session, or the
            # reader saw the end of the stream first.
            log.info("Connection lost during DATA")
            self._writer.close()
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        if data.too_long_line:
            reply = "500 Line too long (see RFC5321 4.5.3.1.6)"
        elif data.too_much:
            reply = "552 Error: Too much mail data"
        else:
            self.envelope.content = data.content
            self.envelope.original_content = data.content
            status = await self._call_handler_hook("DATA")
            reply = "250 OK" if status is MISSING else status
        self._set_post_data_state()  # type: ignore[no-untyped-call]  # unannotated upstream
        await self.push(reply)
