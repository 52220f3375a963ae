"""Benchmark 2: outbound, API sends delivered by Tidings' worker to smtp-sink over SMTP.

wrk posts sends (each with its own correlation id) to `tidings serve`, which delivers them
by MX lookup (a loopback DNS server) to `smtp-sink`, which writes each message to a file.
Accepted is the message's `created_at` in the store, delivered is the sink file's time;
both come from this machine's clock. A second run mixes in a peer that waits a second
before answering DATA and one that answers every RCPT with 4xx (deferred, retried later).

The reference, in the same run: a private Postfix relays as many messages of about the same
size, injected by smtp-source over as many connections, to the same kind of smtp-sink. Its
accept-to-delivered time is Postfix's own `delay=` for each delivery (arrival to delivered).
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import server as tidings_server
from bench.load import send_requests
from bench.measure import CpuWindow, latency_summary, percentile
from bench.peers import database, dns_server, free_port, postfix_queue, smtp_sink, smtp_source
from bench.script import run_one_engine
from tidings_server.store.engine import create_sync_engine

FULL_SENDS = 20_000
SENDER = "bench@agents.localhost"
CONNECTIONS = 16
# smtp-source's body size for the reference: a send as the sink receives it (headers, DKIM
# signature, text) is about this size.
REFERENCE_BYTES = 650
_DELAY = re.compile(r" delay=([\d.]+), .* status=sent ")
# Which peer a send goes to, by its number: every 20th to a refusing peer, the next to a slow.
PEERS = {
    "fast": ("127.0.0.1", ()),
    "slow": ("127.0.0.2", ("-w", "1")),
    "busy": ("127.0.0.3", ("-r", "rcpt")),
}


def _peer(n: int, adverse: bool) -> str:
    if adverse and n % 20 == 0:
        return "busy"
    if adverse and n % 20 == 1:
        return "slow"
    return "fast"


def _send_body(n: int, adverse: bool) -> bytes:
    peer = _peer(n, adverse)
    return json.dumps(
        {
            "to": [f"r{n}@{peer}.bench.test"],
            "subject": f"bench {n}",
            "body_text": f"A benchmark message, number {n}.",
            "correlation_id": f"bench-{peer}-{n}",
        }
    ).encode()


def _zone() -> dict[tuple[str, str], list[str]]:
    zone: dict[tuple[str, str], list[str]] = {}
    for name, (address, _options) in PEERS.items():
        zone[(f"{name}.bench.test.", "MX")] = [f"10 mx.{name}.bench.test."]
        zone[(f"mx.{name}.bench.test.", "A")] = [address]
    return zone


def _correlation(path: Path) -> str | None:
    with path.open("rb") as handle:
        for line in handle:
            if line in (b"\n", b"\r\n"):
                return None
            if line.lower().startswith(b"x-tidings-correlation-id:"):
                return line.split(b":", 1)[1].strip().decode()
    return None


def _accepted(url: str) -> dict[str, float]:
    engine = create_sync_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT correlation_id, created_at FROM messages WHERE direction = 'outbound'"
                )
            ).all()
    finally:
        engine.dispose()
    found = {}
    for correlation, created in rows:
        moment = created if isinstance(created, datetime) else datetime.fromisoformat(created)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        found[correlation] = moment.timestamp()
    return found


def _deliveries(url: str, status: str) -> int:
    engine = create_sync_engine(url)
    try:
        with engine.connect() as connection:
            found = connection.scalar(
                sa.text("SELECT count(*) FROM deliveries WHERE status = :status"),
                {"status": status},
            )
            return int(found or 0)
    finally:
        engine.dispose()


def one_run(sends: int, workdir: Path, engine: str, *, adverse: bool) -> dict[str, Any]:
    port = free_port()
    names = list(PEERS) if adverse else ["fast"]
    with ExitStack() as stack:
        sinks = {
            name: stack.enter_context(
                smtp_sink(
                    workdir / "sink" / name,
                    PEERS[name][1],
                    keep=True,
                    host=PEERS[name][0],
                    port=port,
                )
            )
            for name in names
        }
        nameserver = stack.enter_context(dns_server(_zone()))
        url = stack.enter_context(database(engine, workdir / "data"))
        env = {
            "TIDINGS_OUTBOUND": "mx",
            "TIDINGS_MX_PORT": str(port),
            "TIDINGS_DNS_SERVERS": nameserver,
            "TIDINGS_DELIVERY_POLL_SECONDS": "0.05",
        }
        served = stack.enter_context(
            tidings_server.serving(workdir / "data", url, setup=engine, env=env)
        )
        with served.client() as api:
            api.post("/v1/identities", json={"handle": "bench"}).raise_for_status()
        cpu = CpuWindow(served.pid)
        cpu.start()
        started = time.time()
        load = send_requests(
            f"{served.base_url}/v1/mailboxes/{SENDER}/messages",
            sends,
            connections=CONNECTIONS,
            body_for=lambda n: _send_body(n, adverse),
            headers={
                "Authorization": f"Bearer {served.root_key}",
                "Content-Type": "application/json",
            },
        ).summary()
        accepted = _accepted(url)
        expected = Counter(c.split("-")[1] for c in accepted)
        deliverable = expected["fast"] + expected["slow"]
        deadline = time.time() + max(120.0, sends / 10)
        delivered: dict[str, list[float]] = {}
        while time.time() < deadline:
            files = [p for name in ("fast", "slow") if name in sinks
                     for p in sinks[name].directory.iterdir()]  # fmt: skip
            # "sent" is settled after the peer's 250, which smtp-sink gives once the file is
            # complete; counting files alone would read some still being written.
            if (
                len(files) >= deliverable
                and _deliveries(url, "sent") >= deliverable
                and _deliveries(url, "deferred") >= expected["busy"]
            ):
                break
            time.sleep(0.5)
        # Sends and their deliveries together; the last poll adds at most half a second idle.
        cpu_seconds = cpu.stop()
        for path in files:
            correlation = _correlation(path)
            if correlation is not None:
                delivered.setdefault(correlation, []).append(path.stat().st_mtime)
        rss = served.peak_rss_mib()
        deferred = _deliveries(url, "deferred")
    latencies = {name: [] for name in names}
    for correlation, moments in delivered.items():
        if correlation in accepted:
            latencies[correlation.split("-")[1]].append(min(moments) - accepted[correlation])
    missing = [c for c in accepted if not c.startswith("bench-busy") and c not in delivered]
    if missing:
        raise RuntimeError(f"{len(missing)} accepted sends never reached the sink")
    last = max(max(m) for m in delivered.values())
    first = min(accepted.values())
    return {
        "run": "adverse" if adverse else "plain",
        "sends": len(accepted),
        "api": load,
        "delivered": sum(len(m) for m in delivered.values()),
        "duplicates": sum(len(m) - 1 for m in delivered.values()),
        "deferred": deferred,
        "seconds": round(last - first, 3),
        "delivered_per_second": round(len(delivered) / max(last - first, 1e-9), 1),
        "accept_to_delivered": {name: latency_summary(v) for name, v in latencies.items() if v},
        "cpu_seconds": cpu_seconds,
        "cpu_seconds_per_1k": round(cpu_seconds / (len(accepted) / 1000), 3),
        "peak_rss_mib": rss,
        "median_bytes": _median_size(files),
        "wall_seconds": round(time.time() - started, 1),
    }


def _median_size(files: list[Path]) -> int:
    """The median size of what the sink stored (its own trace headers included)."""
    return int(percentile([path.stat().st_size for path in files], 0.5))


def reference_run(sends: int, workdir: Path) -> dict[str, Any]:
    """Postfix relaying `sends` messages to smtp-sink: what an MTA does with the same work."""
    domain = "fast.bench.test"
    with (
        smtp_sink(workdir / "sink", keep=True) as sink,
        postfix_queue(domain, relay_to=f"[127.0.0.1]:{sink.port}") as postfix,
    ):
        log = postfix.directory / "postfix.out"

        def delays() -> list[float]:
            return [float(d) for d in _DELAY.findall(log.read_text(errors="replace"))]

        cpu = CpuWindow(postfix.pid)
        cpu.start()
        started = time.time()
        injected = smtp_source(
            postfix.port, sessions=CONNECTIONS, size=REFERENCE_BYTES, messages=sends,
            sender="load@source.bench.test", recipient=f"r@{domain}",
        )  # fmt: skip
        deadline = time.time() + max(120.0, sends / 10)
        while len(delays()) < sends and time.time() < deadline:
            time.sleep(0.2)
        cpu_seconds = cpu.stop()
        files = list(sink.directory.iterdir())
        # The log line follows the sink's 250, so every file counted here is complete.
        last = max((path.stat().st_mtime for path in files), default=started)
        found = delays()
    if len(files) != sends or len(found) != sends:
        raise RuntimeError(
            f"Postfix: {sends} injected, {len(found)} sent, {len(files)} in the sink"
        )
    return {
        "run": "postfix",
        "sends": sends,
        "accepted_per_second": round(sends / injected, 1),
        "delivered": len(files),
        "delivered_per_second": round(sends / max(last - started, 1e-9), 1),
        "accept_to_delivered": latency_summary(found),
        "cpu_seconds": cpu_seconds,
        "cpu_seconds_per_1k": round(cpu_seconds / (sends / 1000), 3),
        "median_bytes": _median_size(files),
    }


def run(scale: float, workdir: Path, engine: str = "sqlite") -> dict[str, Any]:
    sends = max(50, round(FULL_SENDS * scale))
    runs = [
        one_run(sends, workdir / engine / "plain", engine, adverse=False),
        one_run(sends, workdir / engine / "adverse", engine, adverse=True),
    ]
    reference = reference_run(sends, workdir / engine / "postfix")
    return {
        "benchmark": "outbound",
        "engine": engine,
        "runs": runs,
        "reference": reference,
        "tidings_vs_postfix": round(
            runs[0]["delivered_per_second"] / reference["delivered_per_second"], 2
        ),
    }


def main() -> None:
    run_one_engine(run, __doc__)


if __name__ == "__main__":
    main()
