"""Received bytes to a `ParsedMessage`: headers, addresses, bodies, attachments, reply text.

Header sections and header values go through the standard library's `email` package
(`policy.default` for decoding). The multipart tree is walked here, iteratively and with
limits, because the stdlib parser recurses once per nesting level and re-checks every open
boundary on every line: a few hundred nested parts overflow its stack or make it
quadratic. Several of its header parsers are quadratic too, so every value is bounded
before it reaches them.

Malformed mail never raises: it gives the best parse and says what was odd in
`parse_warnings` (short codes, some with a detail after ": "). Only input that cannot be
a message at all (empty, larger than `MAX_MESSAGE_BYTES`), or an internal failure, raises
the one declared error, `MimeParseError`, so the SMTP listener can answer 5xx.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import TypeVar

from tidings_server.errors import ValidationFailed
from tidings_server.mime.header_classes import HEADERS as _HEADERS
from tidings_server.mime.htmltext import MAX_HTML_CHARS, html_to_text
from tidings_server.mime.quotes import extract_reply

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # far above any SMTP size limit we would announce
MAX_MIME_DEPTH = 20  # real mail nests 3-6 deep; deeper multiparts are skipped, with a warning
MAX_PARTS = 500  # parts visited in total (containers and leaves)
MAX_HEADER_SECTION_BYTES = 256 * 1024  # per part; beyond it the rest counts as body
MAX_HEADERS = 1000  # header fields reported in `headers`
MAX_HEADER_CHARS = 16 * 1024  # longer values are truncated before decoding (quadratic parsers)
MAX_PARAM_HEADER_CHARS = 2048  # Content-Type / Content-Disposition, ditto
MAX_PARAMS = 64  # parameters read from one Content-Type / Content-Disposition
MAX_ADDRESS_CHARS = 256  # one address in a list; longer ones are truncated
MAX_ADDRESSES = 500  # addresses read from all address headers together
MAX_REFERENCES = 100  # the first (thread root) and the newest 99 are kept
MAX_ID_CHARS = 998  # longest Message-ID kept (the RFC 5322 line limit)
MAX_WARNINGS = 50
PREVIEW_CHARS = 200

_ADDRESS_HEADERS = ("from", "sender", "to", "cc", "bcc", "reply-to")
_MSG_ID = re.compile(r"<[^<>\s]{1,996}>")
_BARE_ID = re.compile(r"[^<>\s@]+@[^<>\s@]+")
_ENCODED_WORD_CHARSET = re.compile(r"=\?([^?*\s]{1,80})((?:\*[^?\s]*)?\?[bBqQ]\?)")
_RFC2231_CHARSET = re.compile(r"(\*=\s*\"?)([^'\"\s;]{1,80})'")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_HEADER_NEWLINE = re.compile(r"[\r\n]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_WHITESPACE = re.compile(r"\s+")
_MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_BASE64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")
_HEADER_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:")
# A line inside the header section that is neither a field nor a continuation.
_NON_HEADER_LINE = re.compile(rb"^(?![\x21-\x39\x3b-\x7e]+[ \t]*:|[ \t]|$)", re.MULTILINE)
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r(?=[ \t])")
# What the stdlib's header parsers would hand back unchanged, recognised without running
# them (they were a third of parsing a typical message): printable ASCII text without an
# encoded word, and a dot-atom address, bare or after a display name of plain words.
_PLAIN_TEXT = re.compile(r"[\x20-\x7e\t]*")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(
    rf"(?:([A-Za-z0-9]+(?: +[A-Za-z0-9]+)*) *<)?({_ATOM}(?:\.{_ATOM})*)"
    r"@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)(?(1)>)"
)

# Labels mail clients use that Python spells differently, or whose Python codec would
# decode differently from what the sender meant.
_CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",  # mislabelled GBK is common; GB18030 is a superset of both
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "unicode-1-1-utf-7": "utf-7",
    "x-sjis": "shift_jis",
    "ansi_x3.4-1968": "ascii",
    "us-ascii": "ascii",
    "iso-8859-1": "cp1252",  # what "latin-1" mail almost always really is (WHATWG does this too)
    "latin1": "cp1252",
}
# Codecs Python has but that are not charsets, or whose decoders are quadratic (punycode).
_REFUSED_CODECS = frozenset(
    {"punycode", "idna", "unicode_escape", "raw_unicode_escape", "undefined", "mbcs", "oem"}
)


_T = TypeVar("_T")


class MimeParseError(ValidationFailed):
    """The bytes are not a message we can store (the SMTP listener answers 554)."""

    code = "unparseable_message"
    fix = "Send an RFC 5322 message: header fields, a blank line, then the body."


@dataclass(frozen=True)
class Address:
    """One mailbox: display name ("" if none) and address (domain lowercased)."""

    name: str
    address: str


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str | None
    content_type: str
    content: bytes = field(repr=False)
    content_id: str | None  # without angle brackets, as `cid:` URLs in HTML refer to it
    inline: bool

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class ParsedMessage:
    """What a received message says. Message ids keep their angle brackets: `<id@host>`."""

    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    from_: tuple[Address, ...]
    sender: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    subject: str
    date: datetime | None  # always timezone-aware
    headers: tuple[tuple[str, str], ...]  # every field in order, decoded and unfolded
    body_text: str | None
    body_html: str | None
    preview: str
    extracted_text: str | None
    attachments: tuple[ParsedAttachment, ...]
    parse_warnings: tuple[str, ...]
    size: int


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse one received message; malformed input gives its best parse plus warnings."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MimeParseError("A message must be bytes.", param="raw")
    data = bytes(raw)
    if len(data) > MAX_MESSAGE_BYTES:
        raise MimeParseError(
            f"The message is larger than {MAX_MESSAGE_BYTES} bytes.", code="message_too_large"
        )
    if not data.strip():
        raise MimeParseError("The message is empty.", code="empty_message")
    try:
        return _Parser(data).parse()
    except MimeParseError:
        raise
    except Exception as exc:  # a bug or an unforeseen stdlib failure: still the declared error
        raise MimeParseError(f"The message could not be parsed ({type(exc).__name__}).") from exc


# -- the parser ---------------------------------------------------------------------------


@dataclass
class _Part:
    """One MIME part still to visit: its bytes (LF line endings) and where it sits."""

    data: bytes
    depth: int
    default_type: str = "text/plain"


class _Parser:
    def __init__(self, data: bytes) -> None:
        self.size = len(data)
        self.warnings: list[str] = []
        self.data = self._normalise_line_endings(data)
        self.parts_seen = 0
        self.addresses_read = 0
        self.texts: list[str] = []
        self.htmls: list[str] = []
        self.attachments: list[ParsedAttachment] = []

    def warn(self, code: str, detail: str | None = None) -> None:
        text = code if detail is None else f"{code}: {_clean(detail)[:100]}"
        if text not in self.warnings and len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(text)

    def _normalise_line_endings(self, data: bytes) -> bytes:
        # Everything below works on LF-only text. Bare CR is not a line ending in RFC 5322,
        # but mail that has it meant one; binary parts are base64 in practice, so
        # rewriting line endings does not damage attachments.
        # Counted rather than searched for: a pattern with a lookaround tests every byte, a
        # count runs at memory speed. Each CRLF holds one CR and one LF, so any more are bare.
        pairs = data.count(b"\r\n")
        if data.count(b"\r") > pairs:
            self.warn("bare_cr")
        if pairs and data.count(b"\n") > pairs:
            self.warn("bare_lf")
        return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")

    # -- structure ----------------------------------------------------------------------

    def parse(self) -> ParsedMessage:
        top_headers, top_body = self._split_part(self.data)
        raw_fields = [(str(name), str(value)) for name, value in top_headers.raw_items()]
        if not raw_fields:
            self.warn("no_headers")
        self._walk(top_headers, top_body)
        return self._result(raw_fields)

    def _walk(self, top_headers: Message, top_body: bytes) -> None:
        """Visit parts depth-first, in document order, with an explicit stack."""
        stack: list[tuple[Message, bytes, _Part]] = [
            (top_headers, top_body, _Part(b"", depth=0)),
        ]
        while stack:
            headers, body, part = stack.pop()
            self.parts_seen += 1
            if self.parts_seen > MAX_PARTS:
                self.warn("too_many_parts")
                return
            children = self._visit(headers, body, part)
            for child in reversed(children):
                child_headers, child_body = self._split_part(child.data)
                stack.append((child_headers, child_body, child))

    def _split_part(self, data: bytes) -> tuple[Message, bytes]:
        """Header fields (via the stdlib parser) and the body bytes of one part."""
        start = 0
        if data.startswith(b"From ") and not _HEADER_LINE.match(data):
            newline = data.find(b"\n")  # an mbox separator line, not a field
            start = len(data) if newline == -1 else newline + 1
        if data.startswith(b"\n", start):
            return Message(), data[start + 1 :]
        blank = data.find(b"\n\n", start, start + MAX_HEADER_SECTION_BYTES + 2)
        if blank != -1:
            head_end, body_start = blank + 1, blank + 2
        elif len(data) - start <= MAX_HEADER_SECTION_BYTES:
            head_end = body_start = len(data)
        else:
            self.warn("header_section_too_large")
            newline = data.rfind(b"\n", start, start + MAX_HEADER_SECTION_BYTES)
            head_end = body_start = start if newline == -1 else newline + 1
        stray = _NON_HEADER_LINE.search(data, start, head_end)
        if stray is not None:
            # A line that is neither a field nor a continuation ends the section early;
            # like the stdlib parser, treat it and everything after it as body.
            self.warn("malformed_header_section")
            head_end = body_start = stray.start()
        # compat32 keeps the values as they arrived; they are decoded (with bounds) below.
        head = data[start:head_end]
        headers = BytesParser(policy=policy.compat32).parsebytes(head, headersonly=True)
        return headers, data[body_start:]

    def _visit(self, headers: Message, body: bytes, part: _Part) -> list[_Part]:
        content_type, params = self._content_type(headers, part.default_type)
        if content_type.startswith("multipart/"):
            if part.depth >= MAX_MIME_DEPTH:
                self.warn("mime_too_deep")
                return []
            boundary = params.get("boundary")
            children = self._split_multipart(body, boundary) if boundary else None
            if children is not None:
                default = "message/rfc822" if content_type == "multipart/digest" else "text/plain"
                return [_Part(child, part.depth + 1, default) for child in children]
            self.warn("missing_boundary" if not boundary else "boundary_not_found")
            content_type = "text/plain"  # show what is there rather than nothing
        try:
            self._leaf(headers, body, content_type, params)
        except Exception as exc:  # one bad part must not cost the rest of the message
            self.warn("unreadable_part", type(exc).__name__)
        return []

    def _split_multipart(self, body: bytes, boundary: str) -> list[bytes] | None:
        """The bodies between boundary lines; None when no boundary line appears at all.

        A delimiter is a line "--boundary", optionally followed by "--" (the closing one)
        and spaces (RFC 2046 section 5.1.1). The line break before a delimiter belongs to
        it, not to the part.
        """
        try:
            marker = boundary.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return None
        delimiter = re.compile(rb"^--" + re.escape(marker) + rb"(--)?[ \t]*$", re.MULTILINE)
        parts: list[bytes] = []
        start: int | None = None
        closed = False
        for match in delimiter.finditer(body):
            if start is not None:
                parts.append(body[start : max(start, match.start() - 1)])
            if match.group(1):
                closed = True
                break
            if len(parts) >= MAX_PARTS:
                self.warn("too_many_parts")
                return parts
            start = match.end() + 1
        else:
            if start is None:
                return None
            parts.append(body[start:])
        if not closed:
            self.warn("missing_closing_boundary")
        return parts

    # -- leaves -------------------------------------------------------------------------

    def _leaf(
        self, headers: Message, body: bytes, content_type: str, params: dict[str, str]
    ) -> None:
        disposition, disposition_params = self._disposition(headers)
        filename = disposition_params.get("filename") or params.get("name")
        filename = _clean_filename(filename) if filename else None
        content = self._decode_transfer(headers, body)
        is_body = (
            content_type in ("text/plain", "text/html")
            and disposition != "attachment"
            and not filename
        )
        if is_body:
            text = _clean_text(self._decode_text(content, params.get("charset")))
            (self.texts if content_type == "text/plain" else self.htmls).append(text)
            return
        content_id = _header_str(headers, "content-id", MAX_ID_CHARS + 2)
        if content_id is not None:
            content_id = _clean(content_id).strip().strip("<>").strip() or None
        inline = disposition == "inline" or (disposition is None and content_id is not None)
        self.attachments.append(
            ParsedAttachment(
                filename=filename,
                content_type=content_type,
                content=content,
                content_id=content_id,
                inline=inline,
            )
        )

    def _content_type(self, headers: Message, default: str) -> tuple[str, dict[str, str]]:
        value = _header_str(headers, "content-type", MAX_PARAM_HEADER_CHARS)
        if value is None:
            return default, {}
        content_type, params = self._params(value, "content-type")
        if not _MIME_TYPE.match(content_type):
            self.warn("invalid_content_type", content_type)
            return "text/plain", params  # RFC 2045 section 5.2: unreadable means text/plain
        return content_type, params

    def _disposition(self, headers: Message) -> tuple[str | None, dict[str, str]]:
        value = _header_str(headers, "content-disposition", MAX_PARAM_HEADER_CHARS)
        if value is None:
            return None, {}
        disposition, params = self._params(value, "content-disposition")
        return (disposition if disposition in ("inline", "attachment") else None), params

    def _params(self, value: str, name: str) -> tuple[str, dict[str, str]]:
        """The value before the first ";" and the parameters, RFC 2231 and RFC 2047 decoded.

        Parameters go through `policy.default`'s structured header, which joins RFC 2231
        continuations and decodes their charsets; the value is bounded first because that
        parser is quadratic on some inputs.
        """
        value = _sanitise_header(value)
        if value.count(";") > MAX_PARAMS:
            value = ";".join(value.split(";", MAX_PARAMS + 1)[: MAX_PARAMS + 1])
        main = value.split(";", 1)[0].strip().lower()
        try:
            header = _HEADERS(name, value)
            params = {
                key.lower(): _clean(_decode_words(str(val)))
                for key, val in getattr(header, "params", {}).items()
            }
        except Exception as exc:
            self.warn("unreadable_header", f"{name} ({type(exc).__name__})")
            params = {}
        return main, params

    def _decode_transfer(self, headers: Message, body: bytes) -> bytes:
        encoding = (_header_str(headers, "content-transfer-encoding", 100) or "").strip().lower()
        if encoding == "base64":
            # Lenient like mail clients: stop at padding, skip junk, re-pad what is left.
            cleaned = _BASE64_JUNK.sub(b"", body.split(b"=", 1)[0])
            if len(cleaned) % 4 == 1:
                cleaned = cleaned[:-1]
            cleaned += b"=" * (-len(cleaned) % 4)
            try:
                return base64.b64decode(cleaned)
            except (binascii.Error, ValueError):
                self.warn("invalid_base64")
                return body
        if encoding == "quoted-printable":
            return quopri.decodestring(body)
        if encoding in ("", "7bit", "8bit", "binary"):
            return body
        self.warn("unknown_transfer_encoding", encoding)
        return body

    def _decode_text(self, content: bytes, charset: str | None) -> str:
        if charset:
            codec = _codec(charset)
            if codec is None:
                self.warn("unknown_charset", charset)
            else:
                try:
                    return content.decode(codec, "replace")
                except Exception:
                    self.warn("unknown_charset", charset)
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError:
            if charset is None:
                self.warn("undeclared_8bit_text")
            return content.decode("cp1252", "replace")

    # -- header fields ------------------------------------------------------------------

    def _header_fields(self, raw_fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Every top-level field, decoded and unfolded, in order."""
        fields: list[tuple[str, str]] = []
        for index, (name, raw) in enumerate(raw_fields):
            if index >= MAX_HEADERS:
                self.warn("too_many_headers")
                break
            clean_name = _clean(str(name)).strip()
            if len(raw) > MAX_HEADER_CHARS:
                self.warn("header_truncated", clean_name)
            fields.append((clean_name, self._decode_value(clean_name, raw)))
        return fields

    def _decode_value(self, name: str, raw: str) -> str:
        value = _sanitise_header(_unfold(raw)[:MAX_HEADER_CHARS])
        if "=?" in value or not _PLAIN_TEXT.fullmatch(value):
            decoded = _attempt(lambda: str(_HEADERS("x-unstructured", value)), value)
        else:
            decoded = value
        if _HEADER_NEWLINE.search(decoded):
            # An encoded word decoding to a line break: a header injection attempt, or a
            # broken mailer. Either way a header value is one line.
            self.warn("line_break_in_header", name)
        return _WHITESPACE.sub(" ", _clean(decoded)).strip()

    def _addresses(self, raw_values: list[str], name: str) -> tuple[Address, ...]:
        found: list[Address] = []
        for raw in raw_values:
            value = _sanitise_header(_unfold(raw)[:MAX_HEADER_CHARS])
            for candidate in _split_addresses(value):
                if self.addresses_read >= MAX_ADDRESSES:
                    self.warn("too_many_addresses")
                    return tuple(found)
                self.addresses_read += 1
                found.extend(self._address(candidate[:MAX_ADDRESS_CHARS], name))
        return tuple(found)

    def _address(self, candidate: str, name: str) -> list[Address]:
        plain = _PLAIN_ADDRESS.fullmatch(candidate)
        if plain is not None:
            display, local, domain = plain.groups()
            display = _WHITESPACE.sub(" ", display or "")
            return [Address(name=display, address=f"{local}@{domain.lower()}")]
        return self._library_address(candidate, name)

    def _library_address(self, candidate: str, name: str) -> list[Address]:
        try:
            # Parsed as "To" whatever the field: From and Sender would refuse some garbage.
            parsed = _HEADERS("to", candidate).addresses  # type: ignore[attr-defined]
        except Exception:
            self.warn("unreadable_address", name)
            return []
        result: list[Address] = []
        for item in parsed:
            local = _clean(item.username or "").strip()
            domain = _clean(item.domain or "").strip().lower()
            if not local and not domain:
                continue
            if not domain:
                self.warn("address_without_domain", name)
            address = f"{local}@{domain}" if domain else local
            display = _WHITESPACE.sub(" ", _clean(item.display_name or "")).strip()
            result.append(Address(name=display, address=address))
        return result

    def _result(self, raw_fields: list[tuple[str, str]]) -> ParsedMessage:
        fields = self._header_fields(raw_fields)
        by_name: dict[str, list[str]] = {}
        for name, raw in raw_fields:
            by_name.setdefault(name.strip().lower(), []).append(raw)

        def first(name: str) -> str | None:
            values = by_name.get(name)
            return values[0] if values else None

        addresses = {
            name: self._addresses(by_name.get(name, []), name) for name in _ADDRESS_HEADERS
        }
        decoded = {name.lower(): value for name, value in reversed(fields)}
        subject = decoded.get("subject", "")
        message_id = self._message_id(first("message-id"), "message-id")
        in_reply_to = self._message_id(first("in-reply-to"), "in-reply-to")
        references = self._references(by_name.get("references", []))
        date = self._date(first("date"))
        for name, code in (("from", "missing_from"), ("date", "missing_date")):
            if name not in by_name:
                self.warn(code)
        if "message-id" not in by_name:
            self.warn("missing_message_id")

        body_text = "\n".join(self.texts) if self.texts else None
        body_html = "\n".join(self.htmls) if self.htmls else None
        readable = body_text
        if readable is None and body_html is not None:
            if len(body_html) > MAX_HTML_CHARS:
                self.warn("html_truncated_for_text")
            html = body_html
            readable = _attempt(lambda: _clean_text(html_to_text(html)), None)
        extracted: str | None = None
        if readable is not None:
            text = readable
            extracted = _attempt(lambda: extract_reply(text), text)
        preview = _WHITESPACE.sub(" ", (readable or "")[: PREVIEW_CHARS * 8]).strip()
        senders = addresses["sender"]
        return ParsedMessage(
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=references,
            from_=addresses["from"],
            sender=senders[0] if senders else None,
            to=addresses["to"],
            cc=addresses["cc"],
            bcc=addresses["bcc"],
            reply_to=addresses["reply-to"],
            subject=subject,
            date=date,
            headers=tuple(fields),
            body_text=body_text,
            body_html=body_html,
            preview=preview[:PREVIEW_CHARS].rstrip(),
            extracted_text=extracted,
            attachments=tuple(self.attachments),
            parse_warnings=tuple(self.warnings),
            size=self.size,
        )

    def _message_id(self, raw: str | None, name: str) -> str | None:
        if raw is None:
            return None
        value = _unfold(raw)[:MAX_HEADER_CHARS]
        match = _MSG_ID.search(value)
        if match is None:
            bare = _BARE_ID.search(value)
            if bare is None or len(bare.group()) > MAX_ID_CHARS - 2:
                self.warn("invalid_message_id", name)
                return None
            self.warn("message_id_without_brackets", name)
            return _clean(f"<{bare.group()}>")
        return _clean(match.group())

    def _references(self, raws: list[str]) -> tuple[str, ...]:
        ids = [_clean(m) for raw in raws for m in _MSG_ID.findall(_unfold(raw))]
        if len(ids) > MAX_REFERENCES:
            self.warn("references_truncated")
            ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
        return tuple(ids)

    def _date(self, raw: str | None) -> datetime | None:
        if raw is None:
            return None
        value = _sanitise_header(_unfold(raw)[:200])
        try:
            parsed: datetime | None = _HEADERS("date", value).datetime  # type: ignore[attr-defined]
        except Exception:
            parsed = None
        if parsed is None:
            self.warn("invalid_date")
            return None
        # "-0000" means "zone unknown" (RFC 5322 section 3.3); UTC is the honest reading.
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# -- helpers ------------------------------------------------------------------------------


def _attempt(compute: Callable[[], _T], fallback: _T) -> _T:
    """`compute()`, or `fallback` when the stdlib trips over hostile input."""
    try:
        return compute()
    except Exception:
        return fallback


def _header_str(headers: Message, name: str, limit: int) -> str | None:
    """The first `name` field of a part as it arrived (unfolded, bounded), or None."""
    for key, value in headers.raw_items():
        if str(key).strip().lower() == name:
            return _unfold(str(value))[:limit]
    return None


def _unfold(value: str) -> str:
    return _FOLD.sub("", value).strip("\r\n")


def _sanitise_header(value: str) -> str:
    """A header value made safe to hand to the stdlib's parsers.

    Raw 8-bit bytes (RFC 6532 UTF-8 headers, or legacy single-byte ones) arrive as
    surrogate escapes and become real text; charsets whose Python codec is not a text
    charset (or is quadratic, like punycode) are renamed so the stdlib treats them as
    unknown rather than running them.
    """
    if _SURROGATES.search(value):
        try:
            octets = value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            octets = value.encode("utf-8", "replace")
        try:
            value = octets.decode("utf-8")
        except UnicodeDecodeError:
            value = octets.decode("cp1252", "replace")
    if "=?" in value:
        value = _ENCODED_WORD_CHARSET.sub(_safe_charset_word, value)
    if "*=" in value:
        value = _RFC2231_CHARSET.sub(lambda m: m.group(1) + _safe_charset(m.group(2)) + "'", value)
    return value


def _safe_charset_word(match: re.Match[str]) -> str:
    return f"=?{_safe_charset(match.group(1))}{match.group(2)}"


def _safe_charset(name: str) -> str:
    codec = _codec(name)
    if codec is None:
        return "unknown-8bit"
    return name if name.lower() not in _CHARSET_ALIASES else codec


def _codec(charset: str) -> str | None:
    """The Python codec for a MIME charset label, or None if there is no safe one."""
    label = charset.strip().strip('"').lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    if info.name in _REFUSED_CODECS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def _decode_words(value: str) -> str:
    """Decode RFC 2047 words left inside a parameter (Outlook quotes them; RFC forbids)."""
    if "=?" not in value:
        return value
    return _attempt(lambda: str(_HEADERS("x-unstructured", _sanitise_header(value))), value)


def _split_addresses(value: str) -> Iterator[str]:
    """Split an address list at top-level commas; group names ("team: a, b;") dropped.

    Linear, so that the stdlib's (sometimes quadratic) parser only ever sees one address.
    """
    depth_angle = depth_paren = 0
    quoted = escaped = False
    start = 0
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif depth_paren:  # comments nest (RFC 5322 section 3.2.2)
            depth_paren += {"(": 1, ")": -1}.get(char, 0)
        elif char == '"':
            quoted = True
        elif char == "(":
            depth_paren = 1
        elif char == "<":
            depth_angle += 1
        elif char == ">":
            depth_angle = max(0, depth_angle - 1)
        elif depth_angle:
            continue
        elif char in ",;":
            piece = value[start:index].strip()
            if piece:
                yield piece
            start = index + 1
        elif char == ":":
            start = index + 1  # "group-name:" opens a group; the name is not an address
    piece = value[start:].strip()
    if piece:
        yield piece


def _clean(text: str) -> str:
    """Text safe to store: no lone surrogates, no NUL (PostgreSQL rejects it in text)."""
    if _SURROGATES.search(text):
        text = _SURROGATES.sub("\ufffd", text)
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _clean_text(text: str) -> str:
    return _clean(text.replace("\r\n", "\n").replace("\r", "\n"))


def _clean_filename(name: str) -> str | None:
    """Only the last path component, without control characters, at most 255 characters."""
    name = _CONTROL.sub("", _clean(name)).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:255] or None
