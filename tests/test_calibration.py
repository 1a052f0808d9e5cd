"""Calibration (pyabc ABC-SMC), posteriors, predictions and sensitivity: the pieces against hand-computed
cases, the commands end to end on small fits, and a synthetic fit that recovers a known parameter."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SMALL
from SALib.test_functions import Ishigami

import sim
from sim.cli import main
from sim.config import ConfigError, build_scenario
from sim.config.schema import Prior, Target
from sim.errors import ResultsError
from sim.fit.abc import FitSettings, _sampler, fit
from sim.fit.distance import MISSING, TARGET_SCALE, resolution, series_squares, target_distance
from sim.fit.posterior import Posterior, weighted_quantile
from sim.fit.problem import (
    VARIANTS,
    Problem,
    config_value,
    episode_of,
    factor_point,
    prior_overrides,
    scaled,
    with_values,
)
from sim.sensitivity import factors, morris_screen, sensitivity, sensitivity_section, sobol_indices
from sim.store import load_results

KOREA = ROOT / "experiments" / "korea_2014.toml"


# Distances -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("low", "high", "value", "expected"), [
    (0.1, 0.3, 0.2, 0.0),                       # inside
    (0.1, 0.3, 0.35, 0.05 / 0.2 / TARGET_SCALE),  # above: excess over width
    (0.1, 0.3, 0.0, 0.1 / 0.2 / TARGET_SCALE),    # below
    (2.0, None, 1.5, 0.5 / 2.0 / TARGET_SCALE),   # one-sided: excess over the bound
    (None, 0.0, 0.25, 0.25 / 1.0 / TARGET_SCALE),  # a bound of 0 counts as 1
    (1.0, 1.0, 0.8, 0.0),                          # yes/no: holds in most runs
    (1.0, 1.0, 0.3, 0.2 / TARGET_SCALE),           # holds in 30 %: 0.2 short of half
])
def test_a_target_counts_its_excess_over_its_range_in_units_of_the_target_scale(low, high, value, expected):
    assert target_distance(Target(id="t", value="1", low=low, high=high), value) == pytest.approx(expected)


def test_a_target_the_run_cannot_give_counts_as_missing():
    assert target_distance(Target(id="t", value="1", low=0.0, high=1.0), math.nan) == MISSING


def test_a_series_counts_log_residuals_over_sigma_with_both_sides_floored_at_the_resolution():
    floor = 0.5 / 2000
    model = np.array([0.02, 0.0, 0.0, 1e-5, 0.5])
    data = np.array([0.01, 0.001, 1e-5, np.nan, 0.5])  # a missing data day is not counted
    expected = (math.log(2) ** 2 + math.log(floor / 0.001) ** 2 + 0.0 + 0.0) / 0.3**2
    assert series_squares(model, data, 0.3, floor) == pytest.approx(expected)
    assert series_squares(np.array([np.nan, 1.0]), np.array([0.1, 0.1]), 0.3, floor) == MISSING**2 * 2
    scenario = sim.load_config(KOREA)
    assert resolution(dataclasses.replace(scenario, population=dataclasses.replace(scenario.population, n=2000))
                      ) == floor


def test_weighted_quantiles_interpolate_at_the_midpoints_of_each_values_weight():
    values, weights = np.array([3.0, 1.0, 2.0, np.nan]), np.array([0.5, 0.25, 0.25, 1.0])
    # sorted 1, 2, 3 with weights 1/4, 1/4, 1/2: midpoints 1/8, 3/8, 3/4
    assert weighted_quantile(values, weights, 0.375) == pytest.approx(2.0)
    assert weighted_quantile(values, weights, 0.5) == pytest.approx(2.0 + (0.5 - 0.375) / (0.75 - 0.375))
    assert weighted_quantile(values, weights, [0.0, 1.0]).tolist() == [1.0, 3.0]


# Problems ----------------------------------------------------------------------------------------------------
def _episode(tmp_path: Path, name: str, priors: list[dict], extra: dict | None = None) -> Path:
    from sim.store import to_toml

    data = copy.deepcopy(SMALL) | {"experiment": {**SMALL["experiment"], "name": name, "steps": 20}}
    data["events"] = [{"day": 3, "kind": "announcement", "id": "news", "intensity": 0.4},
                      {"day": 5, "kind": "revelation", "id": "more", "intensity": 0.2}]
    data["observed"] = {"targets": [{"id": "peak", "value": "max(active.rival, 0, 20)", "low": 0.2, "high": 0.25}]}
    data["calibration"] = {"priors": priors}
    path = tmp_path / f"{name}.toml"
    path.write_text(to_toml(data | (extra or {})), encoding="utf-8")
    return path


MU = {"key": "behaviour.mu", "low": 0.1, "high": 0.9, "shared": True}
SCALE = {"key": "news_scale", "scales": ["events.news.intensity", "events.more.intensity"], "low": 0.5, "high": 2.0}


def test_a_problem_has_the_shared_parameters_once_and_each_episodes_own_prefixed(tmp_path):
    a, b = _episode(tmp_path, "ep_a", [MU, SCALE]), _episode(tmp_path, "ep_b", [MU, SCALE])
    p = Problem([a, b], VARIANTS["contacts"], {"population.n": 200})
    assert [q.column for q in p.parameters] == ["behaviour.mu", "ep_a:news_scale", "ep_b:news_scale"]
    over = p.overrides("ep_b", {"behaviour.mu": 0.3, "ep_a:news_scale": 9.0, "ep_b:news_scale": 1.5})
    assert over == {"behaviour.mu": 0.3, "events.news.intensity": pytest.approx(0.6),
                    "events.more.intensity": pytest.approx(0.3)}
    assert p.fast_scenario("ep_b", {"behaviour.mu": 0.3, "ep_b:news_scale": 1.5, "ep_a:news_scale": 1.0}) == \
        p.scenario("ep_b", {"behaviour.mu": 0.3, "ep_b:news_scale": 1.5, "ep_a:news_scale": 1.0})


def test_a_variant_drops_the_priors_of_the_keys_it_fixes_and_adds_its_own(tmp_path):
    a = _episode(tmp_path, "ep_a", [MU, SCALE])
    media = Problem([a], VARIANTS["media_only"], {})
    assert [q.column for q in media.parameters] == ["ep_a:news_scale"]
    assert media.episode("ep_a").base.behaviour.mu == 0.0 and media.episode("ep_a").base.behaviour.b_pull == 0.0
    two = Problem([a], VARIANTS["salience"], {})
    assert {"behaviour.salience", "behaviour.salience_decay"} <= {q.column for q in two.parameters}


@pytest.mark.parametrize(("priors_b", "message"), [
    ([{**MU, "high": 0.8}], "a shared prior must be the same in every episode"),
    ([{**MU, "shared": False}], "is shared in one episode and its own in another"),
])
def test_shared_priors_must_agree_across_episodes(tmp_path, priors_b, message):
    a, b = _episode(tmp_path, "ep_a", [MU]), _episode(tmp_path, "ep_b", priors_b)
    with pytest.raises(ConfigError, match=message):
        Problem([a, b], VARIANTS["contacts"], {})


@pytest.mark.parametrize(("prior", "message"), [
    ({"key": "behaviour.nothing", "low": 0.0, "high": 1.0}, "behaviour.nothing is not a key of this config"),
    ({"key": "behaviour.mu", "low": 0.5, "high": 1.5}, "with every prior at its high end"),
    ({"key": "k", "scales": ["events.news.intensity"], "low": 0.5, "high": 3.0}, "at its high end"),
    ({"key": "behaviour.rule", "low": 0.0, "high": 1.0}, "not a number to fit"),
])
def test_a_prior_that_cannot_be_run_at_both_ends_is_refused_before_any_run(tmp_path, prior, message):
    with pytest.raises(ConfigError, match=message):
        Problem([_episode(tmp_path, "ep_a", [prior])], VARIANTS["contacts"], {})


@pytest.mark.parametrize(("prior", "message"), [
    ({"key": "behaviour.mu", "low": 0.5, "high": 0.5}, "expected finite low < high"),
    ({"key": "mu", "low": 0.0, "high": 1.0}, "expected a dotted config key"),
    ({"key": "a.b", "scales": ["events.news.intensity"], "low": 0.0, "high": 1.0}, "named by an identifier"),
    ({"key": "k", "scales": ["events.news.intensity"], "low": 0.5, "high": 2.0, "point": 0.0},
     r"key 'calibration.priors.k.point' .*expected a finite number above 0, got 0.0"),
    ({"key": "behaviour.mu", "low": 0.0, "high": 1.0, "point": 0.5}, "only a factor .* has a point value"),
])
def test_malformed_priors_are_refused_when_the_config_loads(tmp_path, prior, message):
    with pytest.raises(ConfigError, match=message):
        sim.load_config(_episode(tmp_path, "ep_a", [prior]))


def test_a_factor_scales_a_configured_value_relative_to_its_point_to_twelve_digits():
    assert 0.107 * 2.0 / 1.07 != 0.2 and scaled(0.107, 2.0, 1.07) == 0.2  # the decimal product, not the binary one
    assert scaled(0.3, 1.5, 1.0) == 0.45 and scaled(0.25, 0.2, 0.5) == 0.1
    assert scaled(1e-7, 3.0, 1.0) == pytest.approx(3e-7, rel=1e-12)  # small values keep their digits
    korea = sim.load_config(KOREA)
    news = next(p for p in korea.calibration.priors if p.scales)
    assert factor_point(korea, news.key) == news.point and factor_point(korea, "no_such_factor") == 1.0


def test_with_values_gives_the_scenario_a_full_load_gives():
    s = sim.load_config(KOREA)
    o = {"behaviour.mu": 0.3, "population.inertia.mean": 0.4, "events.park_cabinet.intensity": 0.2,
         "platforms.telegram.appeal": 0.05}
    assert with_values(s, o) == sim.load_config(KOREA, o)
    assert config_value(s, "events.police_read_chats.intensity") == s.events[2].intensity
    doubled = prior_overrides(s, [Prior("x", 0, 2, scales=("behaviour.mu",))], [2.0])
    assert doubled == {"behaviour.mu": 2 * s.behaviour.mu}
    # configured values that already include a point value of 0.5: a factor of 2 is 4 times them
    quadrupled = prior_overrides(s, [Prior("x", 0, 2, scales=("behaviour.mu",), point=0.5)], [2.0])
    assert quadrupled == {"behaviour.mu": pytest.approx(4 * s.behaviour.mu)}


def test_a_config_belongs_to_the_episode_it_extends(tmp_path):
    (tmp_path / "variant.toml").write_text(f'extends = "{KOREA.as_posix()}"\n[experiment]\nname = "x"\n')
    assert episode_of(KOREA) == "korea_2014" and episode_of(tmp_path / "variant.toml") == "korea_2014"
    (tmp_path / "plain.toml").write_text('[experiment]\nname = "p"\n')
    assert episode_of(tmp_path / "plain.toml") is None


# Posteriors --------------------------------------------------------------------------------------------------
def _posterior(tmp_path: Path) -> Posterior:
    particles = pd.DataFrame({"behaviour.mu": [0.2, 0.6, np.nan], "korea_2014:news_scale": [0.5, 1.0, 0.8],
                              "other_2020:news_scale": [3.0, 3.0, 3.0], "behaviour.salience": [np.nan, np.nan, 0.5],
                              "model": ["contacts", "media_only", "salience"], "weight": [0.5, 0.25, 0.25]})
    scales = ["events.park_cabinet.intensity", "events.prosecutors_team.intensity"]
    records = [{"column": "behaviour.mu", "key": "behaviour.mu", "episode": None, "low": 0.0, "high": 1.0},
               {"column": "korea_2014:news_scale", "key": "news_scale", "episode": "korea_2014", "low": 0.3,
                "high": 1.0, "scales": scales},
               {"column": "other_2020:news_scale", "key": "news_scale", "episode": "other_2020", "low": 0.3,
                "high": 5.0, "scales": ["events.x.intensity"]},
               {"column": "behaviour.salience", "key": "behaviour.salience", "episode": None, "low": 0.0,
                "high": 1.0}]
    p = Posterior(particles, records, {"settings": {"n": 500}})
    p.save(tmp_path / "post")
    return p


def test_a_posterior_round_trips_and_refuses_a_changed_file(tmp_path):
    saved = _posterior(tmp_path)
    back = Posterior.load(tmp_path / "post" / "posterior.parquet")
    pd.testing.assert_frame_equal(back.particles, saved.particles)
    assert back.parameters == saved.parameters and back.manifest["settings"] == {"n": 500}
    assert Posterior.load(tmp_path / "post").path == back.path                  # the folder works too
    back.particles.assign(weight=1 / 3).to_parquet(tmp_path / "post" / "posterior.parquet")
    with pytest.raises(ResultsError, match=r"does not match .*manifest\.json"):
        Posterior.load(tmp_path / "post")
    (tmp_path / "post" / "manifest.json").unlink()
    with pytest.raises(ResultsError, match=r"manifest\.json is missing"):
        Posterior.load(tmp_path / "post")


def test_draws_are_seeded_and_follow_the_weights(tmp_path):
    p = _posterior(tmp_path)
    a, b = p.draws(4000, 3), p.draws(4000, 3)
    pd.testing.assert_frame_equal(a, b)
    assert (a["model"] == "contacts").mean() == pytest.approx(0.5, abs=0.03)
    assert not p.draws(50, 4).equals(p.draws(50, 5))
    assert p.median("korea_2014:news_scale") == pytest.approx(weighted_quantile(
        np.array([0.5, 1.0, 0.8]), np.array([0.5, 0.25, 0.25]), 0.5))


def test_a_draw_applies_by_key_to_its_own_episode_and_reports_what_it_skips(tmp_path):
    p = _posterior(tmp_path)
    s = sim.load_config(KOREA)
    row = p.particles.iloc[0]
    plain = dataclasses.replace(s, calibration=dataclasses.replace(s.calibration, priors=()))  # no point value
    over, skipped = p.overrides(row, plain, "korea_2014")
    cabinet, team = (config_value(s, f"events.{e}.intensity") for e in ("park_cabinet", "prosecutors_team"))
    assert over == {"behaviour.mu": 0.2, "events.park_cabinet.intensity": pytest.approx(0.5 * cabinet),
                    "events.prosecutors_team.intensity": pytest.approx(0.5 * team)}
    assert skipped == ["other_2020:news_scale: the other_2020 episode's own"]
    at_point = dataclasses.replace(s, calibration=dataclasses.replace(s.calibration, priors=(
        Prior("news_scale", 0.1, 2.0, scales=("events.park_cabinet.intensity",), point=0.8),)))
    over, _ = p.overrides(row, at_point, "korea_2014")    # the configured values include a factor of 0.8
    assert over["events.park_cabinet.intensity"] == pytest.approx(0.5 / 0.8 * cabinet)
    assert over["events.prosecutors_team.intensity"] == pytest.approx(0.5 / 0.8 * team)
    over, skipped = p.overrides(row, s, None)                                 # a config of no episode
    assert over == {"behaviour.mu": 0.2} and len(skipped) == 2
    media, _ = p.overrides(p.particles.iloc[1], s, "korea_2014")            # the variant fixes its keys
    assert media["behaviour.mu"] == 0.0 and media["behaviour.b_pull"] == 0.0  # the variant's, not the column's
    salience, skipped = p.overrides(p.particles.iloc[2], s, "korea_2014")   # NaN: not fitted in that variant
    assert "behaviour.mu" not in salience and salience["behaviour.salience"] == 0.5


# Fits --------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_fit(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fit")
    a = _episode(tmp, "ep_a", [MU, SCALE])
    b = _episode(tmp, "ep_b", [MU, SCALE])
    settings = FitSettings(n=300, seeds=1, population=12, generations=2, models=("contacts", "media_only"),
                           rng_seed=5)
    return tmp, [a, b], fit([a, b], tmp / "out", settings)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_population_stops_after_its_share_of_simulations_however_few_were_accepted(workers):
    """pyabc bounds a population at population / min_acceptance simulations only if the sampler checks it: a
    population whose acceptance collapsed ran on past every time budget (a one-episode fit ran 12 minutes on
    one population after 5 of 10 s each)."""
    sampler, resources = _sampler(FitSettings(workers=workers))
    assert sampler.check_max_eval and resources == []


def test_a_fit_writes_a_posterior_of_every_parameter_with_its_manifest(small_fit):
    tmp, _configs, posterior = small_fit
    p = posterior.particles
    assert list(p.columns) == ["behaviour.mu", "ep_a:news_scale", "ep_b:news_scale", "model", "weight"]
    assert p["weight"].sum() == pytest.approx(1.0) and set(p["model"]) <= {"contacts", "media_only"}
    assert p.loc[p["model"] == "media_only", "behaviour.mu"].isna().all()     # fixed at 0 in that variant
    m = json.loads((tmp / "out" / "manifest.json").read_text())
    assert [c["episode"] for c in m["configs"]] == ["ep_a", "ep_b"]
    assert len(m["generations"]) == 2 and m["generations"][1]["epsilon"] <= m["generations"][0]["epsilon"]
    assert m["data_points"] == {"ep_a": 1, "ep_b": 1} and m["fitted"]["contacts"] == {"ep_a": 2, "ep_b": 2}
    assert {"pyabc", "numpy"} <= set(m["versions"]) and m["settings"]["rng_seed"] == 5
    assert sum(m["model_probabilities"].values()) == pytest.approx(1.0)
    assert (tmp / "out" / "abc.db").is_file()


def test_a_serial_fit_is_a_function_of_its_seed(small_fit, tmp_path):
    _tmp, configs, posterior = small_fit
    again = fit(configs, tmp_path / "again", FitSettings(n=300, seeds=1, population=12, generations=2,
                                                         models=("contacts", "media_only"), rng_seed=5))
    pd.testing.assert_frame_equal(again.particles, posterior.particles)


def test_leaving_an_episode_out_fits_the_others_and_names_the_left_out_config(small_fit, tmp_path):
    _tmp, configs, _ = small_fit
    p = fit(configs, tmp_path / "loo", FitSettings(n=300, seeds=1, population=8, generations=1, models=("contacts",)),
            leave_out="ep_b")
    assert list(p.particles.columns) == ["behaviour.mu", "ep_a:news_scale", "model", "weight"]
    assert p.manifest["left_out"] == "ep_b" and p.manifest["left_out_config"] == str(configs[1])
    with pytest.raises(ConfigError, match="--leave-out ep_c: not one of the episodes given"):
        fit(configs, tmp_path / "x", FitSettings(), leave_out="ep_c")


@pytest.mark.slow
def test_a_quick_fit_of_synthetic_data_recovers_the_known_parameter_within_its_interval(tmp_path):
    from sim.validation.outofsample import synthetic_fit

    row = synthetic_fit(0, tmp_path, n=1000, population=40, generations=4)
    assert row["behaviour.lam:q05"] <= row["behaviour.lam:truth"] <= row["behaviour.lam:q95"]
    assert row["behaviour.lam:q95"] - row["behaviour.lam:q05"] < 0.9 * (0.4 - 0.05)   # the data narrow it


def test_cli_calibrate_refuses_to_replace_a_posterior_and_bad_options(small_fit, capsys):
    tmp, configs, _ = small_fit
    assert main(["calibrate", *map(str, configs), "--out", str(tmp / "out"), "--quick"]) == 2
    assert "holds a posterior already" in capsys.readouterr().err
    assert main(["calibrate", *map(str, configs), "--out", str(tmp / "new"), "--models", "magic"]) == 2
    assert "--models magic: no such model variant" in capsys.readouterr().err
    for bad in ("-1", "0", "nan", "inf"):
        assert main(["calibrate", *map(str, configs), "--out", str(tmp / "new"), "--max-minutes", bad]) == 2
        assert f"--max-minutes: expected a number of minutes above 0, got {float(bad)}" in capsys.readouterr().err
    assert not (tmp / "new" / "posterior.parquet").exists()


# Predictions -------------------------------------------------------------------------------------------------
def test_predict_runs_each_draw_once_with_its_values_and_is_reproducible(small_fit, tmp_path, capsys):
    tmp, configs, posterior = small_fit
    args = ["predict", str(configs[0]), "--posterior", str(tmp / "out" / "posterior.parquet"), "--draws", "6",
            "--quiet", "--workers", "1"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    printed = capsys.readouterr()
    assert "median [50% interval] [90% interval]" in printed.out
    assert "not applied from the posterior: ep_b:news_scale: the ep_b episode's own" in printed.err
    a = load_results(tmp_path / "a")
    assert len(a.done) == 6 and a.manifest["sweep"]["method"] == "posterior"
    draws = posterior.draws(6, np.random.SeedSequence(SMALL["experiment"]["seed"], spawn_key=(0xD4A,)))
    base = sim.load_config(configs[0])
    for (_, row), (_, run) in zip(draws.iterrows(), a.done.sort_values("point").iterrows(), strict=True):
        over, _ = posterior.overrides(row, base, "ep_a")
        for key, value in over.items():
            assert run[f"param:{key}"] == pytest.approx(value)
    assert len(set(a.runs["seed_spawn_key"].map(str))) == 6                   # each draw its own seed
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    b = load_results(tmp_path / "b")
    pd.testing.assert_frame_equal(a.timeseries.drop(columns="run_id"), b.timeseries.drop(columns="run_id"))


def test_predict_refuses_to_fix_a_drawn_key(small_fit, tmp_path, capsys):
    tmp, configs, _ = small_fit
    assert main(["predict", str(configs[0]), "--posterior", str(tmp / "out"), "--set", "behaviour.mu=0.5",
                 "--out", str(tmp_path / "p")]) == 2
    assert "--set behaviour.mu: the posterior draws this key" in capsys.readouterr().err


# Sensitivity -------------------------------------------------------------------------------------------------
def test_sensitivity_factors_are_the_priors_the_hand_set_behaviour_and_the_responses():
    s = sim.load_config(KOREA)
    keys = [f.key for f in factors(s)]
    assert keys[:len(s.calibration.priors)] == [p.key for p in s.calibration.priors]
    assert {"b_net_factor", "b_priv_factor", "exit_level_factor", "habit_factor", "response_credibility",
            "response_reach"} <= set(keys)
    cred = next(f for f in factors(s) if f.key == "response_credibility")
    top = max(e.credibility for e in s.events if e.credibility > 0)
    assert cred.high == pytest.approx(min(1.5, 1 / top)) and len(cred.scales) == 5   # the five responses


def test_quick_sensitivity_runs_is_reproducible_and_reads_back(tmp_path):
    chosen = [Prior("behaviour.mu", 0.1, 0.9), Prior("habit_factor", 0.5, 2.0, scales=("behaviour.habit",))]
    kw = {"morris_trajectories": 2, "sobol_n": 4, "n": 500, "steps": 50, "rng_seed": 9, "chosen": chosen}
    a = sensitivity(KOREA, out_dir=tmp_path / "a" / "calibration", **kw)
    b = sensitivity(KOREA, out_dir=tmp_path / "b" / "calibration", **kw)
    assert a.morris == b.morris and a.sobol == b.sobol and a.selected == b.selected
    assert a.runs["morris"] == 2 * (len(a.factors) + 1)
    s = sensitivity_section(tmp_path / "a" / "calibration" / "sensitivity.json")
    assert s.title == "Sensitivity" and s.command in s.markdown and "μ*" in s.markdown
    assert "Negative control" in s.markdown and s.passed          # habit barely moves the outputs (holds)


def test_sobol_wrapper_recovers_the_ishigami_indices():
    """Ishigami (a = 7, b = 0.1): S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437) in closed form."""
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    _, (res,) = sobol_indices(problem, lambda x: Ishigami.evaluate(x[None, :]), 2048, seed=1)
    assert res["S1"] == pytest.approx([0.3139, 0.4424, 0.0], abs=0.04)
    assert res["ST"] == pytest.approx([0.5576, 0.4424, 0.2437], abs=0.04)


def test_sobol_and_morris_wrappers_on_a_linear_model():
    """Y = sum a_i X_i, X_i ~ U(0, 1) independent: S1_i = ST_i = a_i² / sum a²; Morris mu*_i = |a_i| and
    sigma_i = 0 exactly (every elementary effect is a_i)."""
    a = np.array([3.0, -2.0, 1.0, 0.0])
    problem = {"num_vars": 4, "names": list("abcd"), "bounds": [[0.0, 1.0]] * 4}
    _, (res,) = sobol_indices(problem, lambda x: (x @ a,), 1024, seed=2)
    share = a**2 / np.sum(a**2)
    assert res["S1"] == pytest.approx(share, abs=0.03)
    assert res["ST"] == pytest.approx(share, abs=0.03)
    _, (m,) = morris_screen(problem, lambda x: (x @ a,), 10, seed=2)
    assert m["mu_star"] == pytest.approx(np.abs(a))
    assert m["sigma"] == pytest.approx(np.zeros(4), abs=1e-9)


def test_sobol_rejects_a_base_sample_that_is_not_a_power_of_two():
    problem = {"num_vars": 1, "names": ["x"], "bounds": [[0.0, 1.0]]}
    with pytest.raises(ValueError, match="power of 2"):
        sobol_indices(problem, lambda x: (x[0],), 100, seed=0)


def test_cli_sensitivity_checks_its_arguments_before_running(tmp_path, capsys):
    assert main(["sensitivity", str(KOREA), "--sobol-n", "100", "--out", str(tmp_path)]) == 2
    assert "power of 2" in capsys.readouterr().err
    assert not (tmp_path / "sensitivity.json").exists()


def test_the_old_fit_file_and_its_code_are_gone():
    assert not (ROOT / "docs" / "calibration" / "fit.json").exists()
    assert not (ROOT / "sim" / "calibrate.py").exists()
    sources = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "sim").rglob("*.py"))
    assert "fit.json" not in sources and "fit_section" not in sources


def test_build_scenario_keeps_the_priors(tmp_path):
    data = copy.deepcopy(SMALL) | {"calibration": {"priors": [MU]}}
    s = build_scenario(data, "test")
    assert s.calibration.priors == (Prior("behaviour.mu", 0.1, 0.9, shared=True),)
