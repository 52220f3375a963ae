"""Two `tidings serve` processes on one PostgreSQL database share one delivery queue: each
send is delivered exactly once, and when one process is killed the other takes over its
jobs, delivering each at most once more.

The same run with 10,000 sends is `python -m bench.shared_queue`.
"""

from __future__ import annotations

from pathlib import Path

from bench.shared_queue import one_run


def test_two_processes_deliver_each_send_exactly_once(tmp_path: Path) -> None:
    report = one_run(300, tmp_path, kill=False)
    assert report["lost"] == 0, report
    assert report["duplicates"] == 0
    assert set(report["delivered_by"]) == {"a.bench.test", "b.bench.test"}  # both worked


def test_a_killed_process_leaves_its_jobs_to_the_other(tmp_path: Path) -> None:
    report = one_run(300, tmp_path, kill=True)
    assert report["lost"] == 0, report
    assert report["most_copies"] <= 2  # at most once more, for jobs the dead one had sent
    assert report["delivered_by"]["a.bench.test"] > 0
