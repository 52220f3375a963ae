"""Benchmarks and long failure runs of Tidings against real peers (Postfix, PostgreSQL, wrk).

`python -m bench.run` (or `make bench`) runs them all and rewrites bench/RESULTS.md; each
module also runs alone (`python -m bench.smtp_ingest --scale 0.05`). Sizes scale with
`BENCH_SCALE` / `--scale`, so a quick run is possible.
"""
