"""SIGKILL at random moments while a client sends through the API: every send that got its
202 reaches the remote server (smtp-sink) after the restart, at worst more than once.

The same run, longer, is `python -m bench.crash`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.crash import sends_run


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_every_accepted_send_is_delivered_despite_kills(engine: str, tmp_path: Path) -> None:
    report = sends_run(tmp_path, engine, kills=3)
    assert report["kills"] == 3
    assert report["acknowledged"] > 5
    assert report["lost"] == 0, report
    # A send committed just before a kill whose 202 never arrived may be delivered too.
    assert report["delivered"] >= report["acknowledged"] + report["duplicates"]
