"""networkx's stochastic block model, edge for edge, in time linear in the edges.

``networkx.stochastic_block_model(..., sparse=True)`` draws geometric skips but walks the skipped node
pairs one by one, so its cost grows with the square of the population (53 s at 100,000 users, about 20
minutes at 500,000). :func:`stochastic_block_model` consumes the same random numbers in the same order and
finds each chosen pair by arithmetic instead, so a seed gives the very graph networkx gives (same nodes,
edges and adjacency order; ``tests/test_network.py`` compares them), and results do not change.
"""

from __future__ import annotations

import math
import random
from itertools import combinations_with_replacement

import networkx as nx
import numpy as np

__all__ = ["stochastic_block_model"]


def _positions(total: int, p: float, rand: random.Random) -> np.ndarray:
    """Indices, among ``total`` candidate pairs, that networkx's geometric skipping selects with ``p``."""
    if p == 1:
        return np.arange(total, dtype=np.int64)
    if p <= 0:
        return np.zeros(0, dtype=np.int64)
    log_q = math.log(1 - p)
    out: list[int] = []
    pos = -1
    while True:  # the loop of networkx: one draw per chosen pair plus the one that runs past the end
        # (even with no pairs at all, as for a block of one user)
        pos += math.floor(math.log(rand.random()) / log_q) + 1
        if pos >= total:
            return np.asarray(out, dtype=np.int64)
        out.append(pos)


def _row_start(a: np.ndarray, k: int) -> np.ndarray:
    """Index of pair ``(a, a + 1)`` in ``itertools.combinations(range(k), 2)``."""
    return a * (2 * k - a - 1) // 2


def _unrank_pairs(pos: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(a, b)``, ``a < b``, of the ``pos``-th pairs of ``itertools.combinations(range(k), 2)``."""
    c = 2 * k - 1
    a = np.floor((c - np.sqrt(np.maximum(c * c - 8.0 * pos, 0.0))) / 2).astype(np.int64)
    a -= _row_start(a, k) > pos  # guard against float rounding one row off either way
    a += _row_start(a + 1, k) <= pos
    return a, pos - _row_start(a, k) + a + 1


def stochastic_block_model(sizes: list[int], p: list[list[float]], seed: int) -> nx.Graph:
    """The undirected graph ``networkx.stochastic_block_model(sizes, p, seed=seed, sparse=True)`` returns,
    without its graph attributes (name, partition); nodes carry their ``block`` as there."""
    rand = random.Random(seed)
    cut = np.cumsum([0, *sizes])
    # networkx iterates each block as a set of ints: keep that order (not always ascending)
    parts = [np.fromiter(set(range(cut[b], cut[b + 1])), dtype=np.int64, count=sizes[b])
             for b in range(len(sizes))]
    g = nx.Graph()
    for b, nodes in enumerate(parts):
        g.add_nodes_from(nodes.tolist(), block=b)
    for i, j in combinations_with_replacement(range(len(sizes)), 2):
        ni, nj = len(parts[i]), len(parts[j])
        if i == j:
            pos = _positions(ni * (ni - 1) // 2, p[i][i], rand)
            a, b = _unrank_pairs(pos, ni)
            u, v = parts[i][a], parts[i][b]
        else:
            pos = _positions(ni * nj, p[i][j], rand)
            u, v = parts[i][pos // nj], parts[j][pos % nj]
        g.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
    return g
