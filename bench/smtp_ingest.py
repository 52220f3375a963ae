"""Benchmark 1: inbound SMTP ingest, smtp-source against smtp-sink, a queueing Postfix, Tidings.

For each message size, Postfix's `smtp-source` sends the same number of messages over 10
sessions to (a) `smtp-sink`, which throws mail away (the ceiling), (b) a private Postfix that
accepts into its queue (fsync'd before the 250, as by default) and (c) `tidings serve`, which
answers 250 only after the message is committed. smtp-source reports no per-message timing,
so a probe session beside it sends one message every 20 ms and times end-of-data to 250.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import server as tidings_server
from bench.measure import CpuWindow, latency_summary
from bench.peers import database, held_messages, postfix_queue, smtp_sink, smtp_source
from bench.script import run_one_engine
from tidings_server.store.engine import create_sync_engine

DOMAIN = "agents.localhost"
RECIPIENT = f"bench@{DOMAIN}"
SENDER = "load@source.bench.test"
SESSIONS = 10
SIZES = (4096, 102400)
FULL_MESSAGES = 20_000


def probe_message(size: int, n: int) -> bytes:
    """A message shaped like smtp-source's: a few headers, `size` bytes of X lines."""
    line = b"X" * 78 + b"\r\n"
    body = (line * (size // len(line) + 1))[:size]
    head = (
        f"From: <{SENDER}>\r\nTo: <{RECIPIENT}>\r\nSubject: probe {n}\r\n"
        f"Message-Id: <probe.{n}.{time.time_ns()}@source.bench.test>\r\n\r\n"
    ).encode()
    return head + body + b"\r\n.\r\n"


class Probe(threading.Thread):
    """One SMTP session sending paced messages and timing each end-of-data to its reply."""

    def __init__(self, port: int, size: int, pause: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.port, self.size, self.pause = port, size, pause
        self.latencies: list[float] = []
        self.failures = 0
        self.halt = threading.Event()
        self._buffer = b""

    def _reply(self, sock: socket.socket) -> int:
        while True:
            while b"\r\n" not in self._buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                self._buffer += chunk
            line, self._buffer = self._buffer.split(b"\r\n", 1)
            if line[3:4] != b"-":
                return int(line[:3])

    def run(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=60) as sock:
            self._reply(sock)
            sock.sendall(b"EHLO probe.bench.test\r\n")
            self._reply(sock)
            n = 0
            while not self.halt.is_set():
                message = probe_message(self.size, n)
                sock.sendall(f"MAIL FROM:<{SENDER}>\r\n".encode())
                self._reply(sock)
                sock.sendall(f"RCPT TO:<{RECIPIENT}>\r\n".encode())
                self._reply(sock)
                sock.sendall(b"DATA\r\n")
                self._reply(sock)
                sock.sendall(message[:-5])
                start = time.perf_counter()
                sock.sendall(message[-5:])
                code = self._reply(sock)
                if code == 250:
                    self.latencies.append(time.perf_counter() - start)
                else:
                    self.failures += 1
                n += 1
                self.halt.wait(self.pause)
            sock.sendall(b"QUIT\r\n")


def _count_stored(url: str) -> int:
    engine = create_sync_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(sa.text("SELECT count(*) FROM messages")) or 0)
    finally:
        engine.dispose()


@contextmanager
def _tidings(workdir: Path, engine: str) -> Iterator[dict[str, Any]]:
    with (
        database(engine, workdir / "data") as url,
        tidings_server.serving(workdir / "data", url, setup=engine) as served,
        served.client() as api,
    ):
        answer = api.post("/v1/identities", json={"handle": RECIPIENT.split("@")[0]})
        answer.raise_for_status()
        yield {
            "port": served.smtp_port,
            "pid": served.pid,
            "count": lambda: _count_stored(url),
            "rss": served.peak_rss_mib,
        }


@contextmanager
def _postfix(workdir: Path, engine: str) -> Iterator[dict[str, Any]]:
    with postfix_queue(DOMAIN) as postfix:
        yield {
            "port": postfix.port,
            "pid": postfix.pid,
            "count": lambda: held_messages(postfix.directory),
        }


@contextmanager
def _sink(workdir: Path, engine: str) -> Iterator[dict[str, Any]]:
    with smtp_sink(workdir / "sink") as sink:
        yield {"port": sink.port, "pid": sink.pid, "count": None}


TARGETS: dict[str, Callable[[Path, str], AbstractContextManager[dict[str, Any]]]] = {
    "smtp-sink": _sink,
    "postfix": _postfix,
    "tidings": _tidings,
}


def one_case(target: str, size: int, messages: int, workdir: Path, engine: str) -> dict[str, Any]:
    with TARGETS[target](workdir / f"{target}-{size}", engine) as peer:
        cpu = CpuWindow(peer["pid"])
        probe = Probe(peer["port"], size)
        cpu.start()
        probe.start()
        try:
            seconds = smtp_source(
                peer["port"], sessions=SESSIONS, size=size, messages=messages,
                sender=SENDER, recipient=RECIPIENT,
            )  # fmt: skip
        finally:
            probe.halt.set()
            probe.join(timeout=120)
        cpu_seconds = cpu.stop()
        total = messages + len(probe.latencies)
        result: dict[str, Any] = {
            "target": target,
            "size": size,
            "messages": messages,
            "seconds": round(seconds, 3),
            "messages_per_second": round(messages / seconds, 1),
            "ack": latency_summary(probe.latencies),
            "probe_failures": probe.failures,
            "cpu_seconds": cpu_seconds,
            "cpu_seconds_per_1k": round(cpu_seconds / (total / 1000), 3),
        }
        if "rss" in peer:
            result["peak_rss_mib"] = peer["rss"]()
        if peer["count"] is not None:
            # Every acknowledged message must be there: the benchmark checks its own work.
            stored = peer["count"]()
            result["stored"] = stored
            if stored != total:
                raise RuntimeError(f"{target}: {total} messages acknowledged, {stored} stored")
        return result


def run(scale: float, workdir: Path, engine: str = "sqlite") -> dict[str, Any]:
    messages = max(50, round(FULL_MESSAGES * scale))
    cases = [
        one_case(target, size, messages, workdir / engine, engine)
        for size in SIZES
        for target in TARGETS
    ]
    ratios = {}
    for size in SIZES:
        rate = {c["target"]: c["messages_per_second"] for c in cases if c["size"] == size}
        ratios[str(size)] = {
            "tidings_vs_postfix": round(rate["tidings"] / rate["postfix"], 2),
            "tidings_vs_sink": round(rate["tidings"] / rate["smtp-sink"], 2),
        }
    return {
        "benchmark": "smtp_ingest",
        "engine": engine,
        "sessions": SESSIONS,
        "cases": cases,
        "ratios": ratios,
    }


def main() -> None:
    run_one_engine(run, __doc__)


if __name__ == "__main__":
    main()
