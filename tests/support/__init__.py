"""Test support: real databases and real servers for the tests to talk to."""
