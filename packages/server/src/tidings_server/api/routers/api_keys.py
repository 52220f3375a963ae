"""/v1/api-keys: mint (secret shown once), list, get and revoke keys."""

from __future__ import annotations

from fastapi import Request, Response

from tidings_server.api.conditional import check_if_match
from tidings_server.api.deps import ApiKeys
from tidings_server.api.pagination import ListResponse, Paging
from tidings_server.api.route import REDACT_ON_REPLAY
from tidings_server.api.routers import v1_router
from tidings_server.api.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyView
from tidings_server.api.schemas.deleted import Deleted

router = v1_router("/api-keys", "api keys")


@router.post(
    "",
    status_code=201,
    openapi_extra={REDACT_ON_REPLAY: ["key"]},
    description="The answer holds the secret `key`, shown only here. A replay of the same "
    "request (Idempotency-Key) answers with `key: null`: revoke that key if you lost it.",
)
async def create_api_key(body: ApiKeyCreate, keys: ApiKeys, response: Response) -> ApiKeyCreated:
    created = await keys.create(
        name=body.name, kind=body.kind, identity=body.identity_id, expires_at=body.expires_at
    )
    response.headers["Location"] = f"/v1/api-keys/{created.row.id}"
    view = ApiKeyView.of(created.row)
    return ApiKeyCreated(**view.model_dump(), key=created.plaintext)


@router.get("")
async def list_api_keys(keys: ApiKeys, paging: Paging) -> ListResponse[ApiKeyView]:
    return paging.respond(await keys.list(paging.request), ApiKeyView.of)


@router.get("/{key_id}")
async def get_api_key(key_id: str, keys: ApiKeys) -> ApiKeyView:
    return ApiKeyView.of(await keys.get(key_id))


@router.delete("/{key_id}")
async def revoke_api_key(key_id: str, keys: ApiKeys, request: Request) -> Deleted:
    check_if_match(request, ApiKeyView.of(await keys.get(key_id)))
    row = await keys.revoke(key_id)
    return Deleted(id=row.id)
