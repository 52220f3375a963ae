"""Subject lines without reply and forward prefixes, for threading and for composing replies.

Mail clients prefix subjects in their UI language ("AW:", "SV:", "回复:"), repeat and mix
the prefixes ("RE: Fwd: AW: ..."), and some count replies ("Re[2]:", "Re^3:"). Threading
compares the normalised subject; replies and forwards add exactly one English prefix back.
"""

from __future__ import annotations

import re
import unicodedata

# Reply and forward prefixes as mail clients write them, lowercase (matching ignores case).
# Single letters such as Italian "R:" are left out on purpose: they are too easily a real
# subject ("R: the language").
_PREFIX_WORDS = (
    # reply
    "re",  # English, Latin; most clients everywhere
    "aw",  # German (Antwort)
    "antw",  # Dutch, German
    "antwort",
    "sv",  # Swedish, Danish, Norwegian (svar)
    "vs",  # Finnish (vastaus)
    "ynt",  # Turkish (yanıt)
    "odp",  # Polish (odpowiedź)
    "odg",  # Croatian, Slovenian
    "res",  # Portuguese (resposta)
    "rif",  # Italian (riferimento)
    "réf",  # French (référence)
    "ref",
    "vá",  # Hungarian (válasz)
    "atb",  # Latvian
    "hv",  # Icelandic
    "απ",  # Greek
    "σχετ",  # Greek
    "отв",  # Russian
    "回复",  # Chinese (simplified)
    "答复",
    "回覆",  # Chinese (traditional)
    "返信",  # Japanese
    "답장",  # Korean
    # forward
    "fw",
    "fwd",
    "wg",  # German (weitergeleitet)
    "tr",  # French (transféré)
    "rv",  # Spanish (reenviado)
    "enc",  # Portuguese (encaminhado)
    "doorst",  # Dutch (doorsturen)
    "vb",  # Dutch (verzonden bericht)
    "vl",  # Finnish (välitetty)
    "vid",  # Swedish (vidarebefordrat)
    "pd",  # Polish (przekazanie dalej)
    "továbbítás",  # Hungarian
    "πρθ",  # Greek
    "转发",  # Chinese (simplified)
    "轉寄",  # Chinese (traditional)
    "転送",  # Japanese
    "전달",  # Korean
)

# One prefix: the word, an optional counter ("Re[2]", "Re(2)", "Re^2"), a colon (ASCII or
# full-width), then spaces. Bracketed counters without a word are not prefixes.
_PREFIX = re.compile(
    r"\s*(?:"
    + "|".join(sorted((re.escape(w) for w in _PREFIX_WORDS), key=len, reverse=True))
    + r")\s*(?:\[\d{1,4}\]|\(\d{1,4}\)|\^\d{1,4})?\s*[:：]\s*",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")


def normalize_subject(subject: str) -> str:
    """The subject without any leading reply/forward prefixes, whitespace collapsed.

    >>> normalize_subject("RE: Fwd: AW: Re[2]:  Quarterly   report")
    'Quarterly report'
    """
    text = unicodedata.normalize("NFC", subject)
    text = _SPACES.sub(" ", text).strip()
    position = 0
    # Match at a moving position rather than re-slicing, so "Re: " * 100_000 stays linear.
    while (match := _PREFIX.match(text, position)) is not None:
        position = match.end()
    return text[position:]


def reply_subject(subject: str) -> str:
    """The subject of a reply: exactly one `Re: ` before the normalised subject."""
    return f"Re: {normalize_subject(subject)}".rstrip()


def forward_subject(subject: str) -> str:
    """The subject of a forward: exactly one `Fwd: ` before the normalised subject."""
    return f"Fwd: {normalize_subject(subject)}".rstrip()
