"""An async agent: follow an identity's incoming mail live and answer each message.

    TIDINGS_API_KEY=td_... python examples/async_autoresponder.py --handle support-bot

It subscribes before anything else, so no message that arrives while it runs is missed;
pass --after <evt_id> to also answer what arrived while it was away.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from tidings import AsyncTidings, MessageReceivedEvent


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handle", default="support-bot")
    parser.add_argument("--after", help="start after this event id")
    parser.add_argument("--count", type=int, help="stop after answering this many")
    args = parser.parse_args()

    async with AsyncTidings() as td:
        bot = await td.identities.get(args.handle)
        answered = 0
        async with td.events.stream(
            types=["message.received"], mailbox=bot.email_address, after=args.after
        ) as events:  # fmt: skip
            print(f"answering mail to {bot.email_address} (Ctrl-C to stop)", flush=True)
            async for event in events:
                if not isinstance(event, MessageReceivedEvent):
                    continue
                message = event.data.message
                reply = await bot.reply(
                    message.id,
                    body_text="Thanks, we got your message and will answer within a day.",
                    idempotency_key=f"auto-reply:{message.id}",
                )
                await bot.mark_emails_read([message.id])
                print(f"answered {message.subject!r} with {reply.subject!r}", flush=True)
                answered += 1
                if args.count is not None and answered >= args.count:
                    break


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C stops it quietly
        asyncio.run(main())
