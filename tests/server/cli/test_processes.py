"""`tidings serve --processes N` on PostgreSQL: one supervisor, N copies on shared sockets."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import smtplib
import socket
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path
from typing import ClassVar

import httpx2

from bench.measure import descendants
from tests.support.api import create_identity, list_messages, send_mail, wait_for
from tests.support.database import Databases
from tests.support.process import ServerProcess, serve_process
from tidings_server.cli.sockets import ACCEPTS_PER_WAKEUP, listen_socket


def copies(server: ServerProcess) -> set[int]:
    return set(descendants(server.process.pid)) - {server.process.pid}


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie lingers until its new parent reaps it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def session_status(server: ServerProcess) -> int:
    """One request on a new connection, so whichever copy accepts it answers."""
    answer = httpx2.get(
        f"{server.base_url}/v1/session",
        headers={"Authorization": f"Bearer {server.root_key}"},
        timeout=10,
    )
    return answer.status_code


def test_two_copies_serve_the_api_and_a_killed_one_is_replaced(
    databases: Databases, tmp_path: Path
) -> None:
    with (
        databases.fresh_postgres() as url,
        serve_process(tmp_path / "data", database_url=url, args=["--processes", "2"]) as server,
    ):
        key = server.root_key
        first = wait_for(lambda: len(found := copies(server)) == 2 and found)
        for pid in sorted(first):
            os.kill(pid, signal.SIGKILL)
            # The other copy answers on the shared socket while the dead one is replaced.
            assert [session_status(server) for _ in range(10)] == [200] * 10
            wait_for(lambda pid=pid: len(now := copies(server)) == 2 and pid not in now)
        last = copies(server)
        assert last.isdisjoint(first)  # both replaced
        assert server.stop() == 0
        assert not any(running(pid) for pid in last)
    stdout, stderr = server.output
    assert stdout.splitlines() == [key]  # printed once, by the supervisor
    assert "Serving with 2 processes." in stderr
    assert stderr.count("ended (-9); starting another") == 2


def test_mail_in_and_out_works_through_the_copies(databases: Databases, tmp_path: Path) -> None:
    with (
        databases.fresh_postgres() as url,
        serve_process(tmp_path / "data", database_url=url, args=["--processes", "2"]) as server,
        server.client() as api,
    ):
        ana = create_identity(api, "ana")
        note = EmailMessage()
        note["From"], note["To"], note["Subject"] = "someone@example.org", ana, "Over SMTP"
        note.set_content("hello")
        with smtplib.SMTP("127.0.0.1", server.smtp_port) as smtp:
            smtp.send_message(note)
        [received] = wait_for(lambda: list_messages(api, ana))
        sent = [send_mail(api, ana, [f"peer{i}@example.com"], f"out {i}") for i in range(10)]
        for each in sent:
            wait_for(
                lambda each=each: (
                    api.get(f"/v1/mailboxes/{ana}/messages/{each['id']}").json()["status"]
                    == "captured"
                )
            )
        server.stop()
    assert received["subject"] == "Over SMTP"


def test_copies_drain_when_their_supervisor_is_killed(databases: Databases, tmp_path: Path) -> None:
    with (
        databases.fresh_postgres() as url,
        serve_process(tmp_path / "data", database_url=url, args=["--processes", "2"]) as server,
    ):
        orphans = wait_for(lambda: len(found := copies(server)) == 2 and found)
        server.process.kill()
        server.process.wait()
        wait_for(lambda: not any(running(pid) for pid in orphans))


def test_several_processes_on_sqlite_are_refused_with_the_reason(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "tidings_server", "serve", "--data-dir", str(tmp_path)]
    done = subprocess.run(
        [*command, "--processes", "2"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_")},
        timeout=60,
    )
    assert done.returncode == 2
    assert "processes above 1 need PostgreSQL" in done.stderr
    assert not (tmp_path / "tidings.db").exists()  # refused before touching anything


class Accepted(asyncio.Protocol):
    transports: ClassVar[list[asyncio.BaseTransport]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transports.append(transport)


def test_a_copy_takes_one_waiting_connection_per_wakeup_and_leaves_the_rest() -> None:
    """uvicorn and the SMTP listener hand asyncio the shared socket with this accept batch;
    with uvicorn's 2048, the first copy to wake took every connection in the queue."""
    sock = listen_socket("127.0.0.1", 0)
    loop = asyncio.new_event_loop()
    clients: list[socket.socket] = []
    try:
        server = loop.run_until_complete(
            loop.create_server(Accepted, sock=sock, backlog=ACCEPTS_PER_WAKEUP)
        )
        clients = [socket.create_connection(sock.getsockname()) for _ in range(3)]
        loop.call_soon(loop.stop)
        loop.run_forever()  # stopped first: polls once and runs what that woke, then returns
        sock.setblocking(False)
        left = []
        with contextlib.suppress(BlockingIOError):
            while True:
                left.append(sock.accept()[0])
        assert len(left) == 2  # for another copy
        for each in left:
            each.close()
        loop.run_until_complete(asyncio.sleep(0.05))  # the accepted connection's set-up
        for transport in Accepted.transports:
            transport.close()
        server.close()
        loop.run_until_complete(server.wait_closed())
    finally:
        for client in clients:
            client.close()
        loop.close()
        sock.close()


def test_the_shared_socket_keeps_its_queue_when_asyncio_listens_again() -> None:
    sock = listen_socket("127.0.0.1", 0)
    try:
        sock.listen(1)  # what asyncio does with the accept batch it is given
        # Nobody accepts: with a queue of one, the kernel would drop the later handshakes.
        queued = [socket.create_connection(sock.getsockname(), timeout=0.5) for _ in range(32)]
        for each in queued:
            each.close()
    finally:
        sock.close()


def test_the_shared_socket_says_it_is_tcp_so_answers_are_not_held_for_delayed_acks() -> None:
    # asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP; with proto 0 each
    # answer on a keep-alive connection waited 40 ms for the client's ACK.
    sock = listen_socket("127.0.0.1", 0)
    try:
        with socket.create_connection(sock.getsockname()):
            accepted, _ = sock.accept()
            with accepted:
                assert accepted.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
