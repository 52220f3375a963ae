"""Tidings: the Python client for the Tidings agent communication server."""

__version__ = "0.1.0"
