"""Postfix's smtp-sink as a real remote SMTP server that keeps what it receives."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Sink:
    port: int
    directory: Path

    def messages(self) -> list[bytes]:
        return [p.read_bytes() for p in sorted(self.directory.iterdir())]


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("smtp-sink did not start")


@contextmanager
def smtp_sink(port: int, directory: Path, options: Sequence[str] = ()) -> Iterator[Sink]:
    """Run smtp-sink on `port`; `options` such as ("-r", "rcpt") make it refuse on purpose."""
    binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if not Path(binary).exists():
        pytest.skip("Postfix's smtp-sink is not installed (apt-get install postfix)")
    directory.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [binary, "-u", "root", *options, "-d", f"{directory}/%Y%m%d%H%M%S.",
         f"127.0.0.1:{port}", "50"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_listening(port)
        yield Sink(port, directory)
    finally:
        process.terminate()
        process.wait(timeout=10)
