"""SIGKILL at random moments while a client sends over SMTP: every message that got its 250
is there after the restart (duplicates are counted and allowed, losses are not).

The same run, longer, is `python -m bench.crash`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.crash import smtp_run


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_no_acknowledged_message_is_lost_when_the_server_is_killed(
    engine: str, tmp_path: Path
) -> None:
    report = smtp_run(tmp_path, engine, kills=3)
    assert report["kills"] == 3
    assert report["acknowledged"] > 20
    assert report["lost"] == 0, report
    # A message stored just before a kill but never acknowledged may be there too.
    assert report["stored"] >= report["acknowledged"] + report["duplicates"]
