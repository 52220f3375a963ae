"""Failure run: the MIME parser's fuzz target (tests/server/mime/test_fuzz.py) with many more
examples than the test suite's, reporting how many inputs ran and whether any failed."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FULL_EXAMPLES = 20_000


def run(scale: float, workdir: Path, engine: str = "sqlite") -> dict[str, Any]:
    examples = max(100, round(FULL_EXAMPLES * scale))
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "timeout=0",
         "tests/server/mime/test_fuzz.py"],
        cwd=ROOT, capture_output=True, text=True, check=False,
        env={**os.environ, "TIDINGS_FUZZ_EXAMPLES": str(examples)},
    )  # fmt: skip
    summary = re.findall(r"^.*(?:passed|failed|error).*$", done.stdout, re.MULTILINE)
    return {
        "benchmark": "fuzz",
        "examples": examples,
        "seconds": round(time.perf_counter() - started, 1),
        "passed": done.returncode == 0,
        "summary": summary[-1] if summary else done.stdout[-500:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    print(json.dumps(run(args.scale, Path(".")), indent=2))


if __name__ == "__main__":
    main()
