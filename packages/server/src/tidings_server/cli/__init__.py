"""The `tidings` command: run the server, migrate the database, mint keys."""

from tidings_server.cli.main import app, main

__all__ = ["app", "main"]
