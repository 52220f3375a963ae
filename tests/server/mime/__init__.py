"""Tests of the MIME module: parsing, building, subjects."""
