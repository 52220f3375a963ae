"""Outgoing messages as standard MIME bytes, refusing anything that could inject a header.

`build_message` writes Message-ID (on our domain), Date, In-Reply-To and References;
picks multipart/alternative for text+html, multipart/related for inline parts referred to
by `cid:`, and multipart/mixed for attachments; encodes non-ASCII headers (RFC 2047 and
RFC 2231, or raw UTF-8 when an address needs SMTPUTF8). Bcc goes to the envelope only.

Header injection is refused here, not left to the `email` package: this interpreter's
generator (CVE-2024-6923) re-folds decoded RFC 2047 words without quoting line breaks, so
a subject like "=?utf-8?q?x=0ABcc:_evil@example.com?=" would come out as a Bcc header.
Every value is checked raw and after decoding encoded words, and the serialized header
section is checked once more against the fields this module set.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address as HeaderAddress
from email.message import MIMEPart
from email.utils import format_datetime

import idna

from tidings_server.errors import ValidationFailed
from tidings_server.mime.header_classes import HEADERS as _HEADERS
from tidings_server.mime.parse import Address

MAX_SUBJECT_CHARS = 998
MAX_DISPLAY_NAME_CHARS = 200
MAX_REFERENCES = 50  # the thread root and the newest 49 (RFC 5322 3.6.4 allows trimming)
MAX_EXTRA_HEADERS = 50
MAX_HEADER_VALUE_CHARS = 4000

# Characters that end a header line somewhere: CR and LF, and what Python's str.splitlines
# (used inside the email package) also treats as a line break. NUL is refused with them.
_LINE_BREAKING = re.compile(r"[\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_OTHER_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1b\x1f\x7f]")
_HEADER_NAME = re.compile(r"^[!-9;-~]{1,76}$")  # RFC 5322 ftext
_MIME_TYPE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$"
)
_ID_TOKEN = re.compile(r"^[!-;=?-~]{1,900}$")  # printable ASCII without "<", ">" and space
_ATEXT_LOCAL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\U0010ffff-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\U0010ffff-]+)*$"
)
_LDH_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_HEADER_LINE = re.compile(rb"^([!-9;-~]+):")

# Set by this module (or derived from the body); callers may not pass them in `headers`.
_RESERVED_HEADERS = frozenset(
    {
        "from", "sender", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id",
        "in-reply-to", "references", "mime-version", "content-type",
        "content-transfer-encoding", "content-disposition", "content-id", "return-path",
        "received", "dkim-signature", "arc-seal", "arc-message-signature",
        "arc-authentication-results", "authentication-results", "resent-from", "resent-to",
        "resent-cc", "resent-bcc", "resent-date", "resent-message-id", "resent-sender",
    }
)  # fmt: skip


class InvalidMessage(ValidationFailed):
    """A field of an outgoing message is not acceptable; `param` names it."""

    code = "invalid_message"
    fix = "Correct the field named in `param` and send again."


class HeaderInjection(InvalidMessage):
    """A value would end its header line (CR, LF, NUL, or an encoded word decoding to one)."""

    code = "header_injection"
    fix = "Remove line breaks and NUL characters (also inside =?...?= encoded words)."


class InvalidAddress(InvalidMessage):
    code = "invalid_address"
    fix = "Use a plain address such as name@example.com, optionally with a display name."


@dataclass(frozen=True)
class OutgoingAttachment:
    filename: str
    content_type: str
    content: bytes = field(repr=False)
    content_id: str | None = None  # given: an inline part the HTML refers to as cid:<id>


@dataclass(frozen=True)
class BuiltMessage:
    raw: bytes = field(repr=False)  # CRLF line endings, ready for SMTP DATA
    message_id: str  # with angle brackets, as in the header
    recipients: tuple[str, ...]  # envelope RCPT TO: to + cc + bcc, deduplicated, in order
    sender: str  # the envelope MAIL FROM address (the From address)
    smtputf8: bool  # an address has a non-ASCII local part: relay with SMTPUTF8


AddressInput = Address | str


def build_message(
    *,
    from_: AddressInput,
    to: Sequence[AddressInput],
    subject: str,
    domain: str,
    cc: Sequence[AddressInput] = (),
    bcc: Sequence[AddressInput] = (),
    reply_to: Sequence[AddressInput] = (),
    body_text: str | None = None,
    body_html: str | None = None,
    attachments: Sequence[OutgoingAttachment] = (),
    headers: Mapping[str, str] | None = None,
    system_headers: Sequence[tuple[str, str]] = (),
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    message_id: str | None = None,
    date: datetime | None = None,
) -> BuiltMessage:
    """A complete outgoing message. Raises `InvalidMessage` (or a subclass) naming the field.

    `domain` is ours: the Message-ID is minted on it unless `message_id` is given.
    Address inputs are `Address(name, address)` or strings ("a@x", "Ana <a@x>").
    `headers` come from the caller (reserved names refused); `system_headers` are the
    sender's own (a name may repeat), checked only for safe values.
    """
    sender = _address(from_, "from")
    to_list = [_address(a, f"to[{i}]") for i, a in enumerate(to)]
    cc_list = [_address(a, f"cc[{i}]") for i, a in enumerate(cc)]
    bcc_list = [_address(a, f"bcc[{i}]") for i, a in enumerate(bcc)]
    reply_list = [_address(a, f"reply_to[{i}]") for i, a in enumerate(reply_to)]
    if not (to_list or cc_list or bcc_list):
        raise InvalidMessage("A message needs at least one recipient.", param="to")
    everyone = [sender, *to_list, *cc_list, *bcc_list, *reply_list]
    smtputf8 = any(not a.addr_spec.isascii() for a in everyone)

    subject = _header_text(subject, "subject", MAX_SUBJECT_CHARS)
    domain_ascii = _domain(domain, "domain")
    own_id = _message_id(message_id, "message_id") if message_id else _new_message_id(domain_ascii)
    parent = _message_id(in_reply_to, "in_reply_to") if in_reply_to else None
    chain = [_message_id(r, f"references[{i}]") for i, r in enumerate(references)]
    if parent and parent not in chain:
        chain.append(parent)  # References = parent's References + parent's Message-ID
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    if date is not None and date.tzinfo is None:
        raise InvalidMessage("The date must carry a timezone.", param="date")
    extra = _extra_headers(headers or {})
    extra += [
        (n, _header_text(v, f"headers.{n}", MAX_HEADER_VALUE_CHARS)) for n, v in system_headers
    ]

    # 7bit bodies (quoted-printable or base64 when needed) pass every relay; with SMTPUTF8
    # the relay is modern by definition and headers may be raw UTF-8.
    chosen = (policy.SMTPUTF8 if smtputf8 else policy.SMTP).clone(
        cte_type="7bit", header_factory=_HEADERS
    )
    # MIMEPart rather than EmailMessage: the latter stamps MIME-Version on every subpart.
    message = MIMEPart(policy=chosen)
    message["From"] = sender
    if to_list:
        message["To"] = to_list
    if cc_list:
        message["Cc"] = cc_list
    if reply_list:
        message["Reply-To"] = reply_list
    message["Subject"] = subject
    message["Date"] = format_datetime((date or datetime.now(UTC)).astimezone(UTC))
    message["Message-ID"] = own_id
    if parent:
        message["In-Reply-To"] = parent
    if chain:
        message["References"] = " ".join(chain)
    for name, value in extra:
        message[name] = value
    message["MIME-Version"] = "1.0"
    _set_body(message, body_text, body_html, attachments)

    raw = message.as_bytes(policy=chosen)
    _verify_header_section(raw, [name.lower() for name in message])
    recipients: list[str] = []
    seen: set[str] = set()
    for address in (*to_list, *cc_list, *bcc_list):
        if address.addr_spec.lower() not in seen:
            seen.add(address.addr_spec.lower())
            recipients.append(address.addr_spec)
    return BuiltMessage(
        raw=raw,
        message_id=own_id,
        recipients=tuple(recipients),
        sender=sender.addr_spec,
        smtputf8=smtputf8,
    )


# -- values -------------------------------------------------------------------------------


def _check_line(value: str, param: str) -> None:
    """Refuse a value that could end a header line, raw or once encoded words are decoded."""
    if _LINE_BREAKING.search(value):
        raise HeaderInjection(f"`{param}` contains a line break or NUL.", param=param)
    if "=?" in value:
        try:
            decoded = str(_HEADERS("x-check", value))
        except Exception as exc:
            raise InvalidMessage(f"`{param}` is not a valid header value.", param=param) from exc
        if _LINE_BREAKING.search(decoded):
            raise HeaderInjection(
                f"`{param}` contains an encoded word that decodes to a line break or NUL.",
                param=param,
            )


def _header_text(value: str, param: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidMessage(f"`{param}` must be a string.", param=param)
    _check_line(value, param)
    if _OTHER_CONTROL.search(value):
        raise InvalidMessage(f"`{param}` contains control characters.", param=param)
    if len(value) > limit:
        raise InvalidMessage(f"`{param}` is longer than {limit} characters.", param=param)
    return value


def _address(value: AddressInput, param: str) -> HeaderAddress:
    if isinstance(value, Address):
        name, spec = value.name, value.address
    elif isinstance(value, str):
        name, spec = _split_address_string(value, param)
    else:
        raise InvalidAddress(f"`{param}` must be an address.", param=param)
    name = _header_text(name, param, MAX_DISPLAY_NAME_CHARS).strip()
    _check_line(spec, param)
    spec = spec.strip()
    local, at, host = spec.rpartition("@")
    if not at or not local:
        raise InvalidAddress(f"`{param}` is not an address: {spec!r}.", param=param)
    if len(local.encode()) > 64 or not _ATEXT_LOCAL.match(local):
        raise InvalidAddress(f"`{param}` has an invalid local part: {local!r}.", param=param)
    domain = _domain(host, param)
    try:
        return HeaderAddress(display_name=name, username=local, domain=domain)
    except Exception as exc:
        raise InvalidAddress(f"`{param}` is not a valid address.", param=param) from exc


def _split_address_string(value: str, param: str) -> tuple[str, str]:
    """ "Ana <ana@x>" or "ana@x" into (name, address), refusing injection first."""
    _check_line(value, param)
    text = value.strip()
    if text.endswith(">") and "<" in text:
        name, _, spec = text[:-1].rpartition("<")
        name = name.strip()
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        return name, spec
    return "", text


def _domain(value: str, param: str) -> str:
    """The domain in ASCII (IDNA 2008 A-labels), lowercased; refuses anything else."""
    _check_line(value, param)
    host = value.strip().rstrip(".").lower()
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise InvalidAddress(
                f"`{param}` has an invalid domain: {value!r}.", param=param
            ) from exc
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LDH_LABEL.match(lb) for lb in labels):
        raise InvalidAddress(f"`{param}` has an invalid domain: {value!r}.", param=param)
    return host


def _message_id(value: str, param: str) -> str:
    if not isinstance(value, str):
        raise InvalidMessage(f"`{param}` must be a message id string.", param=param)
    _check_line(value, param)
    token = value.strip()
    if token.startswith("<") and token.endswith(">"):
        token = token[1:-1]
    if not _ID_TOKEN.match(token):
        raise InvalidMessage(f"`{param}` is not a message id: {value!r}.", param=param)
    return f"<{token}>"


def _new_message_id(domain: str) -> str:
    # Time first (hex milliseconds) so ids sort roughly by creation; 80 random bits after.
    return f"<{time.time_ns() // 1_000_000:x}.{secrets.token_hex(10)}@{domain}>"


def _extra_headers(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    if len(headers) > MAX_EXTRA_HEADERS:
        raise InvalidMessage(f"At most {MAX_EXTRA_HEADERS} extra headers.", param="headers")
    result: list[tuple[str, str]] = []
    for name, value in headers.items():
        param = f"headers.{name}"
        if not isinstance(name, str) or _LINE_BREAKING.search(name):
            raise HeaderInjection("A header name contains a line break or NUL.", param=param)
        if not _HEADER_NAME.match(name):
            raise InvalidMessage(f"`{name}` is not a valid header name.", param=param)
        if name.lower() in _RESERVED_HEADERS:
            raise InvalidMessage(
                f"`{name}` is set by Tidings; use the matching field instead.",
                param=param,
                code="reserved_header",
            )
        result.append((name, _header_text(value, param, MAX_HEADER_VALUE_CHARS)))
    return result


# -- body ---------------------------------------------------------------------------------


def _set_body(
    message: MIMEPart,
    body_text: str | None,
    body_html: str | None,
    attachments: Sequence[OutgoingAttachment],
) -> None:
    for param, body in (("body_text", body_text), ("body_html", body_html)):
        if body is not None and "\x00" in body:
            raise InvalidMessage(f"`{param}` contains NUL characters.", param=param)
    checked = [_attachment(a, f"attachments[{i}]") for i, a in enumerate(attachments)]
    if body_html is not None and body_text is not None:
        message.set_content(body_text)
        message.add_alternative(body_html, subtype="html")
        html_part: MIMEPart | None = list(message.iter_parts())[1]
    elif body_html is not None:
        message.set_content(body_html, subtype="html")
        html_part = message
    else:
        message.set_content(body_text or "")
        html_part = None
    for attachment, maintype, subtype, _param in checked:
        if attachment.content_id and html_part is not None:
            # Inline parts sit next to the HTML that refers to them (RFC 2387).
            html_part.add_related(
                attachment.content,
                maintype=maintype,
                subtype=subtype,
                cid=f"<{attachment.content_id}>",
                filename=attachment.filename,
                disposition="inline",
            )
    for attachment, maintype, subtype, param in checked:
        if attachment.content_id and html_part is not None:
            continue
        try:
            message.add_attachment(
                attachment.content,
                maintype=maintype,
                subtype=subtype,
                filename=attachment.filename,
                cid=f"<{attachment.content_id}>" if attachment.content_id else None,
            )
        except (TypeError, ValueError, KeyError) as exc:
            raise InvalidMessage(f"`{param}` cannot be attached.", param=param) from exc


def _attachment(
    attachment: OutgoingAttachment, param: str
) -> tuple[OutgoingAttachment, str, str, str]:
    _header_text(attachment.filename, f"{param}.filename", 255)
    if not attachment.filename.strip():
        raise InvalidMessage("An attachment needs a filename.", param=f"{param}.filename")
    _check_line(attachment.content_type, f"{param}.content_type")
    if not _MIME_TYPE.match(attachment.content_type):
        raise InvalidMessage("Not a MIME type.", param=f"{param}.content_type")
    maintype, subtype = attachment.content_type.lower().split("/")
    if maintype in ("multipart", "message"):
        # Their bodies may not be base64 (RFC 2046 5.2.1); attach them as opaque files.
        maintype, subtype = "application", "octet-stream"
    if attachment.content_id is not None:
        _check_line(attachment.content_id, f"{param}.content_id")
        cid = attachment.content_id.strip().strip("<>")
        if not _ID_TOKEN.match(cid):
            raise InvalidMessage("Not a valid Content-ID.", param=f"{param}.content_id")
        attachment = OutgoingAttachment(
            attachment.filename, attachment.content_type, attachment.content, cid
        )
    if not isinstance(attachment.content, bytes | bytearray):
        raise InvalidMessage("Attachment content must be bytes.", param=f"{param}.content")
    return attachment, maintype, subtype, param


# -- the last line of defence -------------------------------------------------------------


def _verify_header_section(raw: bytes, expected: list[str]) -> None:
    """The serialized top-level fields are exactly the ones set, each on its own lines.

    Catches any injection the checks above might have missed (a future stdlib change, a
    path not thought of): a field that was not set means a value broke out of its line.
    """
    head = raw.split(b"\r\n\r\n", 1)[0]
    found: list[str] = []
    for line in head.split(b"\r\n"):
        if b"\r" in line or b"\n" in line or b"\x00" in line:
            raise HeaderInjection("A header value holds a bare line break.", param="headers")
        if line[:1] in (b" ", b"\t"):
            continue  # continuation of the previous field
        match = _HEADER_LINE.match(line)
        if match is None:
            raise HeaderInjection("A header line broke out of its field.", param="headers")
        found.append(match.group(1).decode("ascii").lower())
    if sorted(found) != sorted(expected):
        raise HeaderInjection("A header value broke out of its field.", param="headers")
