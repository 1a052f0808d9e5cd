"""The two engines give identical time series (MODEL_SPEC 7): every rule, every event kind, several seeds and
graph kinds; and the array engine's chunks, threads and incremental counts change no number."""

from __future__ import annotations

import copy
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SMALL

import sim
from sim import counts, loops, metrics, network
from sim.config import Scenario, apply_overrides, build_scenario
from sim.engine import fill_uniforms

#: Every event kind, in 24 days (news spread over several days, overlapping; an outage; appeal changes; a
#: temporary loss of the incumbent's appeal, postponed; a promotion of a rival).
ALL_EVENTS: list[dict[str, Any]] = [
    {"day": 2, "kind": "announcement", "reach": 0.8, "intensity": 0.6, "duration_days": 3},
    {"day": 4, "kind": "outage", "duration_days": 2, "severity": 0.5},
    {"day": 5, "kind": "revelation", "reach": 0.9, "intensity": 0.8, "duration_days": 2},
    {"day": 6, "kind": "retention_cut", "reach": 0.5, "credibility": 0.1, "exposure_factor": 0.9},
    {"day": 7, "kind": "localisation", "platform": "rival", "appeal_gain": 0.1},
    {"day": 8, "kind": "encryption_promise", "reach": 0.6, "credibility": 0.2, "duration_days": 2},
    {"day": 10, "kind": "apology_refusal", "reach": 0.7, "credibility": 0.4, "exposure_factor": 0.7,
     "duration_days": 3},
    {"day": 11, "kind": "clarification", "reach": 0.6, "credibility": 0.3},
    {"day": 13, "kind": "feature", "platform": "other", "appeal_gain": 0.05},
    {"day": 15, "kind": "encryption_launch", "reach": 0.4, "credibility": 0.1, "exposure_to": 0.3},
    {"day": 3, "kind": "policy_change", "reach": 0.7, "intensity": 0.4, "duration_days": 2, "exposure_factor": 1.2},
    {"day": 4, "kind": "promotion", "platform": "rival", "reach": 0.6, "uptake": 0.5, "duration_days": 2},
    {"day": 12, "kind": "quality_change", "id": "deadline", "platform": "incumbent", "appeal_gain": -0.3,
     "temporary": True, "duration_days": 4},
    {"day": 5, "kind": "postponement", "target": "deadline", "to_day": 7, "reach": 0.5, "credibility": 0.2},
]


def scenario(overrides: dict[str, Any] | None = None, events: list[dict[str, Any]] | None = None,
             base_dir: str = ".") -> Scenario:
    """SMALL at 300 users and 30 days with every event kind, then ``overrides`` (dotted keys)."""
    data = copy.deepcopy(SMALL)
    data["experiment"] |= {"steps": 30}
    data["population"] |= {"n": 300, "seed_adopters": 3}
    data["events"] = copy.deepcopy(ALL_EVENTS if events is None else events)
    if (overrides or {}).get("network.kind") in ("complete", "file"):  # their contacts are not a mean degree
        del data["network"]["mean_degree"]
    return build_scenario(apply_overrides(data, overrides, "test"), "test", base_dir=base_dir)


@pytest.fixture
def small_blocks(monkeypatch):
    """Odd, small blocks so that a 300-user run on two threads crosses many block boundaries in every phase."""
    monkeypatch.setattr(loops, "BLOCK_USERS", 37)
    monkeypatch.setattr(counts, "COUNT_BLOCK_ENTRIES", 101)


def assert_engines_agree(s: Scenario, seed: int) -> pd.DataFrame:
    mesa = sim.simulate(s, seed, "mesa")
    array = sim.simulate(s, seed, "array")
    pd.testing.assert_frame_equal(mesa, array, check_exact=True)
    return array


@pytest.mark.parametrize("rule", ["ppm", "threshold", "bass"])
def test_every_rule_with_every_event_kind(rule):
    ts = assert_engines_agree(scenario({"behaviour.rule": rule}), seed=3)
    assert ts["mean_alarm"].max() > 2 * ts["mean_alarm"].iloc[0]   # the news did arrive
    assert ts["adopters_rival"].iloc[-1] > ts["adopters_rival"].iloc[0]  # and users moved


@pytest.mark.parametrize("kind", list(sim.config.EVENT_KINDS))
def test_each_event_kind_alone(kind):
    event = next(e for e in ALL_EVENTS if e["kind"] == kind) | {"day": 2}
    target = [e | {"day": 3} for e in ALL_EVENTS if "target" in event and e.get("id") == event["target"]]
    s = scenario({"experiment.steps": 8, "population.n": 120}, events=[event, *target])
    assert_engines_agree(s, seed=5)


@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_several_seeds(seed):
    assert_engines_agree(scenario({"behaviour.tau": 0.0}), seed)  # tau 0: exact steps, ties matter


@pytest.mark.parametrize(("kind", "net"), [
    ("watts_strogatz", {}),
    ("powerlaw_cluster", {}),
    ("sbm", {"network.engaged_inside": 0.7}),
    ("erdos_renyi", {"network.mean_degree": 4}),  # sparse: some users have no contacts
    ("complete", {"population.n": 60}),
    ("chung_lu", {"network.exponent": 2.2}),
])
def test_graph_kinds(kind, net):
    assert_engines_agree(scenario({"network.kind": kind, "experiment.steps": 16, **net}), seed=7)


def test_the_full_scale_scenario_runs_identically_at_small_n():
    s = sim.load_config(ROOT / "experiments" / "korea_2014_full.toml")
    assert (s.population.n, s.network.kind, s.experiment.engine) == (35_000_000, "chung_lu", "array")
    assert s.experiment.replications == 1
    small = sim.load_config(ROOT / "experiments" / "korea_2014_full.toml",
                            {"population.n": 400, "experiment.steps": 40})
    ts = assert_engines_agree(small, seed=1)
    assert ts["mean_alarm"].max() > ts["mean_alarm"].iloc[0]


def test_graph_from_a_file(tmp_path):
    nx.write_edgelist(nx.connected_watts_strogatz_graph(150, 6, 0.3, seed=2), tmp_path / "contacts.txt",
                      data=False)
    s = scenario({"network.kind": "file", "network.file": "contacts.txt", "population.n": 150,
                  "experiment.steps": 16}, base_dir=tmp_path)
    assert_engines_agree(s, seed=1)


# ---------------------------------------------------------------------------------------------------------
# The array engine's own machinery changes no number
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["chung_lu", "complete"])
def test_threads_blocks_and_incremental_counts_change_nothing(kind, small_blocks, monkeypatch):
    s = scenario({"population.n": 400, "network.kind": kind})
    reference = sim.ArrayModel(s, rng=9, threads=1)
    for _ in range(s.experiment.steps):
        reference.step()
    expected = reference.timeseries()
    for threads, share in ((2, 0.25), (1, 0.0), (2, 1.0)):
        monkeypatch.setattr(counts, "INCREMENTAL_MAX_SHARE", share)  # 0: always count all; 1: never
        model = sim.ArrayModel(s, rng=9, threads=threads)
        for _ in range(s.experiment.steps):
            model.step()
            # the running totals of the observation equal a count of everyone
            np.testing.assert_array_equal(model.totals, metrics.count_state(model.user_state(), 0))
        pd.testing.assert_frame_equal(model.timeseries(), expected, check_exact=True)
        np.testing.assert_array_equal(model.alarm, reference.alarm)
        np.testing.assert_array_equal(model.uses, reference.uses)


def test_the_mesa_engine_agrees_with_the_array_engine_on_two_threads(small_blocks):
    s = scenario()
    pd.testing.assert_frame_equal(sim.simulate(s, 3, "mesa"), sim.ArrayModel(s, rng=3, threads=2).run(),
                                  check_exact=True)


def test_implicit_complete_graph_equals_the_stored_one(monkeypatch):
    s = scenario({"network.kind": "complete", "population.n": 90})
    stored = sim.simulate(s, 4, "array")
    monkeypatch.setattr(network, "MAX_COMPLETE_GRAPH_NODES", 50)
    assert sim.ArrayModel(s, rng=4).graph.complete
    pd.testing.assert_frame_equal(sim.simulate(s, 4, "array"), stored, check_exact=True)


def test_state_is_kept_in_compact_dtypes():
    model = sim.ArrayModel(scenario(), rng=1)
    model.step()
    assert model.uses.dtype == np.uint8 and model.ever.dtype == np.uint8  # bit sets
    assert model.primary.dtype == np.int8 and model.heard.dtype == np.int32
    assert model.adoptions.dtype == np.uint16 and model.alarm.dtype == np.float64


def test_adoption_counts_widen_before_they_could_overflow():
    model = sim.ArrayModel(scenario({"behaviour.rule": "bass", "behaviour.bass_p": 0.5}), rng=1)
    model.step()
    before = model.adoptions.copy()
    model.day = np.iinfo(np.uint16).max
    model.step()
    assert model.adoptions.dtype == np.int64
    assert (model.adoptions >= before).all() and model.adoptions.sum() > before.sum()


def test_decide_outside_the_schedule_counts_the_current_platform_use():
    """decide() reads the current platform use even when it was not counted first."""
    s = scenario({"experiment.steps": 3})
    a, b = sim.ArrayModel(s, rng=2), sim.ArrayModel(s, rng=2)
    u = np.random.default_rng(0).random((s.population.n, 3))
    a.decide(u)
    b.count_contacts(0)
    b.decide(u)
    np.testing.assert_array_equal(a.uses, b.uses)
    np.testing.assert_array_equal(a.primary, b.primary)
    before = a.uses.copy()
    a.decide(np.zeros_like(u))  # counts again: yesterday's use is the one just decided
    b.count_contacts(0)
    b.decide(np.zeros_like(u))
    np.testing.assert_array_equal(a.uses, b.uses)
    assert not np.array_equal(a.uses, before)


def test_random_draws_in_row_chunks_or_into_a_buffer_equal_one_draw():
    """Generator.random fills arrays in order from one stream: rows drawn chunk by chunk, or into a reused
    buffer (as the array engine draws the day's uniforms), are the rows of one fresh (n, K) draw."""
    whole = np.random.default_rng(11).random((1000, 3))
    rng = np.random.default_rng(11)
    chunks = [rng.random((size, 3)) for size in (1, 300, 37, 662)]
    np.testing.assert_array_equal(np.concatenate(chunks), whole)
    buffer = np.empty((1000, 3))
    np.testing.assert_array_equal(np.random.default_rng(11).random(out=buffer), whole)


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("shape", [(1000, 3), (7, 2), (1, 1)])
def test_uniforms_filled_on_several_threads_are_one_draw_and_the_stream_goes_on_alike(threads, shape):
    whole = np.random.default_rng(5)
    expected = whole.random(shape)
    rng = np.random.default_rng(5)
    np.testing.assert_array_equal(fill_uniforms(rng, np.empty(shape), threads), expected)
    np.testing.assert_array_equal(rng.random(10), whole.random(10))


def test_mesa_agents_tallies_of_their_contacts_stay_true_every_day():
    """Each agent's counts of contacts per platform and with fresh news, kept up to date by its contacts,
    equal a count from scratch every day (news days, stale news, platform changes)."""
    s = scenario({"experiment.steps": 24, "behaviour.buzz_days": 2})
    model = sim.MessengerModel(s, rng=4)
    g = model.graph
    for day in range(1, 25):
        model.step()
        state = model.user_state()
        counts = np.stack([a.counts for a in model.users])
        np.testing.assert_array_equal(counts, g.neighbour_counts(state.active))
        fresh = (day - state.heard < 2)[:, None]
        np.testing.assert_array_equal([a.fresh for a in model.users], g.neighbour_counts(fresh)[:, 0])
        assert all(a.active.tolist() == row.tolist() for a, row in zip(model.users, state.active, strict=True))


def test_monthly_active_users_are_those_on_a_platform_some_day_of_the_last_thirty_on_both_engines():
    data = copy.deepcopy(SMALL)
    data["experiment"] |= {"steps": 45}
    data["events"] = copy.deepcopy(ALL_EVENTS)
    data["observed"] = {"targets": [{"id": "m", "value": "max(monthly.rival, 0, 45)"}]}
    s = build_scenario(data, "test")
    ts = assert_engines_agree(s, seed=2)
    model = sim.ArrayModel(s, rng=2)
    days = [model.uses.copy()]
    for _ in range(45):
        model.step()
        days.append(model.uses.copy())
    for k, p in enumerate(s.platform_names):
        on = np.array([(u >> k) & 1 == 1 for u in days])              # days x users
        expected = [on[max(0, d - 29):d + 1].any(axis=0).mean() for d in range(46)]
        np.testing.assert_array_equal(ts[f"monthly_{p}"].to_numpy(), expected)
    assert (ts["monthly_rival"] > ts["active_rival"]).any()          # someone dropped it within a month


def test_runs_that_do_not_read_monthly_users_do_not_keep_them():
    ts = sim.simulate(scenario(), 1, "array")
    assert not any(c.startswith("monthly_") for c in ts.columns)


@pytest.mark.parametrize("rule", ["ppm", "threshold"])
def test_engines_agree_when_news_is_split_between_slow_alarm_and_fast_salience(rule):
    s = scenario({"behaviour.rule": rule, "behaviour.salience": 0.6, "behaviour.salience_decay": 0.35})
    ts = assert_engines_agree(s, seed=4)
    assert ts["mean_salience"].iloc[0] == 0.0 and ts["mean_salience"].max() > 0.05
    one = sim.simulate(scenario({"behaviour.rule": rule}), 4, "array")
    assert "mean_salience" not in one.columns
    assert not ts["mean_alarm"].equals(one["mean_alarm"])                  # the split changes the run


def test_salience_without_news_stays_zero_and_changes_nothing():
    quiet = {"behaviour.salience": 0.5}
    a = sim.simulate(scenario(quiet, events=[]), 2, "array")
    b = sim.simulate(scenario({}, events=[]), 2, "array")
    assert (a["mean_salience"] == 0.0).all()
    pd.testing.assert_frame_equal(a.drop(columns="mean_salience"), b, check_exact=True)


@pytest.mark.parametrize("kind", ["watts_strogatz", "complete"])
def test_engines_agree_with_word_of_mouth_from_the_whole_population(kind):
    over = {"behaviour.word_of_mouth": "population", "network.kind": kind}
    if kind == "complete":
        over["population.n"] = 80
    ts = assert_engines_agree(scenario(over), seed=6)
    contacts = sim.simulate(scenario({k: v for k, v in over.items() if k != "behaviour.word_of_mouth"}), 6, "array")
    if kind == "complete":  # on a complete graph the population is everyone's contacts: the same run
        pd.testing.assert_frame_equal(ts, contacts, check_exact=True)
    else:
        assert not ts["mean_alarm"].equals(contacts["mean_alarm"])


def test_primary_flips_count_every_change_of_primary_over_the_run():
    s = scenario()
    model = sim.ArrayModel(s, rng=3)
    flips, before = 0, model.primary.copy()
    for _ in range(s.experiment.steps):
        model.step()
        flips += int(np.count_nonzero(model.primary != before))
        before = model.primary.copy()
    ts = model.timeseries()
    assert flips > 0 and ts["primary_flips"].iloc[-1] == flips / s.population.n
    assert {"engaged_active_rival", "general_active_rival"} <= set(ts.columns)   # SMALL has an engaged segment


@pytest.mark.parametrize("engine", ["mesa", "array"])
@pytest.mark.parametrize("change", [
    {"population": {"taste_sd": 1e308}},
    {"behaviour": {"b_appeal": 10.0}, "appeal": -1e308},
    {"behaviour": {"b_net": float("inf")}},
])
def test_a_scenario_built_in_code_whose_initial_state_is_not_finite_fails_at_set_up(engine, change):
    """The config's ranges keep a validated scenario finite; one built around them (in code) is refused once, at
    set-up, by both engines (they share it), before a day is run."""
    import dataclasses

    s = scenario({"population.n": 100})
    if "population" in change:
        s = dataclasses.replace(s, population=dataclasses.replace(s.population, **change["population"]))
    if "behaviour" in change:
        s = dataclasses.replace(s, behaviour=dataclasses.replace(s.behaviour, **change["behaviour"]))
    if "appeal" in change:
        rival = dataclasses.replace(s.platforms[1], appeal=change["appeal"])
        s = dataclasses.replace(s, platforms=(s.platforms[0], rival, *s.platforms[2:]))
    with pytest.raises(FloatingPointError, match=r"set-up: the users' .* not (all )?finite numbers"):
        sim.make_model(s, 1, engine)
