"""Follow events live (server-sent events) and print each one as it happens.

    TIDINGS_API_KEY=td_... python examples/follow_events.py --types message.received

A dropped connection is resumed after the last event seen, so nothing is missed or repeated.
Pass --after <evt_id> to pick up from where an earlier run stopped; Ctrl-C to stop.
"""

from __future__ import annotations

import argparse
import contextlib

from tidings import MessageDeliveredEvent, MessageReceivedEvent, Tidings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--types", help="comma-separated event types (default: all)")
    parser.add_argument("--mailbox", help="only this mailbox's events")
    parser.add_argument("--after", help="start after this event id")
    parser.add_argument("--count", type=int, help="stop after this many events")
    args = parser.parse_args()

    types = args.types.split(",") if args.types else None
    with Tidings() as td, td.events.stream(
        types=types, mailbox=args.mailbox, after=args.after
    ) as events:  # fmt: skip
        print("listening for events (Ctrl-C to stop)", flush=True)
        for seen, event in enumerate(events, start=1):
            if isinstance(event, MessageReceivedEvent):
                message = event.data.message
                detail = f"{message.mailbox} got {message.subject!r}"
            elif isinstance(event, MessageDeliveredEvent):
                detail = f"delivered to {event.data.delivery.recipient}"
            else:
                detail = ""
            print(f"{event.id} {event.type} {detail}".rstrip(), flush=True)
            if args.count is not None and seen >= args.count:
                break


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C stops it quietly
        main()
