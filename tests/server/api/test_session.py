"""GET /v1/session tells a key who it is."""

from tests.support.live import LiveServer


def test_root_key_sees_its_organisation_scope_and_limits(server: LiveServer) -> None:
    with server.client() as api:
        answer = api.get("/v1/session")
    assert answer.status_code == 200
    body = answer.json()
    assert body["key"]["kind"] == "root"
    assert body["identity"] is None
    assert body["organisation"]["id"].startswith("org_")
    assert "identities:write" in body["scopes"]
    assert body["limits"]["rate_limit"]["requests"] == server.settings.rate_limit.requests
    assert body["features"]["domain"] == "agents.localhost"
    assert body["features"]["smtp_inbound"] is True
    assert body["features"]["webhooks"] is True
    assert body["features"]["currency"] == "USD"
