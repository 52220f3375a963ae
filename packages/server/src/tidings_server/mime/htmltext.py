"""Readable plain text from an HTML body, for previews and reply extraction of HTML-only mail.

Block elements become line breaks, list items get "- ", and `<blockquote>` content is
prefixed with "> " so the quote stripper sees the same shape as in plain-text mail.
Scripts, styles and the document head are dropped.

The tokenizer is a small one of our own, not `html.parser`: on this interpreter that one
is quadratic on unclosed tags (200,000 "<a" take minutes; CVE-2025-6069) and raises
AssertionError on some declarations. Text extraction needs tags, comments and text only,
and finding each with `str.find` keeps the whole pass linear. (html2text is GPL.)
"""

from __future__ import annotations

import re
from html import unescape

MAX_HTML_CHARS = 2 * 1024 * 1024  # only this much of a body is converted

_SKIP = frozenset({"script", "style", "head", "title", "noscript", "template", "svg"})
_BLOCK = frozenset(
    {
        "address", "article", "aside", "center", "dd", "div", "dl", "dt", "fieldset",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "li", "main", "nav", "ol", "p", "section", "table", "tbody",
        "thead", "tfoot", "tr", "ul",
    }
)  # fmt: skip
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"})
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base"})
_WHITESPACE = re.compile(r"\s+")


_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]{0,30})")
_RAW_TEXT_END = {tag: re.compile(rf"</{tag}\s*>", re.IGNORECASE) for tag in ("script", "style")}


class _TextBuilder:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.quote_depth = 0

    def flush(self, *, force: bool = False) -> None:
        text = "".join(self.current)
        if self.pre_depth == 0:
            text = text.strip()
        self.current = []
        if text or force:
            self.lines.append("> " * self.quote_depth + text if self.quote_depth else text)

    def blank_line(self) -> None:
        self.flush()
        if self.lines and self.lines[-1].strip("> "):
            self.lines.append(">" * self.quote_depth if self.quote_depth else "")

    def handle_starttag(self, tag: str, *, self_closing: bool = False) -> None:
        if tag in _SKIP:
            if not self_closing:
                self.skip_depth += 1
            return
        if tag == "body":
            self.skip_depth = 0  # an unclosed <head> or <title> must not hide the body
            return
        if tag == "br":
            self.flush(force=True)
        elif tag == "blockquote":
            self.blank_line()
            self.quote_depth += 1
        elif tag == "pre":
            self.flush()
            self.pre_depth += 1
        elif tag in _BLOCK:
            self.flush()
            if tag == "li":
                self.current.append("- ")
        elif tag in ("td", "th"):
            self.current.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag == "blockquote":
            self.flush()
            self.quote_depth = max(0, self.quote_depth - 1)
            self.blank_line()
        elif tag == "pre":
            self.flush()
            self.pre_depth = max(0, self.pre_depth - 1)
        elif tag in _PARAGRAPH:
            self.blank_line()
        elif tag in _BLOCK:
            self.flush()

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            first, *rest = data.split("\n")
            self.current.append(first)
            for line in rest:
                self.flush(force=True)
                self.current.append(line)
            return
        self.current.append(_WHITESPACE.sub(" ", data))

    def feed(self, html: str) -> None:
        """Tokenize: every step moves forward with `find`/`match`, so this is linear."""
        position, end = 0, len(html)
        while position < end:
            start = html.find("<", position)
            if start == -1:
                self.handle_data(unescape(html[position:]))
                return
            if start > position:
                self.handle_data(unescape(html[position:start]))
            if html.startswith("<!--", start):
                close = html.find("-->", start + 4)
                position = end if close == -1 else close + 3
                continue
            match = _TAG_NAME.match(html, start)
            if match is None:
                if html.startswith(("<!", "<?"), start):  # doctype, CDATA, processing
                    close = html.find(">", start)
                    position = end if close == -1 else close + 1
                else:  # a lone "<" is text
                    self.handle_data("<")
                    position = start + 1
                continue
            close = html.find(">", match.end())
            if close == -1:
                return  # an unclosed tag at the end: nothing readable follows
            position = close + 1
            closing, tag = match.group(1), match.group(2).lower()
            if closing:
                self.handle_endtag(tag)
                continue
            self_closing = html[close - 1] == "/"
            self.handle_starttag(tag, self_closing=self_closing)
            if tag in _RAW_TEXT_END and not self_closing:
                # Script and style bodies are not markup: skip to their end tag.
                found = _RAW_TEXT_END[tag].search(html, position)
                position = end if found is None else found.end()
                self.handle_endtag(tag)


def html_to_text(html: str) -> str:
    """Plain text for `html`: one line per block, blank lines between paragraphs."""
    builder = _TextBuilder()
    builder.feed(html[:MAX_HTML_CHARS])
    builder.flush()
    lines = [line.rstrip() for line in builder.lines]
    # Collapse runs of blank lines that nested blocks leave behind.
    out: list[str] = []
    for line in lines:
        if not line.strip("> ") and out and not out[-1].strip("> "):
            continue
        out.append(line)
    return "\n".join(out).strip("\n")
