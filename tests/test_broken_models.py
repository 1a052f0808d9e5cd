"""Every validation check can fail: with one mechanism deliberately broken, each check reports a miss.

The breakage is a fixture that changes what the array engine runs (``ArrayModel`` builds every run of the
checks): imitation in the Bass rule, users' thresholds, forgetting, a fit that uses the wrong adoption rate,
a habit that leaks into adoption. The unbroken checks pass in their own tests (test_validation_*.py,
test_calibration.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from conftest import ROOT

from sim.config import Scenario
from sim.engine import ArrayModel
from sim.fit.problem import with_values

pytestmark = pytest.mark.validation


def break_engine(monkeypatch: pytest.MonkeyPatch, transform: Callable[[Scenario], Scenario]) -> None:
    """Every ArrayModel runs ``transform(scenario)`` instead of its scenario."""
    original = ArrayModel.__init__

    def broken(self, scenario, *args, **kwargs):
        original(self, transform(scenario), *args, **kwargs)

    monkeypatch.setattr(ArrayModel, "__init__", broken)


def _threshold_up(s: Scenario) -> Scenario:
    t = s.population.threshold
    t = dataclasses.replace(t, mean=t.mean + 0.12, value=t.value + 0.12)
    return dataclasses.replace(s, population=dataclasses.replace(s.population, threshold=t))


def test_the_bass_check_fails_without_imitation(monkeypatch, tmp_path):
    from sim.validation import theory

    break_engine(monkeypatch, lambda s: with_values(s, {"behaviour.bass_q": s.behaviour.bass_q * 0.3}))
    assert not theory.bass(True, tmp_path).passed


@pytest.mark.parametrize("check", ["granovetter", "watts"])
def test_the_threshold_checks_fail_with_thresholds_that_are_not_the_users(monkeypatch, tmp_path, check):
    from sim.validation import theory

    break_engine(monkeypatch, _threshold_up)
    assert not getattr(theory, check)(True, tmp_path).passed


def test_an_episode_check_fails_when_users_forget_at_once(monkeypatch, tmp_path):
    from sim.validation import episodes

    break_engine(monkeypatch, lambda s: with_values(s, {"behaviour.delta": 1.0}))
    section = episodes.check(ROOT / "experiments" / "korea_2014.toml", quick=True, figures=tmp_path)
    assert not section.passed and section.numbers["targets_met"] < section.numbers["targets"]


@pytest.fixture(scope="module")
def small_posterior(tmp_path_factory):
    """A small fit of the 2014 episode (the unbroken model), in a calibration folder of its own."""
    from sim.fit.abc import FitSettings, fit

    folder = tmp_path_factory.mktemp("calibration")
    fit([ROOT / "experiments" / "korea_2014.toml"], folder,
        FitSettings(n=1500, seeds=1, population=20, generations=2, models=("contacts",), rng_seed=3))
    return folder


@pytest.mark.slow
def test_the_calibration_check_fails_when_the_model_no_longer_is_the_one_fitted(monkeypatch, tmp_path,
                                                                               small_posterior):
    from sim.validation.calibration import calibration_section

    break_engine(monkeypatch, lambda s: with_values(s, {"behaviour.delta": 1.0}))
    section = calibration_section(small_posterior, quick=True)
    assert not section.passed and section.numbers["misses"] > 0


@pytest.mark.slow
def test_the_leave_one_out_check_fails_when_the_predictions_come_from_a_broken_model(monkeypatch, tmp_path,
                                                                                    small_posterior):
    import shutil

    from sim.fit.posterior import Posterior
    from sim.validation.outofsample import leave_one_out_section

    loo = tmp_path / "leave_one_out" / "korea_2014"
    shutil.copytree(small_posterior, loo)
    posterior = Posterior.load(loo)
    posterior.manifest["left_out_config"] = str(ROOT / "experiments" / "korea_2014.toml")
    posterior.save(loo)
    break_engine(monkeypatch, lambda s: with_values(s, {"behaviour.delta": 1.0}))
    section = leave_one_out_section(tmp_path / "leave_one_out", quick=True)
    assert not section.passed and section.numbers["met90"] < 0.8


@pytest.mark.slow
def test_the_coverage_check_fails_when_the_fit_uses_the_wrong_adoption_rate(monkeypatch):
    from sim.fit import abc
    from sim.validation.outofsample import coverage_section

    original = abc.EpisodeModel.__call__

    def biased(self, parameter):  # the fit's model adopts ten times as fast as the one that made the data
        problem = self.problem
        fast = problem.fast_scenario

        def faster(episode, values):
            s = fast(episode, values)
            return with_values(s, {"behaviour.lam": min(1.0, 10 * s.behaviour.lam)})

        problem.fast_scenario = faster
        try:
            return original(self, parameter)
        finally:
            problem.fast_scenario = fast

    monkeypatch.setattr(abc.EpisodeModel, "__call__", biased)
    section = coverage_section(quick=True, fits=12)
    # Five weekly points barely identify lam (its posterior stays near its prior), so the fit absorbs the faster
    # adoption into a weaker news intensity: the bias shows in the intensity's coverage (8 of 12 at ten times
    # the rate; at four times, 9 of 12 with the check's 40 particles, which the check cannot tell from 90 %).
    assert not section.passed
    assert min(section.numbers.values()) < 0.7


def test_the_sensitivity_control_fails_when_habit_leaks_into_adoption(monkeypatch, tmp_path):
    from sim.config.schema import Prior
    from sim.sensitivity import sensitivity, sensitivity_section

    break_engine(monkeypatch, lambda s: with_values(s, {"behaviour.b_priv": s.behaviour.b_priv * s.behaviour.habit}))
    chosen = [Prior("behaviour.mu", 0.1, 0.9), Prior("habit_factor", 0.5, 2.0, scales=("behaviour.habit",))]
    sensitivity(ROOT / "experiments" / "korea_2014.toml", morris_trajectories=3, sobol_n=0, n=800, steps=70,
                out_dir=tmp_path / "calibration", chosen=chosen)
    assert not sensitivity_section(tmp_path / "calibration" / "sensitivity.json").passed
