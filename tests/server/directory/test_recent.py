"""Recent directory answers: kept for their time, then looked up again."""

from __future__ import annotations

from tidings_server.directory.recent import Recent


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_is_kept_for_its_time_and_then_forgotten() -> None:
    ticks = Ticks()
    recent: Recent[str, bool] = Recent(2.0, monotonic=ticks)
    recent.put("ana@agents.localhost", True)
    ticks.now += 1.9
    assert recent.get("ana@agents.localhost") is True
    assert recent.get("bob@agents.localhost") is None
    ticks.now += 0.1
    assert recent.get("ana@agents.localhost") is None


def test_an_update_keeps_the_time_the_answer_was_put() -> None:
    ticks = Ticks()
    recent: Recent[str, int] = Recent(2.0, monotonic=ticks)
    recent.put("a", 1)
    ticks.now += 1.5
    recent.update("a", 2)
    recent.update("b", 3)
    assert recent.get("a") == 2
    assert recent.get("b") is None
    ticks.now += 0.5
    assert recent.get("a") is None


def test_clear_a_zero_time_and_a_full_map_keep_nothing_stale() -> None:
    recent: Recent[str, bool] = Recent(5.0, monotonic=Ticks())
    recent.put("a", True)
    recent.clear()
    assert recent.get("a") is None
    off: Recent[str, bool] = Recent(0, monotonic=Ticks())
    off.put("a", True)
    assert off.get("a") is None
    small: Recent[int, int] = Recent(5.0, max_entries=3, monotonic=Ticks())
    for n in range(4):
        small.put(n, n)
    assert [small.get(n) for n in range(4)] == [None, None, None, 3]
