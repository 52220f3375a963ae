"""`td.usage`: totals from the usage ledger; `td.usage.ledger`: its entries, page by page
or as a streamed export. An agent key sees only its own identity's entries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, TypedDict, Unpack

from tidings._base_client import AsyncAPIClient, SyncAPIClient
from tidings._endpoints import Api, Request
from tidings._export import AsyncLedgerExport, LedgerExport
from tidings._pagination import AsyncPage, SyncPage
from tidings._raw import araw, raw
from tidings._usage import LedgerEntry, UsageSummary
from tidings.resources._shared import AsyncResource, SyncResource, given_params, page_params

__all__ = ["AsyncLedger", "AsyncUsageReports", "Ledger", "UsageReports"]

Kind = Literal["send", "receipt", "usage", "marketplace_charge", "marketplace_earning"]
Group = Literal["identity", "key", "unit", "kind"]
Period = Literal["hour", "day", "month", "total"]
ExportFormat = Literal["jsonl", "csv"]
_MEDIA_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


class UsageFilters(TypedDict, total=False):
    """Which ledger entries count; all given must hold. `since` and `until` are
    timezone-aware datetimes."""

    identity: str | None  # a handle, or an idn_ id (entries outlive deleted identities)
    api_key_id: str | None
    unit: str | None  # "tokens_input", "emails_sent", "custom.pages", ...
    kind: Kind | None
    correlation_id: str | None
    marketplace_request_id: str | None
    since: datetime | None
    until: datetime | None


def _summary(
    group_by: Group | Sequence[Group] | None, period: Period | None, filters: UsageFilters
) -> Request:
    groups = [group_by] if isinstance(group_by, str) else list(group_by or ())
    params = given_params(group_by=",".join(groups) or None, period=period, **filters)
    return Api.GET_USAGE.request(params=params)


def _ledger(limit: int | None, cursor: str | None, filters: UsageFilters) -> Request:
    return Api.LIST_LEDGER.request(params=page_params(limit, cursor, **filters))


def _export(format: ExportFormat, filters: UsageFilters) -> Request:
    if format not in _MEDIA_TYPES:
        raise ValueError(f"an export is jsonl or csv, not {format!r}")
    return Api.LIST_LEDGER.request(
        params=given_params(format=format, **filters), headers={"Accept": _MEDIA_TYPES[format]}
    )


class Ledger(SyncResource):
    def list(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        **filters: Unpack[UsageFilters],
    ) -> SyncPage[LedgerEntry]:
        """Entries newest first; iterating the page walks every page."""
        return self._page(_ledger(limit, cursor, filters), LedgerEntry)

    def export(
        self, *, format: ExportFormat = "jsonl", **filters: Unpack[UsageFilters]
    ) -> LedgerExport:
        """Every matching entry, oldest first, streamed as JSON lines or CSV: iterate the
        lines, or `write_to(path)`. It connects here, so a bad filter raises here."""
        return LedgerExport(self._client, _export(format, filters))


class UsageReports(SyncResource):
    def __init__(self, client: SyncAPIClient) -> None:
        super().__init__(client)
        self.ledger = Ledger(client)

    def summary(
        self,
        *,
        group_by: Group | Sequence[Group] | None = None,
        period: Period | None = None,
        **filters: Unpack[UsageFilters],
    ) -> UsageSummary:
        """Quantity, amount and entry count per group and UTC period (the server's default:
        by identity, kind and unit, per day), with `totals.spend` and `totals.earnings`."""
        return self._one(_summary(group_by, period, filters), UsageSummary)


class AsyncLedger(AsyncResource):
    async def list(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        **filters: Unpack[UsageFilters],
    ) -> AsyncPage[LedgerEntry]:
        return await self._page(_ledger(limit, cursor, filters), LedgerEntry)

    def export(
        self, *, format: ExportFormat = "jsonl", **filters: Unpack[UsageFilters]
    ) -> AsyncLedgerExport:
        """The export, connected on `async with` (or when first read)."""
        return AsyncLedgerExport(self._client, _export(format, filters))


class AsyncUsageReports(AsyncResource):
    def __init__(self, client: AsyncAPIClient) -> None:
        super().__init__(client)
        self.ledger = AsyncLedger(client)

    async def summary(
        self,
        *,
        group_by: Group | Sequence[Group] | None = None,
        period: Period | None = None,
        **filters: Unpack[UsageFilters],
    ) -> UsageSummary:
        return await self._one(_summary(group_by, period, filters), UsageSummary)


class LedgerWithRawResponse:
    """`export` is left out: its answer is the body it streams, read as it comes."""

    def __init__(self, ledger: Ledger) -> None:
        self.list = raw(ledger.list)


class UsageReportsWithRawResponse:
    def __init__(self, usage: UsageReports) -> None:
        self.ledger = LedgerWithRawResponse(usage.ledger)
        self.summary = raw(usage.summary)


class AsyncLedgerWithRawResponse:
    def __init__(self, ledger: AsyncLedger) -> None:
        self.list = araw(ledger.list)


class AsyncUsageReportsWithRawResponse:
    def __init__(self, usage: AsyncUsageReports) -> None:
        self.ledger = AsyncLedgerWithRawResponse(usage.ledger)
        self.summary = araw(usage.summary)
