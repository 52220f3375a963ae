"""Every script in examples/ runs, as a user would run it, against a live server.

Each is a subprocess with only TIDINGS_API_KEY and TIDINGS_BASE_URL to go on; the test
checks what it printed and, through the API, what it did.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.api import wait_for
from tests.support.live import LiveServer, start_server
from tidings import MarketplaceSettledEvent, Tidings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ANA, BOT = "ana@agents.localhost", "support-bot@agents.localhost"


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with start_server(
        database_url=database_url, data_dir=tmp_path / "data",
        webhook_allow_hosts=("127.0.0.1",), webhook_poll_seconds=0.05,
    ) as server:  # fmt: skip
        yield server


def _env(server: LiveServer, key: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_")}
    return env | {
        "TIDINGS_API_KEY": key or server.root_key,
        "TIDINGS_BASE_URL": server.base_url,
        "PYTHONUNBUFFERED": "1",
    }


def run(server: LiveServer, script: str, *args: str, key: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], env=_env(server, key),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


class Running:
    """A script still running: read its output line by line as it comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        stdout = process.stdout
        threading.Thread(target=lambda: [self.lines.put(x) for x in stdout], daemon=True).start()

    def next_line(self, timeout: float = 30) -> str:
        try:
            return self.lines.get(timeout=timeout).rstrip("\n")
        except queue.Empty:
            raise AssertionError(f"no output in {timeout}s") from None


@contextmanager
def started(server: LiveServer, script: str, *args: str) -> Iterator[Running]:
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES / script), *args], env=_env(server, None),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        yield Running(process)
        assert process.wait(timeout=30) == 0, process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_every_example_is_tested() -> None:
    tested = {"send_email.py", "read_inbox_and_reply.py", "follow_events.py",
              "webhook_receiver.py", "least_privilege.py", "async_autoresponder.py",
              "marketplace.py"}  # fmt: skip
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_send_email_creates_the_identity_and_sends_an_attachment(
    live: LiveServer, tmp_path: Path
) -> None:
    report = tmp_path / "report.csv"
    report.write_text("month,total\nmay,42\n")
    args = ("--to", "ana@example.com", "--attach", str(report))
    out = run(live, "send_email.py", *args)
    assert f"created support-bot: {BOT}" in out
    assert "queued: msg_" in out
    assert "attached report.csv (19 bytes)" in out
    again = run(live, "send_email.py", *args)  # the same send: idempotent
    assert "created" not in again
    with Tidings(live.root_key, base_url=live.base_url) as td:
        [sent] = td.messages.list(BOT).data
        assert sent.to[0].address == "ana@example.com"
        [attachment] = sent.attachments
        assert td.messages.get_attachment(BOT, sent.id, attachment.id) == report.read_bytes()


def test_read_inbox_and_reply_answers_each_unread_message(live: LiveServer) -> None:
    with Tidings(live.root_key, base_url=live.base_url) as td:
        bot, ana = td.identities.create("support-bot"), td.identities.create("ana")
        ana.send_email(to=[BOT], subject="Where is my order?", body_text="Order 42.")
        wait_for(lambda: list(bot.iter_unread_emails()))
        out = run(live, "read_inbox_and_reply.py", "--handle", "support-bot")
        assert f"from {ANA}: 'Where is my order?'" in out
        assert "replied: 'Re: Where is my order?'" in out
        assert "1 message(s) answered" in out
        assert list(bot.iter_unread_emails()) == []
        [answer] = wait_for(lambda: list(ana.iter_emails(direction="inbound")))
        assert "You wrote: Order 42." in (ana.get_email(answer.id).body_text or "")
        assert "0 message(s) answered" in run(live, "read_inbox_and_reply.py")


def test_follow_events_prints_what_happens_as_it_happens(live: LiveServer) -> None:
    with Tidings(live.root_key, base_url=live.base_url) as td:
        ana, bot = td.identities.create("ana"), td.identities.create("support-bot")
        with started(
            live, "follow_events.py", "--types", "message.received", "--count", "1"
        ) as script:
            assert script.next_line().startswith("listening for events")
            ana.send_email(to=[bot.email_address], subject="Ping", body_text="?")
            line = script.next_line()
        assert line.startswith("evt_")
        assert line.endswith(f"message.received {BOT} got 'Ping'")


def test_the_webhook_receiver_verifies_what_it_receives(live: LiveServer) -> None:
    with started(
        live, "webhook_receiver.py", "--port", "0", "--send-test", "--count", "1"
    ) as script:
        assert script.next_line().startswith("receiving message.received at http://127.0.0.1:")
        assert script.next_line().startswith("verified webhook.test evt_")
        assert script.next_line().startswith("unsubscribed ")
    with Tidings(live.root_key, base_url=live.base_url) as td:
        assert td.webhooks.list().data == []


def test_least_privilege_keeps_an_agent_to_its_own_identity(live: LiveServer) -> None:
    out = run(live, "least_privilege.py").splitlines()
    assert out[0].startswith("minted td_agent_")
    assert out[1:4] == [
        "sent as billing-bot: queued",
        "billing-bot sees 1 outbound message(s)",
        "billing-bot cannot see hr-bot: not_found",
    ]
    assert out[4].startswith("revoked td_agent_")
    with Tidings(live.root_key, base_url=live.base_url) as td:
        assert [k.kind for k in td.api_keys.list()] == ["root"]  # the agent key is gone


def test_the_async_autoresponder_answers_mail_as_it_arrives(live: LiveServer) -> None:
    with Tidings(live.root_key, base_url=live.base_url) as td:
        ana = td.identities.create("ana")
        td.identities.create("support-bot")
        with started(live, "async_autoresponder.py", "--count", "1") as script:
            assert script.next_line() == f"answering mail to {BOT} (Ctrl-C to stop)"
            ana.send_email(to=[BOT], subject="Hello?", body_text="Anyone there?")
            assert script.next_line() == "answered 'Hello?' with 'Re: Hello?'"
        [answer] = wait_for(lambda: list(ana.iter_emails(direction="inbound")))
        assert answer.subject == "Re: Hello?"


def test_marketplace_asks_answers_and_settles_within_the_budget(live: LiveServer) -> None:
    out = run(live, "marketplace.py", "--budget", "2.50").splitlines()
    request_id = out[1].split(": ")[1].split(",")[0]
    assert (
        out[0] == "summariser charges 0.5 / 1.5 per 1k tokens in / out and 0.25 per outcome (USD)"
    )
    assert out[1] == f"buyer-bot asked summariser: {request_id}, 2.5 USD held"
    assert out[2] == f"summariser got {request_id} from buyer-bot@agents.localhost"
    assert out[3] == "summariser answered, charging 1.48 USD"  # 0.9 + 0.33 + 0.25
    assert out[4] == "buyer-bot settled: charged 1.48, released 1.02 USD"
    assert out[5] == "ledger (newest first):"
    with Tidings(live.root_key, base_url=live.base_url) as td:
        [bought] = td.marketplace_requests.list(role="buyer").data
        [told] = [
            e
            for e in td.events.list(
                types="marketplace.settled", mailbox="buyer-bot@agents.localhost"
            )
            if isinstance(e, MarketplaceSettledEvent)
        ]
        charges = list(td.usage.ledger.list(kind="marketplace_charge"))
        ledger = list(td.usage.ledger.list(marketplace_request_id=request_id))
    assert (bought.marketplace_request_id, bought.status) == (request_id, "settled")
    assert (bought.charged, bought.released) == (Decimal("1.48"), Decimal("1.02"))
    assert told.data.marketplace_request == bought
    assert sum(c.amount for c in charges) == Decimal("1.48")
    assert len(out[6:]) == len(ledger)  # both sides' entries, each on a line
