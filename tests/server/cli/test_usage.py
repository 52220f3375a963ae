"""`tidings usage` and `tidings usage export` as a user runs them: the real CLI in a child
process, against a live server whose ledger the test filled through the SDK."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.api import wait_for
from tests.support.live import LiveServer
from tidings import Tidings, Usage


def tidings_cli(
    server: LiveServer, *args: str, key: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_")}
    env.update(
        TIDINGS_API_KEY=key or server.root_key, TIDINGS_BASE_URL=server.base_url,
        COLUMNS="160",  # a table as wide as a terminal would show it
    )  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "tidings_server", *args],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def rows(table: str) -> list[list[str]]:
    """A rich table's heading and rows: its lines of cells between vertical bars."""
    lines = [line.strip().replace("┃", "│") for line in table.splitlines()]
    return [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in lines
        if line.startswith("│")
    ]


@pytest.fixture
def metered(server: LiveServer) -> LiveServer:
    """Two sends priced at 0.25 each (bot's spend), and one settled marketplace request:
    0.5 charged to the buyer (spend) and earned by the seller."""
    with Tidings(server.root_key, base_url=server.base_url) as td:
        bot, buyer, seller = (td.identities.create(h) for h in ("bot", "buyer", "seller"))
        td.pricing_plans.update("bot", per_outcome="0.25")
        td.pricing_plans.update("seller", per_outcome="0.5")
        for n in range(2):
            bot.send_mail(to="x@example.com", subject=f"n{n}", usage=Usage(outcomes_returned=1))
        asked = buyer.send_marketplace_request(
            to=seller.email_address, subject="Job", body="?", budget="2"
        )
        request_id = asked.marketplace_request.marketplace_request_id
        wait_for(lambda: td.marketplace_requests.list(role="seller").data)
        seller.send_marketplace_response(
            marketplace_request_id=request_id, body="Done", usage={"outcomes_returned": 1}
        )
        wait_for(lambda: td.marketplace_requests.list(role="buyer", status="settled").data)
    return server


def test_usage_shows_totals_per_group_with_spend_and_earnings_under_them(
    metered: LiveServer,
) -> None:
    done = tidings_cli(metered, "usage", "--period", "total", "--group-by", "identity,kind")
    assert done.returncode == 0, done.stderr
    table = rows(done.stdout)
    assert table[0] == ["Identity", "Kind", "Quantity", "Amount (USD)", "Entries"]
    body = {
        (identity, kind): (quantity, amount) for identity, kind, quantity, amount, _ in table[1:]
    }
    assert body[("bot", "usage")] == ("2", "0.5")
    assert body[("bot", "send")] == ("2", "0")
    assert body[("buyer", "marketplace_charge")] == ("1", "0.5")
    assert body[("seller", "marketplace_earning")] == ("1", "0.5")
    assert "Spend 1 USD · earnings 0.5 USD" in done.stdout


def test_usage_narrows_to_an_identity_and_a_time_range(metered: LiveServer) -> None:
    daily = tidings_cli(metered, "usage", "--identity", "bot", "--since", "2000-01-01")
    future = tidings_cli(metered, "usage", "--since", "2100-01-01T00:00:00+00:00")
    bad = tidings_cli(metered, "usage", "--group-by", "identity,colour")
    bad_key = tidings_cli(metered, "usage", key="td_root_" + "x" * 40)
    assert daily.returncode == 0, daily.stderr
    [heading, *body] = rows(daily.stdout)
    assert heading == ["Period", "Identity", "Kind", "Unit", "Quantity", "Amount (USD)", "Entries"]
    assert {row[1] for row in body} == {"bot"}
    assert {(row[3], row[5]) for row in body} == {
        ("emails_sent", "0"),
        ("outcomes_returned", "0.5"),
    }
    assert len(body[0][0]) == len("2030-01-01")  # one row per UTC day
    assert "Spend 0.5 USD · earnings 0 USD" in daily.stdout
    assert future.returncode == 0, future.stderr
    assert "No usage in this period." in future.stdout
    assert "Spend 0 USD" in future.stdout
    assert bad.returncode == 2
    assert "colour" in bad.stderr
    assert bad_key.returncode == 1
    assert "invalid_api_key" in bad_key.stderr


def test_export_streams_the_ledger_as_csv_to_stdout_and_jsonl_to_a_file(
    metered: LiveServer, tmp_path: Path
) -> None:
    as_csv = tidings_cli(metered, "usage", "export", "--format", "csv")
    saved = tmp_path / "usage.jsonl"
    to_file = tidings_cli(metered, "usage", "export", "--kind", "usage", "--output", str(saved))
    with Tidings(metered.root_key, base_url=metered.base_url) as td:
        ledger = {entry.id: entry for entry in td.usage.ledger.list()}
        usage = [entry.id for entry in td.usage.ledger.list(kind="usage")]
    assert as_csv.returncode == 0, as_csv.stderr
    exported = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert {row["id"] for row in exported} == set(ledger)
    assert all(Decimal(row["amount"]) == ledger[row["id"]].amount for row in exported)
    assert to_file.returncode == 0, to_file.stderr
    assert to_file.stdout == ""  # the data went to the file, the note to stderr
    assert f"Wrote {saved.stat().st_size} bytes" in to_file.stderr
    lines = [json.loads(line) for line in saved.read_text().splitlines()]
    assert sorted(line["id"] for line in lines) == sorted(usage)
    assert {line["unit"] for line in lines} == {"outcomes_returned"}
