"""The real peers the benchmarks run against: Postfix's smtp-sink and smtp-source, a private
Postfix instance that accepts into its own queue (and may relay from it), a scratch
PostgreSQL database, and wrk.

Nothing here touches the system's Postfix: the instance runs from its own config and queue
directories under the benchmark's work directory, on loopback ports only.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

# The loopback DNS server the MX tests use serves the benchmarks' zone too.
from tests.support.dns_server import dns_server as dns_server

SBIN = Path("/usr/sbin")


class MissingPeer(RuntimeError):
    """A program the benchmark needs is not installed."""


def binary(name: str) -> str:
    found = shutil.which(name) or str(SBIN / name)
    if not Path(found).exists():
        raise MissingPeer(f"{name} is not installed (apt-get install postfix wrk)")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_listening(port: int, timeout: float = 15, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port}")


@dataclass
class Running:
    """A peer process and where it listens."""

    process: subprocess.Popen[bytes]
    port: int
    directory: Path

    @property
    def pid(self) -> int:
        return self.process.pid


@contextmanager
def smtp_sink(
    directory: Path,
    options: Sequence[str] = (),
    *,
    keep: bool = False,
    host: str = "127.0.0.1",
    port: int | None = None,
) -> Iterator[Running]:
    """smtp-sink on a loopback port; with `keep` every message is written to `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    dump = ["-d", f"{directory}/%Y%m%d%H%M%S."] if keep else []
    process = subprocess.Popen(
        [binary("smtp-sink"), "-u", "root", *options, *dump, f"{host}:{port}", "256"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_listening(port, host=host)
        yield Running(process, port, directory)
    finally:
        process.terminate()
        process.wait(timeout=10)


def smtp_source(
    port: int, *, sessions: int, size: int, messages: int, sender: str, recipient: str
) -> float:
    """Send `messages` messages of `size` body bytes over `sessions` connections (each kept
    open for many messages); returns the wall time in seconds. Raises if any was refused."""
    command = [
        binary("smtp-source"), "-d", "-s", str(sessions), "-l", str(size), "-m", str(messages),
        "-f", sender, "-t", recipient, "-M", "source.bench.test", f"127.0.0.1:{port}",
    ]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or "fatal" in done.stderr or "error" in done.stderr.lower():
        raise RuntimeError(f"smtp-source failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def _postfix_main_cf(root: Path, domain: str, relay_to: str | None) -> str:
    owner = pwd.getpwnam("postfix")
    if relay_to is None:
        # Accept into the queue and keep it there: the hold queue is never scheduled, so the
        # run measures receiving (cleanup fsyncs each queue file before the 250), not
        # delivery. HOLD is not a final action; permit_mynetworks then accepts.
        route = [
            f"smtpd_relay_restrictions = check_recipient_access inline:{{ {domain}=HOLD }}, "
            "permit_mynetworks, reject",
        ]
    else:
        # Accept (fsync'd, as above), then deliver to one next hop: no DNS lookup, Postfix's
        # own scheduler, concurrency and connection cache at their defaults.
        route = [
            "smtpd_relay_restrictions = permit_mynetworks, reject",
            f"transport_maps = inline:{{ {domain}=smtp:{relay_to} }}",
        ]
    return "\n".join(
        [
            "compatibility_level = 3.6",
            f"queue_directory = {root}/queue",
            f"data_directory = {root}/data",
            "maillog_file = /dev/stdout",
            "myhostname = postfix.bench.test",
            "mydestination =",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            "mynetworks = 127.0.0.0/8",
            f"relay_domains = {domain}",
            *route,
            # Flow control would stall smtpd when nothing is delivered (held mail never
            # hands back tokens); Tidings has no such brake, so neither does its reference.
            "in_flow_delay = 0",
            "smtpd_peername_lookup = no",
            "smtpd_client_connection_count_limit = 0",
            "smtpd_client_connection_rate_limit = 0",
            "smtpd_client_message_rate_limit = 0",
            f"mail_owner = {owner.pw_name}",
            "alias_maps =",
            "alias_database =",
            "",
        ]
    )


@contextmanager
def postfix_queue(domain: str, relay_to: str | None = None) -> Iterator[Running]:
    """A private Postfix that accepts mail for `domain` into its own (fsync'd) queue and
    keeps it there, or with `relay_to` (as `[127.0.0.1]:2525`) delivers it to that host.
    Its log is `postfix.out` in its directory.

    Its folders are made in the system's temp directory: Postfix's own processes run as
    `postfix` and must reach them, which private (0700) work directories would not allow.
    """
    postfix = binary("postfix")
    owner = pwd.getpwnam("postfix")
    root = Path(tempfile.mkdtemp(prefix="tidings-bench-postfix-"))
    root.chmod(0o755)
    conf = root / "conf"
    for folder in ("conf", "queue", "data"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    shutil.chown(root / "data", owner.pw_uid, owner.pw_gid)
    (conf / "main.cf").write_text(_postfix_main_cf(root, domain, relay_to))
    port = free_port()
    master = Path("/etc/postfix/master.cf").read_text()
    master = re.sub(r"(?m)^smtp\s+inet\s.*$", f"127.0.0.1:{port} inet n - n - - smtpd", master)
    (conf / "master.cf").write_text(master)
    log = (root / "postfix.out").open("wb")
    process = subprocess.Popen([postfix, "-c", str(conf), "start-fg"], stdout=log, stderr=log)
    try:
        try:
            wait_listening(port)
        except RuntimeError:
            log_text = (root / "postfix.out").read_text()
            raise RuntimeError(f"Postfix did not start: {log_text}") from None
        yield Running(process, port, root)
    finally:
        subprocess.run([postfix, "-c", str(conf), "stop"], capture_output=True, timeout=60)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def held_messages(root: Path) -> int:
    """Queue files in the private Postfix's hold queue."""
    hold = root / "queue" / "hold"
    return sum(1 for _ in hold.rglob("*") if _.is_file()) if hold.exists() else 0


def postgres_admin_url() -> str:
    return os.environ.get(
        "TIDINGS_BENCH_POSTGRES_URL",
        os.environ.get(
            "TIDINGS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one run, dropped afterwards; yields its URL."""
    admin_url = postgres_admin_url()
    name = f"tidings_bench_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise MissingPeer(f"PostgreSQL is not reachable at {admin_url}: {exc}") from None
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(admin_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def split_setup(setup: str) -> tuple[str, int]:
    """`postgresql:2` -> ("postgresql", 2): the engine, and how many server processes
    (`tidings serve --processes`); a bare engine name runs one."""
    engine, _, processes = setup.partition(":")
    return engine, int(processes or 1)


@contextmanager
def database(setup: str, data_dir: Path) -> Iterator[str]:
    """A fresh database URL on the setup's engine (sqlite or postgresql)."""
    engine, _ = split_setup(setup)
    if engine == "sqlite":
        data_dir.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{data_dir / 'tidings.db'}"
        return
    with postgres_database() as url:
        yield url


_LATENCY = re.compile(r"^\s+(50|75|90|99)(?:\.\d+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_TOTAL = re.compile(r"(\d+) requests in")
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int = 1,
    headers: Sequence[str] = (),
    script: Path | None = None,
) -> dict[str, float]:
    """Run wrk against `url`; returns req/s, p50/p99 in ms and how many answers were not 2xx."""
    command = [binary("wrk"), "--latency", "-t", str(threads), "-c", str(connections)]
    command += ["-d", f"{max(1, round(seconds))}s", "--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    if script is not None:
        command += ["-s", str(script)]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    out = done.stdout
    latency = {int(p): float(v) * _UNITS[u] for p, v, u in _LATENCY.findall(out)}
    rate = _RATE.search(out)
    total = _TOTAL.search(out)
    bad = _NON_2XX.search(out)
    if rate is None or 50 not in latency:
        raise RuntimeError(f"could not read wrk's output:\n{out}\n{done.stderr}")
    return {
        "requests_per_second": round(float(rate.group(1)), 1),
        "p50_ms": round(latency[50], 2),
        "p99_ms": round(latency[99], 2),
        "requests": int(total.group(1)) if total else 0,
        "non_2xx": int(bad.group(1)) if bad else 0,
    }
