"""Fuzzing the MIME parser: mutated real messages never crash it, hang it or blow its memory.

Seeds are our own corpus (tests/server/mime/fuzz_seeds and samples) plus the standard
library's email test messages where this Python ships them (Debian's python3 does not, so
the vendored corpus alone must be enough). Hypothesis mutates and splices them. The parser
may raise only its declared error, `MimeParseError`, and only for input that cannot be a
message (empty, too large); anything else, malformed or not, must give a best parse.
`python -m bench.fuzz` runs the same target with many more examples.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings_server.mime import MimeParseError, ParsedMessage, parse_message

HERE = Path(__file__).parent
EXAMPLES = int(os.environ.get("TIDINGS_FUZZ_EXAMPLES", "300"))
SECONDS_PER_INPUT = 2.0
# Generous, but far below what a quadratic or runaway parse of these sizes would need.
PEAK_BYTES = 64 * 1024 * 1024


def _stdlib_corpus() -> list[Path]:
    try:
        import test.test_email as stdlib_email_tests
    except ImportError:
        return []
    data = Path(stdlib_email_tests.__file__).parent / "data"
    return sorted(data.glob("msg_*.txt")) if data.exists() else []


SEEDS = [
    p.read_bytes()
    for p in [
        *sorted((HERE / "fuzz_seeds").glob("*.eml")),
        *sorted((HERE / "samples").glob("*.eml")),
        *_stdlib_corpus(),
    ]
]
TOKENS = [
    b"\r\n", b"\n", b"\r", b"\r\n\r\n", b"--", b"--b1--", b"\x00", b"\xff\xfe", b"=?utf-8?b?",
    b"=?iso-8859-1?q?=E9?=", b"?=", b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n",
    b"Content-Transfer-Encoding: base64\r\n", b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"charset=\"x-unknown\"", b"filename*=utf-8''%E2%82%AC.txt", b"=\r\n", b"=ZZ", b"<", b">",
    b"\"", b"(", b")", b"\\", b":", b";", b",", b"@", b" ", b"\t", b"message/rfc822\r\n\r\n",
]  # fmt: skip


@st.composite
def mutated_messages(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "repeat", "splice"]))
        at = draw(st.integers(0, len(data)))
        if kind == "flip" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS) | st.binary(max_size=40))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 200))]
        elif kind == "repeat":
            chunk = bytes(data[at : at + draw(st.integers(1, 300))])
            data[at:at] = chunk * draw(st.integers(1, 50))
        else:
            other = draw(st.sampled_from(SEEDS))
            cut = draw(st.integers(0, len(other)))
            data[at:] = other[cut:]
    return bytes(data)


def test_the_corpus_has_seeds() -> None:
    assert len(SEEDS) >= 10


@settings(
    max_examples=EXAMPLES,
    deadline=None,  # timed below, with a clearer message and a bound of our own
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated_messages())
def test_mutated_mail_parses_or_raises_only_the_declared_error(raw: bytes) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    error: MimeParseError | None = None
    try:
        parsed = parse_message(raw)
    except MimeParseError as exc:
        error = exc
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    if error is not None:
        # Only input that cannot be a message at all; an internal failure would say why.
        assert error.__cause__ is None, f"internal failure: {error.__cause__!r}"
        assert not raw.strip()
        return
    assert isinstance(parsed, ParsedMessage)
    assert elapsed < SECONDS_PER_INPUT, f"{elapsed:.2f} s for {len(raw)} bytes"
    assert peak < PEAK_BYTES, f"{peak} bytes at peak for {len(raw)} bytes"
