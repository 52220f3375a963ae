"""SIGKILL at random moments while events are being posted to a webhook: every event in the
log reaches the receiver, and a redelivery carries the event's own webhook-id.

The same run, longer, is `python -m bench.crash`.
"""

from __future__ import annotations

from pathlib import Path

from bench.crash import webhooks_run


def test_every_event_arrives_under_its_own_id_despite_kills(tmp_path: Path) -> None:
    report = webhooks_run(tmp_path, "sqlite", kills=3)
    assert report["kills"] == 3
    assert report["events"] > 5
    assert report["lost"] == 0, report
    assert report["unknown_ids"] == 0  # a redelivery is the same webhook-id, not a new one
    assert report["delivered"] == report["events"] + report["duplicates"]
