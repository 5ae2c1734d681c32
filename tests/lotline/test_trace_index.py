"""The compiled trace index against the Polars trace and the exposure frames, on cycles too."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from lotline import genealogy, trace
from lotline.trace_index import TraceIndex


def random_graph(seed: int, n_lots: int, n_productions: int) -> pl.DataFrame:
    """Productions with 1-4 inputs and 1-2 outputs drawn from all lots: rework cycles, self
    loops and lots no production touches. Quantities 1-50, a few zero (null share)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_productions):
        ins = rng.choice(n_lots, size=int(rng.integers(1, 5)), replace=False)
        outs = rng.choice(n_lots, size=int(rng.integers(1, 3)), replace=False)
        quantity = {int(p): float(rng.integers(0, 50)) for p in ins}
        for c in outs:
            made = float(rng.integers(1, 50))
            rows += [(f"P{i}", p, q, int(c), made) for p, q in quantity.items()]
    return genealogy.edge_shares(
        pl.DataFrame(
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
    )


def as_dict(reached) -> dict[int, int]:
    return dict(zip(reached.lot_key.tolist(), reached.depth.tolist(), strict=True))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_reachable_sets_and_depths_equal_the_polars_trace(seed: int) -> None:
    n = 40
    edges = random_graph(seed, n, 30)
    index = TraceIndex.from_edges(edges, n)
    for lot in range(n):  # one index, many calls: the reused scratch arrays must not leak
        for direction, walk in (("backward", index.backward), ("forward", index.forward)):
            want = dict(trace.reachable(edges, [lot], direction).iter_rows())
            got = walk([lot])
            assert as_dict(got) == want, (lot, direction)
            assert np.all(np.diff(got.depth) >= 0)  # walk order: depth ascending
    several = [1, 5, 9]
    assert as_dict(index.forward(several)) == dict(
        trace.reachable(edges, several, "forward").iter_rows()
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exposure_equals_the_frame_version(seed: int) -> None:
    n = 30
    edges = random_graph(seed, n, 25)
    index = TraceIndex.from_edges(edges, n)
    for start in ([0], [7], [3, 11]):
        for direction in ("backward", "forward"):
            want = genealogy.exposure_from(edges, start, direction, n_lots=n, max_depth=400)
            got = index.exposure(start, direction, max_depth=400)
            assert as_dict(got) == dict(want.select("lot_key", "depth").rows())
            exposure = dict(zip(got.lot_key.tolist(), got.exposure.tolist(), strict=True))
            for lot, value in want.select("lot_key", "exposure").rows():
                assert exposure[lot] == pytest.approx(value, abs=1e-6), (start, direction, lot)
            assert (got.exposure <= 1.0).all()


def test_exposure_on_a_hand_computed_merge() -> None:
    # R1=0, R2=1 → I=2 (30/70); I 40 + R3=3 50 + R1 10 → F=4 (as in test_genealogy)
    rows = [("P1", 0, 30.0, 2, 100.0), ("P1", 1, 70.0, 2, 100.0)] + [
        ("P2", p, q, 4, 100.0) for p, q in ((2, 40.0), (3, 50.0), (0, 10.0))
    ]
    edges = genealogy.edge_shares(
        pl.DataFrame(
            rows,
            schema=[
                "production_id",
                "parent_key",
                "input_quantity",
                "child_key",
                "output_quantity",
            ],
            orient="row",
        )
    )
    index = TraceIndex.from_edges(edges, 5)
    back = index.exposure([4], "backward")
    assert dict(zip(back.lot_key.tolist(), back.exposure.tolist(), strict=True)) == pytest.approx(
        {4: 1.0, 0: 0.22, 2: 0.4, 3: 0.5, 1: 0.28}
    )
    assert as_dict(index.backward([4])) == {4: 0, 0: 1, 2: 1, 3: 1, 1: 2}
    assert as_dict(index.forward([3])) == {3: 0, 4: 1}
    assert as_dict(index.forward([])) == {}


def test_save_and_load_give_the_same_answers(tmp_path) -> None:
    n = 40
    edges = random_graph(5, n, 30)
    index = TraceIndex.from_edges(edges, n)
    path = tmp_path / "trace_index.npz"
    index.save(path)
    loaded = TraceIndex.load(path)
    assert loaded.n_lots == n
    assert loaded.nbytes == index.nbytes
    for lot in (0, 13, 39):
        assert as_dict(loaded.backward([lot])) == as_dict(index.backward([lot]))
        np.testing.assert_array_equal(
            loaded.exposure([lot], "forward").exposure, index.exposure([lot], "forward").exposure
        )
    with pytest.raises(IndexError):
        loaded.forward([n])
