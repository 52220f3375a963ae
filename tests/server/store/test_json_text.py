"""Stored JSON reads back exactly as the standard library would read it, on each engine."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tidings_server.store import json_text
from tidings_server.store.engine import create_engine

TEXTS = [
    '[{"name": "Ada", "address": "ada@example.org"}]',
    '{"labels": ["a", "b"], "usage": null, "n": -12, "x": 1.5e-3}',
    '{"big": 123456789012345678901234567890, "negative": -98765432109876543210}',
    '{"bits": 18446744073709551616}',  # 2**64: one past what orjson keeps as an integer
    '{"ratio": NaN, "up": Infinity, "down": -Infinity}',
    '"\\ud800 lone surrogate"',
    '"caf\\u00e9 \\u2603 \\ud83d\\ude00"',
    "[]",
]


def _same(a: object, b: object) -> bool:
    # NaN is not equal to itself; compare the texts the values would be written back as.
    return json.dumps(a) == json.dumps(b) and type(a) is type(b)


@pytest.mark.parametrize("text", TEXTS)
def test_loads_gives_the_standard_librarys_answer(text: str) -> None:
    assert _same(json_text.loads(text), json.loads(text))
    assert _same(json_text.loads(text.encode()), json.loads(text))


def test_long_integers_stay_integers() -> None:
    value = json_text.loads('{"big": 123456789012345678901234567890}')["big"]
    assert value == 123456789012345678901234567890
    assert isinstance(value, int)


async def test_json_columns_read_through_it_on_each_engine(database_url: str) -> None:
    engine = create_engine(database_url)
    stored = '{"count": 123456789012345678901234567890, "to": ["ada@example.org"]}'
    async with engine.connect() as connection:
        await connection.execute(sa.text("CREATE TEMPORARY TABLE stored (value JSON)"))
        await connection.execute(sa.text("INSERT INTO stored VALUES (:v)"), {"v": stored})
        table = sa.table("stored", sa.column("value", sa.JSON))
        value = await connection.scalar(sa.select(table.c.value))
    await engine.dispose()
    assert value["count"] == 123456789012345678901234567890
    assert isinstance(value["count"], int)
    assert value["to"] == ["ada@example.org"]
