"""/v1/identities: create (provisions the mailbox), list, get, update, delete."""

from __future__ import annotations

from fastapi import Request, Response

from tidings_server.api.conditional import check_if_match
from tidings_server.api.deps import Identities
from tidings_server.api.pagination import ListResponse, Paging
from tidings_server.api.routers import v1_router
from tidings_server.api.schemas.deleted import Deleted
from tidings_server.api.schemas.identities import IdentityCreate, IdentityUpdate, IdentityView

router = v1_router("/identities", "identities")


@router.post("", status_code=201)
async def create_identity(
    body: IdentityCreate, identities: Identities, response: Response
) -> IdentityView:
    identity = await identities.create(
        body.handle, display_name=body.display_name, description=body.description
    )
    response.headers["Location"] = f"/v1/identities/{identity.handle}"
    return IdentityView.of(identity)


@router.get("")
async def list_identities(identities: Identities, paging: Paging) -> ListResponse[IdentityView]:
    return paging.respond(await identities.list(paging.request), IdentityView.of)


@router.get("/{handle}")
async def get_identity(handle: str, identities: Identities) -> IdentityView:
    return IdentityView.of(await identities.get(handle))


@router.patch("/{handle}")
async def update_identity(
    handle: str, body: IdentityUpdate, identities: Identities, request: Request
) -> IdentityView:
    check_if_match(request, IdentityView.of(await identities.get(handle)))
    return IdentityView.of(await identities.update(handle, body.changes()))


@router.delete("/{handle}")
async def delete_identity(handle: str, identities: Identities, request: Request) -> Deleted:
    check_if_match(request, IdentityView.of(await identities.get(handle)))
    identity = await identities.delete(handle)
    return Deleted(id=identity.id)
