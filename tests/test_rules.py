"""The per-user rules (sim/rules.py) against hand-computed cases (docs/MODEL.md, 7).

Every case gives the user contacts on every platform and uses distinct values for every weight and rate
(lam, lam_drop and lam_exit differ; b_net, b_pull, b_appeal, b_priv and b_push differ), so a swapped rate,
a dropped term or a term from the wrong platform changes an answer. Decisions are checked at the exact
probability: a uniform just below ``rate * sigma(x / tau)`` acts and one just above does not.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import rules
from sim.config import Behaviour

INC = 0
EPS = 1e-9

B = Behaviour(b_net=1.1, b_pull=0.6, b_appeal=0.9, b_priv=1.3, b_push=0.8, lam=0.3, lam_drop=0.2, lam_exit=0.1,
              tau=0.1, band=0.07, exit_level=0.35, habit=0.45, bass_p=0.02, bass_q=0.5, mu=0.4, delta=0.03,
              r_base=0.05)
P = rules.parameters(B)
CONCERN, INERTIA, PHI, ALARM = 0.6, 0.25, 0.3, 0.7
TASTE = np.array([0.02, 0.04, -0.03])
EXPOSURE = np.array([0.8, 0.05, 0.4])
APPEAL = np.array([0.0, 0.1, 0.2])
COUNTS = np.array([6, 3, 2])  # of 8 contacts: f = 0.75, 0.375, 0.25
DEGREE = 8
HIGH = 0.99  # a uniform above every rate: nothing happens for that platform

# By hand: perceived risks R = r exposure = 0.56, 0.035, 0.28; b_priv c = 0.78.
V = [0.825 + 0.0 + 0.02 - 0.78 * 0.56,     # V_0 = 0.4082
     0.4125 + 0.09 + 0.04 - 0.78 * 0.035,  # V_1 = 0.5152
     0.275 + 0.18 - 0.03 - 0.78 * 0.28]    # V_2 = 0.2066


def sigma(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def uses(*platforms: int) -> int:
    return sum(1 << k for k in platforms)


def ppm(active: int, primary: int, u: list[float], taste: np.ndarray = TASTE, alarm: float = ALARM,
        disruption: float = 0.0, b: np.ndarray = P) -> tuple[int, int, int]:
    return rules.ppm(b, INC, CONCERN, INERTIA, taste, alarm, EXPOSURE, APPEAL, COUNTS, DEGREE, active, primary,
                     np.array(u), disruption)


# Alarm ---------------------------------------------------------------------------------------------------

def test_alarm_rules_match_their_equations():
    assert rules.alarm_after_news(0.2, 0.5) == pytest.approx(0.6)               # 0.2 + 0.5 * 0.8
    assert rules.alarm_after_calming_news(0.6, 0.25) == pytest.approx(0.45)     # 0.6 * 0.75
    assert rules.word_of_mouth(0.2, 3, 4, 0.4) == pytest.approx(0.44)           # 0.2 + 0.4 * 0.8 * 3/4
    assert rules.forget(0.5, 0.1, 0.1) == pytest.approx(0.46)                   # 0.1 + 0.4 * 0.9


def test_word_of_mouth_needs_contacts_with_fresh_news():
    assert rules.word_of_mouth(0.2, 0, 4, 0.4) == 0.2
    assert rules.word_of_mouth(0.2, 0, 0, 0.4) == 0.2                            # no contacts: g = 0


def test_forgetting_leaves_the_resting_level_alone():
    assert rules.forget(0.03, 0.03, 0.5) == pytest.approx(0.03)


def test_contact_share_of_a_user_without_contacts_is_zero():
    assert rules.contact_share(3, 8) == 0.375
    assert rules.contact_share(1, 4) == 0.25
    assert rules.contact_share(0, 0) == 0.0


def test_logistic_with_zero_temperature_is_a_step():
    assert [rules.logistic(x, 0.0) for x in (-1.0, 0.0, 0.5, 2.0)] == [0.0, 0.5, 1.0, 1.0]
    assert rules.logistic(0.0, 0.1) == 0.5
    assert rules.logistic(0.2, 0.1) == pytest.approx(sigma(2.0))


def test_logistic_far_below_zero_is_zero():
    """Compiled, exp overflows to inf and sigma is 0; plain Python (NUMBA_DISABLE_JIT=1) must agree, not raise."""
    assert rules.logistic(-1.0, 1e-3) == 0.0
    assert rules.logistic(-rules.EXP_MAX, 1.0) > 0.0


def test_chance_is_rate_times_logistic():
    p = 0.3 * sigma(0.5 / 0.2)
    assert rules.chance(p - EPS, 0.3, 0.5, 0.2) and not rules.chance(p + EPS, 0.3, 0.5, 0.2)


def test_an_event_happens_only_for_a_uniform_strictly_below_its_probability():
    assert not rules.chance(0.25, 0.5, 0.0, 0.0)                                # p = 0.5 * 1/2 exactly
    assert rules.chance(0.25 - EPS, 0.5, 0.0, 0.0)
    assert not rules.chance(0.0, 0.5, -1.0, 0.0)                                # p = 0: never, even at u = 0


# Values and the switching gap -------------------------------------------------------------------------

@pytest.mark.parametrize("k", [0, 1, 2])
def test_use_value_weighs_contacts_appeal_taste_and_risk(k):
    v = rules.use_value(P, CONCERN, ALARM, EXPOSURE[k], APPEAL[k], TASTE[k], COUNTS[k], DEGREE)
    assert v == pytest.approx(V[k])


def gap(k: int, primary: int, push: float = 0.0) -> float:
    return rules.switching_gap(P, CONCERN, INERTIA, ALARM, EXPOSURE[primary], EXPOSURE[k], APPEAL[k], TASTE[k],
                               COUNTS[k], DEGREE, push)


def test_switching_gap_weighs_push_pull_appeal_taste_and_inertia():
    # toward rival 1 from the incumbent: push 0.8*0.6*(0.56 - 0.035) = 0.252, pull 0.6*0.375 = 0.225,
    # appeal 0.9*0.1 = 0.09, taste 0.04, minus inertia 0.25
    assert gap(1, INC) == pytest.approx(0.252 + 0.225 + 0.09 + 0.04 - 0.25)
    # toward rival 2 from rival 1: push 0.48*(0.035 - 0.28) = -0.1176, pull 0.15, appeal 0.18, taste -0.03
    assert gap(2, 1) == pytest.approx(-0.1176 + 0.15 + 0.18 - 0.03 - 0.25)
    assert gap(1, INC, push=0.15) == pytest.approx(gap(1, INC) + 0.15)


def test_an_outage_pushes_only_users_whose_primary_is_the_incumbent():
    assert rules.outage_push(0.15, INC, INC) == 0.15
    assert rules.outage_push(0.15, 1, INC) == 0.0


# Adopting, dropping, leaving, returning -------------------------------------------------------------------

GAP_1 = 0.252 + 0.225 + 0.09 + 0.04 - 0.25  # toward rival 1, primary the incumbent


def test_a_rival_is_adopted_with_probability_lam_sigma_gap():
    p = 0.3 * sigma(GAP_1 / 0.1)
    assert ppm(uses(0), 0, [HIGH, p - EPS, HIGH]) == (uses(0, 1), 0, uses(1))   # multi-homes; primary stays
    assert ppm(uses(0), 0, [HIGH, p + EPS, HIGH]) == (uses(0), 0, 0)


def test_an_outage_raises_the_chance_of_adopting():
    p = 0.3 * sigma((GAP_1 + 0.15) / 0.1)
    assert ppm(uses(0), 0, [HIGH, p - EPS, HIGH], disruption=0.15)[0] == uses(0, 1)
    assert ppm(uses(0), 0, [HIGH, p + EPS, HIGH], disruption=0.15)[0] == uses(0)


TASTE_LOW = np.array([0.02, 0.04, -0.3])  # rival 2: gap 0.1344 + 0.15 + 0.18 - 0.3 - 0.25 = -0.0856 < -band
GAP_2_LOW = 0.1344 + 0.15 + 0.18 - 0.3 - 0.25


def test_a_rival_below_the_band_is_dropped_with_probability_lam_drop():
    p = 0.2 * sigma((-0.07 - GAP_2_LOW) / 0.1)
    assert ppm(uses(0, 2), 0, [HIGH, HIGH, p - EPS], taste=TASTE_LOW) == (uses(0), 0, 0)
    assert ppm(uses(0, 2), 0, [HIGH, HIGH, p + EPS], taste=TASTE_LOW) == (uses(0, 2), 0, 0)
    between = (p + 0.3 * sigma((-0.07 - GAP_2_LOW) / 0.1)) / 2   # below lam sigma but above lam_drop sigma
    assert ppm(uses(0, 2), 0, [HIGH, HIGH, between], taste=TASTE_LOW)[0] == uses(0, 2)


def test_two_rivals_can_be_adopted_on_one_day():
    assert ppm(uses(0), 0, [HIGH, 0.0, 0.0]) == (uses(0, 1, 2), 0, uses(1, 2))


def test_two_rivals_can_be_dropped_on_one_day():
    taste = np.array([0.02, -0.5, -0.3])  # gaps -0.183 and -0.0856, both below -band
    assert ppm(uses(0, 1, 2), 0, [HIGH, 0.0, 0.0], taste=taste) == (uses(0), 0, 0)


def test_a_rival_exactly_at_the_edge_of_the_band_is_kept():
    # Binary fractions, so that the gap is -band exactly: no relief (equal exposures), no contacts or appeal on
    # rival 2, taste 0.125 - inertia 0.25 = -0.125 = -band. Dropping would have probability lam_drop / 2.
    b = P.copy()
    b[rules.BAND] = 0.125
    exposure, appeal, counts = np.array([0.5, 0.05, 0.5]), np.array([0.0, 0.1, 0.0]), np.array([6, 3, 0])
    taste = np.array([0.02, 0.04, 0.125])
    new, _, _ = rules.ppm(b, INC, CONCERN, INERTIA, taste, ALARM, exposure, appeal, counts, DEGREE, uses(0, 2), 0,
                          np.array([HIGH, HIGH, 0.0]), 0.0)
    assert new == uses(0, 2)


def test_a_rival_inside_the_band_is_kept_but_would_not_be_adopted():
    taste = np.array([0.02, 0.04, -0.28])  # gap -0.0656: between -band and 0
    assert ppm(uses(0, 2), 0, [HIGH, HIGH, 0.0], taste=taste)[0] == uses(0, 2)   # kept at any u
    p = 0.3 * sigma(-0.0656 / 0.1)                                  # adopted afresh with less than lam / 2
    assert ppm(uses(0), 0, [HIGH, HIGH, p - EPS], taste=taste)[0] == uses(0, 2)
    assert ppm(uses(0), 0, [HIGH, HIGH, p + EPS], taste=taste)[0] == uses(0)


def test_the_primary_rival_is_never_dropped():
    assert ppm(uses(0, 2), 2, [HIGH, HIGH, 0.0], taste=TASTE_LOW)[0] == uses(0, 2)


def test_the_incumbent_is_left_with_probability_lam_exit_only_with_a_rival_in_use():
    p = 0.1 * sigma((0.35 - V[0]) / 0.1)
    assert ppm(uses(0, 1), 1, [p - EPS, HIGH, HIGH]) == (uses(1), 1, 0)
    assert ppm(uses(0, 1), 1, [p + EPS, HIGH, HIGH]) == (uses(0, 1), 1, 0)
    assert ppm(uses(0), 0, [0.0, HIGH, HIGH]) == (uses(0), 0, 0)               # nowhere to go
    between = (p + 0.3 * sigma((0.35 - V[0]) / 0.1)) / 2                         # below a lam-based rate
    assert ppm(uses(0, 1), 1, [between, HIGH, HIGH])[0] == uses(0, 1)


def test_a_user_returns_to_the_incumbent_with_probability_lam_above_exit_level_plus_band():
    p = 0.3 * sigma((V[0] - 0.35 - 0.07) / 0.1)
    assert ppm(uses(1), 1, [p - EPS, HIGH, HIGH]) == (uses(0, 1), 1, uses(0))   # V_1 + habit beats V_0
    assert ppm(uses(1), 1, [p + EPS, HIGH, HIGH]) == (uses(1), 1, 0)


def test_a_user_can_return_to_the_incumbent_and_adopt_a_rival_on_one_day():
    # rival 2 from primary 1: gap -0.1176 + 0.15 + 0.18 - 0.03 - 0.25 = -0.0676; return: V_0 - 0.42 = -0.0118
    assert ppm(uses(1), 1, [0.0, HIGH, 0.0]) == (uses(0, 1, 2), 1, uses(0, 2))


def test_a_user_who_would_end_with_no_platform_keeps_the_primary():
    # leaves the incumbent (u 0.01 < 0.1 sigma(-0.582)) and drops rival 2 (0.01 < 0.2 sigma(0.156)) at once
    assert ppm(uses(0, 2), 0, [0.01, HIGH, 0.01], taste=TASTE_LOW) == (uses(0), 0, 0)


@pytest.mark.parametrize(("habit", "primary", "expected"), [
    (0.45, 0, 0),   # V_0 + 0.45 = 0.8582 > V_1 = 0.5152
    (0.05, 0, 1),   # V_0 + 0.05 = 0.4582 < V_1
    (0.08, 0, 1),   # V_0 + 0.08 = 0.4882 < V_1 < V_0 + 2 * 0.08
    (0.05, 1, 1),   # V_1 + 0.05 > V_0
])
def test_the_primary_is_the_platform_in_use_with_the_best_value_plus_habit(habit, primary, expected):
    b = P.copy()
    b[rules.HABIT] = habit
    assert ppm(uses(0, 1), primary, [HIGH, HIGH, HIGH], b=b)[1] == expected


def test_the_primary_is_the_best_platform_in_use_even_when_every_value_is_negative():
    taste = np.array([-2.0, 0.04, -1.0])  # V_0 + habit = -1.1618, V_2 = -0.7634; rival 1 is not in use
    assert rules.choose_primary(P, 0, CONCERN, ALARM, taste, EXPOSURE, APPEAL, COUNTS, DEGREE, uses(0, 2)) == 2


def test_a_tie_for_the_primary_goes_to_the_first_platform():
    twins = (np.array([0.02, 0.04, 0.04]), np.array([0.8, 0.05, 0.05]), np.array([0.0, 0.1, 0.1]), np.array([6, 3, 3]))
    taste, exposure, appeal, counts = twins                       # rivals 1 and 2 alike; the incumbent not in use
    assert rules.choose_primary(P, 0, CONCERN, ALARM, taste, exposure, appeal, counts, DEGREE, uses(1, 2)) == 1


def test_the_primary_follows_the_use_value_of_a_platform_just_adopted():
    # adopting rival 1 (u = 0) does not make it primary: V_0 + habit > V_1
    assert ppm(uses(0), 0, [HIGH, 0.0, HIGH])[1] == 0
    b = P.copy()
    b[rules.HABIT] = 0.0
    assert ppm(uses(0), 0, [HIGH, 0.0, HIGH], b=b) == (uses(0, 1), 1, uses(1))


SWAP = [1, 0, 2]  # platforms 0 and 1 exchanged: the incumbent becomes platform 1


def swapped(bits: int) -> int:
    return sum(1 << SWAP[k] for k in range(3) if (bits >> k) & 1)


@pytest.mark.parametrize(("active", "primary", "u", "taste"), [
    (uses(0), 0, [HIGH, 0.0, 0.0], TASTE),               # adopts both rivals
    (uses(0, 1), 1, [0.01, HIGH, HIGH], TASTE),          # leaves the incumbent
    (uses(1), 1, [0.0, HIGH, 0.0], TASTE),               # returns to it and adopts rival 2
    (uses(0, 2), 0, [0.01, HIGH, 0.01], TASTE_LOW),      # would end with no platform: keeps the incumbent
])
def test_the_rules_do_not_depend_on_the_incumbent_being_the_first_platform(active, primary, u, taste):
    new, new_primary, adopted = ppm(active, primary, u, taste=taste)
    per_platform = [np.empty(3) for _ in range(4)]
    for swapped_array, array in zip(per_platform, (taste, EXPOSURE, APPEAL, u), strict=True):
        swapped_array[SWAP] = array
    taste_s, exposure_s, appeal_s, u_s = per_platform
    counts_s = np.empty(3, dtype=np.int64)
    counts_s[SWAP] = COUNTS
    got = rules.ppm(P, 1, CONCERN, INERTIA, taste_s, ALARM, exposure_s, appeal_s, counts_s, DEGREE, swapped(active),
                    SWAP[primary], u_s, 0.0)
    assert got == (swapped(new), SWAP[new_primary], swapped(adopted))


# Threshold and Bass -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("phi", "adopts"), [(0.375, True), (0.3750001, False), (0.0, True)])
def test_threshold_rule_is_an_exact_step_on_the_contact_share(phi, adopts):
    new, primary, adopted = rules.threshold(INC, phi, COUNTS, DEGREE, uses(0, 2), 0)
    assert (new == uses(0, 1, 2)) is adopts and (adopted == uses(1)) is adopts and primary == 0


def test_threshold_rule_never_drops_and_ignores_the_incumbent():
    assert rules.threshold(INC, 0.9, COUNTS, DEGREE, uses(1, 2), 1) == (uses(1, 2), 1, 0)


def test_threshold_rule_adopts_every_rival_at_or_above_the_threshold_at_once():
    assert rules.threshold(INC, 0.25, COUNTS, DEGREE, uses(0), 0) == (uses(0, 1, 2), 0, uses(1, 2))


def test_bass_hazard_is_one_minus_exp_of_p_plus_q_f():
    hazard = 1 - math.exp(-(0.02 + 0.5 * 0.375))
    assert rules.bass(P, INC, COUNTS, DEGREE, uses(0, 2), 0, np.array([0.0, hazard - EPS, 0.0])) == (
        uses(0, 1, 2), 0, uses(1))
    assert rules.bass(P, INC, COUNTS, DEGREE, uses(0, 2), 0, np.array([0.0, hazard + EPS, 0.0])) == (
        uses(0, 2), 0, 0)


def test_bass_rule_adopts_several_rivals_at_once_and_nothing_without_p_and_q():
    assert rules.bass(P, INC, COUNTS, DEGREE, uses(0), 0, np.zeros(3)) == (uses(0, 1, 2), 0, uses(1, 2))
    b = P.copy()
    b[[rules.BASS_P, rules.BASS_Q]] = 0.0
    assert rules.bass(b, INC, COUNTS, DEGREE, uses(0), 0, np.zeros(3)) == (uses(0), 0, 0)   # hazard 0, u = 0


def test_decide_applies_the_configured_rule():
    u = np.array([HIGH, 0.0, HIGH])
    args = (P, INC, CONCERN, INERTIA, 0.5, TASTE, ALARM, EXPOSURE, APPEAL, COUNTS, DEGREE, uses(0), 0, u, 0.0)
    assert rules.decide(rules.PPM, *args) == ppm(uses(0), 0, list(u))
    assert rules.decide(rules.THRESHOLD, *args) == (uses(0), 0, 0)              # phi 0.5 > f_1, f_2
    assert rules.decide(rules.BASS, *args) == (uses(0, 1), 0, uses(1))          # u = 0 < any hazard


@pytest.mark.parametrize("rule", [rules.THRESHOLD, rules.BASS])
def test_the_variant_rules_never_adopt_the_incumbent(rule):
    # a user off the incumbent, 6 of 8 contacts on it, u = 0 for it: phi 0.5 <= f_0, any hazard > 0
    u = np.array([0.0, HIGH, HIGH])
    args = (P, INC, CONCERN, INERTIA, 0.5, TASTE, ALARM, EXPOSURE, APPEAL, COUNTS, DEGREE, uses(1), 1, u, 0.0)
    assert rules.decide(rule, *args) == (uses(1), 1, 0)


# One user's day -------------------------------------------------------------------------------------------

def test_daily_alarm_spreads_word_of_mouth_then_forgets():
    # word of mouth: 0.7 + 0.4 * 0.3 * 2/8 = 0.73; forgetting toward 0.05 * 0.6 = 0.03: 0.03 + 0.7 * 0.97
    r, s = rules.daily_alarm(P, CONCERN, ALARM, 0.0, 2, DEGREE)
    assert r == pytest.approx(0.03 + 0.70 * 0.97) and s == 0.0                  # salience 0: one alarm


def test_daily_alarm_splits_word_of_mouth_between_slow_alarm_and_fast_salience():
    b = P.copy()
    b[[rules.SALIENCE, rules.SALIENCE_DECAY]] = 0.25, 0.4
    r, s = rules.daily_alarm(b, CONCERN, ALARM, 0.2, 2, DEGREE)
    # alarm: 0.7 + 0.4 * 0.75 * 0.3 * 2/8 = 0.7225, forgotten toward 0.03: 0.03 + 0.6925 * 0.97
    # salience: 0.2 + 0.4 * 0.25 * 0.8 * 2/8 = 0.22, forgotten toward 0 at 0.4: 0.132
    assert (r, s) == (pytest.approx(0.03 + 0.6925 * 0.97), pytest.approx(0.22 * 0.6))


def test_daily_alarm_hears_from_its_listeners_not_its_contacts():
    # with word of mouth from the whole population: 3 fresh of 12 listeners, g = 1/4
    r, _ = rules.daily_alarm(P, CONCERN, ALARM, 0.0, 3, 12)
    assert r == pytest.approx(0.03 + (0.7 + 0.4 * 0.3 * 0.25 - 0.03) * 0.97)


def test_effective_alarm_is_either_alone_and_at_most_one():
    assert rules.effective_alarm(0.3, 0.0) == 0.3 and rules.effective_alarm(0.0, 0.4) == 0.4
    assert rules.effective_alarm(0.5, 0.4) == pytest.approx(0.7)
    assert rules.effective_alarm(1.0, 0.9) == pytest.approx(1.0) and rules.effective_alarm(1.0, 0.9) <= 1.0


def test_decide_passes_the_users_threshold_to_the_threshold_rule():
    for phi, expected in ((0.375, uses(0, 1)), (0.4, uses(0))):                 # f_1 = 0.375, f_2 = 0.25
        new, primary, adopted = rules.decide(rules.THRESHOLD, P, INC, CONCERN, INERTIA, phi, TASTE, ALARM,
                                             EXPOSURE, APPEAL, COUNTS, DEGREE, uses(0), 0, np.full(3, HIGH), 0.0)
        assert (new, primary, adopted) == (expected, 0, expected & ~uses(0))


# Skipping the decisions that can change nothing ---------------------------------------------------------

LAM = B.lam  # 0.3


def test_a_user_on_its_primary_alone_with_no_other_draw_below_lam_keeps_its_platforms():
    assert rules.keeps_platforms(rules.PPM, P, np.array([0.0, LAM, HIGH]), uses(0), 0)   # its own draw: no matter
    assert rules.keeps_platforms(rules.PPM, P, np.array([LAM, 0.0, LAM]), uses(1), 1)


@pytest.mark.parametrize("u, active, primary", [
    ([HIGH, LAM - EPS, HIGH], uses(0), 0),   # might adopt rival 1
    ([HIGH, HIGH, LAM - EPS], uses(0), 0),   # might adopt rival 2
    ([LAM - EPS, HIGH, HIGH], uses(1), 1),   # might return to the incumbent
    ([HIGH, HIGH, HIGH], uses(0, 1), 0),     # two platforms: might choose another primary
    ([HIGH, HIGH, HIGH], uses(0, 1), 1),
])
def test_a_user_who_might_adopt_return_or_choose_another_primary_decides(u, active, primary):
    assert not rules.keeps_platforms(rules.PPM, P, np.array(u), active, primary)


def test_the_threshold_and_bass_rules_decide_for_every_user():
    for rule in (rules.THRESHOLD, rules.BASS):
        assert not rules.keeps_platforms(rule, P, np.full(3, HIGH), uses(0), 0)


# Properties over random users -----------------------------------------------------------------------------

@st.composite
def users(draw):
    k = draw(st.integers(2, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    degree = int(rng.integers(0, 9))
    active = rng.random(k) < 0.5
    active[rng.integers(0, k)] = True
    primary = int(rng.choice(np.flatnonzero(active)))
    return dict(concern=rng.random(), inertia=rng.random() * 0.5, taste=rng.normal(0, 0.1, k),
                alarm=rng.random(), exposure=rng.random(k), appeal=rng.normal(0, 0.1, k),
                counts=np.minimum(rng.integers(0, 9, k), degree), degree=degree,
                uses=uses(*np.flatnonzero(active)), primary=primary, u=rng.random(k),
                disruption=float(rng.random() < 0.2))


@settings(max_examples=200, deadline=None)
@given(users(), st.floats(0.0, 0.2))
def test_every_user_keeps_one_primary_within_the_platforms_in_use(x, tau):
    b = rules.parameters(Behaviour(tau=tau, lam_exit=1.0, exit_level=5.0, lam_drop=1.0))
    new, primary, adopted = rules.ppm(b, INC, x["concern"], x["inertia"], x["taste"], x["alarm"], x["exposure"],
                                      x["appeal"], x["counts"], x["degree"], x["uses"], x["primary"], x["u"],
                                      x["disruption"])
    assert new != 0 and (new >> primary) & 1
    assert adopted & x["uses"] == 0 and adopted & ~new == 0       # adopted: newly in use


@settings(max_examples=300, deadline=None)
@given(users(), st.sampled_from([0.0, 0.05, 0.3, 1.0]))
def test_a_user_said_to_keep_its_platforms_keeps_them_whatever_the_rest_of_its_inputs(x, lam):
    """What ``keeps_platforms`` skips, ``decide`` would not have changed: the same platforms and primary,
    nothing adopted (lam_drop and lam_exit at 1: they must not matter either)."""
    b = rules.parameters(Behaviour(lam=lam, lam_drop=1.0, lam_exit=1.0, tau=0.1))
    if rules.keeps_platforms(rules.PPM, b, x["u"], x["uses"], x["primary"]):
        got = rules.decide(rules.PPM, b, INC, x["concern"], x["inertia"], PHI, x["taste"], x["alarm"], x["exposure"],
                           x["appeal"], x["counts"], x["degree"], x["uses"], x["primary"], x["u"], x["disruption"])
        assert got == (x["uses"], x["primary"], 0)


@settings(max_examples=300, deadline=None)
@given(users(), st.sampled_from([0.0, 0.05, 0.3]), st.floats(0.0, 1.0), st.integers(0, 8),
       st.sampled_from([rules.PPM, rules.THRESHOLD, rules.BASS]))
def test_user_day_is_the_alarm_of_the_day_then_the_decisions_from_the_effective_alarm(x, lam, salience, fresh,
                                                                                      rule):
    b = rules.parameters(Behaviour(lam=lam, lam_drop=0.4, lam_exit=0.2, tau=0.1, salience=0.3,
                                   salience_decay=0.2))
    k = len(x["taste"])
    platforms = np.array([x["exposure"], x["appeal"]])
    u = np.vstack([np.zeros(k), x["u"]])                                       # row 1 is this user's
    listeners = max(x["degree"], fresh)
    got = rules.user_day(rule, b, platforms, INC, x["concern"], x["inertia"], PHI, x["taste"], x["counts"],
                         x["degree"], x["alarm"], salience, fresh, listeners, x["uses"], x["primary"], u, 1,
                         x["disruption"])
    r, s = rules.daily_alarm(b, x["concern"], x["alarm"], salience, fresh, listeners)
    decided = rules.decide(rule, b, INC, x["concern"], x["inertia"], PHI, x["taste"], rules.effective_alarm(r, s),
                           x["exposure"], x["appeal"], x["counts"], x["degree"], x["uses"], x["primary"], x["u"],
                           x["disruption"])
    assert got == (r, s, *decided)


@settings(max_examples=200, deadline=None)
@given(users())
def test_a_uniform_above_every_rate_changes_no_platform(x):
    b = rules.parameters(Behaviour(lam=0.2, lam_drop=0.1, lam_exit=0.05))
    u = np.full(len(x["taste"]), 0.2)
    new, _, adopted = rules.ppm(b, INC, x["concern"], x["inertia"], x["taste"], x["alarm"], x["exposure"],
                                x["appeal"], x["counts"], x["degree"], x["uses"], x["primary"], u, x["disruption"])
    assert new == x["uses"] and adopted == 0
