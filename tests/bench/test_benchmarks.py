"""Each benchmark runs at a tiny size against its real peers and reports sane numbers.

These check that `make bench` works (the peers start, the counts add up, the report is
written), never how fast anything is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench import api_reads, fuzz, outbound, run, smtp_ingest, webhooks
from bench.fill import fill
from bench.peers import database
from tidings_server.store import migrate
from tidings_server.store.engine import create_sync_engine

pytestmark = pytest.mark.timeout(600)


def test_smtp_ingest_compares_all_three_targets(tmp_path: Path) -> None:
    result = smtp_ingest.run(0.0025, tmp_path, "sqlite")
    cases = {(c["target"], c["size"]): c for c in result["cases"]}
    assert set(cases) == {(t, s) for t in smtp_ingest.TARGETS for s in smtp_ingest.SIZES}
    for case in cases.values():
        assert case["messages"] == 50
        assert case["messages_per_second"] > 0
        assert case["ack"]["samples"] > 0
        assert 0 < case["ack"]["p50_ms"] <= case["ack"]["p99_ms"]
        # A reference may take less CPU than the clock's tick in a run this small.
        assert case["cpu_seconds_per_1k"] >= 0
    for size in smtp_ingest.SIZES:
        assert cases[("tidings", size)]["cpu_seconds_per_1k"] > 0
        # Every acknowledged message was counted where it was stored.
        assert cases[("tidings", size)]["stored"] >= 50
        assert cases[("postfix", size)]["stored"] >= 50
        assert cases[("tidings", size)]["peak_rss_mib"] > 10
    assert set(result["ratios"]) == {str(s) for s in smtp_ingest.SIZES}


def test_outbound_delivers_every_send_in_both_runs_and_postfix_relays_as_many(
    tmp_path: Path,
) -> None:
    result = outbound.run(0.0025, tmp_path, "sqlite")
    plain, adverse = result["runs"]
    assert plain["api"]["ok"] == plain["sends"] == plain["delivered"] == 50
    assert plain["deferred"] == 0
    assert plain["accept_to_delivered"]["fast"]["samples"] == 50
    assert adverse["deferred"] == sum(1 for n in range(50) if n % 20 == 0)
    assert set(adverse["accept_to_delivered"]) == {"fast", "slow"}
    reference = result["reference"]
    assert reference["sends"] == reference["delivered"] == 50
    assert reference["accept_to_delivered"]["samples"] == 50
    assert reference["delivered_per_second"] > 0
    assert result["tidings_vs_postfix"] == round(
        plain["delivered_per_second"] / reference["delivered_per_second"], 2
    )
    # The reference relays messages of about the size a Tidings send arrives at.
    assert 0.5 < reference["median_bytes"] / plain["median_bytes"] < 2


def test_api_reads_measure_every_endpoint_on_both_engines(tmp_path: Path) -> None:
    result = api_reads.run(0.0001, tmp_path, ("sqlite", "postgresql"))
    assert result["bare_asgi"]["requests_per_second"] > 0
    assert [e["engine"] for e in result["engines"]] == ["sqlite", "postgresql"]
    for engine in result["engines"]:
        assert engine["fill"]["messages"] == 2000
        for name in ("list", "get", "search"):
            assert engine[name]["requests"] > 0
            assert engine[name]["non_2xx"] == 0
            assert engine[name]["p50_ms"] <= engine[name]["p99_ms"]


def _message_indexes(url: str) -> set[str]:
    engine = create_sync_engine(url)
    with engine.connect() as connection:
        found = connection.scalars(
            sa.text("SELECT indexdef FROM pg_indexes WHERE tablename = 'messages'")
        ).all()
    engine.dispose()
    return set(found)


def test_the_generated_store_is_indexed_as_the_migrations_index_it(tmp_path: Path) -> None:
    """The generator builds the search indexes after loading, and must end with what a real
    store has: benchmarking a store with other indexes would measure other plans."""
    with database("postgresql", tmp_path / "fresh") as fresh:
        migrate.upgrade(fresh)
        migrated = _message_indexes(fresh)
    with database("postgresql", tmp_path / "filled") as filled:
        assert fill(tmp_path / "filled", filled, 100)["messages"] == 100
        generated = _message_indexes(filled)
    assert any("search_vector" in definition for definition in migrated)
    assert generated == migrated


def test_webhooks_deliver_every_event_beside_a_plain_sender(tmp_path: Path) -> None:
    result = webhooks.run(0.01, tmp_path, "sqlite")
    assert result["delivered"] == result["events"] == 50
    assert result["event_to_delivery"]["samples"] == 50
    backlog = result["backlog"]
    assert backlog["delivered"] == backlog["events"] == 50
    assert backlog["duplicates"] == 0
    assert backlog["deliveries_per_second"] > 0
    reference = result["reference"]
    assert reference["requests"] > 0
    assert reference["deliveries_per_second"] > 0
    assert 0 < reference["round_trip"]["p50_ms"] <= reference["round_trip"]["p99_ms"]
    assert reference["body_bytes"] > 200  # a real event, not an empty post


def test_fuzz_run_reports_its_inputs(tmp_path: Path) -> None:
    result = fuzz.run(0.005, tmp_path)
    assert result["passed"], result
    assert result["examples"] == 100


def test_the_runner_writes_results_and_the_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    run.run_all(0.005, ["sqlite"], ["webhooks"], tmp_path / "work", out_dir=out)
    results = json.loads((out / "results.json").read_text())
    assert results["results"]["webhooks"][0]["events"] == 50
    report = (out / "RESULTS.md").read_text()
    assert "fsync rate" in report
    assert "## 4. Webhooks" in report
    assert "| sqlite (0.005) | Tidings | 50 |" in report
    assert "| sqlite (0.005) | Tidings, backlog | 50 | 50 |" in report
    assert "| sqlite (0.005) | wrk (reference) |" in report


def test_outbound_runs_on_a_server_of_two_processes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    run.run_all(0.0025, ["postgresql:2"], ["outbound"], tmp_path / "work", out_dir=out)
    [result] = json.loads((out / "results.json").read_text())["results"]["outbound"]
    plain, adverse = result["runs"]
    assert plain["sends"] == plain["delivered"] == 50
    assert plain["duplicates"] == adverse["duplicates"] == 0
    assert plain["peak_rss_mib"] > 3 * 30  # the supervisor and both copies
    assert "| postgresql, 2 processes (0.0025) | plain | 50 |" in (out / "RESULTS.md").read_text()
