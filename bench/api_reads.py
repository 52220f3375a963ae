"""Benchmark 3: list, get and full-text search over a store of many messages, on both engines.

The store is filled by `bench.fill` (1,000,000 messages at full scale, in 20 mailboxes), then
wrk drives `tidings serve` with random mailboxes, message ids and search terms, and the same
wrk settings drive a bare ASGI endpoint under the same uvicorn for reference.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import server as tidings_server
from bench.fill import WORDS, fill
from bench.peers import database, free_port, wait_listening, wrk

FULL_MESSAGES = 1_000_000
CONNECTIONS = 8
GOALS_MS = {"list": 20.0, "get": 20.0, "search": 100.0}


def _script(path: Path, paths: list[str]) -> Path:
    entries = ",\n".join(json.dumps(p) for p in paths)
    path.write_text(
        f"local paths = {{\n{entries}\n}}\n"
        "math.randomseed(7)\n"
        "request = function()\n"
        "  return wrk.format('GET', paths[math.random(#paths)])\n"
        "end\n"
    )
    return path


@contextmanager
def bare_endpoint() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.bare_asgi:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_listening(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _paths(sample_ids: dict[str, list[str]], rng: random.Random) -> dict[str, list[str]]:
    addresses = list(sample_ids)
    # Terms from common to rare (the vocabulary is Zipf-like), skipping the very commonest.
    terms = [WORDS[i] for i in range(8, 400, 3)]
    return {
        "list": [f"/v1/mailboxes/{a}/messages?limit=50" for a in addresses],
        "get": [f"/v1/mailboxes/{a}/messages/{m}" for a, ms in sample_ids.items() for m in ms],
        "search": [
            f"/v1/mailboxes/{rng.choice(addresses)}/search?q={rng.choice(terms)}&limit=20"
            for _ in range(500)
        ],
    }


def one_engine(engine: str, count: int, seconds: float, workdir: Path) -> dict[str, Any]:
    with database(engine, workdir / "data") as url:
        filled = fill(workdir / "data", url, count)
        paths = _paths(filled.pop("sample_ids"), random.Random(7))
        results: dict[str, Any] = {"engine": engine, "fill": filled}
        with tidings_server.serving(workdir / "data", url, setup=engine) as served:
            auth = [f"Authorization: Bearer {served.root_key}"]
            for name, chosen in paths.items():
                script = _script(workdir / f"{name}.lua", chosen)
                wrk(
                    served.base_url, seconds=1, connections=CONNECTIONS, headers=auth, script=script
                )
                measured = wrk(
                    served.base_url, seconds=seconds, connections=CONNECTIONS, headers=auth,
                    script=script,
                )  # fmt: skip
                if measured["non_2xx"]:
                    raise RuntimeError(f"{engine} {name}: {measured['non_2xx']} non-2xx answers")
                measured["goal_p99_ms"] = GOALS_MS[name]
                measured["meets_goal"] = measured["p99_ms"] < GOALS_MS[name]
                results[name] = measured
            results["peak_rss_mib"] = served.peak_rss_mib()
    return results


def run(
    scale: float, workdir: Path, engines: tuple[str, ...] = ("sqlite", "postgresql")
) -> dict[str, Any]:
    count = max(2_000, round(FULL_MESSAGES * scale))
    seconds = max(2.0, round(15 * min(1.0, scale * 4), 1))
    with bare_endpoint() as bare:
        wrk(bare, seconds=1, connections=CONNECTIONS)
        reference = wrk(bare, seconds=seconds, connections=CONNECTIONS)
    return {
        "benchmark": "api_reads",
        "messages": count,
        "connections": CONNECTIONS,
        "seconds_per_run": seconds,
        "bare_asgi": reference,
        "engines": [one_engine(e, count, seconds, workdir / e / "api") for e in engines],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tidings-bench"))
    args = parser.parse_args()
    engines = tuple(args.engines.split(","))
    print(json.dumps(run(args.scale, args.workdir, engines), indent=2))


if __name__ == "__main__":
    main()
