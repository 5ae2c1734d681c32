"""Exposure: how much of a lot's material came from another lot, from the genealogy edges.

Share of an edge (parent p → child c made in production P)::

    share = q(p, P) / Σ_inputs q(·, P)  ×  o(c, P) / Σ_productions o(c, ·)

`q` is the input quantity (`input_base_quantity` when the caller converted it to one base unit,
else `input_quantity`); `o` is the child's output quantity (`output_base_quantity`, else
`output_quantity`). The first factor assumes mass conservation: every unit of every output of P
holds the inputs of P in proportion. The second weighs each production that made the child lot by
how much of the lot it made. A share is null when a denominator is not positive (quantities
missing or zero): such an edge still links the lots for a trace but carries no exposure.

Exposure of descendant D to ancestor A = Σ over paths A → … → D that do not come back to A of
Π shares. It is the probability that walking back from D (to each parent with the edge's share)
ever hits A, so the fraction of D's material that passed through A: never above 1. On a DAG
every path qualifies; on a rework cycle, walks that return to A would count A's material twice,
so they stop there. The series is summed level by level until nothing changes above `tol`, or
`max_depth` levels for a cycle whose shares multiply to almost 1; values are clipped at 1.0.

A lot on a rework cycle appears as its own ancestor (depth ≥ 1, exposure = the fraction of the
lot that came back into it); no (lot, lot) pair is listed at depth 0.

The closure is built with scipy.sparse, one sparse product per level (frontier @ S), so its cost
follows the number of (ancestor, descendant) pairs, not the number of lots squared; pairs that
converged leave the frontier. `lotline.trace_index` answers the same questions for one lot at a
time, in memory, without building the closure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl

if TYPE_CHECKING:  # scipy is imported where used: `lotline trace` never loads it
    from scipy import sparse

TOLERANCE = 1e-12
MAX_DEPTH = 64
CLOSURE_SCHEMA = {
    "ancestor_key": pl.Int32,
    "descendant_key": pl.Int32,
    "depth": pl.Int16,
    "exposure": pl.Float64,
}
REACHED_SCHEMA = {"lot_key": pl.Int64, "depth": pl.Int64, "exposure": pl.Float64}


def edge_shares(edges: pl.DataFrame) -> pl.DataFrame:
    """`edges` with a `share` column (formula in the module docstring)."""
    inputs = "input_base_quantity" if "input_base_quantity" in edges.columns else "input_quantity"
    output = (
        "output_base_quantity" if "output_base_quantity" in edges.columns else "output_quantity"
    )
    frame = edges.lazy()
    # edges are every input × every output of a production: each input row repeats per output lot
    productions = frame.group_by("production_id").agg(
        (pl.col(inputs).sum() / pl.col("child_key").n_unique()).alias("_input_total")
    )
    children = (
        frame.group_by("production_id", "child_key")
        .agg(pl.col(output).mean())
        .group_by("child_key")
        .agg(pl.col(output).sum().alias("_child_total"))
    )
    share = (pl.col(inputs) / pl.col("_input_total")) * (pl.col(output) / pl.col("_child_total"))
    return (
        frame.join(productions, on="production_id", how="left", maintain_order="left")
        .join(children, on="child_key", how="left", maintain_order="left")
        .with_columns(
            pl.when((pl.col("_input_total") > 0) & (pl.col("_child_total") > 0))
            .then(share)
            .otherwise(None)
            .cast(pl.Float64)
            .alias("share")
        )
        .drop("_input_total", "_child_total")
        .collect(engine="in-memory")  # the same sums every run (the streaming engine's vary)
    )


def share_matrix(edges_with_share: pl.DataFrame, n_lots: int) -> sparse.csr_array:
    """S[parent, child] = summed share over the productions linking them; null shares dropped."""
    from scipy import sparse

    pairs = (
        edges_with_share.filter(pl.col("share").is_not_null() & (pl.col("share") > 0))
        .group_by("parent_key", "child_key")
        .agg(pl.col("share").sum())
    )
    matrix = sparse.csr_array(
        (
            pairs["share"].to_numpy().astype(np.float64),
            (
                pairs["parent_key"].to_numpy().astype(np.int32),
                pairs["child_key"].to_numpy().astype(np.int32),
            ),
        ),
        shape=(n_lots, n_lots),
    )
    matrix.sum_duplicates()
    return matrix


def _rows(matrix: sparse.csr_array) -> np.ndarray:
    return np.repeat(np.arange(matrix.shape[0], dtype=np.int32), np.diff(matrix.indptr))


def _seen(frontier: sparse.csr_array, chosen: np.ndarray, reached: sparse.csr_array) -> np.ndarray:
    """Whether `reached` holds the pair of each `chosen` frontier entry: one sparse elementwise
    product with the entries numbered, so the flags line up with `chosen`."""

    seen = np.zeros(chosen.size, dtype=bool)
    if reached.nnz and chosen.size:
        rows = _rows(frontier)[chosen]
        numbered = _csr(
            rows,
            frontier.indices[chosen],
            np.arange(1, chosen.size + 1, dtype=np.float64),
            frontier.shape,
        )
        hits = numbered.multiply(reached).tocsr()
        seen[hits.data.astype(np.int64) - 1] = True
    return seen


def _csr(
    rows: np.ndarray, cols: np.ndarray, data: np.ndarray, shape: tuple[int, int]
) -> sparse.csr_array:
    """CSR from entries already sorted by (row, col), without duplicates."""
    from scipy import sparse

    indptr = np.zeros(shape[0] + 1, dtype=np.int64 if len(cols) >= 2**31 else np.int32)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    matrix = sparse.csr_array((data, cols, indptr), shape=shape)
    matrix.has_canonical_format = True
    return matrix


def _on_cycle(shares: sparse.csr_array) -> np.ndarray:
    """Lots in a strongly connected component of several lots, or reworked into themselves."""
    from scipy.sparse import csgraph

    _, component = csgraph.connected_components(shares, directed=True, connection="strong")
    cyclic = np.bincount(component)[component] > 1
    cyclic |= shares.diagonal() != 0
    return cyclic


def _tree(parts: list[sparse.csr_array], combine) -> sparse.csr_array:
    """Combine canonical matrices pairwise: each step one linear merge, no sort."""
    while len(parts) > 1:
        parts = [
            combine(parts[i], parts[i + 1]).tocsr() if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
    return parts[0]


def closure_matrices(
    shares: sparse.csr_array,
    max_depth: int = MAX_DEPTH,
    tol: float = TOLERANCE,
    ancestors: range | None = None,
    cyclic: np.ndarray | None = None,
) -> tuple[sparse.csr_array, sparse.csr_array]:
    """(exposure, depth) of every pair from `ancestors` (rows, default all), same sparsity.

    The frontier holds the weight of paths of the current length from each ancestor; each level
    is kept and the levels are summed once at the end (pairwise merges). Off cycles a path is
    at most as long as the DAG is deep, so the frontier empties by itself. On a cycle, a pair
    seen at an earlier level whose weight is below `tol` is dropped (it only adds a negligible
    exposure; everything beyond it was reached already), and past `max_depth` levels every seen
    pair on a cycle is dropped. A new pair always goes on, so no pair is missed however small
    its exposure or long its path. Frontier pairs (A, A) stop after being counted (paths do not
    return to A). Only pairs ending on a cycle are tested against what was reached."""
    from scipy import sparse

    n = shares.shape[0]
    ancestors = range(n) if ancestors is None else ancestors
    cyclic = _on_cycle(shares) if cyclic is None else cyclic
    shape = (len(ancestors), n)
    reached = sparse.csr_array(shape, dtype=np.int8)  # pairs (ancestor, lot on a cycle)
    levels: list[sparse.csr_array] = []
    frontier = shares[ancestors.start : ancestors.stop].tocsr()
    frontier.sort_indices()
    level = 0
    while frontier.nnz:
        level += 1
        levels.append(frontier)
        on_cycle = np.flatnonzero(cyclic[frontier.indices])
        if on_cycle.size:
            new = ~_seen(frontier, on_cycle, reached)
            rows = _rows(frontier)
            first = on_cycle[new]
            reached = (
                reached
                + _csr(rows[first], frontier.indices[first], np.ones(first.size, np.int8), shape)
            ).tocsr()
            stay = new | ((frontier.data[on_cycle] >= tol) & (level < max_depth))
            stay &= rows[on_cycle] + ancestors.start != frontier.indices[on_cycle]
            keep = np.ones(frontier.nnz, dtype=bool)
            keep[on_cycle] = stay
            frontier = _csr(rows[keep], frontier.indices[keep], frontier.data[keep], shape)
        if frontier.nnz:
            frontier = (frontier @ shares).tocsr()
            frontier.sort_indices()
    del reached
    if not levels:
        return sparse.csr_array(shape, dtype=np.float64), sparse.csr_array(shape, dtype=np.int32)
    # one merge for both: real part the path weight, imaginary part 2^-level. A sum of distinct
    # powers of two lies in [2^-m, 2^-m+1) for m its smallest level, so the min depth is
    # ceil(-log2(imaginary)), exact for any number of levels up to 1000.
    tagged = [
        sparse.csr_array((m.data + 1j * 2.0**-k, m.indices, m.indptr), shape=shape)
        for k, m in enumerate(levels, start=1)
    ]
    levels.clear()
    merged = _tree(tagged, lambda a, b: a + b)
    depth = sparse.csr_array(
        (np.ceil(-np.log2(merged.data.imag)).astype(np.int32), merged.indices, merged.indptr),
        shape=shape,
    )
    exposure = sparse.csr_array(
        (np.ascontiguousarray(merged.data.real), merged.indices, merged.indptr), shape=shape
    )
    np.minimum(exposure.data, 1.0, out=exposure.data)
    return exposure, depth


def closure(
    edges_with_share: pl.DataFrame,
    n_lots: int,
    max_depth: int = MAX_DEPTH,
    tol: float = TOLERANCE,
    block_edges: int = 100_000,
) -> pl.DataFrame:
    """Every (ancestor, descendant) pair linked by material, with min hops and exposure.

    Keys are Int32 and depth Int16 to keep 10⁸ pairs in memory; cast `lot_key` (Int64) when
    joining. Edges whose share is null or zero carry no material and link nothing here (a trace
    over `lot_edge` still follows them). `closure_blocks` gives the same rows a block at a time."""
    blocks = closure_blocks(edges_with_share, n_lots, max_depth, tol, block_edges)
    return pl.concat([pl.DataFrame(schema=CLOSURE_SCHEMA), *blocks], rechunk=False)


def closure_blocks(
    edges_with_share: pl.DataFrame,
    n_lots: int,
    max_depth: int = MAX_DEPTH,
    tol: float = TOLERANCE,
    block_edges: int = 100_000,
) -> Iterator[pl.DataFrame]:
    """The pairs of `closure`, in ancestor order, one block of ancestors at a time.

    Ancestors go in blocks of about `block_edges` outgoing edges: a block's levels stay small
    (cache, memory), and a caller that writes each block and lets it go never holds the 10⁸
    pairs of a large genealogy. Only the share matrix is built up front (the edges frame is not
    kept), so the caller may drop its edges once the first block arrives."""
    shares = share_matrix(edges_with_share, n_lots)
    del edges_with_share
    cyclic = _on_cycle(shares)
    bounds = np.unique(
        np.r_[0, np.searchsorted(shares.indptr, np.arange(0, shares.nnz, block_edges)), n_lots]
    )
    for first, last in zip(bounds[:-1], bounds[1:], strict=True):
        ancestors = range(int(first), int(last))
        exposure, depth = closure_matrices(shares, max_depth, tol, ancestors, cyclic)
        if exposure.nnz != depth.nnz or not np.array_equal(exposure.indices, depth.indices):
            raise AssertionError("exposure and depth matrices lost alignment")
        rows = _rows(exposure) + np.int32(first)
        yield pl.DataFrame(
            {
                "ancestor_key": rows,
                "descendant_key": exposure.indices.astype(np.int32, copy=False),
                "depth": np.minimum(depth.data, np.iinfo(np.int16).max).astype(np.int16),
                "exposure": exposure.data,
            },
            schema=CLOSURE_SCHEMA,
        )


def return_shares(shares: sparse.csr_array, tol: float = TOLERANCE) -> np.ndarray:
    """Per lot, the fraction of its material that came back into it through rework (0 off cycles).

    A closed path stays inside one strongly connected component, so only edges inside a
    component are walked: the closure of that small subgraph, diagonal only."""
    from scipy import sparse
    from scipy.sparse import csgraph

    n = shares.shape[0]
    _, component = csgraph.connected_components(shares, directed=True, connection="strong")
    coo = shares.tocoo()
    inside = component[coo.row] == component[coo.col]
    internal = sparse.csr_array(
        (coo.data[inside], (coo.row[inside], coo.col[inside])), shape=(n, n)
    )
    returned = np.zeros(n)
    if internal.nnz:
        exposure, _ = closure_matrices(internal, tol=tol)
        returned = np.asarray(exposure.diagonal(), dtype=np.float64)
    return returned


def exposure_from(
    edges_with_share: pl.DataFrame,
    lot_keys: list[int],
    direction: Literal["backward", "forward"],
    n_lots: int | None = None,
    max_depth: int = MAX_DEPTH,
    tol: float = TOLERANCE,
) -> pl.DataFrame:
    """Lots reached from `lot_keys` (depth 0) with min depth and exposure.

    forward: fraction of each descendant's material that came from any start lot (walks stop at
    a start lot, so a start lot counts once). backward: fraction of the start lots' material
    (mean over them, equal weights) that came from each ancestor; the walk sum W(A) counts
    returns to A, so it is scaled by (1 − return share of A) to count A once. Start lots have
    depth 0 and exposure 1 (backward, one start lot) or their share of the pooled start lots.
    Structural reach (depth) follows every edge, even one whose share is null."""
    from scipy import sparse

    if n_lots is None:
        keys = edges_with_share.select(pl.max_horizontal("parent_key", "child_key").max()).item()
        n_lots = max(int(keys or 0), *lot_keys, -1) + 1
    shares = share_matrix(edges_with_share, n_lots)
    links = edges_with_share.select("parent_key", "child_key").unique()
    structure = sparse.csr_array(
        (
            np.ones(links.height, dtype=np.int32),
            (links["parent_key"].to_numpy(), links["child_key"].to_numpy()),
        ),
        shape=(n_lots, n_lots),
    )
    if direction == "backward":
        shares, structure = shares.T.tocsr(), structure.T.tocsr()
    start = np.unique(np.asarray(lot_keys, dtype=np.int64))
    if start.size == 0:
        return pl.DataFrame(schema=REACHED_SCHEMA)
    depth = np.full(n_lots, -1, dtype=np.int64)
    depth[start] = 0
    frontier = np.zeros(n_lots, dtype=bool)
    frontier[start] = True
    toward = structure.T.tocsr()
    for level in range(1, n_lots + 1):
        reached = (toward @ frontier.astype(np.int32)) > 0
        frontier = reached & (depth < 0)
        if not frontier.any():
            break
        depth[frontier] = level
    mass = np.zeros(n_lots)
    mass[start] = 1.0 if direction == "forward" else 1.0 / len(start)
    total = mass.copy()
    spread = shares.T.tocsr()
    for _ in range(max_depth + int(depth.max())):
        mass = spread @ mass
        if direction == "forward":
            mass[start] = 0.0  # paths stop at a start lot: its material is counted once
        total += mass
        if mass.max(initial=0.0) < tol:
            break
    if direction == "forward":
        total[start] = 1.0
    else:
        total *= 1.0 - return_shares(shares.T.tocsr(), tol)
    chosen = np.flatnonzero(depth >= 0)
    return pl.DataFrame(
        {
            "lot_key": chosen,
            "depth": depth[chosen],
            "exposure": np.minimum(total[chosen], 1.0),
        },
        schema=REACHED_SCHEMA,
    ).sort("depth", "lot_key")
