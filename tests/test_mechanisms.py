"""Mechanisms of the day on small hand-made worlds: word of mouth on both engines, and the array engine's
compiled loops over users (sim/loops.py) against the rules they call (docs/MODEL.md 3, 7.2 and 9).

The loops are checked by building each user's inputs independently (contacts counted from the adjacency
matrix, fresh news from ``heard``) and calling the rules on them (:func:`oracle_day`: ``rules.daily_alarm``,
then ``rules.decide`` for every user): the loops must give every user exactly that, whichever users they skip
the decisions of and however they cut the users into chunks, touch no user outside their block, and keep the
observation counts and the bookkeeping of platforms ever used and adoption events in step.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from conftest import small_scenario

from sim import ArrayModel, MessengerModel, loops, metrics, rules
from sim.config import Behaviour
from sim.counts import ContactCounts
from sim.network import SocialGraph, from_networkx
from sim.population import Traits, UserState

# ---------------------------------------------------------------------------------------------------------
# Word of mouth (MODEL.md 7.2), on both engines
# ---------------------------------------------------------------------------------------------------------

MU, DELTA, R_BASE, BUZZ_DAYS = 0.4, 0.1, 0.05, 2


def two_cliques() -> SocialGraph:
    """Users 0-3 and 4-9 all know each other within their group; 3 and 4 know each other too."""
    g = nx.disjoint_union(nx.complete_graph(4), nx.complete_graph(6))
    g.add_edge(3, 4)
    return from_networkx(g)


# Only users 0 and 1 hear the news: 2 of the 10 users, but 1 of 3 contacts of user 0 and of user 1, 2 of 3 of
# user 2, 2 of 4 of user 3 and none of anyone else's.
HEARERS = np.array([True, True] + [False] * 8)
SHARE_OF_CONTACTS = np.array([1 / 3, 1 / 3, 2 / 3, 2 / 4, 0, 0, 0, 0, 0, 0])


def forget(r: np.ndarray, concern: np.ndarray) -> np.ndarray:
    rest = R_BASE * concern
    return rest + (r - rest) * (1 - DELTA)


@pytest.mark.parametrize("engine", [ArrayModel, MessengerModel])
def test_word_of_mouth_spreads_by_the_share_of_a_users_own_contacts_who_heard_the_news(engine):
    s = small_scenario({"population.n": 10, "behaviour.mu": MU, "behaviour.delta": DELTA,
                        "behaviour.r_base": R_BASE, "behaviour.buzz_days": BUZZ_DAYS})
    model = engine(s, rng=1, graph=two_cliques())
    concern = model.traits.concern
    r = model.user_state().alarm.copy()
    model.raise_alarm(HEARERS, 0.5, 1)
    r = np.where(HEARERS, r + 0.5 * (1 - r), r)
    for day, fresh in ((1, True), (2, True), (3, False)):   # fresh news for buzz_days = 2 days
        model.step()
        if fresh:
            r = r + MU * (1 - r) * SHARE_OF_CONTACTS
        r = forget(r, concern)
        np.testing.assert_allclose(model.user_state().alarm, r, rtol=1e-13, err_msg=f"day {day}")


# ---------------------------------------------------------------------------------------------------------
# The array engine's loops (sim/loops.py)
# ---------------------------------------------------------------------------------------------------------

def test_block_bounds_cut_the_users_into_blocks_of_the_given_size():
    assert loops.block_bounds(10, 4).tolist() == [0, 4, 8, 10]
    assert loops.block_bounds(10).tolist() == [0, 10]                         # BLOCK_USERS by default
    assert loops.block_bounds(0, 4).tolist() == [0]
    assert loops.block_bounds(10, 4).dtype == np.int64


K, INC, DAY = 3, 0, 5
#: Six users: edges, and each user's platforms, primary, day it last heard news and platforms ever used.
EDGES = [(0, 1), (0, 2), (0, 3), (0, 4), (1, 2), (2, 3), (3, 4), (4, 5), (1, 5)]
USES = np.array([0b001, 0b011, 0b011, 0b111, 0b010, 0b101], dtype=np.uint8)
PRIMARY = np.array([0, 0, 0, 0, 1, 2], dtype=np.int8)
HEARD = np.array([-100, DAY, 3, DAY - 1, 0, DAY - 2], dtype=np.int32)          # fresh for 2 days: users 1, 3
EVER = np.array([0b011, 0b011, 0b111, 0b111, 0b011, 0b101], dtype=np.uint8)          # user 0 left rival 1
B = rules.parameters(Behaviour(b_net=1.1, b_pull=0.6, b_appeal=0.9, b_priv=1.3, b_push=0.8, lam=0.3,
                               lam_drop=0.2, lam_exit=0.1, tau=0.1, band=0.07, exit_level=0.35, habit=0.45,
                               mu=0.4, delta=0.03, r_base=0.05))
PLATFORMS = np.array([[0.8, 0.05, 0.4], [0.0, 0.1, 0.2]])                       # exposure, appeal
TASTE = np.array([[0.0, 0.1, 0.0],
                  [0.0, 0.0, 0.0],
                  [0.0, 2.0, 0.0],      # user 2: rival 1 worth more than the incumbent plus habit
                  [0.0, 0.0, -1.0],     # user 3: rival 2 far below the band
                  [0.0, 0.0, 0.0],
                  [0.0, 0.0, 0.0]])
TRAITS = Traits(engaged=np.zeros(6, bool), concern=np.array([0.6, 0.2, 0.9, 0.5, 0.7, 0.3]),
                attention=np.ones(6), inertia=np.array([0.25, 0.1, 0.3, 0.2, 0.15, 0.35]),
                threshold=np.array([0.25, 0.5, 0.3, 0.5, 0.5, 0.6]), taste=TASTE)
#: The day's uniforms: 0 makes every act with a positive probability happen, HIGH none.
HIGH = 0.99
U = np.full((6, K), HIGH)
U[0, 1] = 0.0    # user 0 adopts rival 1
U[3, 2] = 0.0    # user 3 drops rival 2
U[4, 0] = 0.0    # user 4 returns to the incumbent
U[5, 1] = 0.0    # user 5 adopts rival 1


def oracle_day(rule, b, i, counts, degree, alarm, salience, fresh, listeners):
    """User i's day by the rules: word of mouth and forgetting, then the decisions from its effective alarm
    (every user decides here: none is skipped)."""
    r, s = rules.daily_alarm(b, TRAITS.concern[i], alarm, salience, fresh, listeners)
    return (r, s, *rules.decide(rule, b, INC, TRAITS.concern[i], TRAITS.inertia[i], TRAITS.threshold[i], TASTE[i],
                                rules.effective_alarm(r, s), PLATFORMS[0], PLATFORMS[1], counts, degree,
                                int(USES[i]), int(PRIMARY[i]), U[i], 0.0))


class Day:
    """The inputs and outputs of one run of the day loops over the six users, with ``heard`` and ``uses``
    encoded for the contact counts first."""

    def __init__(self, rule: int) -> None:
        g = from_networkx(nx.Graph(EDGES))
        self.rule = rule
        self.counter = ContactCounts(g.indptr, g.indices, 1 + K)
        self.codes = np.zeros(6, dtype=np.uint8)
        loops.encode_block(0, 6, DAY, BUZZ_DAYS, HEARD, USES, self.codes)
        self.counter.update(self.codes)
        self.adjacency = g.adjacency().toarray()
        self.alarm = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
        self.salience = np.empty(0)  # not kept (behaviour.salience = 0)
        self.fresh_total = -1        # word of mouth from contacts
        self.uses, self.primary = USES.copy(), PRIMARY.copy()
        self.next_uses = np.full(6, 99, dtype=np.uint8)
        self.next_primary = np.full(6, 99, dtype=np.int8)
        self.ever = EVER.copy()
        self.adoptions = np.array([[1, 2, 0], [0, 2, 0], [3, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 4]], np.uint16)

    def args(self) -> tuple:
        return (self.rule, B, PLATFORMS, INC, TRAITS, self.alarm, self.salience, self.uses, self.primary,
                self.counter.contacts, U, 0.0, self.fresh_total, self.codes, self.next_uses, self.next_primary,
                self.ever, self.adoptions)

    def run_block(self, lo: int, hi: int, chunk: int = 6) -> np.ndarray:
        change = np.zeros(4 * K + 4, dtype=np.int64)
        loops.day_block(lo, hi, *self.args(), np.zeros(K, dtype=np.int64), change, np.empty(chunk, np.int64))
        return change

    def expected(self, i: int) -> tuple[float, int, int, int]:
        """User i's day by the rules, from its contacts counted on the adjacency matrix."""
        active = (USES[:, None] >> np.arange(K)) & 1
        fresh = DAY - HEARD < BUZZ_DAYS
        row = self.adjacency[i]
        return oracle_day(self.rule, B, i, row @ active, row.sum(), self.alarm[i], 0.0, int(row @ fresh), row.sum())


def test_codes_flag_fresh_news_in_bit_0_and_each_platform_in_use_above_it():
    codes = np.full(6, 99, dtype=np.uint8)
    loops.encode_block(1, 5, DAY, BUZZ_DAYS, HEARD, USES, codes)
    # users 1-4: heard on days 5, 3, 4, 0 (fresh: day - heard < 2), on platforms 011, 011, 111, 010
    assert codes.tolist() == [99, 0b0111, 0b0110, 0b1111, 0b0100, 99]


def test_codes_of_blocks_on_all_threads_are_those_of_one_block():
    serial, blocks = np.zeros(6, dtype=np.uint8), np.zeros(6, dtype=np.uint8)
    loops.encode_block(0, 6, DAY, BUZZ_DAYS, HEARD, USES, serial)
    loops.encode_blocks(np.array([0, 4, 6]), DAY, BUZZ_DAYS, HEARD, USES, blocks)
    np.testing.assert_array_equal(blocks, serial)


@pytest.mark.parametrize("rule", [rules.PPM, rules.THRESHOLD])
def test_each_users_day_is_the_rules_day_from_its_contacts_counted_this_morning(rule):
    day = Day(rule)
    expected = [day.expected(i) for i in range(6)]
    alarm_before = day.alarm.copy()
    day.run_block(1, 5)
    for i in range(1, 5):
        r, _, uses, primary, _ = expected[i]
        assert (day.alarm[i], day.next_uses[i], day.next_primary[i]) == (r, uses, primary), f"user {i}"
    untouched = [0, 5]                                                        # outside the block
    np.testing.assert_array_equal(day.alarm[untouched], alarm_before[untouched])
    assert day.next_uses[untouched].tolist() == [99, 99] and day.next_primary[untouched].tolist() == [99, 99]


@pytest.mark.parametrize("chunk", [1, 2, 4, 6])
def test_users_whose_decisions_can_change_nothing_are_skipped_with_the_same_day_in_any_chunks(chunk):
    quiet = U.copy()
    quiet[0] = [0.0, HIGH, HIGH]  # user 0, on the incumbent alone: only its own platform's draw is below lam
    quiet[4] = HIGH               # user 4, on rival 1 alone: no draw below lam
    globals()["U"], before = quiet, U
    try:
        day = Day(rules.PPM)
        expected = [day.expected(i) for i in range(6)]
        state = metrics.count_state(UserState(USES, PRIMARY, day.alarm, HEARD, EVER, day.adoptions.copy()), INC)
        adoptions = day.adoptions.copy()
        change = day.run_block(0, 6, chunk)
        skipped = [rules.keeps_platforms(rules.PPM, B, quiet[i], int(USES[i]), int(PRIMARY[i])) for i in range(6)]
    finally:
        globals()["U"] = before
    assert skipped == [True, False, False, False, True, False]
    for i, (r, _, uses, primary, adopted) in enumerate(expected):
        assert (day.alarm[i], day.next_uses[i], day.next_primary[i]) == (r, uses, primary), f"user {i}"
        np.testing.assert_array_equal(day.adoptions[i], adoptions[i] + ((adopted >> np.arange(K)) & 1))
    assert [e[2] for e in expected] == [0b001, 0b011, 0b011, 0b011, 0b010, 0b111]  # 0 and 4 keep theirs
    after = metrics.count_state(UserState(day.next_uses, day.next_primary, day.alarm, HEARD, day.ever,
                                          day.adoptions), INC)
    np.testing.assert_array_equal(change, after - state)


def test_alarming_news_raises_only_its_hearers_salience():
    salience = np.array([0.1, 0.5, 0.0, 0.2])
    loops.hear_salient_news(np.array([True, False, True, False]), 0.4, salience)
    np.testing.assert_allclose(salience, [0.1 + 0.4 * 0.9, 0.5, 0.4, 0.2], rtol=1e-15)


def test_a_world_of_one_user_keeps_its_salience():
    """Salience is kept when its array has one entry per user, even a single one: it decays, and the user's
    decisions see it (a draw just below the adoption probability from alarm and salience together adopts)."""
    b = B.copy()
    b[[rules.SALIENCE, rules.SALIENCE_DECAY]] = 0.3, 0.25
    alone = ContactCounts(np.zeros(2, np.int64), np.zeros(0, np.int32), 1 + K)
    codes = np.zeros(1, np.uint8)
    alone.update(codes)
    alarm, salience = np.array([0.5]), np.array([0.8])
    r = rules.forget(0.5, B[rules.R_BASE] * TRAITS.concern[0], B[rules.DELTA])
    s = 0.8 * 0.75
    gap = rules.switching_gap(b, TRAITS.concern[0], TRAITS.inertia[0], rules.effective_alarm(r, s), PLATFORMS[0, 0],
                              PLATFORMS[0, 1], PLATFORMS[1, 1], TASTE[0, 1], 0, 0, 0.0)
    u = np.array([[HIGH, b[rules.LAM] * rules.logistic(gap, b[rules.TAU]) - 1e-9, HIGH]])
    next_uses, next_primary = np.zeros(1, np.uint8), np.zeros(1, np.int8)
    loops.day_block(0, 1, rules.PPM, b, PLATFORMS, INC, TRAITS, alarm, salience, np.array([1], np.uint8),
                    np.array([0], np.int8), alone.contacts, u, 0.0, -1, codes, next_uses, next_primary,
                    np.array([1], np.uint8), np.zeros((1, K), np.uint16), np.zeros(K, np.int64),
                    np.zeros(4 * K + 4, np.int64), np.empty(1, np.int64))
    assert (alarm[0], salience[0]) == (pytest.approx(r), pytest.approx(s))
    assert next_uses.tolist() == [0b011]                                       # adopted rival 1


def test_the_loop_keeps_each_users_salience_when_the_scenario_splits_news_between_alarm_and_salience():
    day = Day(rules.PPM)
    day.salience = np.array([0.0, 0.5, 0.1, 0.9, 0.3, 0.2])
    before = day.salience.copy()
    b = B.copy()
    b[[rules.SALIENCE, rules.SALIENCE_DECAY]] = 0.3, 0.25
    active = (USES[:, None] >> np.arange(K)) & 1
    fresh = DAY - HEARD < BUZZ_DAYS
    expected = []
    for i in range(6):
        row = day.adjacency[i]
        expected.append(oracle_day(rules.PPM, b, i, row @ active, row.sum(), day.alarm[i], before[i],
                                 int(row @ fresh), row.sum()))
    args = list(day.args())
    args[1] = b
    loops.day_block(0, 6, *args, np.zeros(K, dtype=np.int64), np.zeros(4 * K + 4, dtype=np.int64),
                    np.empty(6, np.int64))
    assert day.salience.tolist() == [e[1] for e in expected]
    assert day.alarm.tolist() == [e[0] for e in expected]
    assert (day.salience != before).any() and (day.salience < before).any()     # word of mouth and decay


def test_the_threshold_rule_adopts_by_the_share_of_contacts_on_each_platform():
    day = Day(rules.THRESHOLD)
    day.run_block(0, 6)
    # Rival 1 is used by users 1-4, rival 2 by users 3 and 5. Share of contacts on the rival a user lacks:
    # user 0 (phi 0.25, contacts 1-4): 4/4 on rival 1, 1/4 on rival 2 -> adopts both (1/4 >= 0.25);
    # user 1 (phi 0.5, contacts 0, 2, 5): 1/3 on rival 2 -> no; user 2 (phi 0.3, contacts 0, 1, 3): 1/3 -> yes;
    # user 4 (phi 0.5, contacts 0, 3, 5): 2/3 on rival 2 -> yes, the incumbent is never adopted;
    # user 5 (phi 0.6, contacts 1, 4): 2/2 on rival 1 -> yes (1/2 of them carry fresh news: not a count of it).
    assert day.next_uses.tolist() == [0b111, 0b011, 0b111, 0b111, 0b110, 0b111]


def test_the_day_keeps_the_observation_counts_platforms_ever_used_and_adoption_events_in_step():
    day = Day(rules.PPM)
    expected = [day.expected(i) for i in range(6)]
    before = metrics.count_state(UserState(USES, PRIMARY, day.alarm, HEARD, EVER, day.adoptions.copy()), INC)
    adoptions_before = day.adoptions.copy()
    change = day.run_block(0, 6)
    new_uses = np.array([e[2] for e in expected], dtype=np.uint8)
    adopted = np.array([e[4] for e in expected])
    # each kind of change happens: adoptions that bring a new primary (0, 5), a drop (3), a return to the
    # incumbent (4), a new primary alone (2)
    assert adopted.tolist() == [0b010, 0, 0, 0, 0b001, 0b010]
    assert new_uses.tolist() == [0b011, 0b011, 0b011, 0b011, 0b011, 0b111]
    assert [e[3] for e in expected] == [1, 0, 1, 0, 1, 1]
    np.testing.assert_array_equal(day.ever, EVER | new_uses)                  # user 3 has still used rival 2
    np.testing.assert_array_equal(day.adoptions, adoptions_before + ((adopted[:, None] >> np.arange(K)) & 1))
    after = metrics.count_state(UserState(day.next_uses, day.next_primary, day.alarm, HEARD, day.ever,
                                          day.adoptions), INC)
    np.testing.assert_array_equal(change, after - before)


def test_blocks_on_all_threads_give_what_one_block_gives():
    serial, blocks = Day(rules.PPM), Day(rules.PPM)
    change = serial.run_block(0, 6)
    bounds = np.array([0, 2, 3, 6])
    changes = np.zeros((3, 4 * K + 4), dtype=np.int64)
    loops.day_blocks(bounds, *blocks.args(), np.zeros((3, K), dtype=np.int64), changes, np.empty((3, 2), np.int64))
    for name in ("alarm", "next_uses", "next_primary", "ever", "adoptions"):
        np.testing.assert_array_equal(getattr(blocks, name), getattr(serial, name), err_msg=name)
    np.testing.assert_array_equal(changes.sum(axis=0), change)


def test_word_of_mouth_from_the_whole_population_counts_every_other_fresh_carrier():
    """The mean-field null model: a user hears from the fresh-news carriers among all the n - 1 others, its
    contacts or not (here users 1 and 3 carry fresh news: heard on days 5 and 4, day 6, buzz 2 days)."""
    day = Day(rules.PPM)
    fresh = (DAY - HEARD < BUZZ_DAYS).astype(int)
    day.fresh_total = int(fresh.sum())
    before = day.alarm.copy()
    day.run_block(0, 6)
    mu = B[rules.MU]
    for i in range(6):
        g = (day.fresh_total - fresh[i]) / 5
        expected = rules.forget(before[i] + mu * (1 - before[i]) * g, B[rules.R_BASE] * TRAITS.concern[i],
                                B[rules.DELTA])
        assert day.alarm[i] == pytest.approx(expected), f"user {i}"
    assert fresh.tolist() == [0, 1, 0, 1, 0, 0]
