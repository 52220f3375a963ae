"""Domain errors: each carries its HTTP status, a stable `code` and a `fix` a caller can act on.

Services raise these; one handler in `api.envelope` renders every one of them as the error
envelope. Nothing else in the server builds error responses by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str


class TidingsError(Exception):
    """Base of every error a client may see. Subclasses fix `status` and a default `code`."""

    status: int = 400
    code: str = "bad_request"
    fix: str = "Correct the request and try again."
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        fix: str | None = None,
        errors: Sequence[FieldError] = (),
        retryable: bool | None = None,
        headers: Mapping[str, str] | None = None,
        status: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        if fix is not None:
            self.fix = fix
        if retryable is not None:
            self.retryable = retryable
        self.param = param
        self.errors = tuple(errors)
        self.headers = dict(headers or {})
        # More members of the error object, for errors a caller acts on (a quota's `limit`).
        self.extra = dict(extra or {})


class BadRequest(TidingsError):
    status = 400


class Unauthorized(TidingsError):
    status = 401
    code = "invalid_api_key"
    fix = "Send a valid key as `Authorization: Bearer td_...`; mint one with `tidings keys create`."


class Forbidden(TidingsError):
    status = 403
    code = "forbidden"
    fix = "Use a root key (td_root_...) for organisation-wide operations."


class NotFound(TidingsError):
    status = 404
    code = "not_found"
    fix = "Check the id or address; list the collection to see what exists for this key."


class MethodNotAllowed(TidingsError):
    status = 405
    code = "method_not_allowed"
    fix = "Use one of the methods listed in the Allow header."


class Conflict(TidingsError):
    status = 409
    code = "conflict"
    fix = "Choose a different value; this one is already taken."


class PreconditionFailed(TidingsError):
    status = 412
    code = "precondition_failed"
    fix = "GET the resource again for its current ETag, re-apply your change, and retry."


class PayloadTooLarge(TidingsError):
    status = 413
    code = "payload_too_large"
    fix = "Send a smaller request body."


class UnsupportedMediaType(TidingsError):
    status = 415
    code = "unsupported_media_type"
    fix = "Send the body as JSON with `Content-Type: application/json`."


class ValidationFailed(TidingsError):
    status = 422
    code = "validation_error"
    fix = "Fix the fields listed in `errors` and send the request again."


class RateLimited(TidingsError):
    status = 429
    code = "rate_limit_exceeded"
    fix = "Wait for the number of seconds in Retry-After, then retry."
    retryable = True


class InternalError(TidingsError):
    status = 500
    code = "internal_error"
    fix = "Retry the request; if it keeps failing, report the request_id."
    retryable = True


class ServiceUnavailable(TidingsError):
    status = 503
    code = "service_unavailable"
    fix = "Retry shortly; the server is starting up or shutting down."
    retryable = True
