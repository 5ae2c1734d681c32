"""Exposure shares and closure: hand-computed fractions, and agreement with brute force."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import numpy as np
import polars as pl
import pytest

from lotline import genealogy
from lotline.lineage import Records, genealogy_edges, lot_keys


def edges(rows: list[tuple[str, int, float, int, float]]) -> pl.DataFrame:
    """(production, parent, input qty, child, output qty): the lot_edge columns shares read."""
    return pl.DataFrame(
        rows,
        schema={
            "production_id": pl.String,
            "parent_key": pl.Int64,
            "input_quantity": pl.Float64,
            "child_key": pl.Int64,
            "output_quantity": pl.Float64,
        },
        orient="row",
    )


def production(pid: str, inputs: dict[int, float], outputs: dict[int, float]) -> list[tuple]:
    return [(pid, p, q, c, o) for p, q in inputs.items() for c, o in outputs.items()]


def closure_dict(frame: pl.DataFrame) -> dict[tuple[int, int], tuple[int, float]]:
    return {(a, d): (depth, x) for a, d, depth, x in frame.iter_rows()}


def assert_pairs(
    got: dict[tuple[int, int], tuple[int, float]], want: dict[tuple[int, int], tuple[int, float]]
) -> None:
    assert set(got) == set(want)
    for pair, (depth, exposure) in want.items():
        assert got[pair][0] == depth, pair
        assert got[pair][1] == pytest.approx(exposure, abs=1e-9), pair


# R1=0, R2=1 → I=2 (30/70); I 40 + R3=3 50 + R1 10 → F=4
MERGE = edges(
    production("P1", {0: 30, 1: 70}, {2: 100}) + production("P2", {2: 40, 3: 50, 0: 10}, {4: 100})
)


def test_shares_of_a_multi_level_merge() -> None:
    got = {
        (p, c): s
        for p, c, s in genealogy.edge_shares(MERGE)
        .select("parent_key", "child_key", "share")
        .rows()
    }
    assert got == pytest.approx({(0, 2): 0.3, (1, 2): 0.7, (2, 4): 0.4, (3, 4): 0.5, (0, 4): 0.1})


def test_closure_of_a_multi_level_merge() -> None:
    got = closure_dict(genealogy.closure(genealogy.edge_shares(MERGE), 5))
    assert_pairs(
        got,
        {
            (0, 2): (1, 0.3),
            (1, 2): (1, 0.7),
            (2, 4): (1, 0.4),
            (3, 4): (1, 0.5),
            (0, 4): (1, 0.1 + 0.3 * 0.4),  # direct and through I: 0.22
            (1, 4): (2, 0.7 * 0.4),  # 0.28; with R3 0.5 and R1 0.22 the finished lot sums to 1
        },
    )


def test_exposure_from_both_directions_on_the_merge() -> None:
    shared = genealogy.edge_shares(MERGE)

    def reached(start: list[int], direction: str) -> dict[int, tuple[int, float]]:
        frame = genealogy.exposure_from(shared, start, direction)  # type: ignore[arg-type]
        return {k: (d, pytest.approx(x)) for k, d, x in frame.rows()}

    assert reached([4], "backward") == {
        4: (0, 1.0),
        0: (1, 0.22),
        2: (1, 0.4),
        3: (1, 0.5),
        1: (2, 0.28),
    }
    assert reached([0], "forward") == {0: (0, 1.0), 2: (1, 0.3), 4: (1, 0.22)}
    # both raw lots: all of I, and half of F (0.22 + 0.28)
    assert reached([0, 1], "forward") == {0: (0, 1.0), 1: (0, 1.0), 2: (1, 1.0), 4: (1, 0.5)}
    # F and I pooled backward, equal weights: R1 = (0.22 + 0.3)/2, I = (0.4 + 1)/2
    assert reached([2, 4], "backward") == {
        2: (0, 0.7),
        4: (0, 0.5),
        0: (1, 0.26),
        1: (1, 0.49),
        3: (1, 0.25),
    }


def test_split_gives_each_child_all_of_the_parent() -> None:
    shared = genealogy.edge_shares(edges(production("P", {0: 100}, {1: 60, 2: 40})))
    assert shared["share"].to_list() == [1.0, 1.0]
    assert_pairs(closure_dict(genealogy.closure(shared, 3)), {(0, 1): (1, 1.0), (0, 2): (1, 1.0)})


def test_co_products_each_hold_the_inputs_in_proportion() -> None:
    shared = genealogy.edge_shares(edges(production("P", {0: 20, 1: 80}, {2: 50, 3: 50})))
    got = {(p, c): s for p, c, s in shared.select("parent_key", "child_key", "share").rows()}
    assert got == pytest.approx({(0, 2): 0.2, (1, 2): 0.8, (0, 3): 0.2, (1, 3): 0.8})


def test_several_productions_of_one_lot_weigh_by_output() -> None:
    # lot 2 made 60 from lot 0 (P1) and 40 from lot 1 (P2): 60% of it is lot 0
    rows = production("P1", {0: 10}, {2: 60}) + production("P2", {1: 5}, {2: 40})
    shared = genealogy.edge_shares(edges(rows))
    assert shared.sort("parent_key")["share"].to_list() == pytest.approx([0.6, 0.4])


def test_base_quantity_is_used_when_given() -> None:
    rows = edges(production("P", {0: 1, 1: 1}, {2: 10}))  # 1 t and 1 kg
    converted = rows.with_columns(
        pl.Series("input_base_quantity", [1000.0, 1.0]), pl.col("input_quantity")
    )
    assert genealogy.edge_shares(converted)["share"].to_list() == pytest.approx(
        [1000 / 1001, 1 / 1001]
    )
    unknown = genealogy.edge_shares(edges(production("P", {0: 0, 1: 0}, {2: 10})))
    assert unknown["share"].to_list() == [None, None]


# flour F=0 → dough D=1 (P1: 100); D 80 + salt S=3 20 → cookies C=2 (P2); rework: C 20 + F 80
# → D (P3: 100). D is half P1, half P3: F→D 0.5 + 0.4 = 0.9, C→D 0.1; D→C 0.8, S→C 0.2.
REWORK = edges(
    production("P1", {0: 100}, {1: 100})
    + production("P2", {1: 80, 3: 20}, {2: 100})
    + production("P3", {2: 20, 0: 80}, {1: 100})
)


def test_rework_cycle_converges_to_the_fraction_of_material() -> None:
    shared = genealogy.edge_shares(REWORK)
    # walking back from D: F with 0.9, C with 0.1 then D again with 0.8:
    # h_F(D) = 0.9 + 0.1·0.8·h_F(D) = 0.9/0.92;  h_S(C) = 0.2 + 0.8·0.1·h_S(C) = 0.2/0.92
    want = {
        (0, 1): (1, 0.9 / 0.92),
        (0, 2): (2, 0.72 / 0.92),
        (3, 2): (1, 0.2 / 0.92),
        (3, 1): (2, 0.02 / 0.92),
        (1, 2): (1, 0.8),  # C passed through D: 0.8 (not 0.8/0.92: D's material counts once)
        (2, 1): (1, 0.1),
        (1, 1): (2, 0.08),  # D back into D through C
        (2, 2): (2, 0.08),
    }
    assert_pairs(closure_dict(genealogy.closure(shared, 4)), want)
    # every lot's material adds up: D = F + S, C = F + S
    assert want[(0, 1)][1] + want[(3, 1)][1] == pytest.approx(1.0)
    assert want[(0, 2)][1] + want[(3, 2)][1] == pytest.approx(1.0)
    back = {k: (d, x) for k, d, x in genealogy.exposure_from(shared, [1], "backward").rows()}
    assert back[1] == (0, pytest.approx(1.0))
    assert back[0] == (1, pytest.approx(0.9 / 0.92))
    assert back[2] == (1, pytest.approx(0.1))
    assert back[3] == (2, pytest.approx(0.02 / 0.92))
    forward = {k: (d, x) for k, d, x in genealogy.exposure_from(shared, [0], "forward").rows()}
    assert forward == {
        0: (0, 1.0),
        1: (1, pytest.approx(0.9 / 0.92)),
        2: (2, pytest.approx(0.72 / 0.92)),
    }


def test_a_lot_reworked_into_itself_alone_terminates_below_one() -> None:
    shared = genealogy.edge_shares(edges(production("P", {0: 10}, {0: 10}) + [("Q", 0, 5, 1, 5)]))
    got = closure_dict(genealogy.closure(shared, 2, max_depth=8))
    assert got[(0, 0)] == (1, 1.0)
    assert got[(0, 1)] == (1, 1.0)
    assert all(x <= 1.0 for _, x in got.values())


def random_productions(seed: int, n_lots: int, acyclic: bool) -> pl.DataFrame:
    """Productions over lots 0..n-1; lots 0-2 are raw and feed every production, so every cycle
    has shares below 1. Acyclic: inputs have lower keys than outputs."""
    rng = np.random.default_rng(seed)
    rows: list[tuple] = []
    for i in range(rng.integers(8, 14)):
        if acyclic:
            split = int(rng.integers(3, n_lots - 1))
            pool_in, pool_out = np.arange(split), np.arange(split, n_lots)
        else:
            pool_in, pool_out = np.arange(n_lots), np.arange(3, n_lots)
        ins = {int(rng.integers(0, 3)): float(rng.integers(1, 50))}
        for p in rng.choice(pool_in, size=int(rng.integers(0, 3)), replace=False):
            ins[int(p)] = float(rng.integers(1, 50))
        outs = rng.choice(pool_out, size=int(rng.integers(1, 3)), replace=False)
        rows += production(f"P{i}", ins, {int(c): float(rng.integers(1, 50)) for c in outs})
    return edges(rows)


def brute_force_paths(shared: pl.DataFrame, n: int) -> dict[tuple[int, int], tuple[int, float]]:
    """Enumerate every path of a DAG: min length and the sum of share products."""
    share: dict[int, dict[int, float]] = {}
    for p, c, s in shared.select("parent_key", "child_key", "share").rows():
        share.setdefault(p, {})
        share[p][c] = share[p].get(c, 0.0) + s
    found: dict[tuple[int, int], tuple[int, float]] = {}

    def walk(start: int, node: int, length: int, product: float) -> None:
        for nxt, s in share.get(node, {}).items():
            depth, total = found.get((start, nxt), (length + 1, 0.0))
            found[(start, nxt)] = (min(depth, length + 1), total + product * s)
            walk(start, nxt, length + 1, product * s)

    for a in range(n):
        walk(a, a, 0, 1.0)
    return found


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_closure_equals_path_enumeration_on_random_dags(seed: int) -> None:
    shared = genealogy.edge_shares(random_productions(seed, 12, acyclic=True))
    want = brute_force_paths(shared, 12)
    assert_pairs(closure_dict(genealogy.closure(shared, 12)), want)
    assert_pairs(closure_dict(genealogy.closure(shared, 12, block_edges=4)), want)


def hitting_exposure(shared: pl.DataFrame, n: int) -> np.ndarray:
    """Linear solve per ancestor A: h(D) = Σ_p S[p, D] (1 if p = A else h(p)); h[A, A] = return."""
    s = np.zeros((n, n))
    for p, c, x in shared.select("parent_key", "child_key", "share").rows():
        s[p, c] += x
    h = np.zeros((n, n))
    for a in range(n):
        m = s.copy()
        m[a, :] = 0.0  # paths stop at A
        h[a] = np.linalg.solve(np.eye(n) - m.T, s[a])
    return h


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_closure_and_exposure_equal_a_linear_solve_on_graphs_with_cycles(seed: int) -> None:
    n = 10
    shared = genealogy.edge_shares(random_productions(seed, n, acyclic=False))
    want = hitting_exposure(shared, n)
    got = genealogy.closure(shared, n, max_depth=400)
    blocked = genealogy.closure(shared, n, max_depth=400, block_edges=3)  # ancestors in blocks
    assert blocked.rows() == got.rows()
    dense = np.zeros((n, n))
    for a, d, _, x in got.rows():
        dense[a, d] = x
    np.testing.assert_allclose(dense, want, atol=1e-9)
    assert (dense <= 1.0).all()
    for lot in range(n):
        forward = dict(
            genealogy.exposure_from(shared, [lot], "forward", n_lots=n, max_depth=400)
            .select("lot_key", "exposure")
            .rows()
        )
        backward = dict(
            genealogy.exposure_from(shared, [lot], "backward", n_lots=n, max_depth=400)
            .select("lot_key", "exposure")
            .rows()
        )
        for other in range(n):
            if other != lot:
                assert forward.get(other, 0.0) == pytest.approx(want[lot, other], abs=1e-9)
                assert backward.get(other, 0.0) == pytest.approx(want[other, lot], abs=1e-9)


# lot-less consumption: which flour lot went into the dough is not recorded
FLOUR, DOUGH = "00614141000012", "00614141000036"
T = datetime(2026, 3, 1, 12)


def records(consumption: list[dict]) -> Records:
    at = pl.Datetime("us")

    def frame(rows: list[dict], schema: dict) -> pl.DataFrame:
        return pl.DataFrame(rows, schema=schema, orient="row")

    text = pl.String
    lot_row = {"gtin": text, "lot": text, "serial": text, "quantity": pl.Float64, "uom": text}
    dates = {"production_date": pl.Date, "expiry_date": pl.Date}
    receipt = {
        "receipt_id": text,
        "received_at": at,
        "from_location_id": text,
        "to_location_id": text,
        **lot_row,
        **dates,
        "tlc_source_reference": text,
    }
    made = {"production_id": text, "completed_at": at, "location_id": text, **lot_row, **dates}
    move = {
        "move_id": text,
        "moved_at": at,
        "gtin": text,
        "lot": text,
        "serial": text,
        "from_location_id": text,
        "to_location_id": text,
        "reason": text,
        "quantity": pl.Float64,
        "uom": text,
    }
    ship = {
        "shipment_id": text,
        "shipped_at": at,
        "from_location_id": text,
        "to_location_id": text,
        **lot_row,
    }

    def received(rid: str, lot: str, qty: float, day: int, where: str = "SITE") -> dict:
        return {
            "receipt_id": rid,
            "received_at": datetime(2026, 2, day),
            "from_location_id": "MILL",
            "to_location_id": where,
            "gtin": FLOUR,
            "lot": lot,
            "serial": None,
            "quantity": qty,
            "uom": "KGM",
            "production_date": None,
            "expiry_date": None,
            "tlc_source_reference": None,
        }

    parts = {
        "products": pl.DataFrame({"gtin": [FLOUR, DOUGH], "name": ["flour", "dough"]}),
        "locations": pl.DataFrame({"location_id": ["SITE", "MILL"], "kind": ["site", "supplier"]}),
        "receipts": frame(
            [
                received("R1", "F1", 300, 1),
                received("R2", "F2", 100, 2),
                received("R3", "F3", 500, 3, where="OTHER"),  # another site: not a candidate
            ],
            receipt,
        ),
        "production": frame(
            [
                {
                    "production_id": "P0",
                    "completed_at": datetime(2026, 2, 10),
                    "location_id": "SITE",
                    "gtin": DOUGH,
                    "lot": "D0",
                    "serial": None,
                    "quantity": 150.0,
                    "uom": "KGM",
                    "production_date": None,
                    "expiry_date": None,
                },
                {
                    "production_id": "P1",
                    "completed_at": T,
                    "location_id": "SITE",
                    "gtin": DOUGH,
                    "lot": "D1",
                    "serial": None,
                    "quantity": 80.0,
                    "uom": "KGM",
                    "production_date": None,
                    "expiry_date": None,
                },
            ],
            made,
        ),
        "consumption": frame(consumption, {"production_id": text, **lot_row}),
        "moves": frame(
            [
                {
                    "move_id": "M1",
                    "moved_at": datetime(2026, 3, 2),  # after P1: does not count
                    "gtin": FLOUR,
                    "lot": "F3",
                    "serial": None,
                    "from_location_id": "OTHER",
                    "to_location_id": "SITE",
                    "reason": "transfer",
                    "quantity": 500.0,
                    "uom": "KGM",
                }
            ],
            move,
        ),
        "shipments": frame([], ship),
    }
    fields = {f.name for f in dataclasses.fields(Records)}
    return Records(**{k: v for k, v in parts.items() if k in fields})


def used(pid: str, gtin: str, lot: str | None, qty: float) -> dict:
    return {"production_id": pid, "gtin": gtin, "lot": lot, "serial": None, "quantity": qty}


def test_lotless_consumption_is_allocated_by_stock_on_hand() -> None:
    # before P1: F1 300 − 100 used by P0 = 200 on hand, F2 100 − 50 = 50; F3 elsewhere until later
    recs = records(
        [
            {**used("P0", FLOUR, "F1", 100), "uom": "KGM"},
            {**used("P0", FLOUR, "F2", 50), "uom": "KGM"},
            {**used("P1", FLOUR, None, 60), "uom": "KGM"},
            {**used("P1", FLOUR, None, 40), "uom": "KGM"},  # one order: 100 in all
        ]
    )
    keys = lot_keys(recs).filter(pl.col("lot").is_not_null())
    got = (
        genealogy_edges(recs, keys)
        .join(keys.rename({"lot_key": "parent_key"}), on="parent_key")
        .select("production_id", "lot", "input_quantity", "evidence")
        .sort("production_id", "lot")
        .rows()
    )
    assert got == [
        ("P0", "F1", 100.0, "explicit"),
        ("P0", "F2", 50.0, "explicit"),
        ("P1", "F1", pytest.approx(80.0), "inferred"),  # 100 × 200/250
        ("P1", "F2", pytest.approx(20.0), "inferred"),  # 100 × 50/250
    ]


def test_lotless_consumption_falls_back_to_what_entered_when_no_stock_is_left() -> None:
    # P0 used more than was recorded in (F1 400 of 300, F2 150 of 100): allocate by receipts 3:1
    recs = records(
        [
            {**used("P0", FLOUR, "F1", 400), "uom": "KGM"},
            {**used("P0", FLOUR, "F2", 150), "uom": "KGM"},
            {**used("P1", FLOUR, None, 100), "uom": "KGM"},
        ]
    )
    keys = lot_keys(recs).filter(pl.col("lot").is_not_null())
    inferred = (
        genealogy_edges(recs, keys)
        .filter(pl.col("evidence") == "inferred")
        .join(keys.rename({"lot_key": "parent_key"}), on="parent_key")
        .sort("lot")
    )
    assert inferred.select("lot", "input_quantity").rows() == [
        ("F1", pytest.approx(75.0)),
        ("F2", pytest.approx(25.0)),
    ]
