"""Social graphs: every kind builds a valid, seeded CSR with the requested mean degree and engaged community;
the compiled builders (sim/largegraph.py) and the packed neighbour counts (sim/counts.py) agree with plain
references."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from conftest import small_scenario

from sim import blockmodel, counts, largegraph, network
from sim.config import ConfigError
from sim.network import SocialGraph, build_graph

GENERATED = ("watts_strogatz", "barabasi_albert", "powerlaw_cluster", "sbm", "erdos_renyi", "chung_lu")


def graph_of(kind: str, n: int = 1000, seed: int = 0, **net: object) -> SocialGraph:
    overrides = {"network.kind": kind, "population.n": n, **({} if kind == "complete" else {"network.mean_degree": 10}),
                 **net}
    return build_graph(small_scenario(overrides), np.random.default_rng(seed))


def assert_valid_csr(g: SocialGraph) -> None:
    """Sorted rows without repeats (no multi-edges), no self-loops, symmetric, int32 indices."""
    assert g.indices.dtype == np.int32 and g.indptr.dtype == np.int64
    assert g.indptr[0] == 0 and g.indptr[-1] == len(g.indices) and (np.diff(g.indptr) >= 0).all()
    rows = np.repeat(np.arange(g.n), np.diff(g.indptr))
    assert (rows != g.indices).all(), "self-loop"
    same_row = rows[1:] == rows[:-1]
    assert (g.indices[1:][same_row] > g.indices[:-1][same_row]).all(), "unsorted row or multi-edge"
    a = g.adjacency()
    assert (a != a.T).nnz == 0, "not symmetric"


def engaged_inside_share(g: SocialGraph) -> float:
    """Share of the engaged users' ties that go to engaged users."""
    a = g.adjacency()
    e = g.engaged
    return a[e][:, e].sum() / a[e].sum()


@pytest.mark.parametrize("kind", [*GENERATED, "complete"])
def test_every_kind_builds_a_valid_symmetric_csr(kind):
    g = graph_of(kind, n=300)
    assert g.n == 300 and not g.complete
    assert_valid_csr(g)


@pytest.mark.parametrize("kind", GENERATED)
def test_the_seed_fixes_the_graph(kind):
    a, b, c = graph_of(kind, seed=1), graph_of(kind, seed=1), graph_of(kind, seed=2)
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert not (np.array_equal(a.indptr, c.indptr) and np.array_equal(a.indices, c.indices))


@pytest.mark.parametrize(("kind", "tolerance"), [("watts_strogatz", 0.0), ("barabasi_albert", 0.02),
                                                 ("powerlaw_cluster", 0.02), ("sbm", 0.05),
                                                 ("erdos_renyi", 0.05), ("chung_lu", 0.02)])
def test_mean_degree_is_the_requested_one(kind, tolerance):
    g = graph_of(kind, n=4000)
    assert np.diff(g.indptr).mean() == pytest.approx(10, rel=tolerance, abs=0)


@pytest.mark.parametrize("kind", ["sbm", "chung_lu"])
def test_engaged_community_is_the_first_users_with_the_requested_inside_share(kind):
    g = graph_of(kind, n=4000, **{"population.engaged.share": 0.1, "network.engaged_inside": 0.7})
    assert g.engaged.dtype == bool and g.engaged[:400].all() and not g.engaged[400:].any()
    assert engaged_inside_share(g) == pytest.approx(0.7, abs=0.03)


def test_chung_lu_without_engaged_users_and_with_everyone_engaged():
    g = graph_of("chung_lu", **{"population.engaged.share": 0.0})
    assert not g.engaged.any()
    assert_valid_csr(g)
    g = graph_of("chung_lu", **{"population.engaged.share": 1.0})
    assert g.engaged.all()
    assert np.diff(g.indptr).mean() == pytest.approx(10, rel=0.02)


def test_chung_lu_degrees_are_heavy_tailed_with_the_requested_exponent():
    n, d = 200_000, 12.0
    w = largegraph.power_law_weights(n, d, 2.5, np.random.default_rng(3))
    assert w.mean() == pytest.approx(d, rel=1e-6)
    assert w.max() <= np.sqrt(n * d) + 1e-9
    # Hill estimate of the tail exponent gamma - 1 over the top 1% (below the cap).
    top = np.sort(w)[-n // 100:]
    top = top[top < np.sqrt(n * d)]
    alpha = 1 / np.mean(np.log(top / top[0]))
    assert alpha == pytest.approx(1.5, abs=0.15)
    g = graph_of("chung_lu", n=20_000, **{"network.exponent": 2.5})
    deg = np.diff(g.indptr)
    assert deg.max() > 20 * deg.mean()
    assert graph_of("chung_lu", n=20_000, **{"network.exponent": 4.0}).degree.max() < deg.max()


def test_large_complete_graph_stays_implicit():
    g = graph_of("complete", n=network.MAX_COMPLETE_GRAPH_NODES + 1, **{"experiment.engine": "array"})
    assert g.complete and len(g.indices) == 0
    assert (g.degree == g.n - 1).all()
    x = np.random.default_rng(0).random((g.n, 2)) < 0.3
    np.testing.assert_array_equal(g.neighbour_counts(x), x.sum(axis=0) - x)


@pytest.mark.parametrize("kind", ["erdos_renyi", "sbm", "watts_strogatz"])
def test_numpy_stand_ins_above_the_large_graph_size(kind, monkeypatch):
    monkeypatch.setattr(network, "LARGE_GRAPH_NODES", 1000)
    net = {"population.engaged.share": 0.1, "network.engaged_inside": 0.6}
    g, again = graph_of(kind, n=5000, seed=4, **net), graph_of(kind, n=5000, seed=4, **net)
    assert_valid_csr(g)
    np.testing.assert_array_equal(g.indices, again.indices)
    assert np.diff(g.indptr).mean() == pytest.approx(10, rel=0.02)
    clustering = nx.average_clustering(g.to_networkx())
    if kind == "watts_strogatz":
        assert clustering > 0.4  # the ring's triangles survive 10% rewiring
    else:
        assert clustering < 0.02
    if kind == "sbm":
        assert g.engaged[:500].all() and engaged_inside_share(g) == pytest.approx(0.6, abs=0.03)
    else:
        assert g.engaged is None


def test_sbm_needs_two_users_in_each_block():
    with pytest.raises(ConfigError, match="needs at least 2 users in the engaged community and 2 outside it"):
        graph_of("sbm", n=100, **{"population.engaged.share": 0.0})


# ---------------------------------------------------------------------------------------------------------
# Graph files
# ---------------------------------------------------------------------------------------------------------

def build_file_graph(path, n) -> SocialGraph:
    s = small_scenario({"network.kind": "file", "network.file": path.name, "population.n": n},
                       base_dir=path.parent)
    return build_graph(s, np.random.default_rng(0))


@pytest.mark.parametrize("suffix", [".txt", ".csv", ".graphml", ".gml"])
def test_graph_files_are_read_in_node_order(tmp_path, suffix):
    ref = nx.connected_watts_strogatz_graph(50, 4, 0.5, seed=1)  # no isolated nodes: an edge list has none
    path = tmp_path / f"g{suffix}"
    match suffix:
        case ".txt":
            nx.write_edgelist(ref, path, data=False)
        case ".csv":
            path.write_text("\n".join(f"{u},{v}" for u, v in ref.edges()) + "\n")
        case ".graphml":
            nx.write_graphml(ref, path)
        case ".gml":
            nx.write_gml(ref, path)
    ordered = nx.relabel_nodes(ref, {v: i for i, v in enumerate(sorted(ref))})
    if suffix in (".txt", ".csv"):  # an edge list lists nodes in order of first appearance
        order = list(dict.fromkeys(v for e in ref.edges() for v in e))
        ordered = nx.relabel_nodes(ref, {v: i for i, v in enumerate(order)})
    g = build_file_graph(path, ordered.number_of_nodes())
    assert_valid_csr(g)
    assert sorted(map(sorted, g.to_networkx().edges())) == sorted(map(sorted, ordered.edges()))


def test_graph_file_with_another_number_of_users_is_a_clear_config_error(tmp_path):
    path = tmp_path / "g.txt"
    nx.write_edgelist(nx.path_graph(40), path, data=False)
    with pytest.raises(ConfigError, match=r"has 40 users, population.n is 300; set population.n = 40"):
        build_file_graph(path, 300)


def test_missing_or_malformed_graph_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="graph file not found"):
        build_file_graph(tmp_path / "nope.txt", 40)
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><not closed")
    with pytest.raises(ConfigError, match=r"cannot read .*bad.graphml as graphml"):
        build_file_graph(bad, 40)


# ---------------------------------------------------------------------------------------------------------
# The CSR builder and the packed counts
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 200])
def test_csr_from_edges_drops_self_loops_and_multi_edges(n):
    rng = np.random.default_rng(5)
    src = rng.integers(0, n, 3000).astype(np.int32)
    dst = rng.integers(0, n, 3000).astype(np.int32)
    ref = nx.Graph()
    ref.add_nodes_from(range(n))
    ref.add_edges_from((u, v) for u, v in zip(src.tolist(), dst.tolist(), strict=True) if u != v)
    expected = network.from_networkx(ref)
    indptr, indices = largegraph.csr_from_edges(n, src, dst)
    np.testing.assert_array_equal(indptr, expected.indptr)
    np.testing.assert_array_equal(indices, expected.indices)


def test_csr_from_no_edges_is_empty():
    indptr, indices = largegraph.csr_from_edges(5, np.zeros(0, np.int32), np.zeros(0, np.int32))
    assert indptr.tolist() == [0] * 6 and len(indices) == 0


def star_and_isolated(n: int = 400) -> SocialGraph:
    """A hub linked to 300 users, a sparse random graph among the rest, and some isolated users."""
    g = nx.star_graph(300)
    g.add_nodes_from(range(301, n))
    rng = np.random.default_rng(2)
    g.add_edges_from(rng.integers(1, 380, (600, 2)).tolist())
    g.remove_edges_from(nx.selfloop_edges(g))
    return network.from_networkx(g)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n_flags", [1, 4, 16])
def test_contact_counts_match_the_adjacency_matrix_after_full_and_incremental_updates(n_flags, threads,
                                                                                      monkeypatch):
    monkeypatch.setattr(counts, "COUNT_BLOCK_ENTRIES", 64)  # many blocks
    g = star_and_isolated()
    a = g.adjacency()
    counter = counts.ContactCounts(g.indptr, g.indices, n_flags, threads=threads)
    assert counter.contacts.words.shape[0] == (1 if n_flags < 16 else 3)  # max degree 300+: 9-bit fields
    rng = np.random.default_rng(1)
    flags = rng.random((g.n, n_flags)) < 0.4
    for share in (1.0, 0.3, 0.01, 0.0, 0.5):  # full counts and incremental updates
        flip = rng.random((g.n, n_flags)) < share
        flags = flags ^ flip
        counter.update(counter.encode([flags[:, f] for f in range(n_flags)]))
        expected = a @ flags.astype(np.int64)
        for f in range(n_flags):
            np.testing.assert_array_equal(counter.count(f), expected[:, f])
            assert all(counts.contact_count(counter.contacts, i, f) == expected[i, f] for i in (0, 5, 300, 399))


def test_contact_counts_update_only_around_changed_users_below_the_share(monkeypatch):
    g = star_and_isolated()
    counter = counts.ContactCounts(g.indptr, g.indices, 2)
    x = np.zeros((g.n, 2), dtype=bool)
    counter.update(counter.encode([x[:, 0], x[:, 1]]))
    calls = []
    monkeypatch.setattr(counter, "_count_all", lambda codes: calls.append(codes))
    x[350, 0] = True  # one user with few contacts: an incremental update
    counter.update(counter.encode([x[:, 0], x[:, 1]]))
    assert not calls
    np.testing.assert_array_equal(counter.count(0), g.adjacency() @ x[:, 0].astype(np.int64))
    x[:, 1] = True    # everyone: all entries, above the quarter share: a full count
    counter.update(counter.encode([x[:, 0], x[:, 1]]))
    assert len(calls) == 1


def test_contact_counts_of_a_complete_graph_are_the_totals_less_the_user():
    x = np.random.default_rng(3).random((70, 3)) < 0.5
    counter = counts.ContactCounts(np.zeros(71, np.int64), np.zeros(0, np.int32), 3, complete=True, n=70)
    counter.update(counter.encode([x[:, k] for k in range(3)]))
    expected = x.sum(axis=0) - x
    np.testing.assert_array_equal(np.stack([counter.count(k) for k in range(3)], axis=1), expected)


def test_the_graph_method_counts_the_same():
    g = star_and_isolated()
    x = np.random.default_rng(3).random((g.n, 3)) < 0.5
    np.testing.assert_array_equal(g.neighbour_counts(x), g.adjacency() @ x.astype(np.int64))


def test_contact_counts_reject_more_than_16_flags():
    g = star_and_isolated()
    with pytest.raises(ValueError, match="1 to 16 flags"):
        counts.ContactCounts(g.indptr, g.indices, 17)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("sizes", "p"), [
    ([30, 70], [[0.3, 0.05], [0.05, 0.1]]),
    ([200, 3000], [[0.05, 0.001], [0.001, 0.004]]),  # the second block's set does not iterate in order
    ([5, 5], [[1.0, 0.0], [0.0, 0.5]]),
    ([1, 40], [[0.5, 0.2], [0.2, 0.3]]),  # no pairs inside the first block, still one draw
    ([100, 150, 60], [[0.1, 0.01, 0.02], [0.01, 0.2, 0.0], [0.02, 0.0, 0.05]]),
])
def test_linear_time_block_model_is_networkx_edge_for_edge(sizes, p, seed):
    want = nx.stochastic_block_model(sizes, p, seed=seed, sparse=True)
    got = blockmodel.stochastic_block_model(sizes, p, seed)
    assert list(got.nodes(data=True)) == list(want.nodes(data=True))
    assert list(got.edges()) == list(want.edges())
    assert all(list(got.adj[v]) == list(want.adj[v]) for v in want)


def test_pair_unranking_matches_itertools_and_holds_for_huge_blocks():
    for k in (2, 3, 7, 50):
        pairs = list(itertools.combinations(range(k), 2))
        a, b = blockmodel._unrank_pairs(np.arange(len(pairs)), k)
        assert list(zip(a.tolist(), b.tolist(), strict=True)) == pairs
    k = 3_000_000  # row boundaries of a huge block, where float64 rounding of the square root would bite
    rows = np.random.default_rng(0).integers(1, k - 1, 100_000)
    starts = blockmodel._row_start(rows, k)
    pos = np.concatenate([starts, starts - 1, [0, k * (k - 1) // 2 - 1]])
    a, b = blockmodel._unrank_pairs(pos, k)
    assert (blockmodel._row_start(a, k) <= pos).all() and (blockmodel._row_start(a + 1, k) > pos).all()
    assert ((a < b) & (b < k)).all()
