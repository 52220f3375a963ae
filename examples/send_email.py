"""Create an identity (or use the one you have) and send an email with an attachment.

    TIDINGS_API_KEY=td_root_... python examples/send_email.py --to ana@example.com \
        --attach report.pdf

The key comes from TIDINGS_API_KEY and the server from TIDINGS_BASE_URL (default
http://127.0.0.1:7700). With the server's default outbound mode (capture), mail to outside
addresses is kept and shown with status `captured` instead of leaving the machine.
"""

from __future__ import annotations

import argparse

from tidings import NotFoundError, OutboundAttachment, Tidings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handle", default="support-bot", help="the identity that sends")
    parser.add_argument("--to", required=True, action="append", help="a recipient (repeatable)")
    parser.add_argument("--subject", default="Hello from an agent")
    parser.add_argument("--attach", action="append", default=[], help="a file to attach")
    args = parser.parse_args()

    with Tidings() as td:
        try:
            bot = td.identities.get(args.handle)
        except NotFoundError:
            bot = td.identities.create(args.handle, display_name="Support Bot")
            print(f"created {bot.handle}: {bot.email_address}")
        sent = bot.send_email(
            to=args.to,
            subject=args.subject,
            body_text="Hello! The files you asked for are attached.",
            attachments=[OutboundAttachment(path=path) for path in args.attach],
            # The same key again answers with this send instead of sending twice.
            idempotency_key=f"{bot.handle}:{args.subject}:{','.join(args.to)}",
        )
        print(f"{sent.status}: {sent.id} to {', '.join(args.to)}")
        for attachment in sent.attachments:
            print(f"  attached {attachment.filename} ({attachment.size} bytes)")


if __name__ == "__main__":
    main()
