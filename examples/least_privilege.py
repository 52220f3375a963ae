"""Least privilege: a root key provisions, an agent key does one identity's mail only.

    TIDINGS_API_KEY=td_root_... python examples/least_privilege.py

The management client needs a root key; the sending and mailbox clients need an agent key
and refuse any other before making a request. An agent key sees only its own identity:
anything else answers 404, as if it did not exist.
"""

from __future__ import annotations

from tidings import (
    NotFoundError,
    create_mailbox_client,
    create_management_client,
    create_sending_client,
)


def main() -> None:
    with create_management_client() as admin:  # TIDINGS_API_KEY must be a root key
        for handle in ("billing-bot", "hr-bot"):
            try:
                admin.identities.get(handle)
            except NotFoundError:
                admin.identities.create(handle)
        minted = admin.api_keys.create("billing worker", identity_id="billing-bot")
        assert minted.key is not None  # the secret: shown once, store it now
        print(f"minted {minted.prefix}... for billing-bot")

        billing = "billing-bot@" + admin.whoami().features.domain
        with create_sending_client(minted.key) as sender:
            sent = sender.messages.send(
                billing, to=["customer@example.com"], subject="Your invoice",
                body_text="Attached soon.",
            )  # fmt: skip
            print(f"sent as billing-bot: {sent.status}")
        with create_mailbox_client(minted.key) as mailbox:
            outbox = mailbox.messages.list(billing, direction="outbound").data
            print(f"billing-bot sees {len(outbox)} outbound message(s)")
            try:
                mailbox.identities.get("hr-bot")
            except NotFoundError as error:
                print(f"billing-bot cannot see hr-bot: {error.code}")

        admin.api_keys.delete(minted.id)  # revoke it when the worker is retired
        print(f"revoked {minted.prefix}...")


if __name__ == "__main__":
    main()
