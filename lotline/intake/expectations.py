"""Great Expectations expectations GX does not ship: GS1 check digits.

Each is a column-map expectation, so GX reports the failing rows themselves (which is what the
quarantine needs), and each condition is computed by the same Polars expression the rest of
lotline uses, so validation and parsing can never disagree.
"""

from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import pandas as pd  # noqa: E402
import polars as pl  # noqa: E402
from great_expectations.execution_engine import PandasExecutionEngine  # noqa: E402
from great_expectations.expectations.expectation import ColumnMapExpectation  # noqa: E402
from great_expectations.expectations.metrics import (  # noqa: E402
    ColumnMapMetricProvider,
    column_condition_partial,
)

from lotline import gs1  # noqa: E402


def _condition(column: pd.Series, expr: pl.Expr) -> pd.Series:
    frame = pl.DataFrame(
        {"v": pl.Series(column.astype("string").to_numpy(na_value=None), dtype=pl.String)}
    )
    result = frame.select(expr.fill_null(False)).to_series().to_numpy()
    return pd.Series(result, index=column.index)


class _ValidGtin(ColumnMapMetricProvider):
    condition_metric_name = "column_values.lotline_valid_gtin"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: object) -> pd.Series:
        return _condition(column, gs1.valid_check_digit_expr(pl.col("v"), gs1.GTIN_LENGTHS))


class _ValidGln(ColumnMapMetricProvider):
    condition_metric_name = "column_values.lotline_valid_gln"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: object) -> pd.Series:
        return _condition(column, gs1.valid_check_digit_expr(pl.col("v"), (13,)))


class _ValidSscc(ColumnMapMetricProvider):
    condition_metric_name = "column_values.lotline_valid_sscc"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: object) -> pd.Series:
        return _condition(column, gs1.valid_check_digit_expr(pl.col("v"), (18,)))


class ExpectColumnValuesToBeValidGtin(ColumnMapExpectation):
    """GTIN-8/12/13/14 with a correct GS1 check digit."""

    map_metric = "column_values.lotline_valid_gtin"


class ExpectColumnValuesToBeValidGln(ColumnMapExpectation):
    """13-digit GLN with a correct GS1 check digit."""

    map_metric = "column_values.lotline_valid_gln"


class ExpectColumnValuesToBeValidSscc(ColumnMapExpectation):
    """18-digit SSCC with a correct GS1 check digit."""

    map_metric = "column_values.lotline_valid_sscc"
