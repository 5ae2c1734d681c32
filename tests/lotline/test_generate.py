"""The sample-data generator: deterministic, in the contract, consistent and feature-complete."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import polars as pl
import pytest

from lotline import gs1
from lotline.generate import (
    DEFAULT_ANCHOR,
    GENERATED,
    HORIZON_DAYS,
    generate,
    generate_records,
)
from lotline.intake import contract

TS_FORMAT = "%Y-%m-%dT%H:%M:%S%:z"
TIMESTAMP = {
    "receipts": "received_at",
    "production": "completed_at",
    "moves": "moved_at",
    "shipments": "shipped_at",
}
LOT = ["gtin", "lot"]
SCALES = [0.2, 1.0]


@cache
def records(scale: float, seed: int = 7) -> dict[str, pl.DataFrame]:
    return generate_records(seed=seed, scale=scale)


def at_utc(column: str) -> pl.Expr:
    return pl.col(column).str.to_datetime(TS_FORMAT, time_zone="UTC")


def milli(column: str = "quantity") -> pl.Expr:
    return (pl.col(column).cast(pl.Float64) * 1000).round().cast(pl.Int64)


def lot_dates(r: dict[str, pl.DataFrame]) -> pl.DataFrame:
    cols = [*LOT, "production_date", "expiry_date"]
    return pl.concat([r["receipts"].select(cols), r["production"].select(cols)]).unique()


def ledger(r: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Signed stock flows per lot and location: + in, - out, at the UTC instant of the event."""

    def flow(frame: pl.DataFrame, location: str, sign: int, ts: str) -> pl.DataFrame:
        return frame.filter(pl.col(location).is_not_null()).select(
            *LOT,
            pl.col(location).alias("location_id"),
            at_utc(ts).alias("at"),
            (milli() * sign).alias("delta"),
        )

    events = (
        r["production"]
        .group_by("production_id")
        .agg(pl.col("completed_at").first(), pl.col("location_id").first())
    )
    consumption = r["consumption"].join(events, on="production_id", how="left")
    return pl.concat(
        [
            flow(r["receipts"], "to_location_id", 1, "received_at"),
            flow(r["production"], "location_id", 1, "completed_at"),
            flow(consumption, "location_id", -1, "completed_at"),
            flow(r["moves"], "from_location_id", -1, "moved_at"),
            flow(r["moves"], "to_location_id", 1, "moved_at"),
            flow(r["shipments"], "from_location_id", -1, "shipped_at"),
            flow(r["shipments"], "to_location_id", 1, "shipped_at"),
        ]
    )


def lot_node() -> pl.Expr:
    return pl.concat_str(LOT, separator="/")


def lot_edges(r: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Input lot -> output lot of every transformation."""
    inputs = r["consumption"].select("production_id", lot_node().alias("src"))
    outputs = r["production"].select("production_id", lot_node().alias("dst"))
    return inputs.join(outputs, on="production_id").select("src", "dst").unique()


# --- determinism and files ------------------------------------------------------------------------


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path):
    a = generate(tmp_path / "a", seed=11, scale=0.2)
    b = generate(tmp_path / "b", seed=11, scale=0.2)
    c = generate(tmp_path / "c", seed=12, scale=0.2)
    assert set(a) == set(GENERATED)
    for name, path in a.items():
        assert path == tmp_path / "a" / f"{name}.csv"
        assert path.read_bytes() == b[name].read_bytes(), name
    assert any(a[n].read_bytes() != c[n].read_bytes() for n in contract.STOCK_RECORD_TYPES)


def test_files_are_the_records_as_text(tmp_path):
    paths = generate(tmp_path, seed=7, scale=0.2)
    frames = records(0.2)
    for name, path in paths.items():
        assert (
            path.read_bytes()
            .decode("utf-8")
            .startswith(",".join(contract.RECORD_TYPES[name].columns) + "\n")
        )
        back = pl.read_csv(path, infer_schema=False)
        assert back.equals(frames[name]), name
        assert contract.record_type_of(path.name) == name


def test_anchor_moves_the_world():
    r = generate_records(seed=7, scale=0.2, anchor=date(2025, 3, 15))
    days = r["shipments"]["shipped_at"].str.slice(0, 10).str.to_date()
    assert days.max() < date(2025, 3, 15)
    assert days.min() >= date(2025, 3, 15) - timedelta(days=HORIZON_DAYS)


def test_bad_scale_is_refused():
    with pytest.raises(ValueError):
        generate_records(scale=0)


# --- the contract ---------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
def test_columns_types_and_choices(scale):
    r = records(scale)
    assert list(r) == [n for n in contract.RECORD_TYPES if n in GENERATED]
    assert set(GENERATED) >= {"products", "locations", *contract.LINEAGE_RECORD_TYPES}
    for name in GENERATED:
        rt, df = contract.RECORD_TYPES[name], r[name]
        assert df.columns == rt.columns, name
        assert all(dtype == pl.String for dtype in df.dtypes), name
        assert df.height > 0, name
        for f in rt.fields:
            col = df[f.name]
            if f.required:
                assert col.null_count() == 0, (name, f.name)
            values = col.drop_nulls()
            assert (values.str.strip_chars() == values).all() and (values != "").all()
            if f.kind == "choice":
                assert values.is_in(list(f.choices)).all(), (name, f.name)
            elif f.kind == "uom":
                assert values.is_in(list(contract.UOM_NAMES)).all(), (name, f.name)
            elif f.kind == "decimal":
                assert values.str.contains(r"^[0-9]+(\.[0-9]*[1-9])?$").all(), (name, f.name)
                if f.name == "quantity":
                    assert (values.cast(pl.Float64) > 0).all()
            elif f.kind == "integer":
                assert values.str.contains(r"^[0-9]+$").all()
            elif f.kind == "date":
                assert values.str.to_date("%Y-%m-%d", strict=True).null_count() == 0


@pytest.mark.parametrize("scale", SCALES)
def test_gs1_check_digits(scale):
    r = records(scale)
    assert r["products"]["gtin"].str.len_chars().eq(14).all()
    for name, df in r.items():
        for f in contract.RECORD_TYPES[name].fields:
            if f.kind not in ("gtin", "gln", "sscc"):
                continue
            lengths = {"gtin": (14,), "gln": (13,), "sscc": (18,)}[f.kind]
            ok = df.select(gs1.valid_check_digit_expr(pl.col(f.name), lengths)).to_series()
            present = df[f.name].is_not_null()
            assert (ok | ~present).all(), (name, f.name)
    gtins = r["products"]["gtin"].to_list()
    assert any(g.startswith("00") for g in gtins)  # a GTIN-12 written as GTIN-14
    assert any(g.startswith("0") and not g.startswith("00") for g in gtins)  # GTIN-13
    assert any(not g.startswith("0") for g in gtins)  # a true GTIN-14 (case, variable measure)
    assert r["shipments"]["sscc"].null_count() == 0
    assert r["receipts"]["tlc_source_reference"].is_in(r["locations"]["gln"].implode()).all()


@pytest.mark.parametrize("scale", SCALES)
def test_timestamps_parse_and_carry_the_local_offset(scale):
    r = records(scale)
    start = DEFAULT_ANCHOR - timedelta(days=HORIZON_DAYS)
    for name, column in TIMESTAMP.items():
        df = r[name]
        parsed = df.select(at_utc(column)).to_series()
        assert parsed.null_count() == 0
        local = df[column].str.slice(0, 10).str.to_date()
        assert local.min() >= start and local.max() < DEFAULT_ANCHOR
    # the offset is the one of the location that recorded the event, with daylight saving time
    offsets = pl.concat(
        [
            r["receipts"].select(loc=pl.col("to_location_id"), ts=pl.col("received_at")),
            r["production"].select(loc=pl.col("location_id"), ts=pl.col("completed_at")),
            r["shipments"].select(loc=pl.col("from_location_id"), ts=pl.col("shipped_at")),
            r["moves"].select(
                pl.when(pl.col("reason") == "return")
                .then(pl.col("to_location_id"))
                .otherwise(pl.coalesce("from_location_id", "to_location_id"))
                .alias("loc"),
                pl.col("moved_at").alias("ts"),
            ),
        ]
    ).with_columns(day=pl.col("ts").str.slice(0, 10), offset=pl.col("ts").str.slice(19))
    us = offsets.filter(pl.col("loc").is_in(["SITE-CHI", "WH-JOL"]))
    eu = offsets.filter(pl.col("loc").is_in(["SITE-BRD", "WH-VNL"]))
    assert us.height + eu.height == offsets.height
    assert (
        us["offset"] == pl.Series(["-06:00" if d >= "2026-11-01" else "-05:00" for d in us["day"]])
    ).all()
    assert (
        eu["offset"] == pl.Series(["+01:00" if d >= "2026-10-25" else "+02:00" for d in eu["day"]])
    ).all()


@pytest.mark.parametrize("scale", SCALES)
def test_references_resolve(scale):
    r = records(scale)
    products = r["products"].select("gtin", pl.col("uom").alias("product_uom"), "tracking")
    location_ids = r["locations"]["location_id"].implode()
    for name in GENERATED:
        rt = contract.RECORD_TYPES[name]
        for column, target in rt.references.items():
            values = r[name][column].drop_nulls()
            if target == "products":
                assert values.is_in(products["gtin"].implode()).all(), (name, column)
            elif target == "locations":
                assert values.is_in(location_ids).all(), (name, column)
            else:
                assert values.is_in(r["production"]["production_id"].implode()).all()
        if "uom" in rt.columns and "gtin" in rt.columns and not rt.master_data:
            joined = r[name].join(products, on="gtin")
            assert (joined["uom"] == joined["product_uom"]).all(), name
    kinds = r["locations"].group_by("kind").len()
    counts = dict(zip(kinds["kind"], kinds["len"], strict=True))
    assert 3 <= counts["supplier"] <= 6 and counts["site"] == 2
    assert 1 <= counts["warehouse"] <= 2 and 5 <= counts["customer"] <= 30
    assert r["locations"]["location_id"].is_unique().all()
    assert r["products"]["gtin"].is_unique().all()


@pytest.mark.parametrize("scale", SCALES)
def test_business_keys_unique_and_move_shapes(scale):
    r = records(scale)
    for name in GENERATED:
        assert not r[name].select(contract.RECORD_TYPES[name].key).is_duplicated().any(), name
    moves = r["moves"]
    has_from = pl.col("from_location_id").is_not_null()
    has_to = pl.col("to_location_id").is_not_null()
    shape = (
        pl.when(pl.col("reason").is_in(["transfer", "return"]))
        .then(has_from & has_to)
        .when(pl.col("reason").is_in(["scrap", "destroy"]))
        .then(has_from & ~has_to)
        .otherwise(has_from ^ has_to)
    )
    assert moves.select(shape).to_series().all()
    assert set(moves["reason"]) == set(contract.MOVE_REASONS)
    adjustments = moves.filter(pl.col("reason") == "adjustment")
    assert adjustments["from_location_id"].null_count() > 0  # a positive adjustment
    assert adjustments["to_location_id"].null_count() > 0  # a negative one
    kinds = dict(r["locations"].select("location_id", "kind").iter_rows())
    assert {
        kinds[x] for x in r["moves"].filter(pl.col("reason") == "return")["from_location_id"]
    } == {"customer"}
    assert {kinds[x] for x in r["shipments"]["to_location_id"]} == {"customer"}
    assert {kinds[x] for x in r["shipments"]["from_location_id"]} == {"warehouse", "site"}
    assert set(r["shipments"]["ref_doc_type"].drop_nulls()) >= {"bol", "desadv", "inv"}
    assert set(r["receipts"]["ref_doc_type"].drop_nulls()) == {"po", "desadv"}


# --- consistency ----------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
def test_one_production_and_expiry_date_per_lot(scale):
    dates = lot_dates(records(scale))
    assert not dates.select(LOT).is_duplicated().any()
    assert (dates["expiry_date"] >= dates["production_date"]).all()


@pytest.mark.parametrize("scale", SCALES)
def test_stock_never_goes_negative(scale):
    r = records(scale)
    own = r["locations"].filter(pl.col("kind").is_in(["site", "warehouse"]))["location_id"]
    running = (
        ledger(r)
        .filter(pl.col("location_id").is_in(own.implode()))
        # at one instant take stock out before putting any in: the strictest order
        .sort(*LOT, "location_id", "at", "delta")
        .with_columns(pl.col("delta").cum_sum().over(*LOT, "location_id").alias("on_hand"))
    )
    assert running.height > 0
    assert running["on_hand"].min() >= 0, running.filter(pl.col("on_hand") < 0).head()


@pytest.mark.parametrize("scale", SCALES)
def test_consumed_lots_were_usable_at_the_site(scale):
    r = records(scale)
    events = (
        r["production"]
        .group_by("production_id")
        .agg(pl.col("completed_at").first().str.slice(0, 10).alias("day"))
    )
    used = r["consumption"].join(events, on="production_id").join(lot_dates(r), on=LOT)
    assert (used["expiry_date"] > used["day"]).all()  # nothing is used on or after expiry
    # production output expires no later than its shelf life allows
    shelf = r["products"].select("gtin", pl.col("shelf_life_days").cast(pl.Int64))
    out = (
        r["production"]
        .join(shelf, on="gtin")
        .select(
            pl.col("expiry_date").str.to_date()
            <= pl.col("production_date").str.to_date() + pl.duration(days="shelf_life_days")
        )
    )
    assert out.to_series().all()


# --- planted features -----------------------------------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
def test_lot_graph_is_multi_level_and_has_a_cycle(scale):
    r = records(scale)
    edges = lot_edges(r)
    received = r["receipts"].select(lot_node().alias("node")).unique()
    # breadth-first depth from the received lots
    seen, frontier, depth = set(received["node"]), received, 0
    while True:
        nxt = (
            frontier.join(edges, left_on="node", right_on="src")
            .select(pl.col("dst").alias("node"))
            .unique()
            .filter(~pl.col("node").is_in(list(seen)))
        )
        if nxt.is_empty():
            break
        depth += 1
        seen |= set(nxt["node"])
        frontier = nxt
    assert depth >= 3
    # prune nodes without inputs or without outputs until stable: what remains lies on a cycle
    remaining = edges
    while True:
        pruned = remaining.filter(
            pl.col("src").is_in(remaining["dst"].implode())
            & pl.col("dst").is_in(remaining["src"].implode())
        )
        if pruned.height == remaining.height:
            break
        remaining = pruned
    assert remaining.height > 0
    rework = r["production"].filter(pl.col("production_id").str.starts_with("BRD-RW-"))
    assert rework.height >= 1
    reworked = rework.select(lot_node()).to_series()
    assert reworked.is_in(remaining["src"].implode()).all()
    # merges, splits and co-products
    assert edges.group_by("dst").len()["len"].max() >= 3
    assert edges.group_by("src").len()["len"].max() >= 3
    outputs = (
        r["production"]
        .filter(pl.col("serial").is_null())
        .group_by("production_id")
        .agg(pl.col("gtin").n_unique())
    )
    assert outputs["gtin"].max() == 2


@pytest.mark.parametrize("scale", SCALES)
def test_serials(scale):
    r = records(scale)
    serial_gtins = r["products"].filter(pl.col("tracking") == "serial")["gtin"].implode()
    assert serial_gtins.list.len().item() >= 1
    for name in ("production", "consumption", "moves", "packing"):
        rows = r[name].filter(pl.col("gtin").is_in(serial_gtins))
        assert rows.height > 0, name
        assert rows["serial"].null_count() == 0, name
        assert (rows["quantity"] == "1").all(), name
        assert (
            r[name].filter(~pl.col("gtin").is_in(serial_gtins))["serial"].null_count()
            == r[name].filter(~pl.col("gtin").is_in(serial_gtins)).height
        )
    produced = r["production"].filter(pl.col("serial").is_not_null())
    assert not produced.select("gtin", "serial").is_duplicated().any()
    assert produced["lot"].null_count() == 0
    # every serial consumed was produced under that lot, every serial packed was produced
    used = r["consumption"].filter(pl.col("serial").is_not_null()).select("gtin", "lot", "serial")
    assert used.join(produced, on=["gtin", "lot", "serial"], how="anti").is_empty()
    packed = r["packing"].filter(pl.col("serial").is_not_null()).select("gtin", "serial")
    assert packed.join(produced, on=["gtin", "serial"], how="anti").is_empty()


@pytest.mark.parametrize("scale", SCALES)
def test_serialised_pallets_ship_by_sscc_and_their_packing_explains_them(scale):
    r = records(scale)
    pallets = r["shipments"].filter(pl.col("gtin").is_null())
    assert pallets.height > 0 and pallets["sscc"].null_count() == 0
    packed = r["packing"].filter(pl.col("action") == "pack")
    assert pallets.join(packed, left_on="sscc", right_on="parent_sscc", how="anti").is_empty()
    # PLANTED: one serial is packed on a pallet and unpacked again before it ships on another
    repack = r["packing"].filter(pl.col("packing_id").str.starts_with("PK-REPACK"))
    assert repack["action"].to_list() == ["pack", "unpack"]
    assert repack["serial"].n_unique() == 1


@pytest.mark.parametrize("scale", SCALES)
def test_expiry_positions_are_planted(scale):
    r = records(scale)
    dates = lot_dates(r).with_columns(pl.col("expiry_date").str.to_date())
    late = (
        r["shipments"]
        .join(dates, on=LOT)
        .filter(pl.col("shipped_at").str.slice(0, 10).str.to_date() >= pl.col("expiry_date"))
    )
    assert late.height >= 2
    assert (late["shipped_at"].str.slice(0, 10).str.to_date() == late["expiry_date"]).any()
    assert (late["shipped_at"].str.slice(0, 10).str.to_date() > late["expiry_date"]).any()

    own = r["locations"].filter(pl.col("kind").is_in(["site", "warehouse"]))["location_id"]
    stock = (
        ledger(r)
        .filter(pl.col("location_id").is_in(own.implode()))
        .group_by(*LOT, "location_id")
        .agg(pl.col("delta").sum())
        .filter(pl.col("delta") > 0)
        .join(dates, on=LOT)
    )
    days_left = (pl.col("expiry_date") - pl.lit(DEFAULT_ANCHOR)).dt.total_days()
    assert stock.filter(days_left < 0).height >= 1  # expired, still on hand
    assert stock.filter(days_left.is_between(0, 30)).height >= 1  # expiring soon


@pytest.mark.parametrize("scale", SCALES)
def test_one_lot_code_for_two_gtins(scale):
    lots = lot_dates(records(scale)).select(LOT).unique()
    assert lots.group_by("lot").len()["len"].max() >= 2
    received = records(scale)["receipts"].select(LOT).unique()
    assert received.group_by("lot").len()["len"].max() >= 2  # two suppliers' GTINs, one code


def test_size_at_scale_one():
    r = records(1.0)
    lots = lot_dates(r).select(LOT).unique().height
    rows = sum(df.height for df in r.values())
    assert 150 <= lots <= 400
    assert 1_500 <= rows <= 8_000
    assert len(records(0.2)["locations"]) < len(r["locations"])  # more customers with scale
