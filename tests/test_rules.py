"""Decision and alarm kernels against hand-computed cases (docs/MODEL.md, 7)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import rules
from sim.config import Behaviour

INC = 0


def inputs(**kw) -> rules.DecisionInputs:
    """One user, incumbent 0 and one rival 1, everything neutral unless given."""
    base = dict(incumbent=INC, concern=np.array([0.5]), inertia=np.array([0.3]), threshold=np.array([0.5]),
                taste=np.zeros((1, 2)), alarm=np.array([0.0]), exposure=np.array([0.8, 0.1]),
                appeal=np.zeros(2), counts=np.array([[4, 0]]), degree=np.array([4]),
                active=np.array([[True, False]]), primary=np.array([0]), u=np.full((1, 2), 0.5))
    base.update(kw)
    return rules.DecisionInputs(**base)


def test_alarm_kernels_match_their_equations():
    assert rules.alarm_after_news(0.2, 0.5) == pytest.approx(0.2 + 0.5 * 0.8)
    assert rules.alarm_after_calming_news(0.6, 0.25) == pytest.approx(0.45)
    assert rules.word_of_mouth(0.2, 0.5, 0.4) == pytest.approx(0.2 + 0.4 * 0.8 * 0.5)
    assert rules.forget(0.5, 0.1, 0.1) == pytest.approx(0.1 + 0.4 * 0.9)


def test_alarm_kernels_give_the_same_bits_for_floats_and_arrays():
    r = np.array([0.123456789, 0.987654321])
    for i in range(2):
        assert rules.alarm_after_news(float(r[i]), 0.37) == rules.alarm_after_news(r, 0.37)[i]
        assert rules.word_of_mouth(float(r[i]), 3 / 7, 0.41) == rules.word_of_mouth(r, 3 / 7, 0.41)[i]
        assert rules.forget(float(r[i]), 0.013, 0.06) == rules.forget(r, 0.013, 0.06)[i]


def test_logistic_with_zero_temperature_is_a_step():
    np.testing.assert_array_equal(rules.logistic(np.array([-1.0, 0.0, 2.0]), 0.0), [0.0, 0.5, 1.0])
    assert rules.logistic(np.array([0.0]), 0.1)[0] == 0.5


def test_isolated_users_see_no_contacts():
    f = rules.contact_shares(np.array([[0, 0], [2, 1]]), np.array([0, 4]))
    np.testing.assert_array_equal(f, [[0.0, 0.0], [0.5, 0.25]])


@pytest.mark.parametrize(("counts", "phi", "adopts"), [
    ([[4, 2]], 0.5, True),               # f = 2/4 = 0.5 >= 0.5: adopts (exact step at f >= phi)
    ([[4, 2]], 0.5000001, False),        # just above: does not
    ([[3, 1]], 1 / 3, False),            # f = 1/4 < 1/3
    ([[4, 1]], 0.25, True),              # 1/4 is exact in binary
    ([[0, 0]], 0.0, True),               # isolated user with phi = 0: f = 0 >= 0
])
def test_threshold_is_an_exact_step(counts, phi, adopts):
    deg = 0 if counts == [[0, 0]] else 4
    x = inputs(counts=np.array(counts), degree=np.array([deg]), threshold=np.array([phi]))
    active, primary, adopted = rules.threshold(Behaviour(rule="threshold"), x)
    assert bool(active[0, 1]) is adopts and bool(adopted[0, 1]) is adopts
    assert active[0, 0] and primary[0] == 0


def test_threshold_never_drops():
    x = inputs(active=np.array([[True, True]]), counts=np.array([[4, 0]]), threshold=np.array([0.9]))
    active, _, _ = rules.threshold(Behaviour(rule="threshold"), x)
    assert active[0, 1]


def test_bass_hazard_is_one_minus_exp_of_p_plus_q_f():
    b = Behaviour(rule="bass", bass_p=0.01, bass_q=0.4)
    hazard = 1 - np.exp(-(0.01 + 0.4 * 0.5))          # f = 2/4
    below = inputs(counts=np.array([[4, 2]]), u=np.array([[0.5, hazard - 1e-9]]))
    above = inputs(counts=np.array([[4, 2]]), u=np.array([[0.5, hazard + 1e-9]]))
    assert rules.bass(b, below)[0][0, 1] and not rules.bass(b, above)[0][0, 1]


def deterministic(**kw) -> Behaviour:
    """tau = 0: decisions are steps, so each case has one right answer."""
    return Behaviour(tau=0.0, lam=1.0, lam_drop=1.0, lam_exit=1.0, b_net=1.0, b_pull=0.5, b_appeal=1.0,
                     b_priv=1.0, band=0.1, exit_level=0.2, habit=0.5, **kw)


def switching_gap(b: Behaviour, x: rules.DecisionInputs) -> float:
    """X_rival - kappa computed by hand for the one user."""
    c, r = x.concern[0], x.alarm[0]
    f = x.counts[0, 1] / x.degree[0]
    return c * (r * x.exposure[0] - r * x.exposure[1]) + b.b_pull * f + x.taste[0, 1] - x.inertia[0]


def test_ppm_adopts_when_the_switching_index_exceeds_inertia():
    b = deterministic()
    calm = inputs(alarm=np.array([0.2]))
    alarmed = inputs(alarm=np.array([0.9]))
    assert switching_gap(b, calm) < 0 < switching_gap(b, alarmed)   # 0.5*0.2*0.7=0.07 vs 0.5*0.9*0.7=0.315
    assert not rules.ppm(b, calm)[0][0, 1]
    active, primary, adopted = rules.ppm(b, alarmed)
    assert active[0, 1] and adopted[0, 1] and primary[0] == INC   # multi-homes; primary stays


def test_ppm_adoption_probability_is_lam_times_sigma():
    b = dataclasses.replace(deterministic(), tau=0.1, lam=0.4)
    x = inputs(alarm=np.array([0.9]))
    p = 0.4 / (1 + np.exp(-switching_gap(b, x) / 0.1))
    assert rules.ppm(b, dataclasses.replace(x, u=np.array([[0.5, p - 1e-9]])))[0][0, 1]
    assert not rules.ppm(b, dataclasses.replace(x, u=np.array([[0.5, p + 1e-9]])))[0][0, 1]


def test_ppm_keeps_a_rival_inside_the_band_and_drops_it_below():
    b = deterministic()
    both = np.array([[True, True]])
    # gap = -0.3 + 0.5*0.0 = -0.3 (no alarm, no contacts): below kappa - band -> dropped
    assert not rules.ppm(b, inputs(active=both))[0][0, 1]
    # a taste of 0.25 lifts the gap to -0.05: inside the band -> kept (would not be adopted afresh)
    tasty = inputs(active=both, taste=np.array([[0.0, 0.25]]))
    assert rules.ppm(b, tasty)[0][0, 1]
    assert not rules.ppm(b, dataclasses.replace(tasty, active=np.array([[True, False]])))[0][0, 1]


def test_ppm_never_drops_the_primary_rival():
    b = deterministic()
    x = inputs(active=np.array([[True, True]]), primary=np.array([1]))
    active, _, _ = rules.ppm(b, x)
    assert active[0, 1]


def test_ppm_leaves_the_incumbent_only_with_another_platform_and_low_use_value():
    b = deterministic()
    # V_inc = 1*f_inc - c*r*0.8 = 0.25 - 0.5*1.0*0.8 = -0.15 < exit_level 0.2
    low = dict(counts=np.array([[1, 0]]), alarm=np.array([1.0]))
    assert rules.ppm(b, inputs(active=np.array([[True, True]]), **low))[0][0, 0] == False  # noqa: E712
    assert rules.ppm(b, inputs(active=np.array([[True, False]]), **low))[0][0, 0]          # nowhere to go


def test_ppm_returns_to_the_incumbent_above_exit_level_plus_band():
    b = deterministic()
    x = inputs(active=np.array([[False, True]]), primary=np.array([1]), counts=np.array([[4, 0]]))
    active, primary, adopted = rules.ppm(b, x)                  # V_inc = 1 > 0.2 + 0.1
    assert active[0, 0] and adopted[0, 0]
    assert primary[0] == INC                                     # 1 > V_rival + habit = 0 + 0.5


def test_ppm_primary_has_a_habit_bonus():
    b = deterministic()
    # Both active; rival V = 0.5*... use taste to make the rival slightly better than the incumbent
    x = inputs(active=np.array([[True, True]]), counts=np.array([[4, 4]]), taste=np.array([[0.0, 0.3]]))
    assert rules.ppm(b, x)[1][0] == INC                          # 1.0 + habit 0.5 > 1.3
    x2 = dataclasses.replace(x, taste=np.array([[0.0, 0.6]]))
    assert rules.ppm(b, x2)[1][0] == 1                           # 1.6 > 1.5


def test_outage_disruption_pushes_users_whose_primary_is_the_incumbent():
    b = deterministic()
    x = inputs()
    assert not rules.ppm(b, x)[0][0, 1]
    assert rules.ppm(b, dataclasses.replace(x, disruption=0.5))[0][0, 1]


@st.composite
def populations(draw):
    n = draw(st.integers(1, 12))
    k = draw(st.integers(2, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    deg = rng.integers(0, 8, n)
    counts = np.minimum(rng.integers(0, 8, (n, k)), deg[:, None])
    active = rng.random((n, k)) < 0.5
    active[np.arange(n), rng.integers(0, k, n)] = True
    primary = np.array([rng.choice(np.flatnonzero(row)) for row in active])
    return rules.DecisionInputs(
        incumbent=0, concern=rng.random(n), inertia=rng.random(n) * 0.5, threshold=rng.random(n),
        taste=rng.normal(0, 0.1, (n, k)), alarm=rng.random(n), exposure=rng.random(k), appeal=rng.normal(0, .1, k),
        counts=counts, degree=deg, active=active, primary=primary, u=rng.random((n, k)),
        disruption=float(rng.random() < 0.2))


@settings(max_examples=60, deadline=None)
@given(populations(), st.sampled_from(["ppm", "threshold", "bass"]))
def test_kernels_give_each_user_what_they_give_that_user_alone(x, rule):
    """Vectorised over n users == called for one agent at a time (how the Mesa engine calls them)."""
    b = Behaviour(rule=rule, tau=0.05)
    whole = rules.decide(b, x)
    for i in range(len(x.concern)):
        one = rules.decide(b, rules.DecisionInputs(**{
            f.name: (v[i:i + 1] if isinstance(v, np.ndarray) and f.name not in ("exposure", "appeal") else v)
            for f in dataclasses.fields(x) for v in [getattr(x, f.name)]}))
        for a, b1 in zip(whole, one, strict=True):
            np.testing.assert_array_equal(a[i:i + 1], b1)


@settings(max_examples=60, deadline=None)
@given(populations())
def test_every_user_keeps_one_primary_within_the_active_set(x):
    active, primary, _ = rules.ppm(Behaviour(tau=0.05, lam_exit=1.0, exit_level=5.0), x)
    assert active.any(axis=1).all()
    assert active[np.arange(len(primary)), primary].all()
