"""Per-lot quality tables built product by product (`mass_balance.product_parts`) equal the ones
built at once, exactly: a lot's records are summed in the same order either way."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest

from lotline import completeness, expiry, mass_balance, store
from lotline.generate import generate
from lotline.intake import ingest
from lotline.lineage import (
    Records,
    build_lineage,
    lot_keys,
    lots,
    on_hand,
    with_allocated_consumption,
)


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Records:
    root = tmp_path_factory.mktemp("parts")
    generate(root / "drop", seed=3, scale=1)
    engine = store.make_engine(store.sqlite_url(root / "lotline.sqlite"))
    ingest.load_folder(engine, root / "drop")
    resolved = ingest.lineage_records(ingest.stored_records(engine, provenance=False))
    engine.dispose()
    return resolved


def test_parts_hold_whole_products_and_the_productions_their_consumption_names(
    records: Records,
) -> None:
    keys = lot_keys(records)
    parts = list(mass_balance.product_parts(records, keys, rows=records.production.height // 3))
    assert len(parts) >= 3
    gtins = [set(part_keys["gtin"]) for _, part_keys in parts]
    assert set().union(*gtins) == set(keys["gtin"])
    assert sum(len(g) for g in gtins) == len(set(keys["gtin"]))  # each product in one part
    for part, part_keys in parts:
        assert set(part.consumption["production_id"]) <= set(part.production["production_id"])
        assert part_keys.height == part_keys.join(keys, on=["lot_key", "gtin", "lot"]).height


def test_mass_balance_and_stock_positions_by_product_equal_them_at_once(
    records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = lot_keys(records)
    lineage = build_lineage(records, keys, with_closure=False)
    allocated = with_allocated_consumption(records, keys)
    whole = mass_balance.lot_balance(allocated, lineage)
    positions = mass_balance.stock_positions(records, keys)
    exceptions = completeness.trace_exceptions(records, lineage, balance=whole)
    monkeypatch.setattr(mass_balance, "PART_RECORDS", records.consumption.height // 4)
    assert len(list(mass_balance.product_parts(records, keys))) >= 4
    by_part = mass_balance.lot_balance(allocated, lineage)
    assert by_part.equals(whole) and by_part.schema == whole.schema
    assert mass_balance.stock_positions(records, keys).equals(positions)
    assert completeness.trace_exceptions(records, lineage, balance=by_part).equals(exceptions)
    assert whole.height == keys.height and exceptions.height > 0


def test_a_small_load_is_one_part(records: Records) -> None:
    keys = lot_keys(records)
    ((part, part_keys),) = mass_balance.product_parts(records, keys, rows=10**9)
    assert part is records and part_keys is keys


def test_lots_and_stock_by_product_equal_them_at_once(
    records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = lot_keys(records)
    allocated = with_allocated_consumption(records, keys)
    stock = on_hand(allocated, keys)
    whole = lots(allocated, keys, stock)
    monkeypatch.setattr(mass_balance, "PART_RECORDS", records.consumption.height // 4)
    by_part_stock, by_part = ingest._lots_and_stock(allocated, keys)
    assert by_part_stock.equals(stock) and by_part.equals(whole)
    assert whole.height == keys.height and stock.height > 0


def test_shipment_checks_by_product_equal_them_at_once(records: Records) -> None:
    customers = records.locations.filter(pl.col("kind") == "customer")["location_id"]
    again = (
        records.shipments.filter(
            pl.col("serial").is_not_null() & pl.col("to_location_id").is_in(customers.implode())
        )
        .gather_every(50)
        .with_columns(pl.col("shipment_id") + "-again", pl.col("shipped_at") + pl.duration(days=1))
    )
    records = replace(records, shipments=pl.concat([records.shipments, again]))
    keys = lot_keys(records)
    lineage = build_lineage(records, keys, with_closure=False)
    status_events = records.status if records.status.width > 0 else None
    whole = completeness._shipment_checks(records, lineage, status_events, None)
    rows = max(records.shipments.height // 5, 1)
    assert len(list(completeness._gtin_parts(records, lineage, rows))) >= 4
    by_part = completeness._shipment_checks(records, lineage, status_events, None, rows=rows)
    order = ["gtin", "lot", "serial", "reference", "detail"]
    for part, at_once in zip(by_part, whole, strict=True):
        assert part.sort(order, nulls_last=True).equals(at_once.sort(order, nulls_last=True))
    assert [frame.height > 0 for frame in whole] == [True, True, True]


def test_expiry_propagation_on_narrow_keys_equals_it_on_wide_ones(records: Records) -> None:
    keys = lot_keys(records)
    lineage = build_lineage(records, keys, with_closure=False)
    narrow = expiry.propagated_expiry(lineage.lots, lineage.edges)
    shift = 2**40  # beyond Int32: the keys' own type is kept throughout
    wide = expiry.propagated_expiry(
        lineage.lots.with_columns(pl.col("lot_key") + shift),
        lineage.edges.with_columns(pl.col("parent_key", "child_key") + shift),
    )
    assert narrow.schema == wide.schema and narrow.schema["lot_key"] == pl.Int64
    assert wide.with_columns(pl.col("lot_key", "earliest_input_key") - shift).equals(narrow)
    assert narrow["outlives_input"].sum() > 0
