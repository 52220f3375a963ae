"""validate_handle: which handles may name a mailbox, and the precise 422 for the rest."""

from __future__ import annotations

import pytest

from tidings_server.directory.handles import MAX_HANDLE_LENGTH, RESERVED_HANDLES, validate_handle
from tidings_server.errors import ValidationFailed


@pytest.mark.parametrize(
    "handle",
    ["ana", "support-bot", "a", "a.b", "a.b.c", "bot-2", "0", "x-", "-x", "a" * 64, "first.last"],
)
def test_acceptable_handles_are_returned_unchanged(handle: str) -> None:
    assert validate_handle(handle) == handle


@pytest.mark.parametrize(
    "handle",
    [
        "",
        "a" * 65,
        "Ana",
        "ANA",
        "has space",
        " ana",
        "ana ",
        "a..b",
        ".ana",
        "ana.",
        ".",
        "ana@example.com",
        "a_b",
        "a+tag",
        "ana\n",
        "ana\r\nBcc: x@y.z",
        "ana\0",
        "émile",
        "a/b",
    ],
)
def test_malformed_handles_are_refused_with_param_handle(handle: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_handle(handle)
    error = caught.value
    assert error.status == 422
    assert error.code == "invalid_handle"
    assert error.param == "handle"
    assert error.fix


def test_the_length_limit_is_64() -> None:
    """64 characters is the longest local part RFC 5321 allows."""
    assert MAX_HANDLE_LENGTH == 64
    assert validate_handle("b" * 64) == "b" * 64
    with pytest.raises(ValidationFailed):
        validate_handle("b" * 65)


@pytest.mark.parametrize(
    "handle", ["postmaster", "abuse", "hostmaster", "webmaster", "mailer-daemon", "noc"]
)
def test_rfc_2142_names_are_reserved(handle: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_handle(handle)
    assert caught.value.code == "reserved_handle"
    assert caught.value.param == "handle"
    assert caught.value.status == 422


def test_every_reserved_name_is_refused() -> None:
    for handle in sorted(RESERVED_HANDLES):
        with pytest.raises(ValidationFailed) as caught:
            validate_handle(handle)
        assert caught.value.code == "reserved_handle", handle


def test_names_that_merely_contain_a_reserved_word_are_fine() -> None:
    assert validate_handle("postmaster-bot") == "postmaster-bot"
    assert validate_handle("abuse-desk") == "abuse-desk"
    assert validate_handle("my.support") == "my.support"


def test_a_reserved_name_in_capitals_is_still_refused() -> None:
    """Capitals are not a way around the reserved list: they are refused outright."""
    with pytest.raises(ValidationFailed) as caught:
        validate_handle("Postmaster")
    assert caught.value.code in ("invalid_handle", "reserved_handle")
