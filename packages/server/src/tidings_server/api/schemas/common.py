"""Shapes shared by every resource: strict request models and header-safe text."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

_FORBIDDEN = {"\r": "CR", "\n": "LF", "\0": "NUL"}


def _header_safe(value: str) -> str:
    # Values that may end up in a mail header must never carry line breaks (CVE-2024-6923).
    for char, name in _FORBIDDEN.items():
        if char in value:
            raise ValueError(f"must not contain {name} characters")
    return value


HeaderText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_header_safe)
]
Description = Annotated[str, StringConstraints(max_length=2000)]


class RequestModel(BaseModel):
    """Request bodies: unknown fields and wrongly typed values are refused, never coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class View(BaseModel):
    """Response bodies."""

    model_config = ConfigDict(from_attributes=True)
