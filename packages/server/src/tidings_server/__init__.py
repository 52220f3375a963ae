"""Tidings server: HTTP API, storage and (soon) the SMTP engine for AI agents' mail."""

__version__ = "0.1.0"
