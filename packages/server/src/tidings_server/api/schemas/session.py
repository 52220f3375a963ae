"""`GET /v1/session`: who the caller is and what it may do."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from tidings_server.api.schemas.identities import IdentityView


class OrganisationView(BaseModel):
    id: str
    name: str


class KeyView(BaseModel):
    id: str
    kind: Literal["root", "agent"]
    name: str
    prefix: str


class RateLimitView(BaseModel):
    requests: int
    window_seconds: int


class LimitsView(BaseModel):
    rate_limit: RateLimitView
    max_body_bytes: int
    page_size_max: int


class FeaturesView(BaseModel):
    domain: str
    outbound: str
    smtp_inbound: bool
    webhooks: bool
    events: bool
    usage: bool
    marketplace: bool
    currency: str


class SessionView(BaseModel):
    organisation: OrganisationView
    key: KeyView
    identity: IdentityView | None
    scopes: list[str]
    limits: LimitsView
    features: FeaturesView
