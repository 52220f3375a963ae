"""Failure run: two `tidings serve` processes on one PostgreSQL database share the delivery
queue. Sends are posted to both; each delivers what it claims to one smtp-sink (each with
its own HELO name, so the sink's records say who delivered). Without a kill every send
arrives exactly once; when one process is SIGKILLed mid-run, the other takes over its
leased jobs, and a send may arrive at most once more.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import server as tidings_server
from bench.load import send_requests
from bench.peers import postgres_database, smtp_sink

FULL_SENDS = 10_000
ENV = {
    "TIDINGS_DELIVERY_LEASE_SECONDS": "3",
    "TIDINGS_DELIVERY_POLL_SECONDS": "0.05",
}


def _deliveries(directory: Path) -> tuple[Counter[str], Counter[str]]:
    """How often each correlation id arrived, and how many arrivals each HELO name made."""
    arrivals: Counter[str] = Counter()
    by_helo: Counter[str] = Counter()
    for path in directory.iterdir():
        helo = correlation = ""
        for line in path.read_bytes().split(b"\n"):
            lowered = line.lower()
            if lowered.startswith(b"x-helo-args:"):
                helo = line.split(b":", 1)[1].strip().decode()
            elif lowered.startswith(b"x-tidings-correlation-id:"):
                correlation = line.split(b":", 1)[1].strip().decode()
                break
        if correlation:
            arrivals[correlation] += 1
            by_helo[helo] += 1
    return arrivals, by_helo


def _body(n: int) -> bytes:
    return json.dumps(
        {
            "to": [f"r{n}@remote.test"],
            "subject": f"queue {n}",
            "body_text": "shared queue",
            "correlation_id": f"q-{n}",
        }
    ).encode()


def _post(served: tidings_server.Tidings, key: str, sends: int) -> dict[str, Any]:
    result = send_requests(
        f"{served.base_url}/v1/mailboxes/queue@agents.localhost/messages",
        sends,
        connections=8,
        body_for=_body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    return {str(k): v for k, v in result.statuses.items()}


def one_run(sends: int, workdir: Path, *, kill: bool) -> dict[str, Any]:
    with smtp_sink(workdir / "sink", keep=True) as sink, postgres_database() as url:
        # Several processes share the blob store as they share the database.
        relay = {
            "TIDINGS_OUTBOUND": f"relay://127.0.0.1:{sink.port}",
            "TIDINGS_BLOBS": f"file://{workdir / 'blobs'}",
            **ENV,
        }
        first = tidings_server.start(
            workdir / "a", url, env={**relay, "TIDINGS_SMTP_HOSTNAME": "a.bench.test"}
        )
        second = tidings_server.start(
            workdir / "b", url, env={**relay, "TIDINGS_SMTP_HOSTNAME": "b.bench.test"}
        )
        try:
            key = first.root_key  # the first start made the organisation; b found it
            with first.client() as api:
                api.post("/v1/identities", json={"handle": "queue"}).raise_for_status()
            # All sends go through a's API while both workers drain the one queue; b is
            # killed once a quarter is out, while it holds leased jobs.
            posted: dict[str, Any] = {}
            poster = threading.Thread(target=lambda: posted.update(_post(first, key, sends)))
            poster.start()
            killed_at = None
            if kill:
                deadline = time.monotonic() + 120
                while len(list(sink.directory.iterdir())) < sends // 4:
                    if time.monotonic() > deadline:
                        raise RuntimeError("nothing was delivered")
                    time.sleep(0.02)
                second.process.send_signal(signal.SIGKILL)
                second.process.wait()
                killed_at = len(list(sink.directory.iterdir()))
            poster.join()
            if posted.get("202", 0) != sends:
                raise RuntimeError(f"sends refused: {posted}")
            deadline = time.monotonic() + max(120.0, sends / 10)
            while time.monotonic() < deadline:
                arrivals, by_helo = _deliveries(sink.directory)
                if len(arrivals) >= sends:
                    break
                time.sleep(0.5)
            time.sleep(1.0)  # anything still arriving is a duplicate worth counting
            arrivals, by_helo = _deliveries(sink.directory)
        finally:
            first.kill()
            second.kill()
    return {
        "run": "one killed" if kill else "both alive",
        "sends": sends,
        "distinct_delivered": len(arrivals),
        "lost": sends - len(arrivals),
        "duplicates": sum(n - 1 for n in arrivals.values()),
        "most_copies": max(arrivals.values(), default=0),
        "delivered_by": dict(by_helo),
        "delivered_before_kill": killed_at,
    }


def run(scale: float, workdir: Path, engine: str = "postgresql") -> dict[str, Any]:
    sends = max(100, round(FULL_SENDS * scale))
    return {
        "benchmark": "shared_queue",
        "engine": "postgresql",
        "runs": [
            one_run(sends, workdir / "queue-alive", kill=False),
            one_run(sends, workdir / "queue-kill", kill=True),
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tidings-bench"))
    args = parser.parse_args()
    print(json.dumps(run(args.scale, args.workdir), indent=2))


if __name__ == "__main__":
    main()
