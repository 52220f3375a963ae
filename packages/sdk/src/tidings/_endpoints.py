"""Every endpoint the SDK calls, in one table that the resources build their requests from.

A `Request` can only be made from an `Api` member, and `Api.X.request(...)` refuses a path,
query parameter or body the table does not declare for X. So this table is exactly what the
SDK can send, and the drift test compares it (with the response models) to the server's
OpenAPI document. Endpoints the SDK leaves alone on purpose are in `UNWRAPPED`, with why.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel

from tidings import _bodies as b
from tidings import _models as m
from tidings import _usage as u
from tidings._attachments import JSONBody
from tidings._events import Event

__all__ = ["UNWRAPPED", "Api", "Request", "Route"]

# one: a JSON object; page: {data, pagination} of `response`; items: {data} of `response`;
# bytes: the body as is (raw mail, attachments); stream: server-sent events of `response`.
Shape = Literal["one", "page", "items", "bytes", "stream"]
PAGING = frozenset({"limit", "cursor"})


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    response: type[BaseModel] | None
    shape: Shape = "one"
    body: type[b.Body] | None = None
    query: frozenset[str] = frozenset()
    headers: frozenset[str] = frozenset()  # request headers that are parameters of this endpoint

    @property
    def path_params(self) -> frozenset[str]:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(self.path) if name)

    @property
    def query_params(self) -> frozenset[str]:
        return self.query | PAGING if self.shape == "page" else self.query


def _route(
    method: str, path: str, response: type[BaseModel] | None, shape: Shape = "one", *,
    body: type[b.Body] | None = None, query: str = "", headers: str = "",
) -> Route:  # fmt: skip
    return Route(
        method, path, response, shape, body, frozenset(query.split()), frozenset(headers.split())
    )


_MESSAGES = "/v1/mailboxes/{address}/messages"
_MESSAGE = _MESSAGES + "/{message_id}"
_WEBHOOK = "/v1/webhooks/subscriptions/{webhook_id}"
_MARKETPLACE = "/v1/mailboxes/{address}/marketplace"
_LEDGER_FILTERS = "identity api_key_id unit kind correlation_id marketplace_request_id since until"


class Api(Enum):
    """The table. Paths and parameter names are the server's, so they compare as they are."""

    value: Route

    GET_SESSION = _route("GET", "/v1/session", m.SessionInfo)

    CREATE_IDENTITY = _route("POST", "/v1/identities", m.Identity, body=b.IdentityCreateBody)
    LIST_IDENTITIES = _route("GET", "/v1/identities", m.Identity, "page")
    GET_IDENTITY = _route("GET", "/v1/identities/{handle}", m.Identity)
    UPDATE_IDENTITY = _route(
        "PATCH", "/v1/identities/{handle}", m.Identity, body=b.IdentityUpdateBody
    )
    DELETE_IDENTITY = _route("DELETE", "/v1/identities/{handle}", m.Deleted)

    LIST_MAILBOXES = _route("GET", "/v1/mailboxes", m.Mailbox, "page")
    GET_MAILBOX = _route("GET", "/v1/mailboxes/{address}", m.Mailbox)
    UPDATE_MAILBOX = _route("PATCH", "/v1/mailboxes/{address}", m.Mailbox, body=b.MailboxUpdateBody)
    SEARCH_MAILBOX = _route("GET", "/v1/mailboxes/{address}/search", m.SearchHit, "page", query="q")

    LIST_MESSAGES = _route(
        "GET", _MESSAGES, m.MessageSummary, "page",
        query="direction unread starred label thread_id from before after",
    )  # fmt: skip
    SEND_MESSAGE = _route("POST", _MESSAGES, m.Message, body=b.SendBody)
    GET_MESSAGE = _route("GET", _MESSAGE, m.Message)
    UPDATE_MESSAGE = _route("PATCH", _MESSAGE, m.Message, body=b.MessageUpdateBody)
    DELETE_MESSAGE = _route("DELETE", _MESSAGE, m.Deleted)
    GET_RAW_MESSAGE = _route("GET", _MESSAGE + "/raw", None, "bytes")
    GET_ATTACHMENT = _route("GET", _MESSAGE + "/attachments/{attachment_id}", None, "bytes")
    REPLY = _route("POST", _MESSAGE + "/reply", m.Message, body=b.ReplyBody)
    REPLY_ALL = _route("POST", _MESSAGE + "/reply-all", m.Message, body=b.ReplyBody)
    FORWARD = _route("POST", _MESSAGE + "/forward", m.Message, body=b.ForwardBody)

    LIST_THREADS = _route("GET", "/v1/mailboxes/{address}/threads", m.ThreadSummary, "page")
    GET_THREAD = _route("GET", "/v1/mailboxes/{address}/threads/{thread_id}", m.Thread)
    DELETE_THREAD = _route("DELETE", "/v1/mailboxes/{address}/threads/{thread_id}", m.Deleted)

    CREATE_API_KEY = _route("POST", "/v1/api-keys", m.ApiKeyCreated, body=b.ApiKeyCreateBody)
    LIST_API_KEYS = _route("GET", "/v1/api-keys", m.ApiKey, "page")
    GET_API_KEY = _route("GET", "/v1/api-keys/{key_id}", m.ApiKey)
    DELETE_API_KEY = _route("DELETE", "/v1/api-keys/{key_id}", m.Deleted)

    LIST_EVENTS = _route("GET", "/v1/events", Event, "page", query="after types mailbox")
    LIST_EVENT_TYPES = _route("GET", "/v1/events/types", m.EventType, "items")
    STREAM_EVENTS = _route(
        "GET", "/v1/events/stream", Event, "stream", query="after types mailbox",
        headers="Last-Event-ID",
    )  # fmt: skip

    CREATE_WEBHOOK = _route(
        "POST", "/v1/webhooks/subscriptions", m.WebhookWithSecret, body=b.WebhookCreateBody
    )
    LIST_WEBHOOKS = _route("GET", "/v1/webhooks/subscriptions", m.Webhook, "page")
    GET_WEBHOOK = _route("GET", _WEBHOOK, m.Webhook)
    UPDATE_WEBHOOK = _route("PATCH", _WEBHOOK, m.Webhook, body=b.WebhookUpdateBody)
    DELETE_WEBHOOK = _route("DELETE", _WEBHOOK, m.Deleted)
    GET_WEBHOOK_SECRET = _route("GET", _WEBHOOK + "/secret", m.WebhookSecret)
    ROTATE_WEBHOOK_SECRET = _route(
        "POST", _WEBHOOK + "/rotate-secret", m.WebhookSecret, body=b.SecretRotationBody
    )
    TEST_WEBHOOK = _route("POST", _WEBHOOK + "/test", m.WebhookDelivery)

    LIST_DELIVERIES = _route(
        "GET", "/v1/webhooks/deliveries", m.WebhookDelivery, "page",
        query="webhook_id event_id status",
    )  # fmt: skip
    GET_DELIVERY = _route("GET", "/v1/webhooks/deliveries/{delivery_id}", m.WebhookDelivery)
    REPLAY_DELIVERY = _route(
        "POST", "/v1/webhooks/deliveries/{delivery_id}/replay", m.WebhookDelivery
    )

    GET_USAGE = _route(
        "GET", "/v1/usage", u.UsageSummary, query="group_by period " + _LEDGER_FILTERS
    )
    # `format=jsonl|csv` turns the page into a streamed export (read as bytes, not parsed).
    LIST_LEDGER = _route(
        "GET", "/v1/usage/ledger", u.LedgerEntry, "page",
        query="format " + _LEDGER_FILTERS,
    )  # fmt: skip

    GET_PRICING = _route("GET", "/v1/identities/{handle}/pricing", u.PricingPlan)
    UPDATE_PRICING = _route(
        "PUT", "/v1/identities/{handle}/pricing", u.PricingPlan, body=b.PricingBody
    )
    GET_IDENTITY_QUOTAS = _route("GET", "/v1/identities/{handle}/quotas", u.Quotas)
    UPDATE_IDENTITY_QUOTAS = _route(
        "PUT", "/v1/identities/{handle}/quotas", u.Quotas, body=b.QuotaBody
    )
    GET_KEY_QUOTAS = _route("GET", "/v1/api-keys/{key_id}/quotas", u.Quotas)
    UPDATE_KEY_QUOTAS = _route("PUT", "/v1/api-keys/{key_id}/quotas", u.Quotas, body=b.QuotaBody)

    SEND_MARKETPLACE_REQUEST = _route(
        "POST", _MARKETPLACE + "/requests", u.MarketplaceMessage, body=b.MarketplaceRequestBody
    )
    SEND_MARKETPLACE_RESPONSE = _route(
        "POST", _MARKETPLACE + "/responses", u.MarketplaceMessage, body=b.MarketplaceResponseBody
    )
    LIST_MARKETPLACE_REQUESTS = _route(
        "GET", "/v1/marketplace/requests", u.MarketplaceRequest, "page",
        query="role status marketplace_request_id",
    )  # fmt: skip

    def request(
        self,
        *,
        params: Mapping[str, Any] | None = None,
        body: b.Body | JSONBody | None = None,
        headers: Mapping[str, str] | None = None,
        **path: str,
    ) -> Request:
        """This endpoint's request. Anything the table does not declare is a TypeError."""
        route = self.value
        if set(path) != route.path_params:
            raise TypeError(f"{self.name} takes path parameters {sorted(route.path_params)}")
        undeclared = set(params or ()) - route.query_params
        if undeclared:
            raise TypeError(f"{self.name} has no query parameters {sorted(undeclared)}")
        encoded = JSONBody(body) if isinstance(body, b.Body) else body
        if encoded is not None and (route.body is None or type(encoded.model) is not route.body):
            raise TypeError(f"{self.name} takes {route.body and route.body.__name__} as its body")
        filled = route.path.format(**{k: quote(v, safe="@+:") for k, v in path.items()})
        return Request(self, filled, params, encoded, dict(headers or {}))


@dataclass(frozen=True)
class Request:
    """One request, made by `Api.X.request(...)`."""

    api: Api
    path: str
    params: Mapping[str, Any] | None = None
    body: JSONBody | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return self.api.value.method


# What the server offers that the SDK does not call, and why. The drift test holds the
# server's endpoints to the table above plus exactly these.
UNWRAPPED: Mapping[tuple[str, str], str] = {
    ("GET", "/healthz"): "liveness, for process supervisors and load balancers",
    ("GET", "/readyz"): "readiness, for load balancers and orchestrators",
    ("GET", "/metrics"): "Prometheus text, for a metrics scraper",
    ("WEBSOCKET", "/v1/events/ws"): "td.events.stream follows the same log over SSE, which "
    "resumes with Last-Event-ID and needs no WebSocket dependency",
}
