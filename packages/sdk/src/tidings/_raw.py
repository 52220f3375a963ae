"""`td.with_raw_response`: the same calls, answering with the HTTP response beside the result.

A wrapped call runs the method as usual while a context variable collects the responses the
client accepted; the last one is the answer. Nothing about a call changes (retries, errors,
parsing), so a raw call and a plain one cannot behave differently.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Generic, ParamSpec, TypeVar

import httpx2

__all__ = ["RawResponse", "araw", "raw", "record"]

P = ParamSpec("P")
T = TypeVar("T")

_answers: ContextVar[list[httpx2.Response] | None] = ContextVar("tidings_answers", default=None)


def record(response: httpx2.Response) -> None:
    """Called by the client with every answer it returns; kept only inside a raw call."""
    answers = _answers.get()
    if answers is not None:
        answers.append(response)


class RawResponse(Generic[T]):
    """An answer as HTTP saw it: `status_code`, `headers`, `request_id`, `http_response`,
    and `parse()` for the typed result the plain call returns."""

    def __init__(self, http_response: httpx2.Response, parsed: T) -> None:
        self.http_response = http_response
        self._parsed = parsed

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx2.Headers:
        return self.http_response.headers

    @property
    def request_id(self) -> str | None:
        return self.http_response.headers.get("x-request-id")

    def parse(self) -> T:
        return self._parsed

    def __repr__(self) -> str:
        return f"<RawResponse {self.status_code} {self.request_id}>"


def _answer(answers: list[httpx2.Response], parsed: T) -> RawResponse[T]:
    assert answers, "a wrapped call made a request"
    return RawResponse(answers[-1], parsed)


def raw(method: Callable[P, T]) -> Callable[P, RawResponse[T]]:
    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        answers: list[httpx2.Response] = []
        token = _answers.set(answers)
        try:
            parsed = method(*args, **kwargs)
        finally:
            _answers.reset(token)
        return _answer(answers, parsed)

    return call


def araw(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[RawResponse[T]]]:
    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        answers: list[httpx2.Response] = []
        token = _answers.set(answers)
        try:
            parsed = await method(*args, **kwargs)
        finally:
            _answers.reset(token)
        return _answer(answers, parsed)

    return call
