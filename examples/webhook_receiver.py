"""Receive webhooks: a small HTTP server that subscribes itself and verifies every request.

    TIDINGS_API_KEY=td_root_... python examples/webhook_receiver.py --port 8000 --send-test

It subscribes `--public-url` (default: its own address) to `--types`, checks each delivery's
Standard Webhooks signature with `verify_webhook`, prints the event, and removes the
subscription when it stops. The server refuses private and loopback URLs unless allowed:
start it with TIDINGS_WEBHOOK_ALLOW_HOSTS=127.0.0.1 to try this on one machine.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tidings import Event, MessageReceivedEvent, Tidings, WebhookVerificationError, verify_webhook


def make_handler(secret: str, on_event: Callable[[Event], None]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                # The raw body and the request's own headers, before anything parses them.
                event = verify_webhook(body, dict(self.headers.items()), secret)
            except WebhookVerificationError as error:
                print(f"refused a request: {error.reason}", flush=True)
                self.send_response(400)
                self.end_headers()
                return
            self.send_response(204)  # answer fast; do slow work elsewhere
            self.end_headers()
            on_event(event)  # deliveries are retried: dedupe on event.id if it matters

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the events are printed instead

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--public-url", help="the URL Tidings should POST to")
    parser.add_argument("--types", default="message.received", help="comma-separated")
    parser.add_argument("--send-test", action="store_true", help="ask for a webhook.test")
    parser.add_argument("--count", type=int, help="stop after this many verified events")
    args = parser.parse_args()

    received = 0
    enough = threading.Event()

    def on_event(event: Event) -> None:
        nonlocal received
        received += 1
        detail = event.data.message.subject if isinstance(event, MessageReceivedEvent) else ""
        print(f"verified {event.type} {event.id} {detail}".rstrip(), flush=True)
        if args.count is not None and received >= args.count:
            enough.set()

    with Tidings() as td:
        server = ThreadingHTTPServer((args.host, args.port), BaseHTTPRequestHandler)
        url = args.public_url or f"http://{args.host}:{server.server_address[1]}/tidings"
        hook = td.webhooks.create(url, args.types.split(","), description="example receiver")
        assert hook.secret is not None  # shown once, here
        server.RequestHandlerClass = make_handler(hook.secret, on_event)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(f"receiving {args.types} at {url} (Ctrl-C to stop)", flush=True)
        try:
            if args.send_test:
                td.webhooks.test(hook.id)
            enough.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
            td.webhooks.delete(hook.id)
            print(f"unsubscribed {hook.id}", flush=True)


if __name__ == "__main__":
    main()
