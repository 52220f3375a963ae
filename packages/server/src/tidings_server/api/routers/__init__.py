"""Routers: parse the request, call one service, shape the answer. No rules live here."""

from fastapi import APIRouter, Depends

from tidings_server.api.deps import bearer
from tidings_server.api.route import ApiRoute


def v1_router(prefix: str, tag: str) -> APIRouter:
    """A router whose endpoints get the shared machinery of `ApiRoute`."""
    return APIRouter(
        prefix=f"/v1{prefix}", tags=[tag], route_class=ApiRoute, dependencies=[Depends(bearer)]
    )
