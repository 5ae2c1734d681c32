"""`epcis_export._what` and `_single_lines` (Python rows for a hub's 55k events) give what the
Polars group_by-sum-sort they replace gave: same entries, same order, same floats."""

from __future__ import annotations

import random
from typing import Any

import polars as pl
import pytest

from lotline.gs1 import epcis_export
from lotline.gs1.epcis_export import _quantity, serial_uri


def polars_what(lines: pl.DataFrame) -> dict[str, list[Any]]:
    """The previous implementation, all in Polars."""
    serials = sorted(
        {
            serial_uri(g, s)
            for g, s in lines.filter(pl.col("serial").is_not_null())
            .select("gtin", "serial")
            .iter_rows()
        }
    )
    quantities = (
        lines.filter(pl.col("serial").is_null() & pl.col("lot").is_not_null())
        .group_by("gtin", "lot", "uom")
        .agg(pl.col("quantity").sum())
        .sort("gtin", "lot", "uom")
    )
    return {
        "epcList": serials,
        "quantityList": [
            _quantity(g, lo, q, u)
            for g, lo, u, q in quantities.select("gtin", "lot", "uom", "quantity").iter_rows()
        ],
    }


def random_lines(rng: random.Random) -> pl.DataFrame:
    n = rng.randint(0, 6)
    return pl.DataFrame(
        {
            "gtin": [rng.choice(["00614141000012", "00614141000036"]) for _ in range(n)],
            "lot": [rng.choice(["L1", "L2", "", None, "ä"]) for _ in range(n)],
            "serial": [rng.choice([None, None, "7", "10"]) for _ in range(n)],
            "uom": [rng.choice(["KGM", "EA", None]) for _ in range(n)],
            "quantity": [rng.choice([0.1, 0.2, 0.7, 3.0, 1e-9, None, -0.0]) for _ in range(n)],
        },
        schema={
            "gtin": pl.String,
            "lot": pl.String,
            "serial": pl.String,
            "uom": pl.String,
            "quantity": pl.Float64,
        },
    )


@pytest.mark.parametrize("seed", range(300))
def test_what_equals_the_polars_aggregation(seed: int):
    lines = random_lines(random.Random(seed))
    assert epcis_export._what(lines) == polars_what(lines)
