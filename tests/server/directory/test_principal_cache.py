"""The principal cache: a recently authenticated key skips the lookup, but not for long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tidings_server.directory.keys import Principal, PrincipalCache

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
KEY = "td_agent_" + "k" * 40


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def principal(**fields: object) -> Principal:
    values: dict[str, object] = {
        "org_id": "org_1",
        "key_id": "key_1",
        "kind": "agent",
        "identity_id": "idt_1",
    }
    return Principal(**{**values, **fields})  # type: ignore[arg-type]


def test_an_entry_is_trusted_for_the_ttl_then_looked_up_again() -> None:
    ticks = Ticks()
    cache = PrincipalCache(2.0, monotonic=ticks)
    cache.put(KEY, principal())
    assert cache.get(KEY, NOW) == principal()
    assert cache.get("td_agent_" + "x" * 40, NOW) is None
    ticks.now += 2.0
    assert cache.get(KEY, NOW) is None


def test_an_expired_key_is_never_served_from_the_cache() -> None:
    cache = PrincipalCache(60.0, monotonic=Ticks())
    cache.put(KEY, principal(expires_at=NOW + timedelta(seconds=1)))
    assert cache.get(KEY, NOW) is not None
    assert cache.get(KEY, NOW + timedelta(seconds=1)) is None


def test_clear_and_a_zero_ttl_leave_nothing_cached() -> None:
    cache = PrincipalCache(5.0, monotonic=Ticks())
    cache.put(KEY, principal())
    cache.clear()
    assert cache.get(KEY, NOW) is None
    off = PrincipalCache(0, monotonic=Ticks())
    off.put(KEY, principal())
    assert off.get(KEY, NOW) is None


def test_recording_use_updates_the_cached_last_used_time() -> None:
    cache = PrincipalCache(5.0, monotonic=Ticks())
    cache.put(KEY, principal())
    touched = cache.used(KEY, principal(), NOW)
    assert touched.last_used_at == NOW
    cached = cache.get(KEY, NOW)
    assert cached is not None
    assert cached.last_used_at == NOW
