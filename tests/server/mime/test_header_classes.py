"""The caching header registry reads and makes headers exactly as the stdlib's does."""

from __future__ import annotations

from email.headerregistry import AddressHeader, HeaderRegistry

from tidings_server.mime.header_classes import CachingHeaderRegistry


def test_headers_come_out_as_the_stdlib_makes_them() -> None:
    cached, plain = CachingHeaderRegistry(), HeaderRegistry()
    for name, value in [
        ("To", "Ana <ana@example.org>, bob@example.org"),
        ("Subject", "=?utf-8?q?caf=C3=A9?= menu"),
        ("X-Anything", "free text"),
        ("Date", "Tue, 01 Dec 2026 23:00:00 +0000"),
    ]:
        made, expected = cached(name, value), plain(name, value)
        assert str(made) == str(expected)
        assert type(made).__mro__[1:] == type(expected).__mro__[1:]
    assert cached("To", "a@x.org").addresses[0].domain == "x.org"  # type: ignore[attr-defined]


def test_one_class_per_kind_of_header_however_many_names() -> None:
    registry = CachingHeaderRegistry()
    classes = {registry[f"X-Custom-{n}"] for n in range(100)}
    assert len(classes) == 1
    assert registry["to"] is registry["To"]
    registry.map_to_type("x-custom-1", AddressHeader)
    assert registry["x-custom-1"] is registry["resent-to"]  # both plain AddressHeader
    assert registry["x-custom-2"] in classes
