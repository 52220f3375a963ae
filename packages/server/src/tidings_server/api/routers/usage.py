"""/v1/usage: totals from the ledger; /v1/usage/ledger: its entries, as pages or a full export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from tidings_server.api.deps import Caller, Identities, Reports, RuntimeDep
from tidings_server.api.pagination import ListResponse, Paging
from tidings_server.api.routers import v1_router
from tidings_server.api.schemas.usage import (
    LedgerEntryView,
    UsageGroupView,
    UsageSummary,
    UsageTotals,
)
from tidings_server.api.streaming import content_disposition
from tidings_server.errors import ValidationFailed
from tidings_server.store.models import UsageEntry
from tidings_server.store.repositories.usage import GROUPS, LedgerFilter
from tidings_server.usage.amounts import format_nanos
from tidings_server.usage.reports import export

router = v1_router("/usage", "usage")
Kind = Literal["send", "receipt", "usage", "marketplace_charge", "marketplace_earning"]
_EXPORT_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
_CSV_COLUMNS = list(LedgerEntryView.model_fields)


async def ledger_filter(
    identities: Identities,
    identity: Annotated[str | None, Query(description="Identity handle or id.")] = None,
    api_key_id: str | None = None,
    unit: str | None = None,
    kind: Kind | None = None,
    correlation_id: str | None = None,
    marketplace_request_id: str | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> LedgerFilter:
    """Which entries a summary or a ledger read covers; all the filters must hold."""
    # Entries outlive deleted identities, so an idn_ id is taken as it is; a handle must exist.
    identity_id = identity
    if identity is not None and not identity.startswith("idn_"):
        identity_id = (await identities.get(identity)).id
    return LedgerFilter(
        identity_id=identity_id,
        api_key_id=api_key_id,
        unit=unit,
        kind=kind,
        correlation_id=correlation_id,
        marketplace_request_id=marketplace_request_id,
        since=since,
        until=until,
    )


Filters = Annotated[LedgerFilter, Depends(ledger_filter)]


def _group_by(values: list[str]) -> list[str]:
    wanted = [part.strip() for value in values for part in value.split(",") if part.strip()]
    for index, name in enumerate(wanted):
        if name not in GROUPS:
            raise ValidationFailed(
                f"Cannot group by {name!r}.",
                code="invalid_choice",
                param=f"group_by[{index}]",
                fix=f"Group by any of: {', '.join(GROUPS)}.",
            )
    return list(dict.fromkeys(wanted))


@router.get("")
async def get_usage(
    reports: Reports,
    runtime: RuntimeDep,
    filters: Filters,
    group_by: Annotated[
        list[str], Query(description="identity, key, unit, kind; comma-separated or repeated.")
    ] = ["identity", "kind", "unit"],  # noqa: B006  (FastAPI copies defaults)
    period: Literal["hour", "day", "month", "total"] = "day",
) -> UsageSummary:
    """Totals of quantity and amount per group and period (UTC), plus spend and earnings."""
    fields = _group_by(group_by)
    groups, totals = await reports.summary(filters, group_by=fields, period=period)
    return UsageSummary(
        currency=runtime.settings.currency,
        period=period,
        group_by=fields,
        since=filters.since,
        until=filters.until,
        data=[
            UsageGroupView(
                period_start=group.period_start,
                **{GROUPS[name]: value for name, value in group.keys.items()},
                quantity=format_nanos(group.quantity),
                amount=format_nanos(group.amount),
                entries=group.entries,
            )
            for group in groups
        ],
        totals=UsageTotals(
            spend=format_nanos(totals.spend),
            earnings=format_nanos(totals.earnings),
            entries=totals.entries,
        ),
    )


@router.get(
    "/ledger",
    response_model=ListResponse[LedgerEntryView],
    responses={200: {"content": {media: {} for media in _EXPORT_TYPES.values()}}},
)
async def get_ledger(
    reports: Reports,
    runtime: RuntimeDep,
    caller: Caller,
    paging: Paging,
    filters: Filters,
    format: Annotated[
        Literal["json", "jsonl", "csv"],
        Query(
            description="json pages newest first; jsonl and csv export everything, oldest first."
        ),
    ] = "json",
) -> ListResponse[LedgerEntryView] | StreamingResponse:
    """The append-only ledger: one entry per unit of each send, receipt and settlement."""
    if format == "json":
        entries, has_more = await reports.page(paging.position, filters, limit=paging.limit)
        return paging.respond_from(
            [LedgerEntryView.of(entry) for entry in entries],
            position=str(entries[-1].seq) if entries else None,
            has_more=has_more,
        )
    return StreamingResponse(
        _exported(export(runtime.reads, caller.scope, filters), format),
        media_type=_EXPORT_TYPES[format],
        headers={"Content-Disposition": content_disposition("attachment", f"ledger.{format}")},
    )


async def _exported(batches: AsyncIterator[list[UsageEntry]], format: str) -> AsyncIterator[str]:
    if format == "csv":
        yield ",".join(_CSV_COLUMNS) + "\r\n"
    async for batch in batches:
        views = [LedgerEntryView.of(entry).model_dump(mode="json") for entry in batch]
        if format == "jsonl":
            yield "".join(json.dumps(view, separators=(",", ":")) + "\n" for view in views)
            continue
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=_CSV_COLUMNS)
        writer.writerows(views)
        yield out.getvalue()
