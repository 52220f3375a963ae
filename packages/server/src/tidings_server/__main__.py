"""`python -m tidings_server` runs the CLI."""

from tidings_server.cli import main

main()
