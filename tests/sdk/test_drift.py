"""No drift: the SDK's endpoint table and the server's OpenAPI document agree.

Every endpoint the server has is in the SDK's table (`tidings._endpoints.Api`) or in its list
of endpoints left alone on purpose (`UNWRAPPED`), and the other way round. For each one the
path, query and header parameters, the request body's fields and the response's fields
(nested objects included) must be the same on both sides. The table is what the resources
build their requests from and the models they parse answers with, so it cannot claim more or
less than the SDK does.
"""

from __future__ import annotations

import ast
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from starlette.routing import WebSocketRoute

import tidings
from tidings._bodies import MailboxUpdateBody
from tidings._endpoints import UNWRAPPED, Api, Route
from tidings_server.api.app import create_app
from tidings_server.settings import Settings

Schema = dict[str, Any]


class Document:
    def __init__(self, openapi: Schema) -> None:
        self.openapi = openapi

    def resolve(self, schema: Schema) -> Schema:
        """Follow `$ref`s and see through `X | None`."""
        while True:
            if "$ref" in schema:
                schema = self.openapi["components"]["schemas"][schema["$ref"].split("/")[-1]]
            elif "anyOf" in schema:
                rest = [s for s in schema["anyOf"] if s.get("type") != "null"]
                if len(rest) != 1:
                    return schema
                schema = rest[0]
            else:
                return schema

    def object_of(self, schema: Schema) -> Schema | None:
        """The object schema (with properties) a field holds, one or in an array; else None."""
        schema = self.resolve(schema)
        if schema.get("type") == "array" and "items" in schema:
            schema = self.resolve(schema["items"])
        return schema if "properties" in schema else None


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds (alone, optional or in a list), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType):
        found = {m for arg in typing.get_args(annotation) if (m := model_in(arg))}
        return found.pop() if len(found) == 1 else None
    return None


def field_problems(model: type[BaseModel], schema: Schema, doc: Document, where: str) -> list[str]:
    sdk = {(info.alias or name): info.annotation for name, info in model.model_fields.items()}
    server = doc.resolve(schema).get("properties", {})
    problems = [f"{where}.{n}: only in the SDK ({model.__name__})" for n in sdk.keys() - server]
    problems += [f"{where}.{n}: only on the server" for n in server.keys() - sdk]
    for name in sdk.keys() & server:
        inner, theirs = model_in(sdk[name]), doc.object_of(server[name])
        if inner is not None and theirs is not None:
            problems += field_problems(inner, theirs, doc, f"{where}.{name}")
        elif theirs is not None:
            problems.append(f"{where}.{name}: an object on the server, untyped in the SDK")
        elif inner is not None:
            problems.append(f"{where}.{name}: a model in the SDK, not an object on the server")
    return problems


def json_schema(content: Schema | None) -> Schema | None:
    return ((content or {}).get("application/json") or {}).get("schema")


def response_problems(route: Route, operation: Schema, doc: Document, where: str) -> list[str]:
    status, answer = next((s, a) for s, a in operation["responses"].items() if s.startswith("2"))
    content = answer.get("content") or {}
    schema = json_schema(content)
    if route.shape == "bytes":
        return [] if not schema else [f"{where}: answers JSON, the SDK reads bytes"]
    if route.shape == "stream":
        return [] if "text/event-stream" in content else [f"{where}: not an event stream"]
    if schema is None or route.response is None:
        return [f"{where}: answer {status} has no JSON schema to compare with"]
    if route.shape == "one":
        return field_problems(route.response, schema, doc, where)
    envelope = doc.resolve(schema)["properties"]
    wanted = {"data", "pagination"} if route.shape == "page" else {"data"}
    if set(envelope) != wanted:
        return [f"{where}: a list answers {sorted(envelope)}, the SDK reads {sorted(wanted)}"]
    items = doc.resolve(envelope["data"])["items"]
    return field_problems(route.response, items, doc, f"{where}[]")


def parameters(operation: Schema, kind: str) -> set[str]:
    return {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == kind}


def route_problems(route: Route, operation: Schema, doc: Document) -> list[str]:
    where = f"{route.method} {route.path}"
    problems = []
    for kind, ours in (
        ("path", route.path_params),
        ("query", route.query_params),
        ("header", route.headers),
    ):
        theirs, ours = parameters(operation, kind), {p.lower() for p in ours}
        problems += [f"{where}: {kind} parameter {p!r} only in the SDK" for p in ours - theirs]
        problems += [f"{where}: {kind} parameter {p!r} only on the server" for p in theirs - ours]
    body = json_schema(operation.get("requestBody", {}).get("content"))
    if (body is None) != (route.body is None):
        problems.append(f"{where}: a request body on one side only")
    elif body is not None and route.body is not None:
        problems += field_problems(route.body, body, doc, f"{where} body")
    return problems + response_problems(route, operation, doc, f"{where} answer")


def websocket_paths(routes: list[Any]) -> set[str]:
    found: set[str] = set()
    for route in routes:
        if isinstance(route, WebSocketRoute):
            found.add(route.path)
        included = getattr(route, "original_router", None)  # how FastAPI includes a router
        if included is not None:
            found |= websocket_paths(included.routes)
    return found


@pytest.fixture(scope="module")
def server_api(tmp_path_factory: pytest.TempPathFactory) -> tuple[Document, set[tuple[str, str]]]:
    """The server's OpenAPI document and its endpoints, from the app itself (no database)."""
    data = tmp_path_factory.mktemp("openapi")
    app = create_app(Settings(data_dir=data, database_url=f"sqlite:///{data / 'x.db'}"))
    doc = Document(app.openapi())
    endpoints = {
        (method.upper(), path) for path, ops in doc.openapi["paths"].items() for method in ops
    }
    endpoints |= {("WEBSOCKET", path) for path in websocket_paths(app.router.routes)}
    return doc, endpoints


def test_every_server_endpoint_is_in_the_sdk_or_left_out_on_purpose(
    server_api: tuple[Document, set[tuple[str, str]]],
) -> None:
    _, server = server_api
    sdk = {(api.value.method, api.value.path) for api in Api}
    assert not sdk & set(UNWRAPPED), "an endpoint both wrapped and left out"
    lacking, extra = sorted(server - sdk - set(UNWRAPPED)), sorted((sdk | set(UNWRAPPED)) - server)
    assert not lacking, f"server endpoints the SDK lacks: {lacking}"
    assert not extra, f"SDK endpoints the server lacks: {extra}"
    assert all(UNWRAPPED.values()), "every endpoint left out says why"


def test_parameters_bodies_and_answers_match_field_for_field(
    server_api: tuple[Document, set[tuple[str, str]]],
) -> None:
    doc, _ = server_api
    problems = []
    for api in Api:
        operation = doc.openapi["paths"].get(api.value.path, {}).get(api.value.method.lower())
        if operation is not None:  # a missing one is the test above's to report
            problems += route_problems(api.value, operation, doc)
    assert not problems, "\n".join(["the SDK and the server disagree:", *problems])


def test_every_entry_of_the_table_is_used_by_the_sdk() -> None:
    """An entry no resource builds a request from would claim an endpoint the SDK lacks."""
    package = Path(tidings.__file__).parent
    used = {
        node.attr
        for path in package.rglob("*.py")
        if path.name != "_endpoints.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Api"
    }
    unused = sorted({api.name for api in Api} - used)
    assert not unused, f"table entries no resource uses: {unused}"


def test_the_comparison_notices_a_field_on_one_side_only(
    server_api: tuple[Document, set[tuple[str, str]]],
) -> None:
    """The check itself: a model missing a field, or with one too many, is reported."""
    doc, _ = server_api
    schema = {"$ref": "#/components/schemas/IdentityView"}

    class Short(BaseModel):
        id: str

    class Long(tidings.Identity):
        nickname: str

    assert "identity.handle: only on the server" in field_problems(Short, schema, doc, "identity")
    assert field_problems(Long, schema, doc, "identity") == [
        "identity.nickname: only in the SDK (Long)"
    ]


def test_the_table_refuses_what_it_does_not_declare() -> None:
    with pytest.raises(TypeError, match="no query parameters"):
        Api.LIST_IDENTITIES.request(params={"sort": "handle"})
    with pytest.raises(TypeError, match="path parameters"):
        Api.GET_IDENTITY.request()
    with pytest.raises(TypeError, match="as its body"):
        Api.UPDATE_IDENTITY.request(handle="bot", body=MailboxUpdateBody(display_name="x"))
    # A path value is one segment, whatever it holds: it cannot reach another endpoint.
    assert Api.GET_IDENTITY.request(handle="a/../b?c").path == "/v1/identities/a%2F..%2Fb%3Fc"
    assert Api.GET_MAILBOX.request(address="a+b@x.test").path == "/v1/mailboxes/a+b@x.test"
