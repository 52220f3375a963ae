"""Errors the SDK raises: one hierarchy rooted at `TidingsError`, API errors keyed by status."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from tidings._usage import QuotaLimit

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "ConflictError",
    "IdempotencyConflictError",
    "InternalServerError",
    "InvalidKeyKindError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "QuotaExceededError",
    "RateLimitError",
    "SpendLimitExceededError",
    "TidingsError",
    "ValidationError",
]


class TidingsError(Exception):
    """Base of everything this SDK raises."""


class InvalidKeyKindError(TidingsError, ValueError):
    """A focused client was given a key of the wrong kind (checked before any request)."""


class APIConnectionError(TidingsError):
    """The server could not be reached (or the connection broke)."""


class APITimeoutError(APIConnectionError):
    """The server did not answer in time."""


class APIError(TidingsError):
    """The server answered with an error envelope."""

    def __init__(
        self,
        *,
        status: int,
        code: str,
        message: str,
        param: str | None = None,
        fix: str | None = None,
        retryable: bool = False,
        request_id: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}" + (f" (fix: {fix})" if fix else ""))
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.fix = fix
        self.retryable = retryable
        self.request_id = request_id
        self.errors = errors or []
        self.headers = dict(headers or {})
        self.body = body


class AuthenticationError(APIError):
    """401: the key is missing, malformed, unknown, revoked or expired (see `code`)."""


class PermissionDeniedError(APIError):
    """403: this kind of key may not do that."""


class NotFoundError(APIError):
    """404: no such resource, or it is outside this key's scope."""


class ConflictError(APIError):
    """409: the value is taken, or the resource is in a state that forbids this."""


class IdempotencyConflictError(ConflictError):
    """409 `idempotency_conflict`: the key was used for another request, or is in flight."""


class PreconditionFailedError(APIError):
    """412: the ETag given in If-Match is no longer current."""


class ValidationError(APIError):
    """400/413/415/422: the request was not acceptable; `param` and `errors` say why."""


class RateLimitError(APIError):
    """429: too many requests; retry after `Retry-After` seconds."""


class _NamesALimit(APIError):
    """An error whose envelope says which limit the request would have passed."""

    @functools.cached_property
    def limit(self) -> QuotaLimit | None:
        """The limit the request would have passed: `name`, `subject` / `subject_id`,
        `limit`, `used`, `window`, `resets_at`, `retry_after_seconds` (None if the answer
        did not say)."""
        envelope = self.body.get("error") if isinstance(self.body, dict) else None
        found = envelope.get("limit") if isinstance(envelope, dict) else None
        try:
            return QuotaLimit.model_validate(found) if isinstance(found, dict) else None
        except ValueError:  # an error about an error: keep the error itself usable
            return None


class QuotaExceededError(_NamesALimit, RateLimitError):
    """429 `quota_exceeded`: the send would pass a quota (sends per minute or day, recipients
    per day). Nothing was sent; `limit.resets_at` says when it may go."""


class SpendLimitExceededError(_NamesALimit):
    """402 `spend_limit_exceeded`: the send's cost (or a request's budget) would pass
    `spend_per_day`. Nothing was sent or held. Never retried: waiting a few seconds does not
    make room."""


class InternalServerError(APIError):
    """5xx: the server failed; nothing was changed."""


_BY_STATUS: dict[int, type[APIError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    429: RateLimitError,
}


_BY_CODE: dict[str, type[APIError]] = {
    "idempotency_conflict": IdempotencyConflictError,
    "quota_exceeded": QuotaExceededError,
    "spend_limit_exceeded": SpendLimitExceededError,
}


def error_class(status: int, code: str) -> type[APIError]:
    if code in _BY_CODE:
        return _BY_CODE[code]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return InternalServerError
    if status in (400, 413, 415, 422):
        return ValidationError
    return APIError


def from_response(status: int, headers: Mapping[str, str], body: Any) -> APIError:
    """The typed error for an error answer (tolerant of answers that are not envelopes)."""
    envelope = body.get("error") if isinstance(body, dict) else None
    if not isinstance(envelope, dict):
        envelope = {"code": "http_error", "message": str(body)[:500]}
    code = str(envelope.get("code") or "http_error")
    return error_class(status, code)(
        status=status,
        code=code,
        message=str(envelope.get("message") or ""),
        param=envelope.get("param"),
        fix=envelope.get("fix"),
        retryable=bool(envelope.get("retryable", status >= 500)),
        request_id=envelope.get("request_id") or headers.get("x-request-id"),
        errors=envelope.get("errors") or [],
        headers=headers,
        body=body,
    )
