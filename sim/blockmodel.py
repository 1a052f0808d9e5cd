"""networkx's stochastic block model, edge for edge, in time linear in the edges.

``networkx.stochastic_block_model(..., sparse=True)`` draws geometric skips from Python's ``random.Random``
but walks the skipped node pairs one by one, so its cost grows with the square of the population (53 s at
100,000 users, about 20 minutes at 500,000). :func:`block_model_edges` consumes the same random numbers in
the same order and finds each chosen pair by arithmetic instead, so a seed gives the very graph networkx
gives (same nodes, edges and adjacency order; ``tests/test_network.py`` compares them), and results do not
change.

The random numbers are Python's own: a numpy ``MT19937`` set to the state of ``random.Random(seed)`` draws
the same doubles (both use the same 53-bit construction), in batches, and a compiled loop turns them into
skips with the same ``log`` (the C library's) as ``math.log``.
"""

from __future__ import annotations

import math
import random
from itertools import combinations_with_replacement

import networkx as nx
import numpy as np

from sim.jit import jit

__all__ = ["block_model_edges", "stochastic_block_model"]

#: Doubles drawn at a time from the stream.
_BATCH = 1 << 16


class _PythonRandom:
    """The doubles ``random.Random(seed).random()`` returns, drawn in batches by numpy."""

    def __init__(self, seed: int) -> None:
        state = random.Random(seed).getstate()[1]
        bitgen = np.random.MT19937()
        bitgen.state = {"bit_generator": "MT19937",
                        "state": {"key": np.array(state[:624], dtype=np.uint32), "pos": state[624]}}
        self._stream = np.random.RandomState(bitgen)
        self.buffer = np.empty(0)
        self.at = 0

    def refill(self) -> None:
        """Make sure unread doubles are left: keep the unread ones and draw a new batch after them."""
        self.buffer = np.concatenate([self.buffer[self.at:], self._stream.random_sample(_BATCH)])
        self.at = 0


def _walk(r, at, pos, total, log_q, out):
    """networkx's geometric skipping over ``r[at:]``: ``pos += floor(log(r) / log(1 - p)) + 1`` per draw,
    storing each ``pos < total`` in ``out``. Returns (positions stored, next unread draw, pos, finished)."""
    n = 0
    while at < len(r):
        pos += math.floor(math.log(r[at]) / log_q) + 1
        at += 1
        if pos >= total:
            return n, at, pos, True
        out[n] = pos
        n += 1
    return n, at, pos, False


_walk = jit(_walk)


def _positions(total: int, p: float, rand: _PythonRandom) -> np.ndarray:
    """Indices, among ``total`` candidate pairs, that networkx's geometric skipping selects with ``p``."""
    if p == 1:
        return np.arange(total, dtype=np.int64)
    if p <= 0:
        return np.zeros(0, dtype=np.int64)
    log_q = math.log(1 - p)
    found: list[np.ndarray] = []
    pos = -1
    while True:  # the loop of networkx: one draw per chosen pair plus the one that runs past the end
        # (even with no pairs at all, as for a block of one user)
        if rand.at >= len(rand.buffer):
            rand.refill()
        out = np.empty(len(rand.buffer) - rand.at, dtype=np.int64)
        n, rand.at, pos, finished = _walk(rand.buffer, rand.at, pos, total, log_q, out)
        found.append(out[:n])
        if finished:
            return np.concatenate(found)


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


def block_model_edges(sizes: list[int], p: list[list[float]], seed: int
                      ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The blocks (node arrays, in networkx's order) and the edges ``u[e] -- v[e]``, in networkx's order, of
    ``networkx.stochastic_block_model(sizes, p, seed=seed, sparse=True)``."""
    rand = _PythonRandom(seed)
    cut = np.cumsum([0, *sizes])
    # networkx iterates each block as a set of ints: keep that order (not always ascending)
    parts = [np.fromiter(set(range(cut[b], cut[b + 1])), dtype=np.int64, count=sizes[b])
             for b in range(len(sizes))]
    us, vs = [], []
    for i, j in combinations_with_replacement(range(len(sizes)), 2):
        ni, nj = len(parts[i]), len(parts[j])
        if i == j:
            pos = _positions(ni * (ni - 1) // 2, p[i][i], rand)
            a, b = _unrank_pairs(pos, ni)
            us.append(parts[i][a])
            vs.append(parts[i][b])
        else:
            pos = _positions(ni * nj, p[i][j], rand)
            us.append(parts[i][pos // nj])
            vs.append(parts[j][pos % nj])
    return parts, np.concatenate(us), np.concatenate(vs)


def stochastic_block_model(sizes: list[int], p: list[list[float]], seed: int) -> nx.Graph:
    """The undirected graph ``networkx.stochastic_block_model(sizes, p, seed=seed, sparse=True)`` returns,
    without its graph attributes (name, partition); nodes carry their ``block`` as there."""
    parts, u, v = block_model_edges(sizes, p, seed)
    g = nx.Graph()
    for b, nodes in enumerate(parts):
        g.add_nodes_from(nodes.tolist(), block=b)
    g.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
    return g
