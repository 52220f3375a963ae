"""build_message: standard MIME out, and no way to smuggle a header in (CVE-2024-6923)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from tidings_server.mime import (
    Address,
    HeaderInjection,
    InvalidAddress,
    InvalidMessage,
    OutgoingAttachment,
    build_message,
    parse_message,
)

EVIL_WORD = "=?utf-8?q?x=0ABcc:_evil@example.com?="


def header_names(raw: bytes) -> list[str]:
    """The top-level field names exactly as serialized, continuation lines skipped."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    return [
        line.split(b":", 1)[0].decode().lower()
        for line in head.split(b"\r\n")
        if line and line[:1] not in (b" ", b"\t")
    ]


def simple(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "from_": Address("Ana", "ana@tidings.test"),
        "to": ["bob@example.net"],
        "subject": "Hello",
        "domain": "tidings.test",
        "body_text": "Hi Bob",
    }
    fields.update(overrides)
    return fields


# -- structure ----------------------------------------------------------------------------


def test_a_text_message_has_the_standard_headers() -> None:
    built = build_message(
        from_=Address("Ana Lima", "ana@tidings.test"),
        to=["Bob Stone <bob@example.net>"],
        cc=[Address("", "carla@example.org")],
        subject="Quarterly report",
        body_text="Numbers attached.\n",
        domain="tidings.test",
        date=datetime(2024, 1, 9, 12, 0, tzinfo=UTC),
    )
    message = message_from_bytes(built.raw, policy=policy.default)

    assert message["From"] == "Ana Lima <ana@tidings.test>"
    assert message["To"] == "Bob Stone <bob@example.net>"
    assert message["Cc"] == "carla@example.org"
    assert message["Date"] == "Tue, 09 Jan 2024 12:00:00 +0000"
    assert message["MIME-Version"] == "1.0"
    assert built.message_id.endswith("@tidings.test>")
    assert message["Message-ID"] == built.message_id
    assert message.get_content_type() == "text/plain"
    assert built.recipients == ("bob@example.net", "carla@example.org")
    assert built.sender == "ana@tidings.test"
    assert built.smtputf8 is False
    assert b"\n" not in built.raw.replace(b"\r\n", b"")  # CRLF only, ready for SMTP


def test_bcc_is_an_envelope_recipient_but_never_a_header() -> None:
    built = build_message(**simple(bcc=["hidden@example.org", "BOB@example.net"]))

    assert built.recipients == ("bob@example.net", "hidden@example.org")
    assert "bcc" not in header_names(built.raw)
    assert b"hidden@example.org" not in built.raw


def test_text_and_html_make_alternative_and_attachments_make_mixed() -> None:
    built = build_message(
        **simple(
            body_html='<p>Hi <img src="cid:logo@tidings.test"></p>',
            attachments=[
                OutgoingAttachment("logo.png", "image/png", b"\x89PNG", "logo@tidings.test"),
                OutgoingAttachment("Straße Bericht.pdf", "application/pdf", b"%PDF"),
            ],
        )
    )
    message = message_from_bytes(built.raw, policy=policy.default)
    assert isinstance(message, EmailMessage)

    assert message.get_content_type() == "multipart/mixed"
    body, attachment = message.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    text, related = body.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, logo = related.iter_parts()
    assert html.get_content_type() == "text/html"
    assert logo["Content-ID"] == "<logo@tidings.test>"
    assert logo.get_content_disposition() == "inline"
    assert attachment.get_filename() == "Straße Bericht.pdf"
    assert b"filename*=utf-8''Stra%C3%9Fe%20Bericht.pdf" in built.raw  # RFC 2231
    assert b"MIME-Version" not in built.raw.split(b"\r\n\r\n", 1)[1]


def test_non_ascii_headers_are_encoded_words() -> None:
    built = build_message(
        **simple(subject="Grüße aus München", from_=Address("Jörg", "j@tidings.test"))
    )

    head = built.raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert b"=?utf-8?" in head
    assert parse_message(built.raw).subject == "Grüße aus München"


def test_international_addresses_use_smtputf8_and_a_labels() -> None:
    built = build_message(**simple(to=["Jörg <jörg@bücher.example>"]))

    assert built.smtputf8 is True
    assert built.recipients == ("jörg@xn--bcher-kva.example",)
    assert "To: Jörg <jörg@xn--bcher-kva.example>".encode() in built.raw


def test_replies_carry_in_reply_to_and_references() -> None:
    built = build_message(
        **simple(in_reply_to="parent@example.org", references=["<root@example.org>"])
    )
    parsed = parse_message(built.raw)

    assert parsed.in_reply_to == "<parent@example.org>"
    assert parsed.references == ("<root@example.org>", "<parent@example.org>")


def test_round_trip_build_then_parse() -> None:
    built = build_message(
        from_="Ana Lima <ana@tidings.test>",
        to=["bob@example.net", Address("Carla, Weiss", "carla@example.org")],
        reply_to=["support@tidings.test"],
        subject="Re: Vertrag – Entwurf 2",
        body_text="Looks good to me.\n\n-- \nAna",
        body_html="<p>Looks good to me.</p>",
        attachments=[OutgoingAttachment("entwurf.txt", "text/plain", "Entwurf ü".encode())],
        headers={"X-Tidings-Agent": "contracts-bot"},
        domain="tidings.test",
    )
    parsed = parse_message(built.raw)

    assert parsed.message_id == built.message_id
    assert parsed.from_ == (Address("Ana Lima", "ana@tidings.test"),)
    assert parsed.to == (
        Address("", "bob@example.net"),
        Address("Carla, Weiss", "carla@example.org"),
    )
    assert parsed.reply_to == (Address("", "support@tidings.test"),)
    assert parsed.subject == "Re: Vertrag – Entwurf 2"
    assert parsed.body_text == "Looks good to me.\n\n-- \nAna\n"
    assert parsed.body_html == "<p>Looks good to me.</p>\n"
    assert parsed.extracted_text == "Looks good to me."
    (attachment,) = parsed.attachments
    assert (attachment.filename, attachment.content) == ("entwurf.txt", "Entwurf ü".encode())
    assert ("X-Tidings-Agent", "contracts-bot") in parsed.headers
    assert parsed.parse_warnings == ()


# -- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"to": ["not-an-address"]}, "to[0]"),
        ({"to": ["a@localhost"]}, "to[0]"),
        ({"to": ["a b@example.org"]}, "to[0]"),
        ({"cc": ["ok@example.org", "x@-bad-.example"]}, "cc[1]"),
        ({"from_": "@example.org"}, "from"),
    ],
)
def test_invalid_addresses_name_the_field(overrides: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidAddress) as caught:
        build_message(**simple(**overrides))
    assert caught.value.param == param
    assert caught.value.status == 422


@pytest.mark.parametrize(
    ("overrides", "param", "code"),
    [
        ({"to": []}, "to", "invalid_message"),
        ({"headers": {"Bcc": "x@example.org"}}, "headers.Bcc", "reserved_header"),
        ({"headers": {"Bad Name": "x"}}, "headers.Bad Name", "invalid_message"),
        ({"in_reply_to": "<not an id>"}, "in_reply_to", "invalid_message"),
        ({"date": datetime(2024, 1, 1)}, "date", "invalid_message"),
        ({"subject": "bell\x07"}, "subject", "invalid_message"),
        ({"body_text": "nul\x00"}, "body_text", "invalid_message"),
        (
            {"attachments": [OutgoingAttachment("a.bin", "not a type", b"")]},
            "attachments[0].content_type",
            "invalid_message",
        ),
    ],
)
def test_invalid_fields_name_the_field(overrides: dict[str, object], param: str, code: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        build_message(**simple(**overrides))
    assert (caught.value.param, caught.value.code) == (param, code)


# -- header injection (CVE-2024-6923) -----------------------------------------------------

INJECTIONS = [
    "x\r\nBcc: evil@example.com",
    "x\nBcc: evil@example.com",
    "x\rBcc: evil@example.com",
    "x\x00y",
    "x\u2028Bcc: evil@example.com",
    EVIL_WORD,
    "Re: " + EVIL_WORD + " " + "padding " * 12,  # long enough to be re-folded
    "=?utf-8?b?eA0KQmNjOiBldmlsQGV4YW1wbGUuY29t?=",  # base64 "x\r\nBcc: evil@example.com"
    "=?UTF-8?Q?x=0D=0AX-Injected:_1?=",
]


def test_this_interpreter_would_inject_without_tidings_checks() -> None:
    """Documents the threat: plain `email` folds the decoded newline into a real header.

    On a fixed interpreter (3.11.10+, 3.12.5+) the stdlib refuses instead; both are fine,
    the point is that Tidings does not depend on which one runs.
    """
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = EVIL_WORD
    message.set_content("x")
    try:
        raw = message.as_bytes()
    except Exception:
        return  # a patched interpreter
    if sys.version_info < (3, 11, 10):
        # The newline is a bare LF, which receiving MTAs and parsers read as a line end.
        assert message_from_bytes(raw, policy=policy.default)["Bcc"] == "evil@example.com"


@pytest.mark.parametrize("value", INJECTIONS)
def test_subject_injection_is_refused(value: str) -> None:
    with pytest.raises(HeaderInjection) as caught:
        build_message(**simple(subject=value))
    assert caught.value.param == "subject"
    assert caught.value.code == "header_injection"


@pytest.mark.parametrize("value", INJECTIONS)
@pytest.mark.parametrize(
    ("field", "make", "param"),
    [
        ("from_", lambda v: Address(v, "ana@tidings.test"), "from"),
        ("to", lambda v: [Address(v, "bob@example.net")], "to[0]"),
        ("to", lambda v: [f'"{v}" <bob@example.net>'], "to[0]"),
        ("cc", lambda v: [f"bob{v}@example.net"], "cc[0]"),
        ("reply_to", lambda v: [Address("ok", f"r@ex{v}ample.net")], "reply_to[0]"),
        ("headers", lambda v: {"X-Note": v}, "headers.X-Note"),
        (
            "attachments",
            lambda v: [OutgoingAttachment(f"{v}.pdf", "application/pdf", b"")],
            "attachments[0].filename",
        ),
        (
            "attachments",
            lambda v: [OutgoingAttachment("a.png", "image/png", b"", f"<{v}>")],
            "attachments[0].content_id",
        ),
        ("in_reply_to", lambda v: f"<{v}@example.org>", "in_reply_to"),
        ("references", lambda v: [f"<{v}@example.org>"], "references[0]"),
    ],
)
def test_injection_is_refused_in_every_header_value(
    value: str, field: str, make: object, param: str
) -> None:
    assert callable(make)
    with pytest.raises(InvalidMessage) as caught:
        build_message(**simple(**{field: make(value)}))
    # Values that cannot even form an address may be refused as invalid rather than as an
    # injection; either way the field is named and nothing is built.
    assert caught.value.param == param


@pytest.mark.parametrize("name", ["X-A\r\nBcc", "X-A\nB", "X-\x00"])
def test_injection_through_a_header_name_is_refused(name: str) -> None:
    with pytest.raises(HeaderInjection):
        build_message(**simple(headers={name: "v"}))


def test_harmless_encoded_words_pass_and_headers_are_only_ours() -> None:
    built = build_message(
        **simple(
            subject="=?utf-8?q?caf=C3=A9?= " + "long " * 30,
            headers={"X-Note": "=?utf-8?q?ok?="},
        )
    )

    assert sorted(header_names(built.raw)) == sorted(
        [
            *("from", "to", "subject", "date", "message-id", "x-note", "mime-version"),
            *("content-type", "content-transfer-encoding"),
        ]
    )
