"""The fast indented JSON writer gives `json.dumps(indent=2, ensure_ascii=False)`'s exact text."""

from __future__ import annotations

import json
import random
from datetime import date
from typing import Any

import pytest

from lotline.gs1.json_text import dumps_indent2


def reference(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


class Word(str):
    pass


SCALARS: list[Any] = [
    "", "a", "é ü 漢字", 'quote " backslash \\ tab \t newline \n', "\x00\x1f\u2028", "😀",
    Word("sub"), 0, -1, 10**30, True, False, None, 0.0, -0.0, 1.5, 1e16, 1e-7, 2.5e300,
    float("nan"), float("inf"), float("-inf"),
]  # fmt: skip


def random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 4 or roll < 0.4:
        return rng.choice(SCALARS)
    if roll < 0.6:
        return [rng.choice(["x", "y é"]) for _ in range(rng.randint(0, 3))]  # all-string lists
    if roll < 0.8:
        items = [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
        return tuple(items) if rng.random() < 0.2 else items
    return {f"k{i}{rng.choice(SCALARS[:4])}": random_value(rng, depth + 1) for i in range(4)}


@pytest.mark.parametrize("seed", range(20))
def test_random_values(seed: int):
    value = random_value(random.Random(seed))
    assert dumps_indent2(value) == reference(value)


@pytest.mark.parametrize(
    "value", [*SCALARS, {}, [], (), {"a": {}}, [[]], {1: "int key", None: 1, 2.5: True}]
)
def test_edge_values(value: Any):
    assert dumps_indent2(value) == reference(value)


def test_what_json_cannot_write_fails_alike():
    with pytest.raises(TypeError):
        dumps_indent2({"when": date(2026, 1, 1)})
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        dumps_indent2(loop)
