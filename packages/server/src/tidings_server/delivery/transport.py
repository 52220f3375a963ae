"""The seam between the worker and the network: a `Transport` delivers to one domain at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol


class Result(Enum):
    SENT = "sent"  # a remote server accepted it
    CAPTURED = "captured"  # kept on this machine on purpose (TIDINGS_OUTBOUND=capture)
    TEMPORARY = "temporary"  # try again later
    PERMANENT = "permanent"  # bounce now


@dataclass(frozen=True)
class Outcome:
    result: Result
    code: int | None = None
    detail: str = ""


class Transport(Protocol):
    async def send(
        self, sender: str, recipients: Sequence[str], raw: bytes, *, domain: str
    ) -> dict[str, Outcome]:
        """Deliver `raw` to `recipients` (all in `domain`); an outcome for every recipient."""
        ...

    async def close(self) -> None:
        """Let go of what is kept between messages (open connections); at shutdown."""
        ...


class CaptureTransport:
    """Keeps outside mail on this machine: status `captured`, nothing is sent."""

    async def send(
        self, sender: str, recipients: Sequence[str], raw: bytes, *, domain: str
    ) -> dict[str, Outcome]:
        return {
            r: Outcome(Result.CAPTURED, detail="captured: outbound delivery is off")
            for r in recipients
        }

    async def close(self) -> None:
        pass
