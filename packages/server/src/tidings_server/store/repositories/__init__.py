"""Repositories: every query the server makes. Tenant repositories require a Scope."""

from tidings_server.store.repositories.api_keys import ApiKeyRepository, CredentialLookup
from tidings_server.store.repositories.base import Page, PageRequest, ScopedRepository
from tidings_server.store.repositories.idempotency import Claim, IdempotencyRepository
from tidings_server.store.repositories.identities import IdentityRepository, MailboxRepository
from tidings_server.store.repositories.installation import InstallationRepository
from tidings_server.store.repositories.rate_limits import RateLimitRepository

__all__ = [
    "ApiKeyRepository",
    "Claim",
    "CredentialLookup",
    "IdempotencyRepository",
    "IdentityRepository",
    "InstallationRepository",
    "MailboxRepository",
    "Page",
    "PageRequest",
    "RateLimitRepository",
    "ScopedRepository",
]
