"""`tidings usage`: the usage totals as a table; `tidings usage export`: the ledger, streamed.

Both talk to a running server through the SDK, with the key and URL of `--api-key` /
`--base-url` or TIDINGS_API_KEY / TIDINGS_BASE_URL. An agent key sees its own identity's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tidings import Tidings, TidingsError, UsageGroup, UsageSummary
from tidings_server.cli.connection import ApiKeyOption, BaseUrlOption

usage_app = typer.Typer(
    help="Usage totals (spend and earnings) and the usage ledger.",
    invoke_without_command=True,
)
console = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)

Group = Literal["identity", "key", "unit", "kind"]
Kind = Literal["send", "receipt", "usage", "marketplace_charge", "marketplace_earning"]
_COLUMNS: dict[str, tuple[str, str]] = {  # group -> (heading, UsageGroup field)
    "identity": ("Identity", "identity_id"),
    "key": ("API key", "api_key_id"),
    "kind": ("Kind", "kind"),
    "unit": ("Unit", "unit"),
}
_PERIOD_FORMATS = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "month": "%Y-%m"}


def _moment(text: str) -> datetime:
    """An ISO 8601 date or time; without a zone it is UTC, as the ledger's periods are."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 date or time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


Moment = Annotated[
    datetime | None,
    typer.Option(parser=_moment, metavar="WHEN", help="ISO 8601, e.g. 2030-01-31 (UTC)."),
]
Identity = Annotated[str | None, typer.Option("--identity", help="A handle or idn_ id.")]


def _groups(text: str) -> list[Group]:
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in wanted if part not in _COLUMNS]
    if unknown:
        raise typer.BadParameter(f"group by any of {', '.join(_COLUMNS)}, not {unknown[0]!r}")
    return cast(list[Group], list(dict.fromkeys(wanted)))


@contextmanager
def _reported() -> Iterator[None]:
    """An SDK error is one red line and exit status 1, not a traceback."""
    try:
        yield
    except TidingsError as error:
        stderr.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(1) from error


def _amount(value: Decimal) -> str:
    return f"{value:f}"  # "0.000000001", as the API writes it, never "1E-9"


def _handles(td: Tidings) -> dict[str, str]:
    """Identity ids to handles, to show; an id stays an id (a deleted identity's, say)."""
    try:
        return {identity.id: identity.handle for identity in td.identities.list(limit=100)}
    except TidingsError:
        return {}


def _row(group: UsageGroup, summary: UsageSummary, handles: dict[str, str]) -> list[str]:
    cells = []
    if summary.period in _PERIOD_FORMATS and group.period_start is not None:
        cells.append(group.period_start.strftime(_PERIOD_FORMATS[summary.period]))
    for name in summary.group_by:
        value = getattr(group, _COLUMNS[name][1]) or ""
        cells.append(handles.get(value, value) if name == "identity" else value)
    return [*cells, _amount(group.quantity), _amount(group.amount), str(group.entries)]


def _table(summary: UsageSummary, handles: dict[str, str]) -> Table:
    table = Table(title=f"Usage per {summary.period}" if summary.period != "total" else "Usage")
    if summary.period in _PERIOD_FORMATS:
        table.add_column("Period", no_wrap=True)
    for name in summary.group_by:
        table.add_column(_COLUMNS[name][0], no_wrap=True)
    table.add_column("Quantity", justify="right")
    table.add_column(f"Amount ({summary.currency})", justify="right")
    table.add_column("Entries", justify="right")
    for group in summary.data:
        table.add_row(*(escape(cell) for cell in _row(group, summary, handles)))
    return table


@usage_app.callback()
def usage(
    ctx: typer.Context,
    group_by: Annotated[
        str, typer.Option("--group-by", help="Comma-separated: identity, key, unit, kind.")
    ] = "identity,kind,unit",
    period: Annotated[
        Literal["hour", "day", "month", "total"], typer.Option(help="UTC periods to total by.")
    ] = "day",
    identity: Identity = None,
    since: Moment = None,
    until: Moment = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Show usage totals as a table, with spend and earnings under it."""
    if ctx.invoked_subcommand is not None:
        return
    groups = _groups(group_by)
    with _reported(), Tidings(api_key, base_url=base_url) as td:
        summary = td.usage.summary(
            group_by=groups, period=period, identity=identity, since=since, until=until
        )
        handles = _handles(td) if "identity" in groups else {}
    if summary.data:
        console.print(_table(summary, handles))
    else:
        console.print("No usage in this period.")
    totals, currency = summary.totals, summary.currency
    console.print(
        f"Spend {_amount(totals.spend)} {currency} · earnings {_amount(totals.earnings)} "
        f"{currency} · {totals.entries} ledger entries"
    )


@usage_app.command("export")
def export(
    format: Annotated[
        Literal["csv", "jsonl"], typer.Option("--format", help="CSV, or JSON lines.")
    ] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write; stdout if left out.")
    ] = None,
    identity: Identity = None,
    kind: Annotated[Kind | None, typer.Option(help="Only entries of this kind.")] = None,
    unit: Annotated[str | None, typer.Option(help="Only this unit, e.g. tokens_input.")] = None,
    since: Moment = None,
    until: Moment = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Stream every matching ledger entry, oldest first, to stdout or a file."""
    with _reported(), Tidings(api_key, base_url=base_url) as td:
        exported = td.usage.ledger.export(
            format=format, identity=identity, kind=kind, unit=unit, since=since, until=until
        )
        if output is not None:
            written = exported.write_to(output)
            stderr.print(f"Wrote {written} bytes to {escape(str(output))}")
            return
        try:
            exported.write_to(sys.stdout.buffer)
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            # The reader stopped early (`| head`): not an error. Stdout goes nowhere from
            # here, so the interpreter's last flush does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
