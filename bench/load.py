"""A lean HTTP/1.1 load generator (asyncio, keep-alive) that sends an exact number of requests.

wrk runs for a duration, not a count; the send benchmarks need every request answered and
each answer's status. Kept minimal so the client spends little of the machine's two cores.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.measure import latency_summary


@dataclass
class LoadResult:
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, object]:
        ok = sum(n for status, n in self.statuses.items() if 200 <= status < 300)
        return {
            "requests": sum(self.statuses.values()),
            "ok": ok,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "requests_per_second": round(sum(self.statuses.values()) / self.seconds, 1),
            **latency_summary(self.latencies),
        }


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _run(
    url: str,
    count: int,
    connections: int,
    body_for: Callable[[int], bytes],
    headers: dict[str, str],
    method: str,
) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    fixed = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    result = LoadResult()
    numbers = iter(range(count))

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for n in numbers:
                body = body_for(n)
                request = (
                    f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{fixed}"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode() + body
                start = time.perf_counter()
                writer.write(request)
                status, _ = await _read_response(reader)
                result.latencies.append(time.perf_counter() - start)
                result.statuses[status] += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    result.seconds = time.perf_counter() - start
    return result


def send_requests(
    url: str,
    count: int,
    *,
    connections: int,
    body_for: Callable[[int], bytes],
    headers: dict[str, str],
    method: str = "POST",
) -> LoadResult:
    """Send `count` requests over `connections` keep-alive connections; `body_for(n)` makes
    the n-th body."""
    return asyncio.run(_run(url, count, connections, body_for, headers, method))
