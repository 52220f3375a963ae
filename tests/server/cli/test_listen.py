"""`tidings listen` as a developer runs it: a real child process following a live server and
POSTing each event, signed, to a loopback receiver; Ctrl-C or SIGTERM ends it with 0."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import standardwebhooks

from tests.support.api import create_identity, send_mail, wait_for
from tests.support.live import LiveServer
from tests.support.receiver import Step, webhook_receiver
from tidings import MessageReceivedEvent, verify_webhook

SECRET = "whsec_" + base64.b64encode(b"listen-test-key-of-32-bytes-long").decode()


@dataclass
class Listener:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def wait_for_line(self, text: str) -> str:
        return str(wait_for(lambda: next((line for line in self.lines if text in line), None)))

    def stop(self, sig: int) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=30)


@contextmanager
def listening(server: LiveServer, *args: str, sigint: Any = signal.SIG_DFL) -> Iterator[Listener]:
    """`sigint` is the disposition the listener starts with: a terminal's default, or
    SIG_IGN as a shell leaves it for a command it starts in the background."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_")}
    env.update(TIDINGS_API_KEY=server.root_key, TIDINGS_BASE_URL=server.base_url)
    ours = signal.signal(signal.SIGINT, sigint)  # inherited by the child, across exec
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "tidings_server", "listen", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
    finally:
        signal.signal(signal.SIGINT, ours)
    listener = Listener(process)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            listener.lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # Printed once the stream is connected: mail sent from now on is seen.
        listener.wait_for_line("Listening on")
        yield listener
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(5)


def mail_between_two_agents(server: LiveServer, subject: str) -> None:
    with server.client() as api:
        send_mail(api, "ana@agents.localhost", ["bob@agents.localhost"], subject)


@pytest.fixture
def agents(server: LiveServer) -> None:
    with server.client() as api:
        create_identity(api, "ana")
        create_identity(api, "bob")


@pytest.mark.usefixtures("agents")
def test_events_are_forwarded_signed_and_ctrl_c_exits_cleanly(server: LiveServer) -> None:
    with (
        webhook_receiver(Step()) as receiver,
        listening(server, "--forward", receiver.url, "--secret", SECRET) as listener,
    ):
        mail_between_two_agents(server, "Forward me")
        wait_for(lambda: len(receiver.requests) == 2)
        with server.client() as api:
            logged = api.get("/v1/events").json()["data"]
        verified = [
            standardwebhooks.Webhook(SECRET).verify(r.body, r.headers) for r in receiver.requests
        ]
        assert verified == logged  # every event, in order, exactly as the API tells it
        assert all(r.headers["content-type"] == "application/json" for r in receiver.requests)
        assert [r.headers["webhook-id"] for r in receiver.requests] == [e["id"] for e in logged]
        for event in logged:
            line = listener.wait_for_line(event["id"])
            assert event["type"] in line
            assert "200" in line
        assert listener.stop(signal.SIGINT) == 0
    assert SECRET not in "\n".join(listener.lines)  # a secret given is not echoed


@pytest.mark.usefixtures("agents")
def test_without_a_secret_one_is_made_and_printed_and_filters_apply(server: LiveServer) -> None:
    with (
        webhook_receiver(Step()) as receiver,
        listening(
            server, "--forward", receiver.url, "--types", "message.received",
            "--mailbox", "bob@agents.localhost",
        ) as listener,
    ):  # fmt: skip
        printed = listener.wait_for_line("whsec_")
        secret = printed[printed.index("whsec_") :].strip()
        mail_between_two_agents(server, "Only the received one")
        [request] = wait_for(lambda: receiver.requests)
        event = verify_webhook(request.body, request.headers, secret)
        assert isinstance(event, MessageReceivedEvent)
        assert event.data.message.subject == "Only the received one"
        assert listener.stop(signal.SIGTERM) == 0
    assert len(receiver.requests) == 1


@pytest.mark.usefixtures("agents")
def test_a_failing_receiver_is_retried_reported_and_the_stream_goes_on(
    server: LiveServer,
) -> None:
    with (
        webhook_receiver(Step(status=500)) as receiver,
        listening(
            server, "--forward", receiver.url, "--secret", SECRET, "--types", "message.received"
        ) as listener,
    ):
        mail_between_two_agents(server, "Nobody home")
        line = listener.wait_for_line("after 3 tries")
        assert "500" in line
        assert len(receiver.requests) == 3
        ids = {r.headers["webhook-id"] for r in receiver.requests}
        assert len(ids) == 1  # the same event each time, each time signed afresh
        receiver.then(Step())  # the app is back up
        mail_between_two_agents(server, "Back again")
        wait_for(lambda: receiver.succeeded)
        event = verify_webhook(receiver.succeeded[0].body, receiver.succeeded[0].headers, SECRET)
        assert isinstance(event, MessageReceivedEvent)
        assert event.data.message.subject == "Back again"
        assert listener.stop(signal.SIGINT) == 0


def test_ctrl_c_stops_it_even_when_started_in_the_background(server: LiveServer) -> None:
    """A script's `tidings listen ... &` starts it with SIGINT ignored."""
    with (
        webhook_receiver(Step()) as receiver,
        listening(server, "--forward", receiver.url, sigint=signal.SIG_IGN) as listener,
    ):
        assert listener.stop(signal.SIGINT) == 0
    assert "Stopped." in listener.lines


def test_a_bad_key_is_reported_and_exits_with_an_error(server: LiveServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_")}
    env.update(TIDINGS_API_KEY="td_root_nonsense", TIDINGS_BASE_URL=server.base_url)
    done = subprocess.run(
        [sys.executable, "-m", "tidings_server", "listen", "--forward", "http://127.0.0.1:9/"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "malformed_api_key" in done.stderr
