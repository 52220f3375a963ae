"""Options of the commands that talk to a running server through the SDK: which key, where."""

from __future__ import annotations

from typing import Annotated

import typer

ApiKeyOption = Annotated[
    str | None,
    typer.Option("--api-key", help="Default: TIDINGS_API_KEY, then the SDK config file."),
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option("--base-url", help="Default: TIDINGS_BASE_URL, then the config file."),
]
