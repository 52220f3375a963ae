"""Where the client's settings come from: arguments, then environment, then a config file."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_URL = "http://127.0.0.1:7700"
CONFIG_FILE = Path("~/.config/tidings/config.toml")


@dataclass(frozen=True)
class ResolvedSettings:
    api_key: str | None
    base_url: str
    debug: bool


def _file_values(path: Path) -> Mapping[str, object]:
    try:
        with path.expanduser().open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}


def resolve(
    api_key: str | None,
    base_url: str | None,
    *,
    environ: Mapping[str, str] | None = None,
    config_file: Path = CONFIG_FILE,
) -> ResolvedSettings:
    env = os.environ if environ is None else environ
    file = _file_values(config_file)
    key = api_key or env.get("TIDINGS_API_KEY") or _str(file.get("api_key"))
    url = base_url or env.get("TIDINGS_BASE_URL") or _str(file.get("base_url")) or DEFAULT_BASE_URL
    debug = env.get("TIDINGS_DEBUG", "") in ("1", "true", "yes")
    return ResolvedSettings(api_key=key, base_url=url.rstrip("/"), debug=debug)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None
