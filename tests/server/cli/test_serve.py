"""`tidings serve` as an operator runs it: first start, restarts, signals."""

from __future__ import annotations

import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.process import serve_process
from tidings_server.store import migrate


def test_first_start_creates_the_root_key_prints_it_once_and_saves_it(
    database_url: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    with serve_process(data_dir, database_url=database_url) as server:
        key = server.root_key
        with server.client() as api:
            assert api.get("/v1/session").json()["key"]["kind"] == "root"
        assert server.stop() == 0
    printed = server.output[0]
    assert key.startswith("td_root_")
    assert printed.splitlines() == [key]  # stdout holds the key and nothing else
    assert stat.S_IMODE((data_dir / "root_api_key").stat().st_mode) == 0o600
    assert "captured" in server.output[1]  # startup says outbound mail stays on the machine

    with serve_process(data_dir, database_url=database_url) as again:
        with again.client(key) as api:
            assert api.get("/v1/session").status_code == 200
        assert again.stop() == 0
    assert key not in again.output[0] + again.output[1]


def _send_partial_post(port: int, key: str, body: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    head = (
        "POST /v1/identities HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {key}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode() + body[:5])
    return sock


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_lets_in_flight_requests_finish_then_exits_cleanly(
    tmp_path: Path, sig: signal.Signals
) -> None:
    data_dir = tmp_path / "data"
    body = b'{"handle": "late-arrival"}'
    with serve_process(data_dir) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        sock = _send_partial_post(port, server.root_key, body)
        time.sleep(0.3)
        server.process.send_signal(sig)
        time.sleep(0.5)
        assert server.process.poll() is None, "exited with a request still in flight"
        sock.sendall(body[5:])
        answer = sock.recv(65536).decode()
        sock.close()
        assert server.process.wait(timeout=30) == 0
    assert answer.startswith("HTTP/1.1 201")
    with serve_process(data_dir) as restarted, restarted.client() as api:
        handles = [i["handle"] for i in api.get("/v1/identities").json()["data"]]
    assert handles == ["late-arrival"]


def test_db_upgrade_keys_create_and_dkim_work_without_a_running_server(
    database_url: str, tmp_path: Path
) -> None:
    def tidings(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "tidings_server", *args]
        command += ["--data-dir", str(tmp_path / "data"), "--database-url", database_url]
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)

    assert f"revision {migrate.head_revision()}" in tidings("db", "upgrade").stderr
    minted = tidings("keys", "create", "--name", "ops").stdout.strip()
    assert minted.startswith("td_root_")
    record = tidings("dkim").stdout.strip()
    assert record.startswith('tidings._domainkey.agents.localhost. IN TXT "v=DKIM1; k=rsa; p=')
    with (
        serve_process(tmp_path / "data", database_url=database_url) as server,
        server.client(minted) as api,
    ):
        session = api.get("/v1/session").json()
    assert session["key"]["name"] == "ops"


def test_a_config_file_in_the_data_dir_is_read_and_flags_win(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "config.toml").write_text('domain = "from-file.test"\nlog_level = "warning"\n')
    with serve_process(data_dir) as server, server.client() as api:
        identity = api.post("/v1/identities", json={"handle": "ana"}).json()
    assert identity["email_address"] == "ana@from-file.test"
    with (
        serve_process(data_dir, args=["--domain", "from-flag.test"]) as server,
        server.client() as api,
    ):
        identity = api.post("/v1/identities", json={"handle": "bob"}).json()
    assert identity["email_address"] == "bob@from-flag.test"
