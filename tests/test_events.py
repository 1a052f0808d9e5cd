"""Each event kind does what docs/MODEL.md 7.1 says, on both engines."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_scenario

from sim import ArrayModel, MessengerModel
from sim.config import EventSpec

ENGINES = [ArrayModel, MessengerModel]


def alarm_of(model) -> np.ndarray:
    return model.user_state().alarm.copy()


def act_today(model, day: int = 1, seed: int = 0) -> None:
    """Let only the events act (no word of mouth, forgetting or decisions)."""
    model.timeline.act(model, day, np.random.default_rng(seed))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", ["announcement", "revelation"])
def test_alarming_news_raises_alarm_only_for_those_who_hear_it(engine, kind):
    s = small_scenario(events=[{"day": 1, "kind": kind, "reach": 0.6, "intensity": 0.4}])
    model = engine(s, rng=3)
    before = alarm_of(model)
    act_today(model)
    after = alarm_of(model)
    heard = model.timeline.events[0].heard
    assert 0 < heard.sum() < s.population.n
    np.testing.assert_array_equal(after[~heard], before[~heard])
    np.testing.assert_allclose(after[heard], before[heard] + 0.4 * (1 - before[heard]))
    heard_day = model.user_state().heard
    np.testing.assert_array_equal(heard_day == 1, heard)


def test_hearing_probability_is_reach_times_attention():
    s = small_scenario({"population.n": 20000, "network.kind": "erdos_renyi", "network.mean_degree": 2},
                       [{"day": 1, "kind": "announcement", "reach": 0.5}])
    model = ArrayModel(s, rng=1)
    act_today(model)
    heard, a = model.timeline.events[0].heard, model.traits.attention
    assert heard.mean() == pytest.approx(0.5 * a.mean(), abs=0.01)
    assert heard[a > 0.6].mean() > heard[a < 0.3].mean() + 0.15


def test_news_over_several_days_reaches_each_user_at_most_once_and_as_many_in_all():
    s = small_scenario({"population.n": 20000, "network.kind": "erdos_renyi", "network.mean_degree": 2},
                       [{"day": 1, "kind": "announcement", "reach": 0.5, "duration_days": 5, "intensity": 0.1}])
    model = ArrayModel(s, rng=1)
    hearers_per_day = []
    for day in range(1, 8):
        before = model.heard.copy()
        act_today(model, day, seed=day)
        hearers_per_day.append(int((model.heard != before).sum()))
    assert all(h > 0 for h in hearers_per_day[:5]) and hearers_per_day[5:] == [0, 0]
    ev = model.timeline.events[0]
    assert ev.heard.sum() == sum(hearers_per_day)
    assert ev.heard.mean() == pytest.approx(0.5 * model.traits.attention.mean(), abs=0.012)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", ["apology_refusal", "clarification", "encryption_promise"])
def test_calming_news_lowers_alarm_of_those_who_hear_it(engine, kind):
    s = small_scenario(events=[{"day": 1, "kind": kind, "reach": 0.7, "credibility": 0.3}])
    model = engine(s, rng=2)
    before = alarm_of(model)
    act_today(model)
    after = alarm_of(model)
    heard = model.timeline.events[0].heard
    assert heard.any()
    np.testing.assert_allclose(after[heard], before[heard] * 0.7)
    np.testing.assert_array_equal(after[~heard], before[~heard])


def test_apology_and_retention_cut_change_the_incumbents_exposure_for_everyone():
    s = small_scenario(events=[{"day": 1, "kind": "apology_refusal", "reach": 0.0, "exposure_factor": 0.5},
                               {"day": 2, "kind": "retention_cut", "reach": 0.0, "exposure_factor": 0.5}])
    model = ArrayModel(s, rng=0)
    act_today(model, 1)
    assert model.platforms.exposure[0] == pytest.approx(0.4)
    act_today(model, 2)
    assert model.platforms.exposure[0] == pytest.approx(0.2)
    assert model.platforms.exposure[1] == pytest.approx(0.05)      # rivals untouched


def test_encryption_promise_changes_nothing_objective_and_launch_sets_exposure():
    s = small_scenario(events=[{"day": 1, "kind": "encryption_promise", "reach": 1.0},
                               {"day": 2, "kind": "encryption_launch", "reach": 1.0, "exposure_to": 0.3}])
    model = ArrayModel(s, rng=0)
    act_today(model, 1)
    assert model.platforms.exposure[0] == pytest.approx(0.8)
    act_today(model, 2)
    assert model.platforms.exposure[0] == pytest.approx(0.3)


def test_localisation_raises_the_rivals_appeal():
    s = small_scenario(events=[{"day": 1, "kind": "localisation", "platform": "other", "appeal_gain": 0.2}])
    model = ArrayModel(s, rng=0)
    act_today(model, 1)
    np.testing.assert_allclose(model.platforms.appeal, [0.0, 0.05, 0.3])
    act_today(model, 2)                                            # acts once
    np.testing.assert_allclose(model.platforms.appeal, [0.0, 0.05, 0.3])


def test_feature_defaults_to_the_first_rival():
    s = small_scenario(events=[{"day": 1, "kind": "feature", "appeal_gain": 0.1}])
    assert s.events[0].platform == "rival"


def test_outage_disrupts_only_while_the_incumbent_is_down_and_drives_adoption():
    ev = [{"day": 2, "kind": "outage", "duration_days": 3, "severity": 1.0}]
    model = ArrayModel(small_scenario(events=ev), rng=0)
    seen = []
    for _ in range(6):
        model.step()
        seen.append(model.platforms.disruption)
    assert seen == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    quiet = ArrayModel(small_scenario(), rng=0)
    for _ in range(6):
        quiet.step()
    assert model.active[:, 1].mean() > quiet.active[:, 1].mean() + 0.1


def test_events_added_live_act_on_the_next_step():
    model = ArrayModel(small_scenario(), rng=0)
    before = model.alarm.mean()
    model.timeline.add(EventSpec(day=model.day + 1, kind="announcement", id="live", reach=1.0, intensity=0.5))
    model.step()
    assert model.alarm.mean() > before + 0.1
    assert [e.id for e in model.timeline.fired(model.day)] == ["live"]
