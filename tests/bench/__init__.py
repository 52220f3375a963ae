"""Tests of the benchmark scripts: they run and report sanely (not how fast anything is)."""
