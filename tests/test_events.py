"""Each event kind does what docs/MODEL.md 7.1 says, on both engines."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import small_scenario

from sim import ArrayModel, MessengerModel, metrics
from sim.config import ConfigError, EventSpec
from sim.events import AlarmingNews, CalmingNews, PolicyChange, Promotion, QualityChange, Timeline, schedule
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


def test_news_certain_to_be_heard_over_several_days_reaches_everyone_on_the_first_day_without_a_warning():
    """reach a_i = 1 makes the daily hazard 1 - 0^(1/days): log1p(-1) = -inf on the way, which is expected and
    must not warn."""
    news = AlarmingNews(EventSpec(day=1, kind="announcement", reach=1.0, duration_days=3))
    world = Listener([1.0, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        news.act(world, 1, Uniforms([0.999, 0.999]))
    assert news.heard.tolist() == [True, False]


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


# The kinds the episodes need: the incumbent's own policy change, any platform's quality, a postponement,
# a promotion of a rival ------------------------------------------------------------------------------------
class Installer(Listener):
    """A Listener that also records who is made to install which platform."""

    def __init__(self, attention: list[float]) -> None:
        super().__init__(attention)
        self.installed: list[tuple[list[bool], int]] = []

    def install(self, users: np.ndarray, k: int) -> None:
        self.installed.append((users.tolist(), k))


def test_a_policy_change_alarms_its_hearers_and_raises_the_incumbents_exposure_for_everyone():
    world = Listener([1.0, 0.0])
    world.platforms.set_exposure(0, 0.5)
    PolicyChange(EventSpec(day=1, kind="policy_change", reach=1.0, intensity=0.3, exposure_factor=1.5)).act(
        world, 1, Uniforms([0.5, 0.5]))
    assert world.raised == [([True, False], 0.3, 1)]
    assert world.platforms.exposure.tolist() == [0.75, 0.05, 0.4]     # 0.5 x 1.5; the rivals untouched


def test_a_policy_change_acts_on_exposure_once_though_its_news_lasts_two_days():
    world = Listener([1.0])
    world.platforms.set_exposure(0, 0.4)
    ev = PolicyChange(EventSpec(day=1, kind="policy_change", reach=1.0, duration_days=2, exposure_factor=2.0))
    ev.act(world, 1, Uniforms([0.9]))
    ev.act(world, 2, Uniforms([0.9]))
    assert world.platforms.exposure[0] == 0.8


def test_a_permanent_quality_change_acts_once_on_any_platform_including_the_incumbent():
    ev = QualityChange(EventSpec(day=3, kind="quality_change", platform="incumbent", appeal_gain=-0.25))
    world = Listener([1.0])
    acted = [day for day in range(1, 12) if ev.acts_on(day)]
    assert acted == [3]
    ev.act(world, 3, Uniforms())
    assert world.platforms.appeal.tolist() == [-0.25, 0.05, 0.1]


def test_a_temporary_quality_change_is_undone_after_its_days():
    ev = QualityChange(EventSpec(day=3, kind="quality_change", platform="other", appeal_gain=0.2, temporary=True,
                                 duration_days=4))
    world = Listener([1.0])
    acted = [day for day in range(1, 12) if ev.acts_on(day)]
    assert acted == [3, 7]                                            # on for days 3-6, undone on day 7
    ev.act(world, 3, Uniforms())
    assert world.platforms.appeal[2] == pytest.approx(0.3)
    ev.act(world, 7, Uniforms())
    assert world.platforms.appeal[2] == pytest.approx(0.1)


def test_a_quality_change_needs_its_platform_and_lasts_only_if_temporary():
    with pytest.raises(ConfigError, match=r"events.quality_change.platform.*expected one of the platforms"):
        small_scenario(events=[{"day": 1, "kind": "quality_change", "appeal_gain": 0.1}])
    with pytest.raises(ConfigError, match=r"duration_days.*set temporary = true"):
        small_scenario(events=[{"day": 1, "kind": "quality_change", "platform": "rival", "duration_days": 3}])


def test_a_promotion_installs_the_rival_for_hearers_whose_second_uniform_is_below_the_uptake():
    ev = Promotion(EventSpec(day=1, kind="promotion", platform="other", reach=1.0, uptake=0.5))
    world = Installer([1.0, 1.0, 0.5, 0.0])
    ev.act(world, 1, Uniforms([0.1, 0.1, 0.9, 0.1], [0.4999, 0.5, 0.0, 0.0]))
    # user 0 hears and takes it up; user 1 hears, u = uptake; user 2 does not hear; user 3 cannot hear
    assert world.installed == [([True, False, False, False], 2)]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_installed_rival_is_an_adoption_and_leaves_the_primary_alone(engine):
    s = small_scenario(events=[{"day": 1, "kind": "promotion", "platform": "rival", "reach": 1.0, "uptake": 1.0}])
    model = engine(s, rng=4)
    before = model.user_state()
    uses, primary, ever = before.uses.copy(), before.primary.copy(), before.ever.copy()
    adoptions = before.adoptions.copy()
    act_today(model)
    after = model.user_state()
    heard = model.timeline.events[0].heard                            # uptake 1: every hearer installs it
    new = heard & ((uses & 2) == 0)
    assert 0 < new.sum() < s.population.n
    np.testing.assert_array_equal(after.uses, np.where(heard, uses | 2, uses))
    np.testing.assert_array_equal(after.primary, primary)
    np.testing.assert_array_equal(after.adoptions[:, 1], adoptions[:, 1] + new)
    np.testing.assert_array_equal(after.adoptions[:, [0, 2]], adoptions[:, [0, 2]])
    np.testing.assert_array_equal((after.ever & 2) == 2, heard | ((ever & 2) == 2))
    assert list(model.observation_counts()) == list(metrics.count_state(after, 0))


def test_the_mesa_users_contacts_count_an_installed_rival():
    s = small_scenario(events=[{"day": 1, "kind": "promotion", "platform": "rival", "reach": 1.0, "uptake": 1.0}])
    model = MessengerModel(s, rng=4)
    act_today(model)
    on = model.uses & 2 == 2
    assert 0 < on.sum() < s.population.n
    for agent in model.users:
        assert agent.counts[1] == sum(on[c.node] for c in agent.contacts)


POSTPONED = [{"day": 10, "kind": "quality_change", "id": "deadline", "platform": "incumbent", "appeal_gain": -0.3},
             {"day": 4, "kind": "postponement", "target": "deadline", "to_day": 20, "reach": 0.5,
              "credibility": 0.2}]


def test_a_postponement_moves_its_target_and_is_itself_calming_news():
    s = small_scenario(events=POSTPONED)
    assert [(e.id, e.day) for e in schedule(s.events)] == [("postponement", 4), ("deadline", 20)]
    timeline = Timeline(s.events)
    assert [(type(e).__name__, e.spec.day) for e in timeline.events] == [("CalmingNews", 4), ("QualityChange", 20)]
    world = Listener([1.0, 1.0])
    timeline.act(world, 4, Uniforms([0.2, 0.7]))
    assert world.calmed == [([True, False], 0.2)]
    for day in range(5, 20):
        timeline.act(world, day, Uniforms())
    assert world.platforms.appeal[0] == 0.0                          # not on day 10
    timeline.act(world, 20, Uniforms())
    assert world.platforms.appeal[0] == -0.3


def test_a_postponement_to_day_zero_cancels_and_without_it_the_target_keeps_its_day():
    cancel = [POSTPONED[0], POSTPONED[1] | {"to_day": 0}]
    assert [e.id for e in schedule(small_scenario(events=cancel).events)] == ["postponement"]
    off = [POSTPONED[0], POSTPONED[1] | {"enabled": False}]
    assert [(e.id, e.day) for e in schedule(small_scenario(events=off).events)] == [("deadline", 10)]


def test_a_cancelled_event_is_dropped_and_every_event_after_it_is_kept():
    specs = (EventSpec(day=10, id="a"), EventSpec(day=11, id="b"),
             EventSpec(day=4, kind="postponement", id="p", target="a", to_day=0), EventSpec(day=12, id="c"))
    assert [e.id for e in schedule(specs)] == ["p", "b", "c"]


def test_a_postponement_added_later_moves_or_cancels_only_a_target_still_to_come():
    def timeline_after(spec: EventSpec) -> list[tuple[str, int]]:
        timeline = Timeline((EventSpec(day=10, id="a"), EventSpec(day=12, id="b")))
        timeline.add(spec)
        return [(e.spec.id, e.spec.day) for e in timeline.events]

    assert timeline_after(EventSpec(day=5, kind="postponement", id="p", target="a", to_day=1)) == [
        ("a", 1), ("p", 5), ("b", 12)]                                # moved, even to day 1
    assert timeline_after(EventSpec(day=5, kind="postponement", id="p", target="a", to_day=0)) == [
        ("p", 5), ("b", 12)]                                          # cancelled
    assert timeline_after(EventSpec(day=10, kind="postponement", id="p", target="a", to_day=20)) == [
        ("a", 10), ("p", 10), ("b", 12)]                              # a starts that day: too late to move


@pytest.mark.parametrize(("change", "message"), [
    ({"target": "nothing"}, r"events.postponement.target.*expected the id of another event"),
    ({"target": "postponement"}, r"expected the id of another event"),
    ({"day": 10}, r"starts on day 10, not after the postponement"),
    ({"to_day": 3}, r"to_day.*expected a day after the postponement \(day 4\) or 0"),
    ({"to_day": 4}, r"to_day.*expected a day after the postponement"),
])
def test_a_postponement_must_move_a_later_event_to_a_later_day(change, message):
    with pytest.raises(ConfigError, match=message):
        small_scenario(events=[POSTPONED[0], POSTPONED[1] | change])


def test_an_event_is_postponed_at_most_once():
    twice = [*POSTPONED, POSTPONED[1] | {"id": "again", "day": 5, "to_day": 30}]
    with pytest.raises(ConfigError, match="an event can be postponed once; more than one postponement targets "
                                          "deadline"):
        small_scenario(events=twice)


def test_a_postponement_added_live_moves_an_event_still_to_come_only():
    timeline = Timeline((EventSpec(day=3, id="early"), EventSpec(day=9, id="late")))
    timeline.add(EventSpec(day=5, kind="postponement", id="p1", target="late", to_day=12))
    timeline.add(EventSpec(day=5, kind="postponement", id="p2", target="early", to_day=14))  # started: stays
    assert [(e.spec.id, e.spec.day) for e in timeline.events] == [("early", 3), ("p1", 5), ("p2", 5),
                                                                 ("late", 12)]


def test_an_event_postponed_past_the_end_of_the_run_is_noted_as_never_happening(tmp_path, capsys):
    from conftest import SMALL

    from sim.cli import main
    from sim.store import to_toml

    data = {**SMALL, "experiment": {**SMALL["experiment"], "steps": 15}, "events": [
        {"day": 10, "kind": "quality_change", "id": "deadline", "platform": "incumbent", "appeal_gain": -0.3},
        {"day": 4, "kind": "postponement", "target": "deadline", "to_day": 20}]}
    (tmp_path / "cfg.toml").write_text(to_toml(data))
    out = str(tmp_path / "o")
    assert main(["run", str(tmp_path / "cfg.toml"), "--quiet", "--replications", "1", "--out", out]) == 0
    assert "so deadline (day 20) never happen" in capsys.readouterr().err
