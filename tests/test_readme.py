"""The README's walk-through works, run exactly as written (with a private data dir and port)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx2

from tests.support.live import free_port

ROOT = Path(__file__).resolve().parent.parent


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(
        r"<!-- walkthrough -->\s*```bash\n(.*?)```\s*<!-- /walkthrough -->", readme, re.S
    )
    assert match, "README.md has no walk-through block"
    return match.group(1)


def test_the_readme_walkthrough_serves_and_creates_an_identity(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_")}
    env.update(
        TIDINGS_DATA_DIR=str(tmp_path / "data"),
        TIDINGS_HTTP=f"127.0.0.1:{port}",
        TIDINGS_SMTP=f"127.0.0.1:{free_port()}",
    )
    script = "set -euo pipefail\n" + walkthrough()
    output = tmp_path / "out.txt"
    with output.open("w") as sink:
        shell = subprocess.Popen(
            ["bash", "-c", script],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            assert shell.wait(timeout=300) == 0, output.read_text()
        finally:
            os.killpg(shell.pid, signal.SIGTERM)  # the `make serve &` it left running
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
        except httpx2.TransportError:
            break
        time.sleep(0.1)

    printed = output.read_text()
    documents = [json.loads(line) for line in re.findall(r"^\{.*\}$", printed, re.M)]
    session = next(d for d in documents if "organisation" in d)
    identity = next(d for d in documents if "handle" in d)
    assert session["key"]["kind"] == "root"
    assert identity["email_address"] == "support-bot@agents.localhost"
    assert identity["display_name"] == "Support Bot"
    sent = next(d for d in documents if "direction" in d)
    assert sent["status"] == "queued"
    assert sent["from"]["address"] == "support-bot@agents.localhost"
