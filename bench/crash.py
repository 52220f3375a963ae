"""Failure runs: SIGKILL `tidings serve` at random moments under load, restart it, and check
that nothing acknowledged was lost (duplicates are counted, never losses).

Three workloads, each with a client that records what the server acknowledged:
- `smtp`: a client sends over SMTP and keeps every Message-ID that got 250 (a dropped
  connection means "not acknowledged": it retries the same message, as a real MTA would);
- `sends`: API sends (with idempotency keys, retried the same way) delivered to smtp-sink;
- `webhooks`: messages whose `message.received` events are posted to a loopback receiver,
  which must get every event of the log, with the same webhook-id on a redelivery.

The test suite runs these briefly; `python -m bench.crash` runs them long.
"""

from __future__ import annotations

import random
import smtplib
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import sqlalchemy as sa

from bench import server as tidings_server
from bench.peers import database, free_port, smtp_sink
from bench.script import run_one_engine
from bench.webhooks import receiver
from tidings_server.store.engine import create_sync_engine

RECIPIENT = "crash@agents.localhost"
# Short leases: work cut off by a kill is taken over seconds after the restart, not minutes.
CHAOS_ENV = {
    "TIDINGS_DELIVERY_LEASE_SECONDS": "2",
    "TIDINGS_DELIVERY_POLL_SECONDS": "0.05",
    "TIDINGS_WEBHOOK_LEASE_SECONDS": "2",
    "TIDINGS_WEBHOOK_POLL_SECONDS": "0.05",
    "TIDINGS_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
}


class Chaos:
    """Runs the server on fixed ports, SIGKILLing and restarting it at random moments."""

    def __init__(self, data_dir: Path, url: str, env: dict[str, str], seed: int) -> None:
        self.data_dir, self.url, self.env = data_dir, url, {**CHAOS_ENV, **env}
        self.http_port, self.smtp_port = free_port(), free_port()
        self.rng = random.Random(seed)
        self.kills = 0
        self.server = self._start()

    def _start(self) -> tidings_server.Tidings:
        return tidings_server.start(
            self.data_dir, self.url, env=self.env,
            http_port=self.http_port, smtp_port=self.smtp_port,
        )  # fmt: skip

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def rampage(self, kills: int, low: float, high: float) -> None:
        """Kill and restart `kills` times, each after a random 'low'..'high' seconds."""
        for _ in range(kills):
            time.sleep(self.rng.uniform(low, high))
            self.server.kill()
            self.kills += 1
            self.server = self._start()

    def stop(self) -> None:
        self.server.kill()


def _stored_message_ids(url: str) -> Counter[str]:
    engine = create_sync_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT rfc_message_id FROM messages WHERE direction = 'inbound'")
            ).scalars()
            return Counter(r for r in rows if r)
    finally:
        engine.dispose()


@contextmanager
def _worker(target: Callable[[threading.Event], None]) -> Iterator[threading.Event]:
    halt = threading.Event()
    errors: list[BaseException] = []

    def body() -> None:
        try:
            target(halt)
        except BaseException as exc:  # reported below: a crashed client proves nothing
            errors.append(exc)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    try:
        yield halt
    finally:
        halt.set()
        thread.join(timeout=120)
        if errors:
            raise RuntimeError("the client failed") from errors[0]


def _message(n: int) -> tuple[str, bytes]:
    message_id = f"<crash-{n}-{uuid.uuid4().hex[:8]}@client.bench.test>"
    raw = (
        f"From: client@client.bench.test\r\nTo: {RECIPIENT}\r\nSubject: crash {n}\r\n"
        f"Message-ID: {message_id}\r\n\r\nMessage {n} of a crash run.\r\n"
    ).encode()
    return message_id, raw


def _smtp_client(chaos: Chaos, acked: list[str], halt: threading.Event) -> None:
    n, client = 0, None
    pending = _message(n)
    while not halt.is_set():
        try:
            if client is None:
                client = smtplib.SMTP("127.0.0.1", chaos.smtp_port, timeout=10)
            client.sendmail("client@client.bench.test", [RECIPIENT], pending[1])
            acked.append(pending[0])
            n += 1
            pending = _message(n)
        except (OSError, smtplib.SMTPException):
            # No 250 seen: the message may or may not be stored; send it again.
            client = None
            time.sleep(0.05)


def smtp_run(workdir: Path, engine: str, kills: int, seed: int = 1) -> dict[str, Any]:
    with database(engine, workdir / "data") as url:
        chaos = Chaos(workdir / "data", url, {}, seed)
        try:
            with chaos.server.client() as api:
                api.post("/v1/identities", json={"handle": "crash"}).raise_for_status()
            acked: list[str] = []
            with _worker(lambda halt: _smtp_client(chaos, acked, halt)):
                chaos.rampage(kills, 0.3, 2.0)
                time.sleep(1.0)
            stored = _stored_message_ids(url)
        finally:
            chaos.stop()
    lost = [m for m in acked if m not in stored]
    return {
        "workload": "smtp",
        "engine": engine,
        "kills": chaos.kills,
        "acknowledged": len(acked),
        "stored": sum(stored.values()),
        "lost": len(lost),
        "duplicates": sum(n - 1 for n in stored.values()),
    }


def _send_client(
    chaos: Chaos, key: str, acked: list[str], halt: threading.Event, relay_domain: str
) -> None:
    n = 0
    with httpx2.Client(
        base_url=chaos.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=10
    ) as api:
        while not halt.is_set():
            correlation = f"crash-send-{n}"
            try:
                answer = api.post(
                    "/v1/mailboxes/crash@agents.localhost/messages",
                    headers={"Idempotency-Key": correlation},
                    json={"to": [f"r{n}@{relay_domain}"], "subject": f"send {n}",
                          "body_text": "crash run", "correlation_id": correlation},
                )  # fmt: skip
            except httpx2.TransportError:
                time.sleep(0.05)
                continue  # same key again: replayed if it was committed, else sent anew
            if answer.status_code == 202:
                acked.append(correlation)
                n += 1
            else:
                time.sleep(0.05)


def _sink_correlations(directory: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for path in directory.iterdir():
        for line in path.read_bytes().split(b"\n"):
            if line.lower().startswith(b"x-tidings-correlation-id:"):
                found[line.split(b":", 1)[1].strip().decode()] += 1
                break
            if not line.strip():
                break
    return found


def sends_run(workdir: Path, engine: str, kills: int, seed: int = 2) -> dict[str, Any]:
    with (
        smtp_sink(workdir / "sink", keep=True) as sink,
        database(engine, workdir / "data") as url,
    ):
        env = {"TIDINGS_OUTBOUND": f"relay://127.0.0.1:{sink.port}"}
        chaos = Chaos(workdir / "data", url, env, seed)
        try:
            key = chaos.server.root_key
            with chaos.server.client() as api:
                api.post("/v1/identities", json={"handle": "crash"}).raise_for_status()
            acked: list[str] = []
            with _worker(lambda halt: _send_client(chaos, key, acked, halt, "remote.test")):
                chaos.rampage(kills, 0.3, 2.0)
                time.sleep(0.5)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                delivered = _sink_correlations(sink.directory)
                if all(c in delivered for c in acked):
                    break
                time.sleep(0.3)
        finally:
            chaos.stop()
    lost = [c for c in acked if c not in delivered]
    return {
        "workload": "sends",
        "engine": engine,
        "kills": chaos.kills,
        "acknowledged": len(acked),
        "delivered": sum(delivered.values()),
        "lost": len(lost),
        "duplicates": sum(n - 1 for n in delivered.values()),
    }


def webhooks_run(workdir: Path, engine: str, kills: int, seed: int = 3) -> dict[str, Any]:
    with receiver() as (hook_url, arrivals), database(engine, workdir / "data") as url:
        chaos = Chaos(workdir / "data", url, {}, seed)
        try:
            with chaos.server.client() as api:
                api.post("/v1/identities", json={"handle": "crash"}).raise_for_status()
                api.post(
                    "/v1/webhooks/subscriptions",
                    json={"url": hook_url, "event_types": ["message.received"]},
                ).raise_for_status()
            acked: list[str] = []
            with _worker(lambda halt: _smtp_client(chaos, acked, halt)):
                chaos.rampage(kills, 0.3, 2.0)
                time.sleep(0.5)
            with chaos.server.client() as api:
                logged = _all_event_ids(api)
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not set(logged) <= set(arrivals.seen):
                time.sleep(0.3)
        finally:
            chaos.stop()
    with arrivals.lock:
        seen = {k: len(v) for k, v in arrivals.seen.items()}
    return {
        "workload": "webhooks",
        "engine": engine,
        "kills": chaos.kills,
        "events": len(logged),
        "delivered": sum(seen.values()),
        "lost": len(set(logged) - set(seen)),
        "unknown_ids": len(set(seen) - set(logged)),  # a webhook-id that is no event id
        "duplicates": sum(n - 1 for n in seen.values()),
    }


def _all_event_ids(api: httpx2.Client) -> list[str]:
    found: list[str] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"types": "message.received", "limit": 100}
        if after:
            params["after"] = after
        page = api.get("/v1/events", params=params).json()
        found += [e["id"] for e in page["data"]]
        if not page["data"]:
            return found
        after = page["data"][-1]["id"]


def run(scale: float, workdir: Path, engine: str = "sqlite") -> dict[str, Any]:
    kills = max(2, round(20 * scale))
    return {
        "benchmark": "crash",
        "engine": engine,
        "runs": [
            smtp_run(workdir / engine / "crash-smtp", engine, kills),
            sends_run(workdir / engine / "crash-sends", engine, kills),
            webhooks_run(workdir / engine / "crash-webhooks", engine, kills),
        ],
    }


def main() -> None:
    run_one_engine(run, __doc__)


if __name__ == "__main__":
    main()
