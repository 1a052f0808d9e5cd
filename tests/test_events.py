"""Each event kind does what docs/MODEL.md 7.1 says, on both engines."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from conftest import small_scenario

from sim import ArrayModel, MessengerModel
from sim.config import EventSpec
from sim.events import AlarmingNews, CalmingNews, Timeline
from sim.platforms import PlatformState

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


class Listener:
    """A world of users with the given ``attention`` that records who hears what (no engine behind it)."""

    def __init__(self, attention: list[float]) -> None:
        self.n = len(attention)
        self.traits = SimpleNamespace(attention=np.array(attention))
        self.platforms = PlatformState(small_scenario())
        self.raised: list[tuple[list[bool], float, int]] = []
        self.calmed: list[tuple[list[bool], float]] = []

    def raise_alarm(self, hearers: np.ndarray, intensity: float, day: int) -> None:
        self.raised.append((hearers.tolist(), intensity, day))

    def calm_alarm(self, hearers: np.ndarray, credibility: float) -> None:
        self.calmed.append((hearers.tolist(), credibility))


class Uniforms:
    """A stand-in for the generator: each ``random(n)`` returns the next of the given draws."""

    def __init__(self, *draws: list[float]) -> None:
        self.draws = list(draws)

    def random(self, n: int) -> np.ndarray:
        draw = np.array(self.draws.pop(0))
        assert len(draw) == n
        return draw


def test_a_user_hears_news_when_the_uniform_is_strictly_below_reach_times_attention():
    news = AlarmingNews(EventSpec(day=1, kind="announcement", reach=0.5, intensity=0.4))
    world = Listener([1.0, 1.0, 1.0, 0.0])                            # p = 0.5, 0.5, 0.5, 0
    news.act(world, 1, Uniforms([0.4999, 0.5, 0.9, 0.0]))
    assert world.raised == [([True, False, False, False], 0.4, 1)]   # u = p does not hear; p = 0 never does


def test_news_over_two_days_hears_with_the_daily_hazard_that_adds_up_to_reach_times_attention():
    # p = 0.75 in all: the daily hazard h solves (1 - h)^2 = 1 - p, h = 0.5
    news = AlarmingNews(EventSpec(day=1, kind="revelation", reach=0.75, intensity=0.4, duration_days=2))
    world = Listener([1.0, 1.0, 1.0])
    news.act(world, 1, Uniforms([0.45, 0.55, 0.9]))
    news.act(world, 2, Uniforms([0.0, 0.45, 0.55]))                  # user 0 heard it already
    assert world.raised == [([True, False, False], 0.4, 1), ([False, True, False], 0.4, 2)]
    assert news.heard.tolist() == [True, True, False]


def test_news_lets_go_of_its_per_user_hazards_when_its_coverage_ends():
    news = AlarmingNews(EventSpec(day=1, kind="announcement", duration_days=2))
    world = Listener([0.5, 0.5])
    news.act(world, 1, Uniforms([0.9, 0.9]))
    assert news._hazard is not None                                   # kept for the second day
    news.act(world, 2, Uniforms([0.9, 0.9]))
    assert news._hazard is None


def test_calming_news_calms_its_hearers_with_its_credibility():
    news = CalmingNews(EventSpec(day=1, kind="clarification", reach=1.0, credibility=0.3))
    world = Listener([1.0, 0.0])
    news.act(world, 1, Uniforms([0.5, 0.5]))
    assert world.calmed == [([True, False], 0.3)]


def test_encryption_can_set_the_incumbents_exposure_to_zero_and_leaves_the_rivals_alone():
    world = Listener([1.0])
    CalmingNews(EventSpec(day=1, kind="encryption_launch", exposure_to=0.0)).act(world, 1, Uniforms([0.9]))
    assert world.platforms.exposure.tolist() == [0.0, 0.05, 0.4]


def test_an_exposure_factor_above_one_raises_the_incumbents_exposure_at_most_to_one():
    world = Listener([1.0])
    world.platforms.set_exposure(0, 0.3)
    CalmingNews(EventSpec(day=1, kind="retention_cut", exposure_factor=2.0)).act(world, 1, Uniforms([0.9]))
    assert world.platforms.exposure.tolist() == [0.6, 0.05, 0.4]
    CalmingNews(EventSpec(day=2, kind="retention_cut", exposure_factor=2.0)).act(world, 2, Uniforms([0.9]))
    assert world.platforms.exposure.tolist() == [1.0, 0.05, 0.4]


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


def test_events_added_later_take_their_place_by_day_after_those_of_the_same_day():
    timeline = Timeline((EventSpec(day=3, id="a"), EventSpec(day=5, id="b")))
    timeline.add(EventSpec(day=4, id="c"))
    timeline.add(EventSpec(day=3, id="d"))
    assert [e.spec.id for e in timeline.events] == ["a", "d", "c", "b"]


def test_an_event_has_fired_from_its_first_day_on_and_is_upcoming_before():
    timeline = Timeline((EventSpec(day=3, id="a"), EventSpec(day=4, id="b"), EventSpec(day=6, id="c")))
    assert [e.id for e in timeline.fired(4)] == ["a", "b"]
    assert [e.id for e in timeline.upcoming(4)] == ["c"]
