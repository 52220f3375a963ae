"""Least-privilege entry points: a client made for one job checks its key kind up front."""

from __future__ import annotations

from typing import Any

from tidings._client import Tidings
from tidings._config import resolve
from tidings._exceptions import InvalidKeyKindError

__all__ = ["create_mailbox_client", "create_management_client", "create_sending_client"]

_PREFIXES = {"agent": "td_agent_", "root": "td_root_"}


def _checked(api_key: str | None, kind: str, purpose: str, **options: Any) -> Tidings:
    key = resolve(api_key, options.get("base_url")).api_key
    prefix = _PREFIXES[kind]
    if not key or not key.startswith(prefix):
        # Name only the kind of key given; never echo any part of its secret.
        given = next(
            (f"a {k} key" for k, p in _PREFIXES.items() if key and key.startswith(p)), None
        )
        shown = given or ("no key" if not key else "a key in an unknown format")
        raise InvalidKeyKindError(
            f"{purpose} takes a {kind} key ({prefix}...), got {shown}. "
            f"Mint one with td.api_keys.create(..., kind={kind!r})."
        )
    return Tidings(key, **options)


def create_sending_client(api_key: str | None = None, **options: Any) -> Tidings:
    """For an agent that sends mail as its own identity: needs a `td_agent_` key."""
    return _checked(api_key, "agent", "create_sending_client", **options)


def create_mailbox_client(api_key: str | None = None, **options: Any) -> Tidings:
    """For an agent that reads and manages its own mailbox: needs a `td_agent_` key."""
    return _checked(api_key, "agent", "create_mailbox_client", **options)


def create_management_client(api_key: str | None = None, **options: Any) -> Tidings:
    """For provisioning identities and keys: needs a `td_root_` key."""
    return _checked(api_key, "root", "create_management_client", **options)
