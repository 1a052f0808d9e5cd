"""Graphs at population scale built as CSR arrays, without networkx.

networkx needs about a kilobyte per edge and Python loops to build a graph, which rules it out beyond ~10^6
users. The generators here draw edges in fixed-size chunks from a seeded ``numpy.random.Generator`` and build
the symmetric CSR (sorted rows, no self-loops, no multi-edges) with compiled loops (:func:`csr_from_edges`),
so peak memory stays a small multiple of the final graph.

- :func:`chung_lu`: expected degrees from a power law, with an engaged community (network kind ``chung_lu``).
  With equal expected degrees the same generator gives the Poisson-degree stand-ins :func:`erdos_renyi` and
  :func:`sbm` for large ``n``; :func:`watts_strogatz` rewires a ring lattice.

docs/PERFORMANCE.md compares these graphs with the networkx builders and gives the measured costs.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from sim.jit import jit

__all__ = ["chung_lu", "csr_from_edges", "erdos_renyi", "index_dtype", "power_law_weights", "sbm",
           "watts_strogatz"]

#: Edges drawn per call of the generator (fixed, so that a seed gives the same graph on every machine).
DRAW_CHUNK = 1 << 22
#: Rounds of extra edges drawn to make up for the self-loops and multi-edges removed.
TOP_UP_ROUNDS = 5
#: Relative shortfall of the mean degree that the top-up rounds accept.
TOP_UP_TOLERANCE = 0.005

Graph = tuple[np.ndarray, np.ndarray]  # (indptr int64, indices int32/int64)


def index_dtype(n: int) -> type[np.signedinteger]:
    """int32 node indices while they fit (half the memory and bandwidth of int64), else int64."""
    return np.int32 if n < 2**31 else np.int64


# ---------------------------------------------------------------------------------------------------------
# From an edge list to a symmetric CSR
# ---------------------------------------------------------------------------------------------------------

def _degrees(n, src, dst, out):
    for e in range(len(src)):
        out[src[e]] += 1
        out[dst[e]] += 1


def _scatter(src, dst, ptr, indices):
    """Each edge into both its rows (``ptr``: each row's next free entry, advanced as it fills)."""
    for e in range(len(src)):
        a, b = src[e], dst[e]
        indices[ptr[a]] = b
        ptr[a] += 1
        indices[ptr[b]] = a
        ptr[b] += 1


def _sort_rows(raw_ptr, indices, kept):
    """Sort each row, drop its repeats and self-loops to the front of its slice; ``kept[i]``: entries left."""
    for i in prange(len(kept)):
        row = indices[raw_ptr[i]:raw_ptr[i + 1]]
        row.sort()
        m = 0
        for j in range(len(row)):
            v = row[j]
            if v != i and (m == 0 or row[m - 1] != v):
                row[m] = v
                m += 1
        kept[i] = m


def _compact(raw_ptr, indptr, indices):
    """Move each row's kept entries left to their final place (rows in order, so nothing is overwritten)."""
    for i in range(len(indptr) - 1):
        src = raw_ptr[i]
        for j in range(indptr[i + 1] - indptr[i]):
            indices[indptr[i] + j] = indices[src + j]


_degrees = jit(_degrees)
_scatter = jit(_scatter)
_sort_rows = jit(_sort_rows, parallel=True, allocates=True)  # numba's sort needs the runtime
_compact = jit(_compact)


def csr_from_edges(n: int, src: np.ndarray, dst: np.ndarray) -> Graph:
    """Symmetric CSR of the undirected graph with edges ``src[e] -- dst[e]``, rows sorted, self-loops and
    multi-edges removed.

    Each edge is written into both its rows, each row is sorted and stripped of repeats in place (rows on
    all threads), and the rows are moved left into place. The indices array is allocated for every drawn
    entry and the kept ones are a prefix of it (the few dropped entries are not worth a copy of the
    largest array).
    """
    raw_ptr = np.zeros(n + 1, dtype=np.int64)
    _degrees(n, src, dst, raw_ptr[1:])
    np.cumsum(raw_ptr, out=raw_ptr)
    indices = np.empty(int(raw_ptr[-1]), dtype=index_dtype(n))
    _scatter(src, dst, raw_ptr[:-1].copy(), indices)
    kept = np.empty(n, dtype=np.int64)
    _sort_rows(raw_ptr, indices, kept)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(kept, out=indptr[1:])
    _compact(raw_ptr, indptr, indices)
    return indptr, indices[:indptr[-1]]


# ---------------------------------------------------------------------------------------------------------
# Generators
# ---------------------------------------------------------------------------------------------------------

def power_law_weights(n: int, mean_degree: float, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Expected degrees ``w_i``: independent Pareto draws with density ~ ``w^-exponent``, capped at the
    structural cutoff ``sqrt(n * mean_degree)`` (beyond it ``w_i w_j / sum(w)`` would exceed 1: two hubs
    would be expected to be linked more than once) and at ``n - 1``, then scaled so their mean is
    ``mean_degree``."""
    cap = min(math.sqrt(n * mean_degree), n - 1.0)
    if mean_degree >= cap:
        return np.full(n, cap)
    raw = rng.pareto(exponent - 1.0, n)
    raw += 1.0
    # mean(min(s * raw, cap)) grows with s; fixed-point steps from below converge in a handful of passes.
    scale, w = mean_degree / float(raw.mean()), raw
    for _ in range(100):
        w = np.minimum(raw * scale, cap)
        mean = float(w.mean())
        if abs(mean - mean_degree) <= 1e-9 * mean_degree:
            break
        scale *= mean_degree / mean
    return w


def _stubs(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Integer stub counts with mean ``weights`` (floor plus a Bernoulli draw for the fraction)."""
    base = np.floor(weights)
    counts = base.astype(np.int64)
    counts += rng.random(len(weights)) < weights - base
    return counts


def _draw(table: np.ndarray, count: int, rng: np.random.Generator, out: np.ndarray) -> None:
    """Fill ``out[:count]`` with entries of ``table`` drawn uniformly with replacement, chunk by chunk."""
    for start in range(0, count, DRAW_CHUNK):
        stop = min(start + DRAW_CHUNK, count)
        np.take(table, rng.integers(0, len(table), stop - start), out=out[start:stop])


def _block_graph(n: int, weights: np.ndarray, engaged_size: int, inside: float,
                 rng: np.random.Generator) -> Graph:
    """Chung-Lu graph with expected degrees ``weights`` and two blocks: users ``0 .. m-1`` (the engaged
    community, m = ``engaged_size``) have a fraction ``inside`` of their ties among themselves.

    Each user gets about ``w_i`` stubs; an edge joins two stubs drawn uniformly with replacement from the
    stubs of its block pair (engaged-engaged, engaged-rest, rest-rest), so user i's expected degree is
    ``w_i`` and a pair's expected number of edges ``w_i w_j / W`` within each block pair. When the engaged
    users' outside ties outnumber the rest's stubs, the rest get more than their weight. Self-loops and
    multi-edges are dropped; each block pair's lost edges are made up by extra rounds drawn the same way
    until it is within ``TOP_UP_TOLERANCE`` of its expected number of edges (or the rounds run out: a block
    may ask for more edges than it has pairs).
    """
    itype = index_dtype(n)
    stubs = _stubs(weights, rng)
    m = engaged_size
    tables = (np.repeat(np.arange(m, dtype=itype), stubs[:m]),
              np.repeat(np.arange(m, n, dtype=itype), stubs[m:]))
    del stubs
    s_e, s_r = len(tables[0]), len(tables[1])
    e_er = round((1.0 - inside) * s_e) if s_r else 0
    e_ee = round((s_e - e_er) / 2)
    e_rr = round((s_r - e_er) / 2)
    pairs = ((0, 0), (0, 1), (1, 1))
    wanted = (e_ee, e_er, e_rr)
    drawn = [0, 0, 0]
    sizes = list(wanted)
    src, dst = np.empty(0, dtype=itype), np.empty(0, dtype=itype)
    for _ in range(TOP_UP_ROUNDS):
        at = len(src)
        src = np.concatenate([src, np.empty(sum(sizes), dtype=itype)])
        dst = np.concatenate([dst, np.empty(sum(sizes), dtype=itype)])
        for block, (a, b) in enumerate(pairs):
            _draw(tables[a], sizes[block], rng, src[at:at + sizes[block]])
            _draw(tables[b], sizes[block], rng, dst[at:at + sizes[block]])
            at += sizes[block]
            drawn[block] += sizes[block]
        indptr, indices = csr_from_edges(n, src, dst)
        kept = _block_edges(indptr, indices, m)
        # Draw each block's shortfall again, inflated by the share of its draws lost so far.
        sizes = [0 if k == 0 or want - k <= TOP_UP_TOLERANCE * want else math.ceil((want - k) * d / k)
                 for want, k, d in zip(wanted, kept, drawn, strict=True)]
        if not any(sizes):
            break
    else:
        # Never silently short: a block too dense for its ties fails the run with the numbers. A shortfall
        # within the tie count's own randomness (sd sqrt(want): the counts are mixed Poisson) is no distortion.
        names = ("engaged-engaged", "engaged-rest", "rest-rest")
        short = [f"{name}: {k:,} of {want:,}" for name, want, k in zip(names, wanted, kept, strict=True)
                 if want - k > max(TOP_UP_TOLERANCE * want, math.sqrt(want))]
        if not short:
            return indptr, indices
        raise ValueError(f"the network's blocks could not hold their ties after {TOP_UP_ROUNDS} rounds of draws "
                         f"({'; '.join(short)} ties); lower network.engaged_inside or network.mean_degree, or "
                         "raise population.engaged.share")
    return indptr, indices


def _block_edges(indptr: np.ndarray, indices: np.ndarray, m: int) -> tuple[int, int, int]:
    """Numbers of edges engaged-engaged, engaged-rest and rest-rest (engaged: users 0 .. m-1)."""
    engaged_entries = int(indptr[m])
    inside = int(np.count_nonzero(indices[:engaged_entries] < m))
    across = engaged_entries - inside
    return inside // 2, across, (len(indices) - engaged_entries - across) // 2


def chung_lu(n: int, mean_degree: float, exponent: float, engaged_size: int, engaged_inside: float,
             rng: np.random.Generator) -> Graph:
    """Network kind ``chung_lu``: power-law expected degrees (:func:`power_law_weights`) and an engaged
    community of users ``0 .. engaged_size-1`` with a fraction ``engaged_inside`` of their ties inside it."""
    weights = power_law_weights(n, mean_degree, exponent, rng)
    return _block_graph(n, weights, engaged_size, engaged_inside, rng)


def erdos_renyi(n: int, mean_degree: float, rng: np.random.Generator) -> Graph:
    """Stand-in for ``erdos_renyi`` at large n: every user's expected degree is ``mean_degree`` and pairs
    are linked independently (Poisson degrees, as in G(n, p) for large n)."""
    return _block_graph(n, np.full(n, float(mean_degree)), 0, 0.0, rng)


def sbm(n: int, mean_degree: float, engaged_size: int, engaged_inside: float,
        rng: np.random.Generator) -> Graph:
    """Stand-in for ``sbm`` at large n: two blocks as in the networkx builder (engaged users 0 .. m-1 with a
    fraction ``engaged_inside`` of their ties inside), Poisson degrees with mean ``mean_degree``."""
    return _block_graph(n, np.full(n, float(mean_degree)), engaged_size, engaged_inside, rng)


def watts_strogatz(n: int, half_degree: int, rewire_prob: float, rng: np.random.Generator) -> Graph:
    """Stand-in for ``watts_strogatz`` at large n: a ring where each user is linked to the ``half_degree``
    next users, each link's far end moved to a uniformly drawn user with probability ``rewire_prob``.
    Unlike networkx, a rewiring that hits a self-loop or an existing link is dropped rather than redrawn."""
    itype = index_dtype(n)
    total = n * half_degree
    src = np.empty(total, dtype=itype)
    dst = np.empty(total, dtype=itype)
    for start in range(0, total, DRAW_CHUNK):
        stop = min(start + DRAW_CHUNK, total)
        e = np.arange(start, stop, dtype=np.int64)
        node, offset = np.divmod(e, half_degree)
        far = (node + offset + 1) % n
        moved = rng.random(stop - start) < rewire_prob
        far[moved] = rng.integers(0, n, int(moved.sum()))
        src[start:stop] = node
        dst[start:stop] = far
    return csr_from_edges(n, src, dst)
