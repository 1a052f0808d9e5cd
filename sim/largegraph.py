"""Graphs at population scale built as CSR arrays in numpy, and the array engine's packed neighbour counts.

networkx needs about a kilobyte per edge and Python loops to build a graph, which rules it out beyond ~10^6
users. The generators here draw edges in fixed-size chunks from a seeded ``numpy.random.Generator`` and build
the symmetric CSR (sorted rows, no self-loops, no multi-edges) bucket by bucket, so peak memory stays a small
multiple of the final graph: at 35 million users and mean degree 12, about 6 GB for a graph that keeps 2 GB.

- :func:`chung_lu`: expected degrees from a power law, with an engaged community (network kind ``chung_lu``).
  With equal expected degrees the same generator gives the Poisson-degree stand-ins :func:`erdos_renyi` and
  :func:`sbm` for large ``n``; :func:`watts_strogatz` rewires a ring lattice.
- :class:`PackedCounts`: for every user, the number of contacts with each of a few binary flags (fresh news,
  active on platform k), packed as bit fields of uint64 words. A full count is one gather over the CSR; on
  most days few users change state and only their contacts' counts are updated.

docs/PERFORMANCE.md compares these graphs with the networkx builders and gives the measured costs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np

__all__ = ["MapChunks", "PackedCounts", "chung_lu", "csr_from_edges", "erdos_renyi", "index_dtype",
           "power_law_weights", "row_chunks", "sbm", "serial", "watts_strogatz"]

#: Edges drawn per call of the generator (fixed, so that a seed gives the same graph on every machine).
DRAW_CHUNK = 1 << 22
#: Directed entries sorted at once when building the CSR (a bucket of rows): 2^25 int64 keys are 256 MB.
BUCKET_ENTRIES = 1 << 25
#: Rounds of extra edges drawn to make up for the self-loops and multi-edges removed.
TOP_UP_ROUNDS = 5
#: Relative shortfall of the mean degree that the top-up rounds accept.
TOP_UP_TOLERANCE = 0.005

Graph = tuple[np.ndarray, np.ndarray]  # (indptr int64, indices int32/int64)
#: Runs a function of a row range ``(lo, hi)`` on each range of a list (serially or on a thread pool).
MapChunks = Callable[[Callable[[int, int], None], list[tuple[int, int]]], None]


def index_dtype(n: int) -> type[np.signedinteger]:
    """int32 node indices while they fit (half the memory and bandwidth of int64), else int64."""
    return np.int32 if n < 2**31 else np.int64


def serial(fn: Callable[[int, int], None], chunks: list[tuple[int, int]]) -> None:
    """The :data:`MapChunks` that runs the ranges one after the other in this thread."""
    for lo, hi in chunks:
        fn(lo, hi)


def row_chunks(indptr: np.ndarray, max_entries: int) -> list[tuple[int, int]]:
    """Split rows ``0 .. n-1`` into consecutive ranges of at most ``max_entries`` CSR entries (a single row
    with more gets a range of its own)."""
    n = len(indptr) - 1
    bounds = [0]
    while bounds[-1] < n:
        lo = bounds[-1]
        hi = int(np.searchsorted(indptr, indptr[lo] + max_entries, side="right")) - 1
        bounds.append(min(max(hi, lo + 1), n))
    return list(itertools.pairwise(bounds))


# ---------------------------------------------------------------------------------------------------------
# From an edge list to a symmetric CSR
# ---------------------------------------------------------------------------------------------------------

def csr_from_edges(n: int, src: np.ndarray, dst: np.ndarray, bucket_entries: int = BUCKET_ENTRIES) -> Graph:
    """Symmetric CSR of the undirected graph with edges ``src[e] -- dst[e]``, rows sorted, self-loops and
    multi-edges removed.

    Rows are processed in buckets of about ``bucket_entries`` directed entries: each bucket picks its entries
    out of the edge list, sorts them as ``row * n + col`` keys and drops repeats, so the int64 keys never
    exist for the whole graph at once. The indices array is allocated for every drawn entry and the kept
    ones are a prefix of it (the few dropped entries are not worth a copy of the largest array).
    """
    itype = index_dtype(n)
    raw = np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
    raw_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(raw, out=raw_ptr[1:])
    del raw
    indices = np.empty(int(raw_ptr[-1]), dtype=itype)
    indptr = np.zeros(n + 1, dtype=np.int64)
    filled = 0
    for lo, hi in row_chunks(raw_ptr, bucket_entries):
        keys = np.concatenate([_local_keys(n, src, dst, lo, hi), _local_keys(n, dst, src, lo, hi)])
        keys.sort()
        keep = np.ones(len(keys), dtype=bool)
        keep[1:] = keys[1:] != keys[:-1]
        rows, cols = np.divmod(keys, n)
        keep &= rows + lo != cols
        rows, cols = rows[keep], cols[keep]
        indices[filled:filled + len(cols)] = cols
        filled += len(cols)
        indptr[lo + 1:hi + 1] = np.bincount(rows, minlength=hi - lo)
    np.cumsum(indptr, out=indptr)
    return indptr, indices[:filled]


def _local_keys(n: int, a: np.ndarray, b: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``(a - lo) * n + b`` for the edges with ``lo <= a < hi`` (the entries of rows lo..hi-1), as int64."""
    sel = a >= lo
    sel &= a < hi
    out = a[sel].astype(np.int64)
    out -= lo
    out *= n
    out += b[sel]
    return out


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
    e_rr = max(0, round((s_r - e_er) / 2))
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
    return _block_graph(n, np.full(n, min(mean_degree, n - 1.0)), 0, 0.0, rng)


def sbm(n: int, mean_degree: float, engaged_size: int, engaged_inside: float,
        rng: np.random.Generator) -> Graph:
    """Stand-in for ``sbm`` at large n: two blocks as in the networkx builder (engaged users 0 .. m-1 with a
    fraction ``engaged_inside`` of their ties inside), Poisson degrees with mean ``mean_degree``."""
    return _block_graph(n, np.full(n, min(mean_degree, n - 1.0)), engaged_size, engaged_inside, rng)


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


# ---------------------------------------------------------------------------------------------------------
# Neighbour counts
# ---------------------------------------------------------------------------------------------------------

#: Directed entries per chunk of a full count (the gathered codes and words stay in the caches' reach).
COUNT_CHUNK = 1 << 20
#: Above this share of all entries touched by the users whose flags changed, a full count is cheaper than
#: updating their contacts' counts one entry at a time.
INCREMENTAL_MAX_SHARE = 0.25


class PackedCounts:
    """For each user, how many of its contacts have each of ``n_flags`` binary flags set.

    Each count is a bit field of ``width`` bits (enough for the largest degree) in a uint64 word, so one
    pass over the CSR counts every flag: a user's flags form a small integer code, a lookup table turns a
    code into the word of ones it adds to each field, and a contact's words are summed with
    ``np.add.reduceat``. Fields never carry into each other because no count exceeds the degree. When few
    users' codes changed since the last count, only their contacts' words are updated: adding the
    difference of two words modulo 2^64 is exact, whatever the signs of the fields' changes.

    ``map_chunks`` (optional) maps a function over a list of row ranges (e.g. on a thread pool); the
    ranges write disjoint slices, so the result does not depend on it.
    """

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, n_flags: int,
                 map_chunks: MapChunks | None = None) -> None:
        if not 1 <= n_flags <= 16:
            raise ValueError(f"PackedCounts handles 1 to 16 flags, got {n_flags}")
        self.indptr, self.indices = indptr, indices
        self.n = len(indptr) - 1
        self.degree = np.diff(indptr).astype(np.int32)
        max_degree = int(self.degree.max()) if self.n else 0
        self.width = max(1, max_degree.bit_length())
        per_word = 64 // self.width
        self.n_words = math.ceil(n_flags / per_word)
        self.code_dtype = np.uint8 if n_flags <= 8 else np.uint16
        codes = np.arange(2**n_flags)
        self.lut = np.zeros((self.n_words, 2**n_flags), dtype=np.uint64)
        for flag in range(n_flags):
            word, field = divmod(flag, per_word)
            self.lut[word] += ((codes >> flag) & 1).astype(np.uint64) << np.uint64(field * self.width)
        self.per_word = per_word
        self.words = np.zeros((self.n_words, self.n), dtype=np.uint64)
        self.code: np.ndarray | None = None
        self.chunks = row_chunks(indptr, COUNT_CHUNK)
        self.map_chunks = map_chunks or serial

    def encode(self, flags: Sequence[np.ndarray]) -> np.ndarray:
        """The users' codes: bit f set where ``flags[f]`` (bool over users) is."""
        code = np.zeros(self.n, dtype=self.code_dtype)
        for f, column in enumerate(flags):
            code |= column.astype(self.code_dtype) << self.code_dtype(f)
        return code

    def update(self, flags: Sequence[np.ndarray]) -> None:
        """Count the contacts with each flag set, for flags given as bool arrays over users."""
        code = self.encode(flags)
        if self.code is None:
            self._count_all(code)
        else:
            changed = np.flatnonzero(code != self.code)
            if int(self.degree[changed].sum(dtype=np.int64)) > INCREMENTAL_MAX_SHARE * len(self.indices):
                self._count_all(code)
            else:
                self._count_changes(changed, self.code[changed], code[changed])
        self.code = code

    def counts(self, flag: int, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Users ``lo .. hi-1``'s numbers of contacts with ``flag`` set (int32)."""
        word, field = divmod(flag, self.per_word)
        w = self.words[word, lo:hi] >> np.uint64(field * self.width)
        w &= np.uint64((1 << self.width) - 1)
        return w.astype(np.int32)

    def _count_all(self, code: np.ndarray) -> None:
        def count(lo: int, hi: int) -> None:
            e0, e1 = int(self.indptr[lo]), int(self.indptr[hi])
            out = self.words[:, lo:hi]
            if e0 == e1:
                out[:] = 0
                return
            gathered = code[self.indices[e0:e1]]
            nonempty = self.degree[lo:hi] > 0
            starts = self.indptr[lo:hi][nonempty] - e0
            for word in range(self.n_words):
                # reduceat over the starts of non-empty rows only: a row's segment then ends where the
                # next non-empty row starts, and rows without contacts get 0 instead of a neighbour's word.
                sums = np.add.reduceat(self.lut[word][gathered], starts)
                out[word] = 0
                out[word, nonempty] = sums

        self.map_chunks(count, self.chunks)

    def _count_changes(self, users: np.ndarray, old: np.ndarray, new: np.ndarray) -> None:
        """Add to the contacts of ``users`` the difference their new codes make (batches of bounded size)."""
        for batch in _batches(self.degree[users], COUNT_CHUNK):
            who = users[batch]
            deg = self.degree[who]
            total = int(deg.sum(dtype=np.int64))
            if total == 0:
                continue
            # Entry positions of the users' rows: each row's start, repeated, plus 0 .. deg-1.
            first = np.cumsum(deg, dtype=np.int64) - deg
            pos = np.repeat(self.indptr[who] - first, deg) + np.arange(total, dtype=np.int64)
            contacts = self.indices[pos]
            for word in range(self.n_words):
                delta = self.lut[word][new[batch]] - self.lut[word][old[batch]]  # modulo 2^64
                np.add.at(self.words[word], contacts, np.repeat(delta, deg))


def _batches(sizes: np.ndarray, limit: int) -> Iterator[slice]:
    """Consecutive slices of ``sizes`` whose sums stay near ``limit`` (one item may exceed it alone)."""
    ends = np.cumsum(sizes, dtype=np.int64)
    start = 0
    while start < len(sizes):
        base = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, base + limit, side="right")))
        yield slice(start, stop)
        start = stop
