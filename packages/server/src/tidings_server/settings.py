"""Server settings: one validated model, layered from a config file, `TIDINGS_*` env vars and flags.

Precedence is flags > environment > config file > defaults. `load_settings` builds the model;
everything else receives a `Settings` instance (nothing reads the environment at import time).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ENV_PREFIX = "TIDINGS_"
DEFAULT_DATA_DIR = Path("~/.local/share/tidings").expanduser()


def split_host_port(
    value: str, *, default_host: str = "127.0.0.1", default_port: int | None = None
) -> tuple[str, int]:
    """Parse `host:port` (or `[v6]:port`, a bare port, or with `default_port` a bare host)."""
    host, sep, port = value.rpartition(":")
    if default_port is not None and (not sep or "]" in port):
        return value.strip("[]"), default_port
    if not sep:
        host, port = default_host, value
    host = host.strip("[]") or default_host
    return host, int(port)


class RateLimit(BaseModel):
    """Requests each API key may make per window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests: int = Field(default=600, ge=1)
    window_seconds: int = Field(default=60, ge=1)


class Settings(BaseModel):
    """Everything a Tidings server process needs to know, validated once at start-up."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    domain: str = "agents.localhost"
    http: str = "127.0.0.1:7700"
    smtp: str = "127.0.0.1:2525"  # "off" runs no SMTP listener
    smtp_hostname: str | None = None  # the name in the SMTP banner; the domain by default
    smtp_max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    smtp_max_recipients: int = Field(default=100, ge=1)
    smtp_tls_cert: Path | None = None
    smtp_tls_key: Path | None = None
    outbound: str = "capture"
    blobs: str | None = None
    webhook_allow_hosts: tuple[str, ...] = ()
    rate_limit: RateLimit = RateLimit()
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    shutdown_timeout_seconds: float = Field(default=30.0, ge=0)
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    idempotency_lease_seconds: int = Field(default=60, ge=1)
    # How long an authenticated key is trusted without a lookup (see PrincipalCache).
    auth_cache_seconds: float = Field(default=2.0, ge=0)
    # How long a hosted address found at RCPT is accepted without a lookup (mail.receiving).
    smtp_recipient_cache_seconds: float = Field(default=2.0, ge=0)
    # How long who sends from an address is known without a lookup (mail.sending).
    sender_cache_seconds: float = Field(default=2.0, ge=0)
    # Search ranks only the newest this many matches of a mailbox (store/repositories/search.py).
    search_window: int = Field(default=1000, ge=1, le=100_000)
    dns_servers: tuple[str, ...] = ()  # "host" or "host:port" for MX lookups; system's if empty
    mx_port: int = Field(default=25, ge=1, le=65535)
    delivery_lifetime_seconds: int = Field(default=5 * 24 * 3600, ge=1)
    delivery_poll_seconds: float = Field(default=0.2, gt=0)
    delivery_batch: int = Field(default=50, ge=1)
    delivery_lease_seconds: int = Field(default=300, ge=1)
    delivery_connection_cache_seconds: float = Field(default=2.0, ge=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_lease_seconds: int = Field(default=60, ge=1)
    webhook_poll_seconds: float = Field(default=0.2, gt=0)
    webhook_batch: int = Field(default=50, ge=1)
    webhook_secret_grace_seconds: int = Field(default=24 * 3600, ge=0)
    stream_heartbeat_seconds: float = Field(default=15.0, gt=0)
    stream_poll_seconds: float = Field(default=0.5, gt=0)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")  # of prices and the ledger
    marketplace_reservation_seconds: int = Field(default=24 * 3600, ge=1)
    marketplace_sweep_seconds: float = Field(default=5.0, gt=0)
    log_level: str = "info"
    # Copies of the whole server (API, SMTP, workers) sharing the listening sockets; see
    # cli/processes.py. PostgreSQL only: SQLite is one process's database.
    processes: int = Field(default=1, ge=1, le=64)

    @field_validator("webhook_allow_hosts", "dns_servers", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("domain")
    @classmethod
    def _lower_domain(cls, value: str) -> str:
        return value.strip().lower().rstrip(".")

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @model_validator(mode="after")
    def _processes_need_postgresql(self) -> Settings:
        if self.processes > 1 and self.resolved_database_url.startswith("sqlite"):
            raise ValueError(
                "processes above 1 need PostgreSQL (TIDINGS_DATABASE_URL=postgresql://...): "
                "SQLite has one writer, so extra processes would only queue on its lock"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'tidings.db'}"

    @property
    def http_bind(self) -> tuple[str, int]:
        return split_host_port(self.http)

    @property
    def smtp_bind(self) -> tuple[str, int] | None:
        return None if self.smtp.lower() == "off" else split_host_port(self.smtp)

    @property
    def outbound_route(self) -> str:
        """capture, relay or mx: where mail for domains we do not host goes."""
        scheme = self.outbound.partition("://")[0].lower()
        if scheme not in ("capture", "relay", "mx"):
            raise ValueError(f"TIDINGS_OUTBOUND must be capture, relay://... or mx, not {scheme!r}")
        return scheme

    @property
    def blob_dir(self) -> Path:
        if self.blobs is None:
            return self.data_dir / "blobs"
        if not self.blobs.startswith("file://"):
            raise ValueError("only file:// blob stores are supported so far")
        return Path(self.blobs.removeprefix("file://")).expanduser()

    @property
    def root_key_path(self) -> Path:
        return self.data_dir / "root_api_key"


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        if field.annotation is RateLimit:
            continue
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw not in (None, ""):
            values[name] = raw
    limit: dict[str, str] = {}
    for part in RateLimit.model_fields:
        raw = environ.get(f"{ENV_PREFIX}RATE_LIMIT_{part.upper()}")
        if raw:
            limit[part] = raw
    if limit:
        values["rate_limit"] = limit
    return values


def config_file_path(flags: Mapping[str, Any], environ: Mapping[str, str]) -> Path | None:
    """Where the config file is: `--config`, `TIDINGS_CONFIG`, or `<data-dir>/config.toml`."""
    explicit = flags.get("config") or environ.get(ENV_PREFIX + "CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    data_dir = flags.get("data_dir") or environ.get(ENV_PREFIX + "DATA_DIR") or DEFAULT_DATA_DIR
    candidate = Path(data_dir).expanduser() / "config.toml"
    return candidate if candidate.exists() else None


def load_settings(
    flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build settings from defaults < config file < environment < flags (None flags are unset)."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    environ = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    path = config_file_path(flags, environ)
    if path is not None:
        with path.open("rb") as handle:
            merged.update(tomllib.load(handle))
    merged.update(_from_env(environ))
    flags.pop("config", None)
    merged.update(flags)
    return Settings.model_validate(merged)
