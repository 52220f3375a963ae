"""When PostgreSQL turns connections away the API answers 503, retryable, and recovers."""

from __future__ import annotations

from tests.support.api import assert_error
from tests.support.database import Databases
from tests.support.live import LiveServer


def test_an_unreachable_database_is_a_retryable_503(
    postgres_server: tuple[LiveServer, str], databases: Databases
) -> None:
    live, url = postgres_server
    with live.client() as api:
        assert api.get("/v1/identities").status_code == 200
        with databases.refusing_connections(url):
            answer = api.get("/v1/identities")
            error = assert_error(answer, 503, "database_unavailable")
            assert error["retryable"] is True
            assert answer.headers["Retry-After"] == "1"
            refused = api.post("/v1/identities", json={"handle": "lost"})
            assert_error(refused, 503, "database_unavailable")
        assert api.get("/v1/identities").status_code == 200
        # Nothing was half-done while it was down.
        assert api.get("/v1/identities").json()["data"] == []
