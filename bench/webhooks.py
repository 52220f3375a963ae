"""Benchmark 4: webhook deliveries per second to a loopback receiver, and event-to-delivery time.

smtp-source sends messages into `tidings serve`; each makes a `message.received` event, and an
organisation-wide subscription posts every one to a receiver in this process. Latency is the
receiver's arrival time minus the event's own timestamp (same machine, same clock). Live, the
rate cannot pass the rate the messages arrive at; so a second run holds the receiver's first
answer until every message is in, and then times the queue draining: the sending alone.

The reference, in the same run: wrk posts one of those events to a fresh receiver of the same
kind, back to back over one keep-alive connection, as Tidings posts one mailbox's events (in
order, one at a time). That is the receiver's own ceiling, and its round trip the floor of
event-to-delivery.
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
from bench.peers import database, smtp_source, wrk
from bench.script import run_one_engine

FULL_EVENTS = 5_000
REFERENCE_SECONDS = 5


class Arrivals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[str, list[float]] = {}
        self.latencies: list[float] = []
        self.sample: tuple[dict[str, str], bytes] | None = None  # one delivery as it came

    def record(self, headers: dict[str, str], body: bytes) -> None:
        now = time.time()
        webhook_id = headers["webhook-id"]
        stamp = datetime.fromisoformat(json.loads(body)["timestamp"].replace("Z", "+00:00"))
        with self.lock:
            first = webhook_id not in self.seen
            self.seen.setdefault(webhook_id, []).append(now)
            if first:
                self.latencies.append(now - stamp.timestamp())
            if self.sample is None:
                self.sample = (headers, body)


@contextmanager
def receiver(gate: threading.Event | None = None) -> Iterator[tuple[str, Arrivals]]:
    """A loopback webhook receiver; with `gate`, each request waits until the gate is set."""
    arrivals = Arrivals()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The answer goes out as two writes (head, then body); with Nagle's algorithm on, the
        # body waited for the sender's delayed ACK, 40 ms a delivery. Real servers turn it off.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if gate is not None:
                gate.wait()
            arrivals.record({k.lower(): v for k, v in self.headers.items()}, body)
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


def reference(sample: tuple[dict[str, str], bytes], workdir: Path) -> dict[str, Any]:
    """wrk posting `sample` (headers by lower-case name, body) to a fresh receiver, one
    request at a time."""
    headers, body = sample
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "event.json").write_bytes(body)
    script = workdir / "post.lua"
    script.write_text(
        f'local file = io.open("{workdir / "event.json"}", "rb")\n'
        'wrk.method = "POST"\n'
        'wrk.body = file:read("*a")\n'
        "file:close()\n"
    )
    kept = ("content-type", "webhook-id", "webhook-timestamp", "webhook-signature", "user-agent")
    sent = [f"{name}: {value}" for name, value in headers.items() if name in kept]
    with receiver() as (url, arrivals):
        found = wrk(url, seconds=REFERENCE_SECONDS, connections=1, headers=sent, script=script)
    if found["non_2xx"] or not arrivals.seen:
        raise RuntimeError(f"the reference posts were not all answered 200: {found}")
    return {
        "deliveries_per_second": found["requests_per_second"],
        "round_trip": {"p50_ms": found["p50_ms"], "p99_ms": found["p99_ms"]},
        "requests": found["requests"],
        "body_bytes": len(body),
    }


def _deliver(events: int, workdir: Path, engine: str, *, backlog: bool) -> dict[str, Any]:
    """Ingest `events` messages and time their events' deliveries: from the first message
    (live), or from the moment the held receiver is released with all of them queued."""
    env = {"TIDINGS_WEBHOOK_ALLOW_HOSTS": "127.0.0.1", "TIDINGS_WEBHOOK_POLL_SECONDS": "0.05"}
    if backlog:
        # The held request must neither time out nor lose its lease to a second claim.
        env["TIDINGS_WEBHOOK_TIMEOUT_SECONDS"] = "3600"
        env["TIDINGS_WEBHOOK_LEASE_SECONDS"] = "3600"
    gate = threading.Event()
    if not backlog:
        gate.set()
    with (
        receiver(gate) as (url, arrivals),
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
        gate.set()
        # A backlog slows the queue down (see RESULTS.md); report what arrived by then.
        deadline = ingested + max(120.0, events / 10)
        while len(arrivals.seen) < events and time.time() < deadline:
            time.sleep(0.2)
        rss = served.peak_rss_mib()
    if not arrivals.seen or arrivals.sample is None:
        raise RuntimeError(f"{events} events and not one delivered")
    moments = [m for ms in arrivals.seen.values() for m in ms]
    since = ingested if backlog else started
    return {
        "events": events,
        "delivered": len(arrivals.seen),
        "duplicates": len(moments) - len(arrivals.seen),
        "ingest_seconds": round(ingested - started, 3),
        "seconds": round(max(moments) - since, 3),
        "complete": len(arrivals.seen) == events,
        "deliveries_per_second": round(len(arrivals.seen) / (max(moments) - since), 1),
        "event_to_delivery": latency_summary(arrivals.latencies),
        "peak_rss_mib": rss,
        "sample": arrivals.sample,
    }


def run(scale: float, workdir: Path, engine: str = "sqlite") -> dict[str, Any]:
    events = max(50, round(FULL_EVENTS * scale))
    workdir = workdir / engine / "webhooks"
    live = _deliver(events, workdir / "live", engine, backlog=False)
    queued = _deliver(events, workdir / "backlog", engine, backlog=True)
    sample = live.pop("sample")
    queued.pop("sample")
    del queued["event_to_delivery"]  # the held receiver's wait, not the sender's
    return {
        "benchmark": "webhooks",
        "engine": engine,
        **live,
        "backlog": queued,
        "reference": reference(sample, workdir),
    }


def main() -> None:
    run_one_engine(run, __doc__)


if __name__ == "__main__":
    main()
