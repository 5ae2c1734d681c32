"""In-memory trace index: the genealogy as CSR adjacency both ways, walked by compiled code.

`trace.reachable` runs one Polars join per level, fine for a report but far from the sub-ms an
interactive lookup needs. Here each direction is CSR (int32 indptr/indices, float32 share): 16
bytes per edge for both directions together. A trace is a breadth-first walk compiled with numba
that reuses scratch arrays sized to the lots, stamped with a generation counter instead of being
cleared, so a call costs what it reaches, not the number of lots. Scratch arrays make one index
single-threaded; a lock serialises callers. numba is imported here only, so the CLI stays light.

Exposure follows `lotline.genealogy`: forward, walks stop at the start lots (the hitting
probability of the start set); backward, the walk sum of each ancestor A times (1 − return share
of A), the fraction of the start lot's material that passed through A.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import polars as pl
from numba import njit
from scipy import sparse

from lotline.genealogy import MAX_DEPTH, TOLERANCE, return_shares

Direction = Literal["backward", "forward"]
ARRAYS = (
    "forward_indptr",
    "forward_indices",
    "forward_share",
    "backward_indptr",
    "backward_indices",
    "backward_share",
    "returned",
)


class Reached(NamedTuple):
    """Lots reached in walk order (depth ascending); exposure only from `TraceIndex.exposure`."""

    lot_key: np.ndarray
    depth: np.ndarray
    exposure: np.ndarray | None = None


@njit(cache=True)
def _bfs(indptr, indices, starts, mark, generation, depth, queue):  # pragma: no cover - compiled
    count = 0
    for s in starts:
        if mark[s] != generation:
            mark[s] = generation
            depth[s] = 0
            queue[count] = s
            count += 1
    head = 0
    while head < count:
        node = queue[head]
        head += 1
        below = depth[node] + 1
        for e in range(indptr[node], indptr[node + 1]):
            nxt = indices[e]
            if mark[nxt] != generation:
                mark[nxt] = generation
                depth[nxt] = below
                queue[count] = nxt
                count += 1
    return count


@njit(cache=True)
def _spread(  # pragma: no cover - compiled
    indptr,
    indices,
    share,
    starts,
    start_mass,
    absorbing,
    max_depth,
    tol,
    mark,
    generation,
    depth,
    queue,
    level_mark,
    level_stamp,
    total,
    mass,
    next_mass,
    frontier,
    next_frontier,
):
    """Level-synchronous push of path weights; returns (reached count, next level stamp)."""
    count = 0
    width = 0
    for s in starts:
        if mark[s] != generation:
            mark[s] = generation
            depth[s] = 0
            queue[count] = s
            count += 1
            total[s] = start_mass
            mass[s] = start_mass
            frontier[width] = s
            width += 1
    level = 0
    while width > 0:
        level += 1
        level_stamp += 1
        touched = 0
        for i in range(width):
            node = frontier[i]
            weight = mass[node]
            for e in range(indptr[node], indptr[node + 1]):
                nxt = indices[e]
                if level_mark[nxt] != level_stamp:
                    level_mark[nxt] = level_stamp
                    next_mass[nxt] = 0.0
                    next_frontier[touched] = nxt
                    touched += 1
                next_mass[nxt] += weight * share[e]
        width = 0
        for i in range(touched):
            node = next_frontier[i]
            weight = next_mass[node]
            new = mark[node] != generation
            if new:
                mark[node] = generation
                depth[node] = level
                queue[count] = node
                count += 1
                total[node] = 0.0
            elif absorbing and depth[node] == 0:
                continue  # a path that comes back to a start lot stops there
            total[node] += weight
            if new or (weight >= tol and level < max_depth):
                mass[node] = weight
                frontier[width] = node
                width += 1
    return count, level_stamp


def _csr(rows: np.ndarray, cols: np.ndarray, share: np.ndarray, n_lots: int):
    """CSR of entries already sorted by row."""
    indptr = np.zeros(n_lots + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n_lots), out=indptr[1:])
    return indptr, cols.astype(np.int32), share.astype(np.float32)


class TraceIndex:
    """Reachability and exposure over the lot graph, both directions; build once, query often."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.n_lots = int(arrays["forward_indptr"].shape[0] - 1)
        n = self.n_lots
        self._lock = threading.Lock()
        self._generation = 0
        self._level_stamp = 0
        self._mark = np.zeros(n, dtype=np.int64)
        self._depth = np.zeros(n, dtype=np.int32)
        self._queue = np.zeros(n, dtype=np.int32)
        self._exposure_scratch: tuple[np.ndarray, ...] | None = None

    @classmethod
    def from_edges(cls, edges_with_share: pl.DataFrame, n_lots: int) -> TraceIndex:
        """One adjacency entry per (parent, child) pair, its shares summed (null counts 0)."""
        parent = edges_with_share["parent_key"].to_numpy().astype(np.int64)
        child = edges_with_share["child_key"].to_numpy().astype(np.int64)
        share = edges_with_share["share"].fill_null(0.0).to_numpy().astype(np.float64)
        pair = parent * n_lots + child
        order = np.argsort(pair, kind="stable")
        pair = pair[order]
        first = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]]) if pair.size else pair
        summed = np.add.reduceat(share[order], first) if pair.size else share
        pair = pair[first]
        parent, child = pair // n_lots, pair % n_lots
        forward = _csr(parent, child, summed, n_lots)
        by_child = np.argsort(child * n_lots + parent, kind="stable")
        backward = _csr(child[by_child], parent[by_child], summed[by_child], n_lots)
        carries = summed > 0  # material flows only along a positive share
        material = sparse.csr_array(
            (summed[carries], (parent[carries], child[carries])), shape=(n_lots, n_lots)
        )
        returned = return_shares(material)
        return cls(dict(zip(ARRAYS, (*forward, *backward, returned), strict=True)))

    def save(self, path: str | Path) -> None:
        np.savez(path, **self.arrays)

    @classmethod
    def load(cls, path: str | Path) -> TraceIndex:
        with np.load(path) as stored:
            return cls({name: stored[name] for name in ARRAYS})

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays.values())

    def _next_generation(self) -> int:
        self._generation += 1
        return self._generation

    def _starts(self, lot_keys) -> np.ndarray:
        starts = np.asarray(lot_keys, dtype=np.int32).reshape(-1)
        if starts.size and (starts.min() < 0 or starts.max() >= self.n_lots):
            raise IndexError(f"lot key outside 0..{self.n_lots - 1}")
        return starts

    def _walk(self, lot_keys, direction: Direction) -> Reached:
        indptr, indices = self.arrays[f"{direction}_indptr"], self.arrays[f"{direction}_indices"]
        starts = self._starts(lot_keys)
        with self._lock:
            count = _bfs(
                indptr,
                indices,
                starts,
                self._mark,
                self._next_generation(),
                self._depth,
                self._queue,
            )
            keys = self._queue[:count].copy()
            return Reached(keys, self._depth[keys])

    def backward(self, lot_keys) -> Reached:
        """Ancestors of the start lots (depth 0), each at its min depth."""
        return self._walk(lot_keys, "backward")

    def forward(self, lot_keys) -> Reached:
        """Descendants of the start lots (depth 0), each at its min depth."""
        return self._walk(lot_keys, "forward")

    def exposure(
        self,
        lot_keys,
        direction: Direction,
        max_depth: int = MAX_DEPTH,
        tol: float = TOLERANCE,
    ) -> Reached:
        """Reached lots with min depth and exposure (as `genealogy.exposure_from`)."""
        prefix = direction
        starts = np.unique(self._starts(lot_keys))
        n = self.n_lots
        with self._lock:
            if self._exposure_scratch is None:
                self._exposure_scratch = (
                    np.zeros(n, dtype=np.int64),
                    np.zeros(n),
                    np.zeros(n),
                    np.zeros(n),
                    np.zeros(n, dtype=np.int32),
                    np.zeros(n, dtype=np.int32),
                )
            level_mark, total, mass, next_mass, frontier, next_frontier = self._exposure_scratch
            forward = direction == "forward"
            count, self._level_stamp = _spread(
                self.arrays[f"{prefix}_indptr"],
                self.arrays[f"{prefix}_indices"],
                self.arrays[f"{prefix}_share"],
                starts,
                1.0 if forward else 1.0 / max(len(starts), 1),
                forward,
                max_depth,
                tol,
                self._mark,
                self._next_generation(),
                self._depth,
                self._queue,
                level_mark,
                self._level_stamp,
                total,
                mass,
                next_mass,
                frontier,
                next_frontier,
            )
            keys = self._queue[:count].copy()
            exposure = total[keys]
            if not forward:
                exposure = exposure * (1.0 - self.arrays["returned"][keys])
            return Reached(keys, self._depth[keys], np.minimum(exposure, 1.0))
