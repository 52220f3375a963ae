"""The one place errors become responses: `{"error": {code, message, param, errors, fix, ...}}`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from tidings_server.errors import (
    BadRequest,
    Conflict,
    FieldError,
    InternalError,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
    TidingsError,
    ValidationFailed,
)

log = logging.getLogger("tidings.api")

_PYDANTIC_CODES = {
    "extra_forbidden": "unknown_field",
    "missing": "missing_field",
    "string_too_long": "too_long",
    "string_too_short": "too_short",
    "too_long": "too_long",
    "too_short": "too_short",
    "literal_error": "invalid_choice",
    "enum": "invalid_choice",
    "greater_than_equal": "out_of_range",
    "less_than_equal": "out_of_range",
    "greater_than": "out_of_range",
    "less_than": "out_of_range",
    "timezone_aware": "invalid_value",
    "value_error": "invalid_value",
}
_LOCATION_NAMES = {"body": "", "query": "", "path": "", "header": ""}


def request_id_of(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return str(value) if value is not None else None


def error_body(error: TidingsError, request_id: str | None) -> dict[str, Any]:
    return {
        "error": {
            "code": error.code,
            "message": error.message,
            "param": error.param,
            "errors": [
                {"field": item.field, "code": item.code, "message": item.message}
                for item in error.errors
            ],
            "fix": error.fix,
            "retryable": error.retryable,
            "request_id": request_id,
            **error.extra,
        }
    }


def render(error: TidingsError, request_id: str | None) -> JSONResponse:
    return JSONResponse(
        error_body(error, request_id), status_code=error.status, headers=error.headers
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _LOCATION_NAMES:
        parts = parts[1:]
    return ".".join(parts)


def _code_for(kind: str) -> str:
    if kind in _PYDANTIC_CODES:
        return _PYDANTIC_CODES[kind]
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "invalid_type"
    return "invalid_value"


def from_validation(exc: RequestValidationError) -> TidingsError:
    problems = list(exc.errors())
    if any(p.get("type") == "json_invalid" for p in problems):
        return BadRequest(
            "The request body is not valid JSON.",
            code="invalid_json",
            param="body",
            fix="Send a JSON object with `Content-Type: application/json`.",
        )
    fields = [
        FieldError(
            field=_field_name(tuple(p.get("loc", ()))) or "body",
            code=_code_for(str(p.get("type", ""))),
            message=str(p.get("msg", "invalid")),
        )
        for p in problems
    ]
    first = fields[0]
    message = f"`{first.field}`: {first.message}"
    if len(fields) > 1:
        message += f" (and {len(fields) - 1} more)"
    return ValidationFailed(message, param=first.field, errors=fields)


def _is_unique_violation(exc: Exception) -> bool:
    original = getattr(exc, "orig", None)
    if getattr(original, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    return "UNIQUE constraint failed" in str(original)  # SQLite


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route offers on this path (RFC 9110 wants all of them in Allow)."""
    return [
        method
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into the error envelope."""

    async def on_tidings(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TidingsError)
        return render(exc, request_id_of(request))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return render(from_validation(exc), request_id_of(request))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        error: TidingsError
        if exc.status_code == 404:
            error = NotFound(
                f"No endpoint {request.method} {request.url.path}.",
                code="endpoint_not_found",
                fix="Check the path against /openapi.json; every endpoint starts with /v1.",
            )
        elif exc.status_code == 405:
            error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}.")
        else:
            error = TidingsError(str(exc.detail), code="http_error", status=exc.status_code)
        error.headers.update(exc.headers or {})
        if exc.status_code == 405:
            error.headers["Allow"] = ", ".join(_allowed_methods(request))
        return render(error, request_id_of(request))

    async def on_integrity(request: Request, exc: Exception) -> JSONResponse:
        if not _is_unique_violation(exc):
            return await on_unexpected(request, exc)
        # A unique constraint lost a race that the service's own check could not see.
        log.info("unique violation mapped to 409: %s", exc)
        return render(
            Conflict("That value was just taken by another request."), request_id_of(request)
        )

    async def on_database_down(request: Request, exc: Exception) -> JSONResponse:
        # The database refused or dropped the connection, or a lock wait timed out: nothing
        # was committed, and the same request is likely to work in a moment.
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        error = ServiceUnavailable(
            "The database is not answering right now; nothing was changed.",
            code="database_unavailable",
            fix="Retry in a few seconds (the SDK does this for you).",
            headers={"Retry-After": "1"},
        )
        return render(error, request_id_of(request))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        error = InternalError("Something went wrong on our side; nothing was changed.")
        return render(error, request_id_of(request))

    app.add_exception_handler(TidingsError, on_tidings)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(IntegrityError, on_integrity)
    app.add_exception_handler(OperationalError, on_database_down)
    app.add_exception_handler(InterfaceError, on_database_down)
    app.add_exception_handler(Exception, on_unexpected)
