"""Settings come from flags, then TIDINGS_* environment variables, then a config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tidings_server.settings import RateLimit, load_settings


def test_flags_beat_environment_which_beats_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "tidings.toml"
    config.write_text(
        'domain = "file.test"\nhttp = "127.0.0.1:1111"\nsmtp = "127.0.0.1:2222"\n'
        "[rate_limit]\nrequests = 7\n"
    )
    env = {
        "TIDINGS_CONFIG": str(config),
        "TIDINGS_HTTP": "127.0.0.1:3333",
        "TIDINGS_DOMAIN": "env.test",
    }
    settings = load_settings({"domain": "flag.test", "http": None}, env)
    assert settings.domain == "flag.test"  # flag
    assert settings.http == "127.0.0.1:3333"  # env (the flag was not given)
    assert settings.smtp == "127.0.0.1:2222"  # file
    assert settings.rate_limit == RateLimit(requests=7, window_seconds=60)


def test_defaults_follow_the_design(tmp_path: Path) -> None:
    settings = load_settings({"data_dir": tmp_path}, {})
    assert settings.http_bind == ("127.0.0.1", 7700)
    assert settings.smtp_bind == ("127.0.0.1", 2525)
    assert settings.domain == "agents.localhost"
    assert settings.outbound == "capture"
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'tidings.db'}"
    assert settings.root_key_path == tmp_path / "root_api_key"


def test_environment_values_are_parsed(tmp_path: Path) -> None:
    env = {
        "TIDINGS_DATA_DIR": str(tmp_path),
        "TIDINGS_WEBHOOK_ALLOW_HOSTS": "127.0.0.1, 10.0.0.0/8",
        "TIDINGS_RATE_LIMIT_REQUESTS": "50",
        "TIDINGS_MAX_BODY_BYTES": "4096",
    }
    settings = load_settings({}, env)
    assert settings.webhook_allow_hosts == ("127.0.0.1", "10.0.0.0/8")
    assert settings.rate_limit.requests == 50
    assert settings.max_body_bytes == 4096


def test_unknown_or_invalid_settings_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('domian = "typo.test"\n')
    with pytest.raises(ValueError, match="domian"):
        load_settings({"config": config}, {})
    with pytest.raises(ValueError, match="max_body_bytes"):
        load_settings({"data_dir": tmp_path}, {"TIDINGS_MAX_BODY_BYTES": "lots"})
