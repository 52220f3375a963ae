"""Lists page with `?limit=&cursor=`, newest first, and refuse cursors they did not give out."""

from __future__ import annotations

import time
from typing import Any

import httpx2
import pytest

from tests.support.live import LiveServer


def create_identities(api: httpx2.Client, count: int) -> list[str]:
    """Create `count` identities one after another; return their handles, oldest first."""
    created = []
    for n in range(count):
        answer = api.post("/v1/identities", json={"handle": f"agent-{n}"})
        assert answer.status_code == 201, answer.text
        created.append(answer.json()["handle"])
        time.sleep(0.002)  # ids are millisecond-sortable: keep creation order unambiguous
    return created


def error_of(answer: httpx2.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == code
    assert error["fix"].strip()
    assert error["retryable"] is False
    assert answer.headers["X-Request-Id"] == error["request_id"]
    return error


def test_walking_the_pages_sees_everything_once_newest_first(server: LiveServer) -> None:
    with server.client() as api:
        created = create_identities(api, 7)
        pages = []
        params: dict[str, Any] = {"limit": 3}
        while True:
            answer = api.get("/v1/identities", params=params)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert set(body) == {"data", "pagination"}
            pages.append(body)
            if not body["pagination"]["has_more"]:
                break
            params = {"limit": 3, "cursor": body["pagination"]["next_cursor"]}
            assert len(pages) < 10, "pagination does not end"

    assert [len(page["data"]) for page in pages] == [3, 3, 1]
    assert [page["pagination"]["has_more"] for page in pages] == [True, True, False]
    assert all(isinstance(page["pagination"]["next_cursor"], str) for page in pages[:2])
    assert pages[-1]["pagination"]["next_cursor"] is None
    seen = [item["handle"] for page in pages for item in page["data"]]
    assert seen == list(reversed(created))


def test_a_page_that_ends_exactly_at_the_last_item_has_no_more(server: LiveServer) -> None:
    with server.client() as api:
        create_identities(api, 6)
        first = api.get("/v1/identities", params={"limit": 3}).json()
        second = api.get(
            "/v1/identities",
            params={"limit": 3, "cursor": first["pagination"]["next_cursor"]},
        ).json()
    assert len(second["data"]) == 3
    assert second["pagination"] == {"has_more": False, "next_cursor": None}


def test_an_empty_list_is_one_empty_page(server: LiveServer) -> None:
    with server.client() as api:
        answer = api.get("/v1/identities")
    assert answer.status_code == 200
    assert answer.json() == {"data": [], "pagination": {"has_more": False, "next_cursor": None}}


def test_the_default_page_is_twenty(server: LiveServer) -> None:
    with server.client() as api:
        for n in range(21):
            assert api.post("/v1/identities", json={"handle": f"a{n}"}).status_code == 201
        body = api.get("/v1/identities").json()
    assert len(body["data"]) == 20
    assert body["pagination"]["has_more"] is True


def test_items_created_while_paging_do_not_shift_later_pages(server: LiveServer) -> None:
    """The cursor marks a position: new items appear on page one, not as repeats further on."""
    with server.client() as api:
        created = create_identities(api, 5)
        first = api.get("/v1/identities", params={"limit": 2}).json()
        assert api.post("/v1/identities", json={"handle": "newcomer"}).status_code == 201
        rest = api.get(
            "/v1/identities",
            params={"limit": 10, "cursor": first["pagination"]["next_cursor"]},
        ).json()
    seen = [item["handle"] for item in first["data"] + rest["data"]]
    assert seen == list(reversed(created))


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "2.5"])
def test_a_limit_outside_one_to_a_hundred_is_refused(server: LiveServer, limit: str) -> None:
    with server.client() as api:
        answer = api.get("/v1/identities", params={"limit": limit})
    error = error_of(answer, 422, "validation_error")
    assert error["param"] == "limit"
    assert error["errors"][0]["field"] == "limit"
    assert error["errors"][0]["code"] in ("out_of_range", "invalid_type")


@pytest.mark.parametrize("limit", [1, 100])
def test_the_limit_bounds_themselves_are_accepted(server: LiveServer, limit: int) -> None:
    with server.client() as api:
        create_identities(api, 2)
        answer = api.get("/v1/identities", params={"limit": limit})
    assert answer.status_code == 200
    assert len(answer.json()["data"]) == min(limit, 2)


def a_cursor(api: httpx2.Client) -> str:
    create_identities(api, 3)
    cursor = api.get("/v1/identities", params={"limit": 1}).json()["pagination"]["next_cursor"]
    assert isinstance(cursor, str)
    assert cursor
    return str(cursor)


def flip(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_tampered_cursor_is_refused(server: LiveServer, where: str) -> None:
    with server.client() as api:
        cursor = a_cursor(api)
        index = {"first": 0, "middle": len(cursor) // 2, "last": len(cursor) - 1}[where]
        answer = api.get("/v1/identities", params={"limit": 1, "cursor": flip(cursor, index)})
    error = error_of(answer, 400, "invalid_cursor")
    assert error["param"] == "cursor"


@pytest.mark.parametrize(
    "garbage",
    ["garbage", "not.a.cursor", ".", "eyJiIjoiaWRuXzAifQ", "eyJiIjoxfQ.x", "%%%.%%%", "abc.é"],
)
def test_a_garbage_cursor_is_refused(server: LiveServer, garbage: str) -> None:
    """Anything that is not a cursor this server signed is a 400, never a 500."""
    with server.client() as api:
        answer = api.get("/v1/identities", params={"cursor": garbage})
    error = error_of(answer, 400, "invalid_cursor")
    assert error["param"] == "cursor"


def test_a_cursor_only_works_on_the_list_that_gave_it(server: LiveServer) -> None:
    with server.client() as api:
        cursor = a_cursor(api)
        own = api.get("/v1/identities", params={"limit": 1, "cursor": cursor})
        elsewhere = api.get("/v1/mailboxes", params={"limit": 1, "cursor": cursor})
    assert own.status_code == 200
    error = error_of(elsewhere, 400, "invalid_cursor")
    assert error["param"] == "cursor"


def test_mailboxes_page_the_same_way(server: LiveServer) -> None:
    with server.client() as api:
        created = create_identities(api, 3)
        first = api.get("/v1/mailboxes", params={"limit": 2}).json()
        second = api.get(
            "/v1/mailboxes", params={"limit": 2, "cursor": first["pagination"]["next_cursor"]}
        ).json()
    addresses = [item["address"] for item in first["data"] + second["data"]]
    assert [a.split("@")[0] for a in addresses] == list(reversed(created))
    assert second["pagination"] == {"has_more": False, "next_cursor": None}
