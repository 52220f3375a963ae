"""MIME: received bytes to structured messages, outgoing messages to standard MIME bytes.

`parse_message` never crashes on malformed mail (best parse plus `parse_warnings`, or the
one declared `MimeParseError`); `build_message` refuses anything that could inject a
header (CR, LF or NUL anywhere, including inside RFC 2047 encoded words).
"""

from tidings_server.mime.build import (
    BuiltMessage,
    HeaderInjection,
    InvalidAddress,
    InvalidMessage,
    OutgoingAttachment,
    build_message,
)
from tidings_server.mime.parse import (
    Address,
    MimeParseError,
    ParsedAttachment,
    ParsedMessage,
    parse_message,
)
from tidings_server.mime.subjects import forward_subject, normalize_subject, reply_subject

__all__ = [
    "Address",
    "BuiltMessage",
    "HeaderInjection",
    "InvalidAddress",
    "InvalidMessage",
    "MimeParseError",
    "OutgoingAttachment",
    "ParsedAttachment",
    "ParsedMessage",
    "build_message",
    "forward_subject",
    "normalize_subject",
    "parse_message",
    "reply_subject",
]
