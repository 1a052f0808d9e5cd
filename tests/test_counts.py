"""The packed neighbour counts (sim/counts.py) on small hand-made graphs: how they are laid out, not only what
they count (tests/test_network.py checks the counts against the adjacency matrix on a larger graph)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from sim import counts, network


def test_row_blocks_hold_at_most_the_given_entries_and_a_larger_row_alone():
    degrees = [2, 3, 1, 5, 1, 1]
    indptr = np.concatenate([[0], np.cumsum(degrees)])          # 0 2 5 6 11 12 13
    # At most 4 entries: row 0 (2; with row 1 it would be 5), rows 1-2 (exactly 4), row 3 alone (5), rows 4-5.
    bounds = counts.row_blocks(indptr, 4)
    assert bounds.tolist() == [0, 1, 3, 4, 6]
    assert bounds.dtype == np.int64


def path(n: int) -> network.SocialGraph:
    return network.from_networkx(nx.path_graph(n))


def test_a_block_of_rows_is_counted_without_touching_the_other_rows():
    g = path(4)
    counter = counts.ContactCounts(g.indptr, g.indices, 1)
    words = np.full_like(counter.contacts.words, 99)
    codes = np.ones(4, dtype=np.uint8)                            # everyone has the flag
    counts._count_rows(1, 3, g.indptr, g.indices, codes, counter.lut, words)
    assert words.tolist() == [[99, 2, 2, 99]]


def test_degrees_are_those_of_the_graph_as_int32():
    g = network.from_networkx(nx.star_graph(3))                  # hub 0 and three leaves
    assert counts.ContactCounts(g.indptr, g.indices, 2).degree.tolist() == [3, 1, 1, 1]
    complete = counts.ContactCounts(np.zeros(6, np.int64), np.zeros(0, np.int32), 2, complete=True, n=5)
    assert complete.degree.tolist() == [4] * 5
    assert counts.ContactCounts(g.indptr, g.indices, 2).degree.dtype == complete.degree.dtype == np.int32


def test_a_complete_graph_needs_no_stored_rows():
    counter = counts.ContactCounts(np.zeros(1, np.int64), np.zeros(0, np.int32), 1, complete=True, n=5)
    counter.update(counter.encode([np.array([True, True, False, False, True])]))
    assert counter.count(0).tolist() == [2, 2, 3, 3, 2]


def test_a_graph_without_users_has_nothing_to_count():
    counter = counts.ContactCounts(np.zeros(1, np.int64), np.zeros(0, np.int32), 2)
    counter.update(counter.encode([np.zeros(0, bool), np.zeros(0, bool)]))
    assert counter.count(1).tolist() == []


def test_fields_never_spill_out_of_their_word():
    # A hub with 20 contacts: 5-bit fields, 12 to a 64-bit word (a 13th would need bits 60-64). Every contact
    # has every flag, so the hub counts 20 of each, the last flag in the second word.
    g = network.from_networkx(nx.star_graph(20))
    counter = counts.ContactCounts(g.indptr, g.indices, 13)
    counter.update(counter.encode([np.ones(21, bool)] * 13))
    assert counter.contacts.words.shape[0] == 2
    assert [int(counter.count(f)[0]) for f in range(13)] == [20] * 13


@pytest.mark.parametrize(("n_flags", "dtype"), [(8, np.uint8), (9, np.uint16)])
def test_codes_take_one_byte_up_to_eight_flags_and_two_above(n_flags, dtype):
    g = path(3)
    counter = counts.ContactCounts(g.indptr, g.indices, n_flags)
    last = np.array([True, False, True])                         # only the last flag: the middle user counts 2
    codes = counter.encode([np.zeros(3, bool)] * (n_flags - 1) + [last])
    assert codes.dtype == dtype
    counter.update(codes)
    assert counter.count(n_flags - 1).tolist() == [0, 2, 0]
    assert counter.count(n_flags - 1).dtype == np.int32


N_LONG = (1 << 16) + 100  # two blocks of users for finding the changed ones (2^16 users each)


def long_path() -> sp.csr_array:
    """The adjacency of a path over N_LONG users."""
    return sp.csr_array(sp.diags([np.ones(N_LONG - 1), np.ones(N_LONG - 1)], [-1, 1], dtype=np.int64))


def counter_of(a: sp.csr_array, threads: int) -> counts.ContactCounts:
    counter = counts.ContactCounts(a.indptr.astype(np.int64), a.indices.astype(np.int32), 1, threads=threads)
    counter.update(counter.encode([np.zeros(N_LONG, bool)]))
    return counter


CHANGED = [0, 10, 11, N_LONG - 90, N_LONG - 1]  # three in the first block, two in the second


@pytest.mark.parametrize("threads", [1, 2])
def test_the_changed_users_are_found_in_order_with_the_entries_of_their_rows(threads):
    counter = counter_of(long_path(), threads)
    flag = np.zeros(N_LONG, bool)
    flag[CHANGED] = True
    codes = counter.encode([flag])
    tallies = counter._tally(codes)
    assert counter._changed_users(codes, tallies).tolist() == CHANGED
    assert tallies[:, 0].sum() == len(CHANGED)
    assert tallies[:, 1].sum() == 1 + 2 + 2 + 2 + 1                      # the ends of the path have one contact


def test_incremental_updates_on_two_threads_span_several_blocks_of_users():
    a = long_path()
    counter = counter_of(a, 2)
    flag = np.zeros(N_LONG, bool)
    flag[CHANGED] = True
    counter.update(counter.encode([flag]))
    np.testing.assert_array_equal(counter.count(0), a @ flag.astype(np.int64))


@pytest.mark.parametrize("threads", [1, 2])
def test_a_full_count_sums_rows_across_chunks_of_running_totals(threads):
    """Rows that cross a chunk of RUN_ENTRIES entries, a hub row longer than a chunk, and rows without
    entries at the start, in the middle and at the end: each user's count is its row of the adjacency matrix
    times the flags, for two flags."""
    n = 3 * counts.RUN_ENTRIES
    rng = np.random.default_rng(5)
    g = nx.gnm_random_graph(n, 4 * n, seed=7)
    g.remove_edges_from(list(g.edges(0)) + list(g.edges(n // 2)) + list(g.edges(n - 1)))   # three isolated
    g.add_edges_from((1, v) for v in range(2, counts.RUN_ENTRIES + 500))                  # a hub of > a chunk
    sg = network.from_networkx(g)
    counter = counts.ContactCounts(sg.indptr, sg.indices, 2, threads=threads)
    flags = [rng.random(n) < 0.3, rng.random(n) < 0.6]
    counter.update(counter.encode(flags))
    a = sg.adjacency()
    assert counter.degree[[0, n // 2, n - 1]].tolist() == [0, 0, 0] and counter.degree[1] > counts.RUN_ENTRIES
    for f in (0, 1):
        np.testing.assert_array_equal(counter.count(f), a @ flags[f].astype(np.int64))


def test_rows_without_entries_count_nothing_whatever_their_words_held():
    indptr, indices = np.zeros(4, np.int64), np.zeros(0, np.int32)
    counter = counts.ContactCounts(indptr, indices, 1)
    words = np.full((1, 3), 99, np.uint64)
    counts._count_rows(0, 3, indptr, indices, np.ones(3, np.uint8), counter.lut, words)
    assert words.tolist() == [[0, 0, 0]]


def test_a_change_next_to_where_two_threads_split_the_users_is_counted_once():
    a = long_path()
    counter = counter_of(a, 2)
    edge = N_LONG // 2                                   # the first user of the second thread's part
    assert np.linspace(0, N_LONG, 3).astype(np.int64)[1] == edge
    flag = np.zeros(N_LONG, bool)
    flag[edge - 1] = True                                # its contacts: edge - 2 and edge
    counter.update(counter.encode([flag]))
    assert counter.count(0)[edge - 2: edge + 1].tolist() == [1, 0, 1]
    np.testing.assert_array_equal(counter.count(0), a @ flag.astype(np.int64))
