"""Per-lot quality tables built product by product (`mass_balance.product_parts`) equal the ones
built at once, exactly: a lot's records are summed in the same order either way."""

from __future__ import annotations

import pytest

from lotline import completeness, mass_balance, store
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
