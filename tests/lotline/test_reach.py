"""The received lots with the widest reach, against a brute-force walk of the genealogy."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from lotline import api, reach, store
from lotline.intake.ingest import load_folder
from lotline.trace import reachable

SMALL = Path(__file__).parents[1] / "data" / "small"


@pytest.fixture(scope="module")
def small_engine(tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """The small supply chain loaded once for the module (the tests only read it)."""
    root = tmp_path_factory.mktemp("reach")
    shutil.copytree(SMALL, root / "drop")
    engine = store.make_engine(store.sqlite_url(root / "lotline.sqlite"))
    load_folder(engine, root / "drop")
    return engine


def _brute_force(engine: sa.Engine) -> pl.DataFrame:
    """Per received lot, a forward walk of the edges in memory: descendants and consignees."""
    lineage = api.load_lineage(engine)
    received = lineage.lots.join(lineage.receipts.select("lot_key").unique(), on="lot_key")
    rows = []
    for key, gtin, lot in received.select("lot_key", "gtin", "lot").iter_rows():
        down = reachable(lineage.edges, [key], "forward")["lot_key"].to_list()
        lines = lineage.shipments.filter(pl.col("lot_key").is_in([key, *down]))
        rows.append((gtin, lot, len(set(down) - {key}), lines["to_location_id"].n_unique()))
    return pl.DataFrame(rows, schema=["gtin", "lot", "descendants", "consignees"], orient="row")


def test_widest_reach_on_the_small_chain(small_engine: sa.Engine) -> None:
    top = api.widest_reach(small_engine)
    assert top.columns == list(reach.REACH_SCHEMA)
    assert top.schema == pl.Schema(reach.REACH_SCHEMA)
    expected = _brute_force(small_engine)
    assert sorted(top["lot"]) == sorted(expected["lot"]) == ["F1", "F2", "S1"]
    assert (
        top.select(expected.columns)
        .sort("lot")
        .equals(
            expected.with_columns(pl.col("descendants", "consignees").cast(pl.UInt32)).sort("lot")
        )
    )
    # ranked by consignees, ties by GTIN and lot
    assert top["consignees"].to_list() == sorted(top["consignees"], reverse=True)
    assert top["consignees"].max() == 2 and top["lot"][0] == "F1"
    first = top.row(0, named=True)
    assert first["supplier"] == "Prairie Mill Co"
    assert first["product_name"] == "Wheat flour"
    # F1 → dough → cookies C1 (50 + 30 CS) and C2 (40 CS), tins T1 (1 EA)
    assert first["shipment_lines"] == 4
    assert first["quantity_shipped"] == "120 CS, 1 EA"


def test_ranking_by_descendants_and_n(small_engine: sa.Engine) -> None:
    by_descendants = api.widest_reach(small_engine, n=None, by="descendants")
    counts = by_descendants["descendants"].to_list()
    assert counts == sorted(counts, reverse=True) and counts[0] > 1
    assert api.widest_reach(small_engine, n=1).height == 1
    with pytest.raises(ValueError, match="rank by"):
        api.widest_reach(small_engine, by="quantity")


def test_a_lot_that_reaches_nobody() -> None:
    received = pl.DataFrame(
        {"lot_key": [1, 2], "gtin": ["g", "g"], "lot": ["A", "B"], "product_name": ["p", "p"]}
    ).with_columns(supplier=pl.lit("S"))
    closure = pl.DataFrame({"ancestor_key": [1, 1, 2], "descendant_key": [1, 3, 2]})
    shipments = pl.DataFrame(
        {"lot_key": [3, 3, 3], "to_location_id": ["X", "Y", "X"], "quantity": [2.5, 1.0, 4.0]}
    ).with_columns(uom=pl.Series(["KGM", "KGM", None], dtype=pl.String))
    out = reach.widest_reach(received, closure, shipments)
    assert out.select(
        "lot", "descendants", "consignees", "shipment_lines", "quantity_shipped"
    ).rows() == [
        ("A", 1, 2, 3, "4 ?, 3.5 KGM"),
        ("B", 0, 0, 0, ""),
    ]


def test_by_descendants_picks_the_default_drill_lot(small_engine: sa.Engine) -> None:
    """The recall drill's default lot (pipelines.defs.delivery) is the top row by descendants,
    so the drill can take it from here."""
    from pipelines.defs.delivery import widest_reach_received_lot

    top = api.widest_reach(small_engine, n=1, by="descendants").row(0, named=True)
    assert f"{top['gtin']}/{top['lot']}" == widest_reach_received_lot(small_engine)


@pytest.mark.postgres
def test_the_same_ranking_on_postgres(
    small_engine: sa.Engine, postgres_url: str, tmp_path: Path
) -> None:
    shutil.copytree(SMALL, tmp_path / "drop")
    engine = store.make_engine(postgres_url)
    try:
        load_folder(engine, tmp_path / "drop")
        assert api.widest_reach(engine, n=None).equals(api.widest_reach(small_engine, n=None))
    finally:
        engine.dispose()
