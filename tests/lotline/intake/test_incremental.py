"""Incremental lineage equals a full rebuild, table by table, after every load of a sequence.

The generated demo supply chain is cut by event time into three drops, and a fourth drop brings
what real feeds bring: late-arriving records dated inside the first drop's period, corrections
(an input quantity, a receipt's expiry date), a void, consumption that names no lot, and a
production that joins lots from two separate parts of the genealogy. After each load the
database is copied and rebuilt whole (`ingest.rebuild`): every lineage and quality table must
be identical, row for row (surrogate row ids and snapshot ids aside, floating-point sums to
1e-9; lot keys included, since both keep the stored keys).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from lineage_compare import assert_equals_rebuild, lineage_tables

from lotline import store
from lotline.generate import generate
from lotline.intake.ingest import load_folder

TIME_COLUMNS = {
    "receipts": "received_at",
    "production": "completed_at",
    "moves": "moved_at",
    "packing": "packed_at",
    "shipments": "shipped_at",
    "status": "at",
}
MASTER = ("products", "locations")


def _read(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(folder / f"{name}.csv", infer_schema=False)


def _instant(column: str) -> pl.Expr:
    return pl.col(column).str.to_datetime("%Y-%m-%dT%H:%M:%S%z", time_zone="UTC")


def _day_before(instant: str) -> str:
    return (datetime.fromisoformat(instant) - timedelta(days=1)).isoformat()


def _write(folder: Path, frames: dict[str, pl.DataFrame]) -> Path:
    folder.mkdir(parents=True)
    for name, frame in frames.items():
        if frame.height:
            frame.write_csv(folder / f"{name}.csv")
    return folder


@pytest.fixture(scope="module")
def drops(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("incremental")
    source = root / "generated"
    generate(source, seed=11, scale=1)
    frames = {p.stem: _read(source, p.stem) for p in source.glob("*.csv")}
    made_at = frames["production"].select("production_id", _instant("completed_at").alias("_t"))
    timed = {
        name: frames[name].with_columns(_instant(column).alias("_t"))
        for name, column in TIME_COLUMNS.items()
    }
    timed["consumption"] = frames["consumption"].join(
        made_at.unique("production_id"), on="production_id", how="left"
    )
    cuts = made_at["_t"].quantile(0.4), made_at["_t"].quantile(0.7)

    def window(frame: pl.DataFrame, low: object, high: object) -> pl.DataFrame:
        t = pl.col("_t")
        keep = (t > low if low is not None else pl.lit(True)) & (
            t <= high if high is not None else pl.lit(True)
        )
        return frame.filter(keep)

    first = {n: window(f, None, cuts[0]) for n, f in timed.items()}
    # late arrivals: a few receipts, moves and shipments of the first period come with drop 4
    late = {n: first[n].tail(3) for n in ("receipts", "moves", "shipments")}
    first = {n: f.head(f.height - 3) if n in late else f for n, f in first.items()}
    parts = [
        {**{m: frames[m] for m in MASTER}, **first},
        {n: window(f, cuts[0], cuts[1]) for n, f in timed.items()},
        {n: window(f, cuts[1], None) for n, f in timed.items()},
    ]
    parts = [{n: f.drop("_t", strict=False) for n, f in p.items()} for p in parts]
    fourth = {n: f.drop("_t") for n, f in late.items()}

    # corrections: an input quantity of an early production, an early receipt's expiry date
    consumed = parts[0]["consumption"].filter(pl.col("lot").is_not_null()).head(1)
    fourth["consumption"] = consumed.with_columns(
        pl.col("quantity").cast(pl.Float64).mul(1.5).cast(pl.String),
        pl.lit("scale read wrong").alias("correction_reason"),
    )
    received = parts[0]["receipts"].head(1)
    fourth["receipts"] = pl.concat(
        [
            fourth["receipts"],
            received.with_columns(
                pl.lit("2026-08-01").alias("expiry_date"),
                pl.lit("supplier CoA corrected").alias("correction_reason"),
            ),
        ]
    )
    # a pallet shipped whole a day before anything was packed in it (a finding), voided later
    pallet = parts[0]["packing"].filter(pl.col("action") == "pack").head(1)
    ghost = (
        parts[1]["shipments"]
        .tail(1)
        .with_columns(
            pl.lit("SH-GHOST-1").alias("shipment_id"),
            pl.lit(None, pl.String).alias("gtin"),
            pl.lit(None, pl.String).alias("lot"),
            pl.lit(None, pl.String).alias("serial"),
            pallet["parent_sscc"].alias("sscc"),
            pl.lit(None, pl.String).alias("quantity"),
            pl.lit(None, pl.String).alias("uom"),
            pl.lit(_day_before(pallet["packed_at"][0])).alias("shipped_at"),
        )
    )
    parts[1]["shipments"] = pl.concat([parts[1]["shipments"], ghost])
    # a void: the last real shipment line of the second drop was never shipped, nor the ghost
    fourth["shipments"] = pl.concat(
        [
            fourth["shipments"],
            parts[1]["shipments"].tail(2).with_columns(pl.lit("true").alias("void")),
        ]
    )
    # a production joining two parts of the genealogy, with an input of unknown lot
    early = parts[0]["production"].head(1)
    late_made = parts[2]["production"].tail(1)
    joined = early.with_columns(
        pl.lit("JOIN-WO-1").alias("production_id"),
        pl.lit("JOINED-01").alias("lot"),
        pl.lit(None, pl.String).alias("serial"),
        pl.lit("10").alias("quantity"),
        late_made["completed_at"].alias("completed_at"),
    )
    fourth["production"] = joined
    inputs = pl.concat([early, late_made]).select(
        pl.lit("JOIN-WO-1").alias("production_id"),
        "gtin",
        "lot",
        pl.lit(None, pl.String).alias("serial"),
        pl.lit("2").alias("quantity"),
        "uom",
    )
    lotless = (
        parts[0]["consumption"]
        .head(1)
        .select(
            pl.lit("JOIN-WO-1").alias("production_id"),
            "gtin",
            pl.lit(None, pl.String).alias("lot"),
            pl.lit(None, pl.String).alias("serial"),
            pl.lit("1").alias("quantity"),
            "uom",
        )
    )
    fourth["consumption"] = pl.concat([fourth["consumption"], inputs, lotless], how="diagonal")
    # a product renamed: every lot of it carries the name
    renamed = frames["products"].head(1).with_columns(pl.lit("Renamed product").alias("name"))
    fourth["products"] = pl.concat([renamed, frames["products"].slice(1)])
    parts.append(fourth)
    return [_write(root / f"drop{i}", p) for i, p in enumerate(parts, start=1)]


def _check_sequence(
    engine: sa.Engine, drops: list[Path], tmp_path: Path
) -> dict[str, pl.DataFrame]:
    for number, drop in enumerate(drops, start=1):
        report = load_folder(engine, drop)
        assert report.snapshot_id, f"drop {number} changed nothing"
        assert not report.rejected.height, report.rejected
        tables = lineage_tables(engine)
        if number > 1:  # the update rewrote the lots it touched, not all of them
            assert 0 < report.lineage_counts["lot"] < tables["lot"].height
        assert_equals_rebuild(engine, tmp_path, f"after drop {number}")
    return tables


def _check_outcome(tables: dict[str, pl.DataFrame]) -> None:
    joined = tables["lot"].filter(pl.col("lot") == "JOINED-01")
    assert joined.height == 1
    key = joined["lot_key"][0]
    edges = tables["lot_edge"].filter(pl.col("child_key") == key)
    assert set(edges["evidence"]) == {"explicit", "inferred"}
    assert tables["lot_closure"].filter(pl.col("descendant_key") == key).height >= 3
    assert tables["lot"].filter(pl.col("product_name") == "Renamed product").height > 0


def test_incremental_loads_equal_full_rebuilds(drops: list[Path], tmp_path: Path) -> None:
    engine = store.make_engine(store.sqlite_url(tmp_path / "incremental.sqlite"))
    tables = _check_sequence(engine, drops, tmp_path)
    _check_outcome(tables)


@pytest.mark.postgres
def test_incremental_loads_equal_full_rebuilds_on_postgres(
    drops: list[Path], postgres_url: str, tmp_path: Path
) -> None:
    engine = store.make_engine(postgres_url)
    tables = _check_sequence(engine, drops, tmp_path)
    _check_outcome(tables)
