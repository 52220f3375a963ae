"""The new part of a reply: the text without quoted history and without the signature.

Own code rather than a library: the maintained candidates are regex-heavy and untested
against hostile input, and this runs on every received message. It is a line scanner,
linear in the text, that knows the common shapes:

- an attribution ("On Mon, 1 Jan 2024, Ana <ana@x> wrote:", "Am ... schrieb ...:", also
  wrapped over up to three lines) followed by `>`-quoted lines (Gmail, Apple Mail,
  Thunderbird);
- Outlook's "-----Original Message-----" (and translations), a line of underscores before a
  "From:" block, or a bare "From: / Sent:" header block (also translated);
- trailing `>`-quoted lines;
- a signature after the "-- " delimiter, and "Sent from my iPhone"-style footers.

A reply written inline (answers between quoted lines) keeps its quotes: cutting at the
first quote would lose the answers.
"""

from __future__ import annotations

import re

# Lines longer than this are never an attribution or a header line; bounding the line also
# bounds the work the regexes below can do.
_MAX_MARKER_LINE = 400
_ATTRIBUTION_LOOKBACK = 2  # an attribution may wrap over this many extra lines
_SIGNATURE_MAX_LINES = 15  # a bare "--" only counts as a delimiter this close to the end

_ATTRIBUTION_END = re.compile(
    r"(?:wrote|writes|schrieb|schreef|a écrit|escribió|escribio|ha scritto|scrisse|pisze"
    r"|napisał\(a\)|napisał|escreveu|skrev|kirjoitti|írta|napsal|написал\(а\)|написал"
    r"|написала|yazdı|写道|寫道|wrote on)\s*[:：]\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_COLONS = ":："
_ATTRIBUTION_START = re.compile(
    r"^(?:on|am|le|el|il|op|em|den|på|w dniu|dne|в|el día|il giorno|em \d|le \d)\b",
    re.IGNORECASE,
)
_ORIGINAL_MESSAGE = re.compile(
    r"^-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine"
    r"|mensaje original|messaggio originale|oorspronkelijk bericht|originalmeddelelse"
    r"|original meddelelse|opprinnelig melding|ursprungligt meddelande|alkuperäinen viesti"
    r"|mensagem original|wiadomość oryginalna|původní zpráva|исходное сообщение"
    r"|原始邮件|原始郵件)\s*-{2,}$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^_{10,}$")
# A header line in a quoted Outlook block; "*From:*" is how bold survives html-to-text.
_FROM_LINE = re.compile(
    r"^\*?(?:from|von|de|da|van|från|fra|lähettäjä|od|от|kimden|发件人|寄件者|差出人)\s*\*?\s*[:：]",
    re.IGNORECASE,
)
_SENT_LINE = re.compile(
    r"^\*?(?:sent|date|gesendet|datum|envoyé|enviado|fecha|inviato|data|verzonden|skickat"
    r"|sendt|lähetetty|wysłano|odesláno|отправлено|gönderildi|发送时间|日期|傳送時間|送信日時)"
    r"\s*\*?\s*[:：]",
    re.IGNORECASE,
)
_FORWARD_MARKER = re.compile(
    r"^(?:-{2,}\s*(?:forwarded message|weitergeleitete nachricht|message transféré"
    r"|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht)\s*-{2,}"
    r"|begin forwarded message:|anfang der weitergeleiteten nachricht:)$",
    re.IGNORECASE,
)
_MOBILE_FOOTER = re.compile(
    r"^(?:sent from my \S.*|sent from (?:mail|outlook) for \S.*|get outlook for \S.*"
    r"|sent from (?:yahoo mail|proton ?mail|gmail mobile).*|von meinem \S.* gesendet"
    r"|envoyé de mon \S.*|enviado desde mi \S.*|inviato da \S.*|verzonden vanaf mijn \S.*)$",
    re.IGNORECASE,
)


def extract_reply(text: str) -> str:
    """The text the sender wrote for this message, without quoted history or signature."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _quote_header(lines)
    if cut is not None:
        lines = lines[:cut]
    lines = _without_trailing_quote(lines)
    lines = _without_signature(lines)
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _quote_header(lines: list[str]) -> int | None:
    """Index of the first line of quoted history, if the text has a recognisable one."""
    quotes_only_after: list[bool] | None = None  # worked out once an attribution turns up
    for index, line in enumerate(lines):
        stripped = line.strip()
        # Every marker below starts with "-" or "_" or holds a colon; most lines of a body
        # do neither, and this spares them the pattern matching (a third of parsing 100 KiB).
        if not stripped or (
            stripped[0] not in "-_" and ":" not in stripped and "：" not in stripped
        ):
            continue
        if len(stripped) > _MAX_MARKER_LINE or _is_quoted(stripped):
            continue
        if _ORIGINAL_MESSAGE.match(stripped):
            return index
        if _UNDERSCORES.match(stripped) and any(
            _FROM_LINE.match(following.strip()) for following in lines[index + 1 : index + 3]
        ):
            return index
        if (
            _FROM_LINE.match(stripped)
            and any(
                _SENT_LINE.match(following.strip()) for following in lines[index + 1 : index + 5]
            )
            and not _after_forward_marker(lines, index)
        ):
            return index
        # Only a top-posted reply is cut at its attribution: when unquoted text follows the
        # quotes the reply was written inline, and cutting would drop the answers.
        # An attribution ends in a colon: testing that first spares the unanchored search,
        # which tries every alternative at every position.
        if stripped[-1] in _ATTRIBUTION_COLONS and _ATTRIBUTION_END.search(stripped):
            if quotes_only_after is None:
                quotes_only_after = _quotes_only_after(lines)
            if quotes_only_after[index + 1]:
                return _attribution_start(lines, index)
    return None


def _quotes_only_after(lines: list[str]) -> list[bool]:
    """For each index i: lines[i:] hold at least one quoted line and nothing unquoted."""
    result = [False] * (len(lines) + 1)
    seen_quote, seen_text = False, False
    for index in range(len(lines) - 1, -1, -1):
        stripped = lines[index].strip()
        if _is_quoted(stripped):
            seen_quote = True
        elif stripped:
            seen_text = True
        result[index] = seen_quote and not seen_text
    return result


def _after_forward_marker(lines: list[str], index: int) -> bool:
    """A "From:/Date:" block under "Forwarded message" is content being passed on, keep it."""
    previous = [line.strip() for line in lines[max(0, index - 3) : index] if line.strip()]
    return bool(previous) and _FORWARD_MARKER.match(previous[-1]) is not None


def _attribution_start(lines: list[str], end: int) -> int:
    """Where an attribution ending on line `end` begins (clients wrap long ones)."""
    for start in range(max(0, end - _ATTRIBUTION_LOOKBACK), end + 1):
        if _ATTRIBUTION_START.match(lines[start].strip()) and all(
            lines[i].strip() for i in range(start, end + 1)
        ):
            return start
    return end


def _without_trailing_quote(lines: list[str]) -> list[str]:
    end = len(lines)
    while end and (not lines[end - 1].strip() or _is_quoted(lines[end - 1])):
        end -= 1
    return lines[:end]


def _without_signature(lines: list[str]) -> list[str]:
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        # "-- " (with its space) is the standard delimiter (RFC 3676 section 4.3); a bare
        # "--" is common too but also appears in prose, so only near the end.
        if line == "-- " or (line.strip() == "--" and len(lines) - index <= _SIGNATURE_MAX_LINES):
            lines = lines[:index]
            break
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    if end and _MOBILE_FOOTER.match(lines[end - 1].strip()):
        end -= 1
    return lines[:end]
