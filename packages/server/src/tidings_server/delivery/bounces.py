"""Delivery status notifications (RFC 3464) for mail that could not be delivered.

The report goes into the sender's own mailbox as a received message from MAILER-DAEMON, so an
agent sees a bounce the way a person's mail client would.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, make_msgid


@dataclass(frozen=True)
class Failure:
    recipient: str
    code: int | None
    detail: str


def _status(code: int | None) -> str:
    return "5.1.1" if code == 550 else "5.0.0" if code is None else f"{str(code)[0]}.0.0"


def _one_line(text: str) -> str:
    # Remote servers' reply texts end up in header-like fields: never let them break a line.
    return " ".join(text.split())


def _diagnostic(failure: Failure) -> str:
    code = str(failure.code) if failure.code else ""
    return _one_line(f"{code} {failure.detail}")


def build_report(
    *,
    domain: str,
    sender: str,
    original_headers: bytes,
    original_message_id: str | None,
    original_subject: str,
    failures: Sequence[Failure],
    arrival: datetime,
    now: datetime,
) -> bytes:
    """A multipart/report; report-type=delivery-status message for `failures`.

    Assembled by hand: the stdlib generator cannot serialize a message/delivery-status part
    built from scratch, and every value here is ours or flattened to one line.
    """
    boundary = "=_tidings_report_" + secrets.token_hex(12)
    explanation = [
        f"This is the mail system at {domain}.",
        "",
        "Your message could not be delivered to one or more recipients:",
        "",
        *(f"<{f.recipient}>: {_diagnostic(f)}" for f in failures),
        "",
        f"Subject: {_one_line(original_subject)}",
    ]
    status = [f"Reporting-MTA: dns; {domain}", f"Arrival-Date: {format_datetime(arrival)}"]
    for failure in failures:
        status += [
            "",
            f"Final-Recipient: rfc822; {failure.recipient}",
            "Action: failed",
            f"Status: {_status(failure.code)}",
            f"Diagnostic-Code: smtp; {_diagnostic(failure)}",
        ]
    headers = [
        f"From: Mail Delivery System <mailer-daemon@{domain}>",
        f"To: {sender}",
        "Subject: Undelivered Mail Returned to Sender",
        f"Date: {format_datetime(now)}",
        f"Message-ID: {make_msgid(domain=domain)}",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
    ]
    if original_message_id:
        headers += [f"In-Reply-To: {original_message_id}", f"References: {original_message_id}"]
    text = "\r\n".join(explanation).encode("utf-8")
    parts = [
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + text
        + b"\r\n",
        b"Content-Type: message/delivery-status\r\n\r\n"
        + "\r\n".join(status).encode("utf-8")
        + b"\r\n",
        b"Content-Type: text/rfc822-headers\r\n\r\n" + original_headers,
    ]
    delimiter = f"--{boundary}".encode()
    body = b"".join(delimiter + b"\r\n" + part + b"\r\n" for part in parts)
    return "\r\n".join(headers).encode() + b"\r\n\r\n" + body + delimiter + b"--\r\n"
