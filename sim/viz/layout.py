"""Node positions for drawing the social graph: computed once per graph, cached, reused for every frame.

networkx's ``spring_layout`` takes ~3 s at 1,000 users and ~60 s at 5,000 on this kind of graph, far too slow
for a page that rebuilds its model on Reset. :func:`force_layout` is a Fruchterman-Reingold variant that is
O(edges + users) per iteration: attraction along every edge, repulsion estimated from a few randomly sampled
users per user (negative sampling, as in LargeVis/UMAP) instead of all pairs. It shows the same structure
(communities pulled together, hubs central) in ~0.1-0.5 s.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from threading import Lock

import numpy as np

from sim.network import SocialGraph

__all__ = ["force_layout", "graph_key", "layout_for"]

#: Layouts kept in memory; Reset with unchanged parameters rebuilds the same graph, so this avoids recomputing.
CACHE_SIZE = 16
_cache: OrderedDict[str, np.ndarray] = OrderedDict()
_lock = Lock()


def graph_key(graph: SocialGraph) -> str:
    """A digest of the graph's structure (same edges, same key)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(np.int64(graph.n).tobytes())
    h.update(np.ascontiguousarray(graph.indptr, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(graph.indices, dtype=np.int64).tobytes())
    return h.hexdigest()


def layout_for(graph: SocialGraph) -> np.ndarray:
    """Positions (n, 2) in [0, 1]^2 for ``graph``, from the cache when this graph was laid out before."""
    key = graph_key(graph)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    seed = int.from_bytes(bytes.fromhex(key[:8]), "little")
    pos = force_layout(graph.indptr, graph.indices, graph.n, seed=seed)
    pos.setflags(write=False)  # shared between sessions: nobody may move a cached node
    with _lock:
        _cache[key] = pos
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return pos


def force_layout(indptr: np.ndarray, indices: np.ndarray, n: int, seed: int = 0, iterations: int = 150,
                 samples: int = 8) -> np.ndarray:
    """Force-directed positions (n, 2) scaled into [0, 1]^2, for a graph in CSR form (both directions stored).

    Forces are Fruchterman-Reingold's (attraction d^2/k along edges, repulsion k^2/d between users) with the
    repulsion on each user estimated from ``samples`` random other users; a weak pull to the centre keeps
    isolated users and small components in view. Moves are capped by a temperature that cools linearly.
    Deterministic for a given ``seed``.
    """
    rng = np.random.default_rng(seed)
    if n == 1:
        return np.full((1, 2), 0.5)
    rows = np.repeat(np.arange(n), np.diff(indptr))
    cols = np.asarray(indices, dtype=np.int64)
    pos = rng.random((n, 2))
    k = 1.0 / np.sqrt(n)  # ideal edge length in the unit square
    scale = (n - 1) / samples  # sampled repulsion stands for all n - 1 others
    for it in range(iterations):
        temp = 0.1 * (1.0 - it / iterations) + 1e-3
        force = np.zeros((n, 2))
        if len(rows):
            delta = pos[cols] - pos[rows]
            dist = np.sqrt((delta**2).sum(axis=1)) + 1e-9
            pull = delta * (dist / k)[:, None]
            force[:, 0] += np.bincount(rows, weights=pull[:, 0], minlength=n)
            force[:, 1] += np.bincount(rows, weights=pull[:, 1], minlength=n)
        others = rng.integers(0, n, size=(n, samples))
        delta = pos[:, None, :] - pos[others]
        dist2 = (delta**2).sum(axis=2) + 1e-6
        force += scale * (delta * (k * k / dist2)[:, :, None]).sum(axis=1)
        force += (0.5 - pos) * (n * k)  # gravity
        length = np.sqrt((force**2).sum(axis=1)) + 1e-12
        pos += force * (np.minimum(length, temp) / length)[:, None]
    return _rescale(pos)


def _rescale(pos: np.ndarray, margin: float = 0.02) -> np.ndarray:
    """Scale into [margin, 1 - margin]^2 keeping the aspect ratio, ignoring the outermost 0.5% of users on each
    side (a stray user must not shrink everyone else into a corner)."""
    lo = np.quantile(pos, 0.005, axis=0)
    hi = np.quantile(pos, 0.995, axis=0)
    span = max(float((hi - lo).max()), 1e-9)
    centred = (pos - (lo + hi) / 2) / span + 0.5
    return np.clip(centred * (1 - 2 * margin) + margin, 0.0, 1.0)
