"""ETags: `If-None-Match` saves a download, `If-Match` stops a change made on stale data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from tests.support.live import LiveServer


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx2.Client]:
    """A root client with one identity, `ana`, already created."""
    with server.client() as client:
        created = client.post("/v1/identities", json={"handle": "ana", "display_name": "Ana"})
        assert created.status_code == 201, created.text
        yield client


def precondition_failed(answer: httpx2.Response) -> dict[str, Any]:
    assert answer.status_code == 412, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == "precondition_failed"
    assert error["param"] == "If-Match"
    assert error["fix"].strip()
    assert error["retryable"] is False
    assert answer.headers["X-Request-Id"] == error["request_id"]
    return error


def test_a_single_resource_get_carries_an_etag(api: httpx2.Client) -> None:
    first = api.get("/v1/identities/ana")
    again = api.get("/v1/identities/ana")
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert len(etag) > 2
    assert again.headers["ETag"] == etag


def test_if_none_match_with_the_current_etag_is_304_without_a_body(api: httpx2.Client) -> None:
    etag = api.get("/v1/identities/ana").headers["ETag"]
    answer = api.get("/v1/identities/ana", headers={"If-None-Match": etag})
    assert answer.status_code == 304
    assert answer.content == b""
    assert answer.headers["ETag"] == etag
    assert answer.headers["X-Request-Id"].startswith("req_")


def test_if_none_match_accepts_a_list_and_weak_tags(api: httpx2.Client) -> None:
    etag = api.get("/v1/identities/ana").headers["ETag"]
    listed = api.get("/v1/identities/ana", headers={"If-None-Match": f'"other", {etag}'})
    weak = api.get("/v1/identities/ana", headers={"If-None-Match": f"W/{etag}"})
    assert listed.status_code == 304
    assert weak.status_code == 304


def test_if_none_match_with_another_etag_gets_the_resource(api: httpx2.Client) -> None:
    answer = api.get("/v1/identities/ana", headers={"If-None-Match": '"not-the-etag"'})
    assert answer.status_code == 200
    assert answer.json()["handle"] == "ana"


def test_a_change_gives_a_new_etag_and_the_old_one_no_longer_matches(
    api: httpx2.Client,
) -> None:
    old = api.get("/v1/identities/ana").headers["ETag"]
    changed = api.patch("/v1/identities/ana", json={"display_name": "Ana Lovelace"})
    assert changed.status_code == 200, changed.text
    fresh = api.get("/v1/identities/ana", headers={"If-None-Match": old})
    assert fresh.status_code == 200
    assert fresh.json()["display_name"] == "Ana Lovelace"
    assert fresh.headers["ETag"] != old
    assert (
        api.get("/v1/identities/ana", headers={"If-None-Match": fresh.headers["ETag"]}).status_code
        == 304
    )


def test_patch_with_a_stale_if_match_changes_nothing(api: httpx2.Client) -> None:
    """Two writers read the same version; the second write is refused, not lost over the first."""
    stale = api.get("/v1/identities/ana").headers["ETag"]
    first = api.patch(
        "/v1/identities/ana", json={"display_name": "First"}, headers={"If-Match": stale}
    )
    assert first.status_code == 200, first.text
    second = api.patch(
        "/v1/identities/ana", json={"display_name": "Second"}, headers={"If-Match": stale}
    )
    precondition_failed(second)
    assert api.get("/v1/identities/ana").json()["display_name"] == "First"


def test_patch_with_a_made_up_if_match_changes_nothing(api: httpx2.Client) -> None:
    before = api.get("/v1/identities/ana").json()
    answer = api.patch(
        "/v1/identities/ana", json={"status": "paused"}, headers={"If-Match": '"made-up"'}
    )
    precondition_failed(answer)
    assert api.get("/v1/identities/ana").json() == before


def test_patch_with_the_current_etag_succeeds(api: httpx2.Client) -> None:
    etag = api.get("/v1/identities/ana").headers["ETag"]
    answer = api.patch("/v1/identities/ana", json={"status": "paused"}, headers={"If-Match": etag})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "paused"
    assert api.get("/v1/identities/ana").json()["status"] == "paused"


def test_changes_can_be_chained_with_fresh_etags(api: httpx2.Client) -> None:
    """Read, change with If-Match, read again, change again: each step uses the current tag."""
    etag = api.get("/v1/identities/ana").headers["ETag"]
    first = api.patch("/v1/identities/ana", json={"description": "one"}, headers={"If-Match": etag})
    assert first.status_code == 200, first.text
    current = api.get("/v1/identities/ana").headers["ETag"]
    assert current != etag
    answer = api.patch(
        "/v1/identities/ana", json={"description": "two"}, headers={"If-Match": current}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["description"] == "two"


def test_delete_with_a_stale_if_match_keeps_the_identity(api: httpx2.Client) -> None:
    stale = api.get("/v1/identities/ana").headers["ETag"]
    assert api.patch("/v1/identities/ana", json={"display_name": "Changed"}).status_code == 200
    answer = api.delete("/v1/identities/ana", headers={"If-Match": stale})
    precondition_failed(answer)
    still = api.get("/v1/identities/ana")
    assert still.status_code == 200
    assert still.json()["display_name"] == "Changed"


def test_delete_with_the_current_etag_deletes(api: httpx2.Client) -> None:
    etag = api.get("/v1/identities/ana").headers["ETag"]
    answer = api.delete("/v1/identities/ana", headers={"If-Match": etag})
    assert answer.status_code == 200, answer.text
    assert answer.json()["deleted"] is True
    assert api.get("/v1/identities/ana").status_code == 404


def test_if_match_star_accepts_any_current_version(api: httpx2.Client) -> None:
    patched = api.patch(
        "/v1/identities/ana", json={"display_name": "Star"}, headers={"If-Match": "*"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["display_name"] == "Star"
    deleted = api.delete("/v1/identities/ana", headers={"If-Match": "*"})
    assert deleted.status_code == 200, deleted.text
    assert api.get("/v1/identities/ana").status_code == 404


def test_mailboxes_honour_if_match_too(api: httpx2.Client) -> None:
    address = api.get("/v1/identities/ana").json()["email_address"]
    stale = api.get(f"/v1/mailboxes/{address}").headers["ETag"]
    assert api.patch(f"/v1/mailboxes/{address}", json={"display_name": "A"}).status_code == 200
    answer = api.patch(
        f"/v1/mailboxes/{address}", json={"display_name": "B"}, headers={"If-Match": stale}
    )
    precondition_failed(answer)
    assert api.get(f"/v1/mailboxes/{address}").json()["display_name"] == "A"


def test_a_change_answers_with_the_etag_a_get_would_give(api: httpx2.Client) -> None:
    """So a client can chain changes without reading the resource again in between."""
    changed = api.patch("/v1/identities/ana", json={"description": "one"})
    assert changed.headers["ETag"] == api.get("/v1/identities/ana").headers["ETag"]
    again = api.patch(
        "/v1/identities/ana",
        json={"description": "two"},
        headers={"If-Match": changed.headers["ETag"]},
    )
    assert again.status_code == 200, again.text
    priced = api.put("/v1/identities/ana/pricing", json={"per_outcome": "1"})
    assert priced.headers["ETag"] == api.get("/v1/identities/ana/pricing").headers["ETag"]
