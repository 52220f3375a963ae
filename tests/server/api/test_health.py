"""Health, readiness, metrics and the OpenAPI document: open to anyone, outside /v1."""

from __future__ import annotations

import re

from tests.support.live import LiveServer
from tidings_server.store import migrate


def counter(text: str, method: str, route: str, status: int) -> float:
    """The value of `tidings_http_requests_total` for one label set (0 if absent)."""
    pattern = re.compile(r"^tidings_http_requests_total\{(?P<labels>.*)\} (?P<value>\S+)$")
    wanted = {"method": method, "route": route, "status": str(status)}
    for line in text.splitlines():
        match = pattern.match(line)
        if match is None:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"]))
        if labels == wanted:
            return float(match["value"])
    return 0.0


def test_healthz_answers_without_a_key(server: LiveServer) -> None:
    with server.anonymous() as anyone:
        answer = anyone.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
    assert answer.headers["X-Request-Id"].startswith("req_")


def test_readyz_reports_the_current_schema(server: LiveServer) -> None:
    with server.anonymous() as anyone:
        answer = anyone.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "schema": migrate.head_revision()}


def test_health_endpoints_ignore_a_bad_key(server: LiveServer) -> None:
    """A load balancer with a stale key configured still sees the truth about the process."""
    with server.client("td_root_not-a-real-key") as api:
        assert api.get("/healthz").status_code == 200
        assert api.get("/readyz").status_code == 200
        assert api.get("/v1/session").status_code == 401


def test_metrics_count_earlier_requests(server: LiveServer) -> None:
    with server.client() as api:
        for _ in range(3):
            assert api.get("/v1/identities").status_code == 200
        assert api.post("/v1/identities", json={"handle": "ana"}).status_code == 201
        assert api.post("/v1/identities", json={"handle": "ana"}).status_code == 409
    with server.anonymous() as anyone:
        answer = anyone.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert "# TYPE tidings_http_requests_total counter" in text
    assert counter(text, "GET", "/v1/identities", 200) == 3
    assert counter(text, "POST", "/v1/identities", 201) == 1
    assert counter(text, "POST", "/v1/identities", 409) == 1
    assert "tidings_http_request_duration_seconds_bucket" in text


def test_metrics_keep_growing(server: LiveServer) -> None:
    with server.anonymous() as anyone:
        before = counter(anyone.get("/metrics").text, "GET", "/healthz", 200)
        anyone.get("/healthz")
        anyone.get("/healthz")
        after = counter(anyone.get("/metrics").text, "GET", "/healthz", 200)
    assert after == before + 2


def test_metrics_label_by_route_template_not_raw_path(server: LiveServer) -> None:
    """Ids and typos in paths must not each become a new time series."""
    with server.client() as api:
        api.post("/v1/identities", json={"handle": "ana"})
        api.post("/v1/identities", json={"handle": "bob"})
        api.get("/v1/identities/ana")
        api.get("/v1/identities/bob")
        api.get("/v1/no-such-thing-1")
        api.get("/v1/no-such-thing-2")
    with server.anonymous() as anyone:
        text = anyone.get("/metrics").text
    assert counter(text, "GET", "/v1/identities/{handle}", 200) == 2
    assert counter(text, "GET", "unmatched", 404) == 2
    assert "/v1/identities/ana" not in text
    assert "no-such-thing" not in text


def test_openapi_lists_the_v1_endpoints(server: LiveServer) -> None:
    with server.anonymous() as anyone:
        answer = anyone.get("/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    assert document["info"]["title"] == "Tidings"
    paths = document["paths"]
    assert {"get", "post"} <= set(paths["/v1/identities"])
    assert {"get", "patch", "delete"} <= set(paths["/v1/identities/{handle}"])
    assert "/v1/mailboxes" in paths
    assert "/healthz" in paths


def test_openapi_documents_the_error_envelope_every_endpoint_answers(server: LiveServer) -> None:
    with server.anonymous() as anyone:
        document = anyone.get("/openapi.json").json()
        real = anyone.post("/v1/identities", json={"handle": 1}).json()
    envelope = document["components"]["schemas"]["ErrorDoc"]
    assert set(real["error"]) <= set(envelope["properties"])
    assert "HTTPValidationError" not in document["components"]["schemas"]
    create = document["paths"]["/v1/identities"]["post"]["responses"]
    for status in ("422", "default"):
        schema = create[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}
    raw = document["paths"]["/v1/mailboxes/{address}/messages/{message_id}/raw"]["get"]
    assert list(raw["responses"]["200"]["content"]) == ["message/rfc822"]
