"""Benchmark 4: webhook deliveries per second to a loopback receiver, and event-to-delivery time.

smtp-source sends messages into `tidings serve`; each makes a `message.received` event, and an
organisation-wide subscription posts every one to a receiver in this process. Latency is the
receiver's arrival time minus the event's own timestamp (same machine, same clock).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import server as tidings_server
from bench.measure import latency_summary
from bench.peers import database, smtp_source
from bench.script import run_one_engine

FULL_EVENTS = 5_000


class Arrivals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[str, list[float]] = {}
        self.latencies: list[float] = []

    def record(self, webhook_id: str, body: bytes) -> None:
        now = time.time()
        stamp = datetime.fromisoformat(json.loads(body)["timestamp"].replace("Z", "+00:00"))
        with self.lock:
            first = webhook_id not in self.seen
            self.seen.setdefault(webhook_id, []).append(now)
            if first:
                self.latencies.append(now - stamp.timestamp())


@contextmanager
def receiver() -> Iterator[tuple[str, Arrivals]]:
    arrivals = Arrivals()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The answer goes out as two writes (head, then body); with Nagle's algorithm on, the
        # body waited for the sender's delayed ACK, 40 ms a delivery. Real servers turn it off.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            arrivals.record(self.headers["webhook-id"], body)
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a sender killed mid-request (the crash runs) is expected, not news

    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/hook", arrivals
    finally:
        httpd.shutdown()
        httpd.server_close()


def run(scale: float, workdir: Path, engine: str = "sqlite") -> dict[str, Any]:
    events = max(50, round(FULL_EVENTS * scale))
    workdir = workdir / engine / "webhooks"
    env = {"TIDINGS_WEBHOOK_ALLOW_HOSTS": "127.0.0.1", "TIDINGS_WEBHOOK_POLL_SECONDS": "0.05"}
    with (
        receiver() as (url, arrivals),
        database(engine, workdir / "data") as db_url,
        tidings_server.serving(workdir / "data", db_url, setup=engine, env=env) as served,
    ):
        with served.client() as api:
            api.post("/v1/identities", json={"handle": "bench"}).raise_for_status()
            api.post(
                "/v1/webhooks/subscriptions",
                json={"url": url, "event_types": ["message.received"]},
            ).raise_for_status()
        started = time.time()
        smtp_source(
            served.smtp_port, sessions=10, size=1024, messages=events,
            sender="load@source.bench.test", recipient="bench@agents.localhost",
        )  # fmt: skip
        ingested = time.time()
        # A backlog slows the queue down (see RESULTS.md); report what arrived by then.
        deadline = ingested + max(120.0, events / 10)
        while len(arrivals.seen) < events and time.time() < deadline:
            time.sleep(0.2)
        rss = served.peak_rss_mib()
    if not arrivals.seen:
        raise RuntimeError(f"{events} events and not one delivered")
    moments = [m for ms in arrivals.seen.values() for m in ms]
    return {
        "benchmark": "webhooks",
        "engine": engine,
        "events": events,
        "delivered": len(arrivals.seen),
        "duplicates": len(moments) - len(arrivals.seen),
        "ingest_seconds": round(ingested - started, 3),
        "seconds": round(max(moments) - started, 3),
        "complete": len(arrivals.seen) == events,
        "deliveries_per_second": round(len(arrivals.seen) / (max(moments) - started), 1),
        "event_to_delivery": latency_summary(arrivals.latencies),
        "peak_rss_mib": rss,
    }


def main() -> None:
    run_one_engine(run, __doc__)


if __name__ == "__main__":
    main()
