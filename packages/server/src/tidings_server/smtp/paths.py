"""SMTP paths (`MAIL FROM:<...>`, `RCPT TO:<...>`) in their plain form, read without the email
package.

aiosmtpd reads every path with the email package's header parser and defines a class on each
call: about 7% of receiving a 4 KiB message. Nearly every path is a plain `<local@domain>`:
`plain_path` reads that form with one regular expression, and answers None for every other
(quoted local parts, source routes, address literals, UTF-8, comments, the null path), which
aiosmtpd then reads as before. Where it answers, it answers what aiosmtpd would.
"""

from __future__ import annotations

import re

# RFC 5321's Dot-string local part (atext, RFC 5322) and a domain of letters, digits and
# hyphens: a subset of what the email package reads the same way, character for character.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9-]+"
_PLAIN = re.compile(rf"<({_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*)>")


def plain_path(arg: str) -> tuple[str, str] | None:
    """(the address, what follows its `>` and any white space) for a path of the plain
    form, else None."""
    match = _PLAIN.match(arg)
    if match is None:
        return None
    # The email package takes the white space after `>` with the path, and a comment too.
    rest = arg[match.end() :].lstrip(" \t")
    if rest.startswith("("):
        return None
    return match.group(1), rest
