"""Seeded social graphs and the CSR view both engines read.

Every generator takes a ``numpy.random.Generator`` derived from the run seed, so the seed fixes the network.
Nodes are always ``0 .. n-1``; a graph read from a file is relabelled in the file's node order.

Kind ``chung_lu`` is built in numpy (:mod:`sim.largegraph`) at any size. Above :data:`LARGE_GRAPH_NODES`
users, ``erdos_renyi``, ``sbm`` and ``watts_strogatz`` are built by numpy stand-ins of the same family
instead of networkx (docs/PERFORMANCE.md lists the differences); the other kinds always use networkx.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp

from sim import blockmodel, graphfile, largegraph
from sim.config import Network, Scenario
from sim.counts import ContactCounts

__all__ = ["LARGE_GRAPH_NODES", "MAX_COMPLETE_GRAPH_NODES", "SocialGraph", "build_graph", "build_networkx",
           "from_networkx"]

#: Above this size a complete graph is not materialised: the array engine uses the exact mean-field counts.
MAX_COMPLETE_GRAPH_NODES = 2000
#: Above this size erdos_renyi, sbm and watts_strogatz graphs are built in numpy (networkx would need
#: minutes and gigabytes).
LARGE_GRAPH_NODES = 500_000


@dataclass(frozen=True)
class SocialGraph:
    """An undirected graph as CSR arrays (``indptr``, ``indices``), with optional engaged community.

    ``complete`` graphs may have no stored edges (``indices`` empty): neighbour counts are then computed as
    column totals minus the user's own state, which is exactly what the full adjacency would give.
    """

    n: int
    indptr: np.ndarray
    indices: np.ndarray
    engaged: np.ndarray | None = None
    complete: bool = False

    @property
    def degree(self) -> np.ndarray:
        if self.complete:
            return np.full(self.n, self.n - 1, dtype=np.int64)
        return np.diff(self.indptr)

    @property
    def n_edges(self) -> int:
        return self.n * (self.n - 1) // 2 if self.complete else len(self.indices) // 2

    def adjacency(self) -> sp.csr_array:
        """The 0/1 adjacency matrix (int32), built on demand."""
        data = np.ones(len(self.indices), dtype=np.int32)
        return sp.csr_array((data, self.indices, self.indptr), shape=(self.n, self.n))

    def neighbour_counts(self, x: np.ndarray) -> np.ndarray:
        """For a 0/1 matrix ``x`` (n, K): the number of each user's contacts with x = 1, per column (int64).

        One-off counts; the array engine keeps a :class:`~sim.counts.ContactCounts` up to date instead."""
        counter = ContactCounts(self.indptr, self.indices, x.shape[1], complete=self.complete, n=self.n)
        counter.update(counter.encode([x[:, k].astype(bool) for k in range(x.shape[1])]))
        return np.stack([counter.count(k) for k in range(x.shape[1])], axis=1).astype(np.int64)

    def neighbours(self, i: int) -> np.ndarray:
        if self.complete:
            return np.delete(np.arange(self.n), i)
        return self.indices[self.indptr[i]:self.indptr[i + 1]]

    def to_networkx(self) -> nx.Graph:
        """The same graph as networkx (for the Mesa engine and drawing)."""
        if self.complete:
            return nx.complete_graph(self.n)
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        rows = np.repeat(np.arange(self.n), np.diff(self.indptr))
        mask = rows < self.indices
        g.add_edges_from(zip(rows[mask].tolist(), self.indices[mask].tolist(), strict=True))
        return g


def from_networkx(g: nx.Graph, engaged: np.ndarray | None = None) -> SocialGraph:
    """CSR view of a networkx graph with nodes ``0 .. n-1`` (self-loops and edge weights ignored)."""
    n = g.number_of_nodes()
    g = nx.Graph(g)
    g.remove_edges_from(nx.selfloop_edges(g))
    a = nx.to_scipy_sparse_array(g, nodelist=range(n), weight=None, format="csr", dtype=np.int8)
    a.sort_indices()
    return SocialGraph(n=n, indptr=a.indptr.astype(np.int64),
                       indices=a.indices.astype(largegraph.index_dtype(n)), engaged=engaged)


def _engaged_size(scenario: Scenario) -> int:
    return round(scenario.population.engaged.share * scenario.population.n)


def _first(n: int, m: int) -> np.ndarray:
    """The engaged community of the block generators: users 0 .. m-1."""
    engaged = np.zeros(n, dtype=bool)
    engaged[:m] = True
    return engaged


def _sbm_blocks(net: Network, n: int, m: int) -> tuple[list[int], list[list[float]]]:
    """Two blocks, engaged (size m) and the rest, with mean degree ~``mean_degree`` for everyone and a
    fraction ``engaged_inside`` of each engaged user's ties inside the engaged block: sizes and
    probabilities."""
    d = net.mean_degree
    # The config's checks (sim.config.validation) keep each of these in [0, 1]: nothing is capped here.
    p_in = d * net.engaged_inside / (m - 1)
    p_out = d * (1 - net.engaged_inside) / (n - m)
    p_rest = (d - m * p_out) / (n - m - 1)
    return [m, n - m], [[p_in, p_out], [p_out, p_rest]]


def _sbm(scenario: Scenario, rng: np.random.Generator) -> SocialGraph:
    """The two-block graph ``networkx.stochastic_block_model`` gives for the seed, edge for edge, built in
    linear time straight into CSR (:mod:`sim.blockmodel`)."""
    n, m = scenario.population.n, _engaged_size(scenario)
    seed = int(rng.integers(2**32))  # the draw build_networkx makes
    _, u, v = blockmodel.block_model_edges(*_sbm_blocks(scenario.network, n, m), seed)
    indptr, indices = largegraph.csr_from_edges(n, u, v)
    return SocialGraph(n=n, indptr=indptr, indices=indices, engaged=_first(n, m))


def _half_degree(scenario: Scenario) -> int:
    """Links each user adds in the ring and growth generators: mean degree / 2 (the config's checks make it a
    whole number)."""
    return int(scenario.network.mean_degree) // 2


def build_networkx(scenario: Scenario, rng: np.random.Generator) -> tuple[nx.Graph, np.ndarray | None]:
    """The scenario's graph from the networkx generators, seeded by ``rng``; also the engaged community where
    the generator has one (sbm), else None. Kind ``chung_lu`` is built in numpy and converted. (Above
    LARGE_GRAPH_NODES users :func:`build_graph` uses numpy stand-ins for some kinds instead.)"""
    net, n = scenario.network, scenario.population.n
    if net.kind == "chung_lu":
        g = build_graph(scenario, rng)
        return g.to_networkx(), g.engaged
    seed = int(rng.integers(2**32))
    d = net.mean_degree
    m = _half_degree(scenario)
    match net.kind:
        case "watts_strogatz":
            return nx.watts_strogatz_graph(n, 2 * m, net.rewire_prob, seed=seed), None
        case "barabasi_albert":
            return nx.barabasi_albert_graph(n, m, seed=seed), None
        case "powerlaw_cluster":
            return nx.powerlaw_cluster_graph(n, m, net.triangle_prob, seed=seed), None
        case "erdos_renyi":
            return nx.fast_gnp_random_graph(n, d / (n - 1), seed=seed), None
        case "sbm":
            m = _engaged_size(scenario)
            return (blockmodel.stochastic_block_model(*_sbm_blocks(net, n, m), seed), _first(n, m))
        case "complete":
            return nx.complete_graph(n), None
        case "file":
            return graphfile.read_graph(Path(scenario.base_dir) / net.file,
                                        f"key 'network.file' in {scenario.source}"), None
    raise AssertionError(net.kind)  # the config validator admits only the kinds above


def _build_numpy(scenario: Scenario, rng: np.random.Generator) -> SocialGraph:
    """Kinds built directly as CSR: chung_lu at any size, the stand-ins above LARGE_GRAPH_NODES."""
    net, n = scenario.network, scenario.population.n
    m = _engaged_size(scenario)
    engaged = None
    match net.kind:
        case "chung_lu":
            indptr, indices = largegraph.chung_lu(n, net.mean_degree, net.exponent, m, net.engaged_inside,
                                                  rng)
            engaged = _first(n, m)
        case "sbm":
            indptr, indices = largegraph.sbm(n, net.mean_degree, m, net.engaged_inside, rng)
            engaged = _first(n, m)
        case "erdos_renyi":
            indptr, indices = largegraph.erdos_renyi(n, net.mean_degree, rng)
        case "watts_strogatz":
            indptr, indices = largegraph.watts_strogatz(n, _half_degree(scenario), net.rewire_prob, rng)
        case _:
            raise AssertionError(net.kind)  # build_graph routes only the kinds above here
    return SocialGraph(n=n, indptr=indptr, indices=indices, engaged=engaged)


def build_graph(scenario: Scenario, rng: np.random.Generator) -> SocialGraph:
    """The scenario's graph in CSR form. A large complete graph is kept implicit (mean field)."""
    kind, n = scenario.network.kind, scenario.population.n
    if kind == "complete" and n > MAX_COMPLETE_GRAPH_NODES:
        return SocialGraph(n=n, indptr=np.zeros(n + 1, dtype=np.int64), indices=np.zeros(0, dtype=np.int32),
                           complete=True)
    if kind == "chung_lu" or (kind in ("erdos_renyi", "sbm", "watts_strogatz") and n > LARGE_GRAPH_NODES):
        return _build_numpy(scenario, rng)
    if kind == "sbm":
        return _sbm(scenario, rng)
    g, engaged = build_networkx(scenario, rng)
    return from_networkx(g, engaged)
