"""Running one benchmark on its own: `python -m bench.<name> --scale 0.05 --engine sqlite`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def run_one_engine(run: Callable[[float, Path, str], Any], description: str | None) -> None:
    """Parse the shared flags, run the benchmark once and print its results as JSON."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--engine", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tidings-bench"))
    args = parser.parse_args()
    print(json.dumps(run(args.scale, args.workdir, args.engine), indent=2))
