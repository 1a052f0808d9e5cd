"""Seeded social graphs and the CSR view both engines read.

Every generator takes a ``numpy.random.Generator`` derived from the run seed, so the seed fixes the network.
Nodes are always ``0 .. n-1``; a graph read from a file is relabelled in the file's node order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp

from sim.config import ConfigError, Network, Scenario

__all__ = ["MAX_COMPLETE_GRAPH_NODES", "SocialGraph", "build_graph", "build_networkx", "from_networkx"]

#: Above this size a complete graph is not materialised: the array engine uses the exact mean-field counts.
MAX_COMPLETE_GRAPH_NODES = 2000


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
        """For a 0/1 matrix ``x`` (n, K): the number of each user's contacts with x = 1, per column."""
        xi = x.astype(np.int32)
        if self.complete:
            return xi.sum(axis=0, dtype=np.int64)[None, :] - xi
        return (self._matrix() @ xi).astype(np.int64)

    def _matrix(self) -> sp.csr_array:
        cached = self.__dict__.get("_csr")
        if cached is None:
            cached = self.adjacency()
            object.__setattr__(self, "_csr", cached)
        return cached

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
    index_type = np.int32 if n < 2**31 else np.int64
    return SocialGraph(n=n, indptr=a.indptr.astype(np.int64), indices=a.indices.astype(index_type),
                       engaged=engaged)


def _engaged_size(scenario: Scenario) -> int:
    return round(scenario.population.engaged.share * scenario.population.n)


def _sbm(net: Network, n: int, m: int, seed: int) -> tuple[nx.Graph, np.ndarray]:
    """Two blocks, engaged (size m) and the rest, with mean degree ~``mean_degree`` for everyone and a
    fraction ``engaged_inside`` of each engaged user's ties inside the engaged block."""
    d = net.mean_degree
    if m < 2 or n - m < 2:
        raise ConfigError("network kind 'sbm' needs population.engaged.share to leave at least 2 users in each "
                          f"block (engaged: {m}, rest: {n - m})")
    p_in = min(1.0, d * net.engaged_inside / (m - 1))
    p_out = min(1.0, d * (1 - net.engaged_inside) / (n - m))
    p_rest = min(1.0, max(0.0, d - m * p_out) / (n - m - 1))
    g = nx.stochastic_block_model([m, n - m], [[p_in, p_out], [p_out, p_rest]], seed=seed, sparse=True)
    engaged = np.zeros(n, dtype=bool)
    engaged[:m] = True
    return nx.Graph(g), engaged


def _read_file(net: Network, scenario: Scenario) -> nx.Graph:
    path = Path(scenario.base_dir) / net.file
    if not path.is_file():
        raise ConfigError(f"key 'network.file' in {scenario.source}: graph file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".graphml":
            g = nx.read_graphml(path)
        elif suffix == ".gml":
            g = nx.read_gml(path, label=None)
        else:
            g = nx.read_edgelist(path, comments="#", delimiter="," if suffix == ".csv" else None, data=False)
    except Exception as exc:  # networkx raises many kinds for malformed files
        raise ConfigError(f"key 'network.file' in {scenario.source}: cannot read {path} as "
                          f"{suffix.lstrip('.') or 'edge list'}: {exc}") from None
    g = nx.Graph(g)
    if g.number_of_nodes() != scenario.population.n:
        raise ConfigError(f"key 'network.file' in {scenario.source}: {path} has {g.number_of_nodes()} nodes "
                          f"but population.n = {scenario.population.n}; set population.n = "
                          f"{g.number_of_nodes()}")
    return nx.convert_node_labels_to_integers(g, ordering="default")


def build_networkx(scenario: Scenario, rng: np.random.Generator) -> tuple[nx.Graph, np.ndarray | None]:
    """The scenario's graph as networkx, seeded by ``rng``; also the engaged community where the generator
    has one (sbm), else None."""
    net, n = scenario.network, scenario.population.n
    seed = int(rng.integers(2**32))
    d = net.mean_degree
    m = max(1, round(d / 2))
    where = scenario.source
    if net.kind in ("watts_strogatz", "barabasi_albert", "powerlaw_cluster") and m >= n:
        raise ConfigError(f"key 'network.mean_degree' in {where}: {d} is too large for population.n = {n}")
    match net.kind:
        case "watts_strogatz":
            return nx.watts_strogatz_graph(n, 2 * m, net.rewire_prob, seed=seed), None
        case "barabasi_albert":
            return nx.barabasi_albert_graph(n, m, seed=seed), None
        case "powerlaw_cluster":
            return nx.powerlaw_cluster_graph(n, m, net.triangle_prob, seed=seed), None
        case "erdos_renyi":
            return nx.fast_gnp_random_graph(n, min(1.0, d / max(n - 1, 1)), seed=seed), None
        case "sbm":
            return _sbm(net, n, _engaged_size(scenario), seed)
        case "complete":
            return nx.complete_graph(n), None
        case "file":
            return _read_file(net, scenario), None
    raise AssertionError(net.kind)  # the config validator admits only the kinds above


def build_graph(scenario: Scenario, rng: np.random.Generator) -> SocialGraph:
    """The scenario's graph in CSR form. A large complete graph is kept implicit (mean field)."""
    if scenario.network.kind == "complete" and scenario.population.n > MAX_COMPLETE_GRAPH_NODES:
        n = scenario.population.n
        return SocialGraph(n=n, indptr=np.zeros(n + 1, dtype=np.int64), indices=np.zeros(0, dtype=np.int32),
                           complete=True)
    g, engaged = build_networkx(scenario, rng)
    return from_networkx(g, engaged)
