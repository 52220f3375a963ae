"""The aiosmtpd handler: SMTP verbs in, `MailReceiver` calls, SMTP replies out."""

from __future__ import annotations

import logging

from aiosmtpd.smtp import SMTP, Envelope, Session

from tidings_server.mail.receiving import MailReceiver, Verdict
from tidings_server.mime import MimeParseError

log = logging.getLogger("tidings.smtp")

_REPLIES = {
    Verdict.NO_SUCH_USER: "550 5.1.1 No such mailbox here",
    Verdict.FOREIGN_DOMAIN: "550 5.7.1 Relaying denied: this server only accepts its own domains",
    Verdict.ROUTING_TRICK: "550 5.7.1 Relaying denied: routed addresses are not accepted",
}


class HostedMailHandler:
    def __init__(self, receiver: MailReceiver, *, max_recipients: int) -> None:
        self.receiver = receiver
        self.max_recipients = max_recipients

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return "452 4.5.3 Too many recipients"
        verdict, normalised = await self.receiver.check_recipient(address)
        if verdict is not Verdict.ACCEPT:
            return _REPLIES[verdict]
        envelope.rcpt_tos.append(normalised)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode()
        try:
            stored = await self.receiver.receive(envelope.mail_from, envelope.rcpt_tos, raw)
        except MimeParseError as exc:
            # Retrying the same bytes cannot help: refuse permanently, having stored nothing.
            return f"554 5.6.0 Message refused: {exc.message}"
        except Exception:
            log.exception("could not store a message from %s", envelope.mail_from)
            return "451 4.3.0 Could not store the message; try again later"
        if not stored:
            return "550 5.1.1 No such mailbox here"
        return f"250 2.0.0 OK {' '.join(stored)}"
