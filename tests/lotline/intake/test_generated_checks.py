"""The Polars checks generated from the GX suites fail exactly the rows GX fails.

A load runs every rule as its generated Polars expression and hands GX only the rows those fail
(`validation._run_checks`), so a Polars check must never pass a row GX would fail. Here both run
over every row of the small supply chain with a bad copy of a row per column and bad value, for
every record type, and must agree rule by rule.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from lotline import store
from lotline.intake import ingest, validation
from lotline.intake.contract import RECORD_TYPES
from lotline.intake.reading import read_source, scan

SMALL = Path(__file__).parents[2] / "data" / "small"
PACKING = Path(__file__).parents[2] / "data" / "packing"
EVIDENCE = Path(__file__).parents[2] / "data" / "evidence"
"""Hand-written association and transaction records (the other fixtures have none)."""
BAD_VALUES = (
    None,
    "",
    "x",
    "0",
    "-3",
    "1.5",
    "9" * 400,
    "C\u200b1",
    "L" * 21,
    "2026-02-30",
    "2026-09-01T08:00:00",
    "2999-01-01T00:00:00Z",
    "00614141000013",
    "306141410000000014",
    "EA",
    "maybe",
    "yes",
)


def _dirty(rows: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The rows, plus a copy of the first row per column and bad value, plus a repeated row."""
    first = rows.head(1)
    copies = [
        first.with_columns(pl.lit(value, dtype=pl.String).alias(column))
        for column in columns
        for value in BAD_VALUES
    ]
    return pl.concat([rows, *copies, first], how="vertical_relaxed")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("generated")
    engine = store.make_engine(store.sqlite_url(root / "lotline.sqlite"))
    ingest.load_folder(engine, SMALL)
    ingest.load_folder(engine, PACKING)
    return engine


@pytest.mark.parametrize("record_type", list(RECORD_TYPES))
def test_generated_checks_agree_with_great_expectations(loaded, record_type: str) -> None:
    rt = RECORD_TYPES[record_type]
    folders = (SMALL, PACKING, EVIDENCE)
    sources = [s for d in folders for s in scan(d).files if s.record_type == record_type]
    assert sources, f"no {record_type} file in the fixtures"
    raw = pl.concat([read_source(s).rows for s in sources], how="vertical_relaxed")
    raw = _dirty(raw, rt.columns)
    refs = ingest.references(loaded, record_type, {})
    rules = validation.build_rules(rt, refs)
    prepared = validation._prepare(rt, raw, refs)
    flags = prepared.select(
        validation._RID, *[r.expectation.failing().alias(str(i)) for i, r in enumerate(rules)]
    )
    polars = [sorted(flags.filter(pl.col(str(i)))[validation._RID]) for i in range(len(rules))]
    gx = validation._run_suite(record_type, prepared, rules)
    differ = [(r.rule, r.column, p, g) for r, p, g in zip(rules, polars, gx, strict=True) if p != g]
    assert not differ
    assert any(polars), "the dirty rows fail some rule"


def test_an_expectation_without_a_polars_form_is_refused() -> None:
    with pytest.raises(ValueError, match="no Polars form"):
        validation.EXPECT.ExpectColumnValuesToBeIncreasing(column="lot").failing()
    with pytest.raises(ValueError, match="row condition"):
        validation.EXPECT.ExpectColumnValuesToNotBeNull(
            column="lot", row_condition="lot > 3", condition_parser="pandas"
        ).failing()


def test_a_clean_batch_never_reaches_great_expectations(loaded, tmp_path, monkeypatch) -> None:
    def no_gx(*_args, **_kwargs):
        raise AssertionError("GX ran on a clean batch")

    monkeypatch.setattr(validation, "_run_suite", no_gx)
    source = next(s for s in scan(SMALL).files if s.record_type == "shipments")
    empty = store.make_engine(store.sqlite_url(tmp_path / "empty.sqlite"))
    store.create_schema(empty)
    raw = ingest.read_raw(empty, [source], "shipments")
    result = validation.validate("shipments", raw.rows, ingest.references(loaded, "shipments", {}))
    assert result.rejected.is_empty() and result.gx_rows == 0
    assert all(o.passed for o in result.outcomes)
