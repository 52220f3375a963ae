"""normalize_subject, reply_subject, forward_subject: prefixes in many languages."""

from __future__ import annotations

import time

import pytest

from tidings_server.mime import forward_subject, normalize_subject, reply_subject


@pytest.mark.parametrize(
    ("subject", "normalized"),
    [
        ("Quarterly report", "Quarterly report"),
        ("Re: Quarterly report", "Quarterly report"),
        ("RE: RE: Quarterly report", "Quarterly report"),
        ("re:Quarterly report", "Quarterly report"),
        ("Fwd: Quarterly report", "Quarterly report"),
        ("FW: Quarterly report", "Quarterly report"),
        ("AW: WG: Vertrag", "Vertrag"),
        ("SV: VS: Möte", "Möte"),
        ("Antw: Offerte", "Offerte"),
        ("TR: Réf: Facture", "Facture"),
        ("Re\u0301f: Facture", "Facture"),  # decomposed é (NFD)
        ("RV: Factura", "Factura"),
        ("回复: 会议", "会议"),
        ("答复：会议", "会议"),  # full-width colon
        ("转发: 会议", "会议"),
        ("Re[2]: Status", "Status"),
        ("Re(3): Status", "Status"),
        ("Re^4: Status", "Status"),
        ("RE : Status", "Status"),  # French spacing
        ("Re: Fwd: AW: RE[2]: FW:  Status   update ", "Status update"),
        ("Re:", ""),
        ("", ""),
        ("Regarding: budget", "Regarding: budget"),  # a word that merely starts like "Re"
        ("Free: tickets", "Free: tickets"),
        ("[list] Re: topic", "[list] Re: topic"),  # list tags are left alone
    ],
)
def test_normalize_subject(subject: str, normalized: str) -> None:
    assert normalize_subject(subject) == normalized


@pytest.mark.parametrize(
    ("subject", "reply", "forward"),
    [
        ("Status", "Re: Status", "Fwd: Status"),
        ("Re: Status", "Re: Status", "Fwd: Status"),
        ("RE: AW: Re[3]: Status", "Re: Status", "Fwd: Status"),
        ("Fwd: Status", "Re: Status", "Fwd: Status"),
        ("", "Re:", "Fwd:"),
    ],
)
def test_reply_and_forward_subjects_carry_exactly_one_prefix(
    subject: str, reply: str, forward: str
) -> None:
    assert reply_subject(subject) == reply
    assert forward_subject(subject) == forward


def test_many_prefixes_stay_linear() -> None:
    started = time.monotonic()

    assert normalize_subject("Re: " * 100_000 + "x") == "x"
    assert time.monotonic() - started < 2
