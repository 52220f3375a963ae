"""Every package imports on its own: a tool or a test may start from any of them."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Modules that once failed when imported first, through a cycle back to themselves
# (mail -> events -> the API's view models -> the whole app -> delivery -> events).
FIRST_IMPORTS = [
    "tidings_server.mail.receiving",
    "tidings_server.events.payloads",
    "tidings_server.api.schemas.messages",
    "tidings_server.delivery.worker",
    "tidings_server.webhooks.worker",
]


@pytest.mark.parametrize("module", FIRST_IMPORTS)
def test_a_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
