"""Plain SMTP paths read without the email package: aiosmtpd's own answer, or none at all."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from aiosmtpd.smtp import SMTP
from hypothesis import given
from hypothesis import strategies as st

from tidings_server.smtp.paths import plain_path
from tidings_server.smtp.protocol import SmtpProtocol

ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-"
atoms = st.text(ATEXT, min_size=1, max_size=12)
labels = st.text("abcxyzABC019-", min_size=1, max_size=10)
plain_addresses = st.builds(
    lambda local, domain: f"{'.'.join(local)}@{'.'.join(domain)}",
    st.lists(atoms, min_size=1, max_size=3),
    st.lists(labels, min_size=1, max_size=4),
)
params = st.sampled_from(["", "SIZE=1024", "BODY=8BITMIME SMTPUTF8", "NOTIFY=NEVER", "x"])
spaces = st.text(" \t", max_size=3)


def aiosmtpd_reading(arg: str) -> tuple[str | None, str | None]:
    """What aiosmtpd itself makes of a path (with the email package's parser)."""
    reading: tuple[str | None, str | None] = SMTP._getaddr(SimpleNamespace(local_part_limit=0), arg)
    return reading


@given(plain_addresses, spaces, params)
def test_a_plain_path_is_read_as_aiosmtpd_reads_it(address: str, space: str, rest: str) -> None:
    arg = f"<{address}>{space}{rest}"
    assert plain_path(arg) == (address, rest) == aiosmtpd_reading(arg)


noise = st.text(ATEXT + '<>@."[]():;, \t\\é', max_size=40)
near_plain = st.builds(lambda address, tail: f"<{address}>{tail}", plain_addresses, noise)


@given(st.one_of(noise, near_plain))
def test_any_path_it_answers_for_is_read_as_aiosmtpd_reads_it(arg: str) -> None:
    found = plain_path(arg)
    if found is not None:
        assert found == aiosmtpd_reading(arg)


@pytest.mark.parametrize(
    "arg",
    [
        "<>",  # the null reverse path of bounces
        '<"john smith"@example.com>',
        "<@relay.example:bob@example.com>",  # a source route
        "<bob@[192.0.2.1]>",
        "<józef@example.com> SMTPUTF8",
        "bob@example.com",  # no angle brackets
        " <bob@example.com>",
        "<bob@example.com (comment)>",
        "<bob..smith@example.com>",
        "<bob@example.com> (a comment) SIZE=10",
    ],
)
def test_other_forms_are_left_to_aiosmtpd(arg: str) -> None:
    assert plain_path(arg) is None


def test_a_local_part_over_the_limit_is_refused_as_aiosmtpd_refuses_it() -> None:
    protocol = SimpleNamespace(local_part_limit=8)
    long_path = "<ninechars@example.com>"
    assert SmtpProtocol._getaddr(protocol, long_path) == (None, None)  # type: ignore[arg-type]
    assert SMTP._getaddr(protocol, long_path) == (None, None)
    assert SmtpProtocol._getaddr(protocol, "<eight888@example.com>") == (  # type: ignore[arg-type]
        "eight888@example.com",
        "",
    )
