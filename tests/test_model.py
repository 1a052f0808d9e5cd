"""The model as a whole: API, determinism, invariants, burn-in, golden run (docs/MODEL.md)."""

from __future__ import annotations

import json
import os

import mesa
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, small_scenario

import sim
from sim import metrics, population
from sim.metrics import weekly_ratio

KOREA = ROOT / "experiments" / "korea_2014.toml"
GOLDEN = ROOT / "tests" / "golden" / "small_run.json"

NEWS = [
    {"day": 3, "kind": "announcement", "reach": 0.8, "intensity": 0.6, "duration_days": 3, "id": "a"},
    {"day": 8, "kind": "revelation", "reach": 0.9, "intensity": 0.8, "id": "r"},
    {"day": 12, "kind": "localisation", "appeal_gain": 0.1, "id": "l"},
    {"day": 15, "kind": "apology_refusal", "reach": 0.7, "credibility": 0.4, "exposure_factor": 0.7, "id": "ap"},
]


def test_simulate_returns_one_row_per_day_with_the_documented_columns():
    s = small_scenario()
    ts = sim.simulate(s, seed=1)
    assert list(ts["day"]) == list(range(s.experiment.steps + 1))
    names = s.platform_names
    expected = (["day"] + [f"active_{p}" for p in names] + [f"primary_{p}" for p in names]
                + ["multihoming", "incumbent_only", "rivals_only", "exit_incumbent", "mean_alarm"]
                + [f"adopters_{p}" for p in names] + [f"adoptions_{p}" for p in names] + ["primary_flips"]
                + [f"{seg}_active_{p}" for seg in ("engaged", "general") for p in names])
    assert list(ts.columns) == expected


def test_messenger_model_is_a_mesa_model_with_a_datacollector():
    model = sim.MessengerModel(small_scenario(), rng=5)
    assert isinstance(model, mesa.Model)
    assert len(model.agents) == 300
    for _ in range(4):
        model.step()
    dc = model.datacollector.get_model_vars_dataframe()
    assert len(dc) == 5
    ts = model.timeseries()
    np.testing.assert_array_equal(dc["mean_alarm"].to_numpy(), ts["mean_alarm"].to_numpy())


@pytest.mark.parametrize("engine", ["mesa", "array"])
def test_same_seed_gives_identical_results_and_different_seeds_differ(engine):
    s = small_scenario(events=NEWS)
    a = sim.simulate(s, seed=11, engine=engine)
    b = sim.simulate(s, seed=11, engine=engine)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    c = sim.simulate(s, seed=12, engine=engine)
    assert not a.equals(c)


def test_the_seed_fixes_the_network():
    s = small_scenario({"network.kind": "powerlaw_cluster"})
    g1, g2, g3 = (sim.ArrayModel(s, rng=r).graph for r in (1, 1, 2))
    np.testing.assert_array_equal(g1.indices, g2.indices)
    assert not np.array_equal(g1.indices, g3.indices)


def test_invariants_hold_every_day_on_the_mesa_engine():
    model = sim.MessengerModel(small_scenario(events=NEWS), rng=3)
    previous_ever = None
    for _ in range(25):
        model.step()
        for agent in model.users:
            assert agent.active.any()
            assert agent.active[agent.primary], "primary must be one of the active platforms"
        state = model.user_state()
        alarm, ever = state.alarm, state.ever
        assert ((alarm >= 0) & (alarm <= 1)).all()
        if previous_ever is not None:
            assert (ever >= previous_ever).all()
        previous_ever = ever.copy()
    ts = model.timeseries()
    shares = ts.drop(columns=["day"] + [c for c in ts if c.startswith("adoptions_")])
    assert ((shares >= 0) & (shares <= 1)).all().all()
    assert (ts.filter(like="adopters_").diff().dropna() >= 0).all().all()
    partition = ts["incumbent_only"] + ts["rivals_only"] + (ts["active_incumbent"] - ts["incumbent_only"])
    np.testing.assert_allclose(partition, 1.0)
    np.testing.assert_allclose(ts.filter(like="primary_").sum(axis=1), 1.0)


def test_seed_adopters_start_on_the_first_rival():
    s = small_scenario({"population.seed_adopters": 25, "platforms.rival.initial_share": 0.0,
                        "platforms.other.initial_share": 0.0})
    model = sim.ArrayModel(s, rng=0)
    assert model.active[:, 1].sum() == 25 and model.active[:, 2].sum() == 0


def test_users_without_the_incumbent_use_a_rival_as_primary():
    s = small_scenario({"platforms.incumbent.initial_share": 0.8})
    model = sim.ArrayModel(s, rng=0)
    off = ~model.active[:, 0]
    assert off.sum() == 60
    assert (model.primary[off] != 0).all()
    assert model.active[np.arange(300), model.primary].all()


def test_rival_base_users_are_those_most_inclined_to_it():
    """Base users have the highest taste for the rival, net of their inertia (so the base is stable)."""
    s = small_scenario({"population.n": 2000})
    model = sim.ArrayModel(s, rng=0)
    users, t = model.active[:, 1], model.traits
    sd = s.population.taste_sd
    assert t.taste[users, 1].mean() > t.taste[~users, 1].mean() + sd
    assert t.inertia[users].mean() < t.inertia[~users].mean() - s.population.inertia.sd


@pytest.mark.parametrize("engine", ["mesa", "array"])
def test_without_events_shares_stay_stationary(engine):
    s = small_scenario({"population.n": 3000 if engine == "array" else 600, "experiment.steps": 30})
    ts = sim.simulate(s, seed=4, engine=engine)
    for p in ("incumbent", "rival", "other"):
        start, end = ts[f"active_{p}"].iloc[0], ts[f"active_{p}"].iloc[-1]
        assert abs(end - start) <= 0.05 * start, p


def test_korea_burn_in_drifts_less_than_5_percent_before_the_announcements():
    s = sim.load_config(KOREA, {"experiment.steps": 14})
    assert min(e.day for e in s.events) > 14
    ts = sim.simulate(s, seed=1)
    for p in s.platform_names:
        first, last = ts[f"active_{p}"].iloc[0], ts[f"active_{p}"].to_numpy()
        assert np.abs(last - first).max() <= 0.05 * first, p


def test_alarm_decays_after_the_news_stops():
    """Only fresh news spreads: alarm cannot sustain itself (no bistable alarm contagion)."""
    s = small_scenario({"experiment.steps": 120}, events=NEWS[:2])
    ts = sim.simulate(s, seed=2, engine="array")
    peak = ts["mean_alarm"].max()
    assert ts["mean_alarm"].iloc[-1] < 0.2 * peak + ts["mean_alarm"].iloc[0]


@pytest.mark.slow
def test_korea_run_shows_multihoming_not_exit_and_few_repeat_adoptions():
    s = sim.load_config(KOREA)
    ts = sim.simulate(s, seed=1)
    out = metrics.outcomes(ts, s.platform_names, s.incumbent)
    w = weekly_ratio(ts, "telegram", "kakaotalk")
    assert w[42] > 10 * w[10]                     # a spike of rival use
    assert out["loss_kakaotalk"] < 0.01           # near-zero incumbent loss
    assert out["repeat_adoptions_telegram"] < 1.2  # hysteresis: no adopt/drop cycling
    assert out["final_telegram"] < out["peak_telegram"]  # decline after the peak


def _golden_summary() -> dict[str, float]:
    s = small_scenario({"experiment.steps": 40}, events=NEWS)
    out: dict[str, float] = {}
    for engine in ("mesa", "array"):
        ts = sim.simulate(s, seed=2024, engine=engine)
        out |= {f"{engine}:{k}": v for k, v in metrics.outcomes(ts, s.platform_names, s.incumbent).items()}
        out[f"{engine}:alarm_sum"] = float(ts["mean_alarm"].sum())
    return out


def test_golden_run_matches_the_stored_outcomes():
    """Catches accidental changes of results. After an intended change: UPDATE_GOLDEN=1 pytest -k golden."""
    got = _golden_summary()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    expected = json.loads(GOLDEN.read_text())
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-12, nan_ok=True), key


@pytest.mark.parametrize("seed", range(5))
def test_base_users_are_the_top_of_the_gap_with_ties_to_the_lower_index(seed):
    """The linear-time selection gives the set a stable sort by descending gap would (ties included)."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 6, 500).astype(float)  # many ties
    values[rng.integers(0, 500, 20)] = -0.0          # and signed zeros
    for count in (1, 37, 250, 499, 500, 600):
        got = np.sort(population._largest(values, count))
        want = np.sort(np.argsort(-values, kind="stable")[:count])
        np.testing.assert_array_equal(got, want)


def test_best_rival_is_the_first_of_the_highest_gaps_among_those_allowed():
    gaps = {1: np.array([0.2, 0.5, 0.5, 0.1]), 2: np.array([0.3, 0.5, 0.4, 0.1])}
    users = np.arange(4)
    np.testing.assert_array_equal(population._best(gaps, users), [2, 1, 1, 1])
    allowed = np.array([[1, 1, 0], [1, 0, 1], [1, 1, 1], [0, 0, 1]], dtype=bool)
    np.testing.assert_array_equal(population._best(gaps, users, allowed), [1, 2, 1, 2])


def test_platform_use_packs_into_bit_sets_and_back():
    active = np.random.default_rng(0).random((50, 11)) < 0.4
    bits = population.pack(active)
    assert bits.dtype == np.uint16 and population.pack(active[:, :8]).dtype == np.uint8
    np.testing.assert_array_equal(population.unpack(bits, 11), active)
    assert int(bits[0]) == sum(1 << k for k in np.flatnonzero(active[0]))
