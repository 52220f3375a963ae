"""Typer commands. Each builds Settings from flags > env > config file and hands them on."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from tidings_server.cli.listen import listen
from tidings_server.cli.processes import serve_processes
from tidings_server.cli.serve import serve_forever
from tidings_server.cli.usage import usage_app
from tidings_server.settings import Settings, load_settings
from tidings_server.store import migrate

app = typer.Typer(
    help="Tidings: email (and more) for AI agents, self-hosted.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys, minted directly on the database (operator access).")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(usage_app, name="usage")
app.command()(listen)
console = Console(stderr=True)

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Where data lives [env TIDINGS_DATA_DIR].")
]
DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="[env TIDINGS_DATABASE_URL]")
]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="TOML config file [env TIDINGS_CONFIG].")
]


def _settings(**flags: Any) -> Settings:
    try:
        return load_settings(flags)
    except (ValueError, OSError) as exc:
        console.print(f"[red]Invalid configuration:[/red] {exc}")
        raise typer.Exit(2) from exc


@app.command()
def serve(
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    config: ConfigFile = None,
    domain: Annotated[str | None, typer.Option(help="Hosted mail domain.")] = None,
    http: Annotated[str | None, typer.Option(help="API listen address host:port.")] = None,
    smtp: Annotated[str | None, typer.Option(help="SMTP listen address host:port.")] = None,
    outbound: Annotated[str | None, typer.Option(help="capture | relay://... | mx")] = None,
    log_level: Annotated[str | None, typer.Option(help="debug, info, warning, error")] = None,
    processes: Annotated[
        int | None, typer.Option(help="Copies of the server to run (PostgreSQL only).")
    ] = None,
) -> None:
    """Run the API, the SMTP listener and the workers, in this process or in several."""
    settings = _settings(
        data_dir=data_dir,
        database_url=database_url,
        config=config,
        domain=domain,
        http=http,
        smtp=smtp,
        outbound=outbound,
        log_level=log_level,
        processes=processes,
    )
    if settings.processes > 1:
        raise typer.Exit(serve_processes(settings, console))
    asyncio.run(serve_forever(settings, console))


@db_app.command("upgrade")
def db_upgrade(
    data_dir: DataDir = None, database_url: DatabaseUrl = None, config: ConfigFile = None
) -> None:
    """Apply every pending migration."""
    settings = _settings(data_dir=data_dir, database_url=database_url, config=config)
    migrate.upgrade(settings.resolved_database_url)
    console.print(f"Database at revision {migrate.head_revision()}.")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="What the key is for.")] = "cli",
    kind: Annotated[str, typer.Option(help="root or agent")] = "root",
    identity: Annotated[str | None, typer.Option(help="Handle or id, for agent keys.")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    config: ConfigFile = None,
) -> None:
    """Mint a key directly on the database; prints the secret once (on stdout)."""
    from tidings_server.cli.keys import mint_with_operator_access

    settings = _settings(data_dir=data_dir, database_url=database_url, config=config)
    plaintext = asyncio.run(
        mint_with_operator_access(settings, name=name, kind=kind, identity=identity)
    )
    typer.echo(plaintext)


@app.command()
def dkim(
    data_dir: DataDir = None, database_url: DatabaseUrl = None, config: ConfigFile = None
) -> None:
    """Print the DNS TXT record that publishes the hosted domain's DKIM key."""
    from tidings_server.cli.keys import dkim_record

    settings = _settings(data_dir=data_dir, database_url=database_url, config=config)
    name, value = asyncio.run(dkim_record(settings))
    typer.echo(f'{name} IN TXT "{value}"')


def main() -> None:
    app()
