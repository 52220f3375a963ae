"""Shapes shared by every resource: strict request models and header-safe text."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

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


class PatchModel(RequestModel):
    """A partial update: fields left out keep their value; `changes()` holds only what was sent."""

    def changes(self) -> dict[str, object]:
        return self.model_dump(exclude_unset=True)


def _refuse_null(value: object, info: ValidationInfo) -> object:
    if value is None:
        raise ValueError(f"`{info.field_name}` cannot be null; leave it out to keep its value")
    return value


def not_null(*fields: str) -> Any:
    """A validator for PATCH fields that may be left out but not cleared with null."""
    return field_validator(*fields)(_refuse_null)


class View(BaseModel):
    """Response bodies."""

    model_config = ConfigDict(from_attributes=True)
