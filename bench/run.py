"""Run every benchmark and failure run, then rewrite bench/RESULTS.md (and results.json).

    python -m bench.run [--scale 0.05] [--engines sqlite,postgresql] [--only smtp_ingest,...]

Environment: BENCH_SCALE, BENCH_ENGINES, BENCH_ONLY, BENCH_WORKDIR. With --only, the other
benchmarks' earlier results are kept from results.json, so one can be rerun alone. An engine
written `postgresql:2` runs `tidings serve --processes 2` on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import api_reads, crash, fuzz, machine, outbound, report, shared_queue, smtp_ingest
from bench import webhooks as webhook_bench
from bench.peers import split_setup

HERE = Path(__file__).resolve().parent
Runner = Callable[[float, Path, str], dict[str, Any]]
# name -> (runner, engines it runs on: "each" of the chosen engines, or a fixed one)
BENCHMARKS: dict[str, tuple[Runner, str]] = {
    "smtp_ingest": (smtp_ingest.run, "each"),
    "outbound": (outbound.run, "each"),
    "api_reads": (lambda s, w, e: api_reads.run(s, w, tuple(e.split(","))), "all"),
    "webhooks": (webhook_bench.run, "each"),
    "crash": (crash.run, "each"),
    "shared_queue": (shared_queue.run, "postgresql"),
    "fuzz": (fuzz.run, "none"),
}
# An engine may name a server with several processes (`postgresql:2`); the crash runs kill
# the one process they started, so they run on the bare engine.
ONE_PROCESS = {"crash"}


class LoadSampler(threading.Thread):
    """The 1-minute load average every few seconds while the benchmarks run."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(5.0):
            self.samples.append(os.getloadavg()[0])

    def summary(self) -> dict[str, float]:
        values = self.samples or [os.getloadavg()[0]]
        return {"mean": round(sum(values) / len(values), 2), "max": round(max(values), 2)}


def _run_one(
    runner: Runner,
    on: str,
    name: str,
    scale: float,
    engines: list[str],
    workdir: Path,
    results: dict[str, Any],
) -> list[dict[str, Any]]:
    if name in ONE_PROCESS:
        engines = list(dict.fromkeys(split_setup(engine)[0] for engine in engines))
    if on == "each":
        outcome = [runner(scale, workdir / name, engine) for engine in engines]
        for entry in outcome:
            entry["scale"] = scale
        # Rerunning on some engines keeps the other engines' earlier results.
        kept = [r for r in results["results"].get(name, []) if r.get("engine") not in engines]
        outcome = kept + outcome
    elif on == "all":
        outcome = [runner(scale, workdir / name, ",".join(engines))]
    elif on == "none":
        outcome = [runner(scale, workdir / name, "")]
    else:
        outcome = [runner(scale, workdir / name, on)]
    return outcome


def run_all(
    scale: float, engines: list[str], only: list[str], workdir: Path, out_dir: Path = HERE
) -> dict[str, Any]:
    """Run the chosen benchmarks; write results.json and RESULTS.md into `out_dir`."""
    results_path = out_dir / "results.json"
    previous: dict[str, Any] = {}
    if only and results_path.exists():
        previous = json.loads(results_path.read_text())
    results: dict[str, Any] = {
        "machine": machine.facts(workdir),
        "scale": scale,
        "engines": engines,
        "results": previous.get("results", {}),
        "scales": previous.get("scales", {}),
    }
    failures: dict[str, str] = {}
    sampler = LoadSampler()
    sampler.start()
    started = time.time()
    for name, (runner, on) in BENCHMARKS.items():
        if only and name not in only:
            continue
        print(f"== {name}", flush=True)
        try:
            outcome = _run_one(runner, on, name, scale, engines, workdir, results)
        except Exception as exc:
            print(f"!! {name} failed: {exc!r}", flush=True)
            failures[name] = repr(exc)
            continue
        results["results"][name] = outcome
        results["scales"][name] = scale
        # Saved after each benchmark: a later one failing must not lose an hour of results.
        results_path.write_text(json.dumps(results, indent=2) + "\n")
        shutil.rmtree(workdir / name, ignore_errors=True)  # a 1M-message store is gigabytes
    sampler.halt.set()
    runs = previous.get("machine", {}).get("runs", [])
    runs.append(
        {
            "date": results["machine"]["date"],
            "only": only or sorted(BENCHMARKS),
            "engines": engines,
            "scale": scale,
            "load_at_start": results["machine"]["load_at_start"],
            "load_during": sampler.summary(),
            "minutes": round((time.time() - started) / 60, 1),
        }
    )
    runs[-1]["failures"] = failures
    results["machine"]["runs"] = runs if only else runs[-1:]
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    (out_dir / "RESULTS.md").write_text(report.render(results))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    parser.add_argument("--engines", default=os.environ.get("BENCH_ENGINES", "sqlite,postgresql"))
    parser.add_argument("--only", default=os.environ.get("BENCH_ONLY", ""))
    parser.add_argument("--workdir", default=os.environ.get("BENCH_WORKDIR", ""))
    args = parser.parse_args()
    only = [n for n in args.only.split(",") if n]
    unknown = set(only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks {sorted(unknown)}; known: {sorted(BENCHMARKS)}")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="tidings-bench-"))
    try:
        run_all(args.scale, args.engines.split(","), only, workdir)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"wrote {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
