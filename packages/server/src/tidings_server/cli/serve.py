"""`tidings serve`: run the app under uvicorn until SIGINT/SIGTERM, then drain and stop.

On a signal uvicorn stops accepting connections, lets in-flight requests finish (up to
`shutdown_timeout_seconds`), and only then runs the app's shutdown, which closes the database.
Every request commits or rolls back as a whole, so nothing is left half-written.
"""

from __future__ import annotations

import logging

import uvicorn
from rich.console import Console

from tidings_server.api import create_app
from tidings_server.runtime import Runtime
from tidings_server.settings import Settings


def _announce(console: Console, runtime: Runtime) -> None:
    settings = runtime.settings
    host, port = settings.http_bind
    console.print(f"Tidings API on http://{host}:{port}  (docs: /docs)")
    console.print(f"Data in {settings.data_dir}; hosted domain {settings.domain}")
    if settings.outbound == "capture":
        console.print(
            "Outbound mail is captured: mail to outside addresses is kept and never leaves "
            "this machine (set TIDINGS_OUTBOUND to send)."
        )
    if runtime.bootstrap.root_key is not None:
        console.print("First start: created the organisation and its root API key.")
        console.print(f"Root API key (shown once; saved to {settings.root_key_path}):")
        print(runtime.bootstrap.root_key, flush=True)


async def serve_forever(settings: Settings, console: Console) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    app = create_app(settings, on_start=lambda runtime: _announce(console, runtime))
    host, port = settings.http_bind
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=settings.log_level,
            timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds),
            access_log=settings.log_level == "debug",
            server_header=False,
        )
    )
    await server.serve()
    if not server.started:
        raise SystemExit(3)
