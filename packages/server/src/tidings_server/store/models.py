"""ORM models: one class per table. Relationships never lazy-load; callers load them explicitly.

Tenant data carries `org_id`; classes that belong to one identity name that column in
`__identity_column__`, which is how `store.scope` narrows queries for agent keys.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both engines (SQLite keeps no offset of its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class TenantOwned:
    """Rows that belong to an organisation; `None` means not narrowed by identity."""

    __identity_column__: ClassVar[str | None] = None
    org_id: Mapped[str]


class ServerSecret(Base):
    """Per-installation secrets shared by every process (for example the cursor-signing key)."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime]


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime]


class Identity(TenantOwned, Base):
    __tablename__ = "identities"
    __table_args__ = (sa.UniqueConstraint("org_id", "handle"),)
    __identity_column__ = "id"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    handle: Mapped[str] = mapped_column(sa.String(64))
    display_name: Mapped[str | None] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.String(2000))
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    # The database cascades the delete (ON DELETE CASCADE); the ORM must not null the key.
    mailbox: Mapped[Mailbox] = relationship(
        back_populates="identity",
        lazy="raise",
        uselist=False,
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Mailbox(TenantOwned, Base):
    __tablename__ = "mailboxes"
    __identity_column__ = "identity_id"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    identity_id: Mapped[str] = mapped_column(
        sa.ForeignKey("identities.id", ondelete="CASCADE"), unique=True
    )
    address: Mapped[str] = mapped_column(sa.String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    identity: Mapped[Identity] = relationship(back_populates="mailbox", lazy="raise")


class ApiKey(TenantOwned, Base):
    __tablename__ = "api_keys"
    __identity_column__ = "identity_id"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    identity_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("identities.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(16))
    lookup: Mapped[str] = mapped_column(sa.String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    prefix: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    """A POST's idempotency key: who holds it, what the request was, and its stored answer."""

    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("api_key_id", "key"),)

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    api_key_id: Mapped[str] = mapped_column(sa.ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(255))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    locked_until: Mapped[datetime | None]
    response_status: Mapped[int | None]
    response_headers: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    response_body: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class RateLimitWindow(Base):
    """Requests counted per API key and fixed window, shared by every process on one database."""

    __tablename__ = "rate_limit_windows"

    api_key_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    window_start: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer)


class Thread(TenantOwned, Base):
    """A conversation in one mailbox."""

    __tablename__ = "threads"
    __table_args__ = (sa.Index("ix_threads_mailbox_subject", "mailbox_id", "subject_key"),)
    __identity_column__ = "identity_id"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    identity_id: Mapped[str] = mapped_column(sa.ForeignKey("identities.id", ondelete="CASCADE"))
    mailbox_id: Mapped[str] = mapped_column(sa.ForeignKey("mailboxes.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(sa.Text)
    subject_key: Mapped[str] = mapped_column(sa.String(255))
    participants: Mapped[list[str]] = mapped_column(sa.JSON)
    message_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_message_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Message(TenantOwned, Base):
    """One copy of a message in one mailbox, inbound or outbound, with its parsed fields."""

    __tablename__ = "messages"
    __table_args__ = (
        sa.Index("ix_messages_mailbox_id_id", "mailbox_id", "id"),
        sa.Index("ix_messages_mailbox_rfc_id", "mailbox_id", "rfc_message_id"),
        sa.Index("ix_messages_mailbox_from", "mailbox_id", "from_address"),
    )
    __identity_column__ = "identity_id"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    identity_id: Mapped[str] = mapped_column(sa.ForeignKey("identities.id", ondelete="CASCADE"))
    mailbox_id: Mapped[str] = mapped_column(sa.ForeignKey("mailboxes.id", ondelete="CASCADE"))
    thread_id: Mapped[str] = mapped_column(
        sa.ForeignKey("threads.id", ondelete="CASCADE"), index=True
    )
    thread_match: Mapped[str] = mapped_column(sa.String(16))
    direction: Mapped[str] = mapped_column(sa.String(8))
    status: Mapped[str] = mapped_column(sa.String(16))
    rfc_message_id: Mapped[str | None] = mapped_column(sa.String(998))
    in_reply_to: Mapped[str | None] = mapped_column(sa.String(998))
    references: Mapped[list[str]] = mapped_column(sa.JSON)
    from_: Mapped[list[dict[str, str]]] = mapped_column("from", sa.JSON)
    to: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON)
    cc: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON)
    bcc: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON)
    reply_to: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON)
    envelope_from: Mapped[str | None] = mapped_column(sa.String(998))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))
    correlation_id: Mapped[str | None] = mapped_column(sa.String(255))
    # Who sent it (outbound), and what the send reported and booked (see usage).
    api_key_id: Mapped[str | None] = mapped_column(sa.String(40))
    reservation_key: Mapped[str | None] = mapped_column(sa.String(40))
    marketplace_request_id: Mapped[str | None] = mapped_column(sa.String(255))
    usage: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    subject: Mapped[str] = mapped_column(sa.Text)
    preview: Mapped[str] = mapped_column(sa.Text)
    body_text: Mapped[str | None] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    extracted_text: Mapped[str | None] = mapped_column(sa.Text)
    headers: Mapped[list[list[str]]] = mapped_column(sa.JSON)
    labels: Mapped[list[str]] = mapped_column(sa.JSON)
    # Plain-text copies for filtering: JSON text differs by engine and escapes non-ASCII.
    label_index: Mapped[str] = mapped_column(sa.Text, default="|", server_default="|")  # |a|b|
    from_address: Mapped[str | None] = mapped_column(sa.String(320))
    is_read: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    is_starred: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    parse_warnings: Mapped[list[str]] = mapped_column(sa.JSON)
    size: Mapped[int] = mapped_column(sa.Integer)
    raw_blob: Mapped[str] = mapped_column(sa.String(64), index=True)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    def set_labels(self, labels: list[str]) -> None:
        self.labels = sorted(set(labels))
        self.label_index = "".join(f"|{label}" for label in self.labels) + "|"

    def set_from(self, addresses: list[dict[str, str]]) -> None:
        self.from_ = addresses
        self.from_address = addresses[0]["address"].lower() if addresses else None

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message",
        lazy="raise",
        order_by="Attachment.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Attachment(TenantOwned, Base):
    __tablename__ = "attachments"
    __identity_column__ = "identity_id"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    identity_id: Mapped[str] = mapped_column(sa.ForeignKey("identities.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str | None] = mapped_column(sa.String(1000))
    content_type: Mapped[str] = mapped_column(sa.String(255))
    size: Mapped[int] = mapped_column(sa.Integer)
    content_id: Mapped[str | None] = mapped_column(sa.String(998))
    inline: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    blob: Mapped[str] = mapped_column(sa.String(64), index=True)

    message: Mapped[Message] = relationship(back_populates="attachments", lazy="raise")


class Event(TenantOwned, Base):
    """The durable, ordered event log: written in the transaction of the change it describes.

    `seq` orders the log; per organisation, events commit in `seq` order (see events.log).
    """

    __tablename__ = "events"
    __table_args__ = (sa.Index("ix_events_org_seq", "org_id", "seq"),)
    __identity_column__ = "identity_id"

    seq: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    identity_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("identities.id", ondelete="SET NULL"), index=True
    )
    mailbox_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    type: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime]


class Delivery(TenantOwned, Base):
    """One recipient of one outbound message: the outbox job, its state and retry schedule.

    Created in the transaction that accepts the send; a worker claims it with a lease, so a
    worker that dies mid-delivery leaves a job another worker picks up when the lease ends.
    """

    __tablename__ = "deliveries"
    __table_args__ = (sa.Index("ix_deliveries_due", "status", "next_attempt_at"),)
    __identity_column__ = "identity_id"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    identity_id: Mapped[str] = mapped_column(sa.ForeignKey("identities.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[str] = mapped_column(sa.String(320))
    domain: Mapped[str] = mapped_column(sa.String(255))
    route: Mapped[str] = mapped_column(sa.String(16))  # internal | capture | relay | mx
    status: Mapped[str] = mapped_column(sa.String(16))
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_code: Mapped[int | None]
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DkimKey(Base):
    """The DKIM signing key of a hosted domain, made at first start."""

    __tablename__ = "dkim_keys"

    domain: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    selector: Mapped[str] = mapped_column(sa.String(63))
    private_key_pem: Mapped[str] = mapped_column(sa.Text)
    public_key_b64: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime]


class Webhook(TenantOwned, Base):
    """A subscription: POST these event types of an organisation, identity or mailbox to a URL.

    The signing secrets are kept in the clear because every delivery needs them; during a
    rotation the previous secret signs too until `previous_secret_expires_at`.
    """

    __tablename__ = "webhooks"
    __identity_column__ = "identity_id"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    identity_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("identities.id", ondelete="CASCADE"), index=True
    )
    mailbox_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("mailboxes.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(sa.String(2048))
    event_types: Mapped[list[str]] = mapped_column(sa.JSON)
    headers: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(500))
    secret: Mapped[str] = mapped_column(sa.String(100))
    previous_secret: Mapped[str | None] = mapped_column(sa.String(100))
    previous_secret_expires_at: Mapped[datetime | None]
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookDelivery(TenantOwned, Base):
    """One event to one subscription: the job, its state and retry schedule.

    Deliveries of one subscription with the same `order_key` (the event's mailbox) go out in
    `event_seq` order: a later one waits while an earlier one is still pending.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_order", "webhook_id", "order_key", "event_seq"),
    )
    __identity_column__ = "identity_id"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    identity_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("identities.id", ondelete="CASCADE"), index=True
    )
    webhook_id: Mapped[str] = mapped_column(sa.ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    event_seq: Mapped[int] = mapped_column(sa.BigInteger)
    order_key: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(16))  # pending | succeeded | failed | cancelled
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    replay_of: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


class WebhookAttempt(TenantOwned, Base):
    """One HTTP attempt of a delivery: what came back and how long it took."""

    __tablename__ = "webhook_attempts"
    __identity_column__ = "identity_id"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    identity_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("identities.id", ondelete="CASCADE")
    )
    delivery_id: Mapped[str] = mapped_column(
        sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None]
    latency_ms: Mapped[int] = mapped_column(sa.Integer)
    response_excerpt: Mapped[str] = mapped_column(sa.Text, default="")
    error: Mapped[str | None] = mapped_column(sa.Text)


class PricingPlan(TenantOwned, Base):
    """What an identity charges for its work: any mix of token, outcome, compute and custom
    unit prices. Prices are exact decimals kept as integer nanos (see usage.amounts)."""

    __tablename__ = "pricing_plans"
    __identity_column__ = "identity_id"

    identity_id: Mapped[str] = mapped_column(
        sa.ForeignKey("identities.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    tokens_input_per_1k: Mapped[int | None] = mapped_column(sa.BigInteger)
    tokens_output_per_1k: Mapped[int | None] = mapped_column(sa.BigInteger)
    per_outcome: Mapped[int | None] = mapped_column(sa.BigInteger)
    compute_per_second: Mapped[int | None] = mapped_column(sa.BigInteger)
    custom_units: Mapped[dict[str, int]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Quota(TenantOwned, Base):
    """Send limits of one identity or one API key (`subject_id`); None means no limit."""

    __tablename__ = "quotas"
    __identity_column__ = "identity_id"

    subject_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    # The identity the subject belongs to (a root key's quota has none), for agent scoping.
    identity_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("identities.id", ondelete="CASCADE"), index=True
    )
    subject_kind: Mapped[str] = mapped_column(sa.String(16))  # identity | api_key
    sends_per_minute: Mapped[int | None]
    sends_per_day: Mapped[int | None]
    recipients_per_day: Mapped[int | None]
    spend_per_day: Mapped[int | None] = mapped_column(sa.BigInteger)  # nanos
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class UsageEntry(TenantOwned, Base):
    """The append-only usage ledger: one row per unit of one send, receipt or settlement.

    Rows are never updated or deleted, and outlive the identities and keys they name (no
    foreign keys), so the history stays whole. Quantities and amounts are integer nanos.
    """

    __tablename__ = "usage_entries"
    __table_args__ = (
        sa.Index("ix_usage_entries_org_created", "org_id", "created_at"),
        sa.Index("ix_usage_entries_identity_unit", "identity_id", "unit", "created_at"),
        sa.Index("ix_usage_entries_key_unit", "api_key_id", "unit", "created_at"),
    )
    __identity_column__ = "identity_id"

    seq: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    org_id: Mapped[str] = mapped_column(sa.String(40))
    identity_id: Mapped[str | None] = mapped_column(sa.String(40))
    api_key_id: Mapped[str | None] = mapped_column(sa.String(40))
    message_id: Mapped[str | None] = mapped_column(sa.String(40))
    kind: Mapped[str] = mapped_column(sa.String(32))
    unit: Mapped[str] = mapped_column(sa.String(80))
    quantity: Mapped[int] = mapped_column(sa.BigInteger)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    correlation_id: Mapped[str | None] = mapped_column(sa.String(255))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))
    reservation_key: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    marketplace_request_id: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime]


class QuotaRecipient(TenantOwned, Base):
    """A recipient an identity (through a key) sent to on a UTC day: counts distinct recipients."""

    __tablename__ = "quota_recipients"
    __table_args__ = (sa.Index("ix_quota_recipients_key_day", "api_key_id", "day"),)
    __identity_column__ = "identity_id"

    identity_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    api_key_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    day: Mapped[str] = mapped_column(sa.String(10), primary_key=True)  # YYYY-MM-DD
    recipient: Mapped[str] = mapped_column(sa.String(320), primary_key=True)
    org_id: Mapped[str] = mapped_column(sa.String(40))


class MarketplaceRequest(TenantOwned, Base):
    """One side of a marketplace request: the buyer's budget hold, or the seller's open job.

    The buyer's row holds `budget` against its spend until the seller's answer settles it or
    it expires; the seller's row records what was asked, so the answer can be checked and
    priced once.
    """

    __tablename__ = "marketplace_requests"
    __table_args__ = (sa.UniqueConstraint("identity_id", "role", "marketplace_request_id"),)
    __identity_column__ = "identity_id"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    identity_id: Mapped[str] = mapped_column(sa.ForeignKey("identities.id", ondelete="CASCADE"))
    api_key_id: Mapped[str | None] = mapped_column(sa.String(40))
    role: Mapped[str] = mapped_column(sa.String(8))  # buyer | seller
    marketplace_request_id: Mapped[str] = mapped_column(sa.String(255))
    counterparty: Mapped[str] = mapped_column(sa.String(320))  # the other side's address
    message_id: Mapped[str] = mapped_column(sa.String(40))  # the request, in this mailbox
    rfc_message_id: Mapped[str | None] = mapped_column(sa.String(998))
    reservation_key: Mapped[str | None] = mapped_column(sa.String(40))
    correlation_id: Mapped[str | None] = mapped_column(sa.String(255))
    currency: Mapped[str] = mapped_column(sa.String(3))
    budget: Mapped[int | None] = mapped_column(sa.BigInteger)
    charged: Mapped[int | None] = mapped_column(sa.BigInteger)
    # buyer: held | settled | expired; seller: open | settled
    status: Mapped[str] = mapped_column(sa.String(16))
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    settled_at: Mapped[datetime | None]
    response_message_id: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
