"""Which identity handles are acceptable as the local part of a hosted address."""

from __future__ import annotations

import re

from tidings_server.errors import ValidationFailed

MAX_HANDLE_LENGTH = 64
_ALLOWED = re.compile(r"[a-z0-9.-]+")

# RFC 2142 mailbox names, plus the ones mail software itself answers for.
RESERVED_HANDLES = frozenset(
    {
        "abuse", "ftp", "hostmaster", "info", "marketing", "news", "noc", "postmaster",
        "sales", "security", "support", "usenet", "uucp", "webmaster", "www",
        "mailer-daemon", "root", "nobody",
    }
)  # fmt: skip


def validate_handle(handle: str) -> str:
    """Return the handle if it may name a mailbox, else raise a precise 422."""

    def invalid(message: str, code: str = "invalid_handle") -> ValidationFailed:
        return ValidationFailed(
            message,
            code=code,
            param="handle",
            fix="Use 1-64 lowercase letters, digits, dots or dashes, e.g. `support-bot`.",
        )

    if not 1 <= len(handle) <= MAX_HANDLE_LENGTH:
        raise invalid(f"A handle is 1 to {MAX_HANDLE_LENGTH} characters long.")
    if not _ALLOWED.fullmatch(handle):
        raise invalid("A handle may contain only lowercase letters, digits, '.' and '-'.")
    if handle.startswith(".") or handle.endswith(".") or ".." in handle:
        raise invalid("A handle cannot start or end with '.' or contain '..'.")
    if handle in RESERVED_HANDLES:
        raise ValidationFailed(
            f"The handle {handle!r} is reserved for the mail system (RFC 2142).",
            code="reserved_handle",
            param="handle",
            fix="Choose another handle, for example one ending in `-bot`.",
        )
    return handle
