"""`tidings listen --forward URL`: webhooks for local development, without a public URL.

It follows the server's event stream with the SDK and POSTs each event to a local URL the way
a webhook delivery would: the same JSON body, signed with Standard Webhooks headers. The app
under development verifies it with `tidings.verify_webhook` and the secret printed at start.
A failed POST is retried a few times, reported, and the stream goes on.
"""

from __future__ import annotations

import base64
import secrets
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated

import httpx2
import typer
from rich.console import Console
from rich.markup import escape

import tidings
from tidings import Event, Tidings, TidingsError
from tidings.webhooks import sign_headers, sign_webhook
from tidings_server.cli.connection import ApiKeyOption, BaseUrlOption

USER_AGENT = f"tidings-listen/{tidings.__version__}"
# Waits before the 2nd and 3rd tries: enough for a dev server that is reloading.
RETRY_WAITS = (0.5, 1.5)
POST_TIMEOUT = 10.0
console = Console(soft_wrap=True, highlight=False)
stderr = Console(stderr=True, soft_wrap=True, highlight=False)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _valid(secret: str) -> bool:
    try:
        sign_webhook(secret, msg_id="check", timestamp=0, body=b"")
    except ValueError:
        return False
    return True


class Forwarder:
    """POSTs events to one URL, signed with one secret, retrying what might pass next time."""

    def __init__(self, http: httpx2.Client, url: str, secret: str) -> None:
        self.http = http
        self.url = url
        self.secret = secret

    def post(self, event_id: str, body: bytes) -> tuple[int | None, str]:
        """The last answer's status (None if none came) and what to print about it."""
        tries = 0
        for wait in (0.0, *RETRY_WAITS):
            time.sleep(wait)
            tries += 1
            status, detail = self._once(event_id, body)
            if status is not None and not _worth_retrying(status):
                return status, detail
        return status, f"{detail} after {tries} tries"

    def _once(self, event_id: str, body: bytes) -> tuple[int | None, str]:
        # Signed afresh for each try: a receiver refuses timestamps that are too old.
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **sign_headers(self.secret, msg_id=event_id, timestamp=int(time.time()), body=body),
        }
        try:
            answer = self.http.post(self.url, content=body, headers=headers)
        except httpx2.TransportError as error:
            return None, f"{type(error).__name__}: {error}"
        return answer.status_code, str(answer.status_code)


def _worth_retrying(status: int) -> bool:
    # As the server's deliveries do: a 4xx (say, a failed signature check) will not change.
    return status >= 500 or status in (408, 429)


def _line(event: Event, status: int | None, detail: str) -> str:
    ok = status is not None and 200 <= status < 300
    mark = "[green]→[/green]" if ok else "[red]✗[/red]"
    return f"{mark} [bold]{escape(event.type)}[/bold] {escape(event.id)} {escape(detail)}"


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Ctrl-C and SIGTERM stop the same clean way. SIGINT is set here too, not left to Python:
    a shell that starts a command in the background (`tidings listen ... &` in a script)
    makes it ignore SIGINT, and Python then never turns SIGINT into KeyboardInterrupt."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    stopping = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, interrupt) for signum in stopping}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def listen(
    forward: Annotated[str, typer.Option("--forward", help="Local URL to POST each event to.")],
    types: Annotated[
        str | None, typer.Option("--types", help="Comma-separated event types; all if left out.")
    ] = None,
    mailbox: Annotated[
        str | None, typer.Option("--mailbox", help="Only this mailbox's events (address or id).")
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option("--secret", help="whsec_... to sign with; a new one is printed if left out."),
    ] = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Forward live events to a local URL as signed webhook requests (for development)."""
    if secret is not None and not _valid(secret):
        stderr.print("[red]--secret must be whsec_ followed by base64.[/red]")
        raise typer.Exit(2)
    signing = secret or new_secret()
    wanted = [t.strip() for t in (types or "").split(",") if t.strip()]
    with _stop_on_signals():
        try:
            _run(forward, signing, wanted, mailbox, api_key, base_url, show_secret=secret is None)
        except KeyboardInterrupt:
            console.print("Stopped.")
        except TidingsError as error:
            stderr.print(f"[red]{escape(str(error))}[/red]")
            raise typer.Exit(1) from error


def _run(
    url: str,
    secret: str,
    types: list[str],
    mailbox: str | None,
    api_key: str | None,
    base_url: str | None,
    *,
    show_secret: bool,
) -> None:
    with (
        Tidings(api_key, base_url=base_url) as td,
        httpx2.Client(timeout=POST_TIMEOUT) as http,
        td.events.stream(types=types or None, mailbox=mailbox) as events,
    ):
        if show_secret:
            console.print(f"Signing secret (verify requests with it): {secret}")
        # Printed once the stream is connected: from here on no event is missed.
        console.print(
            f"Listening on {escape(td.base_url)}, forwarding to {escape(url)} (Ctrl-C to stop)"
        )
        forwarder = Forwarder(http, url, secret)
        for event in events:
            body = (events.last_event_json or "").encode()
            status, detail = forwarder.post(event.id, body)
            console.print(_line(event, status, detail))
