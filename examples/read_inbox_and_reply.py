"""Read an identity's unread mail, reply to each message, and mark it read.

    TIDINGS_API_KEY=td_... python examples/read_inbox_and_reply.py --handle support-bot

A root key works for any identity; an agent key (td_agent_...) for its own only.
"""

from __future__ import annotations

import argparse

from tidings import Tidings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handle", default="support-bot")
    args = parser.parse_args()

    with Tidings() as td:
        bot = td.identities.get(args.handle)
        answered = []
        for summary in bot.iter_unread_emails():  # every page, newest first
            message = bot.get_email(summary.id)  # lists leave bodies out
            sender = message.from_.address if message.from_ else "unknown sender"
            print(f"from {sender}: {message.subject!r}")
            first_line = (message.extracted_text or message.body_text or "").strip().split("\n")[0]
            reply = bot.reply(
                message.id,
                body_text=f"Thanks for your message. You wrote: {first_line}",
                idempotency_key=f"reply:{message.id}",  # a rerun never replies twice
            )
            print(f"  replied: {reply.subject!r} ({reply.status})")
            answered.append(message.id)
        bot.mark_emails_read(answered)
        print(f"{len(answered)} message(s) answered")


if __name__ == "__main__":
    main()
