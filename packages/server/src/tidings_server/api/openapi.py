"""The OpenAPI document, telling the truth about errors: every failure is the error envelope.

FastAPI documents its own `HTTPValidationError` for 422, which this API never sends; the
document instead names the envelope that `api.envelope` renders, for 422 and as the
default answer of every /v1 operation.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

_REF = "#/components/schemas/{model}"


class FieldErrorDoc(BaseModel):
    field: str
    code: str
    message: str


class ErrorDoc(BaseModel):
    code: str = Field(description="Stable snake_case, e.g. `validation_error`, `not_found`.")
    message: str
    param: str | None = Field(description="The field, parameter or header at fault.")
    errors: list[FieldErrorDoc]
    fix: str = Field(description="What to do next, in one sentence.")
    retryable: bool
    request_id: str | None
    limit: dict[str, Any] | None = Field(
        default=None, description="On quota and spend refusals: the limit, window and reset."
    )


class ErrorEnvelope(BaseModel):
    error: ErrorDoc


def _envelope(description: str) -> dict[str, Any]:
    schema = {"$ref": _REF.format(model="ErrorEnvelope")}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=app.routes,
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        definitions = ErrorEnvelope.model_json_schema(ref_template=_REF)
        schemas.update(definitions.pop("$defs", {}))
        schemas["ErrorEnvelope"] = definitions
        for path, operations in document.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = _envelope("The input is invalid; nothing was changed.")
                if path.startswith("/v1"):
                    responses["default"] = _envelope("An error, as the error envelope.")
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
